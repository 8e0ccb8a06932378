/* SPDX-License-Identifier: Apache-2.0 */
/* Broadcasters: the id-sorted table, message ids, filters, the cache and
 * the hand-off of each message to the workers that have subscribers. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static void broadcaster_free(sat_broadcaster *b)
{
    sat_filter *f = b->filters;

    while (f != NULL) {
        sat_filter *next = f->next;

        free(f->name);
        free(f);
        f = next;
    }
    for (int i = 0; i < SAT_MAX_WORKERS; i++)
        free(b->local[i].items);
    sat__cache_free(b->cache);
    pthread_mutex_destroy(&b->lock);
    free(b->id);
    free(b);
}

sat_broadcaster *sat__broadcaster_ref(sat_broadcaster *b)
{
    atomic_fetch_add(&b->refs, 1);
    return b;
}

void sat_broadcaster_unref(sat_broadcaster *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
        broadcaster_free(b);
}

const char *sat_broadcaster_id(const sat_broadcaster *b)
{
    return b->id;
}

/* Binary search in the id-sorted table; returns the insertion point. */
static size_t bc_search(sat_framework *fw, const char *id, bool *found)
{
    size_t lo = 0, hi = fw->bc_count;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fw->bcs[mid]->id, id);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static sat_broadcaster *broadcaster_new(sat_framework *fw, const char *id)
{
    sat_broadcaster *b = calloc(1, sizeof *b);

    if (b == NULL)
        return NULL;
    b->id = strdup(id);
    b->cache = sat__cache_new(&SAT_SETTINGS(fw)->cache);
    if (b->id == NULL || b->cache == NULL) {
        free(b->id);
        sat__cache_free(b->cache);
        free(b);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->fw = fw;
    b->created_ms = sat__now_ms();
    atomic_store(&b->last_activity_ms, b->created_ms);
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

sat_broadcaster *sat_framework_lookup(sat_framework *fw, const char *id, bool create)
{
    sat_broadcaster *b = NULL;
    bool found, created = false;
    size_t pos;

    if (fw == NULL || id == NULL || id[0] == '\0')
        return NULL;
    pthread_mutex_lock(&fw->bc_lock);
    pos = bc_search(fw, id, &found);
    if (found) {
        b = sat__broadcaster_ref(fw->bcs[pos]);
        goto out;
    }
    if (!create)
        goto out;
    if (fw->bc_count >= SAT_SETTINGS(fw)->max_broadcasters) {
        SAT_WARN("broadcaster", "engine.max_broadcasters (%zu) reached; not creating id=%s",
                 SAT_SETTINGS(fw)->max_broadcasters, id);
        goto out;
    }
    if (fw->bc_count == fw->bc_cap) {
        size_t cap = fw->bc_cap ? fw->bc_cap * 2 : 16;
        sat_broadcaster **grown = realloc(fw->bcs, cap * sizeof *grown);

        if (grown == NULL)
            goto out;
        fw->bcs = grown;
        fw->bc_cap = cap;
    }
    b = broadcaster_new(fw, id);
    if (b == NULL)
        goto out;
    memmove(&fw->bcs[pos + 1], &fw->bcs[pos], (fw->bc_count - pos) * sizeof *fw->bcs);
    fw->bcs[pos] = b;
    fw->bc_count++;
    sat__broadcaster_ref(b);
    created = true;
    SAT_INFO("broadcaster", "created broadcaster=%s", id);
    sat__introspect_broadcaster_added(b);
out:
    pthread_mutex_unlock(&fw->bc_lock);
    if (created)
        SAT_NOTIFY(fw, on_broadcaster_created, b);
    return b;
}

/* Removes b from the table; returns true if it was there. */
static bool bc_unlink(sat_framework *fw, sat_broadcaster *b)
{
    bool found;
    size_t pos;

    pthread_mutex_lock(&fw->bc_lock);
    pos = bc_search(fw, b->id, &found);
    found = found && fw->bcs[pos] == b;
    if (found) {
        memmove(&fw->bcs[pos], &fw->bcs[pos + 1], (fw->bc_count - pos - 1) * sizeof *fw->bcs);
        fw->bc_count--;
    }
    pthread_mutex_unlock(&fw->bc_lock);
    return found;
}

/* Runs the filters; returns false when a filter drops the message. On a
 * replacement, data and len point into *owned, which the caller frees. */
static bool run_filters(sat_broadcaster *b, const char **data, size_t *len, char **owned)
{
    for (sat_filter *f = b->filters; f != NULL; f = f->next) {
        char *out = NULL;
        size_t out_len = 0;
        sat_filter_action a = f->fn(f->userdata, b->id, *data, *len, &out, &out_len);

        if (out != NULL) {
            free(*owned);
            *owned = out;
            *data = out;
            *len = out_len;
        }
        if (a == SAT_FILTER_ABORT)
            return false;
        if (a == SAT_FILTER_SKIP)
            break;
    }
    return true;
}

/* Assigns the next id: wall-clock milliseconds plus a sequence within the
 * same millisecond, never going backwards when the clock does. */
sat_msgid sat__broadcaster_next_id(sat_broadcaster *b)
{
    uint64_t now = sat__now_ms();
    sat_msgid id;

    if (now > b->last_id.ms) {
        id.ms = now;
        id.seq = 0;
    } else {
        id.ms = b->last_id.ms;
        id.seq = b->last_id.seq + 1;
    }
    b->last_id = id;
    return id;
}

int sat_broadcaster_broadcast(sat_broadcaster *b, const void *data, size_t len, sat_msgid *id_out)
{
    sat_framework *fw = b->fw;
    const char *payload = data;
    char *owned = NULL;
    sat_msg *m = NULL;
    int rc = SAT_OK;

    if (len > SAT_SETTINGS(fw)->max_message_bytes)
        return SAT_EINVAL;
    if (atomic_load(&b->destroyed))
        return SAT_ECLOSED;
    pthread_mutex_lock(&b->lock);
    if (!run_filters(b, &payload, &len, &owned))
        goto out;
    for (int i = 0; i < fw->worker_count; i++) {
        if (atomic_load(&b->subs[i]) > 0 &&
            atomic_load(&fw->workers[i].jobs_pending) >= SAT_SETTINGS(fw)->broadcast_queue_max) {
            atomic_fetch_add(&fw->stats.rejected_backpressure, 1);
            SAT_WARN("broadcaster",
                     "engine.broadcast_queue_max (%zu) reached on worker %d; rejecting "
                     "broadcast broadcaster=%s",
                     SAT_SETTINGS(fw)->broadcast_queue_max, i, b->id);
            rc = SAT_ELIMIT;
            goto out;
        }
    }
    m = sat__msg_new(payload, len, 0);
    if (m == NULL) {
        rc = SAT_ENOMEM;
        goto out;
    }
    m->id = sat__broadcaster_next_id(b);
    m->created_ms = m->id.ms;
    if (SAT_SETTINGS(fw)->cache.max_messages > 0)
        (void)sat__cache_add(b->cache, m, m->created_ms);
    for (int i = 0; i < fw->worker_count; i++) {
        sat_job *job;

        if (atomic_load(&b->subs[i]) == 0)
            continue;
        job = sat__job_new(SAT_JOB_DELIVER);
        if (job == NULL) {
            rc = SAT_ENOMEM;
            break;
        }
        job->bc = sat__broadcaster_ref(b);
        job->msg = sat__msg_ref(m);
        (void)sat__worker_post(&fw->workers[i], job, true);
    }
    SAT_NOTIFY(fw, on_message, b, m->id, m->data, m->len);
    if (id_out != NULL)
        *id_out = m->id;
    atomic_fetch_add(&b->messages, 1);
    atomic_store(&b->last_activity_ms, m->created_ms);
    if (atomic_load(&fw->stats.capture))
        atomic_fetch_add(&fw->stats.messages_broadcast, 1);
out:
    pthread_mutex_unlock(&b->lock);
    sat__msg_unref(m);
    free(owned);
    return rc;
}

void sat__broadcaster_subscribe(sat_broadcaster *b, sat_conn *c, bool ack_sent,
                                sat_cache_backlog *backlog)
{
    sat_worker *w = c->w;
    sat_sublist *l = &b->local[w->index];

    memset(backlog, 0, sizeof *backlog);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        sat_conn **grown = realloc(l->items, cap * sizeof *grown);

        if (grown == NULL)
            return;
        l->items = grown;
        l->cap = cap;
    }
    c->sub_index = l->count;
    l->items[l->count++] = c;
    c->subscribed = true;
    /* The subscriber count and the cache attach change under the broadcaster
     * lock, so a concurrent broadcast is either in the backlog or queued to
     * this worker; the resource's sent cursor drops the one seen twice. */
    pthread_mutex_lock(&b->lock);
    atomic_fetch_add(&b->subs[w->index], 1);
    atomic_fetch_add(&b->resource_count, 1);
    if (sat__cache_attach(b->cache, c->res->uuid, ack_sent, 0, sat__now_ms(), backlog) != SAT_OK)
        memset(backlog, 0, sizeof *backlog);
    pthread_mutex_unlock(&b->lock);
}

void sat__broadcaster_unsubscribe(sat_broadcaster *b, sat_conn *c)
{
    sat_worker *w = c->w;
    sat_sublist *l = &b->local[w->index];
    size_t i = c->sub_index;

    if (!c->subscribed)
        return;
    if (i < l->count && l->items[i] == c) {
        l->items[i] = l->items[--l->count];
        if (i < l->count)
            l->items[i]->sub_index = i;
    }
    c->subscribed = false;
    atomic_fetch_sub(&b->subs[w->index], 1);
    atomic_fetch_sub(&b->resource_count, 1);
}

/* Counts a client that belongs to b; the EMPTY policies act when the last
 * one leaves (not when a long-poll is merely between two requests). */
void sat__broadcaster_member(sat_broadcaster *b, int delta)
{
    int policy = SAT_SETTINGS(b->fw)->lifecycle;

    if (atomic_fetch_add(&b->members, delta) + delta != 0 || delta > 0)
        return;
    if (policy == SAT_LC_EMPTY_DESTROY) {
        SAT_INFO("broadcaster", "last resource left; destroying broadcaster=%s (empty-destroy)",
                 b->id);
        (void)sat_broadcaster_destroy(b);
    } else if (policy == SAT_LC_EMPTY) {
        SAT_DEBUG("broadcaster", "broadcaster=%s is empty", b->id);
    }
}

int sat_broadcaster_add_filter(sat_broadcaster *b, const char *name, sat_filter_fn fn,
                               void *userdata)
{
    sat_filter *f, **tail;

    if (name == NULL || fn == NULL)
        return SAT_EINVAL;
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return SAT_ENOMEM;
    f->name = strdup(name);
    if (f->name == NULL) {
        free(f);
        return SAT_ENOMEM;
    }
    f->fn = fn;
    f->userdata = userdata;
    pthread_mutex_lock(&b->lock);
    for (tail = &b->filters; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = f;
    pthread_mutex_unlock(&b->lock);
    return SAT_OK;
}

int sat_broadcaster_remove_filter(sat_broadcaster *b, const char *name)
{
    int rc = SAT_ENOTFOUND;

    pthread_mutex_lock(&b->lock);
    for (sat_filter **p = &b->filters; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->name, name) == 0) {
            sat_filter *f = *p;

            *p = f->next;
            free(f->name);
            free(f);
            rc = SAT_OK;
            break;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* Asks every worker to close this broadcaster's subscribers. */
static void post_to_workers(sat_broadcaster *b, sat_job_kind kind)
{
    sat_framework *fw = b->fw;

    for (int i = 0; i < fw->worker_count && fw->running; i++) {
        sat_job *job = sat__job_new(kind);

        if (job == NULL)
            continue;
        job->bc = sat__broadcaster_ref(b);
        (void)sat__worker_post(&fw->workers[i], job, true);
    }
}

int sat_broadcaster_destroy(sat_broadcaster *b)
{
    if (atomic_exchange(&b->destroyed, true))
        return SAT_ECLOSED;
    post_to_workers(b, SAT_JOB_DESTROY_BROADCASTER);
    if (bc_unlink(b->fw, b)) {
        SAT_INFO("broadcaster", "destroyed broadcaster=%s", b->id);
        sat__introspect_broadcaster_removed(b);
        SAT_NOTIFY(b->fw, on_broadcaster_destroyed, b);
        sat_broadcaster_unref(b);
    }
    return SAT_OK;
}

int sat__broadcaster_resume_all(sat_broadcaster *b)
{
    post_to_workers(b, SAT_JOB_RESUME_ALL);
    return SAT_OK;
}

/* Runs the idle lifecycle policies and, with `expire_caches`, cache expiry;
 * called from worker 0's tick. */
void sat__broadcasters_tick(sat_framework *fw, uint64_t now, bool expire_caches)
{
    sat_broadcaster **snapshot;
    size_t n;
    int policy = SAT_SETTINGS(fw)->lifecycle;

    pthread_mutex_lock(&fw->bc_lock);
    n = fw->bc_count;
    snapshot = malloc((n ? n : 1) * sizeof *snapshot);
    if (snapshot == NULL) {
        pthread_mutex_unlock(&fw->bc_lock);
        return;
    }
    for (size_t i = 0; i < n; i++)
        snapshot[i] = sat__broadcaster_ref(fw->bcs[i]);
    pthread_mutex_unlock(&fw->bc_lock);

    for (size_t i = 0; i < n; i++) {
        sat_broadcaster *b = snapshot[i];
        uint64_t last = atomic_load(&b->last_activity_ms);
        bool empty = atomic_load(&b->members) == 0;

        if (expire_caches)
            (void)sat__cache_expire(b->cache, now);
        if (now >= last && now - last >= SAT_SETTINGS(fw)->broadcaster_idle_ms) {
            if (policy == SAT_LC_IDLE_DESTROY ||
                (policy == SAT_LC_IDLE_EMPTY_DESTROY && empty)) {
                SAT_INFO("broadcaster", "idle for %llu ms; destroying broadcaster=%s",
                         (unsigned long long)(now - last), b->id);
                (void)sat_broadcaster_destroy(b);
            } else if (policy == SAT_LC_IDLE_RESUME) {
                SAT_INFO("broadcaster", "idle for %llu ms; resuming and destroying broadcaster=%s",
                         (unsigned long long)(now - last), b->id);
                (void)sat__broadcaster_resume_all(b);
                (void)sat_broadcaster_destroy(b);
            }
        }
        sat_broadcaster_unref(b);
    }
    free(snapshot);
}

void sat__broadcasters_apply_limits(sat_framework *fw)
{
    uint64_t now = sat__now_ms();

    pthread_mutex_lock(&fw->bc_lock);
    for (size_t i = 0; i < fw->bc_count; i++)
        sat__cache_set_limits(fw->bcs[i]->cache, &SAT_SETTINGS(fw)->cache, now);
    pthread_mutex_unlock(&fw->bc_lock);
}

void sat__broadcasters_free_all(sat_framework *fw)
{
    pthread_mutex_lock(&fw->bc_lock);
    for (size_t i = 0; i < fw->bc_count; i++) {
        sat__introspect_broadcaster_removed(fw->bcs[i]);
        sat_broadcaster_unref(fw->bcs[i]);
    }
    free(fw->bcs);
    fw->bcs = NULL;
    fw->bc_count = fw->bc_cap = 0;
    pthread_mutex_unlock(&fw->bc_lock);
}
