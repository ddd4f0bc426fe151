// bench.mjs: how fast each console page becomes interactive with a large organization: 1,000 tables,
// 100,000 records in one table and 12 months of usage rows (hourly for 7 days, daily for 90 days, monthly
// for 12 months, for both environments and all eight metrics, written into the control store while the
// server is stopped). "Interactive" is the time from the route change to the page's data rendered (the
// router marks <main> ready), read with performance.now() in the page; the median of 5 visits per page.
//   node tests/console/bench.mjs            (BASALT_BIN picks the binary, as for the tests)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { startServer, req, BIN } from '../api/harness.mjs';

const TABLES = Number(process.env.TABLES || 1000), RECORDS = Number(process.env.RECORDS || 100000), VISITS = 5;
const log = (...a) => console.log('#', ...a);

let server = await startServer({ keep: true });
const dir = server.dataDir;
const { operatorToken: token, organizationId: orgId, projectId, secretKey } = server.bootstrap;
const P = `/admin/v1/projects/${projectId}/environments`;
assert2((await req(server, 'PUT', `/admin/v1/organizations/${orgId}/plan`, { token, body: { plan: 'growth' } })).status === 200, 'plan');
assert2((await req(server, 'POST', P, { token, body: { environment: 'staging', environmentType: 'staging' } })).status === 201, 'env');

let t0 = Date.now();
for (let i = 0; i < TABLES; i += 8) {
  await Promise.all(Array.from({ length: Math.min(8, TABLES - i) }, (_, k) => req(server, 'POST', `${P}/dev/tables`, { token,
    body: { tableName: i + k === 0 ? 'events' : `t${String(i + k).padStart(4, '0')}`,
      schema: { bsonType: 'object', properties: { title: { bsonType: 'string' }, n: { bsonType: 'int' }, kind: { bsonType: 'string' } } } } })
    .then((r) => assert2(r.status === 201, r.text))));
}
log(`${TABLES} tables in ${Date.now() - t0} ms`);
t0 = Date.now();
for (let i = 0; i < RECORDS; i += 1000) {
  const batch = Array.from({ length: Math.min(1000, RECORDS - i) }, (_, k) => ({ title: `Event ${i + k}`, n: i + k, kind: ['a', 'b', 'c', 'd'][(i + k) % 4] }));
  const r = await req(server, 'POST', '/v1/data/events', { key: secretKey, body: batch });
  assert2(r.status === 201, r.text);
}
log(`${RECORDS} records in ${Date.now() - t0} ms`);

// 12 months of usage rows, written with the server stopped.
await server.stop({ removeDir: false });
const envs = execFileSync('sqlite3', [path.join(dir, 'control.db'), `SELECT id, name FROM environments WHERE project_id='${projectId}'`]).toString().trim().split('\n').map((l) => l.split('|'));
const metrics = ['api_call', 'db_read', 'db_write', 'bandwidth', 'file_upload', 'file_download', 'storage', 'mau'];
const now = Date.now(), H = 3600e3, D = 24 * H;
const rows = [];
const add = (env, m, period, start, v) => rows.push(`('${env[0]}','${m}','${period}',${start},'${orgId}','${projectId}','${env[1]}',${v},${v},0,${v * 900},${v},0,${now})`);
for (const env of envs) for (const m of metrics) {
  for (let t = Math.floor(now / H) * H - 7 * D; t < Math.floor(now / H) * H; t += H) add(env, m, 'hourly', t, 50 + (t / H) % 40);
  for (let t = Math.floor(now / D) * D - 89 * D; t < Math.floor(now / D) * D; t += D) add(env, m, 'daily', t, 1200 + (t / D) % 300);
  const d = new Date(now);
  for (let k = 12; k >= 1; k--) add(env, m, 'monthly', Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - k, 1), 36000 + k * 1000);
}
const sql = 'BEGIN;' + rows.map((r, i) => (i % 500 === 0 ? `${i ? ';' : ''}INSERT OR REPLACE INTO usage (environment_id, metric, period, period_start, organization_id, project_id, environment, value, success_count, failure_count, response_us, peak, min_value, updated_at) VALUES ` : ',') + r).join('') + ';COMMIT;';
execFileSync('sqlite3', [path.join(dir, 'control.db')], { input: sql });
log(`${rows.length} usage rows`);
server = await startServer({ dataDir: dir });

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-chromium-'));
const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', userDataDir: userDir, headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const results = {};
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  await page.goto(server.url + '/console/', { waitUntil: 'load' });
  await page.waitForSelector('input#token');
  await page.type('input#token', token);
  const t = Date.now();
  await page.click('#signin');
  await page.waitForSelector('main#main.ready', { timeout: 30000 });
  results['Sign in clicked → home ready'] = Date.now() - t;
  for (let i = 0; i < VISITS; i++) { // a reload with the session cookie: HTML, modules, chart.js, session, home
    const t1 = Date.now();
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('main#main.ready', { timeout: 30000 });
    (results['reload → home ready (each of 5)'] ||= []).push(Date.now() - t1);
  }
  results['reload → home ready (each of 5)'] = results['reload → home ready (each of 5)'].join(', ');
  const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { domInteractive: Math.round(n.domInteractive), load: Math.round(n.loadEventEnd) }; });
  log('navigation timing of /console/: ' + JSON.stringify(nav));
  const pages = [['home', `#/org/${orgId}/home`], ['projects', `#/org/${orgId}/projects`], ['team', `#/org/${orgId}/team`], ['usage', `#/org/${orgId}/usage`],
    ['activity', `#/org/${orgId}/activity`], ['settings', `#/org/${orgId}/settings`]];
  for (const pg of ['overview', 'environments', 'database', 'database/events/data', 'database/events/schema', 'database/events/indexes', 'database/t0500/data', 'auth', 'storage', 'activity', 'keys', 'cors', 'settings'])
    pages.push([pg, `#/project/${projectId}/env/dev/${pg}`]);
  for (const [name, hash] of pages) {
    const times = [];
    for (let i = 0; i < VISITS; i++) {
      times.push(await page.evaluate((hh) => new Promise((resolve, reject) => {
        const main = () => document.getElementById('main');
        const start = performance.now();
        const seen = main();
        const tick = () => { const m = main(); if (m && m !== seen && m.classList.contains('ready')) resolve(performance.now() - start); else if (performance.now() - start > 20000) reject(new Error('timeout ' + hh)); else requestAnimationFrame(tick); };
        if (location.hash === hh) window.dispatchEvent(new HashChangeEvent('hashchange')); else location.hash = hh;
        requestAnimationFrame(tick);
      }), hash));
    }
    times.sort((a, b) => a - b);
    results[name] = Math.round(times[Math.floor(VISITS / 2)]);
    const err = await page.$eval('main#main', (m) => m.querySelector(':scope > p.error')?.textContent || '');
    if (err) log(`${name}: ${err}`);
  }
} finally {
  await browser.close();
  fs.rmSync(userDir, { recursive: true, force: true });
  await server.stop({ removeDir: true });
}
log(`binary ${BIN}`);
console.log('| page | interactive (ms, median of 5) |\n|---|---|');
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v} |`);

function assert2(ok, what) { if (!ok) throw new Error('bench setup failed: ' + what); }
