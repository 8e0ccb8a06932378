/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes WebSocket frames from clients: each input follows a valid upgrade
 * request on a fresh connection to a real engine. */
#include "fuzz_server.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char upgrade[] =
    "GET /fuzz?X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=4.0.1"
    "&X-Atmosphere-Transport=websocket&X-Atmosphere-TrackMessageSize=true&X-atmo-protocol=true "
    "HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_server_start();
    fuzz_server_exchange(upgrade, strlen(upgrade), data, size);
    return 0;
}
