// The foundation's HTTP behaviour: bootstrap, health, metrics, request ids, routing errors, limits,
// CORS, keep-alive, graceful shutdown and configuration precedence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { startServer, req, expectError, tempDir, runOnce } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

test('first start writes bootstrap.json (0600) and prints the secrets once', async () => {
  const b = srv.bootstrap;
  assert.ok(b, 'bootstrap.json exists');
  assert.match(b.organizationId, /^org_[0-9a-f]{20}$/);
  assert.match(b.projectId, /^proj_[0-9a-f]{20}$/);
  assert.equal(b.environment, 'dev');
  assert.match(b.publishableKey, /^pk_[0-9a-f]{64}$/);
  assert.match(b.secretKey, /^sk_[0-9a-f]{64}$/);
  assert.match(b.operatorToken, /^bt_[0-9a-f]{64}$/);
  assert.equal(b.url, srv.url);
  const mode = fs.statSync(path.join(srv.dataDir, 'bootstrap.json')).mode & 0o777;
  assert.equal(mode, 0o600);
  for (const secret of [b.publishableKey, b.secretKey, b.operatorToken]) {
    assert.equal(srv.stdout().split(secret).length - 1, 1, 'each secret printed exactly once');
    assert.ok(!srv.stderr().includes(secret), 'no secret in the logs');
  }
  const db = fs.readFileSync(path.join(srv.dataDir, 'control.db'));
  assert.ok(!db.includes(Buffer.from(b.secretKey)), 'the store never holds a key in clear');
});

test('restarting on the same data directory creates and prints nothing', async () => {
  const dir = tempDir();
  const first = await startServer({ dataDir: dir });
  const before = fs.readFileSync(path.join(dir, 'bootstrap.json'));
  await first.stop({ removeDir: false });
  const second = await startServer({ dataDir: dir });
  try {
    assert.doesNotMatch(second.stdout(), /(pk|sk|bt)_[0-9a-f]{64}/);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'bootstrap.json')), before);
    const r = await req(second, 'GET', '/v1/data/posts', { key: first.bootstrap.publishableKey });
    expectError(assert, r, 404, 'common/not-found'); // authenticated: no data routes yet
  } finally {
    await second.stop({ removeDir: true });
  }
});

test('/healthz, / and /metrics', async () => {
  const h = await req(srv, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.match(h.headers.get('content-type'), /^application\/json; charset=utf-8$/);
  assert.equal(h.json.status, 'ok');
  assert.ok(Number.isInteger(h.json.uptimeSeconds));
  const root = await req(srv, 'GET', '/');
  assert.equal(root.json.name, 'basalt');
  await req(srv, 'GET', '/nope');
  const m = await req(srv, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assert.match(m.text, /basalt_http_requests_total\{route="\/healthz",status="200"\} \d+/);
  assert.match(m.text, /basalt_http_requests_total\{route="unmatched",status="404"\} \d+/);
  assert.match(m.text, /basalt_http_request_duration_seconds_bucket\{route="\/healthz",le="\+Inf"\} \d+/);
  assert.match(m.text, /basalt_http_request_duration_seconds_count\{route="\/healthz"\} \d+/);
  assert.match(m.text, /basalt_http_open_connections \d+/);
});

test('X-Request-Id is generated, echoed when valid, replaced when not', async () => {
  const gen = await req(srv, 'GET', '/healthz');
  assert.match(gen.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  const echo = await req(srv, 'GET', '/healthz', { headers: { 'X-Request-Id': 'abc-123.DEF_x' } });
  assert.equal(echo.headers.get('x-request-id'), 'abc-123.DEF_x');
  for (const bad of ['has space', 'x'.repeat(65), 'quote"', '']) {
    const r = await req(srv, 'GET', '/healthz', { headers: { 'X-Request-Id': bad } });
    assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{32}$/, `replaced: ${JSON.stringify(bad)}`);
  }
  const errored = await req(srv, 'GET', '/nope');
  assert.match(errored.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(srv.stderr().includes(`"id":"abc-123.DEF_x"`), 'access log carries the id');
});

test('unknown route is 404, wrong method is 405 with Allow', async () => {
  expectError(assert, await req(srv, 'GET', '/nope'), 404, 'common/not-found');
  expectError(assert, await req(srv, 'DELETE', '/admin'), 404, 'common/not-found');
  const r = await req(srv, 'POST', '/healthz', { body: {} });
  expectError(assert, r, 405, 'common/method-not-allowed');
  assert.match(r.headers.get('allow'), /\bGET\b/);
});

test('access log: one JSON line per request with id, method, route, status, bytes, µs', async () => {
  const r = await req(srv, 'GET', '/healthz', { headers: { 'X-Request-Id': 'access-log-probe' } });
  assert.equal(r.status, 200);
  await new Promise((res) => setTimeout(res, 50));
  const line = srv.stderr().split('\n').find((l) => l.includes('"id":"access-log-probe"'));
  assert.ok(line, 'logged');
  const entry = JSON.parse(line);
  assert.equal(entry.msg, 'request');
  assert.equal(entry.method, 'GET');
  assert.equal(entry.route, '/healthz');
  assert.equal(entry.status, 200);
  assert.equal(entry.bytes, Number(r.headers.get('content-length')));
  assert.ok(Number.isInteger(entry.us) && entry.us >= 0);
});

test('request target limits and decoding errors answer 4xx envelopes', async () => {
  const key = srv.bootstrap.publishableKey;
  expectError(assert, await req(srv, 'GET', '/v1/data/%zz', { key }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', '/v1/data/a%00b', { key }), 400, 'common/invalid-parameters');
  const many = Array.from({ length: 65 }, (_, i) => `p${i}=1`).join('&');
  expectError(assert, await req(srv, 'GET', `/v1/data/posts?${many}`, { key }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', '/v1/' + 'a'.repeat(3000), { key }), 414, 'common/uri-too-long');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts?q=%G1', { key }), 400, 'common/invalid-parameters');
});

test('Dart-style empty JSON bodies on GET are accepted', async () => {
  const h = await req(srv, 'GET', '/healthz', { headers: { 'Content-Type': 'application/json' } });
  assert.equal(h.status, 200);
  const v = await req(srv, 'GET', '/v1/data/posts', { key: srv.bootstrap.publishableKey, headers: { 'Content-Type': 'application/json' } });
  expectError(assert, v, 404, 'common/not-found');
});

test('body over the default limit is 413; --max-body raises it', async () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  const key = srv.bootstrap.publishableKey;
  expectError(assert, await req(srv, 'POST', '/v1/data/posts', { key, body: big, headers: { 'Content-Type': 'application/json' } }),
    413, 'common/payload-too-large');
  const roomy = await startServer({ args: ['--max-body', '4194304'] });
  try {
    const r = await req(roomy, 'POST', '/v1/data/posts', { key: roomy.bootstrap.publishableKey, body: big,
      headers: { 'Content-Type': 'application/json' } });
    expectError(assert, r, 404, 'common/not-found');
  } finally { await roomy.stop(); }
});

test('CORS: preflight without key, Allow-Origin and Expose-Headers on answers', async () => {
  const pre = await req(srv, 'OPTIONS', '/v1/data/posts', {
    headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'PATCH',
      'Access-Control-Request-Headers': 'content-type,x-api-key' } });
  assert.ok(pre.status === 204 || pre.status === 200, `status ${pre.status}`);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
  assert.match(pre.headers.get('access-control-allow-methods'), /PATCH/);
  assert.match(pre.headers.get('access-control-allow-headers').toLowerCase(), /x-api-key/);
  const r = await req(srv, 'GET', '/healthz', { headers: { Origin: 'http://app.example' } });
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example');
  assert.match(r.headers.get('access-control-expose-headers'), /ETag/);
  assert.match(r.headers.get('access-control-expose-headers'), /X-Request-Id/);
  const none = await req(srv, 'GET', '/healthz');
  assert.equal(none.headers.get('access-control-allow-origin'), null);
});

test('keep-alive: 200 requests reuse one connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set();
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve, reject) => {
      const r = http.get(`${srv.url}/healthz`, { agent }, (res) => {
        sockets.add(res.socket);
        res.resume();
        res.on('end', resolve);
      });
      r.on('error', reject);
    });
  }
  agent.destroy();
  assert.equal(sockets.size, 1);
});

function openSocket(port) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function closedWithin(sock, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    sock.once('close', () => { clearTimeout(timer); resolve(true); });
    sock.on('error', () => {});
    sock.resume();
  });
}

test('idle connections are closed after --idle-timeout', async () => {
  const s = await startServer({ args: ['--idle-timeout', '1'] });
  try {
    const idle = await openSocket(s.port);
    const started = Date.now();
    assert.equal(await closedWithin(idle, 5000), true, 'closed by the server');
    assert.ok(Date.now() - started >= 900, 'not before the timeout');
  } finally { await s.stop(); }
});

test('connections beyond --max-connections wait until a slot frees', async () => {
  const s = await startServer({ args: ['--max-connections', '2', '--threads', '1'] });
  try {
    const a = await openSocket(s.port), b = await openSocket(s.port);
    const c = await openSocket(s.port); // accepted by the kernel, not yet by the server
    let answer = '';
    c.on('data', (d) => { answer += d; });
    c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(answer, '', 'not served while two connections are open');
    a.destroy(); b.destroy();
    for (let i = 0; i < 40 && !answer.includes('"status":"ok"'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(answer, /^HTTP\/1\.1 200/);
    c.destroy();
  } finally { await s.stop(); }
});

test('console static files are served, traversal is not', async () => {
  const page = await req(srv, 'GET', '/console/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.text, /Basalt/);
  const js = await req(srv, 'GET', '/console/console.js');
  assert.match(js.headers.get('content-type'), /javascript/);
  expectError(assert, await req(srv, 'GET', '/console/..%2F..%2FCMakeLists.txt'), 404, 'common/not-found');
  expectError(assert, await req(srv, 'GET', '/console/.hidden'), 404, 'common/not-found');
  expectError(assert, await req(srv, 'GET', '/console/nope.html'), 404, 'common/not-found');
});

test('graceful shutdown: in-flight request completes, new connections are refused, exit 0', async () => {
  const s = await startServer();
  const key = s.bootstrap.publishableKey;
  const body = JSON.stringify({ title: 'x'.repeat(1000) });
  const inflight = new Promise((resolve, reject) => {
    const r = http.request(`${s.url}/v1/data/posts`, { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, 'X-API-Key': key } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text, connection: res.headers.connection }));
    });
    r.on('error', reject);
    r.write(body.slice(0, 10));
    setTimeout(() => r.end(body.slice(10)), 700);
  });
  await new Promise((r) => setTimeout(r, 200));
  const stopping = s.stop();
  await new Promise((r) => setTimeout(r, 200));
  const refused = await new Promise((resolve) => {
    const c = net.connect(s.port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(false); });
    c.on('error', () => resolve(true));
  });
  assert.ok(refused, 'new connections refused while draining');
  const done = await inflight;
  assert.equal(done.status, 404); // authenticated and answered
  assert.equal(JSON.parse(done.text).error.code, 'common/not-found');
  assert.equal(done.connection, 'close');
  const exit = await stopping;
  assert.equal(exit.code, 0);
  assert.match(s.stderr(), /received SIGTERM: draining/);
});

test('SIGINT also stops cleanly', async () => {
  const s = await startServer();
  const exit = await s.stop({ signal: 'SIGINT' });
  assert.equal(exit.code, 0);
});

test('configuration: file < environment < flag', async () => {
  const dir = tempDir();
  const conf = path.join(dir, 'test.conf');
  fs.writeFileSync(conf, '[server]\nlog_level = warn\nmax-body = 2048\n');
  const quiet = async (s) => {
    await req(s, 'GET', '/healthz', { headers: { 'X-Request-Id': 'cfg-probe' } });
    await new Promise((r) => setTimeout(r, 50));
    return !s.stderr().includes('"id":"cfg-probe"');
  };
  const fromFile = await startServer({ args: ['--config', conf] });
  try {
    assert.equal(await quiet(fromFile), true, 'file: warn drops access lines');
    expectError(assert, await req(fromFile, 'POST', '/v1/x', { key: fromFile.bootstrap.publishableKey, body: 'x'.repeat(4096),
      headers: { 'Content-Type': 'application/json' } }), 413, 'common/payload-too-large');
  } finally { await fromFile.stop(); }
  const fromEnv = await startServer({ args: ['--config', conf], env: { BASALT_LOG_LEVEL: 'info' } });
  try { assert.equal(await quiet(fromEnv), false, 'env beats file'); } finally { await fromEnv.stop(); }
  const fromFlag = await startServer({ args: ['--config', conf, '--log-level', 'warn'], env: { BASALT_LOG_LEVEL: 'info' } });
  try { assert.equal(await quiet(fromFlag), true, 'flag beats env'); } finally { await fromFlag.stop(); }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('help and bad options', async () => {
  const help = await runOnce(['serve', '--help']);
  assert.equal(help.code, 0);
  for (const word of ['--listen', '--data', '--log-level', '--max-body', 'BASALT_LISTEN', 'BASALT_DATA']) {
    assert.ok(help.stdout.includes(word), `help mentions ${word}`);
  }
  const top = await runOnce(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
  const bad = await runOnce(['serve', '--no-such-flag', 'x']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown option/);
  const range = await runOnce(['serve', '--threads', '-3']);
  assert.notEqual(range.code, 0);
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'bad.conf'), 'nonsense_key = 1\n');
  const badFile = await runOnce(['serve', '--config', path.join(dir, 'bad.conf')]);
  assert.notEqual(badFile.code, 0);
  assert.match(badFile.stderr, /unknown setting/);
  fs.rmSync(dir, { recursive: true, force: true });
});
