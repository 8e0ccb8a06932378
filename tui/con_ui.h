/* SPDX-License-Identifier: Apache-2.0 */
/* satconsole's curses front end: the main loop, shared drawing helpers,
 * dialogs, and the views (overview, tables, framework, settings, events).
 * Only the thread that calls con_ui_run touches curses. */
#ifndef CON_UI_H
#define CON_UI_H

#include "con_model.h"

#include <stdbool.h>

enum con_view_id {
    CON_VIEW_OVERVIEW = 0,
    CON_VIEW_BROADCASTERS,
    CON_VIEW_RESOURCES,
    CON_VIEW_CACHES,
    CON_VIEW_INTERCEPTORS,
    CON_VIEW_FRAMEWORK,
    CON_VIEW_SETTINGS,
    CON_VIEW_EVENTS,
    CON_VIEW_COUNT
};

#define CON_TABLES 4 /* views 1 to 4 are object tables */

typedef struct con_table_state {
    int sel, top;
    int sort_col; /* 0 = id, n = n-th attribute column */
    bool sort_desc;
    int hscroll; /* attribute columns scrolled off to the left */
    char filter[128];
    char search[128];
    char sel_id[512]; /* id of the selected row, kept across refreshes */
} con_table_state;

typedef struct con_ui {
    con_model *model;
    const con_options *opt;
    bool utf8;
    int view;
    con_table_state tables[CON_TABLES];
    bool detail; /* the detail pane of the selected object is open */
    char detail_type[64];
    char detail_id[512];
    int detail_top;
    int fw_sel, fw_top;   /* framework view cursor */
    json_t *pending;      /* framework key -> new value text, not yet applied */
    char fw_result[2048]; /* outcome of the last apply/reload, as lines */
    int list_top;         /* scroll of the settings and events views */
    char search[128];     /* line filter of the settings and events views */
    char fw_search[128];  /* last parameter search of the framework view */
    char status[400];     /* last action result or error */
    bool status_error;
    bool help;
    bool quit;
} con_ui;

/* Runs the interface until the user quits. Returns the exit status. */
int con_ui_run(con_model *model, const con_options *opt);

/* ---- drawing helpers (con_ui.c) ----------------------------------------- */

/* Draws UTF-8 text (already escaped) at y, x clipped to width columns. */
void con_put(const con_ui *ui, int y, int x, int width, int attr, const char *text);
/* Like con_put with a printf format; arguments must be escaped already. */
void con_putf(const con_ui *ui, int y, int x, int width, int attr, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Sets the status line to a formatted message. */
void con_status(con_ui *ui, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Asks for a line of text on the bottom row; false on Esc. */
bool con_prompt(con_ui *ui, const char *label, char *buf, size_t size);
/* Asks y/n on the bottom row; true only for y. */
bool con_confirm(con_ui *ui, const char *question);
/* Lets the user pick one of n labels in a popup; -1 on Esc. */
int con_menu(con_ui *ui, const char *title, const char *const *labels, int n);
/* Asks for an operation of the type (from its schema), its parameters and
 * a confirmation, then runs it and reports the result. shortcut is an op
 * name to skip the menu, or NULL. */
void con_run_action(con_ui *ui, const char *type, const char *id, const char *shortcut);
/* Draws the whole screen again (used by dialogs after a resize). */
void con_ui_draw(con_ui *ui);

/* ---- views --------------------------------------------------------------- */
/* Each draw function fills rows [top, bottom) and each key function returns
 * true when it used the key. */

void con_overview_draw(con_ui *ui, const con_snapshot *s, int top, int bottom);
bool con_overview_key(con_ui *ui, int key);

const char *con_table_type(int view);
void con_table_draw(con_ui *ui, const con_snapshot *s, int top, int bottom);
bool con_table_key(con_ui *ui, int key, int page);

void con_detail_draw(con_ui *ui, const con_snapshot *s, int top, int bottom);
bool con_detail_key(con_ui *ui, int key, int page);

void con_framework_draw(con_ui *ui, const con_snapshot *s, int top, int bottom);
bool con_framework_key(con_ui *ui, int key, int page);

void con_settings_draw(con_ui *ui, const con_snapshot *s, int top, int bottom);
void con_events_draw(con_ui *ui, const con_snapshot *s, int top, int bottom);
bool con_list_key(con_ui *ui, int key, int page);

#endif
