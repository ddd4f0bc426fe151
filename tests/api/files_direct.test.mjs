// --s3-direct-urls 1 (docs/files.md): with the S3 driver, upload URLs and private download URLs are S3
// presigned URLs; the server learns of an upload when it is registered, used as an avatar or read, and
// applies the type's size limit then. Multipart part URLs are S3 presigned too, and the server reads the
// parts from the bucket. Runs in the S3 pass of scripts/test.sh (BASALT_TEST_FILES=s3).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, expectError, tempDir, FILES_DRIVER } from './harness.mjs';
import { makePng } from './png.mjs';

const s3 = FILES_DRIVER === 's3';
let srv, b, user;
before(async () => {
  if (!s3) return;
  srv = await startServer({ args: ['--s3-direct-urls', '1', '--max-image-size', '1000', '--multipart-min-part', '1024'] });
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

const md5 = (buf) => `"${crypto.createHash('md5').update(buf).digest('hex')}"`;
// The part objects left in the bucket for a server (its store prefix is its data directory's name); the
// local S3 server answers anonymous listings.
const bucketParts = async (server) => {
  const prefix = `${path.basename(server.dataDir)}/_uploads/`;
  const url = `${process.env.BASALT_TEST_S3_ENDPOINT}/${process.env.BASALT_TEST_S3_BUCKET}?list-type=2&prefix=${encodeURIComponent(prefix)}`;
  const xml = await (await fetch(url)).text();
  return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1].slice(prefix.length));
};

test('direct multipart: S3 presigned part URLs, parts listed and checked from the bucket, completed, downloaded', { skip: !s3 && 'S3 pass only' }, async () => {
  const post = (p, body) => req(srv, 'POST', '/v1/files/multipart/' + p, { ...as(), body });
  const numbers = [1, 2, 10]; // the bucket lists keys in text order: .../1, .../10, .../2
  const parts = [Buffer.alloc(2048, 1), Buffer.alloc(1500, 2), Buffer.from('the tail')];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const init = await post('init', { filename: 'movie.bin', contentType: 'application/octet-stream', fileSize: total });
  assert.equal(init.status, 200, init.text);
  const { uploadId, key } = init.json;
  expectError(assert, await post('presigned-url', { key, uploadId, partNumber: 10001 }), 400, 'file/invalid-part-number-range');
  const etags = [];
  for (let i = 0; i < parts.length; i++) {
    const u = await post('presigned-url', { key, uploadId, partNumber: numbers[i] });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.partNumber, numbers[i]);
    assert.ok(u.json.url.startsWith(process.env.BASALT_TEST_S3_ENDPOINT), u.json.url);
    assert.ok(!u.json.url.includes('/storage/'), u.json.url);
    assert.ok(u.json.url.includes(`/_uploads/`) && u.json.url.includes(`/${uploadId}/${numbers[i]}?`), u.json.url);
    assert.match(u.json.url, /X-Amz-Expires=900&/);
    assert.ok(Date.parse(u.json.expiresAt) > Date.now() + 14 * 60e3);
    // straight to the bucket; no Content-Type is signed, so sending one or none both work
    const r = await fetch(u.json.url, { method: 'PUT', body: parts[i], headers: i === 1 ? { 'Content-Type': 'application/octet-stream' } : {} });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('etag'), md5(parts[i]));
    etags.push(r.headers.get('etag'));
  }
  const listed = await req(srv, 'GET', `/v1/files/multipart/parts?key=${encodeURIComponent(key)}&uploadId=${uploadId}`, as());
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.json.parts.map((p) => [p.partNumber, p.etag, p.size]), etags.map((e, i) => [numbers[i], e, parts[i].length]));
  const named = etags.map((etag, i) => ({ partNumber: numbers[i], etag }));
  expectError(assert, await post('complete', { key, uploadId, parts: [{ ...named[0], etag: '"0123456789abcdef0123456789abcdef"' }, named[1], named[2]] }), 400, 'file/invalid-parts-array');
  expectError(assert, await post('complete', { key, uploadId, parts: [named[0], named[1], { partNumber: 11, etag: etags[2] }] }), 400, 'file/invalid-parts-array');
  expectError(assert, await post('complete', { key, uploadId, parts: named.slice(0, 2) }), 400, 'file/invalid-parts-array');
  expectError(assert, await post('complete', { key, uploadId, parts: [named[1], named[0], named[2]] }), 400, 'file/invalid-parts-array');
  const done = await post('complete', { key, uploadId, parts: named });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.key, key);
  assert.deepEqual(await bucketParts(srv), [], 'completion deletes the parts in the bucket');
  expectError(assert, await post('complete', { key, uploadId, parts: named }), 404, 'file/not-found');
  const reg = await req(srv, 'POST', '/v1/files', { ...as(), body: { s3Key: key, originalName: 'movie.bin', mimeType: 'application/octet-stream', size: total } });
  assert.equal(reg.status, 201, reg.text);
  assert.equal(reg.json.size, total);
  const dl = await req(srv, 'POST', `/v1/files/${reg.json.id}/download-url`, as());
  assert.ok(dl.json.url.startsWith(process.env.BASALT_TEST_S3_ENDPOINT), dl.json.url);
  assert.deepEqual(Buffer.from(await (await fetch(dl.json.url)).arrayBuffer()), Buffer.concat(parts));
});

test('direct multipart: a small part before the last is refused; abort deletes the parts in the bucket', { skip: !s3 && 'S3 pass only' }, async () => {
  const post = (p, body) => req(srv, 'POST', '/v1/files/multipart/' + p, { ...as(), body });
  const init = await post('init', { filename: 'small.bin', contentType: 'application/octet-stream', fileSize: 20 });
  const { uploadId, key } = init.json;
  const env = key.split('/')[0]; // keys start with the environment id, as part keys do after _uploads/
  const named = [];
  for (const n of [1, 2]) {
    const u = await post('presigned-url', { key, uploadId, partNumber: n });
    const r = await fetch(u.json.url, { method: 'PUT', body: Buffer.alloc(10, n) });
    assert.equal(r.status, 200);
    named.push({ partNumber: n, etag: r.headers.get('etag') });
  }
  assert.deepEqual((await bucketParts(srv)).sort(), [`${env}/${uploadId}/1`, `${env}/${uploadId}/2`].sort());
  const small = await post('complete', { key, uploadId, parts: named });
  expectError(assert, small, 400, 'file/invalid-parts-array');
  assert.match(small.json.error.message, /every part but the last/);
  const ab = await post('abort', { key, uploadId });
  assert.deepEqual(ab.json, { success: true, key });
  assert.deepEqual(await bucketParts(srv), [], 'abort deletes the parts in the bucket');
  expectError(assert, await post('abort', { key, uploadId }), 404, 'file/not-found');
});

test('direct multipart: an expired upload\'s parts are deleted from the bucket by the next init', { skip: !s3 && 'S3 pass only' }, async () => {
  const dir = tempDir();
  const args = ['--s3-direct-urls', '1', '--multipart-min-part', '1024'];
  try {
    let s = await startServer({ dataDir: dir, keep: true, args });
    const who = { key: s.bootstrap.secretKey };
    const init = await req(s, 'POST', '/v1/files/multipart/init', { ...who, body: { filename: 'old.bin', contentType: 'application/octet-stream', fileSize: 10 } });
    const part = await req(s, 'POST', '/v1/files/multipart/presigned-url', { ...who, body: { key: init.json.key, uploadId: init.json.uploadId, partNumber: 1 } });
    assert.equal((await fetch(part.json.url, { method: 'PUT', body: Buffer.alloc(10, 3) })).status, 200);
    assert.equal((await bucketParts(s)).length, 1);
    await s.stop();
    s = await startServer({ dataDir: dir, keep: true, args, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(25 * 3600e3) } });
    expectError(assert, await req(s, 'GET', `/v1/files/multipart/parts?key=${encodeURIComponent(init.json.key)}&uploadId=${init.json.uploadId}`, who), 404, 'file/not-found');
    assert.equal((await req(s, 'POST', '/v1/files/multipart/init', { ...who, body: { filename: 'new.bin', contentType: 'application/octet-stream', fileSize: 10 } })).status, 200);
    assert.deepEqual(await bucketParts(s), [], 'the expired part is gone from the bucket');
    await s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('direct mode: an object changed through its still-valid S3 upload URL is neither registered nor served', { skip: !s3 && 'S3 pass only' }, async () => {
  // registered, then replaced in the bucket: the bucket accepts the PUT (not enforceable), the server refuses the changed object
  const p = await presign({ filename: 'once.txt', contentType: 'text/plain' });
  assert.equal((await s3put(p.json.url, Buffer.from('first'), 'text/plain')).status, 200);
  const r = await req(srv, 'POST', '/v1/files', { ...as(), body: { s3Key: p.json.key, originalName: 'once.txt', mimeType: 'text/plain', size: 5 } });
  assert.equal(r.status, 201, r.text);
  assert.equal((await s3put(p.json.url, Buffer.from('second, longer'), 'text/plain')).status, 200);
  expectError(assert, await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as()), 409, 'file/object-changed');
  const signed = await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(), body: { visibility: 'public' } });
  assert.equal(signed.status, 200, signed.text);
  const stripped = '/storage/' + p.json.key;
  expectError(assert, await req(srv, 'GET', stripped), 409, 'file/object-changed');
  // read (so recorded) before registration, then replaced: registration refuses it
  const q = await presign({ filename: 'twice.txt', contentType: 'text/plain' });
  assert.equal((await s3put(q.json.url, Buffer.from('a'), 'text/plain')).status, 200);
  assert.equal((await req(srv, 'GET', '/storage/' + q.json.key)).text, 'a');
  assert.equal((await s3put(q.json.url, Buffer.from('bb'), 'text/plain')).status, 200);
  expectError(assert, await req(srv, 'POST', '/v1/files', { ...as(), body: { s3Key: q.json.key, originalName: 'twice.txt', mimeType: 'text/plain', size: 1 } }), 409, 'file/object-changed');
  expectError(assert, await req(srv, 'GET', '/storage/' + q.json.key), 409, 'file/object-changed');
  // image variants: a public image not registered yet is recorded by its first variant, then checked like any read
  const i = await presign({ filename: 'pic.png', contentType: 'image/png', visibility: 'public' });
  assert.equal((await s3put(i.json.url, makePng(8, 8), 'image/png')).status, 200);
  assert.equal((await fetch(`${srv.url}/img/fit-in/4x4/${i.json.key}`)).status, 200);
  assert.equal((await s3put(i.json.url, makePng(9, 9), 'image/png')).status, 200);
  expectError(assert, await req(srv, 'GET', `/img/fit-in/5x5/${i.json.key}`), 409, 'file/object-changed');
});
