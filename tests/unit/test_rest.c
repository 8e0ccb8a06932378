/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the REST admin API over a registry built here: every route and
 * every error status, driven with libcurl against 127.0.0.1. */
#include "rest.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#define TOKEN "s3cret-token"

/* ---- registry fixture ---------------------------------------------------- */

struct settings {
    int64_t level;
    uint64_t hits;
};

static struct settings the_settings;

static int settings_read(void *ctx, sat_record *out)
{
    struct settings *s = ctx;

    sat_record_set_gauge(out, "level", s->level);
    sat_record_set_u64(out, "hits", s->hits);
    sat_record_set_str(out, "password", "do-not-show");
    return 0;
}

static int level_validate(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    (void)ctx;
    if (v->v.i < 0 || v->v.i > 100) {
        snprintf(errmsg, errsize, "level must be from 0 to 100");
        return SAT_EINVAL;
    }
    return 0;
}

static int level_set(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    int rc = level_validate(ctx, v, errmsg, errsize);

    if (rc == 0)
        ((struct settings *)ctx)->level = v->v.i;
    return rc;
}

static int reset_invoke(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                        size_t errsize)
{
    struct settings *s = ctx;
    const sat_value *to = sat_record_get(params, "to");

    (void)errmsg;
    (void)errsize;
    s->hits = to ? (uint64_t)to->v.i : 0;
    sat_record_set_u64(result, "hits", s->hits);
    return 0;
}

static const sat_attr_def settings_attrs[] = {
    {.name = "level",
     .type = SAT_ATTR_GAUGE,
     .description = "a level",
     .validate = level_validate,
     .set = level_set},
    {.name = "hits", .type = SAT_ATTR_COUNTER, .description = "hits so far"},
    {.name = "password", .type = SAT_ATTR_STRING, .secret = true},
};
static const sat_param_def reset_params[] = {{.name = "to", .type = SAT_ATTR_INT}};
static const sat_attr_def reset_result[] = {{.name = "hits", .type = SAT_ATTR_COUNTER}};
static const sat_op_def settings_ops[] = {{.name = "reset",
                                           .params = reset_params,
                                           .param_count = 1,
                                           .result = reset_result,
                                           .result_count = 1,
                                           .invoke = reset_invoke}};
static const sat_type_def settings_type = {
    .name = "settings",
    .plural = "settingses",
    .singleton = true,
    .description = "test singleton",
    .attrs = settings_attrs,
    .attr_count = 3,
    .ops = settings_ops,
    .op_count = 1,
    .read = settings_read,
};

static int channel_read(void *ctx, sat_record *out)
{
    sat_record_set_gauge(out, "subscribers", (int64_t)(intptr_t)ctx);
    sat_record_append_pair(out, "headers", "Accept", "*/*");
    return 0;
}

static int kick_invoke(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                       size_t errsize)
{
    const char *uuid = sat_record_get(params, "uuid")->v.s;

    (void)ctx;
    (void)result;
    if (strcmp(uuid, "busy") == 0) {
        snprintf(errmsg, errsize, "resource is busy");
        return SAT_ECONFLICT;
    }
    if (strcmp(uuid, "slow") == 0)
        return SAT_ETIMEDOUT;
    if (strcmp(uuid, "gone") == 0)
        return SAT_ENOTFOUND;
    return 0;
}

static const sat_attr_def channel_attrs[] = {
    {.name = "subscribers", .type = SAT_ATTR_GAUGE, .description = "subscribers"},
    {.name = "headers", .type = SAT_ATTR_STRMAP},
};
static const sat_param_def kick_params[] = {
    {.name = "uuid", .type = SAT_ATTR_STRING, .required = true}};
static const sat_op_def channel_ops[] = {
    {.name = "kick", .params = kick_params, .param_count = 1, .invoke = kick_invoke}};
static const sat_type_def channel_type = {
    .name = "channel",
    .plural = "channels",
    .attrs = channel_attrs,
    .attr_count = 2,
    .ops = channel_ops,
    .op_count = 1,
    .read = channel_read,
    .per_object_metrics = true,
};

static const char *const channel_ids[] = {"/chat", "/chat/room 1", "a\"b", "\xc3\xa9t\xc3\xa9",
                                          "plus+sign"};
#define NCHANNELS 5

struct fixture {
    sat_registry *reg;
    rest_server *srv;
    sat_registry_object *objs[NCHANNELS + 1];
    char base[64];
};

static struct fixture *start_fixture(const char *token, bool auth_reads, size_t ring)
{
    struct fixture *f = calloc(1, sizeof(*f));
    rest_options opt = {.host = "127.0.0.1",
                        .token = token,
                        .auth_reads = auth_reads,
                        .max_body_bytes = 4096,
                        .sse_keepalive_ms = 200};
    char err[256];

    assert_non_null(f);
    f->reg = sat_registry_new(ring);
    assert_non_null(f->reg);
    assert_int_equal(sat_registry_register_type(f->reg, &settings_type), 0);
    assert_int_equal(sat_registry_register_type(f->reg, &channel_type), 0);
    assert_int_equal(sat_registry_add(f->reg, "settings", NULL, &the_settings, &f->objs[0]), 0);
    for (int i = 0; i < NCHANNELS; i++)
        assert_int_equal(sat_registry_add(f->reg, "channel", channel_ids[i],
                                          (void *)(intptr_t)(i + 1), &f->objs[i + 1]),
                         0);
    f->srv = rest_start(f->reg, &opt, err, sizeof(err));
    assert_non_null(f->srv);
    assert_true(rest_port(f->srv) > 0);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", rest_port(f->srv));
    return f;
}

static void stop_fixture(struct fixture *f)
{
    rest_stop(f->srv);
    for (int i = 0; i <= NCHANNELS; i++)
        sat_registry_remove(f->objs[i]);
    sat_registry_free(f->reg);
    free(f);
}

/* ---- HTTP helper ------------------------------------------------------- */

struct response {
    long status;
    char body[65536];
    size_t len;
    char allow[128];
    bool www_auth;
    size_t stop_after; /* abort the transfer once this many bytes arrived */
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct response *r = ud;
    size_t len = size * n, room = sizeof(r->body) - 1 - r->len;

    memcpy(r->body + r->len, data, len < room ? len : room);
    r->len += len < room ? len : room;
    r->body[r->len] = '\0';
    if (r->stop_after && r->len >= r->stop_after)
        return 0;
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct response *r = ud;
    size_t len = size * n;

    if (len > 7 && strncasecmp(data, "Allow: ", 7) == 0)
        snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(len - 9), data + 7);
    if (len > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0)
        r->www_auth = true;
    return len;
}

/* Sends one request; body NULL sends none. ctype NULL means JSON. */
static void http(const struct fixture *f, const char *method, const char *path, const char *body,
                 const char *ctype, const char *token, const char *extra_header, struct response *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], line[256];

    assert_non_null(c);
    r->len = 0;
    r->body[0] = '\0';
    r->allow[0] = '\0';
    r->www_auth = false;
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        snprintf(line, sizeof(line), "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, line);
    }
    if (token) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
    }
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static json_t *body_json(const struct response *r)
{
    json_error_t err;
    json_t *j = json_loads(r->body, 0, &err);

    assert_non_null(j);
    return j;
}

static const char *error_code(const struct response *r, char *buf, size_t size)
{
    json_t *j = body_json(r);

    snprintf(buf, size, "%s",
             json_string_value(json_object_get(json_object_get(j, "error"), "code")));
    json_decref(j);
    return buf;
}

static int setup(void **state)
{
    *state = start_fixture(TOKEN, false, 16);
    return 0;
}

static int teardown(void **state)
{
    stop_fixture(*state);
    return 0;
}

static struct response resp;

/* ---- tests ---------------------------------------------------------------- */

static void test_types_schema(void **state)
{
    json_t *j, *types;

    http(*state, "GET", "/api/v1", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    j = body_json(&resp);
    types = json_object_get(j, "types");
    assert_int_equal(json_array_size(types), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(types, 1), "plural")),
                        "channels");
    json_decref(j);
}

static void test_list_paged_by_id(void **state)
{
    static const char *sorted[] = {"/chat", "/chat/room 1", "a\"b", "plus+sign",
                                   "\xc3\xa9t\xc3\xa9"};
    char path[256], *cursor = NULL, *escaped;
    size_t seen = 0;
    json_t *j, *items;

    for (int page = 0; page < 3; page++) {
        CURL *c = curl_easy_init();

        escaped = cursor ? curl_easy_escape(c, cursor, 0) : NULL;
        snprintf(path, sizeof(path), "/api/v1/channels?limit=2%s%s", escaped ? "&cursor=" : "",
                 escaped ? escaped : "");
        curl_free(escaped);
        curl_easy_cleanup(c);
        http(*state, "GET", path, NULL, NULL, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        j = body_json(&resp);
        items = json_object_get(j, "items");
        for (size_t i = 0; i < json_array_size(items); i++)
            assert_string_equal(json_string_value(json_object_get(json_array_get(items, i), "id")),
                                sorted[seen + i]);
        seen += json_array_size(items);
        free(cursor);
        cursor = json_is_string(json_object_get(j, "next_cursor"))
                     ? strdup(json_string_value(json_object_get(j, "next_cursor")))
                     : NULL;
        json_decref(j);
    }
    assert_int_equal(seen, NCHANNELS);
    assert_null(cursor);

    http(*state, "GET", "/api/v1/channels?filter=chat", NULL, NULL, NULL, NULL, &resp);
    j = body_json(&resp);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);
    http(*state, "GET", "/api/v1/channels?limit=0", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 400);
    http(*state, "GET", "/api/v1/channels?limit=1001", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 400);
}

static void test_read_percent_encoded_ids(void **state)
{
    static const struct {
        const char *path;
        long status;
        const char *id;
    } cases[] = {
        {"/api/v1/channels/%2Fchat", 200, "/chat"},
        {"/api/v1/channels/%2Fchat%2Froom%201", 200, "/chat/room 1"},
        {"/api/v1/channels/a%22b", 200, "a\"b"},
        {"/api/v1/channels/%C3%A9t%C3%A9", 200, "\xc3\xa9t\xc3\xa9"},
        {"/api/v1/channels/plus+sign", 200, "plus+sign"},
        {"/api/v1/channels/%252Fchat", 404, NULL}, /* decoded once: "%2Fchat" */
        {"/api/v1/channels/%2fchat/", 200, "/chat"},
        {"/api/v1/channels/%ZZ", 400, NULL},
        {"/api/v1/channels/%2", 400, NULL},
        {"/api/v1/channels/a%00b", 400, NULL},
        {"/api/v1/channels/nope", 404, NULL},
        {"/api/v1/nothings", 404, NULL},
        {"/api/v1/channels/a/kick/extra", 404, NULL},
        {"/elsewhere", 404, NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http(*state, "GET", cases[i].path, NULL, NULL, NULL, NULL, &resp);
        assert_int_equal(resp.status, cases[i].status);
        if (cases[i].id) {
            json_t *j = body_json(&resp);

            assert_string_equal(json_string_value(json_object_get(j, "id")), cases[i].id);
            json_decref(j);
        }
    }
}

static void test_singleton_masks_secret(void **state)
{
    json_t *j, *attrs;

    http(*state, "GET", "/api/v1/settings", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    j = body_json(&resp);
    attrs = json_object_get(j, "attributes");
    assert_string_equal(json_string_value(json_object_get(attrs, "password")), "***");
    assert_null(strstr(resp.body, "do-not-show"));
    json_decref(j);
}

static void test_patch_auth_and_validation(void **state)
{
    char code[64];

    the_settings.level = 1;
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":5}", NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 401);
    assert_true(resp.www_auth);
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":5}", NULL, "wrong", NULL, &resp);
    assert_int_equal(resp.status, 401);
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 400);
    assert_non_null(strstr(resp.body, "line 1 column"));
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":5}", "text/plain", TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 415);
    assert_string_equal(error_code(&resp, code, sizeof(code)), "unsupported-media-type");
    http(*state, "PATCH", "/api/v1/settings", "{\"hits\":5}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
    http(*state, "PATCH", "/api/v1/settings", "{\"bogus\":5}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":\"5\"}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":500}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
    assert_non_null(strstr(resp.body, "level must be from 0 to 100"));
    assert_int_equal(the_settings.level, 1);
    http(*state, "PATCH", "/api/v1/settings", "{\"level\":5}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(the_settings.level, 5);
    http(*state, "PATCH", "/api/v1/channels/%2Fchat", "{\"subscribers\":5}", NULL, TOKEN, NULL,
         &resp);
    assert_int_equal(resp.status, 422);
    http(*state, "PATCH", "/api/v1/channels/nope", "{\"subscribers\":5}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
}

static void test_body_too_large(void **state)
{
    char *big = malloc(8192);

    assert_non_null(big);
    memset(big, ' ', 8191);
    big[0] = '{';
    big[8189] = '}';
    big[8191] = '\0';
    http(*state, "PATCH", "/api/v1/settings", big, NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 413);
    free(big);
}

static void test_operations(void **state)
{
    json_t *j;

    the_settings.hits = 9;
    http(*state, "POST", "/api/v1/settings/reset", "", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(the_settings.hits, 0);
    http(*state, "POST", "/api/v1/settings/reset", "{\"to\":4}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 200);
    j = body_json(&resp);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "hits")), 4);
    json_decref(j);
    http(*state, "POST", "/api/v1/settings/reset", "{\"to\":\"x\"}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
    http(*state, "POST", "/api/v1/channels/%2Fchat/kick", "{}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 422);
    http(*state, "POST", "/api/v1/channels/%2Fchat/kick", "{\"uuid\":\"ok\"}", NULL, TOKEN, NULL,
         &resp);
    assert_int_equal(resp.status, 200);
    http(*state, "POST", "/api/v1/channels/%2Fchat/kick", "{\"uuid\":\"busy\"}", NULL, TOKEN, NULL,
         &resp);
    assert_int_equal(resp.status, 409);
    http(*state, "POST", "/api/v1/channels/%2Fchat/kick", "{\"uuid\":\"slow\"}", NULL, TOKEN, NULL,
         &resp);
    assert_int_equal(resp.status, 503);
    http(*state, "POST", "/api/v1/channels/%2Fchat/kick", "{\"uuid\":\"gone\"}", NULL, TOKEN, NULL,
         &resp);
    assert_int_equal(resp.status, 404);
    http(*state, "POST", "/api/v1/channels/%2Fchat/nope", "{}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 404);
    http(*state, "POST", "/api/v1/channels/nope/kick", "{\"uuid\":\"ok\"}", NULL, TOKEN, NULL,
         &resp);
    assert_int_equal(resp.status, 404);
    http(*state, "POST", "/api/v1/channels/%2Fchat/kick", "[1]", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 400);
}

static void test_wrong_method_allow(void **state)
{
    http(*state, "GET", "/api/v1/settings/reset", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 405);
    assert_string_equal(resp.allow, "POST");
    http(*state, "DELETE", "/api/v1/channels/%2Fchat", NULL, NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 405);
    assert_string_equal(resp.allow, "GET, HEAD, PATCH");
    http(*state, "POST", "/api/v1/channels", "{}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 405);
}

static void test_writes_disabled_without_token(void **state)
{
    struct fixture *f = start_fixture(NULL, false, 16);

    (void)state;
    http(f, "PATCH", "/api/v1/settings", "{\"level\":5}", NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 403);
    http(f, "GET", "/api/v1/settings", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    stop_fixture(f);
}

static void test_auth_reads(void **state)
{
    struct fixture *f = start_fixture(TOKEN, true, 16);

    (void)state;
    http(f, "GET", "/api/v1", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 401);
    http(f, "GET", "/metrics", NULL, NULL, "nope", NULL, &resp);
    assert_int_equal(resp.status, 401);
    http(f, "GET", "/api/v1", NULL, NULL, TOKEN, NULL, &resp);
    assert_int_equal(resp.status, 200);
    stop_fixture(f);
}

static void test_metrics_text(void **state)
{
    http(*state, "GET", "/metrics", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body, "satellite_objects{type=\"channel\"} 5\n"));
    assert_non_null(strstr(resp.body, "# TYPE satellite_settings_hits counter\n"));
    assert_non_null(strstr(resp.body, "satellite_channel_subscribers{id=\"a\\\"b\"} 3\n"));
    assert_null(strstr(resp.body, "password"));
}

static void test_events_stream_resume(void **state)
{
    struct fixture *f = *state;

    /* The ring keeps 16 events and the fixture made 6, so since=0 lists
     * every "created" event. */
    resp.stop_after = 200;
    http(f, "GET", "/api/v1/events?since=0", NULL, NULL, NULL, NULL, &resp);
    resp.stop_after = 0;
    assert_non_null(strstr(resp.body, "id: 1\nevent: created\ndata: {"));

    resp.stop_after = 60;
    http(f, "GET", "/api/v1/events", NULL, NULL, NULL, "Last-Event-ID: 5", &resp);
    resp.stop_after = 0;
    assert_non_null(strstr(resp.body, "id: 6\nevent: created"));
    assert_null(strstr(resp.body, "id: 5\n"));

    /* A quiet stream gets a keep-alive comment (200 ms in this fixture). */
    resp.stop_after = 40;
    http(f, "GET", "/api/v1/events", NULL, NULL, NULL, NULL, &resp);
    resp.stop_after = 0;
    assert_non_null(strstr(resp.body, ": keep-alive\n"));

    http(f, "GET", "/api/v1/events?since=x", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 400);
}

static void test_events_lost(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < 20; i++)
        sat_registry_notify_changed(f->objs[1], "subscribers");
    resp.stop_after = 80;
    http(f, "GET", "/api/v1/events?since=0", NULL, NULL, NULL, NULL, &resp);
    resp.stop_after = 0;
    assert_non_null(strstr(resp.body, "event: lost\n"));
}

/* Every path in the served OpenAPI document responds to its declared methods
 * with neither 404 nor 405. */
static void test_openapi_matches_routes(void **state)
{
    json_t *doc, *paths, *item, *op;
    const char *path, *method;
    char concrete[256], upper[16];

    http(*state, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    doc = body_json(&resp);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    paths = json_object_get(doc, "paths");
    assert_non_null(json_object_get(paths, "/api/v1/channels/{id}/kick"));
    assert_non_null(json_object_get(paths, "/api/v1/settings/reset"));
    json_object_foreach(paths, path, item)
    {
        const char *brace = strstr(path, "{id}");

        if (strcmp(path, "/api/v1/events") == 0)
            continue; /* a stream, covered above */
        if (brace)
            snprintf(concrete, sizeof(concrete), "%.*s%%2Fchat%s", (int)(brace - path), path,
                     brace + 4);
        else
            snprintf(concrete, sizeof(concrete), "%s", path);
        json_object_foreach(item, method, op)
        {
            if (strcmp(method, "parameters") == 0)
                continue;
            snprintf(upper, sizeof(upper), "%s", method);
            for (char *p = upper; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            http(*state, upper, concrete, strcmp(upper, "GET") ? "{}" : NULL, NULL, TOKEN, NULL,
                 &resp);
            assert_int_not_equal(resp.status, 404);
            assert_int_not_equal(resp.status, 405);
        }
    }
    json_decref(doc);
}

static void test_start_rejects_bad_host(void **state)
{
    rest_options opt = {.host = "not-an-address"};
    char err[256] = "";

    (void)state;
    assert_null(rest_start(((struct fixture *)*state)->reg, &opt, err, sizeof(err)));
    assert_non_null(strstr(err, "not-an-address"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_types_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paged_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_percent_encoded_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_singleton_masks_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_auth_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_method_allow, setup, teardown),
        cmocka_unit_test(test_writes_disabled_without_token),
        cmocka_unit_test(test_auth_reads),
        cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_stream_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi_matches_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_rejects_bad_host, setup, teardown),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
