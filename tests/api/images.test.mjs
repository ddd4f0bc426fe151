// Image variants (client-api.md §4.9) through libvips: fit-in, cover crops (centre and smart), quality,
// format and blur filters, WebP by Accept, the variant cache, public-only serving, decompression bombs and
// non-image input.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, startServer, req, expectError } from './harness.mjs';
import { makePng, imageSize } from './png.mjs';

let srv, b, user;
before(async () => {
  srv = await startServer({ args: ['--image-max-pixels', '4000000'] });
  b = srv.bootstrap;
  const up = await req(srv, 'POST', '/v1/auth/email/signup', { key: b.publishableKey, body: { email: 'img@x.io', password: 'secret1', name: 'I' } });
  user = { key: b.publishableKey, token: up.json.accessToken };
});
after(async () => { await srv?.stop(); });

const local = (url) => url.replace(/^http:\/\/[^/]+/, '');
async function store(name, bytes, type, body = { visibility: 'public' }) {
  const p = await req(srv, 'POST', '/v1/files/presigned-url', { ...user, body: { filename: name, contentType: type, ...body } });
  assert.equal(p.status, 200, p.text);
  const put = await req(srv, 'PUT', local(p.json.url), { raw: bytes, headers: { 'Content-Type': type } });
  assert.equal(put.status, 200, put.text);
  return p.json.key;
}
async function image(p, headers = {}) {
  const res = await fetch(srv.url + '/img/' + p, { headers });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buf, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(buf) : null };
}

// a 400×200 picture: left half red, right half blue
const wide = makePng(400, 200, (x) => (x < 200 ? [220, 20, 20] : [20, 20, 220]));

test('fit-in keeps the aspect ratio, crops cover exactly, formats and WebP negotiation', async () => {
  const key = await store('wide.png', wide, 'image/png');
  const fit = await image(`fit-in/100x100/${key}`);
  assert.equal(fit.status, 200, fit.buf.toString());
  assert.equal(fit.headers.get('content-type'), 'image/png', 'without Accept: image/webp, a PNG stays a PNG');
  assert.deepEqual(imageSize(fit.buf), [100, 50]);
  assert.equal(fit.headers.get('vary'), 'Accept');
  const auto = await image(`fit-in/0x50/${key}`);
  assert.deepEqual(imageSize(auto.buf), [100, 50], '0 means: from the other side');
  const crop = await image(`80x80/${key}`);
  assert.deepEqual(imageSize(crop.buf), [80, 80]);
  const smart = await image(`80x40/smart/${key}`);
  assert.deepEqual(imageSize(smart.buf), [80, 40]);
  const webp = await image(`fit-in/100x100/${key}`, { Accept: 'image/avif,image/webp,*/*' });
  assert.equal(webp.headers.get('content-type'), 'image/webp');
  assert.deepEqual(imageSize(webp.buf), [100, 50]);
  const jpeg = await image(`fit-in/100x100/filters:quality(50):format(jpeg)/${key}`, { Accept: 'image/webp' });
  assert.equal(jpeg.headers.get('content-type'), 'image/jpeg', 'an explicit format wins over Accept');
  assert.deepEqual(imageSize(jpeg.buf), [100, 50]);
  const better = await image(`fit-in/100x100/filters:quality(95):format(jpeg)/${key}`);
  assert.ok(better.buf.length > jpeg.buf.length, 'quality changes the output');
  const blurred = await image(`filters:blur(3):format(png)/${key}`);
  assert.deepEqual(imageSize(blurred.buf), [400, 200], 'no size: the original size');
  const big = await image(`fit-in/4000x4000/${key}`);
  assert.deepEqual(imageSize(big.buf), [400, 200], 'never enlarged');
});

test('variants are cached by the original ETag; 304 for a known variant; HEAD', async () => {
  const key = await store('cached.png', makePng(64, 64), 'image/png');
  const first = await image(`fit-in/32x32/${key}`);
  const cacheDir = path.join(srv.dataDir, 'cache', 'images');
  const files = fs.readdirSync(cacheDir).length;
  const again = await image(`fit-in/32x32/${key}`);
  assert.deepEqual(again.buf, first.buf);
  assert.equal(fs.readdirSync(cacheDir).length, files, 'served from the cache');
  assert.equal(again.headers.get('etag'), first.headers.get('etag'));
  const cond = await image(`fit-in/32x32/${key}`, { 'If-None-Match': first.headers.get('etag') });
  assert.equal(cond.status, 304);
  const head = await fetch(srv.url + `/img/fit-in/32x32/${key}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(first.buf.length));
});

test('refusals: bad operations, non-images, decompression bombs, private files, unknown keys', async () => {
  const key = await store('ok.png', makePng(10, 10), 'image/png');
  for (const ops of ['fit-in/5000x10', 'filters:quality(0)', 'filters:quality(101)', 'filters:format(bmp)', 'filters:blur(0)',
    'filters:sharpen(1)', 'fit-in', '10x0', 'fit-in/10x10/smart', 'filters:quality(80']) {
    expectError(assert, await req(srv, 'GET', `/img/${ops}/${key}`), 400, 'common/invalid-parameters');
  }
  const text = await store('notes.txt', Buffer.from('not an image at all'), 'text/plain');
  expectError(assert, await req(srv, 'GET', `/img/fit-in/10x10/${text}`), 400, 'file/invalid-format');
  const fake = await store('fake.png', Buffer.from('\x89PNG but not really'), 'image/png');
  expectError(assert, await req(srv, 'GET', `/img/fit-in/10x10/${fake}`), 400, 'file/invalid-format');
  const bomb = await store('bomb.png', makePng(50000, 50000, undefined, { headerOnly: true }), 'image/png');
  const refused = await req(srv, 'GET', `/img/fit-in/10x10/${bomb}`);
  expectError(assert, refused, 400, 'file/file-too-large');
  assert.match(refused.json.error.message, /2500000000 pixels/);
  expectError(assert, await req(srv, 'GET', `/img/fit-in/10x10/${key.replace('ok.png', 'nope.png')}`), 404, 'file/not-found');
  // a registered private file has no public variants
  const priv = await store('private.png', makePng(10, 10), 'image/png');
  const reg = await req(srv, 'POST', '/v1/files', { ...user, body: { s3Key: priv, originalName: 'private.png', mimeType: 'image/png', size: 1 } });
  assert.equal(reg.status, 201, reg.text);
  expectError(assert, await req(srv, 'GET', `/img/fit-in/10x10/${priv}`), 403, 'file/access-denied');
});

test('a private upload never registered has no variants (compat mode): the visibility asked at presign time binds', async () => {
  const priv = await store('unregistered.png', makePng(10, 10), 'image/png', {});
  assert.match(priv, /\/private\//);
  assert.equal((await req(srv, 'GET', local(`/storage/${priv}`))).status, 200, 'the stripped URL still serves it (§4.3 compat)');
  const refused = await req(srv, 'GET', `/img/fit-in/10x10/${priv}`);
  expectError(assert, refused, 403, 'file/access-denied');
  assert.equal(refused.headers.get('x-content-type-options'), 'nosniff', 'refusals carry nosniff too');
  const pub = await store('open.png', makePng(10, 10), 'image/png', { visibility: 'public' });
  assert.equal((await image(`fit-in/10x10/${pub}`)).status, 200, 'a public upload has variants before registration');
  const reg = await req(srv, 'POST', '/v1/files', { ...user, body: { s3Key: priv, originalName: 'x.png', mimeType: 'image/png', size: 1, visibility: 'public' } });
  assert.equal(reg.status, 201, reg.text);
  assert.equal((await image(`fit-in/10x10/${priv}`)).status, 200, 'registration as public wins');
});
