// Mail-driven flows (client-api.md §3.7–3.8) through the outbox: password reset, sign-up e-mail
// verification with and without callbackUrl, single use, send limits, and the admin outbox endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b, outboxPath;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  outboxPath = `/admin/v1/projects/${b.projectId}/environments/dev/outbox`;
});
after(async () => { await srv?.stop(); });

const pk = () => ({ key: b.publishableKey });
const post = (path, body) => req(srv, 'POST', path, { ...pk(), body });
const mails = async (to) => (await req(srv, 'GET', outboxPath, { token: b.operatorToken })).json.items.filter((m) => m.to === to);
// Callback URLs must be on the environment's allow-list: the project's allowedOrigins (docs/auth.md).
const allowOrigins = async (list) => {
  const r = await req(srv, 'PATCH', `/admin/v1/projects/${b.projectId}`, { token: b.operatorToken, body: { settings: { allowedOrigins: list } } });
  assert.equal(r.status, 200, r.text);
};

test('callback URLs: no redirect, link or mail to a URL the environment does not allow', async () => {
  await allowOrigins([]);
  await post('/v1/auth/email/signup', { email: 'open@x.io', password: 'secret1', name: 'O' });
  assert.equal((await post('/v1/auth/signup/email/resend', { email: 'open@x.io' })).status, 200);
  const [mail] = await mails('open@x.io');
  const env = mail.body.match(/env=(env_[0-9a-f]+)/)[1];
  const confirm = (cb, token = 'f'.repeat(64)) => fetch(`${srv.url}/v1/auth/signup/email/confirm?env=${env}&token=${token}` +
    `&email=open%40x.io&callbackUrl=${encodeURIComponent(cb)}`, { redirect: 'manual' });
  // no allow-list at all: nothing is allowed
  const open = await confirm('https://evil.example/steal');
  assert.equal(open.status, 404, 'an invalid token with a foreign callbackUrl is answered, not redirected');
  assert.equal(open.headers.get('location'), null);
  assert.equal((await open.json()).error.code, 'auth/verification-token-not-found');
  expectError(assert, await post('/v1/auth/signup/email/resend', { email: 'open@x.io', callbackUrl: 'https://evil.example/x' }), 400, 'auth/invalid-request');
  expectError(assert, await post('/v1/auth/email/signin', { method: 'magiclink', email: 'open@x.io', callbackUrl: 'https://evil.example/cb' }), 400, 'auth/invalid-request');
  // with allowedOrigins: that origin only, compared exactly (look-alike hosts, user info, other ports are refused)
  await allowOrigins(['https://app.example.com']);
  for (const cb of ['https://app.example.com.evil.io/x', 'https://app.example.com@evil.io/x', 'https://evil.io\\@app.example.com/',
    'https://app.example.com:8443/x', 'http://app.example.com/x', 'https://app.example.com\r\nSet-Cookie: a=b']) {
    const r = await confirm(cb);
    assert.equal(r.status, 404, cb);
    assert.equal(r.headers.get('location'), null, cb);
    expectError(assert, await post('/v1/auth/signup/email/resend', { email: 'open@x.io', callbackUrl: cb }), 400, 'auth/invalid-request');
  }
  const ok = await confirm('https://app.example.com/done?x=1');
  assert.equal(ok.status, 302);
  assert.match(ok.headers.get('location'), /^https:\/\/app\.example\.com\/done\?x=1&verified=false&/);
  // a valid token with a refused callbackUrl still verifies, answered as JSON
  assert.equal((await post('/v1/auth/signup/email/resend', { email: 'open@x.io' })).status, 200);
  const token = (await mails('open@x.io'))[0].body.match(/token=([0-9a-f]{64})/)[1];
  const done = await confirm('https://evil.example/steal', token);
  assert.equal(done.status, 200);
  assert.equal(done.headers.get('location'), null);
  assert.deepEqual(await done.json(), { success: true, data: { verified: true, email: 'open@x.io' } });
});

test('password reset: the mailed code works once and ends every session', async () => {
  const up = await post('/v1/auth/email/signup', { email: 'reset@x.io', password: 'old-secret', name: 'R' });
  assert.equal(up.status, 201);
  const unknown = await post('/v1/auth/password/reset/request', { email: 'ghost@x.io' });
  assert.equal(unknown.status, 200, 'no account enumeration');
  assert.equal((await mails('ghost@x.io')).length, 0);
  const r = await post('/v1/auth/password/reset/request', { email: 'Reset@X.io' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.message, unknown.json.message);
  const [mail] = await mails('reset@x.io');
  assert.equal(mail.template, 'password_reset');
  const token = mail.body.match(/code:\s+([0-9a-f]{64})/)[1];
  assert.ok(mail.body.includes(`reset-password?token=${token}&email=reset%40x.io`));
  expectError(assert, await post('/v1/auth/password/reset/confirm', { email: 'reset@x.io', token: '0'.repeat(64), newPassword: 'new-secret' }), 404, 'auth/verification-token-not-found');
  expectError(assert, await post('/v1/auth/password/reset/confirm', { email: 'reset@x.io', token, newPassword: '123' }), 400, 'auth/invalid-password-format');
  expectError(assert, await post('/v1/auth/password/reset/confirm', { email: 'other@x.io', token, newPassword: 'new-secret' }), 404, 'auth/verification-token-not-found');
  const ok = await post('/v1/auth/password/reset/confirm', { email: 'reset@x.io', token, newPassword: 'new-secret' });
  assert.equal(ok.status, 200, ok.text);
  expectError(assert, await post('/v1/auth/password/reset/confirm', { email: 'reset@x.io', token, newPassword: 'newer-secret' }), 404, 'auth/verification-token-not-found');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: up.json.accessToken }), 401, 'auth/invalid-token');
  expectError(assert, await post('/v1/auth/email/signin', { email: 'reset@x.io', password: 'old-secret' }), 401, 'auth/invalid-credentials');
  assert.equal((await post('/v1/auth/email/signin', { email: 'reset@x.io', password: 'new-secret' })).status, 200);
  expectError(assert, await post('/v1/auth/password/reset/request', { email: 'not-an-email' }), 400, 'auth/invalid-email');
});

test('send limits: three mails per hour per address, then 429 with Retry-After', async () => {
  await post('/v1/auth/email/signup', { email: 'spam@x.io', password: 'secret1', name: 'S' });
  for (let i = 0; i < 3; i++) assert.equal((await post('/v1/auth/password/reset/request', { email: 'spam@x.io' })).status, 200);
  const fourth = await post('/v1/auth/password/reset/request', { email: 'spam@x.io' });
  expectError(assert, fourth, 429, 'auth/too-many-code-requests');
  assert.ok(Number(fourth.headers.get('retry-after')) > 3600);
  assert.equal((await mails('spam@x.io')).length, 3);
});

test('sign-up verification: the mailed link verifies once; callbackUrl redirects with the outcome', async () => {
  await allowOrigins(['https://app.example.com']);
  const up = await post('/v1/auth/email/signup', { email: 'verify@x.io', password: 'secret1', name: 'V' });
  const resend = await post('/v1/auth/signup/email/resend', { email: 'verify@x.io' });
  assert.equal(resend.status, 200, resend.text);
  assert.equal(resend.json.email, 'verify@x.io');
  const [mail] = await mails('verify@x.io');
  assert.equal(mail.template, 'signup_confirmation');
  const link = mail.body.match(/(http:\/\/\S+\/v1\/auth\/signup\/email\/confirm\?\S+)/)[1];
  const path = link.replace(/^http:\/\/[^/]+/, '');
  assert.match(path, /env=env_[0-9a-f]+&/, 'the link names its environment: a browser sends no key');
  const bad = await req(srv, 'GET', path.replace(/token=[0-9a-f]+/, 'token=' + 'f'.repeat(64)));
  expectError(assert, bad, 404, 'auth/verification-token-not-found');
  expectError(assert, await req(srv, 'GET', path.replace(/env=[^&]+/, 'env=env_nope')), 404, 'data/environment-not-found');
  expectError(assert, await req(srv, 'GET', path.replace(/env=[^&]+&/, '')), 401, 'data/invalid-header');
  const ok = await req(srv, 'GET', path);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, { success: true, data: { verified: true, email: 'verify@x.io' } });
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: up.json.accessToken });
  assert.ok(!Number.isNaN(Date.parse(me.json.emailVerified)), 'emailVerified is set');
  expectError(assert, await req(srv, 'GET', path), 404, 'auth/verification-token-not-found');
  expectError(assert, await post('/v1/auth/signup/email/resend', { email: 'verify@x.io' }), 400, 'auth/already-verified');
  // with a callbackUrl
  await post('/v1/auth/email/signup', { email: 'cb@x.io', password: 'secret1', name: 'C' });
  assert.equal((await post('/v1/auth/signup/email/resend', { email: 'cb@x.io', callbackUrl: 'https://app.example.com/verified' })).status, 200);
  const [cbMail] = await mails('cb@x.io');
  const cbPath = cbMail.body.match(/http:\/\/\S+(\/v1\/auth\/signup\/email\/confirm\?\S+)/)[1];
  assert.ok(cbPath.includes('callbackUrl=https%3A%2F%2Fapp.example.com%2Fverified'));
  const res = await fetch(srv.url + cbPath, { redirect: 'manual' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), 'https://app.example.com/verified?verified=true&email=cb%40x.io');
  const again = await fetch(srv.url + cbPath, { redirect: 'manual' });
  assert.equal(again.status, 302);
  assert.equal(again.headers.get('location'), 'https://app.example.com/verified?verified=false&email=cb%40x.io&error=auth%2Fverification-token-not-found');
  expectError(assert, await post('/v1/auth/signup/email/resend', { email: 'x@x.io', callbackUrl: 'javascript:alert(1)' }), 400, 'auth/invalid-request');
});

test('the outbox is for operators only', async () => {
  expectError(assert, await req(srv, 'GET', outboxPath, pk()), 401, 'auth/unauthorized');
  const list = await req(srv, 'GET', outboxPath, { token: b.operatorToken });
  assert.equal(list.status, 200);
  assert.ok(list.json.items.length >= 3);
  for (const k of ['id', 'to', 'subject', 'body', 'template', 'createdAt']) assert.ok(k in list.json.items[0], k);
});

test('magic links: sign-up creates the user, the link signs in once (is_new_user), sign-in links for known users', async () => {
  await allowOrigins(['https://app.example.com']);
  const cb = 'https://app.example.com/cb';
  const up = await post('/v1/auth/email/signup', { method: 'magiclink', email: 'Magic@X.io', callbackUrl: cb });
  assert.equal(up.status, 201, up.text);
  assert.deepEqual(Object.keys(up.json).sort(), ['callbackUrl', 'email', 'message']);
  assert.equal(up.json.email, 'magic@x.io');
  const [mail] = await mails('magic@x.io');
  assert.equal(mail.template, 'magic_link');
  const token = mail.body.match(/https:\/\/app\.example\.com\/cb\?token=([0-9a-f]{64})/)[1];
  expectError(assert, await post('/v1/auth/email/callback', {}), 400, 'auth/magic-token-missing');
  expectError(assert, await post('/v1/auth/email/callback', { token: 'f'.repeat(64) }), 401, 'auth/invalid-token');
  expectError(assert, await post('/v1/auth/email/callback', { token, email: 'someone@else.io' }), 401, 'auth/invalid-token');
  const first = await post('/v1/auth/email/callback', { token, email: 'magic@x.io' });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.is_new_user, true);
  assert.equal(first.json.tokenType, 'Bearer');
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: first.json.accessToken });
  assert.equal(me.json.name, 'magic', 'the local part names a user who gave no name');
  assert.ok(me.json.emailVerified, 'the link proved the address');
  expectError(assert, await post('/v1/auth/email/callback', { token }), 401, 'auth/invalid-token'); // single use
  const again = await post('/v1/auth/email/signin', { method: 'magiclink', email: 'magic@x.io', callbackUrl: cb + '?from=signin' });
  assert.equal(again.status, 200);
  const second = (await mails('magic@x.io'))[0];
  const token2 = second.body.match(/from=signin&token=([0-9a-f]{64})/)[1];
  const signedIn = await post('/v1/auth/email/callback', { token: token2 });
  assert.equal(signedIn.json.is_new_user, false);
  const ghost = await post('/v1/auth/email/signin', { method: 'magiclink', email: 'nobody@x.io', callbackUrl: cb });
  assert.equal(ghost.status, 200, 'unknown addresses get the same answer');
  assert.equal((await mails('nobody@x.io')).length, 0);
  expectError(assert, await post('/v1/auth/email/signin', { method: 'magiclink', email: 'magic@x.io' }), 400, 'auth/invalid-request');
  expectError(assert, await post('/v1/auth/email/signin', { method: 'carrier-pigeon', email: 'magic@x.io', password: 'x' }), 400, 'auth/invalid-request');
});

test('invitations: mailed code, accept once, reject, revoke, listing for inviter and invitee, expiry codes', async () => {
  const inviter = await post('/v1/auth/email/signup', { email: 'boss@inv.io', password: 'secret1', name: 'Boss' });
  const invitee = await post('/v1/auth/email/signup', { email: 'new@inv.io', password: 'secret1', name: 'New' });
  const as = (t) => ({ ...pk(), token: t.json.accessToken });
  const made = await req(srv, 'POST', '/v1/auth/invitations', { ...as(inviter), body: {
    resourceType: 'project', resourceId: 'p1', resourceName: 'Apollo', resourceRole: 'editor', email: 'New@Inv.io', inviterName: 'The Boss' } });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.status, 'pending');
  assert.equal(made.json.email, 'new@inv.io');
  for (const k of ['id', 'resourceType', 'resourceId', 'resourceName', 'resourceRole', 'email', 'status', 'expiresAt', 'invitedBy', 'createdAt']) assert.ok(k in made.json, k);
  const [mail] = await mails('new@inv.io');
  assert.equal(mail.template, 'invitation');
  assert.match(mail.body, /The Boss invites you to project "Apollo" as editor/);
  const code = mail.body.match(/code: ([0-9a-f]{64})/)[1];
  const mine = await req(srv, 'GET', '/v1/auth/invitations', as(inviter));
  assert.equal(mine.json.pagination.total, 1);
  assert.equal(mine.json.pagination.limit, 10);
  const toMe = await req(srv, 'GET', '/v1/auth/invitations?resourceType=user', as(invitee));
  assert.equal(toMe.json.items[0].id, made.json.id);
  assert.equal((await req(srv, 'GET', `/v1/auth/invitations/${made.json.id}`, as(invitee))).status, 200);
  const stranger = await post('/v1/auth/email/signup', { email: 'x@inv.io', password: 'secret1', name: 'X' });
  expectError(assert, await req(srv, 'GET', `/v1/auth/invitations/${made.json.id}`, as(stranger)), 404, 'auth/invitation-not-found');
  expectError(assert, await post('/v1/auth/invitations/accept', { token: 'f'.repeat(64) }), 401, 'auth/invalid-token');
  expectError(assert, await post('/v1/auth/invitations/accept', { token: code, email: 'other@inv.io' }), 401, 'auth/invalid-token');
  const ok = await post('/v1/auth/invitations/accept', { token: code });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.status, 'accepted');
  expectError(assert, await post('/v1/auth/invitations/accept', { token: code }), 400, 'auth/invitation-already-accepted');
  // a second one: rejected, a third: revoked by the inviter
  await req(srv, 'POST', '/v1/auth/invitations', { ...as(inviter), body: { resourceType: 'organization', resourceId: 'o1', resourceRole: 'member', email: 'new@inv.io' } });
  const code2 = (await mails('new@inv.io'))[0].body.match(/code: ([0-9a-f]{64})/)[1];
  expectError(assert, await post('/v1/auth/invitations/reject', { token: code2 }), 400, 'auth/invalid-email');
  const rej = await post('/v1/auth/invitations/reject', { token: code2, email: 'new@inv.io' });
  assert.equal(rej.status, 200);
  assert.deepEqual(rej.json, {});
  const third = await req(srv, 'POST', '/v1/auth/invitations', { ...as(inviter), body: { resourceType: 'project', resourceId: 'p2', resourceRole: 'viewer', email: 'later@inv.io' } });
  expectError(assert, await req(srv, 'DELETE', `/v1/auth/invitations/${third.json.id}`, as(invitee)), 404, 'auth/invitation-not-found');
  assert.equal((await req(srv, 'DELETE', `/v1/auth/invitations/${third.json.id}`, as(inviter))).status, 200);
  const code3 = (await mails('later@inv.io'))[0].body.match(/code: ([0-9a-f]{64})/)[1];
  expectError(assert, await post('/v1/auth/invitations/accept', { token: code3 }), 400, 'auth/invalid-request');
  const statuses = (await req(srv, 'GET', '/v1/auth/invitations?limit=50', as(inviter))).json.items.map((i) => i.status).sort();
  assert.deepEqual(statuses, ['accepted', 'rejected', 'revoked']);
  expectError(assert, await req(srv, 'POST', '/v1/auth/invitations', { ...as(inviter), body: { resourceType: 'galaxy', resourceId: 'g', resourceRole: 'r', email: 'a@inv.io' } }), 400, 'auth/invalid-request');
  expectError(assert, await req(srv, 'POST', '/v1/auth/invitations', { ...pk(), body: {} }), 401, 'auth/unauthorized');
});

test('contact e-mail: a signed-in user moves to a new verified address; without a token it verifies the address', async () => {
  const u = await post('/v1/auth/email/signup', { email: 'old@contact.io', password: 'secret1', name: 'C' });
  const as = { ...pk(), token: u.json.accessToken };
  await post('/v1/auth/email/signup', { email: 'taken@contact.io', password: 'secret1', name: 'T' });
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/verify/send', { ...as, body: { email: 'taken@contact.io' } }), 409, 'auth/email-already-exists');
  const sent = await req(srv, 'POST', '/v1/auth/email/verify/send', { ...as, body: { email: 'New@Contact.io' } });
  assert.equal(sent.status, 200, sent.text);
  assert.deepEqual(sent.json.email, 'new@contact.io');
  const code = (await mails('new@contact.io'))[0].body.match(/code: ([0-9a-f]{64})/)[1];
  expectError(assert, await post('/v1/auth/email/verify/confirm', { email: 'old@contact.io', token: code }), 404, 'auth/verification-token-not-found');
  const ok = await post('/v1/auth/email/verify/confirm', { email: 'new@contact.io', token: code });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual({ verified: ok.json.verified, type: typeof ok.json.message }, { verified: true, type: 'string' });
  const me = await req(srv, 'GET', '/v1/auth/me', as);
  assert.equal(me.json.email, 'new@contact.io');
  assert.ok(me.json.emailVerified);
  assert.equal((await post('/v1/auth/email/signin', { email: 'new@contact.io', password: 'secret1' })).status, 200, 'signs in with the new address');
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/verify/resend', { ...as, body: { email: 'new@contact.io' } }), 400, 'auth/already-verified');
  // without a token: verifies an existing account's own address
  await post('/v1/auth/email/signup', { email: 'plain@contact.io', password: 'secret1', name: 'P' });
  assert.equal((await post('/v1/auth/email/verify/send', { email: 'plain@contact.io' })).status, 200);
  const code2 = (await mails('plain@contact.io'))[0].body.match(/code: ([0-9a-f]{64})/)[1];
  assert.equal((await post('/v1/auth/email/verify/confirm', { email: 'plain@contact.io', token: code2 })).status, 200);
  const unknown = await post('/v1/auth/email/verify/send', { email: 'nobody@contact.io' });
  assert.equal(unknown.status, 200, 'no enumeration');
  assert.equal((await mails('nobody@contact.io')).length, 0);
});
