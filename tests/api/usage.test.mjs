// Usage metering (docs/usage.md, platform.md §6): hourly rows that sum exactly to the /v1 requests sent
// (successes and failures, per endpoint), records read and written, bandwidth of answers and downloads,
// uploads and downloads, the storage gauge, MAU counted once per user and month across restarts, the
// roll-ups and their retention under a moved clock, nothing lost on SIGTERM, the summary against the
// plan, the filters and access rules of GET /admin/v1/usage, the CLI chart and the /metrics counters.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test, startServer, req, expectError, tempDir, sleep, runOnce, onlyOneProcess } from './harness.mjs';

const FAST = ['--usage-storage-interval', '1', '--usage-rollup-interval', '1', '--inactivity-sweep', '0'];
const DAY = 86400e3;
const bytes = (r) => Buffer.byteLength(r.text);

const usage = (s, b, query, token = b.operatorToken) =>
  req(s, 'GET', `/admin/v1/usage?organizationId=${b.organizationId}&${query}${query.includes('limit=') ? '' : '&limit=100'}`, { token });
const sum = (r) => (r.json?.items || []).reduce((a, row) => a + row.value, 0);

// Polls until check(answer) holds (the meter flushes once a second, the roll-up runs every second here).
async function until(fn, check, ms = 10000) {
  const end = Date.now() + ms;
  let v = await fn();
  while (!check(v) && Date.now() < end) {
    await sleep(100);
    v = await fn();
  }
  return v;
}
const settled = (s, b, query, expected) => until(() => usage(s, b, query), (r) => r.status === 200 && sum(r) === expected);

async function makeTable(s, b) {
  const t = await req(s, 'POST', `/admin/v1/projects/${b.projectId}/environments/dev/tables`, {
    token: b.operatorToken,
    body: { tableName: 'posts', schema: { bsonType: 'object', properties: { title: { bsonType: 'string' } } } },
  });
  assert.equal(t.status, 201, t.text);
}

// ---- one server for the counting tests ----

let srv, b;
const sent = { ok: 0, fail: 0, bytes: 0, reads: 0, writes: 0, endpoints: {} };
before(async () => {
  srv = await startServer({ args: FAST });
  b = srv.bootstrap;
  await makeTable(srv, b);
});
after(async () => { await srv?.stop(); });

// One metered call: counts what the usage rows must show.
async function call(method, path, endpoint, body) {
  const r = await req(srv, method, path, { key: b.secretKey, body });
  if (r.status < 400) sent.ok++;
  else sent.fail++;
  sent.bytes += bytes(r);
  sent.endpoints[`${method} ${endpoint}`] = (sent.endpoints[`${method} ${endpoint}`] || 0) + 1;
  return r;
}

test('usage rows sum exactly to the /v1 requests sent: successes, failures, endpoints, records, bandwidth', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await call('POST', '/v1/data/posts', '/v1/data/:table', { title: `p${i}` })).json.id);
  const batch = await call('POST', '/v1/data/posts', '/v1/data/:table', [{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
  assert.equal(batch.status, 201, batch.text);
  sent.writes += 5 + 3;
  for (let i = 0; i < 4; i++) {
    const l = await call('GET', '/v1/data/posts?limit=' + (i + 2), '/v1/data/:table');
    assert.equal(l.status, 200, l.text);
    sent.reads += l.json.items.length;
  }
  for (let i = 0; i < 3; i++) assert.equal((await call('GET', `/v1/data/posts/${ids[i]}`, '/v1/data/:table/:id')).status, 200);
  sent.reads += 3;
  for (let i = 0; i < 2; i++) assert.equal((await call('PATCH', `/v1/data/posts/${ids[i]}`, '/v1/data/:table/:id', { title: 'x' })).status, 200);
  assert.equal((await call('DELETE', `/v1/data/posts/${ids[4]}`, '/v1/data/:table/:id')).status, 200);
  const ops = await call('POST', '/v1/batch', '/v1/batch', { operations: [{ method: 'create', table: 'posts', data: { title: 'y' } }, { method: 'delete', table: 'posts', id: ids[3] }] });
  assert.equal(ops.status, 200, ops.text);
  sent.writes += 2 + 1 + 2;
  expectError(assert, await call('GET', '/v1/data/posts/nope', '/v1/data/:table/:id'), 404, 'data/not-found');
  expectError(assert, await call('GET', '/v1/data/missing', '/v1/data/:table'), 404, 'data/table-not-found');
  assert.equal((await call('GET', '/v1/no/such/route', '/v1/*rest')).status, 404);
  // an unknown key reaches no environment: it is not metered
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { key: 'pk_' + '0'.repeat(64) }), 401, 'auth/invalid-api-key');

  const total = sent.ok + sent.fail;
  const calls = await settled(srv, b, 'type=api_call&period=hourly', total);
  assert.equal(sum(calls), total, calls.text);
  assert.equal(calls.json.items.length, 1);
  const row = calls.json.items[0];
  assert.match(row.id, /^metric_[0-9a-f]{16}$/);
  assert.equal(row.organizationId, b.organizationId);
  assert.equal(row.projectId, b.projectId);
  assert.equal(row.environment, 'dev');
  assert.equal(row.metricType, 'api_call');
  assert.equal(row.period, 'hourly');
  assert.equal(Date.parse(row.periodEnd) - Date.parse(row.periodStart), 3600e3);
  assert.equal(Date.parse(row.periodStart) % 3600e3, 0);
  assert.equal(row.metadata.successCount, sent.ok);
  assert.equal(row.metadata.failureCount, sent.fail);
  assert.ok(row.metadata.avgResponseTime > 0);
  assert.ok(row.metadata.peakValue >= row.metadata.minValue && row.metadata.peakValue <= total);
  assert.deepEqual(row.metadata.endpoints, sent.endpoints);

  assert.equal(sum(await settled(srv, b, 'type=db_read&period=hourly', sent.reads)), sent.reads);
  assert.equal(sum(await settled(srv, b, 'type=db_write&period=hourly', sent.writes)), sent.writes);
  const bw = await settled(srv, b, 'type=bandwidth&period=hourly', sent.bytes);
  assert.equal(sum(bw), sent.bytes, bw.text);
  assert.equal(bw.json.items[0].metadata.avgResponseTime, null);

  // the daily and monthly roll-ups hold the same sums
  assert.equal(sum(await settled(srv, b, 'type=api_call&period=daily', total)), total);
  const monthly = await settled(srv, b, 'type=api_call&period=monthly', total);
  assert.equal(monthly.json.items[0].metadata.successCount, sent.ok);
  assert.deepEqual(monthly.json.items[0].metadata.endpoints, sent.endpoints);
});

test('filters of GET /admin/v1/usage: type, projectId, environment, period, dates, paging; access', async () => {
  const all = await until(() => usage(srv, b, 'period=hourly'), (r) => r.json?.total >= 5);
  assert.equal(all.status, 200, all.text);
  const types = new Set(all.json.items.map((r) => r.metricType));
  for (const t of ['api_call', 'db_read', 'db_write', 'bandwidth', 'storage']) assert.ok(types.has(t), `${t} in ${[...types]}`);
  assert.equal(all.json.total, all.json.items.length);
  assert.equal(all.json.page, 1);
  assert.equal(all.json.limit, 100);
  const paged = await usage(srv, b, 'period=hourly&limit=2&page=2');
  assert.equal(paged.json.items.length, 2);
  assert.equal(paged.json.total, all.json.total);
  assert.deepEqual(paged.json.items.map((r) => r.id), all.json.items.slice(2, 4).map((r) => r.id));
  assert.equal((await usage(srv, b, 'period=hourly&type=db_read')).json.items.every((r) => r.metricType === 'db_read'), true);
  assert.equal((await usage(srv, b, `period=hourly&projectId=${b.projectId}`)).json.total, all.json.total);
  assert.equal((await usage(srv, b, 'period=hourly&projectId=proj_other')).json.total, 0);
  assert.equal((await usage(srv, b, 'period=hourly&environment=dev')).json.total, all.json.total);
  assert.equal((await usage(srv, b, 'period=hourly&environment=staging')).json.total, 0);
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
  assert.equal((await usage(srv, b, `period=hourly&startDate=${today}&endDate=${today}`)).json.total, all.json.total);
  assert.equal((await usage(srv, b, `period=hourly&startDate=${tomorrow}`)).json.total, 0);
  assert.equal((await usage(srv, b, `period=hourly&endDate=2020-01-01T00:00:00Z`)).json.total, 0);
  const daily = await usage(srv, b, 'type=api_call');
  assert.equal(daily.json.items[0].period, 'daily', 'daily is the default period');
  assert.equal(Date.parse(daily.json.items[0].periodEnd) - Date.parse(daily.json.items[0].periodStart), DAY);

  expectError(assert, await usage(srv, b, 'type=nope'), 400, 'common/invalid-parameters');
  expectError(assert, await usage(srv, b, 'period=weekly'), 400, 'common/invalid-parameters');
  expectError(assert, await usage(srv, b, 'startDate=yesterday'), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', '/admin/v1/usage', { token: b.operatorToken }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', `/admin/v1/usage?organizationId=${b.organizationId}`, { key: b.secretKey }), 403, 'org/permission-denied');
  expectError(assert, await req(srv, 'GET', `/admin/v1/usage?organizationId=${b.organizationId}`), 401, 'auth/unauthorized');
  const other = await req(srv, 'POST', '/admin/v1/organizations', { token: b.operatorToken, body: { name: 'Other', slug: 'other-usage' } });
  assert.equal(other.status, 201, other.text);
  expectError(assert, await req(srv, 'GET', `/admin/v1/usage?organizationId=${b.organizationId}`, { token: other.json.ownerToken }), 404, 'org/not-found');
  const theirs = await req(srv, 'GET', `/admin/v1/usage?organizationId=${other.json.id}`, { token: other.json.ownerToken });
  assert.equal(theirs.status, 200, theirs.text);
  assert.equal(theirs.json.items.filter((r) => r.metricType === 'api_call').length, 0, 'no calls of ours in theirs');
  const member = await req(srv, 'POST', `/admin/v1/organizations/${b.organizationId}/access-tokens`, { token: b.operatorToken, body: { name: 'ro', role: 'member' } });
  assert.equal(member.status, 201, member.text);
  assert.equal((await usage(srv, b, 'period=hourly', member.json.token)).status, 200, 'every role may read usage');
});

test('summary: this month per metric against the plan; unlimited on enterprise', async () => {
  const total = sent.ok + sent.fail;
  const summary = () => req(srv, 'GET', `/admin/v1/usage/summary?organizationId=${b.organizationId}`, { token: b.operatorToken });
  const s = await until(summary, (r) => r.json?.items?.find((i) => i.metric === 'api_call')?.used === total);
  assert.equal(s.status, 200, s.text);
  const by = Object.fromEntries(s.json.items.map((i) => [i.metric, i]));
  assert.deepEqual(Object.keys(by).sort(), ['api_call', 'bandwidth', 'db_read', 'db_write', 'file_download', 'file_upload', 'mau', 'storage']);
  const next = new Date(); next.setUTCDate(1); next.setUTCHours(0, 0, 0, 0); next.setUTCMonth(next.getUTCMonth() + 1);
  assert.equal(by.api_call.used, total);
  assert.equal(by.api_call.limit, 10000);
  assert.equal(by.api_call.percent, Math.round(total * 10000 / 10000) / 100);
  assert.equal(by.api_call.resetAt, next.toISOString());
  assert.equal(by.bandwidth.limit, 5 * 1024 ** 3);
  assert.equal(by.mau.limit, 1000);
  assert.equal(by.storage.limit, 1024 ** 3);
  assert.equal(by.storage.resetAt, null, 'storage is a gauge');
  assert.ok(by.storage.used > 0, 'table data counts');
  assert.equal(by.db_read.limit, null);
  assert.equal(by.db_read.percent, null);
  assert.equal(by.db_write.used, sent.writes);
  assert.equal(s.json.plan, 'free');
  assert.equal((await req(srv, 'PUT', `/admin/v1/organizations/${b.organizationId}/plan`, { token: b.operatorToken, body: { plan: 'enterprise' } })).status, 200);
  const e = await summary();
  assert.equal(e.json.plan, 'enterprise');
  for (const i of e.json.items) {
    assert.equal(i.limit, null, i.metric);
    assert.equal(i.percent, null, i.metric);
  }
  expectError(assert, await req(srv, 'GET', '/admin/v1/usage/summary', { token: b.operatorToken }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', `/admin/v1/usage/summary?organizationId=org_x`, { token: b.operatorToken }), 404, 'org/not-found');
});

test('the CLI draws the last 30 days (text on a terminal, JSON with --json)', async () => {
  const total = sent.ok + sent.fail;
  const cli = (...args) => runOnce(['usage', b.organizationId, ...args, '--data', srv.dataDir]);
  const json = await until(() => cli('--json'), (r) => r.code === 0 && JSON.parse(r.stdout).total === total);
  assert.equal(json.code, 0, json.stderr);
  const chart = JSON.parse(json.stdout);
  assert.equal(chart.metric, 'api_call');
  assert.equal(chart.days.length, 30);
  assert.equal(chart.days[29].date, new Date().toISOString().slice(0, 10));
  assert.equal(chart.days[29].value, total);
  const text = await cli('--table');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^api_call of org_\S+, last 30 days/);
  assert.match(text.stdout, new RegExp(`${chart.days[29].date} \\|#{50} ${total}\\n`));
  assert.match(text.stdout, new RegExp(`total ${total}, peak ${total}`));
  const week = await cli('--metric', 'db_write', '--days', '7', '--json');
  assert.equal(JSON.parse(week.stdout).days.length, 7);
  assert.equal(JSON.parse(week.stdout).total, sent.writes);
  assert.equal((await cli('--days', '0')).code, 2);
});

test('/metrics carries the usage counters by organization, project and environment', onlyOneProcess('per-process /metrics counters'), async () => {
  const text = (await req(srv, 'GET', '/metrics')).text;
  const labels = `organization="${b.organizationId}",project="${b.projectId}",environment="dev"`;
  assert.match(text, new RegExp(`basalt_usage_api_calls_total\\{${labels},outcome="success"\\} ${sent.ok}\\n`));
  assert.match(text, new RegExp(`basalt_usage_api_calls_total\\{${labels},outcome="failure"\\} ${sent.fail}\\n`));
  assert.match(text, new RegExp(`basalt_usage_db_writes_total\\{${labels}\\} ${sent.writes}\\n`));
  assert.match(text, /basalt_usage_api_calls_total\{organization="other",project="other",environment="other",outcome="success"\} 0\n/);
  assert.match(text, /# TYPE basalt_usage_storage_bytes gauge/);
});

// ---- servers of their own ----

test('files: uploads, downloads, their bytes in bandwidth, and the storage gauge', async () => {
  const s = await startServer({ args: FAST });
  const boot = s.bootstrap;
  try {
    const before = await until(() => usage(s, boot, 'type=storage&period=hourly'), (r) => r.json?.items?.length === 1);
    const start = before.json.items[0].value;
    assert.ok(start > 0, 'an empty environment still has its catalog');
    const data = Buffer.alloc(5000, 7);
    const p = await req(s, 'POST', '/v1/files/presigned-url', { key: boot.secretKey, body: { filename: 'a.bin', contentType: 'application/octet-stream', visibility: 'public' } });
    assert.equal(p.status, 200, p.text);
    const local = p.json.url.replace(/^http:\/\/[^/]+/, '');
    assert.equal((await req(s, 'PUT', local, { raw: data, headers: { 'Content-Type': 'application/octet-stream' } })).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await req(s, 'GET', local.split('?')[0])).text.length, 5000);
    assert.equal(sum(await settled(s, boot, 'type=file_upload&period=hourly', 1)), 1);
    assert.equal(sum(await settled(s, boot, 'type=file_download&period=hourly', 2)), 2);
    const bw = await settled(s, boot, 'type=bandwidth&period=hourly', bytes(p) + 2 * 5000);
    assert.equal(sum(bw), bytes(p) + 2 * 5000, 'the presign answer and both downloads');
    const after = await until(() => usage(s, boot, 'type=storage&period=hourly'), (r) => r.json?.items?.[0]?.value >= start + 5000);
    const row = after.json.items[0];
    assert.ok(row.value >= start + 5000, after.text);
    assert.equal(row.metadata.peakValue, row.value);
    assert.equal(row.metadata.minValue, start);
  } finally {
    await s.stop();
  }
});

test('MAU: each end user once per month, across restarts; a new month counts again', async () => {
  const dir = tempDir();
  let offset = 0;
  const start = () => startServer({ dataDir: dir, keep: true, args: FAST, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(offset) } });
  let s = await start();
  const boot = s.bootstrap;
  const post = (path, body) => req(s, 'POST', path, { key: boot.publishableKey, body });
  const signin = (email) => post('/v1/auth/email/signin', { email, password: 'secret1' });
  const mau = (r) => r.json?.items?.find((i) => i.metric === 'mau')?.used;
  const summary = () => req(s, 'GET', `/admin/v1/usage/summary?organizationId=${boot.organizationId}`, { token: boot.operatorToken });
  try {
    for (const u of ['a', 'b', 'c']) assert.equal((await post('/v1/auth/email/signup', { method: 'password', email: `${u}@x.io`, password: 'secret1', name: u })).status, 201);
    const first = await signin('a@x.io');
    assert.equal(first.status, 200, first.text);
    await signin('a@x.io');
    await signin('b@x.io');
    assert.equal((await post('/v1/auth/refresh', { refreshToken: first.json.refreshToken })).status, 200);
    assert.equal((await signin('a@x.io')).status, 200);
    assert.equal(mau(await until(summary, (r) => mau(r) === 3)), 3);
    await sleep(1200);
    assert.equal(mau(await summary()), 3, 'repeated sign-ins do not count again');
    await s.stop();

    s = await start(); // a fresh process has an empty seen set: the store still counts each user once
    await signin('a@x.io');
    assert.equal((await post('/v1/auth/email/signup', { method: 'password', email: 'd@x.io', password: 'secret1', name: 'd' })).status, 201);
    assert.equal(mau(await until(summary, (r) => mau(r) === 4)), 4);
    await sleep(1200);
    assert.equal(mau(await summary()), 4);
    const rows = await until(() => usage(s, boot, 'type=mau&period=monthly'), (r) => sum(r) === 4);
    assert.equal(sum(rows), 4, rows.text);
    await s.stop();

    offset = 40 * DAY; // another month
    s = await start();
    await signin('a@x.io');
    await signin('a@x.io');
    assert.equal(mau(await until(summary, (r) => mau(r) === 1)), 1);
    await sleep(1200);
    assert.equal(mau(await summary()), 1);
    const months = await until(() => usage(s, boot, 'type=mau&period=monthly'), (r) => r.json?.items?.length === 2);
    assert.deepEqual(months.json.items.map((r) => r.value), [4, 1]);
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing counted is lost on SIGTERM: requests, then an immediate graceful stop', async () => {
  const dir = tempDir();
  const start = () => startServer({ dataDir: dir, keep: true, args: FAST });
  let s = await start();
  const boot = s.bootstrap;
  try {
    const N = 300;
    const answers = await Promise.all(Array.from({ length: N }, () => req(s, 'GET', '/v1/data/posts', { key: boot.publishableKey })));
    assert.equal(answers.length, N);
    await s.stop(); // at once: the last flush happens on the way out
    s = await start();
    const rows = await usage(s, boot, 'type=api_call&period=hourly');
    assert.equal(sum(rows), N, rows.text);
    assert.equal(rows.json.items.reduce((a, r) => a + r.metadata.failureCount, 0), N, '404 data/table-not-found each');
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('roll-ups and retention under a moved clock: hourly 7 days, daily 90 days, monthly 2 years', async () => {
  const dir = tempDir();
  let offset = 0;
  const start = () => startServer({ dataDir: dir, keep: true, args: FAST, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(offset) } });
  let s = await start();
  const boot = s.bootstrap;
  const rows = (period) => usage(s, boot, `type=api_call&period=${period}`);
  const calls = async (n) => { for (let i = 0; i < n; i++) await req(s, 'GET', '/v1/data/posts', { key: boot.publishableKey }); };
  try {
    await calls(4);
    assert.equal(sum(await settled(s, boot, 'type=api_call&period=hourly', 4)), 4);
    await s.stop();

    offset = DAY; // the next day: day 0 rolled up when the server starts
    s = await start();
    await calls(2);
    assert.equal(sum(await settled(s, boot, 'type=api_call&period=hourly', 6)), 6);
    const daily = await settled(s, boot, 'type=api_call&period=daily', 6);
    assert.deepEqual(daily.json.items.map((r) => r.value), [4, 2]);
    assert.equal(daily.json.items[0].metadata.peakValue, 4);
    const monthly = await settled(s, boot, 'type=api_call&period=monthly', 6);
    assert.ok(monthly.json.items.length >= 1);
    await s.stop();

    offset = 9 * DAY; // hourly rows of days older than 7 days are gone, the daily rows stay
    s = await start();
    assert.equal((await until(() => rows('hourly'), (r) => r.json?.total === 0)).json.total, 0);
    assert.deepEqual((await rows('daily')).json.items.map((r) => r.value), [4, 2]);
    const sumMonth = await req(s, 'GET', `/admin/v1/usage/summary?organizationId=${boot.organizationId}`, { token: boot.operatorToken });
    const thisMonth = new Date(Date.now() + offset).getUTCMonth();
    const expected = [0, 1].filter((d) => new Date(Date.now() + d * DAY).getUTCMonth() === thisMonth).map((d) => [4, 2][d]).reduce((a, v) => a + v, 0);
    assert.equal(sumMonth.json.items.find((i) => i.metric === 'api_call').used, expected, 'this month from daily rows after the hourly ones went');
    await s.stop();

    offset = 130 * DAY; // daily rows of whole months older than 90 days are gone, the monthly rows stay
    s = await start();
    assert.equal((await until(() => rows('daily'), (r) => r.json?.total === 0)).json.total, 0);
    assert.equal(sum(await rows('monthly')), 6);
    await s.stop();

    offset = 800 * DAY; // monthly rows older than 24 months are gone
    s = await start();
    assert.equal((await until(() => rows('monthly'), (r) => r.json?.total === 0)).json.total, 0);
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--metering 0: no usage rows, no usage counters', async () => {
  const s = await startServer({ args: ['--metering', '0'] });
  const boot = s.bootstrap;
  try {
    await req(s, 'GET', '/v1/data/posts', { key: boot.publishableKey });
    await sleep(1200);
    assert.equal((await usage(s, boot, 'period=hourly')).json.total, 0);
    assert.doesNotMatch((await req(s, 'GET', '/metrics')).text, /basalt_usage_/);
  } finally {
    await s.stop();
  }
});
