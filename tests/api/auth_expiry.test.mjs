// The expiry codes of §6.2 with a clock that moves (BASALT_TEST_CLOCK_OFFSET_MS): mailed reset and
// verification tokens (24 h), magic links (15 min), invitations (7 days), MFA setups (10 min), access
// tokens (1 h) — issued on one start, presented on a later one with the clock 8 days ahead. Also backup
// codes running out and providers that fail the code exchange.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { test, startServer, req, expectError, tempDir } from './harness.mjs';
import { startProvider } from './oauth_provider.mjs';

const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('tokens issued before the clock moved 8 days: each kind answers its expiry code', async () => {
  let s = await startServer({ dataDir: dir, keep: true });
  const b = s.bootstrap;
  const pk = { key: b.publishableKey };
  const post = (path, body, extra = {}) => req(s, 'POST', path, { ...pk, body, ...extra });
  const outbox = async (to) => (await req(s, 'GET', `/admin/v1/projects/${b.projectId}/environments/dev/outbox`, { token: b.operatorToken }))
    .json.items.filter((m) => m.to === to);
  const up = await post('/v1/auth/email/signup', { email: 'late@x.io', password: 'secret1', name: 'Late' });
  const other = await post('/v1/auth/email/signup', { email: 'boss@x.io', password: 'secret1', name: 'Boss' });
  await post('/v1/auth/password/reset/request', { email: 'late@x.io' });
  await post('/v1/auth/signup/email/resend', { email: 'late@x.io' });
  await req(s, 'PATCH', `/admin/v1/projects/${b.projectId}`, { token: b.operatorToken, body: { settings: { allowedOrigins: ['https://app.example'] } } });
  await post('/v1/auth/email/signin', { method: 'magiclink', email: 'late@x.io', callbackUrl: 'https://app.example/cb' });
  await post('/v1/auth/invitations', { resourceType: 'project', resourceId: 'p1', resourceRole: 'editor', email: 'late@x.io' }, { token: other.json.accessToken });
  assert.equal((await post('/v1/auth/mfa/enable', { password: 'secret1' }, { token: up.json.accessToken })).status, 200);
  const mails = await outbox('late@x.io');
  const reset = mails.find((m) => m.template === 'password_reset').body.match(/code:\s+([0-9a-f]{64})/)[1];
  const verify = mails.find((m) => m.template === 'signup_confirmation').body.match(/(\/v1\/auth\/signup\/email\/confirm\?\S+)/)[1];
  const magic = mails.find((m) => m.template === 'magic_link').body.match(/token=([0-9a-f]{64})/)[1];
  const invite = mails.find((m) => m.template === 'invitation').body.match(/code: ([0-9a-f]{64})/)[1];
  await s.stop();

  s = await startServer({ dataDir: dir, keep: true, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(8 * 86400e3) } });
  expectError(assert, await req(s, 'GET', '/v1/auth/me', { ...pk, token: up.json.accessToken }), 401, 'auth/token-expired');
  expectError(assert, await req(s, 'POST', '/v1/auth/refresh', { ...pk, body: { refreshToken: up.json.refreshToken } }), 401, ['auth/session-expired', 'auth/invalid-refresh-token']);
  expectError(assert, await req(s, 'POST', '/v1/auth/password/reset/confirm', { ...pk, body: { email: 'late@x.io', token: reset, newPassword: 'secret2' } }), 401, 'auth/verification-token-expired');
  expectError(assert, await req(s, 'GET', verify), 401, 'auth/verification-token-expired');
  expectError(assert, await req(s, 'POST', '/v1/auth/email/callback', { ...pk, body: { token: magic } }), 401, 'auth/magic-token-expired');
  expectError(assert, await req(s, 'POST', '/v1/auth/invitations/accept', { ...pk, body: { token: invite } }), 410, 'auth/invitation-expired');
  const again = await req(s, 'POST', '/v1/auth/email/signin', { ...pk, body: { email: 'late@x.io', password: 'secret1' } });
  assert.equal(again.status, 200, 'MFA was never confirmed, so sign-in needs no code');
  expectError(assert, await req(s, 'POST', '/v1/auth/mfa/confirm', { ...pk, token: again.json.accessToken, body: { code: '000000' } }), 400, 'auth/mfa-setup-expired');
  await s.stop();
});

test('parallel refreshes with one token (the web apps): all succeed with one new pair; a reuse after the interval revokes', async () => {
  const d = tempDir();
  try {
    let s = await startServer({ dataDir: d, keep: true });
    const pk = { key: s.bootstrap.publishableKey };
    const post = (path, body) => req(s, 'POST', path, { ...pk, body });
    const up = await post('/v1/auth/email/signup', { email: 'tabs@x.io', password: 'secret1', name: 'Tabs' });
    assert.equal(up.status, 201, up.text);
    const all = await Promise.all(Array.from({ length: 8 }, () => post('/v1/auth/refresh', { refreshToken: up.json.refreshToken })));
    for (const r of all) assert.equal(r.status, 200, r.text);
    const fresh = new Set(all.map((r) => r.json.refreshToken));
    assert.equal(fresh.size, 1, 'every racer gets the same new refresh token');
    const [next] = fresh;
    assert.notEqual(next, up.json.refreshToken);
    for (const r of all) assert.equal((await req(s, 'GET', '/v1/auth/me', { ...pk, token: r.json.accessToken })).status, 200, 'the session lives');
    const later = await post('/v1/auth/refresh', { refreshToken: next });
    assert.equal(later.status, 200, 'the new token rotates on');
    const again = await post('/v1/auth/refresh', { refreshToken: up.json.refreshToken });
    assert.equal(again.status, 200, 'a straggler within the interval gets the session\'s current token');
    assert.equal(again.json.refreshToken, later.json.refreshToken);
    await s.stop();
    // 11 s later (the default interval is 10 s), the first token again is theft: every session ends
    s = await startServer({ dataDir: d, keep: true, env: { BASALT_TEST_CLOCK_OFFSET_MS: '11000' } });
    expectError(assert, await req(s, 'POST', '/v1/auth/refresh', { ...pk, body: { refreshToken: up.json.refreshToken } }), 401, 'auth/invalid-refresh-token');
    expectError(assert, await req(s, 'POST', '/v1/auth/refresh', { ...pk, body: { refreshToken: later.json.refreshToken } }), 401, 'auth/session-expired');
    expectError(assert, await req(s, 'GET', '/v1/auth/me', { ...pk, token: later.json.accessToken }), 401, 'auth/invalid-token');
    await s.stop();
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

// RFC 6238, independently of the server (Node's crypto).
function totp(secretB32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((x) => parseInt(x, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e6).padStart(6, '0');
}

test('backup codes run out: auth/mfa-backup-codes-exhausted', async () => {
  const s = await startServer();
  try {
    const pk = { key: s.bootstrap.publishableKey };
    const up = await req(s, 'POST', '/v1/auth/email/signup', { ...pk, body: { email: 'codes@x.io', password: 'secret1', name: 'C' } });
    const en = await req(s, 'POST', '/v1/auth/mfa/enable', { ...pk, token: up.json.accessToken, body: { password: 'secret1' } });
    const confirm = await req(s, 'POST', '/v1/auth/mfa/confirm', { ...pk, token: up.json.accessToken, body: { code: totp(en.json.secret) } });
    assert.equal(confirm.status, 200, confirm.text);
    const codes = confirm.json.backupCodes || en.json.backupCodes;
    let used = 0;
    for (const code of codes) {
      const r = await req(s, 'POST', '/v1/auth/email/signin', { ...pk, body: { email: 'codes@x.io', password: 'secret1', mfaCode: code } });
      if (r.status === 200) used++;
    }
    assert.equal(used, 10, 'each backup code signs in once');
    const none = await req(s, 'POST', '/v1/auth/email/signin', { ...pk, body: { email: 'codes@x.io', password: 'secret1', mfaCode: codes[1] } });
    expectError(assert, none, 401, 'auth/mfa-backup-codes-exhausted');
  } finally {
    await s.stop();
  }
});

test('a provider that answers the code but not the profile: *-token-exchange-failed', async () => {
  const p = await startProvider({ clientId: 'cid', clientSecret: 'csecret' });
  const s = await startServer({ args: ['--google-token-url', `${p.url}/token`, '--google-userinfo-url', `${p.url}/userinfo`,
    '--github-token-url', `${p.url}/login/oauth/access_token`, '--github-api-url', p.url] });
  try {
    const b = s.bootstrap, R = 'https://app.example/cb';
    for (const name of ['google', 'github']) {
      await req(s, 'PUT', `/admin/v1/projects/${b.projectId}/environments/dev/auth/providers/${name}`,
        { token: b.operatorToken, body: { clientId: 'cid', clientSecret: 'csecret', redirectUris: [R] } });
    }
    const cb = (name, code) => req(s, 'POST', `/v1/auth/${name}/callback`, { key: b.publishableKey, body: { code, redirectUri: R } });
    expectError(assert, await cb('google', p.issueCode({ email: 'no-sub@x.io' }, R)), 400, 'auth/google-token-exchange-failed');
    expectError(assert, await cb('github', p.issueCode({ login: 'no-id', emails: [] }, R)), 400, 'auth/github-token-exchange-failed');
    expectError(assert, await cb('github', p.issueCode({ id: 5, login: 'nomail', emails: [{ email: 'x@y.z', primary: true, verified: false }] }, R)), 400, 'auth/github-email-not-found');
  } finally {
    await s.stop();
    await p.stop();
  }
});
