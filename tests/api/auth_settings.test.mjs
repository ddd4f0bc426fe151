// An environment's sign-in rules and mail templates (docs/auth.md "Settings"): magic links on/off and
// their lifetime, required e-mail verification, closed sign-up, the password policy, custom templates
// with {{variables}}, and banned users (auth/account-banned).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, tempDir } from './harness.mjs';
import fs from 'node:fs';

let srv, b, base;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  base = `/admin/v1/projects/${b.projectId}/environments/dev`;
});
after(async () => { await srv?.stop(); });

const pk = () => ({ key: b.publishableKey });
const post = (path, body) => req(srv, 'POST', path, { ...pk(), body });
const admin = (method, path, body) => req(srv, method, base + path, { token: b.operatorToken, body });
const mails = async (to) => (await admin('GET', '/outbox')).json.items.filter((m) => m.to === to);
const settings = (body) => admin('PATCH', '/auth/settings', body);

test('settings: defaults, partial updates, validation, operator only', async () => {
  const d = await admin('GET', '/auth/settings');
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.json, {
    magicLinkEnabled: true, magicLinkExpirationMinutes: 15, requireEmailVerification: false, signupEnabled: true,
    passwordPolicy: { minLength: 6, maxLength: 128, requireUppercase: false, requireLowercase: false, requireNumbers: false, requireSpecialChars: false },
  });
  const p = await settings({ magicLinkExpirationMinutes: 30 });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.magicLinkExpirationMinutes, 30);
  assert.equal(p.json.magicLinkEnabled, true, 'fields not sent keep their value');
  assert.equal((await admin('GET', '/auth/settings')).json.magicLinkExpirationMinutes, 30);
  for (const bad of [{ magicLinkEnabled: 'no' }, { magicLinkExpirationMinutes: 0 }, { magicLinkExpirationMinutes: 1.5 },
    { passwordPolicy: { minLength: 10, maxLength: 8 } }, { passwordPolicy: 'strict' }, { requireEmailVerification: 1 }]) {
    expectError(assert, await settings(bad), 400, 'common/invalid-parameters');
  }
  expectError(assert, await req(srv, 'PATCH', base + '/auth/settings', { body: {} }), 401, 'auth/unauthorized');
  assert.equal((await settings({ magicLinkExpirationMinutes: 15 })).status, 200);
});

test('password policy applies to sign-up, change and reset', async () => {
  await settings({ passwordPolicy: { minLength: 8, requireUppercase: true, requireNumbers: true } });
  expectError(assert, await post('/v1/auth/email/signup', { email: 'pol@x.io', password: 'short1A', name: 'P' }), 400, 'auth/invalid-password-format');
  expectError(assert, await post('/v1/auth/email/signup', { email: 'pol@x.io', password: 'longenough1', name: 'P' }), 400, 'auth/weak-password');
  const up = await post('/v1/auth/email/signup', { email: 'pol@x.io', password: 'Longenough1', name: 'P' });
  assert.equal(up.status, 201, up.text);
  const change = await req(srv, 'POST', '/v1/auth/password/change', { ...pk(), token: up.json.accessToken, body: { currentPassword: 'Longenough1', newPassword: 'nouppercase1' } });
  expectError(assert, change, 400, 'auth/weak-password');
  await settings({ passwordPolicy: { minLength: 6, maxLength: 128, requireUppercase: false, requireNumbers: false } });
  assert.equal((await post('/v1/auth/email/signup', { email: 'pol2@x.io', password: 'simple', name: 'P' })).status, 201);
});

test('magic links: turned off → 400 auth/magiclink-disabled; the lifetime setting reaches the mail', async () => {
  await settings({ magicLinkEnabled: false });
  const off = await post('/v1/auth/email/signin', { method: 'magiclink', email: 'm@x.io', callbackUrl: 'https://app.example/cb' });
  expectError(assert, off, 400, 'auth/magiclink-disabled');
  await settings({ magicLinkEnabled: true, magicLinkExpirationMinutes: 5 });
  const origins = await req(srv, 'PATCH', `/admin/v1/projects/${b.projectId}`, { token: b.operatorToken, body: { settings: { allowedOrigins: ['https://app.example'] } } });
  assert.equal(origins.status, 200, 'magic links go only to allowed origins');
  const on = await post('/v1/auth/email/signup', { method: 'magiclink', email: 'm@x.io', callbackUrl: 'https://app.example/cb' });
  assert.equal(on.status, 201, on.text);
  const [mail] = await mails('m@x.io');
  assert.match(mail.body, /for 5 minutes/);
  await settings({ magicLinkExpirationMinutes: 15 });
});

test('required verification: sign-up answers without tokens and mails the link; sign-in waits for it', async () => {
  await settings({ requireEmailVerification: true });
  const up = await post('/v1/auth/email/signup', { email: 'late@x.io', password: 'secret1', name: 'L' });
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.emailVerificationRequired, true);
  assert.equal(up.json.accessToken, undefined);
  const [mail] = await mails('late@x.io');
  assert.equal(mail.template, 'signup_confirmation');
  expectError(assert, await post('/v1/auth/email/signin', { email: 'late@x.io', password: 'secret1' }), 403, 'auth/email-not-verified');
  expectError(assert, await post('/v1/auth/email/signin', { email: 'late@x.io', password: 'wrong-one' }), 401, 'auth/invalid-credentials');
  const link = mail.body.match(/(http:\/\/\S+\/v1\/auth\/signup\/email\/confirm\?\S+)/)[1];
  assert.equal((await req(srv, 'GET', link.replace(/^http:\/\/[^/]+/, ''))).status, 200);
  const ok = await post('/v1/auth/email/signin', { email: 'late@x.io', password: 'secret1' });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.accessToken);
  await settings({ requireEmailVerification: false });
});

test('closed sign-up: 403 auth/signup-disabled; existing users still sign in', async () => {
  await post('/v1/auth/email/signup', { email: 'early@x.io', password: 'secret1', name: 'E' });
  await settings({ signupEnabled: false });
  expectError(assert, await post('/v1/auth/email/signup', { email: 'closed@x.io', password: 'secret1', name: 'C' }), 403, 'auth/signup-disabled');
  assert.equal((await post('/v1/auth/email/signin', { email: 'early@x.io', password: 'secret1' })).status, 200);
  await settings({ signupEnabled: true });
});

test('templates: list, custom text with variables, restore, unknown category, header injection', async () => {
  const list = await admin('GET', '/auth/templates');
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.items.map((t) => t.category),
    ['signup_confirmation', 'password_reset', 'magic_link', 'email_verification', 'invitation']);
  assert.ok(list.json.items.every((t) => t.custom === false && t.subject && t.body.includes('{{')));
  assert.ok(list.json.items[1].variables.includes('resetLink'));
  expectError(assert, await admin('GET', '/auth/templates/welcome'), 404, 'auth/template-not-found');
  expectError(assert, await admin('PUT', '/auth/templates/welcome', { subject: 's', body: 'b' }), 404, 'auth/template-not-found');
  expectError(assert, await admin('PUT', '/auth/templates/password_reset', { subject: 'a\r\nBcc: x@evil.io', body: 'b' }), 400, 'common/invalid-parameters');
  expectError(assert, await admin('PUT', '/auth/templates/password_reset', { subject: 'ok' }), 400, 'common/invalid-parameters');
  const put = await admin('PUT', '/auth/templates/password_reset', {
    subject: 'Reset for {{ userName }}', body: 'Hi {{userName}} <{{userEmail}}>: {{resetLink}} code={{code}} {{nope}}.',
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.custom, true);
  await post('/v1/auth/email/signup', { email: 'tpl@x.io', password: 'secret1', name: 'Tia\nBcc: x@evil.io' });
  assert.equal((await post('/v1/auth/password/reset/request', { email: 'tpl@x.io' })).status, 200);
  const [mail] = await mails('tpl@x.io');
  assert.equal(mail.subject, 'Reset for Tia Bcc: x@evil.io', 'variables cannot add header lines to the subject');
  assert.match(mail.body, /^Hi Tia\nBcc: x@evil.io <tpl@x.io>: http:\/\/\S+reset-password\?token=([0-9a-f]{64})&email=tpl%40x.io code=\1 \.$/);
  const restored = await admin('DELETE', '/auth/templates/password_reset');
  assert.equal(restored.status, 200);
  assert.equal(restored.json.custom, false);
  assert.equal(restored.json.subject, 'Reset your password');
});

test('banned users: sessions end, every way in answers 403 auth/account-banned, unban restores', async () => {
  const up = await post('/v1/auth/email/signup', { email: 'ban@x.io', password: 'secret1', name: 'B' });
  const id = up.json.user?.id || (await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: up.json.accessToken })).json.id;
  expectError(assert, await admin('PATCH', '/auth/users/' + id, { banned: 'yes' }), 400, 'common/invalid-parameters');
  expectError(assert, await admin('PATCH', '/auth/users/usr_nobody', { banned: true }), 404, 'user/not-found');
  const ban = await admin('PATCH', '/auth/users/' + id, { banned: true, reason: 'spam' });
  assert.equal(ban.status, 200, ban.text);
  assert.equal(ban.json.bannedReason, 'spam');
  assert.ok(ban.json.bannedAt);
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: up.json.accessToken }), 401, 'auth/invalid-token');
  expectError(assert, await post('/v1/auth/refresh', { refreshToken: up.json.refreshToken }), 401, 'auth/session-expired');
  expectError(assert, await post('/v1/auth/email/signin', { email: 'ban@x.io', password: 'secret1' }), 403, 'auth/account-banned');
  expectError(assert, await post('/v1/auth/email/signin', { email: 'ban@x.io', password: 'wrong-pw' }), 401, 'auth/invalid-credentials');
  const unban = await admin('PATCH', '/auth/users/' + id, { banned: false });
  assert.equal(unban.json.bannedAt, null);
  assert.equal((await post('/v1/auth/email/signin', { email: 'ban@x.io', password: 'secret1' })).status, 200);
  const audit = (await admin('GET', '/auth/audit')).json.items;
  assert.ok(audit.some((e) => e.event === 'signin_blocked' && e.detail === 'banned' && e.userId === id));
});

test('audit retention: events older than --audit-retention-days are gone once the clock passes them', async () => {
  const dir = tempDir();
  try {
    let s = await startServer({ dataDir: dir, keep: true });
    const boot = s.bootstrap;
    const auditPath = `/admin/v1/projects/${boot.projectId}/environments/dev/auth/audit`;
    await req(s, 'POST', '/v1/auth/email/signup', { key: boot.publishableKey, body: { email: 'old@x.io', password: 'secret1', name: 'O' } });
    assert.equal((await req(s, 'GET', auditPath, { token: boot.operatorToken })).json.items.length, 1);
    await s.stop();
    // 31 days later, with 30 days of retention
    s = await startServer({ dataDir: dir, keep: true, args: ['--audit-retention-days', '30'], env: { BASALT_TEST_CLOCK_OFFSET_MS: String(31 * 86400e3) } });
    await req(s, 'POST', '/v1/auth/email/signup', { key: boot.publishableKey, body: { email: 'new@x.io', password: 'secret1', name: 'N' } });
    const items = (await req(s, 'GET', auditPath, { token: boot.operatorToken })).json.items;
    assert.deepEqual(items.map((e) => e.email), ['new@x.io']);
    await s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
