/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the row snapshot of one SATELLITE-MIB group from the registry:
 * objects listed by index in pages, singletons and per-transport rows.
 * Runs on the agent thread only. */
#include "snmp.h"

#include "satellite/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PAGE 256

static const sat_attr_def *find_attr(const sat_type_def *def, const char *name)
{
    for (size_t i = 0; def && i < def->attr_count; i++) {
        if (strcmp(def->attrs[i].name, name) == 0)
            return &def->attrs[i];
    }
    return NULL;
}

/* The first of the '|'-separated names (with "%s" replaced by arg) that the
 * record holds. */
static const sat_value *pick_value(const sat_record *rec, const char *names, const char *arg,
                                   char *picked, size_t size)
{
    const char *p = names;

    while (p && *p) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *hole = memchr(p, '%', len);
        const sat_value *value;

        if (hole && hole + 1 < p + len && hole[1] == 's')
            snprintf(picked, size, "%.*s%s%.*s", (int)(hole - p), p, arg ? arg : "",
                     (int)(len - (size_t)(hole + 2 - p)), hole + 2);
        else
            snprintf(picked, size, "%.*s", (int)len, p);
        value = sat_record_get(rec, picked);
        if (value)
            return value;
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static int fill_cells(const snmp_group *g, const sat_type_def *def, const char *id,
                      const sat_record *rec, const char *arg, snmp_cell *cells)
{
    for (size_t c = 0; c < g->column_count; c++) {
        const snmp_column *col = &g->columns[c];
        sat_value id_value = {.type = SAT_ATTR_STRING, .v.s = (char *)(uintptr_t)id};
        const sat_value *value = NULL;
        const sat_attr_def *adef = NULL;
        char picked[96];

        if (col->attrs && strcmp(col->attrs, "@id") == 0) {
            value = &id_value;
        } else if (col->attrs) {
            value = pick_value(rec, col->attrs, arg, picked, sizeof(picked));
            adef = value ? find_attr(def, picked) : NULL;
        }
        if (snmp_cell_from_value(col, value, adef ? adef->enum_names : NULL, &cells[c]) != 0)
            return SAT_ENOMEM;
    }
    return 0;
}

static int add_row(const snmp_group *g, const sat_type_def *def, snmp_snapshot *snap,
                   uint32_t index, const char *id, const sat_record *rec, const char *arg)
{
    snmp_cell *cells = calloc(g->column_count, sizeof(*cells));
    char *id_copy = strdup(id ? id : "");
    int rc = SAT_ENOMEM;

    if (!cells || !id_copy)
        goto out;
    rc = fill_cells(g, def, id, rec, arg, cells);
    if (rc == 0)
        rc = snmp_snapshot_add(snap, index, id_copy, cells);

out:
    if (rc != 0) {
        for (size_t c = 0; cells && c < g->column_count; c++)
            snmp_cell_clear(&cells[c]);
        free(cells);
        free(id_copy);
    }
    return rc;
}

static int build_objects(sat_registry *reg, const snmp_group *g, const sat_type_def *def,
                         snmp_snapshot *snap)
{
    uint32_t after = 0;
    bool more = true;

    while (more) {
        sat_object_ref *refs = NULL;
        size_t count = 0;
        int rc = sat_registry_list_by_index(reg, g->type, after, LIST_PAGE, &refs, &count, &more);

        if (rc != 0)
            return rc == SAT_ENOTFOUND ? 0 : rc;
        for (size_t i = 0; i < count && rc == 0; i++) {
            sat_record *rec = NULL;

            after = refs[i].index;
            /* An object removed since the listing is skipped. */
            if (sat_registry_read_index(reg, g->type, refs[i].index, NULL, &rec) != 0)
                continue;
            rc = add_row(g, def, snap, refs[i].index, refs[i].id, rec, NULL);
            sat_record_free(rec);
        }
        sat_object_refs_free(refs, count);
        if (rc != 0)
            return rc;
        if (count == 0)
            break;
    }
    return 0;
}

/* Rows of satStatsTransportTable: one per transport that the statistics
 * record counts, indexed by the MIB's SatTransport value. */
static int build_transports(const snmp_group *g, const sat_type_def *def, const sat_record *rec,
                            snmp_snapshot *snap)
{
    for (int t = SAT_TRANSPORT_UNDEFINED; t < SAT_TRANSPORT_CLOSE; t++) {
        const char *name = sat_transport_name((sat_transport)t);
        char picked[96];
        bool present = false;
        int rc;

        for (size_t c = 0; c < g->column_count; c++) {
            if (g->columns[c].attrs &&
                pick_value(rec, g->columns[c].attrs, name, picked, sizeof(picked)))
                present = true;
        }
        if (!present)
            continue;
        rc = add_row(g, def, snap, (uint32_t)t + 1, name, rec, name);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int build_from_singleton(sat_registry *reg, const snmp_group *g, const sat_type_def *def,
                                snmp_snapshot *snap)
{
    sat_record *rec = NULL;
    int rc = sat_registry_read(reg, g->type, "", &rec);

    if (rc != 0)
        return rc == SAT_ENOTFOUND ? 0 : rc;
    if (g->source == SNMP_SRC_SINGLETON)
        rc = add_row(g, def, snap, 0, "", rec, NULL);
    else
        rc = build_transports(g, def, rec, snap);
    sat_record_free(rec);
    return rc;
}

int snmp_snapshot_build(sat_registry *reg, const snmp_group *g, snmp_snapshot *snap)
{
    const sat_type_def *def = sat_registry_find_type(reg, g->type);
    int rc;

    snmp_snapshot_clear(snap, g->column_count);
    if (!def)
        return 0; /* the engine does not register this type (yet): no rows */
    if (g->source == SNMP_SRC_OBJECTS)
        rc = build_objects(reg, g, def, snap);
    else
        rc = build_from_singleton(reg, g, def, snap);
    snmp_snapshot_sort(snap, g->column_count);
    return rc;
}
