// SPDX-License-Identifier: Apache-2.0
// atmosphere.js 4.0.1 against satellited on websocket, long-polling,
// streaming and sse, each with message-length framing on and off: open and
// UUID, broadcasts from a second client and from the admin API, pushes,
// heartbeats (filtered by the client, visible on the wire) and one clean
// disconnect on close.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const TRANSPORTS = ['websocket', 'long-polling', 'streaming', 'sse'];
const BROADCASTER = '/chat';

// Subscribes a raw probe of the same transport and resolves to a function
// that returns everything it received after the handshake, as text.
async function heartbeatProbe(srv, transport, track) {
  const query = { transport, track, protocol: true };
  if (transport === 'websocket') {
    const probe = c.wsConnect(srv.pushPort, BROADCASTER, query);
    await probe.waitMessages(1);
    return { wire: () => probe.messages.slice(1), close: () => probe.ws.terminate() };
  }
  if (transport === 'long-polling') {
    const first = await c.rawSubscribe(srv.pushPort, BROADCASTER, query);
    const res = await first.complete();
    first.destroy();
    const hs = c.parseHandshake(res.body.toString('utf8'), track);
    assert.ok(hs, `long-poll handshake not parsed from ${JSON.stringify(res.body.toString())}`);
    const poll = await c.rawSubscribe(srv.pushPort, BROADCASTER, { ...query, tracking: hs.uuid });
    return {
      wire: () => {
        const r = poll.response();
        return r ? [r.body.toString('utf8')] : [];
      },
      close: () => poll.destroy(),
    };
  }
  const conn = await c.rawSubscribe(srv.pushPort, BROADCASTER, query,
    transport === 'sse' ? { Accept: 'text/event-stream' } : {});
  const res = await conn.headers();
  const body = () => conn.response().body.toString('utf8');
  await c.waitUntil(() => body().length > 0, 3000, 'the handshake');
  const handshakeText = body();
  return { wire: () => [body().slice(handshakeText.length)], close: () => conn.destroy(), headers: res.headers };
}

for (const transport of TRANSPORTS) {
  for (const track of [false, true]) {
    test(`v4 ${transport} track=${track}`, { timeout: 40000 }, async (t) => {
      const srv = await startServer({ set: { 'engine.heartbeat_s': 1 } });
      t.after(() => srv.stop());
      const url = `http://127.0.0.1:${srv.pushPort}${BROADCASTER}`;
      let a;
      let b;

      await t.test('onOpen fires and getUUID is set', async () => {
        a = c.subscribeV4({ url, transport, track });
        await c.withTimeout(a.opened, 5000, `onOpen of the first client; events ${a.events}`);
        assert.notEqual(String(a.uuid()), '0');
        assert.match(String(a.uuid()), /^[0-9A-Za-z-]{8,}$/);
        b = c.subscribeV4({ url, transport, track });
        await c.withTimeout(b.opened, 5000, `onOpen of the second client; events ${b.events}`);
        assert.notEqual(b.uuid(), a.uuid());
      });

      await t.test('receives a push from a second client', async () => {
        b.push('from-b ✓');
        await c.waitForMessage(a, 'from-b ✓');
        await c.waitForMessage(b, 'from-b ✓');
      });

      await t.test('receives a broadcast from the admin API', async () => {
        await c.restBroadcast(srv, BROADCASTER, 'from-rest 日本');
        await c.waitForMessage(a, 'from-rest 日本');
        await c.waitForMessage(b, 'from-rest 日本');
      });

      await t.test('push reaches the other client', async () => {
        a.push('from-a 😀');
        await c.waitForMessage(b, 'from-a 😀');
        await c.waitForMessage(a, 'from-a 😀');
      });

      await t.test('heartbeats on the wire, never in onMessage', async () => {
        const probe = await heartbeatProbe(srv, transport, track);
        const heartbeat = track ? '1|X' : 'X';
        const expected = transport === 'sse' ? `data:${heartbeat}\r\n\r\n` : heartbeat;
        try {
          await c.waitUntil(() => probe.wire().some((w) => w.includes(expected)), 3500,
            `heartbeat ${JSON.stringify(expected)}; wire ${JSON.stringify(probe.wire())}`);
          // One more interval so the clients under test have seen heartbeats too.
          await c.sleep(1300);
        } finally {
          probe.close();
        }
        assert.ok(!a.messages.includes('X'), `onMessage saw X: ${JSON.stringify(a.messages)}`);
        assert.ok(!b.messages.includes('X'), `onMessage saw X: ${JSON.stringify(b.messages)}`);
        assert.deepEqual(a.messages.filter((m) => m.trim() !== ''),
          ['from-b ✓', 'from-rest 日本', 'from-a 😀'].filter((m) => a.messages.includes(m)));
      });

      await t.test('close counts one clean disconnect', async () => {
        await c.sleep(300);
        const before = await c.statistics(srv);
        a.close();
        await c.sleep(800);
        const after = await c.statistics(srv);
        assert.equal(c.disconnectTotal(after) - c.disconnectTotal(before), 1,
          `disconnects before ${JSON.stringify(before.raw)} after ${JSON.stringify(after.raw)}`);
        assert.notEqual(after.clean, undefined, `no clean disconnect counter in ${JSON.stringify(after.raw)}`);
        assert.equal(after.clean - before.clean, 1);
        b.close();
      });
    });
  }
}
