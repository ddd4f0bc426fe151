// Google sign-in, flow A (client-api.md §3.5) against a local stand-in provider: provider settings with
// a sealed secret, the code exchange, user creation (is_new_user), return visits, conflicts and errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, req, expectError, runOnce, sleep, controlStoreBytes } from './harness.mjs';
import { startProvider } from './oauth_provider.mjs';

let srv, b, google, providerPath;
const providerArgs = () => ['--google-token-url', `${google.url}/token`, '--google-userinfo-url', `${google.url}/userinfo`,
  '--google-jwks-url', `${google.url}/jwks`, '--github-token-url', `${google.url}/login/oauth/access_token`,
  '--github-api-url', google.url];
const REDIRECT = 'https://shop.example.com/auth/google/callback';
before(async () => {
  google = await startProvider({ clientId: 'web-client.apps', clientSecret: 's3cret-value' });
  srv = await startServer({ args: providerArgs() });
  b = srv.bootstrap;
  providerPath = `/admin/v1/projects/${b.projectId}/environments/dev/auth/providers/google`;
});
after(async () => { await srv?.stop(); await google?.stop(); });

const pk = () => ({ key: b.publishableKey });
const callback = (body) => req(srv, 'POST', '/v1/auth/google/callback', { ...pk(), body });

test('provider settings: the secret is sealed at rest and never returned', async () => {
  expectError(assert, await callback({ code: 'x', redirectUri: REDIRECT }), 400, 'auth/oauth-not-configured');
  // a known provider never configured reads as its default state; an unknown name is 404
  const github = providerPath.replace('google', 'github');
  const fresh = await req(srv, 'GET', github, { token: b.operatorToken });
  assert.equal(fresh.status, 200, fresh.text);
  assert.deepEqual([fresh.json.provider, fresh.json.clientId, fresh.json.hasSecret, fresh.json.enabled, fresh.json.configured, fresh.json.updatedAt],
    ['github', '', false, false, false, null]);
  assert.deepEqual(fresh.json.redirectUris, []);
  assert.match(fresh.json.serverCallbackUrl, /\/v1\/auth\/github\/callback\?env=/);
  expectError(assert, await req(srv, 'GET', providerPath.replace('google', 'myspace'), { token: b.operatorToken }), 404, 'auth/unsupported-provider');
  expectError(assert, await req(srv, 'PUT', providerPath.replace('google', 'myspace'), { token: b.operatorToken, body: { clientId: 'a' } }), 400, 'auth/unsupported-provider');
  const put = await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps', clientSecret: 's3cret-value', redirectUris: [REDIRECT] } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.hasSecret, true);
  assert.ok(!put.text.includes('s3cret'), 'the secret is never answered');
  const got = await req(srv, 'GET', providerPath, { token: b.operatorToken });
  assert.deepEqual(got.json.redirectUris, [REDIRECT]);
  assert.deepEqual([got.json.configured, got.json.enabled, got.json.hasSecret], [true, true, true]);
  const db = controlStoreBytes(srv.dataDir);
  assert.ok(db.length > 0, 'the control store was read');
  assert.equal(db.includes(Buffer.from('s3cret-value')), false, 'not in the database in clear');
  expectError(assert, await req(srv, 'PUT', providerPath, { key: b.publishableKey, body: { clientId: 'x' } }), 401, 'auth/unauthorized');
});

test('the code exchange creates the user once, then signs it in', async () => {
  const profile = { sub: 'g-123', email: 'Gina@Gmail.com', email_verified: true, name: 'Gina G', picture: 'https://lh3.example/g.png' };
  const first = await callback({ code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT, state: 'app-made-state' });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.is_new_user, true);
  const exchange = google.calls.find((c) => c.url === '/token');
  assert.match(exchange.body, /client_secret=s3cret-value/, 'the server sent the stored secret');
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: first.json.accessToken });
  assert.equal(me.json.email, 'gina@gmail.com');
  assert.equal(me.json.name, 'Gina G');
  assert.equal(me.json.image, 'https://lh3.example/g.png');
  assert.ok(me.json.emailVerified);
  const again = await callback({ code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.is_new_user, false);
  const claims = JSON.parse(Buffer.from(again.json.accessToken.split('.')[1], 'base64url'));
  assert.equal(claims.sub, me.json.id, 'the same user');
});

test('social sign-in errors', async () => {
  const code = google.issueCode({ sub: 'g-9', email: 'x@gmail.com' }, REDIRECT);
  expectError(assert, await callback({ code: 'unknown-code', redirectUri: REDIRECT }), 401, 'auth/invalid-oauth-code');
  expectError(assert, await callback({ code, redirectUri: 'https://evil.example/cb' }), 400, 'auth/invalid-request');
  expectError(assert, await callback({}), 400, 'auth/missing-credentials');
  expectError(assert, await req(srv, 'POST', '/v1/auth/myspace/callback', { ...pk(), body: { code } }), 400, 'auth/unsupported-provider');
  await req(srv, 'POST', '/v1/auth/email/signup', { ...pk(), body: { email: 'taken@gmail.com', password: 'secret1', name: 'T' } });
  const clash = await callback({ code: google.issueCode({ sub: 'g-77', email: 'taken@gmail.com' }, REDIRECT), redirectUri: REDIRECT });
  expectError(assert, clash, 409, 'auth/account-exists-different-provider');
  const off = await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps', redirectUris: [REDIRECT], enabled: false } });
  assert.equal(off.json.hasSecret, true, 'an update without clientSecret keeps the stored one');
  expectError(assert, await callback({ code, redirectUri: REDIRECT }), 400, 'auth/oauth-not-configured');
});

test('account linking: link Google to a password account, sign in with it, list, check, unlink, keep the last one', async () => {
  await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps', redirectUris: [REDIRECT], enabled: true } });
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { ...pk(), body: { email: 'linker@x.io', password: 'secret1', name: 'L' } });
  const as = { ...pk(), token: up.json.accessToken };
  const profile = { sub: 'g-link-1', email: 'linker.other@gmail.com', name: 'L G' };
  const linked = await req(srv, 'POST', '/v1/auth/accounts', { ...as, body: { provider: 'google', code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT } });
  assert.equal(linked.status, 201, linked.text);
  assert.deepEqual(linked.json, {});
  const viaGoogle = await callback({ code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT });
  assert.equal(viaGoogle.status, 200, viaGoogle.text);
  assert.equal(viaGoogle.json.is_new_user, false);
  assert.equal(JSON.parse(Buffer.from(viaGoogle.json.accessToken.split('.')[1], 'base64url')).sub,
    JSON.parse(Buffer.from(up.json.accessToken.split('.')[1], 'base64url')).sub, 'the linked Google account signs in the same user');
  const list = await req(srv, 'GET', '/v1/auth/accounts', as);
  assert.deepEqual(list.json.items.map((a) => [a.type, a.provider, a.providerAccountId]),
    [['credentials', 'email', 'linker@x.io'], ['oauth', 'google', 'g-link-1']]);
  for (const k of ['id', 'userId', 'connectedAt', 'createdAt', 'email', 'linkedAt']) assert.ok(k in list.json.items[1], k);
  expectError(assert, await req(srv, 'POST', '/v1/auth/accounts', { ...as, body: { provider: 'google', code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT } }), 409, 'auth/account-already-linked');
  const check = await req(srv, 'POST', '/v1/auth/accounts/check', { ...pk(), body: { type: 'oauth', provider: 'google', providerAccountId: 'g-link-1' } });
  assert.deepEqual(check.json, { exists: true, type: 'oauth', provider: 'google' });
  const none = await req(srv, 'POST', '/v1/auth/accounts/check', { ...pk(), body: { type: 'credentials', provider: 'email', providerAccountId: 'ghost@x.io' } });
  assert.deepEqual(none.json, { exists: false });
  expectError(assert, await req(srv, 'POST', '/v1/auth/accounts/check', { ...pk(), body: { type: 'pigeon' } }), 400, 'auth/invalid-request');
  assert.equal((await req(srv, 'DELETE', '/v1/auth/accounts/google', as)).status, 200);
  expectError(assert, await req(srv, 'DELETE', '/v1/auth/accounts/google', as), 404, 'auth/account-not-found');
  // a Google-only user cannot drop its only way in
  const only = await callback({ code: google.issueCode({ sub: 'g-only', email: 'only@gmail.com' }, REDIRECT), redirectUri: REDIRECT });
  expectError(assert, await req(srv, 'DELETE', '/v1/auth/accounts/google', { ...pk(), token: only.json.accessToken }), 400, 'auth/cannot-unlink-last-account');
  expectError(assert, await req(srv, 'GET', '/v1/auth/accounts', pk()), 401, 'auth/unauthorized');
});

test('Google ID tokens (native apps send only {idToken}): signature, issuer, audience, expiry', async () => {
  await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps ios-client.apps', redirectUris: [REDIRECT], enabled: true } });
  const claims = { sub: 'g-native-1', email: 'native@gmail.com', email_verified: true, name: 'Nat' };
  const first = await callback({ idToken: google.idToken(claims) });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.is_new_user, true);
  const again = await callback({ idToken: google.idToken({ ...claims, aud: 'ios-client.apps' }) });
  assert.equal(again.status, 200, 'any configured client id is an accepted audience');
  assert.equal(again.json.is_new_user, false);
  const { privateKey: stranger } = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bad = [
    google.idToken(claims, { key: stranger }),                       // forged signature
    google.idToken(claims, { keyId: 'unknown-kid' }),                // a key Google never published
    google.idToken({ ...claims, aud: 'someone-else.apps' }),
    google.idToken({ ...claims, iss: 'https://evil.example' }),
    google.idToken({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 }),
    'not.a.token', first.json.accessToken,
  ];
  for (const idToken of bad) expectError(assert, await callback({ idToken }), 401, 'auth/google-id-token-invalid');
});

test('an ID token under a published key id with an oversized signature is refused, and the server lives on', async () => {
  // a 1,400-character signature decodes to 1,050 bytes: more than any RSA signature Basalt checks (issue 11 #1)
  await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps', redirectUris: [REDIRECT], enabled: true } });
  const [header, body] = google.idToken({ sub: 'g-big', email: 'big@gmail.com' }).split('.');
  for (const n of [1400, 1366, 8000 - header.length - body.length])
    expectError(assert, await callback({ idToken: `${header}.${body}.${'A'.repeat(n)}` }), 401, 'auth/google-id-token-invalid');
  assert.equal((await req(srv, 'GET', '/healthz')).status, 200);
});

test('linking with a Google ID token (native apps), then signing in with it', async () => {
  await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps', redirectUris: [REDIRECT], enabled: true } });
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { ...pk(), body: { email: 'native-link@x.io', password: 'secret1', name: 'NL' } });
  const as = { ...pk(), token: up.json.accessToken };
  const claims = { sub: 'g-native-link', email: 'someone@gmail.com', email_verified: true };
  expectError(assert, await req(srv, 'POST', '/v1/auth/accounts', { ...as, body: { provider: 'google', idToken: 'not.a.token' } }), 401, 'auth/google-id-token-invalid');
  expectError(assert, await req(srv, 'POST', '/v1/auth/accounts', { ...as, body: { provider: 'github', idToken: google.idToken(claims) } }), 400, ['auth/invalid-request', 'auth/oauth-not-configured']);
  const link = await req(srv, 'POST', '/v1/auth/accounts', { ...as, body: { provider: 'google', idToken: google.idToken(claims) } });
  assert.equal(link.status, 201, link.text);
  const signin = await callback({ idToken: google.idToken(claims) });
  assert.equal(signin.status, 200, signin.text);
  assert.equal(signin.json.is_new_user, false);
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: signin.json.accessToken });
  assert.equal(me.json.email, 'native-link@x.io', 'the linked account signs in as the password user');
});

test('GitHub sign-in: code exchange, /user and the primary verified e-mail', async () => {
  const gh = providerPath.replace('google', 'github');
  assert.equal((await req(srv, 'PUT', gh, { token: b.operatorToken, body: { clientId: 'web-client.apps', clientSecret: 's3cret-value', redirectUris: [REDIRECT] } })).status, 200);
  const ghCallback = (body) => req(srv, 'POST', '/v1/auth/github/callback', { ...pk(), body });
  const profile = { id: 4242, login: 'octo', name: null, avatar_url: 'https://avatars.example/4242',
    emails: [{ email: 'old@octo.io', primary: false, verified: true }, { email: 'Octo@Octo.io', primary: true, verified: true }] };
  const first = await ghCallback({ code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.is_new_user, true);
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: first.json.accessToken });
  assert.equal(me.json.email, 'octo@octo.io');
  assert.equal(me.json.name, 'octo', 'the login names a user without a display name');
  assert.equal(me.json.image, 'https://avatars.example/4242');
  assert.equal((await ghCallback({ code: google.issueCode(profile, REDIRECT), redirectUri: REDIRECT })).json.is_new_user, false);
  expectError(assert, await ghCallback({ code: 'nope', redirectUri: REDIRECT }), 401, 'auth/invalid-oauth-code');
  const unverified = { id: 7, login: 'shy', emails: [{ email: 'shy@x.io', primary: true, verified: false }] };
  expectError(assert, await ghCallback({ code: google.issueCode(unverified, REDIRECT), redirectUri: REDIRECT }), 400, 'auth/github-email-not-found');
  expectError(assert, await ghCallback({ idToken: 'x.y.z' }), 400, 'auth/invalid-request');
});

test('MAU quota: a Google sign-in that would make a user past the limit is refused before the user exists', async () => {
  const s = await startServer({ args: [...providerArgs(), '--key-cache-ms', '1', '--usage-check-ms', '1'] });
  try {
    const bb = s.bootstrap, key = { key: bb.publishableKey };
    const path = `/admin/v1/projects/${bb.projectId}/environments/dev/auth/providers/google`;
    assert.equal((await req(s, 'PUT', path, { token: bb.operatorToken, body: { clientId: 'web-client.apps', clientSecret: 's3cret-value', redirectUris: [REDIRECT] } })).status, 200);
    assert.equal((await runOnce(['operator', 'quota', bb.organizationId, 'mau', '1', '--data', s.dataDir])).code, 0);
    const signIn = (sub) => req(s, 'POST', '/v1/auth/google/callback', { ...key, body: { code: google.issueCode({ sub, email: `${sub}@gmail.com`, email_verified: true }, REDIRECT), redirectUri: REDIRECT } });
    assert.equal((await signIn('mau-first')).status, 200);
    let refused, sub;
    for (let i = 0; i < 40; i++) { // the MAU rows are flushed within a second
      sub = `mau-new-${i}`;
      refused = await signIn(sub);
      if (refused.status === 429) break;
      await sleep(100);
    }
    expectError(assert, refused, 429, 'usage/quota-exceeded');
    const users = await req(s, 'GET', '/v1/users?limit=100', { key: bb.secretKey });
    assert.equal(users.status, 200, users.text);
    assert.ok(!users.json.items.some((u) => u.email === `${sub}@gmail.com`), `the refused sign-in created no user (${sub})`);
    assert.equal((await signIn('mau-first')).status, 200, 'a user active this month still signs in');
  } finally {
    await s.stop();
  }
});
