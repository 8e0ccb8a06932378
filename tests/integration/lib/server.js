// SPDX-License-Identifier: Apache-2.0
// Starts a real satellited for one test: every listener on port 0, a private
// temp dir for the ready file, stderr collected for failure messages, and a
// kill on process exit so no daemon outlives the test run.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const READY_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;
const LOG_TAIL_BYTES = 8000;

const running = new Set();

process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

// Resolves the daemon binary: the SATELLITED environment variable (set by
// ctest), then a `--satellited=PATH` argument, then the default build tree.
function satellitedPath() {
  // Resolved here because the daemon runs with a temporary working directory.
  if (process.env.SATELLITED) return path.resolve(process.env.SATELLITED);
  const arg = process.argv.find((a) => a.startsWith('--satellited='));
  if (arg) return path.resolve(arg.slice('--satellited='.length));
  return path.resolve(__dirname, '../../../build/agent/satellited');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function splitHostPort(text) {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
}

// Reads VmRSS of a process in bytes, or throws when /proc has no entry.
function readRss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

async function waitForReady(child, readyFile, stderrText) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `satellited exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})\n` +
          stderrText(),
      );
    }
    try {
      return JSON.parse(fs.readFileSync(readyFile, 'utf8'));
    } catch (err) {
      if (err.code !== 'ENOENT') throw new Error(`invalid ready file ${readyFile}: ${err.message}`);
    }
    await sleep(20);
  }
  throw new Error(`satellited did not write ${readyFile} within ${READY_TIMEOUT_MS} ms\n${stderrText()}`);
}

/**
 * Starts satellited and waits for its ready file.
 *
 * options.set: object of config keys to values, passed as `--set key=value`.
 * options.args: extra command-line arguments.
 * options.snmp: true to keep the SNMP listener (default `--no-snmp`).
 * options.workers: worker thread count (default 2).
 *
 * Returns {pid, push, pushHost, pushPort, admin, adminPort, token, logs(),
 * rss(), alive(), stop()}. `stop()` sends SIGTERM and resolves to the exit
 * status, or rejects with the log tail unless the daemon exits 0; it is safe
 * to call twice.
 */
async function startServer(options = {}) {
  const binary = satellitedPath();
  if (!fs.existsSync(binary)) {
    throw new Error(`satellited binary not found at ${binary}; set SATELLITED to its path`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satellite-it-'));
  const readyFile = path.join(dir, 'ready.json');
  const args = [
    '--push-listen', '127.0.0.1:0',
    '--admin-listen', '127.0.0.1:0',
    '--workers', String(options.workers ?? 2),
    '--log-level', options.logLevel ?? 'info',
    '--ready-file', readyFile,
  ];
  if (options.snmp) args.push('--snmp-listen', '127.0.0.1:0');
  else args.push('--no-snmp');
  for (const [key, value] of Object.entries(options.set ?? {})) {
    args.push('--set', `${key}=${value}`);
  }
  args.push(...(options.args ?? []));

  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 4 * 1024 * 1024) stderr = stderr.slice(-LOG_TAIL_BYTES);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const logs = () => stderr;
  const logTail = () => `--- satellited stderr (tail) ---\n${stderr.slice(-LOG_TAIL_BYTES)}`;

  let ready;
  try {
    ready = await waitForReady(child, readyFile, logTail);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const push = splitHostPort(ready.push);
  const admin = ready.admin ? splitHostPort(ready.admin) : null;
  let stopping = null;

  const server = {
    pid: child.pid,
    push: ready.push,
    pushHost: push.host,
    pushPort: push.port,
    admin: ready.admin ?? null,
    adminPort: admin ? admin.port : null,
    token: ready.token ?? null,
    snmp: ready.snmp ?? null,
    dir,
    logs,
    logTail,
    exited,
    rss() {
      if (!server.alive()) {
        throw new Error(`satellited is not running (exit code ${child.exitCode}, signal ${child.signalCode})\n${logTail()}`);
      }
      return readRss(child.pid);
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    // Sends SIGTERM, waits for the exit (SIGKILL after STOP_TIMEOUT_MS) and
    // returns {code, signal}; rejects unless the exit code is 0.
    stop() {
      if (stopping) return stopping;
      stopping = (async () => {
        if (server.alive()) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const result = await exited;
        clearTimeout(timer);
        fs.rmSync(dir, { recursive: true, force: true });
        // A clean SIGTERM stop exits 0; anything else (a crash during the
        // test, or a hang that needed SIGKILL) fails the test that owns it.
        if (result.code !== 0) {
          throw new Error(`satellited did not stop cleanly (exit code ${result.code}, signal ${result.signal})\n${logTail()}`);
        }
        return result;
      })();
      return stopping;
    },
  };
  return server;
}

module.exports = { startServer, satellitedPath, readRss, sleep };
