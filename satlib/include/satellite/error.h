/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes shared by every libsatellite call. Functions that can fail
 * return 0 on success or one of the negative codes below. */
#ifndef SATELLITE_ERROR_H
#define SATELLITE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sat_err {
    SAT_OK = 0,
    SAT_ENOMEM = -1,    /* an allocation failed */
    SAT_EINVAL = -2,    /* an argument or input value is invalid */
    SAT_ENOTFOUND = -3, /* no object with that id exists */
    SAT_ECONFLICT = -4, /* the object is in a state that forbids the call */
    SAT_ETIMEDOUT = -5, /* the owning thread did not answer in time */
    SAT_EIO = -6,       /* a system call failed; errno-level detail is logged */
    SAT_ELIMIT = -7,    /* a configured limit was reached */
    SAT_ENOTSUP = -8,   /* the operation is not supported here */
    SAT_ECLOSED = -9,   /* the object was closed or destroyed */
} sat_err;

/* Returns a static, human-readable description of an error code. Unknown
 * codes map to "unknown error". */
const char *sat_strerror(int err);

/* Returns the short machine name of an error code ("not-found",
 * "invalid-argument", "conflict", "timed-out", ...), as REST and the event
 * stream report it. */
const char *sat_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
