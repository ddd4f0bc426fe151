// The management plane, first part (docs/platform.md): organizations, plans (upgrade now, downgrade at the
// end of the month or refused), projects with their dev environment, environments gated by plan, project
// settings, deletion that takes data and files with it, the activity log, and roles.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const op = (token = b.operatorToken) => ({ token });
const admin = (method, path, body, token) => req(srv, method, '/admin/v1' + path, { ...op(token), body });

test('organizations: list, get, patch, immutable slug, other organizations are invisible', async () => {
  const list = await admin('GET', '/organizations');
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.items.length, 1);
  assert.equal(list.json.items[0].id, b.organizationId);
  assert.equal(list.json.items[0].plan, 'free');
  const patch = await admin('PATCH', `/organizations/${b.organizationId}`, { displayName: 'Default Org', description: 'd', notificationEmail: 'ops@x.io' });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(patch.json.displayName, 'Default Org');
  assert.equal(patch.json.notificationEmail, 'ops@x.io');
  expectError(assert, await admin('PATCH', `/organizations/${b.organizationId}`, { slug: 'renamed' }), 400, 'common/invalid-parameters');
  expectError(assert, await admin('PATCH', `/organizations/${b.organizationId}`, { notificationEmail: 'nope' }), 400, 'common/invalid-parameters');
  expectError(assert, await admin('GET', '/organizations/org_someone_else'), 404, 'org/not-found');
  expectError(assert, await req(srv, 'GET', '/admin/v1/organizations', { key: b.secretKey }), 403, 'org/permission-denied');
  expectError(assert, await req(srv, 'GET', '/admin/v1/organizations'), 401, 'auth/unauthorized');
});

test('a new organization comes with an owner token; slugs are unique', async () => {
  const made = await admin('POST', '/organizations', { name: 'Acme', slug: 'acme' });
  assert.equal(made.status, 201, made.text);
  assert.match(made.json.ownerToken, /^bt_[0-9a-f]{64}$/);
  assert.equal(made.json.plan, 'free');
  expectError(assert, await admin('POST', '/organizations', { name: 'Acme 2', slug: 'acme' }), 409, 'org/slug-taken');
  expectError(assert, await admin('POST', '/organizations', { name: 'Bad', slug: 'A_B' }), 400, 'common/invalid-parameters');
  const mine = await admin('GET', '/organizations', undefined, made.json.ownerToken);
  assert.deepEqual(mine.json.items.map((o) => o.slug), ['acme']);
  expectError(assert, await admin('GET', `/organizations/${b.organizationId}`, undefined, made.json.ownerToken), 404, 'org/not-found');
});

test('projects: create with a dev environment, maxProjects per plan, settings validated, slug unique', async () => {
  const org = await admin('POST', '/organizations', { name: 'Proj Co', slug: 'proj-co' });
  const t = org.json.ownerToken;
  const p = await admin('POST', '/projects', { organizationId: org.json.id, name: 'Shop', slug: 'shop', primaryRegion: 'eu-west-1' }, t);
  assert.equal(p.status, 201, p.text);
  assert.equal(p.json.environments[0].environment, 'dev');
  assert.equal(p.json.environments[0].deployment.status, 'ready');
  expectError(assert, await admin('POST', '/projects', { organizationId: org.json.id, name: 'Shop', slug: 'shop' }, t), 409, 'org/slug-taken');
  assert.equal((await admin('POST', '/projects', { organizationId: org.json.id, name: 'Blog', slug: 'blog' }, t)).status, 201);
  const third = await admin('POST', '/projects', { organizationId: org.json.id, name: 'Third', slug: 'third' }, t);
  expectError(assert, third, 403, 'org/plan-limit-exceeded');
  assert.match(third.json.error.message, /allows 2 projects/);
  const list = await admin('GET', `/projects?organizationId=${org.json.id}`, undefined, t);
  assert.deepEqual(list.json.items.map((x) => [x.slug, x.environmentCount]), [['shop', 1], ['blog', 1]]);
  const s = await admin('PATCH', `/projects/${p.json.id}`, { name: 'Shop!', settings: { allowedOrigins: ['https://shop.example.com'], ipWhitelist: ['10.0.0.0/8', '2001:db8::1'], apiCallLimit: 5000 } }, t);
  assert.equal(s.status, 200, s.text);
  assert.deepEqual(s.json.settings, { allowedOrigins: ['https://shop.example.com'], ipWhitelist: ['10.0.0.0/8', '2001:db8::1'], apiCallLimit: 5000 });
  for (const bad of [{ allowedOrigins: ['*'] }, { allowedOrigins: ['shop.example.com'] }, { ipWhitelist: ['10.0.0.0/33'] }, { ipWhitelist: ['nope'] },
    { apiCallLimit: 0 }, { notificationEmail: 'x' }]) {
    expectError(assert, await admin('PATCH', `/projects/${p.json.id}`, { settings: bad }, t), 400, 'common/invalid-parameters');
  }
  expectError(assert, await admin('PATCH', `/projects/${p.json.id}`, { settings: { webhookUrl: 'https://hooks.example.com/x' } }, t), 403, 'org/feature-not-available');
  expectError(assert, await admin('GET', `/projects/${p.json.id}`), 404, 'org/project-not-found', 'another organization\'s token');
});

test('environments: types and counts gated by plan; upgrade opens them; names unique; first table makes it active', async () => {
  const org = await admin('POST', '/organizations', { name: 'Env Co', slug: 'env-co' });
  const t = org.json.ownerToken;
  const p = (await admin('POST', '/projects', { organizationId: org.json.id, name: 'App', slug: 'app' }, t)).json;
  const envs = `/projects/${p.id}/environments`;
  expectError(assert, await admin('POST', envs, { environment: 'staging', environmentType: 'staging' }, t), 403, 'org/plan-limit-exceeded');
  const up = await admin('PUT', `/organizations/${org.json.id}/plan`, { plan: 'starter' }, t);
  assert.equal(up.status, 200, up.text);
  assert.equal(up.json.plan, 'starter', 'upgrades apply at once');
  assert.deepEqual(up.json.limits.environmentTypes, ['dev', 'staging', 'prod']);
  const st = await admin('POST', envs, { environment: 'staging', environmentType: 'staging' }, t);
  assert.equal(st.status, 201, st.text);
  assert.equal(st.json.deployment.status, 'ready');
  expectError(assert, await admin('POST', envs, { environment: 'staging', environmentType: 'staging' }, t), 409, 'org/environment-exists');
  expectError(assert, await admin('POST', envs, { environment: 'ab-test', environmentType: 'custom' }, t), 403, 'org/plan-limit-exceeded');
  assert.equal((await admin('POST', envs, { environment: 'prod', environmentType: 'prod' }, t)).status, 201);
  expectError(assert, await admin('POST', envs, { environment: 'prod2', environmentType: 'prod' }, t), 403, 'org/plan-limit-exceeded', '3 per project');
  expectError(assert, await admin('POST', envs, { environment: 'Bad Name', environmentType: 'prod' }, t), 400, 'common/invalid-parameters');
  const table = await admin('POST', `${envs}/staging/tables`, { tableName: 'notes', schema: { bsonType: 'object', properties: { t: { bsonType: 'string' } } } }, t);
  assert.equal(table.status, 201, table.text);
  assert.equal((await admin('GET', `${envs}/staging`, undefined, t)).json.deployment.status, 'active');
  assert.deepEqual((await admin('GET', envs, undefined, t)).json.items.map((e) => [e.environment, e.environmentType]),
    [['dev', 'dev'], ['staging', 'staging'], ['prod', 'prod']]);
});

test('plans: downgrade refused while over, scheduled for the end of the month, cancellable', async () => {
  const org = await admin('POST', '/organizations', { name: 'Plan Co', slug: 'plan-co' });
  const t = org.json.ownerToken, plan = `/organizations/${org.json.id}/plan`;
  const p = (await admin('POST', '/projects', { organizationId: org.json.id, name: 'App', slug: 'app' }, t)).json;
  await admin('PUT', plan, { plan: 'growth' }, t);
  await admin('POST', `/projects/${p.id}/environments`, { environment: 'ab', environmentType: 'custom' }, t);
  const refused = await admin('PUT', plan, { plan: 'free' }, t);
  expectError(assert, refused, 409, 'org/downgrade-blocked');
  const metrics = refused.json.error.details.map((d) => d.metric).sort();
  assert.deepEqual(metrics, ['environmentTypes', 'environments']);
  assert.deepEqual(refused.json.error.details.find((d) => d.metric === 'environments'), { metric: 'environments', used: 2, limit: 1 });
  await admin('DELETE', `/projects/${p.id}/environments/ab`, undefined, t);
  const down = await admin('PUT', plan, { plan: 'starter' }, t);
  assert.equal(down.status, 200, down.text);
  assert.equal(down.json.plan, 'growth', 'a downgrade waits');
  assert.equal(down.json.scheduledPlan, 'starter');
  const at = new Date(down.json.scheduledAt);
  assert.equal(at.getUTCDate(), 1);
  assert.equal(at.getUTCHours(), 0);
  assert.ok(at > new Date());
  const cancel = await admin('PUT', plan, { plan: 'growth' }, t);
  assert.equal(cancel.json.scheduledPlan, null);
  expectError(assert, await admin('PUT', plan, { plan: 'platinum' }, t), 400, 'common/invalid-parameters');
  const activity = await admin('GET', `/organizations/${org.json.id}/activity?entityType=plan`, undefined, t);
  assert.deepEqual(activity.json.items.map((a) => a.action), ['scheduled change cancelled', 'downgrade scheduled', 'upgrade']);
});

test('deleting a project removes its environments, their data and files; the activity log pages and searches', async () => {
  const org = await admin('POST', '/organizations', { name: 'Del Co', slug: 'del-co' });
  const t = org.json.ownerToken;
  const p = (await admin('POST', '/projects', { organizationId: org.json.id, name: 'Temp', slug: 'temp' }, t)).json;
  const key = await admin('POST', `/projects/${p.id}/environments/dev/keys`, { type: 'secret', name: 'k' }, t);
  assert.equal(key.status, 201, key.text);
  const sk = key.json.key;
  await admin('POST', `/projects/${p.id}/environments/dev/tables`, { tableName: 'things', schema: { bsonType: 'object', properties: { n: { bsonType: 'int' } } } }, t);
  assert.equal((await req(srv, 'POST', '/v1/data/things', { key: sk, body: { n: 1 } })).status, 201);
  const up = await req(srv, 'POST', '/v1/files/presigned-url', { key: sk, body: { filename: 'a.txt', contentType: 'text/plain' } });
  await req(srv, 'PUT', up.json.url.replace(/^http:\/\/[^/]+/, ''), { raw: 'bytes', headers: { 'Content-Type': 'text/plain' } });
  const fileUrl = up.json.url.replace(/^http:\/\/[^/]+/, '').split('?')[0];
  assert.equal((await req(srv, 'GET', fileUrl)).status, 200);
  const del = await admin('DELETE', `/projects/${p.id}`, undefined, t);
  assert.equal(del.status, 200, del.text);
  expectError(assert, await admin('GET', `/projects/${p.id}`, undefined, t), 404, 'org/project-not-found');
  expectError(assert, await req(srv, 'GET', '/v1/data/things', { key: sk }), 401, ['auth/invalid-api-key', 'data/environment-not-found']);
  expectError(assert, await req(srv, 'GET', fileUrl), 404, 'file/not-found');
  const log = await admin('GET', `/organizations/${org.json.id}/activity?limit=2`, undefined, t);
  assert.equal(log.json.items.length, 2);
  assert.equal(log.json.items[0].action, 'delete');
  assert.equal(log.json.items[0].entityType, 'project');
  assert.ok(log.json.pagination.total >= 3);
  const found = await admin('GET', `/organizations/${org.json.id}/activity?search=TEMP`, undefined, t);
  assert.ok(found.json.items.length >= 1 && found.json.items.every((a) => /temp/i.test(a.message)));
});

test('roles: members read, billing manages the plan only, admins cannot delete the organization', async () => {
  const org = await admin('POST', '/organizations', { name: 'Role Co', slug: 'role-co' });
  const t = org.json.ownerToken;
  const mk = async (role, token = t) => admin('POST', `/organizations/${org.json.id}/access-tokens`, { name: role, role }, token);
  const tokens = {};
  for (const role of ['admin', 'member', 'billing']) {
    const made = await mk(role);
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.role, role);
    tokens[role] = made.json.token;
  }
  expectError(assert, await mk('owner', tokens.admin), 403, 'org/permission-denied');
  expectError(assert, await mk('member', tokens.member), 403, 'org/permission-denied');
  expectError(assert, await mk('emperor'), 400, 'common/invalid-parameters');
  const p = (await admin('POST', '/projects', { organizationId: org.json.id, name: 'R', slug: 'r-proj' }, tokens.admin)).json;
  expectError(assert, await admin('POST', '/projects', { organizationId: org.json.id, name: 'M', slug: 'm-proj' }, tokens.member), 403, 'org/permission-denied');
  assert.equal((await admin('GET', `/projects/${p.id}`, undefined, tokens.member)).status, 200);
  expectError(assert, await admin('GET', `/projects/${p.id}`, undefined, tokens.billing), 403, 'org/permission-denied');
  assert.equal((await admin('PUT', `/organizations/${org.json.id}/plan`, { plan: 'starter' }, tokens.billing)).status, 200);
  expectError(assert, await admin('PUT', `/organizations/${org.json.id}/plan`, { plan: 'growth' }, tokens.admin), 403, 'org/permission-denied');
  expectError(assert, await admin('DELETE', `/organizations/${org.json.id}`, undefined, tokens.admin), 403, 'org/permission-denied');
});

test('deleting an organization takes everything with it', async () => {
  const org = await admin('POST', '/organizations', { name: 'Gone Co', slug: 'gone-co' });
  const t = org.json.ownerToken;
  await admin('POST', '/projects', { organizationId: org.json.id, name: 'G', slug: 'g-proj' }, t);
  const del = await admin('DELETE', `/organizations/${org.json.id}`, undefined, t);
  assert.equal(del.status, 200, del.text);
  expectError(assert, await admin('GET', '/organizations', undefined, t), 401, 'auth/unauthorized', 'its tokens went with it');
  assert.equal((await admin('POST', '/organizations', { name: 'Gone Again', slug: 'gone-co' })).status, 201, 'the slug is free again');
});

test('an expiring access token cannot mint one that outlives it: no expiry inherits its own, a later one is 403', async () => {
  const org = await admin('POST', '/organizations', { name: 'Expiry Co', slug: 'expiry-co' });
  const t = org.json.ownerToken, path = `/organizations/${org.json.id}/access-tokens`;
  const soon = new Date(Date.now() + 3600 * 1000).toISOString();
  const short = await admin('POST', path, { name: 'short', role: 'admin', expiresAt: soon }, t);
  assert.equal(short.status, 201, short.text);
  const later = new Date(Date.now() + 7200 * 1000).toISOString();
  expectError(assert, await admin('POST', path, { name: 'longer', role: 'member', expiresAt: later }, short.json.token), 403, 'org/permission-denied');
  const forever = await admin('POST', path, { name: 'forever', role: 'member' }, short.json.token);
  assert.equal(forever.status, 201, forever.text);
  assert.equal(Date.parse(forever.json.expiresAt), Date.parse(soon), 'no expiresAt: the creator\'s expiry');
  const within = await admin('POST', path, { name: 'within', role: 'member', expiresAt: new Date(Date.now() + 1800 * 1000).toISOString() }, short.json.token);
  assert.equal(within.status, 201, within.text);
  const unbounded = await admin('POST', path, { name: 'unbounded', role: 'member' }, t);
  assert.equal(unbounded.json.expiresAt, null, 'a token without expiry still mints tokens without expiry');
});
