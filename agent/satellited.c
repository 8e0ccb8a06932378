/* SPDX-License-Identifier: Apache-2.0 */
/* satellited: runs the push engine with its agent (REST admin API and SNMP)
 * from a configuration file and command-line overrides. Signals: SIGTERM
 * and SIGINT stop, SIGHUP reloads the configuration file. */
#include "daemon.h"
#include "daemon_log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    daemon_state st;
    sigset_t set;
    int rc;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = daemon_parse_args(&st, argc, argv);
    if (rc != DAEMON_CONTINUE)
        return rc == DAEMON_EXIT_OK ? 0 : 2;
    if (daemon_start(&st) != 0) {
        daemon_cleanup(&st);
        return 1;
    }
    for (;;) {
        int sig = 0;

        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            daemon_reload(&st, "SIGHUP");
            continue;
        }
        log_line(SAT_LOG_INFO, "daemon", "received %s; stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    daemon_cleanup(&st);
    log_line(SAT_LOG_INFO, "daemon", "stopped");
    return 0;
}
