/* SPDX-License-Identifier: Apache-2.0 */
/* The agent thread: net-snmp setup (private config and persistent dirs,
 * communities, SNMPv3 user, UDP master or AgentX subagent), the request
 * handler over satObjects, SET dispatch to the registry and notifications
 * from registry events. Every net-snmp call happens on this thread. */
#include "snmp.h"

#include "satellite/config.h"

#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define APP_NAME       "satellite"
#define DEFAULT_LISTEN "udp:127.0.0.1:1161"
#define EVENT_BATCH    32

struct snmp_agent {
    sat_registry *reg;
    snmp_options opt; /* strings below are private copies */
    char *strings[10];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t started_cond;
    bool started;
    int start_rc;
    char err[256];
    char address[160];
    char tmpdir[64];
    int wake[2];
    atomic_bool stop;
    int listener_id;
    bool has_listener;
    uint64_t next_seq;
    netsnmp_handler_registration *registration;
    snmp_snapshot snaps[16];
    /* With cache_ms 0 a snapshot is rebuilt once per request PDU, not once
     * per varbind or GETBULK repetition: these identify the current PDU. */
    uint64_t request_gen;
    uint64_t built_gen[16];
    const void *last_asp;
    long last_reqid;
};

static atomic_bool agent_running;

static const oid sat_objects_oid[] = {SNMP_SAT_ROOT, 1};
static const size_t sat_objects_len = sizeof(sat_objects_oid) / sizeof(oid);

static void agent_log(snmp_agent *agent, sat_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void agent_log(snmp_agent *agent, sat_log_level level, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!agent->opt.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    agent->opt.log(agent->opt.log_userdata, level, line);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_set(const char *s)
{
    return s && s[0] != '\0';
}

/* ---- snapshots ------------------------------------------------------------ */

static snmp_snapshot *fresh_snapshot(snmp_agent *agent, size_t g)
{
    snmp_snapshot *snap = &agent->snaps[g];
    int64_t now = monotonic_ms();

    if (snap->built_ms != 0 && now - snap->built_ms < (int64_t)agent->opt.cache_ms)
        return snap;
    if (snap->built_ms != 0 && agent->opt.cache_ms == 0 &&
        agent->built_gen[g] == agent->request_gen)
        return snap;
    agent->built_gen[g] = agent->request_gen;
    if (snmp_snapshot_build(agent->reg, &snmp_groups[g], snap) != 0)
        agent_log(agent, SAT_LOG_WARN, "snapshot of %s incomplete: out of memory",
                  snmp_groups[g].name);
    snap->built_ms = now > 0 ? now : 1;
    return snap;
}

/* The group whose prefix is the longest one containing rel, or -1. */
static long group_of(const oid *rel, size_t rel_len)
{
    long best = -1;

    for (size_t g = 0; g < snmp_group_count; g++) {
        if (snmp_group_contains(&snmp_groups[g], rel, rel_len) &&
            (best < 0 || snmp_groups[g].prefix_len > snmp_groups[best].prefix_len))
            best = (long)g;
    }
    return best;
}

/* ---- GET / GETNEXT ------------------------------------------------------------ */

static void set_cell(netsnmp_variable_list *vb, const snmp_cell *cell)
{
    struct counter64 c64;

    switch (cell->asn) {
    case ASN_OCTET_STR:
        snmp_set_var_typed_value(vb, ASN_OCTET_STR, cell->v.str, cell->len);
        break;
    case ASN_COUNTER64:
        c64.high = (u_long)(cell->v.u64 >> 32);
        c64.low = (u_long)(cell->v.u64 & 0xffffffffu);
        snmp_set_var_typed_value(vb, ASN_COUNTER64, &c64, sizeof(c64));
        break;
    default:
        snmp_set_var_typed_value(vb, cell->asn, &cell->v.l, sizeof(cell->v.l));
        break;
    }
}

static void answer_get(snmp_agent *agent, netsnmp_agent_request_info *reqinfo,
                       netsnmp_request_info *req, const oid *rel, size_t rel_len)
{
    long g = group_of(rel, rel_len);
    const snmp_row *row = NULL;
    size_t column = 0;
    snmp_lookup found = SNMP_LOOKUP_NO_OBJECT;

    if (g >= 0)
        found = snmp_group_get(&snmp_groups[g], fresh_snapshot(agent, (size_t)g), rel, rel_len,
                               &row, &column);
    if (found == SNMP_LOOKUP_FOUND)
        set_cell(req->requestvb, &row->cells[column]);
    else
        netsnmp_set_request_error(reqinfo, req,
                                  found == SNMP_LOOKUP_NO_INSTANCE ? SNMP_NOSUCHINSTANCE
                                                                   : SNMP_NOSUCHOBJECT);
}

/* Leaves the varbind untouched when nothing follows inside satObjects, so
 * net-snmp moves on to the next registered subtree. */
static void answer_getnext(snmp_agent *agent, netsnmp_request_info *req, const oid *rel,
                           size_t rel_len)
{
    for (size_t g = 0; g < snmp_group_count; g++) {
        const snmp_group *grp = &snmp_groups[g];
        size_t common = rel_len < grp->prefix_len ? rel_len : grp->prefix_len;
        oid rel_out[SNMP_OID_MAX], full[SNMP_OID_MAX + 8];
        const snmp_row *row;
        size_t out_len, column;

        if (snmp_oid_cmp(rel, common, grp->prefix, common) > 0)
            continue; /* rel sorts after this whole group */
        if (!snmp_group_next(grp, fresh_snapshot(agent, g), rel, rel_len, rel_out, &out_len, &row,
                             &column))
            continue;
        memcpy(full, sat_objects_oid, sizeof(sat_objects_oid));
        memcpy(full + sat_objects_len, rel_out, out_len * sizeof(oid));
        snmp_set_var_objid(req->requestvb, full, sat_objects_len + out_len);
        set_cell(req->requestvb, &row->cells[column]);
        return;
    }
}

/* ---- SET ------------------------------------------------------------------ */

static int error_of(int rc)
{
    switch (rc) {
    case 0:
        return SNMP_ERR_NOERROR;
    case SAT_EINVAL:
        return SNMP_ERR_WRONGVALUE;
    case SAT_ECONFLICT:
        return SNMP_ERR_INCONSISTENTVALUE;
    case SAT_ENOTFOUND:
    case SAT_ECLOSED:
        return SNMP_ERR_INCONSISTENTNAME;
    case SAT_ENOTSUP:
        return SNMP_ERR_NOTWRITABLE;
    case SAT_ENOMEM:
    case SAT_ETIMEDOUT:
    case SAT_ELIMIT:
    case SAT_EIO:
        return SNMP_ERR_RESOURCEUNAVAILABLE;
    default:
        return SNMP_ERR_COMMITFAILED;
    }
}

static bool type_has_op(sat_registry *reg, const char *type, const char *op)
{
    const sat_type_def *def = sat_registry_find_type(reg, type);

    for (size_t i = 0; def && i < def->op_count; i++) {
        if (strcmp(def->ops[i].name, op) == 0)
            return true;
    }
    return false;
}

static const sat_attr_def *writable_attr(sat_registry *reg, const char *type, const char *name)
{
    const sat_type_def *def = sat_registry_find_type(reg, type);

    for (size_t i = 0; def && i < def->attr_count; i++) {
        if (strcmp(def->attrs[i].name, name) == 0)
            return def->attrs[i].set ? &def->attrs[i] : NULL;
    }
    return NULL;
}

static int invoke(snmp_agent *agent, const char *type, const char *id, const char *op,
                  const sat_record *params, char *msg, size_t size)
{
    sat_record *result = sat_record_new();
    int rc;

    if (!result)
        return SAT_ENOMEM;
    rc = sat_registry_invoke(agent->reg, type, id, op, params, result, msg, size);
    sat_record_free(result);
    return rc;
}

/* Enables or disables through the type's enable/disable operations, or
 * through a writable boolean attribute when the type has no such ops. */
static int set_switch(snmp_agent *agent, const char *type, const char *id, const char *attr,
                      bool on, char *msg, size_t size)
{
    sat_value value = {.type = SAT_ATTR_BOOL, .v.b = on};

    if (type_has_op(agent->reg, type, on ? "enable" : "disable"))
        return invoke(agent, type, id, on ? "enable" : "disable", NULL, msg, size);
    return sat_registry_set_attr(agent->reg, type, id, attr, &value, msg, size);
}

/* Sets a configuration key: the writable "value" of its init-param object,
 * a writable framework attribute named after the key, or the framework's
 * "set-init-param" operation (name, value). */
static int set_init_param(snmp_agent *agent, const char *key, const char *text, char *msg,
                          size_t size)
{
    sat_record *params;
    int rc = SAT_ENOMEM;

    if (writable_attr(agent->reg, "init-param", "value"))
        return sat_registry_set_attr_text(agent->reg, "init-param", key, "value", text, msg, size);
    if (writable_attr(agent->reg, "framework", key))
        return sat_registry_set_attr_text(agent->reg, "framework", "", key, text, msg, size);
    if (!type_has_op(agent->reg, "framework", "set-init-param"))
        return SAT_ENOTSUP;
    params = sat_record_new();
    if (params && sat_record_set_str(params, "name", key) == 0 &&
        sat_record_set_str(params, "value", text) == 0)
        rc = invoke(agent, "framework", "", "set-init-param", params, msg, size);
    sat_record_free(params);
    return rc;
}

static int perform_write(snmp_agent *agent, const snmp_group *g, const snmp_column *col,
                         const snmp_row *row, const netsnmp_variable_list *vb, char *msg,
                         size_t size)
{
    long n = vb->type == ASN_INTEGER ? *vb->val.integer : 0;
    char text[256];

    switch (col->write) {
    case SNMP_WRITE_RELOAD:
        return n == 2 ? invoke(agent, "framework", "", "reload", NULL, msg, size) : 0;
    case SNMP_WRITE_STATS_RESET:
        return n == 2 ? invoke(agent, "statistics", "", "reset", NULL, msg, size) : 0;
    case SNMP_WRITE_CAPTURING:
        return set_switch(agent, "statistics", "", "capturing", n == 1, msg, size);
    case SNMP_WRITE_INTERCEPTOR:
        return set_switch(agent, g->type, row->id, "enabled", n == 1, msg, size);
    case SNMP_WRITE_RESOURCE:
        if (n == 1)
            return 0;
        return invoke(agent, g->type, row->id, n == 2 ? "resume" : "close", NULL, msg, size);
    case SNMP_WRITE_INIT_PARAM:
        snprintf(text, sizeof(text), "%.*s", (int)vb->val_len, (const char *)vb->val.string);
        return set_init_param(agent, row->id, text, msg, size);
    default:
        return SAT_ENOTSUP;
    }
}

/* Checks type, length and range of a SET value (RESERVE1). */
static int check_value(const snmp_column *col, const snmp_row *row, const netsnmp_variable_list *vb)
{
    char text[256];
    long n;

    if (col->syntax == SNMP_SYN_STRING) {
        const sat_config_key *key = sat_config_key_find(row->id);

        if (vb->type != ASN_OCTET_STR)
            return SNMP_ERR_WRONGTYPE;
        if (vb->val_len > 255 || memchr(vb->val.string, '\0', vb->val_len))
            return SNMP_ERR_WRONGLENGTH;
        snprintf(text, sizeof(text), "%.*s", (int)vb->val_len, (const char *)vb->val.string);
        if (!key || sat_config_check(row->id, text, NULL) != 0)
            return SNMP_ERR_WRONGVALUE;
        return key->restart ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR;
    }
    if (vb->type != ASN_INTEGER)
        return SNMP_ERR_WRONGTYPE;
    n = *vb->val.integer;
    if (col->syntax == SNMP_SYN_TRUTH)
        return n == 1 || n == 2 ? SNMP_ERR_NOERROR : SNMP_ERR_WRONGVALUE;
    for (long i = 0; col->enum_names && col->enum_names[i]; i++) {
        if (n == i + 1)
            return SNMP_ERR_NOERROR;
    }
    return SNMP_ERR_WRONGVALUE;
}

static int lookup_writable(snmp_agent *agent, const oid *rel, size_t rel_len, bool refresh,
                           long *g_out, const snmp_row **row, size_t *column)
{
    long g = group_of(rel, rel_len);
    snmp_snapshot *snap;
    snmp_lookup found;

    if (g < 0)
        return SNMP_ERR_NOTWRITABLE;
    snap = refresh ? fresh_snapshot(agent, (size_t)g) : &agent->snaps[g];
    found = snmp_group_get(&snmp_groups[g], snap, rel, rel_len, row, column);
    if (found == SNMP_LOOKUP_NO_ACCESS)
        return SNMP_ERR_NOACCESS;
    if (found == SNMP_LOOKUP_NO_OBJECT)
        return SNMP_ERR_NOTWRITABLE;
    if (found == SNMP_LOOKUP_NO_INSTANCE) {
        /* Distinguish a writable column without this row from a read-only one. */
        size_t at = snmp_groups[g].prefix_len + (snmp_groups[g].table ? 1 : 0);

        for (size_t c = 0; c < snmp_groups[g].column_count; c++) {
            if (snmp_groups[g].columns[c].subid == rel[at] && snmp_groups[g].columns[c].write)
                return SNMP_ERR_NOCREATION;
        }
        return SNMP_ERR_NOTWRITABLE;
    }
    if (snmp_groups[g].columns[*column].write == SNMP_WRITE_NONE)
        return SNMP_ERR_NOTWRITABLE;
    *g_out = g;
    return SNMP_ERR_NOERROR;
}

static void answer_set(snmp_agent *agent, netsnmp_agent_request_info *reqinfo,
                       netsnmp_request_info *req, const oid *rel, size_t rel_len)
{
    const snmp_row *row = NULL;
    size_t column = 0;
    long g = -1;
    int err =
        lookup_writable(agent, rel, rel_len, reqinfo->mode == MODE_SET_RESERVE1, &g, &row, &column);
    const snmp_column *col;
    char msg[256] = "";
    int rc;

    if (err == SNMP_ERR_NOERROR && reqinfo->mode == MODE_SET_RESERVE1)
        err = check_value(&snmp_groups[g].columns[column], row, req->requestvb);
    if (err != SNMP_ERR_NOERROR || reqinfo->mode != MODE_SET_ACTION) {
        if (err != SNMP_ERR_NOERROR)
            netsnmp_set_request_error(reqinfo, req, err);
        return;
    }

    /* NOTE: registry operations cannot be rolled back, so UNDO after a later
     * varbind fails leaves this one applied. */
    col = &snmp_groups[g].columns[column];
    rc = perform_write(agent, &snmp_groups[g], col, row, req->requestvb, msg, sizeof(msg));
    agent_log(agent, rc == 0 ? SAT_LOG_INFO : SAT_LOG_WARN, "set %s by %s: %s%s%s id=%s", col->name,
              reqinfo->asp->pdu->version == SNMP_VERSION_3 ? "SNMPv3 user" : "rwcommunity",
              rc == 0 ? "applied" : sat_errname(rc), msg[0] ? ": " : "", msg, row->id);
    agent->snaps[g].built_ms = 0;
    if (rc != 0)
        netsnmp_set_request_error(reqinfo, req, error_of(rc));
}

static int handle_request(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    snmp_agent *agent = handler->myvoid;

    (void)reginfo;
    if (reqinfo->asp != agent->last_asp ||
        (reqinfo->asp && reqinfo->asp->pdu && reqinfo->asp->pdu->reqid != agent->last_reqid)) {
        agent->last_asp = reqinfo->asp;
        agent->last_reqid = reqinfo->asp && reqinfo->asp->pdu ? reqinfo->asp->pdu->reqid : 0;
        agent->request_gen++;
    }
    for (netsnmp_request_info *req = requests; req; req = req->next) {
        const netsnmp_variable_list *vb = req->requestvb;
        const oid *rel = vb->name + sat_objects_len;
        size_t rel_len = 0;

        if (req->processed)
            continue;
        if (vb->name_length >= sat_objects_len &&
            snmp_oid_cmp(vb->name, sat_objects_len, sat_objects_oid, sat_objects_len) == 0)
            rel_len = vb->name_length - sat_objects_len;
        else if (snmp_oid_cmp(vb->name, vb->name_length, sat_objects_oid, sat_objects_len) > 0)
            continue; /* after our subtree: nothing to add */

        switch (reqinfo->mode) {
        case MODE_GET:
            answer_get(agent, reqinfo, req, rel, rel_len);
            break;
        case MODE_GETNEXT:
            answer_getnext(agent, req, rel, rel_len);
            break;
        case MODE_SET_RESERVE1:
        case MODE_SET_ACTION:
            answer_set(agent, reqinfo, req, rel, rel_len);
            break;
        default: /* RESERVE2, COMMIT, FREE, UNDO: nothing held, nothing to undo */
            break;
        }
    }
    return SNMP_ERR_NOERROR;
}

/* ---- notifications ---------------------------------------------------------- */

/* The index of object `id` of `type`: from the registry while the object
 * lives, else from the last snapshot of its table, else 0. */
static uint32_t index_of(snmp_agent *agent, const char *type, const char *id)
{
    sat_object_ref *refs = NULL;
    size_t count = 0;
    bool more = false;
    uint32_t index = 0;

    char after[256];

    /* Ids after `id` minus its last byte that contain `id`: the exact id
     * comes first unless an id such as "/cha/chat" sorts before it. */
    snprintf(after, sizeof(after), "%s", id);
    if (after[0] != '\0')
        after[strlen(after) - 1] = '\0';
    if (sat_registry_list(agent->reg, type, after, id, 16, &refs, &count, &more) == 0) {
        for (size_t i = 0; i < count && index == 0; i++) {
            if (strcmp(refs[i].id, id) == 0)
                index = refs[i].index;
        }
        sat_object_refs_free(refs, count);
    }
    for (size_t g = 0; index == 0 && g < snmp_group_count; g++) {
        const snmp_snapshot *snap = &agent->snaps[g];

        if (snmp_groups[g].source != SNMP_SRC_OBJECTS || strcmp(snmp_groups[g].type, type) != 0)
            continue;
        for (size_t r = 0; r < snap->count && index == 0; r++) {
            if (strcmp(snap->rows[r].id, id) == 0)
                index = snap->rows[r].index;
        }
    }
    return index;
}

static void add_var(netsnmp_variable_list **vars, const oid *name, size_t len, u_char type,
                    const void *value, size_t size)
{
    snmp_varlist_add_variable(vars, name, len, type, value, size);
}

/* Sends notification `number` (under satNotifications) to every sink. */
static void send_notification(oid number, const char *id, uint32_t index)
{
    static const oid trap_oid_name[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
    const oid trap_oid[] = {SNMP_SAT_ROOT, 0, number};
    const oid notify_id[] = {SNMP_SAT_ROOT, 1, 12, 1, 0};
    const oid notify_index[] = {SNMP_SAT_ROOT, 1, 12, 2, 0};
    netsnmp_variable_list *vars = NULL;
    u_long index_value = index;

    add_var(&vars, trap_oid_name, OID_LENGTH(trap_oid_name), ASN_OBJECT_ID, trap_oid,
            sizeof(trap_oid));
    add_var(&vars, notify_id, OID_LENGTH(notify_id), ASN_OCTET_STR, id, strlen(id));
    add_var(&vars, notify_index, OID_LENGTH(notify_index), ASN_UNSIGNED, &index_value,
            sizeof(index_value));
    send_v2trap(vars);
    snmp_free_varbind(vars);
}

static void notify_event(snmp_agent *agent, const sat_event *ev)
{
    const char *type = ev->type ? ev->type : "";
    const char *detail = ev->detail ? ev->detail : "";
    bool created = ev->kind == SAT_EVENT_CREATED;
    bool destroyed = ev->kind == SAT_EVENT_DESTROYED;

    if (strcmp(type, "broadcaster") == 0 && (created || destroyed))
        send_notification(created ? 1 : 2, ev->id, index_of(agent, type, ev->id));
    else if (strcmp(type, "resource") == 0 && strcmp(detail, "dirty-disconnect") == 0)
        send_notification(3, ev->id, index_of(agent, type, ev->id));
    else if (strcmp(type, "framework") == 0 && ev->kind == SAT_EVENT_INVOKED &&
             strcmp(detail, "reload") == 0)
        send_notification(ev->result == 0 ? 4 : 5, ev->id, 0);
    else if (strcmp(type, "cluster-member") == 0 && (created || destroyed))
        send_notification(created ? 6 : 7, ev->id, index_of(agent, type, ev->id));
}

static void drain_events(snmp_agent *agent)
{
    sat_event events[EVENT_BATCH];
    long n;

    do {
        uint64_t lost = 0;

        n = sat_registry_events_since(agent->reg, agent->next_seq, events, EVENT_BATCH,
                                      &agent->next_seq, &lost);
        if (lost > 0)
            agent_log(agent, SAT_LOG_WARN,
                      "%llu registry events left the ring before notifications were sent",
                      (unsigned long long)lost);
        for (long i = 0; i < n; i++)
            notify_event(agent, &events[i]);
        if (n > 0)
            sat_events_clear(events, (size_t)n);
    } while (n == EVENT_BATCH);
}

/* Registry listener: any thread. Only wakes the agent thread. */
static void on_registry_event(void *userdata, const sat_event *event)
{
    snmp_agent *agent = userdata;
    char byte = 'e';

    (void)event;
    if (write(agent->wake[1], &byte, 1) < 0 && errno != EAGAIN)
        return; /* a full pipe already guarantees a wake-up */
}

static void on_wake(int fd, void *userdata)
{
    snmp_agent *agent = userdata;
    char buf[64];

    while (read(fd, buf, sizeof(buf)) > 0)
        continue;
    if (is_set(agent->opt.trap_sinks))
        drain_events(agent);
}

/* Opens one v2c trap session per host:port in the comma-separated list. */
static int open_trap_sinks(snmp_agent *agent)
{
    char *list = strdup(agent->opt.trap_sinks);
    char *save = NULL;
    int rc = 0;

    if (!list)
        return SAT_ENOMEM;
    for (char *sink = strtok_r(list, ", ", &save); sink; sink = strtok_r(NULL, ", ", &save)) {
        char host[128], port_text[8];
        int port = 162;
        const char *community = is_set(agent->opt.trap_community) ? agent->opt.trap_community
                                : is_set(agent->opt.community)    ? agent->opt.community
                                                                  : "";

        if (sat_config_parse_addr(sink, host, sizeof(host), &port) != 0 || port <= 0 ||
            port > 65535) {
            snprintf(agent->err, sizeof(agent->err), "invalid trap sink '%s': expected host:port",
                     sink);
            rc = SAT_EINVAL;
            break;
        }
        /* The port goes in as text: net-snmp 5.9's create_trap_session
         * formats a numeric port as "host::port", which no transport opens. */
        snprintf(port_text, sizeof(port_text), "%d", port);
        if (!create_trap_session_with_src(host, port_text, community, NULL, SNMP_VERSION_2c,
                                          SNMP_MSG_TRAP2)) {
            snprintf(agent->err, sizeof(agent->err), "cannot open trap sink %s", sink);
            rc = SAT_EIO;
            break;
        }
    }
    free(list);
    return rc;
}

/* ---- setup on the agent thread ------------------------------------------------ */

/* Routes net-snmp's own log lines to the agent's logger. */
static int on_netsnmp_log(int major, int minor, void *server_arg, void *client_arg)
{
    const struct snmp_log_message *m = server_arg;
    snmp_agent *agent = client_arg;
    char line[400];
    size_t len;

    (void)major;
    (void)minor;
    snprintf(line, sizeof(line), "%s", m->msg ? m->msg : "");
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    /* net-snmp's agent library also tries to open SMUX (RFC 1227) on port
     * 199; satellited does not use it, so that failure is only debug. */
    if (strstr(line, "init_smux") != NULL) {
        agent_log(agent, SAT_LOG_DEBUG, "net-snmp: %s", line);
        return 0;
    }
    agent_log(agent,
              m->priority <= LOG_ERR       ? SAT_LOG_ERROR
              : m->priority <= LOG_WARNING ? SAT_LOG_WARN
                                           : SAT_LOG_DEBUG,
              "net-snmp: %s", line);
    return 0;
}

/* Keeps net-snmp away from /etc/snmp, /var/lib/snmp and the host's MIBs. */
static void isolate_netsnmp(snmp_agent *agent)
{
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, agent->tmpdir);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CONFIGURATION_DIR, agent->tmpdir);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIBDIRS, agent->tmpdir);
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_ROOT_ACCESS, 1);
    /* SMUX (RFC 1227) is not used: without this net-snmp's master agent
     * listens on port 199 of every interface when it runs as root. The
     * socket setting keeps it on loopback should SMUX start anyway. */
    {
        static char no_smux[] = "-smux";

        add_to_init_list(no_smux);
    }
    netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_SMUX_SOCKET, "127.0.0.1");
    /* The agent serves its own handlers and needs no MIB text; an empty
     * module list stops net-snmp from looking for the host's MIBs. */
    setenv("MIBS", "", 1);

    snmp_disable_log();
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_netsnmp_log, agent);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_WARNING);
}

/* Queues access-control lines that init_snmp applies. The lines hold
 * secrets: they are never logged. */
static void remember_access(snmp_agent *agent)
{
    const snmp_options *o = &agent->opt;
    char line[600];

    if (is_set(o->community)) {
        snprintf(line, sizeof(line), "rocommunity %s default", o->community);
        netsnmp_config_remember(line);
    }
    if (is_set(o->rwcommunity)) {
        snprintf(line, sizeof(line), "rwcommunity %s default", o->rwcommunity);
        netsnmp_config_remember(line);
    }
    if (is_set(o->v3_user) && is_set(o->v3_auth_pass) && is_set(o->v3_priv_pass)) {
        snprintf(line, sizeof(line), "createUser %s SHA \"%s\" AES \"%s\"", o->v3_user,
                 o->v3_auth_pass, o->v3_priv_pass);
        netsnmp_config_remember(line);
        snprintf(line, sizeof(line), "rwuser %s priv", o->v3_user);
        netsnmp_config_remember(line);
    }
    memset(line, 0, sizeof(line));
}

/* Opens the master's transport and records the bound address, so that
 * port 0 reports the port the kernel chose. */
static int open_master(snmp_agent *agent)
{
    const char *spec = is_set(agent->opt.listen) ? agent->opt.listen : DEFAULT_LISTEN;
    netsnmp_transport *t = netsnmp_transport_open_server(APP_NAME, spec);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    const char *proto = strncmp(spec, "tcp", 3) == 0 ? "tcp" : "udp";

    if (!t) {
        snprintf(agent->err, sizeof(agent->err), "cannot listen on %s", spec);
        return SAT_EIO;
    }
    if (getsockname(t->sock, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;

            inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
            port = ntohs(a6->sin6_port);
        } else {
            const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;

            inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
            port = ntohs(a4->sin_port);
        }
    }
    if (netsnmp_register_agent_nsap(t) == 0) {
        netsnmp_transport_free(t);
        snprintf(agent->err, sizeof(agent->err), "cannot serve on %s", spec);
        return SAT_EIO;
    }
    snprintf(agent->address, sizeof(agent->address),
             ss.ss_family == AF_INET6 ? "%s6:[%s]:%d" : "%s:%s:%d", proto, host, port);
    return 0;
}

/* net-snmp frees a handler's myvoid unless data_free says otherwise; the
 * agent outlives the handler and frees itself. */
static void keep_agent(void *data)
{
    (void)data;
}

static int register_sat_mib(snmp_agent *agent)
{
    netsnmp_mib_handler *handler = netsnmp_create_handler("satellite", handle_request);

    if (!handler)
        return SAT_ENOMEM;
    handler->myvoid = agent;
    handler->data_free = keep_agent;
    agent->registration = netsnmp_handler_registration_create("satellite", handler, sat_objects_oid,
                                                              sat_objects_len, HANDLER_CAN_RWRITE);
    if (!agent->registration ||
        netsnmp_register_handler(agent->registration) != MIB_REGISTERED_OK) {
        snprintf(agent->err, sizeof(agent->err), "cannot register SATELLITE-MIB");
        agent->registration = NULL; /* freed by netsnmp_register_handler on failure */
        return SAT_EIO;
    }
    return 0;
}

/* Sets the AgentX ping interval and Open timeout. Call it between
 * init_agent, which resets both to net-snmp 5.9.3's defaults (ping 15 s),
 * and init_snmp, which connects and arms the ping alarm. That alarm also
 * paces reconnection after the master drops the session. */
static void set_agentx_timing(snmp_agent *agent)
{
    /* The AgentX Open PDU carries the timeout in whole seconds (0 means the
     * master's default), so round up instead of truncating to 0. */
    int timeout_s = (int)((agent->opt.agentx_timeout_ms + 999) / 1000);

    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       (int)agent->opt.agentx_ping_s);
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_TIMEOUT,
                       timeout_s * 1000000);
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_RETRIES, 1);
}

static int setup(snmp_agent *agent)
{
    bool sub = is_set(agent->opt.agentx);
    int rc;

    isolate_netsnmp(agent);
    if (sub) {
        netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
        netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
                              agent->opt.agentx);
    } else {
        netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_PORTS, "none");
        remember_access(agent);
    }

    init_agent(APP_NAME);
    if (sub)
        set_agentx_timing(agent);
    init_snmp(APP_NAME);
    if (sub) {
        snprintf(agent->address, sizeof(agent->address), "agentx:%s", agent->opt.agentx);
    } else {
        init_master_agent();
        rc = open_master(agent);
        if (rc != 0)
            return rc;
    }
    rc = register_sat_mib(agent);
    if (rc == 0 && is_set(agent->opt.trap_sinks))
        rc = open_trap_sinks(agent);
    if (rc == 0 && register_readfd(agent->wake[0], on_wake, agent) != FD_REGISTERED_OK) {
        snprintf(agent->err, sizeof(agent->err), "cannot watch the wake-up pipe");
        rc = SAT_EIO;
    }
    return rc;
}

static void teardown(snmp_agent *agent)
{
    unregister_readfd(agent->wake[0]);
    if (agent->registration)
        netsnmp_unregister_handler(agent->registration);
    agent->registration = NULL;
    /* snmp_shutdown frees the client_arg of every callback still
     * registered, which here is the agent itself. */
    snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_netsnmp_log, agent,
                             1);
    snmp_shutdown(APP_NAME);
    shutdown_agent();
    for (size_t g = 0; g < snmp_group_count; g++) {
        snmp_snapshot_clear(&agent->snaps[g], snmp_groups[g].column_count);
        free(agent->snaps[g].rows);
        agent->snaps[g].rows = NULL;
        agent->snaps[g].cap = 0;
    }
}

static void report_start(snmp_agent *agent, int rc)
{
    pthread_mutex_lock(&agent->lock);
    agent->start_rc = rc;
    agent->started = true;
    pthread_cond_signal(&agent->started_cond);
    pthread_mutex_unlock(&agent->lock);
}

static void *agent_main(void *arg)
{
    snmp_agent *agent = arg;
    int rc = setup(agent);

    report_start(agent, rc);
    if (rc == 0) {
        agent_log(agent, SAT_LOG_INFO, "agent started address=%s", agent->address);
        while (!atomic_load(&agent->stop))
            agent_check_and_process(1);
    }
    teardown(agent);
    if (rc == 0)
        agent_log(agent, SAT_LOG_INFO, "agent stopped address=%s", agent->address);
    return NULL;
}

/* ---- public API ---------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void agent_free(snmp_agent *agent)
{
    if (!agent)
        return;
    if (agent->tmpdir[0] != '\0')
        nftw(agent->tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < sizeof(agent->strings) / sizeof(agent->strings[0]); i++) {
        if (agent->strings[i])
            explicit_bzero(agent->strings[i], strlen(agent->strings[i]));
        free(agent->strings[i]);
    }
    if (agent->wake[0] >= 0)
        close(agent->wake[0]);
    if (agent->wake[1] >= 0)
        close(agent->wake[1]);
    pthread_mutex_destroy(&agent->lock);
    pthread_cond_destroy(&agent->started_cond);
    free(agent);
}

/* Copies each option string into agent->strings so the caller's may go. */
static int copy_options(snmp_agent *agent, const snmp_options *opt)
{
    const char **fields[] = {
        &agent->opt.listen,       &agent->opt.agentx,     &agent->opt.community,
        &agent->opt.rwcommunity,  &agent->opt.v3_user,    &agent->opt.v3_auth_pass,
        &agent->opt.v3_priv_pass, &agent->opt.trap_sinks, &agent->opt.trap_community};

    agent->opt = *opt;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!*fields[i])
            continue;
        agent->strings[i] = strdup(*fields[i]);
        if (!agent->strings[i])
            return SAT_ENOMEM;
        *fields[i] = agent->strings[i];
    }
    if (agent->opt.agentx_ping_s == 0)
        agent->opt.agentx_ping_s = 5;
    if (agent->opt.agentx_timeout_ms == 0)
        agent->opt.agentx_timeout_ms = 1000;
    return 0;
}

static int check_options(const snmp_options *opt, char *err, size_t errsize)
{
    if (is_set(opt->v3_user) && (!opt->v3_auth_pass || strlen(opt->v3_auth_pass) < 8 ||
                                 !opt->v3_priv_pass || strlen(opt->v3_priv_pass) < 8)) {
        snprintf(err, errsize,
                 "SNMPv3 user '%s' needs auth and priv passphrases of at "
                 "least 8 characters (writes require authPriv)",
                 opt->v3_user);
        return SAT_EINVAL;
    }
    if (opt->agentx_timeout_ms > 60000) {
        snprintf(err, errsize, "invalid AgentX timeout %u ms: expected at most 60000",
                 opt->agentx_timeout_ms);
        return SAT_EINVAL;
    }
    return 0;
}

static int prepare(snmp_agent *agent, sat_registry *reg, const snmp_options *opt, char *err,
                   size_t errsize)
{
    const char *tmp = getenv("TMPDIR");

    agent->reg = reg;
    agent->wake[0] = agent->wake[1] = -1;
    pthread_mutex_init(&agent->lock, NULL);
    pthread_cond_init(&agent->started_cond, NULL);
    if (copy_options(agent, opt) != 0) {
        snprintf(err, errsize, "out of memory");
        return SAT_ENOMEM;
    }
    if (pipe2(agent->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errsize, "cannot create a pipe: %s", strerror(errno));
        return SAT_EIO;
    }
    snprintf(agent->tmpdir, sizeof(agent->tmpdir), "%s/satellite-snmp-XXXXXX",
             tmp && tmp[0] == '/' && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(agent->tmpdir)) {
        snprintf(err, errsize, "cannot create a private net-snmp directory: %s", strerror(errno));
        agent->tmpdir[0] = '\0';
        return SAT_EIO;
    }
    return 0;
}

snmp_agent *snmp_agent_start(sat_registry *reg, const snmp_options *opt, char *err, size_t errsize)
{
    snmp_agent *agent = NULL;
    bool expected = false;

    if (!reg || !opt || check_options(opt, err, errsize) != 0) {
        if (!reg || !opt)
            snprintf(err, errsize, "missing registry or options");
        return NULL;
    }
    if (!atomic_compare_exchange_strong(&agent_running, &expected, true)) {
        snprintf(err, errsize, "an SNMP agent already runs in this process");
        return NULL;
    }
    agent = calloc(1, sizeof(*agent));
    if (!agent) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    if (prepare(agent, reg, opt, err, errsize) != 0)
        goto fail;

    agent->next_seq = sat_registry_next_seq(reg);
    if (pthread_create(&agent->thread, NULL, agent_main, agent) != 0) {
        snprintf(err, errsize, "cannot start the SNMP thread");
        goto fail;
    }
    pthread_mutex_lock(&agent->lock);
    while (!agent->started)
        pthread_cond_wait(&agent->started_cond, &agent->lock);
    pthread_mutex_unlock(&agent->lock);
    if (agent->start_rc != 0) {
        snprintf(err, errsize, "%s", agent->err[0] ? agent->err : sat_strerror(agent->start_rc));
        pthread_join(agent->thread, NULL);
        goto fail;
    }

    if (is_set(agent->opt.trap_sinks) &&
        sat_registry_add_listener(reg, on_registry_event, agent, &agent->listener_id) == 0)
        agent->has_listener = true;
    return agent;

fail:
    agent_free(agent);
    atomic_store(&agent_running, false);
    return NULL;
}

const char *snmp_agent_address(snmp_agent *agent)
{
    return agent ? agent->address : "";
}

void snmp_agent_stop(snmp_agent *agent)
{
    char byte = 's';

    if (!agent)
        return;
    if (agent->has_listener)
        sat_registry_remove_listener(agent->reg, agent->listener_id);
    atomic_store(&agent->stop, true);
    if (write(agent->wake[1], &byte, 1) < 0 && errno != EAGAIN)
        byte = 0; /* the thread also wakes on its own within a second */
    pthread_join(agent->thread, NULL);
    agent_free(agent);
    atomic_store(&agent_running, false);
}
