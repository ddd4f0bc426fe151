// The web console's server side (docs/management-api.md "Console sessions", docs/security.md): signing in
// with an operator token into a cookie session (its flags), reading the session back, the cookie as a
// management credential with the CSRF header on changes, signing out, a revoked token or an expired
// session ending it, the session's rights being its token's, the one-time sign-in link of
// `basalt console link`, and the security headers and path checks of /console/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, runOnce, rawExchange } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const SESSION = '/admin/v1/console/session';
const keysPath = () => `/admin/v1/projects/${b.projectId}/environments/dev/keys`;

// Signs in with token: {res, cookie ("basalt_console=..."), setCookie (the whole header)}.
async function signIn(token, server = srv) {
  const res = await req(server, 'POST', SESSION, { body: { token } });
  const setCookie = res.headers.get('set-cookie') || '';
  return { res, setCookie, cookie: setCookie.split(';')[0] };
}
const withCookie = (cookie, extra = {}) => ({ headers: { Cookie: cookie, ...extra } });

test('sign-in with a good token: 201 with the session and a strict, HttpOnly cookie', async () => {
  const { res, setCookie, cookie } = await signIn(b.operatorToken);
  assert.equal(res.status, 201, res.text);
  assert.match(cookie, /^basalt_console=[A-Za-z0-9_-]{43}$/);
  const attrs = setCookie.split(';').map((s) => s.trim());
  for (const a of ['Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=43200']) assert.ok(attrs.includes(a), `${a} in ${setCookie}`);
  assert.ok(!attrs.includes('Secure'), 'plain http on loopback: no Secure');
  assert.match(res.json.csrfToken, /^[A-Za-z0-9_-]{43}$/);
  const hours = (Date.parse(res.json.expiresAt) - Date.now()) / 3600e3;
  assert.ok(hours > 11.9 && hours <= 12, res.json.expiresAt);
  assert.equal(res.json.organizationId, b.organizationId);
  assert.equal(res.json.role, 'owner');
  assert.match(res.json.member.id, /^mem_/);
  assert.equal(res.json.member.name, 'Owner');
  assert.equal(res.json.token.name, 'bootstrap');
  assert.equal(res.headers.get('cache-control'), 'no-store');
});

test('sign-in with a bad, malformed or missing token: 401 / 400 and no cookie', async () => {
  for (const token of ['bt_' + '0'.repeat(64), 'nope', b.secretKey]) {
    const { res, setCookie } = await signIn(token);
    expectError(assert, res, 401, 'auth/unauthorized');
    assert.equal(setCookie, '');
  }
  expectError(assert, await req(srv, 'POST', SESSION, { body: {} }), 400, 'common/invalid-parameters');
  const cross = await req(srv, 'POST', SESSION, { body: { token: b.operatorToken }, headers: { Origin: 'https://evil.example' } });
  expectError(assert, cross, 403, 'auth/csrf-invalid');
  assert.equal(cross.headers.get('set-cookie'), null);
  const same = await req(srv, 'POST', SESSION, { body: { token: b.operatorToken }, headers: { Origin: srv.url } });
  assert.equal(same.status, 201, same.text);
});

test('Secure is added behind an https proxy on this host', async () => {
  const res = await req(srv, 'POST', SESSION, { body: { token: b.operatorToken }, headers: { 'X-Forwarded-Proto': 'https' } });
  assert.equal(res.status, 201, res.text);
  assert.ok(res.headers.get('set-cookie').split(';').map((s) => s.trim()).includes('Secure'), res.headers.get('set-cookie'));
});

test('GET session with the cookie answers the same session; without one 401', async () => {
  const { res, cookie } = await signIn(b.operatorToken);
  const got = await req(srv, 'GET', SESSION, withCookie(cookie));
  assert.equal(got.status, 200, got.text);
  assert.deepEqual(got.json, res.json);
  expectError(assert, await req(srv, 'GET', SESSION), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', SESSION, withCookie('basalt_console=' + 'A'.repeat(43))), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', SESSION, withCookie('basalt_console=short')), 401, 'auth/unauthorized');
});

test('the cookie is a management credential: reads need no CSRF header, changes need the right one', async () => {
  const { res, cookie } = await signIn(b.operatorToken);
  const csrf = res.json.csrfToken;
  const list = await req(srv, 'GET', keysPath(), withCookie(cookie));
  assert.equal(list.status, 200, list.text);
  const body = { type: 'secret', name: 'from the console' };
  expectError(assert, await req(srv, 'POST', keysPath(), { ...withCookie(cookie), body }), 403, 'auth/csrf-invalid');
  expectError(assert, await req(srv, 'POST', keysPath(), { ...withCookie(cookie, { 'X-CSRF-Token': csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') }), body }),
    403, 'auth/csrf-invalid');
  const made = await req(srv, 'POST', keysPath(), { ...withCookie(cookie, { 'X-CSRF-Token': csrf }), body });
  assert.equal(made.status, 201, made.text);
  // a bearer call needs no CSRF header, even with a cookie beside it
  const bearer = await req(srv, 'POST', keysPath(), { token: b.operatorToken, body, headers: { Cookie: cookie } });
  assert.equal(bearer.status, 201, bearer.text);
  // and a state change with a cookie but no session is 401, not 403
  expectError(assert, await req(srv, 'POST', keysPath(), { ...withCookie('basalt_console=' + 'B'.repeat(43), { 'X-CSRF-Token': csrf }), body }),
    401, 'auth/unauthorized');
});

test('sign-out: DELETE needs the CSRF header, ends the session and clears the cookie', async () => {
  const { res, cookie } = await signIn(b.operatorToken);
  expectError(assert, await req(srv, 'DELETE', SESSION, withCookie(cookie)), 403, 'auth/csrf-invalid');
  const out = await req(srv, 'DELETE', SESSION, withCookie(cookie, { 'X-CSRF-Token': res.json.csrfToken }));
  assert.equal(out.status, 204, out.text);
  assert.match(out.headers.get('set-cookie'), /^basalt_console=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
  expectError(assert, await req(srv, 'GET', SESSION, withCookie(cookie)), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', keysPath(), withCookie(cookie)), 401, 'auth/unauthorized');
});

// Invites email as role into the bootstrap organization and accepts: the member's token.
async function memberToken(email, role) {
  const base = `/admin/v1/organizations/${b.organizationId}`;
  const inv = await req(srv, 'POST', `${base}/invitations`, { token: b.operatorToken, body: { email, name: email.split('@')[0], role } });
  assert.equal(inv.status, 201, inv.text);
  const ok = await req(srv, 'POST', '/admin/v1/invitations/accept', { body: { token: inv.json.token } });
  assert.equal(ok.status, 201, ok.text);
  return ok.json;
}

test('revoking the token ends its sessions', async () => {
  const joined = await memberToken('rev@console.io', 'admin');
  const { res, cookie } = await signIn(joined.token);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.role, 'admin');
  assert.equal(res.json.member.email, 'rev@console.io');
  assert.equal((await req(srv, 'GET', keysPath(), withCookie(cookie))).status, 200);
  const del = await req(srv, 'DELETE', `/admin/v1/organizations/${b.organizationId}/access-tokens/${joined.tokenId}`, { token: b.operatorToken });
  assert.ok(del.status === 200 || del.status === 204, del.text);
  expectError(assert, await req(srv, 'GET', SESSION, withCookie(cookie)), 401, 'auth/unauthorized');
  expectError(assert, await req(srv, 'GET', keysPath(), withCookie(cookie)), 401, 'auth/unauthorized');
});

test("a session has its token's rights: a member's session cannot create keys", async () => {
  const joined = await memberToken('viewer@console.io', 'member');
  const { res, cookie } = await signIn(joined.token);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.role, 'member');
  const made = await req(srv, 'POST', keysPath(), { ...withCookie(cookie, { 'X-CSRF-Token': res.json.csrfToken }), body: { type: 'secret' } });
  expectError(assert, made, 403, 'org/permission-denied');
  const direct = await req(srv, 'POST', keysPath(), { token: joined.token, body: { type: 'secret' } });
  expectError(assert, direct, 403, 'org/permission-denied');
});
