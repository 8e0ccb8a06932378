/* SPDX-License-Identifier: Apache-2.0 */
/* Introspection registry: typed descriptions of engine objects (types,
 * attributes, operations), the live objects keyed by id and by a stable row
 * index, record snapshots, and the bounded ring of change events. REST, SNMP
 * and the console read only this model; the engine fills it. */
#ifndef SATELLITE_REGISTRY_H
#define SATELLITE_REGISTRY_H

#include "satellite/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values and records ------------------------------------------------ */

typedef enum sat_attr_type {
    SAT_ATTR_STRING = 0,
    SAT_ATTR_INT,       /* int64_t */
    SAT_ATTR_COUNTER,   /* uint64_t, only grows (until a reset operation) */
    SAT_ATTR_GAUGE,     /* int64_t, goes up and down */
    SAT_ATTR_BOOL,      /* bool */
    SAT_ATTR_ENUM,      /* int index into the attribute's enum_names */
    SAT_ATTR_TIMESTAMP, /* int64_t milliseconds since the Unix epoch */
    SAT_ATTR_DURATION,  /* int64_t milliseconds */
    SAT_ATTR_STRLIST,   /* list of strings, e.g. resource ids */
    SAT_ATTR_STRMAP,    /* list of key/value string pairs, e.g. headers */
    SAT_ATTR_TYPE_COUNT
} sat_attr_type;

/* Returns the schema name of a type: "string", "int", "counter", "gauge",
 * "bool", "enum", "timestamp", "duration", "string-list", "string-map". */
const char *sat_attr_type_name(sat_attr_type type);

/* One typed value. Its strings and arrays belong to the value's owner (a
 * record, or the caller after sat_value_parse); free with sat_value_clear. */
typedef struct sat_value {
    sat_attr_type type;
    union {
        char *s;    /* STRING */
        int64_t i;  /* INT, GAUGE, TIMESTAMP, DURATION */
        uint64_t u; /* COUNTER */
        bool b;     /* BOOL */
        int e;      /* ENUM */
        struct {
            char **items;
            size_t count;
        } list; /* STRLIST */
        struct {
            char **keys;
            char **values;
            size_t count;
        } map; /* STRMAP */
    } v;
} sat_value;

/* Frees what the value owns and resets it to an empty STRING. NULL is fine. */
void sat_value_clear(sat_value *value);

/* Deep-copies src into *dst (which must not own anything). */
int sat_value_copy(sat_value *dst, const sat_value *src) __attribute__((warn_unused_result));

/* Parses text as a value of `type`: decimal integers, "true"/"false",
 * an enum name from enum_names (NULL-terminated), or a plain string. Lists
 * and maps are not parsed from text (SAT_ENOTSUP). On SAT_EINVAL, errmsg
 * (may be NULL) gives the reason. */
int sat_value_parse(sat_attr_type type, const char *const *enum_names, const char *text,
                    sat_value *out, char *errmsg, size_t errsize)
    __attribute__((warn_unused_result));

/* An ordered set of named values (attribute name -> value), as read from an
 * object, passed as operation parameters or returned as a result. Setting a
 * name that exists replaces its value. Setters copy their arguments and
 * return 0 or SAT_ENOMEM; a failed setter also marks the record, so a read
 * callback may ignore return values and the registry reports the failure. */
typedef struct sat_record sat_record;

sat_record *sat_record_new(void) __attribute__((warn_unused_result));
void sat_record_free(sat_record *rec);

int sat_record_set(sat_record *rec, const char *name, const sat_value *value);
int sat_record_set_str(sat_record *rec, const char *name, const char *value);
int sat_record_set_int(sat_record *rec, const char *name, int64_t value);
int sat_record_set_u64(sat_record *rec, const char *name, uint64_t value);
int sat_record_set_gauge(sat_record *rec, const char *name, int64_t value);
int sat_record_set_bool(sat_record *rec, const char *name, bool value);
int sat_record_set_enum(sat_record *rec, const char *name, int value);
int sat_record_set_time(sat_record *rec, const char *name, int64_t ms_since_epoch);
int sat_record_set_duration(sat_record *rec, const char *name, int64_t ms);
int sat_record_set_strlist(sat_record *rec, const char *name, const char *const *items,
                           size_t count);
int sat_record_set_strmap(sat_record *rec, const char *name, const char *const *keys,
                          const char *const *values, size_t count);
/* Appends one item to a STRLIST (created empty when absent). */
int sat_record_append_str(sat_record *rec, const char *name, const char *item);
/* Appends one pair to a STRMAP (created empty when absent). */
int sat_record_append_pair(sat_record *rec, const char *name, const char *key, const char *value);

/* True when a setter failed since the record was created. */
bool sat_record_failed(const sat_record *rec);
size_t sat_record_count(const sat_record *rec);
/* Name and value at position i (insertion order); borrowed, valid until the
 * record changes or is freed. */
const char *sat_record_name_at(const sat_record *rec, size_t i);
const sat_value *sat_record_value_at(const sat_record *rec, size_t i);
/* Value by name, or NULL. Borrowed as above. */
const sat_value *sat_record_get(const sat_record *rec, const char *name);

/* ---- type descriptions ------------------------------------------------- */
/* Descriptions are static tables owned by the engine: the registry borrows
 * them, so they must outlive the registry. Callbacks receive the ctx given
 * to sat_registry_add. */

typedef struct sat_attr_def {
    const char *name; /* lowercase with '-' or '_', unique within its type */
    sat_attr_type type;
    const char *description;
    const char *const *enum_names; /* NULL-terminated; ENUM only */
    bool secret;                   /* reads return the string "***" instead */
    /* Optional check run on every key of a multi-attribute write before any
     * setter runs, so a bad value leaves everything unchanged. */
    int (*validate)(void *ctx, const sat_value *value, char *errmsg, size_t errsize);
    /* NULL means read-only. Otherwise validates (again) and applies the
     * value; returns 0 or a sat_err with errmsg filled. Runs on the caller's
     * thread: the engine hops to the owning thread itself. */
    int (*set)(void *ctx, const sat_value *value, char *errmsg, size_t errsize);
} sat_attr_def;

typedef struct sat_param_def {
    const char *name;
    sat_attr_type type;
    bool required;
    const char *description;
    const char *const *enum_names; /* NULL-terminated; ENUM only */
} sat_param_def;

typedef struct sat_op_def {
    const char *name; /* e.g. "broadcast", "add-resource" */
    const char *description;
    const sat_param_def *params;
    size_t param_count;
    const sat_attr_def *result; /* schema of the result record (set is ignored) */
    size_t result_count;
    /* Runs the operation. params were checked against the schema: every
     * required name is present, every value has the declared type, no unknown
     * names. Fills result and returns 0, or a sat_err with errmsg filled:
     * SAT_ENOTFOUND, SAT_EINVAL, SAT_ECONFLICT, SAT_ETIMEDOUT. Runs on the
     * caller's thread; the engine runs the work on the owning thread. */
    int (*invoke)(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                  size_t errsize);
} sat_op_def;

typedef struct sat_type_def {
    const char *name;   /* "broadcaster" */
    const char *plural; /* "broadcasters", the REST collection name */
    bool singleton;     /* exactly one object, added with id "" */
    const char *description;
    const sat_attr_def *attrs;
    size_t attr_count;
    const sat_op_def *ops;
    size_t op_count;
    /* Fills a consistent snapshot of the object's attributes. Required. */
    int (*read)(void *ctx, sat_record *out);
    /* Optional pair. When both are set the registry holds a reference on ctx
     * from sat_registry_add until the last in-flight callback on the object
     * ends, and sat_registry_remove never waits. When NULL, remove waits for
     * in-flight callbacks on that object to finish before it returns. */
    void (*ref)(void *ctx);
    void (*unref)(void *ctx);
    /* Metrics may label each object by id (up to a cap, then aggregate).
     * Leave false for types with many objects, such as resources. */
    bool per_object_metrics;
} sat_type_def;

/* ---- registry lifecycle ------------------------------------------------- */

typedef struct sat_registry sat_registry;
typedef struct sat_registry_object sat_registry_object;

#define SAT_REGISTRY_EVENT_RING_DEFAULT 4096

/* Creates an empty registry whose event ring keeps event_ring_size events
 * (0 means SAT_REGISTRY_EVENT_RING_DEFAULT). Returns NULL when out of memory. */
sat_registry *sat_registry_new(size_t event_ring_size) __attribute__((warn_unused_result));

/* Frees the registry. Every object must have been removed and no other
 * thread may use the registry any more. NULL is fine. */
void sat_registry_free(sat_registry *reg);

/* Registers a type (borrowed, see above). SAT_EINVAL for a malformed
 * description, SAT_ECONFLICT when the name or plural is taken. Register all
 * types before serving: types cannot be removed. Any thread. */
int sat_registry_register_type(sat_registry *reg, const sat_type_def *def)
    __attribute__((warn_unused_result));

/* ---- objects (engine side) ---------------------------------------------- */

/* Adds an object of `type` keyed by `id` (copied; "" or NULL for a
 * singleton) and assigns it the next index of that type (from 1, never
 * reused while the registry lives). Emits a "created" event. *out receives
 * the handle used to remove it or announce changes. Returns SAT_ENOTFOUND
 * (type unknown), SAT_ECONFLICT (id taken), SAT_ELIMIT (index space of
 * 2^32-1 used up), SAT_ENOMEM. Any thread. */
int sat_registry_add(sat_registry *reg, const char *type, const char *id, void *ctx,
                     sat_registry_object **out) __attribute__((warn_unused_result));

/* Removes the object and emits a "destroyed" event. New lookups stop
 * finding it at once. Without ref/unref in its type, waits until callbacks
 * already running on it return, so the caller may free ctx afterwards; do
 * not call it from a thread that such a callback is waiting on. The handle
 * is invalid afterwards. NULL is fine. */
void sat_registry_remove(sat_registry_object *obj);

/* Announces that attribute `attr` changed outside the registry (a "changed"
 * event). Any thread. */
void sat_registry_notify_changed(sat_registry_object *obj, const char *attr);

/* The object's row index and id (borrowed, lives as long as the handle). */
uint32_t sat_registry_object_index(const sat_registry_object *obj);
const char *sat_registry_object_id(const sat_registry_object *obj);

/* ---- queries (REST, SNMP, console) --------------------------------------- */

/* Number of registered types, and the description at position i (order of
 * registration), or NULL. */
size_t sat_registry_type_count(const sat_registry *reg);
const sat_type_def *sat_registry_type_at(const sat_registry *reg, size_t i);
/* By name or by plural; NULL when unknown. */
const sat_type_def *sat_registry_find_type(const sat_registry *reg, const char *name);
const sat_type_def *sat_registry_find_plural(const sat_registry *reg, const char *plural);

/* Number of live objects of a type (0 for an unknown type). */
size_t sat_registry_object_count(sat_registry *reg, const char *type);

/* One listed object: id (owned by the array) and index. */
typedef struct sat_object_ref {
    char *id;
    uint32_t index;
} sat_object_ref;

void sat_object_refs_free(sat_object_ref *refs, size_t count);

/* Lists up to `limit` objects ordered by id (byte order) whose id is
 * strictly greater than `after` (NULL: from the start) and, when `filter` is
 * not NULL, contains it as a substring. *more is true when more objects
 * follow the last one returned. The cursor lookup costs O(log n); a filter
 * scans forward from it. *out is freed with sat_object_refs_free. */
int sat_registry_list(sat_registry *reg, const char *type, const char *after, const char *filter,
                      size_t limit, sat_object_ref **out, size_t *count, bool *more)
    __attribute__((warn_unused_result));

/* Like sat_registry_list but ordered by index, starting strictly after
 * after_index (0: from the start). For SNMP walks. */
int sat_registry_list_by_index(sat_registry *reg, const char *type, uint32_t after_index,
                               size_t limit, sat_object_ref **out, size_t *count, bool *more)
    __attribute__((warn_unused_result));

/* Looks up the row index of an object by id. SAT_ENOTFOUND when absent. */
int sat_registry_index_of(sat_registry *reg, const char *type, const char *id, uint32_t *index)
    __attribute__((warn_unused_result));

/* Reads a snapshot of one object into a new record (*out, freed by the
 * caller). Secret attributes read as the string "***". SAT_ENOTFOUND for an
 * unknown type or id, or the error of the read callback. */
int sat_registry_read(sat_registry *reg, const char *type, const char *id, sat_record **out)
    __attribute__((warn_unused_result));

/* Same, by index; *id_out (may be NULL) receives a copy of the id. */
int sat_registry_read_index(sat_registry *reg, const char *type, uint32_t index, char **id_out,
                            sat_record **out) __attribute__((warn_unused_result));

/* Sets one writable attribute: checks it exists (SAT_ENOTFOUND), is
 * writable (SAT_ENOTSUP) and has the declared type (SAT_EINVAL), then calls
 * validate and set. Emits a "changed" event on success. errmsg may be NULL. */
int sat_registry_set_attr(sat_registry *reg, const char *type, const char *id, const char *attr,
                          const sat_value *value, char *errmsg, size_t errsize)
    __attribute__((warn_unused_result));

/* Same with a text value parsed with sat_value_parse for the attribute. */
int sat_registry_set_attr_text(sat_registry *reg, const char *type, const char *id,
                               const char *attr, const char *text, char *errmsg, size_t errsize)
    __attribute__((warn_unused_result));

/* Sets several attributes at once: checks every name, writability and type,
 * then runs every validate callback, and only then calls the setters in
 * record order. If a setter still fails, earlier ones stay applied. On
 * failure *bad_attr (may be NULL) points at the offending name inside
 * `values`. Emits one "changed" event per attribute set. */
int sat_registry_set_attrs(sat_registry *reg, const char *type, const char *id,
                           const sat_record *values, const char **bad_attr, char *errmsg,
                           size_t errsize) __attribute__((warn_unused_result));

/* Runs operation `op` on an object. params may be NULL (no parameters);
 * result is a record made by the caller that the operation fills. Checks
 * the object and operation exist (SAT_ENOTFOUND) and that params match the
 * schema (SAT_EINVAL), then calls the operation. Emits an "invoked" event
 * with the result code, also on failure of the operation itself. */
int sat_registry_invoke(sat_registry *reg, const char *type, const char *id, const char *op,
                        const sat_record *params, sat_record *result, char *errmsg, size_t errsize)
    __attribute__((warn_unused_result));

/* ---- events ------------------------------------------------------------- */

typedef enum sat_event_kind {
    SAT_EVENT_CREATED = 0,
    SAT_EVENT_DESTROYED,
    SAT_EVENT_CHANGED,
    SAT_EVENT_INVOKED,
} sat_event_kind;

/* "created", "destroyed", "changed", "invoked". */
const char *sat_event_kind_name(sat_event_kind kind);

typedef struct sat_event {
    uint64_t seq;    /* from 1, +1 per event, never reused */
    int64_t time_ms; /* wall clock, ms since the Unix epoch */
    sat_event_kind kind;
    const char *type; /* type name; borrowed from the type description */
    char *id;         /* object id */
    char *detail;     /* attribute or operation name, or NULL */
    int result;       /* INVOKED: the operation's sat_err; 0 otherwise */
} sat_event;

/* Frees the strings of `count` events copied out by sat_registry_events_since. */
void sat_events_clear(sat_event *events, size_t count);

/* Copies up to `max` events with seq >= `since` (use 1 or 0 for "oldest
 * kept") into out, oldest first, and returns how many. *next_seq receives
 * the seq to ask for next time. *lost receives how many events between
 * `since` and the oldest kept event fell out of the ring (0 normally).
 * Returns a negative sat_err only on SAT_ENOMEM. */
long sat_registry_events_since(sat_registry *reg, uint64_t since, sat_event *out, size_t max,
                               uint64_t *next_seq, uint64_t *lost)
    __attribute__((warn_unused_result));

/* Seq the next event will get. */
uint64_t sat_registry_next_seq(sat_registry *reg);

/* Called after each event, outside registry locks, on the thread that
 * caused it. The event is borrowed for the call. The callback may call
 * registry query functions but must not add or remove listeners. Two
 * threads may call it at once, and events may arrive slightly out of seq
 * order; use sat_registry_events_since for an ordered view. */
typedef void (*sat_registry_listener_fn)(void *userdata, const sat_event *event);

#define SAT_REGISTRY_MAX_LISTENERS 32

/* Adds a listener; *out_id identifies it for removal. SAT_ELIMIT beyond
 * SAT_REGISTRY_MAX_LISTENERS. */
int sat_registry_add_listener(sat_registry *reg, sat_registry_listener_fn fn, void *userdata,
                              int *out_id) __attribute__((warn_unused_result));

/* Removes a listener and waits until no listener call is running, so
 * userdata can be freed afterwards. Never call it from a listener. */
void sat_registry_remove_listener(sat_registry *reg, int id);

#ifdef __cplusplus
}
#endif
#endif
