/* SPDX-License-Identifier: Apache-2.0 */
/* Descriptions and machine names of the sat_err codes. */
#include "satellite/error.h"

const char *sat_strerror(int err)
{
    switch (err) {
    case SAT_OK:
        return "success";
    case SAT_ENOMEM:
        return "out of memory";
    case SAT_EINVAL:
        return "invalid argument";
    case SAT_ENOTFOUND:
        return "not found";
    case SAT_ECONFLICT:
        return "conflicting state";
    case SAT_ETIMEDOUT:
        return "timed out";
    case SAT_EIO:
        return "input/output error";
    case SAT_ELIMIT:
        return "limit reached";
    case SAT_ENOTSUP:
        return "not supported";
    case SAT_ECLOSED:
        return "closed";
    default:
        return "unknown error";
    }
}

const char *sat_errname(int err)
{
    switch (err) {
    case SAT_OK:
        return "ok";
    case SAT_ENOMEM:
        return "out-of-memory";
    case SAT_EINVAL:
        return "invalid-argument";
    case SAT_ENOTFOUND:
        return "not-found";
    case SAT_ECONFLICT:
        return "conflict";
    case SAT_ETIMEDOUT:
        return "timed-out";
    case SAT_EIO:
        return "io-error";
    case SAT_ELIMIT:
        return "limit-reached";
    case SAT_ENOTSUP:
        return "not-supported";
    case SAT_ECLOSED:
        return "closed";
    default:
        return "unknown";
    }
}
