// SPDX-License-Identifier: Apache-2.0
// The REST admin API under load: 32 concurrent REST clients list and read
// objects while 100 WebSocket subscribers receive a broadcast storm. Every
// response must be well-formed JSON with status 200. Small scale, under 20 s.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const SUBSCRIBERS = 100;
const REST_CLIENTS = 32;
const PUBLISHERS = 4;
const STORM_MS = 5000;
const TOPIC = '/storm';

// One keep-alive HTTP request; resolves to {status, text} or {error}.
function request(agent, port, method, route, headers = {}, body = null) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: route, agent, headers }, (res) => {
      const parts = [];
      res.on('data', (chunk) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out after 5000 ms')));
    req.on('error', (error) => resolve({ error }));
    req.end(body);
  });
}

// Publishes on the push port as fast as the server accepts until `until`.
async function publishLoop(port, until, counts) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const route = TOPIC + c.atmosphereQuery({ transport: 'polling', protocol: false });
  try {
    for (let i = 0; Date.now() < until; i++) {
      const res = await request(agent, port, 'POST', route, { 'Content-Type': 'text/plain' }, `storm ${i}`);
      const key = res.error ? 'error' : String(res.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
  } finally {
    agent.destroy();
  }
}

// Lists and reads objects until `until` and records every invalid response.
async function restLoop(srv, routes, until, tally) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { Authorization: `Bearer ${srv.token}` };
  try {
    for (let i = 0; Date.now() < until; i++) {
      const route = routes[i % routes.length]();
      const res = await request(agent, srv.adminPort, 'GET', route, headers);
      tally.answers++;
      let problem = null;
      if (res.error) problem = `error ${res.error.message}`;
      else if (res.status !== 200) problem = `status ${res.status}`;
      if (!problem) {
        try {
          JSON.parse(res.text);
        } catch (err) {
          problem = `invalid JSON (${err.message}): ${res.text.slice(0, 120)}`;
        }
      }
      if (problem && tally.failures.length < 20) tally.failures.push(`GET ${route}: ${problem}`);
      else if (problem) tally.more++;
    }
  } finally {
    agent.destroy();
  }
}

test('REST reads stay well-formed during a broadcast storm', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ set: { 'engine.broadcast_queue_max': 65536 } });
  t.after(() => srv.stop());

  const subscribers = [];
  t.after(() => subscribers.forEach((s) => s.ws.terminate()));
  for (let i = 0; i < SUBSCRIBERS; i++) subscribers.push(c.wsConnect(srv.pushPort, TOPIC, { transport: 'websocket' }));
  await c.withTimeout(Promise.all(subscribers.map((s) => s.opened)), 10000, `${SUBSCRIBERS} WebSocket opens`);
  await Promise.all(subscribers.map((s) => s.waitMessages(1)));
  const uuids = subscribers.map((s) => s.messages[0].split('|')[0]);

  const routes = [
    () => '/api/v1/resources?limit=50',
    () => `/api/v1/resources?limit=20&cursor=${encodeURIComponent(uuids[7])}`,
    () => `/api/v1/broadcasters/${encodeURIComponent(TOPIC)}`,
    () => `/api/v1/resources/${encodeURIComponent(uuids[Math.floor(Math.random() * uuids.length)])}`,
    () => '/api/v1/statistics',
    () => '/api/v1/broadcasters',
    () => `/api/v1/broadcaster-caches/${encodeURIComponent(TOPIC)}`,
    () => '/api/v1/framework',
  ];
  const until = Date.now() + STORM_MS;
  const published = {};
  const tally = { answers: 0, failures: [], more: 0 };
  await Promise.all([
    ...Array.from({ length: PUBLISHERS }, () => publishLoop(srv.pushPort, until, published)),
    ...Array.from({ length: REST_CLIENTS }, () => restLoop(srv, routes, until, tally)),
  ]);

  await t.test('every REST answer is 200 with valid JSON', () => {
    assert.deepEqual(tally.failures, [], `${tally.failures.length + tally.more} bad answers of ${tally.answers}`);
  });

  await t.test('the REST clients were served throughout', () => {
    assert.ok(tally.answers >= REST_CLIENTS * 10, `only ${tally.answers} REST answers in ${STORM_MS} ms`);
  });

  await t.test('the storm published and the publishers saw no transport errors', () => {
    assert.ok((published['200'] ?? 0) > 100, `publish statuses ${JSON.stringify(published)}`);
    assert.equal(published.error ?? 0, 0, `publish statuses ${JSON.stringify(published)}`);
  });

  await t.test('subscribers received the storm', async () => {
    const last = await c.waitUntil(() => subscribers.every((s) => s.messages.length > 10), 10000,
      'every subscriber to receive more than 10 messages');
    assert.ok(last);
  });

  await t.test('the daemon survived', () => {
    assert.ok(srv.alive(), 'satellited is running');
  });
});

test('bench/rest_p99.js smoke run', { timeout: 60000 }, async () => {
  const script = path.resolve(__dirname, '../../bench/rest_p99.js');
  const args = [script, '--subscribers=5', '--rest-clients=4', '--duration-ms=800', '--runs=1', '--rate=50', '--json'];
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: process.env, timeout: 50000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const result = JSON.parse(out);
  assert.ok(result.median.without.p99_ms >= 0, `p99 without REST load: ${out}`);
  assert.ok(result.median.with.p99_ms >= 0, `p99 with REST load: ${out}`);
});
