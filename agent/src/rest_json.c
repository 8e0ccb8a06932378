/* SPDX-License-Identifier: Apache-2.0 */
/* JSON side of the REST API: registry values to and from JSON, object
 * bodies, and the type schema served at GET /api/v1. */
#include "rest_internal.h"

#include <stdio.h>
#include <string.h>

static json_t *strlist_json(const sat_value *value)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < value->v.list.count; i++)
        json_array_append_new(arr, json_string(value->v.list.items[i]));
    return arr;
}

static json_t *strmap_json(const sat_value *value)
{
    json_t *obj = json_object();

    for (size_t i = 0; obj && i < value->v.map.count; i++)
        json_object_set_new(obj, value->v.map.keys[i], json_string(value->v.map.values[i]));
    return obj;
}

static json_t *enum_json(int e, const char *const *names)
{
    for (int i = 0; names && names[i]; i++) {
        if (i == e)
            return json_string(names[i]);
    }
    return json_integer(e);
}

json_t *rest_value_to_json(const sat_value *value, const char *const *enum_names)
{
    switch (value->type) {
    case SAT_ATTR_STRING:
        return json_string(value->v.s ? value->v.s : "");
    case SAT_ATTR_INT:
    case SAT_ATTR_GAUGE:
    case SAT_ATTR_TIMESTAMP:
    case SAT_ATTR_DURATION:
        return json_integer((json_int_t)value->v.i);
    case SAT_ATTR_COUNTER:
        /* json_int_t is signed 64-bit; counters past 2^63 lose precision. */
        if (value->v.u > (uint64_t)INT64_MAX)
            return json_real((double)value->v.u);
        return json_integer((json_int_t)value->v.u);
    case SAT_ATTR_BOOL:
        return json_boolean(value->v.b);
    case SAT_ATTR_ENUM:
        return enum_json(value->v.e, enum_names);
    case SAT_ATTR_STRLIST:
        return strlist_json(value);
    case SAT_ATTR_STRMAP:
        return strmap_json(value);
    default:
        return json_null();
    }
}

static int expected(char *errmsg, size_t errsize, const char *what)
{
    snprintf(errmsg, errsize, "expected %s", what);
    return SAT_EINVAL;
}

static int json_to_strlist(const json_t *json, sat_value *out, char *errmsg, size_t errsize)
{
    size_t n = json_array_size(json);

    if (!json_is_array(json))
        return expected(errmsg, errsize, "an array of strings");
    out->v.list.items = n ? calloc(n, sizeof(char *)) : NULL;
    if (n && !out->v.list.items)
        return SAT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(json, i);

        if (!json_is_string(item))
            return expected(errmsg, errsize, "an array of strings");
        out->v.list.items[i] = strdup(json_string_value(item));
        if (!out->v.list.items[i])
            return SAT_ENOMEM;
        out->v.list.count++;
    }
    return SAT_OK;
}

static int json_to_strmap(const json_t *json, sat_value *out, char *errmsg, size_t errsize)
{
    size_t n = json_object_size(json), i = 0;
    const char *key;
    json_t *item;

    if (!json_is_object(json))
        return expected(errmsg, errsize, "an object of strings");
    out->v.map.keys = n ? calloc(n, sizeof(char *)) : NULL;
    out->v.map.values = n ? calloc(n, sizeof(char *)) : NULL;
    if (n && (!out->v.map.keys || !out->v.map.values))
        return SAT_ENOMEM;
    json_object_foreach((json_t *)(uintptr_t)json, key, item)
    {
        if (!json_is_string(item))
            return expected(errmsg, errsize, "an object of strings");
        out->v.map.keys[i] = strdup(key);
        out->v.map.values[i] = strdup(json_string_value(item));
        out->v.map.count = ++i;
        if (!out->v.map.keys[i - 1] || !out->v.map.values[i - 1])
            return SAT_ENOMEM;
    }
    return SAT_OK;
}

static int json_to_scalar(const json_t *json, sat_attr_type type, const char *const *enum_names,
                          sat_value *out, char *errmsg, size_t errsize)
{
    switch (type) {
    case SAT_ATTR_STRING:
        if (!json_is_string(json))
            return expected(errmsg, errsize, "a string");
        out->v.s = strdup(json_string_value(json));
        return out->v.s ? SAT_OK : SAT_ENOMEM;
    case SAT_ATTR_COUNTER:
        if (!json_is_integer(json) || json_integer_value(json) < 0)
            return expected(errmsg, errsize, "a non-negative integer");
        out->v.u = (uint64_t)json_integer_value(json);
        return SAT_OK;
    case SAT_ATTR_BOOL:
        if (!json_is_boolean(json))
            return expected(errmsg, errsize, "true or false");
        out->v.b = json_is_true(json);
        return SAT_OK;
    case SAT_ATTR_ENUM:
        for (int i = 0; json_is_string(json) && enum_names && enum_names[i]; i++) {
            if (strcmp(enum_names[i], json_string_value(json)) == 0) {
                out->v.e = i;
                return SAT_OK;
            }
        }
        return expected(errmsg, errsize, "one of the enum names");
    default: /* INT, GAUGE, TIMESTAMP, DURATION */
        if (!json_is_integer(json))
            return expected(errmsg, errsize, "an integer");
        out->v.i = (int64_t)json_integer_value(json);
        return SAT_OK;
    }
}

int rest_json_to_value(const json_t *json, sat_attr_type type, const char *const *enum_names,
                       sat_value *out, char *errmsg, size_t errsize)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->type = type;
    if (type == SAT_ATTR_STRLIST)
        rc = json_to_strlist(json, out, errmsg, errsize);
    else if (type == SAT_ATTR_STRMAP)
        rc = json_to_strmap(json, out, errmsg, errsize);
    else
        rc = json_to_scalar(json, type, enum_names, out, errmsg, errsize);
    if (rc != SAT_OK)
        sat_value_clear(out);
    return rc;
}

json_t *rest_record_json(const sat_record *rec, const sat_attr_def *attrs, size_t attr_count)
{
    json_t *obj = json_object();
    size_t n = sat_record_count(rec);

    for (size_t i = 0; obj && i < n; i++) {
        const char *name = sat_record_name_at(rec, i);
        const char *const *names = NULL;

        for (size_t a = 0; a < attr_count; a++) {
            if (strcmp(attrs[a].name, name) == 0)
                names = attrs[a].enum_names;
        }
        json_object_set_new(obj, name, rest_value_to_json(sat_record_value_at(rec, i), names));
    }
    return obj;
}

json_t *rest_object_json(const sat_type_def *def, const char *id, uint32_t index,
                         const sat_record *rec)
{
    return json_pack("{s:s, s:s, s:I, s:o}", "type", def->name, "id", id, "index",
                     (json_int_t)index, "attributes",
                     rest_record_json(rec, def->attrs, def->attr_count));
}

/* ---- schema ----------------------------------------------------------- */

static json_t *enum_names_json(const char *const *names)
{
    json_t *arr = json_array();

    for (int i = 0; arr && names && names[i]; i++)
        json_array_append_new(arr, json_string(names[i]));
    return arr;
}

static json_t *attr_schema(const sat_attr_def *a)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", a->name, "type", sat_attr_type_name(a->type),
                  "description", a->description ? a->description : "", "writable", a->set != NULL,
                  "secret", a->secret);

    if (j && a->type == SAT_ATTR_ENUM)
        json_object_set_new(j, "enum", enum_names_json(a->enum_names));
    return j;
}

static json_t *op_schema(const sat_op_def *op)
{
    json_t *params = json_array(), *result = json_array();

    for (size_t i = 0; params && i < op->param_count; i++) {
        const sat_param_def *p = &op->params[i];
        json_t *j =
            json_pack("{s:s, s:s, s:b, s:s}", "name", p->name, "type", sat_attr_type_name(p->type),
                      "required", p->required, "description", p->description ? p->description : "");

        if (j && p->type == SAT_ATTR_ENUM)
            json_object_set_new(j, "enum", enum_names_json(p->enum_names));
        json_array_append_new(params, j);
    }
    for (size_t i = 0; result && i < op->result_count; i++)
        json_array_append_new(result, attr_schema(&op->result[i]));
    return json_pack("{s:s, s:s, s:o, s:o}", "name", op->name, "description",
                     op->description ? op->description : "", "parameters", params, "result",
                     result);
}

static json_t *type_schema(const sat_type_def *def)
{
    json_t *attrs = json_array(), *ops = json_array();
    char path[256];

    for (size_t i = 0; attrs && i < def->attr_count; i++)
        json_array_append_new(attrs, attr_schema(&def->attrs[i]));
    for (size_t i = 0; ops && i < def->op_count; i++)
        json_array_append_new(ops, op_schema(&def->ops[i]));
    snprintf(path, sizeof(path), "/api/v1/%s", def->singleton ? def->name : def->plural);
    return json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o}", "name", def->name, "plural",
                     def->plural, "singleton", def->singleton, "description",
                     def->description ? def->description : "", "path", path, "attributes", attrs,
                     "operations", ops);
}

json_t *rest_types_json(sat_registry *reg)
{
    json_t *types = json_array();
    size_t n = sat_registry_type_count(reg);

    for (size_t i = 0; types && i < n; i++)
        json_array_append_new(types, type_schema(sat_registry_type_at(reg, i)));
    return json_pack("{s:s, s:o}", "version", "v1", "types", types);
}
