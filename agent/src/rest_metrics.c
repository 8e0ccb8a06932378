/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics: Prometheus text exposition built from the registry. Label
 * sets stay bounded: object counts per type, singleton counters and gauges,
 * and per-object series only for types that ask for them, up to a cap of
 * objects, past which one aggregate series replaces them. */
#include "rest_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable text buffer; a failed append marks it failed. */
struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void append(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->buf && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *grown = realloc(t->buf, cap);

        if (!grown) {
            t->failed = true;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

/* Metric name part: letters, digits and '_' only. */
static void metric_name(char *out, size_t size, const char *type, const char *attr)
{
    size_t o = (size_t)snprintf(out, size, "satellite_%s_%s", type, attr);

    for (size_t i = 0; i < o && i < size; i++) {
        char c = out[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            out[i] = '_';
    }
}

/* Label value escaping: backslash, double quote and newline. */
static void append_label(struct text *t, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            append(t, "\\%c", *p);
        else if (*p == '\n')
            append(t, "\\n");
        else
            append(t, "%c", *p);
    }
}

static bool is_numeric(sat_attr_type type)
{
    return type == SAT_ATTR_COUNTER || type == SAT_ATTR_GAUGE || type == SAT_ATTR_INT;
}

/* Value of a numeric attribute as a double; false when absent. */
static bool numeric_value(const sat_record *rec, const char *name, double *out)
{
    const sat_value *v = rec ? sat_record_get(rec, name) : NULL;

    if (!v || !is_numeric(v->type))
        return false;
    *out = v->type == SAT_ATTR_COUNTER ? (double)v->v.u : (double)v->v.i;
    return true;
}

static void append_header(struct text *t, const char *name, const sat_attr_def *a)
{
    append(t, "# HELP %s %s\n# TYPE %s %s\n", name, a->description ? a->description : a->name, name,
           a->type == SAT_ATTR_COUNTER ? "counter" : "gauge");
}

static void object_counts(struct text *t, sat_registry *reg)
{
    size_t n = sat_registry_type_count(reg);

    append(t, "# HELP satellite_objects Live registry objects per type.\n"
              "# TYPE satellite_objects gauge\n");
    for (size_t i = 0; i < n; i++) {
        const sat_type_def *def = sat_registry_type_at(reg, i);

        append(t, "satellite_objects{type=\"%s\"} %zu\n", def->name,
               sat_registry_object_count(reg, def->name));
    }
}

static void singleton_metrics(struct text *t, sat_registry *reg, const sat_type_def *def)
{
    sat_record *rec = NULL;
    char name[160];
    double v;

    if (sat_registry_read(reg, def->name, "", &rec) != SAT_OK)
        return;
    for (size_t a = 0; a < def->attr_count; a++) {
        if (def->attrs[a].secret || !numeric_value(rec, def->attrs[a].name, &v))
            continue;
        metric_name(name, sizeof(name), def->name, def->attrs[a].name);
        append_header(t, name, &def->attrs[a]);
        append(t, "%s %.17g\n", name, v);
    }
    sat_record_free(rec);
}

/* Reads every object of a type (ids and records, parallel arrays). */
static size_t read_all(sat_registry *reg, const sat_type_def *def, sat_object_ref **refs,
                       sat_record ***recs)
{
    size_t count = 0;
    bool more;

    *recs = NULL;
    if (sat_registry_list(reg, def->name, NULL, NULL, sat_registry_object_count(reg, def->name),
                          refs, &count, &more) != SAT_OK)
        return 0;
    *recs = calloc(count ? count : 1, sizeof(**recs));
    if (!*recs) {
        sat_object_refs_free(*refs, count);
        *refs = NULL;
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (sat_registry_read(reg, def->name, (*refs)[i].id, &(*recs)[i]) != SAT_OK)
            (*recs)[i] = NULL;
    }
    return count;
}

static void collection_metrics(struct text *t, rest_server *srv, const sat_type_def *def)
{
    sat_object_ref *refs = NULL;
    sat_record **recs = NULL;
    size_t count = read_all(srv->reg, def, &refs, &recs);
    bool labelled = count <= srv->opt.metrics_object_cap;
    char name[160];
    double v, sum;

    for (size_t a = 0; a < def->attr_count; a++) {
        const sat_attr_def *attr = &def->attrs[a];

        if (attr->secret || !is_numeric(attr->type) || count == 0)
            continue;
        metric_name(name, sizeof(name), def->name, attr->name);
        append_header(t, name, attr);
        sum = 0;
        for (size_t i = 0; i < count; i++) {
            if (!numeric_value(recs[i], attr->name, &v))
                continue;
            sum += v;
            if (labelled) {
                append(t, "%s{id=\"", name);
                append_label(t, refs[i].id);
                append(t, "\"} %.17g\n", v);
            }
        }
        if (!labelled)
            append(t, "%s %.17g\n", name, sum);
    }
    for (size_t i = 0; i < count; i++)
        sat_record_free(recs[i]);
    free(recs);
    sat_object_refs_free(refs, count);
}

char *rest_metrics_text(rest_server *srv)
{
    struct text t = {0};
    size_t n = sat_registry_type_count(srv->reg);

    object_counts(&t, srv->reg);
    for (size_t i = 0; i < n; i++) {
        const sat_type_def *def = sat_registry_type_at(srv->reg, i);

        if (def->singleton)
            singleton_metrics(&t, srv->reg, def);
        else if (def->per_object_metrics)
            collection_metrics(&t, srv, def);
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf ? t.buf : strdup("");
}
