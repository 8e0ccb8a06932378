// SPDX-License-Identifier: Apache-2.0
// SNMP writes and notifications against a real satellited: an SNMPv3
// authPriv SET resumes a long-polling resource, the read-only community
// cannot write, and snmptrapd receives the reload notification.
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
const USER = 'satadmin';
const AUTH = 'auth-pass-123';
const PRIV = 'priv-pass-456';

function hostOf(server) {
  return server.snmp.replace(/^udp:/, '');
}

// Polls REST until the resource with this UUID is suspended.
async function resourceByUuid(server, uuid) {
  for (let i = 0; i < 100; i++) {
    const items = await c.restListAll(server, 'resources');
    const found = items.find((item) => item.id === uuid);
    if (found && found.attributes.state === 'suspended') return found;
    await c.sleep(20);
  }
  throw new Error(`resource ${uuid} never became suspended`);
}

test('SNMPv3 authPriv SET resumes a long-poll', { timeout: 30000 }, async (t) => {
  const server = await startServer({
    snmp: true,
    set: { 'snmp.v3_auth_pass': AUTH, 'snmp.v3_priv_pass': PRIV, 'snmp.v3_user': USER },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snmp-set-'));
  let poll = null;
  t.after(async () => {
    if (poll) poll.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    await server.stop();
  });

  // The first long-poll returns the handshake; the second one suspends.
  const hello = await c.httpExchange(server.pushPort, {
    path: '/snmp-set' + c.atmosphereQuery({ transport: 'long-polling', track: true, protocol: true }),
  });
  const handshake = c.parseHandshake(hello.body.toString('utf8'), true);
  assert.ok(handshake, `no handshake in ${JSON.stringify(hello.body.toString('utf8'))}`);
  poll = await c.rawSubscribe(server.pushPort, '/snmp-set',
    { transport: 'long-polling', track: true, protocol: true, tracking: handshake.uuid });
  const resource = await resourceByUuid(server, handshake.uuid);
  assert.equal(resource.attributes.state, 'suspended');
  const index = resource.index;
  await c.sleep(200);
  assert.equal(poll.response()?.complete ?? false, false, 'the long-poll ended before the SET');

  const set = await c.snmpTool('snmpset', ['-v3', '-l', 'authPriv', '-u', USER, '-a', 'SHA', '-A', AUTH, '-x', 'AES', '-X', PRIV,
    '-On', hostOf(server), `${ROOT}.1.9.1.12.${index}`, 'i', '2'], { dir });
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, new RegExp(`\\.1\\.9\\.1\\.12\\.${index} = INTEGER: 2`));
  const res = await poll.complete(5000);
  assert.equal(res.status, 200);
});

test('read-only community cannot write', { timeout: 30000 }, async (t) => {
  const server = await startServer({ snmp: true, set: { 'snmp.rwcommunity': 'private-rw' } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snmp-ro-'));
  t.after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await server.stop();
  });

  const denied = await c.snmpTool('snmpset', ['-v2c', '-c', 'public', '-On', hostOf(server), `${ROOT}.1.4.1.0`, 'i', '2'], { dir });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /noAccess|notWritable|authorizationError/);
  const stats = await c.adminGet(server, '/api/v1/statistics');
  assert.equal(stats.attributes.capturing, true, 'the read-only SET changed capturing');

  // The read-write community may make the same change.
  const allowed = await c.snmpTool('snmpset', ['-v2c', '-c', 'private-rw', '-On', hostOf(server), `${ROOT}.1.4.1.0`, 'i', '2'], { dir });
  assert.equal(allowed.code, 0, allowed.stderr);
  const after = await c.adminGet(server, '/api/v1/statistics');
  assert.equal(after.attributes.capturing, false);
});

test('snmptrapd receives the reload notification', { timeout: 30000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snmp-trap-'));
  const port = await c.freeUdpPort();
  const conf = path.join(dir, 'snmptrapd.conf');
  const log = path.join(dir, 'traps.log');
  fs.writeFileSync(conf, 'disableAuthorization yes\ndoNotRetainNotificationLogs yes\n');
  const trapd = spawn('snmptrapd', ['-f', '-C', '-c', conf, '-Lf', log, '-On', '-p', path.join(dir, 'pid'), `udp:127.0.0.1:${port}`],
    { env: c.snmpToolEnv(dir), stdio: 'ignore' });
  let server = null;
  t.after(async () => {
    trapd.kill('SIGTERM');
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await c.waitUntil(() => fs.existsSync(log) && /NET-SNMP version/.test(fs.readFileSync(log, 'utf8')), 5000, 'snmptrapd to start');

  server = await startServer({ snmp: true, set: { 'snmp.trap_sinks': `127.0.0.1:${port}` } });
  const reload = await c.adminRequest(server, 'POST', '/api/v1/framework/reload', {});
  assert.ok(reload.status >= 200 && reload.status < 300, `reload returned ${reload.status}: ${reload.text}`);

  // satConfigReloaded(4) or satConfigReloadFailed(5): the daemon has no
  // config file to reread, and either outcome is a reload notification.
  const text = await c.waitUntil(() => {
    const body = fs.readFileSync(log, 'utf8');
    return /\.1\.3\.6\.1\.3\.9999\.0\.[45]\b/.test(body) && body;
  }, 5000, `a reload notification in ${log}`);
  assert.match(text, /\.1\.3\.6\.1\.3\.9999\.1\.12\.1\.0/, 'satNotifyId missing');
});
