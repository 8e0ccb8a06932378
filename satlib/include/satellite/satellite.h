/* SPDX-License-Identifier: Apache-2.0 */
/* Umbrella header for libsatellite. */
#ifndef SATELLITE_SATELLITE_H
#define SATELLITE_SATELLITE_H

#include "satellite/config.h"
#include "satellite/error.h"
#include "satellite/framework.h"
#include "satellite/log.h"
#include "satellite/types.h"

#define SAT_VERSION_STRING "0.1.0"

/* Returns the library version ("0.1.0"). */
const char *sat_version(void);

#endif
