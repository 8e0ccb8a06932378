/* SPDX-License-Identifier: Apache-2.0 */
/* satbench helpers: URL parsing and {n} templates, payload stamps and the
 * stamp scanner, the latency histogram, and /proc and getrusage readings. */
#include "satbench.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t sb_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* Parses ws://HOST:PORT/PATH or http://HOST:PORT/PATH. HOST must be a
 * loopback literal (127.x.y.z, [::1]) or "localhost": the generator only
 * loads servers on this machine. Returns 0 or -1. */
int sb_parse_url(const char *text, sb_url *url)
{
    const char *rest, *slash, *colon;
    char host[64];
    int port;

    memset(url, 0, sizeof *url);
    if (strncmp(text, "ws://", 5) == 0)
        rest = text + 5;
    else if (strncmp(text, "http://", 7) == 0)
        rest = text + 7;
    else
        return -1;
    slash = strchr(rest, '/');
    if (slash == NULL)
        slash = rest + strlen(rest);
    if ((size_t)(slash - rest) >= sizeof url->hostport)
        return -1;
    memcpy(url->hostport, rest, (size_t)(slash - rest));
    snprintf(url->path, sizeof url->path, "%s", *slash ? slash : "/");

    colon = strrchr(url->hostport, ':');
    if (colon == NULL || (port = atoi(colon + 1)) <= 0 || port > 65535)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - url->hostport), url->hostport);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (host[0] == '[') {
        host[strlen(host) - 1] = '\0';
        if (uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)&url->addr) != 0)
            return -1;
    } else if (uv_ip4_addr(host, port, (struct sockaddr_in *)&url->addr) != 0) {
        return -1;
    }
    return is_loopback(&url->addr) ? 0 : -1;
}

/* Copies TMPL to OUT with every "{n}" replaced by N. Returns the length,
 * truncated to CAP - 1. */
size_t sb_expand(const char *tmpl, int n, char *out, size_t cap)
{
    size_t o = 0;

    for (const char *p = tmpl; *p != '\0' && o + 1 < cap;) {
        if (strncmp(p, "{n}", 3) == 0) {
            int w = snprintf(out + o, cap - o, "%d", n);

            o += w > 0 ? (size_t)w : 0;
            if (o >= cap)
                o = cap - 1;
            p += 3;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return o;
}

static size_t hist_slot(uint64_t us)
{
    int e;
    size_t slot;

    if (us < 1024)
        return (size_t)us;
    e = 63 - __builtin_clzll(us) - 9;
    slot = 1024 + (size_t)(e - 1) * 512 + (size_t)((us >> e) - 512);
    return slot < SB_HIST_SLOTS ? slot : SB_HIST_SLOTS - 1;
}

/* Returns the middle of the slot's range in microseconds. */
static double slot_value_us(size_t slot)
{
    size_t e, m;

    if (slot < 1024)
        return (double)slot + 0.5;
    e = (slot - 1024) / 512 + 1;
    m = (slot - 1024) % 512 + 512;
    return ((double)m + 0.5) * (double)(1ull << e);
}

void sb_hist_add(sb_hist *h, uint64_t ns)
{
    h->slot[hist_slot(ns / 1000)]++;
    h->count++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void sb_hist_merge(sb_hist *into, const sb_hist *from)
{
    for (size_t i = 0; i < SB_HIST_SLOTS; i++)
        into->slot[i] += from->slot[i];
    into->count += from->count;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

/* Returns the Q quantile (0..1) in microseconds, or 0 for an empty histogram. */
double sb_hist_quantile_us(const sb_hist *h, double q)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    for (size_t i = 0; i < SB_HIST_SLOTS; i++) {
        seen += h->slot[i];
        if (seen > rank)
            return slot_value_us(i);
    }
    return (double)h->max_ns / 1000.0;
}

/* Returns VmRSS of PID in KiB from /proc/PID/status, or -1. */
long sb_read_rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    }
    fclose(f);
    return kib;
}

/* Returns user + system CPU seconds of PID from /proc/PID/stat, or -1. */
double sb_read_cpu_s(int pid)
{
    char path[64], text[1024];
    unsigned long long utime, stime;
    const char *p;
    size_t n;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The command name may contain spaces: fields restart after its ')'. */
    p = strrchr(text, ')');
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

double sb_thread_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Writes a SIZE-byte payload: the stamp, then 'x' padding. SIZE is at least
 * SB_STAMP_LEN (checked when options are parsed). */
void sb_write_stamp(char *out, size_t size, uint64_t ns)
{
    char stamp[SB_STAMP_LEN + 1];

    snprintf(stamp, sizeof stamp, "@T%020llu;", (unsigned long long)ns);
    memcpy(out, stamp, SB_STAMP_LEN);
    memset(out + SB_STAMP_LEN, 'x', size - SB_STAMP_LEN);
}

/* Parses a complete stamp at P; returns its time or 0 when P holds none. */
static uint64_t parse_stamp(const char *p)
{
    uint64_t ns = 0;

    if (p[0] != '@' || p[1] != 'T' || p[SB_STAMP_LEN - 1] != ';')
        return 0;
    for (int i = 2; i < SB_STAMP_LEN - 1; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        ns = ns * 10 + (uint64_t)(p[i] - '0');
    }
    return ns;
}

static int record(sb_sub *s, uint64_t stamp)
{
    sb_thread *t = s->t;

    if (stamp == 0)
        return 0;
    sb_hist_add(&t->hist, t->now_ns > stamp ? t->now_ns - stamp : 0);
    return 1;
}

/* Counts the stamps in the next LEN bytes of one subscriber's message stream
 * and records their latency; a stamp may straddle two calls. */
int sb_scan_stamps(sb_sub *s, const char *data, size_t len)
{
    int found = 0;
    const char *p, *end = data + len;

    if (s->tail_len > 0) {
        char joint[2 * (SB_STAMP_LEN - 1)];
        size_t take = len < SB_STAMP_LEN - 1 ? len : SB_STAMP_LEN - 1;
        size_t total = s->tail_len + take;

        memcpy(joint, s->tail, s->tail_len);
        memcpy(joint + s->tail_len, data, take);
        for (size_t i = 0; i < s->tail_len && i + SB_STAMP_LEN <= total; i++) {
            if (joint[i] == '@')
                found += record(s, parse_stamp(joint + i));
        }
    }
    for (p = data; (p = memchr(p, '@', (size_t)(end - p))) != NULL; p++) {
        if (end - p < SB_STAMP_LEN)
            break;
        found += record(s, parse_stamp(p));
    }

    if (len >= SB_STAMP_LEN - 1) {
        memcpy(s->tail, end - (SB_STAMP_LEN - 1), SB_STAMP_LEN - 1);
        s->tail_len = SB_STAMP_LEN - 1;
    } else {
        size_t keep = s->tail_len + len > SB_STAMP_LEN - 1 ? SB_STAMP_LEN - 1 - len : s->tail_len;

        memmove(s->tail, s->tail + (s->tail_len - keep), keep);
        memcpy(s->tail + keep, data, len);
        s->tail_len = (uint8_t)(keep + len);
    }
    return found;
}
