// SPDX-License-Identifier: Apache-2.0
// Reconnect with the same tracking id: messages broadcast while a client was
// away arrive once each and in order, for long-polling, SSE and WebSocket,
// and a burst of 100 broadcasts reaches a long-polling client that re-polls
// between responses without loss or duplicates.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const BROADCASTER = '/news';

// Connects a raw subscriber on `transport`, reads its UUID from the
// handshake, leaves it suspended for a moment, then drops the TCP
// connection without a close message. Resolves to the UUID.
async function connectAndDrop(port, transport) {
  const query = { transport, track: true, protocol: true };
  if (transport === 'websocket') {
    const probe = c.wsConnect(port, BROADCASTER, query);
    const [handshake] = await probe.waitMessages(1);
    const hs = c.parseHandshake(handshake, true);
    assert.ok(hs, `no handshake in ${JSON.stringify(handshake)}`);
    await c.sleep(100);
    probe.ws.terminate();
    return hs.uuid;
  }
  if (transport === 'long-polling') {
    const first = await c.rawSubscribe(port, BROADCASTER, query);
    const res = await first.complete();
    first.destroy();
    const hs = c.parseHandshake(res.body.toString('utf8'), true);
    assert.ok(hs, `no handshake in ${JSON.stringify(res.body.toString())}`);
    const poll = await c.rawSubscribe(port, BROADCASTER, { ...query, tracking: hs.uuid });
    await poll.headers();
    await c.sleep(100);
    poll.destroy();
    return hs.uuid;
  }
  const conn = await c.rawSubscribe(port, BROADCASTER, query, { Accept: 'text/event-stream' });
  const res = await conn.bodyIncludes('|X|');
  const text = res.body.toString('utf8');
  const hs = c.parseHandshake(text.replace(/^data:/, ''), true);
  assert.ok(hs, `no handshake in ${JSON.stringify(text)}`);
  await c.sleep(100);
  conn.destroy();
  return hs.uuid;
}

for (const transport of ['long-polling', 'sse', 'websocket']) {
  test(`reconnect ${transport} gets 5 missed messages once`, { timeout: 20000 }, async (t) => {
    const srv = await startServer();
    t.after(() => srv.stop());
    const url = `http://127.0.0.1:${srv.pushPort}${BROADCASTER}`;

    const uuid = await connectAndDrop(srv.pushPort, transport);
    await c.sleep(200);
    const missed = ['m1', 'm2 ✓', 'm3 日本', 'm4 😀', 'm5'];
    for (const m of missed) await c.pushPost(srv.pushPort, BROADCASTER, m);

    const client = c.subscribeV4({ url, transport, track: true, uuid });
    t.after(() => client.close());
    await client.started;
    await client.waitMessages(5);
    // Anything sent twice would arrive within this window.
    await c.sleep(700);
    assert.deepEqual(client.messages, missed);
    assert.equal(client.uuid(), uuid);
  });
}

test('100-message burst to a re-polling long-poll client', { timeout: 30000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const url = `http://127.0.0.1:${srv.pushPort}${BROADCASTER}`;
  const client = c.subscribeV4({ url, transport: 'long-polling', track: true });
  t.after(() => client.close());
  await c.withTimeout(client.opened, 5000, 'onOpen');

  const burst = Array.from({ length: 100 }, (_, i) => `burst-${i}`);
  const statuses = await c.pushPipelined(srv.pushPort, BROADCASTER, burst, { connections: 1, window: 100 });
  assert.deepEqual(statuses, { 200: 100 });

  await client.waitMessages(100, 10000);
  await c.sleep(700);
  assert.equal(client.messages.length, 100, `duplicates or extras: ${client.messages.length} messages`);
  assert.deepEqual(client.messages, burst);
});
