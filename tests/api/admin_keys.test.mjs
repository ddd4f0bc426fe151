// Environment API keys through the management API: create (shown once), list (hints only), revoke,
// expiry, validation, who may manage them, and the request pipeline's body errors on this JSON route.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, expectAuthenticated, sleep } from './harness.mjs';

let srv, b, base, op;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  base = `/admin/v1/projects/${b.projectId}/environments/dev/keys`;
  op = { token: b.operatorToken };
});
after(async () => { await srv?.stop(); });

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const create = (body, who = op) => req(srv, 'POST', base, { ...who, body });
const post = (raw, headers = { 'Content-Type': 'application/json' }, who = op) => req(srv, 'POST', base, { ...who, raw, headers });
const probe = (k) => req(srv, 'GET', '/v1/data/posts', { key: k });

test('POST keys creates a publishable key and shows it once', async () => {
  const r = await create({ type: 'publishable', name: 'web app', scopes: ['posts:read', '*:list'] });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers.get('content-type'), /^application\/json; charset=utf-8$/);
  assert.match(r.json.key, /^pk_[0-9a-f]{64}$/);
  assert.notEqual(r.json.key, b.publishableKey);
  assert.equal(typeof r.json.keyHint, 'string');
  assert.ok(r.json.keyHint.length >= 4 && r.json.keyHint.length < 20, `short hint: ${r.json.keyHint}`);
  assert.ok(r.json.key.startsWith(r.json.keyHint.replace(/[.…*]+$/, '')), `hint ${r.json.keyHint} is a prefix of the key`);
  assert.equal(typeof r.json.id, 'string');
  assert.ok(r.json.id.length > 0);
  assert.equal(r.json.type, 'publishable');
  assert.equal(r.json.name, 'web app');
  assert.deepEqual(r.json.scopes, ['posts:read', '*:list']);
  assert.equal(r.json.status, 'active');
  assert.equal(r.json.environment, 'dev');
  assert.match(r.json.createdAt, ISO_MS);
  assert.equal(r.json.expiresAt, null);
  for (const field of ['hash', 'keyHash', 'key_hash', 'secretHash']) assert.ok(!(field in r.json), `no ${field}`);
  const hex = r.json.key.slice(3);
  const others = r.text.replace(r.json.key, '');
  assert.ok(!others.includes(hex), 'the key appears once');
  assert.doesNotMatch(others, /[0-9a-f]{64}/, 'no hash either');
  expectAuthenticated(assert, await probe(r.json.key));
});

test('POST keys creates a secret key; the default name is the type', async () => {
  const s = await create({ type: 'secret' });
  assert.equal(s.status, 201, s.text);
  assert.match(s.json.key, /^sk_[0-9a-f]{64}$/);
  assert.equal(s.json.type, 'secret');
  assert.equal(typeof s.json.name, 'string');
  assert.ok(s.json.name.length > 0);
  expectAuthenticated(assert, await probe(s.json.key));
  assert.equal((await req(srv, 'GET', base, { key: s.json.key })).status, 200, 'a new secret key may manage its environment');
});

test('GET keys lists hints only: no full key and no hash', async () => {
  const c = await create({ type: 'publishable', name: 'listed' });
  assert.equal(c.status, 201, c.text);
  const list = await req(srv, 'GET', base, op);
  assert.equal(list.status, 200, list.text);
  assert.ok(Array.isArray(list.json.items));
  const item = list.json.items.find((k) => k.id === c.json.id);
  assert.ok(item, 'the new key is listed');
  assert.equal(item.keyHint, c.json.keyHint);
  assert.equal(item.name, 'listed');
  assert.equal(item.status, 'active');
  assert.ok(!('key' in item), 'no key field in listings');
  for (const k of list.json.items) for (const field of ['key', 'hash', 'keyHash']) assert.ok(!(field in k), `no ${field}`);
  for (const secret of [c.json.key, b.publishableKey, b.secretKey, b.operatorToken]) {
    assert.ok(!list.text.includes(secret), 'no full key in the list');
    assert.ok(!list.text.includes(secret.slice(3)), 'not even its hex');
  }
  assert.doesNotMatch(list.text, /[0-9a-fA-F]{40,}/, 'no hash (or any long hex) in the list');
  assert.ok(list.json.items.some((k) => b.publishableKey.startsWith(k.keyHint)), 'bootstrap keys are listed by hint');
});

test('DELETE revokes: the key gets 401 "revoked" at once', async () => {
  const r = await create({ type: 'publishable', name: 'to revoke' });
  assert.equal(r.status, 201, r.text);
  expectAuthenticated(assert, await probe(r.json.key)); // cached as valid now
  const del = await req(srv, 'DELETE', `${base}/${r.json.id}`, op);
  assert.equal(del.status, 200, del.text);
  assert.equal(del.json.status, 'revoked');
  assert.match(del.json.revokedAt, ISO_MS);
  assert.ok(!del.text.includes(r.json.key));
  const afterRevoke = await probe(r.json.key);
  expectError(assert, afterRevoke, 401, 'auth/invalid-api-key');
  assert.match(afterRevoke.json.message, /revoked/i);
  const listed = (await req(srv, 'GET', base, op)).json.items.find((k) => k.id === r.json.id);
  assert.equal(listed?.status, 'revoked');
  const again = await req(srv, 'DELETE', `${base}/${r.json.id}`, op);
  assert.equal(again.status, 200, 'revoking twice is harmless');
});

test('a revoked secret key can no longer manage keys', async () => {
  const s = await create({ type: 'secret', name: 'short-lived admin' });
  assert.equal((await req(srv, 'GET', base, { key: s.json.key })).status, 200);
  assert.equal((await req(srv, 'DELETE', `${base}/${s.json.id}`, op)).status, 200);
  const refused = await req(srv, 'GET', base, { key: s.json.key });
  expectError(assert, refused, 401, 'auth/unauthorized');
  assert.match(refused.json.message, /revoked/i, 'says why');
  expectError(assert, await probe(s.json.key), 401, 'auth/invalid-api-key');
});

test('unknown key id is 404', async () => {
  for (const id of ['key_00000000000000000000', 'nope', 'x'.repeat(200)]) {
    const r = await req(srv, 'DELETE', `${base}/${id}`, op);
    assert.equal(r.status, 404, r.text);
    expectError(assert, r, 404, r.json?.error?.code);
    assert.match(r.json.error.code, /not-found$/);
  }
});

test('a key with expiresAt ~2 s ahead works, then gets 401 once expired', async () => {
  const expiresAt = new Date(Date.now() + 2000).toISOString();
  const r = await create({ type: 'publishable', name: 'expiring', expiresAt });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.expiresAt, expiresAt);
  assert.equal(r.json.status, 'active');
  expectAuthenticated(assert, await probe(r.json.key));
  const wait = Date.parse(expiresAt) - Date.now() + 250;
  if (wait > 0) await sleep(wait);
  const late = await probe(r.json.key);
  expectError(assert, late, 401, 'auth/invalid-api-key');
  assert.match(late.json.message, /expired/i);
  const listed = (await req(srv, 'GET', base, op)).json.items.find((k) => k.id === r.json.id);
  assert.equal(listed?.status, 'expired');
});

test('validation errors are 400 common/invalid-parameters', async () => {
  const cases = [
    ['type missing', { name: 'x' }],
    ['type empty', {}],
    ['type wrong', { type: 'root' }],
    ['type operator', { type: 'operator' }],
    ['type case', { type: 'Publishable' }],
    ['type not a string', { type: 7 }],
    ['type null', { type: null }],
    ['name empty', { type: 'publishable', name: '' }],
    ['name 101 chars', { type: 'publishable', name: 'n'.repeat(101) }],
    ['name not a string', { type: 'publishable', name: 3 }],
    ['scopes a string', { type: 'publishable', scopes: 'posts:read' }],
    ['scopes an object', { type: 'publishable', scopes: { posts: 'read' } }],
    ['scope bad operation', { type: 'publishable', scopes: ['posts:fly'] }],
    ['scope without operation', { type: 'publishable', scopes: ['posts'] }],
    ['scope without table', { type: 'publishable', scopes: [':read'] }],
    ['scope not a string', { type: 'publishable', scopes: [1] }],
    ['scope with a quote', { type: 'publishable', scopes: ['po"sts:read'] }],
    ['expiresAt in the past', { type: 'publishable', expiresAt: '2020-01-01T00:00:00.000Z' }],
    ['expiresAt just past', { type: 'publishable', expiresAt: new Date(Date.now() - 1000).toISOString() }],
    ['expiresAt not ISO', { type: 'publishable', expiresAt: 'tomorrow' }],
    ['expiresAt not ISO (US)', { type: 'publishable', expiresAt: '12/31/2099' }],
    ['expiresAt bad date', { type: 'publishable', expiresAt: '2099-02-30T00:00:00.000Z' }],
    ['expiresAt a number', { type: 'publishable', expiresAt: 4102444800000 }],
    ['body an array', [{ type: 'publishable' }]],
  ];
  for (const [what, body] of cases) {
    const r = await create(body);
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
    expectError(assert, r, 400, 'common/invalid-parameters');
  }
  for (const raw of ['null', '"publishable"', '42', 'true']) {
    expectError(assert, await post(raw), 400, 'common/invalid-parameters');
  }
  // the limits themselves are fine
  assert.equal((await create({ type: 'publishable', name: 'n'.repeat(100) })).status, 201);
  const future = await create({ type: 'publishable', scopes: [], expiresAt: '2099-12-31T23:59:59.000Z' });
  assert.equal(future.status, 201, future.text);
});

test('the name limit counts characters, not UTF-8 bytes', async () => {
  expectError(assert, await create({ type: 'publishable', name: 'é'.repeat(101) }), 400, 'common/invalid-parameters');
  const accents = await create({ type: 'publishable', name: 'é'.repeat(100) });
  assert.equal(accents.status, 201, `100 characters (200 bytes) is a valid name: ${accents.text}`);
  assert.equal(accents.json.name, 'é'.repeat(100));
});

test('unknown project is 404; unknown environment is 404 data/environment-not-found', async () => {
  const r = await req(srv, 'GET', '/admin/v1/projects/proj_nope/environments/dev/keys', op);
  assert.equal(r.status, 404, r.text);
  expectError(assert, r, 404, r.json?.error?.code);
  expectError(assert, await req(srv, 'POST', '/admin/v1/projects/proj_nope/environments/dev/keys', { ...op, body: { type: 'secret' } }),
    404, r.json.error.code);
  expectError(assert, await req(srv, 'GET', `/admin/v1/projects/${b.projectId}/environments/prod/keys`, op), 404,
    'data/environment-not-found');
  expectError(assert, await req(srv, 'POST', `/admin/v1/projects/${b.projectId}/environments/prod/keys`,
    { ...op, body: { type: 'secret' } }), 404, 'data/environment-not-found');
  expectError(assert, await req(srv, 'DELETE', `/admin/v1/projects/${b.projectId}/environments/prod/keys/key_x`, op), 404,
    'data/environment-not-found');
});

test('the bootstrap sk_ manages the keys of its own environment only', async () => {
  const sk = { key: b.secretKey };
  const own = await create({ type: 'publishable', name: 'by secret key' }, sk);
  assert.equal(own.status, 201, own.text);
  const list = await req(srv, 'GET', base, sk);
  assert.equal(list.status, 200);
  assert.ok(list.json.items.some((k) => k.id === own.json.id));
  assert.equal((await req(srv, 'DELETE', `${base}/${own.json.id}`, sk)).status, 200);
  // another project, another environment: not found for this caller
  for (const p of ['/admin/v1/projects/proj_nope/environments/dev/keys', `/admin/v1/projects/${b.projectId}/environments/prod/keys`]) {
    const r = await req(srv, 'GET', p, sk);
    assert.equal(r.status, 404, r.text);
    expectError(assert, r, 404, r.json?.error?.code);
    const c = await req(srv, 'POST', p, { ...sk, body: { type: 'secret' } });
    assert.ok(c.status === 404 || c.status === 403, c.text);
  }
});

test('malformed JSON bodies are 400 common/invalid-parameters', async () => {
  const bad = ['{', '{"a":1,}', '{"type":"secret",}', '{"type":"secret"} x', '{"type":"secret"}{}', '{"type":"secret","type":"publishable"}',
    "{'type':'secret'}", '{type:"secret"}', '[NaN]', '{"a":NaN}', '{"a":01}', '{"a":"\\ud800"}', '{"a":"x\u0001"}', '{"a":1e999}', '}'];
  for (const raw of bad) {
    const r = await post(raw);
    assert.equal(r.status, 400, `${JSON.stringify(raw)} -> ${r.status} ${r.text}`);
    expectError(assert, r, 400, 'common/invalid-parameters');
  }
  // invalid UTF-8 bytes inside a string
  for (const bytes of [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
    const raw = Buffer.concat([Buffer.from('{"type":"secret","name":"'), Buffer.from(bytes), Buffer.from('"}')]);
    expectError(assert, await post(raw), 400, 'common/invalid-parameters');
  }
  // valid UTF-8 is fine
  const utf8 = await post(Buffer.from('{"type":"publishable","name":"café 😀"}'));
  assert.equal(utf8.status, 201, utf8.text);
  assert.equal(utf8.json.name, 'café 😀');
});

test('JSON nested 65 deep is 400; 64 deep is accepted', async () => {
  const nested = (depth) => '{"type":"publishable","x":' + '['.repeat(depth - 1) + ']'.repeat(depth - 1) + '}';
  expectError(assert, await post(nested(65)), 400, 'common/invalid-parameters');
  expectError(assert, await post(nested(1000)), 400, 'common/invalid-parameters');
  expectError(assert, await post('['.repeat(60000)), 400, 'common/invalid-parameters');
  const ok = await post(nested(64));
  assert.equal(ok.status, 201, ok.text);
});

test('a body over the route limit (64 KiB) is 413 common/payload-too-large', async () => {
  const big = '{"type":"secret","pad":"' + 'x'.repeat(70 * 1024) + '"}';
  expectError(assert, await post(big), 413, 'common/payload-too-large');
  // the same connection pool keeps working afterwards
  assert.equal((await create({ type: 'publishable', name: 'after 413' })).status, 201);
});

test('Content-Type text/plain with a body is 415 common/unsupported-media-type', async () => {
  expectError(assert, await post('{"type":"secret"}', { 'Content-Type': 'text/plain' }), 415, 'common/unsupported-media-type');
  expectError(assert, await post('{"type":"secret"}', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415,
    'common/unsupported-media-type');
  expectError(assert, await post('type=secret', { 'Content-Type': 'multipart/form-data; boundary=x' }), 415,
    'common/unsupported-media-type');
  assert.equal((await post('{"type":"secret"}', { 'Content-Type': 'application/json; charset=utf-8' })).status, 201);
  assert.equal((await post('{"type":"secret"}', { 'Content-Type': 'Application/JSON' })).status, 201);
});

test('POST without body and without content type reaches the handler', async () => {
  const none = await req(srv, 'POST', base, op);
  expectError(assert, none, 400, 'common/invalid-parameters');
  assert.match(none.json.message, /A JSON object body is required/);
  const emptyJson = await post('');
  expectError(assert, emptyJson, 400, 'common/invalid-parameters');
  assert.match(emptyJson.json.message, /A JSON object body is required/);
});

test('empty GET/DELETE with Content-Type: application/json are accepted (Dart clients)', async () => {
  const dart = { 'Content-Type': 'application/json' };
  assert.equal((await req(srv, 'GET', base, { ...op, headers: dart })).status, 200);
  const c = await create({ type: 'publishable', name: 'dart' });
  const del = await req(srv, 'DELETE', `${base}/${c.json.id}`, { ...op, headers: dart });
  assert.equal(del.status, 200, del.text);
});

test('without credentials a malformed body still gets 401 (auth before body)', async () => {
  for (const [raw, headers] of [['{', { 'Content-Type': 'application/json' }], ['{"type":"secret"}', { 'Content-Type': 'text/plain' }],
    ['[' .repeat(100), { 'Content-Type': 'application/json' }]]) {
    expectError(assert, await post(raw, headers, {}), 401, 'auth/unauthorized');
    expectError(assert, await post(raw, headers, { token: 'bt_' + 'f'.repeat(64) }), 401, 'auth/unauthorized');
  }
});

test('a revocation made by another instance applies within the 1 s key cache', async () => {
  // A second server on the same data directory (SQLite WAL allows several processes): it caches the key,
  // the first server revokes it, and the second refuses it after at most --key-cache-ms (1000).
  const other = await startServer({ dataDir: srv.dataDir, keep: true });
  try {
    const r = await create({ type: 'publishable', name: 'shared' });
    expectAuthenticated(assert, await req(other, 'GET', '/v1/data/posts', { key: r.json.key }));
    const revokedAt = Date.now();
    assert.equal((await req(srv, 'DELETE', `${base}/${r.json.id}`, op)).status, 200);
    let refusedAfter = null;
    while (Date.now() - revokedAt < 3000) {
      const p = await req(other, 'GET', '/v1/data/posts', { key: r.json.key });
      if (p.status === 401) { refusedAfter = Date.now() - revokedAt; expectError(assert, p, 401, 'auth/invalid-api-key'); break; }
      await sleep(50);
    }
    assert.ok(refusedAfter !== null, 'the other instance refuses the key');
    assert.ok(refusedAfter <= 1500, `refused after ${refusedAfter} ms`);
  } finally {
    await other.stop({ removeDir: false });
  }
});
