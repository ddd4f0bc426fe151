// The management API's table list (docs/data-api.md "Tables"): pages of an environment's tables by name
// (page, limit: 20 by default, at most 100), a name search, and record counts only when asked
// (counts=true, for the page's tables); malformed parameters answer the error envelope.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';

let srv, b, tables;
const admin = (method, path, body) => req(srv, method, path, { token: b.operatorToken, body });
const list = (query = '') => admin('GET', `${tables}${query}`);

before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  tables = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  for (let i = 0; i < 130; i++) {
    const name = `t${String(i).padStart(3, '0')}`;
    const r = await admin('POST', tables, { tableName: i % 10 === 0 ? `${name}_Orders` : name });
    assert.equal(r.status, 201, r.text);
  }
  for (let i = 0; i < 3; i++) {
    const r = await req(srv, 'POST', '/v1/data/t001', { key: b.secretKey, body: { n: i } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => { await srv?.stop(); });

test('tables page by name: 20 by default, at most 100, the usual pagination', async () => {
  const first = await list();
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.items.length, 20);
  assert.deepEqual(first.json.pagination, { total: 130, page: 1, limit: 20, totalPages: 7, hasNext: true, hasPrev: false, hasNextPage: true, hasPrevPage: false });
  assert.equal(first.json.items[0].tableName, 't000_Orders');
  const last = await list('?page=7');
  assert.deepEqual(last.json.items.map((t) => t.tableName), ['t120_Orders', ...Array.from({ length: 9 }, (_, i) => `t${121 + i}`)]);
  const big = await list('?limit=1000');
  assert.equal(big.json.items.length, 100, 'the cap');
  assert.equal(big.json.pagination.limit, 100);
  const names = [...big.json.items, ...(await list('?limit=100&page=2')).json.items].map((t) => t.tableName);
  assert.equal(new Set(names).size, 130, 'two pages hold every table once');
  assert.deepEqual((await list('?page=99')).json.items, []);
});

test('record counts only when asked, for the page', async () => {
  const plain = await list('?limit=3');
  assert.deepEqual(plain.json.items.map((t) => t.documentCount), [null, null, null]);
  const counted = await list('?limit=3&counts=true');
  assert.deepEqual(counted.json.items.map((t) => [t.tableName, t.documentCount]), [['t000_Orders', 0], ['t001', 3], ['t002', 0]]);
  const one = await admin('GET', `${tables}/t001`);
  assert.equal(one.json.documentCount, 3, 'a single table always counts');
});

test('search: a case-insensitive part of the name, paged', async () => {
  const hit = await list('?search=orders&limit=5');
  assert.equal(hit.json.pagination.total, 13);
  assert.deepEqual(hit.json.items.map((t) => t.tableName), ['t000_Orders', 't010_Orders', 't020_Orders', 't030_Orders', 't040_Orders']);
  assert.equal((await list('?search=nothing-like-it')).json.pagination.total, 0);
});

test('malformed list parameters answer the error envelope', async () => {
  expectError(assert, await list('?counts=yes'), 400, 'common/invalid-parameters');
  expectError(assert, await list(`?search=${'x'.repeat(65)}`), 400, 'common/invalid-parameters');
  const odd = await list('?page=abc&limit=-4');
  assert.equal(odd.status, 200, 'non-numbers fall back to the defaults, as every admin list');
  assert.deepEqual([odd.json.pagination.page, odd.json.pagination.limit], [1, 20]);
});
