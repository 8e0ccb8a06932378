/* SPDX-License-Identifier: Apache-2.0 */
/* satconsole --once: one snapshot printed as plain "name value" lines. */
#ifndef CON_ONCE_H
#define CON_ONCE_H

#include "con_model.h"

#include <stdio.h>

/* Prints every attribute of the snapshot to out, one line each, in
 * schema order: "type.attr value" for singletons, "type.id.attr value" for
 * objects of collections, and one more ".key" level for map attributes.
 * Ids, keys and strings are escaped to printable ASCII. */
void con_once_print(const con_snapshot *s, FILE *out);

#endif
