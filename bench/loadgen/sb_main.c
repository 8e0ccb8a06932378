/* SPDX-License-Identifier: Apache-2.0 */
/* satbench: command-line options, the worker loops, the run phases
 * (connect, settle, publish, drain) and the JSON and table report. The
 * connections themselves live in sb_sub.c and sb_pub.c. */
#include "satbench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define STALL_NS 1000000000ull

typedef struct {
    double connect_s;
    long rss_before_kib;
    long rss_after_kib;
    double pub_s;
    uint64_t pub_delivered;
    double server_cpu_s;
    uint64_t stalls;
} sb_measure;

static const char usage_text[] =
    "usage: satbench --url URL [options]\n"
    "  --url URL            subscriber URL, ws:// or http://, {n} is the channel number\n"
    "  --pub-url URL        publish URL (HTTP POST), {n} is the channel number\n"
    "  --mode MODE          ws, sse or lp (long-polling); default ws\n"
    "  --subs N             subscribers (default 100)\n"
    "  --channels N         channels; subscriber i joins channel i mod N (default 1)\n"
    "  --publishers N       publishing connections (default 4)\n"
    "  --threads N          event loops in the generator (default 2)\n"
    "  --size BYTES         message size, at least 23 (default 100)\n"
    "  --rate N             messages per second in total; 0 publishes as fast as\n"
    "                       deliveries keep up (default 0)\n"
    "  --window N           with --rate 0: messages published but not yet delivered\n"
    "                       to every subscriber (default 16)\n"
    "  --duration S         seconds of publishing, or of holding with --idle (default 10)\n"
    "  --settle S           seconds between the last connect and the memory reading (default 1)\n"
    "  --drain S            seconds to wait for late deliveries after publishing (default 2)\n"
    "  --concurrency N      connection attempts in flight per loop (default 256)\n"
    "  --connect-timeout S  seconds allowed for connecting (default 60)\n"
    "  --timeout S          hard limit for the whole run (default 300)\n"
    "  --atmosphere         send the Atmosphere protocol parameters when subscribing\n"
    "  --idle               connect and hold, publish nothing\n"
    "  --pid PID            server process whose VmRSS and CPU time are read; repeatable\n"
    "  --json FILE          also write the result as JSON to FILE\n"
    "  --label TEXT         row label (default: the mode)\n";

static int parse_int(const char *text, const char *name, int min, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "satbench: invalid %s '%s': expected an integer from %d to %d\n", name,
                text, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_double(const char *text, const char *name, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(text, &end);
    if (errno != 0 || *end != '\0' || *out < 0) {
        fprintf(stderr, "satbench: invalid %s '%s': expected a number >= 0\n", name, text);
        return -1;
    }
    return 0;
}

static int parse_mode(const char *text, sb_mode *mode)
{
    if (strcmp(text, "ws") == 0)
        *mode = SB_MODE_WS;
    else if (strcmp(text, "sse") == 0)
        *mode = SB_MODE_SSE;
    else if (strcmp(text, "lp") == 0)
        *mode = SB_MODE_LP;
    else {
        fprintf(stderr, "satbench: invalid --mode '%s': expected ws, sse or lp\n", text);
        return -1;
    }
    return 0;
}

static int parse_url_option(const char *text, const char *name, sb_url *url)
{
    if (sb_parse_url(text, url) == 0)
        return 0;
    fprintf(
        stderr,
        "satbench: invalid %s '%s': expected ws:// or http:// with a loopback host and a port\n",
        name, text);
    return -1;
}

static const struct option long_options[] = {
    {"url", required_argument, NULL, 'u'},
    {"pub-url", required_argument, NULL, 'P'},
    {"mode", required_argument, NULL, 'm'},
    {"subs", required_argument, NULL, 'n'},
    {"channels", required_argument, NULL, 'c'},
    {"publishers", required_argument, NULL, 'p'},
    {"threads", required_argument, NULL, 't'},
    {"size", required_argument, NULL, 's'},
    {"rate", required_argument, NULL, 'r'},
    {"window", required_argument, NULL, 'w'},
    {"duration", required_argument, NULL, 'd'},
    {"settle", required_argument, NULL, 'S'},
    {"drain", required_argument, NULL, 'D'},
    {"concurrency", required_argument, NULL, 'k'},
    {"connect-timeout", required_argument, NULL, 'C'},
    {"timeout", required_argument, NULL, 'T'},
    {"atmosphere", no_argument, NULL, 'a'},
    {"idle", no_argument, NULL, 'i'},
    {"pid", required_argument, NULL, 'x'},
    {"json", required_argument, NULL, 'j'},
    {"label", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int apply_option(sb_options *o, int c, const char *arg)
{
    switch (c) {
    case 'u':
        return parse_url_option(arg, "--url", &o->sub);
    case 'P':
        o->has_pub = true;
        return parse_url_option(arg, "--pub-url", &o->pub);
    case 'm':
        return parse_mode(arg, &o->mode);
    case 'n':
        return parse_int(arg, "--subs", 0, 1000000, &o->subs);
    case 'c':
        return parse_int(arg, "--channels", 1, 1000000, &o->channels);
    case 'p':
        return parse_int(arg, "--publishers", 1, 1024, &o->publishers);
    case 't':
        return parse_int(arg, "--threads", 1, SB_MAX_THREADS, &o->threads);
    case 's':
        return parse_int(arg, "--size", SB_STAMP_LEN, 16 * 1024 * 1024, &o->size);
    case 'r':
        return parse_double(arg, "--rate", &o->rate);
    case 'w':
        return parse_int(arg, "--window", 1, 1000000, &o->window);
    case 'd':
        return parse_double(arg, "--duration", &o->duration_s);
    case 'S':
        return parse_double(arg, "--settle", &o->settle_s);
    case 'D':
        return parse_double(arg, "--drain", &o->drain_s);
    case 'k':
        return parse_int(arg, "--concurrency", 1, 100000, &o->connect_concurrency);
    case 'C':
        return parse_double(arg, "--connect-timeout", &o->connect_timeout_s);
    case 'T':
        return parse_double(arg, "--timeout", &o->timeout_s);
    case 'a':
        o->atmosphere = true;
        return 0;
    case 'i':
        o->idle = true;
        return 0;
    case 'x':
        if (o->npids == SB_MAX_PIDS) {
            fprintf(stderr, "satbench: too many --pid options (maximum %d)\n", SB_MAX_PIDS);
            return -1;
        }
        return parse_int(arg, "--pid", 1, 1 << 30, &o->pids[o->npids++]);
    case 'j':
        o->json_path = arg;
        return 0;
    case 'l':
        o->label = arg;
        return 0;
    default:
        return -1;
    }
}

static int parse_options(int argc, char **argv, sb_options *o)
{
    bool have_url = false;
    int c;

    *o = (sb_options){.subs = 100,
                      .channels = 1,
                      .publishers = 4,
                      .threads = 2,
                      .size = 100,
                      .window = 16,
                      .duration_s = 10,
                      .settle_s = 1,
                      .drain_s = 2,
                      .connect_concurrency = 256,
                      .connect_timeout_s = 60,
                      .timeout_s = 300};
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (c == '?' || apply_option(o, c, optarg) != 0) {
            fputs(usage_text, stderr);
            return -1;
        }
        have_url |= c == 'u';
    }
    if (!have_url) {
        fprintf(stderr, "satbench: missing --url\n%s", usage_text);
        return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "satbench: unexpected argument '%s'\n%s", argv[optind], usage_text);
        return -1;
    }
    if (!o->idle && !o->has_pub) {
        fprintf(stderr, "satbench: --pub-url is required unless --idle is given\n");
        return -1;
    }
    if (o->label == NULL) {
        static const char *const mode_names[] = {"ws", "sse", "lp"};

        o->label = mode_names[o->mode];
    }
    return 0;
}

/* Raises the soft open-file limit to the hard limit, because the
 * subscribers, the publishers and libuv's own descriptors must fit under it. */
static void raise_nofile(const sb_options *o)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(o->subs + o->publishers + 64) > rl.rlim_cur)
        fprintf(stderr,
                "satbench: warning: %d connections need more than the %llu open files allowed\n",
                o->subs + o->publishers, (unsigned long long)rl.rlim_cur);
}

/* ---- loop threads ---- */

static void close_all(sb_thread *t)
{
    for (int i = 0; i < t->nsubs; i++)
        sb_sub_close(&t->subs[i]);
    for (int i = 0; i < t->npubs; i++)
        sb_pub_close(&t->pubs[i]);
    uv_close((uv_handle_t *)&t->tick, NULL);
}

static void enter_phase(sb_thread *t, sb_phase phase)
{
    double cpu = sb_thread_cpu_s();

    for (int p = (int)t->seen + 1; p <= (int)phase; p++)
        t->cpu_at[p] = cpu;
    t->seen = phase;
    if (phase == SB_PHASE_CONNECT && !t->opt->idle) {
        for (int i = 0; i < t->npubs; i++)
            sb_pub_start(&t->pubs[i]);
    }
    if (phase == SB_PHASE_PUBLISH) {
        t->pub_t0_ns = sb_now_ns();
        t->pub_sent = 0;
    }
    if (phase == SB_PHASE_STOP)
        close_all(t);
}

static void on_tick(uv_timer_t *timer)
{
    sb_thread *t = timer->data;
    sb_phase phase = (sb_phase)atomic_load(&t->run->phase);

    if (phase != t->seen)
        enter_phase(t, phase);
    if (phase == SB_PHASE_STOP || phase == SB_PHASE_INIT)
        return;
    while (t->connecting < t->opt->connect_concurrency && t->next_connect < t->nsubs) {
        t->connecting++;
        sb_sub_start(&t->subs[t->next_connect++]);
    }
    if (phase == SB_PHASE_PUBLISH)
        sb_pub_pump(t);
}

static void thread_main(void *arg)
{
    sb_thread *t = arg;

    uv_timer_init(&t->loop, &t->tick);
    t->tick.data = t;
    uv_timer_start(&t->tick, on_tick, 1, 1);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
}

static int setup_threads(sb_run *run)
{
    const sb_options *o = &run->opt;

    run->threads = calloc((size_t)o->threads, sizeof *run->threads);
    if (run->threads == NULL)
        return -1;
    for (int i = 0; i < o->threads; i++) {
        sb_thread *t = &run->threads[i];

        t->index = i;
        t->opt = o;
        t->run = run;
        t->nsubs = o->subs / o->threads + (i < o->subs % o->threads);
        t->npubs = o->idle ? 0 : o->publishers / o->threads + (i < o->publishers % o->threads);
        t->rate = o->rate * t->npubs / o->publishers;
        t->subs = calloc((size_t)t->nsubs + 1, sizeof *t->subs);
        t->pubs = calloc((size_t)t->npubs + 1, sizeof *t->pubs);
        if (t->subs == NULL || t->pubs == NULL || uv_loop_init(&t->loop) != 0)
            return -1;
        t->loop.data = t;
        for (int j = 0; j < t->nsubs; j++) {
            t->subs[j].t = t;
            t->subs[j].channel = (j * o->threads + i) % o->channels;
        }
        for (int j = 0; j < t->npubs; j++)
            t->pubs[j].t = t;
    }
    return 0;
}

/* ---- orchestration ---- */

static uint64_t sum_counter(const sb_run *run, size_t offset)
{
    uint64_t total = 0;

    for (int i = 0; i < run->opt.threads; i++)
        total += atomic_load((_Atomic uint64_t *)((char *)&run->threads[i] + offset));
    return total;
}

#define SUM(run, field) sum_counter((run), offsetof(sb_thread, field))

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long server_rss_kib(const sb_options *o)
{
    long total = 0;

    for (int i = 0; i < o->npids; i++) {
        long kib = sb_read_rss_kib(o->pids[i]);

        if (kib < 0)
            return -1;
        total += kib;
    }
    return o->npids > 0 ? total : -1;
}

static double server_cpu_s(const sb_options *o)
{
    double total = 0;

    for (int i = 0; i < o->npids; i++)
        total += sb_read_cpu_s(o->pids[i]);
    return total;
}

static void wait_connected(sb_run *run, sb_measure *m)
{
    uint64_t t0 = sb_now_ns();

    atomic_store(&run->phase, SB_PHASE_CONNECT);
    while ((double)(sb_now_ns() - t0) / 1e9 < run->opt.connect_timeout_s) {
        if (SUM(run, connected) + SUM(run, conn_errors) >= (uint64_t)run->opt.subs)
            break;
        sleep_s(0.005);
    }
    m->connect_s = (double)(sb_now_ns() - t0) / 1e9;
}

/* Writes off the deliveries still missing when none arrived for a second,
 * so a lost message cannot hold the publishing window shut. */
static void check_stall(sb_run *run, sb_measure *m, uint64_t *last, uint64_t *since)
{
    uint64_t delivered = atomic_load(&run->delivered);
    uint64_t now = sb_now_ns();

    if (delivered != *last) {
        *last = delivered;
        *since = now;
        return;
    }
    if (now - *since < STALL_NS)
        return;
    uint64_t expected = atomic_load(&run->published) * (uint64_t)run->fan;
    uint64_t accounted = delivered + atomic_load(&run->written_off);

    if (expected > accounted) {
        atomic_fetch_add(&run->written_off, expected - accounted);
        m->stalls++;
    }
    *since = now;
}

static void publish_phase(sb_run *run, sb_measure *m)
{
    const sb_options *o = &run->opt;
    uint64_t d0, t0, last = 0, since = sb_now_ns();
    double cpu0 = server_cpu_s(o);

    d0 = atomic_load(&run->delivered);
    t0 = sb_now_ns();
    atomic_store(&run->phase, SB_PHASE_PUBLISH);
    while ((double)(sb_now_ns() - t0) / 1e9 < o->duration_s) {
        sleep_s(0.01);
        if (o->rate == 0)
            check_stall(run, m, &last, &since);
    }
    m->pub_delivered = atomic_load(&run->delivered) - d0;
    m->pub_s = (double)(sb_now_ns() - t0) / 1e9;
    m->server_cpu_s = server_cpu_s(o) - cpu0;
    atomic_store(&run->phase, SB_PHASE_DRAIN);

    t0 = sb_now_ns();
    while ((double)(sb_now_ns() - t0) / 1e9 < o->drain_s &&
           atomic_load(&run->delivered) < atomic_load(&run->published) * (uint64_t)run->fan)
        sleep_s(0.01);
}

static void hold_phase(sb_run *run, sb_measure *m)
{
    double cpu0 = server_cpu_s(&run->opt);
    uint64_t t0 = sb_now_ns();

    atomic_store(&run->phase, SB_PHASE_HOLD);
    sleep_s(run->opt.duration_s);
    m->pub_s = (double)(sb_now_ns() - t0) / 1e9;
    m->server_cpu_s = server_cpu_s(&run->opt) - cpu0;
}

/* ---- report ---- */

typedef struct {
    uint64_t connected, conn_errors, dropped, published, publish_errors, delivered, expected;
    int64_t missing;
    double connect_rate, kib_per_conn, deliveries_per_s, publish_per_s;
    double p50_ms, p99_ms, max_ms, gen_cpu_max, gen_cpu_total, server_cpu;
    bool saturated;
} sb_result;

static void summarize(const sb_run *run, const sb_measure *m, const sb_hist *h, sb_result *r)
{
    const sb_options *o = &run->opt;
    sb_phase from = o->idle ? SB_PHASE_CONNECT : SB_PHASE_PUBLISH;
    sb_phase to = o->idle ? SB_PHASE_HOLD : SB_PHASE_DRAIN;
    double window = o->idle ? m->connect_s : m->pub_s;

    memset(r, 0, sizeof *r);
    r->connected = SUM(run, connected);
    r->conn_errors = SUM(run, conn_errors);
    r->dropped = SUM(run, dropped);
    r->published = atomic_load(&run->published);
    r->publish_errors = SUM(run, publish_errors);
    r->delivered = atomic_load(&run->delivered);
    r->expected = o->idle ? 0 : r->published * (uint64_t)run->fan;
    r->missing = (int64_t)r->expected - (int64_t)r->delivered;
    r->connect_rate = m->connect_s > 0 ? (double)r->connected / m->connect_s : 0;
    if (m->rss_before_kib >= 0 && m->rss_after_kib >= 0 && r->connected > 0)
        r->kib_per_conn = (double)(m->rss_after_kib - m->rss_before_kib) / (double)r->connected;
    r->deliveries_per_s = m->pub_s > 0 ? (double)m->pub_delivered / m->pub_s : 0;
    r->publish_per_s = m->pub_s > 0 && !o->idle ? (double)r->published / m->pub_s : 0;
    r->p50_ms = sb_hist_quantile_us(h, 0.50) / 1000;
    r->p99_ms = sb_hist_quantile_us(h, 0.99) / 1000;
    r->max_ms = (double)h->max_ns / 1e6;
    for (int i = 0; i < o->threads; i++) {
        const sb_thread *t = &run->threads[i];
        double pct = window > 0 ? 100 * (t->cpu_at[to] - t->cpu_at[from]) / window : 0;

        r->gen_cpu_total += pct;
        if (pct > r->gen_cpu_max)
            r->gen_cpu_max = pct;
    }
    r->saturated = r->gen_cpu_max > 90;
    r->server_cpu = m->pub_s > 0 ? 100 * m->server_cpu_s / m->pub_s : 0;
}

static void write_json(FILE *f, const sb_run *run, const sb_measure *m, const sb_result *r)
{
    const sb_options *o = &run->opt;
    static const char *const modes[] = {"ws", "sse", "lp"};

    fprintf(f,
            "{\"label\":\"%s\",\"mode\":\"%s\",\"atmosphere\":%s,\"subs\":%d,\"channels\":%d,"
            "\"size\":%d,\"rate_target\":%.1f,\"threads\":%d,\"publishers\":%d,"
            "\"connected\":%llu,\"connect_errors\":%llu,\"dropped\":%llu,\"connect_s\":%.3f,"
            "\"connect_per_s\":%.1f,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
            "\"rss_per_conn_bytes\":%.1f,\"duration_s\":%.3f,\"published\":%llu,"
            "\"publish_errors\":%llu,\"publish_per_s\":%.1f,\"delivered\":%llu,"
            "\"expected\":%llu,\"missing\":%lld,\"stalls\":%llu,\"deliveries_per_s\":%.1f,"
            "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f,\"latency_max_ms\":%.3f,"
            "\"gen_cpu_max_thread_pct\":%.1f,\"gen_cpu_total_pct\":%.1f,\"gen_saturated\":%s,"
            "\"server_cpu_pct\":%.1f}\n",
            o->label, modes[o->mode], o->atmosphere ? "true" : "false", o->subs, o->channels,
            o->size, o->rate, o->threads, o->publishers, (unsigned long long)r->connected,
            (unsigned long long)r->conn_errors, (unsigned long long)r->dropped, m->connect_s,
            r->connect_rate, m->rss_before_kib, m->rss_after_kib, r->kib_per_conn * 1024, m->pub_s,
            (unsigned long long)r->published, (unsigned long long)r->publish_errors,
            r->publish_per_s, (unsigned long long)r->delivered, (unsigned long long)r->expected,
            (long long)r->missing, (unsigned long long)m->stalls, r->deliveries_per_s, r->p50_ms,
            r->p99_ms, r->max_ms, r->gen_cpu_max, r->gen_cpu_total, r->saturated ? "true" : "false",
            r->server_cpu);
}

static void print_row(const sb_run *run, const sb_result *r)
{
    printf("| label | subs | conn/s | errors | B/conn | pub/s | deliveries/s | p50 ms | p99 ms "
           "| max ms | missing | gen CPU %% | server CPU %% |\n");
    printf("| %s | %llu | %.0f | %llu | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %lld | %.0f%s "
           "| %.0f |\n",
           run->opt.label, (unsigned long long)r->connected, r->connect_rate,
           (unsigned long long)(r->conn_errors + r->dropped + r->publish_errors),
           r->kib_per_conn * 1024, r->publish_per_s, r->deliveries_per_s, r->p50_ms, r->p99_ms,
           r->max_ms, (long long)r->missing, r->gen_cpu_max, r->saturated ? " (saturated)" : "",
           r->server_cpu);
}

static int report(const sb_run *run, const sb_measure *m)
{
    sb_hist *h = calloc(1, sizeof *h);
    sb_result r;
    int rc = 0;

    if (h == NULL)
        return -1;
    for (int i = 0; i < run->opt.threads; i++)
        sb_hist_merge(h, &run->threads[i].hist);
    summarize(run, m, h, &r);
    print_row(run, &r);
    if (run->opt.json_path != NULL) {
        FILE *f = fopen(run->opt.json_path, "w");

        if (f == NULL) {
            fprintf(stderr, "satbench: cannot write %s: %s\n", run->opt.json_path, strerror(errno));
            rc = -1;
        } else {
            write_json(f, run, m, &r);
            fclose(f);
        }
    }
    free(h);
    return rc;
}

int main(int argc, char **argv)
{
    sb_run *run = calloc(1, sizeof *run);
    sb_measure m = {0};
    int rc = 1;

    if (run == NULL || parse_options(argc, argv, &run->opt) != 0)
        goto out;
    alarm((unsigned)run->opt.timeout_s + 1);
    raise_nofile(&run->opt);
    run->fan = run->opt.subs / run->opt.channels > 0 ? run->opt.subs / run->opt.channels : 1;
    if (setup_threads(run) != 0) {
        fprintf(stderr, "satbench: out of memory setting up %d loops\n", run->opt.threads);
        goto out;
    }

    m.rss_before_kib = server_rss_kib(&run->opt);
    for (int i = 0; i < run->opt.threads; i++)
        uv_thread_create(&run->threads[i].tid, thread_main, &run->threads[i]);
    wait_connected(run, &m);
    sleep_s(run->opt.settle_s);
    m.rss_after_kib = server_rss_kib(&run->opt);

    if (run->opt.idle)
        hold_phase(run, &m);
    else
        publish_phase(run, &m);
    atomic_store(&run->phase, SB_PHASE_STOP);
    for (int i = 0; i < run->opt.threads; i++)
        uv_thread_join(&run->threads[i].tid);
    rc = report(run, &m) == 0 ? 0 : 1;

out:
    if (run != NULL && run->threads != NULL) {
        for (int i = 0; i < run->opt.threads; i++) {
            free(run->threads[i].subs);
            for (int j = 0; j < run->threads[i].npubs; j++)
                free(run->threads[i].pubs[j].buf);
            free(run->threads[i].pubs);
        }
        free(run->threads);
    }
    free(run);
    return rc;
}
