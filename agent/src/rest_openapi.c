/* SPDX-License-Identifier: Apache-2.0 */
/* OpenAPI 3.0 document generated from the registry's types, served at
 * GET /api/v1/openapi.json. Paths here mirror the routes of rest_routes.c. */
#include "rest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *value_schema(sat_attr_type type, const char *const *enum_names)
{
    json_t *names;

    switch (type) {
    case SAT_ATTR_STRING:
        return json_pack("{s:s}", "type", "string");
    case SAT_ATTR_COUNTER:
        return json_pack("{s:s, s:s, s:i}", "type", "integer", "format", "int64", "minimum", 0);
    case SAT_ATTR_BOOL:
        return json_pack("{s:s}", "type", "boolean");
    case SAT_ATTR_ENUM:
        names = json_array();
        for (int i = 0; names && enum_names && enum_names[i]; i++)
            json_array_append_new(names, json_string(enum_names[i]));
        return json_pack("{s:s, s:o}", "type", "string", "enum", names);
    case SAT_ATTR_STRLIST:
        return json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
    case SAT_ATTR_STRMAP:
        return json_pack("{s:s, s:{s:s}}", "type", "object", "additionalProperties", "type",
                         "string");
    default: /* INT, GAUGE, TIMESTAMP (ms since epoch), DURATION (ms) */
        return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
    }
}

static json_t *attrs_schema(const sat_attr_def *attrs, size_t count, bool writable_only)
{
    json_t *props = json_object();

    for (size_t i = 0; props && i < count; i++) {
        json_t *s;

        if (writable_only && !attrs[i].set)
            continue;
        s = value_schema(attrs[i].secret ? SAT_ATTR_STRING : attrs[i].type, attrs[i].enum_names);
        if (s && attrs[i].description)
            json_object_set_new(s, "description", json_string(attrs[i].description));
        if (s && !attrs[i].set && !writable_only)
            json_object_set_new(s, "readOnly", json_true());
        json_object_set_new(props, attrs[i].name, s);
    }
    return json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
                     "additionalProperties", 0);
}

static json_t *params_schema(const sat_op_def *op)
{
    json_t *props = json_object(), *required = json_array();

    for (size_t i = 0; props && required && i < op->param_count; i++) {
        const sat_param_def *p = &op->params[i];
        json_t *s = value_schema(p->type, p->enum_names);

        if (s && p->description)
            json_object_set_new(s, "description", json_string(p->description));
        json_object_set_new(props, p->name, s);
        if (p->required)
            json_array_append_new(required, json_string(p->name));
    }
    if (json_array_size(required) == 0) {
        json_decref(required);
        return json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
                         "additionalProperties", 0);
    }
    return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required",
                     required, "additionalProperties", 0);
}

/* {"$ref": "#/components/schemas/<name>"} */
static json_t *ref(const char *name)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "#/components/schemas/%s", name);
    return json_pack("{s:s}", "$ref", buf);
}

static json_t *json_content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

/* Response map with a 200 body and the error statuses a route can give. */
static json_t *responses(json_t *ok_schema, const char *const *errors)
{
    json_t *r = json_pack("{s:{s:s, s:o}}", "200", "description", "success", "content",
                          json_content(ok_schema));

    for (size_t i = 0; r && errors[i]; i++)
        json_object_set_new(r, errors[i],
                            json_pack("{s:s}", "$ref", "#/components/responses/Error"));
    return r;
}

static const char *const read_errors[] = {"400", "401", "404", NULL};
static const char *const write_errors[] = {"400", "401", "403", "404", "409",
                                           "413", "415", "422", "503", NULL};

static json_t *id_param(void)
{
    return json_pack("[{s:s, s:s, s:b, s:s, s:{s:s}}]", "name", "id", "in", "path", "required", 1,
                     "description", "object id, percent-encoded ('/' as %2F)", "schema", "type",
                     "string");
}

static json_t *object_item(const sat_type_def *def, bool collection)
{
    json_t *item = json_object();
    json_t *get = json_pack("{s:s, s:o}", "summary", def->description ? def->description : "",
                            "responses", responses(ref(def->name), read_errors));
    json_t *patch = json_pack(
        "{s:s, s:{s:b, s:o}, s:o, s:[{s:[]}]}", "summary", "set writable attributes", "requestBody",
        "required", 1, "content", json_content(attrs_schema(def->attrs, def->attr_count, true)),
        "responses", responses(ref(def->name), write_errors), "security", "bearer");

    json_object_set_new(item, "get", get);
    json_object_set_new(item, "patch", patch);
    if (collection)
        json_object_set_new(item, "parameters", id_param());
    return item;
}

static json_t *op_item(const sat_op_def *op, bool collection)
{
    json_t *result = attrs_schema(op->result, op->result_count, false);
    json_t *ok = json_pack("{s:s, s:{s:{s:s}, s:o}}", "type", "object", "properties", "status",
                           "type", "string", "result", result);
    json_t *post = json_pack("{s:s, s:{s:b, s:o}, s:o, s:[{s:[]}]}", "summary",
                             op->description ? op->description : op->name, "requestBody",
                             "required", 0, "content", json_content(params_schema(op)), "responses",
                             responses(ok, write_errors), "security", "bearer");
    json_t *item = json_pack("{s:o}", "post", post);

    if (item && collection)
        json_object_set_new(item, "parameters", id_param());
    return item;
}

static json_t *list_item(const sat_type_def *def)
{
    json_t *page =
        json_pack("{s:s, s:{s:{s:s, s:o}, s:{s:s, s:b}, s:{s:s}}}", "type", "object", "properties",
                  "items", "type", "array", "items", ref(def->name), "next_cursor", "type",
                  "string", "nullable", 1, "total", "type", "integer");
    json_t *params = json_pack(
        "[{s:s, s:s, s:{s:s, s:i, s:i, s:i}}, {s:s, s:s, s:s, s:{s:s}}, {s:s, s:s, s:s, s:{s:s}}]",
        "name", "limit", "in", "query", "schema", "type", "integer", "minimum", 1, "maximum", 1000,
        "default", 100, "name", "cursor", "in", "query", "description",
        "next_cursor of the previous page", "schema", "type", "string", "name", "filter", "in",
        "query", "description", "substring the id must contain", "schema", "type", "string");

    return json_pack("{s:{s:s, s:o, s:o}}", "get", "summary", "list objects ordered by id",
                     "parameters", params, "responses", responses(page, read_errors));
}

static void add_type_paths(json_t *paths, json_t *schemas, const sat_type_def *def)
{
    char path[512];
    const char *base = def->singleton ? def->name : def->plural;
    json_t *schema =
        json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:o}}", "type", "object", "properties",
                  "type", "type", "string", "id", "type", "string", "index", "type", "integer",
                  "attributes", attrs_schema(def->attrs, def->attr_count, false));

    json_object_set_new(schemas, def->name, schema);
    if (def->singleton) {
        snprintf(path, sizeof(path), "/api/v1/%s", base);
        json_object_set_new(paths, path, object_item(def, false));
    } else {
        snprintf(path, sizeof(path), "/api/v1/%s", base);
        json_object_set_new(paths, path, list_item(def));
        snprintf(path, sizeof(path), "/api/v1/%s/{id}", base);
        json_object_set_new(paths, path, object_item(def, true));
    }
    for (size_t i = 0; i < def->op_count; i++) {
        snprintf(path, sizeof(path), def->singleton ? "/api/v1/%s/%s" : "/api/v1/%s/{id}/%s", base,
                 def->ops[i].name);
        json_object_set_new(paths, path, op_item(&def->ops[i], !def->singleton));
    }
}

static json_t *fixed_get(const char *summary, const char *type)
{
    return json_pack("{s:{s:s, s:{s:{s:s, s:{s:{}}}}}}", "get", "summary", summary, "responses",
                     "200", "description", "success", "content", type);
}

json_t *rest_openapi_json(sat_registry *reg)
{
    json_t *paths = json_object(), *schemas = json_object();
    size_t n = sat_registry_type_count(reg);

    json_object_set_new(paths, "/api/v1",
                        fixed_get("types with their schemas", "application/json"));
    json_object_set_new(paths, "/api/v1/openapi.json",
                        fixed_get("this document", "application/json"));
    json_object_set_new(paths, "/api/v1/events",
                        fixed_get("registry events as Server-Sent Events", "text/event-stream"));
    json_object_set_new(paths, "/metrics", fixed_get("Prometheus metrics", "text/plain"));
    for (size_t i = 0; i < n; i++)
        add_type_paths(paths, schemas, sat_registry_type_at(reg, i));
    json_object_set_new(schemas, "Error",
                        json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}}}}}", "type", "object",
                                  "properties", "error", "type", "object", "properties", "code",
                                  "type", "string", "message", "type", "string"));
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:o}}, s:{s:{s:s, s:s}}}}",
                     "openapi", "3.0.3", "info", "title", "Satellite admin API", "version", "v1",
                     "paths", paths, "components", "schemas", schemas, "responses", "Error",
                     "description", "error", "content", json_content(ref("Error")),
                     "securitySchemes", "bearer", "type", "http", "scheme", "bearer");
}

char *rest_openapi_text(sat_registry *reg)
{
    json_t *doc = rest_openapi_json(reg);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

    json_decref(doc);
    return text;
}
