// Shared clusters with SQLite (docs/platform.md "Placement"): the dev environments of a shared cluster live
// in one database file, DATA/clusters/<cluster>.db, each under its slot's names (s<slot>_d_posts,
// s<slot>__auth_users, ...); other environments get a file of their own, DATA/envs/<id>.db. Three projects'
// dev environments share shared-1 (3 slots): the same table name with different records, end users and
// uploaded files in each, and each sees only its own; two of them write at once; deleting a project empties
// its slot and leaves the others, and the project that reuses the slot starts empty; a prod environment gets
// its own file. The files are read with the sqlite3 CLI (scripts/install-deps.sh --test installs it).
// With BASALT_TEST_ENV=pg the same holds on PostgreSQL: a slot is schema s<slot> of the env-store database
// (its objects read here as s<slot>_<name>: "s0_d_notes", "s0_users"), a dedicated environment a database
// of its own (read with psql).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, expectError, ENV_STORE, envStoreRows } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer({ args: ['--shared-cluster-slots', '3'] }); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const PG = ENV_STORE === 'pg';
if (!PG) execFileSync('sqlite3', ['-version'], { stdio: 'ignore' }); // fails loudly without the CLI: the file checks must run
const clusterFile = () => path.join(srv.dataDir, 'clusters', 'shared-1.db');
const ownFile = (envId) => path.join(srv.dataDir, 'envs', `${envId}.db`);
// The shared cluster exists (its file; on PostgreSQL the env-store database always does).
const clusterExists = () => PG || fs.existsSync(clusterFile());
// The dedicated environment's own database exists (its file, or its PostgreSQL database).
const ownExists = (envId) => PG
  ? envStoreRows(srv.dataDir, `SELECT 1 FROM pg_database WHERE datname = current_database() || '_${envId}'`).length > 0
  : fs.existsSync(ownFile(envId));
// The end users' table of a slot, as the objects below name it.
const authUsers = (slot) => PG ? `s${slot}_users` : `s${slot}__auth_users`;
// The names of the shared file's tables and indexes (read-only, beside the running server: WAL allows it);
// on PostgreSQL the relations of the slot schemas, as s<slot>_<name>.
const objects = () => PG
  ? envStoreRows(srv.dataDir, "SELECT n.nspname || '_' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    + " WHERE n.nspname ~ '^s[0-9]+$' AND c.relkind IN ('r', 'i') ORDER BY 1").map((r) => r[0])
  : execFileSync('sqlite3', ['-readonly', clusterFile(), "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"],
    { encoding: 'utf8' }).split('\n').filter(Boolean);
// The records tables of a dedicated environment ("d_notes").
const ownTables = (envId) => PG
  ? envStoreRows(srv.dataDir, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'env'"
    + " AND relname LIKE 'd\\_%' AND relkind = 'r'", envId).map((r) => r[0])
  : execFileSync('sqlite3', ['-readonly', ownFile(envId), "SELECT name FROM sqlite_master WHERE name LIKE 'd\\_%' ESCAPE '\\'"],
    { encoding: 'utf8' }).split('\n').filter(Boolean);
const ofSlot = (names, slot) => names.filter((n) => n.startsWith(`s${slot}_`));

const admin = (method, p, body) => req(srv, method, '/admin/v1' + p, { token: b.operatorToken, body });

// A project's dev environment as the tests use it: ids, keys, placement.
async function devEnv(projectId, keys) {
  const env = await admin('GET', `/projects/${projectId}/environments/dev`);
  assert.equal(env.status, 200, env.text);
  if (!keys) {
    const mk = async (type) => {
      const k = await admin('POST', `/projects/${projectId}/environments/dev/keys`, { type, name: type });
      assert.equal(k.status, 201, k.text);
      return k.json.key;
    };
    keys = { pk: await mk('publishable'), sk: await mk('secret') };
  }
  return { projectId, id: env.json.id, cluster: env.json.cluster, ...keys };
}
async function newProject(slug) {
  const p = await admin('POST', '/projects', { organizationId: b.organizationId, name: slug, slug });
  assert.equal(p.status, 201, p.text);
  return devEnv(p.json.id);
}

const tables = (e) => `/projects/${e.projectId}/environments/dev/tables`;
async function makeTable(e, tableName) {
  const t = await admin('POST', tables(e), { tableName, schema: { bsonType: 'object', properties: { text: { bsonType: 'string' }, n: { bsonType: 'int' } } } });
  assert.equal(t.status, 201, t.text);
}
const insert = (e, table, body) => req(srv, 'POST', `/v1/data/${table}`, { key: e.sk, body });
const list = async (e, table) => {
  const r = await req(srv, 'GET', `/v1/data/${table}?limit=100&sortBy=createdAt&sortDirection=asc`, { key: e.sk });
  assert.equal(r.status, 200, r.text);
  return r.json.items;
};
const signup = (e, email) => req(srv, 'POST', '/v1/auth/email/signup', { key: e.pk, body: { email, password: 'secret1', name: email } });
const signin = (e, email) => req(srv, 'POST', '/v1/auth/email/signin', { key: e.pk, body: { email, password: 'secret1' } });
const userEmails = async (e) => {
  const r = await req(srv, 'GET', '/v1/users?limit=100&sortBy=email&sortDirection=asc', { key: e.sk });
  assert.equal(r.status, 200, r.text);
  return r.json.items.map((u) => u.email);
};
async function uploadFile(e, name, text) {
  const p = await req(srv, 'POST', '/v1/files/presigned-url', { key: e.sk, body: { filename: name, contentType: 'text/plain' } });
  assert.equal(p.status, 200, p.text);
  const put = await req(srv, 'PUT', p.json.url.replace(/^http:\/\/[^/]+/, ''), { raw: text, headers: { 'Content-Type': 'text/plain' } });
  assert.equal(put.status, 200, put.text);
  const reg = await req(srv, 'POST', '/v1/files', { key: e.sk, body: { s3Key: p.json.key, originalName: name, mimeType: 'text/plain', size: text.length } });
  assert.equal(reg.status, 201, reg.text);
  return reg.json;
}
const fileNames = async (e) => {
  const r = await req(srv, 'GET', '/v1/files?limit=100', { key: e.sk });
  assert.equal(r.status, 200, r.text);
  return r.json.items.map((f) => f.originalName).sort();
};

test('three dev environments in one file, each with its own tables, users and files; deletion empties one slot; prod has its own file', async () => {
  assert.equal((await admin('PUT', `/organizations/${b.organizationId}/plan`, { plan: 'starter' })).status, 200);
  const a = await devEnv(b.projectId, { pk: b.publishableKey, sk: b.secretKey });
  const p2 = await newProject('shared-two');
  const p3 = await newProject('shared-three');
  assert.deepEqual([a.cluster, p2.cluster, p3.cluster], [
    { id: 'shared-1', type: 'shared', slot: 0 }, { id: 'shared-1', type: 'shared', slot: 1 }, { id: 'shared-1', type: 'shared', slot: 2 }]);

  // the same table name in two environments, different records
  await makeTable(a, 'notes');
  await makeTable(p2, 'notes');
  await makeTable(p3, 'other');
  for (const text of ['a-1', 'a-2']) assert.equal((await insert(a, 'notes', { text })).status, 201);
  for (const text of ['two-1', 'two-2', 'two-3']) assert.equal((await insert(p2, 'notes', { text })).status, 201);
  assert.equal((await insert(p3, 'other', { text: 'three' })).status, 201);
  assert.deepEqual((await list(a, 'notes')).map((r) => r.text), ['a-1', 'a-2']);
  assert.deepEqual((await list(p2, 'notes')).map((r) => r.text), ['two-1', 'two-2', 'two-3']);
  expectError(assert, await req(srv, 'GET', '/v1/data/notes', { key: p3.sk }), 404, 'data/table-not-found');
  expectError(assert, await req(srv, 'GET', '/v1/data/other', { key: a.sk }), 404, 'data/table-not-found');
  const tableNames = async (e) => (await admin('GET', tables(e))).json.items.map((t) => t.tableName);
  assert.deepEqual(await tableNames(a), ['notes']);
  assert.deepEqual(await tableNames(p3), ['other']);

  // end users: one e-mail per environment, not per file
  for (const e of [a, p2]) assert.equal((await signup(e, 'same@x.io')).status, 201);
  assert.equal((await signup(a, 'only-a@x.io')).status, 201);
  assert.equal((await signup(p2, 'only-two@x.io')).status, 201);
  assert.deepEqual(await userEmails(a), ['only-a@x.io', 'same@x.io']);
  assert.deepEqual(await userEmails(p2), ['only-two@x.io', 'same@x.io']);
  assert.deepEqual(await userEmails(p3), []);
  assert.equal((await signin(p2, 'only-two@x.io')).status, 200);
  expectError(assert, await signin(a, 'only-two@x.io'), 401, 'auth/invalid-credentials');

  // files
  await uploadFile(a, 'a.txt', 'bytes of a');
  await uploadFile(p2, 'two.txt', 'bytes of two');
  assert.deepEqual(await fileNames(a), ['a.txt']);
  assert.deepEqual(await fileNames(p2), ['two.txt']);
  assert.deepEqual(await fileNames(p3), []);

  // custom indexes and query analysis answer the plain names
  const ix = await admin('POST', `${tables(a)}/notes/indexes`, { indexesToAdd: [{ name: 'byText', fields: { text: 1 } }] });
  assert.equal(ix.status, 200, ix.text);
  assert.ok(ix.json.indexes.some((i) => i.name === 'byText'), ix.text);
  const ex = await admin('POST', `${tables(a)}/notes/explain`, { andFilters: { text: 'a-1' } });
  assert.equal(ex.status, 200, ex.text);
  assert.equal(ex.json.index, 'byText');
  assert.ok(ex.json.plan.some((l) => l.includes('d_notes$x_byText')), ex.text);
  assert.ok(ex.json.plan.every((l) => !/\bs\d+_/.test(l)), `no slot names in ${ex.text}`);

  // the file: one for the three, nothing of theirs in envs/
  assert.ok(clusterExists(), 'DATA/clusters/shared-1.db');
  for (const e of [a, p2, p3]) assert.ok(!ownExists(e.id), `no DATA/envs/${e.id}.db`);
  { // inside the files
    const names = objects();
    for (const slot of [0, 1, 2]) assert.ok(ofSlot(names, slot).includes(authUsers(slot)), `slot ${slot}: ${names}`);
    assert.ok(names.includes('s0_d_notes') && names.includes('s1_d_notes') && names.includes('s2_d_other'), names.join(' '));
    assert.ok(names.includes('s0_d_notes$x_byText') && !names.includes('s1_d_notes$x_byText'));
    assert.deepEqual(names.filter((n) => !/^s[0-2]_/.test(n)), [], 'every object carries its slot');
  }

  // two environments of the file write at once
  const burst = await Promise.all([...Array(40).keys()].map((i) => insert(i % 2 ? a : p2, 'notes', { text: `burst-${i}`, n: i })));
  assert.deepEqual(burst.filter((r) => r.status !== 201).map((r) => r.text), []);
  assert.equal((await list(a, 'notes')).length, 22);
  assert.equal((await list(p2, 'notes')).length, 23);

  // deleting project two empties slot 1 only
  const slot1Before = ofSlot(objects(), 1).length;
  assert.equal((await admin('DELETE', `/projects/${p2.projectId}`)).status, 200);
  { // inside the files
    assert.ok(slot1Before > 10);
    assert.deepEqual(ofSlot(objects(), 1), [], 'slot 1 is empty');
    assert.ok(ofSlot(objects(), 0).includes('s0_d_notes') && ofSlot(objects(), 2).includes('s2_d_other'));
  }
  assert.deepEqual((await list(a, 'notes')).slice(0, 2).map((r) => r.text), ['a-1', 'a-2']);
  assert.deepEqual(await userEmails(a), ['only-a@x.io', 'same@x.io']);
  assert.deepEqual(await fileNames(a), ['a.txt']);
  assert.equal((await list(p3, 'other')).length, 1);

  // the next project takes the freed slot and starts empty
  const p4 = await newProject('shared-four');
  assert.deepEqual(p4.cluster, { id: 'shared-1', type: 'shared', slot: 1 });
  assert.deepEqual(await tableNames(p4), []);
  expectError(assert, await req(srv, 'GET', '/v1/data/notes', { key: p4.sk }), 404, 'data/table-not-found');
  assert.deepEqual(await userEmails(p4), []);
  expectError(assert, await signin(p4, 'only-two@x.io'), 401, 'auth/invalid-credentials');
  assert.deepEqual(await fileNames(p4), []);
  await makeTable(p4, 'notes');
  assert.deepEqual(await list(p4, 'notes'), []);
  assert.equal((await signup(p4, 'same@x.io')).status, 201);

  // a prod environment: a dedicated cluster, a file of its own
  const prod = await admin('POST', `/projects/${p3.projectId}/environments`, { environment: 'prod', environmentType: 'prod' });
  assert.equal(prod.status, 201, prod.text);
  assert.equal(prod.json.cluster.type, 'dedicated');
  const sk = await admin('POST', `/projects/${p3.projectId}/environments/prod/keys`, { type: 'secret', name: 'prod' });
  assert.equal(sk.status, 201, sk.text);
  const t = await admin('POST', `/projects/${p3.projectId}/environments/prod/tables`, { tableName: 'notes' });
  assert.equal(t.status, 201, t.text);
  assert.equal((await req(srv, 'POST', '/v1/data/notes', { key: sk.json.key, body: { text: 'prod' } })).status, 201);
  assert.ok(ownExists(prod.json.id), `DATA/envs/${prod.json.id}.db`);
  { // inside the files
    const own = ownTables(prod.json.id);
    assert.ok(own.includes('d_notes'), `plain names in a file of its own: ${own}`);
    assert.deepEqual(objects().filter((n) => !/^s[0-2]_/.test(n)), [], 'nothing of prod in the shared file');
  }
  assert.deepEqual((await list(p3, 'other')).map((r) => r.text), ['three'], 'the dev environment is untouched');
  assert.equal((await admin('DELETE', `/projects/${p3.projectId}/environments/prod`)).status, 200);
  assert.ok(!ownExists(prod.json.id), 'a dedicated environment takes its file with it');
});
