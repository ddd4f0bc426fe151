// Inactivity (platform.md §5.8, docs/platform.md "Inactivity"): with the clock moved forward
// (BASALT_TEST_CLOCK_OFFSET_MS), the sweeper shuts down dev environments unused for 30 days and the others
// after 90, schedules their deletion the same period later; any /v1 request brings one back; a scheduled
// deletion can be cancelled; one that comes due deletes the environment with its data and keys.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test, startServer, req, expectError, tempDir, sleep } from './harness.mjs';

const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const DAY = 86400e3;

const at = (days) => startServer({ dataDir: dir, keep: true, args: ['--inactivity-sweep', '1'], env: { BASALT_TEST_CLOCK_OFFSET_MS: String(days * DAY) } });
const envOf = (s, b, project, name) => req(s, 'GET', `/admin/v1/projects/${project}/environments/${name}`, { token: b.operatorToken });

async function until(s, b, project, name, check) {
  for (let i = 0; i < 100; i++) {
    const e = await envOf(s, b, project, name);
    if (check(e)) return e;
    await sleep(50);
  }
  return envOf(s, b, project, name);
}

test('idle environments shut down, come back on use, and are deleted unless the deletion is cancelled', async () => {
  let s = await at(0);
  const b = s.bootstrap;
  const admin = (method, path, body) => req(s, method, '/admin/v1' + path, { token: b.operatorToken, body });
  assert.equal((await admin('PUT', `/organizations/${b.organizationId}/plan`, { plan: 'starter' })).status, 200);
  const staging = await admin('POST', `/projects/${b.projectId}/environments`, { environment: 'staging', environmentType: 'staging' });
  assert.equal(staging.status, 201, staging.text);
  const other = (await admin('POST', '/projects', { organizationId: b.organizationId, name: 'Other', slug: 'other-app' })).json;
  const otherKey = (await admin('POST', `/projects/${other.id}/environments/dev/keys`, { type: 'secret', name: 'k' })).json.key;
  assert.equal((await req(s, 'GET', '/v1/data/posts', { key: b.publishableKey })).status, 404);
  const fresh = await envOf(s, b, b.projectId, 'dev');
  assert.ok(fresh.json.lastAccessAt, 'a /v1 request records the use');
  assert.equal(fresh.json.shutdownAt, null);
  await s.stop();

  s = await at(31); // dev environments idle for 31 days: shut down; staging (90 days) is not
  let dev = await until(s, b, b.projectId, 'dev', (e) => e.json.status === 'shutdown');
  assert.equal(dev.json.status, 'shutdown', dev.text);
  assert.ok(new Date(dev.json.deletionScheduledAt) - new Date(dev.json.shutdownAt) === 30 * DAY, 'deletion 30 days after shutdown');
  assert.equal((await envOf(s, b, other.id, 'dev')).json.status, 'shutdown');
  assert.notEqual((await envOf(s, b, b.projectId, 'staging')).json.status, 'shutdown');
  assert.equal((await req(s, 'GET', '/v1/data/posts', { key: b.publishableKey })).status, 404, 'a request is served and reactivates');
  dev = await envOf(s, b, b.projectId, 'dev');
  assert.equal(dev.json.status, 'ready');
  assert.equal(dev.json.deletionScheduledAt, null);
  await s.stop();

  s = await at(62); // default dev idle again since day 31; other's dev deletion (day 61) has come due
  dev = await until(s, b, b.projectId, 'dev', (e) => e.json.status === 'shutdown');
  assert.equal(dev.json.status, 'shutdown');
  const gone = await until(s, b, other.id, 'dev', (e) => e.status === 404);
  expectError(assert, gone, 404, 'data/environment-not-found');
  expectError(assert, await req(s, 'GET', '/v1/data/posts', { key: otherKey }), 401, 'auth/invalid-api-key'); // its keys went with it
  const keep = await req(s, 'DELETE', `/admin/v1/projects/${b.projectId}/environments/dev/scheduled-deletion`, { token: b.operatorToken });
  assert.equal(keep.status, 200, keep.text);
  assert.equal(keep.json.deletionScheduledAt, null);
  assert.equal(keep.json.status, 'shutdown');
  expectError(assert, await req(s, 'DELETE', `/admin/v1/projects/${b.projectId}/environments/dev/scheduled-deletion`, { token: b.operatorToken }), 409, 'org/no-deletion-scheduled');
  expectError(assert, await req(s, 'DELETE', `/admin/v1/projects/${b.projectId}/environments/staging/scheduled-deletion`, { token: b.operatorToken }), 409, 'org/no-deletion-scheduled');
  await s.stop();

  s = await at(100); // cancelled: dev stays (shut down); staging idle 100 > 90 days: shut down now
  const st = await until(s, b, b.projectId, 'staging', (e) => e.json.status === 'shutdown');
  assert.equal(st.json.status, 'shutdown');
  assert.ok(new Date(st.json.deletionScheduledAt) - new Date(st.json.shutdownAt) === 90 * DAY);
  await sleep(200);
  dev = await envOf(s, b, b.projectId, 'dev');
  assert.equal(dev.status, 200);
  assert.equal(dev.json.status, 'shutdown');
  const log = await req(s, 'GET', `/admin/v1/organizations/${b.organizationId}/activity?entityType=environment`, { token: b.operatorToken });
  assert.ok(log.json.items.some((a) => a.action === 'deletion cancelled'));
  await s.stop();
});
