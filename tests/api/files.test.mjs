// File storage (client-api.md §4, §6.4, §7.2): presigned uploads to the storage target, the unsigned GET
// of a stripped upload URL, registration, visibility rules, download URLs, ranges and caching, multipart
// uploads, avatars, and the bad input of the storage issue (forged/expired signatures, wrong size or type,
// empty bodies, traversal, a client that stops mid-upload).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test, startServer, req, expectError, tempDir, FILES_DRIVER, onlyOneProcess } from './harness.mjs';

let srv, b, alice, bob;
before(async () => {
  srv = await startServer({ args: ['--multipart-min-part', '1024'] });
  b = srv.bootstrap;
  alice = await signup('alice@x.io');
  bob = await signup('bob@x.io');
});
after(async () => { await srv?.stop(); });

async function signup(email, s = () => srv, boot = () => b) {
  const r = await req(s(), 'POST', '/v1/auth/email/signup', { key: boot().publishableKey, body: { email, password: 'secret1', name: email } });
  assert.equal(r.status, 201, r.text);
  const me = await req(s(), 'GET', '/v1/auth/me', { key: boot().publishableKey, token: r.json.accessToken });
  return { token: r.json.accessToken, id: me.json.id };
}
const as = (u) => ({ key: b.publishableKey, token: u.token });
const secret = () => ({ key: b.secretKey });
const local = (url) => url.replace(/^http:\/\/[^/]+/, ''); // the storage URL as a path on this server
const strip = (url) => local(url).split('?')[0];

async function presign(who, body) {
  return req(srv, 'POST', '/v1/files/presigned-url', { ...who, body });
}
async function put(url, data, type = 'application/octet-stream', headers = {}) {
  return req(srv, 'PUT', local(url), { raw: data, headers: { 'Content-Type': type, ...headers } });
}
async function upload(who, name, data, type, extra = {}) {
  const p = await presign(who, { filename: name, contentType: type, ...extra });
  assert.equal(p.status, 200, p.text);
  const u = await put(p.json.url, data, type);
  assert.equal(u.status, 200, u.text);
  return p.json;
}
const md5 = (buf) => `"${crypto.createHash('md5').update(buf).digest('hex')}"`;

test('files need a signed-in user or the secret key', async () => {
  expectError(assert, await presign({ key: b.publishableKey }, { filename: 'a.txt', contentType: 'text/plain' }), 401, 'common/authentication-required');
  expectError(assert, await req(srv, 'GET', '/v1/files', { key: b.publishableKey }), 401, 'common/authentication-required');
  expectError(assert, await req(srv, 'GET', '/v1/files/file_x', { key: b.publishableKey }), 401, 'common/authentication-required');
});

test('presign → PUT → the stripped URL serves the bytes without any key (§7.4)', async () => {
  const body = Buffer.from('hello storage');
  const p = await presign(as(alice), { filename: 'hello.txt', contentType: 'text/plain' });
  assert.equal(p.status, 200, p.text);
  for (const k of ['url', 'key', 'filename', 'contentType', 'expiresAt']) assert.ok(k in p.json, k);
  assert.match(p.json.key, /^env_[^/]+\/private\/attachments\/obj_[^/]+\/hello\.txt$/);
  assert.ok(Date.parse(p.json.expiresAt) - Date.now() > 14 * 60e3 && Date.parse(p.json.expiresAt) - Date.now() <= 15 * 60e3);
  const u = await put(p.json.url, body, 'text/plain');
  assert.equal(u.status, 200, u.text);
  assert.equal(u.headers.get('etag'), md5(body));
  expectError(assert, await put(p.json.url, body, 'text/plain'), 409, 'file/already-uploaded'); // an upload URL writes once
  const g = await req(srv, 'GET', strip(p.json.url));
  assert.equal(g.status, 200);
  assert.equal(g.text, 'hello storage');
  assert.equal(g.headers.get('content-type'), 'text/plain');
  assert.equal(g.headers.get('etag'), md5(body));
  assert.match(g.headers.get('content-disposition'), /^inline; filename="hello\.txt"/);
  assert.match(g.headers.get('cache-control'), /public/);
  const head = await fetch(srv.url + strip(p.json.url), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(body.length));
});

test('upload URL refusals: forged, altered, expired-looking, wrong size or type, empty; nothing partial appears', async () => {
  const p = await presign(as(alice), { filename: 'a.png', contentType: 'image/png', fileSize: 10 });
  const url = new URL(p.json.url);
  const forged = new URL(url); forged.searchParams.set('signature', 'A'.repeat(43));
  expectError(assert, await put(forged.toString(), Buffer.alloc(10), 'image/png'), 403, 'file/access-denied');
  const bigger = new URL(url); bigger.searchParams.set('size', '1000');
  expectError(assert, await put(bigger.toString(), Buffer.alloc(1000), 'image/png'), 403, 'file/access-denied');
  const other = new URL(url); other.pathname = other.pathname.replace('a.png', 'b.png');
  expectError(assert, await put(other.toString(), Buffer.alloc(10), 'image/png'), 403, 'file/access-denied');
  const noSig = new URL(url); noSig.search = '';
  expectError(assert, await put(noSig.toString(), Buffer.alloc(10), 'image/png'), 403, 'file/access-denied');
  expectError(assert, await put(p.json.url, Buffer.alloc(11), 'image/png'), 413, 'file/too-large');
  expectError(assert, await put(p.json.url, Buffer.alloc(9), 'image/png'), 400, 'file/file-too-small');
  expectError(assert, await put(p.json.url, Buffer.alloc(10), 'text/html'), 400, 'file/invalid-format');
  expectError(assert, await req(srv, 'GET', strip(p.json.url)), 404, 'file/not-found');
  const open = await presign(as(alice), { filename: 'e.bin', contentType: 'application/octet-stream' });
  expectError(assert, await put(open.json.url, Buffer.alloc(0)), 400, 'file/file-too-small');
  expectError(assert, await req(srv, 'GET', strip(open.json.url)), 404, 'file/not-found');
  // the type's limit applies when no size was signed (images: 10 MiB)
  const img = await presign(as(alice), { filename: 'big.jpg', contentType: 'image/jpeg' });
  expectError(assert, await put(img.json.url, Buffer.alloc(10 * 1024 * 1024 + 1), 'image/jpeg'), 413, 'file/too-large');
});

test('presign validation: names, types, sizes, visibility', async () => {
  const cases = [
    [{ contentType: 'text/plain' }, 400, 'file/invalid-name'],
    [{ filename: 'a/b.txt', contentType: 'text/plain' }, 400, 'file/invalid-name'],
    [{ filename: '..', contentType: 'text/plain' }, 400, 'file/invalid-name'],
    [{ filename: 'x\u0001y', contentType: 'text/plain' }, 400, 'file/invalid-name'],
    [{ filename: 'n'.repeat(256), contentType: 'text/plain' }, 400, 'file/invalid-name'],
    [{ filename: 'a.txt' }, 400, 'common/invalid-parameters'],
    [{ filename: 'a.txt', contentType: 'text/' + 'x'.repeat(100) }, 400, 'file/mime-type-too-long'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg', fileSize: 11 * 1024 * 1024 }, 400, 'file/file-too-large'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg', fileSize: -1 }, 400, 'file/size-negative'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg', visibility: 'secret' }, 400, 'common/invalid-parameters'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg', category: 'weird' }, 400, 'common/invalid-parameters'],
  ];
  for (const [body, status, code] of cases) expectError(assert, await presign(as(alice), body), status, code);
  // unicode and odd characters are kept in the record but made safe in the key
  const p = await presign(as(alice), { filename: '..été résumé (1).pdf', contentType: 'application/pdf' });
  assert.equal(p.status, 200, p.text);
  assert.match(p.json.key.split('/').pop(), /^_[A-Za-z0-9._-]+\.pdf$/);
  assert.equal(p.json.filename, '..été résumé (1).pdf');
});

test('registration, reads and the access rules of §4.8', async () => {
  const data = Buffer.from('private bytes');
  const up = await upload(as(alice), 'p.txt', data, 'text/plain');
  const reg = (who, body) => req(srv, 'POST', '/v1/files', { ...who, body });
  expectError(assert, await reg(as(bob), { s3Key: up.key, originalName: 'p.txt', mimeType: 'text/plain', size: data.length }), 403, 'file/access-denied');
  expectError(assert, await reg(as(alice), { s3Key: up.key.replace('obj_', 'obj_x'), originalName: 'p.txt', mimeType: 'text/plain', size: 1 }), 400, 'file/invalid-path');
  expectError(assert, await reg(as(alice), { s3Key: 'k'.repeat(501), originalName: 'p.txt', mimeType: 'text/plain', size: 1 }), 400, 'file/s3-key-too-long');
  expectError(assert, await reg(as(alice), { s3Key: up.key, originalName: 'o'.repeat(256), mimeType: 'text/plain', size: 1 }), 400, 'file/original-name-too-long');
  expectError(assert, await reg(as(alice), { s3Key: up.key, originalName: 'p.txt', mimeType: 'm'.repeat(101), size: 1 }), 400, 'file/mime-type-too-long');
  expectError(assert, await reg(as(alice), { s3Key: up.key, originalName: 'p.txt', mimeType: 'text/plain', size: -5 }), 400, 'file/size-negative');
  const r = await reg(as(alice), { s3Key: up.key, originalName: 'p.txt', mimeType: 'text/plain', size: data.length, metadata: { alt: 'a', custom: { secret: 1 } } });
  assert.equal(r.status, 201, r.text);
  for (const k of ['id', 's3Key', 'key', 'originalName', 'mimeType', 'size', 'visibility', 'ownerId', 'ownerType', 'metadata', 'createdAt', 'updatedAt']) assert.ok(k in r.json, k);
  assert.equal(r.json.visibility, 'private');
  assert.equal(r.json.ownerId, alice.id);
  assert.equal(r.json.key, r.json.s3Key);
  expectError(assert, await reg(as(alice), { s3Key: up.key, originalName: 'p.txt', mimeType: 'text/plain', size: 1 }), 409, 'file/s3-key-already-exists');
  // a registered private file: no unsigned GET; the owner's download URL works; others get 403
  expectError(assert, await req(srv, 'GET', strip(up.url)), 403, 'file/access-denied');
  expectError(assert, await req(srv, 'GET', `/v1/files/${r.json.id}`, as(bob)), 403, 'file/access-denied');
  expectError(assert, await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as(bob)), 403, 'file/access-denied');
  const dl = await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as(alice));
  assert.equal(dl.status, 200, dl.text);
  assert.deepEqual(Object.keys(dl.json).sort(), ['contentType', 'expiresAt', 'filename', 'size', 'url']);
  assert.ok(Date.parse(dl.json.expiresAt) - Date.now() > 59 * 60e3);
  const got = await req(srv, 'GET', local(dl.json.url));
  assert.equal(got.text, 'private bytes');
  assert.match(got.headers.get('cache-control'), /private/);
  const tampered = new URL(dl.json.url); tampered.searchParams.set('expires', String(Number(tampered.searchParams.get('expires')) + 3600));
  expectError(assert, await req(srv, 'GET', local(tampered.toString())), 403, 'file/access-denied');
  assert.equal((await req(srv, 'GET', `/v1/files/${r.json.id}/download-url`, as(alice))).status, 200, 'GET works too');
  // protected: other users may read, with public fields only
  const patched = await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(alice), body: { visibility: 'protected', metadata: { description: 'd' } } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.json.metadata, { alt: 'a', custom: { secret: 1 }, description: 'd' }, 'metadata merges shallowly');
  const seen = await req(srv, 'GET', `/v1/files/${r.json.id}`, as(bob));
  assert.equal(seen.status, 200);
  assert.equal(seen.json.ownerId, undefined);
  assert.equal(seen.json.metadata.custom, undefined);
  expectError(assert, await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(bob), body: { originalName: 'mine.txt' } }), 403, 'file/access-denied');
  expectError(assert, await req(srv, 'DELETE', `/v1/files/${r.json.id}`, as(bob)), 403, 'file/access-denied');
  expectError(assert, await req(srv, 'GET', strip(up.url)), 403, 'file/access-denied', 'protected is not public');
  // shared: only the listed users
  await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(alice), body: { visibility: 'shared', sharedWith: [] } });
  expectError(assert, await req(srv, 'GET', `/v1/files/${r.json.id}`, as(bob)), 403, 'file/access-denied');
  await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(alice), body: { sharedWith: [bob.id] } });
  assert.equal((await req(srv, 'GET', `/v1/files/${r.json.id}`, as(bob))).status, 200);
  // public: the download URL is the permanent unsigned one
  await req(srv, 'PATCH', `/v1/files/${r.json.id}`, { ...as(alice), body: { visibility: 'public' } });
  const pub = await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as(bob));
  assert.equal(pub.json.expiresAt, null);
  assert.ok(!pub.json.url.includes('?'));
  assert.equal((await req(srv, 'GET', strip(up.url))).status, 200);
  // the secret key may do everything; delete removes the bytes
  assert.equal((await req(srv, 'GET', `/v1/files/${r.json.id}`, secret())).json.ownerId, alice.id);
  assert.equal((await req(srv, 'DELETE', `/v1/files/${r.json.id}`, as(alice))).status, 200);
  expectError(assert, await req(srv, 'GET', `/v1/files/${r.json.id}`, as(alice)), 404, 'file/not-found');
  expectError(assert, await req(srv, 'GET', strip(up.url)), 404, 'file/not-found');
});

test('list: own + public + protected, filters, search, sort, pagination', async () => {
  const s = await startServer();
  try {
    const boot = s.bootstrap;
    const [c, d] = [await signup('c@x.io', () => s, () => boot), await signup('d@x.io', () => s, () => boot)];
    const mk = async (who, name, vis, type = 'text/plain', bucket) => {
      const p = await req(s, 'POST', '/v1/files/presigned-url', { key: boot.publishableKey, token: who.token, body: { filename: name, contentType: type } });
      await req(s, 'PUT', local(p.json.url), { raw: Buffer.from(name), headers: { 'Content-Type': type } });
      const r = await req(s, 'POST', '/v1/files', { key: boot.publishableKey, token: who.token,
        body: { s3Key: p.json.key, originalName: name, mimeType: type, size: name.length, visibility: vis, ...(bucket ? { bucket } : {}) } });
      assert.equal(r.status, 201, r.text);
    };
    await mk(c, 'c-private.txt', 'private');
    await mk(c, 'c-public.png', 'public', 'image/png', 'images');
    await mk(c, 'c-protected.txt', 'protected');
    await mk(d, 'd-private.txt', 'private');
    await mk(d, 'D-Report.pdf', 'public', 'application/pdf');
    const list = async (who, q = '') => req(s, 'GET', '/v1/files' + q, who ? { key: boot.publishableKey, token: who.token } : { key: boot.secretKey });
    const names = (r) => r.json.items.map((f) => f.originalName).sort();
    assert.deepEqual(names(await list(c)), ['D-Report.pdf', 'c-private.txt', 'c-protected.txt', 'c-public.png']);
    assert.deepEqual(names(await list(d)), ['D-Report.pdf', 'c-protected.txt', 'c-public.png', 'd-private.txt']);
    assert.equal((await list(null)).json.items.length, 5, 'the secret key sees every file');
    assert.deepEqual(names(await list(c, '?visibility=public')), ['D-Report.pdf', 'c-public.png']);
    assert.deepEqual(names(await list(c, '?mimeType=image/png')), ['c-public.png']);
    assert.deepEqual(names(await list(c, '?bucket=images')), ['c-public.png']);
    assert.deepEqual(names(await list(c, '?search=report')), ['D-Report.pdf']);
    assert.deepEqual(names(await list(c, `?ownerId=${d.id}`)), ['D-Report.pdf']);
    const sorted = await list(c, '?sortBy=originalName&sortDirection=asc&limit=2&page=2');
    assert.deepEqual(sorted.json.items.map((f) => f.originalName), ['c-protected.txt', 'c-public.png']);
    const pg = sorted.json.pagination;
    assert.deepEqual([pg.total, pg.page, pg.limit, pg.totalPages, pg.hasNext, pg.hasPrev, pg.hasNextPage, pg.hasPrevPage], [4, 2, 2, 2, false, true, false, true]);
    assert.equal((await list(c, '?limit=500')).json.pagination.limit, 100);
  } finally {
    await s.stop();
  }
});

test('ranges, conditional requests, traversal', async () => {
  const data = Buffer.from('0123456789');
  const up = await upload(as(alice), 'r.bin', data, 'application/octet-stream');
  const path0 = strip(up.url);
  const r1 = await req(srv, 'GET', path0, { headers: { Range: 'bytes=2-5' } });
  assert.equal(r1.status, 206);
  assert.equal(r1.text, '2345');
  assert.equal(r1.headers.get('content-range'), 'bytes 2-5/10');
  assert.equal((await req(srv, 'GET', path0, { headers: { Range: 'bytes=-3' } })).text, '789');
  assert.equal((await req(srv, 'GET', path0, { headers: { Range: 'bytes=7-' } })).text, '789');
  const bad = await req(srv, 'GET', path0, { headers: { Range: 'bytes=20-30' } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers.get('content-range'), 'bytes */10');
  const etag = (await req(srv, 'GET', path0)).headers.get('etag');
  const cond = await req(srv, 'GET', path0, { headers: { 'If-None-Match': etag } });
  assert.equal(cond.status, 304);
  assert.equal(cond.text, '');
  for (const p of ['/storage/../control.db', '/storage/%2e%2e/control.db', `/storage/${b.environment}/../../master.key`,
    '/storage/env_x/a%00b', '/storage/env_x/.hidden/x', '/storage/' + 'a/'.repeat(300) + 'x']) {
    const r = await req(srv, 'GET', p);
    assert.ok([400, 404].includes(r.status), `${p}: ${r.status}`);
    assert.ok(!r.text.includes('CREATE TABLE'), 'nothing outside the store leaks');
  }
});

test('a client that stops mid-upload leaves nothing visible and no temporary file', async () => {
  const p = await presign(as(alice), { filename: 'cut.bin', contentType: 'application/octet-stream', fileSize: 1000000 });
  const url = new URL(p.json.url);
  await new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1', () => {
      sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n`);
      sock.write(Buffer.alloc(300000, 7), () => setTimeout(() => { sock.destroy(); resolve(); }, 100));
    });
    sock.on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 300));
  expectError(assert, await req(srv, 'GET', strip(p.json.url)), 404, 'file/not-found');
  if (FILES_DRIVER === 'fs') assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, 'files', 'tmp')), []);
});

test('multipart: init, part URLs, list, complete with ETags, abort; errors', async () => {
  const parts = [Buffer.alloc(2048, 1), Buffer.alloc(2048, 2), Buffer.from('tail')];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const post = (p, body, who = as(alice)) => req(srv, 'POST', '/v1/files/multipart/' + p, { ...who, body });
  expectError(assert, await post('init', { filename: 'm.bin', contentType: 'application/octet-stream' }), 400, 'common/invalid-parameters');
  const init = await post('init', { filename: 'm.bin', contentType: 'application/octet-stream', fileSize: total });
  assert.equal(init.status, 200, init.text);
  const { uploadId, key } = init.json;
  assert.deepEqual(Object.keys(init.json).sort(), ['filename', 'key', 'uploadId']);
  expectError(assert, await post('presigned-url', { key, uploadId, partNumber: 0 }), 400, 'file/invalid-part-number-range');
  expectError(assert, await post('presigned-url', { key, uploadId, partNumber: 10001 }), 400, 'file/invalid-part-number-range');
  expectError(assert, await post('presigned-url', { key, uploadId, partNumber: 1 }, as(bob)), 403, 'file/access-denied');
  const etags = [];
  for (let i = 0; i < parts.length; i++) {
    const u = await post('presigned-url', { key, uploadId, partNumber: i + 1 });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.partNumber, i + 1);
    const r = await put(u.json.url, parts[i]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), md5(parts[i]));
    etags.push(r.headers.get('etag'));
  }
  const listed = await req(srv, 'GET', `/v1/files/multipart/parts?key=${encodeURIComponent(key)}&uploadId=${uploadId}`, as(alice));
  assert.deepEqual(listed.json.parts.map((p) => [p.partNumber, p.etag, p.size]), etags.map((e, i) => [i + 1, e, parts[i].length]));
  expectError(assert, await req(srv, 'GET', strip(`/storage/${key}`)), 404, 'file/not-found');
  const parts3 = etags.map((etag, i) => ({ partNumber: i + 1, etag }));
  expectError(assert, await post('complete', { key, uploadId, parts: [] }), 400, 'file/invalid-parts-array');
  expectError(assert, await post('complete', { key, uploadId, parts: [parts3[1], parts3[0], parts3[2]] }), 400, 'file/invalid-parts-array');
  expectError(assert, await post('complete', { key, uploadId, parts: [{ ...parts3[0], etag: '"nope"' }, parts3[1], parts3[2]] }), 400, 'file/invalid-parts-array');
  expectError(assert, await post('complete', { key, uploadId, parts: parts3.slice(0, 2) }), 400, 'file/invalid-parts-array');
  const done = await post('complete', { key, uploadId, parts: parts3 });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.key, key);
  const whole = await fetch(srv.url + local(done.json.location));
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), Buffer.concat(parts));
  assert.match(whole.headers.get('etag'), /^"[0-9a-f]{32}-3"$/);
  expectError(assert, await post('complete', { key, uploadId, parts: parts3 }), 404, 'file/not-found');
  // a part smaller than the minimum, then abort
  const i2 = await post('init', { filename: 'n.bin', contentType: 'application/octet-stream', fileSize: 20 });
  const small = [];
  for (const n of [1, 2]) {
    const u = await post('presigned-url', { key: i2.json.key, uploadId: i2.json.uploadId, partNumber: n });
    small.push({ partNumber: n, etag: (await put(u.json.url, Buffer.alloc(10))).headers.get('etag') });
  }
  expectError(assert, await post('complete', { key: i2.json.key, uploadId: i2.json.uploadId, parts: small }), 400, 'file/invalid-parts-array');
  const ab = await post('abort', { key: i2.json.key, uploadId: i2.json.uploadId });
  assert.deepEqual(ab.json, { success: true, key: i2.json.key });
  expectError(assert, await post('abort', { key: i2.json.key, uploadId: i2.json.uploadId }), 404, 'file/not-found');
  const left = FILES_DRIVER === 'fs' && fs.existsSync(path.join(srv.dataDir, 'files', 'objects', '_uploads'))
    ? fs.readdirSync(path.join(srv.dataDir, 'files', 'objects', '_uploads'), { recursive: true }) : [];
  assert.deepEqual(left, [], 'no part is left behind');
});

test('avatars: upload URL from a file name only, PATCH sets a public image URL, DELETE clears it', async () => {
  const who = as(alice);
  const u = await req(srv, 'POST', `/v1/users/${alice.id}/avatar/upload-url`, { ...who, body: { filename: 'me.JPG' } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.url, u.json.uploadUrl);
  assert.equal(u.json.contentType, 'image/jpeg');
  for (const k of ['url', 'uploadUrl', 'key', 'expiresAt']) assert.ok(k in u.json, k);
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
  assert.equal((await put(u.json.url, jpeg, 'image/jpeg')).status, 200);
  expectError(assert, await req(srv, 'POST', `/v1/users/${alice.id}/avatar/upload-url`, { ...who, body: { filename: 'notes.txt' } }), 400, 'file/invalid-format');
  expectError(assert, await req(srv, 'POST', `/v1/users/${alice.id}/avatar/upload-url`, { ...as(bob), body: { filename: 'x.png' } }), 403, 'user/forbidden');
  expectError(assert, await req(srv, 'PATCH', `/v1/users/${alice.id}/avatar`, { ...who, body: { s3Key: 'env_x/public/avatars/obj_1/a.jpg' } }), 400, 'file/invalid-path');
  const set = await req(srv, 'PATCH', `/v1/users/${alice.id}/avatar`, { ...who, body: { s3Key: u.json.key } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.id, alice.id);
  assert.equal(set.json.image, strip(u.json.url).replace(/^/, srv.url));
  const img = await req(srv, 'GET', strip(set.json.image));
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/jpeg');
  assert.equal((await req(srv, 'GET', '/v1/auth/me', who)).json.image, set.json.image);
  const del = await req(srv, 'DELETE', `/v1/users/${alice.id}/avatar`, who);
  assert.equal(del.status, 200);
  assert.equal((await req(srv, 'GET', '/v1/auth/me', who)).json.image, null);
});

test('strict public reads and expired upload URLs', async () => {
  const dir = tempDir();
  try {
    let s = await startServer({ dataDir: dir, keep: true, args: ['--storage-public-read', 'strict'] });
    const boot = s.bootstrap;
    const user = await signup('strict@x.io', () => s, () => boot);
    const who = { key: boot.publishableKey, token: user.token };
    const priv = await req(s, 'POST', '/v1/files/presigned-url', { ...who, body: { filename: 'a.txt', contentType: 'text/plain' } });
    await req(s, 'PUT', local(priv.json.url), { raw: 'x', headers: { 'Content-Type': 'text/plain' } });
    expectError(assert, await req(s, 'GET', strip(priv.json.url)), 403, 'file/access-denied');
    const pub = await req(s, 'POST', '/v1/files/presigned-url', { ...who, body: { filename: 'b.txt', contentType: 'text/plain', visibility: 'public' } });
    await req(s, 'PUT', local(pub.json.url), { raw: 'y', headers: { 'Content-Type': 'text/plain' } });
    assert.equal((await req(s, 'GET', strip(pub.json.url))).text, 'y');
    const later = await req(s, 'POST', '/v1/files/presigned-url', { ...who, body: { filename: 'c.txt', contentType: 'text/plain' } });
    await s.stop();
    s = await startServer({ dataDir: dir, keep: true, env: { BASALT_TEST_CLOCK_OFFSET_MS: String(16 * 60e3) } });
    const late = await req(s, 'PUT', local(later.json.url), { raw: 'z', headers: { 'Content-Type': 'text/plain' } });
    expectError(assert, late, 403, 'file/access-denied');
    assert.match(late.json.error.message, /expired/);
    await s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('accounting: stored bytes, uploads, downloads and bytes served per environment', onlyOneProcess('the upload and download counters are the serving process\'s own since it started'), async () => {
  const statsPath = `/admin/v1/projects/${b.projectId}/environments/dev/storage`;
  const before = (await req(srv, 'GET', statsPath, { token: b.operatorToken })).json;
  for (const k of ['objects', 'bytesStored', 'uploads', 'downloads', 'bytesIn', 'bytesOut']) assert.equal(typeof before[k], 'number', k);
  assert.equal(before.driver, FILES_DRIVER);
  const data = Buffer.alloc(5000, 9);
  const up = await upload(as(bob), 'acct.bin', data, 'application/octet-stream');
  await req(srv, 'GET', strip(up.url));
  await req(srv, 'GET', strip(up.url), { headers: { Range: 'bytes=0-99' } });
  await fetch(srv.url + strip(up.url), { method: 'HEAD' });
  const after = (await req(srv, 'GET', statsPath, { token: b.operatorToken })).json;
  assert.equal(after.objects - before.objects, 1);
  assert.equal(after.bytesStored - before.bytesStored, 5000);
  assert.equal(after.uploads - before.uploads, 1);
  assert.equal(after.bytesIn - before.bytesIn, 5000);
  assert.equal(after.downloads - before.downloads, 2, 'HEAD is not a download');
  assert.equal(after.bytesOut - before.bytesOut, 5100);
  expectError(assert, await req(srv, 'GET', statsPath, { key: b.publishableKey }), 401, 'auth/unauthorized');
});

test('multipart uploads left unfinished expire after 24 hours and their parts are deleted', async () => {
  const dir = tempDir();
  try {
    let s = await startServer({ dataDir: dir, keep: true, args: ['--multipart-min-part', '1024'] });
    const boot = s.bootstrap;
    const who = { key: boot.secretKey };
    const init = await req(s, 'POST', '/v1/files/multipart/init', { ...who, body: { filename: 'old.bin', contentType: 'application/octet-stream', fileSize: 10 } });
    const part = await req(s, 'POST', '/v1/files/multipart/presigned-url', { ...who, body: { key: init.json.key, uploadId: init.json.uploadId, partNumber: 1 } });
    const etag = (await req(s, 'PUT', local(part.json.url), { raw: Buffer.alloc(10, 3), headers: { 'Content-Type': 'application/octet-stream' } })).headers.get('etag');
    const stats = async () => (await req(s, 'GET', `/admin/v1/projects/${boot.projectId}/environments/dev/storage`, { token: boot.operatorToken })).json;
    await s.stop();
    s = await startServer({ dataDir: dir, keep: true, args: ['--multipart-min-part', '1024'], env: { BASALT_TEST_CLOCK_OFFSET_MS: String(25 * 3600e3) } });
    const done = await req(s, 'POST', '/v1/files/multipart/complete', { ...who, body: { key: init.json.key, uploadId: init.json.uploadId, parts: [{ partNumber: 1, etag }] } });
    expectError(assert, done, 404, 'file/not-found');
    assert.equal((await req(s, 'POST', '/v1/files/multipart/init', { ...who, body: { filename: 'new.bin', contentType: 'application/octet-stream', fileSize: 10 } })).status, 200);
    if (FILES_DRIVER === 'fs') {
      const uploads = path.join(dir, 'files', 'objects', '_uploads');
      assert.deepEqual(fs.existsSync(uploads) ? fs.readdirSync(uploads, { recursive: true }) : [], [], 'the expired part is gone');
    }
    assert.equal((await stats()).objects, 0, 'no object appeared');
    await s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('active content (HTML, SVG, XML, scripts) is served as an attachment in a sandbox; passive types inline; nosniff everywhere', async () => {
  const html = Buffer.from('<script>alert(document.domain)</script>');
  const active = [['page.html', 'text/html'], ['page.htm', 'TEXT/HTML; charset=utf-8'], ['pic.svg', 'image/svg+xml'],
    ['feed.xml', 'application/xml'], ['t.xml', 'text/xml'], ['x.xhtml', 'application/xhtml+xml'], ['a.atom', 'application/atom+xml'],
    ['s.js', 'text/javascript'], ['odd.bin', 'application/x-unknown-thing']];
  for (const [name, type] of active) {
    const up = await upload(as(alice), name, html, type, { visibility: 'public' });
    for (const method of ['GET', 'HEAD']) {
      const g = await fetch(srv.url + strip(up.url), { method });
      assert.equal(g.status, 200, `${type} ${method}`);
      assert.match(g.headers.get('content-disposition'), /^attachment; filename=/, type);
      assert.match(g.headers.get('content-security-policy') ?? '', /(^|; *)sandbox(;|$)/, type);
      assert.match(g.headers.get('content-security-policy') ?? '', /default-src 'none'/, type);
      assert.equal(g.headers.get('x-content-type-options'), 'nosniff', type);
    }
  }
  // a registered file is served with its record's type: registering text/html makes it active too
  const disguised = await upload(as(alice), 'img.png', html, 'image/png', { visibility: 'public' });
  const reg = await req(srv, 'POST', '/v1/files', { ...as(alice), body: { s3Key: disguised.key, originalName: 'x.html', mimeType: 'text/html', size: 1, visibility: 'public' } });
  assert.equal(reg.status, 201, reg.text);
  const dg = await req(srv, 'GET', strip(disguised.url));
  assert.match(dg.headers.get('content-disposition'), /^attachment/);
  assert.match(dg.headers.get('content-security-policy') ?? '', /sandbox/);
  for (const [name, type] of [['p.png', 'image/png'], ['v.mp4', 'video/mp4'], ['t.txt', 'text/plain'], ['d.pdf', 'application/pdf']]) {
    const up = await upload(as(alice), name, Buffer.from('passive'), type, { visibility: 'public' });
    const g = await req(srv, 'GET', strip(up.url));
    assert.match(g.headers.get('content-disposition'), /^inline; filename=/, type);
    assert.equal(g.headers.get('x-content-type-options'), 'nosniff', type);
  }
  // refusals and 304s carry nosniff too
  expectError(assert, await req(srv, 'GET', '/storage/env_x/public/attachments/obj_1/none.txt'), 404, 'file/not-found');
  assert.equal((await req(srv, 'GET', '/storage/env_x/public/attachments/obj_1/none.txt')).headers.get('x-content-type-options'), 'nosniff');
});

test('contentType and mimeType with control characters are refused (no header injection)', async () => {
  for (const contentType of ['text/html\r\nX-Evil: 1', 'text/plain\n', 'image/png\u0000', 'text/\tplain', 'text/pl\u00e4in', 'text/plain\u007f']) {
    expectError(assert, await presign(as(alice), { filename: 'a.txt', contentType }), 400, 'common/invalid-parameters');
    expectError(assert, await req(srv, 'POST', '/v1/files/multipart/init', { ...as(alice), body: { filename: 'a.bin', contentType, fileSize: 10 } }), 400, 'common/invalid-parameters');
  }
  expectError(assert, await req(srv, 'POST', `/v1/users/${alice.id}/avatar/upload-url`, { ...as(alice), body: { filename: 'a.png', contentType: 'image/png\r\nX: 1' } }), 400, 'file/invalid-format');
  assert.equal((await presign(as(alice), { filename: 'a.txt', contentType: 'text/plain; charset=utf-8' })).status, 200, 'parameters are fine');
  const up = await upload(as(alice), 'ok.txt', Buffer.from('x'), 'text/plain');
  expectError(assert, await req(srv, 'POST', '/v1/files', { ...as(alice), body: { s3Key: up.key, originalName: 'ok.txt', mimeType: 'text/plain\r\nSet-Cookie: a=b', size: 1 } }), 400, 'common/invalid-parameters');
});

test('a signed-out access token gets 401 on the file surface, like on /v1/users', async () => {
  const carol = await signup('carol-signout@x.io');
  const p = await presign(as(carol), { filename: 'a.txt', contentType: 'text/plain' });
  assert.equal(p.status, 200);
  assert.equal((await put(p.json.url, Buffer.from('mine'), 'text/plain')).status, 200);
  const f = await req(srv, 'POST', '/v1/files', { ...as(carol), body: { s3Key: p.json.key, originalName: 'a.txt', mimeType: 'text/plain', size: 4 } });
  assert.equal(f.status, 201, f.text);
  const out = await req(srv, 'POST', '/v1/auth/signout', as(carol));
  assert.equal(out.status, 200, out.text);
  expectError(assert, await req(srv, 'GET', `/v1/users/${carol.id}`, as(carol)), 401, 'auth/invalid-token');
  expectError(assert, await presign(as(carol), { filename: 'a.txt', contentType: 'text/plain' }), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'GET', '/v1/files', as(carol)), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'GET', `/v1/files/${f.json.id}`, as(carol)), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'POST', `/v1/files/${f.json.id}/download-url`, as(carol)), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'DELETE', `/v1/files/${f.json.id}`, as(carol)), 401, 'auth/invalid-token');
  assert.equal((await req(srv, 'GET', `/v1/files/${f.json.id}`, { key: b.secretKey })).status, 200, 'the file is still there');
  expectError(assert, await req(srv, 'POST', '/v1/files/multipart/init', { ...as(carol), body: { filename: 'a.bin', contentType: 'application/octet-stream', fileSize: 10 } }), 401, 'auth/invalid-token');
  expectError(assert, await req(srv, 'POST', `/v1/users/${carol.id}/avatar/upload-url`, { ...as(carol), body: { filename: 'a.png' } }), 401, 'auth/invalid-token');
});

test('an upload URL writes once: no second PUT, none after registration, completion or abort', async () => {
  const p = await presign(as(alice), { filename: 'once.txt', contentType: 'text/plain' });
  assert.equal((await put(p.json.url, Buffer.from('first'), 'text/plain')).status, 200);
  expectError(assert, await put(p.json.url, Buffer.from('second, longer'), 'text/plain'), 409, 'file/already-uploaded');
  const r = await req(srv, 'POST', '/v1/files', { ...as(alice), body: { s3Key: p.json.key, originalName: 'once.txt', mimeType: 'text/plain', size: 5 } });
  assert.equal(r.status, 201, r.text);
  expectError(assert, await put(p.json.url, Buffer.from('replaced after registration'), 'text/plain'), 409, 'file/already-uploaded');
  const dl = await req(srv, 'POST', `/v1/files/${r.json.id}/download-url`, as(alice));
  const got = await req(srv, 'GET', local(dl.json.url));
  assert.equal(got.text, 'first', 'the registered bytes are untouched');
  assert.equal(got.headers.get('content-length'), String((await req(srv, 'GET', `/v1/files/${r.json.id}`, as(alice))).json.size));
  // multipart: a part URL of an aborted upload, and of a completed one, answers 404 and stores nothing
  const post = (path0, body) => req(srv, 'POST', '/v1/files/multipart/' + path0, { ...as(alice), body });
  const ab = await post('init', { filename: 'ab.bin', contentType: 'application/octet-stream', fileSize: 10 });
  const abUrl = await post('presigned-url', { key: ab.json.key, uploadId: ab.json.uploadId, partNumber: 1 });
  assert.equal((await post('abort', { key: ab.json.key, uploadId: ab.json.uploadId })).status, 200);
  expectError(assert, await put(abUrl.json.url, Buffer.alloc(10, 5)), 404, 'file/not-found');
  if (FILES_DRIVER === 'fs') {
    const uploads = path.join(srv.dataDir, 'files', 'objects', '_uploads');
    const left = fs.existsSync(uploads) ? fs.readdirSync(uploads, { recursive: true }).filter((f) => f.includes(ab.json.uploadId)) : [];
    assert.deepEqual(left, [], 'no part of the aborted upload was stored');
  }
  const done = await post('init', { filename: 'done.bin', contentType: 'application/octet-stream', fileSize: 10 });
  const u1 = await post('presigned-url', { key: done.json.key, uploadId: done.json.uploadId, partNumber: 1 });
  const u2 = await post('presigned-url', { key: done.json.key, uploadId: done.json.uploadId, partNumber: 2 });
  const etag = (await put(u1.json.url, Buffer.alloc(10, 6))).headers.get('etag');
  assert.equal((await put(u1.json.url, Buffer.alloc(10, 7))).status, 200, 'a part may be replaced while its upload is open');
  const etag2 = md5(Buffer.alloc(10, 7));
  assert.notEqual(etag, etag2);
  assert.equal((await post('complete', { key: done.json.key, uploadId: done.json.uploadId, parts: [{ partNumber: 1, etag: etag2 }] })).status, 200);
  expectError(assert, await put(u1.json.url, Buffer.alloc(10, 8)), 404, 'file/not-found');
  expectError(assert, await put(u2.json.url, Buffer.alloc(3, 8)), 404, 'file/not-found');
  assert.deepEqual(Buffer.from(await (await fetch(srv.url + '/storage/' + done.json.key)).arrayBuffer()), Buffer.alloc(10, 7));
});

test('two concurrent PUTs of one upload URL: one writes, the other is 409 file/already-uploaded', async () => {
  const size = 200000;
  const p = await presign(as(alice), { filename: 'race.bin', contentType: 'application/octet-stream', fileSize: size });
  const url = new URL(p.json.url);
  const open = (fill) => new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1', () => {
      sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
      sock.write(Buffer.alloc(size / 2, fill), () => resolve(sock));
    });
    sock.on('error', reject);
  });
  const status = (sock) => new Promise((resolve) => {
    let text = '';
    sock.on('data', (d) => { text += d.toString('latin1'); if (text.includes('\r\n\r\n')) { sock.destroy(); resolve(Number(text.split(' ')[1])); } });
  });
  const [one, two] = [await open(1), await open(2)];
  await new Promise((r) => setTimeout(r, 200)); // both began while nothing had the key
  const answers = [status(one), status(two)];
  two.write(Buffer.alloc(size / 2, 2));
  await new Promise((r) => setTimeout(r, 100));
  one.write(Buffer.alloc(size / 2, 1));
  assert.deepEqual((await Promise.all(answers)).sort(), [200, 409]);
  const got = Buffer.from(await (await fetch(srv.url + strip(p.json.url))).arrayBuffer());
  assert.deepEqual(got, Buffer.alloc(size, 2), 'the first whole upload won, and only it');
});
