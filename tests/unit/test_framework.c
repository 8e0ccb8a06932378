/* SPDX-License-Identifier: Apache-2.0 */
/* Engine-level tests through the public C API on a real framework bound to
 * a free loopback port: broadcasting, filters, listeners, resource
 * operations, lifecycle policies and reloads. Clients are raw TCP sockets. */
#include "satellite/satellite.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
    sat_framework *fw;
    int port;
} fixture;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Starts a one-worker framework with extra key=value settings. */
static fixture start(const char *const *settings)
{
    sat_config *cfg = sat_config_new();
    fixture fx = {0};
    char err[256];

    assert_non_null(cfg);
    assert_int_equal(sat_config_set(cfg, "push.listen", "127.0.0.1:0", SAT_CFG_SRC_CMDLINE, NULL), 0);
    assert_int_equal(sat_config_set(cfg, "push.workers", "1", SAT_CFG_SRC_CMDLINE, NULL), 0);
    for (size_t i = 0; settings != NULL && settings[i] != NULL; i += 2)
        assert_int_equal(sat_config_set(cfg, settings[i], settings[i + 1], SAT_CFG_SRC_CMDLINE, NULL), 0);
    fx.fw = sat_framework_new(cfg, err, sizeof err);
    sat_config_free(cfg);
    assert_non_null(fx.fw);
    return fx;
}

static void run(fixture *fx)
{
    char err[256], addr[80];

    assert_int_equal(sat_framework_start(fx->fw, err, sizeof err), 0);
    sat_framework_push_address(fx->fw, addr, sizeof addr);
    fx->port = atoi(strrchr(addr, ':') + 1);
    assert_true(fx->port > 0);
}

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Opens a raw subscription and returns its socket. */
static int subscribe(int port, const char *path, const char *transport, const char *uuid)
{
    char req[512];
    int fd = connect_to(port);
    int n = snprintf(req, sizeof req,
                     "GET %s?X-Atmosphere-Transport=%s&X-Atmosphere-tracking-id=%s HTTP/1.1\r\n"
                     "Host: 127.0.0.1\r\n\r\n",
                     path, transport, uuid);

    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    return fd;
}

static bool read_until(int fd, char *buf, size_t size, size_t *len, const char *needle,
                       int timeout_ms);

/* Subscribes and waits until the response head arrived, so the request is
 * suspended on the server. */
static int subscribe_ready(int port, const char *path, const char *transport, const char *uuid)
{
    char buf[1024];
    size_t len = 0;
    int fd = subscribe(port, path, transport, uuid);

    assert_true(read_until(fd, buf, sizeof buf, &len, "\r\n\r\n", 2000));
    return fd;
}

/* Reads into buf until `needle` appears, the peer closes or timeout_ms
 * passes. Returns true when the needle was seen. */
static bool read_until(int fd, char *buf, size_t size, size_t *len, const char *needle,
                       int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    while (timeout_ms > 0) {
        ssize_t n;

        buf[*len] = '\0';
        if (needle != NULL && strstr(buf, needle) != NULL)
            return true;
        if (poll(&pfd, 1, 20) <= 0) {
            timeout_ms -= 20;
            continue;
        }
        n = recv(fd, buf + *len, size - 1 - *len, 0);
        if (n <= 0)
            return needle == NULL;
        *len += (size_t)n;
    }
    buf[*len] = '\0';
    return needle != NULL && strstr(buf, needle) != NULL;
}

/* ---- filters and listeners ---- */

static sat_filter_action upper_filter(void *userdata, const char *id, const char *data, size_t len,
                                      char **out, size_t *out_len)
{
    (void)userdata;
    (void)id;
    if (len == 4 && memcmp(data, "drop", 4) == 0)
        return SAT_FILTER_ABORT;
    *out = malloc(len);
    for (size_t i = 0; i < len; i++)
        (*out)[i] = (char)(data[i] >= 'a' && data[i] <= 'z' ? data[i] - 32 : data[i]);
    *out_len = len;
    return SAT_FILTER_CONTINUE;
}

typedef struct counts {
    int created, destroyed, messages, added, removed_clean, removed_dirty;
} counts;

static void on_created(void *ud, sat_broadcaster *b)
{
    (void)b;
    ((counts *)ud)->created++;
}

static void on_destroyed(void *ud, sat_broadcaster *b)
{
    (void)b;
    ((counts *)ud)->destroyed++;
}

static void on_message(void *ud, sat_broadcaster *b, sat_msgid id, const char *data, size_t len)
{
    (void)b;
    (void)id;
    (void)data;
    (void)len;
    ((counts *)ud)->messages++;
}

static void on_added(void *ud, sat_resource *r)
{
    (void)r;
    ((counts *)ud)->added++;
}

static void on_removed(void *ud, sat_resource *r, bool clean)
{
    (void)r;
    if (clean)
        ((counts *)ud)->removed_clean++;
    else
        ((counts *)ud)->removed_dirty++;
}

static void test_broadcast_filter_and_listeners(void **state)
{
    counts seen = {0};
    sat_listener l = {.on_broadcaster_created = on_created,
                      .on_broadcaster_destroyed = on_destroyed,
                      .on_message = on_message,
                      .on_resource_added = on_added,
                      .on_resource_removed = on_removed,
                      .userdata = &seen};
    fixture fx = start(NULL);
    char buf[4096];
    size_t len = 0;
    sat_broadcaster *b;
    sat_msgid first, second;
    int fd;

    (void)state;
    assert_int_equal(sat_framework_add_listener(fx.fw, &l), 0);
    run(&fx);
    fd = subscribe(fx.port, "/news", "sse", "0");
    assert_true(read_until(fd, buf, sizeof buf, &len, "text/event-stream", 2000));
    b = sat_framework_lookup(fx.fw, "/news", false);
    assert_non_null(b);
    assert_int_equal(seen.created, 1);
    assert_int_equal(seen.added, 1);
    assert_int_equal(sat_broadcaster_add_filter(b, "upper", upper_filter, NULL), 0);

    assert_int_equal(sat_broadcaster_broadcast(b, "hello", 5, &first), 0);
    assert_int_equal(sat_broadcaster_broadcast(b, "drop", 4, NULL), 0);
    assert_int_equal(sat_broadcaster_broadcast(b, "world", 5, &second), 0);
    assert_true(sat_msgid_cmp(first, second) < 0);
    assert_true(read_until(fd, buf, sizeof buf, &len, "data:WORLD\r\n\r\n", 2000));
    assert_non_null(strstr(buf, "data:HELLO\r\n\r\n"));
    assert_null(strstr(buf, "DROP"));
    assert_int_equal(seen.messages, 2);

    assert_int_equal(sat_broadcaster_remove_filter(b, "upper"), 0);
    assert_int_equal(sat_broadcaster_remove_filter(b, "upper"), SAT_ENOTFOUND);
    assert_int_equal(sat_framework_broadcast(fx.fw, "/news", "plain", 5), 0);
    assert_true(read_until(fd, buf, sizeof buf, &len, "data:plain\r\n\r\n", 2000));

    assert_int_equal(sat_broadcaster_destroy(b), 0);
    assert_int_equal(sat_broadcaster_destroy(b), SAT_ECLOSED);
    assert_int_equal(sat_broadcaster_broadcast(b, "late", 4, NULL), SAT_ECLOSED);
    assert_true(read_until(fd, buf, sizeof buf, &len, NULL, 2000)); /* closed by destroy */
    assert_int_equal(seen.destroyed, 1);
    sat_broadcaster_unref(b);
    close(fd);
    sat_framework_free(fx.fw);
}

static void test_message_size_limit(void **state)
{
    const char *const settings[] = {"engine.max_message_bytes", "8", NULL};
    fixture fx = start(settings);

    (void)state;
    run(&fx);
    assert_int_equal(sat_framework_broadcast(fx.fw, "/t", "12345678", 8), 0);
    assert_int_equal(sat_framework_broadcast(fx.fw, "/t", "123456789", 9), SAT_EINVAL);
    sat_framework_free(fx.fw);
}

/* ---- resource operations ---- */

static void test_resume_write_close(void **state)
{
    fixture fx = start(NULL);
    char buf[4096];
    size_t len = 0;
    int lp, sse;

    (void)state;
    run(&fx);
    lp = subscribe(fx.port, "/ops", "long-polling", "client-lp");
    assert_true(read_until(lp, buf, sizeof buf, &len, "\r\n\r\n", 2000));
    sleep_ms(50);
    assert_int_equal(sat_framework_resume(fx.fw, "client-lp", 2000), 0);
    assert_true(read_until(lp, buf, sizeof buf, &len, NULL, 2000)); /* the response ended */
    close(lp);
    assert_int_equal(sat_framework_resume(fx.fw, "nobody", 2000), SAT_ENOTFOUND);

    len = 0;
    sse = subscribe(fx.port, "/ops", "sse", "client-sse");
    assert_true(read_until(sse, buf, sizeof buf, &len, "\r\n\r\n", 2000));
    sleep_ms(50);
    assert_int_equal(sat_framework_write(fx.fw, "client-sse", "only-you", 8, 2000), 0);
    assert_true(read_until(sse, buf, sizeof buf, &len, "data:only-you\r\n\r\n", 2000));
    assert_int_equal(sat_framework_close(fx.fw, "client-sse", 2000), 0);
    assert_true(read_until(sse, buf, sizeof buf, &len, NULL, 2000));
    close(sse);
    sat_framework_free(fx.fw);
}

/* ---- lifecycle policies ---- */

static bool wait_gone(sat_framework *fw, const char *id, int timeout_ms)
{
    for (; timeout_ms > 0; timeout_ms -= 50) {
        sat_broadcaster *b = sat_framework_lookup(fw, id, false);

        if (b == NULL)
            return true;
        sat_broadcaster_unref(b);
        sleep_ms(50);
    }
    return false;
}

static void test_lifecycle_never_keeps(void **state)
{
    const char *const settings[] = {"engine.broadcaster_idle_ms", "1000", NULL};
    fixture fx = start(settings);

    (void)state;
    run(&fx);
    assert_int_equal(sat_framework_broadcast(fx.fw, "/keep", "x", 1), 0);
    assert_false(wait_gone(fx.fw, "/keep", 2000));
    sat_framework_free(fx.fw);
}

static void test_lifecycle_idle_destroy(void **state)
{
    const char *const settings[] = {"engine.broadcaster_lifecycle", "idle-destroy",
                                    "engine.broadcaster_idle_ms", "1000", NULL};
    fixture fx = start(settings);

    (void)state;
    run(&fx);
    assert_int_equal(sat_framework_broadcast(fx.fw, "/idle", "x", 1), 0);
    assert_false(wait_gone(fx.fw, "/idle", 500));
    assert_true(wait_gone(fx.fw, "/idle", 3000));
    sat_framework_free(fx.fw);
}

static void test_lifecycle_empty_destroy(void **state)
{
    const char *const settings[] = {"engine.broadcaster_lifecycle", "empty-destroy", NULL};
    fixture fx = start(settings);
    int fd;

    (void)state;
    run(&fx);
    fd = subscribe_ready(fx.port, "/room", "sse", "member-1");
    assert_false(wait_gone(fx.fw, "/room", 300));
    assert_int_equal(sat_framework_close(fx.fw, "member-1", 2000), 0);
    assert_true(wait_gone(fx.fw, "/room", 2000));
    close(fd);
    sat_framework_free(fx.fw);
}

static void test_lifecycle_idle_empty_destroy(void **state)
{
    const char *const settings[] = {"engine.broadcaster_lifecycle", "idle-empty-destroy",
                                    "engine.broadcaster_idle_ms", "1000", NULL};
    fixture fx = start(settings);
    int fd;

    (void)state;
    run(&fx);
    fd = subscribe_ready(fx.port, "/busy", "sse", "member-2");
    assert_int_equal(sat_framework_broadcast(fx.fw, "/empty", "x", 1), 0);
    assert_true(wait_gone(fx.fw, "/empty", 3000));
    assert_false(wait_gone(fx.fw, "/busy", 500)); /* idle but not empty */
    close(fd);
    sat_framework_free(fx.fw);
}

/* ---- reload ---- */

/* The fixture's restart-only keys, which a reload must leave unchanged. */
static sat_config *base_config(void)
{
    sat_config *cfg = sat_config_new();

    sat_config_set(cfg, "push.listen", "127.0.0.1:0", SAT_CFG_SRC_FILE, NULL);
    sat_config_set(cfg, "push.workers", "1", SAT_CFG_SRC_FILE, NULL);
    return cfg;
}

static int bad_loader(void *userdata, sat_config **out, sat_config_errors *errs)
{
    (void)userdata;
    *out = base_config();
    return sat_config_load_text(*out, "[engine]\nheartbeat_s = abc\n", 27, "test", errs) ==
                   SAT_OK
               ? SAT_OK
               : SAT_EINVAL;
}

static int good_loader(void *userdata, sat_config **out, sat_config_errors *errs)
{
    (void)userdata;
    *out = base_config();
    return sat_config_load_text(*out, "[engine]\nheartbeat_s = 7\n", 25, "test", errs);
}

static int moved_loader(void *userdata, sat_config **out, sat_config_errors *errs)
{
    (void)userdata;
    (void)errs;
    *out = base_config();
    return sat_config_set(*out, "push.workers", "3", SAT_CFG_SRC_FILE, NULL);
}

static void test_reload_all_or_nothing(void **state)
{
    fixture fx = start(NULL);
    sat_reload_report rep;
    char err[256];

    (void)state;
    sat_framework_set_config_loader(fx.fw, bad_loader, NULL, "test");
    run(&fx);
    assert_int_equal(sat_framework_reload(fx.fw, &rep), SAT_EINVAL);
    assert_true(rep.error_count >= 1);
    assert_non_null(strstr(rep.errors[0], "engine.heartbeat_s"));
    assert_int_equal(sat_config_int(sat_framework_config(fx.fw), "engine.heartbeat_s"), 60);
    sat_reload_report_free(&rep);

    sat_framework_set_config_loader(fx.fw, good_loader, NULL, "test");
    assert_int_equal(sat_framework_reload(fx.fw, &rep), 0);
    assert_int_equal(rep.change_count, 1);
    assert_non_null(strstr(rep.changes[0], "engine.heartbeat_s: 60 -> 7"));
    sat_reload_report_free(&rep);

    /* A runtime override survives the next reload. */
    assert_int_equal(sat_framework_set_param(fx.fw, "engine.heartbeat_s", "3", err, sizeof err), 0);
    assert_int_equal(sat_framework_reload(fx.fw, &rep), 0);
    assert_int_equal(sat_config_int(sat_framework_config(fx.fw), "engine.heartbeat_s"), 3);
    sat_reload_report_free(&rep);

    assert_int_equal(sat_framework_set_param(fx.fw, "push.workers", "2", err, sizeof err),
                     SAT_ECONFLICT);
    assert_int_equal(sat_framework_set_param(fx.fw, "no.such_key", "1", err, sizeof err),
                     SAT_ENOTFOUND);
    assert_int_equal(sat_framework_set_param(fx.fw, "engine.heartbeat_s", "-5", err, sizeof err),
                     SAT_EINVAL);

    /* A restart-only key is reported as pending and keeps its value, while
     * the live keys of the same file apply. */
    sat_framework_set_config_loader(fx.fw, moved_loader, NULL, "test");
    assert_int_equal(sat_framework_reload(fx.fw, &rep), 0);
    assert_int_equal(rep.error_count, 0);
    assert_true(rep.change_count >= 1);
    assert_non_null(strstr(rep.changes[0], "push.workers: 1 -> 3 (pending"));
    assert_int_equal(sat_config_int(sat_framework_config(fx.fw), "push.workers"), 1);
    sat_reload_report_free(&rep);
    sat_framework_free(fx.fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_filter_and_listeners),
        cmocka_unit_test(test_message_size_limit),
        cmocka_unit_test(test_resume_write_close),
        cmocka_unit_test(test_lifecycle_never_keeps),
        cmocka_unit_test(test_lifecycle_idle_destroy),
        cmocka_unit_test(test_lifecycle_empty_destroy),
        cmocka_unit_test(test_lifecycle_idle_empty_destroy),
        cmocka_unit_test(test_reload_all_or_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
