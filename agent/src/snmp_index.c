/* SPDX-License-Identifier: Apache-2.0 */
/* Ordering of SATELLITE-MIB instances: sorted row snapshots, binary-search
 * GETNEXT and exact GET within one group, and conversion of registry values
 * into varbind cells. No net-snmp calls, so unit tests run it directly. */
#include "snmp.h"

#include <net-snmp/net-snmp-includes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DISPLAY_STRING_MAX 255

int snmp_oid_cmp(const oid *a, size_t alen, const oid *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;

    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    if (alen == blen)
        return 0;
    return alen < blen ? -1 : 1;
}

/* ---- snapshots ------------------------------------------------------------ */

int snmp_snapshot_add(snmp_snapshot *snap, uint32_t index, char *id, snmp_cell *cells)
{
    if (snap->count == snap->cap) {
        size_t cap = snap->cap ? snap->cap * 2 : 16;
        snmp_row *rows = realloc(snap->rows, cap * sizeof(*rows));

        if (!rows)
            return SAT_ENOMEM;
        snap->rows = rows;
        snap->cap = cap;
    }
    snap->rows[snap->count].index = index;
    snap->rows[snap->count].id = id;
    snap->rows[snap->count].cells = cells;
    snap->count++;
    return 0;
}

static void row_free(snmp_row *row, size_t column_count)
{
    if (row->cells) {
        for (size_t c = 0; c < column_count; c++)
            snmp_cell_clear(&row->cells[c]);
    }
    free(row->cells);
    free(row->id);
    row->cells = NULL;
    row->id = NULL;
}

static int row_cmp(const void *a, const void *b)
{
    uint32_t x = ((const snmp_row *)a)->index;
    uint32_t y = ((const snmp_row *)b)->index;

    return (x > y) - (x < y);
}

void snmp_snapshot_sort(snmp_snapshot *snap, size_t column_count)
{
    size_t kept = 0;

    if (snap->count < 2)
        return;
    qsort(snap->rows, snap->count, sizeof(*snap->rows), row_cmp);

    for (size_t i = 0; i < snap->count; i++) {
        if (kept > 0 && snap->rows[kept - 1].index == snap->rows[i].index) {
            row_free(&snap->rows[i], column_count);
            continue;
        }
        snap->rows[kept++] = snap->rows[i];
    }
    snap->count = kept;
}

void snmp_snapshot_clear(snmp_snapshot *snap, size_t column_count)
{
    for (size_t i = 0; i < snap->count; i++)
        row_free(&snap->rows[i], column_count);
    snap->count = 0;
    snap->built_ms = 0;
}

const snmp_row *snmp_snapshot_upper(const snmp_snapshot *snap, uint64_t after)
{
    size_t lo = 0, hi = snap->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (snap->rows[mid].index <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < snap->count ? &snap->rows[lo] : NULL;
}

const snmp_row *snmp_snapshot_find(const snmp_snapshot *snap, uint64_t index)
{
    const snmp_row *row;

    if (index == 0)
        return snap->count > 0 && snap->rows[0].index == 0 ? &snap->rows[0] : NULL;
    row = snmp_snapshot_upper(snap, index - 1);
    return row && row->index == index ? row : NULL;
}

/* ---- instance ordering ------------------------------------------------------ */

static size_t instance_oid(const snmp_group *g, oid column, const snmp_row *row, oid *out)
{
    size_t n = 0;

    for (size_t i = 0; i < g->prefix_len; i++)
        out[n++] = g->prefix[i];
    if (g->table)
        out[n++] = 1;
    out[n++] = column;
    out[n++] = g->table ? row->index : 0;
    return n;
}

bool snmp_group_contains(const snmp_group *g, const oid *rel, size_t rel_len)
{
    return rel_len >= g->prefix_len &&
           snmp_oid_cmp(rel, g->prefix_len, g->prefix, g->prefix_len) == 0;
}

/* The first row of `g` whose instance in column `col` is greater than rel. */
static const snmp_row *column_next(const snmp_group *g, const snmp_snapshot *snap, oid col,
                                   const oid *rel, size_t rel_len)
{
    oid base[SNMP_OID_MAX];
    size_t n = 0, common;
    int cmp;

    for (size_t i = 0; i < g->prefix_len; i++)
        base[n++] = g->prefix[i];
    if (g->table)
        base[n++] = 1;
    base[n++] = col;

    common = rel_len < n ? rel_len : n;
    cmp = snmp_oid_cmp(rel, common, base, common);
    if (cmp < 0 || (cmp == 0 && rel_len <= n))
        return snap->count > 0 ? &snap->rows[0] : NULL; /* rel sorts before */
    if (cmp > 0)
        return NULL; /* rel sorts after the whole column */

    /* rel is inside the column: rel = base.i[.more], and base.i <= rel. */
    if (!g->table)
        return NULL; /* the only instance, base.0, is <= rel */
    if (rel[n] > UINT32_MAX)
        return NULL;
    return snmp_snapshot_upper(snap, rel[n]);
}

bool snmp_group_next(const snmp_group *g, const snmp_snapshot *snap, const oid *rel, size_t rel_len,
                     oid *out, size_t *out_len, const snmp_row **row, size_t *column)
{
    if (snap->count == 0)
        return false;

    for (size_t c = 0; c < g->column_count; c++) {
        const snmp_column *col = &g->columns[c];
        const snmp_row *found;

        if (!col->accessible)
            continue;
        found = column_next(g, snap, col->subid, rel, rel_len);
        if (!found)
            continue;
        *out_len = instance_oid(g, col->subid, found, out);
        *row = found;
        *column = c;
        return true;
    }
    return false;
}

snmp_lookup snmp_group_get(const snmp_group *g, const snmp_snapshot *snap, const oid *rel,
                           size_t rel_len, const snmp_row **row, size_t *column)
{
    size_t at = g->prefix_len + (g->table ? 1 : 0);

    if (!snmp_group_contains(g, rel, rel_len) || rel_len <= at)
        return SNMP_LOOKUP_NO_OBJECT;
    if (g->table && rel[g->prefix_len] != 1)
        return SNMP_LOOKUP_NO_OBJECT;

    for (size_t c = 0; c < g->column_count; c++) {
        const snmp_column *col = &g->columns[c];
        const snmp_row *found;

        if (col->subid != rel[at])
            continue;
        if (!col->accessible)
            return SNMP_LOOKUP_NO_ACCESS;
        if (rel_len != at + 2)
            return SNMP_LOOKUP_NO_INSTANCE;
        if (!g->table && rel[at + 1] != 0)
            return SNMP_LOOKUP_NO_INSTANCE;
        if (g->table && (rel[at + 1] == 0 || rel[at + 1] > UINT32_MAX))
            return SNMP_LOOKUP_NO_INSTANCE;
        found = snmp_snapshot_find(snap, g->table ? rel[at + 1] : 0);
        if (!found)
            return SNMP_LOOKUP_NO_INSTANCE;
        *row = found;
        *column = c;
        return SNMP_LOOKUP_FOUND;
    }
    return SNMP_LOOKUP_NO_OBJECT;
}

/* ---- cells ------------------------------------------------------------------ */

void snmp_cell_clear(snmp_cell *cell)
{
    if (cell->asn == ASN_OCTET_STR)
        free(cell->v.str);
    memset(cell, 0, sizeof(*cell));
}

size_t snmp_datetime_encode(int64_t ms, unsigned char out[11])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    memset(out, 0, 11);
    /* "Never" (0) is the Unix epoch, 1970-1-1,0:0:0.0: all zero bytes would
     * give month and day 0, which DateAndTime does not allow. */
    if (ms <= 0 || !gmtime_r(&secs, &tm)) {
        out[0] = 1970 >> 8;
        out[1] = 1970 & 0xff;
        out[2] = 1;
        out[3] = 1;
        return 8;
    }
    out[0] = (unsigned char)((tm.tm_year + 1900) >> 8);
    out[1] = (unsigned char)((tm.tm_year + 1900) & 0xff);
    out[2] = (unsigned char)(tm.tm_mon + 1);
    out[3] = (unsigned char)tm.tm_mday;
    out[4] = (unsigned char)tm.tm_hour;
    out[5] = (unsigned char)tm.tm_min;
    out[6] = (unsigned char)(tm.tm_sec > 59 ? 59 : tm.tm_sec);
    out[7] = (unsigned char)((ms % 1000) / 100);
    out[8] = '+';
    return 11;
}

static int cell_set_bytes(snmp_cell *cell, const void *bytes, size_t len)
{
    char *copy;

    if (len > DISPLAY_STRING_MAX)
        len = DISPLAY_STRING_MAX;
    copy = malloc(len + 1);
    if (!copy)
        return SAT_ENOMEM;
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    cell->asn = ASN_OCTET_STR;
    cell->v.str = copy;
    cell->len = len;
    return 0;
}

/* Joins list or map items with ',' into buf (cut at the buffer's size). */
static void join_items(const sat_value *value, char *buf, size_t size)
{
    size_t used = 0;
    size_t count = value->type == SAT_ATTR_STRLIST ? value->v.list.count : value->v.map.count;

    buf[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++) {
        int n;

        if (value->type == SAT_ATTR_STRLIST)
            n = snprintf(buf + used, size - used, "%s%s", i ? "," : "", value->v.list.items[i]);
        else
            n = snprintf(buf + used, size - used, "%s%s=%s", i ? "," : "", value->v.map.keys[i],
                         value->v.map.values[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Text of any value, for DisplayString columns. */
static void value_text(const sat_value *value, const char *const *enum_names, char *buf,
                       size_t size)
{
    switch (value->type) {
    case SAT_ATTR_STRING:
        snprintf(buf, size, "%s", value->v.s ? value->v.s : "");
        break;
    case SAT_ATTR_COUNTER:
        snprintf(buf, size, "%llu", (unsigned long long)value->v.u);
        break;
    case SAT_ATTR_BOOL:
        snprintf(buf, size, "%s", value->v.b ? "true" : "false");
        break;
    case SAT_ATTR_ENUM:
        snprintf(buf, size, "%s", enum_names && value->v.e >= 0 ? enum_names[value->v.e] : "");
        break;
    case SAT_ATTR_STRLIST:
    case SAT_ATTR_STRMAP:
        join_items(value, buf, size);
        break;
    default:
        snprintf(buf, size, "%lld", (long long)value->v.i);
        break;
    }
}

/* Numeric view of a value: list length for lists, 0/1 for booleans. */
static int64_t value_number(const sat_value *value, uint64_t *as_unsigned)
{
    switch (value->type) {
    case SAT_ATTR_COUNTER:
        *as_unsigned = value->v.u;
        return value->v.u > INT64_MAX ? INT64_MAX : (int64_t)value->v.u;
    case SAT_ATTR_BOOL:
        *as_unsigned = value->v.b;
        return value->v.b;
    case SAT_ATTR_ENUM:
        *as_unsigned = (uint64_t)(value->v.e < 0 ? 0 : value->v.e);
        return value->v.e;
    case SAT_ATTR_STRLIST:
        *as_unsigned = value->v.list.count;
        return (int64_t)value->v.list.count;
    case SAT_ATTR_STRMAP:
        *as_unsigned = value->v.map.count;
        return (int64_t)value->v.map.count;
    case SAT_ATTR_STRING:
        *as_unsigned = value->v.s ? strtoull(value->v.s, NULL, 10) : 0;
        return value->v.s ? strtoll(value->v.s, NULL, 10) : 0;
    default:
        *as_unsigned = value->v.i < 0 ? 0 : (uint64_t)value->v.i;
        return value->v.i;
    }
}

/* MIB value (from 1) of an enumeration, matched by registry name; 1 (the
 * MIB's "other"/"undefined" value) when nothing matches. */
static long enum_value(const snmp_column *col, const sat_value *value,
                       const char *const *def_enum_names)
{
    char name[64];

    if (!col->enum_names)
        return 1;
    value_text(value, def_enum_names, name, sizeof(name));
    for (long i = 0; col->enum_names[i]; i++) {
        if (strcasecmp(col->enum_names[i], name) == 0)
            return i + 1;
    }
    return 1;
}

int snmp_cell_from_value(const snmp_column *col, const sat_value *value,
                         const char *const *def_enum_names, snmp_cell *cell)
{
    static const sat_value empty = {.type = SAT_ATTR_INT};
    char text[DISPLAY_STRING_MAX + 1];
    unsigned char when[11];
    uint64_t u = 0;
    int64_t i;

    memset(cell, 0, sizeof(*cell));
    if (!value)
        value = &empty;
    if (col->syntax == SNMP_SYN_STRING) {
        if (value == &empty)
            text[0] = '\0';
        else
            value_text(value, def_enum_names, text, sizeof(text));
        /* Ids come from clients: a control byte in a DisplayString would be
         * printed raw by a manager and could drive the operator's terminal. */
        for (char *p = text; *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        }
        return cell_set_bytes(cell, text, strlen(text));
    }
    if (col->syntax == SNMP_SYN_DATETIME)
        return cell_set_bytes(cell, when, snmp_datetime_encode(value_number(value, &u), when));

    i = value_number(value, &u);
    switch (col->syntax) {
    case SNMP_SYN_TRUTH:
        cell->asn = ASN_INTEGER;
        cell->v.l = i != 0 ? 1 : 2;
        break;
    case SNMP_SYN_ENUM:
        cell->asn = ASN_INTEGER;
        cell->v.l = value == &empty ? 1 : enum_value(col, value, def_enum_names);
        break;
    case SNMP_SYN_INTEGER:
        cell->asn = ASN_INTEGER;
        cell->v.l = i > INT32_MAX ? INT32_MAX : i < INT32_MIN ? INT32_MIN : (long)i;
        break;
    case SNMP_SYN_COUNTER64:
        cell->asn = ASN_COUNTER64;
        cell->v.u64 = u;
        break;
    default: /* Gauge32 and Unsigned32 saturate at their maximum */
        cell->asn = col->syntax == SNMP_SYN_GAUGE ? ASN_GAUGE : ASN_UNSIGNED;
        cell->v.l = (long)(u > UINT32_MAX ? UINT32_MAX : u);
        break;
    }
    return 0;
}
