// Google sign-in, flow A (client-api.md §3.5) against a local stand-in provider: provider settings with
// a sealed secret, the code exchange, user creation (is_new_user), return visits, conflicts and errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, req, expectError } from './harness.mjs';
import { startProvider } from './oauth_provider.mjs';

let srv, b, google, providerPath;
const REDIRECT = 'https://shop.example.com/auth/google/callback';
before(async () => {
  google = await startProvider({ clientId: 'web-client.apps', clientSecret: 's3cret-value' });
  srv = await startServer({ args: ['--google-token-url', `${google.url}/token`, '--google-userinfo-url', `${google.url}/userinfo`] });
  b = srv.bootstrap;
  providerPath = `/admin/v1/projects/${b.projectId}/environments/dev/auth/providers/google`;
});
after(async () => { await srv?.stop(); await google?.stop(); });

const pk = () => ({ key: b.publishableKey });
const callback = (body) => req(srv, 'POST', '/v1/auth/google/callback', { ...pk(), body });

test('provider settings: the secret is sealed at rest and never returned', async () => {
  expectError(assert, await callback({ code: 'x', redirectUri: REDIRECT }), 400, 'auth/oauth-not-configured');
  expectError(assert, await req(srv, 'PUT', providerPath.replace('google', 'myspace'), { token: b.operatorToken, body: { clientId: 'a' } }), 400, 'auth/unsupported-provider');
  const put = await req(srv, 'PUT', providerPath, { token: b.operatorToken, body: { clientId: 'web-client.apps', clientSecret: 's3cret-value', redirectUris: [REDIRECT] } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.hasSecret, true);
  assert.ok(!put.text.includes('s3cret'), 'the secret is never answered');
  const got = await req(srv, 'GET', providerPath, { token: b.operatorToken });
  assert.deepEqual(got.json.redirectUris, [REDIRECT]);
  const db = fs.readFileSync(path.join(srv.dataDir, 'control.db'));
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
