// API-key authentication of /v1/** and operator authentication of /admin/v1/**.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const hex64 = (c) => c.repeat(64);

test('no X-API-Key is 401 data/invalid-header', async () => {
  expectError(assert, await req(srv, 'GET', '/v1/data/posts'), 401, 'data/invalid-header');
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/signin', { body: {} }), 401, 'data/invalid-header');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { headers: { 'X-API-Key': '' } }), 401, 'data/invalid-header');
});

test('malformed keys are 401 auth/invalid-api-key', async () => {
  for (const key of ['pk_' + 'a'.repeat(63), 'pk_' + 'a'.repeat(65), 'xk_' + hex64('a'), 'pk_' + 'g'.repeat(64),
    'pk-' + hex64('a'), 'Bearer pk_x', hex64('a')]) {
    const r = await req(srv, 'GET', '/v1/data/posts', { key });
    expectError(assert, r, 401, 'auth/invalid-api-key');
    assert.match(r.json.message, /malformed/);
  }
});

test('well-formed unknown keys and operator tokens are refused on /v1', async () => {
  const unknown = await req(srv, 'GET', '/v1/data/posts', { key: 'pk_' + hex64('b') });
  expectError(assert, unknown, 401, 'auth/invalid-api-key');
  assert.match(unknown.json.message, /not recognised/);
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { key: 'sk_' + hex64('c') }), 401, 'auth/invalid-api-key');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { key: b.operatorToken }), 401, 'auth/invalid-api-key');
});

test('bootstrap pk_ and sk_ pass authentication', async () => {
  for (const key of [b.publishableKey, b.secretKey, b.publishableKey.toUpperCase().replace('PK_', 'pk_')]) {
    const r = await req(srv, 'GET', '/v1/data/posts', { key });
    expectError(assert, r, 404, 'common/not-found');
  }
  const lower = await req(srv, 'GET', '/v1/data/posts', { headers: { 'x-api-key': b.publishableKey } });
  expectError(assert, lower, 404, 'common/not-found');
});

test('every /v1 method authenticates before anything else', async () => {
  for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
    const body = method === 'GET' || method === 'DELETE' ? undefined : '{';
    const anon = await req(srv, method, '/v1/anything/at/all', { body, headers: body ? { 'Content-Type': 'application/json' } : {} });
    expectError(assert, anon, 401, 'data/invalid-header');
  }
});

test('/admin/v1 wants an operator token or a secret key', async () => {
  const p = `/admin/v1/projects/${b.projectId}/environments/dev/keys`;
  expectError(assert, await req(srv, 'GET', p), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', p, { token: 'bt_' + hex64('d') }), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', p, { token: 'bt_short' }), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', p, { headers: { Authorization: 'Basic eDp5' } }), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', p, { key: b.publishableKey }), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', p, { token: b.publishableKey }), 401, 'auth/unauthorized');
  assert.equal((await req(srv, 'GET', p, { token: b.operatorToken })).status, 200);
  assert.equal((await req(srv, 'GET', p, { key: b.secretKey })).status, 200);
  expectError(assert, await req(srv, 'GET', '/admin/v1/nothing', { token: b.operatorToken }), 404, 'common/not-found');
  expectError(assert, await req(srv, 'GET', '/admin/v1/nothing'), 401, 'auth/unauthorized');
});
