/* SPDX-License-Identifier: Apache-2.0 */
/* Framework view of satconsole: every init parameter with its value and
 * source, local pending edits, and "apply and reload" with its outcome
 * (what changed, or each rejected key and why). Parameters come from the
 * init-param objects when the server has them, else from the framework's
 * "init-params" map, else from its scalar attributes. */
#include "con_format.h"
#include "con_ui.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 512

struct param {
    const char *key;
    const json_t *value;
    const char *source;
};

struct params {
    struct param p[MAX_PARAMS];
    int n;
    bool from_map; /* keys come from a map attribute, not attributes */
};

/* Map attribute of the framework whose name contains `part` (and not
 * `not`), or NULL. */
static const json_t *find_map(const json_t *attrs, const char *part, const char * not )
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
    {
        if (json_is_object(v) && strstr(key, part) && (!not || !strstr(key, not )))
            return v;
    }
    return NULL;
}

/* Parameters from the init-param collection (one object per key, with
 * value and source), else from the framework object. */
static void collect(const con_snapshot *s, struct params *out)
{
    const json_t *items = json_object_get(s->objects, "init-param");
    const json_t *attrs = con_object_attrs(s, "framework", "");
    const json_t *map = find_map(attrs, "param", "source");
    const json_t *sources = find_map(attrs, "source", NULL);
    const char *key;
    size_t i;
    json_t *v;

    out->n = 0;
    out->from_map = true;
    json_array_foreach(items, i, v)
    {
        const json_t *a = json_object_get(v, "attributes");
        const char *src = json_string_value(json_object_get(a, "source"));

        if (out->n < MAX_PARAMS && json_is_string(json_object_get(v, "id")))
            out->p[out->n++] = (struct param){json_string_value(json_object_get(v, "id")),
                                              json_object_get(a, "value"), src ? src : "-"};
    }
    if (out->n > 0)
        return;
    out->from_map = map != NULL;
    json_object_foreach((json_t *)(uintptr_t)(map ? map : attrs), key, v)
    {
        const char *src = json_string_value(json_object_get(sources, key));

        if (out->n == MAX_PARAMS || json_is_object(v) || json_is_array(v))
            continue;
        out->p[out->n++] = (struct param){key, v, src ? src : "-"};
    }
}

static void draw_result(con_ui *ui, int top, int bottom)
{
    char *copy = strdup(ui->fw_result), *save = NULL;
    int y = top;

    for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line && y < bottom;
         line = strtok_r(NULL, "\n", &save)) {
        con_put(ui, y, 0, COLS, y == top ? A_BOLD : 0, line);
        y++;
    }
    free(copy);
}

void con_framework_draw(con_ui *ui, const con_snapshot *s, int top, int bottom)
{
    static struct params ps;
    char info[600], key[128], value[300], pend[300];
    int result_rows = ui->fw_result[0] ? 6 : 0, rows;
    const json_t *schema = con_type(s, "framework");

    if (!con_object_attrs(s, "framework", "") &&
        !json_array_size(json_object_get(s->objects, "init-param"))) {
        con_put(ui, top + 1, 2, COLS - 2, A_DIM, "this server has no framework object (yet)");
        return;
    }
    collect(s, &ps);
    snprintf(info, sizeof(info), "init parameters: %d, pending changes: %zu%s", ps.n,
             json_object_size(ui->pending),
             json_object_size(ui->pending) ? " (r applies them and reloads)" : "");
    con_put(ui, top, 0, COLS, A_BOLD, info);
    con_put(ui, top + 1, 0, COLS, A_REVERSE,
            "parameter                        value                    source       pending");
    rows = bottom - top - 2 - result_rows;
    if (ui->fw_sel >= ps.n)
        ui->fw_sel = ps.n - 1;
    if (ui->fw_sel < 0)
        ui->fw_sel = 0;
    if (ui->fw_sel < ui->fw_top)
        ui->fw_top = ui->fw_sel;
    if (rows > 0 && ui->fw_sel >= ui->fw_top + rows)
        ui->fw_top = ui->fw_sel - rows + 1;
    for (int i = 0; i < rows && ui->fw_top + i < ps.n; i++) {
        const struct param *p = &ps.p[ui->fw_top + i];
        const json_t *pending = json_object_get(ui->pending, p->key);
        const char *t = json_string_value(json_object_get(con_type_attr(schema, p->key), "type"));
        int y = top + 2 + i, attr = ui->fw_top + i == ui->fw_sel ? A_REVERSE : 0;

        con_escape(p->key, !ui->utf8, key, sizeof(key));
        con_format_value(p->value, ps.from_map ? NULL : t, ui->utf8, 0, value, sizeof(value));
        con_put(ui, y, 0, 32, attr, key);
        con_put(ui, y, 33, 24, attr, value);
        con_put(ui, y, 58, 12, attr, p->source);
        if (pending) {
            con_escape(json_string_value(pending), !ui->utf8, pend, sizeof(pend));
            con_putf(ui, y, 71, COLS - 71, A_BOLD | COLOR_PAIR(4), "-> %s", pend);
        }
    }
    if (result_rows)
        draw_result(ui, bottom - result_rows, bottom);
}

/* ---- applying -------------------------------------------------------------- */

/* JSON for an attribute value typed from text, or NULL. */
static json_t *typed(const char *type, const char *text)
{
    char *end = NULL;
    long long n;

    if (!type || strcmp(type, "string") == 0 || strcmp(type, "enum") == 0)
        return json_string(text);
    if (strcmp(type, "bool") == 0)
        return strcmp(text, "true") == 0    ? json_true()
               : strcmp(text, "false") == 0 ? json_false()
                                            : NULL;
    n = strtoll(text, &end, 10);
    return text[0] && *end == '\0' ? json_integer(n) : NULL;
}

/* Body for the framework's set-init-param(s) operation, from its schema:
 * a map parameter takes {key: value}, else a name/key and a value. */
static json_t *set_op_body(const json_t *op, const char *key, const char *text)
{
    const char *name_param = NULL, *value_param = NULL;
    size_t i;
    json_t *p;

    json_array_foreach(json_object_get(op, "parameters"), i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));
        const char *t = json_string_value(json_object_get(p, "type"));

        if (n && t && strcmp(t, "string-map") == 0)
            return json_pack("{s:{s:s}}", n, key, text);
        if (n && (strcmp(n, "name") == 0 || strcmp(n, "key") == 0))
            name_param = n;
        else if (n && strcmp(n, "value") == 0)
            value_param = n;
    }
    if (!name_param || !value_param)
        return NULL;
    return json_pack("{s:s, s:s}", name_param, key, value_param, text);
}

/* Sets one parameter on the server. Returns true on success; else appends
 * "key: why" to the result. */
static bool apply_one(con_ui *ui, const char *key, const char *text, char *res, size_t size)
{
    const con_snapshot *s = con_model_lock(ui->model);
    const json_t *schema = con_type(s, "framework");
    const json_t *attr = con_type_attr(schema, key);
    const char *opname =
        con_type_op(schema, "set-init-params") ? "set-init-params" : "set-init-param";
    json_t *body = NULL;
    con_reply r = {0};
    char shown[200];
    bool ok = false, patch = json_is_true(json_object_get(attr, "writable"));

    if (patch)
        body =
            json_pack("{s:o*}", key, typed(json_string_value(json_object_get(attr, "type")), text));
    else if (con_type_op(schema, opname))
        body = set_op_body(con_type_op(schema, opname), key, text);
    con_model_unlock(ui->model);
    con_escape(key, !ui->utf8, shown, sizeof(shown));
    if (!body || (patch && json_object_size(body) == 0)) {
        snprintf(res + strlen(res), size - strlen(res), "  %s: rejected: %s\n", shown,
                 body ? "the value does not match the attribute's type"
                      : "the server offers no way to set this parameter");
        json_decref(body);
        return false;
    }
    if (con_model_write(ui->model, "framework", "", patch ? NULL : opname, body, &r) ==
            CON_HTTP_OK &&
        r.status >= 200 && r.status < 300)
        ok = true;
    else
        snprintf(res + strlen(res), size - strlen(res), "  %s: rejected: %.300s\n", shown, r.error);
    con_reply_clear(&r);
    return ok;
}

/* Runs reload and appends its result (changes, errors) to res. */
static void reload(con_ui *ui, char *res, size_t size)
{
    con_reply r = {0};
    int rc = con_model_write(ui->model, "framework", "", "reload", NULL, &r);
    const json_t *result = json_object_get(r.json, "result");
    const char *key;
    json_t *v;

    if (rc != CON_HTTP_OK || r.status < 200 || r.status >= 300) {
        snprintf(res + strlen(res), size - strlen(res), "reload failed: %.400s\n", r.error);
        con_reply_clear(&r);
        return;
    }
    snprintf(res + strlen(res), size - strlen(res), "reload ok\n");
    json_object_foreach((json_t *)(uintptr_t)result, key, v)
    {
        char text[400], k[100];

        con_escape(key, !ui->utf8, k, sizeof(k));
        con_format_value(v, NULL, ui->utf8, 0, text, sizeof(text));
        snprintf(res + strlen(res), size - strlen(res), "  %s: %s\n", k, text);
    }
    con_reply_clear(&r);
}

static void apply_and_reload(con_ui *ui)
{
    char question[120];
    size_t pending = json_object_size(ui->pending), failed = 0;
    const char *key;
    json_t *v, *tmp;

    snprintf(question, sizeof(question), "Apply %zu pending change(s) and reload?", pending);
    if (!con_confirm(ui, question)) {
        con_status(ui, false, "reload cancelled");
        return;
    }
    snprintf(ui->fw_result, sizeof(ui->fw_result), "result of apply and reload:\n");
    json_object_foreach_safe(ui->pending, tmp, key, v)
    {
        if (apply_one(ui, key, json_string_value(v), ui->fw_result, sizeof(ui->fw_result)))
            json_object_del(ui->pending, key);
        else
            failed++;
    }
    if (failed) {
        con_status(ui, true, "%zu parameter(s) rejected; nothing reloaded", failed);
        return;
    }
    reload(ui, ui->fw_result, sizeof(ui->fw_result));
    con_status(ui, strstr(ui->fw_result, "reload failed") != NULL, "%s",
               strstr(ui->fw_result, "reload failed") ? "reload failed" : "reloaded");
}

/* Prompts for a new value of the selected parameter. */
static void edit_selected(con_ui *ui)
{
    static struct params ps;
    char key[256] = "", current[512] = "", label[300];
    const json_t *pending;

    collect(con_model_lock(ui->model), &ps);
    if (ui->fw_sel < ps.n) {
        snprintf(key, sizeof(key), "%s", ps.p[ui->fw_sel].key);
        con_format_plain(ps.p[ui->fw_sel].value, current, sizeof(current));
    }
    con_model_unlock(ui->model);
    if (!key[0])
        return;
    pending = json_object_get(ui->pending, key);
    if (pending)
        snprintf(current, sizeof(current), "%s", json_string_value(pending));
    snprintf(label, sizeof(label), "new value for %.200s: ", key);
    if (con_prompt(ui, label, current, sizeof(current)))
        json_object_set_new(ui->pending, key, json_string(current));
}

bool con_framework_key(con_ui *ui, int key, int page)
{
    static struct params ps;

    if (key == KEY_UP || key == KEY_PPAGE)
        ui->fw_sel -= key == KEY_UP ? 1 : page;
    else if (key == KEY_DOWN || key == KEY_NPAGE)
        ui->fw_sel += key == KEY_DOWN ? 1 : page;
    else if (key == '\n' || key == '\r' || key == KEY_ENTER)
        edit_selected(ui);
    else if (key == 'u') {
        collect(con_model_lock(ui->model), &ps);
        if (ui->fw_sel < ps.n)
            json_object_del(ui->pending, ps.p[ui->fw_sel].key);
        con_model_unlock(ui->model);
    } else if (key == 'r') {
        apply_and_reload(ui);
    } else if (key == '/') {
        ui->fw_search[0] = '\0';
        if (!con_prompt(ui, "search parameter: ", ui->fw_search, sizeof(ui->fw_search)))
            return true;
        collect(con_model_lock(ui->model), &ps);
        for (int k = 1; k <= ps.n; k++) {
            int i = (ui->fw_sel + k) % ps.n;

            if (strcasestr(ps.p[i].key, ui->fw_search)) {
                ui->fw_sel = i;
                break;
            }
        }
        con_model_unlock(ui->model);
    } else {
        return false;
    }
    ui->fw_sel = ui->fw_sel < 0 ? 0 : ui->fw_sel;
    return true;
}
