// Docs that cannot drift: docs/configuration.md against the option table the binary prints, docs/errors.md
// against the error codes in src/. Neither test starts a server.
//
// configuration.md. The truth is `basalt serve --help` (config_print_help walks the option table of
// src/app/config.c; lifecycle.test.mjs checks that it names every BASALT_ string in the binary). Every
// option has exactly one row `| `--flag …` | `BASALT_…` | default | meaning |` whose variable is the
// option's, whose default cell starts with the built-in default in backticks (options without one, whose
// default is derived, say what it is), and whose meaning is not empty; a numeric range written in a row
// (`1–3600`) is the option's own (read from config.c, which --help does not print). Every row, and every
// `--flag` or `BASALT_*` name anywhere in the page, is an option or something --help itself names
// (`--help`, `BASALT_URL`, the testing variables); every BASALT_* name --help prints is in the page.
//
// errors.md. The truth is the source: comments stripped, `#define NAME "ns/code"` expanded, every string
// literal shaped like a code (`ns/kebab-case`, not a MIME type, not in NOT_CODES) is an emitted code,
// whichever function carries it (bs_err_set, http_res_error, answer_refused, a failed_code argument …),
// except a literal glued to another one (a path piece such as ENV_PATH "auth/users") or compared with
// strcmp. Where the literal is the code argument of bs_err_set / http_res_error with a status literal
// (or `c ? 401 : 400` beside `c ? "a" : "b"`), its status is known too.
// In the page, every table with a `status` and a `code`/`codes` column declares codes with statuses
// (`400 / 409` beside `` `a` / `b` `` pairs them in order). Then: every emitted code is declared, with
// every status the source gives it; every declared code is emitted, and with a status the source gives
// it when all its statuses are known; the section "Codes the spec lists that Basalt does not emit"
// lists codes that are not emitted (first column); the section "Codes that never reach a client" lists
// emitted codes without a status (startup failures); and every code written anywhere in the page
// (backticks or double quotes) is emitted or one of those spec-only codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runOnce } from './harness.mjs';

const read = (rel) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');

// ---- markdown tables ----

// Cells of a table row: split at `|` not escaped as `\|` (GFM), outer pipes dropped, cells trimmed.
function cells(line) {
  const out = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\' && line[i + 1] === '|') { cur += '|'; i++; continue; }
    if (line[i] === '|') { out.push(cur.trim()); cur = ''; continue; }
    cur += line[i];
  }
  out.push(cur.trim());
  return out.slice(1, -1);
}

// The tables of a markdown text: [{header: [..], rows: [{cells, line}], section}], section = the
// `## ` heading above the table.
function tables(text) {
  const out = [];
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^## /.test(lines[i])) section = lines[i].slice(3).trim();
    if (!lines[i].startsWith('|') || !/^\|[\s:|-]+\|$/.test(lines[i + 1] || '')) continue;
    const t = { header: cells(lines[i]).map((h) => h.toLowerCase()), rows: [], section };
    for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) t.rows.push({ cells: cells(lines[i]), line: i + 1 });
    i--;
    out.push(t);
  }
  return out;
}

// ---- configuration.md ----

// The options --help prints: [{flag, env, def (null when derived), numeric}], and its whole text.
async function helpOptions() {
  const r = await runOnce(['serve', '--help']);
  assert.equal(r.code, 0, r.stderr);
  const opts = [];
  const re = /^ {2}--([a-z0-9-]+) (N|VALUE) +\S.*\n +\[(BASALT_[A-Z0-9_]+)(?:, default (.*))?\]$/gm;
  for (const m of r.stdout.matchAll(re)) opts.push({ flag: m[1], env: m[3], def: m[4] ?? null, numeric: m[2] === 'N' });
  // each option prints two lines; any other `  --x` line but --help means the format changed under us
  const flagLines = r.stdout.split('\n').filter((l) => /^ {2}--[a-z]/.test(l) && !/^ {2}--help\b/.test(l)).length;
  assert.equal(opts.length, flagLines, 'every option line of --help parsed');
  assert.ok(opts.length >= 50, `--help lists ${opts.length} options`);
  return { opts, text: r.stdout };
}

// min and max of the numeric options, from src/app/config.c (--help does not print them).
function configRanges() {
  const src = read('src/app/config.c');
  const ranges = new Map();
  const re = /\{"([a-z0-9-]+)", "BASALT_[A-Z0-9_]+", L\(\w+\), "-?\d+", (-?\d+)L?, (-?\d+)L?,/g;
  for (const m of src.matchAll(re)) ranges.set(m[1], [Number(m[2]), Number(m[3])]);
  return ranges;
}

test('docs/configuration.md documents every option of basalt serve, and no other', async () => {
  const { opts, text: help } = await helpOptions();
  const ranges = configRanges();
  assert.deepEqual([...ranges.keys()].sort(), opts.filter((o) => o.numeric).map((o) => o.flag).sort(),
    'config.c rows read for their ranges = the numeric options of --help');
  const doc = read('docs/configuration.md');
  const table = tables(doc).find((t) => t.header.join('|') === 'flag|variable|default|meaning');
  assert.ok(table, 'configuration.md has the table | flag | variable | default | meaning |');

  const byFlag = new Map(opts.map((o) => [o.flag, o]));
  const rows = new Map();
  const problems = [];
  for (const { cells: c, line } of table.rows) {
    const flag = /^`--([a-z0-9-]+)[ `]/.exec(c[0] || '')?.[1];
    if (!flag) { problems.push(`line ${line}: the flag cell does not start with \`--flag`); continue; }
    if (!byFlag.has(flag)) problems.push(`line ${line}: --${flag} is not an option of basalt serve`);
    if (rows.has(flag)) problems.push(`line ${line}: --${flag} has a second row`);
    rows.set(flag, { c, line });
  }
  for (const o of opts) {
    const row = rows.get(o.flag);
    if (!row) { problems.push(`--${o.flag} (${o.env}, default ${o.def ?? 'derived'}) has no row`); continue; }
    const [, variable, def, meaning] = row.c;
    const where = `line ${row.line} (--${o.flag})`;
    if (variable !== `\`${o.env}\``) problems.push(`${where}: variable is ${variable}, the option's is ${o.env}`);
    if (o.def !== null) {
      const first = /^`([^`]*)`/.exec(def || '')?.[1];
      if (first !== o.def) problems.push(`${where}: default cell starts ${first === undefined ? 'without a `value`' : `\`${first}\``}, the default is ${o.def}`);
    } else if (!def || /^[-—]?$/.test(def)) {
      problems.push(`${where}: no built-in default: the default cell must say what is used instead`);
    }
    if (!meaning || meaning.length < 10) problems.push(`${where}: no meaning`);
    for (const m of row.c.join(' ').matchAll(/\b(-?\d+)–(-?\d+)\b/g)) {
      const r = ranges.get(o.flag);
      if (!r || Number(m[1]) !== r[0] || Number(m[2]) !== r[1])
        problems.push(`${where}: says ${m[1]}–${m[2]}, the option takes ${r ? `${r[0]}–${r[1]}` : 'no number'}`);
    }
  }
  // names anywhere in the page: options, or what --help itself mentions
  const helpNames = new Set(help.match(/(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]|\bBASALT_[A-Z0-9_]*[A-Z0-9]\b/g));
  for (const m of doc.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g))
    if (!byFlag.has(m[1]) && !helpNames.has(`--${m[1]}`)) problems.push(`the page names --${m[1]}, which basalt serve does not know`);
  for (const m of doc.matchAll(/\bBASALT_[A-Z0-9_]*[A-Z0-9]\b/g))
    if (!helpNames.has(m[0])) problems.push(`the page names ${m[0]}, which basalt serve --help does not`);
  for (const v of new Set(help.match(/\bBASALT_[A-Z0-9_]*[A-Z0-9]\b/g)))
    if (!doc.includes(v)) problems.push(`${v} (named by --help) is not in the page`);
  assert.deepEqual(problems, [], `docs/configuration.md drifted from basalt serve --help:\n  ${problems.join('\n  ')}`);
});

// ---- errors.md ----

// C source with comments blanked; string literals as {value, start, end} (offsets into the text).
function scanC(src) {
  let text = '';
  const strings = [];
  for (let i = 0; i < src.length;) {
    const c = src[i], d = src[i + 1];
    if (c === '/' && d === '/') { while (i < src.length && src[i] !== '\n') { text += ' '; i++; } continue; }
    if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      text += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      if (c === '"') strings.push({ value: src.slice(i + 1, j), start: text.length, end: text.length + j + 1 - i });
      text += src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    text += c;
    i++;
  }
  return { text, strings };
}

// Splits the argument list that starts after `(` at `open`: top-level commas, literals skipped.
function callArgs(text, open) {
  const args = [];
  let depth = 0, cur = '';
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) { if (depth === 0) { args.push(cur.trim()); return args; } depth--; }
    if (c === ',' && depth === 0) { args.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  return args;
}

const CODE = /^[a-z]+\/[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MIME = /^(application|audio|font|image|message|model|multipart|text|video)\//;
// code-shaped literals in src/ that are not codes, and why
const NOT_CODES = new Map([['web/console', 'a directory (src/app/serve.c)']]);

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : /\.[ch]$/.test(e.name) ? [path.join(dir, e.name)] : []);
}

// Every code src/ emits: Map code -> {statuses: Map status -> [where], unknown: [where the status is not
// known], where: [every place]}.
function emittedCodes() {
  const files = sourceFiles(path.join(repoRoot, 'src')).map((f) => {
    let { text } = scanC(fs.readFileSync(f, 'utf8'));
    // #define NAME "ns/code" -> the literal where NAME is used
    const defines = [...text.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Z_][A-Z0-9_]*)[ \t]+("[^"\n]*")[ \t]*$/gm)];
    for (const m of defines) text = text.replace(m[0], ' '.repeat(m[0].length));
    for (const m of defines) text = text.replace(new RegExp(`\\b${m[1]}\\b`, 'g'), m[2]);
    return { rel: path.relative(repoRoot, f), text, strings: scanC(text).strings };
  });
  const lineOf = (text, at) => text.slice(0, at).split('\n').length;
  const codes = new Map();
  const entry = (code) => codes.get(code) || codes.set(code, { statuses: new Map(), unknown: [], where: [] }).get(code);
  const known = new Set(); // "rel:offset" of literals whose status is known
  const literal = (s) => /^"([^"\\]*)"$/.exec(s)?.[1];
  const ternary = (s) => /^(.+?)\?(.+):(.+)$/s.exec(s);
  // 1. the code arguments of bs_err_set / http_res_error, with their statuses
  for (const f of files) {
    for (const m of f.text.matchAll(/\b(bs_err_set|http_res_error)\s*\(/g)) {
      const open = m.index + m[0].length;
      const args = callArgs(f.text, open);
      if (args.length < 3) continue;
      const [, status, code] = args;
      const codeAt = f.text.indexOf(code, open);
      let pairs = []; // [literal code, status or null]
      const st = /^\d{3}$/.test(status) ? [Number(status)] : null;
      const stT = ternary(status), cT = ternary(code);
      const stPair = stT && /^\s*\d{3}\s*$/.test(stT[2]) && /^\s*\d{3}\s*$/.test(stT[3]) ? [Number(stT[2]), Number(stT[3])] : null;
      if (literal(code) !== undefined) pairs = (st || stPair || [null]).map((s) => [literal(code), s]);
      else if (cT) {
        const sides = [literal(cT[2].trim()), literal(cT[3].trim())];
        sides.forEach((c, k) => {
          if (c === undefined) return;
          const s = st ? st[0] : stPair && stT[1].trim() === cT[1].trim() ? stPair[k] : null;
          pairs.push([c, s]);
        });
      }
      for (const [c, s] of pairs) {
        if (!CODE.test(c)) continue;
        const where = `${f.rel}:${lineOf(f.text, codeAt)}`;
        const e = entry(c);
        e.where.push(where);
        if (s === null) e.unknown.push(where); else e.statuses.set(s, [...(e.statuses.get(s) || []), where]);
      }
      // mark the literals inside this code argument as seen with their call
      for (const s of f.strings) if (s.start >= codeAt && s.end <= codeAt + code.length) known.add(`${f.rel}:${s.start}`);
    }
  }
  // 2. every other code-shaped literal: carried some other way, status unknown
  for (const f of files) {
    for (const s of f.strings) {
      if (!CODE.test(s.value) || MIME.test(s.value) || NOT_CODES.has(s.value)) continue;
      if (known.has(`${f.rel}:${s.start}`)) continue;
      const before = f.text.slice(0, s.start).replace(/\s+$/, ''), after = f.text.slice(s.end).replace(/^\s+/, '');
      if (/["]$/.test(before) || /\b[A-Z_][A-Z0-9_]*$/.test(before) || after.startsWith('"')) continue; // glued: a piece of a longer string
      if (/\bstrn?(case)?cmp\s*\([^;()]*,$/.test(before)) continue; // compared, not emitted
      const where = `${f.rel}:${lineOf(f.text, s.start)}`;
      const e = entry(s.value);
      e.where.push(where);
      e.unknown.push(where);
    }
  }
  return codes;
}

const SPEC_ONLY = /^Codes the spec lists that Basalt does not emit/;
const NEVER_ANSWERED = /^Codes that never reach a client/;
// The shipped HAProxy configuration's answers (deploy/haproxy/errors, checked by fleet_lb.test.mjs): codes
// src/ need not emit.
const PROXY = /^Codes the shipped load balancer answers/;

// The codes the page declares: {declared: Map code -> Set statuses (with the lines), specOnly, neverAnswered}.
function documentedCodes(doc) {
  const declared = new Map(), specOnly = new Map(), neverAnswered = new Map(), proxyOnly = new Map();
  const codesIn = (cell) => [...cell.matchAll(/`([a-z]+\/[a-z0-9]+(?:-[a-z0-9]+)*)`/g)].map((m) => m[1]);
  for (const t of tables(doc)) {
    if (SPEC_ONLY.test(t.section)) {
      for (const r of t.rows) for (const c of codesIn(r.cells[0])) specOnly.set(c, r.line);
      continue;
    }
    if (PROXY.test(t.section)) {
      for (const r of t.rows) for (const cell of r.cells) for (const c of codesIn(cell)) proxyOnly.set(c, r.line);
      continue;
    }
    const codeCols = t.header.map((h, k) => (/^codes?$/.test(h) ? k : -1)).filter((k) => k >= 0);
    if (!codeCols.length) continue;
    if (NEVER_ANSWERED.test(t.section)) {
      for (const r of t.rows) for (const k of codeCols) for (const c of codesIn(r.cells[k])) neverAnswered.set(c, r.line);
      continue;
    }
    const statusCol = t.header.indexOf('status');
    assert.ok(statusCol >= 0, `errors.md: the table under "${t.section}" has codes but no status column`);
    for (const r of t.rows) {
      const statuses = [...(r.cells[statusCol] || '').matchAll(/\b[1-5]\d\d\b/g)].map((m) => Number(m[0]));
      assert.ok(statuses.length, `errors.md line ${r.line}: no status`);
      for (const k of codeCols) {
        const cs = codesIn(r.cells[k]);
        cs.forEach((c, n) => {
          const these = statuses.length > 1 && statuses.length === cs.length ? [statuses[n]] : statuses;
          const d = declared.get(c) || declared.set(c, new Map()).get(c);
          for (const s of these) d.set(s, r.line);
        });
      }
    }
  }
  return { declared, specOnly, neverAnswered, proxyOnly };
}

test('docs/errors.md documents every error code src/ emits, with its status, and no other', () => {
  const emitted = emittedCodes();
  assert.ok(emitted.size >= 100, `found ${emitted.size} codes in src/`);
  const doc = read('docs/errors.md');
  const { declared, specOnly, neverAnswered, proxyOnly } = documentedCodes(doc);
  const problems = [];
  for (const [code, e] of [...emitted].sort()) {
    const at = e.where.slice(0, 2).join(', ');
    if (neverAnswered.has(code)) continue;
    if (!declared.has(code)) {
      problems.push(`${code} (status ${[...e.statuses.keys()].join('/') || '?'}, ${at}) is emitted but not in a table`);
      continue;
    }
    for (const [s, sites] of e.statuses)
      if (!declared.get(code).has(s)) problems.push(`${code} is answered with ${s} (${sites.slice(0, 2).join(', ')}) but not documented with it`);
  }
  for (const [code, statuses] of declared) {
    const e = emitted.get(code);
    if (!e) { problems.push(`${code} (line ${[...statuses.values()][0]}) is documented but src/ never emits it`); continue; }
    if (e.unknown.length) continue; // some status comes another way: only the emitted ones are checked
    for (const [s, line] of statuses)
      if (!e.statuses.has(s)) problems.push(`${code} is documented with ${s} (line ${line}) but src/ answers it only with ${[...e.statuses.keys()].join('/')}`);
  }
  for (const [code, line] of specOnly)
    if (emitted.has(code)) problems.push(`${code} (line ${line}) is listed as not emitted, but src/ emits it (${emitted.get(code).where[0]})`);
  for (const [code, line] of neverAnswered)
    if (!emitted.has(code)) problems.push(`${code} (line ${line}) is listed as never reaching a client, but src/ never emits it`);
  for (const m of doc.matchAll(/[`"]([a-z]+\/[a-z0-9]+(?:-[a-z0-9]+)*)[`"]/g)) {
    if (MIME.test(m[1]) || emitted.has(m[1]) || specOnly.has(m[1]) || proxyOnly.has(m[1])) continue;
    problems.push(`line ${doc.slice(0, m.index).split('\n').length}: ${m[1]} is neither emitted nor listed as a spec-only code`);
  }
  assert.deepEqual([...new Set(problems)], [], `docs/errors.md drifted from src/:\n  ${[...new Set(problems)].join('\n  ')}`);
});
