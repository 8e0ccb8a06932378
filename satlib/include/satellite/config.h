/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: the table of every key with its type, default, unit and
 * validator; INI file loading; runtime overrides; and the difference
 * between two configurations, which a reload applies all or nothing. */
#ifndef SATELLITE_CONFIG_H
#define SATELLITE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sat_config sat_config;

typedef enum sat_config_type {
    SAT_CFG_INT,    /* signed 64-bit integer within [min, max] */
    SAT_CFG_BOOL,   /* true/false, yes/no, on/off, 1/0 */
    SAT_CFG_STRING, /* free text up to 4 KiB */
    SAT_CFG_ENUM,   /* one of a fixed list of names */
    SAT_CFG_ADDR,   /* "host:port", "[v6]:port"; port 0 picks a free port */
} sat_config_type;

/* Where a key's current value came from. */
typedef enum sat_config_source {
    SAT_CFG_SRC_DEFAULT = 0,
    SAT_CFG_SRC_FILE,
    SAT_CFG_SRC_CMDLINE,
    SAT_CFG_SRC_RUNTIME, /* set through REST or SNMP */
} sat_config_source;

/* Static description of one key. */
typedef struct sat_config_key {
    const char *name; /* "section.key", e.g. "engine.heartbeat_s" */
    sat_config_type type;
    const char *default_text;      /* default value as it would appear in the file */
    int64_t min, max;              /* bounds for SAT_CFG_INT */
    const char *const *enum_names; /* NULL-terminated, for SAT_CFG_ENUM */
    const char *unit;              /* "s", "ms", "bytes", "count" or NULL */
    bool secret;                   /* shown as "***" outside the process */
    bool restart;                  /* true when a change takes effect only after a restart */
    const char *doc;               /* one sentence */
} sat_config_key;

/* Limits of the INI reader. A longer line or a larger file is an error,
 * never silently truncated. */
#define SAT_CONFIG_MAX_LINE   4096      /* bytes per line, without the newline */
#define SAT_CONFIG_MAX_FILE   (1 << 20) /* bytes per file */
#define SAT_CONFIG_MAX_STRING 4096      /* bytes per string value */
#define SAT_CONFIG_MAX_ERRORS 100       /* errors kept per load; the last one reports that more were cut */

/* One rejected key, value or line. The message never contains a secret
 * value. */
typedef struct sat_config_error {
    char key[96];      /* "section.key", or "" for a syntax error */
    char message[256]; /* e.g. "invalid value 'abc' for engine.heartbeat_s: expected an
                          integer from 0 to 3600" */
    int line;          /* line in the file, or 0 */
} sat_config_error;

/* A growable list of errors. Start from {NULL, 0}; loads append to it. */
typedef struct sat_config_errors {
    sat_config_error *items;
    size_t count;
} sat_config_errors;

/* Frees the items and resets the list to {NULL, 0}. Accepts NULL. */
void sat_config_errors_free(sat_config_errors *errs);

/* Formats an error as "line 7: <message>", or just the message when it has
 * no line. Returns buf. */
const char *sat_config_error_format(const sat_config_error *err, char *buf, size_t size);

/* The key table, in documentation order. Entries are static and live for
 * the whole process. */
size_t sat_config_key_count(void);
const sat_config_key *sat_config_key_at(size_t index);
const sat_config_key *sat_config_key_find(const char *name); /* NULL if unknown */

/* Creates a configuration holding every default. NULL when out of memory.
 * A sat_config has no internal locking: share one only for reading, and
 * apply changes to a clone that replaces it. */
sat_config *sat_config_new(void);
sat_config *sat_config_clone(const sat_config *cfg);
void sat_config_free(sat_config *cfg); /* accepts NULL */

/* Reads an INI file over `cfg`: keys the file sets get source
 * SAT_CFG_SRC_FILE, the others keep their value. Every error is collected
 * (unknown section or key, invalid value, syntax) and appended to `errs`
 * (may be NULL). On any error nothing in `cfg` changes and SAT_EINVAL is
 * returned; SAT_EIO when the file cannot be read (one error naming the path
 * and the system error); SAT_ENOMEM when out of memory.
 *
 * Syntax: `[section]` headers, `key = value` lines, `#` or `;` comments on
 * their own line, blank lines. Values may be double-quoted, with \" and \\
 * as the only escapes; unquoted values run to the end of the line, so an
 * inline comment becomes part of the value. Duplicate keys: the last wins.
 * A UTF-8 byte order mark at the start is skipped. */
int sat_config_load_file(sat_config *cfg, const char *path, sat_config_errors *errs);

/* The same for a file's text, for tests and fuzzing. `origin` names it in
 * messages. */
int sat_config_load_text(sat_config *cfg, const char *text, size_t len, const char *origin,
                         sat_config_errors *errs);

/* Validates and sets one key from text. Returns SAT_ENOTFOUND for an unknown
 * key, SAT_EINVAL for an invalid value (also when it conflicts with another
 * key, e.g. a heartbeat padding containing the delimiter), SAT_ENOMEM; `err`
 * (may be NULL) then gives the reason. `cfg` is unchanged on error. */
int sat_config_set(sat_config *cfg, const char *name, const char *value, sat_config_source source,
                   sat_config_error *err);

/* Validates a value without storing it. Checks that involve another key
 * are left to sat_config_set and the loaders. */
int sat_config_check(const char *name, const char *value, sat_config_error *err);

/* Typed reads. The key must exist and have the matching type; a mismatch is
 * a programming error and returns 0 / false / "". */
int64_t sat_config_int(const sat_config *cfg, const char *name);
bool sat_config_bool(const sat_config *cfg, const char *name);
/* STRING, ENUM, ADDR. Borrowed: valid until the key is set again or cfg is
 * freed. */
const char *sat_config_str(const sat_config *cfg, const char *name);

/* Index of an enum key's value within its enum_names, or -1 on a mismatch. */
int sat_config_enum(const sat_config *cfg, const char *name);

sat_config_source sat_config_source_of(const sat_config *cfg, const char *name);
const char *sat_config_source_name(sat_config_source source); /* "default", "file", ... */

/* Writes the value as text into buf, "***" for a secret when `redact`
 * (an empty secret shows as ""). With `redact`, the password inside
 * cluster.redis_url shows as "***" too. An unknown key gives "". The text is
 * cut to fit `size`. Returns buf. */
const char *sat_config_text(const sat_config *cfg, const char *name, bool redact, char *buf,
                            size_t size);

/* Calls `cb` once per key whose value differs between `a` and `b`, in table
 * order, with redacted texts. Returns the number of differences. */
typedef void (*sat_config_diff_cb)(void *userdata, const sat_config_key *key, const char *old_text,
                                   const char *new_text);
size_t sat_config_diff(const sat_config *a, const sat_config *b, sat_config_diff_cb cb,
                       void *userdata);

/* Splits "host:port" or "[v6]:port" (port 0 to 65535, decimal). The host
 * is not resolved; brackets are removed from an IPv6 host. Returns 0, or
 * SAT_EINVAL (host set to "" and port to 0) for a malformed text or a host
 * longer than host_size - 1. */
int sat_config_parse_addr(const char *text, char *host, size_t host_size, int *port);

#ifdef __cplusplus
}
#endif
#endif
