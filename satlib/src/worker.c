/* SPDX-License-Identifier: Apache-2.0 */
/* I/O workers: one libuv loop per thread, each with its own listening
 * socket on the push port (SO_REUSEPORT), a job queue that other threads
 * fill (deliveries and resource operations), and a periodic tick for
 * heartbeats and timeouts. */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_MS 250
#define READ_BUF_SIZE 65536

sat_job *sat__job_new(sat_job_kind kind)
{
    sat_job *job = calloc(1, sizeof *job);

    if (job != NULL)
        job->kind = kind;
    return job;
}

void sat__job_free(sat_job *job)
{
    if (job == NULL)
        return;
    sat_broadcaster_unref(job->bc);
    sat__msg_unref(job->msg);
    if (job->waiter != NULL) {
        sat__waiter_done(job->waiter, SAT_ECLOSED);
        sat__waiter_unref(job->waiter);
    }
    free(job);
}

sat_waiter *sat__waiter_new(void)
{
    sat_waiter *wt = calloc(1, sizeof *wt);

    if (wt == NULL)
        return NULL;
    pthread_mutex_init(&wt->lock, NULL);
    pthread_cond_init(&wt->cond, NULL);
    atomic_init(&wt->refs, 1);
    return wt;
}

void sat__waiter_unref(sat_waiter *wt)
{
    if (wt == NULL || atomic_fetch_sub(&wt->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&wt->lock);
    pthread_cond_destroy(&wt->cond);
    free(wt);
}

/* Records the result once; later calls are ignored. */
void sat__waiter_done(sat_waiter *wt, int result)
{
    pthread_mutex_lock(&wt->lock);
    if (!wt->done) {
        wt->done = true;
        wt->result = result;
        pthread_cond_signal(&wt->cond);
    }
    pthread_mutex_unlock(&wt->lock);
}

int sat__waiter_wait(sat_waiter *wt, int timeout_ms)
{
    struct timespec deadline;
    int rc;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&wt->lock);
    while (!wt->done) {
        if (pthread_cond_timedwait(&wt->cond, &wt->lock, &deadline) == ETIMEDOUT)
            break;
    }
    rc = wt->done ? wt->result : SAT_ETIMEDOUT;
    pthread_mutex_unlock(&wt->lock);
    return rc;
}

/* Queues a job; `force` ignores the queue bound (control jobs must not be
 * lost). Returns SAT_ELIMIT when the queue is full. */
int sat__worker_post(sat_worker *w, sat_job *job, bool force)
{
    if (!force && atomic_load(&w->jobs_pending) >= SAT_SETTINGS(w->fw)->broadcast_queue_max) {
        sat__job_free(job);
        return SAT_ELIMIT;
    }
    pthread_mutex_lock(&w->jobs_lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->jobs_lock);
        sat__job_free(job);
        return SAT_ECLOSED;
    }
    job->next = NULL;
    if (w->jobs_tail != NULL)
        w->jobs_tail->next = job;
    else
        w->jobs_head = job;
    w->jobs_tail = job;
    atomic_fetch_add(&w->jobs_pending, 1);
    pthread_mutex_unlock(&w->jobs_lock);
    uv_async_send(&w->wakeup);
    return SAT_OK;
}

static void run_jobs(uv_async_t *handle)
{
    sat_worker *w = handle->data;
    sat_job *job;

    pthread_mutex_lock(&w->jobs_lock);
    job = w->jobs_head;
    w->jobs_head = w->jobs_tail = NULL;
    pthread_mutex_unlock(&w->jobs_lock);

    while (job != NULL) {
        sat_job *next = job->next;

        atomic_fetch_sub(&w->jobs_pending, 1);
        if (job->kind == SAT_JOB_STOP)
            uv_stop(&w->loop);
        else
            sat__atmo_job(w, job);
        sat__job_free(job);
        job = next;
    }
    /* Every frame queued by this batch leaves in one write per socket. */
    sat__conn_flush_dirty(w);
}

void sat__worker_bind(sat_worker *w, sat_conn *c)
{
    if (c->bound)
        return;
    if (w->bound_count == w->bound_cap) {
        size_t cap = w->bound_cap ? w->bound_cap * 2 : 64;
        sat_conn **grown = realloc(w->bound, cap * sizeof *grown);

        if (grown == NULL)
            return; /* the request still works; it only misses heartbeats */
        w->bound = grown;
        w->bound_cap = cap;
    }
    c->bound_index = w->bound_count;
    w->bound[w->bound_count++] = c;
    c->bound = true;
}

void sat__worker_unbind(sat_worker *w, sat_conn *c)
{
    size_t i = c->bound_index;

    if (!c->bound || i >= w->bound_count || w->bound[i] != c)
        return;
    w->bound[i] = w->bound[--w->bound_count];
    if (i < w->bound_count)
        w->bound[i]->bound_index = i;
    c->bound = false;
}

static void on_tick(uv_timer_t *t)
{
    sat_worker *w = t->data;
    uint64_t now = sat__now_ms();

    sat__atmo_tick(w, now);
    sat__conn_tick(w, now);
    if (w->index == 0)
        sat__atmo_reap(w->fw, now);
    if (w->index == 0) {
        bool expire = now - w->last_expire_ms >= SAT_SETTINGS(w->fw)->cache_expire_interval_ms;

        if (expire)
            w->last_expire_ms = now;
        /* The lifecycle check walks every broadcaster: about once a second. */
        if (expire || (SAT_SETTINGS(w->fw)->lifecycle != SAT_LC_NEVER && ++w->ticks % 4 == 0))
            sat__broadcasters_tick(w->fw, now, expire);
    }
    sat__conn_flush_dirty(w);
}

static void on_connection(uv_stream_t *server, int status)
{
    sat_worker *w = server->data;

    if (status < 0) {
        SAT_WARN("transport", "accept failed on worker %d: %s", w->index, uv_strerror(status));
        return;
    }
    sat__conn_accept(w, server);
}

static void worker_main(void *arg)
{
    sat_worker *w = arg;

    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/* Fills a socket address from a numeric IPv4 or IPv6 host ("localhost" is
 * 127.0.0.1). Returns false for any other host. */
static bool make_sockaddr(const char *host, int port, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        *len = sizeof(struct sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        *len = sizeof(struct sockaddr_in6);
        return true;
    }
    return false;
}

/* Creates one listening socket with SO_REUSEPORT so each worker accepts on
 * its own; the kernel spreads connections between them. */
static int open_listener(const char *host, int port, int backlog, int *fd_out, int *bound_port,
                         char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;

    if (!make_sockaddr(host, port, &ss, &len)) {
        snprintf(err, err_size, "invalid push.listen host '%s': expected an IPv4 or IPv6 address",
                 host);
        return SAT_EINVAL;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return SAT_EIO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
        snprintf(err, err_size, "bind %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return SAT_EIO;
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *fd_out = fd;
    return SAT_OK;
}

/* True when another socket already listens on host:port. The workers'
 * listeners use SO_REUSEPORT, which would let a second process of the same
 * user share the port and split clients between two servers: a plain bind
 * without it fails on a taken port, so it is tried first. */
static bool port_taken(const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    bool taken = false;
    int fd, one = 1;

    if (!make_sockaddr(host, port, &ss, &len))
        return false; /* open_listener reports the invalid host */
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 && errno == EADDRINUSE)
        taken = true;
    close(fd);
    return taken;
}

/* Raises the open-file soft limit to the hard limit: each client is a
 * descriptor. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int worker_init(sat_worker *w, sat_framework *fw, int index, int fd, char *err,
                       size_t err_size)
{
    int rc;

    w->fw = fw;
    w->index = index;
    w->listen_fd = fd;
    pthread_mutex_init(&w->jobs_lock, NULL);
    w->read_buf = malloc(READ_BUF_SIZE);
    w->heartbeat = sat__msg_new(SAT_SETTINGS(fw)->heartbeat_padding,
                                strlen(SAT_SETTINGS(fw)->heartbeat_padding), SAT_MSG_HEARTBEAT);
    if (w->read_buf == NULL || w->heartbeat == NULL) {
        snprintf(err, err_size, "out of memory");
        return SAT_ENOMEM;
    }
    uv_loop_init(&w->loop);
    w->loop.data = w;
    uv_async_init(&w->loop, &w->wakeup, run_jobs);
    w->wakeup.data = w;
    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    rc = uv_tcp_open(&w->listener, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&w->listener, (int)sat_config_int(fw->cfg, "push.backlog"),
                       on_connection);
    if (rc != 0) {
        snprintf(err, err_size, "listen: %s", uv_strerror(rc));
        return SAT_EIO;
    }
    uv_timer_start(&w->tick, on_tick, TICK_MS, TICK_MS);
    return SAT_OK;
}

size_t sat__worker_read_buf_size(void)
{
    return READ_BUF_SIZE;
}

int sat__workers_start(sat_framework *fw, char *err, size_t err_size)
{
    char host[256];
    int port, bound = 0, n = (int)sat_config_int(fw->cfg, "push.workers");
    int backlog = (int)sat_config_int(fw->cfg, "push.backlog");

    if (sat_config_parse_addr(sat_config_str(fw->cfg, "push.listen"), host, sizeof host, &port) !=
        SAT_OK) {
        snprintf(err, err_size, "invalid push.listen '%s'", sat_config_str(fw->cfg, "push.listen"));
        return SAT_EINVAL;
    }
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        n = cpus > 0 ? (int)cpus : 1;
    }
    if (n > SAT_MAX_WORKERS)
        n = SAT_MAX_WORKERS;
    raise_nofile();
    if (port != 0 && port_taken(host, port)) {
        snprintf(err, err_size, "bind %s:%d: Address already in use", host, port);
        return SAT_EIO;
    }
    fw->workers = calloc((size_t)n, sizeof *fw->workers);
    if (fw->workers == NULL) {
        snprintf(err, err_size, "out of memory");
        return SAT_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        int fd, rc;

        rc = open_listener(host, i == 0 ? port : bound, backlog, &fd, &bound, err, err_size);
        if (rc == SAT_OK)
            rc = worker_init(&fw->workers[i], fw, i, fd, err, err_size);
        if (rc != SAT_OK) {
            fw->worker_count = i;
            /* NOTE: workers initialised before the failure are leaked with
             * their loops; start failures end the process in satellited. */
            return rc;
        }
    }
    fw->worker_count = n;
    if (strchr(host, ':') != NULL)
        snprintf(fw->push_addr, sizeof fw->push_addr, "[%s]:%d", host, bound);
    else
        snprintf(fw->push_addr, sizeof fw->push_addr, "%s:%d", host, bound);
    fw->running = true;
    for (int i = 0; i < n; i++)
        uv_thread_create(&fw->workers[i].thread, worker_main, &fw->workers[i]);
    return SAT_OK;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    sat_worker *w = h->loop->data;

    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->type == UV_TCP && h != (uv_handle_t *)&w->listener) {
        sat__conn_close(h->data);
        return;
    }
    uv_close(h, NULL);
}

void sat__workers_stop(sat_framework *fw)
{
    for (int i = 0; i < fw->worker_count; i++) {
        sat_job *job = sat__job_new(SAT_JOB_STOP);

        if (job != NULL)
            (void)sat__worker_post(&fw->workers[i], job, true);
    }
    for (int i = 0; i < fw->worker_count; i++) {
        sat_worker *w = &fw->workers[i];
        sat_job *job;

        uv_thread_join(&w->thread);
        pthread_mutex_lock(&w->jobs_lock);
        w->stopping = true;
        job = w->jobs_head;
        w->jobs_head = w->jobs_tail = NULL;
        pthread_mutex_unlock(&w->jobs_lock);
        while (job != NULL) {
            sat_job *next = job->next;

            sat__job_free(job);
            job = next;
        }
        /* Close every handle, connections included, then let the loop run
         * their close callbacks. */
        uv_walk(&w->loop, close_handle, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        sat__msg_unref(w->heartbeat);
        free(w->read_buf);
        free(w->bound);
        pthread_mutex_destroy(&w->jobs_lock);
    }
    free(fw->workers);
    fw->workers = NULL;
    fw->worker_count = 0;
}
