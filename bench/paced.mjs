// paced.mjs: an open-loop writer for bench/run-mixed.sh. Sends RATE writes per second for SECONDS, each at
// its scheduled moment whatever the earlier ones are doing (so a slow server shows as latency, not as a
// politely lower rate), alternating a create of a matching record (status "published") and an update of
// one (views changed, still matching), over keep-alive connections.
// Latency is measured from the scheduled moment (no coordinated omission). Prints one line:
//   achieved=<writes/s answered> p50=<ms> p99=<ms> max=<ms> sent=<n> non2xx=<n>
// and exits 1 when any answer was not 2xx or failed.
// Usage: node bench/paced.mjs URL KEY RATE SECONDS IDS_FILE
import http from 'node:http';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const [url, key, rate, seconds, idsFile] = process.argv.slice(2);
const base = new URL(url);
const ids = fs.readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const lorem = 'lorem ipsum dolor sit amet '.repeat(8);
const interval = 1000 / Number(rate), durationMs = Number(seconds) * 1000;
const latencies = [];
let sent = 0, bad = 0, answered = 0, lastAnswer = 0;

function send(scheduled, i) {
  const create = i % 2 === 0;
  const body = create
    ? JSON.stringify({ title: `Paced ${i}`, content: lorem, status: 'published', views: i, tags: ['alpha', 'beta'] })
    : JSON.stringify({ views: i });
  const r = http.request({
    host: base.hostname, port: base.port, agent, method: create ? 'POST' : 'PATCH',
    path: create ? '/v1/data/posts' : `/v1/data/posts/${ids[i % ids.length]}`,
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
  }, (res) => {
    res.resume();
    res.on('end', () => {
      const now = performance.now();
      latencies.push(now - scheduled);
      if (res.statusCode < 200 || res.statusCode > 299) bad++;
      answered++;
      lastAnswer = now;
    });
  });
  r.on('error', () => { bad++; answered++; });
  r.end(body);
  sent++;
}

const start = performance.now();
function tick() {
  const now = performance.now();
  for (; sent * interval < durationMs && start + sent * interval <= now;) send(start + sent * interval, sent);
  if (sent * interval < durationMs) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
  else waitAll();
}
function waitAll() {
  if (answered < sent) { setTimeout(waitAll, 5); return; }
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
  const window = Math.max(durationMs, lastAnswer - start) / 1000;
  console.log(`achieved=${(answered / window).toFixed(1)} p50=${q(0.5).toFixed(2)}ms p99=${q(0.99).toFixed(2)}ms` +
    ` max=${q(1).toFixed(2)}ms sent=${sent} non2xx=${bad}`);
  agent.destroy();
  process.exit(bad ? 1 : 0);
}
tick();
