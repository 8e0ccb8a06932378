/* SPDX-License-Identifier: Apache-2.0 */
/* In-process test of the SNMP agent: a registry with broadcaster, resource
 * and statistics types, the agent on 127.0.0.1 port 0, and the real
 * snmpwalk, snmpbulkwalk and snmpset binaries against it. */
#include "snmp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int closes;

static int read_broadcaster(void *ctx, sat_record *out)
{
    sat_record_set_str(out, "scope", "application");
    sat_record_set_gauge(out, "resource-count", (int64_t)(intptr_t)ctx);
    sat_record_set_u64(out, "messages", 5000000000ULL);
    return 0;
}

static int read_resource(void *ctx, sat_record *out)
{
    static const char *const transports[] = {"websocket", "long-polling", NULL};

    (void)ctx;
    (void)transports;
    sat_record_set_enum(out, "transport", 1);
    sat_record_set_str(out, "broadcaster", "/chat");
    sat_record_set_time(out, "connected-since", 1796414400000LL);
    return 0;
}

static int close_resource(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                          size_t errsize)
{
    (void)ctx;
    (void)params;
    (void)result;
    (void)errmsg;
    (void)errsize;
    closes++;
    return 0;
}

static int read_stats(void *ctx, sat_record *out)
{
    (void)ctx;
    sat_record_set_bool(out, "capturing", true);
    sat_record_set_u64(out, "dirty-disconnects", 3);
    return 0;
}

static const char *const transport_enum[] = {"websocket", "long-polling", NULL};
static const sat_attr_def broadcaster_attrs[] = {
    {"scope", SAT_ATTR_STRING, "scope", NULL, false, NULL, NULL},
    {"resource-count", SAT_ATTR_GAUGE, "resources", NULL, false, NULL, NULL},
    {"messages", SAT_ATTR_COUNTER, "messages", NULL, false, NULL, NULL},
};
static const sat_attr_def resource_attrs[] = {
    {"transport", SAT_ATTR_ENUM, "transport", transport_enum, false, NULL, NULL},
    {"broadcaster", SAT_ATTR_STRING, "broadcaster", NULL, false, NULL, NULL},
    {"connected-since", SAT_ATTR_TIMESTAMP, "since", NULL, false, NULL, NULL},
};
static const sat_op_def resource_ops[] = {
    {"close", "close", NULL, 0, NULL, 0, close_resource},
    {"resume", "resume", NULL, 0, NULL, 0, close_resource},
};
static const sat_attr_def stats_attrs[] = {
    {"capturing", SAT_ATTR_BOOL, "capturing", NULL, false, NULL, NULL},
    {"dirty-disconnects", SAT_ATTR_COUNTER, "dirty", NULL, false, NULL, NULL},
};
static const sat_type_def types[] = {
    {"broadcaster", "broadcasters", false, "b", broadcaster_attrs, 3, NULL, 0, read_broadcaster,
     NULL, NULL, false},
    {"resource", "resources", false, "r", resource_attrs, 3, resource_ops, 2, read_resource, NULL,
     NULL, false},
    {"statistics", "statistics", true, "s", stats_attrs, 2, NULL, 0, read_stats, NULL, NULL, false},
};

typedef struct fixture {
    sat_registry *reg;
    sat_registry_object *objs[8];
    size_t nobjs;
    snmp_agent *agent;
    char host[64];
    char tmp[64];
} fixture;

static int setup(void **state)
{
    static fixture f;
    snmp_options opt = {0};
    char err[256] = "";

    f.reg = sat_registry_new(0);
    assert_non_null(f.reg);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(sat_registry_register_type(f.reg, &types[i]), 0);
    assert_int_equal(sat_registry_add(f.reg, "broadcaster", "/chat", (void *)2, &f.objs[f.nobjs++]),
                     0);
    assert_int_equal(sat_registry_add(f.reg, "broadcaster", "/news", (void *)0, &f.objs[f.nobjs++]),
                     0);
    assert_int_equal(sat_registry_add(f.reg, "resource", "0f3c-uuid-a", NULL, &f.objs[f.nobjs++]),
                     0);
    assert_int_equal(sat_registry_add(f.reg, "statistics", "", NULL, &f.objs[f.nobjs++]), 0);

    opt.listen = "udp:127.0.0.1:0";
    opt.community = "public";
    opt.rwcommunity = "private";
    opt.cache_ms = 0;
    f.agent = snmp_agent_start(f.reg, &opt, err, sizeof(err));
    assert_non_null(f.agent);
    /* "udp:127.0.0.1:PORT" -> "127.0.0.1:PORT" as the tools take it. */
    snprintf(f.host, sizeof(f.host), "%s", snmp_agent_address(f.agent) + 4);

    snprintf(f.tmp, sizeof(f.tmp), "/tmp/satsnmp-test-XXXXXX");
    assert_non_null(mkdtemp(f.tmp));
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    snmp_agent_stop(f->agent);
    for (size_t i = 0; i < f->nobjs; i++)
        sat_registry_remove(f->objs[i]);
    sat_registry_free(f->reg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs a net-snmp tool with private config dirs; returns its exit status
 * and its output (stdout and stderr) in out. */
static int run_tool(const fixture *f, const char *args, char *out, size_t size)
{
    char cmd[1024];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd), "SNMPCONFPATH=%s SNMP_PERSISTENT_DIR=%s MIBS= %s 2>&1", f->tmp,
             f->tmp, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void walk_lists_rows(void **state)
{
    fixture *f = *state;
    char args[256], out[16384];

    snprintf(args, sizeof(args), "snmpwalk -v2c -c public -On -t 2 -r 1 %s .1.3.6.1.3.9999",
             f->host);
    assert_int_equal(run_tool(f, args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, ".1.3.6.1.3.9999.1.6.1.2.1 = STRING: \"/chat\""));
    assert_non_null(strstr(out, ".1.3.6.1.3.9999.1.6.1.2.2 = STRING: \"/news\""));
    assert_non_null(strstr(out, ".1.3.6.1.3.9999.1.6.1.10.1 = Counter64: 5000000000"));
    assert_non_null(strstr(out, ".1.3.6.1.3.9999.1.9.1.3.1 = INTEGER: 4"));
    assert_non_null(strstr(out, ".1.3.6.1.3.9999.1.4.7.0 = Counter64: 3"));
    assert_null(strstr(out, "not increasing"));
}

static void bulkwalk_matches_walk(void **state)
{
    fixture *f = *state;
    char args[256], walk[16384], bulk[16384];

    snprintf(args, sizeof(args), "snmpwalk -v2c -c public -On %s .1.3.6.1.3.9999", f->host);
    assert_int_equal(run_tool(f, args, walk, sizeof(walk)), 0);
    snprintf(args, sizeof(args), "snmpbulkwalk -v2c -c public -On -Cr7 %s .1.3.6.1.3.9999",
             f->host);
    assert_int_equal(run_tool(f, args, bulk, sizeof(bulk)), 0);
    assert_null(strstr(bulk, "not increasing"));
    assert_string_equal(walk, bulk);
}

static void set_needs_rwcommunity(void **state)
{
    fixture *f = *state;
    char args[256], out[4096];
    int before = closes;

    snprintf(args, sizeof(args), "snmpset -v2c -c public %s .1.3.6.1.3.9999.1.9.1.12.1 i 3",
             f->host);
    assert_int_not_equal(run_tool(f, args, out, sizeof(out)), 0);
    assert_int_equal(closes, before);

    snprintf(args, sizeof(args), "snmpset -v2c -c private %s .1.3.6.1.3.9999.1.9.1.12.1 i 3",
             f->host);
    assert_int_equal(run_tool(f, args, out, sizeof(out)), 0);
    assert_int_equal(closes, before + 1);
}

static void set_errors_are_typed(void **state)
{
    fixture *f = *state;
    char args[256], out[4096];

    snprintf(args, sizeof(args), "snmpset -v2c -c private %s .1.3.6.1.3.9999.1.9.1.12.1 s x",
             f->host);
    run_tool(f, args, out, sizeof(out));
    assert_non_null(strstr(out, "wrongType"));

    snprintf(args, sizeof(args), "snmpset -v2c -c private %s .1.3.6.1.3.9999.1.9.1.12.1 i 9",
             f->host);
    run_tool(f, args, out, sizeof(out));
    assert_non_null(strstr(out, "wrongValue"));

    snprintf(args, sizeof(args), "snmpset -v2c -c private %s .1.3.6.1.3.9999.1.6.1.2.1 s x",
             f->host);
    run_tool(f, args, out, sizeof(out));
    assert_non_null(strstr(out, "notWritable"));

    snprintf(args, sizeof(args), "snmpset -v2c -c private %s .1.3.6.1.3.9999.1.6.1.1.1 u 1",
             f->host);
    run_tool(f, args, out, sizeof(out));
    assert_non_null(strstr(out, "noAccess"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(walk_lists_rows),
        cmocka_unit_test(bulkwalk_matches_walk),
        cmocka_unit_test(set_needs_rwcommunity),
        cmocka_unit_test(set_errors_are_typed),
    };

    if (system("command -v snmpwalk >/dev/null 2>&1") != 0) {
        fprintf(stderr, "snmpwalk not installed: skipping\n");
        return 0;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
