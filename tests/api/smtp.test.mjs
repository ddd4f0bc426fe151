// Mail through SMTP (--smtp-url): a real SMTP server (Debian's python3-aiosmtpd, started here on a free
// loopback port) receives the password-reset mail; nothing is kept in the outbox then.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, req, freePort, sleep } from './harness.mjs';

let smtp, out = '', srv, b;
before(async () => {
  const port = await freePort();
  smtp = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-c', 'aiosmtpd.handlers.Debugging', '-l', `127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  smtp.stdout.on('data', (d) => { out += d; });
  smtp.stderr.on('data', (d) => { out += d; });
  for (let i = 0; i < 50; i++) { // until it accepts connections
    const ok = await new Promise((resolve) => {
      import('node:net').then(({ default: net }) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
    });
    if (ok) break;
    await sleep(100);
  }
  srv = await startServer({ args: ['--smtp-url', `smtp://127.0.0.1:${port}`, '--mail-from', 'auth@basalt.test'] });
  b = srv.bootstrap;
});
after(async () => {
  await srv?.stop();
  smtp?.kill('SIGTERM');
});

test('a password-reset mail arrives at the SMTP server', async () => {
  const key = { key: b.publishableKey };
  assert.equal((await req(srv, 'POST', '/v1/auth/email/signup', { ...key, body: { email: 'smtp@x.io', password: 'secret1', name: 'Sam' } })).status, 201);
  const r = await req(srv, 'POST', '/v1/auth/password/reset/request', { ...key, body: { email: 'smtp@x.io' } });
  assert.equal(r.status, 200, r.text);
  for (let i = 0; i < 100 && !/Reset your password/.test(out); i++) await sleep(100);
  assert.match(out, /Subject: Reset your password/, out.slice(-2000));
  assert.match(out, /To: <smtp@x\.io>/);
  assert.match(out, /From: <auth@basalt\.test>/);
  assert.match(out, /Hello Sam,/);
  const code = out.match(/reset code:\s+([0-9a-f]{64})/)[1];
  const confirm = await req(srv, 'POST', '/v1/auth/password/reset/confirm', { ...key, body: { email: 'smtp@x.io', token: code, newPassword: 'via-smtp-1' } });
  assert.equal(confirm.status, 200, 'the delivered code works');
  const outbox = await req(srv, 'GET', `/admin/v1/projects/${b.projectId}/environments/dev/outbox`, { token: b.operatorToken });
  assert.deepEqual(outbox.json.items, [], 'with SMTP, nothing is kept in the outbox');
});
