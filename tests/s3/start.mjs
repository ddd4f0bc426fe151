// Starts s3rver (a local S3-protocol server) for the S3 blob driver's tests: on 127.0.0.1, a free port and
// a fresh temporary directory, with the bucket basalt-test. Prints "S3 http://127.0.0.1:PORT" once ready,
// and on SIGTERM or SIGINT closes the server, removes the directory and exits 0. Credentials: S3RVER/S3RVER.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

const directory = mkdtempSync(join(tmpdir(), 'basalt-s3-'));
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: 'basalt-test' }],
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    server.httpServer?.closeAllConnections(); // do not wait for idle keep-alive connections
    await server.close();
  } catch {
    // not running yet, or already closed
  }
  rmSync(directory, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));

try {
  const { port } = await server.run();
  process.stdout.write(`S3 http://127.0.0.1:${port}\n`);
} catch (err) {
  process.stderr.write(`s3rver did not start: ${err.message}\n`);
  await stop(1);
}
