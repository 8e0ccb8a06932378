// SPDX-License-Identifier: Apache-2.0
// Invalid input on the push port: malformed HTTP, oversized headers and
// bodies, WebSocket protocol errors, invalid UTF-8, oversized frames, a
// client that never finishes its headers, and invalid tracking ids. After
// all of them the same server must still serve a normal subscriber.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const LIMITS = {
  'push.max_header_bytes': 8192,
  'push.max_body_bytes': 65536,
  'push.header_timeout_ms': 500,
  'websocket.max_message_bytes': 65536,
};

test('bad input on the push port', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ set: LIMITS });
  t.after(() => srv.stop());
  const port = srv.pushPort;

  await t.test('malformed request line gets 400', async () => {
    const bad = new c.RawConnection(port);
    await bad.connected;
    await bad.write('GARBAGE\r\nHost: 127.0.0.1\r\n\r\n');
    const res = await bad.headers();
    bad.destroy();
    assert.equal(res.status, 400);
  });

  await t.test('header over push.max_header_bytes gets 431', async () => {
    const conn = await c.rawRequest(port, { path: '/big', headers: { 'X-Filler': 'h'.repeat(16384) } });
    const res = await conn.headers();
    conn.destroy();
    assert.equal(res.status, 431);
  });

  await t.test('body over push.max_body_bytes gets 413', async () => {
    const conn = new c.RawConnection(port);
    await conn.connected;
    const body = Buffer.alloc(200 * 1024, 'b');
    // The server may respond and close before it has read the body, so a
    // failed write is expected here.
    await conn.write(c.requestBytes({
      method: 'POST',
      path: '/big' + c.atmosphereQuery({ transport: 'polling', protocol: false }),
      headers: { 'Content-Type': 'text/plain' },
      body,
    }));
    const res = await conn.headers();
    conn.destroy();
    assert.equal(res.status, 413);
  });

  await t.test('WebSocket protocol error closes with 1002', async () => {
    const raw = await c.rawWebSocket(port, '/ws', { transport: 'websocket', protocol: false });
    // Reserved opcode 0x3.
    await raw.conn.write(c.wsFrame({ opcode: 0x3, payload: 'x' }));
    assert.equal(await raw.closeCode(), 1002);
    raw.conn.destroy();

    const unmasked = await c.rawWebSocket(port, '/ws', { transport: 'websocket', protocol: false });
    await unmasked.conn.write(c.wsFrame({ opcode: 0x1, payload: 'hi', mask: false }));
    assert.equal(await unmasked.closeCode(), 1002);
    unmasked.conn.destroy();
  });

  await t.test('invalid UTF-8 text frame closes with 1007', async () => {
    const raw = await c.rawWebSocket(port, '/ws', { transport: 'websocket', protocol: false });
    await raw.conn.write(c.wsFrame({ opcode: 0x1, payload: Buffer.from([0x61, 0xc3, 0x28, 0x62]) }));
    assert.equal(await raw.closeCode(), 1007);
    raw.conn.destroy();
  });

  await t.test('frame over websocket.max_message_bytes closes with 1009', async () => {
    const raw = await c.rawWebSocket(port, '/ws', { transport: 'websocket', protocol: false });
    await raw.conn.write(c.wsFrame({ opcode: 0x1, payload: 'w'.repeat(100 * 1024) }));
    assert.equal(await raw.closeCode(), 1009);
    raw.conn.destroy();
  });

  await t.test('slow header client closed after push.header_timeout_ms', async () => {
    const conn = new c.RawConnection(port);
    await conn.connected;
    const start = Date.now();
    await conn.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await conn.waitClosed(3000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 400, `closed after ${elapsed} ms, before the 500 ms timeout`);
    assert.ok(elapsed < 2000, `closed after ${elapsed} ms`);
    const res = conn.response();
    if (res) assert.equal(res.status, 408);
  });

  await t.test('tracking id with invalid characters gets 400', async () => {
    for (const id of ['%3Cscript%3E', 'a%20b', '%00', 'x%22y', '%E2%9C%93']) {
      const res = await c.httpExchange(port, {
        path: '/track' + c.atmosphereQuery({ transport: 'long-polling', tracking: id, protocol: true }),
      });
      assert.equal(res.status, 400, `tracking id ${id}`);
    }
  });

  await t.test('server still serves a normal client', async () => {
    assert.ok(srv.alive(), `satellited exited\n${srv.logTail()}`);
    const probe = c.wsConnect(port, '/after', { transport: 'websocket', track: true });
    const [handshake] = await probe.waitMessages(1);
    assert.match(handshake, /^41\|[^|]{36}\|0\|X\|$/);
    await c.pushPost(port, '/after', 'still fine');
    await probe.waitMessages(2);
    assert.equal(probe.messages[1], '10|still fine');
    probe.ws.terminate();
  });
});
