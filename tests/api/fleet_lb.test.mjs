// A fleet behind a real load balancer (issue 15 item 5; docs/operations.md "Behind a load balancer"): three
// `basalt serve` instances on one PostgreSQL control store and env store, one Redis and one data directory,
// with Debian's HAProxy in front, configured by deploy/haproxy/basalt.cfg itself (harness.mjs startFleet).
// Through the balancer: 64 racers spread round robin over the three get exactly the calls left of the month;
// a file uploaded through one instance downloads through another and through the balancer; kill -9 of one
// instance under a steady write load loses no acknowledged write, the balancer's health check takes it out
// (errors stop within the check interval) and a restarted instance rejoins; a rolling restart (drain,
// SIGTERM, start again) under load loses no request; the malformed request heads of issue 11 never get
// libmicrohttpd's HTML; and what passes the balancer is Basalt's own answer, unchanged.
// The error files of deploy/haproxy/errors are checked without any server.
// Needs BASALT_TEST_PG_URL, BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh) and
// haproxy (scripts/install-deps.sh --test); skipped without them.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  test, startFleet, req, expectError, runOnce, sleep, rawExchange, tempDir, HAPROXY, HAPROXY_ERRORS, HAPROXY_CFG, repoRoot,
  FILES_DRIVER, startServer, sharedPgStores } from './harness.mjs';

const PG = process.env.BASALT_TEST_PG_URL, REDIS = process.env.BASALT_TEST_REDIS_URL;
let haproxyOk = false;
try { execFileSync(HAPROXY, ['-v'], { stdio: 'pipe' }); haproxyOk = true; } catch { /* not installed */ }
const skip = !(PG && REDIS && haproxyOk) &&
  'needs BASALT_TEST_PG_URL, BASALT_TEST_REDIS_URL (tests/pg/with-pg.sh tests/redis/with-redis.sh) and haproxy';

// ---- the error files, without any server ----

// A raw HTTP response file → {status, reason, headers (lower-case names), body (Buffer)}.
function parseHttp(buf) {
  const end = buf.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a head ended by CRLF CRLF');
  const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] ([1-5]\d\d) ([A-Za-z -]+)$/.exec(statusLine);
  assert.ok(m, `status line: ${statusLine}`);
  const headers = {};
  for (const l of lines) {
    const h = /^([A-Za-z0-9-]+): (.*)$/.exec(l);
    assert.ok(h, `header line: ${JSON.stringify(l)}`);
    assert.ok(!(h[1].toLowerCase() in headers), `one ${h[1]}`);
    headers[h[1].toLowerCase()] = h[2];
  }
  return { status: Number(m[1]), reason: m[2], headers, body: buf.subarray(end + 4) };
}

// Codes of the table "Codes the shipped load balancer answers" in docs/errors.md: status → code.
function documentedProxyCodes() {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const at = doc.indexOf('## Codes the shipped load balancer answers');
  assert.ok(at >= 0, 'docs/errors.md has the section "Codes the shipped load balancer answers"');
  const next = doc.indexOf('\n## ', at + 3);
  const section = doc.slice(at, next < 0 ? doc.length : next);
  const out = new Map();
  for (const line of section.split('\n')) {
    const m = /^\|[^|]*\|\s*([1-5]\d\d)\s*\|\s*`([a-z]+\/[a-z0-9-]+)`/.exec(line);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

function checkEnvelope(json, status, where) {
  assert.equal(json.success, false, where);
  assert.equal(json.statusCode, status, where);
  assert.match(json.error.code, /^[a-z]+\/[a-z0-9]+(-[a-z0-9]+)*$/, where);
  assert.ok(json.error.message.length > 0 && json.message === json.error.message, where);
  assert.deepEqual(Object.keys(json).sort(), ['error', 'message', 'statusCode', 'success'], where);
}

test('deploy/haproxy/errors: every file is a whole HTTP answer with the JSON envelope, its Content-Length right', () => {
  const cfg = fs.readFileSync(HAPROXY_CFG, 'utf8');
  const named = [...cfg.matchAll(/^\s*errorfile (\d+) \/etc\/haproxy\/errors\/basalt\/(\d+)\.http\s*$/gm)];
  const files = fs.readdirSync(HAPROXY_ERRORS).filter((f) => f.endsWith('.http')).sort();
  // every status HAProxy 2.6 can generate (errorfile's list, 200 aside), each named by the config
  const statuses = [400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504];
  assert.deepEqual(files, statuses.map((s) => `${s}.http`));
  assert.deepEqual(named.map((m) => [Number(m[1]), Number(m[2])]), statuses.map((s) => [s, s]));
  const documented = documentedProxyCodes();
  for (const f of files) {
    const r = parseHttp(fs.readFileSync(path.join(HAPROXY_ERRORS, f)));
    assert.equal(`${r.status}.http`, f);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', f);
    assert.equal(Number(r.headers['content-length']), r.body.length, `${f}: Content-Length`);
    assert.equal(r.headers.connection, 'close', f);
    assert.equal(r.headers['cache-control'], 'no-store', f);
    if (r.status === 503) assert.equal(r.headers['retry-after'], '1', f);
    assert.ok(new TextDecoder('utf-8', { fatal: true }).decode(r.body), f);
    const json = JSON.parse(r.body.toString('utf8'));
    checkEnvelope(json, r.status, f);
    assert.equal(json.error.code, documented.get(r.status), `${f}: its code is the one docs/errors.md gives for ${r.status}`);
  }
  // the 505 that the config answers for HTTP versions other than 1.x and 2 ("http-request return ... file")
  const j505 = JSON.parse(fs.readFileSync(path.join(HAPROXY_ERRORS, '505.json'), 'utf8'));
  checkEnvelope(j505, 505, '505.json');
  assert.equal(j505.error.code, documented.get(505));
  assert.match(cfg, /http-request return status 505 content-type "application\/json; charset=utf-8" file \/etc\/haproxy\/errors\/basalt\/505\.json/);
  const haproxyCheck = haproxyOk && execFileSync(HAPROXY, ['-v'], { encoding: 'utf8' });
  if (haproxyCheck) { // HAProxy itself accepts the files (it refuses an errorfile that is not valid HTTP)
    const dir = tempDir('basalt-haproxy-check-');
    try {
      const text = cfg.replaceAll('/etc/haproxy/errors/basalt', HAPROXY_ERRORS).replace(/stats socket \S+/, `stats socket ${dir}/s.sock`)
        .replace('log /dev/log local0', 'log stderr format raw local0');
      fs.writeFileSync(path.join(dir, 'h.cfg'), text);
      execFileSync(HAPROXY, ['-c', '-q', '-f', path.join(dir, 'h.cfg')], { stdio: 'pipe' });
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  }
});

// ---- the fleet ----

const stores = () => sharedPgStores('lb');

let fleet, control;
const fleetArgs = () => ['--control-store', control[0], '--env-store', control[1], '--redis', REDIS, '--redis-timeout-ms', '2000'];
before(async () => {
  if (skip) return;
  control = stores();
  fleet = await startFleet({ args: fleetArgs(), size: 3 });
});
after(async () => { await fleet?.stop(); });

const boot = () => fleet.bootstrap;
const admin = (s, method, p, body, token = boot().operatorToken) => req(s, method, '/admin/v1' + p, { token, body });

// An organization (Free plan) with a project, a secret key and a table "things", made through the balancer.
async function tenant(slug) {
  const org = await admin(fleet, 'POST', '/organizations', { name: slug, slug });
  assert.equal(org.status, 201, org.text);
  const t = org.json.ownerToken;
  const p = await admin(fleet, 'POST', '/projects', { organizationId: org.json.id, name: slug, slug: `${slug}-app` }, t);
  assert.equal(p.status, 201, p.text);
  const k = await admin(fleet, 'POST', `/projects/${p.json.id}/environments/dev/keys`, { type: 'secret', name: 'server' }, t);
  assert.equal(k.status, 201, k.text);
  const tb = await admin(fleet, 'POST', `/projects/${p.json.id}/environments/dev/tables`, { tableName: 'things' }, t);
  assert.equal(tb.status, 201, tb.text);
  return { org: org.json.id, token: t, project: p.json.id, key: k.json.key };
}
// A tenant for a write load: its monthly API calls raised past what a load spends (the Free plan's are few).
async function loadTenant(slug) {
  const t = await tenant(slug);
  const q = await runOnce(['operator', 'quota', t.org, 'api_call', '100000000', '--control-store', control[0]]);
  assert.equal(q.code, 0, q.stderr);
  return t;
}

// How many access-log lines of the given path and status an instance has written so far.
const served = (s, needle) => s.stderr().split('\n').filter((l) => l.includes(needle)).length;

test('64 racers through the balancer get exactly the 100 calls left of the month, served by all three instances', { skip }, async () => {
  const t = await tenant('lb-month');
  const q = await runOnce(['operator', 'quota', t.org, '130', '--control-store', control[0]]);
  assert.equal(q.code, 0, q.stderr);
  const needle = '"path":"/v1/data/things","status":200';
  const total = () => fleet.instances.reduce((n, s) => n + served(s, needle), 0);
  const at0 = total();
  for (let i = 0; i < 30; i++) assert.equal((await req(fleet, 'GET', '/v1/data/things', { key: t.key })).status, 200);
  // access lines are written after the answer: wait (bounded) until the 30 are logged before counting on
  await until('the first 30 calls logged', () => total() === at0 + 30, 5000);
  const before = fleet.instances.map((s) => served(s, needle));
  const statuses = [];
  await Promise.all(Array.from({ length: 64 }, async () => {
    for (;;) {
      const r = await fetch(`${fleet.url}/v1/data/things`, { headers: { 'X-API-Key': t.key } });
      await r.arrayBuffer();
      statuses.push(r.status);
      if (r.status !== 200) return;
    }
  }));
  assert.equal(statuses.filter((s) => s === 200).length, 100);
  assert.equal(statuses.filter((s) => s === 429).length, 64, `every racer stops at a 429: ${statuses.filter((s) => s !== 200 && s !== 429)}`);
  // wait (bounded) until the 100 admitted calls are logged
  const deadline = Date.now() + 5000;
  let byInstance;
  for (;;) {
    byInstance = fleet.instances.map((s, i) => served(s, needle) - before[i]);
    if (byInstance.reduce((a, b) => a + b, 0) >= 100 || Date.now() > deadline) break;
    await sleep(20);
  }
  assert.equal(byInstance.reduce((a, b) => a + b, 0), 100, `admitted per instance: ${byInstance}`);
  assert.ok(byInstance.every((n) => n >= 20), `round robin spreads them: ${byInstance}`);
  const r = await req(fleet, 'GET', '/v1/data/things', { key: t.key });
  expectError(assert, r, 429, 'usage/quota-exceeded');
  assert.deepEqual([r.json.error.details.limit, r.json.error.details.used], [130, 130]);
});

// The storage URL of an instance as a URL on another server (same path and query).
const on = (s, url) => s.url + url.replace(/^https?:\/\/[^/]+/, '');

test(`a file uploaded through instance A downloads through B and through the balancer (${FILES_DRIVER})`, { skip }, async () => {
  const [A, B] = fleet.instances;
  const key = boot().secretKey;
  const data = crypto.randomBytes(300 * 1024);
  const p = await req(A, 'POST', '/v1/files/presigned-url', { key, body: { filename: 'blob.bin', contentType: 'application/octet-stream' } });
  assert.equal(p.status, 200, p.text);
  const target = p.json.url.startsWith(A.url) || FILES_DRIVER === 'fs' ? on(A, p.json.url) : p.json.url; // S3 direct: the bucket
  const put = await fetch(target, { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 200, await put.text());
  const reg = await req(A, 'POST', '/v1/files', { key, body: { s3Key: p.json.key, originalName: 'blob.bin', mimeType: 'application/octet-stream', size: data.length } });
  assert.equal(reg.status, 201, reg.text);
  for (const s of [B, fleet]) {
    const meta = await req(s, 'GET', `/v1/files/${reg.json.id}`, { key });
    assert.equal(meta.status, 200, meta.text);
    assert.equal(meta.json.size, data.length);
    const dl = await req(s, 'POST', `/v1/files/${reg.json.id}/download-url`, { key });
    assert.equal(dl.status, 200, dl.text);
    const url = dl.json.url.startsWith('http://127.0.0.1') ? on(s, dl.json.url) : dl.json.url;
    const got = await fetch(url);
    assert.equal(got.status, 200, url);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(data), `the bytes through ${s === fleet ? 'the balancer' : 'B'}`);
    const range = await fetch(url, { headers: { Range: 'bytes=100-199' } });
    assert.equal(range.status, 206);
    assert.ok(Buffer.from(await range.arrayBuffer()).equals(data.subarray(100, 200)));
  }
});

test('what passes the balancer is Basalt\'s own answer: request ids, headers, 304, 404, 413, 405', { skip }, async () => {
  const t = await tenant('lb-plain');
  const made = await req(fleet, 'POST', '/v1/data/things', { key: t.key, body: { n: 1 } });
  assert.equal(made.status, 201, made.text);
  // X-Request-Id: the client's is kept, otherwise Basalt's own (32 hex digits), never the balancer's
  const given = await req(fleet, 'GET', `/v1/data/things/${made.json.id}`, { key: t.key, headers: { 'X-Request-Id': 'client-id.42_x' } });
  assert.equal(given.headers.get('x-request-id'), 'client-id.42_x');
  const own = await req(fleet, 'GET', `/v1/data/things/${made.json.id}`, { key: t.key });
  assert.match(own.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  // the same answer as from an instance directly: status, body and headers (except per-answer ones)
  const direct = await req(fleet.instances[2], 'GET', `/v1/data/things/${made.json.id}`, { key: t.key });
  assert.equal(own.status, 200);
  assert.equal(own.text, direct.text);
  const names = (r) => [...r.headers.keys()].filter((k) => !['date', 'x-request-id', 'x-ratelimit-remaining', 'connection', 'keep-alive'].includes(k)).sort();
  assert.deepEqual(names(own), names(direct));
  for (const k of names(own)) if (k !== 'x-ratelimit-remaining') assert.equal(own.headers.get(k), direct.headers.get(k), k);
  // 304 from Basalt's ETag
  const etag = own.headers.get('etag');
  assert.ok(etag);
  const nm = await fetch(`${fleet.url}/v1/data/things/${made.json.id}`, { headers: { 'X-API-Key': t.key, 'If-None-Match': etag } });
  assert.equal(nm.status, 304);
  assert.equal(nm.headers.get('etag'), etag);
  // Basalt's own errors pass unchanged (its envelope and request id; the balancer's files carry none)
  for (const [r, status, code] of [
    [await req(fleet, 'GET', '/nope'), 404, 'common/not-found'],
    [await req(fleet, 'POST', '/v1/data/things', { key: t.key, raw: JSON.stringify({ big: 'x'.repeat(2 << 20) }), headers: { 'Content-Type': 'application/json' } }), 413, 'common/payload-too-large'],
    [await req(fleet, 'DELETE', '/healthz'), 405, 'common/method-not-allowed'],
    [await req(fleet, 'GET', `/v1/data/things?x=${'y'.repeat(33000)}`, { key: t.key }), 414, 'common/uri-too-long'],
  ]) {
    expectError(assert, r, status, code);
    assert.match(r.headers.get('x-request-id') || '', /^[0-9a-f]{32}$/, `${status} came from Basalt`);
  }
});

// Raw request heads → the answer's status line, headers and body.
function parseAnswer(raw) {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
  return { status: Number(statusLine.split(' ')[1]), statusLine, headers, body: Buffer.from(raw.slice(end + 4), 'latin1') };
}
const HEADS = {
  'an over-long request line (70 KB)': `GET /${'a'.repeat(70000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'headers over --header-memory (70 KB)': `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`,
  'a request line that is only a method': 'GET\r\n\r\n',
  'a request line with a token that is no version': 'GET / FOO/1.1\r\nHost: x\r\n\r\n',
  'a request line with extra words': 'GET / a HTTP/1.1\r\nHost: x\r\n\r\n',
  'a NUL in the request line': 'GET /hea\u0000lthz HTTP/1.1\r\nHost: x\r\n\r\n',
  'a bare LF inside the request line': 'GET /a\nb HTTP/1.1\r\nHost: x\r\n\r\n',
  'a header line without a colon': 'GET / HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n',
};
const JSON_HEADS = {
  'HTTP/7.0': ['GET /healthz HTTP/7.0\r\nHost: x\r\n\r\n', 505],
  'HTTP/0.9': ['GET /healthz HTTP/0.9\r\nHost: x\r\n\r\n', 505],
  'a 33 KB target (Basalt\'s own 414)': [`GET /${'a'.repeat(33000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 414],
};
const utf8 = (buf) => new TextDecoder('utf-8', { fatal: true }).decode(buf);

test('malformed heads of issue 11 through the balancer: versions and long targets in JSON, never libmicrohttpd\'s HTML', { skip }, async () => {
  for (const [what, [head, status]] of Object.entries(JSON_HEADS)) {
    const a = parseAnswer(await rawExchange(fleet.port, head));
    assert.ok(a, `${what}: an answer`);
    assert.equal(a.status, status, `${what}: ${a.statusLine}`);
    assert.equal(a.headers['content-type'], 'application/json; charset=utf-8', what);
    checkEnvelope(JSON.parse(utf8(a.body)), status, what);
  }
  // What HAProxy cannot parse it answers itself (never forwarded): no Basalt request id, never 414/431/505
  // in HTML from libmicrohttpd.
  for (const [what, head] of Object.entries(HEADS)) {
    const raw = await rawExchange(fleet.port, head);
    const a = parseAnswer(raw);
    assert.ok(a, `${what}: an answer (${JSON.stringify(raw.slice(0, 80))})`);
    assert.equal(a.status, 400, `${what}: ${a.statusLine}`);
    assert.equal(a.headers['x-request-id'], undefined, `${what}: answered by the balancer, not by an instance`);
    assert.equal(a.headers.connection?.toLowerCase(), 'close', what);
  }
});

// HAProxy 2.6's HTTP/1 parser answers its own parse errors from built-in HTML (src/mux_h1.c h1_send_error
// writes http_err_msgs[] and consults an errorfile only to see whether it is empty), so these are not JSON
// yet: a known gap (docs/errors.md "Codes the shipped load balancer answers"). The test runs and reports.
test('malformed heads HAProxy cannot parse are answered with the JSON envelope', {
  skip, todo: 'HAProxy 2.6 answers its own parse errors in HTML (mux_h1.c ignores errorfile there)',
}, async () => {
  for (const [what, head] of Object.entries(HEADS)) {
    const a = parseAnswer(await rawExchange(fleet.port, head));
    assert.equal(a.headers['content-type'], 'application/json; charset=utf-8', `${what}: ${a.statusLine}`);
    checkEnvelope(JSON.parse(utf8(a.body)), a.status, what);
  }
});

// ---- losing an instance ----

// A steady write load through the balancer: `writers` concurrent loops creating records until stopped.
// Every answer is recorded: {t (ms since start), status, id}.
function writeLoad(key, { writers = 6 } = {}) {
  const t0 = Date.now();
  const answers = [];
  let stop = false;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const at = Date.now() - t0;
      try {
        const r = await fetch(`${fleet.url}/v1/data/things`, {
          method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
          body: JSON.stringify({ writer: w, n: i }),
        });
        const text = await r.text();
        let id = null;
        try { id = JSON.parse(text).id ?? null; } catch { /* an error page */ }
        answers.push({ t: at, done: Date.now() - t0, status: r.status, id, text: r.status >= 300 ? text.slice(0, 200) : '' });
      } catch (e) {
        answers.push({ t: at, done: Date.now() - t0, status: 0, id: null, text: String(e.cause?.code || e.message) });
      }
    }
  });
  return { t0, answers, stop: async () => { stop = true; await Promise.all(loops); } };
}

async function until(what, fn, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const statusOf = async (name) => (await fleet.balancer.servers()).find((s) => s.name === name)?.status;

// Every acknowledged write (2xx with an id) is readable through each of the given instances.
async function allReadable(key, answers, through) {
  const ids = answers.filter((a) => a.status === 201 && a.id).map((a) => a.id);
  assert.equal(new Set(ids).size, ids.length, 'every acknowledged write has an id of its own');
  for (const s of through) {
    const missing = [];
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      await Promise.all(chunk.map(async (id) => {
        const r = await req(s, 'GET', `/v1/data/things/${id}`, { key });
        if (r.status !== 200) missing.push(`${id}: ${r.status}`);
      }));
    }
    assert.deepEqual(missing, [], `acknowledged writes missing through ${s.url}`);
  }
  return ids.length;
}

// The restarted instance takes the dead one's place (same port: the balancer's server line names it).
async function restartInstance(i) {
  const old = fleet.instances[i];
  const s = await startServer({ single: true, dataDir: fleet.dataDir, keep: true, args: fleet.args, listen: `127.0.0.1:${old.port}` });
  fleet.instances[i] = s;
  return s;
}

test('kill -9 of one instance under write load: no acknowledged write lost, errors stop once the check took it out, a restart rejoins', { skip }, async () => {
  const t = await loadTenant('lb-kill');
  const victim = fleet.instances[1];
  const load = writeLoad(t.key);
  let killedAt, downAt, back;
  try {
    await until('writes acknowledged', () => load.answers.filter((a) => a.status === 201).length >= 60);
    killedAt = Date.now() - load.t0;
    victim.child.kill('SIGKILL');
    await assert.rejects(victim.stop({ removeDir: false }), /exited with SIGKILL/);
    await until('the balancer marking basalt2 DOWN', async () => (await statusOf('basalt2'))?.startsWith('DOWN'), 5000);
    downAt = Date.now() - load.t0;
    // the load keeps running: 3 s more after the balancer took the instance out
    await until('3 s of load after DOWN', () => Date.now() - load.t0 > downAt + 3000, 5000);
  } finally {
    await load.stop();
    // the instance starts again whatever failed above (the later tests need all three)
    if (victim.child.signalCode !== null || victim.child.exitCode !== null) back = await restartInstance(1);
  }
  const bad = load.answers.filter((a) => a.status !== 201);
  const late = bad.filter((a) => a.t > downAt);
  assert.deepEqual(late, [], `requests failing after the balancer took basalt2 out (killed at ${killedAt} ms, down at ${downAt} ms)`);
  assert.ok(downAt - killedAt < 3500, `taken out within two check intervals and a bit: ${downAt - killedAt} ms`);
  // errors, if any, only around the kill: the requests that were on the killed instance (a POST is not
  // retried): the balancer's 502, or the client connection closed when the answer was cut short
  for (const a of bad) {
    assert.ok(a.t >= killedAt - 500, `an error before the kill: ${JSON.stringify(a)}`);
    assert.ok([0, 502, 503].includes(a.status), `an error of the kill: ${JSON.stringify(a)}`);
  }
  const after = load.answers.filter((a) => a.t > downAt && a.status === 201).length;
  assert.ok(after >= 30, `the others kept serving: ${after} writes in the last 3 s`);
  // the restarted instance rejoins: the balancer marks it UP and sends it requests again
  await until('the balancer marking basalt2 UP', async () => (await statusOf('basalt2')) === 'UP', 8000);
  const needle = '"path":"/v1/data/things","status":200';
  for (let i = 0; i < 9; i++) assert.equal((await req(fleet, 'GET', '/v1/data/things?limit=1', { key: t.key })).status, 200);
  await until('requests reaching the restarted instance', () => served(back, needle) >= 2, 3000);
  const n = await allReadable(t.key, load.answers, fleet.instances);
  assert.ok(n >= 100, `${n} acknowledged writes`);
});

test('a rolling restart under write load (drain in the balancer, SIGTERM, start again) loses no request', { skip }, async () => {
  const t = await loadTenant('lb-roll');
  const load = writeLoad(t.key);
  try {
    await until('writes acknowledged', () => load.answers.filter((a) => a.status === 201).length >= 30);
    for (let i = 0; i < fleet.instances.length; i++) {
      const name = `basalt${i + 1}`;
      // 1. the balancer stops sending it new requests; 2. its connections finish (current sessions 0)
      await fleet.balancer.admin(`set server basalt/${name} state drain`);
      await until(`${name} drained`, async () => {
        const csv = await fleet.balancer.admin('show stat');
        const head = csv.split('\n')[0].replace(/^# /, '').split(',');
        const row = csv.split('\n').find((l) => l.startsWith(`basalt,${name},`));
        return row && Number(row.split(',')[head.indexOf('scur')]) === 0;
      }, 10000);
      // 3. SIGTERM: it answers what is in flight, exits 0; 4. start it again on its port; 5. back in the rotation
      const r = await fleet.instances[i].stop({ removeDir: false });
      assert.equal(r.code, 0);
      await restartInstance(i);
      await fleet.balancer.admin(`set server basalt/${name} state ready`);
      await until(`${name} UP`, async () => (await statusOf(name)) === 'UP', 8000);
    }
    const acked = load.answers.filter((a) => a.status === 201).length;
    await until('load after the last restart', () => load.answers.filter((a) => a.status === 201).length >= acked + 30);
  } finally {
    await load.stop();
  }
  const bad = load.answers.filter((a) => a.status !== 201);
  assert.deepEqual(bad, [], 'no request failed during the rolling restart');
  await allReadable(t.key, load.answers, [fleet]);
});

// SIGTERM alone under load (docs/operations.md "Behind a load balancer": draining first is the documented
// way). The balancer keeps sending requests on its kept-alive connections until its checks fail; the instance
// answers them while it drains. A write that arrives after the drain found nothing in flight used to be
// suspended (grouped commit) when MHD_stop_daemon ran, and libmicrohttpd aborted ("MHD_stop_daemon() called
// while we have suspended connections", SIGABRT instead of exit 0); now a stopping server waits for such an
// answer on the worker thread instead of suspending (src/http/server.c after_defer).
test('SIGTERM without draining, under write load: the instance exits 0 and no acknowledged write is lost', { skip }, async () => {
  const t = await loadTenant('lb-term');
  const load = writeLoad(t.key);
  let stopped;
  try {
    await until('writes acknowledged', () => load.answers.filter((a) => a.status === 201).length >= 60);
    stopped = await fleet.instances[2].stop({ removeDir: false }).then((r) => r, (e) => e);
    await until('the balancer marking basalt3 DOWN', async () => (await statusOf('basalt3'))?.startsWith('DOWN'), 5000);
  } finally {
    await load.stop();
    await restartInstance(2);
    await until('basalt3 UP', async () => (await statusOf('basalt3')) === 'UP', 8000);
  }
  await allReadable(t.key, load.answers, [fleet.instances[0], fleet.instances[1]]);
  const bad = load.answers.filter((a) => a.status !== 201);
  assert.ok(bad.every((a) => [0, 502].includes(a.status)), JSON.stringify(bad.slice(0, 3)));
  assert.ok(!(stopped instanceof Error), `exit 0 after SIGTERM: ${stopped?.message?.split('\n').filter((l) => !l.includes('"msg":"request"')).join('\n')}`);
});

test('no instance left: the balancer answers 503 common/unavailable in JSON with Retry-After', { skip }, async () => {
  for (let i = 1; i <= fleet.instances.length; i++) await fleet.balancer.admin(`set server basalt/basalt${i} state maint`);
  try {
    const r = await req(fleet, 'GET', '/healthz');
    expectError(assert, r, 503, 'common/unavailable');
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(r.headers.get('x-request-id'), null, 'the balancer answered');
  } finally {
    for (let i = 1; i <= fleet.instances.length; i++) await fleet.balancer.admin(`set server basalt/basalt${i} state ready`);
  }
  await until('all UP again', async () => (await fleet.balancer.servers()).every((s) => s.status === 'UP'), 8000);
  assert.equal((await req(fleet, 'GET', '/healthz')).status, 200);
});
