/* SPDX-License-Identifier: Apache-2.0 */
/* Registry core: types, objects ordered by id and by index, the object
 * lifetime rules against concurrent reads, reads, attribute writes and
 * operations. Values live in registry_value.c, events in registry_events.c. */
#include "registry_internal.h"

#include "log_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES 64

struct reg_type {
    const sat_type_def *def;
    sat__avl by_id;
    sat__avl by_index;
    uint32_t last_index;
    size_t count;
};

struct sat_registry_object {
    sat__avl_node id_node;
    sat__avl_node index_node;
    sat_registry *reg;
    struct reg_type *type;
    char *id;
    uint32_t index;
    void *ctx;
    unsigned refs; /* one for the link from the trees, one per in-flight user */
    unsigned busy; /* callbacks running on ctx */
    bool linked;
};

struct sat_registry {
    pthread_mutex_t lock; /* guards types' trees and every object's refs/busy */
    pthread_cond_t idle;  /* broadcast when an object's busy count drops to 0 */
    struct reg_type types[MAX_TYPES];
    _Atomic size_t type_count;
    sat__events *events;
};

#define OBJ_OF(node, field)                                                                        \
    ((sat_registry_object *)((uintptr_t)(node)-offsetof(sat_registry_object, field)))

static int cmp_id(const sat__avl_node *a, const sat__avl_node *b)
{
    return strcmp(OBJ_OF(a, id_node)->id, OBJ_OF(b, id_node)->id);
}

static int key_id(const void *key, const sat__avl_node *n)
{
    return strcmp(key, OBJ_OF(n, id_node)->id);
}

static int cmp_index(const sat__avl_node *a, const sat__avl_node *b)
{
    uint32_t x = OBJ_OF(a, index_node)->index, y = OBJ_OF(b, index_node)->index;

    return x < y ? -1 : x > y;
}

static int key_index(const void *key, const sat__avl_node *n)
{
    uint32_t x = *(const uint32_t *)key, y = OBJ_OF(n, index_node)->index;

    return x < y ? -1 : x > y;
}

sat__events *sat__registry_events(sat_registry *reg)
{
    return reg->events;
}

/* ---- lifecycle -------------------------------------------------------- */

sat_registry *sat_registry_new(size_t event_ring_size)
{
    sat_registry *reg = calloc(1, sizeof(*reg));

    if (!reg)
        return NULL;
    reg->events = sat__events_new(event_ring_size);
    if (!reg->events) {
        free(reg);
        return NULL;
    }
    pthread_mutex_init(&reg->lock, NULL);
    pthread_cond_init(&reg->idle, NULL);
    return reg;
}

void sat_registry_free(sat_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->type_count; i++) {
        if (reg->types[i].count)
            SAT_WARN("registry", "freed with %zu live objects type=%s", reg->types[i].count,
                     reg->types[i].def->name);
    }
    sat__events_free(reg->events);
    pthread_mutex_destroy(&reg->lock);
    pthread_cond_destroy(&reg->idle);
    free(reg);
}

static bool def_valid(const sat_type_def *def)
{
    if (!def || !def->name || !def->plural || !def->read || !def->name[0] || !def->plural[0])
        return false;
    if ((def->ref == NULL) != (def->unref == NULL))
        return false;
    for (size_t i = 0; i < def->attr_count; i++) {
        if (!def->attrs[i].name || (unsigned)def->attrs[i].type >= SAT_ATTR_TYPE_COUNT)
            return false;
        if (def->attrs[i].type == SAT_ATTR_ENUM && !def->attrs[i].enum_names)
            return false;
    }
    for (size_t i = 0; i < def->op_count; i++) {
        if (!def->ops[i].name || !def->ops[i].invoke)
            return false;
    }
    return true;
}

int sat_registry_register_type(sat_registry *reg, const sat_type_def *def)
{
    int rc = SAT_OK;
    size_t n;

    if (!def_valid(def))
        return SAT_EINVAL;
    pthread_mutex_lock(&reg->lock);
    n = atomic_load(&reg->type_count);
    if (n == MAX_TYPES) {
        rc = SAT_ELIMIT;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const sat_type_def *d = reg->types[i].def;

        if (strcmp(d->name, def->name) == 0 || strcmp(d->plural, def->plural) == 0 ||
            strcmp(d->name, def->plural) == 0 || strcmp(d->plural, def->name) == 0) {
            rc = SAT_ECONFLICT;
            goto out;
        }
    }
    reg->types[n] = (struct reg_type){.def = def, .by_id.cmp = cmp_id, .by_index.cmp = cmp_index};
    atomic_store(&reg->type_count, n + 1);
out:
    pthread_mutex_unlock(&reg->lock);
    return rc;
}

/* ---- types ------------------------------------------------------------ */

static struct reg_type *find_type(sat_registry *reg, const char *name)
{
    size_t n = atomic_load(&reg->type_count);

    for (size_t i = 0; name && i < n; i++) {
        if (strcmp(reg->types[i].def->name, name) == 0)
            return &reg->types[i];
    }
    return NULL;
}

size_t sat_registry_type_count(const sat_registry *reg)
{
    return atomic_load(&((sat_registry *)(uintptr_t)reg)->type_count);
}

const sat_type_def *sat_registry_type_at(const sat_registry *reg, size_t i)
{
    return i < sat_registry_type_count(reg) ? reg->types[i].def : NULL;
}

const sat_type_def *sat_registry_find_type(const sat_registry *reg, const char *name)
{
    struct reg_type *t = find_type((sat_registry *)(uintptr_t)reg, name);

    return t ? t->def : NULL;
}

const sat_type_def *sat_registry_find_plural(const sat_registry *reg, const char *plural)
{
    size_t n = sat_registry_type_count(reg);

    for (size_t i = 0; plural && i < n; i++) {
        if (strcmp(reg->types[i].def->plural, plural) == 0)
            return reg->types[i].def;
    }
    return NULL;
}

/* ---- objects ----------------------------------------------------------- */

int sat_registry_add(sat_registry *reg, const char *type, const char *id, void *ctx,
                     sat_registry_object **out)
{
    struct reg_type *t = find_type(reg, type);
    sat_registry_object *obj = NULL;
    int rc = SAT_OK;

    *out = NULL;
    if (!t)
        return SAT_ENOTFOUND;
    obj = calloc(1, sizeof(*obj));
    if (!obj)
        return SAT_ENOMEM;
    obj->id = strdup(id ? id : "");
    if (!obj->id) {
        free(obj);
        return SAT_ENOMEM;
    }
    obj->reg = reg;
    obj->type = t;
    obj->ctx = ctx;
    obj->refs = 1;

    pthread_mutex_lock(&reg->lock);
    if (sat__avl_find(&t->by_id, obj->id, key_id)) {
        rc = SAT_ECONFLICT;
        goto out;
    }
    if (t->last_index == UINT32_MAX) {
        rc = SAT_ELIMIT;
        goto out;
    }
    obj->index = ++t->last_index;
    sat__avl_insert(&t->by_id, &obj->id_node);
    sat__avl_insert(&t->by_index, &obj->index_node);
    t->count++;
    obj->linked = true;
out:
    pthread_mutex_unlock(&reg->lock);
    if (rc != SAT_OK) {
        free(obj->id);
        free(obj);
        return rc;
    }
    if (t->def->ref)
        t->def->ref(ctx);
    *out = obj;
    sat__events_emit(reg->events, SAT_EVENT_CREATED, t->def->name, obj->id, NULL, 0);
    return SAT_OK;
}

/* Drops one reference; call with reg->lock held. Returns the object when
 * that was the last reference, so the caller frees it after unlocking. */
static sat_registry_object *unref_locked(sat_registry_object *obj)
{
    return --obj->refs == 0 ? obj : NULL;
}

static void destroy(sat_registry_object *obj)
{
    if (!obj)
        return;
    if (obj->type->def->unref)
        obj->type->def->unref(obj->ctx);
    free(obj->id);
    free(obj);
}

void sat_registry_remove(sat_registry_object *obj)
{
    sat_registry *reg;
    struct reg_type *t;
    sat_registry_object *dead;
    char *id;

    if (!obj)
        return;
    reg = obj->reg;
    t = obj->type;
    id = strdup(obj->id);

    pthread_mutex_lock(&reg->lock);
    sat__avl_remove(&t->by_id, &obj->id_node);
    sat__avl_remove(&t->by_index, &obj->index_node);
    t->count--;
    obj->linked = false;
    if (!t->def->unref) {
        while (obj->busy > 0)
            pthread_cond_wait(&reg->idle, &reg->lock);
    }
    dead = unref_locked(obj);
    pthread_mutex_unlock(&reg->lock);
    destroy(dead);

    sat__events_emit(reg->events, SAT_EVENT_DESTROYED, t->def->name, id ? id : "", NULL, 0);
    free(id);
}

void sat_registry_notify_changed(sat_registry_object *obj, const char *attr)
{
    if (obj)
        sat__events_emit(obj->reg->events, SAT_EVENT_CHANGED, obj->type->def->name, obj->id, attr,
                         0);
}

void *sat__object_ctx(const sat_registry_object *obj)
{
    return obj->ctx;
}

const sat_type_def *sat__object_def(const sat_registry_object *obj)
{
    return obj->type->def;
}

uint32_t sat_registry_object_index(const sat_registry_object *obj)
{
    return obj->index;
}

const char *sat_registry_object_id(const sat_registry_object *obj)
{
    return obj->id;
}

sat_registry_object *sat__registry_acquire(sat_registry *reg, const char *type, const char *id)
{
    struct reg_type *t = find_type(reg, type);
    sat_registry_object *obj = NULL;
    sat__avl_node *n;

    if (!t)
        return NULL;
    pthread_mutex_lock(&reg->lock);
    n = sat__avl_find(&t->by_id, id ? id : "", key_id);
    if (n) {
        obj = OBJ_OF(n, id_node);
        obj->refs++;
        obj->busy++;
    }
    pthread_mutex_unlock(&reg->lock);
    return obj;
}

static sat_registry_object *acquire_index(sat_registry *reg, const char *type, uint32_t index)
{
    struct reg_type *t = find_type(reg, type);
    sat_registry_object *obj = NULL;
    sat__avl_node *n;

    if (!t)
        return NULL;
    pthread_mutex_lock(&reg->lock);
    n = sat__avl_find(&t->by_index, &index, key_index);
    if (n) {
        obj = OBJ_OF(n, index_node);
        obj->refs++;
        obj->busy++;
    }
    pthread_mutex_unlock(&reg->lock);
    return obj;
}

void sat__registry_release(sat_registry_object *obj)
{
    sat_registry *reg = obj->reg;
    sat_registry_object *dead;

    pthread_mutex_lock(&reg->lock);
    if (--obj->busy == 0)
        pthread_cond_broadcast(&reg->idle);
    dead = unref_locked(obj);
    pthread_mutex_unlock(&reg->lock);
    destroy(dead);
}

/* ---- queries ----------------------------------------------------------- */

size_t sat_registry_object_count(sat_registry *reg, const char *type)
{
    struct reg_type *t = find_type(reg, type);
    size_t n;

    if (!t)
        return 0;
    pthread_mutex_lock(&reg->lock);
    n = t->count;
    pthread_mutex_unlock(&reg->lock);
    return n;
}

void sat_object_refs_free(sat_object_ref *refs, size_t count)
{
    for (size_t i = 0; refs && i < count; i++)
        free(refs[i].id);
    free(refs);
}

/* Appends one object to a listing; false when out of memory. */
static bool push_ref(sat_object_ref *out, size_t *count, const sat_registry_object *obj)
{
    out[*count].id = strdup(obj->id);
    if (!out[*count].id)
        return false;
    out[*count].index = obj->index;
    (*count)++;
    return true;
}

int sat_registry_list(sat_registry *reg, const char *type, const char *after, const char *filter,
                      size_t limit, sat_object_ref **out, size_t *count, bool *more)
{
    struct reg_type *t = find_type(reg, type);
    sat_object_ref *refs = NULL;
    sat__avl_iter it;
    sat__avl_node *n;
    size_t got = 0;
    int rc = SAT_OK;

    *out = NULL;
    *count = 0;
    *more = false;
    if (!t)
        return SAT_ENOTFOUND;
    refs = calloc(limit ? limit : 1, sizeof(*refs));
    if (!refs)
        return SAT_ENOMEM;

    pthread_mutex_lock(&reg->lock);
    for (n = sat__avl_upper(&t->by_id, after, key_id, &it); n; n = sat__avl_next(&it)) {
        sat_registry_object *obj = OBJ_OF(n, id_node);

        if (filter && filter[0] && !strstr(obj->id, filter))
            continue;
        if (got == limit) {
            *more = true;
            break;
        }
        if (!push_ref(refs, &got, obj)) {
            rc = SAT_ENOMEM;
            break;
        }
    }
    pthread_mutex_unlock(&reg->lock);

    if (rc != SAT_OK) {
        sat_object_refs_free(refs, got);
        *more = false;
        return rc;
    }
    *out = refs;
    *count = got;
    return SAT_OK;
}

int sat_registry_list_by_index(sat_registry *reg, const char *type, uint32_t after_index,
                               size_t limit, sat_object_ref **out, size_t *count, bool *more)
{
    struct reg_type *t = find_type(reg, type);
    sat_object_ref *refs = NULL;
    sat__avl_iter it;
    sat__avl_node *n;
    size_t got = 0;
    int rc = SAT_OK;

    *out = NULL;
    *count = 0;
    *more = false;
    if (!t)
        return SAT_ENOTFOUND;
    refs = calloc(limit ? limit : 1, sizeof(*refs));
    if (!refs)
        return SAT_ENOMEM;

    pthread_mutex_lock(&reg->lock);
    for (n = sat__avl_upper(&t->by_index, &after_index, key_index, &it); n;
         n = sat__avl_next(&it)) {
        if (got == limit) {
            *more = true;
            break;
        }
        if (!push_ref(refs, &got, OBJ_OF(n, index_node))) {
            rc = SAT_ENOMEM;
            break;
        }
    }
    pthread_mutex_unlock(&reg->lock);

    if (rc != SAT_OK) {
        sat_object_refs_free(refs, got);
        *more = false;
        return rc;
    }
    *out = refs;
    *count = got;
    return SAT_OK;
}

int sat_registry_index_of(sat_registry *reg, const char *type, const char *id, uint32_t *index)
{
    sat_registry_object *obj = sat__registry_acquire(reg, type, id);

    *index = 0;
    if (!obj)
        return SAT_ENOTFOUND;
    *index = obj->index;
    sat__registry_release(obj);
    return SAT_OK;
}

/* Replaces every secret attribute present in rec with the string "***". */
static int mask_secrets(const sat_type_def *def, sat_record *rec)
{
    for (size_t i = 0; i < def->attr_count; i++) {
        if (def->attrs[i].secret && sat_record_get(rec, def->attrs[i].name)) {
            if (sat_record_set_str(rec, def->attrs[i].name, "***") != SAT_OK)
                return SAT_ENOMEM;
        }
    }
    return SAT_OK;
}

static int read_object(sat_registry_object *obj, char **id_out, sat_record **out)
{
    const sat_type_def *def = obj->type->def;
    sat_record *rec = sat_record_new();
    int rc;

    if (!rec) {
        rc = SAT_ENOMEM;
        goto out;
    }
    rc = def->read(obj->ctx, rec);
    if (rc == SAT_OK && sat_record_failed(rec))
        rc = SAT_ENOMEM;
    if (rc == SAT_OK)
        rc = mask_secrets(def, rec);
    if (rc == SAT_OK && id_out) {
        *id_out = strdup(obj->id);
        if (!*id_out)
            rc = SAT_ENOMEM;
    }
out:
    sat__registry_release(obj);
    if (rc != SAT_OK) {
        sat_record_free(rec);
        rec = NULL;
    }
    *out = rec;
    return rc;
}

int sat_registry_read(sat_registry *reg, const char *type, const char *id, sat_record **out)
{
    sat_registry_object *obj = sat__registry_acquire(reg, type, id);

    *out = NULL;
    if (!obj)
        return SAT_ENOTFOUND;
    return read_object(obj, NULL, out);
}

int sat_registry_read_index(sat_registry *reg, const char *type, uint32_t index, char **id_out,
                            sat_record **out)
{
    sat_registry_object *obj = acquire_index(reg, type, index);

    *out = NULL;
    if (id_out)
        *id_out = NULL;
    if (!obj)
        return SAT_ENOTFOUND;
    return read_object(obj, id_out, out);
}
