// SPDX-License-Identifier: Apache-2.0
// Drives the demo chat page (agent/www) in headless Chromium over the Chrome
// DevTools Protocol. The page and a Node atmosphere.js 4.0.1 client exchange
// messages over JSONP and WebSocket, and the page switches through all five
// transports. Raw requests check JSONP bytes and the polling transport.
'use strict';

const nodeTest = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const { startServer } = require('./lib/server.js');
const {
  httpExchange,
  atmosphereQuery,
  pushPost,
  rawSubscribe,
  subscribeV4,
  waitForMessage,
  withTimeout,
} = require('./lib/clients.js');

const REPO = path.resolve(__dirname, '../..');
const PAGE_DIR = path.join(REPO, 'agent/www');
const ATMOSPHERE_JS = path.join(REPO, 'node_modules/atmosphere-v4/lib/atmosphere.js');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHAT_PATH = '/chat';
// Chromium is not a build dependency, so without it every test is skipped
// with this reason instead of failing.
const SKIP_REASON = fs.existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM}; set CHROMIUM to its path`;

function test(name, fn) {
  nodeTest.test(name, { skip: SKIP_REASON }, fn);
}

const LAUNCH_TIMEOUT_MS = 20000;
const CDP_TIMEOUT_MS = 10000;
const WAIT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;

// Headless flags: no background services, and every host name except
// 127.0.0.1 resolves to nothing while all proxied traffic goes to a closed
// port, so the browser can reach only the test's own daemon.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--disable-breakpad',
  '--disable-crash-reporter',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=127.0.0.1',
  '--window-size=900,700',
  '--remote-debugging-port=0',
];

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Starts Chromium with a fresh profile and resolves to {child, wsUrl, exited}
// once it prints its DevTools WebSocket address on stderr.
function launchChromium(profileDir) {
  const home = path.join(profileDir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const args = [...CHROMIUM_FLAGS, `--user-data-dir=${profileDir}`, `--crash-dumps-dir=${path.join(profileDir, 'crashes')}`];
  const child = spawn(CHROMIUM, [...args, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Config and cache paths that default to the home directory stay in the
    // temp dir too.
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache') },
    // A process group of its own, so cleanup can reach the renderer and
    // utility processes that Chromium forks.
    detached: true,
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`Chromium printed no DevTools address within ${LAUNCH_TIMEOUT_MS} ms:\n${stderr.slice(-4000)}`));
    }, LAUNCH_TIMEOUT_MS);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.length > 1024 * 1024) stderr = stderr.slice(-64 * 1024);
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited during start (code ${code}, signal ${signal}):\n${stderr.slice(-4000)}`));
    });
  });
  return ready.then((wsUrl) => ({ child, wsUrl, exited, stderr: () => stderr }));
}

// Kills Chromium's whole process group.
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

// A minimal CDP client over the browser WebSocket, with flattened target
// sessions: send() takes an optional sessionId, and events are recorded.
class Cdp {
  constructor(wsUrl) {
    this.ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    this.nextId = 1;
    this.pending = new Map();
    this.events = [];
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString('utf8'))));
    this.ws.on('close', () => {
      for (const { reject, method } of this.pending.values()) reject(new Error(`CDP socket closed during ${method}`));
      this.pending.clear();
    });
  }

  onMessage(msg) {
    if (msg.id === undefined) {
      this.events.push(msg);
      return;
    }
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`CDP ${waiter.method} failed: ${JSON.stringify(msg.error)}`));
    else waiter.resolve(msg.result);
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    const reply = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
    this.ws.send(JSON.stringify(msg));
    return withTimeout(reply, CDP_TIMEOUT_MS, `CDP ${method}`);
  }

  close() {
    this.ws.terminate();
  }
}

// One page target: evaluate expressions and wait for conditions in it.
class Page {
  constructor(cdp, sessionId) {
    this.cdp = cdp;
    this.sessionId = sessionId;
  }

  send(method, params) {
    return this.cdp.send(method, params, this.sessionId);
  }

  // Evaluates `expression` in the page and returns its JSON value.
  async evaluate(expression) {
    const res = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (res.exceptionDetails) {
      throw new Error(`page threw on ${expression}: ${JSON.stringify(res.exceptionDetails).slice(0, 600)}`);
    }
    return res.result.value;
  }

  async waitFor(expression, description, timeoutMs = WAIT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate(expression);
      if (value) return value;
      if (Date.now() > deadline) {
        const state = await this.evaluate('JSON.stringify({state: window.chatState, transport: window.chatTransport, received: window.received})');
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}; page ${state}`);
      }
      await sleep(50);
    }
  }

  async navigate(url) {
    const res = await this.send('Page.navigate', { url });
    if (res.errorText) throw new Error(`navigation to ${url} failed: ${res.errorText}`);
    await this.waitFor('document.readyState === "complete"', `${url} to load`);
  }
}

// Requests the page made, from Network.requestWillBeSent and
// Network.webSocketCreated events.
function pageRequests(cdp) {
  return cdp.events
    .filter((e) => e.method === 'Network.requestWillBeSent' || e.method === 'Network.webSocketCreated')
    .map((e) => ({
      method: e.params.request ? e.params.request.method : 'GET',
      url: e.params.request ? e.params.request.url : e.params.url,
      type: e.params.type ?? 'WebSocket',
    }));
}

let server;
let tmpDir;
let browser;
let cdp;
let page;

nodeTest.before(async () => {
  if (SKIP_REASON) return;
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'satellite-browser-'));
  const wwwDir = path.join(tmpDir, 'www');
  fs.mkdirSync(wwwDir);
  for (const name of fs.readdirSync(PAGE_DIR)) fs.copyFileSync(path.join(PAGE_DIR, name), path.join(wwwDir, name));
  fs.copyFileSync(ATMOSPHERE_JS, path.join(wwwDir, 'atmosphere.js'));

  server = await startServer({ set: { 'push.static_dir': wwwDir } });
  browser = await launchChromium(path.join(tmpDir, 'profile'));
  cdp = new Cdp(browser.wsUrl);
  await withTimeout(cdp.opened, CDP_TIMEOUT_MS, 'the CDP WebSocket to open');

  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  page = new Page(cdp, sessionId);
  await page.send('Page.enable');
  await page.send('Runtime.enable');
  await page.send('Network.enable');
});

nodeTest.after(async () => {
  if (cdp) {
    try {
      await cdp.send('Browser.close');
    } catch {
      // The browser may already be gone; the group kill below covers it.
    }
    cdp.close();
  }
  if (browser) {
    const timer = setTimeout(() => killGroup(browser.child, 'SIGKILL'), STOP_TIMEOUT_MS);
    await browser.exited;
    clearTimeout(timer);
    // Chromium helpers outliving the browser process are ended with it.
    killGroup(browser.child, 'SIGKILL');
  }
  if (server) await server.stop();
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

process.on('exit', () => {
  if (browser && browser.child.exitCode === null) killGroup(browser.child, 'SIGKILL');
});

function pageUrl(transport, port = server.pushPort) {
  return `http://127.0.0.1:${port}/static/index.html?transport=${transport}`;
}

// Subscribes the Node client on websocket to the page's broadcaster.
async function nodeSubscriber() {
  const node = subscribeV4({ url: `http://127.0.0.1:${server.pushPort}${CHAT_PATH}`, transport: 'websocket', track: true });
  await withTimeout(node.opened, WAIT_MS, `Node onOpen; events ${node.events.join(',')}`);
  return node;
}

// Loads the page on `transport`, then sends one message each way between
// the page and a Node websocket client. With viaForm the page sends through
// its send box, otherwise through window.chatSend().
async function exchangeBothWays(transport, viaForm) {
  await page.navigate(pageUrl(transport));
  await page.waitFor('window.chatState === "open"', `the page to open on ${transport}`);
  assert.equal(await page.evaluate('window.chatTransport'), transport);

  const node = await nodeSubscriber();
  try {
    const fromPage = `from page over ${transport}`;
    if (viaForm) {
      // Types into the send box and submits it, as a person would.
      await page.evaluate(`document.getElementById('text').value = ${JSON.stringify(fromPage)};
        document.getElementById('send').requestSubmit();`);
      assert.equal(await page.evaluate('document.getElementById("text").value'), '', 'send box cleared');
    } else {
      assert.equal(await page.evaluate(`window.chatSend(${JSON.stringify(fromPage)})`), true);
    }
    await waitForMessage(node, fromPage, WAIT_MS);

    const fromNode = `from node to ${transport} "quoted" <b>&amp;</b> é`;
    node.push(fromNode);
    await page.waitFor(`window.received.includes(${JSON.stringify(fromNode)})`, `the page to receive ${JSON.stringify(fromNode)}`);
    const listText = await page.evaluate('document.getElementById("messages").textContent');
    assert.ok(listText.includes(fromNode), `message list shows the text verbatim: ${listText}`);
  } finally {
    node.close();
  }
}

test('static files served with content types', async () => {
  const html = await httpExchange(server.pushPort, { path: '/static/index.html' });
  assert.equal(html.status, 200);
  assert.match(html.headers['content-type'], /^text\/html/);
  const js = await httpExchange(server.pushPort, { path: '/static/atmosphere.js' });
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /^application\/javascript/);
  assert.ok(js.body.toString('utf8').includes('version: "4.0.1"'));
});

test('page and node exchange over jsonp', async () => {
  await exchangeBothWays('jsonp', false);

  const requests = pageRequests(cdp);
  const scripts = requests.filter((r) => r.url.includes('X-Atmosphere-Transport=jsonp'));
  assert.ok(scripts.length >= 2, `handshake and at least one poll as JSONP scripts: ${JSON.stringify(scripts)}`);
  assert.ok(scripts.every((r) => r.type === 'Script' && /jsonpTransport=atmosphere\d+/.test(r.url)),
    `JSONP polls are script loads with a callback: ${JSON.stringify(scripts)}`);
  const pushes = requests.filter((r) => r.method === 'POST');
  assert.equal(pushes.length, 1, `one push: ${JSON.stringify(pushes)}`);
  assert.equal(pushes[0].type, 'XHR');
  assert.match(pushes[0].url, /X-Atmosphere-Transport=polling/);
});

test('screenshot of jsonp page', async () => {
  const shot = await page.send('Page.captureScreenshot', { format: 'png' });
  const png = Buffer.from(shot.data, 'base64');
  const file = path.join(tmpDir, 'chat-jsonp.png');
  fs.writeFileSync(file, png);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // Keep a copy for a person to look at when asked to; the temp dir goes away.
  if (process.env.SAT_SCREENSHOT_DIR) fs.copyFileSync(file, path.join(process.env.SAT_SCREENSHOT_DIR, 'chat-jsonp.png'));
});

test('page and node exchange over websocket', async () => {
  await exchangeBothWays('websocket', true);
  const sockets = pageRequests(cdp).filter((r) => r.type === 'WebSocket');
  assert.equal(sockets.length, 1, `one page WebSocket: ${JSON.stringify(sockets)}`);
  assert.match(sockets[0].url, /^ws:\/\/127\.0\.0\.1:\d+\/chat\?.*X-Atmosphere-Transport=websocket/);
});

// Loads the page from the daemon on `port`, then switches it through the
// transport select and checks that a polling POST reaches it on each.
async function selectEachTransport(port, transports, timeoutMs) {
  await page.navigate(pageUrl('websocket', port));
  await page.waitFor('window.chatState === "open"', 'the page to open on websocket');
  for (const transport of transports) {
    await page.evaluate(`(() => {
      const select = document.getElementById('transport');
      select.value = ${JSON.stringify(transport)};
      select.dispatchEvent(new Event('change'));
    })()`);
    await page.waitFor(`window.chatState === "open" && window.chatTransport === ${JSON.stringify(transport)}`,
      `the page to open on ${transport}`, timeoutMs);
    assert.equal(await page.evaluate('new URLSearchParams(location.search).get("transport")'), transport);

    const message = `broadcast to ${transport}`;
    await pushPost(port, CHAT_PATH, message);
    await page.waitFor(`window.received.includes(${JSON.stringify(message)})`, `the page to receive on ${transport}`, timeoutMs);
  }
}

test('transport select switches page', async () => {
  // Chromium holds back a text/plain response until 1024 body bytes have
  // arrived; the default padding (engine.padding=browsers,
  // engine.padding_bytes=1024) lets long-polling and streaming open.
  await selectEachTransport(server.pushPort, ['long-polling', 'streaming', 'sse', 'jsonp', 'websocket'], WAIT_MS);
  await page.navigate('about:blank');
});

// The page's JSONP polls are script loads, so CDP shows their URLs but not
// their bodies: this probe checks the bytes of both kinds of response.
test('jsonp responses wrap one message', async () => {
  const query = { transport: 'jsonp', extra: { jsonpTransport: 'atmosphere7' } };
  const handshake = await rawSubscribe(server.pushPort, CHAT_PATH, query);
  let uuid;
  try {
    const res = await handshake.complete(WAIT_MS);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/javascript/);
    const body = res.body.toString('utf8');
    const match = /^atmosphere7\(\{"message" : "([0-9A-Za-z-]+)\|\d+\|[^"|]*\|"\}\);$/.exec(body);
    assert.ok(match, `handshake body ${JSON.stringify(body)}`);
    uuid = match[1];
  } finally {
    handshake.destroy();
  }

  const poll = await rawSubscribe(server.pushPort, CHAT_PATH, { ...query, tracking: uuid, protocol: false });
  try {
    await poll.headers(WAIT_MS);
    await pushPost(server.pushPort, CHAT_PATH, 'say "hi" it\'s a\\b/\u00e9\u{1F600}\tend');
    const res = await poll.complete(WAIT_MS);
    assert.equal(res.body.toString('latin1'),
      'atmosphere7({"message" : "say \\"hi\\" it\\\'s a\\\\b\\/\\u00E9\\uD83D\\uDE00\\tend"});');
  } finally {
    poll.destroy();
  }
});

test('polling GET answers at once', async () => {
  const started = Date.now();
  const res = await httpExchange(server.pushPort, {
    path: CHAT_PATH + atmosphereQuery({ transport: 'polling', protocol: false }),
  }, 2000);
  assert.equal(res.status, 200);
  assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
});

test('polling POST reaches the page', async () => {
  await page.navigate(pageUrl('websocket'));
  await page.waitFor('window.chatState === "open"', 'the page to open on websocket');
  const message = 'from a raw polling POST';
  await pushPost(server.pushPort, CHAT_PATH, message);
  await page.waitFor(`window.received.includes(${JSON.stringify(message)})`, 'the page to receive the polling POST');
});

test('browser reached only 127.0.0.1', () => {
  const urls = pageRequests(cdp).map((r) => r.url).filter((u) => !u.startsWith('about:') && !u.startsWith('data:'));
  assert.ok(urls.length > 0);
  const outside = urls.filter((u) => new URL(u).hostname !== '127.0.0.1');
  assert.deepEqual(outside, []);
});
