// MFA with TOTP (client-api.md §3.9): enable, confirm, sign-in challenge, replay, backup codes, disable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, req, expectError } from './harness.mjs';

let srv, b;
before(async () => { srv = await startServer(); b = srv.bootstrap; });
after(async () => { await srv?.stop(); });

// RFC 6238 with an independent implementation (Node's crypto).
function totp(secretB32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32.toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((x) => parseInt(x, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e6).padStart(6, '0');
}
const step = () => Math.floor(Date.now() / 1000 / 30);

const pk = () => ({ key: b.publishableKey });
const signin = (body) => req(srv, 'POST', '/v1/auth/email/signin', { ...pk(), body: { email: 'mfa@x.io', password: 'secret1', ...body } });

test('MFA: enable, confirm, the sign-in challenge, replay, backup codes, disable', async () => {
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { ...pk(), body: { email: 'mfa@x.io', password: 'secret1', name: 'M' } });
  const as = { ...pk(), token: up.json.accessToken };
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/confirm', { ...as, body: { code: '123456' } }), 400, 'auth/mfa-not-enabled');
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/disable', { ...as, body: { password: 'secret1' } }), 400, 'auth/mfa-not-enabled');
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/enable', { ...as, body: { password: 'wrong' } }), 401, 'auth/invalid-credentials');
  const en = await req(srv, 'POST', '/v1/auth/mfa/enable', { ...as, body: { password: 'secret1' } });
  assert.equal(en.status, 200, en.text);
  assert.match(en.json.secret, /^[A-Z2-7]{32}$/);
  assert.ok(en.json.qrCodeUrl.startsWith('otpauth://totp/Basalt:mfa%40x.io?secret=' + en.json.secret + '&issuer=Basalt'), en.json.qrCodeUrl);
  assert.equal(en.json.backupCodes.length, 10);
  assert.ok(en.json.backupCodes.every((c) => /^[a-z2-9]{8}$/.test(c)));
  assert.equal((await signin({})).status, 200, 'not active before confirmation');
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/confirm', { ...as, body: { code: '000000' === totp(en.json.secret, step()) ? '111111' : '000000' } }), 401, 'auth/invalid-mfa-code');
  const s0 = step();
  const conf = await req(srv, 'POST', '/v1/auth/mfa/confirm', { ...as, body: { code: totp(en.json.secret, s0) } });
  assert.equal(conf.status, 200, conf.text);
  assert.deepEqual(conf.json.backupCodes, en.json.backupCodes);
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/enable', { ...as, body: { password: 'secret1' } }), 409, 'auth/mfa-already-enabled');
  expectError(assert, await signin({}), 403, 'auth/mfa-required');
  expectError(assert, await signin({ mfaCode: 'abcdef' }), 401, 'auth/invalid-mfa-code');
  expectError(assert, await signin({ mfaCode: totp(en.json.secret, s0) }), 401, 'auth/invalid-mfa-code'); // used by confirm
  const next = totp(en.json.secret, s0 + 1);
  assert.equal((await signin({ mfaCode: next })).status, 200, 'the next step (clock skew window)');
  expectError(assert, await signin({ mfaCode: next }), 401, 'auth/invalid-mfa-code'); // replay
  const backup = en.json.backupCodes[3];
  assert.equal((await signin({ mfaCode: backup })).status, 200, 'a backup code');
  expectError(assert, await signin({ mfaCode: backup }), 401, 'auth/invalid-mfa-code'); // single use
  expectError(assert, await signin({ password: 'wrong', mfaCode: en.json.backupCodes[4] }), 401, 'auth/invalid-credentials');
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/disable', { ...as, body: { password: 'nope' } }), 401, 'auth/invalid-credentials');
  expectError(assert, await req(srv, 'POST', '/v1/auth/mfa/disable', { ...as, body: { password: 'secret1', code: '999999' === totp(en.json.secret, step()) ? '111111' : '999999' } }), 401, 'auth/invalid-mfa-code');
  const off = await req(srv, 'POST', '/v1/auth/mfa/disable', { ...as, body: { password: 'secret1', code: en.json.backupCodes[5] } });
  assert.equal(off.status, 200, off.text);
  assert.deepEqual(off.json, {});
  assert.equal((await signin({})).status, 200, 'no second factor after disable');
});
