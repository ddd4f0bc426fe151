// Signed-in callers and the permission modes of client-api.md §1.4 and §5: user/guest/admin groups
// from the JWT role, `self` (own rows, list filtered by owner), bad and expired tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, expectError, userToken } from './harness.mjs';

let srv, b, admin, tables, alice, bob, boss, guestUser;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  tables = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  const notes = await req(srv, 'POST', tables, { ...admin, body: {
    tableName: 'notes',
    schema: { bsonType: 'object', properties: { text: { bsonType: 'string' }, topic: { bsonType: 'string' } } },
    permissions: { user: { create: true }, self: { read: true, list: true, update: true, delete: true } },
  } });
  assert.equal(notes.status, 201, notes.text);
  [alice, bob, boss, guestUser] = await Promise.all([userToken(srv, 'user_alice'), userToken(srv, 'user_bob'),
    userToken(srv, 'user_boss', { role: 'admin' }), userToken(srv, 'user_guest', { role: 'guest' })]);
});
after(async () => { await srv?.stop(); });

const as = (token) => ({ key: b.publishableKey, token });

test('a user token makes the caller a signed-in user: createdBy is the token sub', async () => {
  const r = await req(srv, 'POST', '/v1/data/notes', { ...as(alice), body: { text: 'a1', createdBy: 'forged' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.createdBy, 'user_alice');
  expectError(assert, await req(srv, 'POST', '/v1/data/notes', { key: b.publishableKey, body: { text: 'anon' } }),
    403, 'data/permission-denied');
  const withSecret = await req(srv, 'POST', '/v1/data/notes', { key: b.secretKey, token: bob, body: { text: 'by secret key' } });
  assert.equal(withSecret.status, 201, withSecret.text);
  assert.equal(withSecret.json.createdBy, 'user_bob', 'a secret key with a user token writes as that user');
});

test('self: own rows only, and lists are filtered by owner', async () => {
  const mine = await req(srv, 'POST', '/v1/data/notes', { ...as(alice), body: { text: 'alice note', topic: 't' } });
  const theirs = await req(srv, 'POST', '/v1/data/notes', { ...as(bob), body: { text: 'bob note', topic: 't' } });
  assert.equal(mine.status, 201);
  assert.equal(theirs.status, 201);
  assert.equal((await req(srv, 'GET', `/v1/data/notes/${mine.json.id}`, as(alice))).status, 200);
  expectError(assert, await req(srv, 'GET', `/v1/data/notes/${theirs.json.id}`, as(alice)), 403, 'data/permission-denied');
  expectError(assert, await req(srv, 'PATCH', `/v1/data/notes/${theirs.json.id}`, { ...as(alice), body: { text: 'x' } }),
    403, 'data/permission-denied');
  expectError(assert, await req(srv, 'DELETE', `/v1/data/notes/${theirs.json.id}`, as(alice)), 403, 'data/permission-denied');
  const patched = await req(srv, 'PATCH', `/v1/data/notes/${mine.json.id}`, { ...as(alice), body: { text: 'edited' } });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.text, 'edited');
  const list = await req(srv, 'GET', '/v1/data/notes?limit=100', as(alice));
  assert.equal(list.status, 200);
  assert.ok(list.json.items.length >= 2);
  assert.ok(list.json.items.every((n) => n.createdBy === 'user_alice'), 'only alice\'s notes');
  assert.equal(list.json.pagination.total, list.json.items.length);
  const filtered = await req(srv, 'GET', `/v1/data/notes?andFilters=${encodeURIComponent('{"topic":"t"}')}`, as(bob));
  assert.deepEqual(filtered.json.items.map((n) => n.text), ['bob note']);
  expectError(assert, await req(srv, 'GET', '/v1/data/notes', { key: b.publishableKey }), 403, 'data/permission-denied');
  assert.equal((await req(srv, 'DELETE', `/v1/data/notes/${theirs.json.id}`, as(bob))).status, 200);
});

test('roles: admin users see everything, guest-role users are guests that still own rows', async () => {
  const all = await req(srv, 'GET', '/v1/data/notes?limit=100', as(boss));
  assert.equal(all.status, 200);
  const owners = new Set(all.json.items.map((n) => n.createdBy));
  assert.ok(owners.has('user_alice') && owners.has('user_bob'), 'an admin-role user lists every row');
  expectError(assert, await req(srv, 'POST', '/v1/data/notes', { ...as(guestUser), body: { text: 'g' } }), 403, 'data/permission-denied');
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'guestbook',
    permissions: { guest: { create: true }, self: { read: true } } } });
  assert.equal(t.status, 201, t.text);
  const g = await req(srv, 'POST', '/v1/data/guestbook', { ...as(guestUser), body: { line: 'hi' } });
  assert.equal(g.status, 201, g.text);
  assert.equal(g.json.createdBy, 'user_guest');
  assert.equal((await req(srv, 'GET', `/v1/data/guestbook/${g.json.id}`, as(guestUser))).status, 200, 'self applies to a guest-role user');
  expectError(assert, await req(srv, 'GET', `/v1/data/guestbook/${g.json.id}`, { key: b.publishableKey }), 403, 'data/permission-denied');
});

test('bad bearer tokens are refused with 401, never treated as guests', async () => {
  const r = await req(srv, 'POST', '/v1/data/notes', { ...as(alice), body: { text: 'x' } });
  const id = r.json.id;
  const [h, p, s] = alice.split('.');
  const flipped = `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
  const forged = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'user_bob' };
  const swapped = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
  for (const token of [flipped, none, swapped, 'not-a-jwt', `${alice}.extra`, '']) {
    expectError(assert, await req(srv, 'GET', `/v1/data/notes/${id}`, as(token)), 401, 'auth/invalid-token');
  }
  const expired = await userToken(srv, 'user_alice', { issuedAgo: 7200, ttl: 3600 });
  expectError(assert, await req(srv, 'GET', `/v1/data/notes/${id}`, as(expired)), 401, 'auth/token-expired');
  const basic = await req(srv, 'GET', `/v1/data/notes/${id}`, { key: b.publishableKey, headers: { Authorization: 'Basic dTpw' } });
  expectError(assert, basic, 403, 'data/permission-denied'); // another scheme is not a user token: a guest
});

test('expression permissions: terms, |, &, self, and custom roles', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'wiki', permissions: {
    expressionPermissions: { create: 'user', read: 'public', list: 'public', update: 'self | role:editor', delete: 'admin' } } } });
  assert.equal(t.status, 201, t.text);
  const page = await req(srv, 'POST', '/v1/data/wiki', { ...as(alice), body: { title: 'Home' } });
  assert.equal(page.status, 201, page.text);
  assert.equal((await req(srv, 'GET', `/v1/data/wiki/${page.json.id}`, { key: b.publishableKey })).status, 200, 'public read');
  expectError(assert, await req(srv, 'POST', '/v1/data/wiki', { key: b.publishableKey, body: { title: 'x' } }), 403, 'data/permission-denied');
  expectError(assert, await req(srv, 'PATCH', `/v1/data/wiki/${page.json.id}`, { ...as(bob), body: { title: 'y' } }),
    403, 'data/permission-denied');
  const editor = await userToken(srv, 'user_ed', { role: 'user' });
  expectError(assert, await req(srv, 'PATCH', `/v1/data/wiki/${page.json.id}`, { ...as(editor), body: { title: 'y' } }),
    403, 'data/permission-denied');
  assert.equal((await req(srv, 'PATCH', `/v1/data/wiki/${page.json.id}`, { ...as(alice), body: { title: 'Home 2' } })).status, 200, 'self');
  expectError(assert, await req(srv, 'DELETE', `/v1/data/wiki/${page.json.id}`, as(alice)), 403, 'data/permission-denied');
  assert.equal((await req(srv, 'DELETE', `/v1/data/wiki/${page.json.id}`, as(boss))).status, 200);
  for (const bad of ['users', 'user |', 'user && self', '(user)', 'role:', 'role:a b']) {
    expectError(assert, await req(srv, 'PUT', `${tables}/wiki/permissions`, { ...admin, body: { expressionPermissions: { read: bad } } }),
      400, 'data/validation-error');
  }
});

test('column permissions: unreadable fields vanish from every answer, unwritable ones are refused', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'staff', permissions: {
    user: { create: true, read: true, list: true, update: true },
    columnPermissions: { salary: { read: 'admin | self', write: 'admin' }, notes: { read: 'admin' }, bio: { write: 'self' } } } } });
  assert.equal(t.status, 201, t.text);
  expectError(assert, await req(srv, 'POST', '/v1/data/staff', { ...as(alice), body: { name: 'A', salary: 10 } }), 403, 'data/permission-denied');
  const made = await req(srv, 'POST', '/v1/data/staff', { key: b.secretKey, token: alice, body: { name: 'A', salary: 10, notes: 'n', bio: 'hi' } });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.createdBy, 'user_alice');
  const own = await req(srv, 'GET', `/v1/data/staff/${made.json.id}`, as(alice));
  assert.equal(own.status, 200);
  assert.equal(own.json.salary, 10, 'self may read its own salary');
  assert.equal(own.json.notes, undefined, 'admin-only column hidden');
  const other = await req(srv, 'GET', `/v1/data/staff/${made.json.id}`, as(bob));
  assert.equal(other.json.salary, undefined);
  assert.equal(other.json.notes, undefined);
  assert.equal(other.json.name, 'A');
  const list = await req(srv, 'GET', '/v1/data/staff', as(bob));
  assert.ok(list.json.items.every((r) => r.salary === undefined && r.notes === undefined));
  const listSelect = await req(srv, 'GET', '/v1/data/staff?select=salary,name', as(bob));
  assert.ok(listSelect.json.items.every((r) => r.salary === undefined && r.name === 'A'), 'select cannot reveal a hidden column');
  const full = await req(srv, 'GET', `/v1/data/staff/${made.json.id}`, { key: b.secretKey });
  assert.equal(full.json.notes, 'n');
  // the ETag is the caller's view of the record: If-Match compares against the ETag this caller was given
  const bio = await req(srv, 'PATCH', `/v1/data/staff/${made.json.id}`, { ...as(alice), headers: { 'If-Match': own.headers.get('etag') }, body: { bio: 'new' } });
  assert.equal(bio.status, 200, bio.text);
  assert.equal(bio.json.notes, undefined);
  expectError(assert, await req(srv, 'PATCH', `/v1/data/staff/${made.json.id}`, { ...as(bob), body: { bio: 'hijack' } }), 403, 'data/permission-denied');
  expectError(assert, await req(srv, 'PATCH', `/v1/data/staff/${made.json.id}`, { ...as(alice), body: { salary: 99 } }), 403, 'data/permission-denied');
});

test('column permissions: unreadable columns cannot be queried, ETags are of what the caller receives', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'payroll',
    schema: { bsonType: 'object', properties: { name: { bsonType: 'string' }, salary: { bsonType: 'int' },
      secret: { bsonType: 'string' }, mine: { bsonType: 'string' }, extra: { bsonType: 'object', properties: { x: { bsonType: 'int' } } } } },
    permissions: { user: { create: true, read: true, list: true, update: true, delete: true },
      columnPermissions: { salary: { read: 'admin', write: 'admin' }, secret: { read: 'admin' }, mine: { read: 'self' },
        extra: { read: 'admin' } } } } });
  assert.equal(t.status, 201, t.text);
  const seed = await req(srv, 'POST', '/v1/data/payroll', { key: b.secretKey, body: [
    { name: 'A', salary: 200000, secret: 'hunter2', mine: 'm1', extra: { x: 1 } },
    { name: 'B', salary: 50000, secret: 'swordfish', mine: 'm2', extra: { x: 2 } }] });
  assert.equal(seed.status, 201, seed.text);
  const q = (params) => '/v1/data/payroll?' + new URLSearchParams(params).toString();
  const denied = [
    { andFilters: '{"salary":{"$gt":100000}}' }, { orFilters: '{"salary":{"$gt":100000}}' },
    { orFilters: '[{"name":"Z"},{"secret":{"$regex":"^hun"}}]' }, { andFilters: '{"extra.x":1}' },
    { sortBy: 'salary' }, { sortBy: 'extra.x' }, { searchType: 'secret', search: 'hunter' },
    { andFilters: '{"mine":"m1"}' }, { sortBy: 'mine' }];
  for (const params of denied)
    expectError(assert, await req(srv, 'GET', q(params), as(bob)), 403, 'data/permission-denied');
  const search = await req(srv, 'GET', q({ search: 'hunter' }), as(bob));
  assert.equal(search.status, 200, search.text);
  assert.deepEqual(search.json.items, [], 'search across all fields does not look into hidden columns');
  assert.equal((await req(srv, 'GET', q({ search: 'm1' }), as(bob))).json.items.length, 0, 'nor into own-row-only columns of others');
  const visible = await req(srv, 'GET', q({ search: 'B', andFilters: '{"name":"B"}', sortBy: 'name' }), as(bob));
  assert.deepEqual(visible.json.items.map((r) => r.name), ['B'], 'readable columns still filter, search and sort');
  const full = await req(srv, 'GET', q({ andFilters: '{"salary":{"$gt":100000}}', search: 'hunter', sortBy: 'salary' }), { key: b.secretKey });
  assert.deepEqual(full.json.items.map((r) => r.name), ['A'], 'admins query every column');

  // ETags: of the caller's view, so a hidden column can neither be confirmed by a guess nor spoil caching
  const id = seed.json[0].id;
  const adminGet = await req(srv, 'GET', `/v1/data/payroll/${id}`, { key: b.secretKey });
  const bobGet = await req(srv, 'GET', `/v1/data/payroll/${id}`, as(bob));
  assert.equal(bobGet.json.salary, undefined);
  assert.notEqual(bobGet.headers.get('etag'), adminGet.headers.get('etag'), 'the ETag differs when the answer differs');
  const stale = await req(srv, 'GET', `/v1/data/payroll/${id}`, { ...as(bob), headers: { 'If-None-Match': adminGet.headers.get('etag') } });
  assert.equal(stale.status, 200, 'the admin\'s ETag does not validate the bob view');
  const same = await req(srv, 'GET', `/v1/data/payroll/${id}`, { ...as(bob), headers: { 'If-None-Match': bobGet.headers.get('etag') } });
  assert.equal(same.status, 304, 'bob\'s own ETag validates bob\'s view');
  const raise = await req(srv, 'PATCH', `/v1/data/payroll/${id}`, { key: b.secretKey, body: { salary: 210000 } });
  assert.equal(raise.status, 200, raise.text);
  const bobNow = await req(srv, 'GET', `/v1/data/payroll/${id}`, as(bob));
  // If-Match on PATCH / DELETE compares with the ETag this caller was given
  const edit = await req(srv, 'PATCH', `/v1/data/payroll/${id}`, { ...as(bob), headers: { 'If-Match': bobNow.headers.get('etag') }, body: { name: 'A2' } });
  assert.equal(edit.status, 200, edit.text);
  assert.equal(edit.json.salary, undefined);
  const after = await req(srv, 'GET', `/v1/data/payroll/${id}`, as(bob));
  assert.equal(edit.headers.get('etag'), after.headers.get('etag'), 'the PATCH answer\'s ETag is the caller\'s view');
  expectError(assert, await req(srv, 'PATCH', `/v1/data/payroll/${id}`, { ...as(bob), headers: { 'If-Match': bobNow.headers.get('etag') }, body: { name: 'A3' } }),
    412, 'data/precondition-failed');
  const adminNow = await req(srv, 'GET', `/v1/data/payroll/${id}`, { key: b.secretKey });
  expectError(assert, await req(srv, 'DELETE', `/v1/data/payroll/${id}`, { ...as(bob), headers: { 'If-Match': adminNow.headers.get('etag') } }),
    412, 'data/precondition-failed');
  const del = await req(srv, 'DELETE', `/v1/data/payroll/${id}`, { ...as(bob), headers: { 'If-Match': after.headers.get('etag') } });
  assert.equal(del.status, 200, del.text);
});

test('row filters: matching entries OR-combined, $userId bound, admins unfiltered', async () => {
  const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: 'tickets', permissions: {
    user: { create: true, list: true, read: true }, guest: { list: true },
    rowFilters: [{ expression: 'user', filter: { assignee: '$userId' } }, { expression: 'guest', filter: { public: true } }] } } });
  assert.equal(t.status, 201, t.text);
  const seed = await req(srv, 'POST', '/v1/data/tickets', { key: b.secretKey, body: [
    { title: 'for alice', assignee: 'user_alice', public: false }, { title: 'for bob', assignee: 'user_bob', public: false },
    { title: 'open', assignee: 'nobody', public: true }] });
  assert.equal(seed.status, 201, seed.text);
  const titles = async (opts, q = '') => (await req(srv, 'GET', `/v1/data/tickets?sortBy=title&sortDirection=asc${q}`, opts)).json.items.map((x) => x.title);
  assert.deepEqual(await titles(as(alice)), ['for alice', 'open'], 'user: own assignments OR public (guest = everyone)');
  assert.deepEqual(await titles({ key: b.publishableKey }), ['open']);
  assert.deepEqual(await titles(as(alice), `&andFilters=${encodeURIComponent('{"public":true}')}`), ['open'], 'ANDed with the client filters');
  assert.deepEqual(await titles(as(boss)), ['for alice', 'for bob', 'open']);
  const count = await req(srv, 'GET', '/v1/data/tickets?limit=1', as(bob));
  assert.equal(count.json.pagination.total, 2, 'the total counts the filtered rows');
  expectError(assert, await req(srv, 'PUT', `${tables}/tickets/permissions`, { ...admin, body: {
    rowFilters: [{ expression: 'user', filter: { assignee: { $bogus: 1 } } }] } }), 400, 'data/validation-error');
});
