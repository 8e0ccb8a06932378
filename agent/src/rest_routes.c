/* SPDX-License-Identifier: Apache-2.0 */
/* REST routes, resolved from the registry's types: type listing, object
 * listing and reads, PATCH of writable attributes, operations, and the
 * dispatch to the event stream, metrics and OpenAPI document. */
#include "rest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_PREFIX   "/api/v1"
#define MAX_SEGMENTS 3
#define LIST_DEFAULT 100
#define LIST_MAX     1000

enum route_kind { R_TYPES, R_OPENAPI, R_EVENTS, R_METRICS, R_LIST, R_OBJECT, R_OP };

struct route {
    enum route_kind kind;
    const sat_type_def *def;
    const sat_op_def *op;
    char *seg[MAX_SEGMENTS]; /* decoded path segments after /api/v1 */
    int nseg;
    const char *id; /* object id (points into seg, or "" for a singleton) */
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes raw[0..len) into a new string, exactly once. Returns NULL
 * and sets *bad for an invalid escape or an encoded NUL byte. */
static char *percent_decode(const char *raw, size_t len, bool *bad)
{
    char *out = malloc(len + 1);
    size_t o = 0;

    *bad = false;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;

        if (raw[i] != '%') {
            out[o++] = raw[i];
            continue;
        }
        hi = i + 2 < len ? hexval(raw[i + 1]) : -1;
        lo = i + 2 < len ? hexval(raw[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            *bad = true;
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

static void route_clear(struct route *rt)
{
    for (int i = 0; i < rt->nseg; i++)
        free(rt->seg[i]);
    rt->nseg = 0;
}

/* Splits the part of the path after /api/v1 into decoded segments.
 * Returns 0, 400 (bad escape) or 404 (too many or empty segments). */
static unsigned split_path(const char *rest, struct route *rt)
{
    while (*rest == '/' && rest[1] != '\0') {
        const char *start = rest + 1;
        const char *end = strchr(start, '/');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        bool bad;

        if (rt->nseg == MAX_SEGMENTS || len == 0)
            return 404;
        rt->seg[rt->nseg] = percent_decode(start, len, &bad);
        if (!rt->seg[rt->nseg])
            return bad ? 400 : 500;
        rt->nseg++;
        rest = start + len;
    }
    return *rest == '\0' || strcmp(rest, "/") == 0 ? 0 : 404;
}

static const sat_op_def *find_op(const sat_type_def *def, const char *name)
{
    for (size_t i = 0; i < def->op_count; i++) {
        if (strcmp(def->ops[i].name, name) == 0)
            return &def->ops[i];
    }
    return NULL;
}

static const sat_type_def *find_singleton(sat_registry *reg, const char *name)
{
    const sat_type_def *def = sat_registry_find_type(reg, name);

    return def && def->singleton ? def : NULL;
}

static const sat_type_def *find_collection(sat_registry *reg, const char *plural)
{
    const sat_type_def *def = sat_registry_find_plural(reg, plural);

    return def && !def->singleton ? def : NULL;
}

/* Resolves the decoded segments to a route. Returns 0 or 404 with msg. */
static unsigned resolve_api(sat_registry *reg, struct route *rt, const char **msg)
{
    const char *op = NULL;

    *msg = "no such route";
    if (rt->nseg == 0) {
        rt->kind = R_TYPES;
        return 0;
    }
    if (rt->nseg == 1 && strcmp(rt->seg[0], "events") == 0) {
        rt->kind = R_EVENTS;
        return 0;
    }
    if (rt->nseg == 1 && strcmp(rt->seg[0], "openapi.json") == 0) {
        rt->kind = R_OPENAPI;
        return 0;
    }
    if ((rt->def = find_singleton(reg, rt->seg[0]))) {
        rt->id = "";
        rt->kind = rt->nseg == 1 ? R_OBJECT : R_OP;
        op = rt->nseg == 2 ? rt->seg[1] : NULL;
        if (rt->nseg > 2)
            return 404;
    } else if ((rt->def = find_collection(reg, rt->seg[0]))) {
        rt->kind = rt->nseg == 1 ? R_LIST : rt->nseg == 2 ? R_OBJECT : R_OP;
        rt->id = rt->nseg >= 2 ? rt->seg[1] : NULL;
        op = rt->nseg == 3 ? rt->seg[2] : NULL;
    } else {
        *msg = "unknown type";
        return 404;
    }
    if (rt->kind == R_OP && !(rt->op = find_op(rt->def, op))) {
        *msg = "unknown operation";
        return 404;
    }
    return 0;
}

static const char *allowed_methods(enum route_kind kind)
{
    switch (kind) {
    case R_OBJECT:
        return "GET, HEAD, PATCH";
    case R_OP:
        return "POST";
    default:
        return "GET, HEAD";
    }
}

static bool method_allowed(enum route_kind kind, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (kind == R_OBJECT)
        return get || strcmp(method, "PATCH") == 0;
    if (kind == R_OP)
        return strcmp(method, "POST") == 0;
    return get;
}

/* Maps a registry error to an HTTP status. */
static unsigned status_of(int err)
{
    switch (err) {
    case SAT_ENOTFOUND:
    case SAT_ECLOSED:
        return 404;
    case SAT_EINVAL:
    case SAT_ENOTSUP:
        return 422;
    case SAT_ECONFLICT:
    case SAT_ELIMIT:
        return 409;
    case SAT_ETIMEDOUT:
        return 503;
    default:
        return 500;
    }
}

static void reply_sat_error(rest_reply *reply, int err, const char *msg)
{
    rest_reply_error(reply, status_of(err), msg && msg[0] ? msg : sat_strerror(err));
}

/* ---- query arguments ----------------------------------------------------- */

/* Decoded copy of a query argument (NULL when absent); *bad on a bad escape. */
static char *query_arg(struct MHD_Connection *conn, const char *name, bool *bad)
{
    const char *raw = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);

    *bad = false;
    return raw ? percent_decode(raw, strlen(raw), bad) : NULL;
}

/* Parses a decimal in [min, max]; false otherwise. */
static bool parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;

    if (!text || text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

/* ---- handlers ------------------------------------------------------------ */

static void handle_list(rest_call *call, const struct route *rt, rest_reply *reply)
{
    sat_registry *reg = call->srv->reg;
    char *cursor = NULL, *filter = NULL, *limit_text = NULL;
    sat_object_ref *refs = NULL;
    size_t count = 0;
    uint64_t limit = LIST_DEFAULT;
    bool bad1, bad2, bad3, more = false;
    json_t *items;
    int rc;

    cursor = query_arg(call->conn, "cursor", &bad1);
    filter = query_arg(call->conn, "filter", &bad2);
    limit_text = query_arg(call->conn, "limit", &bad3);
    if (bad1 || bad2 || bad3) {
        rest_reply_error(reply, 400, "invalid percent escape in a query argument");
        goto out;
    }
    if (limit_text && !parse_u64(limit_text, 1, LIST_MAX, &limit)) {
        rest_reply_error(reply, 400, "limit must be an integer from 1 to 1000");
        goto out;
    }
    rc = sat_registry_list(reg, rt->def->name, cursor, filter, (size_t)limit, &refs, &count, &more);
    if (rc != SAT_OK) {
        reply_sat_error(reply, rc, NULL);
        goto out;
    }

    items = json_array();
    for (size_t i = 0; items && i < count; i++) {
        sat_record *rec = NULL;

        /* An object removed since the listing is skipped, not an error. */
        if (sat_registry_read(reg, rt->def->name, refs[i].id, &rec) == SAT_OK)
            json_array_append_new(items, rest_object_json(rt->def, refs[i].id, refs[i].index, rec));
        sat_record_free(rec);
    }
    rest_reply_json(reply, 200,
                    json_pack("{s:o, s:o, s:I}", "items", items, "next_cursor",
                              more && count ? json_string(refs[count - 1].id) : json_null(),
                              "total", (json_int_t)sat_registry_object_count(reg, rt->def->name)));
out:
    sat_object_refs_free(refs, count);
    free(cursor);
    free(filter);
    free(limit_text);
}

static void handle_read(rest_call *call, const struct route *rt, rest_reply *reply)
{
    sat_registry *reg = call->srv->reg;
    sat_record *rec = NULL;
    uint32_t index = 0;
    int rc;

    rc = sat_registry_read(reg, rt->def->name, rt->id, &rec);
    if (rc != SAT_OK) {
        reply_sat_error(reply, rc, rc == SAT_ENOTFOUND ? "no object with that id" : NULL);
        return;
    }
    /* The object may go between the two calls; its index then reads 0. */
    if (sat_registry_index_of(reg, rt->def->name, rt->id, &index) != SAT_OK)
        index = 0;
    rest_reply_json(reply, 200, rest_object_json(rt->def, rt->id, index, rec));
    sat_record_free(rec);
}

/* Parses the body as a JSON object ("" counts as {}). On failure fills
 * reply (400) and returns NULL. */
static json_t *parse_body(const rest_call *call, rest_reply *reply)
{
    json_error_t jerr;
    json_t *json;
    char msg[320];

    if (call->body_len == 0)
        return json_object();
    json = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        rest_reply_error(reply, 400, msg);
        return NULL;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        rest_reply_error(reply, 400, "the request body must be a JSON object");
        return NULL;
    }
    return json;
}

static const sat_attr_def *find_attr(const sat_type_def *def, const char *name)
{
    for (size_t i = 0; i < def->attr_count; i++) {
        if (strcmp(def->attrs[i].name, name) == 0)
            return &def->attrs[i];
    }
    return NULL;
}

/* Converts the PATCH body to a typed record; on failure fills reply (422). */
static sat_record *patch_values(const sat_type_def *def, json_t *body, rest_reply *reply)
{
    sat_record *values = sat_record_new();
    char msg[256], why[128];
    const char *key;
    json_t *item;

    json_object_foreach(body, key, item)
    {
        const sat_attr_def *a = find_attr(def, key);
        sat_value v;

        if (!a || !a->set) {
            snprintf(msg, sizeof(msg), a ? "attribute '%s' is read-only" : "unknown attribute '%s'",
                     key);
            goto fail;
        }
        if (rest_json_to_value(item, a->type, a->enum_names, &v, why, sizeof(why)) != SAT_OK) {
            snprintf(msg, sizeof(msg), "attribute '%s': %s", key, why);
            goto fail;
        }
        if (!values || sat_record_set(values, key, &v) != SAT_OK) {
            sat_value_clear(&v);
            snprintf(msg, sizeof(msg), "out of memory");
            goto fail;
        }
        sat_value_clear(&v);
    }
    return values;
fail:
    sat_record_free(values);
    rest_reply_error(reply, 422, msg);
    return NULL;
}

/* True for names whose values are credentials, or may be: operation
 * parameters have no secret flag, and a "value" parameter can carry any
 * configuration key, secrets included. */
static bool name_looks_secret(const char *name)
{
    return strcmp(name, "value") == 0 || strstr(name, "pass") != NULL ||
           strstr(name, "token") != NULL || strstr(name, "secret") != NULL ||
           strstr(name, "community") != NULL;
}

/* Describes what a write changed, for the admin log: "a=1 b=***". An
 * attribute is masked when its type marks it secret, when `current` (the
 * object read back after the write, may be NULL) shows it as "***", or,
 * without a schema, when its name looks like a credential. */
static void describe_values(const sat_record *rec, const sat_attr_def *attrs, size_t attr_count,
                            const sat_record *current, char *buf, size_t size)
{
    size_t n = sat_record_count(rec), used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        const char *name = sat_record_name_at(rec, i);
        const sat_value *now = current ? sat_record_get(current, name) : NULL;
        bool secret = attrs == NULL && name_looks_secret(name);
        char *text = NULL;
        json_t *j;

        for (size_t a = 0; a < attr_count; a++)
            secret |= strcmp(attrs[a].name, name) == 0 && attrs[a].secret;
        /* A value that reads back redacted, whole or in part (a URL's
         * password), is masked whole here. */
        secret |= now != NULL && now->type == SAT_ATTR_STRING && now->v.s != NULL &&
                  strstr(now->v.s, "***") != NULL;
        j = rest_value_to_json(sat_record_value_at(rec, i), NULL);
        text = secret ? NULL : json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(j);
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%.80s", i ? " " : "", name,
                                 secret ? "***"
                                 : text ? text
                                        : "?");
        free(text);
    }
}

static void handle_patch(rest_call *call, const struct route *rt, rest_reply *reply)
{
    sat_record *values = NULL;
    const char *bad = NULL;
    char msg[256] = "", changed[512];
    json_t *body;
    int rc;

    body = parse_body(call, reply);
    if (!body)
        return;
    if (json_object_size(body) == 0) {
        rest_reply_error(reply, 422, "the body names no attribute to change");
        goto out;
    }
    values = patch_values(rt->def, body, reply);
    if (!values)
        goto out;
    rc = sat_registry_set_attrs(call->srv->reg, rt->def->name, rt->id, values, &bad, msg,
                                sizeof(msg));
    if (rc != SAT_OK) {
        /* A failure tied to one attribute is a validation error even when
         * the code is not-found (unknown attribute). */
        rest_reply_error(reply, bad && rc != SAT_ECONFLICT ? 422 : status_of(rc),
                         msg[0] ? msg : sat_strerror(rc));
        goto out;
    }
    {
        sat_record *current = NULL;

        if (sat_registry_read(call->srv->reg, rt->def->name, rt->id, &current) != SAT_OK)
            current = NULL;
        describe_values(values, rt->def->attrs, rt->def->attr_count, current, changed,
                        sizeof(changed));
        sat_record_free(current);
    }
    rest_log(call->srv, SAT_LOG_INFO, "admin write peer=%s method=PATCH route=%s set %s",
             call->peer, call->url, changed);
    handle_read(call, rt, reply);
out:
    sat_record_free(values);
    json_decref(body);
}

static const sat_param_def *find_param(const sat_op_def *op, const char *name)
{
    for (size_t i = 0; i < op->param_count; i++) {
        if (strcmp(op->params[i].name, name) == 0)
            return &op->params[i];
    }
    return NULL;
}

/* Converts the POST body to typed parameters; on failure fills reply. */
static sat_record *op_params(const sat_op_def *op, json_t *body, rest_reply *reply)
{
    sat_record *params = sat_record_new();
    char msg[256], why[128];
    const char *key;
    json_t *item;

    json_object_foreach(body, key, item)
    {
        const sat_param_def *p = find_param(op, key);
        sat_value v;

        if (!p) {
            snprintf(msg, sizeof(msg), "unknown parameter '%s'", key);
            goto fail;
        }
        if (rest_json_to_value(item, p->type, p->enum_names, &v, why, sizeof(why)) != SAT_OK) {
            snprintf(msg, sizeof(msg), "parameter '%s': %s", key, why);
            goto fail;
        }
        if (!params || sat_record_set(params, key, &v) != SAT_OK) {
            sat_value_clear(&v);
            snprintf(msg, sizeof(msg), "out of memory");
            goto fail;
        }
        sat_value_clear(&v);
    }
    return params;
fail:
    sat_record_free(params);
    rest_reply_error(reply, 422, msg);
    return NULL;
}

static void handle_op(rest_call *call, const struct route *rt, rest_reply *reply)
{
    sat_record *params = NULL, *result = NULL;
    char msg[256] = "", described[512];
    json_t *body;
    int rc;

    body = parse_body(call, reply);
    if (!body)
        return;
    params = op_params(rt->op, body, reply);
    if (!params)
        goto out;
    result = sat_record_new();
    if (!result) {
        rest_reply_error(reply, 500, "out of memory");
        goto out;
    }
    rc = sat_registry_invoke(call->srv->reg, rt->def->name, rt->id, rt->op->name, params, result,
                             msg, sizeof(msg));
    describe_values(params, NULL, 0, NULL, described, sizeof(described));
    rest_log(call->srv, SAT_LOG_INFO,
             "admin write peer=%s method=POST route=%s op=%s result=%s params: %s", call->peer,
             call->url, rt->op->name, sat_errname(rc), described);
    if (rc != SAT_OK) {
        reply_sat_error(reply, rc, msg);
        goto out;
    }
    rest_reply_json(reply, 200,
                    json_pack("{s:s, s:o}", "status", "ok", "result",
                              rest_record_json(result, rt->op->result, rt->op->result_count)));
out:
    sat_record_free(params);
    sat_record_free(result);
    json_decref(body);
}

/* First seq to stream: after Last-Event-ID or ?since= (both name the last
 * event the client has), else only events from now on. */
static bool stream_start(rest_call *call, uint64_t *since)
{
    const char *last = MHD_lookup_connection_value(call->conn, MHD_HEADER_KIND, "Last-Event-ID");
    const char *query = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, "since");
    const char *text = last ? last : query;
    uint64_t seq;

    if (!text) {
        *since = sat_registry_next_seq(call->srv->reg);
        return true;
    }
    if (!parse_u64(text, 0, UINT64_MAX - 1, &seq))
        return false;
    *since = seq + 1;
    return true;
}

static int handle_events(rest_call *call, rest_reply *reply)
{
    struct MHD_Response *resp;
    uint64_t since;

    if (!stream_start(call, &since)) {
        rest_reply_error(reply, 400, "Last-Event-ID and since must be event sequence numbers");
        return REST_ROUTED_REPLY;
    }
    resp = rest_sse_response(call->srv, since);
    if (!resp) {
        rest_reply_error(reply, 500, "out of memory");
        return REST_ROUTED_REPLY;
    }
    call->stream_result = MHD_queue_response(call->conn, 200, resp);
    MHD_destroy_response(resp);
    return REST_ROUTED_STREAM;
}

static void handle_metrics(rest_call *call, rest_reply *reply)
{
    char *text = rest_metrics_text(call->srv);

    if (!text) {
        rest_reply_error(reply, 500, "out of memory");
        return;
    }
    reply->status = 200;
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply->body = text;
}

/* Checks Content-Type on requests with a body; 0 or 415. */
static unsigned check_content_type(const rest_call *call)
{
    const char *ct;

    if (call->body_len == 0)
        return 0;
    ct = MHD_lookup_connection_value(call->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
        return 415;
    return 0;
}

static int dispatch(rest_call *call, const struct route *rt, rest_reply *reply)
{
    bool get = strcmp(call->method, "GET") == 0 || strcmp(call->method, "HEAD") == 0;

    if (!method_allowed(rt->kind, call->method)) {
        snprintf(reply->allow, sizeof(reply->allow), "%s", allowed_methods(rt->kind));
        rest_reply_error(reply, 405, "method not allowed on this route");
        return REST_ROUTED_REPLY;
    }
    if (!get && check_content_type(call)) {
        rest_reply_error(reply, 415, "request bodies must be application/json");
        return REST_ROUTED_REPLY;
    }
    switch (rt->kind) {
    case R_TYPES:
        rest_reply_json(reply, 200, rest_types_json(call->srv->reg));
        break;
    case R_OPENAPI:
        rest_reply_json(reply, 200, rest_openapi_json(call->srv->reg));
        break;
    case R_EVENTS:
        return handle_events(call, reply);
    case R_METRICS:
        handle_metrics(call, reply);
        break;
    case R_LIST:
        handle_list(call, rt, reply);
        break;
    case R_OBJECT:
        if (get)
            handle_read(call, rt, reply);
        else
            handle_patch(call, rt, reply);
        break;
    case R_OP:
        handle_op(call, rt, reply);
        break;
    }
    return REST_ROUTED_REPLY;
}

int rest_route(rest_call *call, rest_reply *reply)
{
    struct route rt = {0};
    const char *msg = "no such route";
    const char *after;
    unsigned status = 0;
    int routed = REST_ROUTED_REPLY;

    if (strcmp(call->url, "/metrics") == 0) {
        rt.kind = R_METRICS;
    } else if (strncmp(call->url, API_PREFIX, strlen(API_PREFIX)) == 0) {
        after = call->url + strlen(API_PREFIX);
        status = split_path(after, &rt);
        if (status == 400)
            msg = "invalid percent escape or encoded NUL in the path";
        if (status == 0)
            status = resolve_api(call->srv->reg, &rt, &msg);
    } else {
        status = 404;
    }
    if (status)
        rest_reply_error(reply, status, status == 500 ? "out of memory" : msg);
    else
        routed = dispatch(call, &rt, reply);
    route_clear(&rt);
    return routed;
}
