// Users as the example apps use them (client-api.md §7.1 A6–A8, §3.7, §3.12–3.14): password change,
// account deletion (DELETE /v1/users/:ownId and /v1/auth/withdraw), profile read and update.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const pk = () => ({ key: b.publishableKey });
async function account(email, password = 'secret1', name = 'Jane') {
  const r = await req(srv, 'POST', '/v1/auth/email/signup', { ...pk(), body: { method: 'password', email, password, name } });
  assert.equal(r.status, 201, r.text);
  const claims = JSON.parse(Buffer.from(r.json.accessToken.split('.')[1], 'base64url'));
  return { ...r.json, id: claims.sub, as: { ...pk(), token: r.json.accessToken } };
}
const signin = (email, password) => req(srv, 'POST', '/v1/auth/email/signin', { ...pk(), body: { email, password } });

test('password change: checks the current one, then every session ends', async () => {
  const a = await account('pw@x.io', 'old-pass-1');
  expectError(assert, await req(srv, 'POST', '/v1/auth/password/change', { ...a.as, body: { currentPassword: 'wrong-pass', newPassword: 'new-pass-1' } }), 401, 'auth/invalid-password');
  expectError(assert, await req(srv, 'POST', '/v1/auth/password/change', { ...a.as, body: { currentPassword: 'old-pass-1', newPassword: 'old-pass-1' } }), 400, 'auth/same-as-previous-password');
  expectError(assert, await req(srv, 'POST', '/v1/auth/password/change', { ...a.as, body: { currentPassword: 'old-pass-1', newPassword: 'abc' } }), 400, 'auth/invalid-password-format');
  expectError(assert, await req(srv, 'POST', '/v1/auth/password/change', { ...pk(), body: { currentPassword: 'old-pass-1', newPassword: 'new-pass-1' } }), 401, 'auth/unauthorized');
  const ok = await req(srv, 'POST', '/v1/auth/password/change', { ...a.as, body: { currentPassword: 'old-pass-1', newPassword: 'new-pass-1' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(typeof ok.json.message, 'string');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', a.as), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'POST', '/v1/auth/refresh', { ...pk(), body: { refreshToken: a.refreshToken } }), 401, 'auth/session-expired');
  expectError(assert, await signin('pw@x.io', 'old-pass-1'), 401, 'auth/invalid-credentials');
  assert.equal((await signin('pw@x.io', 'new-pass-1')).status, 200);
});

test('profile: PATCH answers the whole user, GET profile, validation, only self or admin', async () => {
  const a = await account('prof@x.io');
  const p = await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...a.as, body: { name: 'Jane Doe', image: 'https://cdn.example.com/a.jpg', bio: 'hi', gender: 'female', mobile: '+821012345678', socialLinks: { github: 'jd' }, unknown: 1 } });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.id, a.id);
  assert.equal(p.json.email, 'prof@x.io');
  assert.equal(p.json.name, 'Jane Doe');
  assert.equal(p.json.image, 'https://cdn.example.com/a.jpg');
  assert.deepEqual(p.json.socialLinks, { github: 'jd' });
  const me = await req(srv, 'GET', '/v1/auth/me', a.as);
  assert.equal(me.json.image, 'https://cdn.example.com/a.jpg');
  assert.equal(me.json.bio, 'hi');
  const prof = await req(srv, 'GET', `/v1/users/${a.id}/profile`, a.as);
  assert.equal(prof.status, 200);
  assert.deepEqual(Object.keys(prof.json).sort(), ['bio', 'email', 'gender', 'image', 'mobile', 'name', 'nickname', 'socialLinks'].sort());
  const cleared = await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...a.as, body: { image: null, bio: null } });
  assert.equal(cleared.json.image, null);
  assert.equal(cleared.json.bio, null);
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...a.as, body: { name: '' } }), 400, 'user/invalid-name');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...a.as, body: { name: 'x'.repeat(101) } }), 400, 'user/invalid-name');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...a.as, body: { nickname: 'n'.repeat(51) } }), 400, 'user/invalid-nickname');
  for (const body of [{ image: 'javascript:alert(1)' }, { gender: 'robot' }, { mobile: 'call me' }, { socialLinks: { myspace: 'x' } }, { bio: 'b'.repeat(501) }]) {
    expectError(assert, await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...a.as, body }), 400, 'common/invalid-parameters');
  }
  const other = await account('other@x.io');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { ...other.as, body: { name: 'hijack' } }), 403, 'user/forbidden');
  expectError(assert, await req(srv, 'GET', `/v1/users/${a.id}/profile`, { ...other.as }), 403, 'user/forbidden');
  const pub = await req(srv, 'GET', `/v1/users/${a.id}`, other.as);
  assert.equal(pub.status, 200);
  assert.deepEqual(Object.keys(pub.json).sort(), ['createdAt', 'id', 'image', 'name', 'nickname']);
  const full = await req(srv, 'GET', `/v1/users/${a.id}`, { key: b.secretKey });
  assert.equal(full.json.email, 'prof@x.io', 'the secret key is admin');
  expectError(assert, await req(srv, 'GET', `/v1/users/${a.id}`, pk()), 401, 'user/unauthorized');
  expectError(assert, await req(srv, 'GET', '/v1/users/usr_nope', { key: b.secretKey }), 404, 'user/not-found');
  const byAdmin = await req(srv, 'PATCH', `/v1/users/${a.id}/profile`, { key: b.secretKey, body: { nickname: 'jd' } });
  assert.equal(byAdmin.status, 200, byAdmin.text);
  assert.equal(byAdmin.json.nickname, 'jd');
});

test('account deletion: DELETE /v1/users/:ownId and /v1/auth/withdraw end everything and free the e-mail', async () => {
  const a = await account('bye@x.io');
  const other = await account('keep@x.io');
  expectError(assert, await req(srv, 'DELETE', `/v1/users/${a.id}`, other.as), 403, 'user/forbidden');
  const del = await req(srv, 'DELETE', `/v1/users/${a.id}`, a.as);
  assert.equal(del.status, 200, del.text);
  assert.equal(typeof del.json.message, 'string');
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', a.as), 401, 'auth/invalid-token');
  expectError(assert, await signin('bye@x.io', 'secret1'), 401, 'auth/invalid-credentials');
  expectError(assert, await req(srv, 'GET', `/v1/users/${a.id}`, { key: b.secretKey }), 404, 'user/not-found');
  const again = await account('bye@x.io');
  assert.notEqual(again.id, a.id, 'the e-mail can make a new account');
  const w = await req(srv, 'DELETE', '/v1/auth/withdraw', again.as);
  assert.equal(w.status, 200, w.text);
  expectError(assert, await signin('bye@x.io', 'secret1'), 401, 'auth/invalid-credentials');
  const byAdmin = await req(srv, 'DELETE', `/v1/users/${other.id}`, { key: b.secretKey });
  assert.equal(byAdmin.status, 200, byAdmin.text);
  expectError(assert, await req(srv, 'GET', '/v1/auth/me', other.as), 401, 'auth/invalid-token');
});

test('GET/POST /v1/users, rename and role changes (roles only by admins)', async () => {
  const alice = await account('alice@list.io', 'secret1', 'Alice');
  await account('bob@list.io', 'secret1', 'Bob');
  const made = await req(srv, 'POST', '/v1/users', { key: b.secretKey, body: { name: 'Carol', email: 'Carol@List.io', role: 'guest' } });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.email, 'carol@list.io');
  assert.equal(made.json.role, 'guest');
  expectError(assert, await req(srv, 'POST', '/v1/users', { ...alice.as, body: { name: 'X', email: 'x@list.io' } }), 403, 'user/forbidden');
  expectError(assert, await req(srv, 'POST', '/v1/users', { key: b.secretKey, body: { name: 'X', email: 'x@list.io', role: 'root' } }), 400, 'user/invalid-role');
  expectError(assert, await req(srv, 'POST', '/v1/users', { key: b.secretKey, body: { name: 'Dup', email: 'alice@list.io' } }), 409, 'auth/email-already-exists');
  const pub = await req(srv, 'GET', '/v1/users?search=li&sortBy=name&sortDirection=asc', alice.as);
  assert.equal(pub.status, 200, pub.text);
  assert.ok(pub.json.items.some((u) => u.name === 'Alice'));
  assert.ok(pub.json.items.every((u) => !('email' in u)), 'non-admins see public fields only');
  assert.equal(pub.json.pagination.limit, 20);
  const all = await req(srv, 'GET', '/v1/users?searchType=email&search=list.io&sortBy=email&sortDirection=asc&limit=2', { key: b.secretKey });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json.items.map((u) => u.email), ['alice@list.io', 'bob@list.io']);
  assert.equal(all.json.pagination.total, 3);
  assert.equal(all.json.pagination.hasNext, true);
  expectError(assert, await req(srv, 'GET', '/v1/users?sortBy=password', alice.as), 400, 'common/invalid-parameters');
  for (const hidden of ['sortBy=email', 'sortBy=role', 'sortBy=updatedAt', 'searchType=email&search=list.io'])
    expectError(assert, await req(srv, 'GET', `/v1/users?${hidden}`, alice.as), 403, 'user/forbidden'); // not public fields
  expectError(assert, await req(srv, 'GET', '/v1/users', pk()), 401, 'user/unauthorized');
  const renamed = await req(srv, 'PATCH', `/v1/users/${alice.id}`, { ...alice.as, body: { name: 'Alicia' } });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json.name, 'Alicia');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${alice.id}`, { ...alice.as, body: { name: '' } }), 400, 'user/invalid-name');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${alice.id}/role`, { ...alice.as, body: { role: 'admin' } }), 403, 'user/forbidden');
  const promoted = await req(srv, 'PATCH', `/v1/users/${alice.id}/role`, { key: b.secretKey, body: { role: 'admin' } });
  assert.equal(promoted.status, 200, promoted.text);
  assert.equal(promoted.json.role, 'admin');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${alice.id}/role`, { key: b.secretKey, body: { role: 'king' } }), 400, 'user/invalid-role');
  const again = await req(srv, 'POST', '/v1/auth/email/signin', { ...pk(), body: { email: 'alice@list.io', password: 'secret1' } });
  const claims = JSON.parse(Buffer.from(again.json.accessToken.split('.')[1], 'base64url'));
  assert.equal(claims.role, 'admin', 'the next token carries the new role');
  const asAdmin = await req(srv, 'GET', '/v1/users?limit=100', { ...pk(), token: again.json.accessToken });
  assert.ok(asAdmin.json.items.every((u) => typeof u.email === 'string'), 'admin-role users see every field');
});

test('per-user settings: preferences, notifications, onboarding (mirrored in /me), public settings with unique slugs', async () => {
  const a = await account('settings@x.io'), other = await account('settings2@x.io');
  const base = `/v1/users/${a.id}`;
  const prefs = await req(srv, 'GET', `${base}/preferences`, a.as);
  assert.deepEqual(prefs.json, { locale: null, timezone: null, theme: null });
  const p2 = await req(srv, 'PATCH', `${base}/preferences`, { ...a.as, body: { locale: 'ko', timezone: 'Asia/Seoul', theme: 'dark' } });
  assert.deepEqual(p2.json, { locale: 'ko', timezone: 'Asia/Seoul', theme: 'dark' });
  const p3 = await req(srv, 'PATCH', `${base}/preferences`, { ...a.as, body: { theme: null } });
  assert.deepEqual(p3.json, { locale: 'ko', timezone: 'Asia/Seoul', theme: null });
  for (const body of [{ theme: 'neon' }, { locale: 'x'.repeat(17) }, { timezone: 'Asia/Seoul; drop' }, { colour: 'red' }]) {
    expectError(assert, await req(srv, 'PATCH', `${base}/preferences`, { ...a.as, body }), 400, 'common/invalid-parameters');
  }
  const n = await req(srv, 'GET', `${base}/notifications`, a.as);
  assert.deepEqual(n.json, { service: true, marketing: false, push: true, email: true, sms: false, nightTime: false, securityAlerts: true });
  const n2 = await req(srv, 'PATCH', `${base}/notifications`, { ...a.as, body: { marketing: true, sms: true } });
  assert.equal(n2.json.marketing, true);
  assert.equal(n2.json.push, true);
  expectError(assert, await req(srv, 'PATCH', `${base}/notifications`, { ...a.as, body: { push: 'yes' } }), 400, 'common/invalid-parameters');
  assert.equal((await req(srv, 'GET', '/v1/auth/me', a.as)).json.onboardingStatus, 'pending');
  const o = await req(srv, 'PATCH', `${base}/onboarding`, { ...a.as, body: { status: 'completed', steps: { profile: true } } });
  assert.deepEqual(o.json, { status: 'completed', steps: { profile: true } });
  assert.equal((await req(srv, 'GET', '/v1/auth/me', a.as)).json.onboardingStatus, 'completed');
  const pub = await req(srv, 'PATCH', `${base}/public-settings`, { ...a.as, body: { slug: 'jane-d', isPublic: true } });
  assert.deepEqual(pub.json, { slug: 'jane-d', isPublic: true });
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${other.id}/public-settings`, { ...other.as, body: { slug: 'jane-d' } }), 409, 'user/slug-taken');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${other.id}/public-settings`, { ...other.as, body: { slug: 'Jane D' } }), 400, 'common/invalid-parameters');
  assert.equal((await req(srv, 'PATCH', `${base}/public-settings`, { ...a.as, body: { slug: 'jane-d' } })).status, 200, 'keeping your own slug');
  expectError(assert, await req(srv, 'GET', `${base}/preferences`, other.as), 403, 'user/forbidden');
  expectError(assert, await req(srv, 'GET', `${base}/preferences`, pk()), 401, 'user/unauthorized');
  assert.deepEqual((await req(srv, 'GET', `${base}/preferences`, { key: b.secretKey })).json.locale, 'ko', 'admins read them');
  const prof = await req(srv, 'GET', '/v1/auth/me', a.as);
  assert.equal(prof.json.name, 'Jane', 'settings leave the profile alone');
});

test('an admin-role user signed out acts on no other user: profiles, settings, avatars answer 401', async () => {
  const admin = await account('signedout-admin@x.io'), other = await account('signedout-other@x.io');
  const promoted = await req(srv, 'PATCH', `/v1/users/${admin.id}/role`, { key: b.secretKey, body: { role: 'admin' } });
  assert.equal(promoted.status, 200, promoted.text);
  const s = await signin('signedout-admin@x.io', 'secret1');
  assert.equal(s.status, 200, s.text);
  const as = { ...pk(), token: s.json.accessToken };
  assert.equal((await req(srv, 'GET', `/v1/users/${other.id}`, as)).json.email, 'signedout-other@x.io', 'signed in: an admin reads others');
  assert.equal((await req(srv, 'GET', `/v1/users/${other.id}/preferences`, as)).status, 200);
  assert.equal((await req(srv, 'POST', '/v1/auth/signout', { ...as, body: {} })).status, 200);
  expectError(assert, await req(srv, 'GET', `/v1/users/${other.id}`, as), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'GET', `/v1/users/${other.id}/preferences`, as), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${other.id}/role`, { ...as, body: { role: 'admin' } }), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'DELETE', `/v1/users/${other.id}`, as), 401, 'auth/invalid-token');
  assert.equal((await req(srv, 'GET', `/v1/users/${other.id}`, { key: b.secretKey })).status, 200, 'the other user is still there');
});

test('text that is not UTF-8 in a user path or query is a client error on every store', async () => {
  const sk = { key: b.secretKey };
  for (const bad of ['%ff', '%c3%28', '%ed%a0%80']) {
    for (const [method, p] of [['GET', `/v1/users?search=${bad}`], ['GET', `/v1/users?search=${bad}&searchType=email`],
      ['GET', `/v1/users/${bad}`], ['GET', `/v1/users/${bad}/profile`], ['DELETE', `/v1/users/${bad}`],
      ['PATCH', `/v1/users/${bad}/role`], ['GET', `/v1/users/${bad}/preferences`], ['GET', `/v1/users/${bad}/public-settings`],
      ['GET', `/v1/auth/signup/email/confirm?email=${bad}&token=abc`]]) {
      const r = await req(srv, method, p, { ...sk, ...(method === 'PATCH' ? { body: { role: 'user' } } : {}) });
      assert.ok(r.status < 500, `${method} ${p}: ${r.status} ${r.text}`);
      if (r.status >= 400 && r.status !== 302) expectError(assert, r, r.status, r.json?.error?.code);
    }
  }
});
