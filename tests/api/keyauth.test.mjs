// API-key authentication of /v1/** and credential checks of the management API /admin/v1/**.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, expectAuthenticated } from './harness.mjs';

let srv, b, keysPath;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  keysPath = `/admin/v1/projects/${b.projectId}/environments/dev/keys`;
});
after(async () => { await srv?.stop(); });

const hex64 = (c) => c.repeat(64);
const V1_PATHS = ['/v1/data/posts', '/v1/data/posts/abc', '/v1/posts', '/v1/auth/me', '/v1/users/me', '/v1/files', '/v1/x/y/z/w'];

test('no X-API-Key on any /v1 path is 401 data/invalid-header', async () => {
  for (const p of V1_PATHS) expectError(assert, await req(srv, 'GET', p), 401, 'data/invalid-header');
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/signin', { body: {} }), 401, 'data/invalid-header');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { headers: { 'X-API-Key': '' } }), 401, 'data/invalid-header');
  // a bearer token alone is no API key
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.x' }), 401, 'data/invalid-header');
});

test('malformed keys are 401 auth/invalid-api-key', async () => {
  const malformed = [
    'pk_' + 'a'.repeat(63), 'sk_' + 'a'.repeat(63), 'pk_' + 'a'.repeat(65), 'xk_' + hex64('a'), 'pk_' + 'g'.repeat(64),
    'pk_' + 'a'.repeat(63) + 'z', 'sk_' + 'a'.repeat(62) + '-_', 'pk-' + hex64('a'), 'PK_' + hex64('a'), 'pk_', 'pk',
    'Bearer pk_x', hex64('a'), 'pk_ ' + 'a'.repeat(63), 'rk_' + hex64('1'),
  ];
  for (const k of malformed) {
    const r = await req(srv, 'GET', '/v1/data/posts', { key: k });
    expectError(assert, r, 401, 'auth/invalid-api-key');
  }
});

test('a well-formed unknown key is 401 auth/invalid-api-key', async () => {
  for (const k of ['pk_' + hex64('b'), 'sk_' + hex64('c'), 'pk_' + b.publishableKey.slice(3).split('').reverse().join('')]) {
    expectError(assert, await req(srv, 'GET', '/v1/data/posts', { key: k }), 401, 'auth/invalid-api-key');
  }
});

test('an operator token is no API key: 401 on /v1', async () => {
  const r = await req(srv, 'GET', '/v1/data/posts', { key: b.operatorToken });
  expectError(assert, r, 401, 'auth/invalid-api-key');
  // and a pk_ made of the token's hex is unknown too
  expectError(assert, await req(srv, 'GET', '/v1/data/posts', { key: 'pk_' + b.operatorToken.slice(3) }), 401, 'auth/invalid-api-key');
});

test('the bootstrap pk_ and sk_ pass authentication', async () => {
  for (const p of ['/v1/data/posts', '/v1/data/posts/abc', '/v1/x/y/z/w']) {
    expectAuthenticated(assert, await req(srv, 'GET', p, { key: b.publishableKey }));
    expectAuthenticated(assert, await req(srv, 'GET', p, { key: b.secretKey }));
  }
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const r = await req(srv, method, '/v1/x/y/z/w', { key: b.secretKey });
    assert.notEqual(r.status, 401, `${method}: ${r.text}`);
    expectError(assert, r, 404, 'common/not-found');
  }
});

test('the X-API-Key header name is case-insensitive; upper-case hex is accepted', async () => {
  for (const name of ['x-api-key', 'X-API-KEY', 'X-Api-Key', 'x-Api-kEy']) {
    expectAuthenticated(assert, await req(srv, 'GET', '/v1/data/posts', { headers: { [name]: b.publishableKey } }));
  }
  // client-api.md §1.3: ^pk_[a-fA-F0-9]{64}$
  const upper = 'pk_' + b.publishableKey.slice(3).toUpperCase();
  expectAuthenticated(assert, await req(srv, 'GET', '/v1/data/posts', { key: upper }));
});

test('every /v1 method authenticates before looking at the body', async () => {
  for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
    const body = method === 'GET' || method === 'DELETE' ? undefined : '{';
    const headers = body ? { 'Content-Type': 'application/json' } : {};
    expectError(assert, await req(srv, method, '/v1/anything/at/all/here', { body, headers }), 401, 'data/invalid-header');
    expectError(assert, await req(srv, method, '/v1/anything/at/all/here', { body, headers, key: 'pk_' + hex64('9') }), 401,
      'auth/invalid-api-key');
  }
  for (const method of ['GET', 'POST']) {
    const body = method === 'POST' ? '{' : undefined;
    const headers = body ? { 'Content-Type': 'application/json' } : {};
    expectError(assert, await req(srv, method, '/v1/data/posts', { body, headers }), 401, 'data/invalid-header');
    expectError(assert, await req(srv, method, '/v1/data/posts', { body, headers, key: 'pk_' + hex64('9') }), 401, 'auth/invalid-api-key');
  }
});

test('a method no /v1 route serves is still authenticated first: 401 before 405', async () => {
  // An anonymous caller learns nothing about the routes: on any /v1 path, no key is 401.
  for (const [method, p] of [['PATCH', '/v1/data/posts'], ['PUT', '/v1/data/posts'], ['DELETE', '/v1/data/posts'],
    ['PUT', '/v1/data/posts/abc'], ['POST', '/v1/data/posts/abc'], ['PUT', '/v1/posts']]) {
    const r = await req(srv, method, p);
    assert.equal(r.status, 401, `${method} ${p} without a key: ${r.status} ${r.text}`);
    expectError(assert, r, 401, 'data/invalid-header');
  }
  // the management API likewise: a missing credential is 401 whatever the method (management-api.md)
  for (const [method, p] of [['PUT', keysPath], ['PATCH', keysPath], ['GET', `${keysPath}/key_x`]]) {
    const r = await req(srv, method, p);
    assert.equal(r.status, 401, `${method} ${p} without a credential: ${r.status} ${r.text}`);
    expectError(assert, r, 401, 'auth/unauthorized');
  }
  // with a key the answer may be 404 or 405 (client-api.md §2.8), but never 401
  const keyed = await req(srv, 'PUT', '/v1/data/posts/abc', { key: b.secretKey });
  assert.notEqual(keyed.status, 401);
  assert.ok([404, 405].includes(keyed.status), keyed.text);
});

test('/admin/v1 without a credential is 401 auth/unauthorized', async () => {
  for (const [method, p] of [['GET', keysPath], ['POST', keysPath], ['DELETE', `${keysPath}/key_x`], ['GET', '/admin/v1/nothing'],
    ['GET', '/admin/v1/projects']]) {
    expectError(assert, await req(srv, method, p), 401, 'auth/unauthorized');
  }
});

test('/admin/v1 refuses bogus, malformed and non-bearer credentials with 401', async () => {
  const refused = [
    { token: 'bt_' + hex64('d') },                     // well-formed, unknown
    { token: 'bt_short' },                             // malformed
    { token: '' },
    { token: b.publishableKey },                       // an API key is no operator token
    { token: b.secretKey },
    { headers: { Authorization: 'Basic x' } },
    { headers: { Authorization: 'Basic eDp5' } },
    { headers: { Authorization: b.operatorToken } },   // no "Bearer "
    { headers: { Authorization: 'Token ' + b.operatorToken } },
    { key: b.publishableKey },                         // a publishable key may not manage
    { key: b.operatorToken },                          // the token in the wrong header
    { key: 'sk_' + hex64('e') },                       // unknown secret key
    { key: 'sk_' + 'e'.repeat(10) },
  ];
  for (const opts of refused) {
    const r = await req(srv, 'GET', keysPath, opts);
    expectError(assert, r, 401, 'auth/unauthorized');
  }
  // a bad Authorization is not rescued by a good X-API-Key
  expectError(assert, await req(srv, 'GET', keysPath, { token: 'bt_' + hex64('d'), key: b.secretKey }), 401, 'auth/unauthorized');
});

test('the bootstrap operator token and the environment secret key pass', async () => {
  const op = await req(srv, 'GET', keysPath, { token: b.operatorToken });
  assert.equal(op.status, 200, op.text);
  assert.match(op.headers.get('content-type'), /^application\/json; charset=utf-8$/);
  assert.ok(Array.isArray(op.json.items));
  const lower = await req(srv, 'GET', keysPath, { headers: { authorization: `bearer ${b.operatorToken}` } });
  assert.equal(lower.status, 200, `scheme and header name are case-insensitive: ${lower.text}`);
  const sk = await req(srv, 'GET', keysPath, { key: b.secretKey });
  assert.equal(sk.status, 200, sk.text);
  // authenticated but unknown management path
  expectError(assert, await req(srv, 'GET', '/admin/v1/nothing', { token: b.operatorToken }), 404, 'common/not-found');
});
