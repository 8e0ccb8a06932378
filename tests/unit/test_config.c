/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the configuration: key table, value validation, the INI
 * reader, sources, clone, diff, redaction, addresses and the packaged
 * example file. */
#include "satellite/config.h"
#include "satellite/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifndef SAT_SOURCE_DIR
#error "SAT_SOURCE_DIR must name the source tree, to find packaging/satellited.conf"
#endif

/* ---- key table ------------------------------------------------------- */

static void key_table_defaults_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sat_config_key_count(); i++) {
        const sat_config_key *key = sat_config_key_at(i);
        sat_config_error err;

        assert_non_null(key);
        assert_int_equal(sat_config_check(key->name, key->default_text, &err), 0);
        assert_ptr_equal(sat_config_key_find(key->name), key);
        assert_non_null(key->doc);
        assert_true(strlen(key->doc) > 10);
    }
    assert_null(sat_config_key_at(sat_config_key_count()));
    assert_null(sat_config_key_find("engine.nope"));
    assert_null(sat_config_key_find(""));
}

static void new_config_holds_defaults(void **state)
{
    sat_config *cfg = sat_config_new();
    char buf[128];

    (void)state;
    assert_non_null(cfg);
    for (size_t i = 0; i < sat_config_key_count(); i++) {
        const sat_config_key *key = sat_config_key_at(i);

        assert_string_equal(sat_config_text(cfg, key->name, false, buf, sizeof(buf)),
                            key->default_text);
        assert_int_equal(sat_config_source_of(cfg, key->name), SAT_CFG_SRC_DEFAULT);
    }
    assert_int_equal(sat_config_int(cfg, "engine.heartbeat_s"), 60);
    assert_true(sat_config_bool(cfg, "push.cors"));
    assert_string_equal(sat_config_str(cfg, "push.listen"), "127.0.0.1:8080");
    assert_string_equal(sat_config_str(cfg, "push.queue_policy"), "close");
    assert_int_equal(sat_config_enum(cfg, "log.level"), 2);
    assert_int_equal(sat_config_int(cfg, "cache.max_bytes"), 16777216);
    sat_config_free(cfg);
}

static void typed_read_mismatch_returns_zero(void **state)
{
    sat_config *cfg = sat_config_new();

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_int(cfg, "push.cors"), 0);
    assert_false(sat_config_bool(cfg, "engine.heartbeat_s"));
    assert_string_equal(sat_config_str(cfg, "engine.heartbeat_s"), "");
    assert_int_equal(sat_config_enum(cfg, "push.listen"), -1);
    assert_int_equal(sat_config_int(cfg, "no.such_key"), 0);
    sat_config_free(cfg);
}

/* ---- values ----------------------------------------------------------- */

struct value_case {
    const char *key;
    const char *value;
    int rc;
    const char *stored; /* text after a successful set, NULL = value */
};

static const struct value_case value_cases[] = {
    /* INT */
    {"engine.heartbeat_s", "0", 0, NULL},
    {"engine.heartbeat_s", "3600", 0, NULL},
    {"engine.heartbeat_s", "3601", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "-1", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "+5", 0, "5"},
    {"engine.heartbeat_s", "007", 0, "7"},
    {"engine.heartbeat_s", "abc", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "1.5", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "10s", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", " 10", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "-", SAT_EINVAL, NULL},
    {"engine.heartbeat_s", "99999999999999999999", SAT_EINVAL, NULL},
    {"push.backlog", "1", 0, NULL},
    {"push.backlog", "0", SAT_EINVAL, NULL},
    {"push.backlog", "65535", 0, NULL},
    {"push.backlog", "65536", SAT_EINVAL, NULL},
    {"cache.max_bytes", "4294967296", 0, NULL},
    {"cache.max_bytes", "4294967297", SAT_EINVAL, NULL},
    {"push.workers", "64", 0, NULL},
    {"push.workers", "65", SAT_EINVAL, NULL},
    {"websocket.max_message_bytes", "124", SAT_EINVAL, NULL},
    {"websocket.max_message_bytes", "125", 0, NULL},
    /* BOOL */
    {"push.cors", "true", 0, NULL},
    {"push.cors", "false", 0, NULL},
    {"push.cors", "yes", 0, "true"},
    {"push.cors", "no", 0, "false"},
    {"push.cors", "on", 0, "true"},
    {"push.cors", "off", 0, "false"},
    {"push.cors", "1", 0, "true"},
    {"push.cors", "0", 0, "false"},
    {"push.cors", "TRUE", 0, "true"},
    {"push.cors", "2", SAT_EINVAL, NULL},
    {"push.cors", "", SAT_EINVAL, NULL},
    {"push.cors", "truee", SAT_EINVAL, NULL},
    /* ENUM */
    {"push.queue_policy", "drop-oldest", 0, NULL},
    {"push.queue_policy", "close", 0, NULL},
    {"push.queue_policy", "Close", SAT_EINVAL, NULL},
    {"push.queue_policy", "drop", SAT_EINVAL, NULL},
    {"engine.broadcaster_lifecycle", "idle-empty-destroy", 0, NULL},
    {"engine.broadcaster_lifecycle", "empty-destroy", 0, NULL},
    {"engine.broadcaster_lifecycle", "forever", SAT_EINVAL, NULL},
    {"log.level", "debug", 0, NULL},
    {"log.level", "trace", SAT_EINVAL, NULL},
    {"log.target", "syslog", 0, NULL},
    {"log.target", "file", SAT_EINVAL, NULL},
    /* ADDR */
    {"push.listen", "0.0.0.0:0", 0, NULL},
    {"push.listen", "[::1]:65535", 0, NULL},
    {"push.listen", "localhost:80", 0, NULL},
    {"push.listen", "localhost", SAT_EINVAL, NULL},
    {"push.listen", "host:65536", SAT_EINVAL, NULL},
    {"push.listen", ":80", SAT_EINVAL, NULL},
    {"push.listen", "", SAT_EINVAL, NULL},
    {"push.listen", "::1:80", SAT_EINVAL, NULL},
    /* STRING with checks */
    {"push.static_dir", "", 0, NULL},
    {"push.static_dir", "/srv/static files", 0, NULL},
    {"push.static_dir", "a\tb", SAT_EINVAL, NULL},
    {"snmp.listen", "udp:127.0.0.1:161", 0, NULL},
    {"snmp.listen", "tcp:[::1]:1161", 0, NULL},
    {"snmp.listen", "127.0.0.1:1161", 0, NULL},
    {"snmp.listen", "udp:127.0.0.1", SAT_EINVAL, NULL},
    {"snmp.listen", "sctp:127.0.0.1:1161", SAT_EINVAL, NULL},
    {"snmp.listen", "", SAT_EINVAL, NULL},
    {"snmp.v3_auth_pass", "", 0, NULL},
    {"snmp.v3_auth_pass", "12345678", 0, NULL},
    {"snmp.v3_auth_pass", "1234567", SAT_EINVAL, NULL},
    {"snmp.v3_priv_pass", "abcdefgh", SAT_EINVAL, NULL}, /* needs v3_auth_pass first */
    {"snmp.trap_sinks", "", 0, NULL},
    {"snmp.trap_sinks", "127.0.0.1:162", 0, NULL},
    {"snmp.trap_sinks", "127.0.0.1:162, [::1]:1162", 0, NULL},
    {"snmp.trap_sinks", "127.0.0.1:162,", SAT_EINVAL, NULL},
    {"snmp.trap_sinks", "127.0.0.1:0", SAT_EINVAL, NULL},
    {"snmp.trap_sinks", "127.0.0.1", SAT_EINVAL, NULL},
    {"snmp.community", "pub lic", SAT_EINVAL, NULL},
    {"admin.token", "s3cr3t-token", 0, NULL},
    {"admin.token", "has space", SAT_EINVAL, NULL},
    {"engine.heartbeat_padding", "X", 0, NULL},
    {"engine.heartbeat_padding", "12345678", 0, NULL},
    {"engine.heartbeat_padding", "123456789", SAT_EINVAL, NULL},
    {"engine.heartbeat_padding", "", SAT_EINVAL, NULL},
    {"engine.heartbeat_padding", "X|", SAT_EINVAL, NULL}, /* contains the delimiter */
    {"engine.heartbeat_padding", "\xc3\xa9", SAT_EINVAL, NULL},
    {"engine.delimiter", "#", 0, NULL},
    {"engine.delimiter", "", SAT_EINVAL, NULL},
    {"engine.delimiter", "||", SAT_EINVAL, NULL},
    {"engine.delimiter", " ", SAT_EINVAL, NULL},
    {"engine.delimiter", "X", SAT_EINVAL, NULL}, /* the default padding contains it */
    {"cluster.redis_url", "redis://:pw@127.0.0.1:6379/0", 0, NULL},
    {"cluster.redis_url", "rediss://127.0.0.1", 0, NULL},
    {"cluster.redis_url", "http://127.0.0.1", SAT_EINVAL, NULL},
    {"cluster.node_id", "node-1", 0, NULL},
    /* unknown */
    {"engine.unknown", "1", SAT_ENOTFOUND, NULL},
    {"Engine.heartbeat_s", "1", SAT_ENOTFOUND, NULL},
};

static void set_value_table(void **state)
{
    char buf[256];

    (void)state;
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *c = &value_cases[i];
        sat_config *cfg = sat_config_new();
        sat_config_error err;
        int rc;

        assert_non_null(cfg);
        rc = sat_config_set(cfg, c->key, c->value, SAT_CFG_SRC_RUNTIME, &err);
        if (rc != c->rc)
            fail_msg("%s = '%s': got %d, expected %d (%s)", c->key, c->value, rc, c->rc,
                     err.message);
        if (rc == 0) {
            sat_config_text(cfg, c->key, false, buf, sizeof(buf));
            assert_string_equal(buf, c->stored ? c->stored : c->value);
            assert_int_equal(sat_config_source_of(cfg, c->key), SAT_CFG_SRC_RUNTIME);
        } else {
            assert_string_equal(err.key, c->key);
            assert_true(strlen(err.message) > 0);
        }
        sat_config_free(cfg);
    }
}

static void check_matches_set_per_key(void **state)
{
    sat_config_error err;

    (void)state;
    assert_int_equal(sat_config_check("engine.heartbeat_s", "3600", &err), 0);
    assert_int_equal(sat_config_check("engine.heartbeat_s", "3601", &err), SAT_EINVAL);
    assert_int_equal(sat_config_check("nope.nope", "1", &err), SAT_ENOTFOUND);
    assert_int_equal(sat_config_check("push.cors", NULL, &err), SAT_EINVAL);
}

static void set_error_message_names_value(void **state)
{
    sat_config *cfg = sat_config_new();
    sat_config_error err;

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_set(cfg, "engine.heartbeat_s", "abc", SAT_CFG_SRC_RUNTIME, &err),
                     SAT_EINVAL);
    assert_string_equal(err.message, "invalid value 'abc' for engine.heartbeat_s: expected an "
                                     "integer from 0 to 3600");
    assert_int_equal(sat_config_set(cfg, "log.level", "loud", SAT_CFG_SRC_RUNTIME, &err),
                     SAT_EINVAL);
    assert_string_equal(err.message, "invalid value 'loud' for log.level: expected one of error, "
                                     "warn, info, debug");
    sat_config_free(cfg);
}

static void secret_not_echoed_in_error(void **state)
{
    sat_config *cfg = sat_config_new();
    sat_config_error err;

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_set(cfg, "snmp.v3_auth_pass", "hunter2", SAT_CFG_SRC_RUNTIME, &err),
                     SAT_EINVAL);
    assert_null(strstr(err.message, "hunter2"));
    assert_non_null(strstr(err.message, "at least 8"));
    sat_config_free(cfg);
}

static void cross_key_rules(void **state)
{
    sat_config *cfg = sat_config_new();
    sat_config_error err;

    (void)state;
    assert_non_null(cfg);
    /* Changing the delimiter first makes "X|" valid padding. */
    assert_int_equal(sat_config_set(cfg, "engine.delimiter", "#", SAT_CFG_SRC_RUNTIME, &err), 0);
    assert_int_equal(
        sat_config_set(cfg, "engine.heartbeat_padding", "X|", SAT_CFG_SRC_RUNTIME, &err), 0);
    assert_int_equal(sat_config_set(cfg, "engine.delimiter", "|", SAT_CFG_SRC_RUNTIME, &err),
                     SAT_EINVAL);
    assert_string_equal(sat_config_str(cfg, "engine.delimiter"), "#");

    /* An SNMPv3 user needs an authentication passphrase. */
    assert_int_equal(sat_config_set(cfg, "snmp.v3_user", "ops", SAT_CFG_SRC_RUNTIME, &err),
                     SAT_EINVAL);
    assert_string_equal(sat_config_str(cfg, "snmp.v3_user"), "");
    assert_int_equal(
        sat_config_set(cfg, "snmp.v3_auth_pass", "authpass1", SAT_CFG_SRC_RUNTIME, &err), 0);
    assert_int_equal(sat_config_set(cfg, "snmp.v3_user", "ops", SAT_CFG_SRC_RUNTIME, &err), 0);
    assert_int_equal(sat_config_set(cfg, "snmp.v3_auth_pass", "", SAT_CFG_SRC_RUNTIME, &err),
                     SAT_EINVAL);
    sat_config_free(cfg);
}

/* ---- INI syntax ------------------------------------------------------- */

struct ini_case {
    const char *name;
    const char *text;
    int rc;
    int error_line;       /* line of the first error, when rc != 0 */
    const char *contains; /* substring of the first error's message */
    const char *key;      /* for rc == 0: a key to read back */
    const char *expected; /* its text */
};

static const struct ini_case ini_cases[] = {
    {"empty", "", 0, 0, NULL, "engine.heartbeat_s", "60"},
    {"plain", "[engine]\nheartbeat_s = 30\n", 0, 0, NULL, "engine.heartbeat_s", "30"},
    {"no final newline", "[engine]\nheartbeat_s=30", 0, 0, NULL, "engine.heartbeat_s", "30"},
    {"crlf", "[engine]\r\nheartbeat_s = 30\r\n", 0, 0, NULL, "engine.heartbeat_s", "30"},
    {"whitespace", "  [ engine ]  \n\t heartbeat_s\t=\t30 \t\n", 0, 0, NULL, "engine.heartbeat_s",
     "30"},
    {"comments", "# c\n; c\n  # indented\n[engine]\n# heartbeat_s = 5\n", 0, 0, NULL,
     "engine.heartbeat_s", "60"},
    {"bom", "\xEF\xBB\xBF[engine]\nheartbeat_s = 30\n", 0, 0, NULL, "engine.heartbeat_s", "30"},
    {"duplicate last wins", "[engine]\nheartbeat_s = 1\nheartbeat_s = 2\n", 0, 0, NULL,
     "engine.heartbeat_s", "2"},
    {"section reopened", "[engine]\n[push]\n[engine]\nheartbeat_s = 3\n", 0, 0, NULL,
     "engine.heartbeat_s", "3"},
    {"quoted", "[push]\nstatic_dir = \" /srv/a b \"\n", 0, 0, NULL, "push.static_dir",
     " /srv/a b "},
    {"quoted escapes", "[push]\nstatic_dir = \"a\\\"b\\\\c\"\n", 0, 0, NULL, "push.static_dir",
     "a\"b\\c"},
    {"quoted empty", "[push]\nstatic_dir = \"\"\n", 0, 0, NULL, "push.static_dir", ""},
    {"empty value", "[push]\nstatic_dir =\n", 0, 0, NULL, "push.static_dir", ""},
    {"quoted hash", "[snmp]\ncommunity = \"a#b\"\n", 0, 0, NULL, "snmp.community", "a#b"},
    {"equals in value", "[cluster]\nredis_url = redis://a=b@h:1\n", 0, 0, NULL, "cluster.redis_url",
     "redis://a=b@h:1"},
    {"quoted int", "[engine]\nheartbeat_s = \"30\"\n", 0, 0, NULL, "engine.heartbeat_s", "30"},

    {"missing equals", "[engine]\nheartbeat_s 30\n", SAT_EINVAL, 2, "expected 'key = value'", NULL,
     NULL},
    {"bad section", "[engine\nheartbeat_s = 30\n", SAT_EINVAL, 1, "invalid section header", NULL,
     NULL},
    {"unknown section", "\n[engin]\nheartbeat_s = 30\n", SAT_EINVAL, 2, "unknown section [engin]",
     NULL, NULL},
    {"uppercase section", "[Engine]\n", SAT_EINVAL, 1, "unknown section", NULL, NULL},
    {"empty section", "[]\n", SAT_EINVAL, 1, "unknown section", NULL, NULL},
    {"unknown key", "[engine]\nheartbeat = 30\n", SAT_EINVAL, 2, "unknown key 'heartbeat'", NULL,
     NULL},
    {"uppercase key", "[engine]\nHeartbeat_s = 30\n", SAT_EINVAL, 2, "unknown key", NULL, NULL},
    {"empty key", "[engine]\n= 30\n", SAT_EINVAL, 2, "unknown key", NULL, NULL},
    {"key outside section", "heartbeat_s = 30\n", SAT_EINVAL, 1, "outside a section", NULL, NULL},
    {"bad value", "[engine]\n\n\n\n\n\nheartbeat_s = abc\n", SAT_EINVAL, 7,
     "invalid value 'abc' for engine.heartbeat_s: expected an integer from 0 to 3600", NULL, NULL},
    {"inline comment", "[engine]\nheartbeat_s = 30 # s\n", SAT_EINVAL, 2, "invalid value", NULL,
     NULL},
    {"unterminated quote", "[push]\nstatic_dir = \"abc\n", SAT_EINVAL, 2, "unterminated", NULL,
     NULL},
    {"bad escape", "[push]\nstatic_dir = \"a\\nb\"\n", SAT_EINVAL, 2, "invalid escape", NULL, NULL},
    {"text after quote", "[push]\nstatic_dir = \"a\" b\n", SAT_EINVAL, 2, "after the closing", NULL,
     NULL},
    {"nul byte",
     "[engine]\nheartbeat_s = 3\0"
     "0\n",
     SAT_EINVAL, 2, "NUL", NULL, NULL},
    {"control char quoted", "[push]\nstatic_dir = \"a\tb\"\n", SAT_EINVAL, 2, "control", NULL,
     NULL},
    {"padding has delimiter", "[engine]\ndelimiter = #\nheartbeat_padding = ab#\n", SAT_EINVAL, 3,
     "engine.delimiter", NULL, NULL},
};

/* Text lengths: the "nul byte" case contains an embedded NUL, so use sizeof
 * where the literal is known; strlen stops early otherwise. */
static size_t ini_case_len(const struct ini_case *c)
{
    if (strcmp(c->name, "nul byte") == 0)
        return sizeof("[engine]\nheartbeat_s = 3\0"
                      "0\n") -
               1;
    return strlen(c->text);
}

static void ini_syntax_table(void **state)
{
    char buf[256];

    (void)state;
    for (size_t i = 0; i < sizeof(ini_cases) / sizeof(ini_cases[0]); i++) {
        const struct ini_case *c = &ini_cases[i];
        sat_config *cfg = sat_config_new();
        sat_config_errors errs = {NULL, 0};
        int rc;

        assert_non_null(cfg);
        rc = sat_config_load_text(cfg, c->text, ini_case_len(c), "test", &errs);
        if (rc != c->rc)
            fail_msg("case '%s': got %d, expected %d (%s)", c->name, rc, c->rc,
                     errs.count ? errs.items[0].message : "no error");
        if (rc == 0) {
            assert_int_equal(errs.count, 0);
            sat_config_text(cfg, c->key, false, buf, sizeof(buf));
            if (strcmp(buf, c->expected) != 0)
                fail_msg("case '%s': %s is '%s', expected '%s'", c->name, c->key, buf, c->expected);
        } else {
            assert_true(errs.count >= 1);
            if (errs.items[0].line != c->error_line)
                fail_msg("case '%s': error on line %d, expected %d", c->name, errs.items[0].line,
                         c->error_line);
            if (strstr(errs.items[0].message, c->contains) == NULL)
                fail_msg("case '%s': message '%s' lacks '%s'", c->name, errs.items[0].message,
                         c->contains);
        }
        sat_config_errors_free(&errs);
        sat_config_free(cfg);
    }
}

static void error_format_has_line(void **state)
{
    const char *text = "[engine]\n\n\n\n\n\nheartbeat_s = abc\n";
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    char buf[300];

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_load_text(cfg, text, strlen(text), "t", &errs), SAT_EINVAL);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].key, "engine.heartbeat_s");
    assert_string_equal(sat_config_error_format(&errs.items[0], buf, sizeof(buf)),
                        "line 7: invalid value 'abc' for engine.heartbeat_s: expected an "
                        "integer from 0 to 3600");
    sat_config_errors_free(&errs);
    assert_null(errs.items);
    assert_int_equal(errs.count, 0);
    sat_config_free(cfg);
}

static void unknown_section_reported_once(void **state)
{
    const char *text = "[nope]\na = 1\nb = 2\n[engine]\nheartbeat_s = 5\n";
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_load_text(cfg, text, strlen(text), "t", &errs), SAT_EINVAL);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 1);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

static void overlong_line_rejected(void **state)
{
    size_t n = SAT_CONFIG_MAX_LINE + 40;
    char *text = malloc(n + 1);
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    int rc;

    (void)state;
    assert_non_null(text);
    assert_non_null(cfg);
    /* "[push]\nstatic_dir = aaaa...\n" with line 2 over the limit. */
    memset(text, 'a', n);
    memcpy(text, "[push]\nstatic_dir = ", 20);
    text[n - 1] = '\n';
    text[n] = '\0';
    rc = sat_config_load_text(cfg, text, n, "t", &errs);
    assert_int_equal(rc, SAT_EINVAL);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 2);
    assert_non_null(strstr(errs.items[0].message, "longer than 4096"));
    assert_string_equal(sat_config_str(cfg, "push.static_dir"), "");
    sat_config_errors_free(&errs);

    /* Exactly the limit is fine: 4096 bytes before the newline. */
    memset(text, 'a', n);
    memcpy(text, "[push]\nstatic_dir = ", 20);
    text[7 + SAT_CONFIG_MAX_LINE] = '\n';
    rc = sat_config_load_text(cfg, text, 7 + SAT_CONFIG_MAX_LINE + 1, "t", &errs);
    assert_int_equal(rc, 0);
    assert_int_equal(strlen(sat_config_str(cfg, "push.static_dir")), SAT_CONFIG_MAX_LINE - 13);
    free(text);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

static void oversized_file_rejected(void **state)
{
    size_t n = (size_t)SAT_CONFIG_MAX_FILE + 1;
    char *text = malloc(n);
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};

    (void)state;
    assert_non_null(text);
    assert_non_null(cfg);
    memset(text, '\n', n);
    assert_int_equal(sat_config_load_text(cfg, text, n, "big.conf", &errs), SAT_EINVAL);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, "big.conf is larger than"));
    assert_int_equal(sat_config_load_text(cfg, text, n - 1, "big.conf", NULL), 0);
    free(text);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

static void too_many_errors_capped(void **state)
{
    size_t n = 300 * 8 + 16;
    char *text = malloc(n);
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    size_t len = 0;

    (void)state;
    assert_non_null(text);
    assert_non_null(cfg);
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, n - len, "bogus\n");
    assert_int_equal(sat_config_load_text(cfg, text, len, "t", &errs), SAT_EINVAL);
    assert_int_equal(errs.count, SAT_CONFIG_MAX_ERRORS);
    assert_non_null(strstr(errs.items[errs.count - 1].message, "too many errors"));
    free(text);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

/* ---- loading as a whole ------------------------------------------------- */

static void load_all_or_nothing(void **state)
{
    const char *text = "[engine]\n"         /* 1 */
                       "heartbeat_s = 10\n" /* 2: valid */
                       "delimiter = ##\n"   /* 3: invalid */
                       "[push]\n"           /* 4 */
                       "cors = maybe\n"     /* 5: invalid */
                       "listen = 1.2.3.4\n" /* 6: invalid */
                       "workers = 2\n"      /* 7: valid */
                       "bogus = 1\n";       /* 8: unknown */
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    static const int lines[] = {3, 5, 6, 8};
    static const char *const keys[] = {"engine.delimiter", "push.cors", "push.listen",
                                       "push.bogus"};

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_load_text(cfg, text, strlen(text), "t", &errs), SAT_EINVAL);
    assert_int_equal(errs.count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(errs.items[i].line, lines[i]);
        assert_string_equal(errs.items[i].key, keys[i]);
    }
    assert_int_equal(sat_config_int(cfg, "engine.heartbeat_s"), 60);
    assert_int_equal(sat_config_int(cfg, "push.workers"), 0);
    assert_int_equal(sat_config_source_of(cfg, "push.workers"), SAT_CFG_SRC_DEFAULT);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

static void load_appends_errors(void **state)
{
    const char *bad = "[engine]\nheartbeat_s = x\n";
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_load_text(cfg, bad, strlen(bad), "a", &errs), SAT_EINVAL);
    assert_int_equal(sat_config_load_text(cfg, bad, strlen(bad), "b", &errs), SAT_EINVAL);
    assert_int_equal(errs.count, 2);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

static void load_sets_sources(void **state)
{
    const char *text = "[engine]\nheartbeat_s = 10\n";
    sat_config *cfg = sat_config_new();

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_set(cfg, "push.workers", "4", SAT_CFG_SRC_CMDLINE, NULL), 0);
    assert_int_equal(sat_config_load_text(cfg, text, strlen(text), "t", NULL), 0);
    assert_int_equal(sat_config_source_of(cfg, "engine.heartbeat_s"), SAT_CFG_SRC_FILE);
    assert_int_equal(sat_config_source_of(cfg, "push.workers"), SAT_CFG_SRC_CMDLINE);
    assert_int_equal(sat_config_int(cfg, "push.workers"), 4);
    assert_int_equal(sat_config_source_of(cfg, "push.cors"), SAT_CFG_SRC_DEFAULT);
    assert_string_equal(sat_config_source_name(SAT_CFG_SRC_DEFAULT), "default");
    assert_string_equal(sat_config_source_name(SAT_CFG_SRC_FILE), "file");
    assert_string_equal(sat_config_source_name(SAT_CFG_SRC_CMDLINE), "cmdline");
    assert_string_equal(sat_config_source_name(SAT_CFG_SRC_RUNTIME), "runtime");
    sat_config_free(cfg);
}

static void load_file_missing(void **state)
{
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(sat_config_load_file(cfg, "/nonexistent/satellited.conf", &errs), SAT_EIO);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, "/nonexistent/satellited.conf"));
    assert_non_null(strstr(errs.items[0].message, "No such file"));
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
}

/* ---- clone, diff, redaction ------------------------------------------ */

static void clone_is_independent(void **state)
{
    sat_config *a = sat_config_new();
    sat_config *b;

    (void)state;
    assert_non_null(a);
    assert_int_equal(sat_config_set(a, "push.static_dir", "/srv", SAT_CFG_SRC_FILE, NULL), 0);
    b = sat_config_clone(a);
    assert_non_null(b);
    assert_string_equal(sat_config_str(b, "push.static_dir"), "/srv");
    assert_int_equal(sat_config_source_of(b, "push.static_dir"), SAT_CFG_SRC_FILE);
    assert_int_equal(sat_config_set(b, "push.static_dir", "/other", SAT_CFG_SRC_RUNTIME, NULL), 0);
    assert_string_equal(sat_config_str(a, "push.static_dir"), "/srv");
    assert_int_equal(sat_config_diff(a, b, NULL, NULL), 1);
    sat_config_free(a);
    sat_config_free(b);
    sat_config_free(NULL);
}

struct diff_seen {
    int count;
    char names[8][64];
    char old_text[8][128];
    char new_text[8][128];
};

static void record_diff(void *userdata, const sat_config_key *key, const char *old_text,
                        const char *new_text)
{
    struct diff_seen *seen = userdata;

    if (seen->count >= 8)
        return;
    snprintf(seen->names[seen->count], 64, "%s", key->name);
    snprintf(seen->old_text[seen->count], 128, "%s", old_text);
    snprintf(seen->new_text[seen->count], 128, "%s", new_text);
    seen->count++;
}

static void diff_redacts_secrets(void **state)
{
    sat_config *a = sat_config_new();
    sat_config *b = sat_config_new();
    struct diff_seen seen = {0};

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(sat_config_diff(a, b, record_diff, &seen), 0);
    assert_int_equal(sat_config_set(b, "admin.token", "tok123", SAT_CFG_SRC_FILE, NULL), 0);
    assert_int_equal(sat_config_set(b, "engine.heartbeat_s", "5", SAT_CFG_SRC_FILE, NULL), 0);
    assert_int_equal(sat_config_set(b, "cluster.redis_url", "redis://u:pw@127.0.0.1:6379",
                                    SAT_CFG_SRC_FILE, NULL),
                     0);
    assert_int_equal(sat_config_set(a, "snmp.community", "old-comm", SAT_CFG_SRC_FILE, NULL), 0);
    assert_int_equal(sat_config_diff(a, b, record_diff, &seen), 4);
    assert_int_equal(seen.count, 4);
    /* Table order: admin, snmp, engine, cluster. */
    assert_string_equal(seen.names[0], "admin.token");
    assert_string_equal(seen.old_text[0], "");
    assert_string_equal(seen.new_text[0], "***");
    assert_string_equal(seen.names[1], "snmp.community");
    assert_string_equal(seen.old_text[1], "***");
    assert_string_equal(seen.new_text[1], "***");
    assert_string_equal(seen.names[2], "engine.heartbeat_s");
    assert_string_equal(seen.old_text[2], "60");
    assert_string_equal(seen.new_text[2], "5");
    assert_string_equal(seen.names[3], "cluster.redis_url");
    assert_string_equal(seen.old_text[3], "redis://127.0.0.1:6379");
    assert_string_equal(seen.new_text[3], "redis://u:***@127.0.0.1:6379");
    sat_config_free(a);
    sat_config_free(b);
}

struct redact_case {
    const char *key;
    const char *value;
    const char *redacted;
};

static const struct redact_case redact_cases[] = {
    {"admin.token", "abc", "***"},
    {"admin.token", "", ""},
    {"snmp.rwcommunity", "private", "***"},
    {"snmp.v3_priv_pass", "", ""},
    {"cluster.redis_url", "redis://user:PASS@host:6379/0", "redis://user:***@host:6379/0"},
    {"cluster.redis_url", "redis://:PASS@host", "redis://:***@host"},
    {"cluster.redis_url", "redis://PASS@host", "redis://***@host"},
    {"cluster.redis_url", "rediss://u:p@ss@host", "rediss://u:***@host"},
    {"cluster.redis_url", "redis://host:6379/0?x=@", "redis://host:6379/0?x=@"},
    {"cluster.redis_url", "redis://127.0.0.1:6379", "redis://127.0.0.1:6379"},
    {"snmp.v3_auth_pass", "authpass1", "***"},
    {"cluster.node_id", "node-1", "node-1"},
};

static void text_redaction_table(void **state)
{
    char buf[128];

    (void)state;
    for (size_t i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
        const struct redact_case *c = &redact_cases[i];
        sat_config *cfg = sat_config_new();

        assert_non_null(cfg);
        assert_int_equal(sat_config_set(cfg, c->key, c->value, SAT_CFG_SRC_FILE, NULL), 0);
        assert_string_equal(sat_config_text(cfg, c->key, true, buf, sizeof(buf)), c->redacted);
        assert_string_equal(sat_config_text(cfg, c->key, false, buf, sizeof(buf)), c->value);
        sat_config_free(cfg);
    }
}

static void text_truncates_and_unknown(void **state)
{
    sat_config *cfg = sat_config_new();
    char buf[6];

    (void)state;
    assert_non_null(cfg);
    assert_string_equal(sat_config_text(cfg, "push.listen", false, buf, sizeof(buf)), "127.0");
    assert_string_equal(sat_config_text(cfg, "no.key", false, buf, sizeof(buf)), "");
    sat_config_free(cfg);
}

/* ---- addresses -------------------------------------------------------- */

struct addr_case {
    const char *text;
    int rc;
    const char *host;
    int port;
};

static const struct addr_case addr_cases[] = {
    {"127.0.0.1:80", 0, "127.0.0.1", 80},
    {"[::1]:8080", 0, "::1", 8080},
    {"localhost:0", 0, "localhost", 0},
    {"host:65535", 0, "host", 65535},
    {"[fe80::1%eth0]:9", 0, "fe80::1%eth0", 9},
    {"1.2.3.4", SAT_EINVAL, "", 0},
    {":80", SAT_EINVAL, "", 0},
    {"host:99999", SAT_EINVAL, "", 0},
    {"host:65536", SAT_EINVAL, "", 0},
    {"[::1", SAT_EINVAL, "", 0},
    {"[::1]", SAT_EINVAL, "", 0},
    {"[]:80", SAT_EINVAL, "", 0},
    {"", SAT_EINVAL, "", 0},
    {"host:", SAT_EINVAL, "", 0},
    {"host:-1", SAT_EINVAL, "", 0},
    {"host:+80", SAT_EINVAL, "", 0},
    {"host:8 0", SAT_EINVAL, "", 0},
    {"::1:80", SAT_EINVAL, "", 0},
    {"ho st:80", SAT_EINVAL, "", 0},
    {"[::1]:80x", SAT_EINVAL, "", 0},
};

static void parse_addr_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        const struct addr_case *c = &addr_cases[i];
        char host[64] = "junk";
        int port = -7;
        int rc = sat_config_parse_addr(c->text, host, sizeof(host), &port);

        if (rc != c->rc)
            fail_msg("'%s': got %d, expected %d", c->text, rc, c->rc);
        assert_string_equal(host, c->host);
        assert_int_equal(port, c->port);
    }
}

static void parse_addr_small_buffer(void **state)
{
    char host[4];
    int port;

    (void)state;
    assert_int_equal(sat_config_parse_addr("abc:1", host, sizeof(host), &port), 0);
    assert_int_equal(sat_config_parse_addr("abcd:1", host, sizeof(host), &port), SAT_EINVAL);
    assert_string_equal(host, "");
}

/* ---- packaged example file --------------------------------------------- */

#define EXAMPLE_PATH SAT_SOURCE_DIR "/packaging/satellited.conf"

static void example_file_loads(void **state)
{
    sat_config *cfg = sat_config_new();
    sat_config *defaults = sat_config_new();
    sat_config_errors errs = {NULL, 0};

    (void)state;
    assert_non_null(cfg);
    assert_non_null(defaults);
    assert_int_equal(sat_config_load_file(cfg, EXAMPLE_PATH, &errs), 0);
    assert_int_equal(errs.count, 0);
    assert_int_equal(sat_config_diff(defaults, cfg, NULL, NULL), 0);
    sat_config_free(cfg);
    sat_config_free(defaults);
}

/* Reads the example file and removes the "# " in front of commented-out
 * headers and keys, so the result sets every key explicitly. */
static char *uncomment_example(size_t *len)
{
    FILE *f = fopen(EXAMPLE_PATH, "rb");
    char line[SAT_CONFIG_MAX_LINE + 2];
    char *out = calloc(1, (size_t)SAT_CONFIG_MAX_FILE);
    size_t used = 0;

    if (f == NULL || out == NULL) {
        if (f != NULL)
            fclose(f);
        free(out);
        return NULL;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *p = line;

        if (strncmp(p, "# [", 3) == 0 ||
            (strncmp(p, "# ", 2) == 0 && p[2] >= 'a' && p[2] <= 'z' && strstr(p, " = ") != NULL))
            p += 2;
        used += (size_t)snprintf(out + used, (size_t)SAT_CONFIG_MAX_FILE - used, "%s", p);
    }
    fclose(f);
    *len = used;
    return out;
}

static void example_file_lists_every_key(void **state)
{
    size_t len = 0;
    char *text = uncomment_example(&len);
    sat_config *cfg = sat_config_new();
    sat_config *defaults = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    int rc;

    (void)state;
    assert_non_null(text);
    assert_non_null(cfg);
    assert_non_null(defaults);
    rc = sat_config_load_text(cfg, text, len, "uncommented example", &errs);
    if (rc != 0)
        fail_msg("uncommented example: %s", errs.count ? errs.items[0].message : "?");
    for (size_t i = 0; i < sat_config_key_count(); i++) {
        const char *name = sat_config_key_at(i)->name;

        if (sat_config_source_of(cfg, name) != SAT_CFG_SRC_FILE)
            fail_msg("%s is missing from the example file", name);
    }
    assert_int_equal(sat_config_diff(defaults, cfg, NULL, NULL), 0);
    free(text);
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
    sat_config_free(defaults);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_table_defaults_valid),
        cmocka_unit_test(new_config_holds_defaults),
        cmocka_unit_test(typed_read_mismatch_returns_zero),
        cmocka_unit_test(set_value_table),
        cmocka_unit_test(check_matches_set_per_key),
        cmocka_unit_test(set_error_message_names_value),
        cmocka_unit_test(secret_not_echoed_in_error),
        cmocka_unit_test(cross_key_rules),
        cmocka_unit_test(ini_syntax_table),
        cmocka_unit_test(error_format_has_line),
        cmocka_unit_test(unknown_section_reported_once),
        cmocka_unit_test(overlong_line_rejected),
        cmocka_unit_test(oversized_file_rejected),
        cmocka_unit_test(too_many_errors_capped),
        cmocka_unit_test(load_all_or_nothing),
        cmocka_unit_test(load_appends_errors),
        cmocka_unit_test(load_sets_sources),
        cmocka_unit_test(load_file_missing),
        cmocka_unit_test(clone_is_independent),
        cmocka_unit_test(diff_redacts_secrets),
        cmocka_unit_test(text_redaction_table),
        cmocka_unit_test(text_truncates_and_unknown),
        cmocka_unit_test(parse_addr_table),
        cmocka_unit_test(parse_addr_small_buffer),
        cmocka_unit_test(example_file_loads),
        cmocka_unit_test(example_file_lists_every_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
