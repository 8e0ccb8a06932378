// SPDX-License-Identifier: Apache-2.0
// satellited as an AgentX subagent of a real snmpd started here: walks go
// through snmpd, the subagent reconnects after an snmpd restart, and a
// stopped snmpd does not delay broadcasts.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('./lib/server.js');
const c = require('./lib/clients.js');

const ROOT = c.SNMP_ROOT;

// Starts snmpd as an AgentX master on a private socket, config and
// persistent directory; resolves once it accepts SNMP requests.
async function startSnmpd(dir, port) {
  // snmpd saves its persistent state as snmpd.conf in the persistent
  // directory at exit, so the config file lives in a directory of its own.
  const etc = path.join(dir, 'etc');
  const state = path.join(dir, 'state');
  fs.mkdirSync(etc, { recursive: true });
  fs.mkdirSync(state, { recursive: true });
  const conf = path.join(etc, 'snmpd.conf');
  fs.writeFileSync(conf, [
    'master agentx',
    `agentXSocket ${path.join(dir, 'agentx.sock')}`,
    'agentXPerms 0600 0700',
    'rocommunity agentx-ro 127.0.0.1',
    '',
  ].join('\n'));
  const child = spawn('snmpd', ['-f', '-Lf', path.join(dir, 'snmpd.log'), '-C', '-c', conf, '-p', path.join(dir, 'snmpd.pid'),
    `udp:127.0.0.1:${port}`], { env: { ...c.snmpToolEnv(etc), SNMP_PERSISTENT_DIR: state }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await c.waitUntil(() => fs.existsSync(path.join(dir, 'agentx.sock')), 5000, 'the snmpd AgentX socket');
  return { child, exited };
}

async function stopSnmpd(snmpd) {
  snmpd.child.kill('SIGCONT');
  snmpd.child.kill('SIGTERM');
  await snmpd.exited;
}

function walkRoot(port, dir) {
  return c.snmpTool('snmpwalk', ['-v2c', '-c', 'agentx-ro', '-On', '-t', '1', '-r', '0', `127.0.0.1:${port}`, `${ROOT}.1.1`], { dir });
}

test('AgentX walk and SIGSTOP of snmpd', { timeout: 60000 }, async (t) => {
  // About 11 s: snmpd stays stopped for 10 s.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snmp-agentx-'));
  const port = await c.freeUdpPort();
  let snmpd = await startSnmpd(dir, port);
  let server = null;
  let ws = null;
  t.after(async () => {
    if (ws) ws.ws.terminate();
    if (server) await server.stop();
    await stopSnmpd(snmpd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  server = await startServer({
    snmp: true,
    args: ['--agentx', path.join(dir, 'agentx.sock')],
    set: { 'snmp.agentx_ping_s': '1' },
  });
  assert.match(server.snmp, /^agentx:/);

  const first = await pollWalk(port, dir, 5000);
  assert.match(first, /\.1\.3\.6\.1\.3\.9999\.1\.1\.2\.0 = STRING: "/);

  // Broadcast latency while snmpd is stopped for 10 s.
  ws = c.wsConnect(server.pushPort, '/snmp-agentx', { transport: 'websocket', protocol: false });
  await ws.opened;
  await c.sleep(200);
  snmpd.child.kill('SIGSTOP');
  const latencies = [];
  const stopAt = Date.now() + 10000;
  for (let i = 0; Date.now() < stopAt; i++) {
    const sent = Date.now();
    const text = `agentx-${i}`;
    await c.pushPost(server.pushPort, '/snmp-agentx', text);
    await c.waitUntil(() => ws.messages.some((m) => m.includes(text)), 2000, `broadcast ${text}`);
    latencies.push(Date.now() - sent);
    await c.sleep(100);
  }
  snmpd.child.kill('SIGCONT');
  assert.ok(latencies.length > 20, `only ${latencies.length} broadcasts in 10 s`);
  // A push path that waited on the stopped master would stall for at least
  // net-snmp's 1 s request timeout; shorter outliers are scheduling noise
  // on a busy 2-core machine, so the median carries the latency check.
  const sorted = [...latencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const worst = sorted[sorted.length - 1];
  assert.ok(median < 200, `median broadcast latency ${median} ms while snmpd was stopped`);
  assert.ok(worst < 1000, `a broadcast took ${worst} ms while snmpd was stopped`);
  await pollWalk(port, dir, 5000);
});

// snmpd drops the AgentX session when it exits. The subagent retries every
// snmp.agentx_ping_s seconds and registers satelliteMIB with the new snmpd.
test('AgentX reconnects after snmpd restart', { timeout: 30000 }, async (t) => {
  // About 2 s: the registration comes back about 1 s after the restart.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snmp-agentx-'));
  const port = await c.freeUdpPort();
  let snmpd = await startSnmpd(dir, port);
  let server = null;
  t.after(async () => {
    if (server) await server.stop();
    await stopSnmpd(snmpd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  server = await startServer({
    snmp: true,
    args: ['--agentx', path.join(dir, 'agentx.sock')],
    set: { 'snmp.agentx_ping_s': '1' },
  });
  await pollWalk(port, dir, 5000);

  // Restart snmpd on the same socket: the subagent pings every second and
  // registers again.
  await stopSnmpd(snmpd);
  snmpd = await startSnmpd(dir, port);
  const restarted = Date.now();
  // One ping interval plus a little: net-snmp's default interval of 15 s
  // would fail here.
  await pollWalk(port, dir, 3000);
  const took = Date.now() - restarted;
  assert.ok(took < 3000, `satelliteMIB came back after ${took} ms`);
});

// Walks through snmpd until satelliteMIB answers; returns the output.
async function pollWalk(port, dir, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await walkRoot(port, dir);
    if (last.code === 0 && last.stdout.includes(`${ROOT}.1.1.1.0`)) return last.stdout;
    await c.sleep(100);
  }
  throw new Error(`satelliteMIB not reachable through snmpd: ${last && (last.stderr || last.stdout)}`);
}
