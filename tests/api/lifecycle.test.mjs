// Process- and connection-level behaviour: body limits and --max-body, keep-alive, idle timeout,
// connection limit, graceful shutdown on SIGTERM/SIGINT, configuration precedence, --help.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {
  test, startServer, req, expectError, expectAuthenticated, tempDir, runOnce, freePort, metricValue, sleep, BIN, onlyOneProcess,
} from './harness.mjs';

let srv, key;
before(async () => { srv = await startServer(); key = srv.bootstrap.publishableKey; });
after(async () => { await srv?.stop(); });

const MiB = 1024 * 1024;
const UNROUTED = '/v1/nothing/routes/this/path'; // authenticated, then 404 common/not-found

// POST with node:http and chunked transfer encoding (no Content-Length), so the limit is found while reading.
function postChunked(url, headers, size, chunk = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'Transfer-Encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    r.on('error', reject);
    const piece = Buffer.alloc(chunk, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk;
        if (!r.write(piece)) { r.once('drain', pump); return; }
      }
      r.end();
    };
    pump();
  });
}

test('any /v1 POST over the default 1 MiB body limit is 413 common/payload-too-large', async () => {
  const big = 'x'.repeat(2 * MiB);
  const ct = { 'Content-Type': 'application/json' };
  for (const p of ['/v1/data/posts', UNROUTED, '/v1/auth/email/signup']) {
    expectError(assert, await req(srv, 'POST', p, { key, raw: big, headers: ct }), 413, 'common/payload-too-large');
  }
  const chunked = await postChunked(srv.url + UNROUTED, { ...ct, 'X-API-Key': key }, 2 * MiB);
  assert.equal(chunked.status, 413, chunked.text);
  assert.equal(JSON.parse(chunked.text).error.code, 'common/payload-too-large');
  // just under the limit passes the body stage
  const under = await req(srv, 'POST', UNROUTED, { key, raw: 'x'.repeat(MiB - 1024), headers: ct });
  expectAuthenticated(assert, under);
  assert.equal((await req(srv, 'GET', '/healthz')).status, 200);
});

test('--max-body 4194304 raises the limit', async () => {
  const roomy = await startServer({ args: ['--max-body', '4194304'] });
  try {
    const k = roomy.bootstrap.publishableKey;
    const ct = { 'Content-Type': 'application/json' };
    const r = await req(roomy, 'POST', UNROUTED, { key: k, raw: 'x'.repeat(2 * MiB), headers: ct });
    assert.notEqual(r.status, 413, 'a 2 MiB body is within 4 MiB');
    expectError(assert, r, 404, 'common/not-found');
    const chunked = await postChunked(roomy.url + UNROUTED, { ...ct, 'X-API-Key': k }, 3 * MiB);
    assert.equal(chunked.status, 404, chunked.text);
    expectError(assert, await req(roomy, 'POST', UNROUTED, { key: k, raw: 'x'.repeat(5 * MiB), headers: ct }), 413,
      'common/payload-too-large');
    // a route's own limit still applies: the key route takes 64 KiB
    const keys = `/admin/v1/projects/${roomy.bootstrap.projectId}/environments/dev/keys`;
    expectError(assert, await req(roomy, 'POST', keys, { token: roomy.bootstrap.operatorToken,
      raw: '{"type":"secret","pad":"' + 'x'.repeat(70 * 1024) + '"}', headers: ct }), 413, 'common/payload-too-large');
  } finally { await roomy.stop(); }
});

function getVia(agent, url) {
  return new Promise((resolve, reject) => {
    const r = http.get(url, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, socket: res.socket, text }));
    });
    r.on('error', reject);
  });
}

test('keep-alive: 200 sequential requests reuse one connection', async () => {
  const s = await startServer();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sockets = new Set();
    for (let i = 0; i < 200; i++) {
      const r = await getVia(agent, `${s.url}/healthz`);
      assert.equal(r.status, 200);
      sockets.add(r.socket);
    }
    assert.equal(sockets.size, 1, `${sockets.size} connections for 200 requests`);
    // the server sees a single client connection (the harness's health probes closed theirs)
    let open;
    for (let i = 0; i < 50; i++) {
      const m = await getVia(agent, `${s.url}/metrics`);
      sockets.add(m.socket);
      open = metricValue(m.text, 'basalt_http_open_connections');
      if (open === 1) break;
      await sleep(20);
    }
    assert.equal(open, 1, 'basalt_http_open_connections stays at 1');
    assert.equal(sockets.size, 1);
  } finally {
    agent.destroy();
    await s.stop();
  }
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

test('idle connections are closed after --idle-timeout', onlyOneProcess('the client connections are the balancer\'s'), async () => {
  const s = await startServer({ args: ['--idle-timeout', '1'] });
  try {
    const idle = await openSocket(s.port);
    const started = Date.now();
    assert.equal(await closedWithin(idle, 5000), true, 'closed by the server');
    assert.ok(Date.now() - started >= 900, 'not before the timeout');
  } finally { await s.stop(); }
});

test('connections beyond --max-connections wait until a slot frees', onlyOneProcess('the client connections are the balancer\'s'), async () => {
  const s = await startServer({ args: ['--max-connections', '2', '--threads', '1'] });
  const socks = [];
  try {
    const a = await openSocket(s.port), b = await openSocket(s.port);
    socks.push(a, b);
    await sleep(100);
    const c = await openSocket(s.port); // accepted by the kernel, not yet by the server
    socks.push(c);
    let answer = '';
    c.on('data', (d) => { answer += d; });
    c.on('error', () => {});
    c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(500);
    assert.equal(answer, '', 'not served while two connections are open');
    a.destroy(); b.destroy();
    for (let i = 0; i < 60 && !answer.includes('"status":"ok"'); i++) await sleep(50);
    assert.match(answer, /^HTTP\/1\.1 200/);
  } finally {
    for (const x of socks) x.destroy();
    await s.stop();
  }
});

test('graceful shutdown: the in-flight request completes, new connections are refused, exit 0', onlyOneProcess('one process\'s listening socket and in-flight request'), async () => {
  const s = await startServer();
  const b = s.bootstrap;
  const body = Buffer.from(JSON.stringify({ type: 'publishable', name: 'made during shutdown', pad: 'p'.repeat(2000) }));
  const idle = await openSocket(s.port); // an idle keep-alive client must not hold the exit up
  idle.on('error', () => {});
  let firstByteSent;
  const inflight = new Promise((resolve, reject) => {
    const r = http.request(`${s.url}/admin/v1/projects/${b.projectId}/environments/dev/keys`, {
      method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Authorization: `Bearer ${b.operatorToken}` },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text, headers: res.headers }));
    });
    r.on('error', reject);
    // the body in 5 pieces over ~1 s
    const pieces = 5, size = Math.ceil(body.length / pieces);
    r.write(body.subarray(0, size));
    firstByteSent = Date.now();
    let i = 1;
    const next = () => {
      const part = body.subarray(i * size, (i + 1) * size);
      i++;
      if (i >= pieces) r.end(part);
      else { r.write(part); setTimeout(next, 250); }
    };
    setTimeout(next, 250);
  });
  await sleep(300);
  const signalledAt = Date.now();
  const stopping = s.stop(); // SIGTERM now, while the body is still arriving
  await sleep(200);
  const refused = await new Promise((resolve) => {
    const c = net.connect(s.port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(false); });
    c.on('error', (e) => resolve(e.code || true));
  });
  assert.ok(refused, 'new connections are refused while draining');
  const done = await inflight;
  assert.ok(Date.now() - firstByteSent >= 900, 'the request really was in flight across the signal');
  assert.equal(done.status, 201, `in-flight request answered: ${done.text}`);
  const created = JSON.parse(done.text);
  assert.match(created.key, /^pk_[0-9a-f]{64}$/);
  assert.equal(done.headers.connection, 'close', 'draining answers close the connection');
  const exit = await stopping;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - signalledAt < 8000, 'exits soon after the last request');
  assert.match(s.stderr(), /SIGTERM/);
  idle.destroy();
});

test('SIGINT also stops cleanly with exit code 0', async () => {
  const s = await startServer();
  assert.equal((await req(s, 'GET', '/healthz')).status, 200);
  const exit = await s.stop({ signal: 'SIGINT' });
  assert.equal(exit.code, 0);
  assert.match(s.stderr(), /SIGINT/);
});

test('configuration precedence: basalt.conf < BASALT_ environment < flags', onlyOneProcess('the listen address comes from one process\'s configuration'), async () => {
  const dir = tempDir('basalt-conf-');
  try {
    const [portFile, portEnv, portFlag] = [await freePort(), await freePort(), await freePort()];
    const conf = path.join(dir, 'basalt.conf');
    fs.writeFileSync(conf, `; test configuration\n[server]\nlisten = 127.0.0.1:${portFile}\nlog_level = warn\n`);
    let n = 0;
    // an access-log line appears at info and not at warn
    const logsAccess = async (s) => {
      const id = `cfg-probe-${++n}`;
      assert.equal((await req(s, 'GET', '/healthz', { headers: { 'X-Request-Id': id } })).status, 200);
      await sleep(200);
      return s.stderr().includes(`"id":"${id}"`);
    };

    const fromFile = await startServer({ listen: null, args: ['--config', conf] });
    try {
      assert.equal(fromFile.port, portFile, 'listen comes from the file');
      assert.equal(await logsAccess(fromFile), false, 'file: log_level warn drops access lines');
    } finally { await fromFile.stop(); }

    const fromEnv = await startServer({ listen: null, args: ['--config', conf],
      env: { BASALT_LOG_LEVEL: 'info', BASALT_LISTEN: `127.0.0.1:${portEnv}` } });
    try {
      assert.equal(fromEnv.port, portEnv, 'BASALT_LISTEN beats the file');
      assert.equal(await logsAccess(fromEnv), true, 'BASALT_LOG_LEVEL beats the file');
    } finally { await fromEnv.stop(); }

    const fromFlag = await startServer({ listen: `127.0.0.1:${portFlag}`, args: ['--config', conf, '--log-level', 'warn'],
      env: { BASALT_LOG_LEVEL: 'info', BASALT_LISTEN: `127.0.0.1:${portEnv}` } });
    try {
      assert.equal(fromFlag.port, portFlag, '--listen beats BASALT_LISTEN');
      assert.equal(await logsAccess(fromFlag), false, '--log-level beats BASALT_LOG_LEVEL');
    } finally { await fromFlag.stop(); }

    // ./basalt.conf in the working directory is read without --config
    fs.writeFileSync(path.join(dir, 'basalt.conf'), 'log-level = warn\n');
    const fromCwd = await startServer({ cwd: dir });
    try {
      assert.equal(await logsAccess(fromCwd), false, './basalt.conf is read by default');
    } finally { await fromCwd.stop(); }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const ALL_OPTIONS = [
  ['--listen', 'BASALT_LISTEN'], ['--data', 'BASALT_DATA'], ['--control', 'BASALT_CONTROL'],
  ['--console-dir', 'BASALT_CONSOLE_DIR'], ['--public-url', 'BASALT_PUBLIC_URL'], ['--log-level', 'BASALT_LOG_LEVEL'],
  ['--threads', 'BASALT_THREADS'], ['--max-connections', 'BASALT_MAX_CONNECTIONS'], ['--idle-timeout', 'BASALT_IDLE_TIMEOUT'],
  ['--max-body', 'BASALT_MAX_BODY'], ['--header-memory', 'BASALT_HEADER_MEMORY'], ['--json-max-depth', 'BASALT_JSON_MAX_DEPTH'],
  ['--key-cache-ms', 'BASALT_KEY_CACHE_MS'], ['--shutdown-timeout', 'BASALT_SHUTDOWN_TIMEOUT'], ['--config', 'BASALT_CONFIG'],
];

test('basalt serve --help exits 0 and lists every flag and BASALT_ variable', async () => {
  const help = await runOnce(['serve', '--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const [flag, env] of ALL_OPTIONS) {
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
    assert.ok(help.stdout.includes(env), `help mentions ${env}`);
  }
  // and every BASALT_ variable the binary itself knows about (its strings) is documented
  const strings = fs.readFileSync(BIN).toString('latin1').match(/\bBASALT_[A-Z_]{3,}\b/g) || [];
  const known = new Set(strings.filter((v) => !/^BASALT_(VERSION|SOURCE_DIR)$/.test(v)));
  for (const v of known) assert.ok(help.stdout.includes(v), `help mentions ${v}`);
  const top = await runOnce(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
});

test('unknown flags and bad values exit non-zero with a message', async () => {
  const bad = await runOnce(['serve', '--no-such-flag', 'x']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /no-such-flag/);
  assert.match(bad.stderr, /unknown option/i);
  for (const args of [['serve', '--threads', '-3'], ['serve', '--max-body', 'lots'], ['serve', '--log-level', 'loud'],
    ['serve', '--listen'], ['serve', 'stray']]) {
    const r = await runOnce(args);
    assert.notEqual(r.code, 0, `${args.join(' ')} exits non-zero`);
    assert.ok(r.stderr.trim().length > 0, `${args.join(' ')} says why`);
  }
  const envBad = await runOnce(['serve', '--data', '/nonexistent/never'], { env: { BASALT_MAX_BODY: 'huge' } });
  assert.notEqual(envBad.code, 0);
  assert.match(envBad.stderr, /BASALT_MAX_BODY/);
  const dir = tempDir('basalt-conf-');
  try {
    fs.writeFileSync(path.join(dir, 'bad.conf'), 'nonsense_key = 1\n');
    const badFile = await runOnce(['serve', '--config', path.join(dir, 'bad.conf')]);
    assert.notEqual(badFile.code, 0);
    assert.match(badFile.stderr, /nonsense_key/);
    const missing = await runOnce(['serve', '--config', path.join(dir, 'missing.conf')]);
    assert.notEqual(missing.code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
