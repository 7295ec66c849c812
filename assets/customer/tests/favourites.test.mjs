// Stars on the phone and on the server: run with `node --test assets/customer/tests/`.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
};
globalThis.location = { search: '' };

// A fake server: `session` says whether the diner is signed in; `starred` is what it stores.
const server = { session: false, starred: [], calls: [] };
globalThis.fetch = async (url, init) => {
  server.calls.push(`${init.method} ${url}`);
  const reply = (status, body) => ({ ok: status < 300, status, text: async () => (body ? JSON.stringify(body) : '') });
  if (!server.session) return reply(401, { error: { code: 'UNAUTHENTICATED', message: '请先登录' } });
  if (init.method === 'POST') {
    for (const id of JSON.parse(init.body).dish_ids) if (!server.starred.includes(id)) server.starred.unshift(id);
  }
  if (init.method === 'DELETE') {
    server.starred = server.starred.filter((id) => !url.endsWith(id));
    return reply(204);
  }
  return reply(200, { dish_ids: server.starred });
};

const Favourites = await import('../favourites.js');
const known = () => true;

beforeEach(() => {
  store.clear();
  Object.assign(server, { session: false, starred: [], calls: [] });
});

test('a guest keeps stars on the phone', async () => {
  let changes = 0;
  await Favourites.load('brand-1', known, () => changes++);
  assert.equal(await Favourites.toggle('noodles'), true);
  assert.ok(Favourites.has('noodles'));
  await Favourites.load('brand-1', known, () => {});
  assert.deepEqual(Favourites.list(), ['noodles'], 'survives a reload');
  assert.ok(changes >= 2);
  assert.ok(!server.calls.some((c) => c.startsWith('POST')), 'nothing sent without a session');
});

test('signing in hands the guest stars to the server', async () => {
  await Favourites.load('brand-1', known, () => {});
  await Favourites.toggle('noodles');
  await Favourites.toggle('dumplings');
  await Favourites.toggle('dumplings');
  server.session = true;
  server.starred = ['tea'];
  await Favourites.load('brand-1', known, () => {});
  assert.deepEqual(server.starred.sort(), ['noodles', 'tea'], 'only what is still starred is handed over');
  assert.deepEqual(Favourites.list().sort(), ['noodles', 'tea']);
  await Favourites.load('brand-1', known, () => {});
  assert.equal(server.calls.filter((c) => c.startsWith('POST')).length, 1, 'handed over once');
});

test('a signed-in diner stars and unstars on the server', async () => {
  server.session = true;
  await Favourites.load('brand-1', known, () => {});
  await Favourites.toggle('noodles');
  assert.deepEqual(server.starred, ['noodles']);
  assert.equal(await Favourites.toggle('noodles'), false);
  assert.deepEqual(server.starred, []);
  assert.ok(!Favourites.has('noodles'));
});

test('stars are per brand', async () => {
  await Favourites.load('brand-1', known, () => {});
  await Favourites.toggle('noodles');
  await Favourites.load('brand-2', known, () => {});
  assert.deepEqual(Favourites.list(), []);
});
