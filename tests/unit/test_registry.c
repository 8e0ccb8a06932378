/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the introspection registry: types, objects ordered by id
 * and index, reads, attribute writes, operations, events and concurrency. */
#include "satellite/registry.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- a test type: "widget" with a writable level and a secret --------- */

struct widget {
    int64_t level;
    bool enabled;
    uint64_t hits;
    atomic_int refs;
};

static const char *const modes[] = {"off", "on", NULL};

static int widget_read(void *ctx, sat_record *out)
{
    struct widget *w = ctx;

    sat_record_set_gauge(out, "level", w->level);
    sat_record_set_bool(out, "enabled", w->enabled);
    sat_record_set_u64(out, "hits", w->hits);
    sat_record_set_str(out, "password", "hunter2");
    sat_record_set_enum(out, "mode", w->enabled ? 1 : 0);
    sat_record_append_str(out, "tags", "a");
    sat_record_append_str(out, "tags", "b");
    return 0;
}

static int level_validate(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    (void)ctx;
    if (v->v.i < 0 || v->v.i > 100) {
        snprintf(errmsg, errsize, "level must be from 0 to 100");
        return SAT_EINVAL;
    }
    return 0;
}

static int level_set(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    int rc = level_validate(ctx, v, errmsg, errsize);

    if (rc == 0)
        ((struct widget *)ctx)->level = v->v.i;
    return rc;
}

static int enabled_set(void *ctx, const sat_value *v, char *errmsg, size_t errsize)
{
    (void)errmsg;
    (void)errsize;
    ((struct widget *)ctx)->enabled = v->v.b;
    return 0;
}

static const sat_attr_def widget_attrs[] = {
    {.name = "level", .type = SAT_ATTR_GAUGE, .validate = level_validate, .set = level_set},
    {.name = "enabled", .type = SAT_ATTR_BOOL, .set = enabled_set},
    {.name = "hits", .type = SAT_ATTR_COUNTER},
    {.name = "password", .type = SAT_ATTR_STRING, .secret = true},
    {.name = "mode", .type = SAT_ATTR_ENUM, .enum_names = modes},
    {.name = "tags", .type = SAT_ATTR_STRLIST},
};

static int bump_invoke(void *ctx, const sat_record *params, sat_record *result, char *errmsg,
                       size_t errsize)
{
    struct widget *w = ctx;
    const sat_value *by = sat_record_get(params, "by");

    if (by->v.i == 13) {
        snprintf(errmsg, errsize, "unlucky");
        return SAT_ECONFLICT;
    }
    w->hits += (uint64_t)by->v.i;
    sat_record_set_u64(result, "hits", w->hits);
    return 0;
}

static const sat_param_def bump_params[] = {
    {.name = "by", .type = SAT_ATTR_INT, .required = true},
    {.name = "note", .type = SAT_ATTR_STRING},
};
static const sat_attr_def bump_result[] = {{.name = "hits", .type = SAT_ATTR_COUNTER}};
static const sat_op_def widget_ops[] = {
    {.name = "bump",
     .params = bump_params,
     .param_count = 2,
     .result = bump_result,
     .result_count = 1,
     .invoke = bump_invoke},
};

static const sat_type_def widget_type = {
    .name = "widget",
    .plural = "widgets",
    .attrs = widget_attrs,
    .attr_count = sizeof(widget_attrs) / sizeof(widget_attrs[0]),
    .ops = widget_ops,
    .op_count = 1,
    .read = widget_read,
};

static void widget_ref(void *ctx)
{
    atomic_fetch_add(&((struct widget *)ctx)->refs, 1);
}

static void widget_unref(void *ctx)
{
    struct widget *w = ctx;

    if (atomic_fetch_sub(&w->refs, 1) == 1)
        free(w);
}

static const sat_type_def counted_type = {
    .name = "counted",
    .plural = "counteds",
    .attrs = widget_attrs,
    .attr_count = 3,
    .read = widget_read,
    .ref = widget_ref,
    .unref = widget_unref,
};

static sat_registry *new_registry(size_t ring)
{
    sat_registry *reg = sat_registry_new(ring);

    assert_non_null(reg);
    assert_int_equal(sat_registry_register_type(reg, &widget_type), 0);
    return reg;
}

/* ---- tests --------------------------------------------------------------- */

static void test_register_type_conflict(void **state)
{
    sat_registry *reg = new_registry(0);
    sat_type_def bad = widget_type;

    (void)state;
    assert_int_equal(sat_registry_register_type(reg, &widget_type), SAT_ECONFLICT);
    bad.read = NULL;
    bad.name = "other";
    bad.plural = "others";
    assert_int_equal(sat_registry_register_type(reg, &bad), SAT_EINVAL);
    assert_int_equal(sat_registry_type_count(reg), 1);
    assert_ptr_equal(sat_registry_find_plural(reg, "widgets"), &widget_type);
    assert_null(sat_registry_find_type(reg, "widgets"));
    sat_registry_free(reg);
}

static void test_add_duplicate_and_unknown(void **state)
{
    sat_registry *reg = new_registry(0);
    struct widget w = {0};
    sat_registry_object *a, *b;

    (void)state;
    assert_int_equal(sat_registry_add(reg, "widget", "/chat", &w, &a), 0);
    assert_int_equal(sat_registry_add(reg, "widget", "/chat", &w, &b), SAT_ECONFLICT);
    assert_null(b);
    assert_int_equal(sat_registry_add(reg, "nope", "x", &w, &b), SAT_ENOTFOUND);
    assert_int_equal(sat_registry_object_count(reg, "widget"), 1);
    sat_registry_remove(a);
    assert_int_equal(sat_registry_object_count(reg, "widget"), 0);
    sat_registry_free(reg);
}

static void test_list_ordered_and_paged(void **state)
{
    static const char *ids[] = {"b", "/chat", "a/b", "\xff", "a", "/chat/x", "c%2F"};
    static const char *sorted[] = {"/chat", "/chat/x", "a", "a/b", "b", "c%2F", "\xff"};
    sat_registry *reg = new_registry(0);
    sat_registry_object *objs[7];
    struct widget w = {0};
    sat_object_ref *refs;
    size_t count, seen = 0;
    char *cursor = NULL;
    bool more = true;

    (void)state;
    for (int i = 0; i < 7; i++)
        assert_int_equal(sat_registry_add(reg, "widget", ids[i], &w, &objs[i]), 0);
    while (more) {
        assert_int_equal(sat_registry_list(reg, "widget", cursor, NULL, 3, &refs, &count, &more),
                         0);
        for (size_t i = 0; i < count; i++)
            assert_string_equal(refs[i].id, sorted[seen + i]);
        seen += count;
        free(cursor);
        cursor = count ? strdup(refs[count - 1].id) : NULL;
        sat_object_refs_free(refs, count);
    }
    free(cursor);
    assert_int_equal(seen, 7);

    assert_int_equal(sat_registry_list(reg, "widget", NULL, "chat", 10, &refs, &count, &more), 0);
    assert_int_equal(count, 2);
    assert_false(more);
    sat_object_refs_free(refs, count);
    for (int i = 0; i < 7; i++)
        sat_registry_remove(objs[i]);
    sat_registry_free(reg);
}

static void test_index_order_never_reused(void **state)
{
    sat_registry *reg = new_registry(0);
    sat_registry_object *a, *b, *c;
    struct widget w = {0};
    sat_object_ref *refs;
    size_t count;
    bool more;

    (void)state;
    assert_int_equal(sat_registry_add(reg, "widget", "z", &w, &a), 0);
    assert_int_equal(sat_registry_add(reg, "widget", "y", &w, &b), 0);
    assert_int_equal(sat_registry_object_index(a), 1);
    assert_int_equal(sat_registry_object_index(b), 2);
    sat_registry_remove(b);
    assert_int_equal(sat_registry_add(reg, "widget", "y", &w, &c), 0);
    assert_int_equal(sat_registry_object_index(c), 3);

    assert_int_equal(sat_registry_list_by_index(reg, "widget", 0, 10, &refs, &count, &more), 0);
    assert_int_equal(count, 2);
    assert_int_equal(refs[0].index, 1);
    assert_string_equal(refs[0].id, "z");
    assert_int_equal(refs[1].index, 3);
    sat_object_refs_free(refs, count);
    assert_int_equal(sat_registry_list_by_index(reg, "widget", 1, 10, &refs, &count, &more), 0);
    assert_int_equal(count, 1);
    assert_int_equal(refs[0].index, 3);
    sat_object_refs_free(refs, count);
    sat_registry_remove(a);
    sat_registry_remove(c);
    sat_registry_free(reg);
}

static void test_many_objects_tree(void **state)
{
    enum { N = 2000 };
    sat_registry *reg = new_registry(16);
    sat_registry_object **objs = calloc(N, sizeof(*objs));
    struct widget w = {0};
    sat_object_ref *refs;
    size_t count;
    bool more;
    char id[32];

    (void)state;
    assert_non_null(objs);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "r%05d", (i * 7919) % N);
        assert_int_equal(sat_registry_add(reg, "widget", id, &w, &objs[i]), 0);
    }
    for (int i = 0; i < N; i += 2)
        sat_registry_remove(objs[i]);
    assert_int_equal(sat_registry_list(reg, "widget", "r00999", NULL, 5000, &refs, &count, &more),
                     0);
    for (size_t i = 1; i < count; i++)
        assert_true(strcmp(refs[i - 1].id, refs[i].id) < 0);
    assert_true(count > 0);
    assert_true(strcmp(refs[0].id, "r00999") > 0);
    sat_object_refs_free(refs, count);
    for (int i = 1; i < N; i += 2)
        sat_registry_remove(objs[i]);
    free(objs);
    sat_registry_free(reg);
}

static void test_read_masks_secret(void **state)
{
    sat_registry *reg = new_registry(0);
    struct widget w = {.level = 5, .hits = 9};
    sat_registry_object *obj;
    sat_record *rec = NULL;
    char *id = NULL;
    uint32_t index;

    (void)state;
    assert_int_equal(sat_registry_add(reg, "widget", "/chat", &w, &obj), 0);
    assert_int_equal(sat_registry_read(reg, "widget", "/chat", &rec), 0);
    assert_int_equal(sat_record_get(rec, "level")->v.i, 5);
    assert_int_equal(sat_record_get(rec, "hits")->v.u, 9);
    assert_string_equal(sat_record_get(rec, "password")->v.s, "***");
    assert_int_equal(sat_record_get(rec, "tags")->v.list.count, 2);
    sat_record_free(rec);
    assert_int_equal(sat_registry_read_index(reg, "widget", 1, &id, &rec), 0);
    assert_string_equal(id, "/chat");
    free(id);
    sat_record_free(rec);
    assert_int_equal(sat_registry_index_of(reg, "widget", "/chat", &index), 0);
    assert_int_equal(index, 1);
    assert_int_equal(sat_registry_read(reg, "widget", "/nope", &rec), SAT_ENOTFOUND);
    assert_null(rec);
    sat_registry_remove(obj);
    sat_registry_free(reg);
}

static void test_set_attr_checks(void **state)
{
    sat_registry *reg = new_registry(0);
    struct widget w = {0};
    sat_registry_object *obj;
    sat_value v = {.type = SAT_ATTR_GAUGE, .v.i = 7};
    sat_value wrong = {.type = SAT_ATTR_INT, .v.i = 7};
    char msg[128];

    (void)state;
    assert_int_equal(sat_registry_add(reg, "widget", "w", &w, &obj), 0);
    assert_int_equal(sat_registry_set_attr(reg, "widget", "w", "level", &v, msg, sizeof(msg)), 0);
    assert_int_equal(w.level, 7);
    assert_int_equal(sat_registry_set_attr(reg, "widget", "w", "level", &wrong, msg, sizeof(msg)),
                     SAT_EINVAL);
    assert_int_equal(sat_registry_set_attr(reg, "widget", "w", "hits", &v, msg, sizeof(msg)),
                     SAT_ENOTSUP);
    assert_int_equal(sat_registry_set_attr(reg, "widget", "w", "nope", &v, msg, sizeof(msg)),
                     SAT_ENOTFOUND);
    assert_int_equal(
        sat_registry_set_attr_text(reg, "widget", "w", "level", "500", msg, sizeof(msg)),
        SAT_EINVAL);
    assert_string_equal(msg, "level must be from 0 to 100");
    assert_int_equal(
        sat_registry_set_attr_text(reg, "widget", "w", "level", "42", msg, sizeof(msg)), 0);
    assert_int_equal(w.level, 42);
    assert_int_equal(
        sat_registry_set_attr_text(reg, "widget", "w", "level", "4x", msg, sizeof(msg)),
        SAT_EINVAL);
    sat_registry_remove(obj);
    sat_registry_free(reg);
}

static void test_set_attrs_all_or_nothing(void **state)
{
    sat_registry *reg = new_registry(0);
    struct widget w = {.level = 1};
    sat_registry_object *obj;
    sat_record *values = sat_record_new();
    const char *bad = NULL;
    char msg[128];

    (void)state;
    assert_int_equal(sat_registry_add(reg, "widget", "w", &w, &obj), 0);
    sat_record_set_bool(values, "enabled", true);
    sat_record_set_gauge(values, "level", 1000);
    assert_int_equal(sat_registry_set_attrs(reg, "widget", "w", values, &bad, msg, sizeof(msg)),
                     SAT_EINVAL);
    assert_string_equal(bad, "level");
    assert_false(w.enabled);
    assert_int_equal(w.level, 1);
    sat_record_set_gauge(values, "level", 10);
    assert_int_equal(sat_registry_set_attrs(reg, "widget", "w", values, &bad, msg, sizeof(msg)), 0);
    assert_null(bad);
    assert_true(w.enabled);
    assert_int_equal(w.level, 10);
    sat_record_free(values);
    sat_registry_remove(obj);
    sat_registry_free(reg);
}

static void test_invoke_checks_params(void **state)
{
    sat_registry *reg = new_registry(0);
    struct widget w = {0};
    sat_registry_object *obj;
    sat_record *params = sat_record_new(), *result = sat_record_new();
    char msg[128];

    (void)state;
    assert_int_equal(sat_registry_add(reg, "widget", "w", &w, &obj), 0);
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "w", "bump", params, result, msg, sizeof(msg)),
        SAT_EINVAL);
    assert_string_equal(msg, "missing required parameter 'by'");
    sat_record_set_str(params, "by", "3");
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "w", "bump", params, result, msg, sizeof(msg)),
        SAT_EINVAL);
    sat_record_set_int(params, "by", 3);
    sat_record_set_int(params, "extra", 1);
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "w", "bump", params, result, msg, sizeof(msg)),
        SAT_EINVAL);
    sat_record_free(params);
    params = sat_record_new();
    sat_record_set_int(params, "by", 3);
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "w", "bump", params, result, msg, sizeof(msg)), 0);
    assert_int_equal(sat_record_get(result, "hits")->v.u, 3);
    sat_record_set_int(params, "by", 13);
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "w", "bump", params, result, msg, sizeof(msg)),
        SAT_ECONFLICT);
    assert_string_equal(msg, "unlucky");
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "w", "nope", params, result, msg, sizeof(msg)),
        SAT_ENOTFOUND);
    assert_int_equal(
        sat_registry_invoke(reg, "widget", "x", "bump", params, result, msg, sizeof(msg)),
        SAT_ENOTFOUND);
    sat_record_free(params);
    sat_record_free(result);
    sat_registry_remove(obj);
    sat_registry_free(reg);
}

struct seen {
    int count;
    sat_event_kind last_kind;
};

static void on_event(void *ud, const sat_event *ev)
{
    struct seen *s = ud;

    s->count++;
    s->last_kind = ev->kind;
}

static void test_events_ring_and_resume(void **state)
{
    sat_registry *reg = new_registry(4);
    struct widget w = {0};
    sat_registry_object *obj;
    sat_event evs[8];
    struct seen seen = {0};
    uint64_t next, lost;
    int lid;
    long n;

    (void)state;
    assert_int_equal(sat_registry_add_listener(reg, on_event, &seen, &lid), 0);
    assert_int_equal(sat_registry_add(reg, "widget", "w", &w, &obj), 0);
    sat_registry_notify_changed(obj, "level");
    n = sat_registry_events_since(reg, 1, evs, 8, &next, &lost);
    assert_int_equal(n, 2);
    assert_int_equal(lost, 0);
    assert_int_equal(evs[0].seq, 1);
    assert_int_equal(evs[0].kind, SAT_EVENT_CREATED);
    assert_string_equal(evs[1].detail, "level");
    assert_int_equal(next, 3);
    sat_events_clear(evs, (size_t)n);

    for (int i = 0; i < 4; i++)
        sat_registry_notify_changed(obj, "hits");
    sat_registry_remove(obj);
    assert_int_equal(seen.count, 7);
    assert_int_equal(seen.last_kind, SAT_EVENT_DESTROYED);
    n = sat_registry_events_since(reg, 3, evs, 8, &next, &lost);
    assert_int_equal(n, 4);
    assert_int_equal(lost, 1);
    assert_int_equal(evs[0].seq, 4);
    assert_int_equal(evs[3].kind, SAT_EVENT_DESTROYED);
    assert_int_equal(next, 8);
    sat_events_clear(evs, (size_t)n);
    n = sat_registry_events_since(reg, next, evs, 8, &next, &lost);
    assert_int_equal(n, 0);
    assert_int_equal(sat_registry_next_seq(reg), 8);
    sat_registry_remove_listener(reg, lid);
    sat_registry_free(reg);
}

static void test_value_parse_table(void **state)
{
    static const struct {
        sat_attr_type type;
        const char *text;
        int rc;
    } cases[] = {
        {SAT_ATTR_INT, "-12", 0},
        {SAT_ATTR_INT, "12a", SAT_EINVAL},
        {SAT_ATTR_INT, "", SAT_EINVAL},
        {SAT_ATTR_COUNTER, "-1", SAT_EINVAL},
        {SAT_ATTR_COUNTER, "18446744073709551615", 0},
        {SAT_ATTR_BOOL, "on", 0},
        {SAT_ATTR_BOOL, "maybe", SAT_EINVAL},
        {SAT_ATTR_ENUM, "on", 0},
        {SAT_ATTR_ENUM, "dim", SAT_EINVAL},
        {SAT_ATTR_STRING, "x", 0},
        {SAT_ATTR_STRLIST, "a", SAT_ENOTSUP},
    };
    char msg[128];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sat_value v;

        assert_int_equal(sat_value_parse(cases[i].type, modes, cases[i].text, &v, msg, sizeof(msg)),
                         cases[i].rc);
        sat_value_clear(&v);
    }
}

/* Readers race with removals: with ref/unref the ctx is freed by the last
 * user, so ASan reports any read of freed memory. */
struct race {
    sat_registry *reg;
    atomic_bool stop;
    atomic_long reads;
};

static void *reader(void *arg)
{
    struct race *r = arg;

    while (!atomic_load(&r->stop)) {
        sat_record *rec = NULL;

        if (sat_registry_read(r->reg, "counted", "x", &rec) == 0)
            atomic_fetch_add(&r->reads, 1);
        sat_record_free(rec);
        if (sat_registry_read(r->reg, "widget", "y", &rec) == 0)
            atomic_fetch_add(&r->reads, 1);
        sat_record_free(rec);
    }
    return NULL;
}

static void test_concurrent_read_vs_remove(void **state)
{
    struct race r = {.reg = new_registry(64)};
    pthread_t threads[4];

    (void)state;
    assert_int_equal(sat_registry_register_type(r.reg, &counted_type), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, reader, &r), 0);
    for (int i = 0; i < 2000; i++) {
        struct widget *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
        sat_registry_object *oa, *ob;

        assert_non_null(a);
        assert_non_null(b);
        atomic_store(&a->refs, 1);
        assert_int_equal(sat_registry_add(r.reg, "counted", "x", a, &oa), 0);
        widget_unref(a); /* the registry now has the only reference */
        assert_int_equal(sat_registry_add(r.reg, "widget", "y", b, &ob), 0);
        sat_registry_remove(oa);
        sat_registry_remove(ob); /* waits for readers of b, then b can go */
        free(b);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    sat_registry_free(r.reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_type_conflict),
        cmocka_unit_test(test_add_duplicate_and_unknown),
        cmocka_unit_test(test_list_ordered_and_paged),
        cmocka_unit_test(test_index_order_never_reused),
        cmocka_unit_test(test_many_objects_tree),
        cmocka_unit_test(test_read_masks_secret),
        cmocka_unit_test(test_set_attr_checks),
        cmocka_unit_test(test_set_attrs_all_or_nothing),
        cmocka_unit_test(test_invoke_checks_params),
        cmocka_unit_test(test_events_ring_and_resume),
        cmocka_unit_test(test_value_parse_table),
        cmocka_unit_test(test_concurrent_read_vs_remove),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
