// SPDX-License-Identifier: Apache-2.0
// satconsole against a real satellited. `--once` output is compared field
// by field with the REST API, and its exit status checked when the server
// is unreachable. The curses interface runs in tmux: views, resize, actions,
// a wrong token, server loss and return, and quit. With atmosphere.js
// clients connected it lists and resumes resources, and a heartbeat edited
// in the Framework view changes what a connected client receives.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, satellitedPath, sleep } = require('./lib/server.js');
const {
  adminGet, adminRequest, rawSubscribe, rawLongPoll, subscribeV4, withTimeout, heartbeatProbe,
} = require('./lib/clients.js');

const SCREEN_TIMEOUT_MS = 10000;

// SATCONSOLE, else the satconsole built next to the satellited under test.
function satconsolePath() {
  if (process.env.SATCONSOLE) return process.env.SATCONSOLE;
  return path.resolve(path.dirname(satellitedPath()), '../tui/satconsole');
}

function runOnce(args, env = {}) {
  return new Promise((resolve) => {
    execFile(
      satconsolePath(),
      ['--once', ...args],
      { env: { ...process.env, HOME: os.tmpdir(), SATCONSOLE_URL: '', SATCONSOLE_TOKEN: '', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}

// Printable-ASCII form of a string, as --once writes ids, keys and values:
// control bytes as \n, \t, \r or \xNN, a backslash doubled, other code
// points as \u{XXXX}.
function escape(text) {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp > 0x7f) out += `\\u{${cp.toString(16).toUpperCase().padStart(4, '0')}}`;
    else out += ch;
  }
  return out;
}

// The text --once prints for a JSON scalar or list.
function plain(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(plain).join(',');
  if (typeof value === 'string') return escape(value);
  return String(value);
}

// "name value" lines from the REST API in the layout --once uses.
function expectedLines(prefix, attributes, into) {
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [sub, v] of Object.entries(value)) into.set(`${prefix}.${key}.${escape(sub)}`, plain(v));
    } else {
      into.set(`${prefix}.${key}`, plain(value));
    }
  }
}

async function restSnapshot(server) {
  const lines = new Map();
  const schema = await adminGet(server, '/api/v1');
  for (const type of schema.types) {
    if (type.singleton) {
      const obj = await adminGet(server, `/api/v1/${type.name}`);
      expectedLines(type.name, obj.attributes, lines);
      continue;
    }
    let cursor = null;
    do {
      const query = `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await adminGet(server, `/api/v1/${type.plural}${query}`);
      for (const item of page.items) expectedLines(`${type.name}.${escape(item.id)}`, item.attributes, lines);
      cursor = page.next_cursor;
    } while (cursor);
  }
  return lines;
}

function parseOnce(stdout) {
  const lines = new Map();
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const space = line.indexOf(' ');
    assert.ok(space > 0, `line without a value: ${JSON.stringify(line)}`);
    lines.set(line.slice(0, space), line.slice(space + 1));
  }
  return lines;
}

// ---- tmux ------------------------------------------------------------------

function tmux(...args) {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

function capture(session) {
  return tmux('capture-pane', '-p', '-t', session);
}

async function waitForScreen(session, pattern, what) {
  const deadline = Date.now() + SCREEN_TIMEOUT_MS;
  let screen = '';
  while (Date.now() < deadline) {
    try {
      screen = capture(session);
    } catch {
      screen = '(session gone)';
    }
    if (pattern.test(screen)) return screen;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
}

function sessionAlive(session) {
  try {
    tmux('has-session', '-t', session);
    return true;
  } catch {
    return false;
  }
}

// Ends a tmux session that may be exiting on its own (after `q`) already.
function killSession(session) {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // The session has ended already.
  }
}

function startConsole(session, url, tokenFile, cols = 80, rows = 24) {
  const cmd = [satconsolePath(), '--url', url, '--token-file', tokenFile]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  tmux('new-session', '-d', '-s', session, '-x', String(cols), '-y', String(rows),
    `env LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME=${os.tmpdir()} ${cmd}`);
}

function writeTokenFile(dir, token) {
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

// ---- tests -------------------------------------------------------------------

test('once output matches the REST API field by field', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const sub = await rawSubscribe(server.pushPort, '/console-once', { transport: 'streaming' });
  t.after(() => sub.destroy());
  // A broadcaster id with an escape sequence must come out escaped.
  const esc = await rawSubscribe(server.pushPort, '/esc%1B%5B31mred', { transport: 'streaming' });
  t.after(() => esc.destroy());
  const url = `http://${server.admin}`;
  await sleep(200);

  const before = await restSnapshot(server);
  const once = await runOnce(['--url', url]);
  const after = await restSnapshot(server);
  assert.equal(once.code, 0, `satconsole --once failed: ${once.stderr}`);
  assert.equal(once.stderr, '');
  const got = parseOnce(once.stdout);

  assert.ok(got.has('statistics.capturing'), 'statistics.capturing missing');
  assert.ok(got.has('broadcaster./console-once.resource-count'), 'broadcaster line missing');
  assert.equal(got.get('broadcaster./esc\\x1B[31mred.id'), '/esc\\x1B[31mred');
  assert.doesNotMatch(once.stdout, /\x1b/);
  for (const [name, value] of got) {
    assert.ok(before.has(name) || after.has(name), `--once printed ${name}, which REST does not have`);
    // Counters and clocks may move between the reads: either side counts.
    assert.ok(
      value === before.get(name) || value === after.get(name),
      `${name}: --once says ${JSON.stringify(value)}, REST says ${JSON.stringify(before.get(name))}`,
    );
  }
  for (const name of before.keys()) {
    if (after.has(name)) assert.ok(got.has(name), `--once is missing ${name}`);
  }
});

test('once exits 1 when the server is unreachable', async () => {
  const result = await runOnce(['--url', 'http://127.0.0.1:1']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /unreachable/);
  assert.equal(result.stdout, '');
});

test('once rejects a missing token file', async () => {
  const result = await runOnce(['--url', 'http://127.0.0.1:1', '--token-file', '/nonexistent/token']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /cannot open token file/);
});

test('console views, resize, action, outage and quit in tmux', async (t) => {
  const session = `satconsole-test-${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satconsole-it-'));
  let server = await startServer();
  t.after(async () => {
    killSession(session);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const token = server.token;
  const sub = await rawSubscribe(server.pushPort, '/console-chat', { transport: 'streaming' });
  t.after(() => sub.destroy());
  const esc = await rawSubscribe(server.pushPort, '/esc%1B%5B31mred', { transport: 'streaming' });
  t.after(() => esc.destroy());
  startConsole(session, `http://${server.admin}`, writeTokenFile(dir, token));

  let screen = await waitForScreen(session, /^live/m, 'the live state');
  assert.match(screen, /1 Overview/);
  assert.match(screen, /statistic\s+value\s+per second/);
  assert.doesNotMatch(screen, /token rejected/);

  tmux('send-keys', '-t', session, '2');
  screen = await waitForScreen(session, /broadcaster: 2 shown/, 'the broadcasters table');
  assert.match(screen, /\/console-chat/);
  assert.ok(screen.includes('/esc\\x1B[31mred'), 'the escape sequence in an id is not shown escaped');

  tmux('send-keys', '-t', session, 'Home', 'b');
  await waitForScreen(session, /message \(string, required\)/, 'the broadcast prompt');
  tmux('send-keys', '-t', session, 'hello-from-console', 'Enter');
  await waitForScreen(session, /Run broadcast on broadcaster \/console-chat\? \[y\/N\]/, 'the confirmation');
  tmux('send-keys', '-t', session, 'y');
  await waitForScreen(session, /broadcast \/console-chat: ok/, 'the broadcast result');
  const chat = await adminGet(server, '/api/v1/broadcasters/%2Fconsole-chat');
  assert.equal(chat.attributes.messages, 1);

  tmux('send-keys', '-t', session, '6');
  await waitForScreen(session, /init parameters: \d+/, 'the framework view');
  // Edit a value: it shows as pending, then apply and reload reports back.
  tmux('send-keys', '-t', session, '/', 'engine.heartbeat_s', 'Enter');
  await waitForScreen(session, /engine\.heartbeat_s/, 'the parameter found');
  tmux('send-keys', '-t', session, 'Enter');
  await waitForScreen(session, /new value for engine\.heartbeat_s: 60/, 'the edit prompt');
  tmux('send-keys', '-t', session, 'BSpace', 'BSpace', '30', 'Enter');
  await waitForScreen(session, /pending changes: 1/, 'the pending change');
  tmux('send-keys', '-t', session, 'r');
  await waitForScreen(session, /Apply 1 pending change\(s\) and reload\? \[y\/N\]/, 'the reload confirmation');
  tmux('send-keys', '-t', session, 'y');
  screen = await waitForScreen(session, /reload ok/, 'the reload result');
  assert.match(screen, /changes:/);
  screen = await waitForScreen(session, /engine\.heartbeat_s\s+30\s+runtime/, 'the applied value');
  const param = await adminGet(server, '/api/v1/init-params/engine.heartbeat_s');
  assert.equal(param.attributes.value, '30');
  // A value the server rejects names the key and the reason.
  tmux('send-keys', '-t', session, 'Enter', 'BSpace', 'BSpace', '-5', 'Enter', 'r', 'y');
  screen = await waitForScreen(session, /engine\.heartbeat_s: rejected: HTTP 422/, 'the rejected key');
  assert.match(screen, /nothing reloaded/);
  tmux('send-keys', '-t', session, '8');
  await waitForScreen(session, /invoked\s+broadcaster\s+\/console-chat broadcast/, 'the event log');

  tmux('resize-window', '-t', session, '-x', '120', '-y', '40');
  tmux('send-keys', '-t', session, '1');
  screen = await waitForScreen(session, /2 Broadcasters/, 'full view names at 120 columns');
  assert.equal(screen.split('\n').filter((l) => l.length).length >= 30, true, 'screen uses 40 rows');
  assert.match(screen, /^live/m);

  const adminPort = server.adminPort;
  await server.stop();
  await waitForScreen(session, /disconnected, retrying/, 'the disconnected state');
  server = await startServer({
    args: ['--admin-listen', `127.0.0.1:${adminPort}`],
    set: { 'admin.token': token },
  });
  screen = await waitForScreen(session, /^live/m, 'the live state after the restart');
  assert.doesNotMatch(screen, /disconnected/);

  tmux('send-keys', '-t', session, 'q');
  const deadline = Date.now() + SCREEN_TIMEOUT_MS;
  while (sessionAlive(session) && Date.now() < deadline) await sleep(50);
  assert.equal(sessionAlive(session), false, 'q did not end satconsole');
});

test('console says so when the token is wrong', async (t) => {
  const session = `satconsole-token-${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satconsole-it-'));
  const server = await startServer();
  t.after(async () => {
    killSession(session);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  startConsole(session, `http://${server.admin}`, writeTokenFile(dir, 'not-the-token'));
  const screen = await waitForScreen(session, /token rejected/, 'the token-rejected state');
  assert.match(screen, /token rejected \(HTTP 401/);

  tmux('send-keys', '-t', session, 'z');
  await waitForScreen(session, /Run reset on statistics/, 'the reset confirmation');
  tmux('send-keys', '-t', session, 'y');
  await waitForScreen(session, /reset statistics failed: HTTP 401/, 'the rejected reset');
  const stats = await adminRequest(server, 'GET', '/api/v1/statistics');
  assert.equal(stats.status, 200);
  tmux('send-keys', '-t', session, 'q');
});

// Keys that erase a prompt's prefilled text (the prompts have no kill key).
function erase(n) {
  return Array.from({ length: n }, () => 'BSpace');
}

// The resource of one client as the REST API shows it, or undefined.
async function restResource(server, uuid) {
  const page = await adminGet(server, '/api/v1/resources?limit=1000');
  return page.items.find((item) => item.id === uuid);
}

test('resources view lists and resumes clients', { timeout: 30000 }, async (t) => {
  const session = `satconsole-res-${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satconsole-it-'));
  const server = await startServer();
  const url = `http://127.0.0.1:${server.pushPort}/console-res`;
  const clients = [];
  let raw = null;
  t.after(async () => {
    for (const c of clients) c.close();
    if (raw) raw.poll.destroy();
    killSession(session);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const lp = subscribeV4({ url, transport: 'long-polling' });
  clients.push(lp);
  await withTimeout(lp.opened, 5000, `onOpen of the long-polling client; events ${lp.events}`);
  const ws = subscribeV4({ url, transport: 'websocket' });
  clients.push(ws);
  await withTimeout(ws.opened, 5000, `onOpen of the websocket client; events ${ws.events}`);
  raw = await rawLongPoll(server.pushPort, '/console-res');

  // REST lists the three clients under the UUIDs that the clients report.
  const uuids = { lp: String(lp.uuid()), ws: String(ws.uuid()), raw: raw.uuid };
  let rest = null;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const page = await adminGet(server, '/api/v1/resources?limit=1000');
    rest = new Map(page.items.map((item) => [item.id, item.attributes]));
    if (Object.values(uuids).every((u) => rest.get(u)?.state === 'suspended')) break;
    await sleep(50);
  }
  assert.equal(rest.get(uuids.lp)?.transport, 'long-polling', `long-polling client ${uuids.lp} not in REST`);
  assert.equal(rest.get(uuids.ws)?.transport, 'websocket', `websocket client ${uuids.ws} not in REST`);
  assert.equal(rest.get(uuids.raw)?.state, 'suspended', `raw long-poll ${uuids.raw} not suspended`);
  const lpBefore = rest.get(uuids.lp);
  assert.equal(lpBefore.state, 'suspended');

  // 120 columns make the id column wide enough for a whole UUID.
  startConsole(session, `http://${server.admin}`, writeTokenFile(dir, server.token), 120, 30);
  await waitForScreen(session, /^live/m, 'the live state');
  tmux('send-keys', '-t', session, '3');
  const screen = await waitForScreen(session, /resource: 3 shown, 3 on the server/, 'the resources table');
  for (const [name, uuid] of Object.entries(uuids)) {
    assert.ok(screen.includes(uuid), `${name} client ${uuid} is not on screen:\n${screen}`);
  }
  for (const uuid of rest.keys()) assert.ok(screen.includes(uuid), `REST resource ${uuid} is not on screen`);

  // Resume the raw long-poll: its suspended response ends.
  tmux('send-keys', '-t', session, '/', raw.uuid, 'Enter', 'r');
  await waitForScreen(session, new RegExp(`Run resume on resource ${raw.uuid}\\? \\[y/N\\]`), 'the resume confirmation');
  assert.equal(raw.poll.response().complete, false, 'the raw long-poll ended before the resume');
  tmux('send-keys', '-t', session, 'y');
  await waitForScreen(session, new RegExp(`resume ${raw.uuid}: ok`), 'the resume result');
  const ended = await raw.poll.complete(3000);
  assert.equal(ended.status, 200);

  // Resume the atmosphere.js long-polling client: it polls again, which the
  // server shows as a new request on the same resource.
  tmux('send-keys', '-t', session, '/', uuids.lp, 'Enter', 'r');
  await waitForScreen(session, new RegExp(`Run resume on resource ${uuids.lp}\\? \\[y/N\\]`), 'the second resume confirmation');
  tmux('send-keys', '-t', session, 'y');
  await waitForScreen(session, new RegExp(`resume ${uuids.lp}: ok`), 'the second resume result');
  let lpAfter = null;
  const repoll = Date.now() + 3000;
  while (Date.now() < repoll) {
    lpAfter = (await restResource(server, uuids.lp))?.attributes;
    if (lpAfter && lpAfter.state === 'suspended' && lpAfter['last-activity'] > lpBefore['last-activity']) break;
    await sleep(50);
  }
  assert.ok(lpAfter, 'the long-polling resource is gone after the resume');
  assert.equal(lpAfter.state, 'suspended', 'the long-polling client did not poll again');
  assert.ok(lpAfter['last-activity'] > lpBefore['last-activity'], 'no new request after the resume');
  assert.ok(!lp.events.includes('error'), `the long-polling client failed: ${lp.events}`);
  // The websocket client was not touched.
  assert.equal((await restResource(server, uuids.ws))?.attributes.state, 'suspended');
});

// Gaps in ms between consecutive heartbeats.
function gaps(beats) {
  return beats.slice(1).map((b, i) => b - beats[i]);
}

// Waits until the probe has seen `n` heartbeats since `since` (or timeoutMs
// passed) and returns them.
async function beatsAfter(probe, since, n, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (probe.beatsSince(since).length < n && Date.now() < deadline) await sleep(50);
  return probe.beatsSince(since);
}

test('framework heartbeat edit reaches clients', { timeout: 30000 }, async (t) => {
  const session = `satconsole-hb-${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'satconsole-it-'));
  const server = await startServer({ set: { 'engine.heartbeat_s': 30 } });
  let probe = null;
  t.after(async () => {
    if (probe) probe.conn.destroy();
    killSession(session);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  probe = await heartbeatProbe(server.pushPort, '/console-hb');
  const opened = Date.now();
  // 160 columns make the result line wide enough for the server's whole reason.
  startConsole(session, `http://${server.admin}`, writeTokenFile(dir, server.token), 160, 30);
  await waitForScreen(session, /^live/m, 'the live state');
  tmux('send-keys', '-t', session, '6');
  await waitForScreen(session, /init parameters: \d+/, 'the framework view');
  tmux('send-keys', '-t', session, '/', 'engine.heartbeat_s', 'Enter');
  await waitForScreen(session, /engine\.heartbeat_s\s+30\s+command-line/, 'the parameter at 30');

  // Silence before the edit: no heartbeat for several seconds.
  while (Date.now() - opened < 3000) await sleep(100);
  assert.deepEqual(probe.beats, [], 'heartbeats before the edit');

  tmux('send-keys', '-t', session, 'Enter');
  await waitForScreen(session, /new value for engine\.heartbeat_s: 30/, 'the edit prompt');
  tmux('send-keys', '-t', session, ...erase(2), '1', 'Enter');
  await waitForScreen(session, /pending changes: 1/, 'the pending change');
  tmux('send-keys', '-t', session, 'r');
  await waitForScreen(session, /Apply 1 pending change\(s\) and reload\? \[y\/N\]/, 'the reload confirmation');
  const applied = Date.now();
  tmux('send-keys', '-t', session, 'y');
  await waitForScreen(session, /reload ok/, 'the reload result');
  await waitForScreen(session, /engine\.heartbeat_s\s+1\s+runtime/, 'the applied value');
  assert.equal((await adminGet(server, '/api/v1/init-params/engine.heartbeat_s')).attributes.value, '1');
  let beats = await beatsAfter(probe, applied, 3, 4000);
  assert.ok(beats.length >= 3, `${beats.length} heartbeats in the 4 s after the edit`);
  for (const gap of gaps(beats)) assert.ok(gap > 600 && gap < 1700, `heartbeat gap ${gap} ms, beats ${gaps(beats)}`);

  // Values the server rejects: the reason is on screen, nothing changes.
  const rejected = Date.now();
  for (const bad of ['abc', '-3']) {
    tmux('send-keys', '-t', session, 'Enter');
    await waitForScreen(session, /new value for engine\.heartbeat_s: \S+/, 'the edit prompt');
    tmux('send-keys', '-t', session, ...erase(4), bad, 'Enter', 'r');
    await waitForScreen(session, /Apply 1 pending change\(s\) and reload\? \[y\/N\]/, 'the reload confirmation');
    tmux('send-keys', '-t', session, 'y');
    const screen = await waitForScreen(session,
      new RegExp(`engine\\.heartbeat_s: rejected: HTTP 422 .*invalid value '${bad}'`), `the rejection of ${bad}`);
    assert.ok(screen.includes(`invalid value '${bad}' for engine.heartbeat_s: expected an integer`),
      `no server reason for ${bad}:\n${screen}`);
    assert.match(screen, /nothing reloaded/);
    assert.doesNotMatch(screen, /reload ok/);
    const param = await adminGet(server, '/api/v1/init-params/engine.heartbeat_s');
    assert.equal(param.attributes.value, '1', `REST value after ${bad}`);
  }
  beats = await beatsAfter(probe, rejected, 4, 5000);
  assert.ok(beats.length >= 4, `${beats.length} heartbeats after the rejected values`);
  for (const gap of gaps(beats)) assert.ok(gap > 600 && gap < 1700, `heartbeat gap ${gap} ms after the rejections`);
  tmux('send-keys', '-t', session, 'q');
});
