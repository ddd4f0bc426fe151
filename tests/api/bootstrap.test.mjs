// First start on an empty data directory: bootstrap.json, the secrets printed once; restart on the
// same directory: nothing created, nothing printed, the old credentials still work.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, expectError, expectAuthenticated, tempDir, runOnce, controlStoreBytes } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

const SECRET = /(pk|sk|bt)_[0-9a-fA-F]{64}/;
const count = (text, s) => text.split(s).length - 1;

test('first start writes bootstrap.json with every field', () => {
  const b = srv.bootstrap;
  assert.ok(b, 'bootstrap.json exists after the first start');
  assert.deepEqual(Object.keys(b).sort(),
    ['environment', 'operatorToken', 'organizationId', 'projectId', 'publishableKey', 'secretKey', 'url']);
  assert.equal(typeof b.organizationId, 'string');
  assert.ok(b.organizationId.length > 0);
  assert.equal(typeof b.projectId, 'string');
  assert.ok(b.projectId.length > 0);
  assert.match(b.organizationId, /^[A-Za-z0-9_-]+$/, 'URL-safe id');
  assert.match(b.projectId, /^[A-Za-z0-9_-]+$/, 'URL-safe id');
  assert.equal(b.environment, 'dev');
  assert.match(b.publishableKey, /^pk_[0-9a-f]{64}$/);
  assert.match(b.secretKey, /^sk_[0-9a-f]{64}$/);
  assert.match(b.operatorToken, /^bt_[0-9a-f]{64}$/);
  assert.notEqual(b.publishableKey.slice(3), b.secretKey.slice(3), 'independent random keys');
  assert.equal(b.url, srv.url);
});

test('bootstrap.json is mode 0600', () => {
  const st = fs.statSync(path.join(srv.dataDir, 'bootstrap.json'));
  assert.ok(st.isFile());
  assert.equal((st.mode & 0o777).toString(8), '600');
  assert.ok(!fs.existsSync(path.join(srv.dataDir, 'bootstrap.json.tmp')), 'no temporary file left');
});

test('the secrets are printed once on stdout and never logged', () => {
  const b = srv.bootstrap;
  for (const secret of [b.publishableKey, b.secretKey, b.operatorToken]) {
    assert.equal(count(srv.stdout(), secret), 1, 'each secret printed exactly once on stdout');
    assert.equal(count(srv.stderr(), secret), 0, 'no secret in the log (stderr)');
  }
  const bytes = controlStoreBytes(srv.dataDir);
  assert.ok(bytes.length > 0, 'the control store was read');
  for (const secret of [b.publishableKey, b.secretKey, b.operatorToken]) {
    assert.ok(!bytes.includes(Buffer.from(secret)), 'the control store never holds a credential in clear');
  }
});

test('the bootstrap credentials work', async () => {
  const b = srv.bootstrap;
  expectAuthenticated(assert, await req(srv, 'GET', '/v1/data/posts', { key: b.publishableKey }));
  expectAuthenticated(assert, await req(srv, 'GET', '/v1/data/posts', { key: b.secretKey }));
  const keys = `/admin/v1/projects/${b.projectId}/environments/${b.environment}/keys`;
  assert.equal((await req(srv, 'GET', keys, { token: b.operatorToken })).status, 200);
});

test('restart on the same directory: no secret printed, bootstrap.json unchanged, old credentials work', async () => {
  const dir = tempDir();
  try {
    const first = await startServer({ dataDir: dir });
    const b = first.bootstrap;
    assert.ok(b);
    assert.match(first.stdout(), SECRET, 'first start prints the secrets');
    const file = path.join(dir, 'bootstrap.json');
    const bytes = fs.readFileSync(file);
    const mtime = fs.statSync(file).mtimeMs;
    await first.stop({ removeDir: false });

    const second = await startServer({ dataDir: dir });
    try {
      assert.doesNotMatch(second.stdout(), SECRET, 'no pk_/sk_/bt_ printed on restart');
      assert.doesNotMatch(second.stdout(), /\b(pk|sk|bt)_[0-9a-f]{6,}/, 'not even a part of one');
      assert.doesNotMatch(second.stderr(), SECRET);
      assert.deepEqual(fs.readFileSync(file), bytes, 'bootstrap.json is byte-identical');
      assert.equal(fs.statSync(file).mtimeMs, mtime, 'and not rewritten');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.deepEqual(second.bootstrap, b);
      // the old credentials still work on the new process
      expectAuthenticated(assert, await req(second, 'GET', '/v1/data/posts', { key: b.publishableKey }));
      expectAuthenticated(assert, await req(second, 'GET', '/v1/data/posts', { key: b.secretKey }));
      const keys = `/admin/v1/projects/${b.projectId}/environments/dev/keys`;
      const list = await req(second, 'GET', keys, { token: b.operatorToken });
      assert.equal(list.status, 200, list.text);
      assert.equal((await req(second, 'GET', keys, { key: b.secretKey })).status, 200);
      // and nothing new was created: still one publishable and one secret key
      assert.equal(list.json.items.length, 2, list.text);
      expectError(assert, await req(second, 'GET', '/v1/data/posts', { key: 'pk_' + 'e'.repeat(64) }), 401, 'auth/invalid-api-key');
    } finally {
      await second.stop({ removeDir: false });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A first start killed between its steps (BASALT_TEST_FAILPOINT, test builds only, dies as kill -9):
// the next start must leave a bootstrap.json whose credentials work.
for (const point of ['bootstrap-before-commit', 'bootstrap-after-commit']) {
  test(`a first start killed at ${point}: the restart leaves working keys in bootstrap.json`, async () => {
    const dir = tempDir();
    try {
      const killed = await runOnce(['serve', '--listen', '127.0.0.1:0', '--data', dir], { env: { BASALT_TEST_FAILPOINT: point } });
      assert.equal(killed.signal, 'SIGKILL', `the failpoint fired: ${killed.stderr}`);
      assert.ok(!killed.stdout.includes('Basalt bootstrap'), 'killed at the failpoint, before the secrets were shown');
      const s = await startServer({ dataDir: dir, keep: true });
      try {
        const b = s.bootstrap;
        assert.ok(b, 'bootstrap.json exists after the restart');
        assert.ok(!fs.existsSync(path.join(dir, 'bootstrap.json.tmp')), 'no temporary file left');
        expectAuthenticated(assert, await req(s, 'GET', '/v1/data/posts', { key: b.publishableKey }));
        expectAuthenticated(assert, await req(s, 'GET', '/v1/data/posts', { key: b.secretKey }));
        const keys = await req(s, 'GET', `/admin/v1/projects/${b.projectId}/environments/dev/keys`, { token: b.operatorToken });
        assert.equal(keys.status, 200, keys.text);
      } finally {
        await s.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
