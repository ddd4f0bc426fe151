// --s3-direct-urls 1 (docs/files.md): with the S3 driver, upload URLs and private download URLs are S3
// presigned URLs; the server learns of an upload when it is registered, used as an avatar or read, and
// applies the type's size limit then. Runs in the S3 pass of scripts/test.sh (BASALT_TEST_FILES=s3).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, FILES_DRIVER } from './harness.mjs';

const s3 = FILES_DRIVER === 's3';
let srv, b, user;
before(async () => {
  if (!s3) return;
  srv = await startServer({ args: ['--s3-direct-urls', '1', '--max-image-size', '1000'] });
  b = srv.bootstrap;
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { key: b.publishableKey, body: { email: 'direct@x.io', password: 'secret1', name: 'D' } });
  const me = await req(srv, 'GET', '/v1/auth/me', { key: b.publishableKey, token: up.json.accessToken });
  user = { key: b.publishableKey, token: up.json.accessToken, id: me.json.id };
});
after(async () => { await srv?.stop(); });

const as = () => ({ key: user.key, token: user.token });
const presign = (body) => req(srv, 'POST', '/v1/files/presigned-url', { ...as(), body });
const s3put = (url, bytes, type) => fetch(url, { method: 'PUT', body: bytes, headers: { 'Content-Type': type } });

test('direct upload to S3, registration reads the object from the bucket, private downloads are S3 presigned', { skip: !s3 && 'S3 pass only' }, async () => {
  const p = await presign({ filename: 'direct.txt', contentType: 'text/plain' });
  assert.equal(p.status, 200, p.text);
  assert.ok(p.json.url.startsWith(process.env.BASALT_TEST_S3_ENDPOINT), p.json.url);
  assert.match(p.json.url, /X-Amz-Signature=[0-9a-f]{64}/);
  const reg = (body) => req(srv, 'POST', '/v1/files', { ...as(), body: { originalName: 'direct.txt', mimeType: 'text/plain', size: 1, ...body } });
  expectError(assert, await reg({ s3Key: p.json.key }), 400, 'file/invalid-path', 'nothing uploaded yet');
  const put = await s3put(p.json.url, Buffer.from('straight to the bucket'), 'text/plain');
  assert.equal(put.status, 200);
  const r = await reg({ s3Key: p.json.key });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.size, 22, 'the size the bucket has, not the one sent');
  const dl = await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as());
  assert.ok(dl.json.url.startsWith(process.env.BASALT_TEST_S3_ENDPOINT));
  assert.equal(await (await fetch(dl.json.url)).text(), 'straight to the bucket');
  // the server's own URL still serves it (public after a PATCH) and the accounting saw one upload
  await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(), body: { visibility: 'public' } });
  const pub = await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as());
  assert.equal(pub.json.expiresAt, null);
  assert.equal(await (await fetch(pub.json.url)).text(), 'straight to the bucket');
  const stats = (await req(srv, 'GET', `/admin/v1/projects/${b.projectId}/environments/dev/storage`, { token: b.operatorToken })).json;
  assert.equal(stats.uploads, 1);
});

test('direct uploads over the type\'s limit are refused and deleted when they are used', { skip: !s3 && 'S3 pass only' }, async () => {
  const p = await presign({ filename: 'big.png', contentType: 'image/png' });
  assert.equal((await s3put(p.json.url, Buffer.alloc(2000, 1), 'image/png')).status, 200);
  const reg = await req(srv, 'POST', '/v1/files', { ...as(), body: { s3Key: p.json.key, originalName: 'big.png', mimeType: 'image/png', size: 2000 } });
  expectError(assert, reg, 400, 'file/file-too-large');
  expectError(assert, await req(srv, 'POST', '/v1/files', { ...as(), body: { s3Key: p.json.key, originalName: 'big.png', mimeType: 'image/png', size: 2000 } }), 400, 'file/invalid-path');
  // an avatar uploaded straight to the bucket
  const a = await req(srv, 'POST', `/v1/users/${user.id}/avatar/upload-url`, { ...as(), body: { filename: 'me.png' } });
  assert.equal(a.json.url, a.json.uploadUrl);
  assert.equal((await s3put(a.json.url, Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'image/png')).status, 200);
  const set = await req(srv, 'PATCH', `/v1/users/${user.id}/avatar`, { ...as(), body: { s3Key: a.json.key } });
  assert.equal(set.status, 200, set.text);
  assert.equal((await fetch(set.json.image)).status, 200, 'the avatar URL is the server\'s permanent one');
});
