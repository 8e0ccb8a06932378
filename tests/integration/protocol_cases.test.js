// SPDX-License-Identifier: Apache-2.0
// Protocol cases P1-P10 with exact bytes checked on raw sockets: framing of
// multibyte text, handshake framing, framed heartbeats, long-poll aborts and
// cache replay, SSE event termination, WebSocket close codes, the close
// message between polls, onOpen of atmosphere.js 4.0.1, and tracking-id reuse.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const UUID_LENGTH = 36;

function bodyText(res) {
  return res.body.toString('utf8');
}

// Long-poll handshake: GET with tracking id 0; resolves to {uuid, res}.
async function longPollHandshake(port, path, track) {
  const res = await c.httpExchange(port, {
    path: path + c.atmosphereQuery({ transport: 'long-polling', track, protocol: true }),
  });
  const hs = c.parseHandshake(bodyText(res), track);
  assert.ok(hs, `no handshake in ${JSON.stringify(bodyText(res))}`);
  return { uuid: hs.uuid, res };
}

function longPoll(port, path, uuid, track = true) {
  return c.rawSubscribe(port, path, { transport: 'long-polling', track, protocol: true, tracking: uuid });
}

async function sseHandshake(conn) {
  const res = await conn.bodyIncludes('\r\n\r\n');
  const text = bodyText(res);
  const m = /^data:((\d+)\|([^|]+)\|0\|X\|)\r\n\r\n/.exec(text);
  assert.ok(m, `SSE handshake not found in ${JSON.stringify(text)}`);
  return { uuid: m[3], length: Buffer.byteLength(m[0]) };
}

// 400 CJK ideographs, all in the Basic Multilingual Plane.
const CJK = Array.from({ length: 400 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 37) % 20000))).join('');
const EMOJI = 'a😀b';

test('P1 multibyte text framed in UTF-16 units', { timeout: 30000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/p1';
  const url = `http://127.0.0.1:${port}${path}`;
  assert.equal(EMOJI.length, 4);
  assert.equal(CJK.length, 400);

  const clients = ['websocket', 'long-polling', 'streaming', 'sse'].map((transport) =>
    c.subscribeV4({ url, transport, track: true }));
  for (const client of clients) await c.withTimeout(client.opened, 5000, 'onOpen');

  const ws = c.wsConnect(port, path, { transport: 'websocket', track: true });
  await ws.waitMessages(1);
  const stream = await c.rawSubscribe(port, path, { transport: 'streaming', track: true });
  const sse = await c.rawSubscribe(port, path, { transport: 'sse', track: true }, { Accept: 'text/event-stream' });
  const { uuid } = await longPollHandshake(port, path, true);
  const poll1 = await longPoll(port, path, uuid);
  await poll1.headers();
  const streamHandshake = bodyText(await stream.bodyIncludes('|X|'));
  const sseHs = await sseHandshake(sse);

  await c.pushPost(port, path, CJK);
  const res1 = await poll1.complete();
  poll1.destroy();
  assert.ok(res1.body.equals(Buffer.from(`400|${CJK}`, 'utf8')), `long-poll body ${bodyText(res1).slice(0, 40)}`);
  const poll2 = await longPoll(port, path, uuid);
  await poll2.headers();
  await c.pushPost(port, path, EMOJI);
  const res2 = await poll2.complete();
  poll2.destroy();
  assert.ok(res2.body.equals(Buffer.from('4|a😀b', 'utf8')), `long-poll body ${JSON.stringify(bodyText(res2))}`);

  await ws.waitMessages(3);
  assert.equal(ws.messages[1], `400|${CJK}`);
  assert.equal(ws.messages[2], '4|a😀b');
  const streamRes = await stream.bodyIncludes('4|a😀b');
  assert.ok(streamRes.body.subarray(Buffer.byteLength(streamHandshake)).equals(Buffer.from(`400|${CJK}4|a😀b`, 'utf8')));
  const sseRes = await sse.bodyIncludes('4|a😀b');
  assert.ok(sseRes.body.subarray(sseHs.length).equals(Buffer.from(`data:400|${CJK}\r\n\r\ndata:4|a😀b\r\n\r\n`, 'utf8')),
    `SSE body ${JSON.stringify(bodyText(sseRes).slice(sseHs.length, sseHs.length + 60))}`);

  for (const client of clients) {
    await client.waitMessages(2);
    await c.sleep(100);
    assert.deepEqual(client.messages, [CJK, EMOJI], `client ${client.rq.request.transport}`);
  }
  ws.ws.terminate();
  stream.destroy();
  sse.destroy();
  clients.forEach((client) => client.close());
});

test('P2 handshake framing follows the request', { timeout: 15000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;

  const plain = await longPollHandshake(port, '/p2', false);
  assert.equal(plain.res.status, 200);
  assert.equal(plain.uuid.length, UUID_LENGTH);
  assert.equal(bodyText(plain.res), `${plain.uuid}|0|X|`);
  assert.equal(plain.res.headers['x-atmosphere-tracking-id'], plain.uuid);
  assert.equal(plain.res.headers['x-atmosphere-first-request'], 'true');
  assert.match(plain.res.headers['content-type'] ?? '', /^text\/plain/);

  const tracked = await longPollHandshake(port, '/p2', true);
  assert.equal(tracked.uuid.length, UUID_LENGTH);
  assert.equal(bodyText(tracked.res), `41|${tracked.uuid}|0|X|`);
  assert.notEqual(tracked.uuid, plain.uuid);

  const ws = c.wsConnect(port, '/p2', { transport: 'websocket', track: true });
  const [wsHandshake] = await ws.waitMessages(1);
  assert.match(wsHandshake, /^41\|[^|]{36}\|0\|X\|$/);
  const wsPlain = c.wsConnect(port, '/p2', { transport: 'websocket', track: false });
  const [wsPlainHandshake] = await wsPlain.waitMessages(1);
  assert.match(wsPlainHandshake, /^[^|]{36}\|0\|X\|$/);
  ws.ws.terminate();
  wsPlain.ws.terminate();
});

test('P3 heartbeats framed like any write', { timeout: 20000 }, async (t) => {
  const srv = await startServer({ set: { 'engine.heartbeat_s': 2 } });
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/p3';
  const url = `http://127.0.0.1:${port}${path}`;

  const client = c.subscribeV4({ url, transport: 'streaming', track: true });
  const stream = await c.rawSubscribe(port, path, { transport: 'streaming', track: true });
  const ws = c.wsConnect(port, path, { transport: 'websocket', track: true });
  await c.withTimeout(client.opened, 3000, 'onOpen');
  const hsText = bodyText(await stream.bodyIncludes('|X|'));
  const [wsHandshake] = await ws.waitMessages(1);
  const connectedAt = Date.now();

  await c.sleep(5000 - (Date.now() - connectedAt));
  await c.pushPost(port, path, 'm');
  const res = await stream.bodyIncludes('1|m');
  assert.equal(bodyText(res), `${hsText}1|X1|X1|m`);
  await ws.waitMessages(4);
  assert.deepEqual(ws.messages, [wsHandshake, '1|X', '1|X', '1|m']);
  await client.waitMessages(1);
  assert.deepEqual(client.messages, ['m']);
  stream.destroy();
  ws.ws.terminate();
  client.close();
});

test('P4 long-poll abort keeps messages for the UUID', { timeout: 15000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/p4';
  const { uuid } = await longPollHandshake(port, path, true);

  const aborted = await longPoll(port, path, uuid);
  await aborted.headers();
  aborted.destroy();
  await c.sleep(200);
  await c.pushPost(port, path, 'hi');

  const poll = await longPoll(port, path, uuid);
  const res = await poll.complete();
  poll.destroy();
  assert.equal(res.status, 200);
  assert.equal(bodyText(res), '2|hi');

  const next = await longPoll(port, path, uuid);
  await next.headers();
  await c.pushPost(port, path, 'again');
  const res2 = await next.complete();
  next.destroy();
  assert.equal(bodyText(res2), '5|again');
});

test('P5 cache replay has no duplicates', { timeout: 15000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/p5';
  const { uuid } = await longPollHandshake(port, path, true);

  const first = await longPoll(port, path, uuid);
  await first.headers();
  await c.pushPost(port, path, 'z');
  assert.equal(bodyText(await first.complete()), '1|z');
  first.destroy();

  for (const m of ['a', 'b', 'c']) await c.pushPost(port, path, m);
  const replay = await longPoll(port, path, uuid);
  const res = await replay.complete();
  replay.destroy();
  assert.equal(bodyText(res), '1|a1|b1|c');

  const after = await longPoll(port, path, uuid);
  await after.headers();
  await c.sleep(500);
  assert.equal(after.response().body.length, 0, `unexpected ${JSON.stringify(bodyText(after.response()))}`);
  await c.pushPost(port, path, 'd');
  assert.equal(bodyText(await after.complete()), '1|d');
  after.destroy();
});

test('P6 SSE events are always terminated', { timeout: 15000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/p6';

  // The handshake is the write made when the resource suspends; CONNECTED
  // follows at once, the way an application greets a new subscriber.
  const sse = await c.rawSubscribe(port, path, { transport: 'sse', track: true }, { Accept: 'text/event-stream' });
  const headers = await sse.headers();
  assert.match(headers.headers['content-type'] ?? '', /^text\/event-stream/);
  await c.pushPost(port, path, 'CONNECTED');
  await c.pushPost(port, path, 'hello');
  const res = await sse.bodyIncludes('5|hello');
  const text = bodyText(res);
  assert.match(text, /^data:41\|[^|]{36}\|0\|X\|\r\n\r\ndata:9\|CONNECTED\r\n\r\ndata:5\|hello\r\n\r\n$/);
  sse.destroy();

  const { EventSource } = require('eventsource');
  const es = new EventSource(`http://127.0.0.1:${port}${path}` +
    c.atmosphereQuery({ transport: 'sse', track: true, protocol: false }));
  t.after(() => es.close());
  const events = [];
  es.onmessage = (e) => events.push(e.data);
  await c.withTimeout(new Promise((resolve) => (es.onopen = resolve)), 3000, 'EventSource open');
  await c.sleep(100);
  await c.pushPost(port, path, 'CONNECTED');
  await c.pushPost(port, path, 'hello');
  await c.waitUntil(() => events.length >= 2, 3000, `two events; got ${JSON.stringify(events)}`);
  await c.sleep(200);
  assert.deepEqual(events, ['9|CONNECTED', '5|hello']);
});

// Opens a WebSocket subscriber on /p7 and resolves to {probe, uuid}.
async function p7Subscriber(port) {
  const probe = c.wsConnect(port, '/p7', { transport: 'websocket', track: true });
  const [handshake] = await probe.waitMessages(1);
  const hs = c.parseHandshake(handshake, true);
  assert.ok(hs);
  return { probe, uuid: hs.uuid };
}

const P7_CASES = {
  'TCP drop': async ({ probe }) => probe.ws.terminate(),
  'close frame without code (1005)': async ({ probe }) => probe.ws.close(),
  'close message then 1005': async ({ probe, uuid }, port) => {
    const res = await c.httpExchange(port, {
      path: `/p7?X-Atmosphere-Transport=close&X-Atmosphere-tracking-id=${uuid}`,
    });
    assert.equal(res.status, 200);
    probe.ws.close();
  },
};

test('P7 WebSocket close codes', { timeout: 30000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const witness = await p7Subscriber(port);
  t.after(() => witness.probe.ws.terminate());

  for (const [name, action] of Object.entries(P7_CASES)) {
    await t.test(name, async () => {
      const sub = await p7Subscriber(port);
      await c.sleep(200);
      const before = await c.statistics(srv);
      const countBefore = await c.broadcasterResourceCount(srv, '/p7');
      await action(sub, port);
      const leftAt = Date.now();
      for (;;) {
        if ((await c.broadcasterResourceCount(srv, '/p7')) === countBefore - 1) break;
        assert.ok(Date.now() - leftAt < 1000, 'resource still in its broadcaster after 1 s');
        await c.sleep(20);
      }
      await c.sleep(500);
      const after = await c.statistics(srv);
      assert.equal(c.disconnectTotal(after) - c.disconnectTotal(before), 1,
        `before ${JSON.stringify(before.raw)} after ${JSON.stringify(after.raw)}`);
      if (before.active !== undefined) assert.equal(after.active, before.active - 1);
      assert.equal(await c.broadcasterResourceCount(srv, '/p7'), countBefore - 1);
    });
  }
});

for (const method of ['GET', 'POST']) {
  test(`P8 close message between polls (${method})`, { timeout: 15000 }, async (t) => {
    const srv = await startServer();
    t.after(() => srv.stop());
    const port = srv.pushPort;
    const path = '/p8';
    const { uuid } = await longPollHandshake(port, path, true);

    const poll = await longPoll(port, path, uuid);
    await poll.headers();
    await c.pushPost(port, path, 'one');
    assert.equal(bodyText(await poll.complete()), '3|one');
    poll.destroy();

    // Statistics come from the admin API; the wire checks below run even
    // when it is unavailable, and its error is raised at the end.
    const before = await c.statistics(srv).catch((err) => err);
    const res = await c.httpExchange(port, {
      method,
      path: `${path}?X-Atmosphere-Transport=close&X-Atmosphere-tracking-id=${uuid}`,
      body: method === 'POST' ? '' : null,
      headers: method === 'POST' ? { 'Content-Type': 'text/plain;charset=UTF-8' } : {},
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    await c.sleep(300);
    const after = await c.statistics(srv).catch((err) => err);

    await c.pushPost(port, path, 'later');
    const repoll = await longPoll(port, path, uuid);
    await repoll.headers();
    await c.sleep(500);
    assert.equal(bodyText(repoll.response()), '', 'a broadcast after the close message was cached for the UUID');
    repoll.destroy();

    if (before instanceof Error) throw before;
    if (after instanceof Error) throw after;
    assert.equal(c.disconnectTotal(after) - c.disconnectTotal(before), 1,
      `before ${JSON.stringify(before.raw)} after ${JSON.stringify(after.raw)}`);
  });
}

for (const transport of ['websocket', 'long-polling']) {
  test(`P9 onOpen fires with atmosphere.js 4.0.1 over ${transport}`, { timeout: 15000 }, async (t) => {
    const srv = await startServer();
    t.after(() => srv.stop());
    const port = srv.pushPort;
    const url = `http://127.0.0.1:${port}/p9`;
    const client = c.subscribeV4({ url, transport, track: true });
    t.after(() => client.close());
    await client.started;
    await c.withTimeout(client.opened, 1000, `onOpen within 1 s; events ${client.events}`);
    assert.notEqual(String(client.uuid()), '0');

    if (transport === 'long-polling') {
      const { uuid } = await longPollHandshake(port, '/p9', true);
      const poll = await longPoll(port, '/p9', uuid);
      const res = await poll.headers(500);
      assert.equal(res.status, 200);
      await c.sleep(200);
      assert.equal(poll.response().body.length, 0, 'padding or data before the first broadcast');
      assert.equal(poll.response().complete, false);
      poll.destroy();
    }
  });
}

test('P10 tracking id survives a streaming reconnect', { timeout: 15000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/p10';
  const first = await c.rawSubscribe(port, path, { transport: 'streaming', track: true });
  const firstRes = await first.bodyIncludes('|X|');
  const hs = c.parseHandshake(bodyText(firstRes), true);
  assert.ok(hs);
  assert.equal(firstRes.headers['x-atmosphere-tracking-id'], hs.uuid);
  assert.equal(firstRes.headers['x-atmosphere-first-request'], 'true');
  first.destroy();
  await c.sleep(100);

  const again = await c.rawSubscribe(port, path, { transport: 'streaming', track: true, tracking: hs.uuid });
  const res = await again.headers();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-atmosphere-tracking-id'], hs.uuid);
  assert.equal(res.headers['x-atmosphere-first-request'], undefined);
  await c.sleep(400);
  assert.equal(bodyText(again.response()), '', 'a second handshake or padding was sent');
  await c.pushPost(port, path, 'm');
  await again.bodyIncludes('1|m');
  assert.equal(bodyText(again.response()), '1|m');
  again.destroy();
});
