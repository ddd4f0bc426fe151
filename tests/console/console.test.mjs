// console.test.mjs: the web console in a real browser (Debian's chromium, driven by puppeteer-core).
// Starts a Basalt server (tests/api/harness.mjs), signs in with its operator token, walks every page,
// creates a project, an environment, a table with fields, an index, keys and an invitation, browses
// records written through /v1, watches the usage chart move after traffic, and checks a Member's limits.
// Any console error, page error, failed request or HTTP error answer not listed as expected fails it.
// Screenshots go to docs/console/<page>.png. Run: tests/console/run.sh (or node --test this file).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { test, startServer, req, repoRoot, sleep, runOnce } from '../api/harness.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SHOTS || path.join(repoRoot, 'docs', 'console');
fs.mkdirSync(SHOTS, { recursive: true });

// Answers that are part of the flow: the session probe before signing in. (A provider never configured
// answers its default state, 200: a 404 there fails the walk.)
const EXPECTED = [
  (r) => r.status === 401 && r.method === 'GET' && r.url.endsWith('/admin/v1/console/session'),
];

test('the web console, page by page, in Chromium', { timeout: 300000 }, async () => {
  const server = await startServer({ args: ['--usage-rollup-interval', '2', '--usage-storage-interval', '2'] });
  try {
    await walk(server);
  } finally {
    await server.stop(); // also when a step fails: no server left behind
  }
});

async function walk(server) {
  const token = server.bootstrap.operatorToken;
  const orgId = server.bootstrap.organizationId;
  const base = server.url;
  const csp = (await fetch(base + '/console/')).headers.get('content-security-policy') || '';
  assert.match(csp, /script-src 'self'/, 'the console is served with a strict CSP');
  // The console's JavaScript and CSS, the chart library included, stay under 300 KB.
  const own = fs.readdirSync(path.join(repoRoot, 'web', 'console')).filter((f) => /\.(js|css)$/.test(f))
    .reduce((n, f) => n + fs.statSync(path.join(repoRoot, 'web', 'console', f)).size, 0);
  const chartBytes = (await (await fetch(base + '/console/vendor/chart.js')).arrayBuffer()).byteLength;
  assert.ok(chartBytes > 100000, 'the chart library is served');
  assert.ok(own + chartBytes < 300000, `console JS+CSS ${own} + chart.js ${chartBytes} bytes < 300 KB`);
  console.log(`# console JS+CSS: ${own} bytes + chart.js ${chartBytes} bytes`);
  // Starter: room for a second environment.
  assert.equal((await req(server, 'PUT', `/admin/v1/organizations/${orgId}/plan`, { token, body: { plan: 'starter' } })).status, 200);

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, userDataDir: userDir, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const problems = [];
  const timings = {};
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 860 });
    watch(page, problems);
    const wait = (sel, o) => page.waitForSelector(sel, { timeout: 15000, ...o });
    const ready = async (name) => {
      await wait(`main#main.ready`);
      const err = await page.$eval('main#main', (m) => [...m.querySelectorAll(':scope > p.error')].map((e) => e.textContent).join('; '));
      assert.equal(err, '', `page ${name} shows an error`);
    };
    const visit = async (hash, name, shot = name) => {
      const t0 = Date.now();
      await page.evaluate((hh) => {
        document.getElementById('main')?.classList.remove('ready');
        if (location.hash === hh) window.dispatchEvent(new HashChangeEvent('hashchange')); else location.hash = hh;
      }, hash);
      await ready(name);
      timings[name] = Date.now() - t0;
      if (shot) await page.screenshot({ path: path.join(SHOTS, shot + '.png') });
    };
    const text = () => page.$eval('main#main', (m) => m.innerText);
    const submit = async (formSel, values) => {
      for (const [name, v] of Object.entries(values)) {
        const sel = `${formSel} [name="${name}"]`;
        const tag = await page.$eval(sel, (e) => e.tagName + (e.type || ''));
        if (tag.startsWith('SELECT')) await page.select(sel, v);
        else if (tag === 'INPUTcheckbox') { if (v !== await page.$eval(sel, (e) => e.checked)) await page.click(sel); }
        else { await page.$eval(sel, (e) => { e.value = ''; }); await page.type(sel, String(v)); }
      }
      await page.click(`${formSel} button[type=submit]`);
    };
    const confirmTyped = async () => { // the typed confirmation dialog
      await wait('dialog.modal[open] code');
      const word = await page.$eval('dialog.modal[open] code', (e) => e.textContent);
      await page.type('dialog.modal[open] input[name=confirm]', word);
      await page.click('dialog.modal[open] button[type=submit]');
    };

    // ---- sign-in ----
    await page.goto(base + '/console/?signin=expired', { waitUntil: 'networkidle0' });
    await wait('#signin-notice');
    assert.match(await page.$eval('#signin-notice', (e) => e.textContent), /expired/);
    await page.goto(base + '/console/', { waitUntil: 'networkidle0' });
    await wait('input#token');
    assert.match(await page.content(), /Access token/);
    await page.screenshot({ path: path.join(SHOTS, 'signin.png') });
    EXPECTED.push((r) => r.status === 401 && r.method === 'POST' && r.url.endsWith('/admin/v1/console/session'));
    await page.type('input#token', 'bt_' + '0'.repeat(64));
    await page.click('#signin');
    await wait('.signin-form .error:not(:empty)');
    await page.$eval('input#token', (e) => { e.value = ''; });
    await page.type('input#token', token);
    await page.click('#signin');
    await ready('home');
    EXPECTED.pop();
    const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]));
    assert.ok(!stored.includes('bt_') && !stored.includes('basalt_console'), 'no token in web storage, the cookie is HttpOnly: ' + stored);

    // The usage chart before any traffic.
    await visit(`#/org/${orgId}/usage`, 'usage-before', null);
    const callsBefore = await chartTotal(page, 'api_call');

    // ---- Home, Projects ----
    await visit(`#/org/${orgId}/home`, 'home');
    assert.match(await text(), /Projects[\s\S]*Members[\s\S]*File storage[\s\S]*Tables/);
    await visit(`#/org/${orgId}/projects`, 'projects');
    await submit('#create-project', { name: 'Console Demo', slug: 'console-demo', description: 'Made by the browser test', primaryRegion: 'eu-west-1' });
    await page.waitForFunction(() => /#\/project\/[^/]+\/env\/dev\/overview/.test(location.hash), { timeout: 15000 });
    await ready('overview');
    const projectId = /#\/project\/([^/]+)/.exec(await page.evaluate(() => location.hash))[1];
    const P = (env, pg) => `#/project/${projectId}/env/${env}/${pg}`;
    await visit(P('dev', 'overview'), 'project-overview');
    assert.match(await text(), /Console Demo/);

    // ---- Environments ----
    await visit(P('dev', 'environments'), 'environments');
    await submit('#create-env', { environment: 'staging', environmentType: 'staging' });
    await wait('section.env[data-env="staging"]');
    await ready('environments');
    const envText = await text();
    assert.match(envText, /staging/);
    assert.match(envText, /Cluster[\s\S]*dedicated-/);
    await page.screenshot({ path: path.join(SHOTS, 'environments.png') });

    // ---- Database: a table with fields, an index ----
    await visit(P('dev', 'database'), 'database');
    await page.type('#create-table [name=tableName]', 'posts');
    await page.type('#create-table .field-row:last-child [name=fname]', 'title');
    await page.click('#create-table .field-row:last-child [name=freq]');
    await page.click('#create-table .fields + button');
    await page.type('#create-table .field-row:last-child [name=fname]', 'views');
    await page.select('#create-table .field-row:last-child [name=ftype]', 'number');
    await page.click('#create-table button[type=submit]');
    await page.waitForFunction(() => location.hash.endsWith('/database/posts/schema'), { timeout: 15000 });
    await ready('schema');
    assert.match(await text(), /title[\s\S]*string[\s\S]*views[\s\S]*double/);
    // A field added (version 2), then the schema rolled back to version 1 (version 3).
    await page.type('#add-fields .field-row:last-child [name=fname]', 'summary');
    await page.click('#add-fields button[type=submit]');
    await page.waitForFunction(() => document.querySelector('main#main.ready') && /schema v2/.test(document.querySelector('main').innerText), { timeout: 15000 });
    assert.match(await text(), /summary/);
    await page.$$eval('main button', (bs) => bs.find((b) => b.textContent === 'Roll back').click());
    await confirmTyped();
    await page.waitForFunction(() => document.querySelector('main#main.ready') && /schema v3/.test(document.querySelector('main').innerText), { timeout: 15000 });
    assert.doesNotMatch(await page.$eval('main table', (t) => t.innerText), /summary/);
    await page.screenshot({ path: path.join(SHOTS, 'table-schema.png') });
    await visit(P('dev', 'database/posts/indexes'), 'indexes', null);
    await submit('#create-index', { name: 'by_views', fields: '-views' });
    await page.waitForFunction(() => document.querySelector('main#main.ready') && /by_views/.test(document.querySelector('main').innerText), { timeout: 15000 });
    await submit('#explain', { andFilters: '{"views":{"$gt":3}}', sortBy: 'views' });
    await page.waitForFunction(() => /rows/.test(document.getElementById('explain-out')?.textContent || ''), { timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'table-indexes.png') });

    // ---- API Keys: a publishable and a secret key, each shown once ----
    await visit(P('dev', 'keys'), 'keys', null);
    await submit('#create-key', { name: 'web app', type: 'publishable' });
    await wait('.once code.secret');
    assert.match(await page.$eval('.once code.secret', (e) => e.textContent), /^pk_/);
    await submit('#create-key', { name: 'backend', type: 'secret' });
    await page.waitForFunction(() => /^sk_/.test(document.querySelector('.once code.secret')?.textContent || ''), { timeout: 15000 });
    const secret = await page.$eval('.once code.secret', (e) => e.textContent);
    await page.screenshot({ path: path.join(SHOTS, 'keys.png') });

    // ---- records through /v1, then browsed in Data ----
    for (let i = 1; i <= 25; i++) {
      const r = await req(server, 'POST', '/v1/data/posts', { key: secret, body: { title: `Post number ${i}`, views: i } });
      assert.equal(r.status, 201, r.text);
    }
    for (let i = 0; i < 15; i++) await req(server, 'GET', '/v1/data/posts?limit=5', { key: secret });
    const signup = await req(server, 'POST', '/v1/auth/email/signup', { key: secret, body: { email: 'ada@example.com', password: 'correct horse battery 9', name: 'Ada' } });
    assert.equal(signup.status, 201, signup.text);
    await visit(P('dev', 'database/posts/data'), 'table-data');
    assert.match(await text(), /Post number 25/);
    assert.match(await text(), /Page 1 of 2/);
    await submit('#data-filter', { field: 'views', op: '$gt', value: '22', sortBy: 'views', sortDirection: 'asc' });
    await page.waitForFunction(() => { const t = document.querySelector('main').innerText; return /Post number 23/.test(t) && !/Post number 22\b/.test(t) && /3 total/.test(t); }, { timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'table-data.png') });
    // Records are read through the management API: browsing them makes no key.
    await page.reload({ waitUntil: 'networkidle0' });
    await ready('table-data-reloaded');
    assert.match(await text(), /Post number 25/);
    const temp = (await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/dev/keys`, { token })).json.items
      .filter((k) => /console session|temporary/.test(k.name));
    assert.equal(temp.length, 0, JSON.stringify(temp));
    await visit(P('dev', 'database/posts/indexes'), 'table-indexes', null);
    assert.match(await text(), /Query statistics[\s\S]*sort\(/, 'the shapes of the lists just made');
    await page.screenshot({ path: path.join(SHOTS, 'table-indexes.png'), fullPage: true });
    await visit(P('dev', 'database'), 'database');
    await visit(P('dev', 'database/posts/permissions'), 'table-permissions');
    await page.click('input[aria-label="guest list"]');
    await page.$$eval('main button', (bs) => bs.find((b) => b.textContent === 'Save permissions').click());
    await page.waitForFunction(() => /Permissions saved/.test(document.getElementById('toast')?.textContent || ''), { timeout: 15000 });
    const perms = (await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/dev/tables/posts`, { token })).json.permissions;
    assert.equal(perms.guest.list, false, JSON.stringify(perms));
    await visit(P('dev', 'database/posts/api'), 'table-api');

    // ---- the usage chart moves; a small operator quota raises the 80 % alert and the banner ----
    const q = await runOnce(['operator', 'quota', orgId, 'api_call', '100', '--data', server.dataDir]);
    assert.equal(q.code, 0, q.stderr);
    await sleep(2200); // past --key-cache-ms, and the meter's flush
    const used = (await req(server, 'GET', `/admin/v1/usage/summary?organizationId=${orgId}`, { token })).json.items.find((i) => i.metric === 'api_call').used;
    for (let i = used; i < 86; i++) await req(server, 'GET', '/v1/data/posts?limit=1', { key: secret });
    await sleep(2500); // the meter flushes every second; the hourly rows fill today's bar
    assert.ok(((await req(server, 'GET', `/admin/v1/organizations/${orgId}/alerts`, { token })).json.items || []).some((a) => a.threshold === 80));
    await visit(`#/org/${orgId}/usage`, 'usage');
    await wait('#alert-banner');
    assert.match(await page.$eval('#alert-banner', (e) => e.textContent), /API calls: 80 %/);
    const callsAfter = await chartTotal(page, 'api_call');
    assert.ok(callsAfter >= callsBefore + 80, `the API-call chart moved: ${callsBefore} → ${callsAfter}`);
    assert.equal(await page.$$eval('.chart-card', (c) => c.length), 8, 'eight metric charts');
    assert.match(await text(), /API calls[\s\S]*Records read[\s\S]*Records written[\s\S]*Bandwidth[\s\S]*Uploads[\s\S]*Downloads[\s\S]*Storage[\s\S]*Monthly active users/);
    assert.ok(await page.evaluate(() => window.Chart.getChart(document.querySelector('canvas[data-metric=api_call]')).data.datasets.some((d) => d.label === 'Plan limit')));
    assert.match(await text(), /alerts raised: 80 %[\s\S]*Hourly detail[\s\S]*Console Demo \/ dev[\s\S]*starter/);

    // The plan's quota again (the console's reads go through the management API, which is never metered).
    assert.equal((await runOnce(['operator', 'quota', orgId, 'api_call', 'plan', '--data', server.dataDir])).code, 0);

    // ---- Team: an invitation ----
    await visit(`#/org/${orgId}/team`, 'team', null);
    await submit('#invite', { email: 'viewer@example.com', name: 'Vera Viewer', role: 'member' });
    await wait('.once code.secret');
    const acceptUrl = await page.$eval('.once code.secret', (e) => e.textContent);
    await page.waitForFunction(() => /viewer@example.com[\s\S]*pending/.test(document.querySelector('main').innerText), { timeout: 15000 });
    // A second invitation, cancelled.
    await submit('#invite', { email: 'temp@example.com', name: 'Temp', role: 'member' });
    await page.waitForFunction(() => /temp@example.com[^\n]*pending/.test(document.querySelector('main').innerText), { timeout: 15000 });
    await page.$$eval('main tr', (trs) => [...trs].find((tr) => /temp@example.com/.test(tr.innerText)).querySelectorAll('button')[1].click());
    await page.waitForFunction(() => /temp@example.com[^\n]*revoked/.test(document.querySelector('main').innerText), { timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'team.png') });

    // ---- Activity, Settings, the project's other pages ----
    await visit(`#/org/${orgId}/activity`, 'activity');
    await submit('#activity-filter', { entityType: 'project' });
    await page.waitForFunction(() => /project/.test(document.querySelector('main').innerText), { timeout: 15000 });
    await visit(`#/org/${orgId}/settings/general`, 'settings');
    await submit('#org-general', { displayName: 'Console Demo Org', notificationEmail: 'ops@example.com' });
    await page.waitForFunction(() => /Saved/.test(document.getElementById('toast')?.textContent || ''), { timeout: 15000 });
    const orgNow = (await req(server, 'GET', `/admin/v1/organizations/${orgId}`, { token })).json;
    assert.equal(orgNow.notificationEmail, 'ops@example.com');
    await visit(`#/org/${orgId}/settings/plan`, 'settings-plan');
    await visit(`#/org/${orgId}/settings/tokens`, 'settings-tokens', null);
    await submit('#create-token', { name: 'ci', role: 'member' });
    await page.waitForFunction(() => /^bt_/.test(document.querySelector('.once code.secret')?.textContent || ''), { timeout: 15000 });
    const ciToken = await page.$eval('.once code.secret', (e) => e.textContent);
    assert.equal((await req(server, 'GET', '/admin/v1/organizations', { token: ciToken })).status, 200);
    await page.screenshot({ path: path.join(SHOTS, 'settings-tokens.png') });
    await page.$$eval('main tr', (trs) => [...trs].find((tr) => /^ci\b/.test(tr.innerText) && /active/.test(tr.innerText)).querySelector('button').click());
    await confirmTyped();
    await page.waitForFunction(() => [...document.querySelectorAll('main tr')].some((tr) => /^ci\b/.test(tr.innerText) && /revoked/.test(tr.innerText)), { timeout: 15000 });
    assert.equal((await req(server, 'GET', '/admin/v1/organizations', { token: ciToken })).status, 401, 'the revoked token is refused');
    await visit(`#/org/${orgId}/settings/danger`, 'settings-danger');
    assert.ok(await page.$('#danger-zone'), 'the Owner sees the Danger zone');
    // An end user banned and unbanned on the Authentication page.
    await visit(P('dev', 'auth'), 'auth-users', null);
    assert.match(await text(), /ada@example.com/);
    const clickButton = (label) => page.$$eval('main button', (bs, l) => bs.find((b) => b.textContent === l).click(), label);
    await clickButton('Ban');
    await page.waitForFunction(() => /ada@example.com[^\n]*banned/.test(document.querySelector('main').innerText), { timeout: 15000 });
    const refused = await req(server, 'POST', '/v1/auth/email/signin', { key: secret, body: { email: 'ada@example.com', password: 'correct horse battery 9' } });
    assert.equal(refused.status, 403, 'a banned user cannot sign in: ' + refused.text);
    await clickButton('Unban');
    await page.waitForFunction(() => /ada@example.com[^\n]*active/.test(document.querySelector('main').innerText), { timeout: 15000 });
    // Her sessions: two sign-ins from two devices, listed; one ended from the console.
    for (const device of ['ada-phone', 'ada-laptop']) {
      const si = await req(server, 'POST', '/v1/auth/email/signin', { key: secret, headers: { 'User-Agent': device }, body: { email: 'ada@example.com', password: 'correct horse battery 9' } });
      assert.equal(si.status, 200, si.text);
    }
    await clickButton('Sessions');
    await page.waitForFunction(() => /Sessions of ada@example\.com[\s\S]*ada-(phone|laptop)[\s\S]*ada-(phone|laptop)/.test(document.getElementById('user-sessions')?.innerText || ''), { timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'auth-sessions.png'), fullPage: true });
    await page.$$eval('#user-sessions tr', (trs) => [...trs].find((tr) => /ada-phone/.test(tr.innerText)).querySelector('button').click());
    await page.waitForFunction(() => { const t = document.getElementById('user-sessions')?.innerText || ''; return /ada-laptop/.test(t) && !/ada-phone/.test(t); }, { timeout: 15000 });
    const adaId = (await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/dev/auth/users?search=ada&searchType=email`, { token })).json.items[0].id;
    const left = (await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/dev/auth/users/${adaId}/sessions`, { token })).json.items;
    assert.deepEqual(left.map((x) => x.userAgent), ['ada-laptop'], 'the ended session is gone on the server');
    // The top bar switches the environment and keeps the page.
    await page.select('#env-select', 'staging');
    await page.waitForFunction(() => location.hash.endsWith('/env/staging/auth'), { timeout: 15000 });
    await ready('auth-staging');
    // Database pages through the tables on the server: 25 tables in staging are two pages of 20; a search narrows.
    for (let i = 1; i <= 25; i++) {
      const t = await req(server, 'POST', `/admin/v1/projects/${projectId}/environments/staging/tables`, { token, body: { tableName: `s${String(i).padStart(2, '0')}` } });
      assert.equal(t.status, 201, t.text);
    }
    await visit(P('staging', 'database'), 'staging-database', null);
    assert.match(await text(), /25 tables[\s\S]*s01[\s\S]*s20[\s\S]*Page 1 of 2/);
    assert.doesNotMatch(await text(), /s21/);
    await page.$$eval('main .pager button', (bs) => bs.find((b) => b.textContent === 'Next').click());
    await page.waitForFunction(() => /s21[\s\S]*s25[\s\S]*Page 2 of 2/.test(document.querySelector('main').innerText), { timeout: 15000 });
    await page.type('main input[type=search]', 's1');
    await page.waitForFunction(() => { const t = document.querySelector('main').innerText; return /s10[\s\S]*s19[\s\S]*10 total/.test(t) && !/s21/.test(t); }, { timeout: 15000 });
    // File Storage: upload through a presigned URL, list, delete with a typed confirmation.
    await visit(P('dev', 'storage'), 'storage', null);
    const upload = path.join(userDir, 'hello.txt');
    fs.writeFileSync(upload, 'hello from the console test\n');
    await (await page.$('#upload-file')).uploadFile(upload);
    await page.$$eval('main button', (bs) => bs.find((b) => b.textContent === 'Upload').click());
    await page.waitForFunction(() => /hello\.txt/.test(document.querySelector('main').innerText), { timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'storage.png') });
    // Visibility changed on the page, then the file downloaded through its signed link (a new tab).
    await page.select('main table select[aria-label="Visibility"]', 'public');
    await page.waitForFunction(() => /Saved/.test(document.getElementById('toast')?.textContent || ''), { timeout: 15000 });
    const files = (await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/dev/files`, { token })).json.items;
    assert.deepEqual(files.map((f) => [f.originalName, f.visibility]), [['hello.txt', 'public']]);
    assert.equal(await downloaded(browser, page), 'hello from the console test');
    await page.$$eval('main button', (bs) => bs.find((b) => b.textContent === 'Delete').click());
    await confirmTyped();
    await page.waitForFunction(() => /No files/.test(document.querySelector('main').innerText), { timeout: 15000 });
    // File changes go through the management API: no key was ever made for them (revoked ones stay listed).
    for (const env of ['dev', 'staging']) {
      const ks = (await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/${env}/keys`, { token })).json.items;
      assert.deepEqual(ks.filter((k) => /console session|temporary/.test(k.name)), [], env);
    }
    await visit(P('dev', 'auth/settings'), 'auth-settings', null);
    await submit('#auth-settings', { magicLinkExpirationMinutes: '20' });
    await page.waitForFunction(() => /Saved/.test(document.getElementById('toast')?.textContent || ''), { timeout: 15000 });
    assert.equal((await req(server, 'GET', `/admin/v1/projects/${projectId}/environments/dev/auth/settings`, { token })).json.magicLinkExpirationMinutes, 20);
    // The project's Activities: environment-level changes, filtered on the server by environment and entity.
    await visit(P('dev', 'activity'), 'project-activity-filtered', null);
    await submit('#project-activity-filter', { scope: 'env', entityType: 'file' });
    await page.waitForFunction(() => { const t = document.querySelector('main').innerText; return /hello\.txt uploaded/.test(t) && /visibility public/.test(t) && !/sign-in settings/.test(t); }, { timeout: 15000 });
    for (const [pg, shot] of [['auth', 'auth-users'], ['auth/providers', 'auth-providers'], ['auth/settings', 'auth-settings'], ['auth/templates', 'auth-templates'],
      ['activity', 'project-activity'], ['cors', 'cors'], ['settings', 'project-settings']]) await visit(P('dev', pg), shot);
    await submit('#project-settings', { description: 'Edited in the console', apiCallLimit: '5000' });
    await page.waitForFunction(() => /Saved/.test(document.getElementById('toast')?.textContent || ''), { timeout: 15000 });
    await ready('project-settings-saved');
    const proj = (await req(server, 'GET', `/admin/v1/projects/${projectId}`, { token })).json;
    assert.equal(proj.description, 'Edited in the console');
    assert.equal(proj.settings.apiCallLimit, 5000);
    await visit(P('staging', 'overview'), 'staging-overview', null);
    await visit(P('staging', 'cors'), 'cors', null);
    await submit('#add-origin', { origin: 'https://app.example.com' });
    await page.waitForFunction(() => /https:\/\/app\.example\.com/.test(document.querySelector('main#main.ready')?.innerText || ''), { timeout: 15000 });
    await page.screenshot({ path: path.join(SHOTS, 'cors.png') });

    // ---- a second project created and deleted (typed confirmation) ----
    await visit(`#/org/${orgId}/projects`, 'projects-2', null);
    await submit('#create-project', { name: 'Throwaway', slug: 'throwaway' });
    await page.waitForFunction(() => /\/env\/dev\/overview$/.test(location.hash) && document.querySelector('main#main.ready h1')?.textContent === 'Throwaway', { timeout: 15000 });
    const throwaway = /#\/project\/([^/]+)/.exec(await page.evaluate(() => location.hash))[1];
    await visit(`#/project/${throwaway}/env/dev/settings`, 'throwaway-settings', null);
    await page.$$eval('#danger-zone button', (bs) => bs[0].click());
    await confirmTyped();
    await page.waitForFunction(() => location.hash.endsWith('/projects') && document.querySelector('main#main.ready') && !/Throwaway/.test(document.querySelector('main').innerText), { timeout: 15000 });
    assert.equal((await req(server, 'GET', `/admin/v1/projects/${throwaway}`, { token })).status, 404);

    // ---- the staging environment deleted with a typed confirmation ----
    await visit(P('dev', 'environments'), 'environments-before-delete', null);
    await page.$$eval('section.env[data-env="staging"] button', (bs) => bs.find((b) => b.textContent === 'Delete').click());
    await confirmTyped();
    await page.waitForFunction(() => document.querySelector('main#main.ready') && !document.querySelector('section.env[data-env="staging"]'), { timeout: 15000 });

    // A file the Member will download (uploaded through the management API as the Owner).
    const local = (u) => u.replace(/^https?:\/\/[^/]+/, '');
    const pre = await req(server, 'POST', `/admin/v1/projects/${projectId}/environments/dev/files/presigned-url`, { token, body: { filename: 'for-members.txt', contentType: 'text/plain' } });
    assert.equal(pre.status, 200, pre.text);
    assert.equal((await req(server, 'PUT', local(pre.json.url), { raw: Buffer.from('shared with the team\n'), headers: { 'Content-Type': 'text/plain' } })).status, 200);
    const reg = await req(server, 'POST', `/admin/v1/projects/${projectId}/environments/dev/files`, { token, body: { s3Key: pre.json.key, originalName: 'for-members.txt', mimeType: 'text/plain', size: 21 } });
    assert.equal(reg.status, 201, reg.text);

    // ---- sign out; sign in as the invited Member ----
    await page.click('.topbar .user button');
    await wait('input#token');
    // The invitation's link opens the console's accept page: a name, Accept, the token shown once, signed in.
    const accept = new URL(acceptUrl);
    await page.goto(base + accept.pathname + accept.search, { waitUntil: 'networkidle0' });
    await wait('#accept');
    await page.screenshot({ path: path.join(SHOTS, 'accept-invitation.png') });
    await page.type('#accept input[name=name]', 'Vera Viewer');
    await page.click('#accept button[type=submit]');
    await wait('#continue');
    assert.match(await page.$eval('.once code.secret', (e) => e.textContent), /^bt_/);
    await page.click('#continue');
    await ready('member-home');
    assert.match(await page.$eval('.topbar', (e) => e.innerText), /member/);
    await visit(`#/org/${orgId}/settings/general`, 'member-settings', null);
    assert.equal(await page.$$eval('.tabs a', (as) => as.filter((a) => /Danger/.test(a.textContent)).length), 0, 'no Danger zone tab for a Member');
    await visit(`#/org/${orgId}/settings/danger`, 'member-danger', null);
    assert.equal(await page.$('#danger-zone'), null, 'no Danger zone for a Member');
    await visit(P('dev', 'keys'), 'member-keys');
    assert.doesNotMatch(await text(), /console session/, "the Owner's file changes made no key");
    assert.equal(await page.$('#create-key'), null, 'a Member cannot create keys');
    assert.match(await text(), /cannot create or revoke keys/);
    assert.equal(await page.$$eval('main button', (bs) => bs.filter((b) => b.textContent === 'Revoke').length), 0);
    await visit(P('dev', 'database'), 'member-database', null);
    assert.equal(await page.$('#create-table'), null);
    // A Member reads records and end users through the management API (no key of its own).
    await visit(P('dev', 'database/posts/data'), 'member-data');
    assert.match(await text(), /Post number 25/);
    assert.match(await text(), /Page 1 of 2/);
    await visit(P('dev', 'auth/users'), 'member-users');
    assert.match(await text(), /ada@example\.com/);
    assert.equal(await page.$$eval('main button', (bs) => bs.filter((b) => b.textContent === 'Ban').length), 0, 'a Member cannot ban');
    // File Storage: a Member lists and downloads files, but neither deletes them nor changes their visibility.
    await visit(P('dev', 'storage'), 'member-storage');
    assert.match(await text(), /for-members\.txt/);
    assert.equal(await page.$$eval('main button', (bs) => bs.filter((b) => b.textContent === 'Download').length), 1, 'a Member has the Download button');
    assert.equal(await page.$$eval('main button', (bs) => bs.filter((b) => /Delete|Upload/.test(b.textContent)).length), 0);
    assert.equal(await page.$('main table select'), null);
    assert.equal(await downloaded(browser, page), 'shared with the team');
    await visit(P('dev', 'database/posts/api'), 'member-table-api');
    assert.match(await text(), /OpenAPI paths[\s\S]*\/v1\/data\/posts/);
    await visit(`#/org/${orgId}/home`, 'member-home2', null);
    for (const hash of [`#/org/${orgId}/team`, `#/org/${orgId}/usage`, `#/org/${orgId}/activity`, `#/org/${orgId}/settings/tokens`,
      P('dev', 'overview'), P('dev', 'environments'), P('dev', 'database/posts/schema'), P('dev', 'database/posts/data'), P('dev', 'auth'), P('dev', 'storage'), P('dev', 'settings')]) {
      await visit(hash, 'member ' + hash, null);
      assert.equal(await page.$$eval('main form button[type=submit]', (bs) => bs.filter((b) => !/Filter|Search|Apply|Explain/.test(b.textContent)).map((b) => b.textContent).join()), '', `no change form for a Member on ${hash}`);
    }

    // ---- a Billing member: Usage and plans, no projects ----
    await page.click('.topbar .user button');
    await wait('input#token');
    const bInv = await req(server, 'POST', `/admin/v1/organizations/${orgId}/invitations`, { token, body: { email: 'bill@example.com', name: 'Bill', role: 'billing' } });
    const bAcc = await req(server, 'POST', '/admin/v1/invitations/accept', { body: { token: bInv.json.token } });
    assert.equal(bAcc.status, 201, bAcc.text);
    await page.type('input#token', bAcc.json.token);
    await page.click('#signin');
    await ready('billing-landing');
    assert.match(await page.evaluate(() => location.hash), /\/usage$/);
    assert.equal(await page.$('#project-select'), null, 'no project selector for Billing');
    assert.equal(await page.$$eval('.sidebar a', (as) => as.filter((a) => a.textContent === 'Projects').length), 0);
    assert.ok(await page.$$eval('main button', (bs) => bs.some((b) => /^Switch to/.test(b.textContent))), 'Billing may change the plan');
    await visit(`#/org/${orgId}/home`, 'billing-home', null);
    await visit(`#/org/${orgId}/team`, 'billing-team', null);
    await visit(`#/org/${orgId}/settings/plan`, 'billing-plan', null);

    // ---- the Owner changes the Member's role on the Team page ----
    await page.click('.topbar .user button');
    await wait('input#token');
    await page.type('input#token', token);
    await page.click('#signin');
    await ready('owner-again');
    await visit(`#/org/${orgId}/team`, 'team-roles', null);
    await page.select('select[aria-label="Role of viewer@example.com"]', 'billing');
    await page.waitForFunction(() => /is now billing/.test(document.getElementById('toast')?.textContent || ''), { timeout: 15000 });
    const vera = (await req(server, 'GET', `/admin/v1/organizations/${orgId}/members?search=viewer`, { token })).json.items[0];
    assert.equal(vera.role, 'billing');

    // ---- a one-time sign-in link (basalt console link): works once, then lands on the expired notice ----
    await page.click('.topbar .user button');
    await wait('input#token');
    const out = await runOnce(['console', 'link', orgId, '--data', server.dataDir, '--url', server.url]);
    const link = /https?:\/\/\S+\/console\/signin\?code=\S+/.exec(out.stdout + out.stderr);
    assert.ok(link, 'basalt console link prints a link: ' + out.stdout + out.stderr);
    await page.goto(link[0], { waitUntil: 'networkidle0' });
    await ready('link-home');
    assert.match(await page.$eval('.topbar', (e) => e.innerText), /owner/);
    await page.click('.topbar .user button');
    await wait('input#token');
    await page.goto(link[0], { waitUntil: 'networkidle0' });
    await wait('#signin-notice');
    assert.match(await page.$eval('#signin-notice', (e) => e.textContent), /expired or was already used/);

    assert.deepEqual(problems, [], 'no console error and no failed request');
    console.log('# page load times (ms): ' + JSON.stringify(timings));
  } finally {
    await browser.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

// Clicks the page's (first) Download button and reads the tab it opens on the file's signed link: its text.
async function downloaded(browser, page) {
  const opened = browser.waitForTarget((t) => t.type() === 'page' && /\/storage\//.test(t.url()), { timeout: 15000 });
  await page.$$eval('main button', (bs) => bs.find((b) => b.textContent === 'Download').click());
  const tab = await (await opened).page();
  await tab.waitForFunction(() => document.readyState === 'complete' && document.body, { timeout: 15000 });
  const body = (await tab.evaluate(() => document.body.innerText)).trim();
  await tab.close();
  return body;
}

// The cumulative value of this month in a metric's chart (its last non-null bar).
async function chartTotal(page, metric) {
  return page.evaluate((m) => {
    const c = window.Chart.getChart(document.querySelector(`canvas[data-metric=${m}]`));
    const d = c.data.datasets.find((x) => x.label === 'This month so far').data.filter((v) => v !== null);
    return d.length ? d[d.length - 1] : 0;
  }, metric);
}

function watch(page, problems) {
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    const x = { status: r.status(), method: r.request().method(), url: r.url().split('?')[0] };
    if (x.status >= 400 && !EXPECTED.some((f) => f(x))) problems.push(`HTTP ${x.status}: ${x.method} ${r.url()}`);
  });
}
