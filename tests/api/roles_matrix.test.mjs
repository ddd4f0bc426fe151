// The permission matrix of platform.md §9.2–9.3 (src/core/roles.c) on every management endpoint, row by
// row: each endpoint is called with an owner, admin, member and billing token of the same organization;
// the roles the matrix allows succeed, the others get 403 org/permission-denied and change nothing.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';

let srv, org, tokens;
const ROLES = ['owner', 'admin', 'member', 'billing'];
let seq = 0;

before(async () => {
  srv = await startServer();
  const made = await req(srv, 'POST', '/admin/v1/organizations', { token: srv.bootstrap.operatorToken, body: { name: 'Matrix', slug: 'matrix-co' } });
  assert.equal(made.status, 201, made.text);
  org = made.json;
  tokens = { owner: org.ownerToken };
  for (const role of ['admin', 'member', 'billing']) {
    const t = await req(srv, 'POST', `/admin/v1/organizations/${org.id}/access-tokens`, { token: org.ownerToken, body: { name: role, role } });
    assert.equal(t.status, 201, t.text);
    tokens[role] = t.json.token;
  }
  assert.equal((await as('owner', 'PUT', `/organizations/${org.id}/plan`, { plan: 'enterprise' })).status, 200);
});
after(async () => { await srv?.stop(); });

function as(role, method, path, body) {
  return req(srv, method, '/admin/v1' + path, { token: tokens[role], body });
}

// A fresh project (with its dev environment and a table) made by the owner, for rows that change or delete.
async function project() {
  const slug = `m-proj-${++seq}`;
  const p = await as('owner', 'POST', '/projects', { organizationId: org.id, name: slug, slug });
  assert.equal(p.status, 201, p.text);
  const t = await as('owner', 'POST', `/projects/${p.json.id}/environments/dev/tables`, { tableName: 'notes', schema: { bsonType: 'object', properties: { n: { bsonType: 'int' } } } });
  assert.equal(t.status, 201, t.text);
  return p.json;
}

const ALL = ROLES, OWNER_ADMIN = ['owner', 'admin'], USERS = ['owner', 'admin', 'member'];
// [matrix row, method, path(project), body(project), roles allowed]
const ROWS = [
  ['view organization', 'GET', () => `/organizations/${org.id}`, null, ALL],
  ['view organization: list', 'GET', () => '/organizations', null, ALL],
  ['view organization: activity', 'GET', () => `/organizations/${org.id}/activity`, null, ALL],
  ['edit organization settings', 'PATCH', () => `/organizations/${org.id}`, () => ({ description: `d${++seq}` }), OWNER_ADMIN],
  ['view plan', 'GET', () => `/organizations/${org.id}/plan`, null, ALL],
  ['manage billing: change plan', 'PUT', () => `/organizations/${org.id}/plan`, () => ({ plan: 'enterprise' }), ['owner', 'billing']],
  ['create projects', 'POST', () => '/projects', () => ({ organizationId: org.id, name: 'x', slug: `new-proj-${++seq}` }), OWNER_ADMIN],
  ['use projects: list', 'GET', () => '/projects', null, USERS],
  ['use projects: get', 'GET', (p) => `/projects/${p.id}`, null, USERS],
  ['use projects: environments', 'GET', (p) => `/projects/${p.id}/environments`, null, USERS],
  ['use projects: environment', 'GET', (p) => `/projects/${p.id}/environments/dev`, null, USERS],
  ['use projects: tables', 'GET', (p) => `/projects/${p.id}/environments/dev/tables`, null, USERS],
  ['use projects: table', 'GET', (p) => `/projects/${p.id}/environments/dev/tables/notes`, null, USERS],
  ['use projects: keys', 'GET', (p) => `/projects/${p.id}/environments/dev/keys`, null, USERS],
  ['use projects: records', 'GET', (p) => `/projects/${p.id}/environments/dev/tables/notes/records`, null, USERS],
  ['use projects: end users', 'GET', (p) => `/projects/${p.id}/environments/dev/auth/users`, null, USERS],
  ['use projects: files', 'GET', (p) => `/projects/${p.id}/environments/dev/files`, null, USERS],
  ['edit project settings', 'PATCH', (p) => `/projects/${p.id}`, () => ({ settings: { apiCallLimit: 500 } }), OWNER_ADMIN],
  ['create / edit tables', 'POST', (p) => `/projects/${p.id}/environments/dev/tables`, () => ({ tableName: `t${++seq}`, schema: { bsonType: 'object' } }), OWNER_ADMIN],
  ['create / edit tables: indexes', 'POST', (p) => `/projects/${p.id}/environments/dev/tables/notes/indexes`, () => ({ indexesToAdd: [{ name: `ix${++seq}`, fields: { n: 1 } }] }), OWNER_ADMIN],
  ['create / edit tables: delete', 'DELETE', (p) => `/projects/${p.id}/environments/dev/tables/notes`, null, OWNER_ADMIN],
  ['create environments', 'POST', (p) => `/projects/${p.id}/environments`, () => ({ environment: 'staging', environmentType: 'staging' }), OWNER_ADMIN],
  ['delete environments', 'DELETE', (p) => `/projects/${p.id}/environments/dev`, null, OWNER_ADMIN],
  ['create API keys', 'POST', (p) => `/projects/${p.id}/environments/dev/keys`, () => ({ type: 'publishable', name: 'k' }), OWNER_ADMIN],
  ['create access tokens (member role)', 'POST', () => `/organizations/${org.id}/access-tokens`, () => ({ name: 't', role: 'member' }), OWNER_ADMIN],
  ['grant owner tokens', 'POST', () => `/organizations/${org.id}/access-tokens`, () => ({ name: 't', role: 'owner' }), ['owner']],
  ['delete projects', 'DELETE', (p) => `/projects/${p.id}`, null, OWNER_ADMIN],
];

for (const [row, method, path, body, allowed] of ROWS) {
  test(`matrix: ${row} — ${allowed.join(', ')}`, async () => {
    for (const role of ROLES) {
      const p = await project();
      const res = await as(role, method, path(p), body ? body() : undefined);
      if (allowed.includes(role)) {
        assert.ok(res.status >= 200 && res.status < 300, `${role} ${method} ${path(p)}: ${res.status} ${res.text}`);
      } else {
        expectError(assert, res, 403, 'org/permission-denied');
        if (method !== 'GET') {
          const still = await as('owner', 'GET', `/projects/${p.id}/environments/dev/tables/notes`);
          assert.equal(still.status, 200, `${role} changed nothing`);
        }
      }
    }
  });
}

test('matrix: only the owner deletes the organization', async () => {
  for (const role of ['admin', 'member', 'billing']) expectError(assert, await as(role, 'DELETE', `/organizations/${org.id}`), 403, 'org/permission-denied');
  assert.equal((await as('owner', 'GET', `/organizations/${org.id}`)).status, 200, 'still there');
  const del = await as('owner', 'DELETE', `/organizations/${org.id}`);
  assert.equal(del.status, 200, del.text);
  expectError(assert, await as('owner', 'GET', `/organizations/${org.id}`), 401, 'auth/unauthorized');
});
