// The sold-out board at /kitchen?store=<id>: staff log in, pick their station and mark specs
// 沽清 (sold out today) with one tap. Tickets are on the kitchen display at /kds.

import { h, mount } from '../shared/dom.js';
import { get, post, put } from '../shared/api.js';
import { lang, setLang, translator, localized } from '../shared/i18n.js';
import { chosenStore, loginForm } from './signin.js';

const t = translator({
  title: ['后厨屏', 'Kitchen display'],
  logout: ['退出', 'Sign out'],
  board: ['沽清', 'Sold-out board'],
  boardHint: ['点规格切换“有货 / 已沽清”，今日在本店生效', 'Tap a spec to switch in stock / sold out for today at this store'],
  inStock: ['有货', 'In stock'],
  soldOut: ['已沽清', 'Sold out'],
  standard: ['标准', 'Standard'],
  stock: ['库存 {n}', 'Stock {n}'],
  limit: ['今日限量 {n}', 'Daily limit {n}'],
  noDishes: ['这个档口没有菜品', 'No dishes at this station'],
  tickets: ['出餐单', 'Tickets'],
  ticketsWait: ['出餐单按档口显示在后厨屏上：划菜、出餐、叫起、召回', 'Tickets are on the kitchen display, by station: bump, hold, recall'],
  ticketsOpen: ['打开后厨屏', 'Open the kitchen display'],
  pickStore: ['选择门店', 'Choose a store'],
  noStore: ['您的账号没有关联门店，请联系店长', 'Your account has no store; ask your manager'],
  failed: ['加载失败：{message}', 'Could not load: {message}'],
  retry: ['重试', 'Retry'],
  saveFailed: ['没有保存：{message}', 'Not saved: {message}'],
});

const root = document.getElementById('app');
const STATION_KEY = 'diancan.kitchen.station';
const state = { me: null, store: null, catalog: null, skuStates: {}, dishSettings: {}, station: null, pending: new Set() };
let clockTimer = null;
let pollTimer = null;

async function start() {
  setLang(lang());
  try {
    state.me = await get('auth/me');
  } catch (error) {
    if (error.status === 401) return showLogin();
    return showFailure(error);
  }
  chooseStore();
}

// ---------- login ----------

function showLogin(message = '') {
  stopTimers();
  els = {};
  mount(root, h('main.login', {}, loginForm({ message, onSignedIn: (me) => { state.me = me; chooseStore(); } })));
}

// ---------- store and data ----------

function chooseStore() {
  const stores = state.me.stores || [];
  const store = chosenStore(state.me);
  if (!store) {
    return mount(root, h('main.store-pick', {},
      h('h1', {}, stores.length ? t('pickStore') : t('noStore')),
      stores.map((s) => h('a', { href: `/kitchen?store=${encodeURIComponent(s.id)}` }, s.name))));
  }
  state.store = store;
  // The clock shows the store's time, whatever the tablet's own zone is set to.
  get(`stores/${encodeURIComponent(store.id)}`).then((info) => { state.timeZone = info.time_zone; tick(); }, () => {});
  load();
}

async function load() {
  try {
    const [catalog, settings] = await Promise.all([
      get('console/menu'),
      get(`console/stores/${encodeURIComponent(state.store.id)}/menu-settings`),
    ]);
    state.catalog = catalog;
    state.skuStates = settings.sku_states || {};
    state.dishSettings = settings.dish_settings || {};
  } catch (error) {
    if (error.status === 401) return showLogin();
    return showFailure(error);
  }
  const saved = localStorage.getItem(STATION_KEY);
  const stations = state.catalog.stations;
  state.station = stations.find((s) => s.id === saved)?.id || stations[0]?.id || null;
  render();
  startTimers();
}

// Other tablets and the console change the same states: refresh quietly while nothing is in flight.
async function poll() {
  if (state.pending.size || document.visibilityState !== 'visible') return;
  try {
    const settings = await get(`console/stores/${encodeURIComponent(state.store.id)}/menu-settings`);
    if (state.pending.size) return;
    state.skuStates = settings.sku_states || {};
    state.dishSettings = settings.dish_settings || {};
    renderBoard();
  } catch (error) {
    if (error.status === 401) showLogin();
  }
}

function showFailure(error) {
  mount(root, h('main.store-pick', {},
    h('h1', {}, t('failed', { message: error.message })),
    h('button.primary', { onclick: () => location.reload() }, t('retry'))));
}

// ---------- screen ----------

let els = {};

function render() {
  document.title = `${t('title')} · ${state.store.name}`;
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  els = { clock: h('div.clock', { 'aria-label': 'time' }), board: h('section.board'), stations: h('nav.stations') };
  mount(root,
    h('div.kds', {},
      h('header.kds-head', {},
        h('div.store', {}, h('h1', {}, state.store.name), h('div.who', {}, `${state.me.display_name} · ${state.me.role_label}`)),
        els.stations,
        h('div.spacer'),
        els.clock,
        h('button.small-button', { type: 'button', onclick: () => { setLang(lang() === 'en' ? 'zh' : 'en'); render(); } }, lang() === 'en' ? '中文' : 'EN'),
        h('button.small-button', { type: 'button', onclick: logout }, t('logout'))),
      h('div.kds-main', {},
        els.board,
        h('aside.tickets', { 'aria-label': t('tickets') },
          h('h2', {}, t('tickets')),
          h('div.waiting', {}, t('ticketsWait'),
            h('a.primary', { href: `/kds?store=${encodeURIComponent(state.store.id)}&station=${encodeURIComponent(state.station || '')}` }, t('ticketsOpen')))))),
  );
  renderStations();
  renderBoard();
  tick();
}

function renderStations() {
  mount(els.stations, state.catalog.stations.map((station) =>
    h('button' + (station.id === state.station ? '.current' : ''), {
      type: 'button',
      dataset: { stationId: station.id },
      'aria-pressed': station.id === state.station ? 'true' : 'false',
      onclick: () => {
        state.station = station.id;
        localStorage.setItem(STATION_KEY, station.id);
        renderStations();
        renderBoard();
      },
    }, localized(station.name, station.name_en))));
}

const listed = (dish) => dish.on_shelf !== false && state.dishSettings[dish.id]?.listed !== false;
const skuState = (skuId) => state.skuStates[skuId] || { price_fen: null, stock: null, daily_limit: null, low_stock_threshold: null, sold_out: false };

function renderBoard() {
  if (!els.board) return;
  const dishes = state.catalog.dishes.filter((d) => d.station_id === state.station && listed(d));
  const scroll = els.board.scrollTop;
  mount(els.board,
    h('div.board-head', {}, h('h2', {}, t('board')), h('p', {}, t('boardHint'))),
    dishes.length ? h('div.tiles', {}, dishes.map(renderTile)) : h('p.empty', {}, t('noDishes')));
  els.board.scrollTop = scroll;
}

function renderTile(dish) {
  const allOff = dish.skus.every((sku) => skuState(sku.id).sold_out);
  return h('article.tile' + (allOff ? '.all-off' : ''), { dataset: { dishId: dish.id } },
    h('h3', {}, localized(dish.name, dish.name_en)),
    h('div.specs', {}, dish.skus.map((sku) => renderSpec(dish, sku))));
}

function renderSpec(dish, sku) {
  const current = skuState(sku.id);
  const notes = [];
  if (current.stock !== null && current.stock !== undefined) notes.push(t('stock', { n: current.stock }));
  if (current.daily_limit !== null && current.daily_limit !== undefined) notes.push(t('limit', { n: current.daily_limit }));
  return h('button.spec' + (current.sold_out ? '.sold-out' : '') + (state.pending.has(sku.id) ? '.pending' : ''), {
    type: 'button',
    dataset: { skuId: sku.id },
    'aria-pressed': current.sold_out ? 'true' : 'false',
    onclick: () => toggleSoldOut(dish, sku),
  },
  h('span.name', {}, localized(sku.name, sku.name_en) || t('standard')),
  h('span.state', {}, current.sold_out ? t('soldOut') : t('inStock')),
  notes.length ? h('span.stock', {}, notes.join(' · ')) : null);
}

/** Flips 沽清 at once on screen, then saves; puts it back and says why if the save fails. */
async function toggleSoldOut(dish, sku) {
  if (state.pending.has(sku.id)) return;
  const before = skuState(sku.id);
  const body = {
    price_fen: before.price_fen ?? null,
    stock: before.stock ?? null,
    daily_limit: before.daily_limit ?? null,
    low_stock_threshold: before.low_stock_threshold ?? null,
    sold_out: !before.sold_out,
  };
  state.skuStates[sku.id] = { ...before, sold_out: body.sold_out };
  state.pending.add(sku.id);
  renderBoard();
  try {
    const saved = await put(`console/stores/${encodeURIComponent(state.store.id)}/skus/${encodeURIComponent(sku.id)}`, body);
    state.skuStates[sku.id] = { ...state.skuStates[sku.id], ...saved };
  } catch (error) {
    state.skuStates[sku.id] = before;
    if (error.status === 401) {
      state.pending.delete(sku.id);
      return showLogin(error.message);
    }
    toast(t('saveFailed', { message: error.message }));
  } finally {
    state.pending.delete(sku.id);
    renderBoard();
  }
}

async function logout() {
  try {
    await post('auth/logout');
  } catch {
    // Already signed out on the server: show the form anyway.
  }
  showLogin();
}

// ---------- clock, polling, toast ----------

function tick() {
  if (!els.clock) return;
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  try {
    els.clock.textContent = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: state.timeZone || undefined }).format(new Date());
  } catch {
    els.clock.textContent = new Intl.DateTimeFormat('en-GB', options).format(new Date());
  }
}

function startTimers() {
  stopTimers();
  clockTimer = setInterval(tick, 5000);
  pollTimer = setInterval(poll, 30000);
}

function stopTimers() {
  clearInterval(clockTimer);
  clearInterval(pollTimer);
}

let toastTimer;
function toast(text) {
  let el = document.querySelector('.toast');
  if (!el) document.body.append((el = h('div.toast', { role: 'alert' })));
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

start();
