/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of satconsole's pure helpers: escaping of control bytes and
 * invalid UTF-8, column fitting, rates, sparklines, number, duration and
 * value formatting, percent-encoding and config lines. */
#include "con_format.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* ---- escaping ------------------------------------------------------------ */

static const struct {
    const char *in;
    bool ascii_only;
    const char *out;
} escape_cases[] = {
    {"plain /chat", false, "plain /chat"},
    {"a\nb\tc\rd", false, "a\\nb\\tc\\rd"},
    {"esc\x1b[2Jx", false, "esc\\x1B[2Jx"},
    {"bell\x07", false, "bell\\x07"},
    {"del\x7f", false, "del\\x7F"},
    {"back\\slash", false, "back\\\\slash"},
    {"caf\xc3\xa9", false, "caf\xc3\xa9"},
    {"caf\xc3\xa9", true, "caf\\u{00E9}"},
    {"wide \xe4\xb8\xad", false, "wide \xe4\xb8\xad"},
    {"c1 \xc2\x9b"
     "31m",
     false, "c1 \\u{009B}31m"},
    {"bidi \xe2\x80\xae", false, "bidi \\u{202E}"},
    {"bad \xff", false, "bad \\xFF"},
    {"cut \xe4\xb8", false, "cut \\xE4\\xB8"},
    {"overlong \xc0\xaf", false, "overlong \\xC0\\xAF"},
    {"surrogate \xed\xa0\x80", false, "surrogate \\xED\\xA0\\x80"},
    {"", false, ""},
};

static void escape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
        char out[128];
        size_t need = con_escape(escape_cases[i].in, escape_cases[i].ascii_only, out, sizeof(out));

        assert_string_equal(out, escape_cases[i].out);
        assert_int_equal(need, strlen(escape_cases[i].out));
    }
}

static void escape_never_splits_an_escape(void **state)
{
    char out[6];
    size_t need;

    (void)state;
    need = con_escape("ab\x01zz", false, out, sizeof(out));
    assert_string_equal(out, "ab");
    assert_int_equal(need, strlen("ab\\x01zz"));
}

static void escape_null_input(void **state)
{
    char out[8] = "x";

    (void)state;
    assert_int_equal(con_escape(NULL, false, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

/* ---- fitting --------------------------------------------------------------- */

static void fit_short_text_unchanged(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(con_fit("hello", 10, true, out, sizeof(out)), 5);
    assert_string_equal(out, "hello");
}

static void fit_cuts_with_ellipsis(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(con_fit("abcdefgh", 5, true, out, sizeof(out)), 5);
    assert_string_equal(out, "abcd\xe2\x80\xa6");
    assert_int_equal(con_fit("abcdefgh", 5, false, out, sizeof(out)), 5);
    assert_string_equal(out, "abcd~");
}

static void fit_counts_wide_characters(void **state)
{
    char out[64];

    (void)state;
    /* Three CJK characters take six columns, so only two fit in five. */
    assert_int_equal(con_width("\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad"), 6);
    con_fit("\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad", 5, true, out, sizeof(out));
    assert_string_equal(out, "\xe4\xb8\xad\xe4\xb8\xad\xe2\x80\xa6");
}

static void fit_zero_columns(void **state)
{
    char out[8] = "x";

    (void)state;
    assert_int_equal(con_fit("abc", 0, true, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

/* ---- rates and sparklines ----------------------------------------------------- */

static void rate_of_growing_counter(void **state)
{
    (void)state;
    assert_true(fabs(con_rate(100, 350, 2.5) - 100.0) < 1e-9);
}

static void rate_after_counter_reset(void **state)
{
    (void)state;
    assert_true(fabs(con_rate(1000, 20, 2.0) - 10.0) < 1e-9);
}

static void rate_without_elapsed_time(void **state)
{
    (void)state;
    assert_true(con_rate(1, 5, 0) == 0);
    assert_true(con_rate(1, 5, -1) == 0);
}

static void sparkline_scales_to_max(void **state)
{
    const double vals[] = {0, 1, 2, 4, 8};
    char out[64];

    (void)state;
    assert_int_equal(con_sparkline(vals, 5, 10, false, out, sizeof(out)), 5);
    assert_string_equal(out, " .:=#");
}

static void sparkline_keeps_last_width_values(void **state)
{
    const double vals[] = {100, 0, 5, 10};
    char out[64];

    (void)state;
    assert_int_equal(con_sparkline(vals, 4, 2, false, out, sizeof(out)), 2);
    assert_string_equal(out, "=#");
}

static void sparkline_utf8_blocks(void **state)
{
    const double vals[] = {0, 7};
    char out[64];

    (void)state;
    con_sparkline(vals, 2, 8, true, out, sizeof(out));
    assert_string_equal(out, "\xe2\x96\x81\xe2\x96\x88");
}

static void sparkline_all_zero_and_negative(void **state)
{
    const double vals[] = {0, -3, 0};
    char out[64];

    (void)state;
    con_sparkline(vals, 3, 8, false, out, sizeof(out));
    assert_string_equal(out, "   ");
}

static void sparkline_respects_buffer(void **state)
{
    const double vals[] = {1, 2, 3, 4};
    char out[7];

    (void)state;
    /* Each block is 3 bytes; two fit with the NUL. */
    assert_int_equal(con_sparkline(vals, 4, 4, true, out, sizeof(out)), 2);
    assert_int_equal(strlen(out), 6);
}

/* ---- formatting ------------------------------------------------------------- */

static const struct {
    double v;
    const char *out;
} si_cases[] = {
    {0, "0"},         {42, "42"},        {9999, "9999"},     {2.5, "2.5"},
    {12345, "12.3k"}, {1500000, "1.5M"}, {-25000, "-25.0k"}, {3e12, "3.0T"},
};

static void si_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(si_cases) / sizeof(si_cases[0]); i++) {
        char out[32];

        con_format_si(si_cases[i].v, out, sizeof(out));
        assert_string_equal(out, si_cases[i].out);
    }
}

static const struct {
    int64_t ms;
    const char *out;
} duration_cases[] = {
    {-1, "-"},         {250, "250ms"},     {42000, "42s"},
    {185000, "3m05s"}, {7620000, "2h07m"}, {356400000, "4d03h"},
};

static void duration_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
        char out[32];

        con_format_duration(duration_cases[i].ms, out, sizeof(out));
        assert_string_equal(out, duration_cases[i].out);
    }
}

static void time_in_utc(void **state)
{
    char out[40];

    (void)state;
    con_format_time(1700000000123, out, sizeof(out));
    assert_string_equal(out, "2023-11-14 22:13:20Z");
    con_format_time(0, out, sizeof(out));
    assert_string_equal(out, "-");
}

static void value_formats(void **state)
{
    json_t *list = json_pack("[s, s]", "a", "b\x1b");
    json_t *map = json_pack("{s:s}", "k", "v");
    json_t *ts = json_integer(1700000000000);
    json_t *dur = json_integer(65000);
    char out[128];

    (void)state;
    con_format_value(list, "string-list", true, 0, out, sizeof(out));
    assert_string_equal(out, "a, b\\x1B");
    con_format_value(map, "string-map", true, 0, out, sizeof(out));
    assert_string_equal(out, "k=v");
    con_format_value(ts, "timestamp", true, 1700000060000, out, sizeof(out));
    assert_string_equal(out, "2023-11-14 22:13:20Z (1m00s ago)");
    con_format_value(dur, "duration", true, 0, out, sizeof(out));
    assert_string_equal(out, "1m05s");
    con_format_value(NULL, NULL, true, 0, out, sizeof(out));
    assert_string_equal(out, "-");
    json_decref(list);
    json_decref(map);
    json_decref(ts);
    json_decref(dur);
}

static void plain_formats(void **state)
{
    json_t *v = json_pack("[i, b, s, n, f]", 7, 1, "x\ny", 0.5);
    char out[128];

    (void)state;
    con_format_plain(v, out, sizeof(out));
    assert_string_equal(out, "7,true,x\\ny,null,0.5");
    json_decref(v);
}

/* ---- url and config ------------------------------------------------------------ */

static void url_encode_segment(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(con_url_encode("/chat room", out, sizeof(out)), 14);
    assert_string_equal(out, "%2Fchat%20room");
    con_url_encode("a-b.c_d~e", out, sizeof(out));
    assert_string_equal(out, "a-b.c_d~e");
    con_url_encode("\xc3\xa9", out, sizeof(out));
    assert_string_equal(out, "%C3%A9");
}

static const struct {
    const char *line;
    int kind;
    const char *key, *value;
} conf_cases[] = {
    {"url = http://127.0.0.1:8081\n", 1, "url", "http://127.0.0.1:8081"},
    {"  token=abc  ", 1, "token", "abc"},
    {"empty=", 1, "empty", ""},
    {"# comment", 0, NULL, NULL},
    {"; comment", 0, NULL, NULL},
    {"   \n", 0, NULL, NULL},
    {"no equals sign", -1, NULL, NULL},
    {" = value", -1, NULL, NULL},
};

static void conf_line_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
        char line[128];
        char *key = NULL, *value = NULL;

        snprintf(line, sizeof(line), "%s", conf_cases[i].line);
        assert_int_equal(con_conf_parse_line(line, &key, &value), conf_cases[i].kind);
        if (conf_cases[i].kind == 1) {
            assert_string_equal(key, conf_cases[i].key);
            assert_string_equal(value, conf_cases[i].value);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_table),
        cmocka_unit_test(escape_never_splits_an_escape),
        cmocka_unit_test(escape_null_input),
        cmocka_unit_test(fit_short_text_unchanged),
        cmocka_unit_test(fit_cuts_with_ellipsis),
        cmocka_unit_test(fit_counts_wide_characters),
        cmocka_unit_test(fit_zero_columns),
        cmocka_unit_test(rate_of_growing_counter),
        cmocka_unit_test(rate_after_counter_reset),
        cmocka_unit_test(rate_without_elapsed_time),
        cmocka_unit_test(sparkline_scales_to_max),
        cmocka_unit_test(sparkline_keeps_last_width_values),
        cmocka_unit_test(sparkline_utf8_blocks),
        cmocka_unit_test(sparkline_all_zero_and_negative),
        cmocka_unit_test(sparkline_respects_buffer),
        cmocka_unit_test(si_table),
        cmocka_unit_test(duration_table),
        cmocka_unit_test(time_in_utc),
        cmocka_unit_test(value_formats),
        cmocka_unit_test(plain_formats),
        cmocka_unit_test(url_encode_segment),
        cmocka_unit_test(conf_line_table),
    };

    /* Wide-character widths come from the locale. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "en_US.UTF-8");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
