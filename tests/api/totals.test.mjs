// List totals under concurrent writes (docs/data-api.md "Totals"): pagination.total is kept by the writes,
// and must stay exact. Black-box, a list's total cannot be compared with "the count at the same instant",
// so every observed total is checked against the range the writes in flight allow (records whose create was
// answered before the list was sent and whose delete was not sent before it was answered must be counted;
// records whose create was not sent before the list was answered, or whose delete was answered before it
// was sent, must not), and the final totals once everything is quiet exactly. On SQLite the server under
// test is the sanitizer build, which also asserts inside every list that the total it read equals a count
// made in the list's own transaction (it would abort, and stop() would fail). On PostgreSQL
// (BASALT_TEST_ENV=pg) totals are kept by triggers in the database, the same assertion runs inside every list,
// and with both stores on PostgreSQL two processes write and list one environment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, req, tempDir, ENV_STORE, CONTROL_STORE, onlyOneProcess } from './harness.mjs';

let srv, b, admin, tables;
const sk = () => ({ key: b.secretKey });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function enterprise(s) { // 1,000 writes and thousands of lists: past the Free plan's monthly calls
  const r = await req(s, 'PUT', `/admin/v1/organizations/${s.bootstrap.organizationId}/plan`, { token: s.bootstrap.operatorToken, body: { plan: 'enterprise' } });
  assert.equal(r.status, 200, r.text);
  await sleep(1100); // the plan travels with the key, cached for up to a second
}

before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  tables = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  await enterprise(srv);
});
after(async () => { await srv?.stop(); });

const SHAPES = [
  { filters: { k: 'a' }, match: (r) => r.k === 'a' },
  { filters: { k: 'a', n: { $gte: 50 } }, match: (r) => r.k === 'a' && r.n >= 50 },
  { filters: { n: { $lt: 30 } }, match: (r) => r.n < 30 },
];

// How lists of a shape get their total, as explain says it (docs/data-api.md "Totals").
async function totalMethod(s, table, shape) {
  const path = `/admin/v1/projects/${s.bootstrap.projectId}/environments/dev/tables/${table}/explain`;
  const r = await req(s, 'POST', path, { token: s.bootstrap.operatorToken, body: { andFilters: shape.filters } });
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

// Waits (at most timeoutMs) until the writes keep the shape's total: on SQLite the registration runs on
// the environment's writer, on PostgreSQL after the list that asked for it.
async function waitMaintained(s, table, shape, { timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let total;
  do {
    total = await totalMethod(s, table, shape);
    if (total.method === 'maintained') return;
    await sleep(20);
  } while (Date.now() < deadline);
  assert.fail(`${JSON.stringify(shape.filters)} is not maintained after ${timeoutMs} ms: ${JSON.stringify(total)}`);
}

async function listTotal(s, table, shape, extra = '') {
  const q = encodeURIComponent(JSON.stringify(shape.filters));
  const r = await req(s, 'GET', `/v1/data/${table}?andFilters=${q}&limit=1${extra}`, { key: s.bootstrap.secretKey });
  assert.equal(r.status, 200, r.text);
  return r.json.pagination.total;
}

// The total as the last page tells it (offset + rows read): counted from the rows themselves.
async function lastPageTotal(s, table, shape, total) {
  const q = encodeURIComponent(JSON.stringify(shape.filters));
  const page = Math.max(1, Math.ceil(total / 100));
  const r = await req(s, 'GET', `/v1/data/${table}?andFilters=${q}&limit=100&page=${page}`, { key: s.bootstrap.secretKey });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.pagination.hasNext, false);
  return (page - 1) * 100 + r.json.items.length;
}

// Creates, updates (which move records in and out of shapes) and deletes from several clients, lists
// beside them, through the servers of srvs in turn (one process, or two on one database). Each record keeps
// its states ({v: {k, n}, start, ack}); a list [ls, le] must count a record that surely existed and whose
// every state possibly current then matches, and may count one that possibly existed with a state that
// matches.
async function interleave(srvs, table) {
  const s0 = srvs[0];
  const key = { key: s0.bootstrap.secretKey };
  const tb = `/admin/v1/projects/${s0.bootstrap.projectId}/environments/dev/tables`;
  const t = await req(s0, 'POST', tb, { token: s0.bootstrap.operatorToken, body: { tableName: table } });
  assert.equal(t.status, 201, t.text);
  const ix = await req(s0, 'POST', `${tb}/${table}/indexes`, { token: s0.bootstrap.operatorToken, body: { indexesToAdd: [{ name: 'k_createdAt', fields: { k: 1, createdAt: -1 } }] } });
  assert.equal(ix.status, 200, ix.text);
  let clock = 0;
  const recs = []; // {id, states: [{v, start, ack}], dStart, dAck}
  // 1,000 records: every shape has 200 or more matches, so its first list registers it and the writes keep it
  const seed = Array.from({ length: 1000 }, (_, i) => ({ k: i % 2 ? 'a' : 'b', n: i % 100 }));
  const seeded = await req(s0, 'POST', `/v1/data/${table}`, { ...key, body: seed });
  assert.equal(seeded.status, 201, seeded.text);
  seeded.json.forEach((r, i) => recs.push({ id: r.id, states: [{ v: seed[i], start: 0, ack: 0 }] }));
  for (const srv of srvs) {
    for (const shape of SHAPES) assert.equal(await listTotal(srv, table, shape), seed.filter(shape.match).length);
  }
  for (const shape of SHAPES) await waitMaintained(s0, table, shape);

  const rand = (n) => Math.floor(Math.random() * n);
  const OPS = 1000, CLIENTS = 4;
  let sent = 0;
  const seen = [];
  const writer = async (w) => {
    const srv = srvs[w % srvs.length];
    while (sent < OPS || seen.length < 30) { // (a slow machine or a fleet: writes go on until 30 lists ran beside them)
      sent++;
      const alive = recs.filter((r) => r.id && r.dStart === undefined && !r.busy);
      const roll = rand(100);
      if (alive.length > 50 && roll < 30) {
        const r = alive[rand(alive.length)];
        r.busy = true;
        r.dStart = ++clock;
        const d = await req(srv, 'DELETE', `/v1/data/${table}/${r.id}`, key);
        assert.equal(d.status, 200, d.text);
        r.dAck = ++clock;
      } else if (alive.length > 50 && roll < 60) {
        const r = alive[rand(alive.length)];
        r.busy = true;
        const v = { k: rand(2) ? 'a' : 'b', n: rand(100) };
        const st = { v, start: ++clock };
        r.states.push(st);
        const u = await req(srv, 'PATCH', `/v1/data/${table}/${r.id}`, { ...key, body: v });
        assert.equal(u.status, 200, u.text);
        st.ack = ++clock;
        r.busy = false;
      } else {
        const v = { k: rand(2) ? 'a' : 'b', n: rand(100) };
        const r = { states: [{ v, start: ++clock }] };
        recs.push(r);
        const c = await req(srv, 'POST', `/v1/data/${table}`, { ...key, body: v });
        assert.equal(c.status, 201, c.text);
        r.id = c.json.id;
        r.states[0].ack = ++clock;
      }
    }
  };
  let writing = true;
  const lister = async (which) => {
    const srv = srvs[which % srvs.length];
    for (let i = which; writing; i++) {
      const shape = SHAPES[i % SHAPES.length];
      const ls = ++clock;
      const total = await listTotal(srv, table, shape);
      const le = ++clock;
      seen.push({ shape, ls, le, total });
    }
  };
  const listers = [lister(0), lister(1), lister(2)];
  await Promise.all(Array.from({ length: CLIENTS }, (_, w) => writer(w)));
  writing = false;
  await Promise.all(listers);

  // The states of r possibly current during [ls, le]: the last one answered before ls, and every later one
  // sent before le.
  const possible = (r, ls, le) => {
    let from = 0;
    r.states.forEach((st, i) => { if (st.ack !== undefined && st.ack < ls) from = i; });
    return r.states.slice(from).filter((st, i) => i === 0 || st.start < le);
  };
  assert.ok(seen.length >= 30, `only ${seen.length} lists ran beside the writes`);
  for (const { shape, ls, le, total } of seen) {
    let must = 0, may = 0;
    for (const r of recs) {
      const created = r.states[0];
      if (!(created.start < le) || r.dAck < ls) continue; // surely not there
      const states = possible(r, ls, le);
      if (states.some((st) => shape.match(st.v))) may++;
      if (created.ack < ls && !(r.dStart < le) && states.every((st) => shape.match(st.v))) must++;
    }
    assert.ok(total >= must && total <= may, `total ${total} outside [${must}, ${may}] for ${JSON.stringify(shape.filters)}`);
  }
  for (const shape of SHAPES) {
    const expected = recs.filter((r) => r.dAck === undefined && shape.match(r.states[r.states.length - 1].v)).length;
    for (const srv of srvs) {
      const total = await listTotal(srv, table, shape);
      assert.equal(total, expected, `final total of ${JSON.stringify(shape.filters)}`);
      assert.equal(await lastPageTotal(srv, table, shape, total), expected, 'the rows themselves');
    }
  }
}

test('totals stay exact while 1,000 creates, updates and deletes from several clients interleave with lists', async () => {
  await interleave([srv], 'live');
});

test('two processes on one PostgreSQL database keep one exact total', onlyOneProcess('the fleet is already several processes on one database', { skip: !(ENV_STORE === 'pg' && CONTROL_STORE === 'pg') && 'needs both stores on PostgreSQL' }), async () => {
  // a second server on the same control store and environment databases: the same keys, the same rows
  const other = await startServer({ dataDir: srv.dataDir, keep: true });
  try {
    other.bootstrap = srv.bootstrap;
    await interleave([srv, other], 'shared');
  } finally {
    await other.stop({ removeDir: false });
  }
});

test('explain says how a list gets its total', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'explained' } });
  assert.equal(t.status, 201, t.text);
  const body = [...Array.from({ length: 250 }, () => ({ k: 'a' })), { k: 'b' }, { k: 'b' }, { k: 'b' }];
  assert.equal((await req(srv, 'POST', '/v1/data/explained', { ...sk(), body })).status, 201);
  const explain = async (body) => {
    const r = await req(srv, 'POST', `${tables}/explained/explain`, { ...admin, body });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const before = await explain({ andFilters: { k: 'a' } });
  assert.equal(before.total.method, 'counted');
  assert.match(before.total.reason, /200 or more/);
  assert.match(before.total.pageCost, /no index/, 'an unindexed filter says why its pages cost more');
  assert.equal(await listTotal(srv, 'explained', { filters: { k: 'a' } }), 250);
  await waitMaintained(srv, 'explained', { filters: { k: 'a' } });
  assert.equal((await explain({ andFilters: { k: 'a' } })).estimatedRows, 250);
  const small = await explain({ andFilters: { k: 'b' } });
  assert.equal(await listTotal(srv, 'explained', { filters: { k: 'b' } }), 3, 'a last page tells its total');
  assert.equal((await req(srv, 'GET', `/v1/data/explained?limit=1&page=2&andFilters=${encodeURIComponent('{"k":"b"}')}`, sk())).json.pagination.total, 3);
  assert.equal((await explain({ andFilters: { k: 'b' } })).total.method, 'counted', 'a cheap shape stays counted');
  assert.equal(small.total.method, 'counted');
  const re = await explain({ andFilters: { k: { $regex: '^a' } } });
  assert.equal(re.total.method, 'counted');
  assert.match(re.total.reason, /\$regex/);
  const r = await req(srv, 'GET', `/v1/data/explained?limit=1&andFilters=${encodeURIComponent('{"k":{"$regex":"^a"}}')}`, sk());
  assert.equal(r.json.pagination.total, 250, 'a $regex list is counted, exactly');
});

test('totals survive a restart: rows kept by an earlier process are never read', async () => {
  const dir = tempDir();
  try {
    let s = await startServer({ dataDir: dir });
    await enterprise(s);
    const tb = `/admin/v1/projects/${s.bootstrap.projectId}/environments/dev/tables`;
    assert.equal((await req(s, 'POST', tb, { token: s.bootstrap.operatorToken, body: { tableName: 'kept' } })).status, 201);
    const key = { key: s.bootstrap.secretKey };
    assert.equal((await req(s, 'POST', '/v1/data/kept', { ...key, body: Array.from({ length: 300 }, () => ({ k: 'a' })) })).status, 201);
    assert.equal(await listTotal(s, 'kept', SHAPES[0]), 300);
    await waitMaintained(s, 'kept', SHAPES[0]);
    assert.equal((await req(s, 'POST', '/v1/data/kept', { ...key, body: { k: 'a' } })).status, 201);
    assert.equal(await listTotal(s, 'kept', SHAPES[0]), 301);
    await s.stop({ removeDir: false });
    s = await startServer({ dataDir: dir }); // its first list registers the shape again, with a new id
    assert.equal((await req(s, 'POST', '/v1/data/kept', { ...key, body: { k: 'a' } })).status, 201);
    assert.equal(await listTotal(s, 'kept', SHAPES[0]), 302);
    await waitMaintained(s, 'kept', SHAPES[0]);
    assert.equal((await req(s, 'POST', '/v1/data/kept', { ...key, body: { k: 'a' } })).status, 201);
    assert.equal(await listTotal(s, 'kept', SHAPES[0]), 303);
    await s.stop({ removeDir: false });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
