// Quotas on /v1 (docs/usage.md "Quotas"): the organization's monthly API calls from its plan and the
// project's daily apiCallLimit, admitted exactly (64 clients racing the last 100 calls get exactly 100),
// X-RateLimit-* on every answer, 429 with Retry-After and {metric, limit, used, resetAt}, alerts at 80 %
// and 100 % once each (banner rows, a mail to the notification address), recovery after an upgrade, and
// the management API never blocked.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { test, startServer, req, expectError, sleep, runOnce, tempDir, controlStoreExec } from './harness.mjs';

let srv, b;
// the webhook receivers of these tests listen on loopback
before(async () => { srv = await startServer({ args: ['--key-cache-ms', '1', '--allow-private-webhooks', '1'] }); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const admin = (method, path, body, token = b.operatorToken) => req(srv, method, '/admin/v1' + path, { token, body });

async function newTenant(slug) {
  const org = await admin('POST', '/organizations', { name: slug, slug });
  assert.equal(org.status, 201, org.text);
  const t = org.json.ownerToken;
  const p = await admin('POST', '/projects', { organizationId: org.json.id, name: slug, slug: `${slug}-app` }, t);
  assert.equal(p.status, 201, p.text);
  const k = await admin('POST', `/projects/${p.json.id}/environments/dev/keys`, { type: 'publishable', name: 'web' }, t);
  assert.equal(k.status, 201, k.text);
  return { org: org.json.id, token: t, project: p.json.id, key: k.json.key };
}

// n calls with `width` in flight; returns the answers' statuses.
async function calls(key, n, width = 64) {
  const statuses = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await fetch(`${srv.url}/v1/data/things`, { headers: { 'X-API-Key': key } });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
  return statuses;
}

async function alertsOf(tenant, count) {
  for (let i = 0; i < 100; i++) {
    const a = await admin('GET', `/organizations/${tenant.org}/alerts`, undefined, tenant.token);
    if (a.json.items.length >= count) return a.json.items;
    await sleep(50);
  }
  return (await admin('GET', `/organizations/${tenant.org}/alerts`, undefined, tenant.token)).json.items;
}

test('Free plan: 10,000 calls a month, alerts at 80 % and 100 %, then 429 until an upgrade', async () => {
  const t = await newTenant('quota-co');
  assert.equal((await admin('PATCH', `/organizations/${t.org}`, { notificationEmail: 'ops@quota-co.io' }, t.token)).status, 200);
  const first = await req(srv, 'GET', '/v1/data/things', { key: t.key, headers: { Origin: 'https://app.quota-co.io' } });
  assert.equal(first.status, 404);
  assert.equal(first.headers.get('x-ratelimit-limit'), '10000');
  assert.equal(first.headers.get('x-ratelimit-remaining'), '9999');
  assert.ok(first.headers.get('access-control-expose-headers').includes('X-RateLimit-Remaining'));
  assert.ok((await calls(t.key, 7998)).every((s) => s === 404));
  assert.equal((await alertsOf(t, 0)).length, 0, 'no alert below 80 %');
  const at80 = await req(srv, 'GET', '/v1/data/things', { key: t.key });
  assert.equal(at80.headers.get('x-ratelimit-remaining'), '2000');
  const warn = await alertsOf(t, 1);
  assert.equal(warn.length, 1);
  assert.deepEqual([warn[0].metric, warn[0].threshold, warn[0].level, warn[0].used, warn[0].limit], ['api_call', 80, 'warning', 8000, 10000]);
  assert.ok((await calls(t.key, 1900)).every((s) => s === 404));
  // 9,900 used: 64 clients race 300 calls for the last 100
  const raced = await calls(t.key, 300, 64);
  assert.equal(raced.filter((s) => s === 404).length, 100, 'exactly the last 100 are admitted');
  assert.equal(raced.filter((s) => s === 429).length, 200);
  const refused = await req(srv, 'GET', '/v1/data/things', { key: t.key });
  expectError(assert, refused, 429, 'usage/quota-exceeded');
  const d = refused.json.error.details;
  assert.deepEqual([d.metric, d.limit, d.used], ['api_call', 10000, 10000]);
  const reset = new Date(d.resetAt);
  assert.equal(reset.getUTCDate(), 1);
  assert.equal(reset.getUTCHours(), 0);
  const retry = Number(refused.headers.get('retry-after'));
  assert.ok(retry > 0 && Math.abs(retry - (reset - Date.now()) / 1000) < 5, `Retry-After ${retry}`);
  assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
  const both = await alertsOf(t, 2);
  assert.deepEqual(both.map((a) => a.threshold).sort(), [100, 80]);
  await sleep(200);
  assert.equal((await alertsOf(t, 2)).length, 2, 'each threshold once');
  const mails = (await admin('GET', `/organizations/${t.org}/outbox`, undefined, t.token)).json.items.filter((m) => m.template === 'usage_alert');
  assert.equal(mails.length, 2);
  assert.ok(mails.every((m) => m.to === 'ops@quota-co.io'));
  assert.ok(mails.some((m) => /100%/.test(m.subject)) && mails.some((m) => /80%/.test(m.subject)));
  // the management API is never blocked; an upgrade lifts the limit at once
  assert.equal((await admin('GET', `/organizations/${t.org}`, undefined, t.token)).status, 200);
  assert.equal((await admin('PUT', `/organizations/${t.org}/plan`, { plan: 'starter' }, t.token)).status, 200);
  await sleep(20);
  const again = await req(srv, 'GET', '/v1/data/things', { key: t.key });
  assert.equal(again.status, 404, again.text);
  assert.equal(again.headers.get('x-ratelimit-limit'), '100000');
  assert.equal(again.headers.get('x-ratelimit-remaining'), String(100000 - 10001));
});

test('a project\'s daily apiCallLimit: the tighter limit in the headers, 429 data/rate-limit-exceeded past it', async () => {
  const t = await newTenant('daily-co');
  const set = await admin('PATCH', `/projects/${t.project}`, { settings: { apiCallLimit: 5 } }, t.token);
  assert.equal(set.status, 200, set.text);
  for (let i = 1; i <= 5; i++) {
    const r = await req(srv, 'GET', '/v1/data/things', { key: t.key });
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('x-ratelimit-limit'), '5', 'the daily cap is tighter than the monthly quota');
    assert.equal(r.headers.get('x-ratelimit-remaining'), String(5 - i));
  }
  const refused = await req(srv, 'GET', '/v1/data/things', { key: t.key });
  expectError(assert, refused, 429, 'data/rate-limit-exceeded');
  assert.deepEqual([refused.json.error.details.metric, refused.json.error.details.limit], ['api_call_daily', 5]);
  const reset = new Date(refused.json.error.details.resetAt);
  assert.equal(reset.getUTCHours(), 0);
  assert.ok(reset - Date.now() <= 86400e3 && reset > Date.now());
  assert.ok(Number(refused.headers.get('retry-after')) <= 86400);
  // another project of the same organization has its own day; raising the cap admits again
  assert.equal((await admin('PATCH', `/projects/${t.project}`, { settings: { apiCallLimit: 7 } }, t.token)).status, 200);
  assert.equal((await req(srv, 'GET', '/v1/data/things', { key: t.key })).status, 404);
  assert.equal((await admin('PATCH', `/projects/${t.project}`, { settings: { apiCallLimit: null } }, t.token)).status, 200);
  const open = await req(srv, 'GET', '/v1/data/things', { key: t.key });
  assert.equal(open.headers.get('x-ratelimit-limit'), '10000', 'no cap: the monthly quota is the tightest');
});

test('Enterprise: no limit applies and no X-RateLimit headers are sent', async () => {
  const t = await newTenant('big-co');
  assert.equal((await admin('PUT', `/organizations/${t.org}/plan`, { plan: 'enterprise' }, t.token)).status, 200);
  await sleep(20);
  const r = await req(srv, 'GET', '/v1/data/things', { key: t.key });
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('x-ratelimit-limit'), null);
});

// A webhook receiver on loopback that checks Basalt-Signature like a user's server would.
function receiver(secret) {
  const got = [];
  let failNext100 = true;
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (c) => { body += c; });
    request.on('end', () => {
      const sig = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(request.headers['basalt-signature'] || '');
      const expected = sig && crypto.createHmac('sha256', secret.value).update(`${sig[1]}.${body}`).digest('hex');
      const valid = Boolean(sig) && expected === sig[2] && Math.abs(Date.now() / 1000 - Number(sig[1])) < 300;
      const event = JSON.parse(body);
      got.push({ valid, event });
      const fail = event.threshold === 100 && failNext100;
      if (fail) failNext100 = false;
      response.writeHead(fail ? 500 : valid ? 204 : 401).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, got, url: `http://127.0.0.1:${server.address().port}/hooks` })));
}

test('webhooks: a signed POST per threshold to each project webhookUrl, retried with backoff, attempts visible', async () => {
  const secret = { value: '' };
  const hook = await receiver(secret);
  try {
    const t = await newTenant('hook-co');
    assert.equal((await admin('PUT', `/organizations/${t.org}/plan`, { plan: 'starter' }, t.token)).status, 200);
    assert.equal((await admin('PATCH', `/projects/${t.project}`, { settings: { webhookUrl: hook.url } }, t.token)).status, 200);
    const s = await admin('GET', `/projects/${t.project}/webhook-secret`, undefined, t.token);
    assert.equal(s.status, 200, s.text);
    assert.match(s.json.secret, /^whsec_[0-9a-f]{64}$/);
    secret.value = s.json.secret;
    const q = await runOnce(['operator', 'quota', t.org, '10', '--data', srv.dataDir]);
    assert.equal(q.code, 0, q.stderr);
    assert.equal((await admin('GET', `/organizations/${t.org}/plan`, undefined, t.token)).json.limits.apiCallLimit, 10);
    const summary = await admin('GET', `/usage/summary?organizationId=${t.org}`, undefined, t.token);
    assert.equal(summary.json.items.find((i) => i.metric === 'api_call').limit, 10, 'the summary shows the limit in force');
    await sleep(20);
    assert.ok((await calls(t.key, 10, 4)).every((x) => x === 404));
    expectError(assert, await req(srv, 'GET', '/v1/data/things', { key: t.key }), 429, 'usage/quota-exceeded');
    for (let i = 0; i < 100 && hook.got.filter((g) => g.event.threshold === 100).length < 2; i++) await sleep(50);
    const by = (th) => hook.got.filter((g) => g.event.threshold === th);
    assert.equal(by(80).length, 1, 'the 80 % webhook once');
    assert.equal(by(100).length, 2, 'the 100 % webhook: refused once (500), delivered on the retry');
    assert.ok(hook.got.every((g) => g.valid), 'every POST carries a valid signature');
    const e = by(80)[0].event;
    assert.deepEqual([e.type, e.organizationId, e.projectId, e.metric, e.used, e.limit], ['usage.alert', t.org, t.project, 'api_call', 8, 10]);
    const d = await admin('GET', `/organizations/${t.org}/webhook-deliveries`, undefined, t.token);
    assert.equal(d.status, 200, d.text);
    const d100 = d.json.items.find((x) => x.payload.threshold === 100);
    assert.deepEqual([d100.status, d100.attempts, d100.lastStatus], ['delivered', 2, 204]);
    assert.equal(d.json.items.find((x) => x.payload.threshold === 80).attempts, 1);
    await sleep(300);
    assert.equal(hook.got.length, 3, 'nothing more is sent');
    expectError(assert, await admin('GET', `/projects/${t.project}/webhook-secret`, undefined, b.operatorToken), 404, 'org/project-not-found');
    const back = await runOnce(['operator', 'quota', t.org, 'plan', '--data', srv.dataDir]);
    assert.equal(back.code, 0, back.stderr);
    await sleep(20);
    const r = await req(srv, 'GET', '/v1/data/things', { key: t.key });
    assert.equal(r.status, 404, 'the plan\'s 100,000 again');
  } finally {
    hook.server.close();
  }
});

test('counters survive a restart (loaded from the usage rows); the daily cap resets at 00:00 UTC (moved clock)', async () => {
  const dir = tempDir();
  const now = Date.now(), noon = new Date(now);
  noon.setUTCHours(12, 0, 0, 0); // run "today at noon UTC" whatever the real hour, so no midnight falls inside
  const at = (days) => startServer({ dataDir: dir, keep: true, args: ['--key-cache-ms', '1'],
    env: { BASALT_TEST_CLOCK_OFFSET_MS: String(noon - now + days * 86400e3) } });
  let s = await at(0);
  try {
    const boot = s.bootstrap;
    const call = () => req(s, 'GET', '/v1/data/things', { key: boot.publishableKey });
    assert.equal((await req(s, 'PATCH', `/admin/v1/projects/${boot.projectId}`, { token: boot.operatorToken, body: { settings: { apiCallLimit: 3 } } })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await call()).status, 404);
    expectError(assert, await call(), 429, 'data/rate-limit-exceeded');
    await s.stop();
    s = await at(0); // the same day: the count comes back from the usage rows
    const again = await call();
    expectError(assert, again, 429, 'data/rate-limit-exceeded');
    assert.ok(again.json.error.details.used >= 3);
    await s.stop();
    s = await at(1); // the next day: the cap starts over, the month goes on
    const next = await call();
    assert.equal(next.status, 404, next.text);
    assert.equal(next.headers.get('x-ratelimit-limit'), '3');
    assert.equal(next.headers.get('x-ratelimit-remaining'), '2');
    assert.equal((await req(s, 'PATCH', `/admin/v1/projects/${boot.projectId}`, { token: boot.operatorToken, body: { settings: { apiCallLimit: null } } })).status, 200);
    const month = await call();
    assert.equal(month.headers.get('x-ratelimit-limit'), '10000');
    assert.ok(Number(month.headers.get('x-ratelimit-remaining')) <= 10000 - 7, `the month kept its calls: ${month.headers.get('x-ratelimit-remaining')}`);
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('storage quota: past it new uploads are refused with 429 metric storage, and the alerts are raised', async () => {
  const s = await startServer({ args: ['--key-cache-ms', '1', '--usage-check-ms', '1', '--usage-storage-interval', '1'] });
  try {
    const boot = s.bootstrap;
    // the gauge counts the environment's table data too (on PostgreSQL a few hundred KB before any file):
    // the limit is 100 bytes past what it reads before the upload, once it has read it
    let base = 0;
    for (let i = 0; i < 60 && !base; i++) {
      const sum = await req(s, 'GET', `/admin/v1/usage/summary?organizationId=${boot.organizationId}`, { token: boot.operatorToken });
      base = sum.json?.items?.find((it) => it.metric === 'storage')?.used || 0;
      if (!base) await sleep(100);
    }
    assert.ok(base > 0, 'the storage gauge read the environment');
    const limit = base + 100;
    const q = await runOnce(['operator', 'quota', boot.organizationId, 'storage', String(limit), '--data', s.dataDir]);
    assert.equal(q.code, 0, q.stderr);
    const plan = await req(s, 'GET', `/admin/v1/organizations/${boot.organizationId}/plan`, { token: boot.operatorToken });
    assert.equal(plan.json.limits.storageLimit, limit);
    assert.equal(plan.json.overrides.storageLimit, limit);
    await sleep(20);
    const up = await req(s, 'POST', '/v1/files/presigned-url', { key: boot.secretKey, body: { filename: 'a.txt', contentType: 'text/plain' } });
    assert.equal(up.status, 200, up.text);
    const put = await req(s, 'PUT', up.json.url.replace(/^http:\/\/[^/]+/, ''), { raw: 'x'.repeat(150), headers: { 'Content-Type': 'text/plain' } });
    assert.ok(put.status < 300, put.text);
    let refused;
    for (let i = 0; i < 60; i++) { // the gauge is read every second, the check sees it within a millisecond
      refused = await req(s, 'POST', '/v1/files/presigned-url', { key: boot.secretKey, body: { filename: 'b.txt', contentType: 'text/plain' } });
      if (refused.status === 429) break;
      await sleep(100);
    }
    expectError(assert, refused, 429, 'usage/quota-exceeded');
    assert.equal(refused.json.error.details.metric, 'storage');
    assert.equal(refused.json.error.details.limit, limit);
    assert.ok(refused.json.error.details.used >= base + 150);
    assert.equal(refused.json.error.details.resetAt, null, 'storage does not reset');
    assert.equal(refused.headers.get('retry-after'), null);
    expectError(assert, await req(s, 'POST', '/v1/files/multipart/init', { key: boot.secretKey, body: { filename: 'c.bin', contentType: 'application/octet-stream', fileSize: 10 } }), 429, 'usage/quota-exceeded');
    assert.equal((await req(s, 'GET', '/v1/data/things', { key: boot.secretKey })).status, 404, 'other calls go on');
    let alerts = [];
    for (let i = 0; i < 50 && alerts.length < 2; i++) {
      alerts = (await req(s, 'GET', `/admin/v1/organizations/${boot.organizationId}/alerts`, { token: boot.operatorToken })).json.items.filter((a) => a.metric === 'storage');
      await sleep(50);
    }
    assert.deepEqual(alerts.map((a) => a.threshold).sort(), [100, 80]);
  } finally {
    await s.stop();
  }
});

test('MAU and bandwidth quotas: new users past the MAU limit and data bodies past the bandwidth limit get 429', async () => {
  const s = await startServer({ args: ['--key-cache-ms', '1', '--usage-check-ms', '1'] });
  try {
    const boot = s.bootstrap, pk = { key: boot.publishableKey };
    const op = (...a) => runOnce(['operator', 'quota', boot.organizationId, ...a, '--data', s.dataDir]);
    assert.equal((await op('mau', '2')).code, 0);
    await sleep(20);
    const signup = (email) => req(s, 'POST', '/v1/auth/email/signup', { ...pk, body: { email, password: 'Passw0rd!x', name: 'U' } });
    assert.equal((await signup('u1@x.io')).status, 201);
    assert.equal((await signup('u2@x.io')).status, 201);
    let third, refusedEmail;
    for (let i = 0; i < 40; i++) { // the MAU rows are flushed within a second
      refusedEmail = `u3-${i}@x.io`;
      third = await signup(refusedEmail);
      if (third.status === 429) break;
      await sleep(100);
    }
    expectError(assert, third, 429, 'usage/quota-exceeded');
    assert.equal(third.json.error.details.metric, 'mau');
    const users = await req(s, 'GET', '/v1/users?limit=100', { key: boot.secretKey });
    assert.equal(users.status, 200, users.text);
    assert.ok(users.json.items.some((u) => u.email === 'u1@x.io'));
    assert.ok(!users.json.items.some((u) => u.email === refusedEmail), `the refused sign-up created no user (${refusedEmail})`);
    const again = await req(s, 'POST', '/v1/auth/email/signin', { ...pk, body: { email: 'u1@x.io', password: 'Passw0rd!x' } });
    assert.equal(again.status, 200, 'a user already active this month always signs in');
    // in a fleet the instance that saw u1 this month may not have flushed it yet: the gate knows u1 is one
    // of the month's users from the sign-in itself, not only from the month's rows (a flaky 429 before)
    controlStoreExec(s.dataDir, 'DELETE FROM usage_mau');
    const unflushed = await req(s, 'POST', '/v1/auth/email/signin', { ...pk, body: { email: 'u1@x.io', password: 'Passw0rd!x' } });
    assert.equal(unflushed.status, 200, `a user who signed in this month signs in before any flush says so: ${unflushed.text}`);
    assert.equal((await op('mau', 'plan')).code, 0);
    assert.equal((await op('bandwidth', '2000')).code, 0);
    await sleep(20);
    const t = await req(s, 'POST', `/admin/v1/projects/${boot.projectId}/environments/dev/tables`, { token: boot.operatorToken, body: { tableName: 'notes', schema: { bsonType: 'object', properties: { text: { bsonType: 'string' } } } } });
    assert.equal(t.status, 201, t.text);
    const created = await req(s, 'POST', '/v1/data/notes', { key: boot.secretKey, body: { text: 'y'.repeat(1500) } });
    assert.equal(created.status, 201);
    let list;
    for (let i = 0; i < 40; i++) {
      list = await req(s, 'GET', '/v1/data/notes', { key: boot.secretKey });
      if (list.status === 429) break;
      await sleep(100);
    }
    expectError(assert, list, 429, 'usage/quota-exceeded');
    assert.equal(list.json.error.details.metric, 'bandwidth');
    assert.ok(new Date(list.json.error.details.resetAt).getUTCDate() === 1);
    expectError(assert, await req(s, 'GET', `/v1/data/notes/${created.json.id}`, { key: boot.secretKey }), 429, 'usage/quota-exceeded');
    assert.equal((await req(s, 'POST', '/v1/data/notes', { key: boot.secretKey, body: { text: 'z' } })).status, 201, 'writes go on');
    const alerts = (await req(s, 'GET', `/admin/v1/organizations/${boot.organizationId}/alerts`, { token: boot.operatorToken })).json.items;
    assert.ok(alerts.some((a) => a.metric === 'mau' && a.threshold === 100));
    assert.ok(alerts.some((a) => a.metric === 'bandwidth' && a.threshold === 100));
  } finally {
    await s.stop();
  }
});

test('webhooks to internal addresses: refused when saved, and when delivered if saved under --allow-private-webhooks', async () => {
  const dir = tempDir();
  const hook = await receiver({ value: '' });
  const start = (args = []) => startServer({ dataDir: dir, keep: true, args: ['--key-cache-ms', '1', ...args] });
  let s = await start();
  const boot = s.bootstrap;
  const as = (method, path, body, token) => req(s, method, '/admin/v1' + path, { token, body });
  try {
    const org = await as('POST', '/organizations', { name: 'ssrf', slug: 'ssrf' }, boot.operatorToken);
    const t = org.json.ownerToken;
    const p = await as('POST', '/projects', { organizationId: org.json.id, name: 'ssrf', slug: 'ssrf-app' }, t);
    const k = await as('POST', `/projects/${p.json.id}/environments/dev/keys`, { type: 'publishable', name: 'web' }, t);
    assert.equal((await as('PUT', `/organizations/${org.json.id}/plan`, { plan: 'starter' }, t)).status, 200);
    const setHook = (url) => as('PATCH', `/projects/${p.json.id}`, { settings: { webhookUrl: url } }, t);
    for (const url of ['http://169.254.169.254/latest/meta-data/', hook.url, 'http://127.1:8080/x', 'http://2130706433/x',
      'http://[::1]:8080/x', 'http://[::ffff:127.0.0.1]/x', 'http://[::ffff:a9fe:a9fe]/x', 'http://10.0.0.1/x', 'http://172.16.5.4/x',
      'http://192.168.0.10/x', 'http://100.64.0.1/x', 'http://[fd00:ec2::254]/x', 'http://[fe80::1]/x', 'http://0.0.0.0/x',
      'http://224.0.0.1/x', 'http://localhost:8080/x', 'http://api.localhost/x']) {
      expectError(assert, await setHook(url), 400, 'common/invalid-parameters');
    }
    assert.equal((await setHook('https://hooks.example.com/x')).status, 200, 'public names pass');
    await s.stop();
    s = await start(['--allow-private-webhooks', '1']);
    assert.equal((await setHook(hook.url)).status, 200, 'the operator allows private receivers');
    await s.stop();
    s = await start(); // the same URL, now refused where it is delivered
    const q = await runOnce(['operator', 'quota', org.json.id, '10', '--data', dir]);
    assert.equal(q.code, 0, q.stderr);
    await sleep(20);
    for (let i = 0; i < 10; i++) await req(s, 'GET', '/v1/data/things', { key: k.json.key });
    let items = [];
    for (let i = 0; i < 100; i++) {
      items = (await as('GET', `/organizations/${org.json.id}/webhook-deliveries`, undefined, t)).json.items;
      if (items.length >= 2 && items.every((x) => x.status === 'failed')) break;
      await sleep(50);
    }
    assert.equal(items.length, 2, JSON.stringify(items));
    for (const d of items) {
      assert.equal(d.status, 'failed', 'not retried');
      assert.equal(d.attempts, 1);
      assert.match(d.lastError, /private/);
    }
    assert.equal(hook.got.length, 0, 'nothing reached the loopback receiver');
    await s.stop();
  } finally {
    hook.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Limits come with the cached key context (--key-cache-ms); a change that raises them must not wait for
// the cache: the next call after a plan upgrade or an operator override uses the new limit.
test('a plan upgrade or a raised operator quota applies to the very next call, whatever the key cache', async () => {
  const s = await startServer({ args: ['--key-cache-ms', '60000'] });
  const as = (method, path, body, token) => req(s, method, '/admin/v1' + path, { token, body });
  const call = (key) => req(s, 'GET', '/v1/data/things', { key });
  const tenant = async (slug) => {
    const org = await as('POST', '/organizations', { name: slug, slug }, s.bootstrap.operatorToken);
    const t = org.json.ownerToken;
    const p = await as('POST', '/projects', { organizationId: org.json.id, name: slug, slug: `${slug}-app` }, t);
    const k = await as('POST', `/projects/${p.json.id}/environments/dev/keys`, { type: 'publishable', name: 'web' }, t);
    return { org: org.json.id, token: t, key: k.json.key };
  };
  try {
    // the operator's override, set from another process on the data directory
    const a = await tenant('override-co');
    const q = await runOnce(['operator', 'quota', a.org, '5', '--data', s.dataDir]);
    assert.equal(q.code, 0, q.stderr);
    for (let i = 0; i < 5; i++) assert.equal((await call(a.key)).status, 404);
    expectError(assert, await call(a.key), 429, 'usage/quota-exceeded');
    assert.equal((await runOnce(['operator', 'quota', a.org, '8', '--data', s.dataDir])).code, 0);
    const raised = await call(a.key);
    assert.equal(raised.status, 404, raised.text);
    assert.equal(raised.headers.get('x-ratelimit-limit'), '8');
    // a plan upgrade through the management API, at the Free plan's 10,000 calls
    const b = await tenant('upgrade-co');
    let next = 0;
    const worker = async () => { while (next < 10000) { next++; const r = await fetch(`${s.url}/v1/data/things`, { headers: { 'X-API-Key': b.key } }); await r.arrayBuffer(); } };
    await Promise.all(Array.from({ length: 32 }, worker));
    expectError(assert, await call(b.key), 429, 'usage/quota-exceeded');
    assert.equal((await as('PUT', `/organizations/${b.org}/plan`, { plan: 'starter' }, b.token)).status, 200);
    const up = await call(b.key);
    assert.equal(up.status, 404, up.text);
    assert.equal(up.headers.get('x-ratelimit-limit'), '100000');
  } finally {
    await s.stop();
  }
});
