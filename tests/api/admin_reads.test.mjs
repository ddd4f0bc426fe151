// Management-API reads of an environment's records (src/api/admin/env/reads.c): the /v1 list's code read
// as the table's admin, allowed to the roles that may view the environment (owner, admin, member), refused
// to billing (403) and across organizations (404).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, onlyOneProcess } from './harness.mjs';

let srv, org, other, tokens, proj, base, secretKey;

function as(role, method, path, body) {
  return req(srv, method, '/admin/v1' + path, { token: tokens[role], body });
}

before(async () => {
  srv = await startServer();
  const made = await req(srv, 'POST', '/admin/v1/organizations', { token: srv.bootstrap.operatorToken, body: { name: 'Reads', slug: 'reads-co' } });
  assert.equal(made.status, 201, made.text);
  org = made.json;
  tokens = { owner: org.ownerToken };
  for (const role of ['admin', 'member', 'billing']) {
    const t = await as('owner', 'POST', `/organizations/${org.id}/access-tokens`, { name: role, role });
    assert.equal(t.status, 201, t.text);
    tokens[role] = t.json.token;
  }
  const o2 = await req(srv, 'POST', '/admin/v1/organizations', { token: srv.bootstrap.operatorToken, body: { name: 'Other', slug: 'other-co' } });
  other = o2.json;
  const p = await as('owner', 'POST', '/projects', { organizationId: org.id, name: 'reads', slug: 'reads-proj' });
  assert.equal(p.status, 201, p.text);
  proj = p.json;
  base = `/projects/${proj.id}/environments/dev`;
  const t = await as('owner', 'POST', `${base}/tables`, {
    tableName: 'notes', schema: { bsonType: 'object', properties: { n: { bsonType: 'int' }, secret: { bsonType: 'string' } } } });
  assert.equal(t.status, 201, t.text);
  // Guests may read nothing and nobody may read `secret`: an operator still sees every row and column.
  const perm = await as('owner', 'PUT', `${base}/tables/notes/permissions`, { guest: { read: false, list: false } });
  assert.ok(perm.status < 300, perm.text);
  const k = await as('owner', 'POST', `${base}/keys`, { type: 'secret', name: 'seed' });
  assert.equal(k.status, 201, k.text);
  secretKey = k.json.key;
  for (let n = 1; n <= 5; n++) {
    const r = await req(srv, 'POST', '/v1/data/notes', { key: k.json.key, body: { n, secret: `s${n}` } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => { await srv?.stop(); });

test('owner lists records with the /v1 shape, paging and filters', async () => {
  const all = await as('owner', 'GET', `${base}/tables/notes/records?limit=2&sortBy=n&sortDirection=asc`);
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json.items.map((r) => r.n), [1, 2]);
  assert.equal(all.json.pagination.total, 5);
  assert.equal(all.json.pagination.totalPages, 3);
  assert.equal(all.json.items[0].secret, 's1');
  const p2 = await as('owner', 'GET', `${base}/tables/notes/records?limit=2&page=2&sortBy=n&sortDirection=asc`);
  assert.deepEqual(p2.json.items.map((r) => r.n), [3, 4]);
  const f = encodeURIComponent(JSON.stringify({ n: { $gte: 4 } }));
  const filtered = await as('owner', 'GET', `${base}/tables/notes/records?andFilters=${f}`);
  assert.equal(filtered.status, 200, filtered.text);
  assert.equal(filtered.json.pagination.total, 2);
  const doc = await as('member', 'GET', `${base}/tables/notes/openapi`);
  assert.equal(doc.status, 200, doc.text);
  assert.deepEqual(doc.json, (await req(srv, 'GET', '/v1/data/notes/openapi', { key: secretKey })).json, 'the /v1 document');
  const one = await as('owner', 'GET', `${base}/tables/notes/records/${all.json.items[0].id}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.n, 1);
});

test('invalid filters and unknown records answer the /v1 envelope', async () => {
  const bad = await as('owner', 'GET', `${base}/tables/notes/records?andFilters=${encodeURIComponent('{not json')}`);
  expectError(assert, bad, 400, 'data/validation-error');
  const v1 = await req(srv, 'GET', `/v1/data/notes?andFilters=${encodeURIComponent('{not json')}`, { key: secretKey });
  assert.deepEqual(bad.json, v1.json, 'the /v1 envelope');
  expectError(assert, await as('owner', 'GET', `${base}/tables/notes/records/nope`), 404, 'data/not-found');
  expectError(assert, await as('owner', 'GET', `${base}/tables/ghost/records`), 404, 'data/table-not-found');
});

test('roles: owner, admin and member read; billing is refused', async () => {
  for (const role of ['admin', 'member']) {
    const r = await as(role, 'GET', `${base}/tables/notes/records`);
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    assert.equal(r.json.pagination.total, 5);
  }
  expectError(assert, await as('billing', 'GET', `${base}/tables/notes/records`), 403, 'org/permission-denied');
});

test('another organization, project or environment is not found', async () => {
  const r = await req(srv, 'GET', `/admin/v1${base}/tables/notes/records`, { token: other.ownerToken });
  expectError(assert, r, 404, 'org/project-not-found');
  expectError(assert, await as('owner', 'GET', `/projects/${proj.id}/environments/nope/tables/notes/records`), 404, 'data/environment-not-found');
});

test('end users: list with search and paging, one user, ban state', async () => {
  const ids = [];
  for (const name of ['Ada', 'Bob', 'Cy']) {
    const u = await req(srv, 'POST', '/v1/users', { key: secretKey, body: { name, email: `${name.toLowerCase()}@example.com` } });
    assert.equal(u.status, 201, u.text);
    ids.push(u.json.id);
  }
  const ban = await as('owner', 'PATCH', `${base}/auth/users/${ids[1]}`, { banned: true, reason: 'spam' });
  assert.equal(ban.status, 200, ban.text);
  const page = await as('member', 'GET', `${base}/auth/users?limit=2`);
  assert.equal(page.status, 200, page.text);
  assert.equal(page.json.items.length, 2);
  assert.equal(page.json.pagination.total, 3);
  const found = await as('member', 'GET', `${base}/auth/users?search=bob&searchType=email`);
  assert.equal(found.status, 200, found.text);
  assert.equal(found.json.items.length, 1);
  assert.equal(found.json.items[0].email, 'bob@example.com');
  assert.equal(found.json.items[0].bannedReason, 'spam');
  assert.ok(found.json.items[0].bannedAt);
  const one = await as('admin', 'GET', `${base}/auth/users/${ids[0]}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.name, 'Ada');
  assert.equal(one.json.bannedAt, null);
  assert.ok('lastLoginAt' in one.json && 'createdAt' in one.json && one.json.role === 'user');
  expectError(assert, await as('owner', 'GET', `${base}/auth/users/usr_nope`), 404, 'user/not-found');
  expectError(assert, await as('billing', 'GET', `${base}/auth/users`), 403, 'org/permission-denied');
  expectError(assert, await req(srv, 'GET', `/admin/v1${base}/auth/users`, { token: other.ownerToken }), 404, 'org/project-not-found');
  const bad = await as('owner', 'GET', `${base}/auth/users?sortBy=password`);
  expectError(assert, bad, 400, 'common/invalid-parameters');
});

test('files: every file with its metadata, paged; billing refused', async () => {
  const local = (url) => url.replace(/^http:\/\/[^/]+/, '');
  for (const name of ['a.txt', 'b.txt', 'c.txt']) {
    const data = Buffer.from(`file ${name}`);
    const p = await req(srv, 'POST', '/v1/files/presigned-url', { key: secretKey, body: { filename: name, contentType: 'text/plain' } });
    assert.equal(p.status, 200, p.text);
    const u = await req(srv, 'PUT', local(p.json.url), { raw: data, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(u.status, 200, u.text);
    const r = await req(srv, 'POST', '/v1/files', { key: secretKey, body: { s3Key: p.json.key, originalName: name, mimeType: 'text/plain', size: data.length } });
    assert.equal(r.status, 201, r.text);
  }
  const page = await as('member', 'GET', `${base}/files?limit=2&sortBy=originalName&sortDirection=asc`);
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(page.json.items.map((f) => f.originalName), ['a.txt', 'b.txt']);
  assert.equal(page.json.pagination.total, 3);
  assert.equal(page.json.items[0].mimeType, 'text/plain');
  assert.ok(page.json.items[0].size > 0 && page.json.items[0].visibility);
  expectError(assert, await as('billing', 'GET', `${base}/files`), 403, 'org/permission-denied');
  expectError(assert, await req(srv, 'GET', `/admin/v1${base}/files`, { token: other.ownerToken }), 404, 'org/project-not-found');
});

test('management reads are not metered as /v1 API calls', onlyOneProcess('it reads one process\'s /metrics counters'), async () => {
  const calls = async () => {
    const m = await req(srv, 'GET', '/metrics');
    assert.equal(m.status, 200, m.text);
    return m.text.split('\n').filter((l) => l.startsWith('basalt_usage_api_calls_total{') && l.includes(`"${proj.id}"`))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };
  const before = await calls();
  for (let i = 0; i < 3; i++) assert.equal((await as('owner', 'GET', `${base}/tables/notes/records`)).status, 200);
  assert.equal((await as('owner', 'GET', `${base}/auth/users`)).status, 200);
  assert.equal((await as('owner', 'GET', `${base}/files`)).status, 200);
  assert.equal((await as('owner', 'POST', `${base}/files/presigned-url`, { filename: 'm.txt', contentType: 'text/plain' })).status, 200);
  expectError(assert, await as('owner', 'PATCH', `${base}/files/nope`, { visibility: 'public' }), 404, 'file/not-found');
  assert.equal(await calls(), before);
  // (api/route.c meters only /v1 routes; this process's counters stay where the management reads found them)
});

test("an environment's scoped secret key reads records only of the tables its data scopes name", async () => {
  const k = await as('owner', 'POST', `${base}/keys`, { type: 'secret', name: 'scoped', scopes: ['admin:tables:read', 'admin:files:read', 'other:list'] });
  assert.equal(k.status, 201, k.text);
  const r = await req(srv, 'GET', `/admin/v1${base}/tables/notes/records`, { key: k.json.key });
  expectError(assert, r, 403, 'data/scope-insufficient');
  const f = await req(srv, 'GET', `/admin/v1${base}/files`, { key: k.json.key });
  assert.equal(f.status, 200, f.text);
  // admin:files:read reads files but changes none
  for (const m of ['PATCH', 'DELETE']) {
    const w = await req(srv, m, `/admin/v1${base}/files/nope`, { key: k.json.key, body: m === 'PATCH' ? { visibility: 'public' } : undefined });
    expectError(assert, w, 403, 'data/scope-insufficient');
  }
  const full = await req(srv, 'GET', `/admin/v1${base}/tables/notes/records`, { key: secretKey });
  assert.equal(full.status, 200, full.text);
});

test("an environment's secret key reads only its own environment", async () => {
  const p2 = await as('owner', 'POST', '/projects', { organizationId: org.id, name: 'reads two', slug: 'reads-two' });
  assert.equal(p2.status, 201, p2.text);
  const t = await as('owner', 'POST', `/projects/${p2.json.id}/environments/dev/tables`, { tableName: 'notes', schema: { bsonType: 'object' } });
  assert.equal(t.status, 201, t.text);
  for (const path of [`/projects/${p2.json.id}/environments/dev/tables/notes/records`, `/projects/${p2.json.id}/environments/dev/auth/users`,
    `/projects/${p2.json.id}/environments/dev/files`]) {
    expectError(assert, await req(srv, 'GET', '/admin/v1' + path, { key: secretKey }), 404, 'org/project-not-found');
  }
  // the owner's token reads the other project's (empty) table: the same organization
  const own = await as('owner', 'GET', `/projects/${p2.json.id}/environments/dev/tables/notes/records`);
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.pagination.total, 0);
});

test('files: owner reads, changes and deletes one file; member reads only; another environment is not found', async () => {
  const local = (url) => url.replace(/^http:\/\/[^/]+/, '');
  const data = Buffer.from('one file');
  const p = await req(srv, 'POST', '/v1/files/presigned-url', { key: secretKey, body: { filename: 'one.txt', contentType: 'text/plain' } });
  assert.equal(p.status, 200, p.text);
  assert.equal((await req(srv, 'PUT', local(p.json.url), { raw: data, headers: { 'Content-Type': 'text/plain' } })).status, 200);
  const made = await req(srv, 'POST', '/v1/files', { key: secretKey, body: { s3Key: p.json.key, originalName: 'one.txt', mimeType: 'text/plain', size: data.length } });
  assert.equal(made.status, 201, made.text);
  const one = `${base}/files/${made.json.id}`;
  const got = await as('member', 'GET', one);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.originalName, 'one.txt');
  for (const role of ['owner', 'member']) { // a signed URL of the private file that downloads
    const link = await as(role, 'GET', `${one}/download-url`);
    assert.equal(link.status, 200, link.text);
    assert.equal(link.json.filename, 'one.txt');
    const bytes = await req(srv, 'GET', local(link.json.url));
    assert.equal(bytes.status, 200, bytes.text);
    assert.equal(bytes.text, 'one file');
  }
  expectError(assert, await as('billing', 'GET', `${one}/download-url`), 403, 'org/permission-denied');
  expectError(assert, await as('member', 'PATCH', one, { visibility: 'public' }), 403, 'org/permission-denied');
  expectError(assert, await as('member', 'DELETE', one), 403, 'org/permission-denied');
  expectError(assert, await as('billing', 'GET', one), 403, 'org/permission-denied');
  const patched = await as('owner', 'PATCH', one, { visibility: 'public', originalName: 'renamed.txt' });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.visibility, 'public');
  assert.equal((await as('admin', 'GET', one)).json.originalName, 'renamed.txt');
  expectError(assert, await as('owner', 'PATCH', one, { visibility: 'nobody' }), 400, 'common/invalid-parameters');
  const list = await as('owner', 'GET', `/projects?organizationId=${org.id}`);
  const p2 = (list.json.items ?? list.json).find((x) => x.slug === 'reads-two');
  assert.ok(p2, list.text);
  expectError(assert, await as('owner', 'GET', `/projects/${p2.id}/environments/dev/files/${made.json.id}`), 404, 'file/not-found');
  expectError(assert, await as('owner', 'DELETE', `/projects/${p2.id}/environments/dev/files/${made.json.id}`), 404, 'file/not-found');
  expectError(assert, await req(srv, 'GET', `/admin/v1${one}`, { token: other.ownerToken }), 404, 'org/project-not-found');
  const gone = await as('owner', 'DELETE', one);
  assert.equal(gone.status, 200, gone.text);
  expectError(assert, await as('owner', 'GET', one), 404, 'file/not-found');
  expectError(assert, await req(srv, 'GET', `/v1/files/${made.json.id}`, { key: secretKey }), 404, 'file/not-found');
});

test('files: an upload through the management presign (PUT the URL, register); member refused', async () => {
  const local = (url) => url.replace(/^http:\/\/[^/]+/, '');
  const data = Buffer.from('uploaded by the console');
  expectError(assert, await as('member', 'POST', `${base}/files/presigned-url`, { filename: 'up.txt', contentType: 'text/plain' }), 403, 'org/permission-denied');
  const p = await as('owner', 'POST', `${base}/files/presigned-url`, { filename: 'up.txt', contentType: 'text/plain' });
  assert.equal(p.status, 200, p.text);
  assert.ok(p.json.key && p.json.url && p.json.expiresAt, p.text);
  assert.equal((await req(srv, 'PUT', local(p.json.url), { raw: data, headers: { 'Content-Type': 'text/plain' } })).status, 200);
  const reg = { s3Key: p.json.key, originalName: 'up.txt', mimeType: 'text/plain', size: data.length };
  expectError(assert, await as('member', 'POST', `${base}/files`, reg), 403, 'org/permission-denied');
  const made = await as('admin', 'POST', `${base}/files`, reg);
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.size, data.length);
  const link = await as('owner', 'GET', `${base}/files/${made.json.id}/download-url`);
  assert.equal((await req(srv, 'GET', local(link.json.url))).text, 'uploaded by the console');
  const v1 = await req(srv, 'GET', `/v1/files/${made.json.id}`, { key: secretKey });
  assert.equal(v1.status, 200, v1.text);
  // another environment's key registers nothing here
  const list = await as('owner', 'GET', `/projects?organizationId=${org.id}`);
  const p2 = (list.json.items ?? list.json).find((x) => x.slug === 'reads-two');
  expectError(assert, await as('owner', 'POST', `/projects/${p2.id}/environments/dev/files`, reg), 400, 'file/invalid-path');
});

test("end users' sessions: listed to every viewing role, ended by owner and admin", async () => {
  const pk = await as('owner', 'POST', `${base}/keys`, { type: 'publishable', name: 'sessions' });
  assert.equal(pk.status, 201, pk.text);
  const key = pk.json.key;
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { key, body: { method: 'password', email: 'sess@example.com', password: 'secret1', name: 'Sess' },
    headers: { 'User-Agent': 'phone' } });
  assert.equal(up.status, 201, up.text);
  const user = JSON.parse(Buffer.from(up.json.accessToken.split('.')[1], 'base64url')).sub;
  const second = await req(srv, 'POST', '/v1/auth/email/signin', { key, body: { email: 'sess@example.com', password: 'secret1' }, headers: { 'User-Agent': 'laptop' } });
  assert.equal(second.status, 200, second.text);
  const path = `${base}/auth/users/${user}/sessions`;
  for (const role of ['owner', 'admin', 'member']) {
    const r = await as(role, 'GET', path);
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    assert.equal(r.json.pagination.total, 2);
    assert.deepEqual(r.json.items.map((x) => x.userAgent).sort(), ['laptop', 'phone']);
    assert.ok(r.json.items.every((x) => x.userId === user && x.id && x.createdAt && x.current === false));
  }
  const paged = await as('owner', 'GET', `${path}?limit=1&page=2`);
  assert.equal(paged.json.items.length, 1);
  assert.equal(paged.json.pagination.totalPages, 2);
  expectError(assert, await as('billing', 'GET', path), 403, 'org/permission-denied');
  expectError(assert, await as('owner', 'GET', `${base}/auth/users/usr_nope/sessions`), 404, 'user/not-found');
  const phone = (await as('owner', 'GET', path)).json.items.find((x) => x.userAgent === 'phone');
  expectError(assert, await as('member', 'DELETE', `${path}/${phone.id}`), 403, 'org/permission-denied');
  const end = await as('admin', 'DELETE', `${path}/${phone.id}`);
  assert.equal(end.status, 200, end.text);
  const left = await as('owner', 'GET', path);
  assert.deepEqual(left.json.items.map((x) => x.userAgent), ['laptop']);
  expectError(assert, await req(srv, 'POST', '/v1/auth/refresh', { key, body: { refreshToken: up.json.refreshToken } }), 401, 'auth/session-expired');
  assert.equal((await req(srv, 'POST', '/v1/auth/refresh', { key, body: { refreshToken: second.json.refreshToken } })).status, 200, 'the other session lives');
  expectError(assert, await as('owner', 'DELETE', `${path}/${phone.id}`), 404, 'auth/session-not-found');
  expectError(assert, await as('owner', 'DELETE', `${base}/auth/users/${user}/sessions/nope`), 404, 'auth/session-not-found');
  const log = await as('owner', 'GET', `/organizations/${org.id}/activity?entityType=session&action=revoke&projectId=${proj.id}`);
  assert.deepEqual(log.json.items.map((a) => [a.entityId, a.environment]), [[phone.id, 'dev']]);
});
