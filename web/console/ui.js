// ui.js: DOM helpers. Everything is built with createElement and textContent (no innerHTML of data, no
// inline styles or scripts: the console's CSP forbids them).

// append and replaceChildren skip null/false (pages pass optional parts inline).
for (const m of ['append', 'replaceChildren', 'prepend']) {
  const orig = Element.prototype[m];
  Element.prototype[m] = function (...k) { return orig.apply(this, k.flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false)); };
}

// h('div.card#id', {onclick, attrs...}, children...) → element
export function h(tag, props, ...kids) {
  const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(tag);
  const el = document.createElement(m ? m[1] : tag);
  if (m && m[2]) for (const part of m[2].match(/[.#][\w-]+/g)) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (props && (typeof props !== 'object' || props instanceof Node || Array.isArray(props))) { kids.unshift(props); props = null; }
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  add(el, kids);
  return el;
}
function add(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) add(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

export const fmtNum = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
export function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0; n = Number(n);
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + u[i];
}
export const fmtDate = (s) => (s ? new Date(s).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '–');
export const fmtDay = (s) => (s ? new Date(s).toISOString().slice(0, 10) : '–');
export function ago(s) {
  if (!s) return '–';
  const d = (Date.now() - new Date(s).getTime()) / 1000;
  if (d < 60) return 'just now';
  if (d < 3600) return Math.floor(d / 60) + ' minutes ago';
  if (d < 86400) return Math.floor(d / 3600) + ' hours ago';
  return Math.floor(d / 86400) + ' days ago';
}

export const badge = (text, kind) => h('span.badge', { class: 'b-' + String(kind || text).replace(/[^\w-]/g, '') }, text);

// table(columns, rows): columns [{label, get(row) → node|string}]
export function table(cols, rows, empty = 'Nothing here yet.') {
  if (!rows || !rows.length) return h('p.empty', empty);
  return h('div.scroll', h('table', h('thead', h('tr', cols.map((c) => h('th', c.label)))),
    h('tbody', rows.map((r) => h('tr', cols.map((c) => h('td', c.get(r))))))));
}

export const card = (title, ...kids) => h('section.card', title ? h('h2', title) : null, ...kids);
export const stat = (label, value) => h('div.stat', h('div.stat-v', value), h('div.stat-l', label));

// A form: fields [{name, label, type, options, value, placeholder, required}], onsubmit(values) → Promise
export function form(fields, submitLabel, onsubmit, { id } = {}) {
  const err = h('p.error');
  const f = h('form.form', { id },
    fields.map((fd) => {
      let input;
      if (fd.type === 'select') {
        input = h('select', { name: fd.name }, fd.options.map((o) => h('option', { value: Array.isArray(o) ? o[0] : o }, Array.isArray(o) ? o[1] : o)));
        if (fd.value !== undefined) input.value = fd.value;
      } else if (fd.type === 'textarea') {
        input = h('textarea', { name: fd.name, rows: fd.rows || 4, placeholder: fd.placeholder }, fd.value || '');
      } else if (fd.type === 'checkbox') {
        input = h('input', { type: 'checkbox', name: fd.name, checked: fd.value });
      } else {
        input = h('input', { type: fd.type || 'text', name: fd.name, value: fd.value, placeholder: fd.placeholder, required: fd.required, autocomplete: 'off' });
      }
      return h('label', { class: fd.type === 'checkbox' ? 'check' : '' }, h('span', fd.label), input);
    }),
    h('button.primary', { type: 'submit' }, submitLabel), err);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const v = {};
    for (const fd of fields) {
      const el = f.elements[fd.name];
      v[fd.name] = fd.type === 'checkbox' ? el.checked : el.value.trim();
    }
    const btn = f.querySelector('button[type=submit]');
    btn.disabled = true;
    try { await onsubmit(v, f); } catch (e) { err.textContent = e.message; } finally { btn.disabled = false; }
  });
  return f;
}

// A button that runs fn; errors are shown beside it.
export function button(label, fn, cls = '') {
  const b = h('button', { type: 'button', class: cls }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await fn(); } catch (e) { toast(e.message, true); } finally { b.disabled = false; }
  });
  return b;
}

// Typed confirmation: resolves when the user typed `word` and confirmed, rejects "cancelled" otherwise.
export function confirmTyped(what, word) {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', name: 'confirm', autocomplete: 'off' });
    const ok = h('button.danger', { type: 'submit' }, 'Confirm');
    const close = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    const dlg = h('dialog.modal',
      h('form', { method: 'dialog' },
        h('p', what), h('p', 'Type ', h('code', word), ' to confirm.'), input,
        h('div.row', ok, h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'))));
    dlg.querySelector('form').addEventListener('submit', (e) => { e.preventDefault(); if (input.value === word) close(true); else input.classList.add('invalid'); });
    document.body.append(dlg);
    dlg.showModal();
    input.focus();
  });
}

let toastTimer;
export function toast(msg, bad = false) {
  let t = document.getElementById('toast');
  if (!t) { t = h('div#toast'); document.body.append(t); }
  t.textContent = msg;
  t.className = bad ? 'show bad' : 'show';
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ''; }, 4000);
}

// A secret shown once: the value with a Copy button and a warning.
export function shownOnce(label, value) {
  return h('div.once', h('strong', label), h('p', 'Copy it now: it is shown this once.'),
    h('div.row', h('code.secret', value), button('Copy', () => navigator.clipboard.writeText(value).then(() => toast('Copied')))));
}

export function pager(p, go) {
  if (!p) return null;
  const page = p.page || 1, pages = p.totalPages || (p.hasNext ? page + 1 : page);
  return h('div.pager',
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, 'Previous'),
    h('span', `Page ${page}${p.totalPages ? ' of ' + p.totalPages : ''}${p.total !== undefined && p.total !== null ? ' · ' + fmtNum(p.total) + ' total' : ''}`),
    h('button', { type: 'button', disabled: !(p.hasNext ?? page < pages), onclick: () => go(page + 1) }, 'Next'));
}

export function tabs(items, current) {
  return h('nav.tabs', items.map(([label, href]) => h('a', { href, class: label === current ? 'on' : '' }, label)));
}

export const METRIC_WORDS = { api_call: 'API calls', db_read: 'Records read', db_write: 'Records written', bandwidth: 'Bandwidth',
  file_upload: 'Uploads', file_download: 'Downloads', storage: 'Storage', mau: 'Monthly active users' };
export const METRICS = Object.keys(METRIC_WORDS);
export const BYTE_METRICS = ['bandwidth', 'storage'];
export const fmtMetric = (m, v) => (BYTE_METRICS.includes(m) ? fmtBytes(v) : fmtNum(v));
