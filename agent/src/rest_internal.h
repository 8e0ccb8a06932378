/* SPDX-License-Identifier: Apache-2.0 */
/* Declarations shared by the REST files: the server state, JSON conversion
 * of registry values, the schema documents, metrics and the event stream. */
#ifndef SAT_AGENT_REST_INTERNAL_H
#define SAT_AGENT_REST_INTERNAL_H

#include "rest.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

struct rest_server {
    struct MHD_Daemon *daemon;
    sat_registry *reg;
    rest_options opt;          /* opt.token is NULL, so only token below stores it */
    pthread_mutex_t auth_lock; /* guards token, token_len, opt.auth_reads and
                                  opt.max_body_bytes, which rest_set_auth replaces */
    char *token;
    size_t token_len;
    int port;
    int listener_id;

    pthread_mutex_t lock; /* guards event_gen and stopping */
    pthread_cond_t wake;  /* broadcast on every registry event and on stop */
    uint64_t event_gen;
    bool stopping;
};

/* Reply being built for a plain (non-streaming) request. */
typedef struct rest_reply {
    unsigned status;
    const char *content_type; /* static string */
    char *body;               /* owned, NUL-terminated, or NULL */
    char allow[32];           /* Allow header for 405, or "" */
} rest_reply;

/* One complete request, body included, as the router sees it. */
typedef struct rest_call {
    rest_server *srv;
    struct MHD_Connection *conn;
    const char *url; /* path with percent escapes kept */
    const char *method;
    const char *body; /* NUL-terminated; "" when empty */
    size_t body_len;
    char peer[64];                 /* client "ip:port" for logs */
    enum MHD_Result stream_result; /* set when the route queued a stream */
} rest_call;

enum { REST_ROUTED_REPLY = 0, REST_ROUTED_STREAM = 1 };

/* Routes a request. Either fills reply and returns REST_ROUTED_REPLY, or
 * queues a streaming response itself and returns REST_ROUTED_STREAM. */
int rest_route(rest_call *call, rest_reply *reply);

/* Replaces the reply with {"error": {"code", "message"}} and the status. */
void rest_reply_error(rest_reply *r, unsigned status, const char *message);
/* Replaces the reply with the JSON body (consumed) and the status. */
void rest_reply_json(rest_reply *r, unsigned status, json_t *body);

/* Formats and passes one line to the log callback, if any. */
void rest_log(rest_server *srv, sat_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Converts a value to JSON; enum_names (may be NULL) turns enums into names. */
json_t *rest_value_to_json(const sat_value *value, const char *const *enum_names);

/* Converts a JSON value to a registry value of `type`. Returns 0, or
 * SAT_EINVAL with errmsg saying what was expected. */
int rest_json_to_value(const json_t *json, sat_attr_type type, const char *const *enum_names,
                       sat_value *out, char *errmsg, size_t errsize);

/* {"type", "id", "index", "attributes": {...}} for one object record. */
json_t *rest_object_json(const sat_type_def *def, const char *id, uint32_t index,
                         const sat_record *rec);

/* Record as a JSON object, enums named from `attrs` when given. */
json_t *rest_record_json(const sat_record *rec, const sat_attr_def *attrs, size_t attr_count);

/* Body of GET /api/v1: every type with its attribute and operation schemas. */
json_t *rest_types_json(sat_registry *reg);

/* OpenAPI 3.0 document for the registry. */
json_t *rest_openapi_json(sat_registry *reg);

/* Prometheus text exposition of the registry (caller frees), or NULL. */
char *rest_metrics_text(rest_server *srv);

/* Response that streams registry events from seq `since` as SSE. */
struct MHD_Response *rest_sse_response(rest_server *srv, uint64_t since);

/* Listener installed on the registry: wakes the event streams. */
void rest_sse_on_event(void *userdata, const sat_event *event);

#endif
