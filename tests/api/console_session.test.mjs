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
  // signing in again from the same browser ends its previous session
  const again = await req(srv, 'POST', SESSION, { body: { token: b.operatorToken }, headers: { Cookie: cookie } });
  assert.equal(again.status, 201, again.text);
  expectError(assert, await req(srv, 'GET', SESSION, withCookie(cookie)), 401, 'auth/unauthorized');
  const fresh = again.headers.get('set-cookie').split(';')[0];
  assert.equal((await req(srv, 'GET', SESSION, withCookie(fresh))).status, 200);
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

// ---- the one-time sign-in link ----

const LINK = /^(http:\/\/[^/\s]+)\/console\/signin\?code=([A-Za-z0-9_-]{43})$/;

test('the first start prints a console sign-in link beside the keys, and it signs in once', async () => {
  const line = srv.stdout().split('\n').find((l) => l.trim().startsWith('console '));
  assert.ok(line, srv.stdout());
  const url = line.trim().split(/\s+/)[1];
  const m = LINK.exec(url);
  assert.ok(m, url);
  assert.equal(m[1], srv.url);
  const head = await req(srv, 'HEAD', `/console/signin?code=${m[2]}`);
  assert.equal(head.status, 303);
  assert.equal(head.headers.get('set-cookie'), null, 'a HEAD does not use the code');
  const first = await req(srv, 'GET', `/console/signin?code=${m[2]}`);
  assert.equal(first.status, 303, first.text);
  assert.equal(first.headers.get('location'), '/console/');
  const cookie = (first.headers.get('set-cookie') || '').split(';')[0];
  assert.match(cookie, /^basalt_console=[A-Za-z0-9_-]{43}$/);
  const s = await req(srv, 'GET', SESSION, withCookie(cookie));
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.role, 'owner');
  assert.equal(s.json.organizationId, b.organizationId);
  assert.equal(s.json.token.name, 'console link');
  assert.equal(s.json.member.name, 'Owner');
  const again = await req(srv, 'GET', `/console/signin?code=${m[2]}`);
  assert.equal(again.status, 303);
  assert.equal(again.headers.get('location'), '/console/?signin=expired');
  assert.equal(again.headers.get('set-cookie'), null, 'a used link gives no cookie');
});

test('basalt console link: a new single-use link for the bootstrap organization (or a named one)', async () => {
  const made = await runOnce(['console', 'link', '--data', srv.dataDir, '--url', srv.url]);
  assert.equal(made.code, 0, made.stderr);
  const m = LINK.exec(made.stdout.trim());
  assert.ok(m, made.stdout);
  const first = await req(srv, 'GET', `/console/signin?code=${m[2]}`);
  assert.equal(first.headers.get('location'), '/console/');
  const cookie = first.headers.get('set-cookie').split(';')[0];
  const s = await req(srv, 'GET', SESSION, withCookie(cookie));
  assert.equal(s.json.role, 'owner');
  // the session is a full owner credential, CSRF rules included
  const body = { type: 'publishable', name: 'via link' };
  expectError(assert, await req(srv, 'POST', keysPath(), { ...withCookie(cookie), body }), 403, 'auth/csrf-invalid');
  const ok = await req(srv, 'POST', keysPath(), { ...withCookie(cookie, { 'X-CSRF-Token': s.json.csrfToken }), body });
  assert.equal(ok.status, 201, ok.text);
  const second = await req(srv, 'GET', `/console/signin?code=${m[2]}`);
  assert.equal(second.headers.get('location'), '/console/?signin=expired');
  assert.equal(second.headers.get('set-cookie'), null);
  // an explicit organization; an unknown one fails
  const named = await runOnce(['console', 'link', b.organizationId, '--data', srv.dataDir]);
  assert.equal(named.code, 0, named.stderr);
  assert.match(named.stdout.trim(), LINK);
  const unknown = await runOnce(['console', 'link', 'org_nope', '--data', srv.dataDir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not found/i);
  assert.equal((await runOnce(['console', 'nope', '--data', srv.dataDir])).code, 2);
});

test('a malformed or unknown sign-in code redirects without a cookie', async () => {
  for (const q of ['', '?code=', '?code=short', `?code=${'A'.repeat(43)}`]) {
    const r = await req(srv, 'GET', `/console/signin${q}`);
    assert.equal(r.status, 303, q);
    assert.equal(r.headers.get('location'), '/console/?signin=expired', q);
    assert.equal(r.headers.get('set-cookie'), null, q);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  }
});

// ---- /console/ itself ----

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self';" +
  " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

function expectSecurityHeaders(res, what) {
  assert.equal(res.headers.get('content-security-policy'), CSP, what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
}

test('/console/ answers carry the CSP, nosniff and no-referrer; index.html is never cached', async () => {
  const index = await req(srv, 'GET', '/console/');
  assert.equal(index.status, 200, index.text);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  expectSecurityHeaders(index, '/console/');
  assert.equal(index.headers.get('cache-control'), 'no-store');
  const direct = await req(srv, 'GET', '/console/index.html');
  assert.equal(direct.headers.get('cache-control'), 'no-store');
  const js = await req(srv, 'GET', '/console/console.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  expectSecurityHeaders(js, 'console.js');
  const css = await req(srv, 'GET', '/console/console.css');
  assert.match(css.headers.get('content-type'), /^text\/css/);
  const missing = await req(srv, 'GET', '/console/no-such-file.js');
  expectError(assert, missing, 404, 'common/not-found');
  expectSecurityHeaders(missing, '404');
  const bare = await req(srv, 'GET', '/console');
  assert.equal(bare.status, 200);
  expectSecurityHeaders(bare, '/console');
});

test('/console/vendor/chart.js serves the chart library from its Debian package, with the same headers', async () => {
  const r = await req(srv, 'GET', '/console/vendor/chart.js');
  expectSecurityHeaders(r, 'chart.js');
  if (r.status === 404) {
    expectError(assert, r, 404, 'common/not-found');
    assert.match(r.json.error.message, /libjs-chart\.js/);
    return;
  }
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  assert.match(r.text.slice(0, 200), /Chart\.js v\d/);
});

test('a configured chart library that is missing is a clear 404', async () => {
  const s = await startServer({ args: ['--console-chart-js', '/nonexistent/chart.js'] });
  try {
    const r = await req(s, 'GET', '/console/vendor/chart.js');
    expectError(assert, r, 404, 'common/not-found');
    assert.match(r.json.error.message, /libjs-chart\.js|--console-chart-js/);
    expectSecurityHeaders(r, 'missing chart.js');
  } finally { await s.stop(); }
});

test('paths that climb out of the console directory are refused', async () => {
  const probes = ['/console/../bootstrap.json', '/console/%2e%2e/bootstrap.json', '/console/%2E%2E/%2e%2e/etc/passwd',
    '/console/..%2fbootstrap.json', '/console/.%2e/control.db', '/console/vendor/../../bootstrap.json', '/console/.hidden'];
  for (const p of probes) {
    const raw = await rawExchange(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
    assert.ok(status === 404 || status === 400, `${p}: ${raw.slice(0, 200)}`);
    assert.doesNotMatch(raw, /operatorToken|root:x:0|SQLite format/, p);
  }
});

test('sessions expire after 12 hours (the test clock)', async () => {
  const s = await startServer({ keep: true });
  let later;
  try {
    const { res, cookie } = await signIn(s.bootstrap.operatorToken, s);
    assert.equal(res.status, 201, res.text);
    const link = await runOnce(['console', 'link', '--data', s.dataDir]);
    const code = LINK.exec(link.stdout.trim())[2];
    await s.stop({ removeDir: false });
    later = await startServer({ dataDir: s.dataDir, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(12 * 3600e3 + 60e3) } });
    expectError(assert, await req(later, 'GET', SESSION, withCookie(cookie)), 401, 'auth/unauthorized');
    expectError(assert, await req(later, 'GET', `/admin/v1/projects/${s.bootstrap.projectId}/environments/dev/keys`, withCookie(cookie)),
      401, 'auth/unauthorized');
    const expired = await req(later, 'GET', `/console/signin?code=${code}`);
    assert.equal(expired.headers.get('location'), '/console/?signin=expired', 'links expire after 15 minutes');
    assert.equal(expired.headers.get('set-cookie'), null);
  } finally {
    await later?.stop();
    await s.stop({ removeDir: true }).catch(() => {});
  }
});

test("a link's access token lives as long as its session: sign-out deletes it, an expired one leaves the list", async () => {
  const s = await startServer({ keep: true });
  let later;
  const tokens = async (server) => {
    const r = await req(server, 'GET', `/admin/v1/organizations/${s.bootstrap.organizationId}/access-tokens`, { token: s.bootstrap.operatorToken });
    assert.equal(r.status, 200, r.text);
    return r.json.items;
  };
  const linkSignIn = async () => {
    const link = await runOnce(['console', 'link', '--data', s.dataDir]);
    const used = await req(s, 'GET', `/console/signin?code=${LINK.exec(link.stdout.trim())[2]}`);
    const cookie = used.headers.get('set-cookie').split(';')[0];
    const session = await req(s, 'GET', SESSION, withCookie(cookie));
    assert.equal(session.status, 200, session.text);
    return { cookie, session: session.json };
  };
  try {
    const one = await linkSignIn();
    assert.ok((await tokens(s)).some((t) => t.id === one.session.token.id), 'listed while its session lives');
    const out = await req(s, 'DELETE', SESSION, withCookie(one.cookie, { 'X-CSRF-Token': one.session.csrfToken }));
    assert.equal(out.status, 204, out.text);
    assert.ok(!(await tokens(s)).some((t) => t.id === one.session.token.id), 'signing out deletes the link token');
    // a token made with a password-like sign-in (POST session) is not touched by its sign-out
    const { cookie: plain, res } = await signIn(s.bootstrap.operatorToken, s);
    const plainOut = await req(s, 'DELETE', SESSION, withCookie(plain, { 'X-CSRF-Token': res.json.csrfToken }));
    assert.equal(plainOut.status, 204);
    assert.equal((await tokens(s)).length, 1, 'the bootstrap token stays');
    // the name is reserved
    expectError(assert, await req(s, 'POST', `/admin/v1/organizations/${s.bootstrap.organizationId}/access-tokens`,
      { token: s.bootstrap.operatorToken, body: { name: 'console link', role: 'member' } }), 400, 'common/invalid-parameters');

    const two = await linkSignIn();
    const three = await linkSignIn();
    assert.equal((await tokens(s)).filter((t) => t.name === 'console link').length, 2);
    await s.stop({ removeDir: false });
    later = await startServer({ dataDir: s.dataDir, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(12 * 3600e3 + 60e3) } });
    const left = await tokens(later);
    assert.deepEqual(left.filter((t) => [two, three].some((x) => x.session.token.id === t.id)), [], 'expired link tokens are gone');
    assert.equal(left.length, 1);
  } finally {
    await later?.stop();
    await s.stop({ removeDir: true }).catch(() => {});
  }
});
