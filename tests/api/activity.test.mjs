// The activity log of environment-level changes (docs/platform.md "Activity log"): every management
// change inside an environment (tables, permissions, schema and index versions, keys, sign-in settings,
// providers and templates, end users, files) writes one entry naming its organization, project and
// environment; GET .../activity filters them by entity, action, project and environment, 20 a page.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';

let srv, org, owner, proj, other, base;

const admin = (method, path, body, token = owner) => req(srv, method, '/admin/v1' + path, { token, body });
const activity = (query) => admin('GET', `/organizations/${org.id}/activity?${new URLSearchParams(query)}`);

before(async () => {
  srv = await startServer();
  const made = await req(srv, 'POST', '/admin/v1/organizations', { token: srv.bootstrap.operatorToken, body: { name: 'Audit', slug: 'audit-co' } });
  assert.equal(made.status, 201, made.text);
  org = made.json;
  owner = org.ownerToken;
  const p = await admin('POST', '/projects', { organizationId: org.id, name: 'audited', slug: 'audited' });
  assert.equal(p.status, 201, p.text);
  proj = p.json;
  const q = await admin('POST', '/projects', { organizationId: org.id, name: 'quiet', slug: 'quiet' });
  assert.equal(q.status, 201, q.text);
  other = q.json;
  base = `/projects/${proj.id}/environments/dev`;
});
after(async () => { await srv?.stop(); });

// The newest entry of entity/action in the project, checked to name the project and environment.
async function logged(entityType, action, entityId, environment = 'dev') {
  const r = await activity({ entityType, action, projectId: proj.id });
  assert.equal(r.status, 200, r.text);
  const hit = r.json.items.find((a) => a.entityId === entityId);
  assert.ok(hit, `${entityType}/${action} of ${entityId} not logged: ${r.text}`);
  assert.equal(hit.projectId, proj.id);
  assert.equal(hit.environment, environment);
  assert.equal(hit.organizationId, org.id);
  for (const a of r.json.items) assert.deepEqual([a.entityType, a.action], [entityType, action], 'the filters hold');
  return hit;
}

test('every environment-level change is in the activity log with its entity and action', async () => {
  const before = (await activity({ projectId: proj.id, limit: 1 })).json.pagination.total;
  // a refused change writes nothing
  expectError(assert, await admin('POST', `${base}/tables`, { tableName: '1bad' }), 400, 'data/validation-error');
  assert.equal((await activity({ projectId: proj.id, limit: 1 })).json.pagination.total, before);

  const ok = async (r, status = 200) => { assert.equal(r.status, status, r.text); return r.json; };
  await ok(await admin('POST', `${base}/tables`, { tableName: 'posts', schema: { bsonType: 'object', properties: { title: { bsonType: 'string' } } } }), 201);
  const created = await logged('table', 'create', 'posts');
  assert.match(created.actorType, /^(member|token)$/);
  assert.ok(created.actor);
  await ok(await admin('PATCH', `${base}/tables/posts`, { description: 'the blog' }));
  await logged('table', 'update', 'posts');
  await ok(await admin('PUT', `${base}/tables/posts/permissions`, { guest: { read: true, list: true } }));
  await logged('table', 'permissions', 'posts');
  await ok(await admin('PATCH', `${base}/tables/posts/fields`, { fieldsToAddOrUpdate: { views: { bsonType: 'int' } } }));
  await logged('schema', 'update', 'posts');
  await ok(await admin('POST', `${base}/tables/posts/schema/rollback`, { version: 1 }));
  await logged('schema', 'rollback', 'posts');
  await ok(await admin('POST', `${base}/tables/posts/indexes`, { indexesToAdd: [{ name: 'by_title', fields: { title: 1 } }] }));
  assert.match((await logged('index', 'create', 'posts')).message, /by_title/);
  await ok(await admin('POST', `${base}/tables/posts/indexes`, { indexesToRemove: ['by_title'] }));
  await logged('index', 'delete', 'posts');
  await ok(await admin('POST', `${base}/tables/posts/indexes/rollback`, { version: 2 }));
  await logged('index', 'rollback', 'posts');

  const key = await ok(await admin('POST', `${base}/keys`, { type: 'secret', name: 'ci' }), 201);
  await logged('key', 'create', key.id);
  // a change made with a secret key names the key as the actor
  const byKey = await req(srv, 'POST', `/admin/v1${base}/tables`, { key: key.key, body: { tableName: 'by_key' } });
  assert.equal(byKey.status, 201, byKey.text);
  const keyed = await logged('table', 'create', 'by_key');
  assert.deepEqual([keyed.actorType, keyed.actor], ['key', key.id]);
  await ok(await admin('DELETE', `${base}/keys/${key.id}`));
  await logged('key', 'revoke', key.id);

  await ok(await admin('PATCH', `${base}/auth/settings`, { signupEnabled: false }));
  await logged('auth', 'update', 'settings');
  await ok(await admin('PUT', `${base}/auth/providers/github`, { clientId: 'gh-client', clientSecret: 's', enabled: false }));
  await logged('provider', 'update', 'github');
  await ok(await admin('PUT', `${base}/auth/templates/magic_link`, { subject: 'Sign in', body: 'Go: {{link}}' }));
  await logged('template', 'update', 'magic_link');
  await ok(await admin('DELETE', `${base}/auth/templates/magic_link`));
  await logged('template', 'delete', 'magic_link');

  const sk = await ok(await admin('POST', `${base}/keys`, { type: 'secret', name: 'users' }), 201);
  const user = await req(srv, 'POST', '/v1/users', { key: sk.key, body: { name: 'Eve', email: 'eve@example.com' } });
  assert.equal(user.status, 201, user.text);
  await ok(await admin('PATCH', `${base}/auth/users/${user.json.id}`, { banned: true, reason: 'spam' }));
  await logged('user', 'ban', user.json.id);
  await ok(await admin('PATCH', `${base}/auth/users/${user.json.id}`, { banned: false }));
  await logged('user', 'unban', user.json.id);

  const local = (url) => url.replace(/^http:\/\/[^/]+/, '');
  const up = await ok(await admin('POST', `${base}/files/presigned-url`, { filename: 'a.txt', contentType: 'text/plain' }));
  assert.equal((await req(srv, 'PUT', local(up.url), { raw: Buffer.from('hello'), headers: { 'Content-Type': 'text/plain' } })).status, 200);
  const file = await ok(await admin('POST', `${base}/files`, { s3Key: up.key, originalName: 'a.txt', mimeType: 'text/plain', size: 5 }), 201);
  assert.match((await logged('file', 'create', file.id)).message, /a\.txt/);
  await ok(await admin('PATCH', `${base}/files/${file.id}`, { visibility: 'public' }));
  assert.match((await logged('file', 'update', file.id)).message, /public/);
  // a long name is cut to fit the entry, never inside a character
  await ok(await admin('PATCH', `${base}/files/${file.id}`, { originalName: '€'.repeat(200) }));
  const long = await logged('file', 'update', file.id);
  assert.match(long.message, /^file (€)+$/, 'cut between characters');
  assert.ok(Buffer.byteLength(long.message) <= 511, long.message.length);
  await ok(await admin('PATCH', `${base}/files/${file.id}`, { originalName: 'a.txt' }));
  await ok(await admin('DELETE', `${base}/files/${file.id}`));
  assert.match((await logged('file', 'delete', file.id)).message, /file a\.txt deleted/);

  await ok(await admin('DELETE', `${base}/tables/posts`));
  await logged('table', 'delete', 'posts');
});

test('activity filters by project and environment on the server, with paging', async () => {
  assert.equal((await admin('PUT', `/organizations/${org.id}/plan`, { plan: 'enterprise' })).status, 200);
  const qa = await admin('POST', `/projects/${proj.id}/environments`, { environment: 'qa', environmentType: 'dev' });
  assert.equal(qa.status, 201, qa.text);
  await logged('environment', 'create', qa.json.id, 'qa');
  for (let i = 0; i < 23; i++) {
    const t = await admin('POST', `/projects/${proj.id}/environments/qa/tables`, { tableName: `t${i}` });
    assert.equal(t.status, 201, t.text);
  }
  const q = await admin('POST', `/projects/${other.id}/environments/dev/tables`, { tableName: 'elsewhere' });
  assert.equal(q.status, 201, q.text);

  const page1 = await activity({ projectId: proj.id, environment: 'qa', limit: 20 });
  assert.equal(page1.status, 200, page1.text);
  assert.equal(page1.json.pagination.total, 24, 'the environment and its 23 tables');
  assert.equal(page1.json.items.length, 20);
  assert.equal(page1.json.items[0].entityId, 't22', 'newest first');
  const page2 = await activity({ projectId: proj.id, environment: 'qa', limit: 20, page: 2 });
  assert.deepEqual(page2.json.items.map((a) => a.entityId), ['t2', 't1', 't0', qa.json.id]);
  for (const a of [...page1.json.items, ...page2.json.items]) assert.deepEqual([a.projectId, a.environment], [proj.id, 'qa']);

  const all = await activity({ projectId: proj.id, limit: 100 });
  assert.ok(all.json.items.every((a) => a.projectId === proj.id));
  assert.ok(all.json.items.some((a) => a.environment === 'dev') && all.json.items.some((a) => a.environment === 'qa'));
  assert.ok(all.json.items.some((a) => a.entityType === 'project' && a.environment === null), 'project-level entries too');
  const quiet = await activity({ projectId: other.id });
  assert.deepEqual(quiet.json.items.map((a) => a.entityId).filter((id) => id === 'elsewhere'), ['elsewhere']);
  assert.ok(quiet.json.items.every((a) => a.projectId === other.id));
  const searched = await activity({ projectId: proj.id, environment: 'qa', search: 'T1', limit: 100 });
  assert.ok(searched.json.items.length > 0 && searched.json.items.every((a) => /t1/i.test(a.message)), searched.text);
  const none = await activity({ projectId: 'prj_nope' });
  assert.equal(none.status, 200);
  assert.equal(none.json.pagination.total, 0);
});
