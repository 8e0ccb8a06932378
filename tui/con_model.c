/* SPDX-License-Identifier: Apache-2.0 */
/* Poller, event-stream reader and snapshot of satconsole. The poller
 * fetches the schemas and every object into a new snapshot, then swaps it
 * in under the lock and derives statistics rates. The stream thread reads
 * registry events into the log and wakes the poller. */
#include "con_model.h"
#include "con_format.h"
#include "con_sse.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest page the REST API serves. */
#define PAGE_MAX 1000
/* Pause between stream reconnects. */
#define STREAM_RETRY_MS 1000

struct con_model {
    con_options opt;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    con_snapshot snap;
    bool refresh;
    atomic_bool stop;
    bool started;
    pthread_t poller, streamer;
    double last_sample; /* monotonic seconds of the previous statistics sample */
    char last_event_id[64];
    con_sse sse; /* used by the stream thread only */
};

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

con_model *con_model_new(const con_options *opt)
{
    con_model *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->opt = *opt;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    m->snap.token = opt->token[0] ? CON_TOKEN_UNCHECKED : CON_TOKEN_NONE;
    atomic_init(&m->stop, false);
    return m;
}

void con_model_free(con_model *m)
{
    if (!m)
        return;
    if (m->started) {
        atomic_store(&m->stop, true);
        pthread_mutex_lock(&m->lock);
        pthread_cond_broadcast(&m->wake);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->poller, NULL);
        pthread_join(m->streamer, NULL);
    }
    json_decref(m->snap.types);
    json_decref(m->snap.objects);
    json_decref(m->snap.totals);
    free(m->snap.series);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->wake);
    free(m);
}

const con_snapshot *con_model_lock(con_model *m)
{
    pthread_mutex_lock(&m->lock);
    return &m->snap;
}

void con_model_unlock(con_model *m)
{
    pthread_mutex_unlock(&m->lock);
}

void con_model_refresh(con_model *m)
{
    pthread_mutex_lock(&m->lock);
    m->refresh = true;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->lock);
}

/* ---- schema helpers ------------------------------------------------------ */

static const json_t *find_named(const json_t *arr, const char *name)
{
    size_t i;
    json_t *item;

    json_array_foreach(arr, i, item)
    {
        const char *n = json_string_value(json_object_get(item, "name"));

        if (n && strcmp(n, name) == 0)
            return item;
    }
    return NULL;
}

const json_t *con_type(const con_snapshot *s, const char *name)
{
    return find_named(json_object_get(s->types, "types"), name);
}

const json_t *con_type_attr(const json_t *type, const char *attr)
{
    return find_named(json_object_get(type, "attributes"), attr);
}

const json_t *con_type_op(const json_t *type, const char *op)
{
    return find_named(json_object_get(type, "operations"), op);
}

bool con_type_singleton(const json_t *type)
{
    return json_is_true(json_object_get(type, "singleton"));
}

const json_t *con_object_attrs(const con_snapshot *s, const char *type, const char *id)
{
    const json_t *obj = json_object_get(s->objects, type);
    size_t i;
    json_t *item;

    if (json_is_object(obj))
        return json_object_get(obj, "attributes");
    json_array_foreach(obj, i, item)
    {
        const char *oid = json_string_value(json_object_get(item, "id"));

        if (oid && id && strcmp(oid, id) == 0)
            return json_object_get(item, "attributes");
    }
    return NULL;
}

const con_event *con_event_at(const con_snapshot *s, size_t i)
{
    if (i >= s->ev_count)
        return NULL;
    return &s->events[(s->ev_first + i) % CON_EVENTS_MAX];
}

const con_series *con_series_find(const con_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->series_count; i++) {
        if (strcmp(s->series[i].name, name) == 0)
            return &s->series[i];
    }
    return NULL;
}

/* ---- fetching ------------------------------------------------------------ */

/* Result of one full fetch, built without the lock. */
struct fetch {
    json_t *types, *objects, *totals;
    con_link link;
    con_token_state token;
    char message[320];
};

/* Maps a failed reply to the link state. Returns true when the fetch
 * must stop. */
static bool fetch_failed(struct fetch *f, int rc, const con_reply *r)
{
    if (rc == CON_HTTP_UNREACHABLE) {
        f->link = CON_LINK_DOWN;
        snprintf(f->message, sizeof(f->message), "%s", r->error);
        return true;
    }
    if (r->status == 401 || r->status == 403) {
        f->link = CON_LINK_AUTH;
        snprintf(f->message, sizeof(f->message), "reads rejected: %.280s", r->error);
        return true;
    }
    return false;
}

static int fetch_collection(con_http *h, const con_options *opt, const char *plural,
                            struct fetch *f, json_t **items_out, json_int_t *total)
{
    json_t *items = json_array();
    char path[1024], cursor[768] = "";
    size_t limit = opt->max_objects < PAGE_MAX ? opt->max_objects : PAGE_MAX;

    *items_out = items;
    for (;;) {
        con_reply r;
        int rc;
        const json_t *next;

        snprintf(path, sizeof(path), "/api/v1/%s?limit=%zu%s%s", plural, limit ? limit : 1,
                 cursor[0] ? "&cursor=" : "", cursor);
        rc = con_http_call(h, "GET", path, NULL, &r);
        if (rc != CON_HTTP_OK || r.status != 200) {
            bool stop = fetch_failed(f, rc, &r);

            con_reply_clear(&r);
            return stop ? -1 : 0;
        }
        json_array_extend(items, json_object_get(r.json, "items"));
        *total = json_integer_value(json_object_get(r.json, "total"));
        next = json_object_get(r.json, "next_cursor");
        if (json_is_string(next))
            con_url_encode(json_string_value(next), cursor, sizeof(cursor));
        con_reply_clear(&r);
        /* NOTE: objects past max_objects are not fetched. The table header
         * shows the total the server reports. */
        if (!json_is_string(next) || json_array_size(items) >= opt->max_objects)
            return 0;
    }
}

static int fetch_type(con_http *h, const con_options *opt, const json_t *type, struct fetch *f)
{
    const char *name = json_string_value(json_object_get(type, "name"));
    const char *plural = json_string_value(json_object_get(type, "plural"));
    char path[512];
    con_reply r;
    json_t *items = NULL;
    json_int_t total = 0;
    int rc;

    if (!name || !plural)
        return 0;
    if (!con_type_singleton(type)) {
        rc = fetch_collection(h, opt, plural, f, &items, &total);
        json_object_set_new(f->objects, name, items);
        json_object_set_new(f->totals, name, json_integer(total));
        return rc;
    }
    snprintf(path, sizeof(path), "/api/v1/%s", name);
    rc = con_http_call(h, "GET", path, NULL, &r);
    if (rc == CON_HTTP_OK && r.status == 200)
        json_object_set(f->objects, name, r.json);
    else if (fetch_failed(f, rc, &r))
        rc = -1;
    con_reply_clear(&r);
    return rc < 0 ? -1 : 0;
}

/* Checks the token with a PATCH that names no attribute: the server checks
 * the token before the body, so 401/403 means a bad token and anything
 * else (422 for the empty body) means a good one. Changes nothing. */
static con_token_state check_token(con_http *h, const json_t *types, char *msg, size_t size)
{
    size_t i;
    json_t *type, *empty = json_object();
    con_token_state state = CON_TOKEN_UNCHECKED;

    json_array_foreach(json_object_get(types, "types"), i, type)
    {
        const char *name = json_string_value(json_object_get(type, "name"));
        char path[256];
        con_reply r;

        if (!con_type_singleton(type) || !name)
            continue;
        snprintf(path, sizeof(path), "/api/v1/%s", name);
        if (con_http_call(h, "PATCH", path, empty, &r) == CON_HTTP_OK) {
            state = r.status == 401 || r.status == 403 ? CON_TOKEN_REJECTED : CON_TOKEN_OK;
            snprintf(msg, size, "%s", state == CON_TOKEN_REJECTED ? r.error : "");
        }
        con_reply_clear(&r);
        break;
    }
    json_decref(empty);
    return state;
}

static void fetch_all(con_http *h, const con_options *opt, bool probe_token, struct fetch *f)
{
    con_reply r;
    size_t i;
    json_t *type;
    int rc;

    memset(f, 0, sizeof(*f));
    f->link = CON_LINK_UP;
    f->token = CON_TOKEN_UNCHECKED;
    rc = con_http_call(h, "GET", "/api/v1", NULL, &r);
    if (rc != CON_HTTP_OK || r.status != 200) {
        if (!fetch_failed(f, rc, &r)) {
            f->link = CON_LINK_DOWN;
            snprintf(f->message, sizeof(f->message), "GET /api/v1 failed: %.280s", r.error);
        }
        con_reply_clear(&r);
        return;
    }
    f->types = r.json;
    f->objects = json_object();
    f->totals = json_object();
    json_array_foreach(json_object_get(f->types, "types"), i, type)
    {
        if (fetch_type(h, opt, type, f) < 0)
            return;
    }
    if (probe_token)
        f->token = check_token(h, f->types, f->message, sizeof(f->message));
}

static void fetch_clear(struct fetch *f)
{
    json_decref(f->types);
    json_decref(f->objects);
    json_decref(f->totals);
}

/* ---- statistics series --------------------------------------------------- */

static con_series *series_get(con_snapshot *s, const char *name)
{
    con_series *grown;

    for (size_t i = 0; i < s->series_count; i++) {
        if (strcmp(s->series[i].name, name) == 0)
            return &s->series[i];
    }
    grown = realloc(s->series, (s->series_count + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    s->series = grown;
    memset(&grown[s->series_count], 0, sizeof(*grown));
    snprintf(grown[s->series_count].name, sizeof(grown->name), "%s", name);
    return &grown[s->series_count++];
}

static bool numeric(const json_t *v, double *out)
{
    char *end = NULL;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v) || !json_string_value(v)[0])
        return false;
    *out = strtod(json_string_value(v), &end);
    return *end == '\0';
}

static void sample(con_snapshot *s, const char *name, const json_t *v, bool counter, double dt)
{
    con_series *ser;
    double x;

    if (!numeric(v, &x) || !(ser = series_get(s, name)))
        return;
    if (counter && ser->count > 0)
        ser->rate = con_rate(ser->value, x, dt);
    ser->counter = counter;
    ser->value = x;
    if (ser->count == CON_HISTORY)
        memmove(ser->hist, ser->hist + 1, (CON_HISTORY - 1) * sizeof(double));
    else
        ser->count++;
    ser->hist[ser->count - 1] = counter ? ser->rate : x;
}

/* Samples every numeric statistics attribute dt seconds after the last
 * sample. A map attribute such as connections per transport gives one
 * series per key ("attr.key"); its keys count as counters when the
 * attribute is a counter or its name says "total". */
static void sample_statistics(con_snapshot *s, double dt)
{
    const json_t *attrs = con_object_attrs(s, "statistics", "");
    const json_t *type = con_type(s, "statistics");
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
    {
        const char *t = json_string_value(json_object_get(con_type_attr(type, key), "type"));
        bool counter = t && strcmp(t, "counter") == 0;

        if (json_is_object(v)) {
            const char *sub;
            json_t *sv;

            json_object_foreach(v, sub, sv)
            {
                char name[96];

                snprintf(name, sizeof(name), "%s.%s", key, sub);
                sample(s, name, sv, counter || strstr(key, "total") != NULL, dt);
            }
        } else if (!json_is_boolean(v)) {
            sample(s, key, v, counter, dt);
        }
    }
}

/* Swaps a fetch into the snapshot (under the lock). */
static void apply_fetch(con_model *m, struct fetch *f)
{
    con_snapshot *s = &m->snap;
    double now = mono_now();

    s->link = f->link;
    snprintf(s->message, sizeof(s->message), "%s", f->link == CON_LINK_UP ? "" : f->message);
    if (f->link == CON_LINK_UP) {
        json_decref(s->types);
        json_decref(s->objects);
        json_decref(s->totals);
        s->types = f->types;
        s->objects = f->objects;
        s->totals = f->totals;
        f->types = f->objects = f->totals = NULL;
        s->fetched_ms = wall_ms();
        sample_statistics(s, m->last_sample > 0 ? now - m->last_sample : 0);
        m->last_sample = now;
    }
    if (f->token != CON_TOKEN_UNCHECKED && s->token != CON_TOKEN_NONE) {
        s->token = f->token;
        snprintf(s->token_message, sizeof(s->token_message), "%s",
                 f->token == CON_TOKEN_REJECTED ? f->message : "");
    }
    s->generation++;
}

int con_model_fetch_once(con_model *m)
{
    con_http *h = con_http_new(m->opt.url, m->opt.token, m->opt.timeout_ms);
    struct fetch f;

    if (!h)
        return -1;
    fetch_all(h, &m->opt, false, &f);
    pthread_mutex_lock(&m->lock);
    apply_fetch(m, &f);
    pthread_mutex_unlock(&m->lock);
    fetch_clear(&f);
    con_http_free(h);
    return m->snap.link == CON_LINK_UP ? 0 : -1;
}

/* Waits until ms pass, a refresh is asked for or the model stops. */
static void wait_ms(con_model *m, long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->lock);
    while (!m->refresh && !atomic_load(&m->stop)) {
        if (pthread_cond_timedwait(&m->wake, &m->lock, &ts) != 0)
            break;
    }
    m->refresh = false;
    pthread_mutex_unlock(&m->lock);
}

static void *poller_main(void *arg)
{
    con_model *m = arg;
    con_http *h = con_http_new(m->opt.url, m->opt.token, m->opt.timeout_ms);
    bool probe = m->opt.token[0] != '\0';

    while (h && !atomic_load(&m->stop)) {
        struct fetch f;

        fetch_all(h, &m->opt, probe, &f);
        /* Probe the token again after every reconnect: the server may have
         * restarted with another one. */
        probe = f.link != CON_LINK_UP && m->opt.token[0] != '\0';
        pthread_mutex_lock(&m->lock);
        apply_fetch(m, &f);
        pthread_mutex_unlock(&m->lock);
        fetch_clear(&f);
        wait_ms(m, m->opt.poll_ms);
    }
    con_http_free(h);
    return NULL;
}

/* ---- event stream -------------------------------------------------------- */

static void copy_field(char *dst, size_t size, const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));

    snprintf(dst, size, "%s", v ? v : "");
}

static void on_sse_event(void *userdata, const char *id, const char *event, const char *data)
{
    con_model *m = userdata;
    json_t *j = json_loads(data, 0, NULL);
    con_snapshot *s = &m->snap;
    con_event *ev;

    snprintf(m->last_event_id, sizeof(m->last_event_id), "%s", id);
    pthread_mutex_lock(&m->lock);
    if (strcmp(event, "lost") == 0) {
        s->events_lost += (uint64_t)json_integer_value(json_object_get(j, "lost"));
    } else if (json_is_object(j)) {
        if (s->ev_count == CON_EVENTS_MAX)
            s->ev_first = (s->ev_first + 1) % CON_EVENTS_MAX;
        else
            s->ev_count++;
        ev = &s->events[(s->ev_first + s->ev_count - 1) % CON_EVENTS_MAX];
        ev->seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
        ev->time_ms = json_integer_value(json_object_get(j, "time_ms"));
        copy_field(ev->kind, sizeof(ev->kind), j, "kind");
        copy_field(ev->type, sizeof(ev->type), j, "type");
        copy_field(ev->id, sizeof(ev->id), j, "id");
        copy_field(ev->detail, sizeof(ev->detail), j, "detail");
        copy_field(ev->result, sizeof(ev->result), j, "result");
    }
    m->refresh = true;
    s->generation++;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->lock);
    json_decref(j);
}

static bool on_stream_chunk(void *userdata, const char *buf, size_t len)
{
    con_model *m = userdata;

    pthread_mutex_lock(&m->lock);
    if (!m->snap.stream_live) {
        m->snap.stream_live = true;
        m->snap.generation++;
    }
    pthread_mutex_unlock(&m->lock);
    con_sse_feed(&m->sse, buf, len);
    return !atomic_load(&m->stop);
}

static void *streamer_main(void *arg)
{
    con_model *m = arg;
    con_http *h = con_http_new(m->opt.url, m->opt.token, m->opt.timeout_ms);

    while (h && !atomic_load(&m->stop)) {
        con_reply r;

        con_sse_init(&m->sse, on_sse_event, m);
        if (con_http_stream(h, "/api/v1/events", m->last_event_id, on_stream_chunk, m, &m->stop,
                            &r) == CON_HTTP_OK &&
            r.status == 404)
            m->last_event_id[0] = '\0';
        con_reply_clear(&r);
        pthread_mutex_lock(&m->lock);
        m->snap.stream_live = false;
        m->snap.generation++;
        pthread_mutex_unlock(&m->lock);
        if (!atomic_load(&m->stop))
            wait_ms(m, STREAM_RETRY_MS);
    }
    con_http_free(h);
    return NULL;
}

int con_model_start(con_model *m)
{
    if (pthread_create(&m->poller, NULL, poller_main, m) != 0)
        return -1;
    if (pthread_create(&m->streamer, NULL, streamer_main, m) != 0) {
        atomic_store(&m->stop, true);
        con_model_refresh(m);
        pthread_join(m->poller, NULL);
        return -1;
    }
    m->started = true;
    return 0;
}

int con_model_write(con_model *m, const char *type, const char *id, const char *op, json_t *body,
                    con_reply *out)
{
    con_http *h = con_http_new(m->opt.url, m->opt.token, m->opt.timeout_ms);
    char path[2048], enc[1536] = "";
    int rc = CON_HTTP_NOMEM;
    const json_t *schema;
    const char *plural;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&m->lock);
    schema = con_type(&m->snap, type);
    plural = json_string_value(json_object_get(schema, "plural"));
    if (id && id[0])
        con_url_encode(id, enc, sizeof(enc));
    if (schema && con_type_singleton(schema))
        snprintf(path, sizeof(path), "/api/v1/%s%s%s", type, op ? "/" : "", op ? op : "");
    else
        snprintf(path, sizeof(path), "/api/v1/%s/%s%s%s", plural ? plural : type, enc,
                 op ? "/" : "", op ? op : "");
    pthread_mutex_unlock(&m->lock);
    if (!body)
        body = json_object();
    if (h && body)
        rc = con_http_call(h, op ? "POST" : "PATCH", path, body, out);
    if (out->status == 401 || out->status == 403) {
        pthread_mutex_lock(&m->lock);
        m->snap.token = CON_TOKEN_REJECTED;
        snprintf(m->snap.token_message, sizeof(m->snap.token_message), "%s", out->error);
        m->snap.generation++;
        pthread_mutex_unlock(&m->lock);
    }
    json_decref(body);
    con_http_free(h);
    con_model_refresh(m);
    return rc;
}
