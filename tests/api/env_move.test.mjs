// Moving an environment between clusters (docs/operations.md "Moving an environment", docs/management-api.md
// "Instance operator"): the dev environment, on the default store (SQLite files, or the PostgreSQL env
// store under BASALT_TEST_ENV=pg), moves to cluster pg1 (the first PostgreSQL server, registered as a
// dedicated cluster), then from pg1 to pg2 (a second PostgreSQL server started here, a shared cluster) —
// SQLite → PostgreSQL and PostgreSQL → another server. Tables with their schema and index versions,
// records, end users with their sessions (a refresh token still works), file records and query statistics
// are there after each move, keys unchanged, the old copy gone; the second move runs under load: every
// acknowledged write is there afterwards, writes are refused only with 503 environment/moving and
// Retry-After, reads never fail. The operator surface refuses a missing or wrong secret, answers
// malformed bodies and unknown clusters or environments with the error envelope. Needs PostgreSQL
// (tests/pg/with-pg.sh): skipped without BASALT_TEST_PG_URL.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, runOnce, repoRoot, expectError, tempDir, ENV_STORE, envStoreRows, sleep } from './harness.mjs';

const PG_URL = process.env.BASALT_TEST_PG_URL;
const skip = PG_URL ? false : 'needs PostgreSQL servers: run under tests/pg/with-pg.sh';
const startPg = path.join(repoRoot, 'tests', 'pg', 'start-pg.sh');
const SECRET = 'op-secret-0123456789abcdef';

let srv, b, second, tokenFile, envId;
before(async () => {
  if (!PG_URL) return;
  const [url, dir] = execFileSync(startPg, { encoding: 'utf8' }).trim().split('\n');
  second = { url, dir };
  tokenFile = path.join(tempDir('basalt-op-'), 'operator.token');
  fs.writeFileSync(tokenFile, `${SECRET}\n`, { mode: 0o600 });
  // single: this file is about one process moving an environment (its progress at GET .../moves/{id} lives on
  // the instance running the move, its write block covers the catch-up only, its query statistics are in
  // memory: docs/operations.md "Moving an environment"), so under BASALT_TEST_FLEET too it runs against one
  // process; a move in a fleet is fleet_move.test.mjs's
  srv = await startServer({ single: true, args: ['--operator-token-file', tokenFile] });
  b = srv.bootstrap;
  const env = await req(srv, 'GET', `/admin/v1/projects/${b.projectId}/environments/dev`, { token: b.operatorToken });
  assert.equal(env.status, 200, env.text);
  envId = env.json.id;
});
after(async () => {
  try {
    await srv?.stop();
  } finally {
    if (second) execFileSync(startPg, ['stop', second.dir]); // even when the server died
  }
});

const op = (method, p, body, secret = SECRET) =>
  req(srv, method, `/admin/v1/operator${p}`, { body, headers: secret === null ? {} : { Authorization: `Bearer ${secret}` } });
const admin = (method, p, body) => req(srv, method, `/admin/v1/projects/${b.projectId}/environments/dev${p}`, { token: b.operatorToken, body });
const sk = () => ({ key: b.secretKey });
const psql = (url, sql) => execFileSync('psql', [url, '-qXAt', '-c', sql], { encoding: 'utf8' }).split('\n').filter(Boolean);

async function moveTo(cluster) {
  const start = await op('POST', `/environments/${envId}/move`, { cluster });
  assert.equal(start.status, 202, start.text);
  assert.match(start.json.id, /^mv_[0-9a-f]{16}$/);
  assert.equal(start.headers.get('location'), `/admin/v1/operator/moves/${start.json.id}`);
  const deadline = Date.now() + 60000;
  for (;;) {
    const m = await op('GET', `/moves/${start.json.id}`);
    assert.equal(m.status, 200, m.text);
    if (m.json.state === 'done' || m.json.state === 'failed') return m.json;
    assert.ok(['copying', 'catching-up'].includes(m.json.state), m.text);
    assert.ok(Date.now() < deadline, 'the move ends within a minute');
    await sleep(50);
  }
}

// What must survive every move: checked before and after.
async function snapshot() {
  const list = await req(srv, 'GET', '/v1/data/notes?limit=100&sortBy=id&sortDirection=asc', sk());
  assert.equal(list.status, 200, list.text);
  const versions = await admin('GET', '/tables/notes/indexes/versions');
  assert.equal(versions.status, 200, versions.text);
  const schemaVersions = await admin('GET', '/tables/notes/schema/versions');
  assert.equal(schemaVersions.status, 200, schemaVersions.text);
  const table = await admin('GET', '/tables/notes');
  assert.equal(table.status, 200, table.text);
  const top = await req(srv, 'GET', '/v1/data/notes?sortBy=n&sortDirection=desc&limit=5', sk());
  assert.equal(top.status, 200, top.text);
  return { top: top.json.items.map((i) => i.n), total: list.json.pagination.total, ids: list.json.items.map((i) => i.id),
    indexVersions: versions.json.items.length, schemaVersions: schemaVersions.json.items.length,
    indexes: table.json.indexes ?? null };
}

let user, fileId;
test('setup: a table with schema and index versions, records, a signed-in user, a file record, query stats', { skip }, async () => {
  const t = await admin('POST', '/tables', { tableName: 'notes',
    schema: { bsonType: 'object', properties: { text: { bsonType: 'string' }, n: { bsonType: 'int' } } } });
  assert.equal(t.status, 201, t.text);
  const f = await admin('PATCH', '/tables/notes/fields', { fieldsToAddOrUpdate: { tag: { bsonType: 'string' } } });
  assert.equal(f.status, 200, f.text);
  const ix = await admin('POST', '/tables/notes/indexes', { indexesToAdd: [{ name: 'by_n', fields: { n: -1 } }] });
  assert.equal(ix.status, 200, ix.text);
  for (let i = 0; i < 10; i++) {
    const batch = Array.from({ length: 100 }, (_, j) => ({ text: `seed ${i * 100 + j}`, n: i * 100 + j }));
    const w = await req(srv, 'POST', '/v1/data/notes', { ...sk(), body: batch });
    assert.equal(w.status, 201, w.text);
  }
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { key: b.publishableKey,
    body: { method: 'password', email: 'mover@example.com', password: 'secret1', name: 'Mo' } });
  assert.equal(up.status, 201, up.text);
  user = up.json;
  const p = await req(srv, 'POST', '/v1/files/presigned-url', { key: b.publishableKey, token: user.accessToken,
    body: { filename: 'a.txt', contentType: 'text/plain' } });
  assert.equal(p.status, 200, p.text);
  const put = await req(srv, 'PUT', p.json.url.replace(/^http:\/\/[^/]+/, ''), { raw: Buffer.from('hello'), headers: { 'Content-Type': 'text/plain' } });
  assert.equal(put.status, 200, put.text);
  const reg = await req(srv, 'POST', '/v1/files', { key: b.publishableKey, token: user.accessToken,
    body: { s3Key: p.json.key, originalName: 'a.txt', mimeType: 'text/plain', size: 5 } });
  assert.equal(reg.status, 201, reg.text);
  fileId = reg.json.id;
  const l = await req(srv, 'GET', '/v1/data/notes?andFilters[n][$gte]=5&limit=3', sk());
  assert.equal(l.status, 200, l.text);
  const qs = await admin('GET', '/tables/notes/query-stats');
  assert.equal(qs.status, 200, qs.text);
  assert.ok(qs.json.items.length >= 1, qs.text);
});

test('the operator surface: the secret is required; malformed bodies, unknown clusters and environments answer the envelope', { skip }, async () => {
  expectError(assert, await op('GET', '/clusters', undefined, null), 401, 'auth/unauthorized');
  expectError(assert, await op('GET', '/clusters', undefined, 'wrong-secret-0123456789'), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', '/admin/v1/operator/clusters', { token: b.operatorToken }), 401, 'auth/unauthorized');
  expectError(assert, await op('POST', `/environments/${envId}/move`, { cluster: 'pg1' }, null), 401, 'auth/unauthorized');
  expectError(assert, await op('GET', '/nothing-here'), 404, 'common/not-found');
  const bad = await req(srv, 'POST', `/admin/v1/operator/environments/${envId}/move`,
    { raw: '{"cluster":', headers: { Authorization: `Bearer ${SECRET}`, 'Content-Type': 'application/json' } });
  expectError(assert, bad, 400, 'common/invalid-parameters');
  expectError(assert, await op('POST', `/environments/${envId}/move`, { cluster: 7 }), 400, 'common/invalid-parameters');
  expectError(assert, await op('POST', `/environments/${envId}/move`, {}), 400, 'common/invalid-parameters');
  expectError(assert, await op('POST', `/environments/${envId}/move`, { cluster: 'nope' }), 404, 'common/not-found');
  expectError(assert, await op('POST', '/environments/env_nope/move', { cluster: 'shared-1' }), 404, 'common/not-found');
  expectError(assert, await op('GET', '/moves/mv_0000000000000000'), 404, 'common/not-found');

  const add1 = await runOnce(['operator', 'cluster', 'add', 'pg1', PG_URL, '--dedicated', '--data', srv.dataDir], { timeoutMs: 20000 });
  assert.equal(add1.code, 0, add1.stderr);
  const u2 = new URL(second.url);
  u2.password = 'n0t-Sh0wn';
  const add2 = await runOnce(['operator', 'cluster', 'add', 'pg2', u2.href, '--shared', '--capacity', '5', '--data', srv.dataDir], { timeoutMs: 20000 });
  assert.equal(add2.code, 0, add2.stderr);
  const cl = await op('GET', '/clusters');
  assert.equal(cl.status, 200, cl.text);
  assert.ok(!cl.text.includes('n0t-Sh0wn'), 'passwords are masked');
  const pg2 = cl.json.items.find((c) => c.name === 'pg2');
  assert.deepEqual([pg2.kind, pg2.capacity, pg2.load, pg2.draining], ['shared', 5, 0, false]);
  assert.match(pg2.server, /:\*\*\*@/);
  const auto = cl.json.items.find((c) => !c.server);
  assert.ok(auto, 'the default store has a cluster Basalt made (no server URL)');
  expectError(assert, await op('POST', `/environments/${envId}/move`, { cluster: auto.name }), 400, 'common/invalid-parameters');
});

test('SQLite (or the env store) → PostgreSQL: everything is copied, keys unchanged, the old copy dropped', { skip }, async () => {
  const beforeMove = await snapshot();
  assert.equal(beforeMove.total, 1000);
  const done = await moveTo('pg1');
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.ok(done.progress.rowsCopied >= 1000 && done.progress.rowsCopied === done.progress.rowsTotal, JSON.stringify(done));
  const env = await admin('GET', '');
  assert.equal(env.json.cluster.id, 'pg1');
  assert.deepEqual(await snapshot(), beforeMove);
  assert.deepEqual(beforeMove.top, [999, 998, 997, 996, 995]);
  const r = await req(srv, 'POST', '/v1/auth/refresh', { key: b.publishableKey, body: { refreshToken: user.refreshToken } });
  assert.equal(r.status, 200, r.text);
  user = { ...user, ...r.json };
  const f = await req(srv, 'GET', `/v1/files/${fileId}`, { key: b.publishableKey, token: user.accessToken });
  assert.equal(f.status, 200, f.text);
  const qs = await admin('GET', '/tables/notes/query-stats');
  assert.ok(qs.json.items.length >= 1, 'query stats stay');
  const dup = await req(srv, 'POST', '/v1/data/notes', { ...sk(), body: { text: 'after', n: 1000 } });
  assert.equal(dup.status, 201, dup.text);
  // the old copy is gone
  if (ENV_STORE === 'pg') {
    assert.deepEqual(envStoreRows(srv.dataDir, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'"), [['0']]);
  } else {
    for (const dir of ['clusters', 'envs']) {
      const d = path.join(srv.dataDir, dir);
      for (const f of fs.existsSync(d) ? fs.readdirSync(d).filter((n) => n.endsWith('.db')) : []) {
        const left = execFileSync('sqlite3', [path.join(d, f), "SELECT count(*) FROM sqlite_master WHERE name LIKE '%auth_users'"], { encoding: 'utf8' }).trim();
        assert.equal(left, '0', `${dir}/${f} holds no environment any more`);
      }
    }
  }
  assert.deepEqual(psql(PG_URL, `SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_${envId.toLowerCase()}'`), ['1']);
  expectError(assert, await op('POST', `/environments/${envId}/move`, { cluster: 'pg1' }), 409, 'common/conflict');
});

test('PostgreSQL → another server under load: no acknowledged write lost, writes refused only with 503 + Retry-After, reads never fail', { skip }, async () => {
  const beforeMove = await snapshot();
  let stop = false;
  const acked = [], refused = [], readFailures = [], otherWrites = [];
  const writer = async (w) => {
    for (let i = 0; !stop; i++) {
      const sent = Date.now();
      const r = await req(srv, 'POST', '/v1/data/notes', { ...sk(), body: { text: `load ${w}-${i}`, n: 5000 + i } });
      if (r.status === 201) acked.push(r.json.id);
      else if (r.status === 503) refused.push({ ...r, sent, received: Date.now() });
      else otherWrites.push(`${r.status} ${r.text}`);
    }
  };
  const updater = async () => {
    for (let i = 0; !stop; i++) {
      const id = beforeMove.ids[i % beforeMove.ids.length];
      const sent = Date.now();
      const r = await req(srv, 'PATCH', `/v1/data/notes/${id}`, { ...sk(), body: { text: `updated ${i}` } });
      if (r.status === 200) acked.push(id);
      else if (r.status === 503) refused.push({ ...r, sent, received: Date.now() });
      else otherWrites.push(`${r.status} ${r.text}`);
    }
  };
  const reader = async () => {
    while (!stop) {
      const r = await req(srv, 'GET', '/v1/data/notes?limit=5', sk());
      if (r.status !== 200) readFailures.push(`${r.status} ${r.text}`);
    }
  };
  const load = [writer(1), writer(2), updater(), reader(), reader()];
  await sleep(200);
  const done = await moveTo('pg2');
  await sleep(200);
  stop = true;
  await Promise.all(load);
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.deepEqual(otherWrites, []);
  assert.deepEqual(readFailures, []);
  assert.ok(done.writesBlockedFrom && done.writesBlockedUntil >= done.writesBlockedFrom, JSON.stringify(done));
  for (const r of refused) {
    assert.equal(r.json.error.code, 'environment/moving', r.text);
    assert.equal(r.headers.get('retry-after'), '1');
    // refused only inside the catch-up window (the same clock; 5 ms for rounding)
    assert.ok(r.received >= done.writesBlockedFrom - 5 && r.sent <= done.writesBlockedUntil + 5,
      `refused at ${r.sent}..${r.received}, outside ${done.writesBlockedFrom}..${done.writesBlockedUntil}`);
  }
  assert.ok(acked.length > 20, `writes went on during the move (${acked.length})`);
  assert.ok(done.writesBlockedMs < 10000, `writes were blocked ${done.writesBlockedMs} ms`);
  const missing = [];
  for (const id of new Set(acked)) {
    const g = await req(srv, 'GET', `/v1/data/notes/${id}`, sk());
    if (g.status !== 200) missing.push(id);
  }
  assert.deepEqual(missing, [], 'every acknowledged write is there');
  const env = await admin('GET', '');
  assert.equal(env.json.cluster.id, 'pg2');
  const after = await snapshot();
  assert.equal(after.indexVersions, beforeMove.indexVersions);
  assert.equal(after.schemaVersions, beforeMove.schemaVersions);
  const r = await req(srv, 'POST', '/v1/auth/refresh', { key: b.publishableKey, body: { refreshToken: user.refreshToken } });
  assert.equal(r.status, 200, r.text);
  const f = await req(srv, 'GET', `/v1/files/${fileId}`, { key: b.publishableKey, token: r.json.accessToken });
  assert.equal(f.status, 200, f.text);
  // the copy on pg1 is gone; the environment is a slot's schema on the second server
  assert.deepEqual(psql(PG_URL, `SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_${envId.toLowerCase()}'`), ['0']);
  assert.deepEqual(psql(second.url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'"), ['1']);
});

test('basalt env move: the CLI moves through the operator endpoint with progress, and fails with the reason', { skip }, async () => {
  const beforeMove = await snapshot();
  const cli = (args, env = {}) => runOnce(['env', 'move', ...args, '--url', srv.url, '--token', b.operatorToken],
    { env, timeoutMs: 60000 });
  const noSecret = await cli([b.projectId, 'dev', 'pg1']);
  assert.equal(noSecret.code, 2, noSecret.stderr);
  assert.match(noSecret.stderr, /--operator-token-file/);
  const unknown = await cli([b.projectId, 'dev', 'nope', '--operator-token-file', tokenFile]);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /404.*No cluster nope/);
  const moved = await cli([b.projectId, 'dev', 'pg1'], { BASALT_OPERATOR_TOKEN_FILE: tokenFile });
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /^dev moved to pg1 \(move mv_[0-9a-f]{16}; writes refused for \d+ ms\)/);
  const lines = moved.stderr.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.at(-1).state, 'done');
  assert.ok(lines.at(-1).rowsCopied > 1000, moved.stderr);
  assert.equal((await admin('GET', '')).json.cluster.id, 'pg1');
  const after = await snapshot();
  assert.deepEqual([after.top, after.indexVersions, after.schemaVersions, after.total],
    [beforeMove.top, beforeMove.indexVersions, beforeMove.schemaVersions, beforeMove.total]);
  assert.deepEqual(psql(second.url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'"), ['0'],
    'the slot on the second server is dropped');
  const again = await cli([b.projectId, 'dev', 'pg1'], { BASALT_OPERATOR_TOKEN_FILE: tokenFile });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /409/);
});

test('a move that fails (the target server gone) leaves the environment where it was, writable', { skip }, async () => {
  execFileSync(startPg, ['stop', second.dir]);
  const stopped = second;
  second = null; // stopped here: after() must not stop it again
  const start = await op('POST', `/environments/${envId}/move`, { cluster: 'pg2' });
  let failed;
  if (start.status === 202) {
    const deadline = Date.now() + 60000;
    do {
      await sleep(50);
      failed = (await op('GET', `/moves/${start.json.id}`)).json;
    } while (!['done', 'failed'].includes(failed.state) && Date.now() < deadline);
    assert.equal(failed.state, 'failed', JSON.stringify(failed));
    assert.ok(failed.error && failed.error.code, JSON.stringify(failed));
  } else {
    expectError(assert, start, 503, 'common/unavailable');
  }
  assert.equal((await admin('GET', '')).json.cluster.id, 'pg1', 'the placement did not change');
  const w = await req(srv, 'POST', '/v1/data/notes', { ...sk(), body: { text: 'still here', n: 7 } });
  assert.equal(w.status, 201, w.text);
  const g = await req(srv, 'GET', `/v1/data/notes/${w.json.id}`, sk());
  assert.equal(g.status, 200, g.text);
  assert.ok(stopped.dir);
});

test('without --operator-token-file the operator surface answers 404', { skip }, async () => {
  const plain = await startServer();
  try {
    const r = await req(plain, 'GET', '/admin/v1/operator/clusters', { headers: { Authorization: `Bearer ${SECRET}` } });
    expectError(assert, r, 404, 'common/not-found');
    const m = await req(plain, 'POST', '/admin/v1/operator/environments/env_x/move', { body: { cluster: 'pg1' } });
    expectError(assert, m, 404, 'common/not-found');
  } finally {
    await plain.stop();
  }
});
