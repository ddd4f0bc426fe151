// End-user authentication, first part (client-api.md §3.1–3.3, §3.6): e-mail + password sign-up and
// sign-in, the token object, /me, refresh rotation with reuse detection, sign-out and sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b;
// theft detection is tested without the reuse interval (auth_expiry.test.mjs tests the interval)
before(async () => { srv = await startServer({ args: ['--refresh-reuse-interval', '0'] }); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const pk = () => ({ key: b.publishableKey });
const post = (path, body, extra = {}) => req(srv, 'POST', path, { ...pk(), body, ...extra });
const signup = (email, password = 'secret1', name = 'Jane') => post('/v1/auth/email/signup', { method: 'password', email, password, name });
const signin = (email, password = 'secret1') => post('/v1/auth/email/signin', { email, password });

function checkTokens(res, status) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.tokenType, 'Bearer');
  assert.equal(res.json.expiresIn, 3600);
  assert.match(res.json.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.match(res.json.refreshToken, /^rt_[0-9a-f]{64}$/);
  const claims = JSON.parse(Buffer.from(res.json.accessToken.split('.')[1], 'base64url'));
  assert.equal(claims.typ, 'access');
  assert.equal(claims.exp - claims.iat, 3600);
  return { ...res.json, claims };
}

test('sign-up answers 201 with a token object; the e-mail is normalized and unique', async () => {
  const t = checkTokens(await signup('  Jane@Example.COM '), 201);
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: t.accessToken });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.id, t.claims.sub, '/me.id is the JWT sub');
  assert.equal(me.json.email, 'jane@example.com');
  assert.equal(me.json.name, 'Jane');
  assert.equal(me.json.role, 'user');
  assert.equal(me.json.emailVerified, null);
  assert.equal(me.json.image, null);
  assert.ok(!Number.isNaN(Date.parse(me.json.createdAt)));
  expectError(assert, await signup('jane@example.com'), 409, 'auth/email-already-exists');
  expectError(assert, await signup('JANE@example.com'), 409, 'auth/email-already-exists');
});

test('sign-up validation', async () => {
  for (const email of ['', 'no-at', '@x.io', 'a@', 'a@b', 'a b@c.io', 'a@@b.io', 42]) {
    expectError(assert, await signup(email), 400, 'auth/invalid-email');
  }
  expectError(assert, await signup('short@x.io', '12345'), 400, 'auth/invalid-password-format');
  expectError(assert, await signup('long@x.io', 'x'.repeat(129)), 400, 'auth/invalid-password-format');
  expectError(assert, await post('/v1/auth/email/signup', { email: 'n@x.io', password: 'secret1' }), 400, 'auth/invalid-request');
  expectError(assert, await post('/v1/auth/email/signup', { method: 'magic', email: 'm@x.io', password: 'secret1', name: 'M' }), 400, 'auth/invalid-request');
  expectError(assert, await post('/v1/auth/email/signup', [1]), 400, 'auth/invalid-request');
  checkTokens(await post('/v1/auth/email/signup', { email: 'nomethod@x.io', password: 'secret1', name: 'N' }), 201);
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/signup', { body: { email: 'k@x.io' } }), 401, 'data/invalid-header');
});

test('sign-in: method may be omitted; unknown e-mail and wrong password are the same 401', async () => {
  await signup('sam@x.io', 'pass-word-1', 'Sam');
  const t = checkTokens(await signin('SAM@x.io', 'pass-word-1'), 200);
  assert.equal(t.claims.role, 'user');
  const wrong = await signin('sam@x.io', 'pass-word-2'), unknown = await signin('nobody@x.io', 'pass-word-1');
  expectError(assert, wrong, 401, 'auth/invalid-credentials');
  expectError(assert, unknown, 401, 'auth/invalid-credentials');
  assert.equal(wrong.json.message, unknown.json.message);
  expectError(assert, await signin('bad-email', 'x'), 400, 'auth/invalid-email');
  const stale = await post('/v1/auth/email/signin', { email: 'sam@x.io', password: 'pass-word-1' }, { token: 'expired.or.garbage' });
  assert.equal(stale.status, 200, 'a stale Authorization header does not block sign-in');
});

test('the signed-in user writes records as itself', async () => {
  const t = checkTokens(await signup('writer@x.io'), 201);
  const admin = { token: b.operatorToken };
  const made = await req(srv, 'POST', `/admin/v1/projects/${b.projectId}/environments/dev/tables`, { ...admin, body: { tableName: 'notes' } });
  assert.equal(made.status, 201);
  const rec = await req(srv, 'POST', '/v1/data/notes', { ...pk(), token: t.accessToken, body: { text: 'x' } });
  assert.equal(rec.status, 201, rec.text);
  assert.equal(rec.json.createdBy, t.claims.sub);
});

test('/me needs a live session and a valid token', async () => {
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', pk()), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: 'a.b.c' }), 401, 'auth/invalid-token');
  const t = checkTokens(await signup('refresh-as-bearer@x.io'), 201);
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: t.refreshToken }), 401, 'auth/invalid-token');
});

test('refresh rotates the pair; a reused refresh token revokes every session of the user', async () => {
  const first = checkTokens(await signup('rot@x.io'), 201);
  const other = checkTokens(await signin('rot@x.io'), 200); // a second device
  const r1 = checkTokens(await post('/v1/auth/refresh', { refreshToken: first.refreshToken }), 200);
  assert.notEqual(r1.refreshToken, first.refreshToken);
  assert.equal(r1.claims.jti, first.claims.jti, 'same session');
  assert.equal(r1.claims.sub, first.claims.sub);
  const r2 = checkTokens(await post('/v1/auth/refresh', { refreshToken: r1.refreshToken }), 200);
  assert.equal((await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: r2.accessToken })).status, 200);
  // the first token again: theft
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: first.refreshToken }), 401, 'auth/invalid-refresh-token');
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: r2.refreshToken }), 401, 'auth/session-expired');
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: other.refreshToken }), 401, 'auth/session-expired');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: r2.accessToken }), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: other.accessToken }), 401, 'auth/invalid-token');
  // signing in again works
  checkTokens(await signin('rot@x.io'), 200);
  for (const refreshToken of ['rt_' + '0'.repeat(64), first.accessToken, '', 7, 'rt_short']) {
    expectError(assert, await post('/v1/auth/refresh', { refreshToken }), 401, 'auth/invalid-refresh-token');
  }
});

test('sessions: listed per device, one revoked, sign-out ends the current one', async () => {
  const a = checkTokens(await signup('dev@x.io'), 201);
  const bTok = checkTokens(await post('/v1/auth/email/signin', { email: 'dev@x.io', password: 'secret1' }, { headers: { 'User-Agent': 'phone/1.0' } }), 200);
  const list = await req(srv, 'GET', '/v1/auth/sessions', { ...pk(), token: a.accessToken });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.pagination.total, 2);
  assert.equal(list.json.pagination.limit, 10);
  assert.equal(list.json.items.length, 2);
  const phone = list.json.items.find((s) => s.userAgent === 'phone/1.0');
  assert.ok(phone, JSON.stringify(list.json.items));
  assert.equal(phone.id, bTok.claims.jti);
  assert.equal(phone.current, false);
  assert.equal(list.json.items.find((s) => s.id === a.claims.jti).current, true);
  assert.equal(phone.ipAddress, '127.0.0.1');
  for (const k of ['id', 'userId', 'userAgent', 'ipAddress', 'deviceInfo', 'lastActivityAt', 'createdAt']) assert.ok(k in phone, k);
  const del = await req(srv, 'DELETE', `/v1/auth/sessions/${phone.id}`, { ...pk(), token: a.accessToken });
  assert.equal(del.status, 200, del.text);
  assert.equal(typeof del.json.message, 'string');
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: bTok.refreshToken }), 401, 'auth/session-expired');
  expectError(assert, await req(srv, 'DELETE', `/v1/auth/sessions/${phone.id}`, { ...pk(), token: a.accessToken }), 404, 'auth/session-not-found');
  expectError(assert, await req(srv, 'DELETE', '/v1/auth/sessions/ses_nope', { ...pk(), token: a.accessToken }), 404, 'auth/session-not-found');
  const other = checkTokens(await signup('stranger@x.io'), 201);
  expectError(assert, await req(srv, 'DELETE', `/v1/auth/sessions/${a.claims.jti}`, { ...pk(), token: other.accessToken }), 404, 'auth/session-not-found');
  const out = await req(srv, 'POST', '/v1/auth/signout', { ...pk(), token: a.accessToken });
  assert.equal(out.status, 200, out.text);
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: a.refreshToken }), 401, 'auth/session-expired');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: a.accessToken }), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'POST', '/v1/auth/signout', pk()), 401, 'auth/unauthorized');
});

test('DELETE /v1/auth/sessions: every other session of the caller ends at once, the caller\'s stays', async () => {
  const mine = checkTokens(await signup('many@x.io'), 201);
  const others = [];
  for (let i = 0; i < 3; i++) others.push(checkTokens(await signin('many@x.io'), 200));
  const stranger = checkTokens(await signup('bystander@x.io'), 201);
  const del = await req(srv, 'DELETE', '/v1/auth/sessions', { ...pk(), token: mine.accessToken });
  assert.equal(del.status, 200, del.text);
  assert.equal(typeof del.json.message, 'string');
  assert.equal(del.json.revoked, 3);
  const list = await req(srv, 'GET', '/v1/auth/sessions', { ...pk(), token: mine.accessToken });
  assert.deepEqual(list.json.items.map((x) => x.id), [mine.claims.jti]);
  for (const o of others) {
    expectError(assert, await post('/v1/auth/refresh', { refreshToken: o.refreshToken }), 401, 'auth/session-expired');
    expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: o.accessToken }), 401, 'auth/invalid-token');
  }
  assert.equal((await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: mine.accessToken })).status, 200);
  checkTokens(await post('/v1/auth/refresh', { refreshToken: mine.refreshToken }), 200);
  assert.equal((await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: stranger.accessToken })).status, 200, 'other users keep theirs');
  const again = await req(srv, 'DELETE', '/v1/auth/sessions', { ...pk(), token: mine.accessToken });
  assert.equal(again.json.revoked, 0);
  expectError(assert, await req(srv, 'DELETE', '/v1/auth/sessions', pk()), 401, 'auth/unauthorized');
});

test('sign-in limits: 5 failures block the e-mail (429 with Retry-After, even for the right password), across a restart, until the block ends', async () => {
  const dir = (await import('./harness.mjs')).tempDir();
  let s = await startServer({ dataDir: dir, keep: true, args: ['--signin-block', '3'] });
  try {
    const key = { key: s.bootstrap.publishableKey };
    const up = await req(s, 'POST', '/v1/auth/email/signup', { ...key, body: { email: 'lock@x.io', password: 'secret1', name: 'L' } });
    assert.equal(up.status, 201);
    for (let i = 0; i < 5; i++) {
      expectError(assert, await req(s, 'POST', '/v1/auth/email/signin', { ...key, body: { email: 'lock@x.io', password: 'wrong-one' } }), 401, 'auth/invalid-credentials');
    }
    const blocked = await req(s, 'POST', '/v1/auth/email/signin', { ...key, body: { email: 'LOCK@x.io', password: 'secret1' } });
    expectError(assert, blocked, 429, 'auth/too-many-login-attempts');
    const retry = Number(blocked.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 3, `Retry-After ${retry}`);
    const other = await req(s, 'POST', '/v1/auth/email/signup', { ...key, body: { email: 'free@x.io', password: 'secret1', name: 'F' } });
    assert.equal(other.status, 201, 'other e-mails are not blocked');
    await s.stop();
    s = await startServer({ dataDir: dir, keep: true, args: ['--signin-block', '3'] });
    expectError(assert, await req(s, 'POST', '/v1/auth/email/signin', { ...key, body: { email: 'lock@x.io', password: 'secret1' } }), 429, 'auth/too-many-login-attempts');
    await new Promise((r) => setTimeout(r, 3100));
    assert.equal((await req(s, 'POST', '/v1/auth/email/signin', { ...key, body: { email: 'lock@x.io', password: 'secret1' } })).status, 200, 'the block ends');
  } finally {
    await s.stop();
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  }
});

test('the audit trail records sign-ups, sign-ins, failures, reuse and sign-outs, for operators only', async () => {
  const audit = `/admin/v1/projects/${b.projectId}/environments/dev/auth/audit`;
  const t = checkTokens(await signup('audit@x.io'), 201);
  expectError(assert, await signin('audit@x.io', 'wrong-one'), 401, 'auth/invalid-credentials');
  const ok = checkTokens(await post('/v1/auth/email/signin', { email: 'audit@x.io', password: 'secret1' }, { headers: { 'User-Agent': 'auditor/1' } }), 200);
  const r = checkTokens(await post('/v1/auth/refresh', { refreshToken: ok.refreshToken }), 200);
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: ok.refreshToken }), 401, 'auth/invalid-refresh-token');
  assert.ok(r);
  const list = await req(srv, 'GET', `${audit}?limit=200`, { token: b.operatorToken });
  assert.equal(list.status, 200, list.text);
  const mine = list.json.items.filter((e) => e.email === 'audit@x.io' || e.userId === t.claims.sub);
  assert.deepEqual(mine.map((e) => e.event).reverse(), ['signup', 'signin_failed', 'signin', 'refresh_reuse']);
  const signinEvent = mine.find((e) => e.event === 'signin');
  assert.equal(signinEvent.userAgent, 'auditor/1');
  assert.equal(signinEvent.detail, 'password');
  assert.equal(signinEvent.ip, '127.0.0.1');
  assert.ok(!Number.isNaN(Date.parse(signinEvent.at)));
  const ids = list.json.items.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => y - x), 'newest first');
  const page = await req(srv, 'GET', `${audit}?limit=2`, { token: b.operatorToken });
  assert.equal(page.json.items.length, 2);
  const next = await req(srv, 'GET', `${audit}?limit=2&before=${page.json.nextBefore}`, { token: b.operatorToken });
  assert.ok(next.json.items.every((e) => e.id < page.json.nextBefore));
  expectError(assert, await req(srv, 'GET', audit, pk()), 401, 'auth/unauthorized');
});

test('switch-organization: the project\'s own organization gets a fresh session in place of the current one', async () => {
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { key: b.publishableKey, body: { email: 'switch@x.io', password: 'secret1', name: 'Sw' } });
  const as = { key: b.publishableKey, token: up.json.accessToken };
  expectError(assert, await req(srv, 'POST', '/v1/auth/switch-organization', { ...as, body: { organizationId: 'org_other' } }), 400, 'auth/invalid-request');
  expectError(assert, await req(srv, 'POST', '/v1/auth/switch-organization', { key: b.publishableKey, body: { organizationId: b.organizationId } }), 401, 'auth/unauthorized');
  const sw = await req(srv, 'POST', '/v1/auth/switch-organization', { ...as, body: { organizationId: b.organizationId } });
  assert.equal(sw.status, 200, sw.text);
  assert.ok(sw.json.accessToken && sw.json.refreshToken);
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', as), 401, 'auth/invalid-token');
  assert.equal((await req(srv, 'GET', '/v1/auth/me', { key: b.publishableKey, token: sw.json.accessToken })).status, 200);
});
