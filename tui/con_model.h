/* SPDX-License-Identifier: Apache-2.0 */
/* satconsole's model of the server: the type schemas, a snapshot of every
 * object, statistics history with rates, the registry event log and the
 * link state. A poller thread refreshes it every poll interval and at once
 * when the event-stream thread sees a registry event. */
#ifndef CON_MODEL_H
#define CON_MODEL_H

#include "con_http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CON_HISTORY    120 /* statistics samples kept per series */
#define CON_EVENTS_MAX 1000

/* Settings from flags, environment and the config file. */
typedef struct con_options {
    char url[512];
    char token[512];
    long timeout_ms;    /* per request (config key timeout_ms) */
    long poll_ms;       /* refresh interval (config key poll_ms) */
    size_t max_objects; /* objects fetched per collection (config key max_objects) */
} con_options;

typedef enum con_link {
    CON_LINK_CONNECTING = 0,
    CON_LINK_UP,
    CON_LINK_DOWN, /* server unreachable: retrying */
    CON_LINK_AUTH, /* reads rejected with 401 or 403 */
} con_link;

typedef enum con_token_state {
    CON_TOKEN_NONE = 0, /* no token configured: read-only */
    CON_TOKEN_UNCHECKED,
    CON_TOKEN_OK,
    CON_TOKEN_REJECTED, /* the server answered 401 or 403 to it */
} con_token_state;

/* One numeric statistics attribute over time. */
typedef struct con_series {
    char name[96];
    bool counter;
    double value;             /* latest value */
    double rate;              /* per second, counters only */
    double hist[CON_HISTORY]; /* rates for counters, values for gauges */
    size_t count;
} con_series;

typedef struct con_event {
    uint64_t seq;
    int64_t time_ms;
    char kind[16];
    char type[48];
    char id[256]; /* raw id as sent; escape before drawing */
    char detail[96];
    char result[32];
} con_event;

/* Everything the views draw. Read it only between con_model_lock and
 * con_model_unlock. */
typedef struct con_snapshot {
    json_t *types;   /* array of type schemas from GET /api/v1, or NULL */
    json_t *objects; /* type name -> object body (singleton) or array of them */
    json_t *totals;  /* type name -> total object count on the server */
    con_link link;
    con_token_state token;
    char message[320]; /* why the link is down, or "" */
    char token_message[320];
    bool stream_live; /* the event stream is connected */
    uint64_t generation;
    int64_t fetched_ms; /* wall clock of the last good refresh */
    con_series *series;
    size_t series_count;
    con_event events[CON_EVENTS_MAX]; /* ring */
    size_t ev_first, ev_count;
    uint64_t events_lost;
} con_snapshot;

typedef struct con_model con_model;

/* Creates a model for opt (copied). NULL when out of memory. */
con_model *con_model_new(const con_options *opt) __attribute__((warn_unused_result));
/* Stops the threads if started, then frees everything. NULL is fine. */
void con_model_free(con_model *m);

/* Starts the poller and event-stream threads. 0 or -1. */
int con_model_start(con_model *m) __attribute__((warn_unused_result));
/* Asks the poller to refresh now. Any thread. */
void con_model_refresh(con_model *m);

/* Refreshes once on the calling thread, without threads (for --once).
 * Returns 0, or -1 with the link state and message in the snapshot. */
int con_model_fetch_once(con_model *m) __attribute__((warn_unused_result));

const con_snapshot *con_model_lock(con_model *m);
void con_model_unlock(con_model *m);

/* Runs a write on the calling thread with its own HTTP handle: PATCH when
 * op is NULL, else POST .../{op}. body is consumed (may be NULL). id is
 * NULL or "" for a singleton. Refreshes the model afterwards. Returns a
 * CON_HTTP code; out holds the reply. */
int con_model_write(con_model *m, const char *type, const char *id, const char *op, json_t *body,
                    con_reply *out) __attribute__((warn_unused_result));

/* Schema helpers over snapshot->types (borrowed results, or NULL). */
const json_t *con_type(const con_snapshot *s, const char *name);
const json_t *con_type_attr(const json_t *type, const char *attr);
const json_t *con_type_op(const json_t *type, const char *op);
bool con_type_singleton(const json_t *type);
/* Attribute object of a singleton, or of the collection item with id. */
const json_t *con_object_attrs(const con_snapshot *s, const char *type, const char *id);
/* The i-th event of the ring, oldest first. */
const con_event *con_event_at(const con_snapshot *s, size_t i);
/* Series by name, or NULL. */
const con_series *con_series_find(const con_snapshot *s, const char *name);

#endif
