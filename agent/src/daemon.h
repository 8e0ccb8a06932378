/* SPDX-License-Identifier: Apache-2.0 */
/* satellited's life cycle: command line, configuration, the push engine,
 * the REST and SNMP agents, the ready file, reload and shutdown. */
#ifndef SAT_DAEMON_H
#define SAT_DAEMON_H

#include "rest.h"
#include "satellite/satellite.h"
#include "snmp.h"

#include <pthread.h>
#include <stdbool.h>

enum { DAEMON_CONTINUE = 0, DAEMON_EXIT_OK = 1, DAEMON_EXIT_USAGE = 2 };

#define DAEMON_MAX_SETS 128

typedef struct daemon_state {
    const char *config_path;   /* NULL: defaults only */
    const char *ready_file;
    char *sets[DAEMON_MAX_SETS]; /* "section.key=value" from the command line */
    size_t set_count;
    bool check_only;
    sat_config *cfg;
    sat_framework *fw;
    rest_server *rest;
    snmp_agent *snmp;
    char token[256];
    pthread_mutex_t reload_lock;
} daemon_state;

/* Parses argv into st. Returns DAEMON_CONTINUE, or DAEMON_EXIT_OK after
 * --help, --version or a successful --check-config, or DAEMON_EXIT_USAGE
 * after printing the error. */
int daemon_parse_args(daemon_state *st, int argc, char **argv);

/* Starts every component and writes the ready file. Returns 0 or -1 after
 * logging why. */
int daemon_start(daemon_state *st);

/* Re-reads the configuration file and applies it all or nothing. `origin`
 * names who asked, for the log. Returns 0, or -1 with the reasons logged. */
int daemon_reload(daemon_state *st, const char *origin);

void daemon_cleanup(daemon_state *st);

#endif
