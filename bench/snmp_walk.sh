#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Times snmpbulkwalk of a satResourceTable with N SSE resources (default
# 10000) and compares the push path's p99 broadcast latency (REST-free: a
# POST to the push port, received by one WebSocket client) during the walk
# with the latency without a walk. Not part of ctest.
#
# Usage: bench/snmp_walk.sh [SATELLITED] [CONNECTIONS]
# Needs node, snmpbulkwalk, and about CONNECTIONS + 100 open files per
# process (ulimit -n).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
export SATELLITED="${1:-$repo/build/agent/satellited}"
export BENCH_CONNECTIONS="${2:-10000}"
export NODE_PATH="$repo/node_modules"
exec node - "$repo" <<'JS'
'use strict';
const repo = process.argv[2];
const { startServer } = require(`${repo}/tests/integration/lib/server.js`);
const c = require(`${repo}/tests/integration/lib/clients.js`);
const count = Number(process.env.BENCH_CONNECTIONS);

function p99(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

// Broadcasts every 10 ms until stop() and records each send-to-receive time.
function latencyProbe(server, ws) {
  const samples = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const text = `probe-${Date.now()}-${i}`;
      const sent = process.hrtime.bigint();
      await c.pushPost(server.pushPort, '/bench-probe', text);
      await c.waitUntil(() => ws.messages.some((m) => m.includes(text)), 5000, text);
      samples.push(Number(process.hrtime.bigint() - sent) / 1e6);
      ws.messages.length = 0;
      await c.sleep(10);
    }
  })();
  return { samples, stop: async () => { running = false; await done; } };
}

(async () => {
  const server = await startServer({ snmp: true, workers: 2, set: { 'push.max_connections': String(count + 1000) } });
  const conns = [];
  try {
    conns.push(...(await c.openSseConnections(server.pushPort, '/bench-walk', count, 500)));
    const ws = c.wsConnect(server.pushPort, '/bench-probe', { transport: 'websocket', protocol: false });
    await ws.opened;
    await c.sleep(500);

    const idle = latencyProbe(server, ws);
    await c.sleep(5000);
    await idle.stop();

    const loaded = latencyProbe(server, ws);
    const args = ['-v2c', '-c', 'public', '-On', '-Cr50', server.snmp.replace(/^udp:/, ''), `${c.SNMP_ROOT}.1.9`];
    const walk = await c.snmpTool('snmpbulkwalk', args, { timeoutMs: 300000 });
    await loaded.stop();
    if (walk.code !== 0) throw new Error(`snmpbulkwalk failed: ${walk.stderr}`);
    const rows = c.parseSnmpWalk(walk.stdout).filter((r) => r.oid.startsWith(`${c.SNMP_ROOT}.1.9.1.2.`)).length;

    console.log(`command: snmpbulkwalk ${args.join(' ')}`);
    console.log(`resources: ${count}, satResourceUuid rows walked: ${rows}`);
    console.log(`walk: ${walk.ms} ms, ${walk.stdout.split('\n').length - 1} varbinds`);
    console.log(`push p99 without walk: ${p99(idle.samples).toFixed(2)} ms (${idle.samples.length} broadcasts)`);
    console.log(`push p99 during walk:  ${p99(loaded.samples).toFixed(2)} ms (${loaded.samples.length} broadcasts)`);
    ws.ws.terminate();
  } finally {
    for (const conn of conns) conn.destroy();
    await server.stop();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
JS
