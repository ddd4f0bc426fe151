// The foundation's HTTP behaviour on one running server: health, root, metrics, request ids, routing
// errors, the access log, request-target decoding and limits, robustness, CORS, console files.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, startServer, req, expectError, expectAuthenticated, rawExchange, metricValue, sleep, getOnce, onlyOneProcess } from './harness.mjs';

let srv, key;
before(async () => { srv = await startServer(); key = srv.bootstrap.publishableKey; });
after(async () => { await srv?.stop(); });

const JSON_CT = /^application\/json; charset=utf-8$/;
const accessLines = () => srv.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => {
  try { return JSON.parse(l); } catch { return null; }
}).filter((e) => e && e.msg === 'request');

async function accessLine(id) {
  for (let i = 0; i < 50; i++) {
    const e = accessLines().find((x) => x.id === id);
    if (e) return e;
    await sleep(20);
  }
  return undefined;
}

test('a second server on a port in use does not start (it would take half the first one\'s connections)', onlyOneProcess('a second process on the port of a running one'), async () => {
  const port = new URL(srv.url).port;
  await assert.rejects(startServer({ listen: `127.0.0.1:${port}` }), /did not start/);
  assert.equal((await req(srv, 'GET', '/healthz')).status, 200, 'the first one keeps serving');
});

test('/healthz answers 200 JSON', async () => {
  const h = await req(srv, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.match(h.headers.get('content-type'), JSON_CT);
  assert.equal(h.json.status, 'ok');
  assert.ok(Number.isInteger(h.json.uptimeSeconds) && h.json.uptimeSeconds >= 0, h.text);
  assert.equal(typeof h.json.version, 'string');
});

test('/ answers JSON describing the server', async () => {
  const root = await req(srv, 'GET', '/');
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type'), JSON_CT);
  assert.equal(root.json.name, 'basalt');
  assert.equal(typeof root.json.version, 'string');
});

test('/metrics is Prometheus text with request counters, the duration histogram and open connections', onlyOneProcess('per-process counters and open connections'), async () => {
  // requests made before the scrape, on routes whose labels are known
  await req(srv, 'GET', '/healthz');
  await req(srv, 'GET', '/no-such-route');
  await req(srv, 'GET', '/v1/data/posts'); // 401: no key
  const m = await req(srv, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assert.match(m.text, /^# TYPE basalt_http_requests_total counter$/m);
  assert.match(m.text, /^# TYPE basalt_http_request_duration_seconds histogram$/m);
  assert.match(m.text, /^# TYPE basalt_http_open_connections gauge$/m);
  assert.ok(metricValue(m.text, 'basalt_http_requests_total', 'route="/healthz",status="200"') >= 1, 'healthz counted');
  assert.ok(metricValue(m.text, 'basalt_http_requests_total', 'route="unmatched",status="404"') >= 1, 'unknown route counted');
  assert.match(m.text, /^basalt_http_requests_total\{route="\/v1\/[^"]*",status="401"\} [1-9]\d*$/m, '401 on /v1 counted');
  assert.ok(metricValue(m.text, 'basalt_http_request_duration_seconds_bucket', 'route="/healthz",le="+Inf"') >= 1);
  assert.ok(metricValue(m.text, 'basalt_http_request_duration_seconds_count', 'route="/healthz"') >= 1);
  assert.ok(metricValue(m.text, 'basalt_http_request_duration_seconds_sum', 'route="/healthz"') >= 0);
  const buckets = [...m.text.matchAll(/^basalt_http_request_duration_seconds_bucket\{route="\/healthz",le="([^"]+)"\} (\d+)$/gm)];
  assert.ok(buckets.length >= 2, 'several buckets');
  for (let i = 1; i < buckets.length; i++) assert.ok(Number(buckets[i][2]) >= Number(buckets[i - 1][2]), 'cumulative buckets');
  const open = metricValue(m.text, 'basalt_http_open_connections');
  assert.ok(Number.isInteger(open) && open >= 1, `open connections ${open}`);

  // counters move with later requests
  const before = metricValue(m.text, 'basalt_http_requests_total', 'route="/healthz",status="200"');
  for (let i = 0; i < 3; i++) await req(srv, 'GET', '/healthz');
  // a request is counted when its exchange completes, just after the answer went out: poll briefly
  let after = 0;
  for (let i = 0; i < 20 && after < before + 3; i++) {
    if (i) await new Promise((r) => setTimeout(r, 25));
    after = metricValue((await req(srv, 'GET', '/metrics')).text, 'basalt_http_requests_total', 'route="/healthz",status="200"');
  }
  assert.ok(after >= before + 3, `counted ${after - before} of 3`);
});

test('X-Request-Id: generated when absent, echoed when valid, replaced when invalid', async () => {
  const gen = await req(srv, 'GET', '/healthz');
  assert.match(gen.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  const gen2 = await req(srv, 'GET', '/healthz');
  assert.notEqual(gen2.headers.get('x-request-id'), gen.headers.get('x-request-id'), 'a new id per request');
  for (const good of ['abc-123.DEF_x', 'a', 'x'.repeat(64)]) {
    const r = await req(srv, 'GET', '/healthz', { headers: { 'X-Request-Id': good } });
    assert.equal(r.headers.get('x-request-id'), good);
  }
  for (const bad of ['has space', 'x'.repeat(65), 'x'.repeat(200), 'quote"d', 'semi;colon', 'slash/x', 'é']) {
    const r = await req(srv, 'GET', '/healthz', { headers: { 'X-Request-Id': bad } });
    const id = r.headers.get('x-request-id');
    assert.match(id, /^[0-9a-f]{32}$/, `replaced: ${JSON.stringify(bad)} -> ${id}`);
  }
  // on errors too, and the header name is case-insensitive
  const errored = await req(srv, 'GET', '/nope', { headers: { 'x-request-id': 'err-probe-1' } });
  assert.equal(errored.status, 404);
  assert.equal(errored.headers.get('x-request-id'), 'err-probe-1');
  const unauth = await req(srv, 'GET', '/v1/data/posts');
  assert.match(unauth.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
});

test('unknown route is 404 common/not-found', async () => {
  for (const [method, p] of [['GET', '/nope'], ['GET', '/healthz/extra'], ['DELETE', '/admin'], ['POST', '/v2/data/posts'],
    ['GET', '/admin/v2/x'], ['PATCH', '/definitely/not/here'], ['GET', '/metricsx']]) {
    expectError(assert, await req(srv, method, p), 404, 'common/not-found');
  }
});

test('wrong method on /healthz is 405 common/method-not-allowed with Allow listing GET', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await req(srv, method, '/healthz', method === 'POST' || method === 'PUT' ? { body: {} } : {});
    expectError(assert, r, 405, 'common/method-not-allowed');
    const allow = r.headers.get('allow');
    assert.ok(allow, 'Allow header present');
    assert.ok(allow.split(/\s*,\s*/).includes('GET'), `Allow: ${allow}`);
    assert.ok(!allow.split(/\s*,\s*/).includes(method), `Allow must not list ${method}: ${allow}`);
  }
  const m = await req(srv, 'POST', '/metrics');
  expectError(assert, m, 405, 'common/method-not-allowed');
  assert.match(m.headers.get('allow'), /\bGET\b/);
});

test('HEAD is answered like GET, without a body', async () => {
  const h = await req(srv, 'HEAD', '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.text, '');
  assert.match(h.headers.get('content-type'), JSON_CT);
  assert.match(h.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
});

test('access log: one JSON line per request with id, method, route, status, bytes, us', async () => {
  const r = await req(srv, 'GET', '/healthz', { headers: { 'X-Request-Id': 'access-log-probe' } });
  assert.equal(r.status, 200);
  const entry = await accessLine('access-log-probe');
  assert.ok(entry, 'logged');
  assert.equal(accessLines().filter((e) => e.id === 'access-log-probe').length, 1, 'exactly one line');
  assert.equal(entry.method, 'GET');
  assert.equal(entry.route, '/healthz');
  assert.equal(entry.status, 200);
  assert.equal(entry.bytes, Buffer.byteLength(r.text));
  assert.ok(Number.isInteger(entry.us) && entry.us >= 0, `us ${entry.us}`);
  const e404 = await req(srv, 'POST', '/nope', { headers: { 'X-Request-Id': 'access-log-404' } });
  const line = await accessLine('access-log-404');
  assert.ok(line, 'errors are logged too');
  assert.equal(line.status, 404);
  assert.equal(line.method, 'POST');
  assert.equal(line.bytes, Buffer.byteLength(e404.text));
  assert.ok(!srv.stderr().includes(key), 'keys never reach the log');
});

test('empty bodies with Content-Type: application/json on GET and DELETE are accepted (Dart clients)', async () => {
  const dart = { 'Content-Type': 'application/json' };
  const h = await req(srv, 'GET', '/healthz', { headers: dart });
  assert.equal(h.status, 200, h.text);
  assert.equal(h.json.status, 'ok');
  expectAuthenticated(assert, await req(srv, 'GET', '/v1/data/posts', { key, headers: dart }));
  expectAuthenticated(assert, await req(srv, 'GET', '/v1/data/posts/abc', { key, headers: dart }));
  expectAuthenticated(assert, await req(srv, 'DELETE', '/v1/data/posts/abc', { key, headers: dart }));
  expectAuthenticated(assert, await req(srv, 'GET', '/v1/nothing/routes/this/path', { key, headers: { 'content-type': 'application/json; charset=utf-8' } }));
});

test('path with a bad percent escape is 400 common/invalid-parameters', async () => {
  for (const p of ['/v1/data/%zz', '/v1/data/%', '/v1/data/posts%2', '/v1/data/%G1']) {
    expectError(assert, await req(srv, 'GET', p, { key }), 400, 'common/invalid-parameters');
  }
  expectError(assert, await req(srv, 'GET', '/v1/data/posts?q=%G1', { key }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts?q=%', { key }), 400, 'common/invalid-parameters');
});

test('%00 in the path or the query is 400', async () => {
  expectError(assert, await req(srv, 'GET', '/v1/data/a%00b', { key }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', '/v1/data/%00', { key }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts?a=%00', { key }), 400, 'common/invalid-parameters');
});

test('more than 64 query parameters is 400; 64 are fine', async () => {
  const q = (n) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
  expectError(assert, await req(srv, 'GET', `/v1/data/posts?${q(65)}`, { key }), 400, 'common/invalid-parameters');
  expectError(assert, await req(srv, 'GET', `/v1/data/posts?${q(200)}`, { key }), 400, 'common/invalid-parameters');
  const ok = await req(srv, 'GET', `/v1/data/posts?${q(64)}`, { key });
  assert.notEqual(ok.status, 400, ok.text);
  expectAuthenticated(assert, ok);
});

test('a 40000-byte target is 414 common/uri-too-long', async () => {
  expectError(assert, await req(srv, 'GET', '/v1/' + 'a'.repeat(40000), { key }), 414, 'common/uri-too-long');
  expectError(assert, await req(srv, 'GET', '/' + 'a'.repeat(40000)), 414, 'common/uri-too-long');
  expectError(assert, await req(srv, 'GET', '/v1/data/posts?q=' + 'a'.repeat(40000), { key }), 414, 'common/uri-too-long');
});

test('odd requests never get a 5xx or an empty body', async () => {
  const paths = ['/', '/%', '/%2', '/%zz', '/%00', '/%2e%2e/%2e%2e/etc/passwd', '/v1/%ff', '/v1/data/%C0%AF', '/v1/data/posts/%2F',
    '/v1/data/posts?', '/v1/data/posts?&&&=&=x&', '/v1/data/posts?a=%', '/v1/data/posts?andFilters=%7B', '/v1/data/posts?page=-1&limit=1e9',
    '/v1/data/posts?x=' + encodeURIComponent('é😀'), '/v1/' + encodeURIComponent('表'), '/v1//data//posts', '/v1/data/posts/',
    '/v1/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t', '/admin/v1/%zz', '/admin/v1/projects/%00/environments/dev/keys',
    '/healthz?x=%zz', '/metrics?', '/console/%zz', '/' + 'b'.repeat(2100)];
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  for (const p of paths) {
    for (const method of methods) {
      for (const withKey of [false, true]) {
        const r = await req(srv, method, p, withKey ? { key } : {});
        const what = `${method} ${p.slice(0, 60)} key=${withKey}: ${r.status} ${r.text.slice(0, 200)}`;
        assert.ok(r.status >= 200 && r.status < 500, what);
        if (r.status !== 204) {
          assert.ok(r.text.length > 0, `empty body: ${what}`);
          if (r.status >= 400) expectError(assert, r, r.status, r.json?.error?.code);
        }
      }
    }
  }
});

test('raw protocol oddities never get a 5xx', async () => {
  const cases = [
    'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /healthz HTTP/1.0\r\n\r\n',
    'GET /v1/data/posts HTTP/1.1\r\nHost: x\r\nX-API-Key: \r\n\r\n',
    `GET /v1/data/posts HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nX-API-Key: ${key}\r\n\r\n`,
    'POST /v1/data/posts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{"a":',
    'GET http://example.com/healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
  ];
  for (const data of cases) {
    const answer = await rawExchange(srv.port, data.replace('\r\n', '\r\nConnection: close\r\n'), { ms: 3000 });
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
    if (!m) continue; // closing the connection without an answer is acceptable for garbage
    assert.ok(Number(m[1]) < 500, `${JSON.stringify(data.slice(0, 40))} -> ${answer.slice(0, 200)}`);
  }
  // still healthy afterwards
  assert.equal((await req(srv, 'GET', '/healthz')).status, 200);
});

test('CORS preflight on /v1 needs no key: 204 with the allowed origin, methods and headers', async () => {
  const origin = 'http://app.example:3000';
  const pre = await req(srv, 'OPTIONS', '/v1/data/posts', {
    headers: { Origin: origin, 'Access-Control-Request-Method': 'PATCH',
      'Access-Control-Request-Headers': 'content-type,x-api-key,authorization' } });
  assert.equal(pre.status, 204, pre.text);
  assert.equal(pre.text, '');
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  const methods = pre.headers.get('access-control-allow-methods').split(/\s*,\s*/);
  for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) assert.ok(methods.includes(m), `Allow-Methods has ${m}`);
  assert.match(pre.headers.get('access-control-allow-headers').toLowerCase(), /x-api-key/);
  // without Access-Control-Request-Headers the default list still names X-API-Key, Content-Type, Authorization
  const plain = await req(srv, 'OPTIONS', '/v1/data/posts/abc', { headers: { Origin: origin, 'Access-Control-Request-Method': 'DELETE' } });
  assert.equal(plain.status, 204);
  const allowed = plain.headers.get('access-control-allow-headers').toLowerCase();
  for (const h of ['x-api-key', 'content-type', 'authorization']) assert.ok(allowed.includes(h), `Allow-Headers has ${h}: ${allowed}`);
  // any /v1 path, even one no route serves
  const deep = await req(srv, 'OPTIONS', '/v1/auth/email/signin', { headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
  assert.equal(deep.status, 204);
  assert.equal(deep.headers.get('access-control-allow-origin'), origin);
});

test('CORS: answers to a request with Origin carry Allow-Origin and Expose-Headers', async () => {
  const origin = 'https://shop.example';
  for (const [p, opts] of [['/healthz', {}], ['/v1/data/posts', { key }], ['/v1/data/posts', {}], ['/nope', {}]]) {
    const r = await req(srv, 'GET', p, { ...opts, headers: { Origin: origin } });
    assert.equal(r.headers.get('access-control-allow-origin'), origin, `${p} ${r.status}`);
    const expose = r.headers.get('access-control-expose-headers') || '';
    assert.match(expose, /\bETag\b/i, `${p}: ${expose}`);
    assert.match(expose, /\bX-Request-Id\b/i, `${p}: ${expose}`);
  }
  const none = await req(srv, 'GET', '/healthz');
  assert.equal(none.headers.get('access-control-allow-origin'), null, 'no CORS headers without Origin');
});

test('console static files are served, traversal is not', async () => {
  const page = await req(srv, 'GET', '/console/');
  if (page.status === 404) {
    expectError(assert, page, 404, 'common/not-found'); // console not installed next to this binary
    return;
  }
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  expectError(assert, await req(srv, 'GET', '/console/..%2F..%2FCMakeLists.txt'), 404, 'common/not-found');
  expectError(assert, await req(srv, 'GET', '/console/%2e%2e/%2e%2e/CMakeLists.txt'), 404, 'common/not-found');
  expectError(assert, await req(srv, 'GET', '/console/.hidden'), 404, 'common/not-found');
  expectError(assert, await req(srv, 'GET', '/console/nope.html'), 404, 'common/not-found');
});

// ---- hardening (issue 11): raw TCP, every answer the JSON envelope ----

// Sends raw bytes (Connection: close added after the request line unless keep) and parses the answer:
// {status, headers (lower-case names), body (Buffer), text, json, ms}; status 0 when nothing came back.
async function rawAnswer(port, data, { ms = 4000, keep = false } = {}) {
  const t0 = Date.now();
  const sent = keep ? data : data.replace('\r\n', '\r\nConnection: close\r\n');
  const raw = Buffer.from(await rawExchange(port, sent, { ms }), 'latin1');
  return parseAnswer(raw, Date.now() - t0);
}

function parseAnswer(raw, ms) {
  const end = raw.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw.toString('latin1'));
  if (!m || end < 0) return { status: 0, headers: {}, body: raw, text: raw.toString('latin1'), ms };
  const headers = {};
  for (const line of raw.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = raw.subarray(end + 4);
  const text = body.toString('utf8');
  let json;
  try { json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)); } catch { json = undefined; }
  return { status: Number(m[1]), headers, body, text, json, ms };
}

// The envelope of client-api.md §1.6 on a raw answer, with a body that is valid UTF-8.
function expectRawError(r, status, code, what = '') {
  assert.ok(r.status, `no answer ${what}: ${r.text.slice(0, 200)}`);
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(statuses.includes(r.status), `status ${r.status}, expected ${statuses} ${what}: ${r.text.slice(0, 300)}`);
  assert.match(r.headers['content-type'] || '', JSON_CT, `content type ${what}: ${r.text.slice(0, 300)}`);
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(r.body), `valid UTF-8 ${what}`);
  assert.ok(r.json, `a JSON body ${what}: ${r.text.slice(0, 300)}`);
  assert.equal(r.json.success, false);
  assert.equal(r.json.statusCode, r.status);
  if (code) {
    const codes = Array.isArray(code) ? code : [code];
    assert.ok(codes.includes(r.json.error?.code), `code ${r.json.error?.code}, expected ${codes} ${what}`);
  }
  assert.equal(typeof r.json.message, 'string');
}

test('hundreds to thousands of query parameters are answered with the envelope; nothing leaks or stays in flight', async () => {
  const own = await startServer({ args: ['--shutdown-timeout', '5'] });
  const shapes = [
    Array.from({ length: 918 }, (_, i) => `p${i}=1`).join('&'),
    Array.from({ length: 1000 }, (_, i) => `p${i}=1`).join('&'),
    Array.from({ length: 3000 }, (_, i) => `p${i}=1`).join('&'),
    Array.from({ length: 16000 }, () => 'a').join('&'),
  ];
  for (const q of shapes) {
    for (let i = 0; i < 3; i++) {
      const r = await rawAnswer(own.port, `GET /v1/data/posts?${q} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${own.bootstrap.publishableKey}\r\n\r\n`);
      expectRawError(r, [400, 414, 431], ['common/invalid-parameters', 'common/uri-too-long', 'common/header-too-large'], `${q.length} bytes of query`);
      assert.ok(r.ms < 3000, `answered in ${r.ms} ms`);
    }
  }
  assert.equal((await req(own, 'GET', '/healthz')).status, 200);
  const t0 = Date.now();
  await own.stop(); // the ASan build fails stop() on a leak
  assert.ok(!/still in flight/.test(own.stderr()), own.stderr().split('\n').filter((l) => /flight/.test(l)).join('\n'));
  assert.ok(Date.now() - t0 < 4000, `stopped in ${Date.now() - t0} ms`);
});

test('invalid UTF-8 from the target never reaches a JSON answer (GET /v1/data/%ff and friends)', async () => {
  for (const p of ['/v1/data/%ff', '/v1/data/%c3', '/nope/%ff%fe', '/v1/data/%ed%a0%80', '/admin/v1/%c0%af']) {
    for (const key of [undefined, srv.bootstrap.publishableKey]) {
      const r = await rawAnswer(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n${key ? `X-API-Key: ${key}\r\n` : ''}\r\n`);
      expectRawError(r, [400, 401, 404], null, p);
    }
  }
});

test('Transfer-Encoding other than chunked is answered at once with the envelope', onlyOneProcess('the bare server\'s answer to a head; through HAProxy 2.6 its own 400, fleet_lb.test.mjs'), async () => {
  for (const te of ['gzip', 'gzip, chunked', 'identity', 'x-custom']) {
    const r = await rawAnswer(srv.port, `POST /v1/data/posts HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nTransfer-Encoding: ${te}\r\n\r\nabc`);
    expectRawError(r, 501, 'common/not-implemented', te);
    assert.ok(r.ms < 2000, `${te}: answered in ${r.ms} ms`);
  }
});

// Streams a chunked body of up to `total` bytes until an answer arrives; resolves with what came back.
function chunkedUpload(port, head, total, { ms = 20000, chunked = true } = {}) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    const chunks = [];
    let sent = 0, done = false, error = null;
    const piece = Buffer.alloc(64 * 1024, 'a');
    const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.destroy();
      resolve({ answer: parseAnswer(Buffer.concat(chunks), 0), sent, error });
    };
    const timer = setTimeout(finish, ms);
    const answered = () => { const b = Buffer.concat(chunks); const e = b.indexOf('\r\n\r\n'); const m = /content-length: *(\d+)/i.exec(b.toString('latin1')); return e > 0 && m && b.length >= e + 4 + Number(m[1]); };
    const pump = () => {
      while (!done && sent < total && !answered()) {
        sent += piece.length;
        if (!c.write(frame)) { c.once('drain', pump); return; }
      }
      if (!done && sent >= total && chunked) c.write('0\r\n\r\n');
    };
    c.on('connect', () => { c.write(head); pump(); });
    c.on('data', (d) => { chunks.push(d); if (answered()) finish(); });
    c.on('error', (e) => { error = e.code || String(e); finish(); });
    c.on('close', finish);
  });
}

test('a 100 MB chunked body is answered 413 with the envelope, not reset', async () => {
  for (let i = 0; i < 2; i++) {
    const { answer, sent, error } = await chunkedUpload(srv.port,
      `POST /v1/data/posts HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, 100 * 1024 * 1024);
    expectRawError(answer, 413, 'common/payload-too-large', `after ${sent} bytes (${error || 'no error'})`);
    assert.ok(sent < 100 * 1024 * 1024, `the answer came before the whole body (${sent} bytes sent)`);
  }
  // the same with a Content-Length far over the limit: answered before the body, the client still sending
  const { answer, sent, error } = await chunkedUpload(srv.port,
    `POST /v1/data/posts HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
    100 * 1024 * 1024, { chunked: false });
  expectRawError(answer, 413, 'common/payload-too-large', `Content-Length, after ${sent} bytes (${error || 'no error'})`);
  assert.equal((await req(srv, 'GET', '/healthz')).status, 200);
});

// ---- slow clients (issue 11): header deadline, reserve, per-address cap ----

// A connection that sends a request head one byte at a time, forever; reports when the server closes it.
function trickler(port, everyMs, onClose) {
  const c = net.connect(port, '127.0.0.1');
  const head = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(10000);
  let i = 0, timer = null;
  const t = { socket: c, opened: Date.now(), closedByServer: false, closed: false };
  c.on('connect', () => { timer = setInterval(() => { if (!c.destroyed) c.write(head[i++ % head.length]); }, everyMs); });
  c.on('error', () => {});
  c.on('close', () => { clearInterval(timer); if (!t.closed) { t.closedByServer = true; t.closed = true; onClose?.(t); } });
  t.stop = () => { t.closed = true; clearInterval(timer); c.destroy(); };
  return t;
}

// One keep-alive connection: request() sends a full request and resolves with its answer.
function keepAlive(port) {
  const c = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0), waiter = null, closed = false;
  c.on('data', (d) => { buf = Buffer.concat([buf, d]); waiter?.(); });
  c.on('close', () => { closed = true; waiter?.(); });
  c.on('error', () => {});
  const ready = new Promise((r) => c.on('connect', r));
  return {
    socket: c,
    isClosed: () => closed,
    async request(p) {
      await ready;
      buf = Buffer.alloc(0);
      c.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
      for (let i = 0; i < 100 && !closed; i++) {
        const a = parseAnswer(buf, 0);
        if (a.status && a.headers['content-length'] && a.body.length >= Number(a.headers['content-length'])) return a;
        await new Promise((r) => { waiter = r; setTimeout(r, 50); });
      }
      return parseAnswer(buf, 0);
    },
  };
}

// Opens `count` tricklers that reconnect when cut (at most `max` connections in all) until stop().
function trickleFlood(port, count, max) {
  const tricklers = [];
  let running = true, opened = 0;
  const open = () => { if (running && opened < max) { opened++; tricklers.push(trickler(port, 300, () => setTimeout(open, 100))); } };
  for (let i = 0; i < count; i++) open();
  return { tricklers, stop: () => { running = false; } };
}

// Normal requests on fresh connections every 200 ms for `ms`: each must be answered 200; returns latencies.
async function normalClients(srvUrl, ms, timeoutMs) {
  const latencies = [];
  for (const t0 = Date.now(); Date.now() - t0 < ms;) {
    const s = Date.now();
    const r = await getOnce(srvUrl + '/healthz', { timeoutMs });
    assert.equal(r.status, 200, r.text);
    latencies.push(Date.now() - s);
    await sleep(200);
  }
  return latencies;
}

test('slow request heads are cut after --header-timeout while normal clients keep being answered; idle keep-alive is not cut', onlyOneProcess('the client connections are the balancer\'s'), async () => {
  const own = await startServer({ args: ['--header-timeout', '2', '--max-connections', '64', '--connection-reserve', '16',
    '--max-connections-per-ip', '0', '--threads', '2'] });
  // an idle keep-alive connection outlives the header timeout; one that trickles its next head does not
  const ka = keepAlive(own.port);
  assert.equal((await ka.request('/healthz')).status, 200);
  await sleep(3000);
  assert.equal((await ka.request('/healthz')).status, 200, 'the idle keep-alive connection was kept past the header timeout');
  ka.socket.write('GET /healthz HTTP/1.1\r\n');
  const slowNext = setInterval(() => { if (!ka.isClosed()) ka.socket.write('x'); }, 300);
  await sleep(3800);
  clearInterval(slowNext);
  assert.ok(ka.isClosed(), 'a keep-alive connection trickling its next head is cut');

  // 100 tricklers (reconnecting when cut) against 64 connections: each is cut, normal clients get through
  const flood = trickleFlood(own.port, 100, 1500);
  const latencies = await normalClients(own.url, 6000, 4000);
  flood.stop();
  await sleep(3800);
  const open = flood.tricklers.filter((t) => !t.closed);
  for (const t of flood.tricklers) t.stop();
  assert.equal(open.length, 0, `${open.length} of ${flood.tricklers.length} tricklers still open 3.8 s after the last started`);
  assert.ok(flood.tricklers.filter((t) => t.closedByServer).length >= 100, 'the server closed them');
  assert.ok(Math.max(...latencies) < 4000, `normal clients answered within ${Math.max(...latencies)} ms`);
  assert.equal((await req(own, 'GET', '/healthz')).status, 200);
  await own.stop();
});

test('--connection-reserve keeps room for new clients while slow clients hold every other connection', onlyOneProcess('the client connections are the balancer\'s'), async () => {
  const own = await startServer({ args: ['--header-timeout', '60', '--max-connections', '64', '--connection-reserve', '16',
    '--max-connections-per-ip', '0', '--threads', '2'] });
  const flood = trickleFlood(own.port, 100, 1000);
  await sleep(1500);
  const latencies = await normalClients(own.url, 4000, 2500);
  flood.stop();
  const cut = flood.tricklers.filter((t) => t.closedByServer).length;
  for (const t of flood.tricklers) t.stop();
  assert.ok(cut >= 36, `${cut} tricklers closed by the server`);
  assert.ok(Math.max(...latencies) < 2500, `normal clients answered within ${Math.max(...latencies)} ms`);
  await own.stop();
});

test('--max-connections-per-ip caps one address', onlyOneProcess('the client connections are the balancer\'s'), async () => {
  const own = await startServer({ args: ['--max-connections-per-ip', '8'] });
  const socks = [];
  let closedByServer = 0;
  for (let i = 0; i < 12; i++) {
    const c = net.connect(own.port, '127.0.0.1');
    c.on('error', () => {});
    c.on('close', () => { if (!c.mine) closedByServer++; });
    socks.push(c);
    await sleep(20);
  }
  await sleep(700);
  assert.equal(closedByServer, 4, `${closedByServer} of 12 closed at once`);
  for (const c of socks) { c.mine = true; c.destroy(); }
  await sleep(300);
  assert.equal((await req(own, 'GET', '/healthz')).status, 200, 'room again once they closed');
  await own.stop();
});
