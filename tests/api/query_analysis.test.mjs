// Query analysis through the management API: explain (which index, full scan, in-memory sort, the
// suggested index) and query-stats (per query shape, values stripped).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError, onlyOneProcess } from './harness.mjs';

let srv, b, admin, base;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  base = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  const t = await req(srv, 'POST', base, { ...admin, body: { tableName: 'orders',
    schema: { bsonType: 'object', properties: { status: { bsonType: 'string' }, total: { bsonType: 'int' } } } } });
  assert.equal(t.status, 201, t.text);
  const rows = Array.from({ length: 60 }, (_, i) => ({ status: ['new', 'paid', 'sent'][i % 3], total: i }));
  assert.equal((await req(srv, 'POST', '/v1/data/orders', { key: b.secretKey, body: rows })).status, 201);
});
after(async () => { await srv?.stop(); });

const explain = (body) => req(srv, 'POST', `${base}/orders/explain`, { ...admin, body });

test('explain: a filter without an index scans, and the suggested index then serves the list', async () => {
  const before = await explain({ andFilters: { status: 'paid' }, sortBy: 'createdAt', sortDirection: 'desc' });
  assert.equal(before.status, 200, before.text);
  assert.equal(before.json.estimatedRows, 20);
  assert.ok(Array.isArray(before.json.plan) && before.json.plan.length > 0);
  assert.equal(before.json.suggestion?.name, 'idx_status_createdAt');
  assert.deepEqual(before.json.suggestion.fields, { status: 1, createdAt: -1 });
  assert.equal(before.json.index === null || before.json.index === 'idx_createdAt_desc', true, 'read through the createdAt index at best');
  const made = await req(srv, 'POST', `${base}/orders/indexes`, { ...admin, body: { indexesToAdd: [{ name: before.json.suggestion.name, fields: before.json.suggestion.fields }] } });
  assert.equal(made.status, 200, made.text);
  const afterIx = await explain({ andFilters: JSON.stringify({ status: 'paid' }), sortBy: 'createdAt', sortDirection: 'desc' });
  assert.equal(afterIx.json.index, 'idx_status_createdAt');
  assert.equal(afterIx.json.fullScan, false);
  assert.equal(afterIx.json.sortInMemory, false);
  assert.equal(afterIx.json.suggestion, null);
  assert.equal(afterIx.json.estimatedRows, 20);
});

test('explain: default indexes, sorts in memory, range filters, bad input', async () => {
  const byDate = await explain({ sortBy: 'createdAt' });
  assert.equal(byDate.json.index, 'idx_createdAt_desc');
  assert.equal(byDate.json.sortInMemory, false);
  assert.equal(byDate.json.estimatedRows, 60);
  const byTotal = await explain({ andFilters: { total: { $gte: 10 } }, sortBy: 'total', sortDirection: 'asc' });
  assert.equal(byTotal.json.fullScan, true);
  assert.deepEqual(byTotal.json.suggestion.fields, { total: 1 });
  assert.equal(byTotal.json.estimatedRows, 50);
  const byId = await explain({ andFilters: { id: 'x' } });
  assert.equal(byId.json.estimatedRows, 0);
  expectError(assert, await explain({ andFilters: { total: { $bogus: 1 } } }), 400, 'data/validation-error');
  expectError(assert, await explain({ andFilters: '{not json' }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', `${base}/ghost/explain`, { ...admin, body: {} }), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'POST', `${base}/orders/explain`, { key: b.publishableKey, body: {} }), 401, 'auth/unauthorized');
});

test('query-stats: one entry per shape, values stripped, with time, rows and index', onlyOneProcess('query statistics are kept in memory per server (docs/data-api.md)'), async () => {
  const q = (f) => req(srv, 'GET', `/v1/data/orders?andFilters=${encodeURIComponent(JSON.stringify(f))}&limit=5`, { key: b.secretKey });
  for (const status of ['new', 'paid', 'sent', 'paid']) assert.equal((await q({ status })).status, 200);
  assert.equal((await q({ total: { $lt: 10 } })).status, 200); // the oldest rows: the newest first are read and skipped
  const stats = await req(srv, 'GET', `${base}/orders/query-stats`, admin);
  assert.equal(stats.status, 200, stats.text);
  assert.equal(stats.json.enabled, true);
  const byStatus = stats.json.items.find((s) => s.shape === 'and(status $eq) sort(-createdAt)');
  assert.ok(byStatus, JSON.stringify(stats.json.items));
  assert.equal(byStatus.count, 4, 'values are stripped: four lists, one shape');
  assert.equal(byStatus.index, 'idx_status_createdAt');
  assert.equal(byStatus.fullScan, false);
  assert.ok(byStatus.meanMs > 0 && byStatus.p95Ms >= byStatus.meanMs * 0.5);
  assert.equal(byStatus.rowsScannedPerRowReturned, 1, 'the index reads the rows the list answers, no more');
  const byTotal = stats.json.items.find((s) => s.shape === 'and(total $lt) sort(-createdAt)');
  assert.equal(byTotal.count, 1);
  assert.equal(byTotal.fullScan, true);
  assert.ok(byTotal.rowsScannedPerRowReturned > 1, 'a scan reads more rows than it answers');
  assert.equal(stats.json.items[0].shape, byStatus.shape, 'most frequent first');
  assert.ok(!Number.isNaN(Date.parse(byStatus.lastSeen)));
});

test('query-stats can be turned off', async () => {
  const off = await startServer({ args: ['--query-stats', '0'] });
  try {
    const ob = off.bootstrap;
    const p = `/admin/v1/projects/${ob.projectId}/environments/dev/tables`;
    assert.equal((await req(off, 'POST', p, { token: ob.operatorToken, body: { tableName: 't' } })).status, 201);
    assert.equal((await req(off, 'GET', '/v1/data/t', { key: ob.secretKey })).status, 200);
    const stats = await req(off, 'GET', `${p}/t/query-stats`, { token: ob.operatorToken });
    assert.equal(stats.json.enabled, false);
    assert.deepEqual(stats.json.items, []);
  } finally {
    await off.stop();
  }
});
