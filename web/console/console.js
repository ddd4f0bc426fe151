// console.js: the console's shell: session, hash router, top bar (organization / project / environment and the
// usage-alert banner), sidebar, sign-in and sign-out. Pages live in org.js and project.js.
import { h, toast, button, METRIC_WORDS } from './ui.js';
import { session, loadSession, signIn, signOut, get, items, setUnauthorizedHandler } from './api.js';
import { orgPages } from './org.js';
import { projectPages } from './project.js';

const root = document.getElementById('app');
const ctx = { org: null, projects: [], envs: {}, project: null, env: null, refresh: () => route() };
export const go = (hash) => { if (location.hash === hash) route(); else location.hash = hash; };
ctx.go = go;

const ORG_NAV = [['home', 'Home'], ['projects', 'Projects'], ['team', 'Team'], ['usage', 'Usage'], ['activity', 'Activity'], ['settings', 'Settings']];
const PROJECT_NAV = [['overview', 'Overview'], ['environments', 'Environments'], ['database', 'Database'], ['auth', 'Authentication'],
  ['storage', 'File Storage'], ['activity', 'Activities'], ['keys', 'API Keys'], ['cors', 'CORS'], ['settings', 'Settings']];

setUnauthorizedHandler(() => { session.csrf = null; showSignIn('Your session has ended. Sign in again.'); });

function showSignIn(notice) {
  document.title = 'Sign in · Basalt console';
  const params = new URLSearchParams(location.search);
  if (!notice && params.get('signin') === 'expired') notice = 'This sign-in link has expired or was already used. Ask for a new one (basalt console link) or sign in with an access token.';
  const err = h('p.error');
  const input = h('input#token', { type: 'password', name: 'token', placeholder: 'bt_…', autocomplete: 'off', required: true });
  const f = h('form.signin-form', h('label', h('span', 'Access token'), input), h('button.primary#signin', { type: 'submit' }, 'Sign in'), err);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await signIn(input.value.trim());
      input.value = '';
      if (params.has('signin')) history.replaceState(null, '', location.pathname + location.hash);
      await start(true);
    } catch (x) { err.textContent = x.status === 401 ? 'That token is not valid (revoked, expired or mistyped).' : x.message; }
  });
  root.replaceChildren(h('div.signin', h('div.card',
    h('h1', 'Basalt'), h('p', 'Sign in to the console with an operator access token (bt_…), as the CLI uses, or with a one-time link from ', h('code', 'basalt console link'), '.'),
    notice ? h('p.notice#signin-notice', notice) : null, f)));
  input.focus();
}

async function start(signedIn = false) {
  if (!signedIn && !(await loadSession())) return showSignIn();
  ctx.org = { id: session.organizationId };
  const [orgs] = await Promise.all([get('/organizations').then(items), loadProjects()]);
  ctx.org = orgs.find((o) => o.id === session.organizationId) || orgs[0];
  ctx.orgs = orgs;
  window.onhashchange = route;
  route();
}

async function loadProjects() {
  ctx.projects = session.role === 'billing' ? [] : items(await get('/projects', { organizationId: ctx.org.id, limit: 100 }));
}
ctx.loadProjects = loadProjects;
async function envsOf(p) {
  if (!ctx.envs[p]) ctx.envs[p] = items(await get(`/projects/${p}/environments`));
  return ctx.envs[p];
}
ctx.envsOf = envsOf;
ctx.forgetEnvs = (p) => { delete ctx.envs[p]; };

let seq = 0;
async function route() {
  if (!session.csrf) return showSignIn();
  const my = ++seq;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let level, page, sub = [];
  if (parts[0] === 'project' && parts[1]) {
    level = 'project';
    ctx.project = ctx.projects.find((p) => p.id === parts[1]) || (await get('/projects/' + parts[1]).catch(() => null));
    if (!ctx.project) return go(`#/org/${ctx.org.id}/projects`);
    const envs = await envsOf(ctx.project.id).catch(() => []);
    ctx.env = parts[2] === 'env' && parts[3] ? parts[3] : (envs[0] && envs[0].environment) || 'dev';
    page = parts[4] || 'overview';
    sub = parts.slice(5);
  } else {
    level = 'org';
    page = parts[0] === 'org' && parts[2] ? parts[2] : 'home';
    sub = parts.slice(3);
    ctx.project = null;
  }
  if (level === 'org' && (parts[0] !== 'org' || !parts[2])) { // landing: the project last worked in, else the organization
    const last = (localStorage.getItem('basalt.lastProject') || '').split('/'); // ids only, never a credential
    if (!parts[0] && ctx.projects.some((p) => p.id === last[0])) return go(`#/project/${last[0]}/env/${last[1] || 'dev'}/overview`);
    return go(`#/org/${ctx.org.id}/${session.role === 'billing' ? 'usage' : 'home'}`);
  }
  if (level === 'project') localStorage.setItem('basalt.lastProject', `${ctx.project.id}/${ctx.env}`);
  const pages = level === 'org' ? orgPages : projectPages;
  const main = h('main#main', { 'data-page': level + '-' + page });
  const shell = h('div.shell', topBar(level), h('div.body', sidebar(level, page), main));
  if (my !== seq) return;
  root.replaceChildren(shell);
  banner();
  const fn = pages[page];
  if (!fn) { main.append(h('h1', 'Not found'), h('p', 'No such page.')); return; }
  try {
    await fn(ctx, main, sub);
    main.classList.add('ready');
  } catch (e) {
    main.append(h('p.error', e.message));
    main.classList.add('ready');
  }
}

function link(level, page) {
  return level === 'org' ? `#/org/${ctx.org.id}/${page}` : `#/project/${ctx.project.id}/env/${encodeURIComponent(ctx.env)}/${page}`;
}
ctx.link = link;

function sidebar(level, page) {
  const nav = level === 'org' ? ORG_NAV.filter(([p]) => session.role !== 'billing' || !['projects'].includes(p)) : PROJECT_NAV;
  return h('nav.sidebar', h('div.level', level === 'org' ? 'Organization' : 'Project'),
    nav.map(([p, label]) => h('a', { href: link(level, p), class: p === page ? 'on' : '', 'data-nav': p }, label)),
    level === 'project' ? h('a.back', { href: link('org', 'home') }, '← Organization') : null);
}

function topBar(level) {
  const orgSel = h('select#org-select', { title: 'Organization' }, (ctx.orgs || [ctx.org]).map((o) => h('option', { value: o.id }, o.displayName || o.name)));
  orgSel.value = ctx.org.id;
  const projSel = h('select#project-select', { title: 'Project' }, h('option', { value: '' }, 'Select a project…'),
    ctx.projects.map((p) => h('option', { value: p.id }, p.name)));
  projSel.value = ctx.project ? ctx.project.id : '';
  projSel.addEventListener('change', () => go(projSel.value ? `#/project/${projSel.value}/env/dev/overview` : link('org', 'home')));
  let envSel = null;
  if (level === 'project') {
    envSel = h('select#env-select', { title: 'Environment' });
    envsOf(ctx.project.id).then((envs) => {
      for (const e of envs) envSel.append(h('option', { value: e.environment }, `${e.environment} · ${e.environmentType} · ${e.status}`));
      envSel.value = ctx.env;
    }).catch(() => {});
    envSel.addEventListener('change', () => {
      const rest = location.hash.split('/').slice(5, 6).join('/') || 'overview';
      go(`#/project/${ctx.project.id}/env/${encodeURIComponent(envSel.value)}/${rest}`);
    });
  }
  const who = session.member ? (session.member.name || session.member.email) : `Token ${session.tokenName || ''}`;
  return h('header.topbar',
    h('a.brand', { href: link('org', 'home') }, 'Basalt'),
    orgSel, session.role === 'billing' ? null : projSel, envSel,
    h('div#banner-slot'),
    h('div.user', h('span', who), h('span.badge.b-role', session.role),
      button('Sign out', async () => { await signOut(); location.hash = ''; showSignIn('You are signed out.'); }, 'ghost')));
}

// The usage-alert banner (docs/quotas.md "Alerts"): this month's 80 % / 100 % alerts.
async function banner() {
  const slot = document.getElementById('banner-slot');
  try {
    const alerts = items(await get(`/organizations/${ctx.org.id}/alerts`));
    if (!alerts.length) return;
    const worst = alerts.reduce((a, b) => (b.threshold > a.threshold ? b : a));
    slot.replaceWith(h('a.banner#alert-banner', { href: link('org', 'usage'), class: worst.level === 'limit' ? 'limit' : 'warn' },
      `${METRIC_WORDS[worst.metric] || worst.metric}: ${worst.threshold} % of the monthly limit reached` + (alerts.length > 1 ? ` (+${alerts.length - 1} more)` : '')));
  } catch { /* no banner */ }
}

start().catch((e) => { root.replaceChildren(h('p.error', e.message)); toast(e.message, true); });
