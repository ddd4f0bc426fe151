// Cache invalidation across a fleet (docs/operations.md "Cache invalidation"): three `basalt serve` instances
// on one control store and one environment store (PostgreSQL), one Redis and one data directory, with the
// default key cache (--key-cache-ms 1000: a stale cache would show). A change made through instance A (or the
// operator CLI) is in force on B and C on the very next request, with no sleep: a revoked secret key, a new
// table, a table's permissions, a project's allowedOrigins and ipWhitelist, a plan change, an organization's
// suspension, a project's deletion; bans and ended sessions are read from the shared store on every check.
// An instance that does not answer (SIGSTOP) holds a change up for 1 s at most. With Redis stopped the
// management call still succeeds (the failure is counted on /metrics); when Redis is back every instance
// resubscribes and drops its caches.
// Needs tests/pg/with-pg.sh and tests/redis/with-redis.sh (scripts/test.sh runs it under both); skipped without.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, expectError, runOnce, tempDir, sleep, metricValue, getOnce, repoRoot, sharedPgStores } from './harness.mjs';

const PG = process.env.BASALT_TEST_PG_URL, REDIS = process.env.BASALT_TEST_REDIS_URL;
const skip = !(PG && REDIS) && 'needs BASALT_TEST_PG_URL and BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh)';
const redisCtl = (verb) => execFileSync(path.join(repoRoot, 'tests', 'redis', 'ctl.sh'), [verb], { stdio: 'pipe' });

let dir, control, envStore, fleet = [];

const stores = () => sharedPgStores('fleetc');

const health = async (s) => JSON.parse((await getOnce(`${s.url}/healthz`)).text);
const metrics = async (s) => (await getOnce(`${s.url}/metrics`)).text;

// Until every instance's invalidation bus is subscribed (at most 10 s).
async function allSubscribed() {
  for (let i = 0; i < 100; i++) {
    const views = await Promise.all(fleet.map(health));
    if (views.every((h) => h.redis && h.redis.invalidation === 'subscribed')) return;
    await sleep(100);
  }
  assert.fail('the instances did not subscribe to the invalidation bus');
}

before(async () => {
  if (skip) return;
  [control, envStore] = stores();
  dir = tempDir('basalt-fleetc-');
  const args = ['--control-store', control, '--env-store', envStore, '--redis', REDIS, '--redis-timeout-ms', '2000'];
  fleet.push(await startServer({ dataDir: dir, keep: true, args })); // the first start bootstraps
  fleet.push(...await Promise.all([1, 2].map(() => startServer({ dataDir: dir, keep: true, args }))));
  await allSubscribed();
});
after(async () => {
  for (const s of fleet) await s.stop({ removeDir: false });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const [A, B, C] = [0, 1, 2];
const boot = () => fleet[A].bootstrap;
const admin = (method, p, body, token = boot().operatorToken) => req(fleet[A], method, '/admin/v1' + p, { token, body });

// An organization (Free plan) with a project, a secret and a publishable key and a table "things".
async function tenant(slug) {
  const org = await admin('POST', '/organizations', { name: slug, slug });
  assert.equal(org.status, 201, org.text);
  const t = org.json.ownerToken;
  const p = await admin('POST', '/projects', { organizationId: org.json.id, name: slug, slug: `${slug}-app` }, t);
  assert.equal(p.status, 201, p.text);
  const env = `/projects/${p.json.id}/environments/dev`;
  const sk = await admin('POST', `${env}/keys`, { type: 'secret', name: 'server' }, t);
  assert.equal(sk.status, 201, sk.text);
  const pk = await admin('POST', `${env}/keys`, { type: 'publishable', name: 'web' }, t);
  assert.equal(pk.status, 201, pk.text);
  const tb = await admin('POST', `${env}/tables`, { tableName: 'things' }, t);
  assert.equal(tb.status, 201, tb.text);
  return { org: org.json.id, token: t, project: p.json.id, env, key: sk.json.key, keyId: sk.json.id, pk: pk.json.key };
}

const list = (i, key, headers = {}) => req(fleet[i], 'GET', '/v1/data/things', { key, headers });

test('a secret key revoked through A is refused by B and C on the next request', { skip }, async () => {
  const t = await tenant('fc-revoke');
  for (const i of [B, C]) assert.equal((await list(i, t.key)).status, 200); // cached on B and C
  const del = await admin('DELETE', `${t.env}/keys/${t.keyId}`, undefined, t.token);
  assert.ok(del.status === 200 || del.status === 204, del.text);
  for (const i of [B, C]) expectError(assert, await list(i, t.key), 401, 'auth/invalid-api-key');
  const m = await metrics(fleet[A]);
  assert.ok(metricValue(m, 'basalt_fleet_invalidations_published_total') >= 1, m);
  assert.equal(metricValue(m, 'basalt_fleet_invalidation_timeouts_total'), 0);
  assert.ok(metricValue(await metrics(fleet[B]), 'basalt_fleet_invalidations_received_total') >= 1);
});

test('a table created through A is writable through C at once; permissions changed through A apply through B', { skip }, async () => {
  const t = await tenant('fc-tables');
  expectError(assert, await req(fleet[C], 'POST', '/v1/data/fresh', { key: t.key, body: { n: 0 } }), 404, 'data/table-not-found');
  assert.equal((await admin('POST', `${t.env}/tables`, { tableName: 'fresh' }, t.token)).status, 201);
  const made = await req(fleet[C], 'POST', '/v1/data/fresh', { key: t.key, body: { n: 1 } });
  assert.equal(made.status, 201, made.text);

  assert.equal((await list(B, t.pk)).status, 200, 'guests may list by default'); // the definition is cached on B
  const closed = await admin('PUT', `${t.env}/tables/things/permissions`, { guest: {} }, t.token);
  assert.equal(closed.status, 200, closed.text);
  expectError(assert, await list(B, t.pk), 403, 'data/permission-denied');
  const open = await admin('PUT', `${t.env}/tables/things/permissions`, { guest: { read: true, list: true } }, t.token);
  assert.equal(open.status, 200, open.text);
  assert.equal((await list(B, t.pk)).status, 200);
  assert.equal((await admin('DELETE', `${t.env}/tables/fresh`, undefined, t.token)).status, 200);
  expectError(assert, await req(fleet[C], 'POST', '/v1/data/fresh', { key: t.key, body: { n: 2 } }), 404, 'data/table-not-found');
});

test('allowedOrigins and ipWhitelist changed through A apply through B at once', { skip }, async () => {
  const t = await tenant('fc-rules');
  const evil = { Origin: 'http://evil.example' };
  assert.equal((await list(B, t.key, evil)).status, 200); // no rules yet, cached on B
  const set = await admin('PATCH', `/projects/${t.project}`, { settings: { allowedOrigins: ['http://good.example'] } }, t.token);
  assert.equal(set.status, 200, set.text);
  expectError(assert, await list(B, t.key, evil), 403, 'cors/origin-not-allowed');
  assert.equal((await list(B, t.key, { Origin: 'http://good.example' })).status, 200);
  const ips = await admin('PATCH', `/projects/${t.project}`, { settings: { allowedOrigins: [], ipWhitelist: ['10.9.8.7'] } }, t.token);
  assert.equal(ips.status, 200, ips.text);
  expectError(assert, await list(B, t.key), 403, 'org/ip-not-allowed');
  assert.equal((await admin('PATCH', `/projects/${t.project}`, { settings: { ipWhitelist: [] } }, t.token)).status, 200);
  assert.equal((await list(C, t.key)).status, 200);
});

test('a plan change through A applies through B at once (the quota limit)', { skip }, async () => {
  const t = await tenant('fc-plan');
  const before = await list(B, t.key);
  assert.equal(before.headers.get('x-ratelimit-limit'), '10000', 'Free'); // the key's context, with its plan, is cached on B
  const up = await admin('PUT', `/organizations/${t.org}/plan`, { plan: 'starter' }, t.token);
  assert.equal(up.status, 200, up.text);
  const after = await list(B, t.key);
  assert.equal(after.status, 200, after.text);
  assert.equal(after.headers.get('x-ratelimit-limit'), '100000', 'Starter, on the very next call');
});

test('an organization suspended by the operator (CLI with --redis) is refused by every instance at once', { skip }, async () => {
  const t = await tenant('fc-suspend');
  for (const i of [A, B, C]) assert.equal((await list(i, t.key)).status, 200);
  const op = (verb) => runOnce(['operator', verb, t.org, '--control-store', control, '--data', dir, '--redis', REDIS]);
  const s = await op('suspend');
  assert.equal(s.code, 0, s.stderr);
  for (const i of [A, B, C]) expectError(assert, await list(i, t.key), 403, 'org/suspended');
  assert.equal((await op('resume')).code, 0);
  for (const i of [A, B, C]) assert.equal((await list(i, t.key)).status, 200);
});

test('a ban and an ended session made through A apply through B (read from the shared store)', { skip }, async () => {
  const t = await tenant('fc-users');
  const post = (i, p, body, token) => req(fleet[i], 'POST', p, { key: t.pk, body, token });
  const up = await post(B, '/v1/auth/email/signup', { method: 'password', email: 'ann@example.com', password: 'secret1', name: 'Ann' });
  assert.equal(up.status, 201, up.text);
  const me = await req(fleet[B], 'GET', '/v1/auth/me', { key: t.pk, token: up.json.accessToken });
  assert.equal(me.status, 200, me.text);
  const sessions = await admin('GET', `${t.env}/auth/users/${me.json.id}/sessions`, undefined, t.token);
  assert.equal(sessions.status, 200, sessions.text);
  const end = await admin('DELETE', `${t.env}/auth/users/${me.json.id}/sessions/${sessions.json.items[0].id}`, undefined, t.token);
  assert.equal(end.status, 200, end.text);
  const gone = await req(fleet[B], 'GET', '/v1/auth/me', { key: t.pk, token: up.json.accessToken });
  assert.equal(gone.status, 401, gone.text);
  const ban = await admin('PATCH', `${t.env}/auth/users/${me.json.id}`, { banned: true }, t.token);
  assert.equal(ban.status, 200, ban.text);
  expectError(assert, await post(B, '/v1/auth/email/signin', { email: 'ann@example.com', password: 'secret1' }), 403, 'auth/account-banned');
});

test('a project deleted through A: its keys are refused by B at once', { skip }, async () => {
  const t = await tenant('fc-gone');
  assert.equal((await list(B, t.key)).status, 200); // the key's context (environment present) is cached on B
  const del = await admin('DELETE', `/projects/${t.project}`, undefined, t.token);
  assert.ok(del.status === 200 || del.status === 204, del.text);
  // its keys went with its environments (a stale cache on B would take the key and answer 404 table-not-found)
  expectError(assert, await list(B, t.key), 401, 'auth/invalid-api-key');
});

test('an instance that does not answer: the change answers after the 1 s bound (counted), the others apply it at once', { skip }, async () => {
  const t = await tenant('fc-hung');
  for (const i of [B, C]) assert.equal((await list(i, t.key)).status, 200);
  const timeouts = metricValue(await metrics(fleet[A]), 'basalt_fleet_invalidation_timeouts_total');
  process.kill(fleet[C].child.pid, 'SIGSTOP'); // alive in Redis (its presence lasts 3 s), but it acks nothing
  let took;
  try {
    const t0 = Date.now();
    const del = await admin('DELETE', `${t.env}/keys/${t.keyId}`, undefined, t.token);
    took = Date.now() - t0;
    assert.ok(del.status === 200 || del.status === 204, del.text);
    expectError(assert, await list(B, t.key), 401, 'auth/invalid-api-key');
  } finally {
    process.kill(fleet[C].child.pid, 'SIGCONT');
  }
  assert.ok(took >= 900 && took < 2500, `answered after ${took} ms: the wait is bounded by 1 s`);
  assert.equal(metricValue(await metrics(fleet[A]), 'basalt_fleet_invalidation_timeouts_total'), timeouts + 1);
  expectError(assert, await list(C, t.key), 401, 'auth/invalid-api-key');
  await allSubscribed();
});

test('Redis stopped: the management call succeeds and is counted; back, every instance resubscribes and drops its caches', { skip }, async () => {
  const t = await tenant('fc-outage');
  for (const i of [B, C]) assert.equal((await list(i, t.key)).status, 200);
  const before = await Promise.all(fleet.map(metrics));
  redisCtl('stop');
  try {
    const del = await admin('DELETE', `${t.env}/keys/${t.keyId}`, undefined, t.token);
    assert.ok(del.status === 200 || del.status === 204, del.text);
    expectError(assert, await list(A, t.key), 401, 'auth/invalid-api-key'); // applied here at once
    const m = await metrics(fleet[A]);
    assert.ok(metricValue(m, 'basalt_fleet_invalidation_publish_failures_total') >
      metricValue(before[A], 'basalt_fleet_invalidation_publish_failures_total'), m);
    for (let i = 0; i < 50 && (await health(fleet[B])).redis.invalidation !== 'unsubscribed'; i++) await sleep(100);
    assert.equal((await health(fleet[B])).redis.invalidation, 'unsubscribed');
  } finally {
    redisCtl('start');
  }
  await allSubscribed();
  for (const [i, s] of fleet.entries()) {
    const m = await metrics(s);
    assert.ok(metricValue(m, 'basalt_fleet_cache_resyncs_total') > metricValue(before[i], 'basalt_fleet_cache_resyncs_total'), m);
    assert.equal(metricValue(m, 'basalt_fleet_bus_subscribed'), 1);
  }
  for (const i of [B, C]) expectError(assert, await list(i, t.key), 401, 'auth/invalid-api-key');
  // and the bus works again: a revocation through A applies on B at once
  const k2 = await admin('POST', `${t.env}/keys`, { type: 'secret', name: 'second' }, t.token);
  assert.equal((await list(B, k2.json.key)).status, 200);
  await admin('DELETE', `${t.env}/keys/${k2.json.id}`, undefined, t.token);
  expectError(assert, await list(B, k2.json.key), 401, 'auth/invalid-api-key');
});
