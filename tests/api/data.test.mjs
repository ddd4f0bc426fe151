// The data API (client-api.md §2, §5 boolean mode, §6.1): tables created through the management API,
// records through /v1/data/:table and the /v1/:table shorthand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b, admin, tables;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  tables = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  const posts = await req(srv, 'POST', tables, { ...admin, body: {
    tableName: 'posts',
    schema: { bsonType: 'object', required: ['title'], properties: {
      title: { bsonType: 'string', minLength: 1, maxLength: 200 },
      views: { bsonType: 'int', minimum: 0 },
      status: { bsonType: 'string', enum: ['draft', 'published', 'archived'] },
      published: { bsonType: 'bool' },
      date: { bsonType: 'string' },
      when: { bsonType: 'date' },
      tags: { bsonType: 'array', items: { bsonType: 'string' } } } },
    permissions: { user: { create: true, read: true, list: true }, guest: { read: true, list: true, create: true } },
  } });
  assert.equal(posts.status, 201, posts.text);
});
after(async () => { await srv?.stop(); });

const pk = () => ({ key: b.publishableKey });
const sk = () => ({ key: b.secretKey });

test('table management: create, get, list, duplicate, bad names and schemas', async () => {
  const t = await req(srv, 'GET', `${tables}/posts`, admin);
  assert.equal(t.status, 200);
  assert.equal(t.json.tableName, 'posts');
  assert.match(t.json.id, /^tbl_/);
  assert.equal(t.json.schemaVersion, 1);
  assert.deepEqual(t.json.indexes.map((i) => i.name), ['_id_', 'idx_createdAt_desc', 'idx_updatedAt_desc', 'idx_createdBy']);
  const list = await req(srv, 'GET', tables, admin);
  assert.ok(list.json.items.some((x) => x.tableName === 'posts'));
  expectError(assert, await req(srv, 'POST', tables, { ...admin, body: { tableName: 'posts' } }), 409, 'data/table-already-exists');
  for (const tableName of ['', '1abc', 'a b', 'a"b', 'x'.repeat(65), 'a/b', 7]) {
    expectError(assert, await req(srv, 'POST', tables, { ...admin, body: { tableName } }), 400, 'data/validation-error');
  }
  expectError(assert, await req(srv, 'POST', tables, { ...admin, body: { tableName: 'bad', schema: { properties: { a: { bsonType: 'nope' } } } } }),
    400, 'data/validation-error');
  expectError(assert, await req(srv, 'GET', `${tables}/nope`, admin), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'POST', tables, { key: b.publishableKey, body: { tableName: 'x' } }), 401, 'auth/unauthorized');
});

test('create, get, patch, delete a record (and the shorthand)', async () => {
  const c = await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'Hi', views: '12', published: 'true',
    id: 'forged', createdBy: 'someone', createdAt: '1999-01-01T00:00:00.000Z', price: 18.99 } });
  assert.equal(c.status, 201, c.text);
  const r = c.json;
  assert.match(r.id, /^[0-9a-f]{24}$/);
  assert.equal(r.title, 'Hi');
  assert.equal(r.views, 12, 'numeric string coerced');
  assert.equal(r.published, true);
  assert.equal(r.createdBy, '');
  assert.equal(r.createdAt, r.updatedAt);
  assert.match(r.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(c.text.includes('"price":18.99'), 'number text kept');
  const g = await req(srv, 'GET', `/v1/data/posts/${r.id}`, pk());
  assert.equal(g.status, 200);
  assert.deepEqual(g.json, r);
  const short = await req(srv, 'GET', `/v1/posts/${r.id}`, pk());
  assert.deepEqual(short.json, r);
  await new Promise((res) => setTimeout(res, 5));
  const p = await req(srv, 'PATCH', `/v1/data/posts/${r.id}`, { ...sk(), body: { views: 13, extra: null, createdBy: 'x' } });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.views, 13);
  assert.equal(p.json.title, 'Hi');
  assert.equal(p.json.extra, null);
  assert.equal(p.json.createdBy, '');
  assert.ok(p.json.updatedAt > r.updatedAt);
  expectError(assert, await req(srv, 'PATCH', `/v1/data/posts/${r.id}`, { ...sk(), body: { title: null } }), 400, 'data/validation-error');
  const d = await req(srv, 'DELETE', `/v1/posts/${r.id}`, sk());
  assert.equal(d.status, 200);
  assert.deepEqual(d.json, { success: true });
  expectError(assert, await req(srv, 'GET', `/v1/data/posts/${r.id}`, pk()), 404, 'data/not-found');
  expectError(assert, await req(srv, 'DELETE', `/v1/data/posts/${r.id}`, sk()), 404, 'data/not-found');
  expectError(assert, await req(srv, 'PATCH', `/v1/data/posts/${r.id}`, { ...sk(), body: { views: 1 } }), 404, 'data/not-found');
});

test('validation errors and unknown tables', async () => {
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { views: 1 } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'x', views: 'many' } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'x', status: 'gone' } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'x', $where: 1 } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'x', 'a.b': 1 } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: 'null', headers: { 'Content-Type': 'application/json' } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: [1] }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'GET', '/v1/data/nope', pk()), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'GET', '/v1/data/nope/abc', pk()), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'GET', '/v1/nope', pk()), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'GET', '/v1/data/' + 'x'.repeat(40000), pk()), 414, 'common/uri-too-long');
  expectError(assert, await req(srv, 'GET', '/v1/data/a"b', pk()), 404, 'data/table-not-found');
});

test('batch create is all-or-nothing', async () => {
  const before = (await req(srv, 'GET', '/v1/data/posts?limit=1', pk())).json.pagination.total;
  const bad = await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: [{ title: 'a' }, { title: 'b' }, { views: 3 }] });
  expectError(assert, bad, 400, 'data/validation-error');
  assert.match(bad.json.message, /^\[2\]/);
  assert.equal((await req(srv, 'GET', '/v1/data/posts?limit=1', pk())).json.pagination.total, before);
  const ok = await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: [{ title: 'a' }, { title: 'b' }] });
  assert.equal(ok.status, 201);
  assert.equal(ok.json.length, 2);
  assert.notEqual(ok.json[0].id, ok.json[1].id);
});

test('lists: pagination, sort, filters, select, search', async () => {
  await req(srv, 'POST', tables, { ...admin, body: { tableName: 'items', schema: { properties: {
    n: { bsonType: 'int' }, status: { bsonType: 'string' }, day: { bsonType: 'string' }, at: { bsonType: 'date' } } } } });
  const rows = [];
  for (let i = 0; i < 45; i++) {
    rows.push({ n: i, status: ['draft', 'published', 'archived'][i % 3], day: `2025-01-${String(10 + (i % 20)).padStart(2, '0')}`,
      title: `Item number ${i}`, at: `2025-02-${String(1 + (i % 28)).padStart(2, '0')}`, tags: ['t' + (i % 2)], ...(i % 5 === 0 ? { opt: i } : {}) });
  }
  assert.equal((await req(srv, 'POST', '/v1/data/items', { ...sk(), body: rows })).status, 201);
  const p2 = await req(srv, 'GET', '/v1/data/items?page=2&limit=20&sortBy=n&sortDirection=asc', pk());
  assert.equal(p2.status, 200, p2.text);
  const { nextCursor, ...flags } = p2.json.pagination;
  assert.deepEqual(flags, { total: 45, page: 2, limit: 20, totalPages: 3, hasNext: true, hasPrev: true, hasNextPage: true, hasPrevPage: true });
  assert.match(nextCursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(p2.json.items.map((x) => x.n), Array.from({ length: 20 }, (_, i) => 20 + i));
  const clamp = await req(srv, 'GET', '/v1/data/items?limit=200&page=0', pk());
  assert.equal(clamp.json.pagination.limit, 100);
  assert.equal(clamp.json.pagination.page, 1);
  assert.equal((await req(srv, 'GET', '/v1/data/items?limit=-1', pk())).json.pagination.limit, 20);
  const past = await req(srv, 'GET', '/v1/data/items?page=9', pk());
  assert.deepEqual(past.json.items, []);
  assert.equal(past.json.pagination.total, 45);
  const q = (o) => encodeURIComponent(JSON.stringify(o));
  const pub = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ status: 'published', n: { $gte: 10, $lt: 30 } })}&sortBy=n&sortDirection=asc`, pk());
  assert.deepEqual(pub.json.items.map((x) => x.n), [10, 13, 16, 19, 22, 25, 28]);
  const ors = await req(srv, 'GET', `/v1/data/items?orFilters=${q({ n: 1, status: 'archived' })}&limit=100`, pk());
  assert.equal(ors.json.pagination.total, 16);
  const inq = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ n: { $in: [1, 2, 99] } })}`, pk());
  assert.equal(inq.json.pagination.total, 2);
  const nin = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ n: { $nin: [1, 2] } })}`, pk());
  assert.equal(nin.json.pagination.total, 43);
  const ne = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ status: { $ne: 'draft' } })}`, pk());
  assert.equal(ne.json.pagination.total, 30);
  const ex = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ opt: { $exists: true } })}`, pk());
  assert.equal(ex.json.pagination.total, 9);
  const dates = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ day: { $gte: '2025-01-13', $lte: '2025-01-15' } })}`, pk());
  assert.equal(dates.json.pagination.total, 8, 'plain strings compare lexicographically');
  const re = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ title: { $regex: '^item number 4\\d?$', $options: 'i' } })}`, pk());
  assert.equal(re.json.pagination.total, 6);
  const sel = await req(srv, 'GET', '/v1/data/items?select=n,status&limit=1', pk());
  assert.deepEqual(Object.keys(sel.json.items[0]).sort(), ['createdAt', 'createdBy', 'id', 'n', 'status', 'updatedAt']);
  const s = await req(srv, 'GET', '/v1/data/items?search=NUMBER%204&searchType=title', pk());
  assert.equal(s.json.pagination.total, 6);
  const sAll = await req(srv, 'GET', '/v1/data/items?search=number+44', pk());
  assert.equal(sAll.json.pagination.total, 1);
  // keyset cursors walk the same order without offsets; skipTotal skips the count
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 10; i++) {
    const page = await req(srv, 'GET', `/v1/data/items?limit=20&sortBy=n&sortDirection=desc${cursor ? `&cursor=${cursor}` : ''}`, pk());
    assert.equal(page.status, 200, page.text);
    seen.push(...page.json.items.map((x) => x.n));
    cursor = page.json.pagination.nextCursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, Array.from({ length: 45 }, (_, i) => 44 - i));
  const byDate = [];
  cursor = null;
  for (let i = 0; i < 10; i++) {
    const page = await req(srv, 'GET', `/v1/data/items?limit=7&skipTotal=true${cursor ? `&cursor=${cursor}` : ''}`, pk());
    assert.equal(page.json.pagination.total, null);
    assert.equal(page.json.pagination.hasNext, page.json.pagination.nextCursor !== null);
    byDate.push(...page.json.items.map((x) => x.id));
    cursor = page.json.pagination.nextCursor;
    if (!cursor) break;
  }
  assert.equal(new Set(byDate).size, 45, 'every record once, default order (createdAt desc, id desc)');
  expectError(assert, await req(srv, 'GET', '/v1/data/items?cursor=%21%21', pk()), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'GET', `/v1/data/items?cursor=${Buffer.from('{"a":1}').toString('base64url')}`, pk()), 400, 'data/validation-error');
  const sys = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ createdBy: { $in: ['', 'u1'] } })}&limit=1`, pk());
  assert.equal(sys.json.pagination.total, 45);
});

test('hostile filters get 400 data/validation-error, never 5xx', async () => {
  const q = (o) => encodeURIComponent(typeof o === 'string' ? o : JSON.stringify(o));
  const bad = [
    { n: { $where: 'sleep(1)' } }, { n: { $gt: 1, plain: 2 } }, { 'a"b': 1 }, { 'a[0]': 1 }, { $or: [] }, { ['x'.repeat(1000)]: 1 },
    { n: { $in: Array.from({ length: 1001 }, (_, i) => i) } }, { n: { $exists: 'yes' } }, { title: { $regex: '(' } },
    { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } }, '{"__proto__":1,"ok":1}', '{', '[1,]', '"x"',
  ];
  for (const f of bad) {
    const r = await req(srv, 'GET', `/v1/data/items?andFilters=${q(f)}`, pk());
    expectError(assert, r, 400, 'data/validation-error');
  }
  const slow = await req(srv, 'GET', `/v1/data/items?andFilters=${q({ title: { $regex: '^(a+)+$' } })}`, pk());
  assert.equal(slow.status, 200, 'catastrophic regex is bounded');
  expectError(assert, await req(srv, 'GET', '/v1/data/items?sortBy=a%22b', pk()), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'GET', '/v1/data/items?sortDirection=sideways', pk()), 400, 'data/validation-error');
  assert.equal((await req(srv, 'GET', '/v1/data/items?page=1e9', pk())).status, 200);
});

test('numbers beyond the double range are refused in bodies and filters; the largest doubles page with cursors', async () => {
  const json = { 'Content-Type': 'application/json' };
  const made = await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'huge', size: 1.7976931348623157e308 } });
  assert.equal(made.status, 201, made.text);
  for (const n of ['1e309', '-1e309', '2E+400', '0.00001e314']) {
    const raw = `{"title":"inf","size":${n}}`;
    expectError(assert, await req(srv, 'POST', '/v1/data/posts', { ...pk(), raw, headers: json }), 400, 'common/invalid-parameters');
    expectError(assert, await req(srv, 'PATCH', `/v1/data/posts/${made.json.id}`, { ...pk(), raw: `{"size":${n}}`, headers: json }), 400, 'common/invalid-parameters');
    const filter = encodeURIComponent(`{"size":{"$gt":${n}}}`);
    expectError(assert, await req(srv, 'GET', `/v1/data/posts?andFilters=${filter}`, pk()), 400, 'data/validation-error');
  }
  await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'huge too', size: -1.7976931348623157e308 } });
  const seen = [];
  for (let cursor = null, i = 0; i < 5; i++) {
    const page = await req(srv, 'GET', `/v1/data/posts?limit=1&sortBy=size&sortDirection=desc&andFilters=${encodeURIComponent('{"title":{"$in":["huge","huge too"]}}')}${cursor ? `&cursor=${cursor}` : ''}`, pk());
    assert.equal(page.status, 200, page.text);
    seen.push(...page.json.items.map((r) => r.size));
    cursor = page.json.pagination.nextCursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [1.7976931348623157e308, -1.7976931348623157e308]);
});

test('text that is not UTF-8 in a path or a parameter is a client error on every store', async () => {
  const made = await req(srv, 'POST', '/v1/data/posts', { ...pk(), body: { title: 'utf8' } });
  assert.equal(made.status, 201, made.text);
  for (const bad of ['%ff', '%c3%28', '%ed%a0%80', 'a%c0%af']) {
    for (const [method, p] of [['GET', `/v1/data/${bad}`], ['POST', `/v1/data/${bad}`], ['GET', `/v1/data/posts/${bad}`],
      ['PATCH', `/v1/data/posts/${bad}`], ['PUT', `/v1/data/posts/${bad}`], ['DELETE', `/v1/data/posts/${bad}`],
      ['GET', `/v1/data/posts?search=${bad}`], ['GET', `/v1/data/posts?search=${bad}&searchType=title`],
      ['GET', `/v1/data/posts?andFilters=%7B%22title%22%3A%22${bad}%22%7D`], ['GET', `/v1/data/posts?cursor=${bad}`],
      ['GET', `/v1/data/posts?sortBy=${bad}`], ['GET', `/v1/data/posts?select=${bad}`]]) {
      const r = await req(srv, method, p, { ...sk(), ...(method === 'GET' || method === 'DELETE' ? {} : { body: { title: 'x' } }) });
      assert.ok(r.status < 500, `${method} ${p}: ${r.status} ${r.text}`);
      if (r.status >= 400) expectError(assert, r, r.status, r.json?.error?.code);
    }
  }
  assert.equal((await req(srv, 'GET', `/v1/data/posts/${made.json.id}`, pk())).status, 200, 'the store still answers');
});

test('numeric strings coerced into a number field are answered and stored as valid JSON', async () => {
  const made = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'measures', schema: { properties: { n: { bsonType: 'double' } } },
    permissions: { guest: { create: true, read: true, list: true } } } });
  assert.equal(made.status, 201, made.text);
  for (const [sent, want] of [['007.5', 7.5], ['99999999999999999999', 1e20], ['-00.25e1', -2.5]]) {
    const r = await req(srv, 'POST', '/v1/data/measures', { ...pk(), body: { n: sent } });
    assert.equal(r.status, 201, r.text);
    assert.equal(JSON.parse(r.text).n, want, r.text);
    const page = await req(srv, 'GET', '/v1/data/measures?sortBy=n&limit=1', pk());
    assert.equal(page.status, 200, page.text);
    const next = page.json.pagination.nextCursor;
    if (next) assert.equal((await req(srv, 'GET', `/v1/data/measures?sortBy=n&limit=1&cursor=${next}`, pk())).status, 200);
  }
});

test('permissions: guest defaults, full replacement, system tables, scopes', async () => {
  await req(srv, 'POST', tables, { ...admin, body: { tableName: 'notes' } });
  const made = await req(srv, 'POST', '/v1/data/notes', { ...sk(), body: { text: 'x' } });
  assert.equal(made.status, 201);
  assert.equal((await req(srv, 'GET', '/v1/data/notes', pk())).status, 200, 'guest may list by default');
  expectError(assert, await req(srv, 'POST', '/v1/data/notes', { ...pk(), body: { text: 'y' } }), 403, 'data/permission-denied');
  expectError(assert, await req(srv, 'DELETE', `/v1/data/notes/${made.json.id}`, pk()), 403, 'data/permission-denied');
  const put = await req(srv, 'PUT', `${tables}/notes/permissions`, { ...admin, body: { guest: {} } });
  assert.equal(put.status, 200, put.text);
  expectError(assert, await req(srv, 'GET', '/v1/data/notes', pk()), 403, 'data/permission-denied');
  expectError(assert, await req(srv, 'GET', `/v1/data/notes/${made.json.id}`, pk()), 403, 'data/permission-denied');
  assert.equal((await req(srv, 'GET', '/v1/data/notes', sk())).status, 200, 'admin is never restricted');
  expectError(assert, await req(srv, 'PUT', `${tables}/notes/permissions`, { ...admin, body: { guest: { read: 'yes' } } }), 400, 'data/validation-error');
  await req(srv, 'POST', tables, { ...admin, body: { tableName: '_secrets' } });
  expectError(assert, await req(srv, 'GET', '/v1/data/_secrets', pk()), 403, 'data/system-table-access');
  assert.equal((await req(srv, 'GET', '/v1/data/_secrets', sk())).status, 200);
  const scoped = await req(srv, 'POST', `/admin/v1/projects/${b.projectId}/environments/dev/keys`, { ...admin,
    body: { type: 'secret', scopes: ['posts:read', 'posts:list'] } });
  const key = scoped.json.key;
  assert.equal((await req(srv, 'GET', '/v1/data/posts', { key })).status, 200);
  const denied = await req(srv, 'POST', '/v1/data/posts', { key, body: { title: 'x' } });
  expectError(assert, denied, 403, 'data/scope-insufficient');
  assert.match(denied.json.message, /posts:create/);
  expectError(assert, await req(srv, 'GET', '/v1/data/notes', { key }), 403, 'data/scope-insufficient');
});

test('ETag: 304 on If-None-Match, 412 on a stale If-Match', async () => {
  const c = await req(srv, 'POST', '/v1/data/posts', { ...sk(), body: { title: 'etag' } });
  const g = await req(srv, 'GET', `/v1/data/posts/${c.json.id}`, pk());
  const etag = g.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const again = await req(srv, 'GET', `/v1/data/posts/${c.json.id}`, { ...pk(), headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.get('etag'), etag);
  const list = await req(srv, 'GET', '/v1/data/posts?limit=5', pk());
  const letag = list.headers.get('etag');
  assert.ok(letag);
  assert.equal((await req(srv, 'GET', '/v1/data/posts?limit=5', { ...pk(), headers: { 'If-None-Match': letag } })).status, 304);
  const p = await req(srv, 'PATCH', `/v1/data/posts/${c.json.id}`, { ...sk(), headers: { 'If-Match': etag }, body: { views: 1 } });
  assert.equal(p.status, 200, p.text);
  const newEtag = p.headers.get('etag');
  assert.notEqual(newEtag, etag);
  assert.equal((await req(srv, 'GET', `/v1/data/posts/${c.json.id}`, { ...pk(), headers: { 'If-None-Match': etag } })).status, 200);
  expectError(assert, await req(srv, 'PATCH', `/v1/data/posts/${c.json.id}`, { ...sk(), headers: { 'If-Match': etag }, body: { views: 2 } }),
    412, 'data/precondition-failed');
  assert.equal((await req(srv, 'GET', `/v1/data/posts/${c.json.id}`, pk())).json.views, 1, 'the stale write changed nothing');
  expectError(assert, await req(srv, 'DELETE', `/v1/data/posts/${c.json.id}`, { ...sk(), headers: { 'If-Match': etag } }), 412,
    'data/precondition-failed');
  assert.equal((await req(srv, 'DELETE', `/v1/data/posts/${c.json.id}`, { ...sk(), headers: { 'If-Match': newEtag } })).status, 200);
});

test('POST /v1/batch: creates, updates and deletes in one transaction', async () => {
  const seed = await req(srv, 'POST', '/v1/data/posts', { ...sk(), body: [{ title: 'one' }, { title: 'two' }] });
  const [a, bRec] = seed.json;
  const ok = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [
    { method: 'create', table: 'posts', data: { title: 'three', views: '3' } },
    { method: 'update', table: 'posts', id: a.id, data: { views: 7 } },
    { method: 'delete', table: 'posts', id: bRec.id },
  ] } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.results.map((r) => r.status), [201, 200, 200]);
  assert.equal(ok.json.results[0].data.views, 3);
  assert.equal(ok.json.results[1].data.views, 7);
  assert.deepEqual(ok.json.results[2].data, { success: true });
  expectError(assert, await req(srv, 'GET', `/v1/data/posts/${bRec.id}`, pk()), 404, 'data/not-found');
  // a failing operation rolls every earlier one back
  const total = async () => (await req(srv, 'GET', '/v1/data/posts?limit=1', pk())).json.pagination.total;
  const before = await total();
  const bad = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [
    { method: 'create', table: 'posts', data: { title: 'rolled back' } },
    { method: 'update', table: 'posts', id: a.id, data: { views: 99 } },
    { method: 'delete', table: 'posts', id: 'nope' },
  ] } });
  expectError(assert, bad, 404, 'data/not-found');
  assert.match(bad.json.message, /^operations\[2\]/);
  assert.equal(await total(), before);
  assert.equal((await req(srv, 'GET', `/v1/data/posts/${a.id}`, pk())).json.views, 7);
  expectError(assert, await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [] } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: Array(101).fill({ method: 'delete', table: 'posts', id: 'x' }) } }),
    400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [{ method: 'drop', table: 'posts' }] } }), 400,
    'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [{ method: 'create', table: 'nope', data: {} }] } }), 404,
    'data/table-not-found');
  expectError(assert, await req(srv, 'POST', '/v1/batch', { ...pk(), body: { operations: [{ method: 'delete', table: 'posts', id: a.id }] } }), 403,
    'data/permission-denied');
  expectError(assert, await req(srv, 'POST', '/v1/batch', { body: { operations: [] } }), 401, 'data/invalid-header');
});

// Structural OpenAPI 3.0 checks: required members, operations with described responses, every $ref
// resolving inside the document, every schema type one of OpenAPI's.
function checkOpenApi(doc) {
  assert.equal(doc.openapi, '3.0.0');
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  const types = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array']);
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string') {
      const target = node.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o?.[k], doc);
      assert.ok(target, `unresolved ${node.$ref}`);
    }
    if (typeof node.type === 'string' && !('in' in node)) assert.ok(types.has(node.type), `type ${node.type}`);
    Object.values(node).forEach(walk);
  };
  for (const [p, item] of Object.entries(doc.paths)) {
    assert.match(p, /^\//);
    for (const [method, op] of Object.entries(item)) {
      assert.ok(['get', 'post', 'patch', 'delete', 'put'].includes(method));
      assert.ok(Object.keys(op.responses).length > 0);
      for (const r of Object.values(op.responses)) assert.equal(typeof r.description, 'string');
      for (const prm of op.parameters || []) if (prm.in === 'path') assert.ok(p.includes(`{${prm.name}}`) && prm.required === true);
    }
  }
  walk(doc);
}

test('GET .../openapi is a valid OpenAPI 3.0 document built from the schema', async () => {
  const r = await req(srv, 'GET', '/v1/data/posts/openapi', pk());
  assert.equal(r.status, 200, r.text);
  checkOpenApi(r.json);
  assert.equal(r.json.info.title, 'posts API');
  assert.ok(r.json.paths['/v1/data/posts'].get && r.json.paths['/v1/data/posts'].post);
  assert.ok(r.json.paths['/v1/data/posts/{id}'].patch);
  const rec = r.json.components.schemas.posts;
  assert.deepEqual(rec.required, ['title']);
  assert.equal(rec.properties.views.type, 'integer');
  assert.equal(rec.properties.when.format, 'date-time');
  assert.equal(rec.properties.tags.items.type, 'string');
  assert.equal(rec.properties.id.readOnly, true);
  assert.equal((await req(srv, 'GET', '/v1/posts/openapi', pk())).status, 200);
});

test('custom indexes: add, unique violations, protected defaults, remove', async () => {
  await req(srv, 'POST', tables, { ...admin, body: { tableName: 'users2', schema: { properties: { email: { bsonType: 'string' }, age: { bsonType: 'int' } } } } });
  const ix = `${tables}/users2/indexes`;
  const add = await req(srv, 'POST', ix, { ...admin, body: { indexesToAdd: [
    { name: 'email_unique', fields: { email: 1 }, unique: true },
    { name: 'age_created', fields: { age: 1, createdAt: -1 }, sparse: true }] } });
  assert.equal(add.status, 200, add.text);
  assert.equal(add.json.indexVersion, 2);
  assert.deepEqual(add.json.indexes.map((i) => i.name),
    ['_id_', 'idx_createdAt_desc', 'idx_updatedAt_desc', 'idx_createdBy', 'email_unique', 'age_created']);
  const got = await req(srv, 'GET', ix, admin);
  assert.equal(got.json.indexes.length, 6);
  assert.equal((await req(srv, 'POST', '/v1/data/users2', { ...sk(), body: { email: 'a@x.io', age: 3 } })).status, 201);
  expectError(assert, await req(srv, 'POST', '/v1/data/users2', { ...sk(), body: { email: 'a@x.io' } }), 409, 'data/duplicate-value');
  const batch = await req(srv, 'POST', '/v1/data/users2', { ...sk(), body: [{ email: 'b@x.io' }, { email: 'b@x.io' }] });
  expectError(assert, batch, 409, 'data/duplicate-value');
  assert.match(batch.json.message, /^\[1\]/);
  const q = encodeURIComponent(JSON.stringify({ age: 3 }));
  assert.equal((await req(srv, 'GET', `/v1/data/users2?andFilters=${q}&sortBy=createdAt`, pk())).json.pagination.total, 1);
  expectError(assert, await req(srv, 'POST', ix, { ...admin, body: { indexesToRemove: ['idx_createdBy'] } }), 400, 'data/index-protected');
  expectError(assert, await req(srv, 'POST', ix, { ...admin, body: { indexesToAdd: [{ name: 'email_unique', fields: { email: 1 } }] } }), 409,
    'data/index-already-exists');
  expectError(assert, await req(srv, 'POST', ix, { ...admin, body: { indexesToAdd: [{ name: 'bad', fields: { 'a"b': 1 } }] } }), 400,
    'data/validation-error');
  expectError(assert, await req(srv, 'POST', ix, { ...admin, body: { indexesToAdd: [{ name: 'bad', fields: { email: 2 } }] } }), 400,
    'data/validation-error');
  expectError(assert, await req(srv, 'POST', ix, { ...admin, body: { indexesToRemove: ['nope'] } }), 404, 'data/index-not-found');
  // a unique index over existing duplicates is refused and changes nothing
  await req(srv, 'POST', '/v1/data/users2', { ...sk(), body: [{ email: 'c@x.io', age: 9 }, { email: 'd@x.io', age: 9 }] });
  expectError(assert, await req(srv, 'POST', ix, { ...admin, body: { indexesToAdd: [{ name: 'age_u', fields: { age: 1 }, unique: true }] } }),
    409, 'data/duplicate-value');
  assert.equal((await req(srv, 'GET', ix, admin)).json.indexVersion, 2);
  const rm = await req(srv, 'POST', ix, { ...admin, body: { indexesToRemove: ['email_unique'] } });
  assert.equal(rm.status, 200);
  assert.equal(rm.json.indexVersion, 3);
  assert.equal((await req(srv, 'POST', '/v1/data/users2', { ...sk(), body: { email: 'a@x.io' } })).status, 201);
});

test('/spec and the reserved shorthand names', async () => {
  const spec = await req(srv, 'GET', '/v1/data/posts/spec', pk());
  assert.equal(spec.status, 200);
  assert.equal(spec.json.tableName, 'posts');
  assert.deepEqual(spec.json.schema.required, ['title']);
  assert.ok(Array.isArray(spec.json.indexes));
  assert.ok(spec.json.permissions.guest);
  expectError(assert, await req(srv, 'GET', '/v1/auth', pk()), 404, 'common/not-found');
  // /v1/files is the file API now, never a table named "files"
  expectError(assert, await req(srv, 'GET', '/v1/files', pk()), 401, 'common/authentication-required');
  // /v1/users is the users endpoint now, never a table named "users"
  expectError(assert, await req(srv, 'GET', '/v1/users', pk()), 401, 'user/unauthorized');
});

test('tables and records are isolated per environment key', async () => {
  const del = await req(srv, 'DELETE', `${tables}/items`, admin);
  assert.equal(del.status, 200);
  expectError(assert, await req(srv, 'GET', '/v1/data/items', pk()), 404, 'data/table-not-found');
});

test('list totals follow every kind of write (small shapes are counted; large ones are kept by the writes: totals.test.mjs)', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'counted' } });
  assert.equal(t.status, 201, t.text);
  const total = async (q = '') => {
    const r = await req(srv, 'GET', `/v1/data/counted?limit=1&andFilters=${encodeURIComponent('{"k":"a"}')}${q}`, sk());
    assert.equal(r.status, 200, r.text);
    return r.json.pagination.total;
  };
  const many = await req(srv, 'POST', '/v1/data/counted', { ...sk(), body: Array.from({ length: 5 }, () => ({ k: 'a' })) });
  assert.equal(many.status, 201, many.text);
  assert.equal(await total(), 5);
  assert.equal(await total(), 5, 'a repeated count (served from the cache) is the same');
  assert.equal(await total('&page=9'), 5, 'a page past the end still reports the total');
  const one = await req(srv, 'POST', '/v1/data/counted', { ...sk(), body: { k: 'a' } });
  assert.equal(await total(), 6, 'create');
  assert.equal((await req(srv, 'PATCH', `/v1/data/counted/${one.json.id}`, { ...sk(), body: { k: 'b' } })).status, 200);
  assert.equal(await total(), 5, 'update moves a record out of the filter');
  assert.equal((await req(srv, 'DELETE', `/v1/data/counted/${many.json[0].id}`, sk())).status, 200);
  assert.equal(await total(), 4, 'delete');
  const batch = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [
    { method: 'create', table: 'counted', data: { k: 'a' } }, { method: 'create', table: 'counted', data: { k: 'a' } }] } });
  assert.equal(batch.status, 200, batch.text);
  assert.equal(await total(), 6, 'POST /v1/batch');
  const last = await req(srv, 'GET', '/v1/data/counted?limit=100', sk());
  assert.equal(last.json.pagination.total, 7, 'a single page counts its rows');
  assert.equal(last.json.items.length, 7);
});

test('concurrent creates are grouped but isolated: one unique violation fails only its own request', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'grouped' } });
  assert.equal(t.status, 201, t.text);
  const ix = await req(srv, 'POST', `${tables}/grouped/indexes`, { ...admin, body: { indexesToAdd: [{ name: 'slug_u', fields: { slug: 1 }, unique: true }] } });
  assert.equal(ix.status, 200, ix.text);
  const bodies = Array.from({ length: 120 }, (_, i) => ({ slug: i % 12 === 0 ? 'same' : `s${i}`, n: i }));
  const answers = await Promise.all(bodies.map((body) => req(srv, 'POST', '/v1/data/grouped', { ...sk(), body })));
  const created = answers.filter((a) => a.status === 201), dup = answers.filter((a) => a.status === 409);
  assert.equal(dup.length, 9, 'ten requests share a slug: exactly one wins');
  assert.equal(created.length, 111);
  assert.ok(dup.every((a) => a.json.error.code === 'data/duplicate-value'));
  assert.ok(created.every((a, i) => a.json.id && typeof a.json.n === 'number'));
  const list = await req(srv, 'GET', '/v1/data/grouped?limit=1', sk());
  assert.equal(list.json.pagination.total, 111);
  const ns = new Set(created.map((a) => a.json.n));
  assert.equal(ns.size, 111, 'each answer carries its own record');
});
