// Environment API keys through the management API: create (shown once), list (hints only), revoke,
// expiry, validation, and the request pipeline's body errors on a JSON route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b, base;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  base = `/admin/v1/projects/${b.projectId}/environments/dev/keys`;
});
after(async () => { await srv?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const create = (body, opts = { token: b.operatorToken }) => req(srv, 'POST', base, { ...opts, body });

test('create returns the key once; listing shows hints only', async () => {
  const r = await create({ type: 'publishable', name: 'web app', scopes: ['posts:read', '*:list'] });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.key, /^pk_[0-9a-f]{64}$/);
  assert.equal(r.json.keyHint, r.json.key.slice(0, 11));
  assert.equal(r.json.name, 'web app');
  assert.deepEqual(r.json.scopes, ['posts:read', '*:list']);
  assert.equal(r.json.status, 'active');
  assert.equal(r.json.environment, 'dev');
  assert.match(r.json.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(r.json.expiresAt, null);
  assert.ok(!('hash' in r.json));
  const works = await req(srv, 'GET', '/v1/data/posts', { key: r.json.key });
  expectError(assert, works, 404, 'common/not-found');
  const list = await req(srv, 'GET', base, { token: b.operatorToken });
  assert.equal(list.status, 200);
  assert.ok(list.json.items.some((k) => k.id === r.json.id && k.keyHint === r.json.keyHint));
  assert.ok(!list.text.includes(r.json.key), 'no full key in listings');
  assert.ok(!list.text.includes(b.secretKey));
  assert.doesNotMatch(list.text, /[0-9a-f]{64}/, 'no hash either');
  const secret = await create({ type: 'secret' });
  assert.equal(secret.status, 201);
  assert.match(secret.json.key, /^sk_[0-9a-f]{64}$/);
  assert.equal(secret.json.name, 'secret');
});

test('revocation takes effect at once', async () => {
  const r = await create({ type: 'publishable', name: 'to revoke' });
  expectError(assert, await req(srv, 'GET', '/v1/x', { key: r.json.key }), 404, 'common/not-found'); // cached now
  const del = await req(srv, 'DELETE', `${base}/${r.json.id}`, { token: b.operatorToken });
  assert.equal(del.status, 200, del.text);
  assert.equal(del.json.status, 'revoked');
  assert.match(del.json.revokedAt, /Z$/);
  const after = await req(srv, 'GET', '/v1/x', { key: r.json.key });
  expectError(assert, after, 401, 'auth/invalid-api-key');
  assert.match(after.json.message, /revoked/);
  const again = await req(srv, 'DELETE', `${base}/${r.json.id}`, { token: b.operatorToken });
  assert.equal(again.status, 200, 'revoking twice is harmless');
  expectError(assert, await req(srv, 'DELETE', `${base}/key_00000000000000000000`, { token: b.operatorToken }), 404,
    'auth/api-key-not-found');
});

test('a revocation made by another instance applies within the 1 s key cache', async () => {
  // A second server on the same data directory (SQLite WAL allows several processes): it caches the key,
  // the first server revokes it, and the second refuses it after at most --key-cache-ms (1000).
  const other = await startServer({ dataDir: srv.dataDir, keep: true });
  try {
    const r = await create({ type: 'publishable', name: 'shared' });
    expectError(assert, await req(other, 'GET', '/v1/x', { key: r.json.key }), 404, 'common/not-found');
    const revokedAt = Date.now();
    assert.equal((await req(srv, 'DELETE', `${base}/${r.json.id}`, { token: b.operatorToken })).status, 200);
    let refusedAfter = null;
    while (Date.now() - revokedAt < 3000) {
      const probe = await req(other, 'GET', '/v1/x', { key: r.json.key });
      if (probe.status === 401) { refusedAfter = Date.now() - revokedAt; break; }
      await sleep(50);
    }
    assert.ok(refusedAfter !== null, 'the other instance refuses the key');
    assert.ok(refusedAfter <= 1300, `refused after ${refusedAfter} ms`);
  } finally {
    await other.stop({ removeDir: false });
  }
});

test('a key stops working when it expires', async () => {
  const expiresAt = new Date(Date.now() + 1500).toISOString();
  const r = await create({ type: 'publishable', expiresAt });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.expiresAt, expiresAt);
  expectError(assert, await req(srv, 'GET', '/v1/x', { key: r.json.key }), 404, 'common/not-found');
  await sleep(2700); // past expiry and past the 1 s key cache
  const late = await req(srv, 'GET', '/v1/x', { key: r.json.key });
  expectError(assert, late, 401, 'auth/invalid-api-key');
  assert.match(late.json.message, /expired/);
});

test('validation errors are 400 common/invalid-parameters', async () => {
  const bad = [
    {}, { type: 'root' }, { type: 7 }, { type: 'publishable', name: '' }, { type: 'publishable', name: 'n'.repeat(101) },
    { type: 'publishable', name: 3 }, { type: 'publishable', scopes: 'posts:read' }, { type: 'publishable', scopes: ['posts:fly'] },
    { type: 'publishable', scopes: ['posts'] }, { type: 'publishable', scopes: [':read'] }, { type: 'publishable', scopes: [1] },
    { type: 'publishable', scopes: ['po"sts:read'] }, { type: 'publishable', scopes: Array(51).fill('a:read') },
    { type: 'publishable', expiresAt: '2020-01-01T00:00:00.000Z' }, { type: 'publishable', expiresAt: 'tomorrow' },
    { type: 'publishable', expiresAt: 1893456000000 }, [], 'null', '"publishable"',
  ];
  for (const body of bad) {
    const r = await req(srv, 'POST', base, { token: b.operatorToken, body: typeof body === 'string' ? body : body,
      headers: { 'Content-Type': 'application/json' } });
    expectError(assert, r, 400, 'common/invalid-parameters');
  }
  const none = await req(srv, 'POST', base, { token: b.operatorToken });
  expectError(assert, none, 400, 'common/invalid-parameters');
  assert.match(none.json.message, /JSON object body is required/);
});

test('unknown project, environment and foreign callers get 404', async () => {
  const t = { token: b.operatorToken };
  expectError(assert, await req(srv, 'GET', '/admin/v1/projects/proj_nope/environments/dev/keys', t), 404, 'org/project-not-found');
  expectError(assert, await req(srv, 'GET', `/admin/v1/projects/${b.projectId}/environments/prod/keys`, t), 404,
    'data/environment-not-found');
  // the environment's secret key may manage its own environment only
  expectError(assert, await req(srv, 'GET', '/admin/v1/projects/proj_nope/environments/dev/keys', { key: b.secretKey }), 404,
    'org/project-not-found');
  const own = await req(srv, 'POST', base, { key: b.secretKey, body: { type: 'publishable', name: 'by secret key' } });
  assert.equal(own.status, 201, own.text);
});

test('malformed bodies: 400, 413, 415 on a JSON route', async () => {
  const t = b.operatorToken;
  const raw = (body, headers = { 'Content-Type': 'application/json' }) => req(srv, 'POST', base, { token: t, body, headers });
  for (const body of ['{', '{"type":"secret",}', '{"type":"secret"} x', '{"type":"secret","type":"publishable"}',
    '{\'type\':\'secret\'}', '[NaN]', '{"a":01}', '{"a":"\\ud800"}', '{"a":"x\u0001"}']) {
    expectError(assert, await raw(body), 400, 'common/invalid-parameters');
  }
  expectError(assert, await raw(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), 400, 'common/invalid-parameters');
  expectError(assert, await raw('['.repeat(65) + ']'.repeat(65)), 400, 'common/invalid-parameters');
  assert.equal((await raw('{"type":"publishable","x":' + '['.repeat(60) + ']'.repeat(60) + '}')).status, 201);
  expectError(assert, await raw('{"type":"secret","pad":"' + 'x'.repeat(70 * 1024) + '"}'), 413, 'common/payload-too-large');
  expectError(assert, await raw('{"type":"secret"}', { 'Content-Type': 'text/plain' }), 415, 'common/unsupported-media-type');
  assert.equal((await raw('{"type":"secret"}', { 'Content-Type': 'application/vnd.api+json; charset=utf-8' })).status, 201);
});

test('credentials are checked before the body is read', async () => {
  const r = await req(srv, 'POST', base, { body: '{', headers: { 'Content-Type': 'application/json' } });
  expectError(assert, r, 401, 'auth/unauthorized');
});
