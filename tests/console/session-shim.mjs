// session-shim.mjs: a stand-in for the server's console session, for running the browser test against a
// Basalt build that does not have `/admin/v1/console/session` yet. It serves web/console (with the same
// CSP and /console/vendor/chart.js from Debian's libjs-chart.js), implements the session contract
// (POST/GET/DELETE /admin/v1/console/session, an HttpOnly SameSite=Strict cookie, X-CSRF-Token on every
// non-GET) and forwards everything else to the server, adding the session's bearer token. The test uses
// the real server whenever it answers the session endpoint; this file is never used in production.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

export async function startShim({ upstream, consoleDir, chartPath, adminToken }) {
  const sessions = new Map(); // id → {token, csrf, body}
  const cookieOf = (req) => /(?:^|;\s*)basalt_console=([^;]+)/.exec(req.headers.cookie || '')?.[1];

  async function up(method, p, { token, headers = {}, body } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    return fetch(upstream + p, { method, headers: h, body, redirect: 'manual' });
  }
  async function roleOf(token, orgId) {
    // The token's role: match its hint in the organization's token list (read with the admin token).
    const r = await (await up('GET', `/admin/v1/organizations/${orgId}/access-tokens`, { token: adminToken })).json();
    const t = (r.items || []).find((x) => token.startsWith(x.tokenHint.replace(/[.…]+$/, '')));
    let member = null;
    if (t && t.memberId) member = await (await up('GET', `/admin/v1/organizations/${orgId}/members/${t.memberId}`, { token: adminToken })).json();
    return { role: member ? member.role : t ? t.role : 'owner', member };
  }
  const send = (res, status, obj, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(obj === undefined ? '' : JSON.stringify(obj));
  };
  const fail = (res, status, code, message) => send(res, status, { success: false, statusCode: status, error: { code, message }, message });

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
        let rel = url.pathname.replace(/^\/console\/?/, '') || 'index.html';
        const file = rel === 'vendor/chart.js' ? chartPath : path.join(consoleDir, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
        if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404, { 'Content-Security-Policy': CSP }); return res.end('not found'); }
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' });
        return fs.createReadStream(file).pipe(res);
      }
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks);
      const sid = cookieOf(req);
      const s = sid && sessions.get(sid);
      if (url.pathname === '/admin/v1/console/session') {
        if (req.method === 'POST') {
          let token;
          try { token = JSON.parse(body.toString()).token; } catch { return fail(res, 400, 'common/invalid-parameters', 'token'); }
          const orgs = await up('GET', '/admin/v1/organizations', { token });
          if (orgs.status !== 200) return fail(res, 401, 'auth/unauthorized', 'The token is not valid');
          const org = (await orgs.json()).items[0];
          const { role, member } = await roleOf(token, org.id);
          const id = crypto.randomBytes(24).toString('hex');
          const sess = { token, csrf: crypto.randomBytes(24).toString('hex') };
          sess.body = { csrfToken: sess.csrf, expiresAt: new Date(Date.now() + 8 * 3600e3).toISOString(), organizationId: org.id, role, member };
          sessions.set(id, sess);
          return send(res, 201, sess.body, { 'Set-Cookie': `basalt_console=${id}; Path=/; HttpOnly; SameSite=Strict` });
        }
        if (!s) return fail(res, 401, 'auth/unauthorized', 'No console session');
        if (req.method === 'GET') return send(res, 200, s.body);
        if (req.method === 'DELETE') {
          if (req.headers['x-csrf-token'] !== s.csrf) return fail(res, 403, 'auth/csrf-invalid', 'CSRF token missing or wrong');
          sessions.delete(sid);
          return send(res, 204, undefined, { 'Set-Cookie': 'basalt_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0' });
        }
      }
      const headers = {};
      for (const k of ['content-type', 'x-api-key', 'authorization', 'accept', 'if-none-match', 'range']) if (req.headers[k]) headers[k] = req.headers[k];
      if (url.pathname.startsWith('/admin/v1/') && !headers.authorization && !headers['x-api-key']) {
        if (s) {
          if (!['GET', 'HEAD'].includes(req.method) && req.headers['x-csrf-token'] !== s.csrf) return fail(res, 403, 'auth/csrf-invalid', 'CSRF token missing or wrong');
          headers.authorization = `Bearer ${s.token}`;
        }
      }
      const r = await fetch(upstream + req.url, { method: req.method, headers, body: ['GET', 'HEAD'].includes(req.method) ? undefined : body, redirect: 'manual' });
      const out = {};
      r.headers.forEach((v, k) => { if (!['content-encoding', 'transfer-encoding', 'content-length', 'connection'].includes(k)) out[k] = v; });
      const buf = Buffer.from(await r.arrayBuffer());
      res.writeHead(r.status, out);
      res.end(buf);
    } catch (e) {
      fail(res, 502, 'shim/error', String(e && e.message));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}
