// SPDX-License-Identifier: Apache-2.0
// SATELLITE-MIB walks against a real satellited: snmpwalk and snmpbulkwalk
// of 1,000 resources match each other and REST, GETNEXT from random OIDs
// always moves forward, churn during a walk skips no stable row, and the npm
// net-snmp manager reads the same values as snmpwalk.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server.js');
const c = require('./lib/clients.js');

const ROOT = c.SNMP_ROOT;
const RESOURCE_UUID = `${ROOT}.1.9.1.2.`;
const RESOURCE_TRANSPORT = `${ROOT}.1.9.1.3.`;
const SSE = '3'; // SatTransport sse(3)

function hostOf(server) {
  return server.snmp.replace(/^udp:/, '');
}

// Rows of one column as a Map index -> value.
function column(rows, prefix) {
  const out = new Map();
  for (const r of rows) {
    if (r.oid.startsWith(prefix)) out.set(Number(r.oid.slice(prefix.length)), r.value);
  }
  return out;
}

function assertIncreasing(rows) {
  for (let i = 1; i < rows.length; i++) {
    assert.ok(c.oidCompare(rows[i - 1].oid, rows[i].oid) < 0, `OID ${rows[i].oid} does not follow ${rows[i - 1].oid}`);
  }
}

// Runs fn with a session of the npm net-snmp package and closes it.
async function withSession(server, fn) {
  const snmp = require('net-snmp');
  const [host, port] = hostOf(server).split(':');
  const session = snmp.createSession(host, 'public', { port: Number(port), version: snmp.Version2c, timeout: 5000, retries: 1 });
  try {
    return await fn(session, snmp);
  } finally {
    session.close();
  }
}

function getNext(session, oids) {
  return new Promise((resolve, reject) => {
    session.getNext(oids, (err, varbinds) => (err ? reject(err) : resolve(varbinds)));
  });
}

test('walk of 1000 resources matches bulkwalk and REST', { timeout: 60000 }, async (t) => {
  // About 3 s: 1,000 SSE connections, one walk, one bulk walk, REST paging.
  const server = await startServer({ snmp: true });
  const conns = [];
  t.after(async () => {
    for (const conn of conns) conn.destroy();
    await server.stop();
  });
  conns.push(...(await c.openSseConnections(server.pushPort, '/snmp-walk', 1000)));
  const rest = await c.restListAll(server, 'resources');
  assert.equal(rest.length, 1000);

  const walk = await c.snmpTool('snmpwalk', ['-v2c', '-c', 'public', '-On', ...c.snmpMibArgs(), hostOf(server), ROOT]);
  assert.equal(walk.code, 0, walk.stderr);
  assert.doesNotMatch(walk.stderr, /OID not increasing/);
  const bulk = await c.snmpTool('snmpbulkwalk', ['-v2c', '-c', 'public', '-On', '-Cr25', ...c.snmpMibArgs(), hostOf(server), ROOT]);
  assert.equal(bulk.code, 0, bulk.stderr);
  assert.doesNotMatch(bulk.stderr, /OID not increasing/);

  const rows = c.parseSnmpWalk(walk.stdout);
  const bulkRows = c.parseSnmpWalk(bulk.stdout);
  assertIncreasing(rows);
  const uuids = column(rows, RESOURCE_UUID);
  const transports = column(rows, RESOURCE_TRANSPORT);
  assert.deepEqual([...column(bulkRows, RESOURCE_UUID)], [...uuids]);
  assert.deepEqual([...column(bulkRows, RESOURCE_TRANSPORT)], [...transports]);

  assert.equal(uuids.size, 1000);
  assert.equal(new Set(uuids.values()).size, 1000, 'a UUID appears twice');
  for (const item of rest) {
    // SATELLITE-MIB's DisplayString hint prints the UUID without quotes.
    assert.equal(uuids.get(item.index), item.id, `row ${item.index}`);
    assert.equal(transports.get(item.index), `sse(${SSE})`, `transport of row ${item.index}`);
  }
});

test('GETNEXT from random OIDs moves forward', { timeout: 60000 }, async (t) => {
  // About 3 s: 10,000 GETNEXT varbinds in PDUs of 50.
  const server = await startServer({ snmp: true });
  const conns = [];
  t.after(async () => {
    for (const conn of conns) conn.destroy();
    await server.stop();
  });
  conns.push(...(await c.openSseConnections(server.pushPort, '/snmp-next', 50)));

  // Random OIDs around the MIB's groups, columns and rows: inside
  // columns, between them, with trailing sub-identifiers, at both ends.
  let seed = 12345;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = () => {
    const base = [1, 3, 6, 1, 3, 9999];
    const shape = rand(6);
    if (shape === 0) return [1, 3, 6, 1, rand(5), rand(10001)];
    const oid = [...base, rand(4)];
    if (shape >= 2) oid.push(rand(14));
    if (shape >= 3) oid.push(rand(3), rand(14));
    if (shape >= 4) oid.push(rand(70));
    if (shape === 5) oid.push(rand(3) === 0 ? 4294967295 : rand(100), rand(5));
    return oid;
  };
  const snmpOid = (a) => a.join('.');

  let checked = 0;
  let ends = 0;
  await withSession(server, async (session, snmp) => {
    for (let batch = 0; batch < 200; batch++) {
      const oids = Array.from({ length: 50 }, () => snmpOid(pick()));
      const varbinds = await getNext(session, oids);
      varbinds.forEach((vb, i) => {
        if (vb.type === snmp.ObjectType.EndOfMibView) {
          ends++;
          return;
        }
        assert.ok(!snmp.isVarbindError(vb), `GETNEXT ${oids[i]}: ${snmp.varbindError?.(vb) ?? vb.type}`);
        assert.ok(c.oidCompare(vb.oid, oids[i]) > 0, `GETNEXT ${oids[i]} returned ${vb.oid}`);
        checked++;
      });
    }
  });
  assert.equal(checked + ends, 10000);
  assert.ok(ends > 0, 'no request OID lay after the MIB');
  assert.ok(checked > 5000, `only ${checked} OIDs had a successor`);
});

test('walk during churn skips no stable row', { timeout: 60000 }, async (t) => {
  // About 3 s: 300 stable resources while waves of 20 connections open and
  // close. Closed resources stay in the registry for push.disconnect_grace_ms,
  // so the table grows during the walks.
  const server = await startServer({ snmp: true, set: { 'snmp.cache_ms': '100' } });
  const stable = [];
  let churning = true;
  const churn = [];
  t.after(async () => {
    churning = false;
    for (const conn of [...stable, ...churn]) conn.destroy();
    await server.stop();
  });
  stable.push(...(await c.openSseConnections(server.pushPort, '/snmp-stable', 300)));
  const stableIds = await c.restListAll(server, 'resources');
  assert.equal(stableIds.length, 300);

  const churner = (async () => {
    while (churning) {
      const wave = await c.openSseConnections(server.pushPort, '/snmp-churn', 20);
      churn.push(...wave);
      await c.sleep(50);
      for (const conn of wave) conn.destroy();
    }
  })();

  const walks = [];
  for (let i = 0; i < 3; i++) {
    walks.push(await c.snmpTool('snmpwalk', ['-v2c', '-c', 'public', '-On', '-Cc', hostOf(server), `${ROOT}.1.9`]));
  }
  churning = false;
  await churner;

  for (const walk of walks) {
    assert.equal(walk.code, 0, walk.stderr);
    const rows = c.parseSnmpWalk(walk.stdout);
    assertIncreasing(rows);
    const uuids = column(rows, RESOURCE_UUID);
    const transports = column(rows, RESOURCE_TRANSPORT);
    for (const item of stableIds) {
      assert.equal(uuids.get(item.index), `"${item.id}"`, `stable row ${item.index} missing from the UUID column`);
      assert.equal(transports.get(item.index), SSE, `stable row ${item.index} missing from the transport column`);
    }
  }
});

test('npm net-snmp walk equals snmpwalk', { timeout: 60000 }, async (t) => {
  // About 2 s. A cache of 60 s freezes every table between the two walks.
  const server = await startServer({ snmp: true, set: { 'snmp.cache_ms': '60000' } });
  const conns = [];
  t.after(async () => {
    for (const conn of conns) conn.destroy();
    await server.stop();
  });
  conns.push(...(await c.openSseConnections(server.pushPort, '/snmp-npm', 200)));

  const walk = await c.snmpTool('snmpwalk', ['-v2c', '-c', 'public', '-On', '-Ox', '-Oe', hostOf(server), ROOT]);
  assert.equal(walk.code, 0, walk.stderr);
  const expected = c.parseSnmpWalk(walk.stdout).map((r) => `${r.oid} ${toolValue(r)}`);

  const actual = await withSession(server, (session, snmp) => new Promise((resolve, reject) => {
    const out = [];
    session.walk(ROOT.slice(1), 20, (varbinds) => {
      for (const vb of varbinds) {
        if (snmp.isVarbindError(vb)) return reject(new Error(snmp.varbindError(vb)));
        out.push(`.${vb.oid} ${npmValue(vb, snmp)}`);
      }
    }, (err) => (err ? reject(err) : resolve(out)));
  }));

  assert.ok(expected.length > 200 * 11, `snmpwalk returned only ${expected.length} rows`);
  const differs = actual.findIndex((line, i) => line !== expected[i]);
  assert.equal(differs, -1, `first difference: npm ${actual[differs]}, snmpwalk ${expected[differs]}`);
  assert.equal(actual.length, expected.length);
});

// Normalized value of an `snmpwalk -Ox` line: hex octets for strings,
// decimal for numbers.
function toolValue(row) {
  if (row.type === 'Hex-STRING') return 'hex:' + row.value.replace(/\s+/g, '').toLowerCase();
  if (row.type === '' && row.value === '""') return 'hex:';
  if (row.type === 'STRING') return 'hex:' + Buffer.from(JSON.parse(row.value), 'latin1').toString('hex');
  return row.value.trim();
}

function npmValue(vb, snmp) {
  if (vb.type === snmp.ObjectType.OctetString) return 'hex:' + vb.value.toString('hex');
  if (vb.type === snmp.ObjectType.Counter64) return BigInt('0x' + (Buffer.isBuffer(vb.value) ? vb.value.toString('hex') || '0' : vb.value.toString(16))).toString();
  return String(vb.value);
}
