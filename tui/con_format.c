/* SPDX-License-Identifier: Apache-2.0 */
/* Pure text helpers of satconsole: escaping, column fitting, formatting of
 * numbers, durations, times and attribute values, rates and sparklines. */
#include "con_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* Decodes one UTF-8 sequence at s (n bytes available). Returns its length
 * and sets *cp, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, c = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, c = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Code points that reorder or hide text on a terminal. */
static bool is_unsafe_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff;
}

/* Appends piece[0..len) when all of it fits, and counts it either way. */
static void put(char *out, size_t size, size_t *used, size_t *need, const char *piece, size_t len)
{
    if (*used == *need && *used + len < size) {
        memcpy(out + *used, piece, len);
        *used += len;
    }
    *need += len;
}

static size_t escape_byte(unsigned char b, char *piece, size_t size)
{
    switch (b) {
    case '\n':
        return (size_t)snprintf(piece, size, "\\n");
    case '\t':
        return (size_t)snprintf(piece, size, "\\t");
    case '\r':
        return (size_t)snprintf(piece, size, "\\r");
    case '\\':
        return (size_t)snprintf(piece, size, "\\\\");
    default:
        return (size_t)snprintf(piece, size, "\\x%02X", b);
    }
}

size_t con_escape(const char *in, bool ascii_only, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t n = strlen((const char *)s), used = 0, need = 0;
    char piece[16];

    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t len = utf8_decode(s + i, n - i, &cp);

        if (len == 0 || cp < 0x20 || cp == 0x7f || cp == '\\') {
            put(out, size, &used, &need, piece, escape_byte(s[i], piece, sizeof(piece)));
            i++;
            continue;
        }
        if (is_unsafe_cp(cp) || (ascii_only && cp >= 0x80))
            put(out, size, &used, &need, piece,
                (size_t)snprintf(piece, sizeof(piece), "\\u{%04" PRIX32 "}", cp));
        else
            put(out, size, &used, &need, (const char *)s + i, len);
        i += len;
    }
    if (size > 0)
        out[used] = '\0';
    return need;
}

static int cp_width(uint32_t cp)
{
    int w = cp < 0x80 ? 1 : wcwidth((wchar_t)cp);

    return w < 0 ? 1 : w;
}

int con_width(const char *in)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in);
    int cols = 0;

    for (size_t i = 0; i < n;) {
        uint32_t cp = '?';
        size_t len = utf8_decode(s + i, n - i, &cp);

        cols += cp_width(cp);
        i += len ? len : 1;
    }
    return cols;
}

int con_fit(const char *in, int cols, bool utf8, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)in;
    const char *ellipsis = utf8 ? "\xe2\x80\xa6" : "~";
    size_t n = strlen(in), o = 0;
    int used = 0;

    if (size == 0)
        return 0;
    if (cols <= 0) {
        out[0] = '\0';
        return 0;
    }
    if (con_width(in) <= cols && n < size) {
        memcpy(out, in, n + 1);
        return con_width(in);
    }
    for (size_t i = 0; i < n;) {
        uint32_t cp = '?';
        size_t len = utf8_decode(s + i, n - i, &cp);
        int w = cp_width(cp);

        len = len ? len : 1;
        if (used + w > cols - 1 || o + len + strlen(ellipsis) >= size)
            break;
        memcpy(out + o, s + i, len);
        o += len, used += w, i += len;
    }
    memcpy(out + o, ellipsis, strlen(ellipsis) + 1);
    return used + 1;
}

double con_rate(double prev, double cur, double seconds)
{
    if (seconds <= 0)
        return 0;
    if (cur < prev)
        return cur / seconds;
    return (cur - prev) / seconds;
}

size_t con_sparkline(const double *vals, size_t n, size_t width, bool utf8, char *out, size_t size)
{
    static const char *const blocks[8] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                          "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                          "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char ascii[] = " .:-=+*#";
    size_t first = n > width ? n - width : 0, cells = 0, o = 0;
    double max = 0;

    for (size_t i = first; i < n; i++)
        max = vals[i] > max ? vals[i] : max;
    for (size_t i = first; i < n; i++) {
        int level = max > 0 && vals[i] > 0 ? (int)lround(vals[i] / max * 7.0) : 0;
        const char *cell = utf8 ? blocks[level] : (const char[2]){ascii[level], '\0'};
        size_t len = strlen(cell);

        if (o + len >= size)
            break;
        memcpy(out + o, cell, len);
        o += len;
        cells++;
    }
    if (size > 0)
        out[o] = '\0';
    return cells;
}

void con_format_si(double v, char *out, size_t size)
{
    static const char suffix[] = "kMGTP";
    double a = fabs(v);
    int i = -1;

    if (a < 10000) {
        if (v == floor(v))
            snprintf(out, size, "%.0f", v);
        else
            snprintf(out, size, "%.1f", v);
        return;
    }
    while (a >= 1000 && i < 4) {
        a /= 1000;
        v /= 1000;
        i++;
    }
    snprintf(out, size, "%.1f%c", v, suffix[i]);
}

void con_format_duration(int64_t ms, char *out, size_t size)
{
    int64_t s = ms / 1000;

    if (ms < 0)
        snprintf(out, size, "-");
    else if (ms < 1000)
        snprintf(out, size, "%" PRId64 "ms", ms);
    else if (s < 60)
        snprintf(out, size, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(out, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(out, size, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

void con_format_time(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || !gmtime_r(&t, &tm)) {
        snprintf(out, size, "-");
        return;
    }
    strftime(out, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* Joins the items of an array or the pairs of an object, each formatted
 * with con_format_value, into out. */
static void format_compound(const json_t *v, bool utf8, char *out, size_t size)
{
    size_t used = 0, i;
    const char *key;
    json_t *item;
    char text[512];

    out[0] = '\0';
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            con_format_value(item, NULL, utf8, 0, text, sizeof(text));
            used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", text);
            if (used >= size)
                return;
        }
        return;
    }
    i = 0;
    json_object_foreach((json_t *)(uintptr_t)v, key, item)
    {
        char k[256];

        con_escape(key, !utf8, k, sizeof(k));
        con_format_value(item, NULL, utf8, 0, text, sizeof(text));
        used += (size_t)snprintf(out + used, size - used, "%s%s=%s", i++ ? ", " : "", k, text);
        if (used >= size)
            return;
    }
}

void con_format_value(const json_t *v, const char *type, bool utf8, int64_t now_ms, char *out,
                      size_t size)
{
    char t[64], age[32];

    if (size == 0)
        return;
    if (!v || json_is_null(v)) {
        snprintf(out, size, "-");
    } else if (json_is_string(v)) {
        con_escape(json_string_value(v), !utf8, out, size);
    } else if (json_is_integer(v) && type && strcmp(type, "timestamp") == 0) {
        con_format_time(json_integer_value(v), t, sizeof(t));
        con_format_duration(now_ms - json_integer_value(v), age, sizeof(age));
        if (now_ms > 0 && json_integer_value(v) > 0)
            snprintf(out, size, "%s (%s ago)", t, age);
        else
            snprintf(out, size, "%s", t);
    } else if (json_is_integer(v) && type && strcmp(type, "duration") == 0) {
        con_format_duration(json_integer_value(v), out, size);
    } else if (json_is_array(v) || json_is_object(v)) {
        format_compound(v, utf8, out, size);
    } else {
        con_format_plain(v, out, size);
    }
}

void con_format_plain(const json_t *v, char *out, size_t size)
{
    size_t used = 0, i;
    json_t *item;

    if (size == 0)
        return;
    out[0] = '\0';
    if (json_is_string(v))
        con_escape(json_string_value(v), true, out, size);
    else if (json_is_integer(v))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_null(v) || !v)
        snprintf(out, size, "null");
    else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            char text[512];

            con_format_plain(item, text, sizeof(text));
            used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "," : "", text);
            if (used >= size)
                return;
        }
    }
}

size_t con_url_encode(const char *in, char *out, size_t size)
{
    size_t used = 0, need = 0;
    char piece[4];

    for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
        if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            *s == '-' || *s == '.' || *s == '_' || *s == '~') {
            piece[0] = (char)*s;
            put(out, size, &used, &need, piece, 1);
        } else {
            put(out, size, &used, &need, piece,
                (size_t)snprintf(piece, sizeof(piece), "%%%02X", *s));
        }
    }
    if (size > 0)
        out[used] = '\0';
    return need;
}

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

int con_conf_parse_line(char *line, char **key, char **value)
{
    char *s = trim(line), *eq;

    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    eq = strchr(s, '=');
    if (!eq)
        return -1;
    *eq = '\0';
    *key = trim(s);
    *value = trim(eq + 1);
    return **key ? 1 : -1;
}
