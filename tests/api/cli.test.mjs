// The management CLI against a live server: defaults from --data (bootstrap.json), --json output for
// scripts, tables with --table, exit codes (0 ok, 1 refused with the server's error, 2 usage).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, runOnce } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const cli = (...args) => runOnce([...args, '--data', srv.dataDir]);
const json = async (...args) => {
  const r = await cli(...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test('org, plan, project, env, key and activity commands', async () => {
  const orgs = await json('org', 'list');
  assert.equal(orgs.items[0].id, b.organizationId);
  const project = await json('project', 'create', b.organizationId, 'cli-app', 'CLI App');
  assert.equal(project.slug, 'cli-app');
  assert.equal(project.environments[0].environment, 'dev');
  const table = await cli('project', 'list', '--table');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^id\s+slug\s+name\s+status\s+environmentCount\n/);
  assert.match(table.stdout, /cli-app\s+CLI App\s+active\s+1/);
  const refused = await cli('env', 'create', project.id, 'staging', 'staging');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /403 .*org\/plan-limit-exceeded/);
  assert.equal((await json('plan', 'set', b.organizationId, 'starter')).plan, 'starter');
  assert.equal((await json('env', 'create', project.id, 'staging', 'staging')).environmentType, 'staging');
  const envs = await json('env', 'list', project.id);
  assert.deepEqual(envs.items.map((e) => e.environment), ['dev', 'staging']);
  const key = await json('key', 'create', project.id, 'staging', 'secret', 'ci');
  assert.match(key.key, /^sk_[0-9a-f]{64}$/);
  assert.equal((await req_status(key.key)), 200, 'the new key works on the client API');
  assert.equal((await cli('key', 'revoke', project.id, 'staging', key.id)).code, 0);
  assert.equal((await cli('env', 'delete', project.id, 'staging')).code, 0);
  const log = await json('activity', 'list', b.organizationId);
  assert.ok(log.items.some((a) => a.entityType === 'environment' && a.action === 'delete'));
  assert.equal((await cli('project', 'delete', project.id)).code, 0);
  assert.equal((await cli('project', 'get', project.id)).code, 1);
});

async function req_status(secretKey) {
  const r = await fetch(srv.url + '/v1/data/nothing-here', { headers: { 'X-API-Key': secretKey } });
  return r.status === 404 ? 200 : r.status; // authenticated: the table is unknown, the key is fine
}

test('usage errors and a missing server', async () => {
  assert.equal((await cli('org')).code, 2);
  assert.equal((await cli('org', 'get')).code, 2, 'missing argument');
  const none = await runOnce(['org', 'list', '--url', 'http://127.0.0.1:1', '--token', 'bt_x']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /127\.0\.0\.1:1/);
  const bad = await runOnce(['org', 'list', '--url', srv.url, '--token', 'bt_' + '0'.repeat(64)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /401 .*auth\/unauthorized/);
});
