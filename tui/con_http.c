/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl side of satconsole: one easy handle per con_http, JSON request
 * bodies and replies, REST error bodies turned into messages, and the
 * event stream. Nothing here writes to the terminal: curl's verbose mode
 * stays off and every error goes into the reply. */
#include "con_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest reply body kept in memory. A listing page of 1000 objects stays
 * far below it. */
#define MAX_BODY_BYTES (64u * 1024 * 1024)
/* A stream that stays silent this long is dead: the server sends a
 * keep-alive comment every 15 s by default. */
#define STREAM_SILENCE_S 45L

struct con_http {
    CURL *curl;
    char *base;
    char *auth; /* "Authorization: Bearer ..." or NULL */
    long timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
};

struct body {
    char *data;
    size_t len;
    bool too_large;
};

struct stream_ctx {
    con_http_chunk_fn fn;
    void *userdata;
    atomic_bool *stop;
    struct body err; /* body of a non-2xx stream reply */
    CURL *curl;
};

con_http *con_http_new(const char *base_url, const char *token, long timeout_ms)
{
    con_http *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->curl = curl_easy_init();
    h->base = strdup(base_url);
    h->timeout_ms = timeout_ms;
    if (token && token[0] && asprintf(&h->auth, "Authorization: Bearer %s", token) < 0)
        h->auth = NULL;
    if (!h->curl || !h->base || (token && token[0] && !h->auth)) {
        con_http_free(h);
        return NULL;
    }
    /* Strip trailing slashes so paths can start with one. */
    for (size_t n = strlen(h->base); n > 0 && h->base[n - 1] == '/'; n--)
        h->base[n - 1] = '\0';
    return h;
}

void con_http_free(con_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->base);
    free(h->auth);
    free(h);
}

void con_reply_clear(con_reply *r)
{
    json_decref(r->json);
    r->json = NULL;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body *b = userdata;
    size_t n = size * nmemb;
    char *grown;

    if (b->len + n > MAX_BODY_BYTES) {
        b->too_large = true;
        return 0;
    }
    grown = realloc(b->data, b->len + n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Resets the handle and sets what every request shares. */
static struct curl_slist *prepare(con_http *h, const char *path, char *url, size_t url_size)
{
    struct curl_slist *headers = NULL;

    curl_easy_reset(h->curl);
    snprintf(url, url_size, "%s%s", h->base, path);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "satconsole");
    headers = curl_slist_append(headers, "Accept: application/json, text/event-stream");
    if (h->auth)
        headers = curl_slist_append(headers, h->auth);
    h->errbuf[0] = '\0';
    return headers;
}

/* Fills out->error from a REST error body, or from the status alone. */
static void describe_status(con_reply *out)
{
    json_t *msg = json_object_get(json_object_get(out->json, "error"), "message");
    json_t *code = json_object_get(json_object_get(out->json, "error"), "code");

    if (out->status >= 200 && out->status < 300)
        return;
    if (json_is_string(msg))
        snprintf(out->error, sizeof(out->error), "HTTP %ld %s: %s", out->status,
                 json_is_string(code) ? json_string_value(code) : "error", json_string_value(msg));
    else
        snprintf(out->error, sizeof(out->error), "HTTP %ld with no error message", out->status);
}

static int curl_failure(con_http *h, CURLcode rc, con_reply *out)
{
    snprintf(out->error, sizeof(out->error), "%s",
             h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
    return CON_HTTP_UNREACHABLE;
}

int con_http_call(con_http *h, const char *method, const char *path, const json_t *body,
                  con_reply *out)
{
    struct body b = {0};
    struct curl_slist *headers;
    char url[2048], *text = NULL;
    json_error_t jerr;
    CURLcode rc;
    int ret = CON_HTTP_OK;

    memset(out, 0, sizeof(*out));
    headers = prepare(h, path, url, sizeof(url));
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            ret = CON_HTTP_NOMEM;
            goto out;
        }
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
    }
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);

    rc = curl_easy_perform(h->curl);
    if (rc != CURLE_OK && !b.too_large) {
        ret = curl_failure(h, rc, out);
        goto out;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
    out->json = b.data && !b.too_large ? json_loads(b.data, 0, &jerr) : NULL;
    describe_status(out);
    if (!out->json && out->status >= 200 && out->status < 300) {
        snprintf(out->error, sizeof(out->error), "reply to %s %s is not JSON%s", method, path,
                 b.too_large ? " (body too large)" : "");
        ret = CON_HTTP_BAD_REPLY;
    }
out:
    curl_slist_free_all(headers);
    free(text);
    free(b.data);
    return ret;
}

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct stream_ctx *ctx = userdata;
    size_t n = size * nmemb;
    long status = 0;

    curl_easy_getinfo(ctx->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300)
        return collect(ptr, size, nmemb, &ctx->err);
    return ctx->fn(ctx->userdata, ptr, n) ? n : 0;
}

static int stream_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    struct stream_ctx *ctx = userdata;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(ctx->stop) ? 1 : 0;
}

int con_http_stream(con_http *h, const char *path, const char *last_id, con_http_chunk_fn fn,
                    void *userdata, atomic_bool *stop, con_reply *out)
{
    struct stream_ctx ctx = {fn, userdata, stop, {0}, h->curl};
    struct curl_slist *headers;
    char url[2048], last[192];
    CURLcode rc;
    json_error_t jerr;
    int ret = CON_HTTP_OK;

    memset(out, 0, sizeof(*out));
    headers = prepare(h, path, url, sizeof(url));
    if (last_id && last_id[0]) {
        snprintf(last, sizeof(last), "Last-Event-ID: %s", last_id);
        headers = curl_slist_append(headers, last);
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, stream_progress);
    curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &ctx);
    curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, STREAM_SILENCE_S);

    rc = curl_easy_perform(h->curl);
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->status >= 200 && out->status < 300) {
        if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR && rc != CURLE_ABORTED_BY_CALLBACK)
            ret = curl_failure(h, rc, out);
        goto out;
    }
    if (out->status == 0) {
        ret = curl_failure(h, rc, out);
        goto out;
    }
    out->json = ctx.err.data ? json_loads(ctx.err.data, 0, &jerr) : NULL;
    describe_status(out);
out:
    curl_slist_free_all(headers);
    free(ctx.err.data);
    return ret;
}
