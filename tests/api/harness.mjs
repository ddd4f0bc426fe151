// harness.mjs: starts real basalt servers for the API tests and talks to them.
// startServer() runs BASALT_BIN (default build-test/basalt, the sanitizer build) on a free port with a
// fresh data directory, waits for /healthz, and returns a handle whose stop() sends SIGTERM and checks
// that the process exits 0 (with AddressSanitizer, a leak or an error makes the exit code non-zero).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const BIN = process.env.BASALT_BIN || path.join(repoRoot, 'build-test', 'basalt');

export function tempDir(prefix = 'basalt-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Runs the binary to completion (for --help and bad flags). Returns {code, stdout, stderr}.
export function runOnce(args, { env = {}, cwd } = {}) {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...env }, cwd });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function startServer({ dataDir, args = [], env = {}, cwd, keep = false, listen = '127.0.0.1:0' } = {}) {
  const dir = dataDir || tempDir();
  const ownDir = !dataDir;
  const child = spawn(BIN, ['serve', '--listen', listen, '--data', dir, ...args], {
    env: { ...process.env, ...env }, cwd: cwd || dir, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let port = 0;
  for (let i = 0; i < 300 && !port; i++) {
    const m = /listening on http:\/\/[^:]+:(\d+)/.exec(stdout) || /listening on http:\/\/[^:]+:(\d+)/.exec(stderr);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) break;
    else await sleep(50);
  }
  if (!port) {
    child.kill('SIGKILL');
    throw new Error(`server did not start (exit ${child.exitCode}):\n${stderr}\n${stdout}`);
  }
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(url + '/healthz')).status === 200) break; } catch { /* not yet */ }
    await sleep(50);
  }
  const bootPath = path.join(dir, 'bootstrap.json');
  const bootstrap = fs.existsSync(bootPath) ? JSON.parse(fs.readFileSync(bootPath, 'utf8')) : null;
  let stopped = null;
  return {
    url, port, dataDir: dir, bootstrap, child,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop({ signal = 'SIGTERM', removeDir = !keep && ownDir } = {}) {
      if (!stopped) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
        stopped = await exited;
        clearTimeout(timer);
        if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
        if (stopped.code !== 0) {
          throw new Error(`server exited with ${stopped.code ?? stopped.signal}; stderr tail:\n${stderr.slice(-4000)}`);
        }
      }
      return stopped;
    },
  };
}

// One request. Returns {status, headers, text, json}. body: object (sent as JSON) or string/Buffer (raw).
export async function req(server, method, p, { headers = {}, body, key, token } = {}) {
  const h = { ...headers };
  if (key) h['X-API-Key'] = key;
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
    else {
      payload = JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(server.url + p, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// Asserts the error envelope of client-api.md §1.6 with the given status and code.
export function expectError(assert, res, status, code) {
  assert.equal(res.status, status, `status ${res.status} body ${res.text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json; charset=utf-8/);
  assert.equal(res.json?.success, false, res.text);
  assert.equal(res.json.statusCode, status);
  assert.equal(res.json.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.equal(typeof res.json.message, 'string');
  assert.ok(res.json.message.length > 0);
}
