// SPDX-License-Identifier: Apache-2.0
// Client helpers for the integration tests: raw HTTP and WebSocket probes
// that expose the exact bytes on the wire, push and admin requests, and the
// real atmosphere.js 4.0.1 and 5.0.45 clients wrapped in promises.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');

const DEFAULT_WAIT_MS = 5000;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `predicate` every 10 ms until it returns a truthy value; rejects with
// `what` after timeoutMs.
async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

// Builds the Atmosphere query string the way atmosphere.js 4 orders it.
// opts: {tracking ('0'), transport, track (bool), protocol (bool),
// framework ('4.0.1'), extra: {name: value}}.
function atmosphereQuery(opts = {}) {
  const params = [
    ['X-Atmosphere-tracking-id', opts.tracking ?? '0'],
    ['X-Atmosphere-Framework', opts.framework ?? '4.0.1'],
    ['X-Atmosphere-Transport', opts.transport ?? 'long-polling'],
  ];
  if (opts.track) params.push(['X-Atmosphere-TrackMessageSize', 'true']);
  if (opts.protocol ?? true) params.push(['X-atmo-protocol', 'true']);
  for (const [name, value] of Object.entries(opts.extra ?? {})) params.push([name, value]);
  return '?' + params.map(([n, v]) => `${n}=${v}`).join('&');
}

// Message-length framing as the server must write it: the length counts
// UTF-16 code units, which is what a JavaScript string length returns.
function frame(text) {
  return `${text.length}|${text}`;
}

// ---------------------------------------------------------------------------
// Raw HTTP over net.Socket

// Splits a buffer that starts with an HTTP/1.1 response. Returns null until
// the header block is complete. `body` is de-chunked; `chunks` lists the
// chunk payloads when the response is chunked; `complete` is true when the
// body is fully received (Content-Length reached, last chunk seen, or the
// connection closed for a close-delimited body).
function parseHttpResponse(buf, closed = false) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const statusMatch = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!statusMatch) throw new Error(`malformed status line: ${JSON.stringify(lines[0])}`);
  const headers = {};
  const headerList = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headerList.push([name, value]);
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const rest = buf.subarray(end + 4);
  const result = {
    status: Number(statusMatch[1]),
    reason: statusMatch[2] ?? '',
    headers,
    headerList,
    headerBytes: end + 4,
    bodyRaw: rest,
    body: Buffer.alloc(0),
    chunks: null,
    complete: false,
    trailing: Buffer.alloc(0),
  };
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    dechunk(result, rest);
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    result.body = rest.subarray(0, Math.min(length, rest.length));
    result.complete = rest.length >= length;
    result.trailing = rest.subarray(length);
  } else {
    result.body = rest;
    result.complete = closed || result.status === 101 || result.status === 204 || result.status === 304;
  }
  return result;
}

function dechunk(result, rest) {
  const parts = [];
  let pos = 0;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n', pos);
    if (lineEnd < 0) break;
    const size = parseInt(rest.subarray(pos, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error(`malformed chunk size at body offset ${pos}`);
    if (size === 0) {
      const trailerEnd = rest.indexOf('\r\n', lineEnd + 2);
      if (trailerEnd >= 0) {
        result.complete = true;
        result.trailing = rest.subarray(trailerEnd + 2);
      }
      break;
    }
    if (rest.length < lineEnd + 2 + size + 2) break;
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
  result.chunks = parts;
  result.body = Buffer.concat(parts);
}

// A TCP connection to the push port that records every received byte.
class RawConnection {
  constructor(port, host = '127.0.0.1') {
    this.data = Buffer.alloc(0);
    this.closed = false;
    this.error = null;
    this.socket = net.connect({ port, host });
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.lastDataAt = Date.now();
    });
    this.socket.on('error', (err) => {
      this.error = err;
    });
    this.closedPromise = new Promise((resolve) => {
      this.socket.on('close', () => {
        this.closed = true;
        this.closedAt = Date.now();
        resolve();
      });
    });
  }

  write(bytes) {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve(false);
      this.socket.write(bytes, (err) => resolve(!err));
    });
  }

  // The response parsed so far, or null before the header block is complete.
  response() {
    return parseHttpResponse(this.data, this.closed);
  }

  text() {
    return this.data.toString('utf8');
  }

  async waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS, what = 'data') {
    return waitUntil(() => predicate(this), timeoutMs, `${what}; received ${JSON.stringify(this.data.toString('latin1').slice(-600))}`);
  }

  // Waits for the response headers and returns the parsed response.
  async headers(timeoutMs = DEFAULT_WAIT_MS) {
    return this.waitFor((c) => c.response(), timeoutMs, 'response headers');
  }

  // Waits until the de-chunked body contains `text` (UTF-8).
  async bodyIncludes(text, timeoutMs = DEFAULT_WAIT_MS) {
    return this.waitFor((c) => {
      const r = c.response();
      return r && r.body.toString('utf8').includes(text) ? r : null;
    }, timeoutMs, `body containing ${JSON.stringify(text)}`);
  }

  // Waits for a complete response (body ended or connection closed).
  async complete(timeoutMs = DEFAULT_WAIT_MS) {
    return this.waitFor((c) => {
      const r = c.response();
      return r && r.complete ? r : null;
    }, timeoutMs, 'a complete response');
  }

  async waitClosed(timeoutMs = DEFAULT_WAIT_MS) {
    return this.waitFor((c) => c.closed, timeoutMs, 'the connection to close');
  }

  destroy() {
    this.socket.destroy();
  }

  end() {
    this.socket.end();
  }
}

function requestBytes({ method = 'GET', path = '/', headers = {}, body = null, http10 = false }) {
  const lines = [`${method} ${path} HTTP/${http10 ? '1.0' : '1.1'}`, 'Host: 127.0.0.1'];
  const bodyBuf = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const names = Object.keys(headers).map((n) => n.toLowerCase());
  if (bodyBuf && !names.includes('content-length') && !names.includes('transfer-encoding')) {
    lines.push(`Content-Length: ${bodyBuf.length}`);
  }
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return bodyBuf ? Buffer.concat([head, bodyBuf]) : head;
}

// Opens a connection and sends one request. Returns the RawConnection.
async function rawRequest(port, req) {
  const conn = new RawConnection(port);
  await conn.connected;
  await conn.write(requestBytes(req));
  return conn;
}

// Sends one request and waits for the complete response. The connection is
// closed afterwards.
async function httpExchange(port, req, timeoutMs = DEFAULT_WAIT_MS) {
  const conn = await rawRequest(port, req);
  try {
    return await conn.complete(timeoutMs);
  } finally {
    conn.destroy();
  }
}

// Subscribes with a raw GET using the Atmosphere query. Returns the
// connection; `path` is the broadcaster path, e.g. '/chat'.
async function rawSubscribe(port, path, query, headers = {}) {
  return rawRequest(port, { path: path + atmosphereQuery(query), headers });
}

// Reads the handshake `uuid|interval|padding|` (framed when `track`) from
// the start of a body and returns {uuid, interval, padding, length}.
function parseHandshake(text, track) {
  const re = track ? /^(\d+)\|([^|]+)\|(\d+)\|([^|]*)\|/ : /^()([^|]+)\|(\d+)\|([^|]*)\|/;
  const m = re.exec(text);
  if (!m) return null;
  return { uuid: m[2], interval: Number(m[3]), padding: m[4], length: m[0].length, framed: m[1] };
}

// ---------------------------------------------------------------------------
// Publishing and the admin API

// Broadcasts by POSTing to the push path (the default handler broadcasts
// every POST body to the subscribers of that path). Resolves to the status.
async function pushPost(port, path, message, opts = {}) {
  const query = atmosphereQuery({
    tracking: opts.tracking ?? '0',
    transport: 'polling',
    track: opts.track ?? false,
    protocol: false,
  });
  const res = await httpExchange(port, {
    method: 'POST',
    path: path + query,
    headers: { 'Content-Type': 'text/plain; charset=UTF-8', Connection: 'close' },
    body: message,
  });
  if (opts.expectOk !== false && res.status !== 200) {
    throw new Error(`push POST to ${path} returned ${res.status}: ${res.body.toString('utf8')}`);
  }
  return res.status;
}

// Sends many POST bodies to one path over `connections` keep-alive
// connections, pipelining `window` requests per connection (written in one
// go, then all their responses read). Resolves to a map of status code to
// count. Within one connection the requests leave in order.
async function pushPipelined(port, path, messages, { connections = 1, window = 64, timeoutMs = 60000 } = {}) {
  const statuses = {};
  const perConn = Array.from({ length: connections }, () => []);
  messages.forEach((m, i) => perConn[i % connections].push(m));
  await Promise.all(perConn.map((list) => pipelineOne(port, path, list, window, statuses, timeoutMs)));
  return statuses;
}

async function pipelineOne(port, path, list, window, statuses, timeoutMs) {
  if (list.length === 0) return;
  const conn = new RawConnection(port);
  await conn.connected;
  const query = atmosphereQuery({ transport: 'polling', protocol: false });
  let offset = 0;
  try {
    for (let sent = 0; sent < list.length; sent += window) {
      const batch = list.slice(sent, sent + window);
      const bytes = batch.map((m) => requestBytes({
        method: 'POST', path: path + query, headers: { 'Content-Type': 'text/plain' }, body: m,
      }));
      await conn.write(Buffer.concat(bytes));
      let received = 0;
      await waitUntil(() => {
        for (;;) {
          const res = parseHttpResponse(conn.data.subarray(offset), conn.closed);
          if (!res || !res.complete) break;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          offset = conn.data.length - res.trailing.length;
          received++;
          if (res.headers.connection === 'close') throw new Error(`server closed the pipelined connection after status ${res.status}`);
        }
        if (conn.closed && received < batch.length) throw new Error(`connection closed after ${received} of ${batch.length} pipelined responses`);
        return received >= batch.length;
      }, timeoutMs, `${batch.length} pipelined responses`);
      conn.data = conn.data.subarray(offset);
      offset = 0;
    }
  } finally {
    conn.destroy();
  }
}

// One request to the admin API with the bearer token. Resolves to
// {status, headers, text, json}.
function adminRequest(server, method, route, body) {
  if (!server.admin) {
    return Promise.reject(new Error('the admin API is not listening (ready file has "admin": null)'));
  }
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { Authorization: `Bearer ${server.token}` };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const req = http.request({ host: '127.0.0.1', port: server.adminPort, method, path: route, headers }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // Not JSON; callers check `status` and `text`.
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.setTimeout(DEFAULT_WAIT_MS, () => req.destroy(new Error(`admin ${method} ${route} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// Broadcasts through POST /api/v1/broadcasters/{id}/broadcast.
async function restBroadcast(server, broadcasterId, message) {
  const route = `/api/v1/broadcasters/${encodeURIComponent(broadcasterId)}/broadcast`;
  const res = await adminRequest(server, 'POST', route, { message });
  if (res.status < 200 || res.status > 299) {
    throw new Error(`POST ${route} returned ${res.status}: ${res.text}`);
  }
  return res;
}

async function adminGet(server, route) {
  const res = await adminRequest(server, 'GET', route);
  if (res.status !== 200) throw new Error(`GET ${route} returned ${res.status}: ${res.text}`);
  if (res.json === null) throw new Error(`GET ${route} returned no JSON: ${res.text.slice(0, 200)}`);
  return res.json;
}

// Finds a numeric field anywhere in a JSON document whose key matches
// `pattern` (a RegExp tested against the key). Objects registry reads may nest
// attributes under "attributes"; this accepts both shapes.
function findNumber(doc, pattern) {
  if (doc === null || typeof doc !== 'object') return undefined;
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value === 'number' && pattern.test(key)) return value;
  }
  for (const value of Object.values(doc)) {
    const found = findNumber(value, pattern);
    if (found !== undefined) return found;
  }
  return undefined;
}

// Reads the statistics singleton and returns {raw, connections,
// disconnects, clean, dirty, active}.
async function statistics(server) {
  const raw = await adminGet(server, '/api/v1/statistics');
  return {
    raw,
    clean: findNumber(raw, /^clean[-_]?disconnects$/i),
    dirty: findNumber(raw, /^dirty[-_]?disconnects$/i),
    disconnects: findNumber(raw, /^(total[-_]?)?disconnects([-_]total)?$/i),
    active: findNumber(raw, /^(connections|connections[-_]current|active[-_]connections|current[-_]connections)$/i),
  };
}

// Total disconnects: the total counter, or clean + dirty.
function disconnectTotal(stats) {
  if (stats.disconnects !== undefined) return stats.disconnects;
  if (stats.clean !== undefined && stats.dirty !== undefined) return stats.clean + stats.dirty;
  throw new Error(`no disconnect counters in /api/v1/statistics: ${JSON.stringify(stats.raw)}`);
}

// Resource count of one broadcaster from GET /api/v1/broadcasters/{id}.
async function broadcasterResourceCount(server, broadcasterId) {
  const doc = await adminGet(server, `/api/v1/broadcasters/${encodeURIComponent(broadcasterId)}`);
  const count = findNumber(doc, /^resource[-_]count$|^resources$/i);
  if (count !== undefined) return count;
  const ids = findList(doc, /^resource[-_]ids$|^resources$/i);
  if (ids) return ids.length;
  throw new Error(`no resource count in broadcaster ${broadcasterId}: ${JSON.stringify(doc)}`);
}

function findList(doc, pattern) {
  if (doc === null || typeof doc !== 'object') return undefined;
  for (const [key, value] of Object.entries(doc)) {
    if (Array.isArray(value) && pattern.test(key)) return value;
  }
  for (const value of Object.values(doc)) {
    const found = findList(value, pattern);
    if (found) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// WebSocket probes

// Opens a WebSocket with the `ws` package. Returns {ws, messages (strings),
// opened, closed (resolves to {code, reason}), waitMessages(n)}.
function wsConnect(port, path, query) {
  const WebSocket = require('ws');
  const url = `ws://127.0.0.1:${port}${path}${query === undefined ? '' : atmosphereQuery(query)}`;
  const ws = new WebSocket(url);
  const probe = { ws, messages: [], closeInfo: null, upgradeHeaders: null };
  ws.on('upgrade', (res) => {
    probe.upgradeHeaders = res.headers;
  });
  ws.on('message', (data, isBinary) => {
    probe.messages.push(isBinary ? data : data.toString('utf8'));
  });
  ws.on('error', (err) => {
    probe.error = err;
  });
  probe.opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  probe.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      probe.closeInfo = { code, reason: reason.toString('utf8') };
      resolve(probe.closeInfo);
    });
  });
  probe.waitMessages = (n, timeoutMs = DEFAULT_WAIT_MS) =>
    waitUntil(() => probe.messages.length >= n && probe.messages, timeoutMs,
      `${n} WebSocket messages; got ${JSON.stringify(probe.messages).slice(0, 600)}`);
  return probe;
}

// Encodes one client-to-server frame. opts: {fin (true), rsv (0..7),
// opcode, payload (Buffer|string), mask (true), length (override the
// encoded length field)}.
function wsFrame({ fin = true, rsv = 0, opcode = 1, payload = '', mask = true } = {}) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const header = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f))];
  const maskBit = mask ? 0x80 : 0;
  if (body.length < 126) {
    header.push(maskBit | body.length);
  } else if (body.length < 65536) {
    header.push(maskBit | 126, body.length >> 8, body.length & 0xff);
  } else {
    header.push(maskBit | 127, 0, 0, 0, 0);
    header.push((body.length >>> 24) & 0xff, (body.length >>> 16) & 0xff, (body.length >>> 8) & 0xff, body.length & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(header), body]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(body.length);
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(header), key, masked]);
}

// Decodes the server-to-client frames in `buf` (server frames are not
// masked). Returns the complete frames: {fin, rsv, opcode, payload}.
function parseWsFrames(buf) {
  const frames = [];
  let pos = 0;
  while (pos + 2 <= buf.length) {
    const b0 = buf[pos];
    const b1 = buf[pos + 1];
    let length = b1 & 0x7f;
    let offset = pos + 2;
    if (length === 126) {
      if (offset + 2 > buf.length) break;
      length = buf.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > buf.length) break;
      length = Number(buf.readBigUInt64BE(offset));
      offset += 8;
    }
    if (b1 & 0x80) offset += 4;
    if (offset + length > buf.length) break;
    frames.push({ fin: !!(b0 & 0x80), rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, payload: buf.subarray(offset, offset + length) });
    pos = offset + length;
  }
  return frames;
}

// Performs the WebSocket upgrade on a raw connection and returns
// {conn, frames()} where frames() decodes what followed the 101 response.
async function rawWebSocket(port, path, query) {
  const key = crypto.randomBytes(16).toString('base64');
  const conn = await rawRequest(port, {
    path: path + (query === undefined ? '' : atmosphereQuery(query)),
    headers: {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
    },
  });
  const res = await conn.headers();
  if (res.status !== 101) throw new Error(`WebSocket upgrade returned ${res.status}`);
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  if (res.headers['sec-websocket-accept'] !== accept) {
    throw new Error(`wrong Sec-WebSocket-Accept: ${res.headers['sec-websocket-accept']}`);
  }
  const frames = () => parseWsFrames(conn.data.subarray(res.headerBytes));
  const closeFrame = () => frames().find((f) => f.opcode === 8);
  return {
    conn,
    frames,
    // Waits for the server's close frame and returns its status code
    // (1005 when the frame has no code).
    async closeCode(timeoutMs = DEFAULT_WAIT_MS) {
      const f = await waitUntil(closeFrame, timeoutMs, `a close frame; frames ${JSON.stringify(frames().map((x) => [x.opcode, x.payload.toString('latin1').slice(0, 40)]))}`);
      return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
    },
    texts: () => frames().filter((f) => f.opcode === 1).map((f) => f.payload.toString('utf8')),
  };
}

// ---------------------------------------------------------------------------
// atmosphere.js 4.0.1 (legacy client, through its Node shim)

let v4Module = null;
let v4Queue = Promise.resolve();

function loadV4() {
  if (!v4Module) v4Module = require('atmosphere-v4');
  return v4Module;
}

// Subscribes with atmosphere.js 4.0.1. opts: {url, transport, track, uuid,
// extra request fields}. Returns a handle with `messages` (strings passed to
// onMessage), `events` (callback names in order), `opened` (resolves at
// onOpen or onReopen), `uuid()`, `push(msg)`, `close()`, `waitMessages(n)`.
//
// The client keeps the last handshake UUID in one module-wide variable and
// reads it while a new subscription starts, so subscriptions in one process
// are serialized: the next starts only after the previous one opened (or 5 s).
function subscribeV4(opts) {
  const atmosphere = loadV4();
  const handle = { messages: [], events: [], statuses: [], rq: null };
  let openResolve;
  let closeResolve;
  handle.opened = new Promise((resolve) => (openResolve = resolve));
  handle.closedEvent = new Promise((resolve) => (closeResolve = resolve));
  const request = {
    url: opts.url,
    transport: opts.transport,
    fallbackTransport: opts.fallbackTransport ?? opts.transport,
    trackMessageLength: !!opts.track,
    enableProtocol: opts.enableProtocol ?? true,
    reconnectInterval: 0,
    logLevel: 'error',
    contentType: 'text/plain',
    onOpen(res) {
      handle.events.push('open');
      handle.openResponse = res;
      openResolve(res);
    },
    onReopen(res) {
      handle.events.push('reopen');
      openResolve(res);
    },
    onMessage(res) {
      handle.events.push('message');
      if (res.status !== 200) handle.statuses.push(res.status);
      handle.messages.push(res.responseBody);
    },
    onClose(res) {
      handle.events.push('close');
      closeResolve(res);
    },
    onError(res) {
      handle.events.push('error');
      handle.lastError = res;
    },
    onTransportFailure(reason) {
      handle.events.push(`transportFailure:${reason}`);
    },
    onReconnect() {
      handle.events.push('reconnect');
    },
    ...opts.request,
  };
  if (opts.uuid !== undefined) request.uuid = opts.uuid;
  handle.uuid = () => (handle.rq ? handle.rq.getUUID() : 0);
  handle.push = (message) => handle.rq.push(message);
  handle.close = () => {
    if (handle.rq) handle.rq.close();
  };
  handle.waitMessages = (n, timeoutMs = DEFAULT_WAIT_MS) =>
    waitUntil(() => handle.messages.length >= n && handle.messages, timeoutMs,
      `${n} onMessage calls; got ${JSON.stringify(handle.messages).slice(0, 600)}; events ${handle.events.join(',')}`);
  const started = v4Queue.then(() => {
    handle.rq = atmosphere.subscribe(request);
    handle.startedAt = Date.now();
  });
  v4Queue = started.then(() => Promise.race([handle.opened, sleep(5000)]));
  handle.started = started;
  return handle;
}

// ---------------------------------------------------------------------------
// atmosphere.js 5.0.45 (TypeScript client) with ws and eventsource polyfills

let v5Module = null;

function loadV5() {
  if (!v5Module) {
    if (typeof globalThis.WebSocket === 'undefined') globalThis.WebSocket = require('ws');
    if (typeof globalThis.EventSource === 'undefined') globalThis.EventSource = require('eventsource').EventSource;
    v5Module = require('atmosphere-v5');
  }
  return v5Module;
}

// Subscribes with atmosphere.js 5.0.45. Resolves to a handle with
// `messages`, `events`, `subscription`, `opened`, `push(msg)`, `close()`,
// `waitMessages(n)`.
async function subscribeV5(opts) {
  const { Atmosphere } = loadV5();
  const client = new Atmosphere({ logLevel: 'silent' });
  const handle = { messages: [], events: [], client };
  let openResolve;
  handle.opened = new Promise((resolve) => (openResolve = resolve));
  handle.subscription = await client.subscribe({
    url: opts.url,
    transport: opts.transport,
    trackMessageLength: !!opts.track,
    enableProtocol: opts.enableProtocol ?? true,
    reconnect: opts.reconnect ?? false,
    contentType: 'text/plain',
    ...opts.request,
  }, {
    open(res) {
      handle.events.push('open');
      openResolve(res);
    },
    reopen(res) {
      handle.events.push('reopen');
      openResolve(res);
    },
    message(res) {
      handle.events.push('message');
      handle.messages.push(res.responseBody);
    },
    close() {
      handle.events.push('close');
    },
    error(err) {
      handle.events.push(`error:${err && err.message}`);
    },
  });
  handle.push = (message) => handle.subscription.push(message);
  handle.close = () => handle.subscription.close();
  handle.waitMessages = (n, timeoutMs = DEFAULT_WAIT_MS) =>
    waitUntil(() => handle.messages.length >= n && handle.messages, timeoutMs,
      `${n} message events; got ${JSON.stringify(handle.messages).slice(0, 600)}; events ${handle.events.join(',')}`);
  return handle;
}

module.exports = {
  sleep,
  waitUntil,
  atmosphereQuery,
  frame,
  parseHttpResponse,
  RawConnection,
  requestBytes,
  rawRequest,
  httpExchange,
  rawSubscribe,
  parseHandshake,
  pushPost,
  pushPipelined,
  adminRequest,
  adminGet,
  restBroadcast,
  statistics,
  disconnectTotal,
  broadcasterResourceCount,
  findNumber,
  wsConnect,
  wsFrame,
  parseWsFrames,
  rawWebSocket,
  subscribeV4,
  subscribeV5,
};

// Rejects when `promise` does not settle within timeoutMs.
function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Waits until a client handle's `messages` contains `message`.
function waitForMessage(handle, message, timeoutMs = DEFAULT_WAIT_MS) {
  return waitUntil(() => handle.messages.includes(message), timeoutMs,
    `message ${JSON.stringify(message)}; got ${JSON.stringify(handle.messages).slice(0, 600)}; events ${handle.events.join(',')}`);
}

module.exports.withTimeout = withTimeout;
module.exports.waitForMessage = waitForMessage;

// ---------------------------------------------------------------------------
// Admin API probes for the REST tests

// One request to the admin port with full control over the bytes: `body`
// is sent as given (string or Buffer), `token` undefined sends the server's
// token, null sends no Authorization header, any other string is sent as
// the bearer token. Resolves to {status, headers, text, json}.
function adminRaw(server, method, route, { body = null, token, headers = {}, timeoutMs = DEFAULT_WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const all = { ...headers };
    const bearer = token === undefined ? server.token : token;
    if (bearer !== null) all.Authorization = `Bearer ${bearer}`;
    const payload = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (payload) all['Content-Length'] = payload.length;
    const req = http.request({ host: '127.0.0.1', port: server.adminPort, method, path: route, headers: all }, (res) => {
      const parts = [];
      res.on('data', (chunk) => parts.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // Not JSON; callers check `text`.
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`admin ${method} ${route} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// Opens a raw SSE subscription and records the arrival time of every
// heartbeat event (`data:<padding>`). Returns {conn, beats (ms timestamps),
// beatsSince(t)}.
async function heartbeatProbe(port, path, padding = 'X') {
  const conn = await rawSubscribe(port, path, { transport: 'sse' });
  const marker = `data:${padding}\r\n\r\n`;
  const probe = { conn, beats: [] };
  const count = () => conn.data.toString('latin1').split(marker).length - 1;
  conn.socket.on('data', () => {
    for (let n = count(); probe.beats.length < n;) probe.beats.push(Date.now());
  });
  probe.beatsSince = (t) => probe.beats.filter((b) => b >= t);
  return probe;
}

// Reads one registry event stream on the admin port. Returns {conn,
// events()} where events() parses the SSE blocks received so far into
// {id, event, data (parsed JSON)}.
async function adminEventStream(server, { lastEventId, query = '', token } = {}) {
  const headers = { Accept: 'text/event-stream' };
  const bearer = token === undefined ? server.token : token;
  if (bearer !== null) headers.Authorization = `Bearer ${bearer}`;
  if (lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
  const conn = await rawRequest(server.adminPort, { path: `/api/v1/events${query}`, headers });
  const events = () => {
    const res = conn.response();
    if (!res) return [];
    const blocks = res.body.toString('utf8').split('\n\n');
    blocks.pop();
    return blocks.map((block) => {
      const ev = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        ev[line.slice(0, colon)] = line.slice(colon + 1).trim();
      }
      if (ev.data !== undefined) ev.data = JSON.parse(ev.data);
      return ev;
    }).filter((ev) => ev.id !== undefined || ev.event !== undefined);
  };
  return { conn, events };
}

module.exports.adminRaw = adminRaw;
module.exports.heartbeatProbe = heartbeatProbe;
module.exports.adminEventStream = adminEventStream;

// ---------------------------------------------------------------------------
// SNMP: net-snmp command-line tools and helpers for the snmp_*.test.js files

const SNMP_REPO = require('node:path').resolve(__dirname, '../../..');
const SNMP_ROOT = '.1.3.6.1.3.9999';

// Environment for the net-snmp tools: no /etc/snmp, no /var/lib/snmp and
// no host MIBs, so a test loads only SATELLITE-MIB and the SMIv2 base
// modules of the npm package net-snmp.
function snmpToolEnv(dir) {
  return { ...process.env, MIBS: '', MIBDIRS: '', SNMPCONFPATH: dir, SNMP_PERSISTENT_DIR: dir, HOME: dir };
}

// -M and -m arguments that load SATELLITE-MIB.
function snmpMibArgs() {
  const base = require('node:path').join(SNMP_REPO, 'node_modules/net-snmp/lib/mibs');
  return ['-M', `${base}:${SNMP_REPO}/snmp-mib`, '-m', 'SATELLITE-MIB'];
}

// Runs one net-snmp tool and resolves to {code, stdout, stderr, ms}; never
// rejects on a non-zero exit, so callers assert on the outputs.
function snmpTool(tool, args, { dir = require('node:os').tmpdir(), timeoutMs = 60000 } = {}) {
  const { execFile } = require('node:child_process');
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(tool, args, { env: snmpToolEnv(dir), timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr, ms: Date.now() - started });
      });
  });
}

// Parses `snmpwalk -On` output into [{oid, type, value}]; a value that
// wraps onto further lines (long hex strings) is joined with spaces.
function parseSnmpWalk(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^(\.[0-9.]+) = (?:([A-Za-z0-9-]+): )?(.*)$/.exec(line);
    if (m && /^No (more variables|Such)/.test(m[3])) continue;
    if (m) rows.push({ oid: m[1], type: m[2] ?? '', value: m[3] });
    else if (line.trim() !== '' && rows.length > 0) rows[rows.length - 1].value += ' ' + line.trim();
  }
  return rows;
}

// Compares two dotted OIDs numerically: negative, 0 or positive.
function oidCompare(a, b) {
  const x = a.replace(/^\./, '').split('.').map(Number);
  const y = b.replace(/^\./, '').split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

// Opens `count` raw SSE subscriptions on `path`, `batch` at a time, and
// waits until each has its response headers. Returns the RawConnections.
async function openSseConnections(port, path, count, batch = 100) {
  const conns = [];
  for (let i = 0; i < count; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      group.push(rawSubscribe(port, path, { transport: 'sse', protocol: false }, { Accept: 'text/event-stream' }));
    }
    const opened = await Promise.all(group);
    await Promise.all(opened.map((c) => c.headers(20000)));
    conns.push(...opened);
  }
  return conns;
}

// Lists every object of a registry type through REST paging; returns the
// items ({id, index, attributes}).
async function restListAll(server, plural, limit = 500) {
  const items = [];
  let cursor = null;
  for (;;) {
    const route = `/api/v1/${plural}?limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const page = await adminGet(server, route);
    items.push(...page.items);
    if (!page.next_cursor || page.items.length === 0) return items;
    cursor = page.next_cursor;
  }
}

module.exports.SNMP_ROOT = SNMP_ROOT;
module.exports.snmpToolEnv = snmpToolEnv;
module.exports.snmpMibArgs = snmpMibArgs;
module.exports.snmpTool = snmpTool;
module.exports.parseSnmpWalk = parseSnmpWalk;
module.exports.oidCompare = oidCompare;
module.exports.openSseConnections = openSseConnections;
module.exports.restListAll = restListAll;

// A UDP port on 127.0.0.1 that was free a moment ago, for tools such as
// snmptrapd that need the port on their command line.
function freeUdpPort() {
  const dgram = require('node:dgram');
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

module.exports.freeUdpPort = freeUdpPort;

// Opens a raw long-poll that the server keeps suspended. The handshake
// request (tracking id 0) ends at once with the UUID. A second GET with that
// UUID stays open until a message, a heartbeat or a resume ends it.
// Returns {uuid, poll (the RawConnection of the suspended request)}.
async function rawLongPoll(port, path, timeoutMs = DEFAULT_WAIT_MS) {
  const first = await rawSubscribe(port, path, { transport: 'long-polling' });
  let res;
  try {
    res = await first.complete(timeoutMs);
  } finally {
    first.destroy();
  }
  const hs = parseHandshake(res.body.toString('utf8').trimStart(), false);
  if (!hs) throw new Error(`no long-poll handshake in ${JSON.stringify(res.body.toString('utf8').slice(0, 200))}`);
  const poll = await rawSubscribe(port, path, { transport: 'long-polling', tracking: hs.uuid });
  await poll.headers(timeoutMs);
  return { uuid: hs.uuid, poll };
}

module.exports.rawLongPoll = rawLongPoll;
