/* SPDX-License-Identifier: Apache-2.0 */
/* Overview (node identity, uptime, statistics with rates and sparklines),
 * Settings (the other singletons and collections without a table of their
 * own) and the registry event log views of satconsole. */
#include "con_format.h"
#include "con_ui.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_SIZE 640
#define LIST_MAX  4000

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "k=v, k=v" of the scalar attributes of a singleton; uptime first when an
 * attribute is a start timestamp. */
static void summary(const con_ui *ui, const con_snapshot *s, const char *type, char *out,
                    size_t size)
{
    const json_t *attrs = con_object_attrs(s, type, "");
    const json_t *schema = con_type(s, type);
    size_t used = 0;
    const char *key;
    json_t *v;

    out[0] = '\0';
    json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
    {
        const char *t = json_string_value(json_object_get(con_type_attr(schema, key), "type"));
        char text[256], k[64];

        if (json_is_array(v) || json_is_object(v) || used >= size)
            continue;
        con_escape(key, !ui->utf8, k, sizeof(k));
        if (t && strcmp(t, "timestamp") == 0 && strstr(key, "start") && json_is_integer(v)) {
            con_format_duration(now_ms() - json_integer_value(v), text, sizeof(text));
            used +=
                (size_t)snprintf(out + used, size - used, "%suptime %s", used ? ", " : "", text);
            continue;
        }
        con_format_value(v, t, ui->utf8, 0, text, sizeof(text));
        used += (size_t)snprintf(out + used, size - used, "%s%s=%s", used ? ", " : "", k, text);
    }
}

/* Time since the first start timestamp ("started", "start-time") of the
 * statistics or framework object, or "-". */
static void uptime(const con_snapshot *s, char *out, size_t size)
{
    static const char *const types[] = {"statistics", "framework"};

    snprintf(out, size, "-");
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const json_t *attrs = con_object_attrs(s, types[i], "");
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
        {
            if (strstr(key, "start") && json_integer_value(v) > 0) {
                con_format_duration(now_ms() - json_integer_value(v), out, size);
                return;
            }
        }
    }
}

static void draw_series(con_ui *ui, const con_series *ser, int y)
{
    char value[32], rate[32] = "", spark[CON_HISTORY * 4 + 1], name[100];
    int width = COLS - 52;

    con_escape(ser->name, !ui->utf8, name, sizeof(name));
    con_format_si(ser->value, value, sizeof(value));
    if (ser->counter)
        con_format_si(ser->rate, rate, sizeof(rate));
    con_put(ui, y, 0, 28, 0, name);
    con_put(ui, y, 28, 10, A_BOLD, value);
    con_put(ui, y, 39, 11, 0, rate);
    if (width > 4) {
        con_sparkline(ser->hist, ser->count, (size_t)width, ui->utf8, spark, sizeof(spark));
        con_put(ui, y, 51, width, COLOR_PAIR(2), spark);
    }
}

void con_overview_draw(con_ui *ui, const con_snapshot *s, int top, int bottom)
{
    static const char *const groups[] = {"async-support", "framework", "factory"};
    const json_t *stats = con_object_attrs(s, "statistics", "");
    char line[LINE_SIZE];
    int y = top, rows;

    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]) && y < bottom; g++) {
        summary(ui, s, groups[g], line, sizeof(line));
        con_putf(ui, y++, 0, COLS, 0, "%-14s %s", groups[g], line[0] ? line : "-");
    }
    uptime(s, line, sizeof(line));
    con_putf(ui, y++, 0, COLS, A_BOLD, "uptime %s   statistics capturing: %s", line,
             !json_is_boolean(json_object_get(stats, "capturing")) ? "-"
             : json_is_true(json_object_get(stats, "capturing"))   ? "on"
                                                                   : "off");
    if (!stats) {
        con_put(ui, y, 2, COLS - 2, A_DIM, "no statistics from this server yet");
        return;
    }
    con_put(ui, y++, 0, COLS, A_REVERSE,
            "statistic                   value      per second  history (1 sample/poll)");
    rows = bottom - y;
    if (ui->list_top > (int)s->series_count - rows)
        ui->list_top = (int)s->series_count - rows > 0 ? (int)s->series_count - rows : 0;
    for (int i = 0; i < rows && ui->list_top + i < (int)s->series_count; i++)
        draw_series(ui, &s->series[ui->list_top + i], y + i);
}

bool con_overview_key(con_ui *ui, int key)
{
    if (key == 'e')
        con_run_action(ui, "statistics", "", "enable");
    else if (key == 'x')
        con_run_action(ui, "statistics", "", "disable");
    else if (key == 'z')
        con_run_action(ui, "statistics", "", "reset");
    else if (key == KEY_UP)
        ui->list_top = ui->list_top > 0 ? ui->list_top - 1 : 0;
    else if (key == KEY_DOWN)
        ui->list_top++;
    else
        return false;
    return true;
}

/* ---- settings and events ------------------------------------------------- */

static void push(char lines[][LINE_SIZE], int *n, const char *text)
{
    if (*n < LIST_MAX)
        snprintf(lines[(*n)++], LINE_SIZE, "%s", text);
}

static void object_lines(const con_ui *ui, const json_t *schema, const char *prefix,
                         const json_t *attrs, char lines[][LINE_SIZE], int *n)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
    {
        const char *t = json_string_value(json_object_get(con_type_attr(schema, key), "type"));
        char text[400], k[100], line[LINE_SIZE];

        con_escape(key, !ui->utf8, k, sizeof(k));
        con_format_value(v, t, ui->utf8, now_ms(), text, sizeof(text));
        snprintf(line, sizeof(line), "%s%-28s %s", prefix, k, text);
        push(lines, n, line);
    }
}

/* Types shown in views of their own. */
static bool has_own_view(const char *name)
{
    static const char *const own[] = {"statistics", "framework",   "broadcaster",      "resource",
                                      "init-param", "interceptor", "broadcaster-cache"};

    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        if (strcmp(own[i], name) == 0)
            return true;
    }
    return false;
}

/* Draws lines[list_top...] into [top, bottom), keeping list_top in range. */
static void draw_lines(con_ui *ui, char lines[][LINE_SIZE], int n, int top, int bottom)
{
    int rows = bottom - top;

    if (ui->list_top > n - rows)
        ui->list_top = n - rows > 0 ? n - rows : 0;
    for (int i = 0; i < rows && ui->list_top + i < n; i++)
        con_put(ui, top + i, 0, COLS, lines[ui->list_top + i][0] == '[' ? A_BOLD : 0,
                lines[ui->list_top + i]);
}

void con_settings_draw(con_ui *ui, const con_snapshot *s, int top, int bottom)
{
    static char lines[LIST_MAX][LINE_SIZE];
    int n = 0;
    size_t i, j;
    json_t *type, *item;

    json_array_foreach(json_object_get(s->types, "types"), i, type)
    {
        const char *name = json_string_value(json_object_get(type, "name"));
        const json_t *obj = name ? json_object_get(s->objects, name) : NULL;
        char head[400];

        if (!name || has_own_view(name) || !obj)
            continue;
        snprintf(head, sizeof(head), "[%s]", name);
        push(lines, &n, head);
        if (json_is_object(obj))
            object_lines(ui, type, "  ", json_object_get(obj, "attributes"), lines, &n);
        json_array_foreach(obj, j, item)
        {
            char id[300];

            con_escape(json_string_value(json_object_get(item, "id")), !ui->utf8, id, sizeof(id));
            snprintf(head, sizeof(head), "  %s", id);
            push(lines, &n, head);
            object_lines(ui, type, "    ", json_object_get(item, "attributes"), lines, &n);
        }
        push(lines, &n, "");
    }
    if (n == 0)
        push(lines, &n, s->types ? "no other settings on this server" : "no data yet");
    draw_lines(ui, lines, n, top, bottom);
}

void con_events_draw(con_ui *ui, const con_snapshot *s, int top, int bottom)
{
    static char lines[CON_EVENTS_MAX][LINE_SIZE];
    char search[200] = "";
    int n = 0;

    if (ui->search[0])
        con_escape(ui->search, !ui->utf8, search, sizeof(search));
    con_putf(ui, top, 0, COLS, A_BOLD, "registry events, newest first: %zu kept, %llu lost%s%s",
             s->ev_count, (unsigned long long)s->events_lost, search[0] ? ", matching " : "",
             search);
    for (size_t i = s->ev_count; i-- > 0;) {
        const con_event *ev = con_event_at(s, i);
        char t[40], id[300], detail[120];

        con_format_time(ev->time_ms, t, sizeof(t));
        con_escape(ev->id, !ui->utf8, id, sizeof(id));
        con_escape(ev->detail, !ui->utf8, detail, sizeof(detail));
        snprintf(lines[n], LINE_SIZE, "%.8s %6llu %-9.16s %-17.48s %.300s %.100s%s%.31s", t + 11,
                 (unsigned long long)ev->seq, ev->kind, ev->type, id, detail,
                 strcmp(ev->result, "ok") && ev->result[0] ? " -> " : "",
                 strcmp(ev->result, "ok") ? ev->result : "");
        if (!search[0] || strcasestr(lines[n], search))
            n++;
    }
    if (n == 0)
        snprintf(lines[n++], LINE_SIZE, "%s",
                 search[0]        ? "no event matches"
                 : s->stream_live ? "no events yet"
                                  : "event stream not connected");
    draw_lines(ui, lines, n, top + 1, bottom);
}

bool con_list_key(con_ui *ui, int key, int page)
{
    if (key == KEY_UP || key == KEY_PPAGE)
        ui->list_top -= key == KEY_UP ? 1 : page;
    else if (key == KEY_DOWN || key == KEY_NPAGE)
        ui->list_top += key == KEY_DOWN ? 1 : page;
    else if (key == KEY_HOME)
        ui->list_top = 0;
    else if (key == '/')
        con_prompt(ui, "show lines containing (empty shows all): ", ui->search, sizeof(ui->search));
    else
        return false;
    ui->list_top = ui->list_top < 0 ? 0 : ui->list_top;
    return true;
}
