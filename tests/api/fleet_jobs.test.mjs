// A fleet's background jobs and usage (docs/operations.md "Background jobs and usage"): three `basalt serve`
// instances on one PostgreSQL control store, one environment database and one Redis. Calls spread over the
// three are counted exactly once in the usage rows and the summary; exactly one instance holds the jobs
// lease (basalt_jobs_lease_held) and, killed with SIGKILL, is replaced within the lease's TTL; an
// organization crossing 80 % and 100 % through racing calls on the three gets each alert once (one banner
// row, one mail, one webhook POST, even with a slow receiver the other instances could pick up again);
// sign-in failures and mail sends spread over the three are limited exactly.
// Needs tests/pg/with-pg.sh and tests/redis/with-redis.sh (scripts/test.sh runs it under both); skipped without.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, runOnce, tempDir, sleep, metricValue, getOnce, repoRoot, sharedPgStores, fleetTenant } from './harness.mjs';

const PG = process.env.BASALT_TEST_PG_URL, REDIS = process.env.BASALT_TEST_REDIS_URL;
const skip = !(PG && REDIS) && 'needs BASALT_TEST_PG_URL and BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh)';
const LEASE_MS = 3000;
const FAIL_OPEN_S = 2;
const redisCtl = (verb) => execFileSync(path.join(repoRoot, 'tests', 'redis', 'ctl.sh'), [verb], { stdio: 'pipe' });

let dir, control, fleet = [];

const stores = () => sharedPgStores('jobs');

before(async () => {
  if (skip) return;
  let envStore;
  [control, envStore] = stores();
  dir = tempDir('basalt-jobs-');
  const args = ['--control-store', control, '--env-store', envStore, '--redis', REDIS, '--redis-timeout-ms', '2000',
    '--key-cache-ms', '1', '--redis-fail-open', String(FAIL_OPEN_S), '--jobs-lease-ms', String(LEASE_MS), '--allow-private-webhooks', '1', '--usage-rollup-interval', '1'];
  fleet.push(await startServer({ dataDir: dir, keep: true, args })); // the first start bootstraps
  fleet.push(...await Promise.all([1, 2].map(() => startServer({ dataDir: dir, keep: true, args }))));
});
after(async () => {
  for (const s of fleet) if (s.child.exitCode === null && s.child.signalCode === null) await s.stop({ removeDir: false });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const live = () => fleet.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
const boot = () => fleet[0].bootstrap;
const admin = (method, p, body, token = boot().operatorToken) => req(live()[0], method, '/admin/v1' + p, { token, body });
const metrics = async (s) => (await getOnce(`${s.url}/metrics`)).text;

// Polls fn until it returns a truthy value or ms pass; the last value.
async function until(fn, ms) {
  const deadline = Date.now() + ms;
  let v;
  while (!(v = await fn()) && Date.now() < deadline) await sleep(50);
  return v;
}

// An organization (Free plan) with a project, a secret key and a table "things" on the shared stores.
const tenant = (slug) => fleetTenant(assert, fleet[0], slug);

// n calls, call i on instance i % 3, width at a time: their statuses.
async function spread(key, n, width = 12) {
  const statuses = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await fetch(`${fleet[i % 3].url}/v1/data/things`, { headers: { 'X-API-Key': key } });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return statuses;
}

const apiCalls = async (t) => (await admin('GET', `/usage/summary?organizationId=${t.org}`, undefined, t.token)).json.items
  .find((i) => i.metric === 'api_call').used;

test('calls spread over three instances are counted exactly once (summary and hourly rows)', { skip }, async () => {
  const t = await tenant('jobs-usage');
  const N = 150;
  const statuses = await spread(t.key, N);
  assert.equal(statuses.filter((s) => s === 200).length, N);
  const seen = await until(async () => (await apiCalls(t)) === N, 5000);
  assert.ok(seen, `summary: ${await apiCalls(t)} api calls, expected ${N}`);
  const rows = async () => (await admin('GET', `/usage?organizationId=${t.org}&type=api_call&period=hourly&startDate=2000-01-01`, undefined, t.token)).json;
  const hourly = await rows();
  assert.equal(hourly.items.reduce((sum, r) => sum + r.value, 0), N, JSON.stringify(hourly.items));
  await sleep(2500); // two more flushes and roll-ups on every instance: nothing is added twice
  assert.equal(await apiCalls(t), N);
  assert.equal((await rows()).items.reduce((sum, r) => sum + r.value, 0), N);
});

test('exactly one instance holds the jobs lease', { skip }, async () => {
  const held = await until(async () => {
    const v = await Promise.all(fleet.map(async (s) => metricValue(await metrics(s), 'basalt_jobs_lease_held')));
    return v.filter((x) => x === 1).length === 1 && v.every((x) => x === 0 || x === 1) ? v : null;
  }, 5000);
  assert.ok(held, 'one holder among the three');
  const taken = await Promise.all(fleet.map(async (s) => metricValue(await metrics(s), 'basalt_jobs_lease_takeovers_total')));
  assert.deepEqual(taken.map((n, i) => (held[i] === 1 ? n >= 1 : true)), [true, true, true]);
});

// A webhook receiver on loopback that answers slowly: while it keeps one instance waiting, the delivery stays
// pending, so any other instance looking for due deliveries would send it again.
function slowReceiver(delayMs) {
  const got = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (c) => { body += c; });
    request.on('end', () => {
      got.push(JSON.parse(body));
      setTimeout(() => response.writeHead(204).end(), delayMs);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, got, url: `http://127.0.0.1:${server.address().port}/hooks` })));
}

test('an organization crossing 80 % and 100 % over three instances gets each alert once: banner, mail, webhook', { skip }, async () => {
  const hook = await slowReceiver(2500);
  try {
    const t = await tenant('jobs-alerts');
    assert.equal((await admin('PUT', `/organizations/${t.org}/plan`, { plan: 'starter' }, t.token)).status, 200);
    assert.equal((await admin('PATCH', `/organizations/${t.org}`, { notificationEmail: 'ops@jobs-alerts.io' }, t.token)).status, 200);
    assert.equal((await admin('PATCH', `/projects/${t.project}`, { settings: { webhookUrl: hook.url } }, t.token)).status, 200);
    const q = await runOnce(['operator', 'quota', t.org, '30', '--control-store', control]);
    assert.equal(q.code, 0, q.stderr);
    await sleep(20); // --key-cache-ms
    const statuses = await spread(t.key, 40, 30);
    assert.equal(statuses.filter((s) => s === 200).length, 30, `admitted: ${statuses}`);
    const alerts = await until(async () => {
      const a = (await admin('GET', `/organizations/${t.org}/alerts`, undefined, t.token)).json.items;
      return a.length >= 2 ? a : null;
    }, 5000);
    assert.ok(alerts, 'both alerts recorded');
    assert.deepEqual(alerts.map((a) => a.threshold).sort(), [100, 80]);
    // every delivery answered (each POST waits 2.5 s), then as long again: any second sender would have posted
    const delivered = await until(async () => {
      const d = (await admin('GET', `/organizations/${t.org}/webhook-deliveries`, undefined, t.token)).json.items;
      return d.length === 2 && d.every((x) => x.status === 'delivered') ? d : null;
    }, 15000);
    assert.ok(delivered, 'both deliveries delivered');
    await sleep(3000);
    const by = (th) => hook.got.filter((e) => e.threshold === th);
    assert.equal(by(80).length, 1, `the 80 % webhook once, got ${by(80).length}`);
    assert.equal(by(100).length, 1, `the 100 % webhook once, got ${by(100).length}`);
    assert.deepEqual(delivered.map((d) => d.attempts), [1, 1]);
    assert.equal((await admin('GET', `/organizations/${t.org}/alerts`, undefined, t.token)).json.items.length, 2, 'one banner row each');
    const mails = (await admin('GET', `/organizations/${t.org}/outbox`, undefined, t.token)).json.items.filter((m) => m.template === 'usage_alert');
    assert.equal(mails.length, 2, 'one mail each');
  } finally {
    hook.server.close();
  }
});

// n requests, request i on instance i % 3, all at once: their statuses.
async function raceOver(n, path, body) {
  const key = boot().publishableKey;
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const r = await req(fleet[i % 3], 'POST', path, { key, body });
    return r.status === 200 || r.status === 401 ? r.status : `${r.status} ${r.json?.error?.code}`;
  }));
}
const count = (list, v) => list.filter((x) => x === v).length;
const signin = (s, email, password) => req(s, 'POST', '/v1/auth/email/signin', { key: boot().publishableKey, body: { email, password } });

test('30 wrong sign-ins racing over three instances: exactly 5 are checked, the rest blocked', { skip }, async () => {
  const up = await req(fleet[0], 'POST', '/v1/auth/email/signup', { key: boot().publishableKey, body: { email: 'race@x.io', password: 'secret1', name: 'R' } });
  assert.equal(up.status, 201, up.text);
  const statuses = await raceOver(30, '/v1/auth/email/signin', { email: 'race@x.io', password: 'wrong-one' });
  assert.equal(count(statuses, 401), 5, `checked: ${statuses}`);
  assert.equal(count(statuses, '429 auth/too-many-login-attempts'), 25, `${statuses}`);
  for (const s of fleet) assert.equal((await signin(s, 'race@x.io', 'secret1')).status, 429, 'blocked on every instance, even the right password');
  const other = await req(fleet[1], 'POST', '/v1/auth/email/signup', { key: boot().publishableKey, body: { email: 'calm@x.io', password: 'secret1', name: 'C' } });
  assert.equal(other.status, 201);
  for (let i = 0; i < 4; i++) assert.equal((await signin(fleet[i % 3], 'calm@x.io', 'wrong-one')).status, 401);
  assert.equal((await signin(fleet[1], 'calm@x.io', 'secret1')).status, 200, 'a success clears the count');
  for (let i = 0; i < 4; i++) assert.equal((await signin(fleet[(i + 1) % 3], 'calm@x.io', 'wrong-one')).status, 401, `failure ${i + 1} after the success`);
});

test('30 password-reset mails racing over three instances: exactly 3 sent', { skip }, async () => {
  const up = await req(fleet[0], 'POST', '/v1/auth/email/signup', { key: boot().publishableKey, body: { email: 'mailrace@x.io', password: 'secret1', name: 'M' } });
  assert.equal(up.status, 201, up.text);
  const statuses = await raceOver(30, '/v1/auth/password/reset/request', { email: 'mailrace@x.io' });
  assert.equal(count(statuses, 200), 3, `sent: ${statuses}`);
  assert.equal(count(statuses, '429 auth/too-many-code-requests'), 27, `${statuses}`);
  const outbox = await req(fleet[2], 'GET', `/admin/v1/projects/${boot().projectId}/environments/dev/outbox`, { token: boot().operatorToken });
  assert.equal(outbox.status, 200, outbox.text);
  assert.equal(outbox.json.items.filter((m) => m.to === 'mailrace@x.io').length, 3);
});

test('Redis stopped: the sign-in and mail limits fail open with the API calls (store rows decide), then 503', { skip }, async () => {
  const up = await req(fleet[0], 'POST', '/v1/auth/email/signup', { key: boot().publishableKey, body: { email: 'outage@x.io', password: 'secret1', name: 'O' } });
  assert.equal(up.status, 201, up.text);
  const s = fleet[1];
  const opened = async () => metricValue(await metrics(s), 'basalt_redis_fail_open_total');
  redisCtl('stop');
  try {
    const before = await opened();
    const r = await signin(s, 'outage@x.io', 'wrong-one');
    assert.equal(r.status, 401, r.text);
    assert.equal(await opened() - before, 2, 'the API call and the sign-in limit both failed open');
    const m = await req(s, 'POST', '/v1/auth/password/reset/request', { key: boot().publishableKey, body: { email: 'outage@x.io' } });
    assert.equal(m.status, 200, m.text);
    assert.equal(await opened() - before, 4);
    await sleep(FAIL_OPEN_S * 1000 + 300);
    const closed = await signin(s, 'outage@x.io', 'wrong-one');
    assert.equal(closed.status, 503, closed.text);
    assert.equal(closed.json.error.code, 'common/unavailable');
    assert.ok(metricValue(await metrics(s), 'basalt_redis_fail_closed_total') >= 1);
  } finally {
    redisCtl('start');
  }
  const back = await until(async () => (await signin(s, 'outage@x.io', 'secret1')).status === 200, 10000);
  assert.ok(back, 'Redis back: sign-in works again');
});

test('the jobs lease holder killed with SIGKILL: another instance takes over within the lease TTL', { skip }, async () => {
  const held = await Promise.all(fleet.map(async (s) => metricValue(await metrics(s), 'basalt_jobs_lease_held')));
  const holder = held.indexOf(1);
  assert.ok(holder >= 0, `a holder: ${held}`);
  const killedAt = Date.now();
  fleet[holder].child.kill('SIGKILL');
  await fleet[holder].exited;
  const others = fleet.filter((_, i) => i !== holder);
  const next = await until(async () => {
    const v = await Promise.all(others.map(async (s) => metricValue(await metrics(s), 'basalt_jobs_lease_held')));
    return v.filter((x) => x === 1).length === 1 ? v : null;
  }, 60000);
  const took = Date.now() - killedAt;
  assert.ok(next, 'a new holder within 60 s');
  // the bound is the TTL plus a renewal (4 s here); a loaded machine (TSan, shared cores) gets some slack
  assert.ok(took < 4 * LEASE_MS, `taken over after ${took} ms (TTL ${LEASE_MS} ms)`);
  const s = others[next.indexOf(1)];
  assert.ok(metricValue(await metrics(s), 'basalt_jobs_lease_takeovers_total') >= 1);
});
