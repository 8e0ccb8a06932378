/* SPDX-License-Identifier: Apache-2.0 */
/* Pure encoders and parsers for the Atmosphere wire protocol: query and
 * header parameters, message-length framing in UTF-16 units, SSE, JSONP and
 * WebSocket frame headers, the handshake body and UUIDs. Nothing here keeps
 * state, so every function is safe from any thread. Only the UUID functions
 * do I/O, to read random bytes. */
#ifndef SAT_CODEC_H
#define SAT_CODEC_H

#include "msg.h"
#include "satellite/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAT_TRACKING_ID_MAX    64 /* longest accepted tracking id, in bytes */
#define SAT_JSONP_CALLBACK_MAX 64

/* Decodes %XX escapes in place, and '+' as a space when `plus_is_space`.
 * Returns the new length, or -1 on a malformed escape (then s is partly
 * decoded). Writes a NUL after the result, so s needs len + 1 bytes. */
long sat__pct_decode(char *s, size_t len, bool plus_is_space);

/* Calls `cb` for each name=value pair of a query string (without the '?'),
 * with raw (still encoded) slices. A pair without '=' has an empty value.
 * Stops and returns the callback's non-zero result. */
typedef int (*sat_query_cb)(void *userdata, const char *name, size_t name_len, const char *value,
                            size_t value_len);
int sat__query_each(const char *query, size_t len, sat_query_cb cb, void *userdata);

/* The protocol parameters of one request, collected from headers and query
 * parameters alike. */
typedef struct sat_atmo_params {
    sat_transport transport;                         /* UNDEFINED when absent */
    char tracking_id[SAT_TRACKING_ID_MAX + 1];       /* "" when absent; "0" kept as given */
    char framework[32];                              /* X-Atmosphere-Framework, "" when absent */
    bool track_message_size;                         /* X-Atmosphere-TrackMessageSize=true */
    bool protocol;                                   /* X-atmo-protocol=true */
    bool binary;                                     /* X-Atmosphere-Binary=true */
    int heartbeat_server_s;                          /* X-Heartbeat-Server, -1 when absent */
    char content_type[128];                          /* Content-Type parameter, decoded */
    char jsonp_callback[SAT_JSONP_CALLBACK_MAX + 1]; /* jsonpTransport, [A-Za-z0-9] only */
    char *post_body; /* X-Atmosphere-Post-Body, decoded, malloc'd; NULL if absent */
    size_t post_body_len;
} sat_atmo_params;

void sat__atmo_params_init(sat_atmo_params *p);
void sat__atmo_params_clear(sat_atmo_params *p); /* frees post_body */

/* Applies one parameter, from a header or from the query (percent-decoding
 * the value, with '+' as a space, when `from_query`). Names are matched
 * case-insensitively. Names the protocol does not define return 0 and change
 * nothing. A later call for the same name overwrites the earlier value, so
 * apply query parameters first and headers last to let a header win.
 * Returns SAT_EINVAL with a message in `err` (e.g. "invalid
 * X-Atmosphere-tracking-id: expected 1 to 64 bytes") for a value that cannot
 * be accepted, leaving the field unchanged, or SAT_ENOMEM. */
int sat__atmo_param(sat_atmo_params *p, const char *name, size_t name_len, const char *value,
                    size_t value_len, bool from_query, char *err, size_t err_size);

/* Parses a transport name case-insensitively ("long-polling" and
 * "long_polling" alike). Returns SAT_TRANSPORT_UNDEFINED when unknown. */
sat_transport sat__transport_parse(const char *name, size_t len);

/* Converts X-Atmosphere-Framework to the integer the protocol compares
 * ("4.0.1" -> 401, "2.3.8-javascript" -> 238, "5.0.7" -> 507); 0 when it is
 * malformed. */
int sat__atmo_version(const char *framework);

/* Counts the UTF-16 code units of a UTF-8 string: 1 per code point below
 * U+10000, 2 above. Sets *valid to false on malformed UTF-8 (overlongs,
 * surrogates, truncated sequences, code points above U+10FFFF), and then
 * counts each invalid byte as one unit. */
size_t sat__utf16_length(const char *s, size_t len, bool *valid);

/* True when s is well-formed UTF-8 (the rules above). */
bool sat__utf8_valid(const char *s, size_t len);

/* Builds the framed bytes of a payload for one wire format. Empty, binary
 * and invalid UTF-8 payloads are never length-prefixed, and the WebSocket
 * formats send binary and invalid UTF-8 payloads as binary frames (opcode
 * 2). Returns a new buffer (refs = 1) or NULL when out of memory. */
sat_buf *sat__frame(sat_wire wire, const char *payload, size_t len, bool binary);

/* Builds a JSONP write: `cb({"message" : "<escaped>"});` with the payload
 * length-prefixed first when `track` is set. */
sat_buf *sat__frame_jsonp(const char *callback, const char *payload, size_t len, bool track);

/* Writes an unmasked server-to-client WebSocket frame header for a final
 * frame with `opcode` and a payload of `len` bytes. Returns its size (2, 4
 * or 10). */
size_t sat__ws_header(uint8_t out[10], uint8_t opcode, uint64_t len);

/* Writes the handshake body "<uuid>|<heartbeat ms>|<padding>|" (with the
 * given delimiter) into out. Returns its length, or -1 if it does not fit. */
int sat__handshake_body(char *out, size_t size, const char *uuid, long heartbeat_ms,
                        const char *padding, char delimiter);

/* Writes a random (version 4) UUID in its 36-character text form plus NUL,
 * lowercase, from getrandom(2) or else /dev/urandom. Returns SAT_EIO (and
 * an empty string) when neither source works. */
int sat__uuid4_checked(char out[37]) __attribute__((warn_unused_result));

/* Like sat__uuid4_checked(), but logs and aborts the process when no random
 * source works, because a guessable tracking id would let one client read
 * another's backlog. */
void sat__uuid4(char out[37]);

/* True when a tracking id is acceptable: 1 to 64 bytes of [A-Za-z0-9._-]. */
bool sat__tracking_id_valid(const char *id, size_t len);

#endif
