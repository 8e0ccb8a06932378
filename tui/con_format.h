/* SPDX-License-Identifier: Apache-2.0 */
/* Pure text helpers of satconsole: escaping of server strings for the
 * terminal, column fitting, number/duration/time formatting, counter rates,
 * sparklines, percent-encoding and config-file lines. No curses, no I/O. */
#ifndef CON_FORMAT_H
#define CON_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies `in` to `out` (always NUL-terminated when size > 0) with every
 * byte that a terminal could act on replaced by a visible escape: C0
 * controls and DEL as \n, \t, \r or \xNN, a backslash as \\, bytes of
 * invalid UTF-8 as \xNN, C1 controls and bidirectional overrides as
 * \u{XXXX}. With ascii_only, every non-ASCII code point becomes \u{XXXX}.
 * Escapes are never cut in half. Returns the length the whole result
 * needs (like snprintf), so a return >= size means it was truncated. */
size_t con_escape(const char *in, bool ascii_only, char *out, size_t size);

/* Copies the valid UTF-8 text `in` to `out`, clipped to `cols` terminal
 * columns (wide characters count 2). A clipped string ends with an
 * ellipsis ("~" when !utf8). Returns the columns used. */
int con_fit(const char *in, int cols, bool utf8, char *out, size_t size);

/* Terminal columns that the valid UTF-8 text needs. */
int con_width(const char *in);

/* Per-second rate of a counter from `prev` to `cur` over `seconds`. A
 * counter that went down was reset, so the rate counts from zero. Returns
 * 0 when seconds <= 0. */
double con_rate(double prev, double cur, double seconds);

/* Writes a sparkline of the last `width` values (fewer when n < width),
 * scaled from 0 to their maximum, with the eight block characters U+2581 to
 * U+2588 (or " .:-=+*#" when !utf8). Negative values draw as the lowest
 * level. Returns the number of cells written. */
size_t con_sparkline(const double *vals, size_t n, size_t width, bool utf8, char *out, size_t size);

/* Formats a number short: integers below 10000 as is, else with one
 * decimal and a k, M, G, T or P suffix (powers of 1000). */
void con_format_si(double v, char *out, size_t size);

/* Formats milliseconds as "250ms", "42s", "3m05s", "2h07m" or "4d03h".
 * Negative input gives "-". */
void con_format_duration(int64_t ms, char *out, size_t size);

/* Formats milliseconds since the epoch as "YYYY-MM-DD HH:MM:SSZ" (UTC);
 * 0 or less gives "-". */
void con_format_time(int64_t ms, char *out, size_t size);

/* Formats a JSON attribute value for display. `type` is the schema type
 * name ("timestamp", "duration", ...) or NULL. Strings are escaped; lists
 * are joined with ", " and maps as "k=v". `now_ms` turns timestamps into
 * "time (age ago)" when > 0. */
void con_format_value(const json_t *v, const char *type, bool utf8, int64_t now_ms, char *out,
                      size_t size);

/* Formats a JSON scalar as plain text for --once: strings escaped (ASCII
 * only), integers in decimal, reals with %.17g, true/false, null. Arrays
 * are joined with ",". Objects are not scalars and give "". */
void con_format_plain(const json_t *v, char *out, size_t size);

/* Percent-encodes everything except ALPHA, DIGIT and "-._~" (RFC 3986
 * unreserved), for one path segment. Returns the length the whole result
 * needs, like snprintf. */
size_t con_url_encode(const char *in, char *out, size_t size);

/* Parses one line of a key=value config file in place. Returns 1 and sets
 * *key and *value (trimmed, pointing into line), 0 for a blank or comment
 * line ('#' or ';'), -1 for a line without '=' or with an empty key. */
int con_conf_parse_line(char *line, char **key, char **value);

#endif
