/* SPDX-License-Identifier: Apache-2.0 */
/* satbench: shared types of the push load generator. Options and the run
 * orchestration live in sb_main.c, subscribers in sb_sub.c, publishers in
 * sb_pub.c, and URL, histogram and /proc helpers in sb_util.c. */
#ifndef SATBENCH_H
#define SATBENCH_H

#include <http_parser.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SB_MAX_PIDS    16
#define SB_MAX_THREADS 16
/* Payload stamp: "@T", 20 decimal digits of CLOCK_MONOTONIC ns, ";". */
#define SB_STAMP_LEN  23
#define SB_HIST_SLOTS (1024 + 40 * 512)

typedef enum { SB_MODE_WS, SB_MODE_SSE, SB_MODE_LP } sb_mode;

/* Run phases, advanced only by the main thread and polled by the loops. */
typedef enum {
    SB_PHASE_INIT,
    SB_PHASE_CONNECT,
    SB_PHASE_HOLD,
    SB_PHASE_PUBLISH,
    SB_PHASE_DRAIN,
    SB_PHASE_STOP,
    SB_PHASE_COUNT
} sb_phase;

/* A parsed ws:// or http:// URL whose path may contain {n}. */
typedef struct {
    char hostport[80];
    char path[512];
    struct sockaddr_storage addr;
} sb_url;

typedef struct {
    sb_mode mode;
    sb_url sub;
    sb_url pub;
    bool has_pub;
    int subs;
    int channels;
    int publishers;
    int threads;
    int size;
    int connect_concurrency;
    int window;
    double rate;
    double duration_s;
    double settle_s;
    double drain_s;
    double connect_timeout_s;
    double timeout_s;
    bool atmosphere;
    bool idle;
    int pids[SB_MAX_PIDS];
    int npids;
    const char *json_path;
    const char *label;
} sb_options;

/* Log-linear latency histogram in microseconds: exact below 1024 us, then
 * 512 slots per power of two (0.2% resolution). */
typedef struct {
    uint64_t slot[SB_HIST_SLOTS];
    uint64_t count;
    uint64_t max_ns;
} sb_hist;

struct sb_run;
struct sb_thread;

typedef struct sb_sub {
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct sb_thread *t;
    int channel;
    uint8_t state;
    bool ws;
    bool counted;
    bool reconnect;
    http_parser hp;
    /* WebSocket frame parser state. */
    uint8_t hdr[14];
    uint8_t hdr_len;
    uint8_t opcode;
    bool in_payload;
    uint64_t left;
    uint8_t ctrl[125];
    uint8_t ctrl_len;
    /* Last bytes of the previous chunk, so a stamp split across reads is found. */
    char tail[SB_STAMP_LEN - 1];
    uint8_t tail_len;
    /* Long-polling: values to send back on the next poll. */
    char field[40];
    char tracking[72];
    char etag[72];
    char last_modified[72];
    uint8_t hdr_which;
} sb_sub;

typedef struct sb_pub {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct sb_thread *t;
    http_parser hp;
    char *buf;
    size_t cap;
    bool open;
    bool busy;
    bool write_done;
    bool response_done;
    bool closing;
} sb_pub;

typedef struct sb_thread {
    int index;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_thread_t tid;
    const sb_options *opt;
    struct sb_run *run;
    sb_phase seen;
    double cpu_at[SB_PHASE_COUNT];
    sb_sub *subs;
    int nsubs;
    int next_connect;
    int connecting;
    sb_pub *pubs;
    int npubs;
    uint64_t pub_seq;
    uint64_t pub_sent;
    uint64_t pub_t0_ns;
    double rate;
    uint64_t now_ns;
    sb_hist hist;
    _Atomic uint64_t delivered;
    _Atomic uint64_t connected;
    _Atomic uint64_t conn_errors;
    _Atomic uint64_t dropped;
    _Atomic uint64_t published;
    _Atomic uint64_t publish_errors;
    _Atomic int open_handles;
    char rbuf[65536];
} sb_thread;

typedef struct sb_run {
    _Atomic int phase;
    _Atomic uint64_t published;
    _Atomic uint64_t delivered;
    _Atomic uint64_t written_off;
    int fan;
    sb_options opt;
    sb_thread *threads;
} sb_run;

/* sb_util.c */
uint64_t sb_now_ns(void);
int sb_parse_url(const char *text, sb_url *url) __attribute__((warn_unused_result));
size_t sb_expand(const char *tmpl, int n, char *out, size_t cap);
void sb_hist_add(sb_hist *h, uint64_t ns);
void sb_hist_merge(sb_hist *into, const sb_hist *from);
double sb_hist_quantile_us(const sb_hist *h, double q);
long sb_read_rss_kib(int pid);
double sb_read_cpu_s(int pid);
double sb_thread_cpu_s(void);
void sb_write_stamp(char *out, size_t size, uint64_t ns);
int sb_scan_stamps(sb_sub *s, const char *data, size_t len) __attribute__((warn_unused_result));

/* sb_sub.c */
void sb_sub_start(sb_sub *s);
void sb_sub_close(sb_sub *s);
void sb_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);

/* sb_pub.c */
void sb_pub_start(sb_pub *p);
void sb_pub_close(sb_pub *p);
void sb_pub_pump(sb_thread *t);

#endif
