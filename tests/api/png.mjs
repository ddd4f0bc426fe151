// png.mjs: a minimal PNG encoder for the tests (RGB or RGBA, 8 bits, no filtering), so image tests need
// no image library: pixel(x, y) returns [r, g, b] or [r, g, b, a].
import zlib from 'node:zlib';

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// A PNG of width × height; headerOnly writes an IHDR with those sizes and a token IDAT (a "bomb").
export function makePng(width, height, pixel = () => [200, 30, 30], { alpha = false, headerOnly = false } = {}) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = alpha ? 6 : 2;
  const channels = alpha ? 4 : 3;
  let raw;
  if (headerOnly) raw = Buffer.alloc(16);
  else {
    raw = Buffer.alloc(height * (1 + width * channels));
    for (let y = 0; y < height; y++) {
      const row = y * (1 + width * channels);
      for (let x = 0; x < width; x++) {
        const p = pixel(x, y);
        for (let c = 0; c < channels; c++) raw[row + 1 + x * channels + c] = p[c] ?? 255;
      }
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Width and height of a PNG, JPEG or WebP (VP8/VP8L/VP8X) answer, for assertions.
export function imageSize(buf) {
  if (buf.subarray(1, 4).toString() === 'PNG') return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
  if (buf.subarray(0, 4).toString() === 'RIFF') {
    const kind = buf.subarray(12, 16).toString();
    if (kind === 'VP8X') return [1 + buf.readUIntLE(24, 3), 1 + buf.readUIntLE(27, 3)];
    if (kind === 'VP8L') { const b = buf.readUInt32LE(21); return [1 + (b & 0x3fff), 1 + ((b >> 14) & 0x3fff)]; }
    return [buf.readUInt16LE(26) & 0x3fff, buf.readUInt16LE(28) & 0x3fff];
  }
  for (let i = 2; i < buf.length;) { // JPEG: walk the segments to a start-of-frame
    const marker = buf[i + 1], len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return [buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5)];
    i += 2 + len;
  }
  return null;
}
