// SPDX-License-Identifier: Apache-2.0
// The REST admin API against a real satellited with real atmosphere.js
// clients: resource listing and operations, REST broadcasts, reload and
// live init-params, interceptors, statistics, bad input, credentials and
// secrets, the event stream, Prometheus metrics and the OpenAPI document.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const OPENAPI_COPY = path.resolve(__dirname, '../../docs/openapi.json');
const REGENERATE_HINT =
  'docs/openapi.json differs from the served document; regenerate it with ' +
  '`SAT_WRITE_OPENAPI=1 SATELLITED=<build>/agent/satellited node --test tests/integration/rest_admin.test.js` ' +
  'and review the diff';

function enc(id) {
  return encodeURIComponent(id);
}

// Asserts the error shape {"error": {"code", "message"}} and the status.
function assertError(res, status, what) {
  assert.equal(res.status, status, `${what}: status ${res.status}, body ${res.text.slice(0, 300)}`);
  assert.ok(res.json, `${what}: no JSON body: ${res.text.slice(0, 300)}`);
  assert.ok(res.json.error, `${what}: no error object: ${res.text.slice(0, 300)}`);
  assert.equal(typeof res.json.error.code, 'string', `${what}: error.code`);
  assert.equal(typeof res.json.error.message, 'string', `${what}: error.message`);
}

async function getJson(srv, route) {
  const res = await c.adminRaw(srv, 'GET', route);
  assert.equal(res.status, 200, `GET ${route}: ${res.text.slice(0, 300)}`);
  return res.json;
}

async function attrsOf(srv, route) {
  return (await getJson(srv, route)).attributes;
}

function jsonBody(value) {
  return { body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } };
}

// Subscribes one atmosphere.js 4.0.1 client per transport to `url`.
async function subscribeAllTransports(url) {
  const handles = {};
  for (const transport of ['websocket', 'long-polling', 'sse', 'streaming']) {
    const h = c.subscribeV4({ url, transport });
    await c.withTimeout(h.opened, 5000, `${transport} onOpen`);
    handles[transport] = h;
  }
  return handles;
}

test('resources, operations and broadcasts with atmosphere.js clients', { timeout: 60000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const url = `http://127.0.0.1:${srv.pushPort}/chat`;
  const handles = await subscribeAllTransports(url);
  t.after(() => Object.values(handles).forEach((h) => h.close()));

  await t.test('listing shows each client with its transport and broadcaster', async () => {
    const list = await getJson(srv, '/api/v1/resources?limit=1000');
    const byId = new Map(list.items.map((item) => [item.id, item.attributes]));
    for (const [transport, h] of Object.entries(handles)) {
      const attrs = byId.get(h.uuid());
      assert.ok(attrs, `${transport} client ${h.uuid()} missing from ${JSON.stringify([...byId.keys()])}`);
      assert.equal(attrs.transport, transport, `transport of the ${transport} client`);
      assert.equal(attrs.broadcaster, '/chat', `broadcaster of the ${transport} client`);
    }
    assert.equal(list.total, list.items.length, 'total counts the listed items');
  });

  await t.test('REST broadcast reaches every subscriber', async () => {
    const res = await c.adminRaw(srv, 'POST', `/api/v1/broadcasters/${enc('/chat')}/broadcast`, jsonBody({ message: 'to-all' }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'ok');
    for (const [transport, h] of Object.entries(handles)) {
      await c.waitForMessage(h, 'to-all', 5000).catch((err) => assert.fail(`${transport}: ${err.message}`));
    }
  });

  await t.test('resume ends a raw suspended long-poll', async () => {
    const first = await c.httpExchange(srv.pushPort, { path: '/lp' + c.atmosphereQuery({ transport: 'long-polling' }) });
    const hs = c.parseHandshake(first.body.toString('utf8'), false);
    assert.ok(hs, `handshake in ${first.body.toString('utf8')}`);
    const poll = await c.rawSubscribe(srv.pushPort, '/lp', { tracking: hs.uuid, transport: 'long-polling' });
    t.after(() => poll.destroy());
    const route = `/api/v1/resources/${enc(hs.uuid)}`;
    await waitForState(srv, route, 'suspended');
    assert.equal(poll.response()?.complete ?? false, false, 'the poll is still open before resume');
    const res = await c.adminRaw(srv, 'POST', `${route}/resume`);
    assert.equal(res.status, 200, res.text);
    const done = await poll.complete(3000);
    assert.equal(done.status, 200, 'the resumed poll ends with 200');
  });

  await t.test('resume of the atmosphere.js long-poll client: it re-polls and keeps receiving', async () => {
    const h = handles['long-polling'];
    const route = `/api/v1/resources/${enc(h.uuid())}`;
    await waitForState(srv, route, 'suspended');
    const before = h.messages.length;
    const res = await c.adminRaw(srv, 'POST', `${route}/resume`);
    assert.equal(res.status, 200, res.text);
    // The client polls again with the same tracking id.
    await c.sleep(200);
    await waitForState(srv, route, 'suspended');
    await c.restBroadcast(srv, '/chat', 'after-resume');
    await c.waitForMessage(h, 'after-resume', 5000);
    assert.ok(h.messages.length > before, 'a message arrived after the resume');
  });

  await t.test('close on a WebSocket resource closes that client', async () => {
    const probe = c.wsConnect(srv.pushPort, '/chat', { transport: 'websocket' });
    await c.withTimeout(probe.opened, 5000, 'WebSocket open');
    const hs = await probe.waitMessages(1);
    const uuid = hs[0].split('|')[0];
    const res = await c.adminRaw(srv, 'POST', `/api/v1/resources/${enc(uuid)}/close`);
    assert.equal(res.status, 200, res.text);
    const info = await c.withTimeout(probe.closed, 5000, 'the WebSocket close');
    assert.ok(info.code >= 1000, `close code ${info.code}`);
  });

  await t.test('close on the atmosphere.js WebSocket client fires onClose', async () => {
    const h = handles.websocket;
    const res = await c.adminRaw(srv, 'POST', `/api/v1/resources/${enc(h.uuid())}/close`);
    assert.equal(res.status, 200, res.text);
    await c.withTimeout(h.closedEvent, 5000, `onClose; events ${h.events.join(',')}`);
  });

  await t.test('statistics disable, enable and reset', async () => {
    let res = await c.adminRaw(srv, 'POST', '/api/v1/statistics/disable');
    assert.equal(res.status, 200, res.text);
    assert.equal((await attrsOf(srv, '/api/v1/statistics')).capturing, false, 'capturing after disable');
    res = await c.adminRaw(srv, 'POST', '/api/v1/statistics/enable');
    assert.equal(res.status, 200, res.text);
    assert.equal((await attrsOf(srv, '/api/v1/statistics')).capturing, true, 'capturing after enable');
    assert.ok((await attrsOf(srv, '/api/v1/statistics'))['messages-broadcast'] > 0, 'broadcasts were counted');
    res = await c.adminRaw(srv, 'POST', '/api/v1/statistics/reset');
    assert.equal(res.status, 200, res.text);
    assert.equal((await attrsOf(srv, '/api/v1/statistics'))['messages-broadcast'], 0, 'messages-broadcast after reset');
  });
});

async function waitForState(srv, route, state, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    const res = await c.adminRaw(srv, 'GET', route);
    last = res;
    if (res.status === 200 && res.json.attributes.state === state) return res.json;
    await c.sleep(25);
  }
  throw new Error(`${route} did not reach state ${state}: ${last && last.text.slice(0, 300)}`);
}

test('reload, live init-params and interceptors', { timeout: 60000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satellite-rest-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conf = path.join(dir, 'satellited.conf');
  fs.writeFileSync(conf, '[engine]\nheartbeat_s = 5\n');
  const srv = await startServer({ args: ['-c', conf] });
  t.after(() => srv.stop());
  const hbRoute = '/api/v1/init-params/engine.heartbeat_s';

  await t.test('reload applies a changed heartbeat and the probe sees it', async () => {
    const probe = await c.heartbeatProbe(srv.pushPort, '/hb');
    t.after(() => probe.conn.destroy());
    await probe.conn.bodyIncludes('|');
    fs.writeFileSync(conf, '[engine]\nheartbeat_s = 1\n');
    const res = await c.adminRaw(srv, 'POST', '/api/v1/framework/reload');
    assert.equal(res.status, 200, res.text);
    assert.ok(JSON.stringify(res.json.result).includes('engine.heartbeat_s'), `changes list the key: ${res.text}`);
    // The current silence may still run on the old 5 s timer; count the
    // beats after the first one on the new interval.
    const first = await c.waitUntil(() => probe.beats.length > 0 && probe.beats[0], 7000, 'a first heartbeat');
    await c.sleep(3300);
    const beats = probe.beatsSince(first);
    assert.ok(beats.length >= 3, `heartbeats within 3.3 s of the first: ${beats.length}`);
    const gaps = beats.slice(1).map((b, i) => b - beats[i]);
    assert.ok(gaps.every((g) => g > 600 && g < 1600), `heartbeat gaps about 1 s: ${gaps}`);
  });

  await t.test('an invalid reload answers 422 and changes nothing', async () => {
    fs.writeFileSync(conf, '[engine]\nheartbeat_s = abc\nclient_heartbeat_s = 7\n');
    const res = await c.adminRaw(srv, 'POST', '/api/v1/framework/reload');
    assertError(res, 422, 'invalid reload');
    assert.match(res.json.error.message, /engine\.heartbeat_s/, 'the message names the key');
    assert.match(res.json.error.message, /integer/, 'the message says what is expected');
    assert.equal((await attrsOf(srv, hbRoute)).value, '1', 'heartbeat_s keeps the old value');
    assert.equal((await attrsOf(srv, '/api/v1/init-params/engine.client_heartbeat_s')).value, '0',
      'the valid change in the same file is not applied');
  });

  await t.test('SIGHUP reloads the file', async () => {
    fs.writeFileSync(conf, '[engine]\nheartbeat_s = 3\n');
    process.kill(srv.pid, 'SIGHUP');
    const deadline = Date.now() + 5000;
    let value;
    while (Date.now() < deadline) {
      value = (await attrsOf(srv, hbRoute)).value;
      if (value === '3') break;
      await c.sleep(50);
    }
    assert.equal(value, '3', 'heartbeat_s after SIGHUP');
  });

  await t.test('PATCH of a live init-param applies at once', async () => {
    const res = await c.adminRaw(srv, 'PATCH', hbRoute, jsonBody({ value: '2' }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.attributes.value, '2', 'value in the PATCH answer');
    const attrs = await attrsOf(srv, hbRoute);
    assert.equal(attrs.value, '2', 'value read back');
    assert.equal(attrs.source, 'runtime', 'source read back');
  });

  await t.test('PATCH of a restart-only init-param is rejected', async () => {
    const before = await attrsOf(srv, '/api/v1/init-params/push.workers');
    const res = await c.adminRaw(srv, 'PATCH', '/api/v1/init-params/push.workers', jsonBody({ value: '4' }));
    assert.ok(res.status === 409 || res.status === 422, `status ${res.status}: ${res.text}`);
    assertError(res, res.status, 'restart-only key');
    assert.match(res.json.error.message, /restart/, 'the message says a restart is needed');
    assert.deepEqual(await attrsOf(srv, '/api/v1/init-params/push.workers'), before, 'push.workers unchanged');
  });

  await t.test('disabling the heartbeat interceptor stops heartbeats; enabling restores them', async () => {
    let res = await c.adminRaw(srv, 'PATCH', hbRoute, jsonBody({ value: '1' }));
    assert.equal(res.status, 200, res.text);
    const probe = await c.heartbeatProbe(srv.pushPort, '/hb2');
    t.after(() => probe.conn.destroy());
    await c.waitUntil(() => probe.beats.length >= 1, 4000, 'a heartbeat before disable');
    res = await c.adminRaw(srv, 'POST', '/api/v1/interceptors/heartbeat/disable');
    assert.equal(res.status, 200, res.text);
    assert.equal((await attrsOf(srv, '/api/v1/interceptors/heartbeat')).enabled, false, 'enabled after disable');
    const off = Date.now();
    const fresh = await c.heartbeatProbe(srv.pushPort, '/hb3');
    t.after(() => fresh.conn.destroy());
    await c.sleep(2500);
    assert.equal(fresh.beats.length, 0, 'no heartbeats on a connection opened while disabled');
    assert.equal(probe.beatsSince(off + 100).length, 0, 'no heartbeats on a connection opened before the disable');
    res = await c.adminRaw(srv, 'POST', '/api/v1/interceptors/heartbeat/enable');
    assert.equal(res.status, 200, res.text);
    assert.equal((await attrsOf(srv, '/api/v1/interceptors/heartbeat')).enabled, true, 'enabled after enable');
    const on = Date.now();
    await c.waitUntil(() => probe.beatsSince(on).length >= 1, 3000, 'a heartbeat after enable');
  });
});

test('bad input on the admin port', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ set: { 'admin.max_body_bytes': 1024 } });
  t.after(() => srv.stop());
  const stats = '/api/v1/statistics';
  const capturing = async () => (await attrsOf(srv, stats)).capturing;

  await t.test('malformed JSON: 400 with line and column', async () => {
    const res = await c.adminRaw(srv, 'PATCH', stats, { body: '{\n  "capturing": fals', headers: { 'Content-Type': 'application/json' } });
    assertError(res, 400, 'malformed JSON');
    assert.match(res.json.error.message, /line \d+/, 'message gives the line');
    assert.match(res.json.error.message, /column \d+/, 'message gives the column');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('wrong type: 422', async () => {
    const res = await c.adminRaw(srv, 'PATCH', stats, jsonBody({ capturing: 'no' }));
    assertError(res, 422, 'wrong type');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('unknown attribute: 422 and the valid key is not applied', async () => {
    const res = await c.adminRaw(srv, 'PATCH', stats, jsonBody({ capturing: false, bogus: 1 }));
    assertError(res, 422, 'unknown attribute');
    assert.match(res.json.error.message, /bogus/, 'the message names the attribute');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('read-only attribute: 422', async () => {
    const started = (await attrsOf(srv, stats)).started;
    const res = await c.adminRaw(srv, 'PATCH', stats, jsonBody({ capturing: false, started: 5 }));
    assertError(res, 422, 'read-only attribute');
    assert.match(res.json.error.message, /started/, 'the message names the attribute');
    assert.equal((await attrsOf(srv, stats)).started, started, 'started unchanged');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('unknown routes: 404', async () => {
    for (const route of ['/api/v1/nothing', '/api/v2', '/', '/api/v1/statistics/explode/more',
      '/api/v1/broadcasters/%2Fnope', '/api/v1/resources/no-such-uuid/resume', '/api/v1/broadcasters/%2Fx/nop']) {
      const method = route.endsWith('resume') || route.endsWith('nop') ? 'POST' : 'GET';
      assertError(await c.adminRaw(srv, method, route), 404, `${method} ${route}`);
    }
  });

  await t.test('wrong method: 405 with Allow', async () => {
    const cases = [['DELETE', stats], ['GET', '/api/v1/statistics/reset'], ['POST', '/api/v1/resources'],
      ['PUT', '/metrics'], ['POST', '/api/v1/openapi.json']];
    for (const [method, route] of cases) {
      const res = await c.adminRaw(srv, method, route);
      assertError(res, 405, `${method} ${route}`);
      assert.ok(res.headers.allow, `${method} ${route} has an Allow header`);
      assert.ok(!res.headers.allow.split(/,\s*/).includes(method), `Allow of ${route} excludes ${method}`);
    }
  });

  await t.test('oversized body: 413', async () => {
    const before = (await attrsOf(srv, stats))['messages-broadcast'];
    const res = await c.adminRaw(srv, 'POST', '/api/v1/broadcasters/%2Fbig/broadcast',
      jsonBody({ message: 'm'.repeat(4096) }));
    assertError(res, 413, 'oversized body');
    assert.equal((await attrsOf(srv, stats))['messages-broadcast'], before, 'nothing was broadcast');
  });

  await t.test('wrong Content-Type: 415', async () => {
    const res = await c.adminRaw(srv, 'PATCH', stats, { body: '{"capturing": false}', headers: { 'Content-Type': 'text/plain' } });
    assertError(res, 415, 'wrong Content-Type');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('missing token: 401 with WWW-Authenticate', async () => {
    const res = await c.adminRaw(srv, 'PATCH', stats, { ...jsonBody({ capturing: false }), token: null });
    assertError(res, 401, 'missing token');
    assert.match(res.headers['www-authenticate'] ?? '', /^Bearer/, 'WWW-Authenticate header');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('wrong token: 401 or 403', async () => {
    const res = await c.adminRaw(srv, 'POST', '/api/v1/statistics/disable', { token: `${srv.token}x` });
    assert.ok(res.status === 401 || res.status === 403, `status ${res.status}`);
    assertError(res, res.status, 'wrong token');
    assert.equal(await capturing(), true, 'capturing unchanged');
  });

  await t.test('odd ids: correct 404 or 400, never 500', async () => {
    const cases = [
      ['/api/v1/broadcasters/%2Fa%2Fb%2Fc', 404],
      ['/api/v1/broadcasters/%252Fchat', 404],
      ['/api/v1/broadcasters/a%00b', 400],
      ['/api/v1/broadcasters/%ZZ', 400],
      ['/api/v1/broadcasters/%2', 400],
      ['/api/v1/broadcasters/%E2%9C%93%F0%9F%98%80', 404],
      ['/api/v1/broadcasters/%FF%FE', 404],
      ['/api/v1/broadcasters/' + 'x'.repeat(3000), 404],
      ['/api/v1/resources/%2F..%2F..%2Fetc%2Fpasswd', 404],
      ['/api/v1/init-params/engine.heartbeat_s%00', 400],
    ];
    for (const [route, status] of cases) {
      assertError(await c.adminRaw(srv, 'GET', route), status, `GET ${route.slice(0, 60)}`);
    }
  });

  await t.test('a huge id and raw non-ASCII bytes get an answer below 500', async () => {
    const huge = await c.adminRaw(srv, 'GET', '/api/v1/broadcasters/' + 'y'.repeat(200000)).catch((err) => ({ status: 0, err }));
    assert.ok(huge.status === 0 || (huge.status >= 400 && huge.status < 500), `huge id status ${huge.status}`);
    const raw = await c.httpExchange(srv.adminPort, { path: '/api/v1/broadcasters/\xe2\x9c\x93\xff' });
    assert.ok(raw.status >= 400, `raw bytes status ${raw.status}`);
    assert.ok(raw.status < 500, `raw bytes status ${raw.status}`);
    assert.ok(srv.alive(), 'satellited still runs');
    assert.equal((await c.adminRaw(srv, 'GET', '/api/v1')).status, 200, 'GET /api/v1 still answers');
  });
});

test('credentials and secrets', { timeout: 60000 }, async (t) => {
  const token = 'rest-it-secret-token-7d41c2';
  const community = 'rest-it-community-93be';
  const srv = await startServer({ set: { 'admin.auth_reads': 'true', 'admin.token': token, 'snmp.community': community } });
  t.after(() => srv.stop());
  const readRoutes = ['/api/v1', '/api/v1/resources', '/api/v1/statistics', '/api/v1/framework',
    '/api/v1/init-params', '/api/v1/init-params/admin.token', '/api/v1/openapi.json', '/metrics', '/api/v1/events'];

  await t.test('every read route answers 401 without credentials when auth_reads is on', async () => {
    for (const route of readRoutes) {
      assertError(await c.adminRaw(srv, 'GET', route, { token: null }), 401, `GET ${route} without token`);
    }
  });

  await t.test('event stream answers 401 with a wrong token', async () => {
    assertError(await c.adminRaw(srv, 'GET', '/api/v1/events', { token: 'nope' }), 401, 'events with a wrong token');
  });

  await t.test('the token and community never appear in read responses', async () => {
    for (const route of readRoutes.filter((r) => r !== '/api/v1/events').concat(['/api/v1/init-params?limit=1000',
      '/api/v1/init-params/snmp.community', '/api/v1/interceptors'])) {
      const res = await c.adminRaw(srv, 'GET', route, { token });
      assert.equal(res.status, 200, `GET ${route}: ${res.text.slice(0, 200)}`);
      assert.ok(!res.text.includes(token), `GET ${route} leaks the admin token`);
      assert.ok(!res.text.includes(community), `GET ${route} leaks the SNMP community`);
    }
  });

  await t.test('secret init-params read as ***', async () => {
    const fw = await c.adminRaw(srv, 'GET', '/api/v1/framework', { token });
    assert.equal(fw.json.attributes['init-params']['admin.token'], '***', 'admin.token in framework init-params');
    assert.equal(fw.json.attributes['init-params']['snmp.community'], '***', 'snmp.community in framework init-params');
    const one = await c.adminRaw(srv, 'GET', '/api/v1/init-params/admin.token', { token });
    assert.equal(one.json.attributes.value, '***', 'init-params/admin.token value');
    const snmp = await c.adminRaw(srv, 'GET', '/api/v1/init-params/snmp.community', { token });
    assert.equal(snmp.json.attributes.value, '***', 'init-params/snmp.community value');
  });

  await t.test('the token never appears in the log', async () => {
    // A rejected and an accepted write, both logged at info level.
    await c.adminRaw(srv, 'PATCH', '/api/v1/init-params/admin.token', { ...jsonBody({ value: 'zz' }), token: 'bad' });
    await c.adminRaw(srv, 'POST', '/api/v1/statistics/reset', { token });
    await c.sleep(100);
    assert.ok(srv.logs().includes('admin write'), 'writes are logged');
    assert.ok(!srv.logs().includes(token), 'stderr contains the admin token');
    assert.ok(!srv.logs().includes(community), 'stderr contains the SNMP community');
  });

  await t.test('admin.auth_reads and admin.token change live', async () => {
    const other = await startServer();
    try {
      let res = await c.adminRaw(other, 'PATCH', '/api/v1/init-params/admin.auth_reads', jsonBody({ value: 'true' }));
      assert.equal(res.status, 200, res.text);
      assertError(await c.adminRaw(other, 'GET', '/api/v1/statistics', { token: null }), 401,
        'a read without token after auth_reads turned on');
      const next = 'rest-it-rotated-token-51f0';
      res = await c.adminRaw(other, 'PATCH', '/api/v1/init-params/admin.token', jsonBody({ value: next }));
      assert.equal(res.status, 200, res.text);
      assertError(await c.adminRaw(other, 'POST', '/api/v1/statistics/reset'), 401, 'a write with the old token');
      assert.equal((await c.adminRaw(other, 'POST', '/api/v1/statistics/reset', { token: next })).status, 200,
        'a write with the new token');
    } finally {
      await other.stop();
    }
  });

  await t.test('the generated token file is not logged either', async () => {
    const other = await startServer();
    try {
      await c.adminRaw(other, 'POST', '/api/v1/statistics/reset');
      assert.ok(other.token, 'a token was generated');
      assert.ok(other.token.length >= 16, `generated token of ${other.token.length} characters`);
      assert.ok(!other.logs().includes(other.token), 'stderr contains the generated token');
      const fw = await c.adminRaw(other, 'GET', '/api/v1/framework');
      assert.ok(!fw.text.includes(other.token), 'framework leaks the generated token');
    } finally {
      await other.stop();
    }
  });
});

test('event stream, metrics and OpenAPI document', { timeout: 60000 }, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());

  await t.test('events stream a broadcaster created by a new subscription and resume with Last-Event-ID', async () => {
    const stream = await c.adminEventStream(srv);
    t.after(() => stream.conn.destroy());
    await stream.conn.headers();
    const ws = c.wsConnect(srv.pushPort, '/fresh-topic', { transport: 'websocket' });
    t.after(() => ws.ws.terminate());
    await c.withTimeout(ws.opened, 5000, 'WebSocket open');
    const created = await c.waitUntil(() => stream.events().find((e) => e.event === 'created' &&
      e.data.type === 'broadcaster' && e.data.id === '/fresh-topic'), 5000, 'a created event for /fresh-topic');
    assert.equal(Number(created.id), created.data.seq, 'SSE id is the event seq');
    // Resume just before that event: it comes again, and nothing older.
    const resumed = await c.adminEventStream(srv, { lastEventId: created.data.seq - 1 });
    t.after(() => resumed.conn.destroy());
    const first = await c.waitUntil(() => resumed.events()[0], 5000, 'the first resumed event');
    assert.equal(first.data.seq, created.data.seq, 'resume starts right after Last-Event-ID');
    const since = await c.adminEventStream(srv, { query: `?since=${created.data.seq - 1}` });
    t.after(() => since.conn.destroy());
    const firstSince = await c.waitUntil(() => since.events()[0], 5000, 'the first ?since event');
    assert.equal(firstSince.data.seq, created.data.seq, '?since resumes the same way');
  });

  await t.test('metrics are valid Prometheus text', async () => {
    await c.restBroadcast(srv, '/fresh-topic', 'count me');
    const res = await c.adminRaw(srv, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain/, 'content type');
    const lines = res.text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(lines.length > 10, `metric lines: ${lines.length}`);
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? -?(\d+(\.\d+)?([eE][+-]?\d+)?|NaN|\+Inf|-Inf)$/;
    const bad = lines.filter((l) => !sample.test(l));
    assert.deepEqual(bad, [], 'lines that are not `name{labels} value`');
    for (const comment of res.text.split('\n').filter((l) => l.startsWith('#'))) {
      assert.match(comment, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /, `comment line ${comment}`);
    }
  });

  await t.test('the OpenAPI document lists every route these tests use', async () => {
    const doc = await getJson(srv, '/api/v1/openapi.json');
    const used = [
      ['get', '/api/v1'], ['get', '/api/v1/openapi.json'], ['get', '/api/v1/events'], ['get', '/metrics'],
      ['get', '/api/v1/resources'], ['get', '/api/v1/resources/{id}'], ['post', '/api/v1/resources/{id}/resume'],
      ['post', '/api/v1/resources/{id}/close'], ['get', '/api/v1/broadcasters/{id}'],
      ['post', '/api/v1/broadcasters/{id}/broadcast'], ['get', '/api/v1/framework'],
      ['post', '/api/v1/framework/reload'], ['get', '/api/v1/init-params'], ['get', '/api/v1/init-params/{id}'],
      ['patch', '/api/v1/init-params/{id}'], ['get', '/api/v1/interceptors'], ['get', '/api/v1/interceptors/{id}'],
      ['post', '/api/v1/interceptors/{id}/enable'], ['post', '/api/v1/interceptors/{id}/disable'],
      ['get', '/api/v1/statistics'], ['patch', '/api/v1/statistics'], ['post', '/api/v1/statistics/enable'],
      ['post', '/api/v1/statistics/disable'], ['post', '/api/v1/statistics/reset'],
    ];
    for (const [method, route] of used) {
      assert.ok(doc.paths[route], `${route} in openapi.json`);
      assert.ok(doc.paths[route][method], `${method.toUpperCase()} ${route} in openapi.json`);
    }
  });

  await t.test('docs/openapi.json matches the served document', async () => {
    const served = await getJson(srv, '/api/v1/openapi.json');
    if (process.env.SAT_WRITE_OPENAPI === '1') {
      fs.writeFileSync(OPENAPI_COPY, JSON.stringify(served, null, 2) + '\n');
    }
    assert.ok(fs.existsSync(OPENAPI_COPY), `${OPENAPI_COPY} is missing; ${REGENERATE_HINT}`);
    const saved = JSON.parse(fs.readFileSync(OPENAPI_COPY, 'utf8'));
    assert.deepEqual(saved, served, REGENERATE_HINT);
  });
});
