/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the INI configuration reader: loads arbitrary text
 * into a fresh configuration, then reads every key back as text. */
#include "satellite/config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sat_config *cfg = sat_config_new();
    sat_config_errors errs = {NULL, 0};
    char buf[SAT_CONFIG_MAX_STRING + 8];

    if (cfg == NULL)
        return 0;
    (void)sat_config_load_text(cfg, (const char *)data, size, "fuzz", &errs);
    for (size_t i = 0; i < errs.count; i++)
        (void)sat_config_error_format(&errs.items[i], buf, sizeof(buf));
    for (size_t i = 0; i < sat_config_key_count(); i++)
        (void)sat_config_text(cfg, sat_config_key_at(i)->name, true, buf, sizeof(buf));
    sat_config_errors_free(&errs);
    sat_config_free(cfg);
    return 0;
}
