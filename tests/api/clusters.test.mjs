// Clusters as data (docs/operations.md "Running on PostgreSQL", docs/platform.md "Placement"): a second
// PostgreSQL server, started here for the test (tests/pg/start-pg.sh), is registered with
// `basalt operator cluster add big2 URL --dedicated --capacity 5`; a prod environment of the organization
// then gets a database of its own on that server while its dev environment stays on the first one (the
// env store), records are written and read in both through /v1, `cluster list` never shows the password,
// and `cluster drain` stops new placements on it (the environments placed stay). Runs only with
// BASALT_TEST_ENV=pg (under tests/pg/with-pg.sh): registered servers are PostgreSQL servers. The last
// test runs the other way (SQLite env store, under with-pg.sh): a placed environment is served from the
// registered server by the same process that keeps the others on SQLite.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test, startServer, req, runOnce, repoRoot, ENV_STORE, envStoreRows, envStoreUrl, controlStoreBytes } from './harness.mjs';

const PG = ENV_STORE === 'pg';
const skip = PG ? false : 'registered clusters are PostgreSQL servers: run with BASALT_TEST_ENV=pg under tests/pg/with-pg.sh';
const startPg = path.join(repoRoot, 'tests', 'pg', 'start-pg.sh');
const PASSWORD = 'n0t-Sh0wn';

let srv, b, second; // second: {url (with a password: trust authentication ignores it), dir}
before(async () => {
  if (!PG) return;
  const [url, dir] = execFileSync(startPg, { encoding: 'utf8' }).trim().split('\n');
  const u = new URL(url);
  u.password = PASSWORD;
  second = { url: u.href, plain: url, dir };
  srv = await startServer();
  b = srv.bootstrap;
});
after(async () => {
  await srv?.stop();
  if (second) execFileSync(startPg, ['stop', second.dir]);
});

const admin = (method, p, body) => req(srv, method, '/admin/v1' + p, { token: b.operatorToken, body });
const operator = async (...args) => runOnce(['operator', ...args, '--data', srv.dataDir], { timeoutMs: 20000 });
const secondRows = (sql) => execFileSync('psql', [second.plain, '-qXAt', '-c', sql], { encoding: 'utf8' }).split('\n').filter(Boolean);

async function keyOf(projectId, env) {
  const k = await admin('POST', `/projects/${projectId}/environments/${env}/keys`, { type: 'secret', name: 'sk' });
  assert.equal(k.status, 201, k.text);
  return k.json.key;
}
async function roundTrip(projectId, env, sk, text) {
  const t = await admin('POST', `/projects/${projectId}/environments/${env}/tables`,
    { tableName: 'notes', schema: { bsonType: 'object', properties: { text: { bsonType: 'string' } } } });
  assert.equal(t.status, 201, t.text);
  const w = await req(srv, 'POST', '/v1/data/notes', { key: sk, body: { text } });
  assert.equal(w.status, 201, w.text);
  const r = await req(srv, 'GET', '/v1/data/notes?limit=10', { key: sk });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.items.map((i) => i.text), [text]);
}

test('a registered dedicated server takes the prod environment; dev stays; drain stops placements; the password is never shown', { skip }, async () => {
  assert.equal((await admin('PUT', `/organizations/${b.organizationId}/plan`, { plan: 'enterprise' })).status, 200);
  const bad = await operator('cluster', 'add', 'big2', 'mysql://u:p@127.0.0.1/x', '--dedicated');
  assert.equal(bad.code, 1, 'not a PostgreSQL URL');
  secondRows('CREATE ROLE plain LOGIN');
  const plain = await operator('cluster', 'add', 'big2', second.plain.replace('postgres@', 'plain@'), '--dedicated');
  assert.equal(plain.code, 1, 'a dedicated cluster needs a role that can create databases');
  assert.match(plain.stderr, /CREATEDB/);
  const add = await operator('cluster', 'add', 'big2', second.url, '--dedicated', '--capacity', '5');
  assert.equal(add.code, 0, add.stderr);
  assert.ok(!add.stdout.includes(PASSWORD) && add.stdout.includes(':***@'), add.stdout);
  const again = await operator('cluster', 'add', 'big2', second.url, '--dedicated');
  assert.equal(again.code, 1, 'the name is taken');

  const prod = await admin('POST', `/projects/${b.projectId}/environments`, { environment: 'prod', environmentType: 'prod' });
  assert.equal(prod.status, 201, prod.text);
  assert.equal(prod.json.cluster.id, 'big2');
  assert.equal(prod.json.cluster.type, 'dedicated');
  const shown = await admin('GET', `/projects/${b.projectId}/environments/prod`);
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.json.cluster.server, second.url.replace(PASSWORD, '***'));
  assert.ok(!shown.text.includes(PASSWORD));
  const dev = await admin('GET', `/projects/${b.projectId}/environments/dev`);
  assert.equal(dev.json.cluster.type, 'shared');
  assert.equal(dev.json.cluster.server, undefined, 'dev stays on the default env store');

  await roundTrip(b.projectId, 'prod', await keyOf(b.projectId, 'prod'), 'on the second server');
  await roundTrip(b.projectId, 'dev', b.secretKey, 'on the first server');
  const prodDb = `basalt_${prod.json.id}`;
  assert.deepEqual(secondRows(`SELECT datname FROM pg_database WHERE datname = '${prodDb}'`), [prodDb], 'its database is on the second server');
  assert.deepEqual(envStoreRows(srv.dataDir, `SELECT 1 FROM pg_database WHERE datname = current_database() || '_${prod.json.id}'`), [],
    'and not on the first');
  assert.deepEqual(envStoreRows(srv.dataDir, `SELECT doc->>'text' FROM s${dev.json.cluster.slot}.d_notes`), [['on the first server']]);
  assert.deepEqual(execFileSync('psql', [second.plain.replace(/basalt$/, prodDb), '-qXAt', '-c', "SELECT doc->>'text' FROM env.d_notes"],
    { encoding: 'utf8' }).trim(), 'on the second server');

  const drain = await operator('cluster', 'drain', 'big2');
  assert.equal(drain.code, 0, drain.stderr);
  const staging = await admin('POST', `/projects/${b.projectId}/environments`, { environment: 'staging', environmentType: 'staging' });
  assert.equal(staging.status, 201, staging.text);
  assert.equal(staging.json.cluster.id, `dedicated-${staging.json.id}`, 'a draining cluster takes no new environment');
  assert.equal(staging.json.cluster.server, undefined);
  const r = await req(srv, 'GET', '/v1/data/notes?limit=10', { key: await keyOf(b.projectId, 'prod') });
  assert.equal(r.status, 200, 'the environments placed stay');

  const list = await operator('cluster', 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.ok(!list.stdout.includes(PASSWORD), list.stdout);
  const row = list.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[0] === 'big2');
  assert.deepEqual(row, ['big2', 'dedicated', 'draining', '1/5', second.url.replace(PASSWORD, '***')]);
  const alias = await operator('clusters');
  assert.equal(alias.stdout, list.stdout, '`clusters` is `cluster list`');
  assert.ok(!controlStoreBytes(srv.dataDir).includes(PASSWORD), 'the URL is stored sealed (DATA/master.key)');

  const undrain = await operator('cluster', 'undrain', 'big2');
  assert.equal(undrain.code, 0, undrain.stderr);
  const qa = await admin('POST', `/projects/${b.projectId}/environments`, { environment: 'qa', environmentType: 'custom' });
  assert.equal(qa.status, 201, qa.text);
  assert.equal(qa.json.cluster.id, 'big2', 'an undrained cluster takes new environments again');
  await roundTrip(b.projectId, 'qa', await keyOf(b.projectId, 'qa'), 'on the second server again');
  assert.equal((await admin('DELETE', `/projects/${b.projectId}/environments/qa`)).status, 200);
  assert.deepEqual(secondRows(`SELECT datname FROM pg_database WHERE datname = 'basalt_${qa.json.id}'`), [], 'its database is dropped there');
});

test('a registered shared server takes new dev environments as slots (schemas); deleting environments frees their places, the servers stay', { skip }, async () => {
  const add = await operator('cluster', 'add', 'pool2', second.url, '--shared', '--capacity', '3');
  assert.equal(add.code, 0, add.stderr);
  const p = await admin('POST', '/projects', { organizationId: b.organizationId, name: 'on-pool2', slug: 'on-pool2' });
  assert.equal(p.status, 201, p.text);
  const dev = await admin('GET', `/projects/${p.json.id}/environments/dev`);
  assert.deepEqual(dev.json.cluster, { id: 'pool2', type: 'shared', slot: 0, server: second.url.replace(PASSWORD, '***') });
  await roundTrip(p.json.id, 'dev', await keyOf(p.json.id, 'dev'), 'in a slot of the second server');
  assert.deepEqual(secondRows("SELECT doc->>'text' FROM s0_pool2.d_notes"), ['in a slot of the second server'],
    'schema s<slot>_<cluster>: slots are numbered per cluster');

  // a shared cluster registered on the env store's own database: its slot 0 is not shared-1's slot 0
  assert.equal((await operator('cluster', 'drain', 'pool2')).code, 0);
  assert.equal((await operator('cluster', 'add', 'pool3', envStoreUrl(srv.dataDir), '--shared', '--capacity', '2')).code, 0);
  const p3 = await admin('POST', '/projects', { organizationId: b.organizationId, name: 'on-pool3', slug: 'on-pool3' });
  assert.equal(p3.status, 201, p3.text);
  assert.equal(p3.json.environments[0].cluster.id, 'pool3');
  assert.equal(p3.json.environments[0].cluster.slot, 0);
  await roundTrip(p3.json.id, 'dev', await keyOf(p3.json.id, 'dev'), 'in pool3');
  assert.deepEqual(envStoreRows(srv.dataDir, "SELECT doc->>'text' FROM s0_pool3.d_notes"), [['in pool3']]);
  const own = await req(srv, 'GET', '/v1/data/notes?limit=10', { key: b.secretKey });
  assert.deepEqual(own.json.items.map((i) => i.text), ['on the first server'], 'the bootstrap dev environment (shared-1, slot 0) is apart');

  const prod = await admin('GET', `/projects/${b.projectId}/environments/prod`);
  assert.equal((await admin('DELETE', `/projects/${b.projectId}/environments/prod`)).status, 200);
  assert.deepEqual(secondRows(`SELECT datname FROM pg_database WHERE datname = 'basalt_${prod.json.id}'`), [], 'its database is dropped there');
  assert.equal((await admin('DELETE', `/projects/${p.json.id}`)).status, 200);
  assert.deepEqual(secondRows("SELECT nspname FROM pg_namespace WHERE nspname = 's0_pool2'"), [], 'the slot schema is dropped there');
  const list = await operator('cluster', 'list');
  const rows = Object.fromEntries(list.stdout.split('\n').map((l) => l.trim().split(/\s+/)).map((c) => [c[0], c]));
  assert.equal(rows.big2[3], '0/5');
  assert.equal(rows.pool2[3], '0/3');
});

// With the environments on SQLite, an environment placed on a registered server is served from that server
// (per-environment routing, docs/operations.md "Clusters as data") while dev stays on SQLite. Needs a
// PostgreSQL server to register (tests/pg/with-pg.sh).
const skipSqlite = !PG && process.env.BASALT_TEST_PG_URL ? false
  : 'needs the SQLite env store and a PostgreSQL server to register: run under tests/pg/with-pg.sh without BASALT_TEST_ENV=pg';
test('on the SQLite env store an environment placed on a registered server lives on that server; dev stays on SQLite', { skip: skipSqlite }, async () => {
  const own = await startServer();
  try {
    const ob = own.bootstrap;
    const call = (method, p, body) => req(own, method, '/admin/v1' + p, { token: ob.operatorToken, body });
    assert.equal((await call('PUT', `/organizations/${ob.organizationId}/plan`, { plan: 'enterprise' })).status, 200);
    const add = await runOnce(['operator', 'cluster', 'add', 'big2', process.env.BASALT_TEST_PG_URL, '--dedicated', '--data', own.dataDir]);
    assert.equal(add.code, 0, add.stderr);
    const prod = await call('POST', `/projects/${ob.projectId}/environments`, { environment: 'prod', environmentType: 'prod' });
    assert.equal(prod.status, 201, prod.text);
    assert.equal(prod.json.cluster.id, 'big2');
    const k = await call('POST', `/projects/${ob.projectId}/environments/prod/keys`, { type: 'secret', name: 'sk' });
    const t = await call('POST', `/projects/${ob.projectId}/environments/prod/tables`, { tableName: 'notes' });
    assert.equal(t.status, 201, t.text);
    const w = await req(own, 'POST', '/v1/data/notes', { key: k.json.key, body: { text: 'on the server' } });
    assert.equal(w.status, 201, w.text);
    const r = await req(own, 'GET', '/v1/data/notes', { key: k.json.key });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.items.map((i) => i.text), ['on the server']);
    const envId = prod.json.id;
    const dbs = execFileSync('psql', [process.env.BASALT_TEST_PG_URL, '-qXAt', '-c',
      `SELECT datname FROM pg_database WHERE datname LIKE '%${envId.toLowerCase()}'`], { encoding: 'utf8' }).trim();
    assert.ok(dbs, 'the prod environment has a database on the registered server');
    const dev = await req(own, 'GET', '/v1/data/notes', { key: ob.secretKey });
    assert.equal(dev.status, 404, 'the dev environment on the default store works (no such table)');
  } finally {
    await own.stop();
  }
});
