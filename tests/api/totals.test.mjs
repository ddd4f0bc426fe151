// List totals under concurrent writes (docs/data-api.md "Totals"): pagination.total is kept by the writes,
// and must stay exact. Black-box, a list's total cannot be compared with "the count at the same instant",
// so every observed total is checked against the range the writes in flight allow (records whose create was
// answered before the list was sent and whose delete was not sent before it was answered must be counted;
// records whose create was not sent before the list was answered, or whose delete was answered before it
// was sent, must not), and the final totals once everything is quiet exactly. On SQLite the server under
// test is the sanitizer build, which also asserts inside every list that the total it read equals a count
// made in the list's own transaction (it would abort, and stop() would fail). On PostgreSQL
// (BASALT_TEST_ENV=pg) totals are not kept by the writes: every total is counted by the database in the
// list's snapshot, and the same bounds must hold.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, req, tempDir, ENV_STORE } from './harness.mjs';

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

// On SQLite: waits (at most timeoutMs) until the writes keep the shape's total; the registration runs on
// the environment's writer. On PostgreSQL every list's total is counted by the database: nothing to wait
// for, and explain must say so.
async function waitMaintained(s, table, shape, { timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let total;
  do {
    total = await totalMethod(s, table, shape);
    if (ENV_STORE === 'pg') {
      assert.equal(total.method, 'counted', JSON.stringify(total));
      assert.match(total.reason, /counted by PostgreSQL/);
      return;
    }
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

test('totals stay exact while 1,000 creates and deletes from several clients interleave with lists', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'live' } });
  assert.equal(t.status, 201, t.text);
  const ix = await req(srv, 'POST', `${tables}/live/indexes`, { ...admin, body: { indexesToAdd: [{ name: 'k_createdAt', fields: { k: 1, createdAt: -1 } }] } });
  assert.equal(ix.status, 200, ix.text);
  let clock = 0;
  const recs = []; // {k, n, id, cStart, cAck, dStart, dAck}
  // 1,000 records: every shape has 200 or more matches, so its first list registers it and the writes keep it
  const seed = Array.from({ length: 1000 }, (_, i) => ({ k: i % 2 ? 'a' : 'b', n: i % 100 }));
  const seeded = await req(srv, 'POST', '/v1/data/live', { ...sk(), body: seed });
  assert.equal(seeded.status, 201, seeded.text);
  seeded.json.forEach((r, i) => recs.push({ ...seed[i], id: r.id, cStart: 0, cAck: 0 }));
  for (const shape of SHAPES) assert.equal(await listTotal(srv, 'live', shape), seed.filter(shape.match).length);
  for (const shape of SHAPES) await waitMaintained(srv, 'live', shape);

  const rand = (n) => Math.floor(Math.random() * n);
  const OPS = 1000, CLIENTS = 4;
  let sent = 0;
  const writer = async () => {
    while (sent < OPS) {
      sent++;
      const alive = recs.filter((r) => r.cAck !== undefined && r.dStart === undefined);
      if (alive.length > 50 && rand(100) < 45) {
        const r = alive[rand(alive.length)];
        r.dStart = ++clock;
        const d = await req(srv, 'DELETE', `/v1/data/live/${r.id}`, sk());
        assert.equal(d.status, 200, d.text);
        r.dAck = ++clock;
      } else {
        const r = { k: rand(2) ? 'a' : 'b', n: rand(100) };
        recs.push(r);
        r.cStart = ++clock;
        const c = await req(srv, 'POST', '/v1/data/live', { ...sk(), body: { k: r.k, n: r.n } });
        assert.equal(c.status, 201, c.text);
        r.id = c.json.id;
        r.cAck = ++clock;
      }
    }
  };
  const seen = [];
  let writing = true;
  const lister = async (which) => {
    for (let i = which; writing; i++) {
      const shape = SHAPES[i % SHAPES.length];
      const ls = ++clock;
      const total = await listTotal(srv, 'live', shape);
      const le = ++clock;
      seen.push({ shape, ls, le, total });
    }
  };
  const listers = [lister(0), lister(1), lister(2)];
  await Promise.all(Array.from({ length: CLIENTS }, writer));
  writing = false;
  await Promise.all(listers);

  assert.ok(seen.length >= 30, `only ${seen.length} lists ran beside the writes`);
  for (const { shape, ls, le, total } of seen) {
    const matching = recs.filter(shape.match);
    const must = matching.filter((r) => r.cAck < ls && !(r.dStart < le)).length;
    const may = matching.filter((r) => r.cStart < le && !(r.dAck < ls)).length;
    assert.ok(total >= must && total <= may, `total ${total} outside [${must}, ${may}] for ${JSON.stringify(shape.filters)}`);
  }
  for (const shape of SHAPES) {
    const expected = recs.filter((r) => shape.match(r) && r.dAck === undefined).length;
    const total = await listTotal(srv, 'live', shape);
    assert.equal(total, expected, `final total of ${JSON.stringify(shape.filters)}`);
    assert.equal(await lastPageTotal(srv, 'live', shape, total), expected, 'the rows themselves');
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
  assert.match(before.total.reason, ENV_STORE === 'pg' ? /counted by PostgreSQL/ : /200 or more/);
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
  assert.match(re.total.reason, ENV_STORE === 'pg' ? /counted by PostgreSQL/ : /\$regex/);
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
