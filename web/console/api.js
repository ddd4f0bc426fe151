// api.js: the console's only way to the server, the management API (/admin/v1) as the CLI uses it. The
// session is an HttpOnly cookie set by POST /admin/v1/console/session; the CSRF token lives in this
// module's memory only (never localStorage/sessionStorage) and is read again from GET session on load.

export const session = { csrf: null, organizationId: null, role: null, member: null, expiresAt: null };
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export class ApiError extends Error {
  constructor(status, code, message, details) { super(message || code || 'HTTP ' + status); this.status = status; this.code = code; this.details = details; }
}

async function call(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && method !== 'HEAD' && session.csrf) h['X-CSRF-Token'] = session.csrf;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers: h, credentials: 'same-origin', cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const e = json && json.error;
    throw new ApiError(res.status, e && e.code, (e && e.message) || (json && json.message) || res.statusText, e && e.details);
  }
  return json;
}

// api('GET', '/projects', undefined, {organizationId}) → the answer's JSON; /admin/v1 is prefixed.
export async function api(method, path, body, query) {
  const qs = query ? '?' + new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')) : '';
  try {
    return await call(method, '/admin/v1' + path + qs, body);
  } catch (e) {
    if (e.status === 401 && !path.startsWith('/console/session')) onUnauthorized();
    throw e;
  }
}
export const get = (path, query) => api('GET', path, undefined, query);
export const items = (r) => (r && (r.items || r.data)) || (Array.isArray(r) ? r : []);

function keep(s) {
  session.csrf = s.csrfToken; session.organizationId = s.organizationId; session.role = s.role;
  session.member = s.member && s.member.id ? s.member : null; session.tokenName = s.token && s.token.name; session.expiresAt = s.expiresAt;
}
export async function loadSession() {
  try { keep(await call('GET', '/admin/v1/console/session')); return true; } catch { session.csrf = null; return false; }
}
export async function signIn(token) { keep(await call('POST', '/admin/v1/console/session', { token })); }
export async function signOut() {
  try { await call('DELETE', '/admin/v1/console/session'); } catch { /* already gone */ }
  session.csrf = null; session.role = null;
}

// What the role allows (platform.md §9, docs/platform.md "Roles"); the server enforces it anyway.
const rights = {
  owner: ['org:edit', 'org:delete', 'project:create', 'project:edit', 'env:manage', 'keys:write', 'tables:write', 'team:invite', 'team:role', 'team:remove', 'tokens', 'plan:change', 'projects:use', 'transfer'],
  admin: ['org:edit', 'project:create', 'project:edit', 'env:manage', 'keys:write', 'tables:write', 'team:invite', 'team:role', 'tokens', 'projects:use'],
  member: ['projects:use'],
  billing: ['plan:change'],
};
export const can = (what) => (rights[session.role] || []).includes(what);

// Records, end users and files are read through the management API (…/tables/:t/records, …/auth/users,
// …/files), by every role that may view the environment; files are changed there too (…/files/:id,
// …/files/:id/download-url, …/files/presigned-url then …/files), by owners and admins. No page holds a key.
