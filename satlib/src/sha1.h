/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-1 and Base64, only for the WebSocket opening handshake (RFC 6455
 * section 4.2.2 derives Sec-WebSocket-Accept from them). Not for security. */
#ifndef SAT_SHA1_H
#define SAT_SHA1_H

#include <stddef.h>
#include <stdint.h>

void sat__sha1(const void *data, size_t len, uint8_t digest[20]);

/* Encodes len bytes as padded Base64 into out (4 * ceil(len / 3) + 1 bytes)
 * and NUL-terminates it. Returns the encoded length. */
size_t sat__base64(const uint8_t *data, size_t len, char *out);

#endif
