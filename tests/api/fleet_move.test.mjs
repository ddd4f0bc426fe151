// Moving an environment in a fleet (docs/operations.md "Moving an environment", "Running a fleet"): two
// `basalt serve` instances on one control store and one environment store (PostgreSQL) and one Redis; the
// dev environment moves from the environment store's server to a second PostgreSQL server (cluster pg2)
// through instance A while both instances take writes. A move's journal sees only its own instance's
// writes, so the other instance must refuse writes to the environment for the whole move (503
// environment/moving + Retry-After, reads go on) and locate it again when the move ends. Checked: every
// write acknowledged by either instance is there afterwards, read through both; writes were refused only
// with environment/moving; reads never failed; after the move B writes to the new place (A reads it),
// and the old copy is gone. Needs tests/pg/with-pg.sh and tests/redis/with-redis.sh; skipped without.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, runOnce, tempDir, sleep, repoRoot, sharedPgStores } from './harness.mjs';

const PG = process.env.BASALT_TEST_PG_URL, REDIS = process.env.BASALT_TEST_REDIS_URL;
const skip = !(PG && REDIS) && 'needs BASALT_TEST_PG_URL and BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh)';
const startPg = path.join(repoRoot, 'tests', 'pg', 'start-pg.sh');
const SECRET = 'op-secret-fleet-0123456789';

let dir, control, envDb, second, tokenFile, a, bsrv, boot, envId;
const psql = (url, sql) => execFileSync('psql', [url, '-qXAt', '-c', sql], { encoding: 'utf8' }).split('\n').filter(Boolean);

before(async () => {
  if (skip) return;
  [control, envDb] = sharedPgStores('fmove');
  const [url, pgdir] = execFileSync(startPg, { encoding: 'utf8' }).trim().split('\n');
  second = { url, dir: pgdir };
  dir = tempDir('basalt-fleet-move-');
  tokenFile = path.join(dir, 'operator.token');
  fs.writeFileSync(tokenFile, `${SECRET}\n`, { mode: 0o600 });
  const args = ['--control-store', control, '--env-store', envDb, '--redis', REDIS, '--redis-timeout-ms', '2000',
    '--operator-token-file', tokenFile];
  a = await startServer({ dataDir: dir, keep: true, args }); // the first start bootstraps
  bsrv = await startServer({ dataDir: dir, keep: true, args });
  boot = a.bootstrap;
});
after(async () => {
  try {
    for (const s of [bsrv, a]) await s?.stop({ removeDir: false });
  } finally {
    if (second) execFileSync(startPg, ['stop', second.dir]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

const sk = () => ({ key: boot.secretKey });
const admin = (s, method, p, body) => req(s, method, `/admin/v1/projects/${boot.projectId}/environments/dev${p}`, { token: boot.operatorToken, body });
const op = (method, p, body) => req(a, method, `/admin/v1/operator${p}`, { body, headers: { Authorization: `Bearer ${SECRET}` } });

test('a move through one instance while both write: nothing acknowledged is lost, the other instance holds and then follows', { skip }, async () => {
  const env = await admin(a, 'GET', '');
  assert.equal(env.status, 200, env.text);
  envId = env.json.id;
  const t = await admin(a, 'POST', '/tables', { tableName: 'notes' });
  assert.equal(t.status, 201, t.text);
  const seed = await req(a, 'POST', '/v1/data/notes', { ...sk(), body: Array.from({ length: 500 }, (_, i) => ({ text: `seed ${i}`, n: i })) });
  assert.equal(seed.status, 201, seed.text);
  const add = await runOnce(['operator', 'cluster', 'add', 'pg2', second.url, '--shared', '--capacity', '5', '--data', dir],
    { env: { BASALT_CONTROL_STORE: control, BASALT_ENV_STORE: envDb }, timeoutMs: 20000 });
  assert.equal(add.code, 0, add.stderr);

  let stop = false;
  const acked = [], refusedOnB = [], refusedOnA = [], other = [], readFailures = [];
  const writer = async (s, refused, tag) => {
    for (let i = 0; !stop; i++) {
      const r = await req(s, 'POST', '/v1/data/notes', { ...sk(), body: { text: `${tag} ${i}`, n: 1000 + i } });
      if (r.status === 201) acked.push(r.json.id);
      else if (r.status === 503 && r.json?.error?.code === 'environment/moving' && r.headers.get('retry-after') === '1') refused.push(i);
      else other.push(`${tag}: ${r.status} ${r.text}`);
    }
  };
  const reader = async (s) => {
    while (!stop) {
      const r = await req(s, 'GET', '/v1/data/notes?limit=5', sk());
      if (r.status !== 200) readFailures.push(`${r.status} ${r.text}`);
    }
  };
  const load = [writer(a, refusedOnA, 'a'), writer(bsrv, refusedOnB, 'b'), reader(a), reader(bsrv)];
  await sleep(300);
  const start = await op('POST', `/environments/${envId}/move`, { cluster: 'pg2' });
  assert.equal(start.status, 202, start.text);
  let done;
  for (const deadline = Date.now() + 60000; ;) {
    const m = await op('GET', `/moves/${start.json.id}`);
    assert.equal(m.status, 200, m.text);
    if (m.json.state === 'done' || m.json.state === 'failed') { done = m.json; break; }
    assert.ok(Date.now() < deadline, 'the move ends within a minute');
    await sleep(50);
  }
  await sleep(300);
  stop = true;
  await Promise.all(load);
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.deepEqual(other, []);
  assert.deepEqual(readFailures, []);
  assert.ok(refusedOnB.length > 0, 'the other instance refused writes while the environment moved');
  assert.ok(acked.length > 20, `writes went on before and after the move (${acked.length})`);
  const missing = [];
  for (const id of acked) {
    for (const s of [a, bsrv]) {
      const g = await req(s, 'GET', `/v1/data/notes/${id}`, sk());
      if (g.status !== 200) missing.push(`${id} via ${s === a ? 'A' : 'B'}: ${g.status}`);
    }
  }
  assert.deepEqual(missing, [], 'every acknowledged write is there, through both instances');
  const list = await req(bsrv, 'GET', '/v1/data/notes?limit=1', sk());
  assert.equal(list.json.pagination.total, 500 + new Set(acked).size);
  // B writes to the new place: A reads it; the environment is a slot's schema on the second server now
  const w = await req(bsrv, 'POST', '/v1/data/notes', { ...sk(), body: { text: 'after the move', n: 7 } });
  assert.equal(w.status, 201, w.text);
  assert.equal((await req(a, 'GET', `/v1/data/notes/${w.json.id}`, sk())).status, 200);
  assert.equal((await admin(bsrv, 'GET', '')).json.cluster.id, 'pg2');
  assert.deepEqual(psql(second.url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'd_notes'"), ['1']);
  assert.deepEqual(psql(envDb, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'd_notes'"), ['0']);
});
