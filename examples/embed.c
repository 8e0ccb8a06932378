/* SPDX-License-Identifier: Apache-2.0 */
/* A program that embeds libsatellite: it serves the Atmosphere protocol on
 * a push port, replies to every client message with an acknowledgement on the
 * same topic through a custom handler, and broadcasts a clock tick to
 * /ticker from its own thread every interval.
 *
 *   satellite-embed [LISTEN [INTERVAL_MS]]      (default 127.0.0.1:8080 1000)
 *
 * It prints "listening <address>" once ready and stops on SIGINT/SIGTERM. */
/* sigtimedwait and nanosleep are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include "satellite/satellite.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_log(void *userdata, sat_log_level level, const char *component,
                      const char *message)
{
    (void)userdata;
    fprintf(stderr, "%s %s: %s\n", sat_log_level_name(level), component, message);
}

/* Runs on a worker thread for each message a client sends. */
static void on_message(void *userdata, sat_resource *resource, const char *data, size_t len)
{
    sat_framework *fw = userdata;
    char reply[256];
    int n;

    n = snprintf(reply, sizeof reply, "ack:%.*s", (int)(len < 200 ? len : 200), data);
    (void)resource;
    if (sat_framework_broadcast(fw, "/echo", reply, (size_t)n) != SAT_OK)
        fprintf(stderr, "embed: broadcast of the acknowledgement failed\n");
}

int main(int argc, char **argv)
{
    const char *listen = argc > 1 ? argv[1] : "127.0.0.1:8080";
    long interval_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    sat_handler handler = {.on_message = on_message};
    struct timespec pause = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    sat_config_error cerr;
    sat_framework *fw;
    sat_config *cfg;
    sigset_t stop;
    char err[256], addr[300];
    unsigned long tick = 0;
    int sig = 0;

    sat_log_set_handler(print_log, NULL, SAT_LOG_WARN);
    cfg = sat_config_new();
    if (cfg == NULL || interval_ms <= 0 ||
        sat_config_set(cfg, "push.listen", listen, SAT_CFG_SRC_CMDLINE, &cerr) != SAT_OK) {
        fprintf(stderr, "embed: invalid arguments: %s\n", cfg ? cerr.message : "out of memory");
        return 2;
    }
    fw = sat_framework_new(cfg, err, sizeof err);
    sat_config_free(cfg);
    if (fw == NULL) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    handler.userdata = fw;
    sat_framework_add_handler(fw, "/echo", &handler);

    /* Signals are taken synchronously below, so block them in every thread. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (sat_framework_start(fw, err, sizeof err) != SAT_OK) {
        fprintf(stderr, "embed: %s\n", err);
        sat_framework_free(fw);
        return 1;
    }
    printf("listening %s\n", sat_framework_push_address(fw, addr, sizeof addr));
    fflush(stdout);

    for (;;) {
        struct timespec zero = {0, 0};
        char text[64];
        int n;

        sig = sigtimedwait(&stop, NULL, &zero);
        if (sig > 0)
            break;
        n = snprintf(text, sizeof text, "tick %lu", ++tick);
        (void)sat_framework_broadcast(fw, "/ticker", text, (size_t)n);
        nanosleep(&pause, NULL);
    }
    sat_framework_free(fw);
    return 0;
}
