// Compatibility and robustness of the data API (client-api.md §1, §2, §5, §6.1, §7.3–7.4): every data
// call of §7.3 made the way the example apps make it (TS apps: URLSearchParams, Content-Type only with a
// body; Dart apps: Dio query parameters, Content-Type on every request), every §6.1 code the data API
// can produce, the hostile-input list, the /v1/:tableName shorthand, pagination, ETags, cursors,
// skipTotal and POST /v1/batch, beyond what data.test.mjs already covers.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, startServer, req, expectError, userToken } from './harness.mjs';

let srv, b, admin, tables, alice, bob, shopAdmin;
before(async () => {
  srv = await startServer();
  b = srv.bootstrap;
  admin = { token: b.operatorToken };
  tables = `/admin/v1/projects/${b.projectId}/environments/dev/tables`;
  const S = (bsonType, extra = {}) => ({ bsonType, ...extra });
  const str = S('string'), int = S('int'), bool = S('bool');
  // Permissions as the cookbooks set them up (§7.4 item 11).
  const social = { guest: { read: true, list: true }, user: { create: true, read: true, list: true }, self: { update: true, delete: true } };
  const owned = { user: { create: true }, self: { read: true, list: true, update: true, delete: true } };
  const defs = {
    articles: [{ title: str, content: str, coverImage: str, category: str, isPublished: bool, tags: S('array', { items: str }) }, social],
    bookmarks: [{ articleId: str }, owned],
    tags: [{ name: str, slug: str }, owned],
    recipes: [{ title: str, description: str, cookingTime: int, difficulty: str, servings: int, category: str, imageUrl: str }, social],
    ingredients: [{ recipeId: str, name: str, amount: str, unit: str, orderIndex: int, isOptional: bool }, social],
    meal_plans: [{ date: str, mealType: str, recipeId: str, servings: int, notes: str }, social],
    shopping_lists: [{ name: str, date: str, totalItems: int, checkedItems: int, items: S('array', { items: S('object', { properties: {
      name: str, amount: str, unit: str, checked: bool, recipeId: str } }) }) }, social],
    cooking_logs: [{ recipeId: str, rating: S('int', { minimum: 1, maximum: 5 }), notes: str, cookedAt: S('date') }, social],
    products: [{ name: str, description: str, price: S('double'), category: str, stock: int, imageUrl: str, isActive: bool },
      { guest: { read: true, list: true }, user: { read: true, list: true } }],
    carts: [{ productId: str, quantity: int }, owned],
    orders: [{ items: str, totalPrice: int, status: str, shippingAddress: str, recipientName: str, recipientPhone: str }, owned],
    reviews: [{ productId: str, orderId: str, rating: S('int', { minimum: 1, maximum: 5 }), content: str },
      { guest: { read: true, list: true }, user: { create: true }, self: { read: true, list: true, update: true, delete: true } }],
    profiles: [{ userId: str, nickname: str, bio: str, avatarUrl: str }, social],
    posts: [{ content: str, imageUrl: str, likesCount: int, commentsCount: int }, social],
    comments: [{ postId: str, content: str }, social],
    likes: [{ postId: str }, social],
    follows: [{ followerId: str, followingId: str }, social],
    pages: [{ n: int, grp: str }, null],
    deep: [{ title: str, meta: S('object', { properties: { a: S('object', { properties: { b: str } }), s: str } }) }, null],
    evil: [{ s: str }, null],
    uniq: [{ email: str }, null],
    _audit: [{ what: str }, null],
  };
  for (const [tableName, [properties, permissions]] of Object.entries(defs)) {
    const body = { tableName, schema: { bsonType: 'object', properties } };
    if (permissions) body.permissions = permissions;
    const r = await req(srv, 'POST', tables, { ...admin, body });
    assert.equal(r.status, 201, `${tableName}: ${r.text}`);
  }
  const ix = await req(srv, 'POST', `${tables}/uniq/indexes`, { ...admin, body: { indexesToAdd: [{ name: 'email_u', fields: { email: 1 }, unique: true }] } });
  assert.equal(ix.status, 200, ix.text);
  [alice, bob, shopAdmin] = await Promise.all([userToken(srv, 'u_alice'), userToken(srv, 'u_bob'), userToken(srv, 'u_shop', { role: 'admin' })]);
  const rows = Array.from({ length: 150 }, (_, i) => ({ n: i, grp: `g${i % 4}` }));
  const seeded = await req(srv, 'POST', '/v1/data/pages', { key: b.secretKey, body: rows });
  assert.equal(seeded.status, 201, seeded.text);
});
after(async () => { await srv?.stop(); });

// ---- the example clients' ways of calling ----

// TS apps (blog-web, recipe-web, shopping-mall-web): URLSearchParams; Content-Type only with a body.
async function ts(method, path, { token, body, query } = {}) {
  const qs = query ? new URLSearchParams(query).toString() : '';
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return req(srv, method, path + (qs ? `?${qs}` : ''), { key: b.publishableKey, token, headers,
    raw: body !== undefined ? JSON.stringify(body) : undefined });
}

// Dart apps (recipe-app, social-network-app): Dio queryParameters (form encoding, space as '+');
// Content-Type: application/json on every request, GET and DELETE included.
const dartEnc = (s) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
async function dart(method, path, { token, body, query } = {}) {
  const qs = query ? Object.entries(query).map(([k, v]) => `${dartEnc(k)}=${dartEnc(String(v))}`).join('&') : '';
  return req(srv, method, path + (qs ? `?${qs}` : ''), { key: b.publishableKey, token, headers: { 'Content-Type': 'application/json' },
    raw: body !== undefined ? JSON.stringify(body) : undefined });
}

const sk = () => ({ key: b.secretKey });
const pk = () => ({ key: b.publishableKey });
const enc = (o) => encodeURIComponent(typeof o === 'string' ? o : JSON.stringify(o));
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const PAGINATION_KEYS = ['total', 'page', 'limit', 'totalPages', 'hasNext', 'hasPrev', 'hasNextPage', 'hasPrevPage'];

// A bare record (§1.5, §2.2, §1.8) holding the given fields.
function checkRecord(rec, fields = {}, createdBy) {
  assert.ok(rec && typeof rec === 'object' && !Array.isArray(rec), `a record: ${JSON.stringify(rec)}`);
  assert.equal(typeof rec.id, 'string');
  assert.match(rec.id, /^[A-Za-z0-9_-]+$/, 'ids are URL-safe');
  assert.ok(rec.id !== 'spec' && rec.id !== 'openapi');
  assert.equal(typeof rec.createdBy, 'string', 'createdBy is a string, never null');
  if (createdBy !== undefined) assert.equal(rec.createdBy, createdBy);
  assert.match(rec.createdAt, ISO_MS);
  assert.match(rec.updatedAt, ISO_MS);
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(rec[k], v, `field ${k}`);
}

// A list answer (§1.7): items + all eight pagination fields, consistent with each other.
function checkList(res, { total, page, limit, count } = {}) {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.ok(Array.isArray(res.json.items), res.text.slice(0, 300));
  const p = res.json.pagination;
  assert.ok(p && typeof p === 'object', 'pagination object');
  for (const k of PAGINATION_KEYS) assert.ok(k in p, `pagination.${k} present: ${JSON.stringify(p)}`);
  for (const k of ['total', 'page', 'limit', 'totalPages']) assert.ok(Number.isInteger(p[k]), `pagination.${k} integer: ${JSON.stringify(p)}`);
  assert.equal(p.totalPages, p.total === 0 ? 0 : Math.ceil(p.total / p.limit), `totalPages: ${JSON.stringify(p)}`);
  assert.equal(p.hasNext, p.page < p.totalPages, `hasNext: ${JSON.stringify(p)}`);
  assert.equal(p.hasPrev, p.page > 1, `hasPrev: ${JSON.stringify(p)}`);
  assert.equal(p.hasNextPage, p.hasNext);
  assert.equal(p.hasPrevPage, p.hasPrev);
  assert.ok(res.json.items.length <= p.limit);
  const expectedCount = Math.max(0, Math.min(p.limit, p.total - (p.page - 1) * p.limit));
  assert.equal(res.json.items.length, expectedCount, `items on page ${p.page}: ${JSON.stringify(p)}`);
  if (total !== undefined) assert.equal(p.total, total, `total: ${JSON.stringify(p)}`);
  if (page !== undefined) assert.equal(p.page, page);
  if (limit !== undefined) assert.equal(p.limit, limit);
  if (count !== undefined) assert.equal(res.json.items.length, count);
  for (const rec of res.json.items) checkRecord(rec);
  return res.json;
}

// Integers printed as integers (§1.8): "field":30 followed by , or }.
function assertIntText(text, field, n) {
  assert.match(text, new RegExp(`"${field}":${n}[,}]`), `"${field}" printed as the integer ${n}: ${text.slice(0, 400)}`);
}

// The order §2.6 prescribes: by the sort key, then by id in the same direction.
const ordered = (recs, key, dir) => [...recs].sort((x, y) => {
  const c = x[key] < y[key] ? -1 : x[key] > y[key] ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  return dir === 'asc' ? c : -c;
});
const isDescBy = (items, key) => items.every((x, i) => i === 0 || items[i - 1][key] >= x[key]);
const isAscBy = (items, key) => items.every((x, i) => i === 0 || items[i - 1][key] <= x[key]);

// ================= §7.3: the example apps' calls =================

test('§7.3 D1 blog-web articles: create, list with filters, guest list, get, patch, delete', async () => {
  const made = [];
  for (let i = 0; i < 13; i++) {
    const body = { title: `Post ${i}`, content: `Body of post ${i}\nwith a second line`, coverImage: `uploads/u_alice/cover-${i}.png`,
      category: i % 2 ? 'tech' : 'life', isPublished: i % 3 !== 0, tags: ['c', `t${i}`] };
    const r = await ts('POST', '/v1/data/articles', { token: alice, body });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    checkRecord(r.json, body, 'u_alice');
    assert.equal(r.json.createdAt, r.json.updatedAt);
    made.push(r.json);
  }
  const techTotal = made.filter((a) => a.category === 'tech').length;
  // list (page, limit 10, createdAt desc, andFilters category)
  const l1 = await ts('GET', '/v1/data/articles', { token: alice, query: { page: '1', limit: '10', sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ category: 'tech' }) } });
  const j1 = checkList(l1, { total: techTotal, page: 1, limit: 10 });
  assert.ok(j1.items.every((a) => a.category === 'tech'));
  assert.ok(isDescBy(j1.items, 'createdAt'));
  // the newest first: the last tech article created comes first
  assert.deepEqual(j1.items.map((a) => a.id), ordered(made.filter((a) => a.category === 'tech'), 'createdAt', 'desc').map((a) => a.id));
  // guest list of published articles (no JWT), boolean filter value
  const published = made.filter((a) => a.isPublished);
  const g1 = await ts('GET', '/v1/data/articles', { query: { page: '1', limit: '10', sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ isPublished: true }) } });
  checkList(g1, { total: published.length, page: 1, limit: 10, count: 8 });
  assert.ok(g1.json.items.every((a) => a.isPublished === true));
  assert.equal(g1.json.pagination.totalPages, 1);
  const g2 = await ts('GET', '/v1/data/articles', { query: { page: '2', limit: '5', sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ isPublished: true }) } });
  const j2 = checkList(g2, { total: published.length, page: 2, limit: 5, count: 3 });
  assert.equal(j2.pagination.hasPrev, true);
  assert.equal(j2.pagination.hasNext, false);
  // andFilters on createdBy and several fields at once
  const mine = await ts('GET', '/v1/data/articles', { token: alice, query: { page: '1', limit: '10', sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ createdBy: 'u_alice', category: 'life', isPublished: false }) } });
  checkList(mine, { total: made.filter((a) => a.category === 'life' && !a.isPublished).length });
  assert.ok(mine.json.items.every((a) => a.createdBy === 'u_alice' && a.category === 'life' && a.isPublished === false));
  const nobody = await ts('GET', '/v1/data/articles', { token: alice, query: { andFilters: JSON.stringify({ createdBy: 'u_nobody' }) } });
  checkList(nobody, { total: 0, page: 1, count: 0 });
  // get with a JWT and as a guest
  const target = made[4];
  const withJwt = await ts('GET', `/v1/data/articles/${target.id}`, { token: alice });
  assert.equal(withJwt.status, 200, withJwt.text);
  assert.deepEqual(withJwt.json, target);
  const asGuest = await ts('GET', `/v1/data/articles/${target.id}`);
  assert.equal(asGuest.status, 200, asGuest.text);
  assert.deepEqual(asGuest.json, target);
  // patch the article fields
  const patch = { title: 'Edited', content: 'New body', coverImage: 'uploads/u_alice/new.png', category: 'tech', isPublished: true, tags: ['x'] };
  const p = await ts('PATCH', `/v1/data/articles/${target.id}`, { token: alice, body: patch });
  assert.equal(p.status, 200, p.text);
  checkRecord(p.json, { ...patch, id: target.id, createdAt: target.createdAt }, 'u_alice');
  assert.ok(p.json.updatedAt >= target.updatedAt);
  // another user may not patch or delete it (self only)
  expectError(assert, await ts('PATCH', `/v1/data/articles/${target.id}`, { token: bob, body: { title: 'hijack' } }), 403, 'data/permission-denied');
  expectError(assert, await ts('DELETE', `/v1/data/articles/${target.id}`, { token: bob }), 403, 'data/permission-denied');
  // delete, and the lists no longer show it (read-your-writes, §7.4 item 7)
  const d = await ts('DELETE', `/v1/data/articles/${target.id}`, { token: alice });
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.json, { success: true });
  const after = await ts('GET', '/v1/data/articles', { query: { limit: '100' } });
  checkList(after, { total: made.length - 1 });
  assert.ok(!after.json.items.some((a) => a.id === target.id));
  expectError(assert, await ts('GET', `/v1/data/articles/${target.id}`), 404, 'data/not-found');
});

test('§7.3 D2–D3 blog-web bookmarks and tags: createdBy filters, the limit=1 existence check, name sort', async () => {
  const art = 'a'.repeat(24);
  const a1 = await ts('POST', '/v1/data/bookmarks', { token: alice, body: { articleId: art } });
  assert.equal(a1.status, 201, a1.text);
  checkRecord(a1.json, { articleId: art }, 'u_alice');
  const a2 = await ts('POST', '/v1/data/bookmarks', { token: alice, body: { articleId: 'b'.repeat(24) } });
  const b1 = await ts('POST', '/v1/data/bookmarks', { token: bob, body: { articleId: art } });
  assert.equal(a2.status, 201);
  assert.equal(b1.status, 201);
  const list = await ts('GET', '/v1/data/bookmarks', { token: alice, query: { sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ createdBy: 'u_alice' }) } });
  checkList(list, { total: 2, page: 1, limit: 20 });
  assert.deepEqual(list.json.items.map((x) => x.id), ordered([a1.json, a2.json], 'createdAt', 'desc').map((x) => x.id));
  const check = await ts('GET', '/v1/data/bookmarks', { token: alice, query: { page: '1', limit: '1',
    andFilters: JSON.stringify({ articleId: art, createdBy: 'u_alice' }) } });
  checkList(check, { total: 1, limit: 1, count: 1 });
  assert.equal(check.json.items[0].id, a1.json.id);
  const del = await ts('DELETE', `/v1/data/bookmarks/${a1.json.id}`, { token: alice });
  assert.deepEqual(del.json, { success: true });
  const again = await ts('GET', '/v1/data/bookmarks', { token: alice, query: { page: '1', limit: '1',
    andFilters: JSON.stringify({ articleId: art, createdBy: 'u_alice' }) } });
  checkList(again, { total: 0, count: 0 });
  // tags: limit=50&sortBy=name&sortDirection=asc with {"createdBy": uid}
  for (const name of ['zeta', 'Alpha', 'beta', 'mid dle']) {
    const r = await ts('POST', '/v1/data/tags', { token: alice, body: { name, slug: name.toLowerCase().replace(/ /g, '-') } });
    assert.equal(r.status, 201, r.text);
    checkRecord(r.json, { name }, 'u_alice');
  }
  await ts('POST', '/v1/data/tags', { token: bob, body: { name: 'bobs', slug: 'bobs' } });
  const tl = await ts('GET', '/v1/data/tags', { token: alice, query: { limit: '50', sortBy: 'name', sortDirection: 'asc',
    andFilters: JSON.stringify({ createdBy: 'u_alice' }) } });
  checkList(tl, { total: 4, limit: 50 });
  assert.deepEqual(tl.json.items.map((t) => t.name), ['Alpha', 'beta', 'mid dle', 'zeta'].sort());
  const gone = await ts('DELETE', `/v1/data/tags/${tl.json.items[0].id}`, { token: alice });
  assert.equal(gone.status, 200, gone.text);
  checkList(await ts('GET', '/v1/data/tags', { token: alice, query: { limit: '50', sortBy: 'name', sortDirection: 'asc',
    andFilters: JSON.stringify({ createdBy: 'u_alice' }) } }), { total: 3 });
});

test('§7.3 D4–D8 recipe apps: recipes, ingredients ($in, limit=200), meal plans (string dates), lists, logs', async () => {
  // recipes: RW (TS) creates, RA (Dart) lists with a $lte filter
  const recipes = [];
  for (const [i, [difficulty, cookingTime]] of [['easy', 10], ['hard', 90], ['easy', 30], ['medium', 45], ['easy', 25]].entries()) {
    const body = { title: `Recipe ${i}`, description: 'Tasty', cookingTime, difficulty, servings: 2 + i, category: i % 2 ? 'Main Course' : 'dessert',
      imageUrl: i % 2 ? `uploads/r${i}.jpg` : `http://localhost:9000/bucket/r${i}.jpg` };
    const r = await ts('POST', '/v1/data/recipes', { token: alice, body });
    assert.equal(r.status, 201, r.text);
    checkRecord(r.json, body, 'u_alice');
    assertIntText(r.text, 'cookingTime', cookingTime);
    assertIntText(r.text, 'servings', 2 + i);
    recipes.push(r.json);
  }
  const rw = await ts('GET', '/v1/data/recipes', { token: alice, query: { page: '1', limit: '12',
    andFilters: JSON.stringify({ difficulty: 'easy', category: 'dessert' }) } });
  checkList(rw, { total: 3, limit: 12 });
  assert.ok(isDescBy(rw.json.items, 'createdAt'), 'default sort is createdAt desc');
  // a filter value with a space is sent as '+' by both clients
  const spaced = await dart('GET', '/v1/data/recipes', { token: alice, query: { page: 1, limit: 10, andFilters: JSON.stringify({ category: 'Main Course' }) } });
  checkList(spaced, { total: 2, limit: 10 });
  const ra = await dart('GET', '/v1/data/recipes', { token: alice, query: { page: 1, limit: 10, andFilters: JSON.stringify({ cookingTime: { $lte: 30 } }) } });
  checkList(ra, { total: 3 });
  assert.ok(ra.json.items.every((r) => r.cookingTime <= 30));
  const rg = await dart('GET', `/v1/data/recipes/${recipes[1].id}`, { token: alice });
  assert.deepEqual(rg.json, recipes[1]);
  const rp = await ts('PATCH', `/v1/data/recipes/${recipes[1].id}`, { token: alice, body: { cookingTime: 80, servings: 3, title: 'Faster' } });
  assert.equal(rp.status, 200, rp.text);
  checkRecord(rp.json, { cookingTime: 80, servings: 3, title: 'Faster', difficulty: 'hard' });
  // ingredients
  const [r0, r1] = recipes;
  const ings = [];
  for (const [recipeId, name, orderIndex] of [[r0.id, 'sugar', 2], [r0.id, 'flour', 0], [r0.id, 'eggs', 1], [r1.id, 'beef', 1], [r1.id, 'salt', 0]]) {
    const body = { recipeId, name, amount: '1 1/2', unit: 'cup', orderIndex, isOptional: name === 'salt' };
    const r = await dart('POST', '/v1/data/ingredients', { token: alice, body });
    assert.equal(r.status, 201, r.text);
    checkRecord(r.json, body);
    ings.push(r.json);
  }
  const byRecipe = await ts('GET', '/v1/data/ingredients', { token: alice, query: { limit: '50', sortBy: 'orderIndex', sortDirection: 'asc',
    andFilters: JSON.stringify({ recipeId: r0.id }) } });
  checkList(byRecipe, { total: 3, limit: 50 });
  assert.deepEqual(byRecipe.json.items.map((x) => x.name), ['flour', 'eggs', 'sugar']);
  const raIng = await dart('GET', '/v1/data/ingredients', { token: alice, query: { limit: 100, sortBy: 'orderIndex', sortDirection: 'asc',
    andFilters: JSON.stringify({ recipeId: r1.id }) } });
  checkList(raIng, { total: 2, limit: 100 });
  const inList = await dart('GET', '/v1/data/ingredients', { token: alice, query: { limit: 200, sortBy: 'name', sortDirection: 'asc',
    andFilters: JSON.stringify({ recipeId: { $in: [r0.id, r1.id, 'f'.repeat(24)] } }) } });
  checkList(inList, { total: 5, limit: 100 }); // limit=200 clamps to 100 (§1.7, §7.4 item 5)
  assert.deepEqual(inList.json.items.map((x) => x.name), ['beef', 'eggs', 'flour', 'salt', 'sugar']);
  const ig = await ts('GET', `/v1/data/ingredients/${ings[0].id}`, { token: alice });
  assert.deepEqual(ig.json, ings[0]);
  const ip = await dart('PATCH', `/v1/data/ingredients/${ings[0].id}`, { token: alice, body: { amount: '2', isOptional: true } });
  checkRecord(ip.json, { amount: '2', isOptional: true, name: 'sugar' });
  const idel = await dart('DELETE', `/v1/data/ingredients/${ings[0].id}`, { token: alice });
  assert.equal(idel.status, 200, idel.text);
  assert.deepEqual(idel.json, { success: true });
  // meal plans: plain YYYY-MM-DD strings compared lexicographically, round-tripped unchanged
  for (const date of ['2025-01-12', '2025-01-19', '2025-01-13', '2025-01-15', '2025-01-20']) {
    const body = { date, mealType: 'dinner', recipeId: r0.id, servings: 2, notes: '' };
    const r = await dart('POST', '/v1/data/meal_plans', { token: alice, body });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.date, date, 'a date-like string in a string column comes back unchanged');
  }
  const week = await ts('GET', '/v1/data/meal_plans', { token: alice, query: { sortBy: 'date', sortDirection: 'asc', limit: '50',
    andFilters: JSON.stringify({ date: { $gte: '2025-01-13', $lte: '2025-01-19' } }) } });
  checkList(week, { total: 3, limit: 50 });
  assert.deepEqual(week.json.items.map((m) => m.date), ['2025-01-13', '2025-01-15', '2025-01-19']);
  // shopping lists: an array of objects round-trips
  const slBody = { name: 'Weekly', date: '2025-01-13', totalItems: 2, checkedItems: 0,
    items: [{ name: 'milk', amount: '1', unit: 'l', checked: false, recipeId: r0.id }, { name: 'eggs', amount: '12', unit: '', checked: true, recipeId: '' }] };
  const sl = await ts('POST', '/v1/data/shopping_lists', { token: alice, body: slBody });
  assert.equal(sl.status, 201, sl.text);
  checkRecord(sl.json, slBody);
  const slList = await dart('GET', '/v1/data/shopping_lists', { token: alice, query: { sortBy: 'createdAt', sortDirection: 'desc' } });
  checkList(slList, { total: 1 });
  assert.deepEqual(slList.json.items[0], sl.json);
  const slp = await ts('PATCH', `/v1/data/shopping_lists/${sl.json.id}`, { token: alice, body: { checkedItems: 1, items: [{ ...slBody.items[0], checked: true }] } });
  assert.equal(slp.status, 200, slp.text);
  assert.equal(slp.json.checkedItems, 1);
  assert.deepEqual(slp.json.items, [{ ...slBody.items[0], checked: true }]);
  // cooking logs: sorted by cookedAt desc, an ISO timestamp with milliseconds round-trips
  for (const [cookedAt, rating] of [['2025-01-15T10:30:00.000Z', 5], ['2025-01-17T08:00:00.000Z', 3], ['2025-01-16T19:45:30.250Z', 4]]) {
    const body = { recipeId: r0.id, rating, notes: 'ok', cookedAt };
    const r = await dart('POST', '/v1/data/cooking_logs', { token: alice, body });
    assert.equal(r.status, 201, r.text);
    checkRecord(r.json, body);
    assertIntText(r.text, 'rating', rating);
  }
  expectError(assert, await dart('POST', '/v1/data/cooking_logs', { token: alice, body: { recipeId: r0.id, rating: 6, cookedAt: '2025-01-15T10:30:00.000Z' } }),
    400, 'data/validation-error');
  const logs = await ts('GET', '/v1/data/cooking_logs', { token: alice, query: { sortBy: 'cookedAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ recipeId: r0.id }) } });
  checkList(logs, { total: 3 });
  assert.deepEqual(logs.json.items.map((l) => l.cookedAt), ['2025-01-17T08:00:00.000Z', '2025-01-16T19:45:30.250Z', '2025-01-15T10:30:00.000Z']);
  const ldel = await dart('DELETE', `/v1/data/cooking_logs/${logs.json.items[0].id}`, { token: alice });
  assert.deepEqual(ldel.json, { success: true });
});

test('§7.3 D9–D12 shopping mall: guest products, self-scoped carts/orders/reviews, JSON-string items', async () => {
  const products = [];
  for (const [name, price, category, isActive] of [['Mug', 18.99, 'kitchen', true], ['Pan', 30000, 'kitchen', true], ['Lamp', 45.5, 'living', false]]) {
    const body = { name, description: `A ${name}`, price, category, stock: 7, imageUrl: `uploads/${name}.png`, isActive };
    const r = await ts('POST', '/v1/data/products', { token: shopAdmin, body });
    assert.equal(r.status, 201, r.text);
    checkRecord(r.json, body, 'u_shop');
    products.push(r);
  }
  assertIntText(products[1].text, 'price', 30000);
  assert.ok(products[0].text.includes('"price":18.99'));
  expectError(assert, await ts('POST', '/v1/data/products', { token: alice, body: { name: 'x' } }), 403, 'data/permission-denied');
  const all = await ts('GET', '/v1/data/products'); // guest, no parameters
  checkList(all, { total: 3, page: 1, limit: 20 });
  const kitchen = await ts('GET', '/v1/data/products', { query: { andFilters: JSON.stringify({ category: 'kitchen', isActive: true }) } });
  checkList(kitchen, { total: 2 });
  const one = await ts('GET', `/v1/data/products/${products[2].json.id}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json, products[2].json);
  const pp = await ts('PATCH', `/v1/data/products/${products[0].json.id}`, { token: shopAdmin, body: { stock: 6, price: 17.5 } });
  assert.equal(pp.status, 200, pp.text);
  checkRecord(pp.json, { stock: 6, price: 17.5, name: 'Mug' });
  // carts: list ?limit=100 only, relying on the self filter
  const ca = await ts('POST', '/v1/data/carts', { token: alice, body: { productId: products[0].json.id, quantity: 1 } });
  const cb = await ts('POST', '/v1/data/carts', { token: bob, body: { productId: products[1].json.id, quantity: 2 } });
  assert.equal(ca.status, 201, ca.text);
  assert.equal(cb.status, 201, cb.text);
  const cart = await ts('GET', '/v1/data/carts', { token: alice, query: { limit: '100' } });
  checkList(cart, { total: 1, limit: 100 });
  assert.equal(cart.json.items[0].id, ca.json.id);
  const cq = await ts('PATCH', `/v1/data/carts/${ca.json.id}`, { token: alice, body: { quantity: 3 } });
  assert.equal(cq.status, 200, cq.text);
  assertIntText(cq.text, 'quantity', 3);
  assert.deepEqual((await ts('DELETE', `/v1/data/carts/${ca.json.id}`, { token: alice })).json, { success: true });
  checkList(await ts('GET', '/v1/data/carts', { token: alice, query: { limit: '100' } }), { total: 0 });
  // orders: items is a JSON string and must come back as that exact string
  const items = JSON.stringify([{ productId: products[0].json.id, name: 'Mug "big"', price: 18.99, quantity: 2 }, { name: 'Pan\\n', quantity: 1 }]);
  const ob = { items, totalPrice: 30038, status: 'pending', shippingAddress: 'Seoul, 123 Main St. #4', recipientName: '홍길동 😀', recipientPhone: '+82 10-1234-5678' };
  const o = await ts('POST', '/v1/data/orders', { token: alice, body: ob });
  assert.equal(o.status, 201, o.text);
  checkRecord(o.json, ob, 'u_alice');
  assert.equal(typeof o.json.items, 'string');
  await ts('POST', '/v1/data/orders', { token: bob, body: { ...ob, recipientName: 'Bob' } });
  const orders = await ts('GET', '/v1/data/orders', { token: alice });
  checkList(orders, { total: 1 });
  assert.equal(orders.json.items[0].items, items);
  // a '+' in a filter value is sent as %2B and must not turn into a space
  const byPhone = await ts('GET', '/v1/data/orders', { token: alice, query: { andFilters: JSON.stringify({ recipientPhone: '+82 10-1234-5678' }) } });
  checkList(byPhone, { total: 1 });
  const og = await ts('GET', `/v1/data/orders/${o.json.id}`, { token: alice });
  assert.deepEqual(og.json, o.json);
  const op = await ts('PATCH', `/v1/data/orders/${o.json.id}`, { token: alice, body: { status: 'cancelled' } });
  assert.equal(op.status, 200, op.text);
  assert.equal(op.json.status, 'cancelled');
  assert.equal(op.json.items, items);
  // reviews: guests list by product (everyone's), a signed-in user lists without a filter (own only)
  const pid = products[0].json.id;
  const ra = await ts('POST', '/v1/data/reviews', { token: alice, body: { productId: pid, orderId: o.json.id, rating: 5, content: 'Great' } });
  const rb = await ts('POST', '/v1/data/reviews', { token: bob, body: { productId: pid, orderId: 'o2', rating: 2, content: 'Meh' } });
  await ts('POST', '/v1/data/reviews', { token: bob, body: { productId: products[1].json.id, orderId: 'o3', rating: 4, content: 'Fine' } });
  assert.equal(ra.status, 201, ra.text);
  assert.equal(rb.status, 201, rb.text);
  const guestReviews = await ts('GET', '/v1/data/reviews', { query: { andFilters: JSON.stringify({ productId: pid }) } });
  checkList(guestReviews, { total: 2 });
  const myReviews = await ts('GET', '/v1/data/reviews', { token: alice });
  checkList(myReviews, { total: 1 });
  assert.equal(myReviews.json.items[0].id, ra.json.id);
  const rp = await ts('PATCH', `/v1/data/reviews/${ra.json.id}`, { token: alice, body: { rating: 4, content: 'Good' } });
  checkRecord(rp.json, { rating: 4, content: 'Good' });
  expectError(assert, await ts('PATCH', `/v1/data/reviews/${rb.json.id}`, { token: alice, body: { rating: 1 } }), 403, 'data/permission-denied');
  assert.deepEqual((await ts('DELETE', `/v1/data/reviews/${ra.json.id}`, { token: alice })).json, { success: true });
});

test('§7.3 D13–D17 social apps and the seed script\'s cleanup loop', async () => {
  // profiles: list {"userId": uid} with no paging parameters
  const prof = await dart('POST', '/v1/data/profiles', { token: alice, body: { userId: 'u_alice', nickname: 'Al', bio: '', avatarUrl: 'http://localhost:9000/a.png' } });
  assert.equal(prof.status, 201, prof.text);
  await dart('POST', '/v1/data/profiles', { token: bob, body: { userId: 'u_bob', nickname: 'Bo', bio: 'hi', avatarUrl: '' } });
  const pl = await dart('GET', '/v1/data/profiles', { token: alice, query: { andFilters: JSON.stringify({ userId: 'u_alice' }) } });
  checkList(pl, { total: 1, page: 1, limit: 20 });
  const pg = await dart('GET', `/v1/data/profiles/${prof.json.id}`, { token: bob });
  assert.deepEqual(pg.json, prof.json);
  const pp = await dart('PATCH', `/v1/data/profiles/${prof.json.id}`, { token: alice, body: { nickname: 'Alice', bio: 'bio', avatarUrl: 'http://x/y.png', userId: 'u_alice' } });
  assert.equal(pp.status, 200, pp.text);
  checkRecord(pp.json, { nickname: 'Alice', bio: 'bio' }, 'u_alice');
  // posts: page/limit 20 sorted createdAt desc, {"createdBy":{"$in":[ids]}}; counters are ints
  const posts = [];
  for (let i = 0; i < 80; i++) {
    const token = i % 4 === 3 ? bob : alice;
    const r = await dart('POST', '/v1/data/posts', { token, body: { content: `post ${i}`, imageUrl: '', likesCount: 0, commentsCount: 0 } });
    assert.equal(r.status, 201, r.text);
    posts.push(r.json);
  }
  const feed = await dart('GET', '/v1/data/posts', { token: alice, query: { page: 1, limit: 20, sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ createdBy: { $in: ['u_alice', 'u_bob'] } }) } });
  checkList(feed, { total: 80, page: 1, limit: 20, count: 20 });
  assert.equal(feed.json.pagination.totalPages, 4);
  assert.deepEqual(feed.json.items.map((p) => p.id), ordered(posts, 'createdAt', 'desc').slice(0, 20).map((p) => p.id));
  const onlyBob = await dart('GET', '/v1/data/posts', { token: alice, query: { page: 2, limit: 20, sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ createdBy: { $in: ['u_bob'] } }) } });
  checkList(onlyBob, { total: 20, page: 2, count: 0 });
  const likeUp = await dart('PATCH', `/v1/data/posts/${posts[0].id}`, { token: alice, body: { likesCount: 1, commentsCount: 2 } });
  assert.equal(likeUp.status, 200, likeUp.text);
  assertIntText(likeUp.text, 'likesCount', 1);
  assertIntText(likeUp.text, 'commentsCount', 2);
  // comments: {"postId": id} sorted createdAt asc
  const cs = [];
  for (const [token, content] of [[bob, 'first'], [alice, 'second'], [bob, 'third']]) {
    const r = await dart('POST', '/v1/data/comments', { token, body: { postId: posts[0].id, content } });
    assert.equal(r.status, 201, r.text);
    cs.push(r.json);
  }
  const cl = await dart('GET', '/v1/data/comments', { token: alice, query: { sortBy: 'createdAt', sortDirection: 'asc', andFilters: JSON.stringify({ postId: posts[0].id }) } });
  checkList(cl, { total: 3 });
  assert.deepEqual(cl.json.items.map((c) => c.id), ordered(cs, 'createdAt', 'asc').map((c) => c.id));
  // likes: {"postId":..,"createdBy":..} with no paging parameters
  const lk = await dart('POST', '/v1/data/likes', { token: bob, body: { postId: posts[0].id } });
  assert.equal(lk.status, 201, lk.text);
  checkRecord(lk.json, { postId: posts[0].id }, 'u_bob');
  const liked = await dart('GET', '/v1/data/likes', { token: bob, query: { andFilters: JSON.stringify({ postId: posts[0].id, createdBy: 'u_bob' }) } });
  checkList(liked, { total: 1 });
  const notLiked = await dart('GET', '/v1/data/likes', { token: alice, query: { andFilters: JSON.stringify({ postId: posts[0].id, createdBy: 'u_alice' }) } });
  checkList(notLiked, { total: 0 });
  // follows
  const f1 = await dart('POST', '/v1/data/follows', { token: alice, body: { followerId: 'u_alice', followingId: 'u_bob' } });
  await dart('POST', '/v1/data/follows', { token: bob, body: { followerId: 'u_bob', followingId: 'u_alice' } });
  assert.equal(f1.status, 201, f1.text);
  checkList(await dart('GET', '/v1/data/follows', { token: alice, query: { andFilters: JSON.stringify({ followerId: 'u_alice', followingId: 'u_bob' }) } }), { total: 1 });
  const followers = await dart('GET', '/v1/data/follows', { token: alice, query: { limit: 50, sortBy: 'createdAt', sortDirection: 'desc',
    andFilters: JSON.stringify({ followingId: 'u_alice' }) } });
  checkList(followers, { total: 1, limit: 50 });
  assert.equal(followers.json.items[0].followerId, 'u_bob');
  // seed.mjs: for each table, list limit=50&andFilters={"createdBy":uid} with that user's token and
  // delete every row, until the list comes back empty
  for (const [token, uid] of [[alice, 'u_alice'], [bob, 'u_bob']]) {
    for (const table of ['likes', 'comments', 'follows', 'posts', 'profiles']) {
      for (let round = 0; ; round++) {
        assert.ok(round < 10, `${table}: the cleanup loop terminates`);
        const l = await req(srv, 'GET', `/v1/data/${table}?limit=50&andFilters=${enc({ createdBy: uid })}`, { key: b.publishableKey, token });
        checkList(l, { limit: 50 });
        if (l.json.items.length === 0) break;
        for (const row of l.json.items) {
          assert.equal(row.createdBy, uid);
          const d = await req(srv, 'DELETE', `/v1/data/${table}/${row.id}`, { key: b.publishableKey, token });
          assert.equal(d.status, 200, d.text);
        }
      }
    }
  }
  for (const table of ['likes', 'comments', 'follows', 'posts', 'profiles']) {
    checkList(await req(srv, 'GET', `/v1/data/${table}`, sk()), { total: 0 });
  }
});

test('§1.8 encoding: integral numbers printed as integers, strings byte-exact, createdBy never null', async () => {
  // strings round-trip exactly: JSON inside strings, escapes, astral characters, date-like text
  const tricky = ['[{"a":1}]', 'quote " backslash \\ slash / tab \t nl \n', '\u00e9\u0301 😀 \u2028', '2025-01-15', '  padded  ', '1e3', 'true', ''];
  for (const s of tricky) {
    const c = await req(srv, 'POST', '/v1/data/orders', { key: b.secretKey, body: { items: s, recipientName: s } });
    assert.equal(c.status, 201, c.text);
    const got = await req(srv, 'GET', `/v1/data/orders/${c.json.id}`, sk());
    assert.equal(got.json.items, s);
    assert.equal(got.json.recipientName, s);
    assert.equal(got.json.createdBy, '', 'a secret key without a user writes createdBy ""');
    await req(srv, 'DELETE', `/v1/data/orders/${c.json.id}`, sk());
  }
  // A client (or a Dart double) may send 30.0, 3e1 or 3.0E1: integral values must still be written as 30
  // (the Dart apps cast with `as int`), in the create answer, in gets and in lists.
  const wrong = [];
  for (const [price, stock] of [['3e1', '30.0'], ['30.0', '3.0E1'], ['30.000', '300e-1']]) {
    const raw = `{"name":"num","price":${price},"stock":${stock}}`;
    const r = await req(srv, 'POST', '/v1/data/products', { key: b.secretKey, raw, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 201, r.text);
    const g = await req(srv, 'GET', `/v1/data/products/${r.json.id}`, sk());
    for (const [where, text] of [['create', r.text], ['get', g.text]]) {
      for (const f of ['price', 'stock']) if (!new RegExp(`"${f}":30[,}]`).test(text)) wrong.push(`${raw} → ${where} ${text.match(new RegExp(`"${f}":[^,}]*`))}`);
    }
  }
  const l = await req(srv, 'GET', `/v1/data/products?andFilters=${enc({ name: 'num' })}`, sk());
  assert.equal(l.json.pagination.total, 3);
  for (const f of ['price', 'stock']) if ((l.text.match(new RegExp(`"${f}":30[,}]`, 'g')) || []).length !== 3) wrong.push(`list: ${l.text.match(new RegExp(`"${f}":[^,}]*`, 'g'))}`);
  assert.deepEqual(wrong, [], 'integral numbers printed as integers (§1.8)');
});

// ================= §1.7 pagination =================

test('§1.7 pagination: default 20, cap 100, clamping, past the end, empty results, exact multiples', async () => {
  const list = (qs) => req(srv, 'GET', `/v1/data/pages${qs}`, pk());
  let j = checkList(await list(''), { total: 150, page: 1, limit: 20, count: 20 });
  assert.equal(j.pagination.totalPages, 8);
  assert.equal(j.pagination.hasNext, true);
  assert.equal(j.pagination.hasPrev, false);
  checkList(await list('?limit=100'), { total: 150, limit: 100, count: 100 });
  for (const l of ['101', '200', '1000000', '99999999999999999999']) checkList(await list(`?limit=${l}`), { total: 150, limit: 100, count: 100 });
  for (const l of ['0', '-1', '-100', 'abc', '', '%20', '1x']) checkList(await list(`?limit=${l}`), { total: 150, limit: 20, count: 20 });
  for (const p of ['0', '-1', 'abc', '']) checkList(await list(`?page=${p}`), { total: 150, page: 1, count: 20 });
  j = checkList(await list('?page=8'), { total: 150, page: 8, limit: 20, count: 10 });
  assert.equal(j.pagination.hasNext, false);
  assert.equal(j.pagination.hasPrev, true);
  j = checkList(await list('?page=9'), { total: 150, page: 9, count: 0 });
  assert.equal(j.pagination.hasNext, false);
  assert.equal(j.pagination.hasPrev, true);
  // huge pages: never a 5xx, items empty, flags consistent
  for (const p of ['1000000000', '99999999999999999999999']) {
    j = checkList(await list(`?page=${p}`), { total: 150, count: 0 });
    assert.ok(j.pagination.page > 8, `page ${j.pagination.page}`);
    assert.equal(j.pagination.hasPrev, true);
  }
  // page=1e9 is either read as the page 10^9 or (non-numeric) as the default: consistent either way
  j = checkList(await list('?page=1e9'), { total: 150 });
  assert.ok(j.pagination.page === 1 || j.pagination.page > 8);
  // empty result
  j = checkList(await list(`?andFilters=${enc({ grp: 'none' })}`), { total: 0, page: 1, count: 0 });
  assert.equal(j.pagination.totalPages, 0);
  assert.equal(j.pagination.hasNext, false);
  assert.equal(j.pagination.hasPrev, false);
  // an exact multiple of the limit: 40 rows of 20 is 2 pages
  const g0 = `andFilters=${enc({ grp: 'g0', n: { $lt: 160 } })}`;
  j = checkList(await list(`?${g0}&limit=19`), { total: 38, limit: 19, count: 19 });
  assert.equal(j.pagination.totalPages, 2);
  j = checkList(await list(`?${g0}&limit=19&page=2`), { total: 38, page: 2, count: 19 });
  assert.equal(j.pagination.hasNext, false);
  // limit=1 pages through a filter one by one
  j = checkList(await list(`?andFilters=${enc({ n: { $in: [3, 4, 5] } })}&limit=1&page=3&sortBy=n&sortDirection=asc`), { total: 3, page: 3, limit: 1, count: 1 });
  assert.equal(j.items[0].n, 5);
  assert.equal(j.pagination.totalPages, 3);
});

test('§2.6 stable offset paging: id breaks ties, pages partition the result in both directions', async () => {
  for (const dir of ['asc', 'desc']) {
    const seen = [];
    for (let page = 1; page <= 22; page++) {
      const r = await req(srv, 'GET', `/v1/data/pages?sortBy=grp&sortDirection=${dir}&limit=7&page=${page}`, pk());
      checkList(r, { total: 150, page });
      seen.push(...r.json.items);
    }
    assert.equal(seen.length, 150);
    assert.equal(new Set(seen.map((x) => x.id)).size, 150, `${dir}: every record exactly once`);
    for (let i = 1; i < seen.length; i++) {
      const [a, c] = [seen[i - 1], seen[i]];
      if (dir === 'asc') assert.ok(a.grp < c.grp || (a.grp === c.grp && a.id < c.id), `${dir} order at ${i}`);
      else assert.ok(a.grp > c.grp || (a.grp === c.grp && a.id > c.id), `${dir} order at ${i}`);
    }
  }
  const byId = await req(srv, 'GET', '/v1/data/pages?sortBy=id&sortDirection=asc&limit=100', pk());
  checkList(byId, { total: 150 });
  assert.ok(isAscBy(byId.json.items, 'id'));
  const byUpdated = await req(srv, 'GET', '/v1/data/pages?sortBy=updatedAt&sortDirection=desc&limit=100', pk());
  assert.ok(isDescBy(checkList(byUpdated).items, 'updatedAt'));
});

test('cursor/nextCursor: ties, filters, page ignored, null on the last page; skipTotal flags', async () => {
  // walk grp asc with many ties, filtered, 9 per page
  const filter = `andFilters=${enc({ n: { $gte: 10 } })}`;
  const seen = [];
  let cursor = null;
  let pages = 0;
  for (;;) {
    const r = await req(srv, 'GET', `/v1/data/pages?${filter}&sortBy=grp&sortDirection=asc&limit=9${cursor ? `&cursor=${cursor}` : ''}`, pk());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.pagination.total, 140);
    seen.push(...r.json.items);
    cursor = r.json.pagination.nextCursor;
    pages++;
    assert.ok(pages <= 16, 'the walk ends');
    if (cursor === null) break;
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.equal(r.json.items.length, 9);
  }
  assert.equal(pages, 16);
  assert.equal(seen.length, 140);
  assert.equal(new Set(seen.map((x) => x.id)).size, 140);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].grp < seen[i].grp || (seen[i - 1].grp === seen[i].grp && seen[i - 1].id < seen[i].id));
  // with a cursor, page is ignored
  const first = await req(srv, 'GET', '/v1/data/pages?sortBy=n&sortDirection=asc&limit=10', pk());
  const c1 = first.json.pagination.nextCursor;
  const plain = await req(srv, 'GET', `/v1/data/pages?sortBy=n&sortDirection=asc&limit=10&cursor=${c1}`, pk());
  const paged = await req(srv, 'GET', `/v1/data/pages?sortBy=n&sortDirection=asc&limit=10&cursor=${c1}&page=7`, pk());
  assert.deepEqual(plain.json.items.map((x) => x.n), Array.from({ length: 10 }, (_, i) => 10 + i));
  assert.deepEqual(paged.json.items, plain.json.items);
  // an exact multiple: the last full page has no next cursor
  const f38 = `andFilters=${enc({ grp: 'g0' })}&sortBy=n&sortDirection=asc&limit=19`;
  const p1 = await req(srv, 'GET', `/v1/data/pages?${f38}`, pk());
  assert.equal(p1.json.pagination.total, 38);
  const p2 = await req(srv, 'GET', `/v1/data/pages?${f38}&cursor=${p1.json.pagination.nextCursor}`, pk());
  assert.equal(p2.json.items.length, 19);
  assert.equal(p2.json.pagination.nextCursor, null, 'no cursor after the last row');
  // the shorthand hands out and takes the same cursors
  const s1 = await req(srv, 'GET', '/v1/pages?sortBy=n&sortDirection=asc&limit=10', pk());
  assert.equal(s1.json.pagination.nextCursor, c1);
  const s2 = await req(srv, 'GET', `/v1/pages?sortBy=n&sortDirection=asc&limit=10&cursor=${c1}`, pk());
  assert.deepEqual(s2.json.items, plain.json.items);
  // skipTotal: total and totalPages null, hasNext right even on an exact multiple
  const k1 = await req(srv, 'GET', `/v1/data/pages?${f38}&skipTotal=true`, pk());
  assert.equal(k1.status, 200, k1.text);
  assert.equal(k1.json.pagination.total, null);
  assert.equal(k1.json.pagination.totalPages, null);
  assert.equal(k1.json.pagination.hasNext, true);
  assert.equal(k1.json.pagination.hasNextPage, true);
  assert.equal(k1.json.pagination.hasPrev, false);
  assert.equal(k1.json.items.length, 19);
  const k2 = await req(srv, 'GET', `/v1/data/pages?${f38}&skipTotal=true&page=2`, pk());
  assert.equal(k2.json.items.length, 19);
  assert.equal(k2.json.pagination.hasNext, false);
  assert.equal(k2.json.pagination.hasNextPage, false);
  assert.equal(k2.json.pagination.hasPrev, true);
  assert.equal(k2.json.pagination.hasPrevPage, true);
  assert.equal(k2.json.pagination.page, 2);
  const kc = await req(srv, 'GET', `/v1/data/pages?${f38}&skipTotal=true&cursor=${p1.json.pagination.nextCursor}`, pk());
  assert.deepEqual(kc.json.items, p2.json.items);
  assert.equal(kc.json.pagination.hasNext, false);
  assert.equal(kc.json.pagination.nextCursor, null);
  // skipTotal=false keeps the count
  assert.equal((await req(srv, 'GET', `/v1/data/pages?${f38}&skipTotal=false`, pk())).json.pagination.total, 38);
  // cursors that are not cursors
  for (const c of ['', 'AAAA', 'x'.repeat(5000), encodeURIComponent('{"n":1}'), Buffer.from('[1,"x"]').toString('base64url')]) {
    const r = await req(srv, 'GET', `/v1/data/pages?sortBy=n&cursor=${c}`, pk());
    assert.ok(r.status === 200 || r.status === 400, `cursor ${c.slice(0, 20)}: ${r.status} ${r.text.slice(0, 200)}`);
    if (r.status === 400) expectError(assert, r, 400, 'data/validation-error');
    if (c === '' && r.status === 200) assert.equal(r.json.pagination.total, 150);
  }
});

// ================= ETags =================

test('ETag: *, tag lists, Cache-Control, shorthand, list tags change with writes; If-Match * and lists', async () => {
  const c = await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s: 'etag' } });
  const path = `/v1/data/evil/${c.json.id}`;
  const g = await req(srv, 'GET', path, pk());
  const etag = g.headers.get('etag');
  assert.match(etag, /^"[^"]+"$/);
  assert.match(g.headers.get('cache-control') || '', /no-cache/);
  const short = await req(srv, 'GET', `/v1/evil/${c.json.id}`, pk());
  assert.equal(short.headers.get('etag'), etag, 'the shorthand answers the same tag');
  for (const inm of ['*', `"nope", ${etag}`, `${etag},"other"`]) {
    const r = await req(srv, 'GET', path, { ...pk(), headers: { 'If-None-Match': inm } });
    assert.equal(r.status, 304, `If-None-Match: ${inm}`);
    assert.equal(r.text, '');
  }
  assert.equal((await req(srv, 'GET', `/v1/evil/${c.json.id}`, { ...pk(), headers: { 'If-None-Match': etag } })).status, 304);
  const miss = await req(srv, 'GET', path, { ...pk(), headers: { 'If-None-Match': '"0000"' } });
  assert.equal(miss.status, 200);
  assert.deepEqual(miss.json, c.json);
  // list tags follow writes
  const l1 = await req(srv, 'GET', '/v1/data/evil?limit=100', pk());
  const lt = l1.headers.get('etag');
  assert.ok(lt);
  assert.match(l1.headers.get('cache-control') || '', /no-cache/);
  assert.equal((await req(srv, 'GET', '/v1/data/evil?limit=100', { ...pk(), headers: { 'If-None-Match': lt } })).status, 304);
  const other = await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s: 'another' } });
  const l2 = await req(srv, 'GET', '/v1/data/evil?limit=100', { ...pk(), headers: { 'If-None-Match': lt } });
  assert.equal(l2.status, 200, 'a create changes the list');
  assert.notEqual(l2.headers.get('etag'), lt);
  // If-Match: * and a list holding the current tag pass; a stale tag via the shorthand is 412
  const p1 = await req(srv, 'PATCH', path, { ...sk(), headers: { 'If-Match': '*' }, body: { s: 'v2' } });
  assert.equal(p1.status, 200, p1.text);
  const t2 = p1.headers.get('etag');
  assert.notEqual(t2, etag);
  const g2 = await req(srv, 'GET', path, pk());
  assert.equal(g2.headers.get('etag'), t2, 'the PATCH answer carries the tag a GET then answers');
  const p2 = await req(srv, 'PATCH', path, { ...sk(), headers: { 'If-Match': `"stale", ${t2}` }, body: { s: 'v3' } });
  assert.equal(p2.status, 200, p2.text);
  const stale = await req(srv, 'PATCH', `/v1/evil/${c.json.id}`, { ...sk(), headers: { 'If-Match': t2 }, body: { s: 'lost' } });
  expectError(assert, stale, 412, 'data/precondition-failed');
  assert.equal((await req(srv, 'GET', path, pk())).json.s, 'v3');
  expectError(assert, await req(srv, 'DELETE', `/v1/evil/${c.json.id}`, { ...sk(), headers: { 'If-Match': '"x"' } }), 412, 'data/precondition-failed');
  assert.equal((await req(srv, 'DELETE', path, { ...sk(), headers: { 'If-Match': '*' } })).status, 200);
  await req(srv, 'DELETE', `/v1/data/evil/${other.json.id}`, sk());
});

// ================= §6.1 error codes =================

test('§6.1 data/table-not-found on every data route, both path families, names case-sensitive', async () => {
  const id = 'a'.repeat(24);
  for (const base of ['/v1/data/', '/v1/']) {
    for (const t of ['nope', 'Articles', 'ARTICLES', 'articles_', 'x'.repeat(10000)]) {
      const p = base + t;
      expectError(assert, await req(srv, 'GET', p, pk()), 404, 'data/table-not-found');
      expectError(assert, await req(srv, 'POST', p, { ...sk(), body: { a: 1 } }), 404, 'data/table-not-found');
      expectError(assert, await req(srv, 'GET', `${p}/${id}`, pk()), 404, 'data/table-not-found');
      expectError(assert, await req(srv, 'PATCH', `${p}/${id}`, { ...sk(), body: { a: 1 } }), 404, 'data/table-not-found');
      expectError(assert, await req(srv, 'DELETE', `${p}/${id}`, sk()), 404, 'data/table-not-found');
      expectError(assert, await req(srv, 'GET', `${p}/spec`, pk()), 404, 'data/table-not-found');
      expectError(assert, await req(srv, 'GET', `${p}/openapi`, pk()), 404, 'data/table-not-found');
    }
  }
  expectError(assert, await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [{ method: 'update', table: 'Articles', id, data: { a: 1 } }] } }),
    404, 'data/table-not-found');
});

test('§6.1 data/not-found: ids that are not ids on get, patch and delete', async () => {
  const real = await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s: 'real' } });
  assert.equal(real.status, 201);
  const bad = ['zzz', '0'.repeat(24), real.json.id.toUpperCase(), `${real.json.id}0`, real.json.id.slice(1), '-1', 'null', 'undefined',
    '%5Bobject%20Object%5D', '%27%20OR%20%271%27%3D%271', '%F0%9F%98%80', 'a'.repeat(10000), '%20', '_id', '%2A', '%22%3B'];
  for (const id of bad) {
    for (const base of ['/v1/data/evil/', '/v1/evil/']) {
      expectError(assert, await req(srv, 'GET', base + id, pk()), 404, 'data/not-found');
      expectError(assert, await req(srv, 'PATCH', base + id, { ...sk(), body: { s: 'x' } }), 404, 'data/not-found');
      expectError(assert, await req(srv, 'DELETE', base + id, sk()), 404, 'data/not-found');
    }
  }
  // an encoded slash may be routed as a path separator: a 404 either way, never a record
  for (const m of ['GET', 'DELETE']) {
    expectError(assert, await req(srv, m, '/v1/data/evil/..%2F..%2Fetc%2Fpasswd', sk()), 404, ['data/not-found', 'common/not-found']);
  }
  // the record itself is untouched, and an id from another table is no record here
  assert.equal((await req(srv, 'GET', `/v1/data/evil/${real.json.id}`, pk())).json.s, 'real');
  const elsewhere = await req(srv, 'POST', '/v1/data/uniq', { ...sk(), body: { email: 'else@x.io' } });
  expectError(assert, await req(srv, 'GET', `/v1/data/evil/${elsewhere.json.id}`, pk()), 404, 'data/not-found');
  // spec/openapi are never record ids (§1.1 rule 2): PATCH/DELETE on them is refused, never a record write
  for (const m of ['PATCH', 'DELETE']) {
    for (const name of ['spec', 'openapi']) {
      const r = await req(srv, m, `/v1/data/evil/${name}`, { ...sk(), body: m === 'PATCH' ? { s: 'x' } : undefined });
      assert.ok([404, 405].includes(r.status), `${m} ${name}: ${r.status}`);
      expectError(assert, r, r.status, ['data/not-found', 'common/not-found', 'common/method-not-allowed']);
    }
  }
  // filters on id with a value that is not an id simply match nothing
  const q = await req(srv, 'GET', `/v1/data/evil?andFilters=${enc({ id: 'zzz' })}`, pk());
  checkList(q, { total: 0 });
  const q2 = await req(srv, 'GET', `/v1/data/evil?andFilters=${enc({ id: { $in: ['zzz', real.json.id] } })}`, pk());
  checkList(q2, { total: 1 });
  assert.equal(q2.json.items[0].id, real.json.id);
  await req(srv, 'DELETE', `/v1/data/evil/${real.json.id}`, sk());
});

test('§6.1 data/duplicate-value from PATCH, the shorthand and batch operations (nothing changes)', async () => {
  const x = await req(srv, 'POST', '/v1/uniq', { ...sk(), body: { email: 'x@x.io' } });
  const y = await req(srv, 'POST', '/v1/uniq', { ...sk(), body: { email: 'y@x.io' } });
  assert.equal(x.status, 201, x.text);
  assert.equal(y.status, 201, y.text);
  expectError(assert, await req(srv, 'POST', '/v1/uniq', { ...sk(), body: { email: 'x@x.io' } }), 409, 'data/duplicate-value');
  expectError(assert, await req(srv, 'PATCH', `/v1/data/uniq/${y.json.id}`, { ...sk(), body: { email: 'x@x.io' } }), 409, 'data/duplicate-value');
  expectError(assert, await req(srv, 'PATCH', `/v1/uniq/${y.json.id}`, { ...sk(), body: { email: 'x@x.io' } }), 409, 'data/duplicate-value');
  assert.equal((await req(srv, 'GET', `/v1/data/uniq/${y.json.id}`, sk())).json.email, 'y@x.io');
  const before = (await req(srv, 'GET', '/v1/data/uniq', sk())).json.pagination.total;
  const batch = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [
    { method: 'create', table: 'uniq', data: { email: 'z@x.io' } },
    { method: 'update', table: 'uniq', id: y.json.id, data: { email: 'z@x.io' } }] } });
  expectError(assert, batch, 409, 'data/duplicate-value');
  assert.match(batch.json.message, /^operations\[1\]/);
  assert.equal((await req(srv, 'GET', '/v1/data/uniq', sk())).json.pagination.total, before);
  assert.equal((await req(srv, 'GET', `/v1/data/uniq/${y.json.id}`, sk())).json.email, 'y@x.io');
});

test('§6.1 data/permission-denied and the §5.3 check order (permission before a missing record)', async () => {
  const art = await ts('POST', '/v1/data/articles', { token: alice, body: { title: 'perm' } });
  assert.equal(art.status, 201, art.text);
  // guest: may read and list articles, nothing else
  expectError(assert, await ts('POST', '/v1/data/articles', { body: { title: 'guest' } }), 403, 'data/permission-denied');
  expectError(assert, await ts('PATCH', `/v1/data/articles/${art.json.id}`, { body: { title: 'guest' } }), 403, 'data/permission-denied');
  expectError(assert, await ts('PATCH', `/v1/articles/${art.json.id}`, { body: { title: 'guest' } }), 403, 'data/permission-denied');
  expectError(assert, await ts('DELETE', `/v1/articles/${art.json.id}`), 403, 'data/permission-denied');
  expectError(assert, await ts('PATCH', `/v1/data/articles/${'0'.repeat(24)}`, { body: { title: 'x' } }), 403, 'data/permission-denied');
  expectError(assert, await ts('DELETE', `/v1/data/articles/${'0'.repeat(24)}`), 403, 'data/permission-denied');
  // bookmarks: guests have nothing; spec and openapi need read (§5.6)
  for (const p of ['/v1/data/bookmarks', `/v1/data/bookmarks/${'0'.repeat(24)}`, '/v1/data/bookmarks/spec', '/v1/data/bookmarks/openapi', '/v1/bookmarks/spec']) {
    expectError(assert, await ts('GET', p), 403, 'data/permission-denied');
  }
  assert.equal((await ts('GET', '/v1/data/articles/spec')).status, 200, 'a guest with read may read the spec');
  assert.equal((await ts('GET', '/v1/articles/openapi')).status, 200);
  // batch: each operation checked like its endpoint
  const b1 = await req(srv, 'POST', '/v1/batch', { ...pk(), body: { operations: [{ method: 'update', table: 'articles', id: art.json.id, data: { title: 'x' } }] } });
  expectError(assert, b1, 403, 'data/permission-denied');
  assert.equal((await ts('GET', `/v1/data/articles/${art.json.id}`)).json.title, 'perm');
});

test('§6.1 data/system-table-access on every route of a _ table for non-admins', async () => {
  const rec = await req(srv, 'POST', '/v1/data/_audit', { ...sk(), body: { what: 'x' } });
  assert.equal(rec.status, 201, rec.text);
  const id = rec.json.id;
  for (const caller of [pk(), { key: b.publishableKey, token: alice }]) {
    for (const base of ['/v1/data/_audit', '/v1/_audit']) {
      expectError(assert, await req(srv, 'GET', base, caller), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'GET', `${base}/${id}`, caller), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'GET', `${base}/${'0'.repeat(24)}`, caller), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'POST', base, { ...caller, body: { what: 'y' } }), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'PATCH', `${base}/${id}`, { ...caller, body: { what: 'y' } }), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'DELETE', `${base}/${id}`, caller), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'GET', `${base}/spec`, caller), 403, 'data/system-table-access');
      expectError(assert, await req(srv, 'GET', `${base}/openapi`, caller), 403, 'data/system-table-access');
    }
    expectError(assert, await req(srv, 'POST', '/v1/batch', { ...caller, body: { operations: [{ method: 'create', table: '_audit', data: { what: 'z' } }] } }),
      403, 'data/system-table-access');
  }
  const r = await req(srv, 'GET', `/v1/data/_audit/${id}`, { key: b.publishableKey, token: shopAdmin });
  assert.equal(r.status, 200, 'an admin-role user is admin');
  assert.equal((await req(srv, 'GET', '/v1/data/_audit', sk())).json.pagination.total, 1);
});

test('§6.1 data/scope-insufficient: read is not list, wildcards, secret keys too, named scope, batch', async () => {
  const keys = `/admin/v1/projects/${b.projectId}/environments/dev/keys`;
  const mk = async (type, scopes) => {
    const r = await req(srv, 'POST', keys, { ...admin, body: { type, scopes } });
    assert.equal(r.status, 201, r.text);
    return r.json.key;
  };
  const readOnly = await mk('publishable', ['pages:read']);
  const secretRead = await mk('secret', ['*:read', '*:list']);
  const pagesAll = await mk('secret', ['pages:*']);
  const one = (await req(srv, 'GET', '/v1/data/pages?limit=1', sk())).json.items[0];
  assert.equal((await req(srv, 'GET', `/v1/data/pages/${one.id}`, { key: readOnly })).status, 200);
  const denied = await req(srv, 'GET', '/v1/data/pages', { key: readOnly });
  expectError(assert, denied, 403, 'data/scope-insufficient');
  assert.match(denied.json.message, /pages:list/);
  expectError(assert, await req(srv, 'GET', '/v1/pages', { key: readOnly }), 403, 'data/scope-insufficient');
  expectError(assert, await req(srv, 'GET', '/v1/data/evil/spec', { key: readOnly }), 403, 'data/scope-insufficient');
  // scopes bind secret (admin) keys too, and run before the record lookup
  assert.equal((await req(srv, 'GET', '/v1/data/evil', { key: secretRead })).status, 200);
  const del = await req(srv, 'DELETE', `/v1/data/pages/${one.id}`, { key: secretRead });
  expectError(assert, del, 403, 'data/scope-insufficient');
  assert.match(del.json.message, /pages:delete/);
  expectError(assert, await req(srv, 'DELETE', `/v1/data/pages/${'0'.repeat(24)}`, { key: secretRead }), 403, 'data/scope-insufficient');
  expectError(assert, await req(srv, 'PATCH', `/v1/pages/${one.id}`, { key: secretRead, body: { n: 1 } }), 403, 'data/scope-insufficient');
  expectError(assert, await req(srv, 'POST', '/v1/data/evil', { key: secretRead, body: { s: 'x' } }), 403, 'data/scope-insufficient');
  // table:* covers every operation on that table only
  const made = await req(srv, 'POST', '/v1/data/pages', { key: pagesAll, body: { n: 1000, grp: 'scoped' } });
  assert.equal(made.status, 201, made.text);
  assert.equal((await req(srv, 'DELETE', `/v1/data/pages/${made.json.id}`, { key: pagesAll })).status, 200);
  expectError(assert, await req(srv, 'GET', '/v1/data/evil', { key: pagesAll }), 403, 'data/scope-insufficient');
  // batch: each operation is checked; the failing one is named and nothing applies
  const batch = await req(srv, 'POST', '/v1/batch', { key: pagesAll, body: { operations: [
    { method: 'create', table: 'pages', data: { n: 1001, grp: 'scoped' } }, { method: 'create', table: 'evil', data: { s: 'x' } }] } });
  expectError(assert, batch, 403, 'data/scope-insufficient');
  assert.match(batch.json.message, /operations\[1\]/);
  checkList(await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ grp: 'scoped' })}`, sk()), { total: 0 });
});

test('§6.1 common codes on data routes: malformed JSON 400, wrong Content-Type 415, oversized 413', async () => {
  const rec = await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s: 'body' } });
  const targets = [['POST', '/v1/data/evil'], ['POST', '/v1/evil'], ['PATCH', `/v1/data/evil/${rec.json.id}`], ['PATCH', `/v1/evil/${rec.json.id}`], ['POST', '/v1/batch']];
  const json = { 'Content-Type': 'application/json' };
  const malformed = ['{', '{"s":"x",}', "{'s':'x'}", '{"s":"x"}{"s":"y"}', '{"s":"x","s":"y"}', '{"s":NaN}', '{"s":01}', '{"s":"\\ud800"}',
    Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), '{"s":"x"} trailing'];
  for (const [m, p] of targets) {
    for (const raw of malformed) {
      expectError(assert, await req(srv, m, p, { ...sk(), raw, headers: json }), 400, 'common/invalid-parameters');
    }
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json']) {
      expectError(assert, await req(srv, m, p, { ...sk(), raw: '{"s":"x"}', headers: { 'Content-Type': ct } }), 415, 'common/unsupported-media-type');
    }
    expectError(assert, await req(srv, m, p, { ...sk(), raw: `{"s":"${'x'.repeat(2 * 1024 * 1024)}"}`, headers: json }), 413, 'common/payload-too-large');
  }
  assert.equal((await req(srv, 'GET', `/v1/data/evil/${rec.json.id}`, sk())).json.s, 'body', 'no refused body changed the record');
  // JSON media types with parameters or a +json suffix are JSON
  for (const ct of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'application/merge-patch+json']) {
    const r = await req(srv, 'PATCH', `/v1/data/evil/${rec.json.id}`, { ...sk(), raw: `{"s":"${ct}"}`, headers: { 'Content-Type': ct } });
    assert.equal(r.status, 200, `${ct}: ${r.text}`);
    assert.equal(r.json.s, ct);
  }
  // a large value under the limit is stored whole
  const big = 'y'.repeat(900 * 1024);
  const c = await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s: big } });
  assert.equal(c.status, 201, c.text.slice(0, 200));
  assert.equal((await req(srv, 'GET', `/v1/data/evil/${c.json.id}`, sk())).json.s.length, big.length);
  await req(srv, 'DELETE', `/v1/data/evil/${c.json.id}`, sk());
  await req(srv, 'DELETE', `/v1/data/evil/${rec.json.id}`, sk());
});

// ================= hostile input =================

test('hostile filters: unknown operators, wrong operand types, prototype keys, orFilters, >1000 values', async () => {
  const bad = [
    { $where: '1' }, { $or: [{ n: 1 }] }, { $and: [{ n: 1 }] }, { $not: { n: 1 } }, { $expr: { $gt: ['$n', 1] } }, { $text: { $search: 'x' } },
    { n: { $elemMatch: { $gt: 1 } } }, { n: { $size: 1 } }, { n: { $mod: [2, 0] } }, { n: { $type: 'int' } }, { n: { $all: [1] } },
    { n: { $not: { $gt: 1 } } }, { n: { $GT: 1 } }, { n: { gt: 1, $lt: 3 } }, { n: { $: 1 } },
    { n: { $in: 5 } }, { n: { $in: 'x' } }, { n: { $in: { a: 1 } } }, { n: { $nin: 5 } }, { n: { $in: null } },
    { n: { $exists: 1 } }, { n: { $exists: 'true' } }, { grp: { $regex: 5 } }, { grp: { $regex: ['a'] } }, { grp: { $regex: 'a', $options: 5 } },
    { grp: { $options: 'i' } }, { n: { $gt: {} } }, { n: { $gt: [] } }, { n: { $lte: { $gt: 1 } } },
    { constructor: 1 }, { prototype: 1 }, '{"n":{"$eq":{"__proto__":1}}}', { n: { $eq: { constructor: 1 } } }, { n: { $in: [{ prototype: 1 }] } },
    '{"n":{"$gt":1,"__proto__":{"x":1}}}', { grp: { $regex: 'a', constructor: 1 } },
    { n: { $nin: Array.from({ length: 1001 }, (_, i) => i) } }, { n: { $in: Array.from({ length: 1500 }, (_, i) => i) } },
  ];
  for (const f of bad) {
    const s = typeof f === 'string' ? f : JSON.stringify(f);
    for (const param of ['andFilters', 'orFilters']) {
      const r = await req(srv, 'GET', `/v1/data/pages?${param}=${enc(s)}`, pk());
      expectError(assert, r, 400, 'data/validation-error');
    }
  }
  for (const s of ['[1]', '5', 'true', 'null', '"x"', '{', '{"n":1,}', '{"n":1}{"n":2}', '{"n":1,"n":2}', 'n=1', '[{"n":1},5]', '[[]]']) {
    expectError(assert, await req(srv, 'GET', `/v1/data/pages?andFilters=${enc(s)}`, pk()), 400, 'data/validation-error');
    expectError(assert, await req(srv, 'GET', `/v1/data/pages?orFilters=${enc(s)}`, pk()), 400, 'data/validation-error');
  }
  // exactly 1,000 values are fine
  const thousand = await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ n: { $in: Array.from({ length: 1000 }, (_, i) => i * 2) } })}`, pk());
  checkList(thousand, { total: 75 });
  const nin = await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ n: { $nin: Array.from({ length: 1000 }, (_, i) => i + 10) } })}`, pk());
  checkList(nin, { total: 10 });
});

test('hostile filters: nesting deeper than 8, far deeper, and in every position', async () => {
  const nest = (depth, leaf = 1) => { let v = leaf; for (let i = 0; i < depth; i++) v = { k: v }; return v; };
  const arr = (depth) => { let v = 1; for (let i = 0; i < depth; i++) v = [v]; return v; };
  const cases = [
    { meta: nest(12) }, { meta: nest(40) }, { meta: nest(60) }, { meta: { $eq: nest(12) } }, { meta: { $ne: nest(12) } },
    { meta: { $in: [nest(12)] } }, { meta: { $in: [arr(12)] } }, { meta: arr(12) }, { meta: arr(60) },
  ];
  for (const f of cases) {
    for (const param of ['andFilters', 'orFilters']) {
      const t0 = Date.now();
      const r = await req(srv, 'GET', `/v1/data/deep?${param}=${enc(f)}`, pk());
      expectError(assert, r, 400, 'data/validation-error');
      assert.ok(Date.now() - t0 < 5000);
    }
  }
  // JSON nested beyond the parser's own depth limit is still a 400, never a 5xx
  const deepText = `{"meta":${'['.repeat(200)}1${']'.repeat(200)}}`;
  expectError(assert, await req(srv, 'GET', `/v1/data/deep?andFilters=${enc(deepText)}`, pk()), 400, 'data/validation-error');
  // shallow object equality is accepted
  checkList(await req(srv, 'GET', `/v1/data/deep?andFilters=${enc({ meta: nest(3) })}`, pk()), { total: 0 });
});

test('hostile field names in filters, sortBy, select and searchType: quotes, brackets, $, dots, 10,000 characters', async () => {
  await req(srv, 'POST', '/v1/data/deep', { ...sk(), body: { title: 'hello', meta: { a: { b: 'bee' }, s: 'ess' } } });
  const names = ["a'b", 'a"b', 'a`b', 'a\\b', 'a[0]', 'a]', 'a[', '$a', 'a$b', 'title.$x', 'meta.$where', "n') OR 1=1 --", 'n; DROP TABLE x',
    'a b', 'a\tb', 'é', 'a/b', 'a*', '.a', 'a.', 'a..b', 'meta..a', 'meta.a[0]', '__proto__', 'constructor', 'meta.__proto__', 'x'.repeat(10000),
    `meta.${'x'.repeat(10000)}`, 'title.x', 'title.x.y', 'meta.s.x', 'meta.a.b.c', 'meta.a.b.c.d.e.f.g.h.i.j'];
  for (const name of names) {
    const label = name.slice(0, 40);
    expectError(assert, await req(srv, 'GET', `/v1/data/deep?andFilters=${enc({ [name]: 1 })}`, pk()), 400, 'data/validation-error');
    expectError(assert, await req(srv, 'GET', `/v1/data/deep?orFilters=${enc({ [name]: { $eq: 1 } })}`, pk()), 400, 'data/validation-error');
    const s = await req(srv, 'GET', `/v1/data/deep?sortBy=${encodeURIComponent(name)}`, pk());
    expectError(assert, s, 400, 'data/validation-error');
    const sel = await req(srv, 'GET', `/v1/data/deep?select=${encodeURIComponent(name)}`, pk());
    assert.ok(sel.status === 400 || sel.status === 200, `select ${label}: ${sel.status}`);
    if (sel.status === 400) expectError(assert, sel, 400, 'data/validation-error');
    else {
      const allowed = new Set(['createdAt', 'createdBy', 'id', 'updatedAt', 'title', 'meta']);
      assert.ok(Object.keys(sel.json.items[0]).every((k) => allowed.has(k)), `select ${label}: only system and top-level fields`);
    }
    const st = await req(srv, 'GET', `/v1/data/deep?search=x&searchType=${encodeURIComponent(name)}`, pk());
    assert.ok(st.status === 400 || st.status === 200, `searchType ${label}: ${st.status}`);
    if (st.status === 400) expectError(assert, st, 400, 'data/validation-error');
    else checkList(st, { total: 0 });
  }
  // declared nesting is fine, in filters and in sortBy
  checkList(await req(srv, 'GET', `/v1/data/deep?andFilters=${enc({ 'meta.a.b': 'bee' })}`, pk()), { total: 1 });
  checkList(await req(srv, 'GET', `/v1/data/deep?andFilters=${enc({ 'meta.s': 'ess' })}`, pk()), { total: 1 });
  checkList(await req(srv, 'GET', '/v1/data/deep?sortBy=meta.s&sortDirection=asc', pk()), { total: 1 });
});

test('hostile field names in bodies: "", $, dots and prototype keys at any depth, $set, 10,000 characters', async () => {
  const bodies = [
    { title: 't', '': 1 }, { title: 't', $set: { title: 'x' } }, { title: 't', meta: { $gt: 1 } }, { title: 't', meta: { 'a.b': 1 } },
    { title: 't', meta: { a: { $x: 1 } } }, { title: 't', extra: { deep: { 'x.y': 1 } } }, { title: 't', list: [{ $bad: 1 }] },
    { title: 't', constructor: 1 }, { title: 't', prototype: 1 }, { title: 't', meta: { constructor: { a: 1 } } }, { title: 't', '1abc': 1 },
    { title: 't', 'a b': 1 }, { title: 't', 'a"b': 1 }, { title: 't', 'a[0]': 1 }, { title: 't', ['x'.repeat(10000)]: 1 },
    { title: 't', meta: { ['y'.repeat(10000)]: 1 } },
  ];
  const count = async () => (await req(srv, 'GET', '/v1/data/deep?limit=1', sk())).json.pagination.total;
  const before = await count();
  const rec = (await req(srv, 'GET', '/v1/data/deep?limit=1', sk())).json.items[0];
  for (const body of bodies) {
    const text = JSON.stringify(body).slice(0, 60);
    const r = await req(srv, 'POST', '/v1/data/deep', { ...sk(), body });
    expectError(assert, r, 400, 'data/validation-error');
    const { title, ...rest } = body;
    const p = await req(srv, 'PATCH', `/v1/data/deep/${rec.id}`, { ...sk(), body: rest });
    assert.equal(p.status, 400, `PATCH ${text}: ${p.text.slice(0, 200)}`);
    expectError(assert, p, 400, 'data/validation-error');
  }
  assert.equal(await count(), before);
  assert.deepEqual((await req(srv, 'GET', `/v1/data/deep/${rec.id}`, sk())).json, rec, 'refused patches changed nothing');
  // every system field in a body is dropped silently, also _id and updatedAt
  const ok = await req(srv, 'POST', '/v1/data/deep', { ...sk(), body: { title: 'sys', _id: 'x', updatedAt: '2000-01-01T00:00:00.000Z', id: 'y' } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json._id, undefined);
  assert.notEqual(ok.json.id, 'y');
  assert.equal(ok.json.updatedAt, ok.json.createdAt);
});

test('catastrophic-backtracking regexes answer quickly with 4xx or the correct result, never 5xx', { timeout: 120000 }, async () => {
  const docs = { A: `${'a'.repeat(40)}!`, B: `${'a'.repeat(40)}b`, C: 'ab', D: 'aaaa', E: 'x'.repeat(40), F: `${'a'.repeat(30)}X${'a'.repeat(30)}` };
  const ids = {};
  for (const [k, s] of Object.entries(docs)) ids[k] = (await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s, tag: 'regex' } })).json.id;
  // pattern → the documents it really matches
  const cases = [
    ['^(a+)+$', ['D']], ['^(a+)+b$', ['B', 'C']], ['^(a|aa)+$', ['D']], ['^(a|a)*$', ['D']], ['(x+x+)+y', []], ['^(a*)*$', ['D']],
    ['^(\\w+\\s?)*$', ['B', 'C', 'D', 'E', 'F']], ['(a|aa)+!$', ['A']], ['^(([a-z])+.)+[A-Z]([a-z])+$', ['F']], ['(.*a){25}X', ['F']],
  ];
  const wrong = [];
  const name = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  for (const [pattern, expected] of cases) {
    const t0 = Date.now();
    const r = await req(srv, 'GET', `/v1/data/evil?limit=100&andFilters=${enc({ tag: 'regex', s: { $regex: pattern } })}`, pk());
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `${pattern} took ${ms} ms`);
    assert.ok(r.status < 500, `${pattern}: ${r.status}`);
    if (r.status === 400) { expectError(assert, r, 400, 'data/validation-error'); continue; }
    assert.equal(r.status, 200, `${pattern}: ${r.text.slice(0, 200)}`);
    const got = r.json.items.map((x) => name[x.id]).sort();
    if (JSON.stringify(got) !== JSON.stringify([...expected].sort())) wrong.push(`${pattern}: matched [${got}], correct [${expected}]`);
  }
  // search is a literal substring, not a pattern
  const lit = await req(srv, 'GET', `/v1/data/evil?search=${encodeURIComponent('(a+)+$')}&searchType=s`, pk());
  checkList(lit, { total: 0 });
  for (const id of Object.values(ids)) await req(srv, 'DELETE', `/v1/data/evil/${id}`, sk());
  assert.deepEqual(wrong, [], 'a 200 answer must carry the correct result (else answer 4xx)');
});

// ================= shorthand =================

test('/v1/:tableName shorthand: the whole record cycle, lists with filters, spec, openapi, batch create', async () => {
  const c = await req(srv, 'POST', '/v1/recipes', { key: b.publishableKey, token: bob, body: { title: 'Short', cookingTime: '15', servings: 1 } });
  assert.equal(c.status, 201, c.text);
  checkRecord(c.json, { title: 'Short', cookingTime: 15 }, 'u_bob');
  const std = await req(srv, 'GET', `/v1/data/recipes/${c.json.id}`, pk());
  const sh = await req(srv, 'GET', `/v1/recipes/${c.json.id}`, pk());
  assert.deepEqual(sh.json, std.json);
  assert.equal(sh.text, std.text, 'byte-identical answers');
  const qs = `?page=1&limit=5&sortBy=cookingTime&sortDirection=asc&andFilters=${enc({ createdBy: 'u_bob' })}&orFilters=${enc({ cookingTime: { $lt: 20 }, title: 'nope' })}`;
  const ls = await req(srv, 'GET', `/v1/recipes${qs}`, pk());
  const ld = await req(srv, 'GET', `/v1/data/recipes${qs}`, pk());
  checkList(ls, { total: 1 });
  assert.deepEqual(ls.json, ld.json);
  const p = await req(srv, 'PATCH', `/v1/recipes/${c.json.id}`, { key: b.publishableKey, token: bob, body: { servings: '4' } });
  assert.equal(p.status, 200, p.text);
  assertIntText(p.text, 'servings', 4);
  const spec = await req(srv, 'GET', '/v1/recipes/spec', pk());
  assert.equal(spec.status, 200);
  assert.equal(spec.json.tableName, 'recipes');
  assert.equal(spec.json.schema.properties.cookingTime.bsonType, 'int');
  const oa = await req(srv, 'GET', '/v1/recipes/openapi', pk());
  assert.equal(oa.status, 200);
  assert.equal(oa.json.openapi, '3.0.0');
  const many = await req(srv, 'POST', '/v1/pages', { ...sk(), body: [{ n: 500, grp: 'short' }, { n: 501, grp: 'short' }] });
  assert.equal(many.status, 201, many.text);
  assert.equal(many.json.length, 2);
  checkList(await req(srv, 'GET', `/v1/pages?andFilters=${enc({ grp: 'short' })}`, pk()), { total: 2 });
  for (const r of many.json) assert.equal((await req(srv, 'DELETE', `/v1/pages/${r.id}`, sk())).status, 200);
  const d = await req(srv, 'DELETE', `/v1/recipes/${c.json.id}`, { key: b.publishableKey, token: bob });
  assert.deepEqual(d.json, { success: true });
  expectError(assert, await req(srv, 'GET', `/v1/recipes/${c.json.id}`, pk()), 404, 'data/not-found');
});

test('tables named like the reserved prefixes are reachable only through /v1/data/<name> (§1.1 rule 1)', async () => {
  for (const name of ['users', 'files', 'auth', 'data', 'batch']) {
    const t = await req(srv, 'POST', tables, { ...admin, body: { tableName: name } });
    assert.equal(t.status, 201, t.text);
    const c = await req(srv, 'POST', `/v1/data/${name}`, { ...sk(), body: { v: name } });
    assert.equal(c.status, 201, `${name}: ${c.text}`);
    const l = await req(srv, 'GET', `/v1/data/${name}`, pk());
    checkList(l, { total: 1 });
    assert.equal(l.json.items[0].v, name);
    const g = await req(srv, 'GET', `/v1/data/${name}/${c.json.id}`, pk());
    assert.equal(g.json.v, name);
    // the shorthand path belongs to the fixed family, never to the table
    const s = await req(srv, 'GET', `/v1/${name}/${c.json.id}`, pk());
    assert.notEqual(s.status, 200, `/v1/${name}/:id is not the data table`);
    assert.ok(s.status < 500);
  }
  // /v1/data/data/... is the table "data", /v1/batch is the batch endpoint
  const batch = await req(srv, 'POST', '/v1/batch', { ...sk(), body: [{ method: 'create', table: 'batch', data: { v: 'via batch' } }] });
  assert.equal(batch.status, 200, batch.text);
  checkList(await req(srv, 'GET', '/v1/data/batch', pk()), { total: 2 });
});

// ================= POST /v1/batch =================

test('POST /v1/batch: bare array form, 100 operations, shape errors, validation named by index, nothing applied', async () => {
  const count = async () => (await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ grp: 'batch' })}`, sk())).json.pagination.total;
  const bare = await req(srv, 'POST', '/v1/batch', { ...sk(), body: [{ method: 'create', table: 'pages', data: { n: '7', grp: 'batch' } }] });
  assert.equal(bare.status, 200, bare.text);
  assert.equal(bare.json.results.length, 1);
  assert.equal(bare.json.results[0].status, 201);
  checkRecord(bare.json.results[0].data, { n: 7, grp: 'batch' }, '');
  const hundred = Array.from({ length: 100 }, (_, i) => ({ method: 'create', table: 'pages', data: { n: 2000 + i, grp: 'batch' } }));
  const h = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: hundred } });
  assert.equal(h.status, 200, h.text.slice(0, 300));
  assert.equal(h.json.results.length, 100);
  assert.deepEqual(h.json.results.map((r) => r.data.n), hundred.map((o) => o.data.n), 'results in input order');
  assert.equal(await count(), 101);
  const id = bare.json.results[0].data.id;
  const shapes = [
    {}, { operations: 'x' }, { operations: {} }, { operations: [1] }, { operations: [null] }, { operations: [[]] },
    { operations: [{ table: 'pages', data: {} }] }, { operations: [{ method: 'create', data: {} }] },
    { operations: [{ method: 'create', table: 'pages' }] }, { operations: [{ method: 'create', table: 'pages', data: 'x' }] },
    { operations: [{ method: 'update', table: 'pages', data: { n: 1 } }] },
    { operations: [{ method: 'update', table: 'pages', id, data: 'x' }] }, { operations: [{ method: 'delete', table: 'pages' }] },
    { operations: [{ method: 'create', table: 5, data: {} }] }, { operations: [{ method: 'list', table: 'pages' }] },
    { operations: [{ method: 'drop', table: 'pages', id }] },
  ];
  for (const body of shapes) {
    const r = await req(srv, 'POST', '/v1/batch', { ...sk(), body });
    expectError(assert, r, 400, 'data/validation-error');
  }
  for (const raw of ['"x"', '5', 'null', 'true']) {
    expectError(assert, await req(srv, 'POST', '/v1/batch', { ...sk(), raw, headers: { 'Content-Type': 'application/json' } }), 400, 'data/validation-error');
  }
  const v = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [
    { method: 'create', table: 'pages', data: { n: 1, grp: 'batch' } }, { method: 'update', table: 'pages', id, data: { grp: 'moved' } },
    { method: 'update', table: 'pages', id, data: { n: 'many' } }] } });
  expectError(assert, v, 400, 'data/validation-error');
  assert.match(v.json.message, /^operations\[2\]/);
  assert.equal(await count(), 101, 'nothing applied');
  assert.equal((await req(srv, 'GET', `/v1/data/pages/${id}`, sk())).json.n, 7);
  // a record deleted earlier in the same batch is gone for later operations
  const gone = await req(srv, 'POST', '/v1/batch', { ...sk(), body: { operations: [
    { method: 'delete', table: 'pages', id }, { method: 'update', table: 'pages', id, data: { n: 8 } }] } });
  expectError(assert, gone, 404, 'data/not-found');
  assert.match(gone.json.message, /^operations\[1\]/);
  assert.equal((await req(srv, 'GET', `/v1/data/pages/${id}`, sk())).status, 200, 'rolled back');
  // clean up through a batch of deletes
  const all = [];
  for (let page = 1; page <= 2; page++) all.push(...(await req(srv, 'GET', `/v1/data/pages?limit=100&page=${page}&andFilters=${enc({ grp: 'batch' })}`, sk())).json.items);
  for (let i = 0; i < all.length; i += 100) {
    const del = await req(srv, 'POST', '/v1/batch', { ...sk(), body: all.slice(i, i + 100).map((r) => ({ method: 'delete', table: 'pages', id: r.id })) });
    assert.equal(del.status, 200, del.text.slice(0, 200));
  }
  assert.equal(await count(), 0);
});

// ================= records: batch insert =================

test('§2.4 batch insert: 1–1000 elements, refused beyond, the failing element named in error.details', async () => {
  const count = async () => (await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ grp: 'bulk' })}`, sk())).json.pagination.total;
  expectError(assert, await req(srv, 'POST', '/v1/data/pages', { ...sk(), body: [] }), 400, 'data/validation-error');
  const tooMany = Array.from({ length: 1001 }, (_, i) => ({ n: i, grp: 'bulk' }));
  expectError(assert, await req(srv, 'POST', '/v1/data/pages', { ...sk(), body: tooMany }), 400, 'data/validation-error');
  for (const body of [[1], [null], [[]], ['x'], [{ n: 1, grp: 'bulk' }, 5]]) {
    expectError(assert, await req(srv, 'POST', '/v1/data/pages', { ...sk(), body }), 400, 'data/validation-error');
  }
  assert.equal(await count(), 0);
  const r = await req(srv, 'POST', '/v1/data/pages', { ...sk(), body: tooMany.slice(0, 1000) });
  assert.equal(r.status, 201, r.text.slice(0, 200));
  assert.equal(r.json.length, 1000);
  assert.deepEqual(r.json.map((x) => x.n), tooMany.slice(0, 1000).map((x) => x.n));
  assert.equal(await count(), 1000);
  // the failure names the element: in the message (Basalt) and in error.details (§2.4, §1.6)
  const bad = await req(srv, 'POST', '/v1/data/pages', { ...sk(), body: [{ n: 1, grp: 'bulk2' }, { n: 2, grp: 'bulk2' }, { n: 'three', grp: 'bulk2' }] });
  // clean up first, so that a failure below leaves the table as it was
  for (let i = 0; i < 10; i++) {
    const page = (await req(srv, 'GET', `/v1/data/pages?limit=100&andFilters=${enc({ grp: 'bulk' })}`, sk())).json.items;
    if (!page.length) break;
    const del = await req(srv, 'POST', '/v1/batch', { ...sk(), body: page.map((x) => ({ method: 'delete', table: 'pages', id: x.id })) });
    assert.equal(del.status, 200, del.text.slice(0, 200));
  }
  assert.equal(await count(), 0);
  expectError(assert, bad, 400, 'data/validation-error');
  assert.match(bad.json.message, /\[2\]/);
  assert.ok(Array.isArray(bad.json.error.details), `error.details is an array: ${bad.text}`);
  assert.ok(bad.json.error.details.some((d) => d && typeof d.field === 'string' && typeof d.reason === 'string' && /2/.test(`${d.field} ${d.reason}`)),
    `details name element 2: ${bad.text}`);
});

// ================= §2.7 filter semantics the apps rely on =================

test('§2.7 filters: system fields, andFilters AND orFilters, orFilters array, + and %2B decoding', async () => {
  const all = (await req(srv, 'GET', '/v1/data/pages?limit=100&sortBy=n&sortDirection=asc', sk())).json.items;
  const [r3, r4] = [all[3], all[4]];
  checkList(await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ id: r3.id })}`, pk()), { total: 1 });
  checkList(await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ id: { $in: [r3.id, r4.id] } })}`, pk()), { total: 2 });
  checkList(await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ id: { $ne: r3.id } })}`, pk()), { total: 149 });
  const early = checkList(await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ createdAt: { $lte: r3.createdAt }, n: { $lt: 10 } })}`, pk()));
  assert.ok(early.items.length >= 1 && early.items.every((x) => x.n < 10 && x.createdAt <= r3.createdAt));
  checkList(await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ createdBy: '' })}&limit=1`, pk()), { total: 150 });
  // both parameters: andFilters AND (orFilters)
  const both = await req(srv, 'GET', `/v1/data/pages?andFilters=${enc({ grp: 'g1' })}&orFilters=${enc({ n: { $lt: 10 }, id: r4.id })}&sortBy=n&sortDirection=asc`, pk());
  checkList(both, { total: 3 });
  assert.deepEqual(both.json.items.map((x) => x.n), [1, 5, 9]);
  const arr = await req(srv, 'GET', `/v1/data/pages?orFilters=${enc([{ grp: 'g0', n: { $lt: 8 } }, { n: 149 }])}&sortBy=n&sortDirection=asc`, pk());
  checkList(arr, { total: 3 });
  assert.deepEqual(arr.json.items.map((x) => x.n), [0, 4, 149]);
  // query strings are form-encoded: '+' is a space, %2B a plus (the TS apps' URLSearchParams)
  const sp = await req(srv, 'POST', '/v1/data/evil', { ...sk(), body: { s: 'a+b c' } });
  const usp = new URLSearchParams({ andFilters: JSON.stringify({ s: 'a+b c' }) }).toString();
  assert.ok(usp.includes('%2B') && usp.includes('+'), usp);
  checkList(await req(srv, 'GET', `/v1/data/evil?${usp}`, pk()), { total: 1 });
  checkList(await req(srv, 'GET', `/v1/data/evil?andFilters=${enc({ s: 'a b c' })}`, pk()), { total: 0 });
  await req(srv, 'DELETE', `/v1/data/evil/${sp.json.id}`, sk());
});
