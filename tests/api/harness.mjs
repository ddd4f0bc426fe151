// harness.mjs: starts real basalt servers for the black-box API tests and talks to them over HTTP.
//
// startServer() runs BASALT_BIN (default <repo>/build-test/basalt, the ASan+UBSan build) with
// `serve --listen 127.0.0.1:0 --data DIR`, reads the port from the "listening on http://..." line,
// waits until /healthz answers 200 and returns a handle. stop() sends SIGTERM (or the given signal),
// waits for the exit and throws, with the server's stderr, unless the exit code is 0: with the
// sanitizers a leak or an error report makes the exit code non-zero.
//
// Only Node built-ins (Node 18.19+ and 20): node:test, node:assert, fetch, child_process, fs, net, os.
import nodeTest from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const BIN = process.env.BASALT_BIN || path.join(repoRoot, 'build-test', 'basalt');
export const START_TIMEOUT_MS = 15000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tempDir(prefix = 'basalt-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// The servers' environment: the caller's, without any BASALT_* setting that would change what is
// tested (a developer's BASALT_LOG_LEVEL or BASALT_CONFIG must not leak in), plus the given additions.
function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BASALT_')) env[k] = v;
  return { ...env, ...extra };
}

// BASALT_TEST_CONTROL=pg (with BASALT_TEST_PG_URL from tests/pg/with-pg.sh) puts every data directory's
// control store on PostgreSQL, in a schema of its own: servers and the commands given `--data DIR` get
// BASALT_CONTROL_STORE for that directory (the same schema again when a test restarts on the same dir).
export const CONTROL_STORE = process.env.BASALT_TEST_CONTROL === 'pg' ? 'pg' : 'sqlite';
const controlByDir = new Map();
function controlEnv(dir) {
  if (CONTROL_STORE !== 'pg' || !dir) return {};
  let url = controlByDir.get(dir);
  if (!url) {
    const base = process.env.BASALT_TEST_PG_URL;
    const schema = `api_${crypto.randomBytes(6).toString('hex')}`;
    execFileSync('psql', [base, '-qXc', `CREATE SCHEMA ${schema}`]);
    url = `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
    controlByDir.set(dir, url);
  }
  return { BASALT_CONTROL_STORE: url };
}
// BASALT_TEST_ENV=pg (with BASALT_TEST_PG_URL) puts every data directory's environments on PostgreSQL, in a
// database of its own (envs_<hex>, created with psql; its dedicated environments get databases next to
// it): servers given `--data DIR` get BASALT_ENV_STORE for that directory (the same database again when a
// test restarts on the same dir).
export const ENV_STORE = process.env.BASALT_TEST_ENV === 'pg' ? 'pg' : 'sqlite';
const envStoreByDir = new Map();
function envStoreEnv(dir) {
  if (ENV_STORE !== 'pg' || !dir) return {};
  let url = envStoreByDir.get(dir);
  if (!url) {
    const base = new URL(process.env.BASALT_TEST_PG_URL);
    const db = `envs_${crypto.randomBytes(6).toString('hex')}`;
    execFileSync('psql', [base.href, '-qXc', `CREATE DATABASE ${db}`]);
    base.pathname = `/${db}`;
    url = base.href;
    envStoreByDir.set(dir, url);
  }
  return { BASALT_ENV_STORE: url };
}
// The env-store URL of a data directory under BASALT_TEST_ENV=pg (null on SQLite), and one query's rows on
// it (or on the database of a dedicated environment: "<db>_<environment id>"), one array of columns a row.
export const envStoreUrl = (dir) => envStoreByDir.get(dir) || null;
export function envStoreRows(dir, sql, envId = null) {
  const url = new URL(envStoreByDir.get(dir));
  if (envId) url.pathname = `${url.pathname}_${envId}`;
  return execFileSync('psql', [url.href, '-qXAt', '-F', '\t', '-c', sql], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => l.split('\t'));
}
// The bytes of a data directory's control store, to look for secrets in clear: the SQLite file, or on
// PostgreSQL a data-only dump of the directory's schema.
export function controlStoreBytes(dir) {
  const url = controlByDir.get(dir);
  if (!url) {
    const files = ['control.db', 'control.db-wal'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
    return Buffer.concat(files.map((f) => fs.readFileSync(f))); // recent writes may still be in the WAL
  }
  const schema = /search_path%3D(\w+)/.exec(url)[1];
  return execFileSync('pg_dump', ['--data-only', '--schema', schema, process.env.BASALT_TEST_PG_URL], { maxBuffer: 256 << 20 });
}
// A tenant of its own for fleet tests on shared stores: an organization (Free plan) made with server's
// operator token, a project, a secret key and a table "things". {org, token (the owner's), project, key}.
export async function fleetTenant(assert, server, slug) {
  const admin = (method, p, body, token = server.bootstrap.operatorToken) => req(server, method, '/admin/v1' + p, { token, body });
  const org = await admin('POST', '/organizations', { name: slug, slug });
  assert.equal(org.status, 201, org.text);
  const t = org.json.ownerToken;
  const p = await admin('POST', '/projects', { organizationId: org.json.id, name: slug, slug: `${slug}-app` }, t);
  assert.equal(p.status, 201, p.text);
  const k = await admin('POST', `/projects/${p.json.id}/environments/dev/keys`, { type: 'secret', name: 'server' }, t);
  assert.equal(k.status, 201, k.text);
  const tb = await admin('POST', `/projects/${p.json.id}/environments/dev/tables`, { tableName: 'things' }, t);
  assert.equal(tb.status, 201, tb.text);
  return { org: org.json.id, token: t, project: p.json.id, key: k.json.key };
}

// Runs sql on a data directory's control store (psql on its PostgreSQL schema, else sqlite3 on control.db):
// for tests that put the store in a state the API cannot (a row an instance has not written yet).
export function controlStoreExec(dir, sql) {
  const url = controlByDir.get(dir);
  if (url) execFileSync('psql', [url, '-qXc', sql]);
  else execFileSync('sqlite3', [path.join(dir, 'control.db'), sql]);
}
function dataDirOf(args) {
  const i = args.indexOf('--data');
  return i >= 0 ? args[i + 1] : null;
}

// ---- bookkeeping: every child is killed at exit; a failing test shows the servers' logs ----

const live = new Set();      // handles of servers not stopped yet
let startedInTest = [];      // handles started while the current harness test() runs

process.on('exit', () => {
  for (const s of live) { try { s.child.kill('SIGKILL'); } catch { /* gone */ } }
});

function tail(text, lines = 40) {
  const all = text.split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

export function serverLogs(servers = new Set([...live, ...startedInTest])) {
  let out = '';
  for (const s of servers) {
    out += `\n--- basalt on port ${s.port || '?'} (data ${s.dataDir}) stderr, last lines ---\n${tail(s.stderr())}`;
    const so = s.stdout();
    if (so) out += `\n--- stdout ---\n${tail(so, 10)}`;
  }
  return out;
}

// node:test's test(), but a failure carries the stderr of the servers that were running (or were
// started by the test). Use it like test(name, fn) or test(name, options, fn).
export function test(name, options, fn) {
  if (typeof options === 'function') { fn = options; options = {}; }
  return nodeTest(name, options, async (t) => {
    startedInTest = [];
    try {
      await fn(t);
    } catch (e) {
      const logs = serverLogs();
      if (logs && e && typeof e === 'object') {
        try { e.message = `${e.message}\n${logs}`; } catch { /* read-only message */ }
      }
      throw e;
    } finally {
      startedInTest = [];
    }
  });
}

// Runs the binary to completion (for --help and bad flags). Returns {code, signal, stdout, stderr}.
export function runOnce(args, { env = {}, cwd, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: serverEnv({ ...controlEnv(dataDirOf(args)), ...envStoreEnv(dataDirOf(args)), ...env }), cwd: cwd || os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

// A GET on a connection of its own that is closed afterwards (Connection: close), so that polling
// leaves no idle keep-alive connection behind (tests read the open-connections gauge).
export function getOnce(url, { timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const r = http.get(url, { agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
  });
}

// Stores of their own for a test that starts several instances on the same stores (a fleet), whatever
// BASALT_TEST_CONTROL / BASALT_TEST_ENV say: a control store in a new schema and an environment store in a new
// database of the server BASALT_TEST_PG_URL names. Returns [control URL, env-store URL]; prefix names them.
export function sharedPgStores(prefix) {
  const pg = process.env.BASALT_TEST_PG_URL;
  const schema = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  execFileSync('psql', [pg, '-qXc', `CREATE SCHEMA ${schema}`]);
  const control = `${pg}${pg.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
  const envs = new URL(pg);
  const db = `${prefix}env_${crypto.randomBytes(6).toString('hex')}`;
  execFileSync('psql', [pg, '-qXc', `CREATE DATABASE ${db}`]);
  envs.pathname = `/${db}`;
  return [control, envs.href];
}

// BASALT_TEST_FILES=s3 (with the variables tests/s3/with-s3.sh exports) runs every server on the S3 blob
// driver, each data directory under its own prefix of the test bucket, so the file suites run on both.
export const FILES_DRIVER = process.env.BASALT_TEST_FILES === 's3' ? 's3' : 'fs';
function s3Args(dir, args) {
  if (FILES_DRIVER !== 's3' || args.includes('--files')) return [];
  return ['--files', `s3://${process.env.BASALT_TEST_S3_BUCKET}/${path.basename(dir)}`, '--s3-endpoint', process.env.BASALT_TEST_S3_ENDPOINT,
    '--s3-path-style', '1'];
}
function s3Env() {
  return FILES_DRIVER === 's3'
    ? { BASALT_S3_ACCESS_KEY: process.env.BASALT_TEST_S3_ACCESS_KEY, BASALT_S3_SECRET_KEY: process.env.BASALT_TEST_S3_SECRET_KEY } : {};
}

// BASALT_TEST_REDIS=1 (with BASALT_TEST_REDIS_URL from tests/redis/with-redis.sh) starts every server with
// --redis, so a suite runs with its API calls admitted in Redis (docs/quotas.md "Admission with Redis").
export const REDIS_ADMISSION = process.env.BASALT_TEST_REDIS === '1' && !!process.env.BASALT_TEST_REDIS_URL;
function redisArgs(args) {
  return REDIS_ADMISSION && !args.includes('--redis') ? ['--redis', process.env.BASALT_TEST_REDIS_URL, '--redis-timeout-ms', '2000'] : [];
}

const LISTENING = /listening on http:\/\/(?:\[[^\]]+\]|[^:/\s]+):(\d+)/;

// A long-running child whose output is kept: {child, stdout(), stderr(), exited (a promise of {code,
// signal}), error() (the spawn error, or null)}.
function spawnWatched(bin, argv, options) {
  const child = spawn(bin, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '', spawnError = null;
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  child.on('error', (e) => { spawnError = e; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited, error: () => spawnError };
}

// Options: dataDir (default: a fresh temp dir, removed after stop unless keep), args (extra flags),
// env (extra variables), cwd (default: the data dir, so no ./basalt.conf is picked up), keep,
// listen (default '127.0.0.1:0'; null passes no --listen flag, e.g. to test the config file).
// Under BASALT_TEST_FLEET=N (N ≥ 2) the server is a fleet behind HAProxy (startFleet below), unless the
// test passes single: true, picks the address itself with listen (a test about one process) or names its
// control store with --control-store (a fleet test that builds its own fleet: fleet_*.test.mjs).
export async function startServer({ single = false, ...opts } = {}) {
  const own = 'listen' in opts || (opts.args || []).includes('--control-store');
  return FLEET >= 2 && !single && !own ? startFleet(opts) : startInstance(opts);
}

// test() options that skip a test under BASALT_TEST_FLEET, for a test about one process (its connections,
// signals, flags, stdout, per-process /metrics): `test(name, onlyOneProcess('why'), fn)`. It runs in
// every other pass.
export function onlyOneProcess(why, options = {}) {
  return FLEET >= 2 ? { ...options, skip: `one process (BASALT_TEST_FLEET): ${why}` } : options;
}

async function startInstance({ dataDir, args = [], env = {}, cwd, keep = false, listen = '127.0.0.1:0' } = {}) {
  const dir = dataDir || tempDir();
  const ownDir = !dataDir;
  const argv = ['serve'];
  if (listen !== null) argv.push('--listen', listen);
  argv.push('--data', dir, ...args, ...s3Args(dir, args), ...redisArgs(args));
  const control = args.includes('--control') || args.includes('--control-store') ? {} : controlEnv(dir);
  const envStore = args.includes('--env-store') ? {} : envStoreEnv(dir);
  const w = spawnWatched(BIN, argv, { env: serverEnv({ ...s3Env(), ...control, ...envStore, ...env }), cwd: cwd || dir });
  const { child, exited } = w;

  const handle = {
    url: null, port: 0, dataDir: dir, bootstrap: null, child,
    stdout: w.stdout,
    stderr: w.stderr,
    exited,
  };
  live.add(handle);
  startedInTest.push(handle);

  const fail = async (why) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    live.delete(handle);
    if (ownDir && !keep) fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`basalt did not start (${why}; exit ${child.exitCode ?? child.signalCode}; bin ${BIN})\n` +
      `--- stderr ---\n${tail(w.stderr(), 60)}\n--- stdout ---\n${tail(w.stdout(), 20)}`);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  // With --public-url the "listening on" line names the public URL: a port given in listen is the one used.
  const fixedPort = Number((listen && /:(\d+)$/.exec(listen)?.[1]) || 0);
  let port = 0;
  while (!port) {
    const m = LISTENING.exec(w.stderr()) || LISTENING.exec(w.stdout());
    if (m) { port = fixedPort || Number(m[1]); break; }
    if (w.error()) return fail(`cannot run: ${w.error().message}`);
    if (child.exitCode !== null || child.signalCode !== null) return fail('exited before listening');
    if (Date.now() > deadline) return fail('no "listening on" line');
    await sleep(20);
  }
  handle.port = port;
  handle.url = `http://127.0.0.1:${port}`;
  for (;;) {
    try { if ((await getOnce(handle.url + '/healthz')).status === 200) break; } catch { /* not yet */ }
    if (child.exitCode !== null || child.signalCode !== null) return fail('exited before /healthz answered');
    if (Date.now() > deadline) return fail('/healthz did not answer 200');
    await sleep(20);
  }
  const bootPath = path.join(dir, 'bootstrap.json');
  handle.bootstrap = fs.existsSync(bootPath) ? JSON.parse(fs.readFileSync(bootPath, 'utf8')) : null;

  let stopped = null;
  // stop({signal, removeDir}) → {code, signal}; throws (with stderr) unless the process exited 0.
  handle.stop = async ({ signal = 'SIGTERM', removeDir = ownDir && !keep, timeoutMs = 20000 } = {}) => {
    if (!stopped) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      stopped = await exited;
      clearTimeout(timer);
      live.delete(handle);
      if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
      if (stopped.code !== 0) {
        throw new Error(`basalt (port ${port}) exited with ${stopped.code ?? stopped.signal} after ${signal}, expected 0;` +
          ` stderr tail:\n${tail(w.stderr(), 80)}`);
      }
    }
    return stopped;
  };
  return handle;
}

// One request with fetch. Returns {status, headers, text, json}.
//   body: an object/array (sent as JSON with Content-Type: application/json unless one is given)
//         or a string/Buffer (sent as is); raw: a string/Buffer sent as is (wins over body).
//   key: sets X-API-Key; token: sets Authorization: Bearer <token>.
export async function req(server, method, p, { headers = {}, body, raw, key, token } = {}) {
  const h = { ...headers };
  if (key !== undefined) h['X-API-Key'] = key;
  if (token !== undefined) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
    else {
      payload = JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(server.url + p, { method, headers: h, body: payload, redirect: 'manual' }); // redirects are answers to check
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// Asserts the error envelope of client-api.md §1.6 with the given status and code (code may be an
// array of acceptable codes).
export function expectError(assert, res, status, code) {
  assert.equal(res.status, status, `status ${res.status}, expected ${status}; body ${res.text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json; charset=utf-8$/, `content type of ${res.text}`);
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `a JSON object: ${res.text}`);
  assert.equal(res.json.success, false, res.text);
  assert.equal(res.json.statusCode, status, res.text);
  assert.ok(res.json.error && typeof res.json.error === 'object', `error is an object: ${res.text}`);
  if (Array.isArray(code)) assert.ok(code.includes(res.json.error.code), `code ${res.json.error.code} not in ${code}: ${res.text}`);
  else assert.equal(res.json.error.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string', res.text);
  assert.ok(res.json.error.message.length > 0, `error.message must not be empty: ${res.text}`);
  assert.equal(typeof res.json.message, 'string', res.text);
  assert.ok(res.json.message.length > 0, `message must not be empty: ${res.text}`);
}

// A /v1 request whose credential was accepted: no route answers it yet (or the data API says the
// table does not exist), so the answer is a 404 envelope, and in any case never a 401.
export const AUTHENTICATED_404 = ['common/not-found', 'data/table-not-found'];
export function expectAuthenticated(assert, res) {
  assert.notEqual(res.status, 401, `credential refused: ${res.text}`);
  expectError(assert, res, 404, AUTHENTICATED_404);
}

// A free TCP port on 127.0.0.1 (closed again; a small race with other processes is accepted).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Sends raw bytes on a new connection and collects everything until the server closes it (or ms).
export function rawExchange(port, data, { ms = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => { c.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); }, ms);
    c.on('connect', () => c.write(data));
    c.on('data', (d) => chunks.push(d));
    c.on('error', (e) => { clearTimeout(timer); if (chunks.length) resolve(Buffer.concat(chunks).toString('latin1')); else reject(e); });
    c.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); });
  });
}

// Reads one sample of a Prometheus text exposition: metric{labels} value → number, or undefined.
export function metricValue(text, name, labels = '') {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc(name)}${labels ? esc(`{${labels}}`) : ''} (\\S+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

// An end user's access token for the server's bootstrap environment, signed by `basalt token` with the
// environment's secret (the code the server verifies with).
export async function userToken(server, sub, { role = 'user', issuedAgo = 0, ttl } = {}) {
  const args = ['token', '--data', server.dataDir, '--project', server.bootstrap.projectId,
    '--env', server.bootstrap.environment, '--sub', sub, '--role', role];
  if (issuedAgo) args.push('--issued-ago', String(issuedAgo));
  if (ttl) args.push('--ttl', String(ttl));
  const r = await runOnce(args);
  if (r.code !== 0) throw new Error(`basalt token failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

// ---- a fleet behind a load balancer (BASALT_TEST_FLEET=N) ----
//
// BASALT_TEST_FLEET=3 (with BASALT_TEST_CONTROL=pg, BASALT_TEST_ENV=pg and BASALT_TEST_REDIS_URL; S3 too under
// BASALT_TEST_FILES=s3) makes startServer() start three instances on one data directory, one control-store
// schema, one env-store database and one Redis (--redis), the first alone (it bootstraps) and the others
// together, then Debian's HAProxy (BASALT_TEST_HAPROXY, default `haproxy`) in front of them with the
// configuration shipped in deploy/haproxy/basalt.cfg (only its lines marked "test:" changed: addresses, log
// target, admin socket) and its error files. The handle is the balancer's (url, port) with the usual
// dataDir, bootstrap, stdout()/stderr() (every process's, labelled) and stop(), which stops every instance
// with the signal given and the balancer, and throws unless every instance exited 0 (sanitizer reports);
// handle.instances[i] are the instances' own handles (direct urls), handle.balancer the HAProxy process
// ({child, port, socket, admin(cmd)}). startFleet is exported for fleet tests that need it whatever
// BASALT_TEST_FLEET says.
export const FLEET = Number(process.env.BASALT_TEST_FLEET || 0);
export const HAPROXY = process.env.BASALT_TEST_HAPROXY || 'haproxy';
export const HAPROXY_CFG = path.join(repoRoot, 'deploy', 'haproxy', 'basalt.cfg');
export const HAPROXY_ERRORS = path.join(repoRoot, 'deploy', 'haproxy', 'errors');

// deploy/haproxy/basalt.cfg for a test run: each "test:" line replaced, the error files from the repository.
export function haproxyConfig({ port, servers, socket }) {
  const text = fs.readFileSync(HAPROXY_CFG, 'utf8');
  const out = [];
  const seen = new Set();
  for (const line of text.split('\n')) {
    const marked = /#\s*test:/.test(line);
    const code = line.replace(/\s*#.*$/, '');
    if (/^\s*server\s/.test(code)) {
      if (marked) {
        servers.forEach((p, i) => out.push(`    server basalt${i + 1} 127.0.0.1:${p}`));
        seen.add('server');
      }
      continue;
    }
    if (!marked) { out.push(line.replaceAll('/etc/haproxy/errors/basalt', HAPROXY_ERRORS)); continue; }
    if (/^\s*log\s/.test(code)) { out.push('    log stderr format raw local0'); seen.add('log'); }
    else if (/^\s*stats socket\s/.test(code)) { out.push(`    stats socket ${socket} mode 600 level admin`); seen.add('socket'); }
    else if (/^\s*bind\s/.test(code)) { out.push(`    bind 127.0.0.1:${port}`); seen.add('bind'); }
    else throw new Error(`deploy/haproxy/basalt.cfg: a "test:" line the harness does not know: ${line}`);
  }
  for (const k of ['server', 'log', 'socket', 'bind'])
    if (!seen.has(k)) throw new Error(`deploy/haproxy/basalt.cfg: no "test:" line for ${k}`);
  return out.join('\n');
}

// One command on HAProxy's admin socket; its answer as text.
export function haproxyAdmin(socket, cmd, { timeoutMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let out = '';
    const timer = setTimeout(() => c.destroy(new Error(`haproxy admin socket: no answer to ${cmd}`)), timeoutMs);
    c.on('connect', () => c.end(`${cmd}\n`));
    c.on('data', (d) => { out += d; });
    c.on('error', (e) => { clearTimeout(timer); reject(e); });
    c.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

// The servers of the balancer's backend and their check state: [{name, status}] (status UP, DOWN, MAINT, ...).
export async function balancerServers(socket) {
  const csv = await haproxyAdmin(socket, 'show stat');
  const lines = csv.split('\n');
  const head = lines[0].replace(/^# /, '').split(',');
  const [px, sv, st] = ['pxname', 'svname', 'status'].map((k) => head.indexOf(k));
  return lines.slice(1).map((l) => l.split(',')).filter((f) => f[px] === 'basalt' && !['FRONTEND', 'BACKEND'].includes(f[sv]) && f[sv])
    .map((f) => ({ name: f[sv], status: f[st] }));
}

// HAProxy in front of the given instance ports; resolves once every server is UP and the balancer answers.
export async function startBalancer(ports, port = 0) {
  const run = tempDir('basalt-lb-');
  port = port || await freePort();
  const socket = path.join(run, 'admin.sock');
  const cfg = path.join(run, 'haproxy.cfg');
  fs.writeFileSync(cfg, haproxyConfig({ port, servers: ports, socket }));
  const w = spawnWatched(HAPROXY, ['-f', cfg, '-db'], { cwd: run });
  const { child, exited } = w;
  const lb = { url: `http://127.0.0.1:${port}`, port, dataDir: `haproxy ${run}`, child, socket, exited,
    stdout: w.stdout, stderr: w.stderr, admin: (cmd) => haproxyAdmin(socket, cmd), servers: () => balancerServers(socket) };
  live.add(lb);
  startedInTest.push(lb);
  let stopped = null;
  lb.stop = async () => {
    if (!stopped) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGUSR1'); // soft stop
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      stopped = await exited;
      clearTimeout(timer);
      live.delete(lb);
      fs.rmSync(run, { recursive: true, force: true });
    }
    return stopped;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    let up = [];
    try { up = (await lb.servers()).filter((s) => s.status === 'UP'); } catch { /* not listening yet */ }
    if (up.length === ports.length) {
      try { if ((await getOnce(lb.url + '/healthz')).status === 200) break; } catch { /* not yet */ }
    }
    if (w.error() || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await lb.stop();
      throw new Error(`haproxy did not start (${w.error() ? w.error().message : `exit ${child.exitCode ?? child.signalCode}`}; ` +
        `${up.length}/${ports.length} servers up)\n--- stderr ---\n${tail(w.stderr(), 40)}`);
    }
    await sleep(50);
  }
  return lb;
}

export async function startFleet({ dataDir, args = [], env = {}, cwd, keep = false, size = Math.max(FLEET, 2) } = {}) {
  const shared = (flag, store) => store === 'pg' || args.includes(flag);
  if (!shared('--control-store', CONTROL_STORE) || !shared('--env-store', ENV_STORE) || !(args.includes('--redis') || process.env.BASALT_TEST_REDIS_URL))
    throw new Error('a fleet needs both stores on PostgreSQL and a Redis: BASALT_TEST_CONTROL=pg, BASALT_TEST_ENV=pg and ' +
      'BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh), or --control-store, --env-store and --redis in args');
  const dir = dataDir || tempDir();
  const ownDir = !dataDir;
  // The balancer's port is chosen first: every instance names it as --public-url (the documented setting
  // behind a reverse proxy: storage, image and callback URLs start with the address clients use).
  const lbPort = await freePort();
  const fleetArgs = [...args];
  if (!args.includes('--redis')) fleetArgs.push('--redis', process.env.BASALT_TEST_REDIS_URL, '--redis-timeout-ms', '2000');
  if (!args.includes('--public-url')) fleetArgs.push('--public-url', `http://127.0.0.1:${lbPort}`);
  const one = async () => startInstance({ dataDir: dir, args: fleetArgs, env, cwd, keep: true, listen: `127.0.0.1:${await freePort()}` });
  const instances = [];
  const stopAll = async () => {
    await Promise.allSettled(instances.map((s) => s.stop({ removeDir: false, signal: 'SIGKILL' })));
    if (ownDir && !keep) fs.rmSync(dir, { recursive: true, force: true });
  };
  let lb;
  try {
    instances.push(await one()); // the first start bootstraps an empty data directory
    const rest = await Promise.allSettled(Array.from({ length: size - 1 }, one));
    for (const r of rest) if (r.status === 'fulfilled') instances.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    lb = await startBalancer(instances.map((s) => s.port), lbPort);
  } catch (e) {
    await stopAll();
    throw e;
  }
  const label = (get) => () => [...instances.map((s, i) => `[instance ${i + 1} :${s.port}]\n${get(s)}`),
    `[haproxy :${lb.port}]\n${get(lb)}`].join('\n');
  const handle = {
    url: lb.url, port: lb.port, dataDir: dir, bootstrap: instances[0].bootstrap, child: lb.child,
    instances, balancer: lb, args: fleetArgs, // args: every instance's flags, to start one again
    stdout: label((s) => s.stdout()),
    stderr: label((s) => s.stderr()),
    exited: Promise.all(instances.map((s) => s.exited)),
  };
  let stopped = null;
  // stop({signal, removeDir, timeoutMs}): every instance (in parallel), then the balancer; throws with every
  // failing instance's stderr unless all exited 0.
  handle.stop = async ({ signal = 'SIGTERM', removeDir = ownDir && !keep, timeoutMs = 20000 } = {}) => {
    if (!stopped) {
      const results = await Promise.allSettled(handle.instances.map((s) => s.stop({ signal, removeDir: false, timeoutMs })));
      await lb.stop();
      if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
      const bad = results.filter((r) => r.status === 'rejected');
      stopped = { code: bad.length ? 1 : 0, signal: null };
      if (bad.length) throw new Error(bad.map((r) => r.reason.message).join('\n'));
    }
    return stopped;
  };
  return handle;
}
