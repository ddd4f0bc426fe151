// Schema and index versions through the management API (management-api.md; platform.md §11.5–11.6):
// field management, version lists, rollbacks that write new versions, and their errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b, admin, base;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  base = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  const t = await req(srv, 'POST', base, { ...admin, body: { tableName: 'items',
    schema: { bsonType: 'object', required: ['name'], properties: { name: { bsonType: 'string' } } } } });
  assert.equal(t.status, 201, t.text);
});
after(async () => { await srv?.stop(); });

test('field management creates schema versions and validates records with the new schema', async () => {
  const r = await req(srv, 'PATCH', `${base}/items/fields`, { ...admin, body: {
    fieldsToAddOrUpdate: { price: { bsonType: 'double', minimum: 0 }, name: { maxLength: 5 } }, requiredFieldsToAdd: ['price'] } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.schemaVersion, 2);
  assert.equal(r.json.previousVersion, 1);
  assert.deepEqual(r.json.appliedFields, { added: ['price'], updated: ['name'], removed: [] });
  assert.deepEqual(r.json.appliedRequired, { added: ['price'], removed: [] });
  assert.deepEqual(r.json.schema.properties.name, { bsonType: 'string', maxLength: 5 }, 'attributes merged');
  assert.deepEqual(r.json.schema.required.sort(), ['name', 'price']);
  expectError(assert, await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'toolong' } }), 400, 'data/validation-error');
  expectError(assert, await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'ok' } }), 400, 'data/validation-error');
  assert.equal((await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'ok', price: 2 } })).status, 201);
  const rm = await req(srv, 'PATCH', `${base}/items/fields`, { ...admin, body: { fieldsToRemove: ['price'] } });
  assert.equal(rm.status, 200, rm.text);
  assert.equal(rm.json.schemaVersion, 3);
  assert.deepEqual(rm.json.appliedRequired.removed, ['price'], 'removing a field also makes it optional');
  assert.equal((await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'ok' } })).status, 201);
  const t = await req(srv, 'GET', `${base}/items`, admin);
  assert.equal(t.json.schemaVersion, 3);
});

test('field management errors', async () => {
  const bad = [
    [{}, 400, 'data/validation-error'],
    [{ fieldsToAddOrUpdate: { a: { bsonType: 'string' } }, fieldsToRemove: ['a'] }, 400, 'data/field-conflict'],
    [{ requiredFieldsToAdd: ['name'], requiredFieldsToRemove: ['name'] }, 400, 'data/required-conflict'],
    [{ fieldsToRemove: ['createdAt'] }, 400, 'data/system-field-protected'],
    [{ fieldsToAddOrUpdate: { id: { bsonType: 'string' } } }, 400, 'data/system-field-protected'],
    [{ fieldsToRemove: ['nope'] }, 404, 'data/field-not-found'],
    [{ requiredFieldsToAdd: ['nope'] }, 404, 'data/field-not-found'],
    [{ fieldsToAddOrUpdate: { x: { bsonType: 'nope' } } }, 400, 'data/validation-error'],
    [{ fieldsToAddOrUpdate: { x: 'string' } }, 400, 'data/validation-error'],
    [{ fieldsToRemove: 'name' }, 400, 'data/validation-error'],
  ];
  const before = (await req(srv, 'GET', `${base}/items`, admin)).json.schemaVersion;
  for (const [body, status, code] of bad) expectError(assert, await req(srv, 'PATCH', `${base}/items/fields`, { ...admin, body }), status, code);
  assert.equal((await req(srv, 'GET', `${base}/items`, admin)).json.schemaVersion, before, 'refused changes write no version');
  expectError(assert, await req(srv, 'PATCH', `${base}/ghost/fields`, { ...admin, body: { fieldsToRemove: ['a'] } }), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'PATCH', `${base}/items/fields`, { key: b.publishableKey, body: { fieldsToRemove: ['a'] } }), 401, 'auth/unauthorized');
});

test('schema versions list and rollback into a new version', async () => {
  const list = await req(srv, 'GET', `${base}/items/schema/versions`, admin);
  assert.equal(list.status, 200, list.text);
  const versions = list.json.items.map((v) => v.version);
  assert.deepEqual(versions, [...versions].sort((x, y) => y - x), 'newest first');
  assert.equal(list.json.items[0].isActive, true);
  assert.ok(list.json.items.slice(1).every((v) => v.isActive === false));
  assert.equal(list.json.items.at(-1).version, 1);
  assert.deepEqual(list.json.items.at(-1).schema.properties, { name: { bsonType: 'string' } });
  assert.ok(list.json.items.every((v) => typeof v.createdBy === 'string' && !Number.isNaN(Date.parse(v.createdAt))));
  const current = list.json.currentVersion;
  const rb = await req(srv, 'POST', `${base}/items/schema/rollback`, { ...admin, body: { version: 1 } });
  assert.equal(rb.status, 200, rb.text);
  assert.equal(rb.json.schemaVersion, current + 1);
  assert.deepEqual(rb.json.schema, list.json.items.at(-1).schema);
  const after = await req(srv, 'GET', `${base}/items/schema/versions`, admin);
  assert.equal(after.json.items.length, list.json.items.length + 1, 'history is kept');
  assert.equal((await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'long name is fine again' } })).status, 201);
  expectError(assert, await req(srv, 'POST', `${base}/items/schema/rollback`, { ...admin, body: { version: 999 } }), 404, 'table/schema-version-not-found');
  expectError(assert, await req(srv, 'POST', `${base}/items/schema/rollback`, { ...admin, body: { version: 'one' } }), 400, 'data/validation-error');
  const alt = await req(srv, 'POST', `${base}/items/schema/rollback`, { ...admin, body: { targetVersion: 2 } });
  assert.equal(alt.status, 200, 'targetVersion is accepted too');
});

test('index versions: every change and rollback is a new version that rebuilds the indexes', async () => {
  const add = await req(srv, 'POST', `${base}/items/indexes`, { ...admin, body: { indexesToAdd: [{ name: 'by_sku', fields: { sku: 1 } }] } });
  assert.equal(add.status, 200, add.text);
  assert.equal(add.json.indexVersion, 2);
  assert.equal(add.json.previousIndexVersion, 1);
  assert.deepEqual(add.json.appliedIndexes, { added: ['by_sku'], updated: [], removed: [] });
  const upd = await req(srv, 'POST', `${base}/items/indexes`, { ...admin, body: {
    indexesToAddOrUpdate: [{ name: 'by_sku', fields: { sku: -1 }, unique: true }, { name: 'by_price', fields: { price: 1 } }] } });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(upd.json.appliedIndexes, { added: ['by_price'], updated: ['by_sku'], removed: [] });
  const unique = upd.json.indexes.find((i) => i.name === 'by_sku');
  assert.equal(unique.unique, true);
  assert.equal((await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'ok', sku: 'a', price: 1 } })).status, 201);
  expectError(assert, await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'ok', sku: 'a', price: 1 } }), 409, 'data/duplicate-value');
  const versions = await req(srv, 'GET', `${base}/items/indexes/versions`, admin);
  assert.equal(versions.status, 200);
  assert.deepEqual(versions.json.items.map((v) => v.version), [3, 2, 1]);
  assert.deepEqual(versions.json.items[2].indexes, []);
  const rb = await req(srv, 'POST', `${base}/items/indexes/rollback`, { ...admin, body: { version: 2 } });
  assert.equal(rb.status, 200, rb.text);
  assert.equal(rb.json.indexVersion, 4);
  assert.deepEqual(rb.json.appliedIndexes, { added: [], updated: ['by_sku'], removed: ['by_price'] });
  assert.deepEqual(rb.json.indexes.filter((i) => !i.default).map((i) => [i.name, i.unique]), [['by_sku', false]]);
  assert.equal((await req(srv, 'POST', '/v1/data/items', { key: b.secretKey, body: { name: 'ok', sku: 'a', price: 1 } })).status, 201, 'unique index gone');
  expectError(assert, await req(srv, 'POST', `${base}/items/indexes/rollback`, { ...admin, body: { version: 3 } }), 409, 'data/duplicate-value');
  assert.equal((await req(srv, 'GET', `${base}/items`, admin)).json.indexVersion, 4, 'a failed rollback changes nothing');
  expectError(assert, await req(srv, 'POST', `${base}/items/indexes/rollback`, { ...admin, body: { version: 77 } }), 404, 'table/index-version-not-found');
  const empty = await req(srv, 'POST', `${base}/items/indexes/rollback`, { ...admin, body: { version: 1 } });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json.indexes.filter((i) => !i.default), []);
});
