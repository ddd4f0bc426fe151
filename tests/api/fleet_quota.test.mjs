// A fleet (docs/operations.md "Running a fleet", docs/quotas.md "Admission with Redis"): three `basalt serve`
// instances on one control store and one environment store (PostgreSQL) and one Redis (--redis). 64 racers
// spread over the three get exactly the 100 calls left of the month, and exactly a project's daily
// apiCallLimit; /healthz shows each instance's view of Redis; with Redis stopped calls are admitted by each
// instance's own counters for --redis-fail-open seconds (basalt_redis_fail_open_total), then refused with
// 503 common/unavailable + Retry-After (basalt_redis_fail_closed_total); a restarted, empty Redis is seeded
// from the usage rows (an exhausted quota stays exhausted).
// Needs tests/pg/with-pg.sh and tests/redis/with-redis.sh (scripts/test.sh runs it under both); skipped without.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, expectError, runOnce, tempDir, sleep, metricValue, getOnce, repoRoot, freePort, sharedPgStores, fleetTenant } from './harness.mjs';

const PG = process.env.BASALT_TEST_PG_URL, REDIS = process.env.BASALT_TEST_REDIS_URL;
const skip = !(PG && REDIS) && 'needs BASALT_TEST_PG_URL and BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh)';
const FAIL_OPEN_S = 2;
const redisCtl = (verb) => execFileSync(path.join(repoRoot, 'tests', 'redis', 'ctl.sh'), [verb], { stdio: 'pipe' });

let dir, control, envStore, fleet = [];

const stores = () => sharedPgStores('fleet');

before(async () => {
  if (skip) return;
  [control, envStore] = stores();
  dir = tempDir('basalt-fleet-');
  const args = ['--control-store', control, '--env-store', envStore, '--redis', REDIS, '--redis-timeout-ms', '2000',
    '--redis-fail-open', String(FAIL_OPEN_S), '--key-cache-ms', '1'];
  // single: this file makes its own fleet (so it runs alike under BASALT_TEST_FLEET)
  fleet.push(await startServer({ single: true, dataDir: dir, keep: true, args })); // the first start bootstraps
  fleet.push(...await Promise.all([1, 2].map(() => startServer({ single: true, dataDir: dir, keep: true, args }))));
});
after(async () => {
  for (const s of fleet) await s.stop({ removeDir: false });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const boot = () => fleet[0].bootstrap;
const admin = (method, p, body, token = boot().operatorToken) => req(fleet[0], method, '/admin/v1' + p, { token, body });

// An organization (Free plan) with a project, a secret key and a table "things" on the shared stores.
const tenant = (slug) => fleetTenant(assert, fleet[0], slug);

const call = (s, key) => req(s, 'GET', '/v1/data/things', { key });

// 64 racers, racer i on instance i % 3, each calling until it is refused: the statuses of every answer.
async function race(key) {
  const statuses = [];
  const byInstance = [0, 0, 0];
  const racer = async (i) => {
    for (;;) {
      const r = await fetch(`${fleet[i % 3].url}/v1/data/things`, { headers: { 'X-API-Key': key } });
      await r.arrayBuffer();
      statuses.push(r.status);
      if (r.status !== 200) return;
      byInstance[i % 3]++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, (_, i) => racer(i)));
  return { statuses, byInstance };
}

const metrics = async (s) => (await getOnce(`${s.url}/metrics`)).text;
const health = async (s) => JSON.parse((await getOnce(`${s.url}/healthz`)).text);

test('/healthz: each instance\'s view of Redis', { skip }, async () => {
  for (const s of fleet) {
    const h = await health(s);
    assert.equal(h.status, 'ok');
    assert.equal(h.controlStore, 'ok');
    assert.equal(h.redis.status, 'ok', JSON.stringify(h));
    assert.equal(h.redis.admission, 'shared');
    assert.equal(h.redis.server, new URL(REDIS).host + '/0');
    assert.equal(typeof h.redis.pingMs, 'number');
  }
});

test('64 racers over 3 instances get exactly the 100 calls left of the month', { skip }, async () => {
  const t = await tenant('fleet-month');
  const q = await runOnce(['operator', 'quota', t.org, '130', '--control-store', control]);
  assert.equal(q.code, 0, q.stderr);
  for (let i = 0; i < 30; i++) assert.equal((await call(fleet[i % 3], t.key)).status, 200); // 100 left
  const { statuses, byInstance } = await race(t.key);
  assert.equal(statuses.filter((s) => s === 200).length, 100, `admitted per instance: ${byInstance}`);
  assert.equal(statuses.filter((s) => s === 429).length, 64, 'every racer stops at a 429');
  assert.ok(byInstance.every((n) => n > 0), `every instance admitted some: ${byInstance}`);
  for (const s of fleet) {
    const r = await call(s, t.key);
    expectError(assert, r, 429, 'usage/quota-exceeded');
    assert.deepEqual([r.json.error.details.limit, r.json.error.details.used], [130, 130]);
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  }
});

test('64 racers over 3 instances get exactly a project\'s daily apiCallLimit', { skip }, async () => {
  const t = await tenant('fleet-day');
  const set = await admin('PATCH', `/projects/${t.project}`, { settings: { apiCallLimit: 100 } }, t.token);
  assert.equal(set.status, 200, set.text);
  await sleep(20); // the project's settings are cached for --key-cache-ms
  const first = await call(fleet[1], t.key);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')], ['100', '99']);
  const { statuses, byInstance } = await race(t.key);
  assert.equal(statuses.filter((s) => s === 200).length, 99, `admitted per instance: ${byInstance}`);
  assert.equal(statuses.filter((s) => s === 429).length, 64);
  expectError(assert, await call(fleet[2], t.key), 429, 'data/rate-limit-exceeded');
});

test('Redis stopped: fail open for --redis-fail-open seconds, then 503 until it is back (seeded from the usage rows)', { skip }, async () => {
  const spent = await tenant('fleet-spent');
  assert.equal((await runOnce(['operator', 'quota', spent.org, '3', '--control-store', control])).code, 0);
  for (let i = 0; i < 3; i++) assert.equal((await call(fleet[i], spent.key)).status, 200);
  expectError(assert, await call(fleet[0], spent.key), 429, 'usage/quota-exceeded');
  const t = await tenant('fleet-outage');
  assert.equal((await call(fleet[0], t.key)).status, 200);
  await sleep(1500); // every instance's meter has flushed its calls into the usage rows
  const before = await Promise.all(fleet.map(metrics));
  redisCtl('stop');
  try {
    const open = await call(fleet[0], t.key);
    assert.equal(open.status, 200, `fail open: ${open.text}`);
    assert.equal(open.headers.get('x-ratelimit-limit'), '10000', 'the headers as always');
    expectError(assert, await call(fleet[0], spent.key), 429, 'usage/quota-exceeded'); // this instance's counters saw the fleet's count
    const h = await health(fleet[0]);
    assert.equal(h.status, 'ok', 'an unreachable Redis does not take the instance out of the balancer');
    assert.equal(h.redis.status, 'unreachable');
    assert.equal(h.redis.admission, 'fail-open');
    assert.ok(!JSON.stringify(h).includes('password'));
    const m = await metrics(fleet[0]);
    assert.ok(metricValue(m, 'basalt_redis_fail_open_total') >= 2, m);
    assert.ok(metricValue(m, 'basalt_redis_errors_total') > metricValue(before[0], 'basalt_redis_errors_total'));
    assert.equal(metricValue(m, 'basalt_redis_outage'), 1);
    await sleep(FAIL_OPEN_S * 1000 + 300);
    const closed = await call(fleet[0], t.key);
    expectError(assert, closed, 503, 'common/unavailable');
    assert.equal(closed.headers.get('retry-after'), '5');
    assert.equal((await health(fleet[0])).redis.admission, 'fail-closed');
    assert.ok(metricValue(await metrics(fleet[0]), 'basalt_redis_fail_closed_total') >= 1);
    assert.equal((await call(fleet[0], t.key)).status, 503);
    // an instance whose outage starts now fails open for its own window
    assert.equal((await call(fleet[2], t.key)).status, 200);
    // management requests are not admission-checked
    assert.equal((await admin('GET', `/organizations/${t.org}`, undefined, t.token)).status, 200);
  } finally {
    redisCtl('start'); // an empty Redis: counters are seeded again from the usage rows
  }
  let back;
  for (let i = 0; i < 40; i++) { // past the client's reconnect backoff (at most 2 s)
    back = await call(fleet[0], t.key);
    if (back.status === 200) break;
    await sleep(100);
  }
  assert.equal(back.status, 200, back.text);
  assert.equal((await health(fleet[0])).redis.admission, 'shared');
  assert.equal(metricValue(await metrics(fleet[0]), 'basalt_redis_outage'), 0);
  for (const s of fleet) { // every instance: seeded from the usage rows, the spent quota stays spent
    const r = await call(s, spent.key);
    expectError(assert, r, 429, 'usage/quota-exceeded');
    assert.ok(r.json.error.details.used >= 4, r.text); // 3 admitted + 1 refused, as the usage rows count calls
  }
  for (const s of fleet) assert.equal(metricValue(await metrics(s), 'basalt_redis_outage'), 0, 'a restarted Redis: no instance fell back');
});

// Needs no Redis: one that never answers.
test('a Redis that does not answer: the instance starts, fails open then closed, and its password shows nowhere', async () => {
  const badDir = tempDir();
  const bad = await runOnce(['serve', '--listen', '127.0.0.1:0', '--data', badDir, '--redis', 'http://127.0.0.1:6379']);
  fs.rmSync(badDir, { recursive: true, force: true });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /redis:\/\//);
  const port = await freePort();
  const s = await startServer({ single: true, args: ['--redis', `redis://:hunter2-secret@127.0.0.1:${port}/3`, '--redis-fail-open', '1'] });
  try {
    const h = await health(s);
    assert.equal(h.status, 'ok');
    assert.deepEqual([h.redis.server, h.redis.status, h.redis.admission], [`127.0.0.1:${port}/3`, 'unreachable', 'shared']);
    assert.match(h.redis.error, /cannot connect|retrying shortly/);
    const open = await call(s, s.bootstrap.secretKey);
    assert.equal(open.status, 404, open.text); // admitted (fail open): the table does not exist
    assert.equal(open.headers.get('x-ratelimit-remaining'), '9999');
    assert.equal((await health(s)).redis.admission, 'fail-open');
    await sleep(1100);
    expectError(assert, await call(s, s.bootstrap.secretKey), 503, 'common/unavailable');
    const m = await metrics(s);
    assert.equal(metricValue(m, 'basalt_redis_fail_open_total'), 1);
    assert.equal(metricValue(m, 'basalt_redis_fail_closed_total'), 1);
    assert.equal(metricValue(m, 'basalt_redis_connects_total'), 0);
    assert.ok(!JSON.stringify(h).includes('hunter2') && !m.includes('hunter2'));
  } finally {
    await s.stop({ removeDir: false });
    assert.ok(!s.stderr().includes('hunter2') && !s.stdout().includes('hunter2'), 'the password is in no log line');
    fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
});
