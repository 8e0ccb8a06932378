/* SPDX-License-Identifier: Apache-2.0 */
/* Resources by tracking id: the framework-wide table (a chained hash under
 * one mutex, touched on connect, disconnect and operator lookups, never per
 * message), reference counting and release. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_uuid(const char *s)
{
    size_t h = 1469598103934665603ull;

    while (*s != '\0')
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int table_grow(sat_framework *fw)
{
    size_t cap = fw->res_cap ? fw->res_cap * 2 : 1024;
    sat_resource **t = calloc(cap, sizeof *t);

    if (t == NULL)
        return SAT_ENOMEM;
    for (size_t i = 0; i < fw->res_cap; i++) {
        sat_resource *r = fw->res_table[i];

        while (r != NULL) {
            sat_resource *next = r->hnext;
            size_t slot = hash_uuid(r->uuid) & (cap - 1);

            r->hnext = t[slot];
            t[slot] = r;
            r = next;
        }
    }
    free(fw->res_table);
    fw->res_table = t;
    fw->res_cap = cap;
    return SAT_OK;
}

static sat_resource *table_find(sat_framework *fw, const char *uuid)
{
    if (fw->res_cap == 0)
        return NULL;
    for (sat_resource *r = fw->res_table[hash_uuid(uuid) & (fw->res_cap - 1)]; r != NULL;
         r = r->hnext) {
        if (strcmp(r->uuid, uuid) == 0)
            return r;
    }
    return NULL;
}

sat_resource *sat__resource_ref(sat_resource *r)
{
    atomic_fetch_add(&r->refs, 1);
    return r;
}

void sat__resource_unref(sat_resource *r)
{
    if (r == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    sat_broadcaster_unref(r->bc);
    free(r->user_agent);
    free(r->query);
    free(r->headers);
    free(r);
}

sat_resource *sat__resource_find(sat_framework *fw, const char *uuid)
{
    sat_resource *r;

    pthread_mutex_lock(&fw->res_lock);
    r = table_find(fw, uuid);
    if (r != NULL)
        sat__resource_ref(r);
    pthread_mutex_unlock(&fw->res_lock);
    return r;
}

/* Returns a new reference to the resource for `uuid`, creating it (with a
 * table reference of its own) when absent. */
sat_resource *sat__resource_get(sat_framework *fw, const char *uuid, bool *created,
                                sat_broadcaster *bc, sat_transport t)
{
    sat_resource *r;

    *created = false;
    pthread_mutex_lock(&fw->res_lock);
    r = table_find(fw, uuid);
    if (r != NULL) {
        sat__resource_ref(r);
        goto out;
    }
    if (fw->res_count + 1 > fw->res_cap && table_grow(fw) != SAT_OK)
        goto out;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        goto out;
    atomic_init(&r->refs, 2); /* the table's and the caller's */
    atomic_init(&r->owner, -1);
    atomic_init(&r->state, SAT_RES_SUSPENDED);
    r->fw = fw;
    snprintf(r->uuid, sizeof r->uuid, "%s", uuid);
    r->bc = sat__broadcaster_ref(bc);
    sat__broadcaster_member(bc, 1);
    r->transport = t;
    r->connected_ms = sat__now_ms();
    atomic_store(&r->last_activity_ms, r->connected_ms);
    {
        size_t slot = hash_uuid(uuid) & (fw->res_cap - 1);

        r->hnext = fw->res_table[slot];
        fw->res_table[slot] = r;
    }
    fw->res_count++;
    *created = true;
out:
    pthread_mutex_unlock(&fw->res_lock);
    return r;
}

/* Removes the resource from the table and drops the table's reference. */
void sat__resource_unregister(sat_resource *r)
{
    sat_framework *fw = r->fw;
    bool removed = false;

    pthread_mutex_lock(&fw->res_lock);
    if (fw->res_cap > 0) {
        for (sat_resource **p = &fw->res_table[hash_uuid(r->uuid) & (fw->res_cap - 1)];
             *p != NULL; p = &(*p)->hnext) {
            if (*p == r) {
                *p = r->hnext;
                fw->res_count--;
                removed = true;
                break;
            }
        }
    }
    pthread_mutex_unlock(&fw->res_lock);
    if (removed) {
        sat__introspect_resource_removed(r);
        sat__broadcaster_member(r->bc, -1);
        sat__resource_unref(r);
    }
}

void sat__resources_free_all(sat_framework *fw)
{
    pthread_mutex_lock(&fw->res_lock);
    for (size_t i = 0; i < fw->res_cap; i++) {
        sat_resource *r = fw->res_table[i];

        while (r != NULL) {
            sat_resource *next = r->hnext;

            sat__introspect_resource_removed(r);
            sat__resource_unref(r);
            r = next;
        }
    }
    free(fw->res_table);
    fw->res_table = NULL;
    fw->res_cap = fw->res_count = 0;
    pthread_mutex_unlock(&fw->res_lock);
}

const char *sat_resource_uuid(const sat_resource *r)
{
    return r->uuid;
}

sat_transport sat_resource_transport(const sat_resource *r)
{
    return r->transport;
}
