// Placement (platform.md §5.1, §5.5; docs/platform.md "Placement"): dev environments take slots on shared
// clusters — a slot freed by a deleted environment first (first in, first out), then a never-used slot of
// a cluster with room, then the spare cluster opens and a new spare is registered — while staging, prod
// and custom environments get a dedicated cluster that goes away with them. Run with 2 slots per cluster.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, runOnce } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer({ args: ['--shared-cluster-slots', '2'] }); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const admin = (method, path, body) => req(srv, method, '/admin/v1' + path, { token: b.operatorToken, body });
const devOf = async (projectId) => (await admin('GET', `/projects/${projectId}/environments/dev`)).json.cluster;
const newProject = async (slug) => {
  const p = await admin('POST', '/projects', { organizationId: b.organizationId, name: slug, slug });
  assert.equal(p.status, 201, p.text);
  return p.json;
};
const clusters = async () => {
  const out = await runOnce(['operator', 'clusters', '--data', srv.dataDir]);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
};

test('dev slots: fill a shared cluster, open the spare, reuse freed slots first in first out; dedicated for the rest', async () => {
  assert.equal((await admin('PUT', `/organizations/${b.organizationId}/plan`, { plan: 'enterprise' })).status, 200);
  assert.deepEqual(await devOf(b.projectId), { id: 'shared-1', type: 'shared', slot: 0 }, 'the bootstrap environment');
  const p2 = await newProject('app-two');
  assert.deepEqual(await devOf(p2.id), { id: 'shared-1', type: 'shared', slot: 1 });
  const p3 = await newProject('app-three');
  assert.deepEqual(await devOf(p3.id), { id: 'shared-2', type: 'shared', slot: 0 }, 'shared-1 is full: the spare opens');
  const p4 = await newProject('app-four');
  assert.deepEqual(await devOf(p4.id), { id: 'shared-2', type: 'shared', slot: 1 });
  let list = await clusters();
  assert.deepEqual(list.map((r) => [r[0], r[1], r[2], r[3]]),
    [['shared-1', 'shared', 'active', '2/2'], ['shared-2', 'shared', 'active', '2/2'], ['shared-3', 'shared', 'spare', '0/2']]);

  assert.equal((await admin('DELETE', `/projects/${p3.id}`)).status, 200); // frees shared-2/0 first
  assert.equal((await admin('DELETE', `/projects/${p2.id}`)).status, 200); // then shared-1/1
  const p5 = await newProject('app-five');
  assert.deepEqual(await devOf(p5.id), { id: 'shared-2', type: 'shared', slot: 0 }, 'the slot freed first is reused first');
  const p6 = await newProject('app-six');
  assert.deepEqual(await devOf(p6.id), { id: 'shared-1', type: 'shared', slot: 1 });
  const p7 = await newProject('app-seven');
  assert.deepEqual(await devOf(p7.id), { id: 'shared-3', type: 'shared', slot: 0 }, 'no freed slot, no room: the next spare opens');

  const prod = await admin('POST', `/projects/${p5.id}/environments`, { environment: 'prod', environmentType: 'prod' });
  assert.equal(prod.status, 201, prod.text);
  assert.equal(prod.json.cluster.type, 'dedicated');
  assert.equal(prod.json.cluster.id, `dedicated-${prod.json.id}`);
  const ab = await admin('POST', `/projects/${p5.id}/environments`, { environment: 'ab-test', environmentType: 'custom' });
  assert.equal(ab.json.cluster.type, 'dedicated');
  assert.notEqual(ab.json.cluster.id, prod.json.cluster.id);
  list = await clusters();
  assert.ok(list.some((r) => r[0] === prod.json.cluster.id && r[1] === 'dedicated' && r[3] === '1/1'));
  assert.equal((await admin('DELETE', `/projects/${p5.id}/environments/prod`)).status, 200);
  list = await clusters();
  assert.ok(!list.some((r) => r[0] === prod.json.cluster.id), 'a dedicated cluster goes with its environment');
  assert.deepEqual(list.filter((r) => r[1] === 'shared').map((r) => [r[0], r[2], r[3]]),
    [['shared-1', 'active', '2/2'], ['shared-2', 'active', '2/2'], ['shared-3', 'active', '1/2'], ['shared-4', 'spare', '0/2']]);
  expectError(assert, await admin('GET', `/projects/${p5.id}/environments/prod`), 404, 'data/environment-not-found');
});
