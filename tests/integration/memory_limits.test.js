// SPDX-License-Identifier: Apache-2.0
// Memory and limit cases M1-M3, scaled to run in a few seconds each: the
// bounded cache under many publishes, publishing with no subscribers, and
// SSE subscribers that stop reading while large broadcasts go out. Resident
// memory is read from /proc/<pid>/status (VmRSS).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const MB = 1024 * 1024;

// Cached message count of one broadcaster from the admin API.
async function cachedMessages(srv, id) {
  const doc = await c.adminGet(srv, `/api/v1/broadcaster-caches/${encodeURIComponent(id)}`);
  const count = c.findNumber(doc, /^(cached[-_]messages|messages|size|message[-_]count)$/i);
  assert.notEqual(count, undefined, `no cached message count in ${JSON.stringify(doc)}`);
  return count;
}

// M1 at 1/5 scale: 20,000 publishes instead of the full 100,000 so the test
// stays under 15 s on two cores.
test('M1 bounded cache stays bounded with two workers', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ workers: 2, set: { 'cache.max_messages': 1000 } });
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/m1';

  // Subscribers on both workers keep the delivery path busy.
  const subscribers = [];
  for (let i = 0; i < 8; i++) {
    const probe = c.wsConnect(port, path, { transport: 'websocket', protocol: false });
    await probe.opened;
    subscribers.push(probe);
  }
  t.after(() => subscribers.forEach((s) => s.ws.terminate()));
  const baseline = srv.rss();

  const total = 20000;
  const payload = 'x'.repeat(200);
  let maxSeen = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxSeen = Math.max(maxSeen, await cachedMessages(srv, path));
      await c.sleep(100);
    }
  })();
  let midRss = 0;
  const half = Array.from({ length: total / 2 }, (_, i) => `${payload}-${i}`);
  const statuses1 = await c.pushPipelined(port, path, half, { connections: 4, window: 100 });
  midRss = srv.rss();
  const statuses2 = await c.pushPipelined(port, path, half, { connections: 4, window: 100 });
  sampling = false;
  await sampler;
  maxSeen = Math.max(maxSeen, await cachedMessages(srv, path));
  const endRss = srv.rss();

  assert.ok(srv.alive(), `satellited exited\n${srv.logTail()}`);
  assert.equal((statuses1[200] ?? 0) + (statuses2[200] ?? 0), total, `statuses ${JSON.stringify([statuses1, statuses2])}`);
  assert.ok(maxSeen <= 1000, `cache held ${maxSeen} messages with cache.max_messages=1000`);
  assert.ok(maxSeen > 0, 'the cache never held a message');
  // 10,000 more publishes of 200 bytes would add about 2 MB if kept.
  assert.ok(endRss - midRss < 8 * MB, `RSS grew ${((endRss - midRss) / MB).toFixed(1)} MB in the second half (baseline ${(baseline / MB).toFixed(1)} MB)`);
});

// M2 at small scale: 20,000 publishes of 1 KB (20 MB in total) as fast as
// four pipelined connections go, to a path with no subscribers.
test('M2 publishing with nobody listening stays bounded', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ workers: 2, set: { 'cache.max_messages': 1000 } });
  t.after(() => srv.stop());
  const baseline = srv.rss();
  const payload = 'y'.repeat(1024);
  const messages = Array.from({ length: 20000 }, () => payload);

  const statuses = await c.pushPipelined(srv.pushPort, '/m2', messages, { connections: 4, window: 200 });
  const peak = srv.rss();

  assert.ok(srv.alive(), `satellited exited\n${srv.logTail()}`);
  const unexpected = Object.keys(statuses).filter((s) => s !== '200' && s !== '503');
  assert.deepEqual(unexpected, [], `statuses ${JSON.stringify(statuses)}`);
  assert.ok(peak - baseline < 16 * MB, `RSS grew ${((peak - baseline) / MB).toFixed(1)} MB for 20 MB published`);
  // The server still serves a subscriber afterwards.
  const probe = c.wsConnect(srv.pushPort, '/m2', { transport: 'websocket', protocol: false });
  await probe.opened;
  await c.pushPost(srv.pushPort, '/m2', 'still-here');
  await probe.waitMessages(1);
  assert.deepEqual(probe.messages, ['still-here']);
  probe.ws.terminate();
});

// M3 at 1/10 scale: 200 SSE subscribers that stop reading (the full case uses
// 2,000), then 50 broadcasts of 16 KB. Copying each payload per subscriber
// would cost 200 x 50 x 16 KB = 160 MB; shared payloads cost under 1 MB plus
// small per-subscriber references.
test('M3 stalled SSE subscribers share payloads', { timeout: 90000 }, async (t) => {
  const srv = await startServer({ workers: 2 });
  t.after(() => srv.stop());
  const port = srv.pushPort;
  const path = '/m3';
  const subscribers = 200;
  const broadcasts = 50;
  const size = 16 * 1024;

  const conns = [];
  t.after(() => conns.forEach((conn) => conn.destroy()));
  for (let i = 0; i < subscribers; i++) {
    conns.push(await c.rawSubscribe(port, path, { transport: 'sse', protocol: false }, { Accept: 'text/event-stream' }));
  }
  await Promise.all(conns.map((conn) => conn.headers()));
  // Stop reading: the kernel buffers fill and the server has to queue.
  conns.forEach((conn) => conn.socket.pause());
  await c.sleep(300);
  const baseline = srv.rss();

  for (let i = 0; i < broadcasts; i++) {
    await c.pushPost(port, path, `${i}:`.padEnd(size, 'z'));
  }
  await c.sleep(1000);
  const peak = srv.rss();
  assert.ok(srv.alive(), `satellited exited\n${srv.logTail()}`);
  const growth = peak - baseline;
  const copied = subscribers * broadcasts * size;
  assert.ok(growth < copied / 10, `RSS grew ${(growth / MB).toFixed(1)} MB; copies would be ${(copied / MB).toFixed(0)} MB`);

  conns.forEach((conn) => conn.destroy());
  await c.sleep(1500);
  const afterLeave = srv.rss();
  assert.ok(afterLeave - baseline < 8 * MB,
    `RSS after the subscribers left is ${((afterLeave - baseline) / MB).toFixed(1)} MB above the baseline`);
});
