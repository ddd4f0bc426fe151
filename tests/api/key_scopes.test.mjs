// Key scopes bind every surface a key reaches (issue 11 item 2, docs/management-api.md "Key scopes"):
// a secret key with scopes is refused on every management surface and every admin right of /v1 its
// scopes do not name (403 data/scope-insufficient), an unscoped secret key still reaches them all, the
// `admin:<surface>:<access>` scopes grant one surface each, and a key never creates (or revokes) a key
// with more rights than its own.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';

let srv, b, env, op, full, scoped, alice, bob;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  env = `/admin/v1/projects/${b.projectId}/environments/dev`;
  op = { token: b.operatorToken };
  full = { key: b.secretKey };
  assert.equal((await req(srv, 'POST', `${env}/tables`, { ...op, body: { tableName: 'posts' } })).status, 201);
  scoped = { key: await mint(op, 'secret', ['posts:read']) };
  alice = await signup('alice@x.io');
  bob = await signup('bob@x.io');
});
after(async () => { await srv?.stop(); });

async function mint(who, type, scopes, extra = {}) {
  const r = await req(srv, 'POST', `${env}/keys`, { ...who, body: { type, scopes, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.json.key;
}
async function signup(email) {
  const r = await req(srv, 'POST', '/v1/auth/email/signup', { key: b.publishableKey, body: { email, password: 'secret1', name: email } });
  assert.equal(r.status, 201, r.text);
  const me = await req(srv, 'GET', '/v1/auth/me', { key: b.publishableKey, token: r.json.accessToken });
  return { token: r.json.accessToken, id: me.json.id };
}
const refused = (res, scope) => {
  expectError(assert, res, 403, 'data/scope-insufficient');
  if (scope) assert.match(res.json.message, new RegExp(scope.replace(/\*/g, '\\*')), res.text);
};

test('keys: a scoped secret key cannot list, mint or revoke keys; an unscoped one can', async () => {
  refused(await req(srv, 'POST', `${env}/keys`, { ...scoped, body: { type: 'secret' } }), 'admin:keys:write');
  refused(await req(srv, 'POST', `${env}/keys`, { ...scoped, body: { type: 'secret', scopes: ['posts:read'] } }));
  refused(await req(srv, 'GET', `${env}/keys`, scoped), 'admin:keys:read');
  const made = await req(srv, 'POST', `${env}/keys`, { ...full, body: { type: 'secret' } });
  assert.equal(made.status, 201, made.text);
  refused(await req(srv, 'DELETE', `${env}/keys/${made.json.id}`, scoped));
  assert.equal((await req(srv, 'GET', `${env}/keys`, full)).status, 200);
  assert.equal((await req(srv, 'DELETE', `${env}/keys/${made.json.id}`, full)).status, 200);
});

test('tables: a scoped secret key cannot create or delete tables; an unscoped one can', async () => {
  refused(await req(srv, 'POST', `${env}/tables`, { ...scoped, body: { tableName: 'evil' } }), 'admin:tables:write');
  refused(await req(srv, 'DELETE', `${env}/tables/posts`, scoped), 'admin:tables:write');
  refused(await req(srv, 'GET', `${env}/tables`, scoped), 'admin:tables:read');
  refused(await req(srv, 'PATCH', `${env}/tables/posts/fields`, { ...scoped, body: { upsert: [{ name: 'x', type: 'string' }] } }));
  refused(await req(srv, 'POST', `${env}/tables/posts/indexes`, { ...scoped, body: { name: 'by_x', fields: [{ field: 'x' }] } }));
  assert.equal((await req(srv, 'GET', '/v1/data/posts', { ...scoped })).status, 403, 'posts:read is not posts:list');
  assert.equal((await req(srv, 'GET', `${env}/tables/posts`, op)).status, 200, 'the refused delete left the table');
  assert.equal((await req(srv, 'POST', `${env}/tables`, { ...full, body: { tableName: 'scratch' } })).status, 201);
  assert.equal((await req(srv, 'DELETE', `${env}/tables/scratch`, full)).status, 200);
});

test('permissions: a scoped secret key cannot replace a table\'s permissions; an unscoped one can', async () => {
  const self = { self: { read: true, list: true, update: true, delete: true }, user: { create: true } };
  refused(await req(srv, 'PUT', `${env}/tables/posts/permissions`, { ...scoped, body: self }), 'admin:tables:write');
  assert.equal((await req(srv, 'GET', '/v1/data/posts', { key: b.publishableKey })).status, 200, 'guests still list by default');
  const put = await req(srv, 'PUT', `${env}/tables/posts/permissions`, { ...full, body: { guest: { read: true, list: true } } });
  assert.equal(put.status, 200, put.text);
});

test('auth settings: a scoped secret key cannot read or change them; an unscoped one can', async () => {
  refused(await req(srv, 'PATCH', `${env}/auth/settings`, { ...scoped, body: { signupEnabled: false } }), 'admin:auth:write');
  refused(await req(srv, 'GET', `${env}/auth/settings`, scoped), 'admin:auth:read');
  refused(await req(srv, 'PUT', `${env}/auth/providers/google`, { ...scoped, body: { clientId: 'x', clientSecret: 'y', enabled: true } }));
  refused(await req(srv, 'GET', `${env}/auth/audit`, scoped));
  const s = await req(srv, 'GET', `${env}/auth/settings`, full);
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.signupEnabled, true, 'the refused change did not land');
  assert.equal((await req(srv, 'PATCH', `${env}/auth/settings`, { ...full, body: { signupEnabled: true } })).status, 200);
});

test('outbox: a scoped secret key cannot read mailed tokens; an unscoped one can', async () => {
  const asked = await req(srv, 'POST', '/v1/auth/password/reset/request', { key: b.publishableKey, body: { email: 'alice@x.io' } });
  assert.equal(asked.status, 200, asked.text);
  refused(await req(srv, 'GET', `${env}/outbox`, scoped), 'admin:outbox:read');
  const o = await req(srv, 'GET', `${env}/outbox`, full);
  assert.equal(o.status, 200, o.text);
  assert.ok(o.json.items.some((m) => m.to === 'alice@x.io'));
});

test('users: a scoped secret key has no admin rights on /v1/users; an unscoped one has', async () => {
  refused(await req(srv, 'GET', '/v1/users', scoped), 'users:read');
  refused(await req(srv, 'GET', `/v1/users/${alice.id}`, scoped));
  refused(await req(srv, 'POST', '/v1/users', { ...scoped, body: { email: 'mallory@x.io', password: 'secret1', role: 'admin' } }));
  refused(await req(srv, 'PATCH', `/v1/users/${alice.id}/role`, { ...scoped, body: { role: 'admin' } }));
  refused(await req(srv, 'PATCH', `${env}/auth/users/${alice.id}`, { ...scoped, body: { banned: true } }));
  // the end-user flows give a secret key nothing a publishable key lacks: scopes leave them alone
  const signin = await req(srv, 'POST', '/v1/auth/email/signin', { ...scoped, body: { email: 'bob@x.io', password: 'secret1' } });
  assert.equal(signin.status, 200, signin.text);
  // with a user's token it acts as that user: a public listing, no one else's account
  const asBob = await req(srv, 'GET', '/v1/users', { ...scoped, token: bob.token });
  assert.equal(asBob.status, 200, asBob.text);
  assert.ok(asBob.json.items.length === 2 && asBob.json.items.every((u) => !('email' in u)), `no e-mails: ${asBob.text}`);
  expectError(assert, await req(srv, 'GET', `/v1/users/${alice.id}/preferences`, { ...scoped, token: bob.token }), 403, 'user/forbidden');
  const list = await req(srv, 'GET', '/v1/users', full);
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.items.some((u) => u.email === 'alice@x.io'), 'the unscoped secret key sees e-mails');
});

test('files: a scoped secret key cannot list every file record; an unscoped one can', async () => {
  const p = await req(srv, 'POST', '/v1/files/presigned-url', { key: b.publishableKey, token: alice.token, body: { filename: 'a.txt', contentType: 'text/plain' } });
  assert.equal(p.status, 200, p.text);
  const put = await req(srv, 'PUT', p.json.url.replace(/^http:\/\/[^/]+/, ''), { raw: 'hello', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(put.status, 200, put.text);
  const reg = await req(srv, 'POST', '/v1/files', { key: b.publishableKey, token: alice.token, body: { s3Key: p.json.key, originalName: 'a.txt', mimeType: 'text/plain', size: 5 } });
  assert.equal(reg.status, 201, reg.text);
  refused(await req(srv, 'GET', '/v1/files', scoped), 'files:read');
  refused(await req(srv, 'GET', `/v1/files/${reg.json.id}`, scoped));
  refused(await req(srv, 'DELETE', `/v1/files/${reg.json.id}`, scoped), 'files:write');
  refused(await req(srv, 'GET', `${env}/storage`, scoped));
  const asBob = await req(srv, 'GET', '/v1/files', { ...scoped, token: bob.token });
  assert.equal(asBob.status, 200, asBob.text);
  assert.ok(!asBob.json.items.some((f) => f.id === reg.json.id), 'as bob, not alice\'s private file');
  const all = await req(srv, 'GET', '/v1/files', full);
  assert.equal(all.status, 200, all.text);
  assert.ok(all.json.items.some((f) => f.id === reg.json.id), 'the unscoped secret key lists every record');
});

test('admin scopes grant one surface each, read and write apart', async () => {
  const tables = { key: await mint(op, 'secret', ['admin:tables:*']) };
  assert.equal((await req(srv, 'POST', `${env}/tables`, { ...tables, body: { tableName: 'granted' } })).status, 201);
  assert.equal((await req(srv, 'DELETE', `${env}/tables/granted`, tables)).status, 200);
  refused(await req(srv, 'GET', `${env}/keys`, tables), 'admin:keys:read');
  refused(await req(srv, 'GET', '/v1/data/posts', tables), 'posts:list');
  const readers = { key: await mint(op, 'secret', ['admin:users:read', 'admin:auth:read', 'admin:files:read']) };
  const list = await req(srv, 'GET', '/v1/users', readers);
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.items.some((u) => u.email === 'alice@x.io'), 'admin:users:read sees e-mails');
  refused(await req(srv, 'POST', '/v1/users', { ...readers, body: { email: 'eve@x.io', password: 'secret1' } }), 'admin:users:write');
  assert.equal((await req(srv, 'GET', `${env}/auth/settings`, readers)).status, 200);
  refused(await req(srv, 'PATCH', `${env}/auth/settings`, { ...readers, body: { signupEnabled: true } }), 'admin:auth:write');
  refused(await req(srv, 'GET', `${env}/outbox`, readers), 'admin:outbox:read');
  assert.equal((await req(srv, 'GET', '/v1/files', readers)).status, 200);
  const any = { key: await mint(op, 'secret', ['admin:*:read']) };
  assert.equal((await req(srv, 'GET', `${env}/outbox`, any)).status, 200);
  refused(await req(srv, 'POST', `${env}/tables`, { ...any, body: { tableName: 'nope' } }));
  // data wildcards are tables only: *:* is every table, no management surface
  const data = { key: await mint(op, 'secret', ['*:*']) };
  assert.equal((await req(srv, 'GET', '/v1/data/posts', data)).status, 200);
  refused(await req(srv, 'GET', `${env}/tables`, data));
  refused(await req(srv, 'GET', '/v1/users', data));
});

test('a key creates and revokes only keys within its own rights', async () => {
  const admin = { key: await mint(op, 'secret', ['posts:read', 'posts:list', 'admin:keys:*']) };
  const narrower = await req(srv, 'POST', `${env}/keys`, { ...admin, body: { type: 'publishable', scopes: ['posts:read'] } });
  assert.equal(narrower.status, 201, narrower.text);
  assert.equal((await req(srv, 'POST', `${env}/keys`, { ...admin, body: { type: 'secret', scopes: ['posts:read', 'admin:keys:read'] } })).status, 201);
  for (const scopes of [undefined, null, ['posts:*'], ['*:read'], ['posts:delete'], ['admin:tables:write'], ['admin:keys:*', 'admin:*:read']]) {
    const r = await req(srv, 'POST', `${env}/keys`, { ...admin, body: { type: 'secret', scopes } });
    refused(r);
    assert.match(r.json.message, /rights/, r.text);
  }
  refused(await req(srv, 'POST', `${env}/keys`, { ...admin, body: { type: 'publishable' } }), undefined);
  // revoking: keys within its rights only (not the unscoped bootstrap key)
  const bootId = (await req(srv, 'GET', `${env}/keys`, op)).json.items.find((k) => b.secretKey.startsWith(k.keyHint) && k.type === 'secret').id;
  refused(await req(srv, 'DELETE', `${env}/keys/${bootId}`, admin));
  assert.equal((await req(srv, 'DELETE', `${env}/keys/${narrower.json.id}`, admin)).status, 200);
  // an expiring key cannot mint one that outlives it; a new key inherits its expiry
  const soon = new Date(Date.now() + 3600e3).toISOString();
  const brief = { key: await mint(op, 'secret', ['posts:read', 'admin:keys:write'], { expiresAt: soon }) };
  const child = await req(srv, 'POST', `${env}/keys`, { ...brief, body: { type: 'secret', scopes: ['posts:read'] } });
  assert.equal(child.status, 201, child.text);
  assert.equal(child.json.expiresAt, soon);
  refused(await req(srv, 'POST', `${env}/keys`, { ...brief, body: { type: 'secret', scopes: ['posts:read'], expiresAt: '2099-01-01T00:00:00.000Z' } }));
  // the unscoped secret key still mints anything
  assert.equal((await req(srv, 'POST', `${env}/keys`, { ...full, body: { type: 'secret' } })).status, 201);
});

test('scope strings are validated at creation: unknown vocabulary is 400', async () => {
  for (const scopes of [['admin:billing:read'], ['admin:keys:fly'], ['admin:keys'], ['admin::read'], ['admin:keys:read:x'], ['posts:read:x']]) {
    expectError(assert, await req(srv, 'POST', `${env}/keys`, { ...op, body: { type: 'secret', scopes } }), 400, 'common/invalid-parameters');
  }
  const r = await req(srv, 'POST', `${env}/keys`, { ...op, body: { type: 'publishable', scopes: ['admin:users:read'] } });
  expectError(assert, r, 400, 'common/invalid-parameters');
  assert.match(r.json.message, /secret/);
});
