#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Measures push-path latency with and without REST admin load. A publisher
// POSTs timestamped messages to the push port at a fixed rate, and N
// WebSocket subscribers record receive time minus publish time. In alternate
// runs a separate process keeps 32 REST clients listing and reading objects.
// Prints p50/p99 per run and the median of each over the runs.
'use strict';

const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');

const lib = path.resolve(__dirname, '../tests/integration/lib');
const { startServer } = require(path.join(lib, 'server'));
const c = require(path.join(lib, 'clients'));

const DEFAULTS = {
  subscribers: 100,
  'rest-clients': 32,
  'duration-ms': 5000,
  'warmup-ms': 500,
  runs: 3,
  rate: 200,
  workers: 2,
  json: false,
  role: 'main',
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    if (m[1] === 'satellited') continue; // read by lib/server.js
    if (!(m[1] in DEFAULTS) && !['admin-port', 'token'].includes(m[1])) throw new Error(`unknown option --${m[1]}`);
    opts[m[1]] = m[2] === undefined ? true : /^\d+$/.test(m[2]) ? Number(m[2]) : m[2];
  }
  return opts;
}

function get(agent, port, route, token) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: route, agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

// Runs in the child process: REST clients list and read until the parent sends 'stop'.
async function restLoadRole(opts) {
  let stop = false;
  let answers = 0;
  let errors = 0;
  process.on('message', (msg) => {
    if (msg === 'stop') stop = true;
  });
  const routes = ['/api/v1/resources?limit=100', '/api/v1/broadcasters/%2Fbench', '/api/v1/statistics',
    '/api/v1/broadcasters', '/api/v1/framework', '/metrics'];
  const loop = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; !stop; i++) {
      const status = await get(agent, opts['admin-port'], routes[i % routes.length], opts.token);
      answers++;
      if (status !== 200) errors++;
    }
    agent.destroy();
  };
  process.send('ready');
  await Promise.all(Array.from({ length: opts['rest-clients'] }, loop));
  process.send({ answers, errors });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function startRestLoad(srv, opts) {
  const child = fork(__filename, ['--role=rest-load', `--admin-port=${srv.adminPort}`, `--token=${srv.token}`,
    `--rest-clients=${opts['rest-clients']}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`REST load process exited with ${code}`)));
  });
  const result = new Promise((resolve) => child.on('message', (m) => typeof m === 'object' && resolve(m)));
  return {
    async stop() {
      child.send('stop');
      const r = await c.withTimeout(result, 10000, 'the REST load process to report');
      child.kill();
      return r;
    },
  };
}

// One measured run: publishes at opts.rate for duration-ms and returns the
// latency samples (ms) of every subscriber, warm-up excluded.
async function measure(srv, subscribers, opts, runTag) {
  const samples = [];
  const listeners = subscribers.map((s) => {
    const fn = (data) => {
      const now = process.hrtime.bigint();
      const m = /^bench (\S+) (\d+) (\d+)$/.exec(data.toString('utf8'));
      if (m && m[1] === runTag && m[2] === '1') samples.push(Number(now - BigInt(m[3])) / 1e6);
    };
    s.ws.on('message', fn);
    return fn;
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const route = '/bench' + c.atmosphereQuery({ transport: 'polling', protocol: false });
  const period = 1000 / opts.rate;
  const start = Date.now();
  const warmEnd = start + opts['warmup-ms'];
  const end = warmEnd + opts['duration-ms'];
  const pending = [];
  let published = 0;
  let rejected = 0;
  for (let i = 0; Date.now() < end; i++) {
    const due = start + i * period;
    if (due > Date.now()) await c.sleep(due - Date.now());
    const counted = Date.now() >= warmEnd ? 1 : 0;
    const body = `bench ${runTag} ${counted} ${process.hrtime.bigint()}`;
    pending.push(new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: srv.pushPort, method: 'POST', path: route, agent,
        headers: { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        if (res.statusCode === 200) published++;
        else rejected++;
        res.on('end', resolve);
      });
      req.on('error', () => {
        rejected++;
        resolve();
      });
      req.end(body);
    }));
  }
  await Promise.all(pending);
  await c.sleep(500);
  subscribers.forEach((s, i) => s.ws.off('message', listeners[i]));
  agent.destroy();
  samples.sort((a, b) => a - b);
  return { samples: samples.length, published, rejected, p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99) };
}

async function main(opts) {
  const srv = await startServer({ workers: opts.workers, logLevel: 'warn' });
  const subscribers = [];
  try {
    for (let i = 0; i < opts.subscribers; i++) subscribers.push(c.wsConnect(srv.pushPort, '/bench', { transport: 'websocket' }));
    await c.withTimeout(Promise.all(subscribers.map((s) => s.opened)), 20000, 'subscribers to open');
    await Promise.all(subscribers.map((s) => s.waitMessages(1, 10000)));
    const runs = [];
    for (let r = 0; r < opts.runs; r++) {
      for (const withRest of [false, true]) {
        const load = withRest ? await startRestLoad(srv, opts) : null;
        const result = await measure(srv, subscribers, opts, `r${r}${withRest ? 'w' : 'o'}`);
        if (load) result.rest = await load.stop();
        runs.push({ run: r + 1, rest_load: withRest, ...result });
        if (!opts.json) {
          console.log(`run ${r + 1} ${withRest ? 'with' : 'without'} REST load: p50 ${result.p50_ms.toFixed(2)} ms, ` +
            `p99 ${result.p99_ms.toFixed(2)} ms, ${result.samples} samples, ${result.published} published, ` +
            `${result.rejected} rejected${load ? `, ${result.rest.answers} REST answers (${result.rest.errors} not 200)` : ''}`);
        }
      }
    }
    const pick = (withRest, key) => median(runs.filter((x) => x.rest_load === withRest).map((x) => x[key]));
    const summary = {
      config: { subscribers: opts.subscribers, rest_clients: opts['rest-clients'], rate: opts.rate,
        duration_ms: opts['duration-ms'], runs: opts.runs, workers: opts.workers },
      runs,
      median: {
        without: { p50_ms: pick(false, 'p50_ms'), p99_ms: pick(false, 'p99_ms') },
        with: { p50_ms: pick(true, 'p50_ms'), p99_ms: pick(true, 'p99_ms') },
      },
    };
    if (opts.json) {
      console.log(JSON.stringify(summary));
    } else {
      console.log(`median without REST load: p50 ${summary.median.without.p50_ms.toFixed(2)} ms, p99 ${summary.median.without.p99_ms.toFixed(2)} ms`);
      console.log(`median with ${opts['rest-clients']} REST clients: p50 ${summary.median.with.p50_ms.toFixed(2)} ms, p99 ${summary.median.with.p99_ms.toFixed(2)} ms`);
    }
  } finally {
    subscribers.forEach((s) => s.ws.terminate());
    await srv.stop();
  }
}

const opts = parseArgs(process.argv.slice(2));
(opts.role === 'rest-load' ? restLoadRole(opts) : main(opts)).catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
