// SPDX-License-Identifier: Apache-2.0
// Small-scale checks of the benchmark tools: satbench against a real
// satellited over WebSocket, SSE and long-polling (a few connections, a few
// seconds), and bench/run-vs-nchan.sh end to end when nginx with the nchan
// module is installed. satbench is built with -DSAT_BUILD_BENCH=ON.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startServer, satellitedPath } = require('./lib/server');

const REPO = path.resolve(__dirname, '../..');
const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';

// satbench sits next to satellited in the same build tree: <build>/bench/satbench.
function satbenchPath() {
  if (process.env.SATBENCH) return process.env.SATBENCH;
  return path.resolve(path.dirname(satellitedPath()), '../bench/satbench');
}

const SATBENCH = satbenchPath();
const SKIP_NO_SATBENCH = fs.existsSync(SATBENCH)
  ? false
  : `satbench not found at ${SATBENCH}; configure with -DSAT_BUILD_BENCH=ON`;

function run(file, args, timeoutMs, env = process.env) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code ?? err.signal : 0, stdout, stderr }),
    );
  });
}

// Runs satbench against SRV and returns its parsed JSON result.
async function satbench(srv, args) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satbench-smoke-'));
  const json = path.join(dir, 'result.json');
  const result = await run(SATBENCH, [...args, '--pid', String(srv.pid), '--json', json, '--timeout', '40'], 50000);
  assert.equal(result.code, 0, `satbench failed:\n${result.stdout}\n${result.stderr}`);
  const parsed = JSON.parse(fs.readFileSync(json, 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  parsed.table = result.stdout;
  return parsed;
}

function publishArgs(srv, mode, scheme) {
  return [
    '--mode', mode,
    '--url', `${scheme}://127.0.0.1:${srv.pushPort}/smoke/${mode}-{n}`,
    '--pub-url', `http://127.0.0.1:${srv.pushPort}/smoke/${mode}-{n}?X-Atmosphere-Transport=polling`,
    '--subs', '20', '--channels', '4', '--publishers', '2', '--rate', '100',
    '--duration', '2', '--drain', '3',
  ];
}

function checkDelivery(r) {
  assert.equal(r.connected, 20, 'every subscriber connected');
  assert.equal(r.connect_errors, 0, 'no connect errors');
  assert.equal(r.publish_errors, 0, 'no publish errors');
  assert.ok(r.published >= 100, `published ${r.published} messages, expected at least 100`);
  assert.equal(r.missing, 0, `deliveries missing: delivered ${r.delivered} of ${r.expected}`);
  assert.ok(r.latency_p99_ms > 0, 'p99 latency measured');
  assert.ok(r.latency_max_ms >= r.latency_p99_ms, 'max latency is at least p99');
}

for (const [mode, scheme] of [['ws', 'ws'], ['sse', 'http'], ['lp', 'http']]) {
  test(`satbench ${mode} delivers every message`, { skip: SKIP_NO_SATBENCH, timeout: 60000 }, async (t) => {
    const srv = await startServer({ workers: 2, logLevel: 'warn' });
    t.after(() => srv.stop());
    checkDelivery(await satbench(srv, publishArgs(srv, mode, scheme)));
  });
}

test('satbench atmosphere websocket row', { skip: SKIP_NO_SATBENCH, timeout: 60000 }, async (t) => {
  const srv = await startServer({ workers: 2, logLevel: 'warn' });
  t.after(() => srv.stop());
  const r = await satbench(srv, [...publishArgs(srv, 'ws', 'ws'), '--atmosphere', '--label', 'atmo']);
  checkDelivery(r);
  assert.equal(r.atmosphere, true);
  assert.match(r.table, /^\| atmo \| 20 \|/m, 'table row starts with the label and the subscriber count');
});

test('satbench idle reads server memory', { skip: SKIP_NO_SATBENCH, timeout: 60000 }, async (t) => {
  const srv = await startServer({ workers: 2, logLevel: 'warn' });
  t.after(() => srv.stop());
  const r = await satbench(srv, [
    '--idle', '--url', `ws://127.0.0.1:${srv.pushPort}/smoke/idle-{n}`,
    '--subs', '200', '--channels', '10', '--duration', '1',
  ]);
  assert.equal(r.connected, 200);
  assert.ok(r.rss_before_kib > 0, 'RSS before connecting was read');
  assert.ok(r.rss_after_kib >= r.rss_before_kib, 'RSS did not shrink while 200 connections opened');
  assert.equal(r.published, 0, 'idle runs publish nothing');
});

test('satbench rejects a non-loopback URL', { skip: SKIP_NO_SATBENCH }, async () => {
  const r = await run(SATBENCH, ['--idle', '--url', 'ws://192.0.2.1:80/x'], 10000);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /invalid --url/);
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const SKIP_NO_NCHAN =
  SKIP_NO_SATBENCH || (fs.existsSync(NCHAN_MODULE) ? false : `nginx nchan module not installed (${NCHAN_MODULE})`);

test('run-vs-nchan.sh writes a report', { skip: SKIP_NO_NCHAN, timeout: 170000 }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'satbench-vs-nchan-'));
  const out = path.join(work, 'report.md');
  const build = path.resolve(path.dirname(SATBENCH), '..');
  const env = { ...process.env, NCHAN_PORT: String(await freePort()), SAT_PORT: String(await freePort()) };
  const r = await run(
    path.join(REPO, 'bench/run-vs-nchan.sh'),
    ['--rounds', '1', '--subs', '20', '--channels', '4', '--duration', '1', '--no-build',
      '--build', build, '--work', path.join(work, 'raw'), '--out', out],
    160000, env,
  );
  assert.equal(r.code, 0, `run-vs-nchan.sh failed:\n${r.stderr.slice(-4000)}`);
  const report = fs.readFileSync(out, 'utf8');
  for (const heading of ['## Idle WebSocket', '## Fan-out', '## Many channels', '## Latency at equal load', '## Commands']) {
    assert.ok(report.includes(heading), `report has "${heading}"`);
  }
  assert.match(report, /\| deliveries\/s \| [\d,]+ \| [\d,]+ \| [\d.]+ \|/, 'fan-out row has both medians and a ratio');
  const complete = report.match(/median of 1\/1 runs/g) ?? [];
  assert.equal(complete.length, 4, 'every scenario has one result per server');
  fs.rmSync(work, { recursive: true, force: true });
});
