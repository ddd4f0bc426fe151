// A project's allowedOrigins and ipWhitelist on /v1 (docs/platform.md "Project settings"): empty lists
// allow everyone; once set, an actual request from an unlisted Origin is refused with 403
// cors/origin-not-allowed and no Access-Control-Allow-Origin, preflights are still answered, requests
// without Origin pass; an address outside ipWhitelist gets 403 org/ip-not-allowed. The management API is
// never restricted by them.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

const settings = (s) => req(srv, 'PATCH', `/admin/v1/projects/${b.projectId}`, { token: b.operatorToken, body: { settings: s } });
const fromOrigin = (origin) => req(srv, 'GET', '/v1/data/posts', { key: b.publishableKey, headers: origin ? { Origin: origin } : {} });

test('allowedOrigins: listed origins pass with CORS headers, others are refused without them, no Origin passes', async () => {
  const open = await fromOrigin('https://anything.example');
  assert.equal(open.status, 404, 'empty list: every origin');
  assert.equal(open.headers.get('access-control-allow-origin'), 'https://anything.example');
  const set = await settings({ allowedOrigins: ['https://app.example.com', 'http://localhost:3000'] });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.json.settings.allowedOrigins, ['https://app.example.com', 'http://localhost:3000']);
  const ok = await fromOrigin('https://app.example.com');
  assert.equal(ok.status, 404);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
  const refused = await fromOrigin('https://evil.example');
  expectError(assert, refused, 403, 'cors/origin-not-allowed');
  assert.equal(refused.headers.get('access-control-allow-origin'), null);
  expectError(assert, await fromOrigin('https://app.example.com.evil.example'), 403, 'cors/origin-not-allowed');
  assert.equal((await fromOrigin(null)).status, 404, 'servers send no Origin');
  const preflight = await req(srv, 'OPTIONS', '/v1/data/posts', { headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' } });
  assert.ok(preflight.status === 204 || preflight.status === 200, `preflight ${preflight.status}`);
  const admin = await req(srv, 'GET', `/admin/v1/projects/${b.projectId}`, { token: b.operatorToken, headers: { Origin: 'https://evil.example' } });
  assert.equal(admin.status, 200, 'the management API is not restricted');
  assert.equal((await settings({ allowedOrigins: [] })).status, 200);
  assert.equal((await fromOrigin('https://evil.example')).status, 404, 'cleared: every origin again');
});

test('ipWhitelist: addresses and CIDR ranges, IPv4 and IPv6; outside is 403 org/ip-not-allowed', async () => {
  assert.equal((await settings({ ipWhitelist: ['10.0.0.0/8', '2001:db8::/32'] })).status, 200);
  expectError(assert, await fromOrigin(null), 403, 'org/ip-not-allowed');
  expectError(assert, await req(srv, 'POST', '/v1/auth/email/signin', { key: b.publishableKey, body: { email: 'a@b.io', password: 'x' } }), 403, 'org/ip-not-allowed');
  assert.equal((await settings({ ipWhitelist: ['10.0.0.0/8', '127.0.0.0/8'] })).status, 200);
  assert.equal((await fromOrigin(null)).status, 404, 'the test client is 127.0.0.1');
  assert.equal((await settings({ ipWhitelist: ['127.0.0.1'] })).status, 200);
  assert.equal((await fromOrigin(null)).status, 404);
  assert.equal((await settings({ ipWhitelist: [] })).status, 200);
  assert.equal((await fromOrigin(null)).status, 404);
});

test('settings validation: wildcards, paths, bad ranges and too many entries are refused', async () => {
  for (const bad of [{ allowedOrigins: ['*'] }, { allowedOrigins: ['https://a.io/path'] }, { allowedOrigins: 'https://a.io' },
    { ipWhitelist: ['10.0.0.0/33'] }, { ipWhitelist: ['example.com'] }, { ipWhitelist: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) },
    { allowedOrigins: Array.from({ length: 21 }, (_, i) => `https://a${i}.io`) }]) {
    expectError(assert, await settings(bad), 400, 'common/invalid-parameters');
  }
  assert.equal((await fromOrigin('https://x.io')).status, 404, 'nothing was stored');
});
