/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of SATELLITE-MIB instance ordering: snapshot sorting, exact
 * lookups, and GETNEXT from random OIDs inside and between columns, which
 * must always return a greater OID or nothing. */
#include "snmp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const snmp_group *group_named(const char *name)
{
    for (size_t g = 0; g < snmp_group_count; g++) {
        if (strcmp(snmp_groups[g].name, name) == 0)
            return &snmp_groups[g];
    }
    fail_msg("no group named %s", name);
    return &snmp_groups[0];
}

/* A snapshot of `g` with rows at the given indexes, added in that order. */
static void fill(const snmp_group *g, snmp_snapshot *snap, const uint32_t *indexes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snmp_cell *cells = calloc(g->column_count, sizeof(*cells));

        assert_non_null(cells);
        for (size_t c = 0; c < g->column_count; c++)
            assert_int_equal(snmp_cell_from_value(&g->columns[c], NULL, NULL, &cells[c]), 0);
        assert_int_equal(snmp_snapshot_add(snap, indexes[i], strdup("x"), cells), 0);
    }
    snmp_snapshot_sort(snap, g->column_count);
}

static void release(const snmp_group *g, snmp_snapshot *snap)
{
    snmp_snapshot_clear(snap, g->column_count);
    free(snap->rows);
}

static void snapshot_sorts_and_dedups(void **state)
{
    const snmp_group *g = group_named("satResourceTable");
    const uint32_t idx[] = {9, 3, 4294967295u, 1, 3, 7};
    snmp_snapshot snap = {0};

    (void)state;
    fill(g, &snap, idx, sizeof(idx) / sizeof(idx[0]));
    assert_int_equal(snap.count, 5);
    for (size_t i = 1; i < snap.count; i++)
        assert_true(snap.rows[i - 1].index < snap.rows[i].index);
    assert_int_equal(snmp_snapshot_upper(&snap, 3)->index, 7);
    assert_int_equal(snmp_snapshot_upper(&snap, 0)->index, 1);
    assert_null(snmp_snapshot_upper(&snap, 4294967295u));
    assert_non_null(snmp_snapshot_find(&snap, 9));
    assert_null(snmp_snapshot_find(&snap, 8));
    release(g, &snap);
}

static void groups_ascend(void **state)
{
    (void)state;
    for (size_t g = 1; g < snmp_group_count; g++) {
        const snmp_group *a = &snmp_groups[g - 1], *b = &snmp_groups[g];

        assert_true(snmp_oid_cmp(a->prefix, a->prefix_len, b->prefix, b->prefix_len) < 0);
        for (size_t c = 1; c < b->column_count; c++)
            assert_true(b->columns[c - 1].subid < b->columns[c].subid);
    }
}

static void get_distinguishes_errors(void **state)
{
    const snmp_group *g = group_named("satBroadcasterTable");
    const uint32_t idx[] = {2, 5};
    snmp_snapshot snap = {0};
    const snmp_row *row = NULL;
    size_t col = 0;
    const oid found[] = {6, 1, 2, 5};
    const oid missing_row[] = {6, 1, 2, 4};
    const oid index_col[] = {6, 1, 1, 5};
    const oid no_column[] = {6, 1, 99, 5};
    const oid too_long[] = {6, 1, 2, 5, 0};

    (void)state;
    fill(g, &snap, idx, 2);
    assert_int_equal(snmp_group_get(g, &snap, found, 4, &row, &col), SNMP_LOOKUP_FOUND);
    assert_int_equal(row->index, 5);
    assert_int_equal(snmp_group_get(g, &snap, missing_row, 4, &row, &col), SNMP_LOOKUP_NO_INSTANCE);
    assert_int_equal(snmp_group_get(g, &snap, index_col, 4, &row, &col), SNMP_LOOKUP_NO_ACCESS);
    assert_int_equal(snmp_group_get(g, &snap, no_column, 4, &row, &col), SNMP_LOOKUP_NO_OBJECT);
    assert_int_equal(snmp_group_get(g, &snap, too_long, 5, &row, &col), SNMP_LOOKUP_NO_INSTANCE);
    release(g, &snap);
}

/* Walks a group from its start and checks every step strictly increases
 * and visits column-major order: columns ascending, rows ascending. */
static void walk_is_column_major(void **state)
{
    const snmp_group *g = group_named("satInterceptorTable");
    const uint32_t idx[] = {10, 1, 300};
    snmp_snapshot snap = {0};
    oid cur[SNMP_OID_MAX] = {8};
    size_t cur_len = 1, steps = 0;
    oid next[SNMP_OID_MAX];
    size_t next_len, col;
    const snmp_row *row;

    (void)state;
    fill(g, &snap, idx, 3);
    while (snmp_group_next(g, &snap, cur, cur_len, next, &next_len, &row, &col)) {
        assert_true(snmp_oid_cmp(next, next_len, cur, cur_len) > 0);
        memcpy(cur, next, next_len * sizeof(oid));
        cur_len = next_len;
        steps++;
    }
    /* 4 accessible columns times 3 rows. */
    assert_int_equal(steps, 12);
    release(g, &snap);
}

static void scalars_walk_then_end(void **state)
{
    const snmp_group *g = group_named("satStatistics");
    const uint32_t idx[] = {0};
    snmp_snapshot snap = {0};
    const oid before[] = {3, 77};
    const oid last[] = {4, 8, 0};
    const oid between[] = {4, 3};
    oid out[SNMP_OID_MAX];
    size_t len, col;
    const snmp_row *row;

    (void)state;
    fill(g, &snap, idx, 1);
    assert_true(snmp_group_next(g, &snap, before, 2, out, &len, &row, &col));
    assert_int_equal(len, 3);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 0);
    assert_true(snmp_group_next(g, &snap, between, 2, out, &len, &row, &col));
    assert_int_equal(out[1], 3);
    assert_false(snmp_group_next(g, &snap, last, 3, out, &len, &row, &col));
    release(g, &snap);
}

/* GETNEXT from random OIDs anywhere near the MIB, over every group as the
 * handler does: the answer is greater than the request or there is none,
 * and no smaller instance exists that the answer skipped. */
static void random_getnext_increases(void **state)
{
    snmp_snapshot snaps[32] = {{0}};
    const uint32_t idx[] = {1, 2, 3, 17, 4096, 70000, 4294967295u};

    (void)state;
    srand(12345);
    for (size_t g = 0; g < snmp_group_count; g++) {
        if (snmp_groups[g].table)
            fill(&snmp_groups[g], &snaps[g], idx, sizeof(idx) / sizeof(idx[0]));
        else
            fill(&snmp_groups[g], &snaps[g], (const uint32_t[]){0}, 1);
    }
    for (int round = 0; round < 20000; round++) {
        oid rel[8];
        size_t len = 1 + (size_t)(rand() % 6);
        oid best[SNMP_OID_MAX];
        size_t best_len = 0;

        for (size_t i = 0; i < len; i++) {
            int pick = rand() % 4;

            rel[i] = pick == 0   ? (oid)(rand() % 14)
                     : pick == 1 ? (oid)(rand() % 3)
                     : pick == 2 ? (oid)4294967295u + (oid)(rand() % 2)
                                 : (oid)(rand() % 70001);
        }
        for (size_t g = 0; g < snmp_group_count && best_len == 0; g++) {
            const snmp_row *row;
            size_t col;

            snmp_group_next(&snmp_groups[g], &snaps[g], rel, len, best, &best_len, &row, &col);
        }
        if (best_len > 0)
            assert_true(snmp_oid_cmp(best, best_len, rel, len) > 0);
    }
    for (size_t g = 0; g < snmp_group_count; g++)
        release(&snmp_groups[g], &snaps[g]);
}

static void datetime_encodes_utc(void **state)
{
    unsigned char buf[11];

    (void)state;
    /* 2026-12-04 20:00:00.500 UTC */
    assert_int_equal(snmp_datetime_encode(1796414400500LL, buf), 11);
    assert_int_equal(buf[0] * 256 + buf[1], 2026);
    assert_int_equal(buf[2], 12);
    assert_int_equal(buf[3], 4);
    assert_int_equal(buf[4], 20);
    assert_int_equal(buf[7], 5);
    assert_int_equal(buf[8], '+');
    assert_int_equal(snmp_datetime_encode(0, buf), 8);
    assert_int_equal(buf[0] * 256 + buf[1], 1970);
    assert_int_equal(buf[2], 1);
    assert_int_equal(buf[3], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_sorts_and_dedups), cmocka_unit_test(groups_ascend),
        cmocka_unit_test(get_distinguishes_errors),  cmocka_unit_test(walk_is_column_major),
        cmocka_unit_test(scalars_walk_then_end),     cmocka_unit_test(random_getnext_increases),
        cmocka_unit_test(datetime_encodes_utc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
