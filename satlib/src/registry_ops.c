/* SPDX-License-Identifier: Apache-2.0 */
/* Registry writes: attribute setting (checked all keys first, then set) and
 * operations with their parameter checks. Lookups and object lifetime live
 * in registry.c. */
#include "registry_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static void set_err(char *errmsg, size_t errsize,
                                                          const char *fmt, ...)
{
    va_list ap;

    if (!errmsg || !errsize)
        return;
    va_start(ap, fmt);
    vsnprintf(errmsg, errsize, fmt, ap);
    va_end(ap);
}

/* ---- attribute writes --------------------------------------------------- */

static const sat_attr_def *find_attr(const sat_type_def *def, const char *name)
{
    for (size_t i = 0; i < def->attr_count; i++) {
        if (strcmp(def->attrs[i].name, name) == 0)
            return &def->attrs[i];
    }
    return NULL;
}

static int enum_count(const char *const *names)
{
    int n = 0;

    while (names && names[n])
        n++;
    return n;
}

/* Checks a value against a declared type (and enum range). */
static bool value_fits(sat_attr_type type, const char *const *enum_names, const sat_value *value)
{
    if (value->type != type)
        return false;
    if (type == SAT_ATTR_ENUM)
        return value->v.e >= 0 && value->v.e < enum_count(enum_names);
    return true;
}

/* Checks that attr exists, is writable and that value fits it. */
static int check_attr(const sat_type_def *def, const char *name, const sat_value *value,
                      const sat_attr_def **attr, char *errmsg, size_t errsize)
{
    *attr = find_attr(def, name);
    if (!*attr) {
        set_err(errmsg, errsize, "unknown attribute '%s'", name);
        return SAT_ENOTFOUND;
    }
    if (!(*attr)->set) {
        set_err(errmsg, errsize, "attribute '%s' is read-only", name);
        return SAT_ENOTSUP;
    }
    if (!value_fits((*attr)->type, (*attr)->enum_names, value)) {
        if (errmsg && errsize)
            snprintf(errmsg, errsize, "attribute '%s' expects a value of type %s", name,
                     sat_attr_type_name((*attr)->type));
        return SAT_EINVAL;
    }
    return SAT_OK;
}

int sat_registry_set_attr(sat_registry *reg, const char *type, const char *id, const char *attr,
                          const sat_value *value, char *errmsg, size_t errsize)
{
    sat_record *values = sat_record_new();
    int rc;

    if (!values)
        return SAT_ENOMEM;
    rc = sat_record_set(values, attr, value);
    if (rc == SAT_OK)
        rc = sat_registry_set_attrs(reg, type, id, values, NULL, errmsg, errsize);
    sat_record_free(values);
    return rc;
}

int sat_registry_set_attr_text(sat_registry *reg, const char *type, const char *id,
                               const char *attr, const char *text, char *errmsg, size_t errsize)
{
    const sat_type_def *def = sat_registry_find_type(reg, type);
    const sat_attr_def *a = def ? find_attr(def, attr) : NULL;
    sat_value value;
    int rc;

    if (!def) {
        set_err(errmsg, errsize, "unknown type '%s'", type);
        return SAT_ENOTFOUND;
    }
    if (!a) {
        set_err(errmsg, errsize, "unknown attribute '%s'", attr);
        return SAT_ENOTFOUND;
    }
    rc = sat_value_parse(a->type, a->enum_names, text, &value, errmsg, errsize);
    if (rc != SAT_OK)
        return rc;
    rc = sat_registry_set_attr(reg, type, id, attr, &value, errmsg, errsize);
    sat_value_clear(&value);
    return rc;
}

/* Runs the checks of every key, then every validate callback. */
static int precheck_attrs(sat_registry_object *obj, const sat_record *values, const char **bad_attr,
                          char *errmsg, size_t errsize)
{
    const sat_type_def *def = sat__object_def(obj);
    const sat_attr_def *a;
    size_t n = sat_record_count(values);
    int rc;

    for (size_t i = 0; i < n; i++) {
        *bad_attr = sat_record_name_at(values, i);
        rc = check_attr(def, *bad_attr, sat_record_value_at(values, i), &a, errmsg, errsize);
        if (rc != SAT_OK)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        *bad_attr = sat_record_name_at(values, i);
        a = find_attr(def, *bad_attr);
        if (a && a->validate) {
            rc = a->validate(sat__object_ctx(obj), sat_record_value_at(values, i), errmsg, errsize);
            if (rc != SAT_OK)
                return rc;
        }
    }
    *bad_attr = NULL;
    return SAT_OK;
}

int sat_registry_set_attrs(sat_registry *reg, const char *type, const char *id,
                           const sat_record *values, const char **bad_attr, char *errmsg,
                           size_t errsize)
{
    sat_registry_object *obj = sat__registry_acquire(reg, type, id);
    const sat_type_def *def = obj ? sat__object_def(obj) : NULL;
    const char *bad = NULL;
    size_t n = sat_record_count(values), done = 0;
    int rc;

    if (errmsg && errsize)
        errmsg[0] = '\0';
    if (!obj) {
        set_err(errmsg, errsize, "no object with id '%s'", id ? id : "");
        rc = SAT_ENOTFOUND;
        goto out;
    }
    rc = precheck_attrs(obj, values, &bad, errmsg, errsize);
    for (size_t i = 0; rc == SAT_OK && i < n; i++) {
        const sat_attr_def *a = find_attr(def, sat_record_name_at(values, i));

        bad = sat_record_name_at(values, i);
        if (!a || !a->set) {
            rc = SAT_ENOTSUP; /* unreachable: precheck_attrs checked both */
            break;
        }
        rc = a->set(sat__object_ctx(obj), sat_record_value_at(values, i), errmsg, errsize);
        if (rc == SAT_OK)
            done++;
    }
    if (rc == SAT_OK)
        bad = NULL;
    sat__registry_release(obj);

    /* Events go out after release, so a listener may remove the object
     * without waiting on its own call. */
    for (size_t i = 0; i < done; i++)
        sat__events_emit(sat__registry_events(reg), SAT_EVENT_CHANGED, def->name, id ? id : "",
                         sat_record_name_at(values, i), 0);
out:
    if (bad_attr)
        *bad_attr = bad;
    return rc;
}

/* ---- operations --------------------------------------------------------- */

static const sat_op_def *find_op(const sat_type_def *def, const char *name)
{
    for (size_t i = 0; i < def->op_count; i++) {
        if (strcmp(def->ops[i].name, name) == 0)
            return &def->ops[i];
    }
    return NULL;
}

static const sat_param_def *find_param(const sat_op_def *op, const char *name)
{
    for (size_t i = 0; i < op->param_count; i++) {
        if (strcmp(op->params[i].name, name) == 0)
            return &op->params[i];
    }
    return NULL;
}

/* Checks params against the operation's schema: no unknown names, declared
 * types, every required parameter present. */
static int check_params(const sat_op_def *op, const sat_record *params, char *errmsg,
                        size_t errsize)
{
    size_t n = sat_record_count(params);

    for (size_t i = 0; i < n; i++) {
        const char *name = sat_record_name_at(params, i);
        const sat_param_def *p = find_param(op, name);

        if (!p) {
            set_err(errmsg, errsize, "unknown parameter '%s'", name);
            return SAT_EINVAL;
        }
        if (!value_fits(p->type, p->enum_names, sat_record_value_at(params, i))) {
            if (errmsg && errsize)
                snprintf(errmsg, errsize, "parameter '%s' expects a value of type %s", name,
                         sat_attr_type_name(p->type));
            return SAT_EINVAL;
        }
    }
    for (size_t i = 0; i < op->param_count; i++) {
        if (op->params[i].required && !sat_record_get(params, op->params[i].name)) {
            set_err(errmsg, errsize, "missing required parameter '%s'", op->params[i].name);
            return SAT_EINVAL;
        }
    }
    return SAT_OK;
}

int sat_registry_invoke(sat_registry *reg, const char *type, const char *id, const char *op,
                        const sat_record *params, sat_record *result, char *errmsg, size_t errsize)
{
    sat_registry_object *obj = sat__registry_acquire(reg, type, id);
    const sat_type_def *def = obj ? sat__object_def(obj) : NULL;
    const sat_op_def *o = def ? find_op(def, op) : NULL;
    int rc;

    if (errmsg && errsize)
        errmsg[0] = '\0';
    if (!obj) {
        set_err(errmsg, errsize, "no object with id '%s'", id ? id : "");
        return SAT_ENOTFOUND;
    }
    if (!o) {
        set_err(errmsg, errsize, "unknown operation '%s'", op);
        rc = SAT_ENOTFOUND;
        goto out;
    }
    rc = check_params(o, params, errmsg, errsize);
    if (rc == SAT_OK)
        rc = o->invoke(sat__object_ctx(obj), params, result, errmsg, errsize);
    if (rc != SAT_OK && errmsg && errsize && !errmsg[0])
        snprintf(errmsg, errsize, "%s", sat_strerror(rc));
out:
    sat__registry_release(obj);
    if (o)
        sat__events_emit(sat__registry_events(reg), SAT_EVENT_INVOKED, def->name, id ? id : "", op,
                         rc);
    return rc;
}
