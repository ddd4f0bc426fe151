// The team (docs/platform.md "Team"): members, invitations (with the 7-day expiry on a moved clock),
// accepting, role changes by the §9.6 rules taking effect on the very next request, removal revoking
// tokens at once, the organization's access tokens, ownership transfer, leaving, and the activity log.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test, startServer, req, expectError, tempDir } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const admin = (method, path, body, token = b.operatorToken, server = srv) => req(server, method, '/admin/v1' + path, { token, body });
const accept = (body, server = srv) => req(server, 'POST', '/admin/v1/invitations/accept', { body });

// A new organization whose owner token is bound to its Owner member.
async function newOrg(slug, extra = {}) {
  const made = await admin('POST', '/organizations', { name: slug, slug, ownerEmail: `owner@${slug}.io`, ...extra });
  assert.equal(made.status, 201, made.text);
  return { id: made.json.id, owner: made.json.ownerToken, ownerMemberId: made.json.ownerMemberId, base: `/organizations/${made.json.id}` };
}

// Invites email with role (by token) and accepts it: {member, token}.
async function join(org, email, role, token = org.owner, server = srv) {
  const inv = await admin('POST', `${org.base}/invitations`, { email, name: email.split('@')[0], role }, token, server);
  assert.equal(inv.status, 201, inv.text);
  const ok = await accept({ token: inv.json.token }, server);
  assert.equal(ok.status, 201, ok.text);
  return { member: ok.json.member, token: ok.json.token };
}

test('the bootstrap organization has an Owner member that the bootstrap token acts as', async () => {
  const list = await admin('GET', `/organizations/${b.organizationId}/members?role=owner`);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.items.length, 1);
  assert.equal(list.json.items[0].name, 'Owner');
  const tokens = await admin('GET', `/organizations/${b.organizationId}/access-tokens`);
  const boot = tokens.json.items.find((t) => t.name === 'bootstrap');
  assert.equal(boot.memberId, list.json.items[0].id);
  expectError(assert, await admin('DELETE', `/organizations/${b.organizationId}/members/${boot.memberId}`), 409, 'org/last-owner');
});

test('a new organization has an Owner member that its owner token acts for', async () => {
  const made = await admin('POST', '/organizations', { name: 'Team Co', slug: 'team-co', ownerEmail: 'Ada@Team.io', ownerName: 'Ada' });
  assert.equal(made.status, 201, made.text);
  assert.match(made.json.ownerMemberId, /^mem_[0-9a-f]{20}$/);
  const t = made.json.ownerToken, base = `/organizations/${made.json.id}`;
  const list = await admin('GET', `${base}/members`, undefined, t);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.pagination.total, 1);
  const m = list.json.items[0];
  assert.deepEqual({ id: m.id, email: m.email, name: m.name, role: m.role, status: m.status, org: m.organizationId, invitedBy: m.invitedBy },
    { id: made.json.ownerMemberId, email: 'Ada@Team.io', name: 'Ada', role: 'owner', status: 'active', org: made.json.id, invitedBy: null });
  assert.ok(Date.parse(m.joinedAt) > 0);
  assert.deepEqual((await admin('GET', `${base}/members/${m.id}`, undefined, t)).json, m);
  const tokens = await admin('GET', `${base}/access-tokens`, undefined, t);
  assert.equal(tokens.status, 200, tokens.text);
  assert.equal(tokens.json.items[0].memberId, m.id);
  assert.equal(tokens.json.items[0].role, 'owner');
  const plain = await admin('POST', '/organizations', { name: 'Plain', slug: 'plain-co' });
  const owner = (await admin('GET', `/organizations/${plain.json.id}/members`, undefined, plain.json.ownerToken)).json.items[0];
  assert.equal(owner.name, 'Owner');
  assert.equal(owner.email, null);
  expectError(assert, await admin('POST', '/organizations', { name: 'Bad', slug: 'bad-owner', ownerEmail: 'nope' }), 400, 'common/invalid-parameters');
  expectError(assert, await admin('GET', '/organizations/bad-owner'), 404, 'org/not-found');
});

test('invitations: created with a token shown once, listed with a status, accepted into a member with a working token', async () => {
  const org = await newOrg('inv-co');
  const inv = await admin('POST', `${org.base}/invitations`, { email: 'Alice@Inv.io', name: 'Alice', role: 'admin' }, org.owner);
  assert.equal(inv.status, 201, inv.text);
  assert.match(inv.json.id, /^inv_[0-9a-f]{20}$/);
  assert.match(inv.json.token, /^inv_[0-9a-f]{64}$/);
  assert.ok(inv.json.acceptUrl.startsWith(srv.url) && inv.json.acceptUrl.endsWith(inv.json.token), inv.json.acceptUrl);
  assert.equal(inv.json.status, 'pending');
  assert.equal(inv.json.invitedBy, org.ownerMemberId);
  const days = (Date.parse(inv.json.expiresAt) - Date.parse(inv.json.createdAt)) / 86400e3;
  assert.equal(days, 7);
  const list = await admin('GET', `${org.base}/invitations`, undefined, org.owner);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.items.map((i) => [i.email, i.status, i.role]), [['Alice@Inv.io', 'pending', 'admin']]);
  assert.equal(list.json.items[0].token, undefined, 'the token is shown once');
  expectError(assert, await admin('POST', `${org.base}/invitations`, { email: 'owner@INV-CO.io' }, org.owner), 409, 'org/already-member');

  const ok = await accept({ token: inv.json.token, name: 'Alice A.' });
  assert.equal(ok.status, 201, ok.text);
  assert.match(ok.json.token, /^bt_[0-9a-f]{64}$/);
  assert.deepEqual([ok.json.member.email, ok.json.member.name, ok.json.member.role, ok.json.member.invitedBy], ['Alice@Inv.io', 'Alice A.', 'admin', org.ownerMemberId]);
  assert.equal((await admin('GET', org.base, undefined, ok.json.token)).status, 200, 'the new member is in');
  assert.equal((await admin('GET', `${org.base}/members`, undefined, org.owner)).json.pagination.total, 2);
  const after1 = await admin('GET', `${org.base}/invitations?status=accepted`, undefined, org.owner);
  assert.equal(after1.json.items[0].memberId, ok.json.member.id);
  assert.ok(after1.json.items[0].acceptedAt);
  assert.equal((await admin('GET', `${org.base}/invitations?status=pending`, undefined, org.owner)).json.items.length, 0);
  expectError(assert, await admin('GET', `${org.base}/invitations?status=maybe`, undefined, org.owner), 400, 'common/invalid-parameters');
  expectError(assert, await accept({ token: inv.json.token }), 410, 'org/invitation-used');
  expectError(assert, await accept({ token: 'inv_' + '0'.repeat(64) }), 404, 'org/invitation-not-found');
  expectError(assert, await accept({ token: 'nope' }), 400, 'common/invalid-parameters');
  expectError(assert, await accept({}), 400, 'common/invalid-parameters');
  expectError(assert, await admin('POST', `${org.base}/invitations`, { email: 'alice@inv.io', role: 'member' }, org.owner), 409, 'org/already-member');
  const log = await admin('GET', `${org.base}/activity?entityType=invitation`, undefined, org.owner);
  assert.deepEqual(log.json.items.map((a) => a.action), ['accept', 'create']);
  assert.equal(log.json.items[1].actorType, 'member');
  assert.equal(log.json.items[1].actor, org.ownerMemberId);
  const joined = await admin('GET', `${org.base}/activity?entityType=member`, undefined, org.owner);
  assert.equal(joined.json.items[0].action, 'create');
  assert.equal(joined.json.items[0].actor, ok.json.member.id);
});

test('who may invite whom: owner any role but owner, admin only members, member and billing nobody', async () => {
  const org = await newOrg('who-co');
  const adm = await join(org, 'adm@who.io', 'admin');
  const bil = await join(org, 'bil@who.io', 'billing');
  const mem = await join(org, 'mem@who.io', 'member');
  const invite = (token, role, email = `${role}-${Math.random().toString(16).slice(2)}@who.io`) =>
    admin('POST', `${org.base}/invitations`, { email, role }, token);
  for (const role of ['admin', 'member', 'billing']) assert.equal((await invite(org.owner, role)).status, 201, role);
  expectError(assert, await invite(org.owner, 'owner'), 400, 'common/invalid-parameters');
  expectError(assert, await invite(org.owner, 'emperor'), 400, 'common/invalid-parameters');
  const byAdmin = await invite(adm.token, 'member');
  assert.equal(byAdmin.status, 201, byAdmin.text);
  assert.equal(byAdmin.json.invitedBy, adm.member.id);
  expectError(assert, await invite(adm.token, 'admin'), 403, 'org/permission-denied');
  expectError(assert, await invite(adm.token, 'billing'), 403, 'org/permission-denied');
  expectError(assert, await invite(mem.token, 'member'), 403, 'org/permission-denied');
  expectError(assert, await invite(bil.token, 'member'), 403, 'org/permission-denied');
  expectError(assert, await admin('POST', `${org.base}/invitations`, { email: 'not-an-email', role: 'member' }, org.owner), 400, 'common/invalid-parameters');
  expectError(assert, await admin('POST', `${org.base}/invitations`, { role: 'member' }, org.owner), 400, 'common/invalid-parameters');
  // every role may look at the team
  for (const t of [mem.token, bil.token, adm.token]) {
    assert.equal((await admin('GET', `${org.base}/members`, undefined, t)).status, 200);
    assert.equal((await admin('GET', `${org.base}/invitations`, undefined, t)).status, 200);
  }
  // a new invitation for the same e-mail replaces the pending one
  const first = await invite(org.owner, 'member', 'twice@who.io');
  const second = await invite(org.owner, 'billing', 'TWICE@who.io');
  expectError(assert, await accept({ token: first.json.token }), 404, 'org/invitation-not-found');
  const twice = (await admin('GET', `${org.base}/invitations?limit=100`, undefined, org.owner)).json.items.filter((i) => /^twice@/i.test(i.email));
  assert.deepEqual(twice.map((i) => [i.id, i.role]), [[second.json.id, 'billing']]);
  assert.equal((await accept({ token: second.json.token })).json.member.role, 'billing');
});

test('revoking and resending invitations', async () => {
  const org = await newOrg('rev-co');
  const adm = await join(org, 'adm@rev.io', 'admin');
  const inv = (await admin('POST', `${org.base}/invitations`, { email: 'r@rev.io', name: 'R', role: 'member' }, org.owner)).json;
  const revoked = await admin('DELETE', `${org.base}/invitations/${inv.id}`, undefined, adm.token);
  assert.equal(revoked.status, 200, revoked.text);
  assert.equal(revoked.json.status, 'revoked');
  expectError(assert, await accept({ token: inv.token }), 410, 'org/invitation-revoked');
  expectError(assert, await admin('DELETE', `${org.base}/invitations/${inv.id}`, undefined, org.owner), 409, 'org/invitation-not-pending');
  const again = await admin('POST', `${org.base}/invitations/${inv.id}/resend`, undefined, org.owner);
  assert.equal(again.status, 201, again.text);
  assert.notEqual(again.json.id, inv.id);
  assert.notEqual(again.json.token, inv.token);
  assert.deepEqual([again.json.email, again.json.name, again.json.role, again.json.status], ['r@rev.io', 'R', 'member', 'pending']);
  const ids = (await admin('GET', `${org.base}/invitations`, undefined, org.owner)).json.items.map((i) => i.id);
  assert.ok(!ids.includes(inv.id), 'the old invitation is discarded');
  expectError(assert, await admin('POST', `${org.base}/invitations/${inv.id}/resend`, undefined, org.owner), 404, 'org/invitation-not-found');
  // resending a pending one restarts it too
  const pending = await admin('POST', `${org.base}/invitations/${again.json.id}/resend`, undefined, adm.token);
  assert.equal(pending.status, 201, pending.text);
  expectError(assert, await accept({ token: again.json.token }), 404, 'org/invitation-not-found');
  assert.equal((await accept({ token: pending.json.token })).status, 201);
  expectError(assert, await admin('POST', `${org.base}/invitations/${pending.json.id}/resend`, undefined, org.owner), 409, 'org/invitation-used');
  expectError(assert, await admin('DELETE', `${org.base}/invitations/${pending.json.id}`, undefined, org.owner), 409, 'org/invitation-not-pending');
  // an admin manages member invitations only
  const billing = (await admin('POST', `${org.base}/invitations`, { email: 'b@rev.io', role: 'billing' }, org.owner)).json;
  expectError(assert, await admin('DELETE', `${org.base}/invitations/${billing.id}`, undefined, adm.token), 403, 'org/permission-denied');
  expectError(assert, await admin('POST', `${org.base}/invitations/${billing.id}/resend`, undefined, adm.token), 403, 'org/permission-denied');
  expectError(assert, await admin('DELETE', `${org.base}/invitations/inv_nothing`, undefined, org.owner), 404, 'org/invitation-not-found');
  const log = await admin('GET', `${org.base}/activity?entityType=invitation&action=revoke`, undefined, org.owner);
  assert.equal(log.json.items.length, 1);
});

test('invitations expire after 7 days (server clock moved 8 days)', async () => {
  const dir = tempDir();
  try {
    let s = await startServer({ dataDir: dir, keep: true });
    const t = s.bootstrap.operatorToken, base = `/organizations/${s.bootstrap.organizationId}`;
    const inv = (await admin('POST', `${base}/invitations`, { email: 'late@x.io', role: 'member' }, t, s)).json;
    const fresh = (await admin('POST', `${base}/invitations`, { email: 'later@x.io', role: 'member' }, t, s)).json;
    await s.stop();
    s = await startServer({ dataDir: dir, keep: true, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(8 * 86400e3) } });
    const list = await admin('GET', `${base}/invitations?status=expired`, undefined, t, s);
    assert.deepEqual(list.json.items.map((i) => i.email).sort(), ['late@x.io', 'later@x.io']);
    expectError(assert, await accept({ token: inv.token }, s), 410, 'org/invitation-expired');
    expectError(assert, await admin('DELETE', `${base}/invitations/${inv.id}`, undefined, t, s), 409, 'org/invitation-not-pending');
    const again = await admin('POST', `${base}/invitations/${fresh.id}/resend`, undefined, t, s);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.json.status, 'pending');
    const ok = await accept({ token: again.json.token }, s);
    assert.equal(ok.status, 201, ok.text);
    const bootToken = (await admin('GET', `${base}/access-tokens`, undefined, t, s)).json.items.find((x) => x.name === 'bootstrap');
    assert.equal(ok.json.member.invitedBy, bootToken.memberId, 'the bootstrap token invites as its Owner member');
    await s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('members: search, role filter, paging; other organizations and secret keys are refused', async () => {
  const org = await newOrg('list-co', { ownerName: 'Olga' });
  for (const [email, role] of [['ann@list.io', 'member'], ['ben@list.io', 'billing'], ['cat@other.io', 'admin']]) await join(org, email, role);
  const get = (q, t = org.owner) => admin('GET', `${org.base}/members${q}`, undefined, t);
  assert.deepEqual((await get('?search=LIST.IO')).json.items.map((m) => m.email), ['ann@list.io', 'ben@list.io']);
  assert.deepEqual((await get('?search=list')).json.pagination.total, 3);
  assert.deepEqual((await get('?search=olg')).json.items.map((m) => m.name), ['Olga']);
  assert.deepEqual((await get('?role=billing')).json.items.map((m) => m.email), ['ben@list.io']);
  const page = await get('?limit=2&page=2');
  assert.deepEqual(page.json.items.map((m) => m.email), ['ben@list.io', 'cat@other.io']);
  assert.equal(page.json.pagination.total, 4);
  assert.equal(page.json.pagination.totalPages, 2);
  expectError(assert, await get('?role=king'), 400, 'common/invalid-parameters');
  expectError(assert, await admin('GET', `${org.base}/members/mem_nobody`, undefined, org.owner), 404, 'org/member-not-found');
});

test('another organization\'s token gets 404, an environment key 403, no credential 401', async () => {
  const org = await newOrg('fence-co');
  const paths = [['GET', '/members'], ['GET', `/members/${org.ownerMemberId}`], ['PATCH', `/members/${org.ownerMemberId}`, { role: 'admin' }],
    ['DELETE', `/members/${org.ownerMemberId}`], ['GET', '/invitations'], ['POST', '/invitations', { email: 'x@y.io' }],
    ['GET', '/access-tokens'], ['POST', '/transfer', { memberId: org.ownerMemberId }], ['POST', '/leave']];
  for (const [m, p, body] of paths) {
    expectError(assert, await admin(m, org.base + p, body, b.operatorToken), 404, 'org/not-found');
    expectError(assert, await req(srv, m, '/admin/v1' + org.base + p, { key: b.secretKey, body }), 403, 'org/permission-denied');
    expectError(assert, await req(srv, m, '/admin/v1' + org.base + p, { body }), 401, 'auth/unauthorized');
  }
});

test('role changes follow §9.6 and apply to the very next request', async () => {
  const org = await newOrg('role-team');
  const adm = await join(org, 'adm@rt.io', 'admin');
  const mem = await join(org, 'mem@rt.io', 'member');
  const bil = await join(org, 'bil@rt.io', 'billing');
  const patch = (id, role, t) => admin('PATCH', `${org.base}/members/${id}`, { role }, t);
  const project = (t, slug) => admin('POST', '/projects', { organizationId: org.id, name: slug, slug }, t);
  expectError(assert, await project(mem.token, 'p-one'), 403, 'org/permission-denied');
  const up = await patch(mem.member.id, 'admin', org.owner);
  assert.equal(up.status, 200, up.text);
  assert.equal(up.json.role, 'admin');
  assert.equal((await project(mem.token, 'p-one')).status, 201, 'the member\'s token acts as an admin at once');
  assert.equal((await patch(mem.member.id, 'member', org.owner)).status, 200);
  expectError(assert, await project(mem.token, 'p-two'), 403, 'org/permission-denied');
  // an admin: members and billing users only, to member or billing
  assert.equal((await patch(mem.member.id, 'billing', adm.token)).json.role, 'billing');
  assert.equal((await patch(mem.member.id, 'member', adm.token)).json.role, 'member');
  expectError(assert, await patch(mem.member.id, 'admin', adm.token), 403, 'org/permission-denied');
  expectError(assert, await patch(mem.member.id, 'owner', adm.token), 403, 'org/permission-denied');
  expectError(assert, await patch(org.ownerMemberId, 'member', adm.token), 403, 'org/permission-denied');
  expectError(assert, await patch(adm.member.id, 'member', adm.token), 403, 'org/permission-denied', 'not even oneself');
  expectError(assert, await patch(bil.member.id, 'member', mem.token), 403, 'org/permission-denied');
  expectError(assert, await patch(mem.member.id, 'member', bil.token), 403, 'org/permission-denied');
  expectError(assert, await patch(mem.member.id, 'emperor', org.owner), 400, 'common/invalid-parameters');
  expectError(assert, await admin('PATCH', `${org.base}/members/${mem.member.id}`, {}, org.owner), 400, 'common/invalid-parameters');
  expectError(assert, await patch('mem_nobody', 'member', org.owner), 404, 'org/member-not-found');
  // the last owner stays; a second owner makes demoting possible
  const last = await patch(org.ownerMemberId, 'admin', org.owner);
  expectError(assert, last, 409, 'org/last-owner');
  assert.equal((await patch(adm.member.id, 'owner', org.owner)).json.role, 'owner');
  assert.equal((await patch(org.ownerMemberId, 'admin', org.owner)).json.role, 'admin');
  expectError(assert, await admin('DELETE', org.base, undefined, org.owner), 403, 'org/permission-denied', 'the former owner is an admin now');
  expectError(assert, await patch(adm.member.id, 'member', adm.token), 409, 'org/last-owner');
  const log = await admin('GET', `${org.base}/activity?entityType=member&action=update`, undefined, adm.token);
  assert.ok(log.json.items.length >= 6);
  assert.match(log.json.items[0].message, /owner@role-team\.io: owner -> admin/);
});

test('removing a member (owner only) revokes their tokens at once; the last owner stays', async () => {
  const org = await newOrg('rm-co');
  const adm = await join(org, 'adm@rm.io', 'admin');
  const mem = await join(org, 'mem@rm.io', 'member');
  const extra = await admin('POST', `${org.base}/access-tokens`, { name: 'ci', memberId: mem.member.id }, org.owner);
  assert.equal(extra.status, 201, extra.text);
  assert.equal(extra.json.role, 'member');
  assert.equal(extra.json.memberId, mem.member.id);
  assert.equal((await admin('GET', org.base, undefined, extra.json.token)).status, 200);
  expectError(assert, await admin('DELETE', `${org.base}/members/${mem.member.id}`, undefined, adm.token), 403, 'org/permission-denied');
  expectError(assert, await admin('DELETE', `${org.base}/members/${org.ownerMemberId}`, undefined, org.owner), 409, 'org/last-owner');
  const del = await admin('DELETE', `${org.base}/members/${mem.member.id}`, undefined, org.owner);
  assert.equal(del.status, 200, del.text);
  expectError(assert, await admin('GET', org.base, undefined, mem.token), 401, 'auth/unauthorized');
  expectError(assert, await admin('GET', org.base, undefined, extra.json.token), 401, 'auth/unauthorized');
  expectError(assert, await admin('GET', `${org.base}/members/${mem.member.id}`, undefined, org.owner), 404, 'org/member-not-found');
  expectError(assert, await admin('DELETE', `${org.base}/members/${mem.member.id}`, undefined, org.owner), 404, 'org/member-not-found');
  const tokens = (await admin('GET', `${org.base}/access-tokens`, undefined, org.owner)).json.items.filter((t) => t.memberId === mem.member.id);
  assert.equal(tokens.length, 2);
  assert.ok(tokens.every((t) => t.revokedAt && t.status === 'revoked'));
  // the e-mail can be invited again
  const back = await join(org, 'mem@rm.io', 'member');
  assert.notEqual(back.member.id, mem.member.id);
  const log = await admin('GET', `${org.base}/activity?entityType=member&action=delete`, undefined, org.owner);
  assert.equal(log.json.items[0].entityId, mem.member.id);
});

test('access tokens: listed without the secret, bound to members, revoked at once by owners and admins', async () => {
  const org = await newOrg('tok-co');
  const adm = await join(org, 'adm@tok.io', 'admin');
  const mem = await join(org, 'mem@tok.io', 'member');
  const bil = await join(org, 'bil@tok.io', 'billing');
  const service = (await admin('POST', `${org.base}/access-tokens`, { name: 'svc', role: 'admin' }, org.owner)).json;
  assert.equal(service.memberId, null);
  const list = await admin('GET', `${org.base}/access-tokens`, undefined, adm.token);
  assert.equal(list.status, 200, list.text);
  const row = list.json.items.find((t) => t.id === service.id);
  assert.deepEqual(Object.keys(row).sort(), ['createdAt', 'expiresAt', 'id', 'memberId', 'name', 'revokedAt', 'role', 'status', 'tokenHint']);
  assert.equal(row.tokenHint, service.token.slice(0, 11));
  assert.ok(!list.text.includes(service.token), 'never the token');
  assert.equal(list.json.items.find((t) => t.memberId === org.ownerMemberId).role, 'owner');
  expectError(assert, await admin('GET', `${org.base}/access-tokens`, undefined, mem.token), 403, 'org/permission-denied');
  expectError(assert, await admin('GET', `${org.base}/access-tokens`, undefined, bil.token), 403, 'org/permission-denied');
  // binding
  expectError(assert, await admin('POST', `${org.base}/access-tokens`, { name: 'x', memberId: mem.member.id, role: 'admin' }, org.owner), 400, 'common/invalid-parameters');
  expectError(assert, await admin('POST', `${org.base}/access-tokens`, { name: 'x', memberId: 'mem_nobody' }, org.owner), 404, 'org/member-not-found');
  expectError(assert, await admin('POST', `${org.base}/access-tokens`, { name: 'x', memberId: org.ownerMemberId }, adm.token), 403, 'org/permission-denied');
  const bound = await admin('POST', `${org.base}/access-tokens`, { name: 'bound', memberId: mem.member.id, role: 'member' }, adm.token);
  assert.equal(bound.status, 201, bound.text);
  // revoking
  const ownerToken = list.json.items.find((t) => t.memberId === org.ownerMemberId);
  expectError(assert, await admin('DELETE', `${org.base}/access-tokens/${ownerToken.id}`, undefined, adm.token), 403, 'org/permission-denied');
  expectError(assert, await admin('DELETE', `${org.base}/access-tokens/${service.id}`, undefined, mem.token), 403, 'org/permission-denied');
  expectError(assert, await admin('DELETE', `${org.base}/access-tokens/tok_nothing`, undefined, org.owner), 404, 'org/token-not-found');
  const bootstrapTokens = (await admin('GET', `/organizations/${b.organizationId}/access-tokens`)).json.items;
  expectError(assert, await admin('DELETE', `${org.base}/access-tokens/${bootstrapTokens[0].id}`, undefined, org.owner), 404, 'org/token-not-found');
  const gone = await admin('DELETE', `${org.base}/access-tokens/${bound.json.id}`, undefined, adm.token);
  assert.equal(gone.status, 200, gone.text);
  expectError(assert, await admin('GET', org.base, undefined, bound.json.token), 401, 'auth/unauthorized');
  assert.equal((await admin('GET', org.base, undefined, mem.token)).status, 200, 'the member\'s other token still works');
  assert.equal((await admin('DELETE', `${org.base}/access-tokens/${service.id}`, undefined, org.owner)).status, 200);
  expectError(assert, await admin('GET', org.base, undefined, service.token), 401, 'auth/unauthorized');
  const after1 = (await admin('GET', `${org.base}/access-tokens`, undefined, org.owner)).json.items.find((t) => t.id === service.id);
  assert.equal(after1.status, 'revoked');
  const log = await admin('GET', `${org.base}/activity?entityType=token&action=revoke`, undefined, org.owner);
  assert.equal(log.json.items.length, 2);
});

test('transferring ownership: the target becomes owner, every other owner an admin', async () => {
  const org = await newOrg('xfer-co');
  const adm = await join(org, 'adm@xfer.io', 'admin');
  const mem = await join(org, 'mem@xfer.io', 'member');
  const transfer = (memberId, t) => admin('POST', `${org.base}/transfer`, { memberId }, t);
  expectError(assert, await transfer(mem.member.id, adm.token), 403, 'org/permission-denied');
  expectError(assert, await transfer(mem.member.id, mem.token), 403, 'org/permission-denied');
  expectError(assert, await transfer('mem_nobody', org.owner), 404, 'org/member-not-found');
  expectError(assert, await admin('POST', `${org.base}/transfer`, {}, org.owner), 400, 'common/invalid-parameters');
  const done = await transfer(mem.member.id, org.owner);
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.role, 'owner');
  const roles = Object.fromEntries((await admin('GET', `${org.base}/members`, undefined, mem.token)).json.items.map((m) => [m.email, m.role]));
  assert.deepEqual(roles, { 'owner@xfer-co.io': 'admin', 'adm@xfer.io': 'admin', 'mem@xfer.io': 'owner' });
  expectError(assert, await transfer(org.ownerMemberId, org.owner), 403, 'org/permission-denied', 'the old owner lost the right');
  assert.equal((await admin('PUT', `${org.base}/plan`, { plan: 'starter' }, mem.token)).status, 200, 'the new owner has it');
  // a service owner token transfers too (the bootstrap organization has no owner member)
  const def = { id: b.organizationId, owner: b.operatorToken, base: `/organizations/${b.organizationId}` };
  const heir = await join(def, 'heir@default.io', 'member');
  const svc = await admin('POST', `${def.base}/transfer`, { memberId: heir.member.id }, b.operatorToken);
  assert.equal(svc.status, 200, svc.text);
  assert.equal(svc.json.role, 'owner');
  const log = await admin('GET', `${org.base}/activity?entityType=member&action=transfer`, undefined, mem.token);
  assert.equal(log.json.items[0].entityId, mem.member.id);
});

test('leaving: a member-bound token leaves and stops working; the last owner cannot', async () => {
  const org = await newOrg('leave-co');
  const mem = await join(org, 'mem@leave.io', 'member');
  const bil = await join(org, 'bil@leave.io', 'billing');
  const leave = (t) => admin('POST', `${org.base}/leave`, undefined, t);
  expectError(assert, await leave(org.owner), 409, 'org/last-owner');
  const svc = (await admin('POST', `${org.base}/access-tokens`, { name: 'svc', role: 'member' }, org.owner)).json;
  expectError(assert, await leave(svc.token), 403, 'org/permission-denied');
  const left = await leave(mem.token);
  assert.equal(left.status, 200, left.text);
  expectError(assert, await admin('GET', org.base, undefined, mem.token), 401, 'auth/unauthorized');
  assert.equal((await leave(bil.token)).status, 200);
  const emails = (await admin('GET', `${org.base}/members`, undefined, org.owner)).json.items.map((m) => m.email);
  assert.deepEqual(emails, ['owner@leave-co.io']);
  // after a transfer the former owner may leave
  const heir = await join(org, 'heir@leave.io', 'admin');
  assert.equal((await admin('POST', `${org.base}/transfer`, { memberId: heir.member.id }, org.owner)).status, 200);
  assert.equal((await leave(org.owner)).status, 200);
  expectError(assert, await leave(heir.token), 409, 'org/last-owner');
  const log = await admin('GET', `${org.base}/activity?entityType=member&action=leave`, undefined, heir.token);
  assert.equal(log.json.items.length, 3);
  assert.equal(log.json.items[0].actorType, 'member');
});

test('invitations are mailed (the organization outbox without SMTP): the link in the mail accepts; only owners and admins read the outbox', async () => {
  const org = await newOrg('mail-co');
  const admin1 = await join(org, 'ad@mail-co.io', 'admin');
  const member1 = await join(org, 'mem@mail-co.io', 'member');
  const inv = await admin('POST', `${org.base}/invitations`, { email: 'new@x.io', name: 'Newton', role: 'member' }, admin1.token);
  assert.equal(inv.status, 201, inv.text);
  const box = await admin('GET', `${org.base}/outbox`, undefined, org.owner);
  assert.equal(box.status, 200, box.text);
  const mail = box.json.items.find((m) => m.to === 'new@x.io');
  assert.ok(mail, 'the invitation was mailed');
  assert.equal(mail.template, 'org_invitation');
  assert.match(mail.subject, /mail-co/);
  assert.match(mail.body, /Hello Newton/);
  assert.ok(mail.body.includes(inv.json.acceptUrl), 'the mail carries the accept link');
  const token = new URL(mail.body.match(/https?:\/\/\S+/)[0]).searchParams.get('token');
  assert.equal(token, inv.json.token);
  assert.equal((await admin('GET', `${org.base}/outbox`, undefined, admin1.token)).status, 200);
  expectError(assert, await admin('GET', `${org.base}/outbox`, undefined, member1.token), 403, 'org/permission-denied');
  expectError(assert, await admin('GET', `/organizations/${b.organizationId}/outbox`, undefined, org.owner), 404, 'org/not-found');
  const again = await admin('POST', `${org.base}/invitations/${inv.json.id}/resend`, {}, org.owner);
  assert.equal(again.status, 201, again.text);
  const box2 = await admin('GET', `${org.base}/outbox`, undefined, org.owner);
  assert.equal(box2.json.items.filter((m) => m.to === 'new@x.io').length, 2, 'a resend mails the new link');
  assert.ok(box2.json.items[0].body.includes(again.json.token), 'newest first');
  const joined = await accept({ token });
  expectError(assert, joined, 404, 'org/invitation-not-found'); // the resend discarded the old one (§9.4)
  assert.equal((await accept({ token: again.json.token })).status, 201);
});
