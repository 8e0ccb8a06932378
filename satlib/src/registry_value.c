/* SPDX-License-Identifier: Apache-2.0 */
/* Typed registry values and records (ordered name -> value sets): copying,
 * parsing from text and the record setters that read callbacks use. */
#include "satellite/registry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct record_field {
    char *name;
    sat_value value;
};

struct sat_record {
    struct record_field *fields;
    size_t count, cap;
    bool failed;
};

static const char *const type_names[SAT_ATTR_TYPE_COUNT] = {
    "string", "int",       "counter",  "gauge",       "bool",
    "enum",   "timestamp", "duration", "string-list", "string-map",
};

const char *sat_attr_type_name(sat_attr_type type)
{
    if ((unsigned)type >= SAT_ATTR_TYPE_COUNT)
        return "unknown";
    return type_names[type];
}

static void free_strings(char **items, size_t count)
{
    if (!items)
        return;
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

void sat_value_clear(sat_value *value)
{
    if (!value)
        return;
    if (value->type == SAT_ATTR_STRING) {
        free(value->v.s);
    } else if (value->type == SAT_ATTR_STRLIST) {
        free_strings(value->v.list.items, value->v.list.count);
    } else if (value->type == SAT_ATTR_STRMAP) {
        free_strings(value->v.map.keys, value->v.map.count);
        free_strings(value->v.map.values, value->v.map.count);
    }
    memset(value, 0, sizeof(*value));
    value->type = SAT_ATTR_STRING;
}

/* Copies count strings into a new array; NULL items become "". */
static char **copy_strings(const char *const *src, size_t count, bool *ok)
{
    char **dst;

    *ok = true;
    if (count == 0)
        return NULL;
    dst = calloc(count, sizeof(*dst));
    if (!dst)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        dst[i] = strdup(src[i] ? src[i] : "");
        if (!dst[i]) {
            free_strings(dst, i);
            goto fail;
        }
    }
    return dst;
fail:
    *ok = false;
    return NULL;
}

int sat_value_copy(sat_value *dst, const sat_value *src)
{
    bool ok = true;

    *dst = *src;
    switch (src->type) {
    case SAT_ATTR_STRING:
        dst->v.s = strdup(src->v.s ? src->v.s : "");
        ok = dst->v.s != NULL;
        break;
    case SAT_ATTR_STRLIST:
        dst->v.list.items =
            copy_strings((const char *const *)src->v.list.items, src->v.list.count, &ok);
        break;
    case SAT_ATTR_STRMAP:
        dst->v.map.keys = copy_strings((const char *const *)src->v.map.keys, src->v.map.count, &ok);
        dst->v.map.values =
            ok ? copy_strings((const char *const *)src->v.map.values, src->v.map.count, &ok) : NULL;
        if (!ok)
            free_strings(dst->v.map.keys, src->v.map.count);
        break;
    default:
        break;
    }
    if (!ok) {
        memset(dst, 0, sizeof(*dst));
        return SAT_ENOMEM;
    }
    return SAT_OK;
}

static int fail_parse(char *errmsg, size_t errsize, const char *text, const char *expected)
{
    if (errmsg && errsize)
        snprintf(errmsg, errsize, "invalid value '%.64s': expected %s", text, expected);
    return SAT_EINVAL;
}

static int parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int parse_enum(const char *const *names, const char *text, int *out)
{
    for (int i = 0; names && names[i]; i++) {
        if (strcmp(names[i], text) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

static int parse_number(sat_attr_type type, const char *text, sat_value *out)
{
    char *end = NULL;

    errno = 0;
    if (type == SAT_ATTR_COUNTER) {
        if (text[0] == '-')
            return -1;
        out->v.u = strtoull(text, &end, 10);
    } else {
        out->v.i = strtoll(text, &end, 10);
    }
    if (errno || end == text || *end != '\0')
        return -1;
    return 0;
}

int sat_value_parse(sat_attr_type type, const char *const *enum_names, const char *text,
                    sat_value *out, char *errmsg, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    switch (type) {
    case SAT_ATTR_STRING:
        out->v.s = strdup(text);
        return out->v.s ? SAT_OK : SAT_ENOMEM;
    case SAT_ATTR_INT:
    case SAT_ATTR_GAUGE:
    case SAT_ATTR_TIMESTAMP:
    case SAT_ATTR_DURATION:
        if (parse_number(type, text, out) != 0)
            return fail_parse(errmsg, errsize, text, "a signed 64-bit integer");
        return SAT_OK;
    case SAT_ATTR_COUNTER:
        if (parse_number(type, text, out) != 0)
            return fail_parse(errmsg, errsize, text, "an unsigned 64-bit integer");
        return SAT_OK;
    case SAT_ATTR_BOOL:
        if (parse_bool(text, &out->v.b) != 0)
            return fail_parse(errmsg, errsize, text, "true or false");
        return SAT_OK;
    case SAT_ATTR_ENUM:
        if (parse_enum(enum_names, text, &out->v.e) != 0)
            return fail_parse(errmsg, errsize, text, "one of the enum names");
        return SAT_OK;
    default:
        out->type = SAT_ATTR_STRING;
        if (errmsg && errsize)
            snprintf(errmsg, errsize, "%s values cannot be parsed from text",
                     sat_attr_type_name(type));
        return SAT_ENOTSUP;
    }
}

/* ---- records ------------------------------------------------------------ */

sat_record *sat_record_new(void)
{
    return calloc(1, sizeof(sat_record));
}

void sat_record_free(sat_record *rec)
{
    if (!rec)
        return;
    for (size_t i = 0; i < rec->count; i++) {
        free(rec->fields[i].name);
        sat_value_clear(&rec->fields[i].value);
    }
    free(rec->fields);
    free(rec);
}

static struct record_field *find_field(const sat_record *rec, const char *name)
{
    for (size_t i = 0; i < rec->count; i++) {
        if (strcmp(rec->fields[i].name, name) == 0)
            return &rec->fields[i];
    }
    return NULL;
}

/* Returns the field for name, cleared (existing) or newly appended. */
static struct record_field *slot(sat_record *rec, const char *name)
{
    struct record_field *f = find_field(rec, name);

    if (f) {
        sat_value_clear(&f->value);
        return f;
    }
    if (rec->count == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 16;
        struct record_field *grown = realloc(rec->fields, cap * sizeof(*grown));

        if (!grown)
            return NULL;
        rec->fields = grown;
        rec->cap = cap;
    }
    f = &rec->fields[rec->count];
    memset(f, 0, sizeof(*f));
    f->name = strdup(name);
    if (!f->name)
        return NULL;
    rec->count++;
    return f;
}

/* Takes ownership of *value (moved into the record, or cleared on failure). */
static int put(sat_record *rec, const char *name, sat_value *value)
{
    struct record_field *f = slot(rec, name);

    if (!f) {
        sat_value_clear(value);
        rec->failed = true;
        return SAT_ENOMEM;
    }
    f->value = *value;
    return SAT_OK;
}

int sat_record_set(sat_record *rec, const char *name, const sat_value *value)
{
    sat_value copy;

    if (sat_value_copy(&copy, value) != SAT_OK) {
        rec->failed = true;
        return SAT_ENOMEM;
    }
    return put(rec, name, &copy);
}

int sat_record_set_str(sat_record *rec, const char *name, const char *value)
{
    sat_value v = {.type = SAT_ATTR_STRING, .v.s = (char *)(uintptr_t)(value ? value : "")};

    return sat_record_set(rec, name, &v);
}

static int set_scalar(sat_record *rec, const char *name, sat_value v)
{
    return put(rec, name, &v);
}

int sat_record_set_int(sat_record *rec, const char *name, int64_t value)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_INT, .v.i = value});
}

int sat_record_set_u64(sat_record *rec, const char *name, uint64_t value)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_COUNTER, .v.u = value});
}

int sat_record_set_gauge(sat_record *rec, const char *name, int64_t value)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_GAUGE, .v.i = value});
}

int sat_record_set_bool(sat_record *rec, const char *name, bool value)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_BOOL, .v.b = value});
}

int sat_record_set_enum(sat_record *rec, const char *name, int value)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_ENUM, .v.e = value});
}

int sat_record_set_time(sat_record *rec, const char *name, int64_t ms_since_epoch)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_TIMESTAMP, .v.i = ms_since_epoch});
}

int sat_record_set_duration(sat_record *rec, const char *name, int64_t ms)
{
    return set_scalar(rec, name, (sat_value){.type = SAT_ATTR_DURATION, .v.i = ms});
}

int sat_record_set_strlist(sat_record *rec, const char *name, const char *const *items,
                           size_t count)
{
    sat_value v = {.type = SAT_ATTR_STRLIST};

    v.v.list.items = (char **)(uintptr_t)items;
    v.v.list.count = count;
    return sat_record_set(rec, name, &v);
}

int sat_record_set_strmap(sat_record *rec, const char *name, const char *const *keys,
                          const char *const *values, size_t count)
{
    sat_value v = {.type = SAT_ATTR_STRMAP};

    v.v.map.keys = (char **)(uintptr_t)keys;
    v.v.map.values = (char **)(uintptr_t)values;
    v.v.map.count = count;
    return sat_record_set(rec, name, &v);
}

/* Grows a string array by one copied item. */
static int append_string(char ***items, size_t count, const char *item)
{
    char **grown = realloc(*items, (count + 1) * sizeof(*grown));

    if (!grown)
        return SAT_ENOMEM;
    *items = grown;
    grown[count] = strdup(item ? item : "");
    return grown[count] ? SAT_OK : SAT_ENOMEM;
}

/* Returns the field for name holding an empty value of `type` when absent. */
static struct record_field *collection(sat_record *rec, const char *name, sat_attr_type type)
{
    struct record_field *f = find_field(rec, name);

    if (f && f->value.type == type)
        return f;
    f = slot(rec, name);
    if (f) {
        memset(&f->value, 0, sizeof(f->value));
        f->value.type = type;
    }
    return f;
}

int sat_record_append_str(sat_record *rec, const char *name, const char *item)
{
    struct record_field *f = collection(rec, name, SAT_ATTR_STRLIST);

    if (!f || append_string(&f->value.v.list.items, f->value.v.list.count, item) != SAT_OK) {
        rec->failed = true;
        return SAT_ENOMEM;
    }
    f->value.v.list.count++;
    return SAT_OK;
}

int sat_record_append_pair(sat_record *rec, const char *name, const char *key, const char *value)
{
    struct record_field *f = collection(rec, name, SAT_ATTR_STRMAP);
    size_t n;

    if (!f)
        goto fail;
    n = f->value.v.map.count;
    if (append_string(&f->value.v.map.keys, n, key) != SAT_OK)
        goto fail;
    if (append_string(&f->value.v.map.values, n, value) != SAT_OK) {
        free(f->value.v.map.keys[n]);
        goto fail;
    }
    f->value.v.map.count++;
    return SAT_OK;
fail:
    rec->failed = true;
    return SAT_ENOMEM;
}

bool sat_record_failed(const sat_record *rec)
{
    return rec->failed;
}

size_t sat_record_count(const sat_record *rec)
{
    return rec ? rec->count : 0;
}

const char *sat_record_name_at(const sat_record *rec, size_t i)
{
    return i < rec->count ? rec->fields[i].name : NULL;
}

const sat_value *sat_record_value_at(const sat_record *rec, size_t i)
{
    return i < rec->count ? &rec->fields[i].value : NULL;
}

const sat_value *sat_record_get(const sat_record *rec, const char *name)
{
    struct record_field *f = rec ? find_field(rec, name) : NULL;

    return f ? &f->value : NULL;
}
