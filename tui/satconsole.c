/* SPDX-License-Identifier: Apache-2.0 */
/* satconsole entry point: settings from flags, environment and the config
 * file (in that order of precedence), then either one plain-text snapshot
 * (--once) or the curses interface. */
#include "con_format.h"
#include "con_model.h"
#include "con_once.h"
#include "con_ui.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL         "http://127.0.0.1:8081"
#define DEFAULT_TIMEOUT_MS  3000
#define DEFAULT_POLL_MS     1000
#define DEFAULT_MAX_OBJECTS 5000

static const char usage[] =
    "Usage: satconsole [--url URL] [--token-file FILE] [--config FILE] [--once]\n"
    "Operator console for satellited's REST admin API.\n"
    "\n"
    "  --url URL          admin API base URL (default " DEFAULT_URL ")\n"
    "  --token-file FILE  file whose first line is the bearer token for writes\n"
    "  --config FILE      key=value settings (default ~/.config/satconsole.conf)\n"
    "  --once             print one snapshot as 'name value' lines and exit\n"
    "  --help             show this help\n"
    "\n"
    "Environment: SATCONSOLE_URL, SATCONSOLE_TOKEN. Config keys: url, token,\n"
    "token_file, timeout_ms, poll_ms, max_objects.\n";

/* Reads the first line of path as the token. 0, or -1 with msg. */
static int read_token_file(const char *path, char *token, size_t size, char *msg, size_t msize)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f) {
        snprintf(msg, msize, "cannot open token file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!fgets(token, (int)size, f))
        token[0] = '\0';
    fclose(f);
    n = strcspn(token, "\r\n");
    token[n] = '\0';
    return 0;
}

/* Parses a positive decimal for a config key. */
static int parse_positive(const char *key, const char *value, long *out, char *msg, size_t size)
{
    char *end = NULL;
    long v = strtol(value, &end, 10);

    if (*value == '\0' || *end != '\0' || v <= 0) {
        snprintf(msg, size, "%s must be a positive integer, got '%s'", key, value);
        return -1;
    }
    *out = v;
    return 0;
}

static int apply_key(con_options *opt, const char *key, const char *value, char *msg, size_t size)
{
    long v;

    if (strcmp(key, "url") == 0) {
        snprintf(opt->url, sizeof(opt->url), "%s", value);
    } else if (strcmp(key, "token") == 0) {
        snprintf(opt->token, sizeof(opt->token), "%s", value);
    } else if (strcmp(key, "token_file") == 0) {
        return read_token_file(value, opt->token, sizeof(opt->token), msg, size);
    } else if (strcmp(key, "timeout_ms") == 0 || strcmp(key, "poll_ms") == 0 ||
               strcmp(key, "max_objects") == 0) {
        if (parse_positive(key, value, &v, msg, size) != 0)
            return -1;
        if (key[0] == 't')
            opt->timeout_ms = v;
        else if (key[0] == 'p')
            opt->poll_ms = v;
        else
            opt->max_objects = (size_t)v;
    } else {
        snprintf(msg, size, "unknown key '%s'", key);
        return -1;
    }
    return 0;
}

/* Reads a config file. A missing default file is fine; a missing explicit
 * one is an error. */
static int read_config(const char *path, bool explicit_path, con_options *opt, char *msg,
                       size_t size)
{
    FILE *f = fopen(path, "r");
    char line[1024], why[256];
    int lineno = 0, rc = 0;

    if (!f) {
        if (!explicit_path && errno == ENOENT)
            return 0;
        snprintf(msg, size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *key, *value;
        int kind = con_conf_parse_line(line, &key, &value);

        lineno++;
        if (kind == 0)
            continue;
        if (kind < 0) {
            snprintf(msg, size, "%s:%d: expected key = value", path, lineno);
            rc = -1;
        } else if (apply_key(opt, key, value, why, sizeof(why)) != 0) {
            snprintf(msg, size, "%.400s:%d: %.250s", path, lineno, why);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

static void default_config_path(char *out, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (xdg && xdg[0])
        snprintf(out, size, "%s/satconsole.conf", xdg);
    else
        snprintf(out, size, "%s/.config/satconsole.conf", home ? home : ".");
}

struct args {
    const char *url, *token_file, *config;
    bool once, help;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},    {"token-file", required_argument, NULL, 't'},
        {"config", required_argument, NULL, 'c'}, {"once", no_argument, NULL, '1'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;

    memset(a, 0, sizeof(*a));
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            a->url = optarg;
            break;
        case 't':
            a->token_file = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case '1':
            a->once = true;
            break;
        case 'h':
            a->help = true;
            break;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* Fills opt from defaults, the config file, the environment and flags. */
static int load_options(const struct args *a, con_options *opt, char *msg, size_t size)
{
    char path[1024];
    const char *env;

    memset(opt, 0, sizeof(*opt));
    snprintf(opt->url, sizeof(opt->url), "%s", DEFAULT_URL);
    opt->timeout_ms = DEFAULT_TIMEOUT_MS;
    opt->poll_ms = DEFAULT_POLL_MS;
    opt->max_objects = DEFAULT_MAX_OBJECTS;
    default_config_path(path, sizeof(path));
    if (read_config(a->config ? a->config : path, a->config != NULL, opt, msg, size) != 0)
        return -1;
    if ((env = getenv("SATCONSOLE_URL")) && env[0])
        snprintf(opt->url, sizeof(opt->url), "%s", env);
    if ((env = getenv("SATCONSOLE_TOKEN")) && env[0])
        snprintf(opt->token, sizeof(opt->token), "%s", env);
    if (a->url)
        snprintf(opt->url, sizeof(opt->url), "%s", a->url);
    if (a->token_file &&
        read_token_file(a->token_file, opt->token, sizeof(opt->token), msg, size) != 0)
        return -1;
    return 0;
}

static int run_once(con_model *m, const con_options *opt)
{
    const con_snapshot *s;
    int rc = con_model_fetch_once(m);

    s = con_model_lock(m);
    if (rc != 0)
        fprintf(stderr, "satconsole: %s %s: %s\n", opt->url,
                s->link == CON_LINK_AUTH ? "rejected the request" : "is unreachable", s->message);
    else
        con_once_print(s, stdout);
    con_model_unlock(m);
    if (rc == 0 && fflush(stdout) != 0) {
        fprintf(stderr, "satconsole: writing the snapshot failed: %s\n", strerror(errno));
        rc = -1;
    }
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct args a;
    con_options opt;
    con_model *m = NULL;
    char msg[1200];
    int status = 2;

    setlocale(LC_ALL, "");
    if (parse_args(argc, argv, &a) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (load_options(&a, &opt, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "satconsole: %s\n", msg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("satconsole: libcurl initialisation failed\n", stderr);
        return 1;
    }
    m = con_model_new(&opt);
    if (!m) {
        fputs("satconsole: out of memory\n", stderr);
        goto out;
    }
    status = a.once ? run_once(m, &opt) : con_ui_run(m, &opt);
out:
    con_model_free(m);
    curl_global_cleanup();
    return status;
}
