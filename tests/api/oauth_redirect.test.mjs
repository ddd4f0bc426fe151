// Social sign-in flow B (client-api.md §3.5): the server issues the provider URL with its own callback,
// a signed single-use state and a PKCE challenge; the browser goes to the stand-in provider's
// authorization page, comes back to the server's GET callback and is redirected to the app with tokens.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';
import { startProvider } from './oauth_provider.mjs';

let srv, b, provider;
const APP = 'https://app.example.com/auth/done';
before(async () => {
  provider = await startProvider({ clientId: 'web-client.apps', clientSecret: 's3cret-value' });
  srv = await startServer({ args: [
    '--google-auth-url', `${provider.url}/o/oauth2/v2/auth`, '--google-token-url', `${provider.url}/token`,
    '--google-userinfo-url', `${provider.url}/userinfo`, '--github-auth-url', `${provider.url}/login/oauth/authorize`,
    '--github-token-url', `${provider.url}/login/oauth/access_token`, '--github-api-url', provider.url] });
  b = srv.bootstrap;
  for (const name of ['google', 'github']) {
    const put = await req(srv, 'PUT', `/admin/v1/projects/${b.projectId}/environments/dev/auth/providers/${name}`,
      { token: b.operatorToken, body: { clientId: 'web-client.apps', clientSecret: 's3cret-value', redirectUris: [APP] } });
    assert.equal(put.status, 200, put.text);
    assert.match(put.json.serverCallbackUrl, new RegExp(`/v1/auth/${name}/callback\\?env=env_`));
  }
});
after(async () => { await srv?.stop(); await provider?.stop(); });

const pk = () => ({ key: b.publishableKey });
const authorize = (name, query) => req(srv, 'GET', `/v1/auth/${name}/authorize?${new URLSearchParams(query)}`, pk());

// What a browser does: open the provider's page, follow its redirect to the server's callback (no key).
async function browse(authorizationUrl) {
  const atProvider = await fetch(authorizationUrl, { redirect: "manual" });
  assert.equal(atProvider.status, 302);
  const back = new URL(atProvider.headers.get('location'));
  const cb = await req(srv, 'GET', back.pathname + back.search);
  return { cb, callbackUrl: back };
}

const appQuery = (res) => {
  assert.equal(res.status, 302, res.text);
  const to = new URL(res.headers.get('location'));
  assert.equal(to.origin + to.pathname, APP);
  return to.searchParams;
};

test('Google: authorize → provider → callback → app with tokens; the state works once', async () => {
  const a = await authorize('google', { redirect: APP, state: 'app-state-1' });
  assert.equal(a.status, 200, a.text);
  const u = new URL(a.json.authorizationUrl);
  assert.equal(u.origin + u.pathname, `${provider.url}/o/oauth2/v2/auth`);
  assert.equal(u.searchParams.get('client_id'), 'web-client.apps');
  assert.equal(u.searchParams.get('response_type'), 'code');
  assert.equal(u.searchParams.get('scope'), 'openid email profile');
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.match(u.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(u.searchParams.get('state'), a.json.state);
  assert.equal(u.searchParams.get('redirect_uri'), a.json.callbackUrl);
  provider.consent({ sub: 'gb-1', email: 'Flow.B@gmail.com', email_verified: true, name: 'Flo B' });
  const { cb, callbackUrl } = await browse(a.json.authorizationUrl);
  const q = appQuery(cb);
  assert.equal(q.get('isNewUser'), 'true');
  assert.equal(q.get('expiresIn'), '3600');
  assert.equal(q.get('state'), 'app-state-1', 'the app gets its own state back');
  assert.equal(cb.headers.get('cache-control'), 'no-store');
  const me = await req(srv, 'GET', '/v1/auth/me', { ...pk(), token: q.get('accessToken') });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.email, 'flow.b@gmail.com');
  assert.equal((await req(srv, 'POST', '/v1/auth/refresh', { ...pk(), body: { refreshToken: q.get('refreshToken') } })).status, 200);
  // the token endpoint saw the PKCE verifier that matches the challenge (the stand-in refuses otherwise)
  const tokenCall = provider.calls.filter((c) => c.url === '/token').at(-1);
  assert.match(new URLSearchParams(tokenCall.body).get('code_verifier'), /^[A-Za-z0-9_-]{43}$/);
  // the same state again (a replayed callback URL) is refused, back at the app
  const again = await req(srv, 'GET', callbackUrl.pathname + callbackUrl.search);
  assert.equal(appQuery(again).get('error'), 'auth/invalid-oauth-state');
  // a second visit signs the same user in
  const a2 = await authorize('google', { redirect: APP });
  const q2 = appQuery((await browse(a2.json.authorizationUrl)).cb);
  assert.equal(q2.get('isNewUser'), 'false');
  assert.equal(q2.get('state'), null);
});

test('GitHub through the redirect flow; the user refusing at the provider comes back as an error', async () => {
  const a = await authorize('github', { redirect: APP + '?from=login' });
  assert.equal(a.status, 200, a.text);
  assert.equal(new URL(a.json.authorizationUrl).searchParams.get('scope'), 'read:user user:email');
  provider.consent({ id: 7001, login: 'octo', name: 'Octo Cat', emails: [{ email: 'octo@github.example', primary: true, verified: true }] });
  const { cb } = await browse(a.json.authorizationUrl);
  const q = appQuery(cb);
  assert.equal(q.get('from'), 'login', 'the app URL keeps its own query');
  assert.equal(q.get('isNewUser'), 'true');
  provider.consent(null);
  const refused = appQuery((await browse((await authorize('github', { redirect: APP })).json.authorizationUrl)).cb);
  assert.equal(refused.get('error'), 'auth/oauth-callback-failed');
  assert.match(refused.get('errorMessage'), /access_denied/);
  assert.equal(refused.get('accessToken'), null);
});

test('authorize refuses app URLs that are not registered, and bad providers', async () => {
  for (const redirect of ['https://evil.example/steal', 'javascript:alert(1)', APP + '#frag', '']) {
    expectError(assert, await authorize('google', { redirect }), 400, 'auth/invalid-request');
  }
  expectError(assert, await authorize('myspace', { redirect: APP }), 400, 'auth/unsupported-provider');
  expectError(assert, await authorize('google', { redirect: APP, state: 'x'.repeat(600) }), 400, 'auth/invalid-request');
  expectError(assert, await req(srv, 'GET', '/v1/auth/google/authorize?redirect=' + encodeURIComponent(APP)), 401, 'data/invalid-header');
});

test('forged, altered, foreign and missing states get 400 without a redirect', async () => {
  const a = await authorize('google', { redirect: APP });
  const cb = new URL(a.json.callbackUrl);
  const call = (state, path = cb.pathname) => req(srv, 'GET', `${path}${cb.search}&code=abc&state=${encodeURIComponent(state)}`);
  const [body, mac] = a.json.state.split('.');
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
  const evil = Buffer.from(JSON.stringify({ ...payload, r: 'https://evil.example/' })).toString('base64url');
  for (const state of ['', 'nodot', `${evil}.${mac}`, `${body}.${'A'.repeat(43)}`, `${body}.${mac}x`]) {
    const r = await call(state);
    expectError(assert, r, 400, 'auth/invalid-oauth-state');
    assert.equal(r.headers.get('location'), null);
  }
  // a Google state presented at the GitHub callback
  expectError(assert, await call(a.json.state, cb.pathname.replace('google', 'github')), 400, 'auth/invalid-oauth-state');
  // the callback needs its environment
  expectError(assert, await req(srv, 'GET', `${cb.pathname}?code=abc&state=${encodeURIComponent(a.json.state)}`), 401, 'data/invalid-header');
});
