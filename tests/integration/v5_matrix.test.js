// SPDX-License-Identifier: Apache-2.0
// atmosphere.js 5.0.45 against satellited on websocket, long-polling,
// streaming and sse, with message-length framing on and off: connect,
// receive a broadcast, and push a message that another client receives.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const c = require('./lib/clients');

const TRANSPORTS = ['websocket', 'long-polling', 'streaming', 'sse'];
const BROADCASTER = '/room';

for (const transport of TRANSPORTS) {
  for (const track of [true, false]) {
    test(`v5 ${transport} track=${track}`, { timeout: 30000 }, async (t) => {
      const srv = await startServer();
      const handles = [];
      t.after(async () => {
        await Promise.allSettled(handles.map((h) => h.close()));
        await srv.stop();
      });
      const url = `http://127.0.0.1:${srv.pushPort}${BROADCASTER}`;

      const a = await c.subscribeV5({ url, transport, track });
      handles.push(a);
      await c.withTimeout(a.opened, 5000, `open of the first client; events ${a.events}`);
      const b = await c.subscribeV5({ url, transport, track });
      handles.push(b);
      await c.withTimeout(b.opened, 5000, `open of the second client; events ${b.events}`);

      await c.pushPost(srv.pushPort, BROADCASTER, 'hello ✓ 日本語 😀 | pipe');
      await c.waitForMessage(a, 'hello ✓ 日本語 😀 | pipe');
      await c.waitForMessage(b, 'hello ✓ 日本語 😀 | pipe');

      a.push('from-a');
      await c.waitForMessage(b, 'from-a');
      await c.waitForMessage(a, 'from-a');

      await c.sleep(200);
      assert.deepEqual(a.messages, ['hello ✓ 日本語 😀 | pipe', 'from-a']);
      assert.deepEqual(b.messages, ['hello ✓ 日本語 😀 | pipe', 'from-a']);
    });
  }
}
