/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the two introspection files. */
#ifndef SAT_INTROSPECT_H
#define SAT_INTROSPECT_H

#include "satellite/registry.h"

#include <stddef.h>

extern const char *const sat__transport_names[];

/* Fills errmsg with "<what>: <error>" when rc is an error; returns rc. */
int sat__op_error(int rc, char *errmsg, size_t errsize, const char *what);

/* Registers broadcaster, broadcaster-cache, broadcaster-config and
 * resource. */
int sat__introspect_register_objects(sat_registry *reg);

#endif
