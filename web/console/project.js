// project.js: a project's pages, in the environment chosen in the top bar: Overview, Environments, Database
// (tables; Data, Schema, Indexes, Permissions, API Docs), Authentication, File Storage, API Keys, CORS, Settings.
import { h, card, stat, table, form, button, badge, toast, confirmTyped, shownOnce, pager, tabs,
  fmtNum, fmtBytes, fmtDate, fmtDay } from './ui.js';
import { api, get, items, can, session } from './api.js';
import { activityList, ENTITY_TYPES, ACTIONS } from './org.js';

const base = (ctx) => `/projects/${ctx.project.id}/environments/${encodeURIComponent(ctx.env)}`;
const copyId = (id) => button('Copy', () => navigator.clipboard.writeText(id).then(() => toast('Copied')), 'small ghost');
const roLine = (what) => h('p.muted.readonly', `Your role (${session.role}) cannot ${what}.`);

async function overview(ctx, main) {
  const p = ctx.project;
  const [envs, tables, storage, act, users] = await Promise.all([
    ctx.envsOf(p.id),
    get(base(ctx) + '/tables', { limit: 100, counts: 'true' }).catch(() => null),
    get(base(ctx) + '/storage').catch(() => null),
    get(`/organizations/${ctx.org.id}/activity`, { projectId: p.id, limit: 3 }).then(items).catch(() => []),
    get(base(ctx) + '/auth/users', { limit: 1 }).then((r) => r.pagination && r.pagination.total).catch(() => null),
  ]);
  const tl = tables ? items(tables) : [], nTables = tables ? tables.pagination.total : 0;
  main.append(h('h1', p.name), h('p', p.description || '', ' ', h('code#project-id', p.id), ' ', copyId(p.id)),
    h('div.stats', stat('Tables', fmtNum(nTables)),
      stat(nTables > tl.length ? `Records (first ${tl.length} tables)` : 'Records', fmtNum(tl.reduce((a, t) => a + (t.documentCount || 0), 0))),
      stat('Users', users === null ? '–' : fmtNum(users)),
      stat('Active environments', fmtNum(envs.filter((e) => ['ready', 'active'].includes(e.status)).length)),
      stat('File storage', storage ? fmtBytes(storage.bytesStored) : '–')),
    card('Project', h('dl.facts', h('dt', 'Region'), h('dd', p.primaryRegion || '–'), h('dt', 'Cloud'), h('dd', p.primaryCloud || '–'),
      h('dt', 'Created'), h('dd', fmtDate(p.createdAt)), h('dt', 'Environments'), h('dd', fmtNum(envs.length)), h('dt', 'Environment shown'), h('dd', ctx.env))),
    h('div.quick', ['database', 'auth', 'storage', 'environments'].map((pg) => h('a.button', { href: ctx.link('project', pg) },
      { database: 'Database', auth: 'Authentication', storage: 'File Storage', environments: 'Environments' }[pg]))),
    card('Latest activity', activityList(act), h('a', { href: ctx.link('project', 'activity') }, 'View all →')));
}

async function environments(ctx, main) {
  ctx.forgetEnvs(ctx.project.id);
  const envs = await ctx.envsOf(ctx.project.id);
  main.append(h('h1', 'Environments'), h('div.cards', envs.map((e) => h('section.card.env', { 'data-env': e.environment },
    h('h2', e.environment, ' ', badge(e.environmentType, 'type'), ' ', badge(e.status)),
    h('dl.facts', h('dt', 'Cluster'), h('dd', e.cluster ? `${e.cluster.id} (${e.cluster.type}${e.cluster.slot !== undefined && e.cluster.slot !== null ? ', slot ' + e.cluster.slot : ''})` : '–'),
      h('dt', 'Created'), h('dd', fmtDate(e.createdAt)), h('dt', 'Last use'), h('dd', fmtDate(e.lastAccessAt))),
    e.status === 'failed' ? h('p.error', (e.deployment && (e.deployment.error || e.deployment.message)) || 'Provisioning failed') : null,
    e.deletionScheduledAt ? h('p.notice', `Shut down ${fmtDate(e.shutdownAt)} for inactivity; deletion scheduled for ${fmtDate(e.deletionScheduledAt)}. `,
      can('env:manage') ? button('Cancel deletion', async () => {
        await api('DELETE', `/projects/${ctx.project.id}/environments/${e.environment}/scheduled-deletion`); toast('Deletion cancelled'); ctx.refresh();
      }, 'small') : null) : null,
    h('div.row', h('a.button.small', { href: `#/project/${ctx.project.id}/env/${e.environment}/overview` }, 'Open'),
      can('env:manage') ? button('Delete', async () => {
        if (!(await confirmTyped(`Delete the environment ${e.environment}: its tables, records, users, files and keys?`, e.environment))) return;
        await api('DELETE', `/projects/${ctx.project.id}/environments/${e.environment}`); toast('Environment deleted'); ctx.forgetEnvs(ctx.project.id); ctx.refresh();
      }, 'danger small') : null)))));
  if (can('env:manage')) main.append(card('Create environment', form([
    { name: 'environment', label: 'Name', required: true, placeholder: 'staging' },
    { name: 'environmentType', label: 'Type', type: 'select', options: ['dev', 'staging', 'prod', 'custom'] },
  ], 'Create environment', async (v, el) => {
    await api('POST', `/projects/${ctx.project.id}/environments`, v);
    el.reset(); toast(`Environment ${v.environment} created`); ctx.forgetEnvs(ctx.project.id); ctx.refresh();
  }, { id: 'create-env' })));
  else main.append(roLine('create or delete environments'));
}

async function keys(ctx, main) {
  const box = h('div'), once = h('div');
  const load = async () => {
    const ks = items(await get(base(ctx) + '/keys'));
    const section = (type) => h('div', h('h3', type === 'publishable' ? 'Publishable keys (pk_, for apps)' : 'Secret keys (sk_, for servers)'), table([
      { label: 'Name', get: (k) => k.name }, { label: 'Key', get: (k) => h('code', k.keyHint + '…') },
      { label: 'Scopes', get: (k) => (k.scopes ? k.scopes.join(', ') || 'none' : 'all') }, { label: 'Status', get: (k) => badge(k.status) },
      { label: 'Created', get: (k) => fmtDay(k.createdAt) }, { label: 'Expires', get: (k) => fmtDay(k.expiresAt) },
      { label: '', get: (k) => (can('keys:write') && k.status === 'active' ? button('Revoke', async () => {
        if (!(await confirmTyped(`Revoke ${k.name}? Clients using it are refused within a second.`, k.name))) return;
        await api('DELETE', `${base(ctx)}/keys/${k.id}`); toast('Key revoked'); await load();
      }, 'danger small') : null) }], ks.filter((k) => k.type === type), 'No keys.'));
    box.replaceChildren(section('publishable'), section('secret'));
  };
  main.append(h('h1', 'API Keys'), h('p.muted', `Environment ${ctx.env}. Clients call /v1 with X-API-Key.`), card(null, box));
  if (can('keys:write')) main.append(card('Add key', form([
    { name: 'name', label: 'Name', required: true }, { name: 'type', label: 'Type', type: 'select', options: ['publishable', 'secret'] },
    { name: 'scopes', label: 'Scopes (comma-separated; empty: every right)', placeholder: 'posts:read, posts:list' },
  ], 'Create key', async (v, el) => {
    const scopes = v.scopes ? v.scopes.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const k = await api('POST', base(ctx) + '/keys', { type: v.type, name: v.name, scopes });
    el.reset(); once.replaceChildren(shownOnce(`New ${k.type} key ${k.name}`, k.key)); await load();
  }, { id: 'create-key' }), once));
  else main.append(roLine('create or revoke keys'));
  await load();
}

// ---- Database ----
const TYPES = { string: 'string', number: 'double', integer: 'int', boolean: 'bool', date: 'date', object: 'object', array: 'array' };
function fieldRows(box) {
  const row = () => h('div.field-row', h('input', { name: 'fname', placeholder: 'field name', 'aria-label': 'Field name' }),
    h('select', { name: 'ftype', 'aria-label': 'Field type' }, Object.keys(TYPES).map((t) => h('option', { value: t }, t))),
    h('label.inline', h('input', { type: 'checkbox', name: 'freq' }), 'required'));
  box.append(row());
  return { add: () => box.append(row()), read: () => [...box.querySelectorAll('.field-row')].map((r) => ({
    name: r.querySelector('[name=fname]').value.trim(), type: r.querySelector('[name=ftype]').value, required: r.querySelector('[name=freq]').checked })).filter((f) => f.name) };
}

// The table list pages on the server (20 a page, a name search; record counts of the page's tables only).
async function database(ctx, main, sub) {
  if (sub[0]) return tablePage(ctx, main, sub[0], sub[1] || 'data', sub.slice(2));
  const box = h('div'), count = h('p.muted');
  let q = '';
  const load = async (page = 1) => {
    const r = await get(base(ctx) + '/tables', { page, limit: 20, search: q, counts: 'true' });
    if (!q) count.textContent = `Environment ${ctx.env}: ${fmtNum(r.pagination.total)} tables.`;
    box.replaceChildren(table([
      { label: 'Table', get: (t) => h('a', { href: ctx.link('project', 'database') + '/' + encodeURIComponent(t.tableName) }, t.tableName) },
      { label: 'Status', get: (t) => badge(t.status || 'active') },
      { label: 'Records', get: (t) => fmtNum(t.documentCount) },
      { label: 'Fields', get: (t) => Object.keys((t.schema && t.schema.properties) || {}).join(', ') },
      { label: 'Updated', get: (t) => fmtDay(t.updatedAt) },
    ], items(r), q ? 'No tables match.' : 'No tables yet.'), pager(r.pagination, load));
  };
  const search = h('input', { type: 'search', placeholder: 'Search tables', 'aria-label': 'Search tables' });
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { q = search.value.trim(); load(1).catch((e) => toast(e.message)); }, 200); });
  await load(1);
  main.append(h('h1', 'Database'), count, card(null, h('div.row', search, button('Refresh', () => ctx.refresh(), 'ghost')), box));
  if (can('tables:write')) {
    const fbox = h('div.fields');
    const fr = fieldRows(fbox);
    const f = form([{ name: 'tableName', label: 'Table name', required: true, placeholder: 'posts' }], 'Create table', async (v, el) => {
      const fields = fr.read();
      const schema = { bsonType: 'object', required: fields.filter((x) => x.required).map((x) => x.name), properties: Object.fromEntries(fields.map((x) => [x.name, { bsonType: TYPES[x.type] }])) };
      await api('POST', base(ctx) + '/tables', { tableName: v.tableName, schema });
      toast(`Table ${v.tableName} created`); ctx.go(ctx.link('project', 'database') + '/' + encodeURIComponent(v.tableName) + '/schema');
    }, { id: 'create-table' });
    f.insertBefore(h('div', h('span.lbl', 'Fields'), fbox, button('Add field', fr.add, 'small ghost')), f.querySelector('button[type=submit]'));
    main.append(card('Create table', f));
  } else main.append(roLine('create tables'));
}

async function tablePage(ctx, main, name, tab, rest) {
  const tbase = base(ctx) + '/tables/' + encodeURIComponent(name);
  const t = await get(tbase);
  const link = ctx.link('project', 'database') + '/' + encodeURIComponent(name);
  const TABS = [['Data', 'data'], ['Schema', 'schema'], ['Indexes', 'indexes'], ['Permissions', 'permissions'], ['API Docs', 'api']];
  main.append(h('h1', h('a', { href: ctx.link('project', 'database') }, 'Database'), ' / ', name),
    h('p.muted', `${fmtNum(t.documentCount)} records · schema v${t.schemaVersion} · index v${t.indexVersion}`),
    tabs(TABS.map(([l, k]) => [l, link + '/' + k]), (TABS.find((x) => x[1] === tab) || TABS[0])[0]));
  const fn = { data: tableData, schema: tableSchema, indexes: tableIndexes, permissions: tablePerms, api: tableApi }[tab];
  if (fn) await fn(ctx, main, t, tbase, rest);
  if (tab === 'schema' && can('tables:write')) main.append(card('Delete table', button('Delete table', async () => {
    if (!(await confirmTyped(`Delete ${name} and all its records?`, name))) return;
    await api('DELETE', tbase); toast('Table deleted'); ctx.go(ctx.link('project', 'database'));
  }, 'danger')));
}

async function tableData(ctx, main, t) {
  const fields = ['id', ...Object.keys((t.schema && t.schema.properties) || {}), 'createdAt', 'updatedAt'];
  const box = h('div');
  let q = { sortBy: 'createdAt', sortDirection: 'desc' };
  const load = async (page = 1) => {
    const r = await get(`${base(ctx)}/tables/${encodeURIComponent(t.tableName)}/records`, { ...q, page, limit: 20 });
    box.replaceChildren(table(fields.map((f) => ({ label: f, get: (rec) => cell(rec[f]) })), items(r), 'No records match.'), pager(r.pagination, load));
  };
  const f = form([
    { name: 'field', label: 'Filter field', type: 'select', options: [['', '(none)'], ...fields] },
    { name: 'op', label: 'Operator', type: 'select', options: [['$eq', '='], ['$ne', '≠'], ['$gt', '>'], ['$gte', '≥'], ['$lt', '<'], ['$lte', '≤'], ['$regex', 'matches']] },
    { name: 'value', label: 'Value' },
    { name: 'sortBy', label: 'Sort by', type: 'select', options: fields, value: 'createdAt' },
    { name: 'sortDirection', label: 'Direction', type: 'select', options: ['desc', 'asc'] },
  ], 'Apply', async (v) => {
    q = { sortBy: v.sortBy, sortDirection: v.sortDirection };
    if (v.field) {
      let val = v.value;
      if (v.op !== '$regex' && val !== '' && !isNaN(Number(val))) val = Number(val); else if (val === 'true' || val === 'false') val = val === 'true';
      q.andFilters = JSON.stringify({ [v.field]: { [v.op]: val } });
    }
    await load(1);
  }, { id: 'data-filter' });
  f.classList.add('inline');
  main.append(card('Records', f, box));
  await load(1);
}
function cell(v) {
  if (v === null || v === undefined) return h('span.muted', '–');
  if (typeof v === 'object') return h('code', JSON.stringify(v).slice(0, 120));
  return String(v).slice(0, 200);
}

async function tableSchema(ctx, main, t, tbase) {
  const props = (t.schema && t.schema.properties) || {};
  const req = new Set((t.schema && t.schema.required) || []);
  main.append(card('Fields', table([
    { label: 'Name', get: ([n]) => h('code', n) }, { label: 'Type', get: ([, s]) => s.bsonType || '–' },
    { label: 'Required', get: ([n]) => (req.has(n) ? 'yes' : '') }, { label: 'Constraints', get: ([, s]) => { const c = Object.entries(s).filter(([k]) => k !== 'bsonType'); return c.length ? h('code', JSON.stringify(Object.fromEntries(c))) : '–'; } },
    { label: '', get: ([n]) => (can('tables:write') ? button('Remove', async () => {
      if (!(await confirmTyped(`Remove the field ${n} from the schema? Values stay in existing records.`, n))) return;
      await api('PATCH', tbase + '/fields', { fieldsToRemove: [n] }); toast('Field removed'); ctx.refresh();
    }, 'small danger') : null) },
  ], Object.entries(props), 'No declared fields: records take any shape.')));
  if (can('tables:write')) {
    const fbox = h('div.fields'); const fr = fieldRows(fbox);
    const f = form([], 'Save fields', async () => {
      const fields = fr.read();
      await api('PATCH', tbase + '/fields', { fieldsToAddOrUpdate: Object.fromEntries(fields.map((x) => [x.name, { bsonType: TYPES[x.type] }])),
        requiredFieldsToAdd: fields.filter((x) => x.required).map((x) => x.name) });
      toast('Schema saved'); ctx.refresh();
    }, { id: 'add-fields' });
    f.prepend(fbox, button('Add another', fr.add, 'small ghost'));
    main.append(card('Add or change fields', f));
  }
  const vs = await get(tbase + '/schema/versions');
  const view = h('pre.json');
  main.append(card('History', table([
    { label: 'Version', get: (v) => h('span', 'v' + v.version, v.isActive ? badge('active', 'created') : null) },
    { label: 'By', get: (v) => h('code', v.createdBy || '–') }, { label: 'When', get: (v) => fmtDate(v.createdAt) },
    { label: '', get: (v) => h('div.row', button('View JSON', async () => { view.textContent = JSON.stringify(v.schema, null, 2); }, 'small ghost'),
      can('tables:write') && !v.isActive ? button('Roll back', async () => {
        if (!(await confirmTyped(`Roll the schema back to version ${v.version}? A new version is written.`, 'v' + v.version))) return;
        await api('POST', tbase + '/schema/rollback', { version: v.version }); toast('Rolled back'); ctx.refresh();
      }, 'small') : null) },
  ], items(vs)), view));
}

async function tableIndexes(ctx, main, t, tbase) {
  const ix = await get(tbase + '/indexes');
  main.append(card('Indexes', table([
    { label: 'Name', get: (i) => h('code', i.name) }, { label: 'Fields', get: (i) => Object.entries(i.fields || i.key || {}).map(([f, d]) => `${f} ${d === -1 ? '↓' : '↑'}`).join(', ') },
    { label: 'Unique', get: (i) => (i.unique ? 'yes' : '') }, { label: 'Sparse', get: (i) => (i.sparse ? 'yes' : '') },
    { label: '', get: (i) => (can('tables:write') && !i.default && !/^_id_$|^idx_/.test(i.name) ? button('Delete', async () => {
      if (!(await confirmTyped(`Delete the index ${i.name}?`, i.name))) return;
      await api('POST', tbase + '/indexes', { indexesToRemove: [i.name] }); toast('Index deleted'); ctx.refresh();
    }, 'small danger') : null) },
  ], ix.indexes || items(ix))));
  if (can('tables:write')) main.append(card('Add index', form([
    { name: 'name', label: 'Name', required: true, placeholder: 'by_status' },
    { name: 'fields', label: 'Fields (field or -field for descending, comma-separated)', required: true, placeholder: 'status, -createdAt' },
    { name: 'unique', label: 'Unique', type: 'checkbox' }, { name: 'sparse', label: 'Sparse', type: 'checkbox' },
  ], 'Create index', async (v) => {
    const fields = Object.fromEntries(v.fields.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (s[0] === '-' ? [s.slice(1), -1] : [s, 1])));
    await api('POST', tbase + '/indexes', { indexesToAdd: [{ name: v.name, fields, unique: v.unique, sparse: v.sparse }] });
    toast('Index created'); ctx.refresh();
  }, { id: 'create-index' })));
  const [vs, stats] = await Promise.all([get(tbase + '/indexes/versions'), get(tbase + '/query-stats').catch(() => null)]);
  main.append(card('Versions', table([
    { label: 'Version', get: (v) => h('span', 'v' + v.version, v.isActive ? badge('active', 'created') : null) },
    { label: 'Indexes', get: (v) => (v.indexes || []).map((i) => i.name).join(', ') || 'none' }, { label: 'When', get: (v) => fmtDate(v.createdAt) },
    { label: '', get: (v) => (can('tables:write') && !v.isActive ? button('Roll back', async () => {
      if (!(await confirmTyped(`Roll the indexes back to version ${v.version}?`, 'v' + v.version))) return;
      await api('POST', tbase + '/indexes/rollback', { version: v.version }); toast('Rolled back'); ctx.refresh();
    }, 'small') : null) },
  ], items(vs), 'No custom index versions yet.')));
  const out = h('pre.json#explain-out');
  main.append(card('Explain a query', form([
    { name: 'andFilters', label: 'andFilters (JSON)', placeholder: '{"status":"published"}' },
    { name: 'sortBy', label: 'Sort by', value: 'createdAt' }, { name: 'sortDirection', label: 'Direction', type: 'select', options: ['desc', 'asc'] },
  ], 'Explain', async (v) => {
    let af; try { af = v.andFilters ? JSON.parse(v.andFilters) : undefined; } catch { throw new Error('andFilters is not valid JSON'); }
    const r = await api('POST', tbase + '/explain', { andFilters: af, sortBy: v.sortBy, sortDirection: v.sortDirection });
    out.textContent = `${r.fullScan ? 'Full scan' : 'Index ' + r.index} · about ${fmtNum(r.estimatedRows)} rows${r.suggestion ? '\nSuggestion: ' + JSON.stringify(r.suggestion) : ''}\n\n` + JSON.stringify(r.plan, null, 2);
  }, { id: 'explain' }), out));
  const shapes = stats ? items(stats).slice().sort((x, y) => (y.p95Ms ?? 0) - (x.p95Ms ?? 0)) : [];
  main.append(card('Query statistics (slowest shapes first)', stats ? table([
    { label: 'Shape', get: (q) => h('code', q.shape) }, { label: 'Count', get: (q) => fmtNum(q.count) },
    { label: 'Mean ms', get: (q) => (q.meanMs ?? 0).toFixed(2) }, { label: 'p95 ms', get: (q) => (q.p95Ms ?? 0).toFixed(2) },
    { label: 'Rows scanned / returned', get: (q) => (q.rowsScannedPerRowReturned ?? 0).toFixed(1) },
    { label: 'Index', get: (q) => (q.fullScan ? badge('full scan', 'deleted') : h('code', q.index || '–')) },
    { label: 'Last seen', get: (q) => fmtDate(q.lastSeen) },
  ], shapes.slice(0, 20), stats.enabled === false ? 'Recording is off (--query-stats 0).' : 'No queries recorded yet.') : h('p.muted', 'Not available.')));
}

const OPS = ['create', 'read', 'list', 'update', 'delete'];
async function tablePerms(ctx, main, t, tbase) {
  const perms = JSON.parse(JSON.stringify(t.permissions || {}));
  const groups = Object.keys(perms).filter((g) => perms[g] && typeof perms[g] === 'object' && g !== 'columnPermissions' && g !== 'rowFilters');
  for (const g of ['admin', 'user', 'guest', 'self']) if (!groups.includes(g)) groups.push(g);
  const grid = h('table.matrix', h('thead', h('tr', h('th', 'Group'), OPS.map((o) => h('th', o)))),
    h('tbody', groups.map((g) => h('tr', h('th', g), OPS.map((o) => {
      const on = g === 'admin' || !!(perms[g] && perms[g][o]);
      const cb = h('input', { type: 'checkbox', checked: on, disabled: g === 'admin' || !can('tables:write'), 'aria-label': `${g} ${o}` });
      cb.addEventListener('change', () => { (perms[g] ||= {})[o] = cb.checked; });
      return h('td', cb);
    })))));
  main.append(card('Permissions', h('p.muted', 'Which caller group may do what through /v1 (admin: secret keys and admin users, always everything).'), grid,
    can('tables:write') ? button('Save permissions', async () => { await api('PUT', tbase + '/permissions', perms); toast('Permissions saved'); }, 'primary') : null));
}

async function tableApi(ctx, main, t) {
  const origin = location.origin, path = `/v1/data/${t.tableName}`;
  const ex = [
    ['List', `curl -H "X-API-Key: pk_…" "${origin}${path}?limit=20&sortBy=createdAt&sortDirection=desc"`],
    ['Get one', `curl -H "X-API-Key: pk_…" ${origin}${path}/RECORD_ID`],
    ['Create', `curl -X POST -H "X-API-Key: pk_…" -H "Authorization: Bearer USER_TOKEN" -H "Content-Type: application/json" -d '${JSON.stringify(sample(t))}' ${origin}${path}`],
    ['Update', `curl -X PATCH -H "X-API-Key: pk_…" -H "Authorization: Bearer USER_TOKEN" -H "Content-Type: application/json" -d '{}' ${origin}${path}/RECORD_ID`],
    ['Delete', `curl -X DELETE -H "X-API-Key: pk_…" -H "Authorization: Bearer USER_TOKEN" ${origin}${path}/RECORD_ID`],
  ];
  main.append(card('REST API', h('p', 'Generated OpenAPI 3 document: ', h('code', `GET ${path}/openapi`), '; the schema: ', h('code', `GET ${path}/spec`), '.'),
    ex.map(([l, c]) => h('div.example', h('h3', l), h('div.row', h('pre.json', c), button('Copy', () => navigator.clipboard.writeText(c).then(() => toast('Copied')), 'small ghost'))))));
  const doc = await get(`${base(ctx)}/tables/${encodeURIComponent(t.tableName)}/openapi`).catch(() => null);
  if (doc) main.append(card('OpenAPI paths', table([{ label: 'Path', get: ([p]) => h('code', p) }, { label: 'Operations', get: ([, o]) => Object.keys(o).join(', ').toUpperCase() }], Object.entries(doc.paths || {}))));
}
function sample(t) {
  const s = {};
  for (const [n, f] of Object.entries((t.schema && t.schema.properties) || {})) s[n] = { string: 'text', int: 1, long: 1, double: 1.5, bool: true, date: '2026-01-01', array: [], object: {} }[f.bsonType] ?? null;
  return s;
}

// ---- Authentication ----
async function auth(ctx, main, sub) {
  const tab = sub[0] || 'users';
  const T = [['Users', 'users'], ['Providers', 'providers'], ['Settings', 'settings'], ['Templates', 'templates'], ['Audit', 'audit']];
  main.append(h('h1', 'Authentication'), tabs(T.map(([l, k]) => [l, ctx.link('project', 'auth') + '/' + k]), (T.find((x) => x[1] === tab) || T[0])[0]));
  const a = base(ctx) + '/auth';
  if (tab === 'users') {
    const box = h('div'), sessionsBox = h('div#user-sessions');
    let search = '';
    // A user's live sessions (…/auth/users/:id/sessions), each ended with End (owners and admins).
    const showSessions = async (u, page = 1) => {
      const r = await get(`${a}/users/${u.id}/sessions`, { page, limit: 20 });
      sessionsBox.replaceChildren(card(`Sessions of ${u.email || u.name || u.id}`, table([
        { label: 'Device', get: (x) => x.userAgent || '–' }, { label: 'IP', get: (x) => x.ipAddress || '–' },
        { label: 'Started', get: (x) => fmtDate(x.createdAt) }, { label: 'Last activity', get: (x) => fmtDate(x.lastActivityAt) },
        { label: '', get: (x) => !can('env:manage') ? '' : button('End', async () => {
          await api('DELETE', `${a}/users/${u.id}/sessions/${x.id}`); toast('Session ended'); await showSessions(u, 1);
        }, 'small danger') },
      ], items(r), 'No live sessions.'), pager(r.pagination, (pg) => showSessions(u, pg))));
    };
    const load = async (page = 1) => {
      const r = await get(a + '/users', { page, limit: 20, search, searchType: search ? 'email' : undefined });
      box.replaceChildren(table([
        { label: 'E-mail', get: (u) => u.email || '–' }, { label: 'Name', get: (u) => u.name || '–' }, { label: 'Role', get: (u) => u.role || 'user' },
        { label: 'Status', get: (u) => (u.bannedAt ? badge('banned', 'deleted') : badge('active')) },
        { label: 'Created', get: (u) => fmtDay(u.createdAt) },
        { label: '', get: (u) => h('div.row', button('Sessions', () => showSessions(u), 'small ghost'),
          ...(!can('env:manage') ? [] : [true, false].map((ban) => button(ban ? 'Ban' : 'Unban', async () => {
            await api('PATCH', `${a}/users/${u.id}`, { banned: ban, reason: ban ? 'Banned in the console' : undefined });
            toast(ban ? 'Banned: every session ended' : 'Unbanned'); sessionsBox.replaceChildren(); await load(page);
          }, 'small')))) },
      ], items(r), 'No users yet.'), pager(r.pagination, load));
    };
    const f = form([{ name: 'search', label: 'Search e-mail' }], 'Search', async (v) => { search = v.search; await load(1); });
    f.classList.add('inline');
    main.append(card('Users', f, box), sessionsBox);
    await load();
  } else if (tab === 'providers') {
    for (const p of ['google', 'github']) {
      const cur = await get(`${a}/providers/${p}`).catch(() => ({}));
      main.append(card(p === 'google' ? 'Google' : 'GitHub', h('p.muted', cur.serverCallbackUrl ? 'Callback to register: ' + cur.serverCallbackUrl : ''),
        form([
          { name: 'clientId', label: 'Client ID', value: cur.clientId || '' },
          { name: 'clientSecret', label: cur.hasSecret ? 'Client secret (set; leave empty to keep)' : 'Client secret', type: 'password' },
          { name: 'redirectUris', label: 'Redirect URIs (comma-separated)', value: (cur.redirectUris || []).join(', ') },
          { name: 'enabled', label: 'Enabled', type: 'checkbox', value: cur.enabled },
        ], 'Save', async (v) => {
          await api('PUT', `${a}/providers/${p}`, { clientId: v.clientId, clientSecret: v.clientSecret || undefined, redirectUris: v.redirectUris.split(',').map((s) => s.trim()).filter(Boolean), enabled: v.enabled });
          toast('Saved');
        })));
    }
  } else if (tab === 'settings') {
    const s = await get(a + '/settings');
    const fields = Object.entries(s).filter(([, v]) => ['boolean', 'number', 'string'].includes(typeof v));
    const words = (k) => k.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
    main.append(card('Sign-in settings', form(fields.map(([k, v]) => ({ name: k, label: words(k), type: typeof v === 'boolean' ? 'checkbox' : typeof v === 'number' ? 'number' : 'text', value: typeof v === 'boolean' ? v : String(v) })),
      'Save', async (v) => {
        const body = {};
        for (const [k, old] of fields) { const nv = typeof old === 'number' ? Number(v[k]) : v[k]; if (nv !== old) body[k] = nv; }
        await api('PATCH', a + '/settings', body); toast('Saved');
      }, { id: 'auth-settings' })));
  } else if (tab === 'templates') {
    const ts = items(await get(a + '/templates'));
    for (const t of ts) main.append(card(t.category + (t.custom ? ' (custom)' : ''), h('p.muted', 'Variables: ' + (t.variables || []).join(', ')), form([
      { name: 'subject', label: 'Subject', value: t.subject }, { name: 'body', label: 'Body', type: 'textarea', rows: 6, value: t.body },
    ], 'Save', async (v) => { await api('PUT', `${a}/templates/${t.category}`, v); toast('Template saved'); }),
    t.custom ? button('Restore the built-in template', async () => { await api('DELETE', `${a}/templates/${t.category}`); ctx.refresh(); }, 'small ghost') : null));
  } else if (tab === 'audit') {
    const r = await get(a + '/audit', { limit: 50 });
    main.append(card('Sign-in audit', table([{ label: 'When', get: (e) => fmtDate(e.at) }, { label: 'Event', get: (e) => e.event }, { label: 'E-mail', get: (e) => e.email || '–' },
      { label: 'IP', get: (e) => e.ip || '–' }, { label: 'Detail', get: (e) => e.detail || '' }], items(r), 'No sign-in events.')));
  }
}

// ---- File Storage ----
async function storage(ctx, main) {
  const s = await get(base(ctx) + '/storage');
  main.append(h('h1', 'File Storage'), h('div.stats', stat('Files', fmtNum(s.objects)), stat('Stored', fmtBytes(s.bytesStored)), stat('Uploads', fmtNum(s.uploads)),
    stat('Downloads', fmtNum(s.downloads)), stat('Served', fmtBytes(s.bytesOut))), h('p.muted', 'Driver: ' + s.driver));
  // Listing and changing files (visibility, download links, delete, upload) go through the management API;
  // every role that views the environment lists and downloads (a signed link, GET …/files/:id/download-url);
  // the changes are for owners and admins.
  const write = can('tables:write');
  const box = h('div');
  const load = async (page = 1) => {
    const r = await get(base(ctx) + '/files', { page, limit: 20 });
    box.replaceChildren(table([
      { label: 'Name', get: (f) => f.originalName }, { label: 'Type', get: (f) => f.mimeType }, { label: 'Size', get: (f) => fmtBytes(f.size) },
      { label: 'Visibility', get: (f) => {
        if (!write) return f.visibility;
        const sel = h('select', { 'aria-label': 'Visibility' }, ['private', 'public', 'shared'].map((v) => h('option', { value: v }, v)));
        sel.value = f.visibility; sel.addEventListener('change', async () => { try { await api('PATCH', `${base(ctx)}/files/${f.id}`, { visibility: sel.value }); toast('Saved'); } catch (e) { toast(e.message, true); } });
        return sel;
      } },
      { label: 'Uploaded', get: (f) => fmtDay(f.createdAt) },
      { label: '', get: (f) => h('div.row', button('Download', async () => { const d = await get(`${base(ctx)}/files/${f.id}/download-url`); window.open(d.url, '_blank', 'noopener'); }, 'small ghost'),
        !write ? null : button('Delete', async () => { if (!(await confirmTyped(`Delete ${f.originalName}?`, f.originalName))) return; await api('DELETE', `${base(ctx)}/files/${f.id}`); toast('Deleted'); await load(page); }, 'small danger')) },
    ], items(r), 'No files.'), pager(r.pagination, load));
  };
  const file = h('input#upload-file', { type: 'file' });
  const vis = h('select', { 'aria-label': 'Visibility' }, ['private', 'public'].map((v) => h('option', { value: v }, v)));
  main.append(card('Files', !write ? null : h('div.row', file, vis, button('Upload', async () => {
    const f = file.files[0]; if (!f) throw new Error('Choose a file first');
    const type = f.type || 'application/octet-stream';
    const p = await api('POST', base(ctx) + '/files/presigned-url', { filename: f.name, contentType: type, fileSize: f.size, visibility: vis.value });
    const put = await fetch(p.url, { method: 'PUT', body: f, headers: { 'Content-Type': type } });
    if (!put.ok) throw new Error('Upload failed: HTTP ' + put.status);
    await api('POST', base(ctx) + '/files', { s3Key: p.key, originalName: f.name, mimeType: type, size: f.size, visibility: vis.value });
    toast('Uploaded'); file.value = ''; await load();
  }, 'primary')), box));
  await load();
}

// ---- CORS and project settings ----
async function cors(ctx, main) {
  const p = await get('/projects/' + ctx.project.id);
  const origins = (p.settings && p.settings.allowedOrigins) || [];
  const save = async (list) => { await api('PATCH', '/projects/' + p.id, { settings: { allowedOrigins: list } }); toast('Saved'); ctx.refresh(); };
  main.append(h('h1', 'CORS'), h('p.muted', 'Browsers may call /v1 of this project only from these origins. Empty: every origin.'),
    card('Allowed origins', table([{ label: 'Origin', get: (o) => h('code', o) },
      { label: '', get: (o) => (can('project:edit') ? button('Delete', () => save(origins.filter((x) => x !== o)), 'small danger') : null) }], origins, 'No restriction: every origin is allowed.'),
    can('project:edit') ? form([{ name: 'origin', label: 'Add origin', placeholder: 'https://app.example.com', required: true }], 'Add origin', (v) => save([...origins, v.origin]), { id: 'add-origin' }) : roLine('change origins')));
}

async function settings(ctx, main) {
  const p = await get('/projects/' + ctx.project.id);
  const s = p.settings || {};
  main.append(h('h1', 'Project settings'), card('General', h('dl.facts', h('dt', 'Project ID'), h('dd', h('code', p.id), ' ', copyId(p.id)), h('dt', 'Slug'), h('dd', p.slug),
    h('dt', 'Cloud'), h('dd', p.primaryCloud || '–'), h('dt', 'Region'), h('dd', p.primaryRegion || '–'), h('dt', 'Created'), h('dd', fmtDate(p.createdAt))),
  can('project:edit') ? form([
    { name: 'name', label: 'Name', value: p.name }, { name: 'description', label: 'Description', type: 'textarea', value: p.description || '' },
    { name: 'apiCallLimit', label: 'Daily API call cap (empty: none)', type: 'number', value: s.apiCallLimit ?? '' },
    { name: 'ipWhitelist', label: 'IP allow-list (comma-separated; empty: everyone)', value: (s.ipWhitelist || []).join(', ') },
    { name: 'webhookUrl', label: 'Webhook URL (usage alerts)', value: s.webhookUrl || '' },
    { name: 'notificationEmail', label: 'Notification e-mail', type: 'email', value: s.notificationEmail || '' },
  ], 'Save', async (v) => {
    await api('PATCH', '/projects/' + p.id, { name: v.name, description: v.description, settings: {
      apiCallLimit: v.apiCallLimit ? Number(v.apiCallLimit) : null, ipWhitelist: v.ipWhitelist.split(',').map((x) => x.trim()).filter(Boolean),
      webhookUrl: v.webhookUrl || null, notificationEmail: v.notificationEmail || null } });
    toast('Saved'); await ctx.loadProjects(); ctx.refresh();
  }, { id: 'project-settings' }) : roLine('edit project settings')));
  if (can('project:create')) {
    const dz = card('Danger zone', h('p', 'Deleting the project deletes every environment with its tables, records, users, files and keys.'),
      button('Delete project', async () => {
        if (!(await confirmTyped(`Delete the project ${p.name}?`, p.slug))) return;
        await api('DELETE', '/projects/' + p.id); toast('Project deleted'); await ctx.loadProjects(); ctx.go(ctx.link('org', 'projects'));
      }, 'danger'));
    dz.classList.add('danger-zone'); dz.id = 'danger-zone';
    main.append(dz);
  }
}

// Activities (§8.1): the organization's log filtered on the server to this project (and, when chosen, the
// environment of the top bar), 20 a page.
async function activity(ctx, main) {
  const box = h('div');
  let q = {};
  const load = async (page = 1) => {
    const { scope, ...rest } = q;
    const r = await get(`/organizations/${ctx.org.id}/activity`, { ...rest, projectId: ctx.project.id, environment: scope === 'env' ? ctx.env : undefined, page, limit: 20 });
    box.replaceChildren(activityList(items(r)), pager(r.pagination, load));
  };
  const f = form([
    { name: 'search', label: 'Search message' },
    { name: 'scope', label: 'Environment', type: 'select', options: [['', 'All environments'], ['env', `${ctx.env} only`]] },
    { name: 'entityType', label: 'Entity', type: 'select', options: [['', 'All'], ...ENTITY_TYPES.filter((e) => !['organization', 'plan', 'token', 'invitation', 'member', 'quota'].includes(e))] },
    { name: 'action', label: 'Action', type: 'select', options: [['', 'All'], ...ACTIONS] },
  ], 'Filter', async (v) => { q = v; await load(1); }, { id: 'project-activity-filter' });
  f.classList.add('inline');
  main.append(h('h1', 'Activities'), card(null, f, h('div.row', button('Refresh', () => load(1), 'ghost')), box));
  await load(1);
}

export const projectPages = { overview, environments, database, auth, storage, activity, keys, cors, settings };
