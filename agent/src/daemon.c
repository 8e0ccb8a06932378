/* SPDX-License-Identifier: Apache-2.0 */
/* satellited's command line, start-up order, admin token, ready file,
 * configuration reload and shutdown. */
#include "daemon.h"
#include "daemon_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: satellited [OPTION]...\n"
    "Runs the Satellite push server with its REST admin API and SNMP agent.\n"
    "\n"
    "  -c, --config FILE          read the INI configuration FILE\n"
    "      --push-listen ADDR     push port address, host:port (push.listen)\n"
    "      --admin-listen ADDR    REST admin address, host:port (admin.listen)\n"
    "      --snmp-listen ADDR     embedded SNMP agent, udp:host:port (snmp.listen)\n"
    "      --agentx SOCKET        run as an AgentX subagent of the snmpd at SOCKET\n"
    "      --no-snmp              do not start the SNMP agent\n"
    "      --no-admin             do not start the REST admin API\n"
    "      --workers N            I/O worker threads; 0 = one per CPU (push.workers)\n"
    "      --log-level LEVEL      error, warn, info or debug (log.level)\n"
    "      --set KEY=VALUE        set any configuration key, e.g. engine.heartbeat_s=30\n"
    "      --ready-file FILE      write the bound addresses as JSON to FILE once ready\n"
    "      --check-config         validate the configuration and exit\n"
    "      --version              print the version and exit\n"
    "  -h, --help                 print this help and exit\n"
    "\n"
    "Port 0 picks a free port; the chosen addresses are logged and written to the\n"
    "ready file. Keys and defaults: docs/configuration.md.\n";

static int add_set(daemon_state *st, const char *key, const char *value)
{
    char *joined;

    if (st->set_count >= DAEMON_MAX_SETS) {
        fprintf(stderr, "satellited: too many --set options (the maximum is %d)\n",
                DAEMON_MAX_SETS);
        return -1;
    }
    if (asprintf(&joined, "%s=%s", key, value) < 0)
        return -1;
    st->sets[st->set_count++] = joined;
    return 0;
}

int daemon_parse_args(daemon_state *st, int argc, char **argv)
{
    enum { O_PUSH = 256, O_ADMIN, O_SNMP, O_AGENTX, O_NOSNMP, O_NOADMIN, O_WORKERS, O_LEVEL,
           O_SET, O_READY, O_CHECK, O_VERSION };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"push-listen", required_argument, NULL, O_PUSH},
        {"admin-listen", required_argument, NULL, O_ADMIN},
        {"snmp-listen", required_argument, NULL, O_SNMP},
        {"agentx", required_argument, NULL, O_AGENTX}, {"no-snmp", no_argument, NULL, O_NOSNMP},
        {"no-admin", no_argument, NULL, O_NOADMIN}, {"workers", required_argument, NULL, O_WORKERS},
        {"log-level", required_argument, NULL, O_LEVEL}, {"set", required_argument, NULL, O_SET},
        {"ready-file", required_argument, NULL, O_READY},
        {"check-config", no_argument, NULL, O_CHECK}, {"version", no_argument, NULL, O_VERSION},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    memset(st, 0, sizeof *st);
    pthread_mutex_init(&st->reload_lock, NULL);
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            st->config_path = optarg;
            break;
        case O_PUSH:
            rc = add_set(st, "push.listen", optarg);
            break;
        case O_ADMIN:
            rc = add_set(st, "admin.listen", optarg);
            break;
        case O_SNMP:
            rc = add_set(st, "snmp.listen", optarg);
            break;
        case O_AGENTX:
            rc = add_set(st, "snmp.agentx", optarg);
            break;
        case O_NOSNMP:
            rc = add_set(st, "snmp.enabled", "false");
            break;
        case O_NOADMIN:
            rc = add_set(st, "admin.enabled", "false");
            break;
        case O_WORKERS:
            rc = add_set(st, "push.workers", optarg);
            break;
        case O_LEVEL:
            rc = add_set(st, "log.level", optarg);
            break;
        case O_SET:
            if (strchr(optarg, '=') == NULL) {
                fprintf(stderr, "satellited: invalid --set '%s': expected KEY=VALUE\n", optarg);
                return DAEMON_EXIT_USAGE;
            }
            if (st->set_count >= DAEMON_MAX_SETS) {
                fprintf(stderr, "satellited: too many --set options\n");
                return DAEMON_EXIT_USAGE;
            }
            st->sets[st->set_count++] = strdup(optarg);
            break;
        case O_READY:
            st->ready_file = optarg;
            break;
        case O_CHECK:
            st->check_only = true;
            break;
        case O_VERSION:
            printf("satellited %s\n", sat_version());
            return DAEMON_EXIT_OK;
        case 'h':
            fputs(usage_text, stdout);
            return DAEMON_EXIT_OK;
        default:
            fputs("Try 'satellited --help'.\n", stderr);
            return DAEMON_EXIT_USAGE;
        }
        if (rc != 0)
            return DAEMON_EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "satellited: unexpected argument '%s'\nTry 'satellited --help'.\n",
                argv[optind]);
        return DAEMON_EXIT_USAGE;
    }
    return DAEMON_CONTINUE;
}

/* Applies the --set values. Some keys are checked against others, because
 * an SNMPv3 user needs its passphrase. So a value rejected in one pass is
 * tried again until a pass changes nothing, and only then is its error
 * final. Prints each final error to `report` (may be NULL); returns 0 or -1. */
static int apply_sets(daemon_state *st, sat_config *cfg, FILE *report)
{
    bool applied[DAEMON_MAX_SETS] = {false};
    bool progress = true;
    int rc = 0;

    while (progress) {
        progress = false;
        for (size_t i = 0; i < st->set_count; i++) {
            char key[128];
            const char *eq = strchr(st->sets[i], '=');
            size_t n = (size_t)(eq - st->sets[i]);

            if (applied[i])
                continue;
            snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1),
                     st->sets[i]);
            if (sat_config_set(cfg, key, eq + 1, SAT_CFG_SRC_CMDLINE, NULL) == SAT_OK) {
                applied[i] = true;
                progress = true;
            }
        }
    }
    for (size_t i = 0; i < st->set_count; i++) {
        char key[128];
        const char *eq = strchr(st->sets[i], '=');
        size_t n = (size_t)(eq - st->sets[i]);
        sat_config_error err;

        if (applied[i])
            continue;
        snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), st->sets[i]);
        if (sat_config_set(cfg, key, eq + 1, SAT_CFG_SRC_CMDLINE, &err) != SAT_OK) {
            if (report != NULL)
                fprintf(report, "satellited: command line: %s\n", err.message);
            rc = -1;
        }
    }
    return rc;
}

/* Builds a configuration from defaults, the file, then --set overrides.
 * Every problem is printed; returns NULL when there was any. */
static sat_config *build_config(daemon_state *st, FILE *report)
{
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    bool failed = false;

    if (cfg == NULL)
        return NULL;
    if (st->config_path != NULL && sat_config_load_file(cfg, st->config_path, &errs) != SAT_OK)
        failed = true;
    if (apply_sets(st, cfg, report) != 0)
        failed = true;
    for (size_t i = 0; i < errs.count; i++) {
        char line[400];

        fprintf(report, "satellited: %s: %s\n", st->config_path,
                sat_config_error_format(&errs.items[i], line, sizeof line));
    }
    sat_config_errors_free(&errs);
    if (failed) {
        sat_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Reads the first line of an existing token file (consumes f). The token
 * must be printable ASCII without spaces, like admin.token. */
static int read_token_file(daemon_state *st, FILE *f, const char *path)
{
    struct stat sb;
    bool ok;

    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        log_line(SAT_LOG_ERROR, "daemon", "admin token file %s is not a regular file", path);
        return -1;
    }
    if ((sb.st_mode & 077) != 0)
        log_line(SAT_LOG_WARN, "daemon",
                 "admin token file %s is readable by other users (mode %03o); run chmod 600",
                 path, (unsigned)(sb.st_mode & 0777));
    ok = fgets(st->token, sizeof st->token, f) != NULL;
    fclose(f);
    st->token[strcspn(st->token, "\r\n")] = '\0';
    if (!ok || st->token[0] == '\0') {
        log_line(SAT_LOG_ERROR, "daemon", "admin token file %s is empty; write a token into it",
                 path);
        return -1;
    }
    for (const char *p = st->token; *p != '\0'; p++) {
        if (*p <= ' ' || *p > '~') {
            log_line(SAT_LOG_ERROR, "daemon",
                     "invalid admin token in %s: use printable ASCII without spaces", path);
            st->token[0] = '\0';
            return -1;
        }
    }
    return 0;
}

/* Reads the admin token from admin.token, else from admin.token_file,
 * creating that file (mode 0600) with a random token when it is missing. */
static int load_token(daemon_state *st)
{
    const char *inline_token = sat_config_str(st->cfg, "admin.token");
    const char *path = sat_config_str(st->cfg, "admin.token_file");
    uint8_t raw[24];
    FILE *f;
    int fd;

    if (inline_token[0] != '\0') {
        snprintf(st->token, sizeof st->token, "%s", inline_token);
        return 0;
    }
    f = fopen(path, "r");
    if (f != NULL)
        return read_token_file(st, f, path);
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        log_line(SAT_LOG_ERROR, "daemon", "failed to generate an admin token: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(st->token + 2 * i, 3, "%02x", raw[i]);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, st->token, strlen(st->token)) < 0 || write(fd, "\n", 1) < 0) {
        log_line(SAT_LOG_ERROR, "daemon", "failed to create admin token file %s: %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    log_line(SAT_LOG_INFO, "daemon", "created admin token file %s (mode 0600)", path);
    return 0;
}

static void on_rest_log(void *userdata, sat_log_level level, const char *message)
{
    (void)userdata;
    log_line(level, "rest", "%s", message);
}

static void on_snmp_log(void *userdata, sat_log_level level, const char *message)
{
    (void)userdata;
    log_line(level, "snmp", "%s", message);
}

static int start_rest(daemon_state *st, char *addr, size_t size)
{
    rest_options opt = {0};
    char host[128], err[256];
    int port;

    if (!sat_config_bool(st->cfg, "admin.enabled"))
        return 0;
    if (load_token(st) != 0)
        return -1;
    sat_config_parse_addr(sat_config_str(st->cfg, "admin.listen"), host, sizeof host, &port);
    opt.host = host;
    opt.port = port;
    opt.token = st->token;
    opt.auth_reads = sat_config_bool(st->cfg, "admin.auth_reads");
    opt.max_body_bytes = (size_t)sat_config_int(st->cfg, "admin.max_body_bytes");
    opt.threads = (unsigned)sat_config_int(st->cfg, "admin.max_connections");
    opt.idle_timeout_s = (unsigned)sat_config_int(st->cfg, "admin.idle_timeout_s");
    opt.sse_keepalive_ms = (unsigned)sat_config_int(st->cfg, "admin.event_keepalive_ms");
    opt.log = on_rest_log;
    /* The server answers requests before rest_start returns, and one of
     * them may reconfigure: on_reconfigured reads st->rest under this lock. */
    pthread_mutex_lock(&st->reload_lock);
    st->rest = rest_start(sat_framework_registry(st->fw), &opt, err, sizeof err);
    pthread_mutex_unlock(&st->reload_lock);
    if (st->rest == NULL) {
        log_line(SAT_LOG_ERROR, "daemon", "REST admin API failed to start: %s", err);
        return -1;
    }
    snprintf(addr, size, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, rest_port(st->rest));
    return 0;
}

static int start_snmp(daemon_state *st, char *addr, size_t size)
{
    snmp_options opt = {0};
    char err[256];

    if (!sat_config_bool(st->cfg, "snmp.enabled"))
        return 0;
    opt.listen = sat_config_str(st->cfg, "snmp.listen");
    opt.agentx = sat_config_str(st->cfg, "snmp.agentx");
    opt.community = sat_config_str(st->cfg, "snmp.community");
    opt.rwcommunity = sat_config_str(st->cfg, "snmp.rwcommunity");
    opt.v3_user = sat_config_str(st->cfg, "snmp.v3_user");
    opt.v3_auth_pass = sat_config_str(st->cfg, "snmp.v3_auth_pass");
    opt.v3_priv_pass = sat_config_str(st->cfg, "snmp.v3_priv_pass");
    opt.cache_ms = (unsigned)sat_config_int(st->cfg, "snmp.cache_ms");
    opt.trap_sinks = sat_config_str(st->cfg, "snmp.trap_sinks");
    opt.agentx_ping_s = (unsigned)sat_config_int(st->cfg, "snmp.agentx_ping_s");
    opt.agentx_timeout_ms = (unsigned)sat_config_int(st->cfg, "snmp.agentx_timeout_ms");
    opt.log = on_snmp_log;
    st->snmp = snmp_agent_start(sat_framework_registry(st->fw), &opt, err, sizeof err);
    if (st->snmp == NULL) {
        log_line(SAT_LOG_ERROR, "daemon", "SNMP agent failed to start: %s", err);
        return -1;
    }
    snprintf(addr, size, "%s", snmp_agent_address(st->snmp));
    return 0;
}

static void json_string(FILE *f, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Writes the ready file atomically (temporary file, then rename) with mode
 * 0600, because it carries the admin token for local tools and tests. */
static int write_ready_file(daemon_state *st, const char *push, const char *admin,
                            const char *snmp)
{
    char tmp[4096];
    FILE *f;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp", st->ready_file);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        log_line(SAT_LOG_ERROR, "daemon", "failed to write ready file %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f, "{\"pid\":%ld,\"push\":", (long)getpid());
    json_string(f, push);
    fputs(",\"admin\":", f);
    json_string(f, admin);
    fputs(",\"snmp\":", f);
    json_string(f, snmp);
    fputs(",\"token\":", f);
    pthread_mutex_lock(&st->reload_lock);
    json_string(f, admin[0] != '\0' ? st->token : NULL);
    pthread_mutex_unlock(&st->reload_lock);
    fputs("}\n", f);
    if (fclose(f) != 0 || rename(tmp, st->ready_file) != 0) {
        log_line(SAT_LOG_ERROR, "daemon", "failed to write ready file %s: %s", st->ready_file,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* The reload loader: defaults, the file, then the command line. */
static int load_for_reload(void *userdata, sat_config **out, sat_config_errors *errs)
{
    daemon_state *st = userdata;
    sat_config *cfg = sat_config_new();

    *out = NULL;
    if (cfg == NULL)
        return SAT_ENOMEM;
    if (st->config_path != NULL && sat_config_load_file(cfg, st->config_path, errs) != SAT_OK) {
        sat_config_free(cfg);
        return SAT_EINVAL;
    }
    (void)apply_sets(st, cfg, NULL);
    *out = cfg;
    return SAT_OK;
}

static void apply_logging(const sat_config *cfg)
{
    sat_log_level level = SAT_LOG_INFO;

    sat_log_level_parse(sat_config_str(cfg, "log.level"), &level);
    log_init(level, strcmp(sat_config_str(cfg, "log.target"), "syslog") == 0,
             (int)sat_config_int(cfg, "log.repeat_limit_per_s"));
}

/* Applies the live admin and log keys after a reload or a runtime
 * override: the REST token, auth_reads and body limit, and the log level. */
static void on_reconfigured(void *userdata, const sat_config *cfg)
{
    daemon_state *st = userdata;
    const char *inline_token = sat_config_str(cfg, "admin.token");
    sat_log_level level = SAT_LOG_INFO;

    if (sat_log_level_parse(sat_config_str(cfg, "log.level"), &level) == SAT_OK)
        sat_log_set_level(level);
    log_set_limit((int)sat_config_int(cfg, "log.repeat_limit_per_s"));
    pthread_mutex_lock(&st->reload_lock);
    if (st->rest != NULL) {
        if (inline_token[0] != '\0')
            snprintf(st->token, sizeof st->token, "%s", inline_token);
        if (rest_set_auth(st->rest, st->token, sat_config_bool(cfg, "admin.auth_reads"),
                          (size_t)sat_config_int(cfg, "admin.max_body_bytes")) != 0)
            log_line(SAT_LOG_WARN, "daemon",
                     "failed to apply the new admin settings to the REST server");
    }
    pthread_mutex_unlock(&st->reload_lock);
}

int daemon_start(daemon_state *st)
{
    char err[256], push[96] = "", admin[96] = "", snmp[128] = "";

    st->cfg = build_config(st, stderr);
    if (st->cfg == NULL)
        return -1;
    if (st->check_only) {
        printf("configuration OK\n");
        exit(0);
    }
    apply_logging(st->cfg);
    st->fw = sat_framework_new(st->cfg, err, sizeof err);
    if (st->fw != NULL) {
        sat_listener listener = {.on_reconfigured = on_reconfigured, .userdata = st};

        sat_framework_set_config_loader(st->fw, load_for_reload, st,
                                        st->config_path ? st->config_path : "(defaults)");
        (void)sat_framework_add_listener(st->fw, &listener);
    }
    if (st->fw == NULL || sat_framework_start(st->fw, err, sizeof err) != SAT_OK) {
        log_line(SAT_LOG_ERROR, "daemon", "push engine failed to start: %s", err);
        return -1;
    }
    sat_framework_push_address(st->fw, push, sizeof push);
    if (start_rest(st, admin, sizeof admin) != 0 || start_snmp(st, snmp, sizeof snmp) != 0)
        return -1;
    log_line(SAT_LOG_INFO, "daemon", "satellited %s ready: push=%s admin=%s snmp=%s",
             sat_version(), push, admin[0] ? admin : "off", snmp[0] ? snmp : "off");
    if (st->ready_file != NULL && write_ready_file(st, push, admin, snmp) != 0)
        return -1;
    return 0;
}

/* Runs the framework's reload operation through the registry, so SIGHUP
 * reloads produce the same event (and SNMP notification) as REST ones. */
int daemon_reload(daemon_state *st, const char *origin)
{
    sat_record *result = sat_record_new();
    char err[1024] = "";
    int rc;

    if (result == NULL)
        return -1;
    rc = sat_registry_invoke(sat_framework_registry(st->fw), "framework", "", "reload", NULL,
                             result, err, sizeof err);
    if (rc == SAT_OK)
        log_line(SAT_LOG_INFO, "daemon", "reload requested by %s applied", origin);
    else
        log_line(SAT_LOG_WARN, "daemon", "reload requested by %s rejected: %s", origin, err);
    sat_record_free(result);
    return rc == SAT_OK ? 0 : -1;
}

void daemon_cleanup(daemon_state *st)
{
    rest_stop(st->rest);
    st->rest = NULL;
    snmp_agent_stop(st->snmp);
    st->snmp = NULL;
    sat_framework_free(st->fw);
    st->fw = NULL;
    sat_config_free(st->cfg);
    st->cfg = NULL;
    for (size_t i = 0; i < st->set_count; i++)
        free(st->sets[i]);
    st->set_count = 0;
}
