// SPDX-License-Identifier: Apache-2.0
// A program that embeds libsatellite (examples/embed.c) serves real
// atmosphere.js clients: broadcasts made through the C API from the
// program's own thread arrive, and a custom message handler answers.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const c = require('./lib/clients');

const EMBED = process.env.SATELLITE_EMBED ||
  path.join(__dirname, '..', '..', 'build', 'examples', 'satellite-embed');

function startEmbed() {
  const child = spawn(EMBED, ['127.0.0.1:0', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const ready = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`satellite-embed exited with ${code}: ${stderr}`)));
  });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  return { ready, stop, stderr: () => stderr };
}

for (const transport of ['websocket', 'long-polling', 'sse']) {
  test(`embedded engine over ${transport}`, { timeout: 20000 }, async (t) => {
    const embed = startEmbed();
    const port = await c.withTimeout(embed.ready, 5000, 'the embedded server to listen');
    const handles = [];
    t.after(async () => {
      handles.forEach((h) => h.close());
      assert.equal(await embed.stop(), 0, `satellite-embed did not exit cleanly: ${embed.stderr()}`);
    });

    const ticker = c.subscribeV4({ url: `http://127.0.0.1:${port}/ticker`, transport, track: true });
    handles.push(ticker);
    await c.withTimeout(ticker.opened, 5000, 'open on /ticker');
    await c.waitUntil(() => ticker.messages.filter((m) => /^tick \d+$/.test(m)).length >= 3, 5000,
      `three ticks; got ${JSON.stringify(ticker.messages)}`);
    const ticks = ticker.messages.filter((m) => /^tick \d+$/.test(m)).map((m) => Number(m.slice(5)));
    for (let i = 1; i < ticks.length; i++) {
      assert.ok(ticks[i] > ticks[i - 1], `ticks out of order: ${ticks}`);
    }

    const echo = c.subscribeV4({ url: `http://127.0.0.1:${port}/echo`, transport, track: true });
    handles.push(echo);
    await c.withTimeout(echo.opened, 5000, 'open on /echo');
    echo.push('hello 日本');
    await c.waitForMessage(echo, 'ack:hello 日本');
  });
}
