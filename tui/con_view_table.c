/* SPDX-License-Identifier: Apache-2.0 */
/* Object tables of satconsole (broadcasters, resources, caches,
 * interceptors) with filter, sort and search, and the detail pane with
 * every attribute of one object. Columns come from the type's schema, so
 * new attributes show up without changes here. */
#include "con_format.h"
#include "con_ui.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COLS  32
#define CELL_MAX  24 /* widest attribute column */
#define TEXT_SIZE 512

static const char *const table_types[CON_TABLES] = {"broadcaster", "resource", "broadcaster-cache",
                                                    "interceptor"};

struct column {
    const char *name; /* attribute name; NULL for the id column */
    const char *type; /* schema type name */
    int width;
};

struct row {
    const json_t *item;
    const char *id;
};

struct table {
    const json_t *schema;
    struct column cols[MAX_COLS];
    int ncols;
    struct row *rows;
    int nrows;
    size_t total; /* objects the server has, shown or not */
};

const char *con_table_type(int view)
{
    return view >= 1 && view <= CON_TABLES ? table_types[view - 1] : NULL;
}

static con_table_state *state(con_ui *ui)
{
    return &ui->tables[ui->view - 1];
}

static void cell_text(const con_ui *ui, const struct row *r, const struct column *c, char *out,
                      size_t size)
{
    if (!c->name)
        con_escape(r->id, !ui->utf8, out, size);
    else
        con_format_value(json_object_get(json_object_get(r->item, "attributes"), c->name), c->type,
                         ui->utf8, 0, out, size);
}

/* True when the attribute only repeats the object's id ("id", "uuid",
 * "name" holding the id), which the first column already shows. */
static bool repeats_id(const json_t *items, const char *name)
{
    const json_t *first = json_array_get(items, 0);
    const json_t *v = json_object_get(json_object_get(first, "attributes"), name);

    if (!first)
        return strcmp(name, "id") == 0 || strcmp(name, "uuid") == 0;
    return json_is_string(v) && json_equal(v, json_object_get(first, "id"));
}

static void pick_columns(struct table *t, const json_t *items)
{
    size_t i;
    json_t *a;

    t->cols[0] = (struct column){NULL, "string", 2};
    t->ncols = 1;
    json_array_foreach(json_object_get(t->schema, "attributes"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));

        if (t->ncols == MAX_COLS)
            break;
        if (!type || strcmp(type, "string-list") == 0 || strcmp(type, "string-map") == 0 ||
            repeats_id(items, json_string_value(json_object_get(a, "name"))))
            continue;
        t->cols[t->ncols++] =
            (struct column){json_string_value(json_object_get(a, "name")), type, 4};
    }
}

/* True when the filter text occurs, ignoring case, in any cell of the row. */
static bool row_matches(const con_ui *ui, const struct table *t, const struct row *r,
                        const char *text)
{
    char cell[TEXT_SIZE];

    if (!text[0])
        return true;
    for (int c = 0; c < t->ncols; c++) {
        cell_text(ui, r, &t->cols[c], cell, sizeof(cell));
        if (strcasestr(cell, text))
            return true;
    }
    return false;
}

/* Sort context: qsort takes none, and only the UI thread sorts. */
static const struct column *sort_column;
static bool sort_desc;

static int compare_rows(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;
    const json_t *va, *vb;
    int cmp = 0;

    if (sort_column->name) {
        va = json_object_get(json_object_get(a->item, "attributes"), sort_column->name);
        vb = json_object_get(json_object_get(b->item, "attributes"), sort_column->name);
        if (json_is_number(va) && json_is_number(vb))
            cmp = (json_number_value(va) > json_number_value(vb)) -
                  (json_number_value(va) < json_number_value(vb));
        else if (json_is_boolean(va) && json_is_boolean(vb))
            cmp = json_is_true(va) - json_is_true(vb);
        else if (json_is_string(va) && json_is_string(vb))
            cmp = strcmp(json_string_value(va), json_string_value(vb));
    }
    if (cmp == 0)
        cmp = strcmp(a->id, b->id);
    return sort_desc ? -cmp : cmp;
}

/* Builds the filtered, sorted rows and keeps the selection on the same id. */
static bool build(con_ui *ui, const con_snapshot *s, struct table *t)
{
    const char *type = con_table_type(ui->view);
    const json_t *items = json_object_get(s->objects, type);
    con_table_state *st = state(ui);
    size_t i;
    json_t *item;

    memset(t, 0, sizeof(*t));
    t->schema = con_type(s, type);
    if (!t->schema)
        return false;
    pick_columns(t, items);
    t->total = (size_t)json_integer_value(json_object_get(s->totals, type));
    t->rows = calloc(json_array_size(items) + 1, sizeof(*t->rows));
    if (!t->rows)
        return false;
    json_array_foreach(items, i, item)
    {
        struct row r = {item, json_string_value(json_object_get(item, "id"))};

        if (r.id && row_matches(ui, t, &r, st->filter))
            t->rows[t->nrows++] = r;
    }
    if (st->sort_col >= t->ncols)
        st->sort_col = 0;
    sort_column = &t->cols[st->sort_col];
    sort_desc = st->sort_desc;
    qsort(t->rows, (size_t)t->nrows, sizeof(*t->rows), compare_rows);
    for (int r = 0; st->sel_id[0] && r < t->nrows; r++) {
        if (strcmp(t->rows[r].id, st->sel_id) == 0)
            st->sel = r;
    }
    if (st->sel >= t->nrows)
        st->sel = t->nrows - 1;
    if (st->sel < 0)
        st->sel = 0;
    if (t->nrows)
        snprintf(st->sel_id, sizeof(st->sel_id), "%s", t->rows[st->sel].id);
    return true;
}

static void size_columns(const con_ui *ui, struct table *t)
{
    char cell[TEXT_SIZE];
    int id_max = COLS / 3 > 20 ? COLS / 3 : 20;

    for (int c = 0; c < t->ncols; c++) {
        int w = t->cols[c].name ? con_width(t->cols[c].name) : 2;

        for (int r = 0; r < t->nrows; r++) {
            int cw;

            cell_text(ui, &t->rows[r], &t->cols[c], cell, sizeof(cell));
            cw = con_width(cell);
            w = cw > w ? cw : w;
        }
        int cap = c ? CELL_MAX : id_max;

        t->cols[c].width = w > cap ? cap : w;
    }
}

static void draw_header(con_ui *ui, const struct table *t, int y)
{
    con_table_state *st = state(ui);
    char title[400], filter[200] = "";

    if (st->filter[0])
        con_escape(st->filter, !ui->utf8, filter, sizeof(filter));
    snprintf(title, sizeof(title), "%s: %d shown, %zu on the server%s%s%s  sort: %s %s",
             con_table_type(ui->view), t->nrows, t->total, filter[0] ? "  filter: " : "", filter,
             t->total > (size_t)t->nrows && !filter[0] ? " (capped by max_objects)" : "",
             t->cols[st->sort_col].name ? t->cols[st->sort_col].name : "id",
             st->sort_desc ? "desc" : "asc");
    con_put(ui, y, 0, COLS, A_BOLD, title);
}

/* Draws the cells of one row (or the header when r is NULL) at y. */
static void draw_cells(con_ui *ui, const struct table *t, const struct row *r, int y, int attr)
{
    con_table_state *st = state(ui);
    char cell[TEXT_SIZE];
    int x = 0;

    for (int c = 0; c < t->ncols && x < COLS; c++) {
        if (c > 0 && c <= st->hscroll)
            continue;
        if (r)
            cell_text(ui, r, &t->cols[c], cell, sizeof(cell));
        else
            snprintf(cell, sizeof(cell), "%s", t->cols[c].name ? t->cols[c].name : "id");
        con_put(ui, y, x, t->cols[c].width, attr, cell);
        x += t->cols[c].width + 2;
    }
}

void con_table_draw(con_ui *ui, const con_snapshot *s, int top, int bottom)
{
    con_table_state *st = state(ui);
    struct table t;
    int rows = bottom - top - 2;

    if (!build(ui, s, &t)) {
        con_putf(ui, top + 1, 2, COLS - 4, 0, "this server has no %s type%s",
                 con_table_type(ui->view), s->types ? "" : " (no data yet)");
        free(t.rows);
        return;
    }
    size_columns(ui, &t);
    if (st->hscroll > t.ncols - 2)
        st->hscroll = t.ncols > 2 ? t.ncols - 2 : 0;
    if (st->sel < st->top)
        st->top = st->sel;
    if (rows > 0 && st->sel >= st->top + rows)
        st->top = st->sel - rows + 1;
    draw_header(ui, &t, top);
    draw_cells(ui, &t, NULL, top + 1, A_REVERSE);
    for (int i = 0; i < rows && st->top + i < t.nrows; i++) {
        int r = st->top + i;

        draw_cells(ui, &t, &t.rows[r], top + 2 + i, r == st->sel ? A_REVERSE | A_BOLD : 0);
    }
    if (t.nrows == 0)
        con_put(ui, top + 2, 2, COLS - 4, A_DIM, st->filter[0] ? "no match" : "no objects");
    free(t.rows);
}

/* Moves the selection to the next row after the current one that matches
 * text, wrapping around. */
static void search_next(con_ui *ui, const struct table *t, const char *text)
{
    con_table_state *st = state(ui);

    for (int k = 1; k <= t->nrows; k++) {
        int r = (st->sel + k) % t->nrows;

        if (row_matches(ui, t, &t->rows[r], text)) {
            st->sel = r;
            snprintf(st->sel_id, sizeof(st->sel_id), "%s", t->rows[r].id);
            return;
        }
    }
    con_status(ui, true, "no match");
}

/* Name of the operation a letter key runs on this type, or NULL. */
static const char *shortcut_op(const json_t *schema, int key)
{
    static const struct {
        int key;
        const char *op;
    } keys[] = {{'r', "resume"},    {'r', "resume-all"}, {'c', "close"},  {'w', "write"},
                {'b', "broadcast"}, {'d', "destroy"},    {'e', "enable"}, {'x', "disable"}};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (keys[i].key == key && con_type_op(schema, keys[i].op))
            return keys[i].op;
    }
    return NULL;
}

static void move_sel(con_table_state *st, const struct table *t, int key, int page)
{
    if (key == KEY_UP)
        st->sel--;
    else if (key == KEY_DOWN)
        st->sel++;
    else if (key == KEY_PPAGE)
        st->sel -= page;
    else if (key == KEY_NPAGE)
        st->sel += page;
    else if (key == KEY_HOME)
        st->sel = 0;
    else if (key == KEY_END)
        st->sel = t->nrows - 1;
    st->sel = st->sel >= t->nrows ? t->nrows - 1 : st->sel;
    st->sel = st->sel < 0 ? 0 : st->sel;
    if (t->nrows)
        snprintf(st->sel_id, sizeof(st->sel_id), "%s", t->rows[st->sel].id);
}

/* Keys that only read the table, handled under the model lock. */
static bool table_nav_key(con_ui *ui, const struct table *t, int key, int page)
{
    con_table_state *st = state(ui);

    switch (key) {
    case KEY_UP:
    case KEY_DOWN:
    case KEY_PPAGE:
    case KEY_NPAGE:
    case KEY_HOME:
    case KEY_END:
        move_sel(st, t, key, page);
        return true;
    case KEY_LEFT:
        st->hscroll = st->hscroll > 0 ? st->hscroll - 1 : 0;
        return true;
    case KEY_RIGHT:
        st->hscroll++;
        return true;
    case KEY_F(6):
        st->sort_col = (st->sort_col + 1) % (t->ncols ? t->ncols : 1);
        return true;
    case 'o':
        st->sort_desc = !st->sort_desc;
        return true;
    case 'n':
        if (st->search[0] && t->nrows)
            search_next(ui, t, st->search);
        return true;
    default:
        return false;
    }
}

bool con_table_key(con_ui *ui, int key, int page)
{
    con_table_state *st = state(ui);
    const con_snapshot *s = con_model_lock(ui->model);
    const char *type = con_table_type(ui->view), *op = NULL;
    char id[sizeof(st->sel_id)];
    struct table t;
    bool used, have;

    have = build(ui, s, &t);
    used = have && table_nav_key(ui, &t, key, page);
    op = have ? shortcut_op(t.schema, key) : NULL;
    snprintf(id, sizeof(id), "%s", t.nrows ? st->sel_id : "");
    con_model_unlock(ui->model);
    free(t.rows);
    if (used || !have)
        return used;

    if ((key == '\n' || key == '\r' || key == KEY_ENTER) && id[0]) {
        ui->detail = true;
        ui->detail_top = 0;
        snprintf(ui->detail_type, sizeof(ui->detail_type), "%s", type);
        snprintf(ui->detail_id, sizeof(ui->detail_id), "%s", id);
    } else if (key == KEY_F(4)) {
        con_prompt(ui, "filter (empty clears): ", st->filter, sizeof(st->filter));
    } else if (key == '/') {
        st->search[0] = '\0';
        if (con_prompt(ui, "search: ", st->search, sizeof(st->search)) && st->search[0]) {
            s = con_model_lock(ui->model);
            if (build(ui, s, &t) && t.nrows)
                search_next(ui, &t, st->search);
            con_model_unlock(ui->model);
            free(t.rows);
        }
    } else if ((key == 'a' || op) && id[0]) {
        con_run_action(ui, type, id, op);
    } else {
        return false;
    }
    return true;
}

/* ---- detail pane --------------------------------------------------------- */

/* Appends "name value" (value indented under the name when sub) to the
 * pane's lines. */
static void add_line(char lines[][TEXT_SIZE], int *n, int max, const char *name, const char *value,
                     bool sub)
{
    if (*n < max)
        snprintf(lines[(*n)++], TEXT_SIZE, "%-24.100s %s%.380s", sub ? "" : name, sub ? "  " : "",
                 value);
}

static void attr_lines(const con_ui *ui, const char *name, const json_t *v, const char *type,
                       char lines[][TEXT_SIZE], int *n, int max)
{
    char text[TEXT_SIZE], key[128], pair[TEXT_SIZE];
    int64_t now = (int64_t)time(NULL) * 1000;
    const char *k;
    json_t *item;
    size_t i;

    if (json_is_array(v) || json_is_object(v)) {
        snprintf(text, sizeof(text), "(%zu)",
                 json_is_array(v) ? json_array_size(v) : json_object_size(v));
        add_line(lines, n, max, name, text, false);
        json_array_foreach(v, i, item)
        {
            con_format_value(item, NULL, ui->utf8, 0, text, sizeof(text));
            add_line(lines, n, max, name, text, true);
        }
        json_object_foreach((json_t *)(uintptr_t)v, k, item)
        {
            con_escape(k, !ui->utf8, key, sizeof(key));
            con_format_value(item, NULL, ui->utf8, 0, text, sizeof(text));
            snprintf(pair, sizeof(pair), "%.120s = %.360s", key, text);
            add_line(lines, n, max, name, pair, true);
        }
        return;
    }
    con_format_value(v, type, ui->utf8, now, text, sizeof(text));
    add_line(lines, n, max, name, text, false);
}

#define DETAIL_LINES 2000

void con_detail_draw(con_ui *ui, const con_snapshot *s, int top, int bottom)
{
    static char lines[DETAIL_LINES][TEXT_SIZE];
    const json_t *schema = con_type(s, ui->detail_type);
    const json_t *attrs = con_object_attrs(s, ui->detail_type, ui->detail_id);
    char id[600];
    const char *key;
    json_t *v;
    int n = 0;

    con_escape(ui->detail_id, !ui->utf8, id, sizeof(id));
    con_putf(ui, top, 0, COLS, A_BOLD, "%s %s%s", ui->detail_type, id,
             attrs ? "" : "  (no longer exists)");
    json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
    {
        const char *type = json_string_value(json_object_get(con_type_attr(schema, key), "type"));
        char name[128];

        con_escape(key, !ui->utf8, name, sizeof(name));
        attr_lines(ui, name, v, type, lines, &n, DETAIL_LINES);
    }
    if (ui->detail_top > n - 1)
        ui->detail_top = n > 0 ? n - 1 : 0;
    for (int i = 0; top + 1 + i < bottom && ui->detail_top + i < n; i++)
        con_put(ui, top + 1 + i, 1, COLS - 1, 0, lines[ui->detail_top + i]);
}

bool con_detail_key(con_ui *ui, int key, int page)
{
    const con_snapshot *s;
    const json_t *schema;
    const char *op = NULL;

    if (key == 27 || key == KEY_BACKSPACE || key == 127 || key == KEY_LEFT) {
        ui->detail = false;
    } else if (key == KEY_UP || key == KEY_PPAGE) {
        ui->detail_top -= key == KEY_UP ? 1 : page;
        ui->detail_top = ui->detail_top < 0 ? 0 : ui->detail_top;
    } else if (key == KEY_DOWN || key == KEY_NPAGE) {
        ui->detail_top += key == KEY_DOWN ? 1 : page;
    } else {
        s = con_model_lock(ui->model);
        schema = con_type(s, ui->detail_type);
        op = key == 'a' ? NULL : shortcut_op(schema, key);
        con_model_unlock(ui->model);
        if (key != 'a' && !op)
            return false;
        con_run_action(ui, ui->detail_type, ui->detail_id, op);
    }
    return true;
}
