/* SPDX-License-Identifier: Apache-2.0 */
/* SNMP agent: serves SATELLITE-MIB from introspection registry snapshots,
 * as an embedded master on UDP or as an AgentX subagent, and sends registry
 * events as SNMPv2c notifications. Every net-snmp call runs on one thread
 * that this module owns. */
#ifndef SAT_AGENT_SNMP_H
#define SAT_AGENT_SNMP_H

#include "satellite/log.h"
#include "satellite/registry.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Root of SATELLITE-MIB (satelliteMIB). The MIB's MODULE-IDENTITY is the
 * source of truth: tests/mib-lint.sh fails when this differs from it. */
#define SNMP_SAT_ROOT_TEXT "1.3.6.1.3.9999"
#define SNMP_SAT_ROOT      1, 3, 6, 1, 3, 9999

/* Receives one formatted line (no newline). Never contains a community or
 * passphrase. Runs on the agent thread or the caller of snmp_agent_start. */
typedef void (*snmp_log_fn)(void *userdata, sat_log_level level, const char *message);

typedef struct snmp_options {
    /* Embedded master transport, e.g. "udp:127.0.0.1:1161"; port 0 picks a
     * free port. NULL means "udp:127.0.0.1:1161". Ignored with agentx. */
    const char *listen;
    /* AgentX master socket (e.g. /var/agentx/master); non-empty runs the
     * agent as a subagent and the master's access control applies. */
    const char *agentx;
    const char *community;   /* read-only v2c community; NULL or "" disables v2c reads */
    const char *rwcommunity; /* read-write v2c community; NULL or "" disables v2c writes */
    const char *v3_user; /* SNMPv3 user with read-write access at authPriv; NULL or "" for none */
    const char *v3_auth_pass;   /* SHA passphrase, at least 8 characters */
    const char *v3_priv_pass;   /* AES passphrase, at least 8 characters */
    unsigned cache_ms;          /* maximum age of a table snapshot; 0 rebuilds on every request */
    const char *trap_sinks;     /* comma-separated host:port list; NULL or "" sends none */
    const char *trap_community; /* community of notifications; NULL means `community` */
    unsigned agentx_ping_s;     /* 0 means 5 */
    unsigned agentx_timeout_ms; /* 0 means 1000 */
    snmp_log_fn log;            /* may be NULL: lines then go nowhere */
    void *log_userdata;
} snmp_options;

typedef struct snmp_agent snmp_agent;

/* ---- create / destroy ---------------------------------------------------- */

/* Starts the agent thread over `reg` (borrowed: it must outlive the agent)
 * and waits until it listens or fails. Copies the options. Returns NULL with
 * err filled on failure (invalid option, bind failure, AgentX socket
 * missing is not a failure: the subagent keeps retrying). net-snmp keeps
 * global state, so one agent runs per process at a time: a second start
 * fails. Any thread. */
snmp_agent *snmp_agent_start(sat_registry *reg, const snmp_options *opt, char *err, size_t errsize)
    __attribute__((warn_unused_result));

/* The listening address, e.g. "udp:127.0.0.1:40123" (the chosen port when
 * port 0 was requested), or "agentx:SOCKET" for a subagent. Borrowed; valid
 * until snmp_agent_stop. */
const char *snmp_agent_address(snmp_agent *agent);

/* Stops the thread, releases net-snmp and frees the agent. NULL is fine. */
void snmp_agent_stop(snmp_agent *agent);

/* ---- internals shared by the snmp_*.c files and their unit tests ---------- */

/* Largest OID length the handler produces or accepts as an instance. */
#define SNMP_OID_MAX 32

/* SMI syntax of a MIB column. */
typedef enum snmp_syntax {
    SNMP_SYN_STRING = 0, /* DisplayString, cut to 255 octets */
    SNMP_SYN_TRUTH,      /* TruthValue: true(1), false(2) */
    SNMP_SYN_GAUGE,      /* Gauge32 */
    SNMP_SYN_UNSIGNED,   /* Unsigned32 */
    SNMP_SYN_INTEGER,    /* Integer32 */
    SNMP_SYN_COUNTER64,  /* Counter64 */
    SNMP_SYN_ENUM,       /* INTEGER with named values from 1 */
    SNMP_SYN_DATETIME,   /* DateAndTime, UTC */
} snmp_syntax;

/* What a SET on a column does. */
typedef enum snmp_write {
    SNMP_WRITE_NONE = 0,
    SNMP_WRITE_RELOAD,      /* framework reload(2) */
    SNMP_WRITE_CAPTURING,   /* statistics enable/disable */
    SNMP_WRITE_STATS_RESET, /* statistics reset(2) */
    SNMP_WRITE_INTERCEPTOR, /* interceptor enable/disable */
    SNMP_WRITE_RESOURCE,    /* resource resume(2)/close(3) */
    SNMP_WRITE_INIT_PARAM,  /* framework init parameter value */
} snmp_write;

typedef struct snmp_column {
    oid subid;
    const char *name; /* MIB object name */
    snmp_syntax syntax;
    bool accessible; /* false for index columns */
    /* Registry attribute names to try in order, separated by '|'; "@id" is
     * the object id. NULL for index and write-only columns. */
    const char *attrs;
    const char *const *enum_names; /* registry names of values 1, 2, ... (ENUM) */
    snmp_write write;
} snmp_column;

typedef enum snmp_source {
    SNMP_SRC_SINGLETON = 0, /* scalar group of a singleton type */
    SNMP_SRC_OBJECTS,       /* one row per registry object, index = registry index */
    SNMP_SRC_TRANSPORTS,    /* rows per transport from the statistics singleton */
} snmp_source;

typedef struct snmp_group {
    const char *name; /* MIB name of the group or table */
    oid prefix[4];    /* under satObjects */
    size_t prefix_len;
    bool table; /* instances prefix.1.column.index; else prefix.column.0 */
    snmp_source source;
    const char *type;           /* registry type name */
    const snmp_column *columns; /* ascending subid */
    size_t column_count;
} snmp_group;

/* One value ready for a varbind. */
typedef struct snmp_cell {
    u_char asn; /* ASN_OCTET_STR, ASN_INTEGER, ASN_GAUGE, ASN_UNSIGNED, ASN_COUNTER64 */
    size_t len; /* octets of str */
    union {
        long l;
        uint64_t u64;
        char *str;
    } v;
} snmp_cell;

typedef struct snmp_row {
    uint32_t index;   /* 0 for the row of a scalar group */
    char *id;         /* registry id ("" for a singleton) */
    snmp_cell *cells; /* column_count cells, same order as the columns */
} snmp_row;

/* Rows of one group, sorted by ascending index with no duplicates. */
typedef struct snmp_snapshot {
    snmp_row *rows;
    size_t count;
    size_t cap;
    int64_t built_ms; /* monotonic time of the build; 0 means never */
} snmp_snapshot;

/* The MIB layout: groups in ascending OID order. */
extern const snmp_group snmp_groups[];
extern const size_t snmp_group_count;

/* Compares two OIDs (negative, 0, positive), shorter prefix first. */
int snmp_oid_cmp(const oid *a, size_t alen, const oid *b, size_t blen);

/* Appends a row and takes ownership of id and cells; rows may come in any
 * order, snmp_snapshot_sort fixes it. Returns 0 or SAT_ENOMEM. */
int snmp_snapshot_add(snmp_snapshot *snap, uint32_t index, char *id, snmp_cell *cells)
    __attribute__((warn_unused_result));
/* Sorts rows by index and drops duplicate indexes (keeps the first). */
void snmp_snapshot_sort(snmp_snapshot *snap, size_t column_count);
/* Frees every row; the snapshot stays usable and empty. */
void snmp_snapshot_clear(snmp_snapshot *snap, size_t column_count);
/* The first row whose index is strictly greater than `after`, or NULL.
 * O(log n). */
const snmp_row *snmp_snapshot_upper(const snmp_snapshot *snap, uint64_t after);
/* The row with this index, or NULL. O(log n). */
const snmp_row *snmp_snapshot_find(const snmp_snapshot *snap, uint64_t index);

/* Finds the first instance of group `g` strictly greater than `rel` (an OID
 * relative to satObjects). On success writes it into out (capacity
 * SNMP_OID_MAX), sets *out_len, *row and *column and returns true. */
bool snmp_group_next(const snmp_group *g, const snmp_snapshot *snap, const oid *rel, size_t rel_len,
                     oid *out, size_t *out_len, const snmp_row **row, size_t *column);

typedef enum snmp_lookup {
    SNMP_LOOKUP_FOUND = 0,
    SNMP_LOOKUP_NO_INSTANCE, /* the object exists, the instance does not */
    SNMP_LOOKUP_NO_OBJECT,   /* not an object of the group (or not accessible) */
    SNMP_LOOKUP_NO_ACCESS,   /* a not-accessible object such as an index column */
} snmp_lookup;

/* Finds the exact instance `rel` in group `g` (GET and SET). */
snmp_lookup snmp_group_get(const snmp_group *g, const snmp_snapshot *snap, const oid *rel,
                           size_t rel_len, const snmp_row **row, size_t *column);

/* True when `rel` lies inside the subtree of group `g`. */
bool snmp_group_contains(const snmp_group *g, const oid *rel, size_t rel_len);

/* Fills cell from a registry value converted to the column's syntax.
 * value may be NULL (attribute missing): an empty string or zero results.
 * def_enum_names are the enum names of the registry attribute (may be NULL).
 * Returns 0 or SAT_ENOMEM. */
int snmp_cell_from_value(const snmp_column *col, const sat_value *value,
                         const char *const *def_enum_names, snmp_cell *cell)
    __attribute__((warn_unused_result));
void snmp_cell_clear(snmp_cell *cell);

/* Replaces snap with a fresh snapshot of group g read from the registry
 * (snmp_snapshot.c). A type the registry does not know gives no rows. On
 * error the snapshot keeps the rows built so far, still sorted. */
int snmp_snapshot_build(sat_registry *reg, const snmp_group *g, snmp_snapshot *snap)
    __attribute__((warn_unused_result));

/* Encodes ms since the Unix epoch as an 11-octet DateAndTime in UTC; 0
 * gives 8 zero octets. Returns the length. */
size_t snmp_datetime_encode(int64_t ms, unsigned char out[11]);

#endif
