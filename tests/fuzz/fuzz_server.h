/* SPDX-License-Identifier: Apache-2.0 */
/* A real push engine for fuzz targets: started once per process on a free
 * loopback port; each input goes over a fresh TCP connection. */
#ifndef SAT_FUZZ_SERVER_H
#define SAT_FUZZ_SERVER_H

#include <stddef.h>
#include <stdint.h>

/* Starts the engine on first use; aborts when it cannot. */
void fuzz_server_start(void);

/* Connects, sends `prefix` then `data`, half-closes, and reads the answer
 * until the server closes or 20 ms pass without bytes. */
void fuzz_server_exchange(const void *prefix, size_t prefix_len, const uint8_t *data, size_t len);

#endif
