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

test('team commands: invite, accept without a token, member list|role|remove, token list|revoke', async () => {
  const org = b.organizationId;
  const inv = await json('invite', 'create', org, 'cli@team.io', 'Cli User', 'member');
  assert.match(inv.token, /^inv_[0-9a-f]{64}$/);
  const listed = await cli('invite', 'list', org, '--table');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^id\s+email\s+name\s+role\s+status\s+expiresAt\s*\n/);
  assert.match(listed.stdout, /cli@team\.io\s+Cli User\s+member\s+pending/);
  const spare = await json('invite', 'create', org, 'spare@team.io', 'Spare', 'billing');
  assert.equal((await json('invite', 'revoke', org, spare.id)).status, 'revoked');
  const joined = await runOnce(['invite', 'accept', inv.token, '--url', srv.url, '--json']); // no operator token at all
  assert.equal(joined.code, 0, joined.stderr);
  const { member, token } = JSON.parse(joined.stdout);
  assert.equal(member.role, 'member');
  const again = await runOnce(['invite', 'accept', inv.token, '--url', srv.url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /410 .*org\/invitation-used/);
  const members = await json('member', 'list', org);
  assert.ok(members.items.some((m) => m.id === member.id));
  assert.equal((await json('member', 'role', org, member.id, 'admin')).role, 'admin');
  const refused = await cli('member', 'role', org, member.id, 'emperor');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /400 .*common\/invalid-parameters/);
  const tokens = await cli('token', 'list', org, '--table');
  assert.equal(tokens.code, 0, tokens.stderr);
  assert.match(tokens.stdout, /^id\s+name\s+role\s+memberId\s+tokenHint\s+status\s*\n/);
  assert.match(tokens.stdout, new RegExp(`cli@team\\.io\\s+admin\\s+${member.id}`));
  const mine = (await json('token', 'list', org)).items.find((t) => t.memberId === member.id);
  const asMember = await runOnce(['org', 'get', org, '--url', srv.url, '--token', token, '--json']);
  assert.equal(asMember.code, 0, asMember.stderr);
  assert.equal((await cli('token', 'revoke', org, mine.id)).code, 0);
  const revoked = await runOnce(['org', 'get', org, '--url', srv.url, '--token', token]);
  assert.equal(revoked.code, 1);
  assert.match(revoked.stderr, /401 .*auth\/unauthorized/);
  assert.equal((await cli('member', 'remove', org, member.id)).code, 0);
  const gone = await cli('member', 'remove', org, member.id);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /404 .*org\/member-not-found/);
  assert.equal((await cli('member', 'role', org)).code, 2, 'missing arguments');
});

test('org and project delete with --progress: each environment, each project, then the organization, with a bar on stderr', async () => {
  const org = await json('org', 'create', 'Doomed', 'doomed-co');
  const t = ['--token', org.ownerToken];
  const one = await json('project', 'create', org.id, 'doomed-one', 'One', ...t);
  await json('project', 'create', org.id, 'doomed-two', 'Two', ...t);
  await json('plan', 'set', org.id, 'starter', ...t);
  await json('env', 'create', one.id, 'staging', 'staging', ...t);
  const p = await cli('project', 'delete', one.id, '--progress', '--json', ...t);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stderr, /environment staging of /);
  assert.match(p.stderr, /deleting \[#{30}\] 3\/3 done/);
  const r = await cli('org', 'delete', org.id, '--progress', '--json', ...t);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /deleting \[\s*\] 0\/3 environment dev of doomed-two/);
  assert.match(r.stderr, /deleting \[#{10}\s{20}\] 1\/3 project doomed-two/);
  assert.match(r.stderr, /deleting \[#{20}\s{10}\] 2\/3 organization/);
  assert.match(r.stderr, /3\/3 done/);
  const gone = await cli('org', 'get', org.id, ...t);
  assert.equal(gone.code, 1, 'the organization and its tokens are gone');
  const plain = await cli('project', 'delete', 'proj_nope', '--progress', ...t);
  assert.equal(plain.code, 1, 'an unknown project: the single request answers why');
  assert.match(plain.stderr, /40[13]/);
});
