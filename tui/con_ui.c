/* SPDX-License-Identifier: Apache-2.0 */
/* Curses main loop of satconsole: screen chrome (view tabs, key hints,
 * status line with the link state), help, text prompts, confirmations,
 * menus and the generic runner of registry operations. The views draw the
 * rows in between (con_view_*.c). */
#include "con_ui.h"
#include "con_format.h"

#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* How long getch waits, so model updates show without a key. */
#define TICK_MS 200

enum { PAIR_ERROR = 1, PAIR_OK, PAIR_TITLE, PAIR_PENDING };

static const char *const view_names[CON_VIEW_COUNT] = {"Overview", "Broadcasters", "Resources",
                                                       "Caches",   "Interceptors", "Framework",
                                                       "Settings", "Events"};

/* ---- drawing helpers ----------------------------------------------------- */

void con_put(const con_ui *ui, int y, int x, int width, int attr, const char *text)
{
    char buf[2048];

    if (y < 0 || y >= LINES || x >= COLS || width <= 0)
        return;
    if (x + width > COLS)
        width = COLS - x;
    con_fit(text, width, ui->utf8, buf, sizeof(buf));
    attron(attr);
    mvaddstr(y, x, buf);
    attroff(attr);
}

void con_putf(const con_ui *ui, int y, int x, int width, int attr, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    con_put(ui, y, x, width, attr, buf);
}

void con_status(con_ui *ui, bool error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ui->status, sizeof(ui->status), fmt, ap);
    va_end(ap);
    ui->status_error = error;
}

static void draw_tabs(con_ui *ui)
{
    int x = 0;
    bool wide = COLS >= 100;

    attron(COLOR_PAIR(PAIR_TITLE) | A_REVERSE);
    mvhline(0, 0, ' ', COLS);
    attroff(COLOR_PAIR(PAIR_TITLE) | A_REVERSE);
    for (int v = 0; v < CON_VIEW_COUNT && x < COLS; v++) {
        char label[32];
        bool cur = v == ui->view;

        /* Narrow screens show the current view's full name, others short. */
        snprintf(label, sizeof(label), " %d %.*s ", v + 1, wide || cur ? 20 : 4, view_names[v]);
        con_put(ui, 0, x, COLS - x, cur ? A_BOLD : (int)(COLOR_PAIR(PAIR_TITLE) | A_REVERSE),
                label);
        x += (int)strlen(label);
    }
}

static const char *view_hints(const con_ui *ui)
{
    if (ui->detail)
        return "Esc back  a actions  arrows/PgUp/PgDn scroll  ? help  q quit";
    switch (ui->view) {
    case CON_VIEW_OVERVIEW:
        return "e enable  x disable  z reset statistics  Tab/1-8 views  ? help  q quit";
    case CON_VIEW_FRAMEWORK:
        return "Enter edit  u undo  r apply+reload  / search  ? help  q quit";
    case CON_VIEW_SETTINGS:
    case CON_VIEW_EVENTS:
        return "arrows/PgUp/PgDn scroll  / search  Tab/1-8 views  ? help  q quit";
    default:
        return "Enter open  a actions  F4 filter  F6 sort  / search  ? help  q quit";
    }
}

/* Draws the link state first, so an outage stays visible whatever the
 * status message is. */
static void draw_status(con_ui *ui, const con_snapshot *s)
{
    char link[512];
    int attr = 0, x;

    switch (s->link) {
    case CON_LINK_CONNECTING:
        snprintf(link, sizeof(link), "connecting to %.400s", ui->opt->url);
        break;
    case CON_LINK_DOWN:
        snprintf(link, sizeof(link), "disconnected, retrying: %.300s", s->message);
        attr = COLOR_PAIR(PAIR_ERROR) | A_BOLD;
        break;
    case CON_LINK_AUTH:
        snprintf(link, sizeof(link), "access denied, check the token: %.300s", s->message);
        attr = COLOR_PAIR(PAIR_ERROR) | A_BOLD;
        break;
    default:
        if (s->token == CON_TOKEN_REJECTED) {
            /* Only "HTTP 401 unauthorized", so action results still fit. */
            snprintf(link, sizeof(link), "%s, token rejected (%.*s)",
                     s->stream_live ? "live" : "polling", (int)strcspn(s->token_message, ":"),
                     s->token_message);
            attr = COLOR_PAIR(PAIR_ERROR) | A_BOLD;
        } else {
            snprintf(link, sizeof(link), "%s%s", s->stream_live ? "live" : "polling",
                     s->token == CON_TOKEN_NONE ? ", read-only (no token)" : "");
            attr = COLOR_PAIR(PAIR_OK);
        }
    }
    move(LINES - 1, 0);
    clrtoeol();
    con_put(ui, LINES - 1, 0, COLS, attr, link);
    x = con_width(link) + 2;
    if (ui->status[0] && x < COLS)
        con_put(ui, LINES - 1, x, COLS - x, ui->status_error ? COLOR_PAIR(PAIR_ERROR) : 0,
                ui->status);
}

static void draw_help(con_ui *ui)
{
    static const char *const lines[] = {
        "satconsole keys",
        "",
        "F1 or ?        this help (any key closes it)",
        "Tab, 1-8       switch view: 1 Overview 2 Broadcasters 3 Resources 4 Caches",
        "               5 Interceptors 6 Framework 7 Settings 8 Events",
        "Up/Down        move; PgUp/PgDn page; Left/Right scroll table columns",
        "Enter          open the selected object (Esc or Backspace goes back)",
        "/ and n        search, next match",
        "F4             filter the table (empty text clears it)",
        "F6, o          sort by the next column, reverse the order",
        "a              operations of the selected object (asks, then confirms)",
        "r c w          resource: resume, close, write",
        "b d r          broadcaster: broadcast, destroy, resume-all",
        "e x            interceptor or statistics: enable, disable; z resets statistics",
        "Framework      Enter edits a value (pending), u undoes, r applies and reloads",
        "q              quit",
    };
    int n = (int)(sizeof(lines) / sizeof(lines[0]));

    erase();
    for (int i = 0; i < n && i + 1 < LINES; i++)
        con_put(ui, i + 1, 2, COLS - 4, i == 0 ? A_BOLD : 0, lines[i]);
}

void con_ui_draw(con_ui *ui)
{
    const con_snapshot *s = con_model_lock(ui->model);
    int top = 1, bottom = LINES - 2;

    erase();
    if (ui->help) {
        draw_help(ui);
    } else if (LINES < 5 || COLS < 20) {
        con_put(ui, 0, 0, COLS, 0, "window too small");
    } else {
        draw_tabs(ui);
        if (ui->detail)
            con_detail_draw(ui, s, top, bottom);
        else if (ui->view == CON_VIEW_OVERVIEW)
            con_overview_draw(ui, s, top, bottom);
        else if (ui->view <= CON_TABLES)
            con_table_draw(ui, s, top, bottom);
        else if (ui->view == CON_VIEW_FRAMEWORK)
            con_framework_draw(ui, s, top, bottom);
        else if (ui->view == CON_VIEW_SETTINGS)
            con_settings_draw(ui, s, top, bottom);
        else
            con_events_draw(ui, s, top, bottom);
        con_put(ui, LINES - 2, 0, COLS, A_DIM, view_hints(ui));
        draw_status(ui, s);
    }
    con_model_unlock(ui->model);
    refresh();
}

/* ---- dialogs ------------------------------------------------------------- */

/* Appends the wide character as UTF-8 when it fits. */
static void append_wchar(char *buf, size_t size, wint_t wc)
{
    char mb[MB_LEN_MAX];
    mbstate_t st;
    size_t n, len = strlen(buf);

    memset(&st, 0, sizeof(st));
    n = wcrtomb(mb, (wchar_t)wc, &st);
    if (n == (size_t)-1 || len + n >= size)
        return;
    memcpy(buf + len, mb, n);
    buf[len + n] = '\0';
}

/* Removes the last UTF-8 character. */
static void erase_last(char *buf)
{
    size_t len = strlen(buf);

    while (len > 0 && ((unsigned char)buf[len - 1] & 0xc0) == 0x80)
        len--;
    if (len > 0)
        len--;
    buf[len] = '\0';
}

bool con_prompt(con_ui *ui, const char *label, char *buf, size_t size)
{
    char shown[1024];

    timeout(-1);
    for (;;) {
        wint_t wc;
        int kind;

        con_escape(buf, !ui->utf8, shown, sizeof(shown));
        move(LINES - 1, 0);
        clrtoeol();
        con_putf(ui, LINES - 1, 0, COLS, A_BOLD, "%s%s", label, shown);
        curs_set(1);
        refresh();
        kind = get_wch(&wc);
        if (kind == KEY_CODE_YES && wc == KEY_RESIZE) {
            con_ui_draw(ui);
            continue;
        }
        if ((kind == OK && (wc == '\n' || wc == '\r')) || (kind == KEY_CODE_YES && wc == KEY_ENTER))
            break;
        if (kind == OK && wc == 27) {
            curs_set(0);
            timeout(TICK_MS);
            return false;
        }
        if ((kind == KEY_CODE_YES && wc == KEY_BACKSPACE) || (kind == OK && (wc == 127 || wc == 8)))
            erase_last(buf);
        else if (kind == OK && wc >= 32)
            append_wchar(buf, size, wc);
    }
    curs_set(0);
    timeout(TICK_MS);
    return true;
}

bool con_confirm(con_ui *ui, const char *question)
{
    int key;

    timeout(-1);
    do {
        move(LINES - 1, 0);
        clrtoeol();
        con_putf(ui, LINES - 1, 0, COLS, A_BOLD | COLOR_PAIR(PAIR_PENDING), "%s [y/N] ", question);
        refresh();
        key = getch();
        if (key == KEY_RESIZE)
            con_ui_draw(ui);
    } while (key == KEY_RESIZE);
    timeout(TICK_MS);
    return key == 'y' || key == 'Y';
}

int con_menu(con_ui *ui, const char *title, const char *const *labels, int n)
{
    int sel = 0;

    timeout(-1);
    for (;;) {
        int h = n + 2 < LINES - 2 ? n + 2 : LINES - 2, w = COLS > 60 ? 60 : COLS;
        int y0 = 1, x0 = (COLS - w) / 2, first = sel >= h - 2 ? sel - (h - 3) : 0, key;

        for (int r = 0; r < h; r++)
            mvhline(y0 + r, x0, ' ', w);
        con_putf(ui, y0, x0, w, A_BOLD | A_REVERSE, " %s (Enter runs, Esc cancels) ", title);
        for (int i = first; i < n && i - first < h - 2; i++)
            con_put(ui, y0 + 1 + i - first, x0 + 1, w - 2, i == sel ? A_REVERSE : 0, labels[i]);
        refresh();
        key = getch();
        if (key == KEY_UP && sel > 0)
            sel--;
        else if (key == KEY_DOWN && sel + 1 < n)
            sel++;
        else if (key == '\n' || key == '\r' || key == KEY_ENTER)
            break;
        else if (key == 27 || key == 'q')
            sel = -1;
        else if (key == KEY_RESIZE)
            con_ui_draw(ui);
        if (sel < 0)
            break;
    }
    timeout(TICK_MS);
    return sel;
}

/* ---- operations ---------------------------------------------------------- */

/* Converts prompt text to the JSON a parameter of `type` takes. NULL with
 * why filled when the text does not fit the type. */
static json_t *param_json(const char *type, const char *text, char *why, size_t size)
{
    char *end = NULL;
    long long n;

    if (strcmp(type, "bool") == 0) {
        if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "1") == 0)
            return json_true();
        if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "0") == 0)
            return json_false();
        snprintf(why, size, "expected true or false");
        return NULL;
    }
    if (strcmp(type, "string-list") == 0) {
        json_t *arr = json_array();
        char copy[1024], *save = NULL;

        snprintf(copy, sizeof(copy), "%s", text);
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
            json_array_append_new(arr, json_string(item));
        return arr;
    }
    if (strcmp(type, "string") == 0 || strcmp(type, "enum") == 0 || strcmp(type, "string-map") == 0)
        return json_string(text);
    n = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0') {
        snprintf(why, size, "expected an integer");
        return NULL;
    }
    return json_integer(n);
}

/* Prompts for each parameter of op; NULL when the user cancels. */
static json_t *ask_params(con_ui *ui, const json_t *op)
{
    json_t *params = json_object(), *p;
    size_t i;

    json_array_foreach(json_object_get(op, "parameters"), i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *type = json_string_value(json_object_get(p, "type"));
        bool required = json_is_true(json_object_get(p, "required"));
        char label[256], text[1024] = "", why[128];
        json_t *v;

        snprintf(label, sizeof(label), "%s (%s%s): ", name ? name : "?", type ? type : "?",
                 required ? ", required" : ", Enter skips");
        for (;;) {
            if (!con_prompt(ui, label, text, sizeof(text))) {
                json_decref(params);
                return NULL;
            }
            if (text[0] == '\0' && !required)
                break;
            v = param_json(type ? type : "string", text, why, sizeof(why));
            if (v) {
                json_object_set_new(params, name ? name : "", v);
                break;
            }
            snprintf(label, sizeof(label), "%s (%s): %s, try again: ", name, type, why);
        }
    }
    return params;
}

/* Picks the operation: the shortcut when the type has it, else a menu. */
static json_t *pick_op(con_ui *ui, const json_t *type, const char *shortcut)
{
    const json_t *ops = json_object_get(type, "operations");
    const char *labels[64];
    char texts[64][160];
    int n = 0, sel;
    size_t i;
    json_t *op;

    json_array_foreach(ops, i, op)
    {
        const char *name = json_string_value(json_object_get(op, "name"));
        const char *desc = json_string_value(json_object_get(op, "description"));

        if (shortcut && name && strcmp(name, shortcut) == 0)
            return json_deep_copy(op);
        if (n < 64) {
            snprintf(texts[n], sizeof(texts[n]), "%-16s %s", name ? name : "?", desc ? desc : "");
            labels[n] = texts[n];
            n++;
        }
    }
    if (shortcut || n == 0)
        return NULL;
    sel = con_menu(ui, "operations", labels, n);
    return sel < 0 ? NULL : json_deep_copy(json_array_get(ops, (size_t)sel));
}

/* Shows the outcome of an operation on the status line; target is the
 * escaped id, or the type name of a singleton. */
static void report_result(con_ui *ui, const char *opname, const char *target, int rc,
                          const con_reply *r)
{
    char result[320] = "";

    if (rc == CON_HTTP_UNREACHABLE) {
        con_status(ui, true, "%s %s failed: server unreachable: %.200s", opname, target, r->error);
    } else if (r->status >= 200 && r->status < 300) {
        const json_t *res = json_object_get(r->json, "result");

        if (json_object_size(res) > 0)
            con_format_value(res, NULL, ui->utf8, 0, result, sizeof(result));
        con_status(ui, false, "%s %s: ok%s%.250s", opname, target, result[0] ? ": " : "", result);
    } else {
        con_status(ui, true, "%s %s failed: %.300s", opname, target, r->error);
    }
}

void con_run_action(con_ui *ui, const char *type_name, const char *id, const char *shortcut)
{
    const con_snapshot *s = con_model_lock(ui->model);
    json_t *type = json_deep_copy(con_type(s, type_name)), *op = NULL, *params = NULL;
    char shown_id[600], question[900];
    con_reply r = {0};
    const char *opname;
    int rc;

    con_model_unlock(ui->model);
    con_escape(id ? id : "", !ui->utf8, shown_id, sizeof(shown_id));
    op = type ? pick_op(ui, type, shortcut) : NULL;
    if (!op) {
        if (shortcut || !type || json_array_size(json_object_get(type, "operations")) == 0)
            con_status(ui, true, "%s has no operation %s", type_name, shortcut ? shortcut : "");
        goto out;
    }
    opname = json_string_value(json_object_get(op, "name"));
    params = ask_params(ui, op);
    if (!params)
        goto out;
    snprintf(question, sizeof(question), "Run %s on %s %.500s?", opname, type_name,
             shown_id[0] ? shown_id : "(singleton)");
    if (!con_confirm(ui, question)) {
        con_status(ui, false, "%s cancelled", opname);
        goto out;
    }
    con_status(ui, false, "running %s...", opname);
    con_ui_draw(ui);
    rc = con_model_write(ui->model, type_name, id, opname, params, &r);
    params = NULL;
    report_result(ui, opname, shown_id[0] ? shown_id : type_name, rc, &r);
out:
    con_reply_clear(&r);
    json_decref(params);
    json_decref(op);
    json_decref(type);
}

/* ---- main loop ----------------------------------------------------------- */

static void start_curses(con_ui *ui)
{
    const char *codeset = nl_langinfo(CODESET);

    ui->utf8 = codeset && strcmp(codeset, "UTF-8") == 0;
    initscr();
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    set_escdelay(50);
    curs_set(0);
    timeout(TICK_MS);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(PAIR_ERROR, COLOR_RED, -1);
        init_pair(PAIR_OK, COLOR_GREEN, -1);
        init_pair(PAIR_TITLE, COLOR_CYAN, -1);
        init_pair(PAIR_PENDING, COLOR_YELLOW, -1);
    }
}

/* Keys every view shares; true when used. */
static bool global_key(con_ui *ui, int key)
{
    if (key == 'q') {
        ui->quit = true;
    } else if (key == KEY_F(1) || key == '?') {
        ui->help = true;
    } else if (key == '\t') {
        ui->view = (ui->view + 1) % CON_VIEW_COUNT;
        ui->detail = false;
    } else if (key == KEY_BTAB) {
        ui->view = (ui->view + CON_VIEW_COUNT - 1) % CON_VIEW_COUNT;
        ui->detail = false;
    } else if (key >= '1' && key < '1' + CON_VIEW_COUNT) {
        ui->view = key - '1';
        ui->detail = false;
        ui->list_top = 0;
    } else {
        return false;
    }
    return true;
}

static void handle_key(con_ui *ui, int key)
{
    int page = LINES - 4 > 1 ? LINES - 4 : 1;

    if (ui->help) {
        ui->help = key == KEY_RESIZE;
        return;
    }
    if (key == KEY_RESIZE || global_key(ui, key))
        return;
    if (ui->detail)
        con_detail_key(ui, key, page);
    else if (ui->view == CON_VIEW_OVERVIEW)
        con_overview_key(ui, key);
    else if (ui->view <= CON_TABLES)
        con_table_key(ui, key, page);
    else if (ui->view == CON_VIEW_FRAMEWORK)
        con_framework_key(ui, key, page);
    else
        con_list_key(ui, key, page);
}

int con_ui_run(con_model *model, const con_options *opt)
{
    con_ui ui;
    uint64_t drawn = UINT64_MAX;
    time_t drawn_at = 0;

    memset(&ui, 0, sizeof(ui));
    ui.model = model;
    ui.opt = opt;
    ui.pending = json_object();
    for (int i = 0; i < CON_TABLES; i++)
        ui.tables[i].sort_col = 0;
    start_curses(&ui);
    if (con_model_start(model) != 0) {
        endwin();
        fputs("satconsole: cannot start the poller threads\n", stderr);
        json_decref(ui.pending);
        return 1;
    }
    while (!ui.quit) {
        int key = getch();
        uint64_t gen;

        if (key != ERR)
            handle_key(&ui, key);
        gen = con_model_lock(model)->generation;
        con_model_unlock(model);
        /* Redraw on a key, on new data and once a second for ages. */
        if (key != ERR || gen != drawn || time(NULL) != drawn_at) {
            con_ui_draw(&ui);
            drawn = gen;
            drawn_at = time(NULL);
        }
    }
    endwin();
    json_decref(ui.pending);
    return 0;
}
