/* SPDX-License-Identifier: Apache-2.0 */
/* satconsole --once: prints a snapshot as "name value" lines, one per
 * attribute, for scripts and for comparison with the REST API. */
#include "con_once.h"
#include "con_format.h"

#include <string.h>

/* Value texts longer than this are cut; lists of many ids can pass it. */
#define VALUE_MAX 65536

static void print_attrs(const char *prefix, const json_t *attrs, FILE *out)
{
    static char text[VALUE_MAX];
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)attrs, key, v)
    {
        char k[256];

        con_escape(key, true, k, sizeof(k));
        if (json_is_object(v)) {
            const char *sub;
            json_t *sv;

            json_object_foreach(v, sub, sv)
            {
                char s[256];

                con_escape(sub, true, s, sizeof(s));
                con_format_plain(sv, text, sizeof(text));
                fprintf(out, "%s.%s.%s %s\n", prefix, k, s, text);
            }
            continue;
        }
        con_format_plain(v, text, sizeof(text));
        fprintf(out, "%s.%s %s\n", prefix, k, text);
    }
}

void con_once_print(const con_snapshot *s, FILE *out)
{
    size_t i, j;
    json_t *type, *item;

    json_array_foreach(json_object_get(s->types, "types"), i, type)
    {
        const char *name = json_string_value(json_object_get(type, "name"));
        const json_t *obj = name ? json_object_get(s->objects, name) : NULL;
        char prefix[1024];

        if (json_is_object(obj)) {
            print_attrs(name, json_object_get(obj, "attributes"), out);
            continue;
        }
        json_array_foreach(obj, j, item)
        {
            char id[768];

            con_escape(json_string_value(json_object_get(item, "id")), true, id, sizeof(id));
            snprintf(prefix, sizeof(prefix), "%s.%s", name, id);
            print_attrs(prefix, json_object_get(item, "attributes"), out);
        }
    }
}
