// What the server's operator does on the data directory (docs/platform.md "Suspended organizations"):
// `basalt operator suspend|resume ORG` — a suspended organization's /v1 calls answer 403 org/suspended
// while its management API stays usable, and the change is in its activity log.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, runOnce } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer({ args: ['--key-cache-ms', '1'] }); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const admin = (method, path, body) => req(srv, method, '/admin/v1' + path, { token: b.operatorToken, body });
const operator = (...args) => runOnce(['operator', ...args, '--data', srv.dataDir]);

test('suspend: /v1 refused with 403 org/suspended, management still works; resume restores', async () => {
  assert.equal((await req(srv, 'GET', '/v1/data/anything', { key: b.publishableKey })).status, 404);
  const s = await operator('suspend', b.organizationId, '--reason', 'unpaid invoice');
  assert.equal(s.code, 0, s.stderr);
  await new Promise((r) => setTimeout(r, 20)); // past the 1 ms key cache
  expectError(assert, await req(srv, 'GET', '/v1/data/anything', { key: b.publishableKey }), 403, 'org/suspended');
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/signup', { key: b.publishableKey, body: { email: 'a@b.io', password: 'Passw0rd!x' } }), 403, 'org/suspended');
  const org = await admin('GET', `/organizations/${b.organizationId}`);
  assert.equal(org.status, 200, org.text);
  assert.equal(org.json.status, 'suspended');
  assert.equal((await admin('GET', `/projects/${b.projectId}/environments`)).status, 200);
  const r = await operator('resume', b.organizationId);
  assert.equal(r.code, 0, r.stderr);
  await new Promise((r2) => setTimeout(r2, 20));
  assert.equal((await req(srv, 'GET', '/v1/data/anything', { key: b.publishableKey })).status, 404);
  const log = await admin('GET', `/organizations/${b.organizationId}/activity?entityType=organization`);
  assert.deepEqual(log.json.items.slice(0, 2).map((a) => a.action), ['resume', 'suspend']);
  assert.match(log.json.items[1].message, /unpaid invoice/);
});

test('operator: unknown organization, bad verb and missing arguments fail with a message', async () => {
  const none = await operator('suspend', 'org_nope');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no organization org_nope/);
  const bad = await operator('explode', b.organizationId);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Usage: basalt operator/);
  assert.equal((await runOnce(['operator', 'suspend'])).code, 2);
  const help = await runOnce(['operator', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /suspend ORG/);
});
