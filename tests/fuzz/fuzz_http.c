/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the push port's HTTP request path (parser, limits, protocol
 * parameters, every transport) through a real engine over TCP. */
#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_server_start();
    fuzz_server_exchange("", 0, data, size);
    return 0;
}
