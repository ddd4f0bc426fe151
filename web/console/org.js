// org.js: the organization's pages: Home, Projects, Team, Usage, Activity, Settings.
import { h, card, stat, table, form, button, badge, toast, confirmTyped, shownOnce, pager, tabs,
  fmtNum, fmtBytes, fmtDate, fmtDay, ago, METRIC_WORDS, METRICS, fmtMetric } from './ui.js';
import { api, get, items, session, can } from './api.js';

const ACTION_KIND = { create: 'created', created: 'created', update: 'updated', updated: 'updated', delete: 'deleted', deleted: 'deleted',
  deploy: 'deployed', deployed: 'deployed', upgrade: 'updated', downgrade: 'updated', transfer: 'updated', leave: 'deleted', resend: 'created', accept: 'created', accepted: 'created', revoke: 'revoked', revoked: 'revoked',
  permissions: 'updated', rollback: 'updated', ban: 'revoked', unban: 'created' };
const actionBadge = (a) => badge(a, ACTION_KIND[a] || 'other');

// What the activity log records (docs/platform.md "Activity log"): the filters of both Activity pages.
export const ENTITY_TYPES = ['organization', 'plan', 'project', 'environment', 'table', 'schema', 'index', 'key', 'auth', 'provider',
  'template', 'user', 'session', 'file', 'token', 'invitation', 'member', 'quota'];
export const ACTIONS = ['create', 'update', 'delete', 'permissions', 'rollback', 'ban', 'unban', 'upgrade', 'downgrade', 'accept', 'revoke',
  'resend', 'leave', 'transfer', 'suspend', 'resume'];

export function activityList(entries) {
  return table([
    { label: 'When', get: (a) => h('span', { title: fmtDate(a.createdAt) }, ago(a.createdAt)) },
    { label: 'Entity', get: (a) => badge(a.entityType, 'entity') },
    { label: 'Environment', get: (a) => a.environment || '–' },
    { label: 'Action', get: (a) => actionBadge(a.action) },
    { label: 'Message', get: (a) => a.message },
    { label: 'Actor', get: (a) => h('code', a.actor || a.actorType || '–') },
  ], entries, 'No activity yet.');
}

async function home(ctx, main) {
  const org = ctx.org;
  const [members, summary, tableCounts] = await Promise.all([
    get(`/organizations/${org.id}/members`, { limit: 1 }).catch(() => null),
    get('/usage/summary', { organizationId: org.id }).catch(() => null),
    Promise.all(ctx.projects.slice(0, 20).map(async (p) => {
      const envs = await ctx.envsOf(p.id).catch(() => []);
      const ts = await Promise.all(envs.map((e) => get(`/projects/${p.id}/environments/${e.environment}/tables`, { limit: 1 }).then((r) => r.pagination.total).catch(() => 0)));
      return ts.reduce((a, b) => a + b, 0);
    })),
  ]);
  const storage = summary && summary.items.find((i) => i.metric === 'storage');
  const tablesTotal = tableCounts.reduce((a, b) => a + b, 0);
  const recent = [...ctx.projects].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt))).slice(0, 6);
  const act = h('div');
  const loadAct = async (page) => {
    const r = await get(`/organizations/${org.id}/activity`, { page, limit: 5 });
    act.replaceChildren(activityList(items(r)), pager(r.pagination, loadAct));
  };
  main.append(
    h('h1', org.displayName || org.name, ' ', badge(org.plan, 'plan'), ' ', badge(org.status)),
    h('div.stats', stat('Projects', fmtNum(ctx.projects.length)),
      stat('Members', members ? fmtNum(members.pagination ? members.pagination.total : items(members).length) : '–'),
      stat('File storage', storage ? fmtBytes(storage.used) : '–'), stat('Tables', fmtNum(tablesTotal))),
    h('div.quick', can('project:create') ? h('a.button', { href: ctx.link('org', 'projects') + '/new' }, 'New project') : null,
      can('team:invite') ? h('a.button', { href: ctx.link('org', 'team') }, 'Invite member') : null,
      h('a.button', { href: ctx.link('org', 'projects') }, 'All projects'),
      h('a.button', { href: ctx.link('org', 'settings') }, 'Organization settings')),
    card('Recent projects', recent.length ? h('div.cards', recent.map(projectCard)) : h('p.empty', 'No project yet.')),
    card('Recent activity', act));
  await loadAct(1).catch((e) => act.append(h('p.error', e.message)));
}

function projectCard(p) {
  return h('a.pcard', { href: `#/project/${p.id}/env/dev/overview` }, h('strong', p.name), h('span.muted', p.slug),
    h('p', p.description || ''), h('span.muted', `${p.primaryCloud || '–'} · ${p.primaryRegion || '–'} · ${fmtNum(p.environmentCount)} env`));
}

async function projects(ctx, main, sub) {
  await ctx.loadProjects();
  const list = h('div');
  const render = () => list.replaceChildren(table([
    { label: 'Name', get: (p) => h('a', { href: `#/project/${p.id}/env/dev/overview` }, p.name) },
    { label: 'Slug', get: (p) => h('code', p.slug) },
    { label: 'Region', get: (p) => `${p.primaryCloud || '–'} / ${p.primaryRegion || '–'}` },
    { label: 'Environments', get: (p) => fmtNum(p.environmentCount) },
    { label: 'Status', get: (p) => badge(p.status) },
    { label: 'Created', get: (p) => fmtDay(p.createdAt) },
  ], ctx.projects, 'No project yet. Create one to get a dev environment.'));
  render();
  main.append(h('h1', 'Projects'), card(null, list));
  if (can('project:create')) {
    const f = form([
      { name: 'name', label: 'Name', required: true, placeholder: 'My app' },
      { name: 'slug', label: 'Slug', required: true, placeholder: 'my-app' },
      { name: 'description', label: 'Description' },
      { name: 'primaryCloud', label: 'Cloud', type: 'select', options: ['aws', 'gcp', 'azure'] },
      { name: 'primaryRegion', label: 'Region', placeholder: 'ap-northeast-2' },
    ], 'Create project', async (v, el) => {
      const p = await api('POST', '/projects', { organizationId: ctx.org.id, ...v, primaryRegion: v.primaryRegion || undefined, description: v.description || undefined });
      toast(`Project ${p.name} created with its dev environment`);
      el.reset();
      await ctx.loadProjects();
      ctx.go(`#/project/${p.id}/env/dev/overview`);
    }, { id: 'create-project' });
    main.append(card('Create project', f));
    if (sub[0] === 'new') f.elements.name.focus();
  }
}

async function team(ctx, main) {
  const org = ctx.org;
  const membersBox = h('div'), invBox = h('div');
  const roles = session.role === 'owner' ? ['member', 'admin', 'billing'] : ['member'];
  const loadMembers = async (search = '', role = '') => {
    const ms = items(await get(`/organizations/${org.id}/members`, { search, role, limit: 100 }));
    membersBox.replaceChildren(table([
      { label: 'Member', get: (m) => h('span', h('strong', m.name || '–'), ' ', h('span.muted', m.email), session.member && session.member.id === m.id ? badge('You', 'you') : null) },
      { label: 'Role', get: (m) => {
        const self = session.member && session.member.id === m.id; // yourself: Settings → Leave, or transfer
        if (self || !can('team:role') || (session.role === 'admin' && !['member', 'billing'].includes(m.role))) return badge(m.role, 'role');
        const sel = h('select', { 'aria-label': 'Role of ' + m.email }, (session.role === 'owner' ? ['owner', 'admin', 'member', 'billing'] : ['member', 'billing']).map((r) => h('option', { value: r }, r)));
        sel.value = m.role;
        sel.addEventListener('change', async () => {
          try { await api('PATCH', `/organizations/${org.id}/members/${m.id}`, { role: sel.value }); toast(`${m.email} is now ${sel.value}`); } catch (e) { toast(e.message, true); sel.value = m.role; }
        });
        return sel;
      } },
      { label: 'Status', get: (m) => badge(m.status || 'active') },
      { label: 'Joined', get: (m) => fmtDay(m.joinedAt) },
      { label: '', get: (m) => (can('team:remove') && !(session.member && session.member.id === m.id) ? button('Remove', async () => {
        if (!(await confirmTyped(`Remove ${m.email} from the organization? Their tokens stop working at once.`, m.email))) return;
        await api('DELETE', `/organizations/${org.id}/members/${m.id}`); toast('Removed'); await loadMembers();
      }, 'danger small') : null) },
    ], ms, 'No members yet (a service token has no member).'));
  };
  const loadInv = async () => {
    const inv = items(await get(`/organizations/${org.id}/invitations`, { limit: 100 }));
    invBox.replaceChildren(table([
      { label: 'E-mail', get: (i) => i.email },
      { label: 'Name', get: (i) => i.name || '–' },
      { label: 'Role', get: (i) => badge(i.role, 'role') },
      { label: 'Status', get: (i) => badge(i.status) },
      { label: 'Expires', get: (i) => fmtDay(i.expiresAt) },
      { label: '', get: (i) => (can('team:invite') && (session.role === 'owner' || i.role === 'member') ? h('div.row',
        i.status !== 'accepted' ? button('Resend', async () => { const r = await api('POST', `/organizations/${org.id}/invitations/${i.id}/resend`); showLink(r); await loadInv(); }, 'small') : null,
        i.status === 'pending' ? button('Cancel', async () => { await api('DELETE', `/organizations/${org.id}/invitations/${i.id}`); toast('Invitation cancelled'); await loadInv(); }, 'small') : null) : null) },
    ], inv, 'No invitations.'));
  };
  const linkBox = h('div');
  const showLink = (r) => linkBox.replaceChildren(shownOnce(`Invitation link for ${r.email}`, r.acceptUrl || r.token));
  const filters = form([{ name: 'search', label: 'Search name or e-mail' }, { name: 'role', label: 'Role', type: 'select', options: [['', 'All'], 'owner', 'admin', 'member', 'billing'] }],
    'Filter', (v) => loadMembers(v.search, v.role));
  filters.classList.add('inline');
  main.append(h('h1', 'Team'), card('Members', filters, membersBox), card('Invitations', invBox));
  if (can('team:invite')) {
    main.append(card('Invite a member', form([
      { name: 'email', label: 'E-mail', type: 'email', required: true },
      { name: 'name', label: 'Name' },
      { name: 'role', label: 'Role', type: 'select', options: roles },
    ], 'Send invitation', async (v, el) => {
      const r = await api('POST', `/organizations/${org.id}/invitations`, { email: v.email, name: v.name || undefined, role: v.role });
      el.reset(); showLink(r); toast('Invitation sent'); await loadInv();
    }, { id: 'invite' }), linkBox));
  }
  await Promise.all([loadMembers(), loadInv()]);
}

// ---- Usage ----
const PLANS = [ // src/core/plans.c: envs per project, projects, API calls, storage, MAU, bandwidth (null: unlimited)
  ['free', 1, 2, 10000, 1 << 30, 1000, 5 * 2 ** 30, 'dev only'],
  ['starter', 3, 5, 100000, 10 * 2 ** 30, 10000, 50 * 2 ** 30, 'dev, staging, prod; webhooks'],
  ['growth', 10, 20, 1000000, 100 * 2 ** 30, 100000, 500 * 2 ** 30, 'all types; webhooks, custom domains, analytics'],
  ['enterprise', null, null, null, null, null, null, 'everything, SSO, priority support'],
];
const unl = (v, f = fmtNum) => (v === null ? 'unlimited' : f(v));
const charts = [];
// Chart.js (200 KB) is loaded by the Usage page only, once.
let chartLib;
const loadChart = () => (chartLib ||= new Promise((resolve, reject) => {
  if (window.Chart) return resolve();
  const s = h('script', { src: 'vendor/chart.js' });
  s.addEventListener('load', resolve);
  s.addEventListener('error', () => { chartLib = null; reject(new Error('The chart library did not load (vendor/chart.js)')); });
  document.head.append(s);
}));
function chart(canvas, cfg) {
  const C = window.Chart;
  if (!C) { canvas.replaceWith(h('p.error', 'The chart library did not load.')); return; }
  charts.push(new C(canvas, cfg));
}
function destroyCharts() { while (charts.length) charts.pop().destroy(); }
window.addEventListener('hashchange', destroyCharts);

function days(from, to) { const out = []; for (let d = new Date(from); d < to; d = new Date(d.getTime() + 864e5)) out.push(d.toISOString().slice(0, 10)); return out; }

async function allRows(query, maxPages = 20) { // page 1, then the other pages at once
  const first = await get('/usage', { ...query, page: 1, limit: 100 });
  const pages = Math.min(maxPages, Math.ceil((first.total ?? 0) / 100));
  const rest = await Promise.all(Array.from({ length: Math.max(0, pages - 1) }, (_, i) => get('/usage', { ...query, page: i + 2, limit: 100 })));
  return [first, ...rest].flatMap(items);
}

async function usage(ctx, main) {
  const org = ctx.org;
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const monthEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  // Today's daily row may lag the roll-up: the hourly rows of today fill in.
  const today = now.toISOString().slice(0, 10);
  const since = new Date(Date.now() - 7 * 864e5);
  const hourly7 = (m) => allRows({ organizationId: org.id, period: 'hourly', type: m, startDate: since.toISOString().slice(0, 10) }, 10);
  const firstHourly = hourly7('api_call');
  firstHourly.catch(() => {}); // awaited below; no unhandled rejection if the page fails earlier
  const [summary, , alerts, plan, rows, hourlyToday] = await Promise.all([
    get('/usage/summary', { organizationId: org.id }),
    loadChart(),
    get(`/organizations/${org.id}/alerts`).then(items).catch(() => []),
    get(`/organizations/${org.id}/plan`).catch(() => null),
    allRows({ organizationId: org.id, period: 'daily', startDate: monthStart.toISOString().slice(0, 10), endDate: today }),
    allRows({ organizationId: org.id, period: 'hourly', startDate: today, endDate: today }),
  ]);
  const dayKeys = days(monthStart, monthEnd);
  const series = {}; // metric → day → value
  const breakdown = {}; // metric → "project / env" → value
  const haveDaily = new Set();
  for (const r of rows) {
    const d = r.periodStart.slice(0, 10);
    haveDaily.add(r.metricType + d + r.environmentId);
  }
  const gauge = {}; // storage: the latest reading of each environment per day
  for (const r of [...rows, ...hourlyToday.filter((x) => !haveDaily.has(x.metricType + today + x.environmentId))]) {
    const d = r.periodStart.slice(0, 10), m = r.metricType;
    const k = `${projName(ctx, r.projectId)} / ${r.environment}`;
    (series[m] ||= {}); (breakdown[m] ||= {});
    if (m === 'storage') {
      const g = gauge[d + r.environmentId];
      if (!g || g.t < r.periodStart) gauge[d + r.environmentId] = { t: r.periodStart, v: r.value, k, d };
    } else { series[m][d] = (series[m][d] || 0) + r.value; breakdown[m][k] = (breakdown[m][k] || 0) + r.value; }
  }
  for (const g of Object.values(gauge)) {
    series.storage[g.d] = (series.storage[g.d] || 0) + g.v;
    if (!breakdown.storage[g.k + '\n'] || breakdown.storage[g.k + '\n'] < g.d) { breakdown.storage[g.k + '\n'] = g.d; breakdown.storage[g.k] = g.v; }
  }
  if (breakdown.storage) for (const k of Object.keys(breakdown.storage)) if (k.endsWith('\n')) delete breakdown.storage[k];
  const sum = Object.fromEntries(summary.items.map((i) => [i.metric, i]));
  main.append(h('h1', 'Usage'),
    h('p.muted', `Plan ${summary.plan}. This month: ${fmtDay(summary.periodStart)} to ${fmtDay(summary.resetAt)} (UTC); counters reset on ${fmtDay(summary.resetAt)}.`),
    alerts.length ? card('Alerts this month', table([
      { label: 'Metric', get: (a) => METRIC_WORDS[a.metric] || a.metric },
      { label: 'Threshold', get: (a) => badge(a.threshold + ' %', a.level) },
      { label: 'Used', get: (a) => fmtMetric(a.metric, a.used) + ' of ' + fmtMetric(a.metric, a.limit) },
      { label: 'Raised', get: (a) => fmtDate(a.createdAt) }], alerts)) : null);
  const grid = h('div.charts');
  main.append(grid);
  for (const m of METRICS) {
    const s = sum[m] || { used: 0, limit: null, percent: null };
    const raised = alerts.filter((a) => a.metric === m).map((a) => a.threshold + ' %').join(', ');
    const canvas = h('canvas', { 'data-metric': m, width: 400, height: 180 });
    grid.append(h('section.card.chart-card', { 'data-metric': m },
      h('h2', METRIC_WORDS[m]),
      h('div.meter', { title: s.percent === null ? 'no limit' : s.percent + ' %' }, meterBar(s.percent)),
      h('p', h('strong', fmtMetric(m, s.used)), s.limit === null ? ' · no plan limit' : ` of ${fmtMetric(m, s.limit)} · ${s.percent} % used`,
        h('br'), h('span.muted', s.resetAt ? `Resets ${fmtDay(s.resetAt)}` : m === 'storage' ? 'A gauge: never resets' : `Resets ${fmtDay(summary.resetAt)}`),
        raised ? h('span.alert-note', ` · alerts raised: ${raised}`) : null),
      h('div.chart-box', canvas)));
    let acc = 0;
    const past = (d) => new Date(d) <= now;
    const daily = dayKeys.map((d) => (past(d) ? (series[m] && series[m][d]) || 0 : null));
    const datasets = m === 'storage'
      ? [{ type: 'line', label: 'Stored (latest reading of the day)', data: dayKeys.map((d) => (series[m] && series[m][d] !== undefined ? series[m][d] : null)), borderColor: '#0f766e', spanGaps: true, pointRadius: 2 }]
      : [{ type: 'line', label: 'This month so far', data: daily.map((v) => (v === null ? null : (acc += v))), borderColor: '#0f766e', pointRadius: 0, borderWidth: 2 },
        { type: 'bar', label: 'Per day', data: daily, backgroundColor: '#a8a29e' }];
    if (s.limit !== null) datasets.push({ type: 'line', label: 'Plan limit', data: dayKeys.map(() => s.limit), borderColor: '#dc2626', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
    chart(canvas, { type: 'bar', data: { labels: dayKeys.map((d) => d.slice(8)), datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: true, labels: { boxWidth: 10 } } },
        scales: { y: { beginAtZero: true, ticks: { callback: (v) => fmtMetric(m, v) } } } } });
  }

  // Hourly detail, last 7 days, one metric at a time.
  const hourlyBox = h('div.chart-box.wide', h('canvas#hourly'));
  const metricSel = h('select#hourly-metric', METRICS.map((m) => h('option', { value: m }, METRIC_WORDS[m])));
  const drawHourly = async (pending) => {
    const m = metricSel.value;
    const rs = await (pending || hourly7(m));
    const byHour = {};
    for (const r of rs) byHour[r.periodStart.slice(0, 13)] = (byHour[r.periodStart.slice(0, 13)] || 0) + r.value;
    const labels = [];
    for (let t = Math.floor(since.getTime() / 36e5) * 36e5; t <= Date.now(); t += 36e5) labels.push(new Date(t).toISOString().slice(0, 13));
    const canvas = h('canvas#hourly');
    hourlyBox.replaceChildren(canvas);
    chart(canvas, { type: 'line', data: { labels: labels.map((l) => l.slice(5).replace('T', ' ') + 'h'), datasets: [{ label: METRIC_WORDS[m] + ' per hour', data: labels.map((l) => byHour[l] || 0), borderColor: '#0f766e', pointRadius: 0, fill: false }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { callback: (v) => fmtMetric(m, v) } } } } });
  };
  metricSel.addEventListener('change', () => drawHourly());
  main.append(card('Hourly detail, last 7 days', metricSel, hourlyBox));
  await drawHourly(firstHourly);

  // Breakdown per project and environment.
  const keys = [...new Set(Object.values(breakdown).flatMap((b) => Object.keys(b)))].sort();
  main.append(card('This month per project and environment', table(
    [{ label: 'Project / environment', get: (k) => k }, ...METRICS.map((m) => ({ label: METRIC_WORDS[m], get: (k) => fmtMetric(m, (breakdown[m] || {})[k] || 0) }))],
    keys, 'No usage recorded this month.')));

  // Plan comparison: what an upgrade changes.
  const cur = plan ? plan.plan : summary.plan;
  main.append(card('Plans', h('p.muted', plan && plan.scheduledPlan ? `A change to ${plan.scheduledPlan} is scheduled for ${fmtDay(plan.scheduledAt)}.` : 'Upgrades apply at once; downgrades at the start of next month.'),
    table([
      { label: 'Plan', get: (p) => h('span', p[0], p[0] === cur ? badge('current', 'created') : null) },
      { label: 'API calls / month', get: (p) => unl(p[3]) + delta(p[3], sum.api_call) },
      { label: 'Storage', get: (p) => unl(p[4], fmtBytes) + delta(p[4], sum.storage) },
      { label: 'Monthly active users', get: (p) => unl(p[5]) + delta(p[5], sum.mau) },
      { label: 'Bandwidth / month', get: (p) => unl(p[6], fmtBytes) + delta(p[6], sum.bandwidth) },
      { label: 'Projects', get: (p) => unl(p[2]) },
      { label: 'Environments / project', get: (p) => unl(p[1]) },
      { label: 'Includes', get: (p) => p[7] },
      { label: '', get: (p) => (can('plan:change') && p[0] !== cur ? button(`Switch to ${p[0]}`, async () => {
        if (!(await confirmTyped(`Change the plan to ${p[0]}?`, p[0]))) return;
        const r = await api('PUT', `/organizations/${org.id}/plan`, { plan: p[0] });
        toast(r.scheduledPlan ? `Scheduled for ${fmtDay(r.scheduledAt)}` : `Now on ${r.plan}`); ctx.refresh();
      }, 'small') : null) },
    ], PLANS)));
}
function delta(limit, s) {
  if (!s || s.used === undefined) return '';
  if (limit === null) return ' (0 % used)';
  return ` (${Math.round((s.used / limit) * 1000) / 10} % used)`;
}
function meterBar(percent) {
  const bar = h('div.meter-fill', { class: percent >= 100 ? 'limit' : percent >= 80 ? 'warn' : '' });
  bar.style.width = Math.min(100, percent || 0) + '%'; // CSSOM: allowed by the CSP
  return bar;
}
function projName(ctx, id) { const p = ctx.projects.find((x) => x.id === id); return p ? p.name : id || '–'; }

// ---- Activity (audit) ----
async function activity(ctx, main) {
  const box = h('div');
  let q = {};
  const load = async (page = 1) => {
    const r = await get(`/organizations/${ctx.org.id}/activity`, { ...q, page, limit: 20 });
    box.replaceChildren(activityList(items(r)), pager(r.pagination, load));
  };
  const f = form([
    { name: 'search', label: 'Search message' },
    { name: 'entityType', label: 'Entity', type: 'select', options: [['', 'All'], ...ENTITY_TYPES] },
    { name: 'action', label: 'Action', type: 'select', options: [['', 'All'], ...ACTIONS] },
  ], 'Filter', async (v) => { q = v; await load(1); }, { id: 'activity-filter' });
  f.classList.add('inline');
  main.append(h('h1', 'Activity'), h('p.muted', 'Every management change, newest first, 20 a page.'), card(null, f, h('div.row', button('Refresh', () => load(1), 'ghost')), box));
  await load(1);
}

// ---- Settings ----
async function settings(ctx, main, sub) {
  const org = ctx.org;
  const tab = sub[0] || 'general';
  const T = [['General', 'general'], ['Plan', 'plan'], ['Access tokens', 'tokens'], ['Audit', 'audit']];
  if (can('org:delete') || can('transfer')) T.push(['Danger zone', 'danger']);
  main.append(h('h1', 'Settings'), tabs(T.map(([l, t]) => [l, ctx.link('org', 'settings') + '/' + t]), (T.find((x) => x[1] === tab) || T[0])[0]));
  if (tab === 'general') {
    const o = await get('/organizations/' + org.id);
    main.append(card('General', h('dl.facts', h('dt', 'Organization ID'), h('dd', h('code', o.id)), h('dt', 'Slug'), h('dd', o.slug),
      h('dt', 'Plan'), h('dd', badge(o.plan, 'plan')), h('dt', 'Status'), h('dd', badge(o.status)), h('dt', 'Created'), h('dd', fmtDate(o.createdAt))),
    can('org:edit') ? form([
      { name: 'name', label: 'Name', value: o.name }, { name: 'displayName', label: 'Display name', value: o.displayName || '' },
      { name: 'description', label: 'Description', type: 'textarea', value: o.description || '' },
      { name: 'notificationEmail', label: 'Notification e-mail (usage alerts)', type: 'email', value: o.notificationEmail || '' },
    ], 'Save', async (v) => { Object.assign(org, await api('PATCH', '/organizations/' + org.id, { ...v, notificationEmail: v.notificationEmail || null })); toast('Saved'); }, { id: 'org-general' })
      : h('p.muted', 'Only an Owner or Admin edits these.'),
    session.member && session.role !== 'owner' ? h('div', h('h3', 'Leave the organization'), button('Leave', async () => {
      if (!(await confirmTyped('Leave the organization? Your tokens stop working at once.', org.slug))) return;
      await api('POST', `/organizations/${org.id}/leave`); location.reload();
    }, 'danger')) : null));
  } else if (tab === 'plan') {
    const p = await get(`/organizations/${org.id}/plan`);
    main.append(card('Plan', h('p', 'Current plan: ', badge(p.plan, 'plan'), p.scheduledPlan ? ` → ${p.scheduledPlan} on ${fmtDay(p.scheduledAt)}` : ''),
      table([{ label: 'Limit', get: (e) => e[0] }, { label: 'Value', get: (e) => (e[1] === null || e[1] < 0 ? 'unlimited' : /bytes|storage|bandwidth/i.test(e[0]) ? fmtBytes(e[1]) : fmtNum(e[1])) }], Object.entries(p.limits || {})),
      h('p', 'Features: ', Object.entries(p.features || {}).filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'),
      h('p', h('a', { href: ctx.link('org', 'usage') }, 'Compare plans and usage →'))));
  } else if (tab === 'tokens') {
    const box = h('div'), once = h('div');
    const load = async () => {
      const ts = can('tokens') ? items(await get(`/organizations/${org.id}/access-tokens`)) : [];
      box.replaceChildren(can('tokens') ? table([
        { label: 'Name', get: (t) => t.name }, { label: 'Hint', get: (t) => h('code', t.tokenHint) }, { label: 'Role', get: (t) => badge(t.role, 'role') },
        { label: 'Status', get: (t) => badge(t.status) }, { label: 'Created', get: (t) => fmtDay(t.createdAt) }, { label: 'Expires', get: (t) => fmtDay(t.expiresAt) },
        { label: '', get: (t) => (t.status === 'active' ? button('Revoke', async () => {
          if (!(await confirmTyped(`Revoke the token ${t.name}? Programs using it stop working.`, t.name))) return;
          await api('DELETE', `/organizations/${org.id}/access-tokens/${t.id}`); toast('Revoked'); await load();
        }, 'danger small') : null) }], ts) : h('p.muted', 'Only an Owner or Admin manages access tokens.'));
    };
    main.append(card('Access tokens', h('p.muted', 'Operator tokens (bt_…) for the CLI and automation.'), box,
      can('tokens') ? form([{ name: 'name', label: 'Name', required: true }, { name: 'role', label: 'Role', type: 'select', options: session.role === 'owner' ? ['admin', 'member', 'billing', 'owner'] : ['admin', 'member', 'billing'] }],
        'Create token', async (v, el) => { const t = await api('POST', `/organizations/${org.id}/access-tokens`, v); el.reset(); once.replaceChildren(shownOnce('New token ' + t.name, t.token)); await load(); }, { id: 'create-token' }) : null, once));
    await load();
  } else if (tab === 'audit') {
    await activity(ctx, main);
  } else if (tab === 'danger' && (can('org:delete') || can('transfer'))) {
    const box = card('Danger zone');
    box.classList.add('danger-zone');
    box.id = 'danger-zone';
    if (can('transfer')) {
      const ms = items(await get(`/organizations/${org.id}/members`, { limit: 100 })).filter((m) => m.role !== 'owner');
      if (ms.length) box.append(h('h3', 'Transfer ownership'), form([{ name: 'memberId', label: 'New owner', type: 'select', options: ms.map((m) => [m.id, `${m.name} <${m.email}>`]) }],
        'Transfer', async (v) => { const m = ms.find((x) => x.id === v.memberId); if (!(await confirmTyped(`Make ${m.email} the Owner? Other Owners become Admins.`, m.email))) return; await api('POST', `/organizations/${org.id}/transfer`, v); toast('Ownership transferred'); ctx.refresh(); }));
    }
    if (can('org:delete')) box.append(h('h3', 'Delete the organization'), h('p', 'Deletes every project, environment, table, record, file and token. There is no undo.'),
      button('Delete organization', async () => {
        if (!(await confirmTyped(`Delete ${org.name} and everything in it?`, org.slug))) return;
        await api('DELETE', '/organizations/' + org.id); location.reload();
      }, 'danger'));
    main.append(box);
  }
}

export const orgPages = { home, projects, team, usage, activity, settings };
