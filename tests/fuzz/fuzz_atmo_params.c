/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: an arbitrary query string goes through sat__query_each
 * and every pair through sat__atmo_param, as query value and as header. */
#include "codec.h"
#include "satellite/error.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int apply_pair(void *userdata, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    sat_atmo_params *params = userdata;
    sat_atmo_params header_params;
    char err[128];
    int rc;

    rc = sat__atmo_param(params, name, name_len, value, value_len, true, err, sizeof(err));
    assert(rc == SAT_OK || rc == SAT_EINVAL || rc == SAT_ENOMEM);

    sat__atmo_params_init(&header_params);
    rc = sat__atmo_param(&header_params, name, name_len, value, value_len, false, err, sizeof(err));
    assert(rc == SAT_OK || rc == SAT_EINVAL || rc == SAT_ENOMEM);
    sat__atmo_params_clear(&header_params);
    return 0;
}

/* Checks the invariants that the transports rely on after parsing. */
static void check_params(const sat_atmo_params *p)
{
    size_t id_len = strlen(p->tracking_id);

    assert(id_len == 0 || sat__tracking_id_valid(p->tracking_id, id_len));
    assert(p->heartbeat_server_s >= -1);
    assert(p->heartbeat_server_s <= 86400);
    assert((unsigned)p->transport < SAT_TRANSPORT_COUNT);
    for (const char *c = p->jsonp_callback; *c != '\0'; c++)
        assert((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'));
    (void)sat__atmo_version(p->framework);
}

/* Random query strings rarely spell a parameter name, so the input is also
 * read as one value for a parameter picked by its first byte. */
static void apply_known_name(const uint8_t *data, size_t size)
{
    static const char *const names[] = {
        "X-Atmosphere-tracking-id",
        "X-Atmosphere-Framework",
        "X-Atmosphere-Transport",
        "X-Atmosphere-TrackMessageSize",
        "X-atmo-protocol",
        "X-Heartbeat-Server",
        "Content-Type",
        "jsonpTransport",
        "X-Atmosphere-Post-Body",
        "x-atmosphere-binary",
    };
    const char *name = names[data[0] % (sizeof(names) / sizeof(names[0]))];
    sat_atmo_params params;

    sat__atmo_params_init(&params);
    (void)apply_pair(&params, name, strlen(name), (const char *)data + 1, size - 1);
    check_params(&params);
    sat__atmo_params_clear(&params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sat_atmo_params params;

    sat__atmo_params_init(&params);
    (void)sat__query_each((const char *)data, size, apply_pair, &params);
    check_params(&params);
    sat__atmo_params_clear(&params);

    if (size > 0)
        apply_known_name(data, size);
    return 0;
}
