// Table and index names against SQLite's physical names (docs/data-api.md "Names"): names unique regardless
// of case, no table name equal to another table's index name, data directories from before the naming
// scheme, and `select` up to its limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, req, expectError, tempDir, ENV_STORE } from './harness.mjs';

let srv, b, admin, tables;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  tables = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
});
after(async () => { await srv?.stop(); });

const sk = () => ({ key: b.secretKey });
const create = (name, body = {}) => req(srv, 'POST', tables, { ...admin, body: { tableName: name, ...body } });
const addIndex = (table, name, fields) => req(srv, 'POST', `${tables}/${table}/indexes`, { ...admin, body: { indexesToAdd: [{ name, fields }] } });
async function usable(table) {
  const made = await req(srv, 'POST', `/v1/data/${table}`, { ...sk(), body: { title: `in ${table}` } });
  assert.equal(made.status, 201, made.text);
  const list = await req(srv, 'GET', `/v1/data/${table}?sortBy=title`, sk());
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.items.some((r) => r.title === `in ${table}`));
}

test('table names are unique regardless of case (409, not 500)', async () => {
  assert.equal((await create('posts')).status, 201);
  for (const name of ['POSTS', 'Posts', 'posts'])
    expectError(assert, await create(name), 409, 'data/table-already-exists');
  expectError(assert, await req(srv, 'GET', '/v1/data/POSTS', sk()), 404, 'data/table-not-found');
  await usable('posts');
});

test('no table name collides with the physical name of another table\'s index', async () => {
  const schema = { properties: { title: { bsonType: 'string' } } };
  assert.equal((await create('ixa', { schema })).status, 201);
  const ix = await addIndex('ixa', 'b__createdAt', { title: 1 });
  assert.equal(ix.status, 200, ix.text);
  for (const name of ['ixa__x_b', 'ixa__createdAt', 'ixa__x_b__createdAt']) {
    const t = await create(name, { schema });
    assert.equal(t.status, 201, `${name}: ${t.text}`);
    await usable(name);
  }
  // the other order: the table first, then an index whose old physical name was that table's
  assert.equal((await create('iy__x_c', { schema })).status, 201);
  assert.equal((await create('iy', { schema })).status, 201);
  const c = await addIndex('iy', 'c', { title: 1 });
  assert.equal(c.status, 200, c.text);
  await usable('iy');
  await usable('iy__x_c');
  const ex = await req(srv, 'POST', `${tables}/iy/explain`, { ...admin, body: { andFilters: { title: 'x' } } });
  assert.equal(ex.json.index, 'c', ex.text);
  // index names are unique per table regardless of case, like table names
  expectError(assert, await addIndex('iy', 'C', { title: -1 }), 409, 'data/index-already-exists');
  const removed = await req(srv, 'POST', `${tables}/iy/indexes`, { ...admin, body: { indexesToRemove: ['c'] } });
  assert.equal(removed.status, 200, removed.text);
  await usable('iy__x_c');
});

test('select takes up to 64 fields', async () => {
  const props = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`f${i}`, { bsonType: 'int' }]));
  assert.equal((await create('wide', { schema: { properties: props } })).status, 201);
  const rec = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`f${i}`, i]));
  assert.equal((await req(srv, 'POST', '/v1/data/wide', { ...sk(), body: rec })).status, 201);
  for (const n of [59, 60, 63, 64]) {
    const fields = Array.from({ length: n }, (_, i) => `f${i}`);
    const r = await req(srv, 'GET', `/v1/data/wide?select=${fields.join(',')}`, sk());
    assert.equal(r.status, 200, `${n} fields: ${r.text}`);
    const item = r.json.items[0];
    assert.deepEqual(Object.keys(item).filter((k) => k.startsWith('f')), fields);
    assert.equal(item[`f${n - 1}`], n - 1);
    assert.ok(item.id && item.createdAt, 'system fields stay');
  }
  const tooMany = Array.from({ length: 65 }, (_, i) => `g${i}`).join(',');
  expectError(assert, await req(srv, 'GET', `/v1/data/wide?select=${tooMany}`, sk()), 400, 'data/validation-error');
});

test('select of a nested path returns only that path', async () => {
  const schema = { properties: { title: { bsonType: 'string' }, body: { bsonType: 'string' },
    profile: { bsonType: 'object', properties: { city: { bsonType: 'string' }, zip: { bsonType: 'string' },
      geo: { bsonType: 'object', properties: { lat: { bsonType: 'double' }, lng: { bsonType: 'double' } } } } } } };
  assert.equal((await create('people', { schema })).status, 201);
  const made = await req(srv, 'POST', '/v1/data/people', { ...sk(), body: { title: 't', body: 'b',
    profile: { city: 'Oslo', zip: '0150', geo: { lat: 59.9, lng: 10.7 } } } });
  assert.equal(made.status, 201, made.text);
  const pick = async (select) => {
    const r = await req(srv, 'GET', `/v1/data/people?select=${select}`, sk());
    assert.equal(r.status, 200, r.text);
    const { id, createdBy, createdAt, updatedAt, ...rest } = r.json.items[0];
    assert.ok(id && createdAt && updatedAt && createdBy !== undefined);
    return rest;
  };
  assert.deepEqual(await pick('title,profile.city'), { title: 't', profile: { city: 'Oslo' } });
  assert.deepEqual(await pick('profile.city,profile.geo.lat'), { profile: { city: 'Oslo', geo: { lat: 59.9 } } });
  assert.deepEqual(await pick('profile.geo.lat,profile'), { profile: { city: 'Oslo', zip: '0150', geo: { lat: 59.9, lng: 10.7 } } },
    'a selected ancestor brings the whole object');
  assert.deepEqual(await pick('profile.geo'), { profile: { geo: { lat: 59.9, lng: 10.7 } } });
  const fields = ['title', 'profile.zip', ...Array.from({ length: 62 }, (_, i) => `x${i}`)];
  const wide = await pick(fields.join(','));
  assert.deepEqual(wide, { title: 't', profile: { zip: '0150' }, ...Object.fromEntries(fields.slice(2).map((x) => [x, null])) },
    '64 fields with a nested one');
  // PostgreSQL writes a select's keys in jsonb's order (shorter keys first; docs/data-api.md "On PostgreSQL").
  if (ENV_STORE !== 'pg') assert.deepEqual(Object.keys(wide).slice(0, 2), ['title', 'profile'], 'in the order selected');
});

test('a data directory from before the naming scheme keeps working, and its names stay taken',
  { skip: ENV_STORE === 'pg' && 'SQLite files only: PostgreSQL environments never had the old names' }, async () => {
  const dir = tempDir();
  let old = await startServer({ dataDir: dir });
  try {
    const bb = old.bootstrap;
    const tbl = `/admin/v1/projects/${bb.projectId}/environments/dev/tables`;
    const schema = { properties: { title: { bsonType: 'string' } } };
    assert.equal((await req(old, 'POST', tbl, { token: bb.operatorToken, body: { tableName: 'legacy', schema } })).status, 201);
    const ix = await req(old, 'POST', `${tbl}/legacy/indexes`, { token: bb.operatorToken, body: { indexesToAdd: [{ name: 'by_title', fields: { title: 1 } }] } });
    assert.equal(ix.status, 200, ix.text);
    await old.stop();
    // rename the indexes as builds before the scheme named them: d_<table>__createdAt, d_<table>__x_<name>
    const dbs = fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.db')).map((f) => path.join(dir, f));
    const query = (file, q) => execFileSync('sqlite3', [file, q], { encoding: 'utf8' }).trim();
    const db = dbs.find((f) => query(f, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE '%d_legacy'") === '1');
    assert.ok(db, 'the environment database');
    const sql = (q) => query(db, q);
    const table = sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%d_legacy'"); // "s1_d_legacy" on a shared file
    const indexes = sql(`SELECT name || '|' || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '${table}' AND sql IS NOT NULL`)
      .split('\n').map((l) => l.split('|'));
    assert.equal(indexes.length, 4, JSON.stringify(indexes));
    let script = 'BEGIN;';
    for (const [name, text] of indexes) {
      const oldName = name.replace(`${table}$`, `${table}__`);
      assert.notEqual(oldName, name, `${name} is in the current scheme`);
      script += `DROP INDEX "${name}";${text.replace(name, oldName)};`;
    }
    sql(script + 'COMMIT;');
    old = await startServer({ dataDir: dir });
    const opts = { token: bb.operatorToken };
    const made = await req(old, 'POST', '/v1/data/legacy', { key: bb.secretKey, body: { title: 't' } });
    assert.equal(made.status, 201, made.text);
    const ex = await req(old, 'POST', `${tbl}/legacy/explain`, { ...opts, body: { andFilters: { title: 't' } } });
    assert.equal(ex.json.index, 'by_title', ex.text);
    expectError(assert, await req(old, 'POST', tbl, { ...opts, body: { tableName: 'legacy__x_by_title' } }), 409, 'data/table-already-exists');
    expectError(assert, await req(old, 'POST', tbl, { ...opts, body: { tableName: 'legacy__createdAt' } }), 409, 'data/table-already-exists');
    const removed = await req(old, 'POST', `${tbl}/legacy/indexes`, { ...opts, body: { indexesToRemove: ['by_title'] } });
    assert.equal(removed.status, 200, removed.text);
    assert.equal(sql(`SELECT count(*) FROM sqlite_master WHERE name = '${table}__x_by_title'`), '0', 'the old-named index is dropped');
    assert.equal((await req(old, 'POST', tbl, { ...opts, body: { tableName: 'legacy__x_by_title' } })).status, 201, 'its name is free again');
  } finally {
    await old.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
