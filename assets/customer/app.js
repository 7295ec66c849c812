// The diner's menu page at /t/{token} (table QR) and /s/{store_id} (takeaway): browse, choose
// specs, fill the cart, check out and follow the order. At a table the cart is the table's
// shared cart (every phone that scanned the code edits it, live); takeaway keeps it on the phone.
// Views over the menu are hash routes: #checkout, #order=<id>, #orders, #member, #inbox.

import { h, mount } from '../shared/dom.js';
import { yuan } from '../shared/money.js';
import { get, post, imageUrl } from '../shared/api.js';
import { toast } from '../shared/toast.js';
import { lang, setLang, translator, localized } from '../shared/i18n.js';
import * as Cart from './cart.js';
import { hoursText, openState, storeName } from './store-info.js';
import * as Shared from './shared-cart.js';
import * as Ordering from './ordering.js';
import { openCheckout, closeCheckout, cartChanged, isOpen as checkoutOpen } from './checkout.js';

// Not needed to show the menu, so loaded after it (a phone on a slow network waits for fewer files).
let orderViews = null;
// Plain assignments, not ||=: older in-app browsers (ES2020) must still parse this module.
const loadOrderViews = () => orderViews || (orderViews = import('./order-page.js'));
let memberView = null;
const loadMemberView = () => memberView || (memberView = import('./member-page.js'));
let inboxView = null;
const loadInbox = () => inboxView || (inboxView = import('./inbox.js'));
let Favourites = null;
let favouritesReady = null;

const t = translator({
  title: ['点餐', 'Order'],
  takeaway: ['自取', 'Pickup'],
  dineIn: ['堂食', 'Dine-in'],
  seats: ['{n}人桌', '{n} seats'],
  notice: ['公告', 'Notice'],
  payFirst: ['先付后吃：下单付款后后厨开始制作', 'Pay first: the kitchen starts once you have paid'],
  payAfter: ['先吃后付：用餐结束后统一结账', 'Pay after the meal: settle the bill at the end'],
  packing: ['打包费 {fee}/份', 'Packing {fee} per item'],
  packingOrder: ['打包费 {fee}/单', 'Packing {fee} per order'],
  seatFee: ['餐位费 {fee}/位', 'Seat fee {fee} per diner'],
  search: ['搜索菜品', 'Search dishes'],
  noMatch: ['没有找到“{q}”相关的菜品', 'Nothing matches “{q}”'],
  soldOut: ['已售罄', 'Sold out'],
  from: ['起', 'from '],
  left: ['仅剩 {n} 份', 'Only {n} left'],
  choose: ['选规格', 'Options'],
  add: ['加入购物车', 'Add to cart'],
  added: ['已加入购物车', 'Added to cart'],
  spec: ['规格', 'Size'],
  required: ['必选', 'Required'],
  pickN: ['选 {n} 项', 'Pick {n}'],
  pickUpTo: ['最多选 {n} 项', 'Up to {n}'],
  pickRange: ['选 {min}–{max} 项', 'Pick {min}–{max}'],
  tooMany: ['{name}最多选 {n} 项', '{name}: up to {n}'],
  pleaseChoose: ['请选择：{names}', 'Please choose: {names}'],
  quantity: ['数量', 'Quantity'],
  ingredients: ['主料', 'Ingredients'],
  allergens: ['过敏原', 'Allergens'],
  kcal: ['{n} 千卡', '{n} kcal'],
  portion: ['份量', 'Portion'],
  maxReached: ['今日仅剩 {n} 份', 'Only {n} left today'],
  emptyCart: ['未选购商品', 'Your cart is empty'],
  estimate: ['预估，以下单时为准', 'Estimate; final at checkout'],
  checkout: ['去结算', 'Checkout'],
  cart: ['已选商品', 'Your cart'],
  clear: ['清空', 'Clear'],
  clearConfirm: ['确认清空？', 'Clear all?'],
  remove: ['删除', 'Remove'],
  unavailable: ['已售罄或已下架，不会计入', 'Sold out or removed; not counted'],
  addedBy: ['{name} 加的', 'added by {name}'],
  me: ['我', 'me'],
  nickname: ['我的昵称', 'My nickname'],
  nicknameAsk: ['同桌一起点：起个昵称，大家能看到是谁加的菜', 'Ordering together: pick a nickname so the table sees who added what'],
  ok: ['好的', 'OK'],
  rename: ['修改', 'Edit'],
  syncing: ['同步中', 'syncing'],
  offline: ['网络已断开，恢复后会自动同步购物车', 'Offline: the cart syncs when you are back'],
  sharedCart: ['同桌共享', 'Shared with the table'],
  tableNotOpen: ['餐桌尚未开台：可先看菜单加购，下单前请联系服务员开台', 'Table not open yet: browse and add, then ask a waiter to open it before ordering'],
  myOrders: ['订单', 'Orders'],
  member: ['会员', 'Member'],
  inbox: ['消息', 'Messages'],
  syncFailed: ['购物车同步失败：{msg}', 'Cart sync failed: {msg}'],
  close: ['关闭', 'Close'],
  badTable: ['桌码已失效', 'Table code not valid'],
  badStore: ['找不到这家门店', 'Store not found'],
  loadFailed: ['菜单加载失败', 'Could not load the menu'],
  retry: ['重试', 'Retry'],
  storeList: ['查看门店列表', 'See our stores'],
  favourites: ['我的收藏', 'My favourites'],
  star: ['收藏', 'Favourite'],
  starred: ['已收藏', 'Favourited'],
  starredToast: ['已收藏，可在“我的收藏”里找到', 'Saved to My favourites'],
  notFound: ['页面不存在', 'Page not found'],
});

const root = document.getElementById('app');
const state = {
  token: null,
  table: null,
  storeId: null,
  menu: null,
  // The menu's categories as listed, 我的收藏 first when the diner has starred dishes.
  shownCategories: [],
  etag: null,
  dishes: new Map(),
  cart: Cart.emptyCart(),
  query: '',
  currentCat: null,
  controls: new Map(),
  ignoreScrollUntil: 0,
  // At a table: {snapshot, queue, source, sending, attempt, timer}; null for takeaway (local cart).
  shared: null,
};
let els = {};

// ---------- start ----------

/** What the server put in the page for its first paint (table, cart, menu), taken once. */
function takeFirstData() {
  const el = document.getElementById('first-data');
  if (!el) return {};
  el.remove();
  try {
    return JSON.parse(el.textContent) || {};
  } catch {
    return {};
  }
}

async function start() {
  setLang(lang());
  const path = decodeURIComponent(location.pathname);
  const table = /^\/t\/([^/]+)\/?$/.exec(path);
  const store = /^\/s\/([^/]+)\/?$/.exec(path);
  const first = takeFirstData();
  if (first.menu) {
    setMenu(first.menu);
    state.etag = first.etag || null;
  }
  try {
    if (table) {
      state.token = table[1];
      state.table = first.table || (await get(`tables/${encodeURIComponent(state.token)}`));
      state.storeId = state.table.store_id;
    } else if (store) {
      state.storeId = store[1];
    } else {
      return showError(t('notFound'), '');
    }
    if (!state.menu || state.menu.store.id !== state.storeId) await fetchMenu();
    if (state.table) await startSharedCart(first.cart);
  } catch (error) {
    const title = error.code === 'UNKNOWN_TABLE_CODE' ? t('badTable') : error.status === 404 ? t('badStore') : t('loadFailed');
    return showError(title, error.message, error.status === 404 || error.status === 410 ? null : () => location.reload());
  }
  if (!state.shared) state.cart = loadCart();
  reconcileCart();
  renderApp();
  // Not awaited: the menu is usable before stars arrive.
  favouritesReady = import('./favourites.js').then((module) => {
    Favourites = module;
    module.load(state.menu.store.brand_id, (id) => state.dishes.has(id), favouritesChanged).catch(() => {});
    return module;
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      refreshMenu();
      refreshTable();
      if (state.shared) fetchSnapshot();
    }
  });
  window.addEventListener('hashchange', route);
  route();
  refreshUnread();
}

// ---------- views over the menu: #checkout, #order=<id>, #orders ----------

function route() {
  const hash = location.hash.slice(1);
  const order = /^order=(.+)$/.exec(hash);
  if (hash !== 'checkout') closeCheckout();
  if (!order && hash !== 'orders') orderViews?.then((m) => m.closeOrderViews());
  if (hash !== 'member') memberView?.then((m) => m.closeMemberView());
  if (hash !== 'inbox') inboxView?.then((m) => m.closeInbox());
  if (hash === 'checkout') {
    closeSheet();
    if (!Cart.totals(state.cart).count) return history.replaceState(null, '', location.pathname + location.search);
    if (!checkoutOpen()) openCheckout(checkoutContext);
  } else if (order) {
    closeSheet();
    loadOrderViews().then((m) => location.hash.slice(1) === hash && m.openOrder(orderContext, decodeURIComponent(order[1])));
  } else if (hash === 'orders') {
    closeSheet();
    loadOrderViews().then((m) => location.hash.slice(1) === hash && m.openOrders(orderContext));
  } else if (hash === 'member') {
    closeSheet();
    loadMemberView().then((m) => location.hash.slice(1) === hash && m.openMember(orderContext));
  } else if (hash === 'inbox') {
    closeSheet();
    loadInbox().then((m) => location.hash.slice(1) === hash && m.openInbox({ backToMenu: goMenu, unreadChanged: showUnread }));
  }
}

/** The unread badge on 消息 (hidden at 0). */
function showUnread(n) {
  const badge = document.querySelector('.inbox-link .badge');
  if (!badge) return;
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.hidden = !n;
}

/** Looks for unread messages once the menu is up (a guest has none). */
function refreshUnread() {
  loadInbox().then((m) => m.unreadCount()).then(showUnread, () => {});
}

const goMenu = () => {
  if (location.hash) history.pushState(null, '', location.pathname + location.search);
  route();
};

/** What the checkout page needs from the menu page. */
const checkoutContext = {
  state,
  dishName: (dish) => dishName(dish),
  choiceLabels: (dish, line) => Cart.choiceLabels(dish, line, nameOf),
  addedByText: (name) => addedByText(name),
  removeLine: (key) => changeQuantity(key, 0),
  backToMenu: () => goMenu(),
  refreshMenu: () => refreshMenu(),
  refreshTable: () => refreshTable(),
  tableClosed: () => tableClosed(),
  orderPlaced(order, lines) {
    rememberSecret(order);
    rememberOrder(order);
    // The ordered lines leave the cart. The server empties a table's cart when its order is
    // placed: drop unsent changes to the ordered lines and take the new snapshot.
    if (state.shared) {
      state.shared.queue = state.shared.queue.filter((e) => !lines.some((l) => l.key === e.change.line_id));
      applySharedView();
      fetchSnapshot();
    } else {
      setCart({ lines: state.cart.lines.filter((l) => !lines.some((o) => o.key === l.key)) });
    }
    history.replaceState(null, '', `${location.pathname}${location.search}#order=${encodeURIComponent(order.id)}`);
    route();
    // Stock moved: sold-out flags and "仅剩" counts follow; the table is open now.
    refreshMenu();
    refreshTable();
  },
};

/** What the order pages need. */
const orderContext = {
  state,
  backToMenu: goMenu,
  canAddMore: (order) => !!state.table && order.table_code === state.table.table_code,
  orderList: () => loadOrders(),
  rememberOrder: (order) => rememberOrder(order),
  secretOf: (id) => loadSecrets()[id],
};

const SECRETS_KEY = 'diancan.orderSecrets';
const loadSecrets = () => {
  try {
    return Ordering.parseSecrets(localStorage.getItem(SECRETS_KEY));
  } catch {
    return {};
  }
};

/** Keeps the secret a guest's order came with: the server shows it only in this answer. */
function rememberSecret(order) {
  if (!order.access_secret) return;
  try {
    localStorage.setItem(SECRETS_KEY, JSON.stringify(Ordering.rememberSecret(loadSecrets(), order.id, order.access_secret)));
  } catch {
    // No storage: this page still has the order; another visit will say it cannot open it.
  }
}

const ORDERS_KEY = 'diancan.orders';
const loadOrders = () => Ordering.parseOrders(localStorage.getItem(ORDERS_KEY));

function rememberOrder(order) {
  try {
    const list = loadOrders();
    const before = list.find((e) => e.id === order.id);
    const entry = {
      id: order.id,
      path: before?.path || location.pathname,
      storeName: before?.storeName || `${state.menu.store.brand_name} ${storeName(state.menu.store)}`,
      channel: order.channel,
      pickupNumber: order.pickup_number || null,
      totalFen: order.quote?.total_fen ?? null,
      statusLabel: order.status_label || null,
      placedAtMs: order.placed_at_ms || Date.now(),
    };
    const next = before ? list.map((e) => (e.id === order.id ? entry : e)) : Ordering.rememberOrder(list, entry);
    localStorage.setItem(ORDERS_KEY, JSON.stringify(next));
  } catch {
    // No storage: the order page still works from its link.
  }
}

/** Fetches the menu, revalidating with the ETag; returns false when it has not changed. */
async function fetchMenu() {
  const headers = state.etag ? { 'If-None-Match': state.etag } : {};
  const response = await get(`stores/${encodeURIComponent(state.storeId)}/menu`, { headers, raw: true });
  if (!response) return false;
  state.etag = response.headers.get('ETag');
  setMenu(await response.json());
  return true;
}

function setMenu(menu) {
  state.menu = menu;
  state.dishes = new Map();
  for (const category of menu.categories) for (const dish of category.dishes) state.dishes.set(dish.id, dish);
}

// Sold-out states change during service: pick them up when the diner comes back to the page.
async function refreshMenu() {
  try {
    if (!(await fetchMenu())) return;
  } catch {
    return;
  }
  reconcileCart();
  if (!document.querySelector('.sheet')) renderApp();
  else renderCartBar();
}

function showError(title, message, retry) {
  document.body.className = '';
  document.title = title;
  mount(
    root,
    h('main.message-page', {},
      h('h1', {}, title),
      message && h('p', {}, message),
      retry ? h('button.button', { onclick: retry }, t('retry')) : null,
      ' ',
      h(retry ? 'a.button.secondary' : 'a.button', { href: '/' }, t('storeList')),
    ),
  );
}

// ---------- cart storage ----------

const cartKey = () => `diancan.cart.${state.storeId}.${state.token ? 't.' + state.token : 'takeaway'}`;

function loadCart() {
  try {
    return Cart.parseCart(localStorage.getItem(cartKey()));
  } catch {
    return Cart.emptyCart();
  }
}

function saveCart() {
  try {
    if (state.cart.lines.length) localStorage.setItem(cartKey(), JSON.stringify(state.cart));
    else localStorage.removeItem(cartKey());
  } catch {
    // Private browsing or a full quota: the cart still works for this visit.
  }
}

/** Whether this table's code may not order yet (the store wants staff to open it first). */
const tableClosed = () => !!state.table && state.table.ordering_needs_open_table === true && state.table.session_open === false;

async function refreshTable() {
  if (!state.token) return;
  try {
    state.table = await get(`tables/${encodeURIComponent(state.token)}`);
  } catch {
    return;
  }
  if (els.tableBanner) els.tableBanner.hidden = !tableClosed();
}

// ---------- the table's shared cart ----------

const NICK_KEY = 'diancan.nickname';
const queueKey = () => `diancan.cartq.${state.token}`;

function me() {
  let name = null;
  try {
    name = localStorage.getItem(NICK_KEY);
    if (!name) localStorage.setItem(NICK_KEY, (name = Shared.defaultNickname()));
  } catch {
    name = name || state.tempNick || (state.tempNick = Shared.defaultNickname());
  }
  return name;
}

const addedByText = (name) => t('addedBy', { name: name === me() ? `${name}（${t('me')}）` : name });

async function startSharedCart(firstSnapshot) {
  let snapshot = firstSnapshot;
  try {
    snapshot = snapshot || (await get(`tables/${encodeURIComponent(state.token)}/cart`));
  } catch (error) {
    // A server without the shared cart (or a table without one): keep the phone's own cart.
    if (error.status === 404 || error.status === 405) return;
    snapshot = { version: -1, lines: [] };
  }
  let queue = [];
  try {
    queue = Shared.parseQueue(localStorage.getItem(queueKey()));
  } catch {
    // No storage: changes live only in memory.
  }
  state.shared = { snapshot, queue, source: null, sending: false, attempt: 0, timer: null, fetching: false, again: false };
  state.cart = { lines: Shared.view(snapshot, queue) };
  listenToCart();
  window.addEventListener('online', () => {
    renderSyncState();
    flush();
    fetchSnapshot();
  });
  window.addEventListener('offline', renderSyncState);
  flush();
}

function listenToCart() {
  if (typeof EventSource === 'undefined') {
    setInterval(fetchSnapshot, 10000);
    return;
  }
  const source = new EventSource(`/api/v1/tables/${encodeURIComponent(state.token)}/cart/events`);
  state.shared.source = source;
  source.addEventListener('cart.changed', fetchSnapshot);
  source.onmessage = fetchSnapshot;
  // After a reconnect, catch up on whatever happened while away, and send what waited.
  source.onopen = () => {
    fetchSnapshot();
    flush();
  };
}

async function fetchSnapshot() {
  const shared = state.shared;
  if (!shared) return;
  if (shared.fetching) {
    shared.again = true;
    return;
  }
  shared.fetching = true;
  try {
    const snapshot = await get(`tables/${encodeURIComponent(state.token)}/cart`);
    acceptSnapshot(snapshot);
  } catch {
    // Offline: the next event or the online event fetches again.
  } finally {
    shared.fetching = false;
    if (shared.again) {
      shared.again = false;
      fetchSnapshot();
    }
  }
}

function acceptSnapshot(snapshot) {
  const shared = state.shared;
  if (!snapshot || (snapshot.version ?? 0) < (shared.snapshot.version ?? 0)) return;
  shared.snapshot = snapshot;
  applySharedView();
}

function applySharedView() {
  const shared = state.shared;
  state.cart = Cart.reconcile({ lines: Shared.view(shared.snapshot, shared.queue) }, state.dishes);
  try {
    if (shared.queue.length) localStorage.setItem(queueKey(), JSON.stringify(shared.queue));
    else localStorage.removeItem(queueKey());
  } catch {
    // Private mode: the queue lives for this visit.
  }
  afterCartChange();
}

/** Optimistic: the change shows at once, and goes to the server now or when the phone is back. */
function sendChange(change) {
  const shared = state.shared;
  shared.queue = Shared.enqueue(shared.queue, change);
  applySharedView();
  flush();
}

async function flush() {
  const shared = state.shared;
  if (!shared || shared.sending || !shared.queue.length) return renderSyncState();
  if (navigator.onLine === false) return renderSyncState();
  shared.sending = true;
  clearTimeout(shared.timer);
  const entry = shared.queue[0];
  try {
    const snapshot = await post(`tables/${encodeURIComponent(state.token)}/cart`, entry.change);
    shared.attempt = 0;
    shared.queue = Shared.acknowledge(shared.queue, entry.seq);
    if (snapshot && snapshot.lines && (snapshot.version ?? 0) >= (shared.snapshot.version ?? 0)) shared.snapshot = snapshot;
    applySharedView();
    shared.sending = false;
    flush();
  } catch (error) {
    shared.sending = false;
    if (Shared.isRetryable(error.status)) {
      shared.attempt += 1;
      shared.timer = setTimeout(flush, Shared.backoff(shared.attempt) * 1000);
      renderSyncState();
    } else {
      // The server refused this change for good (a bad line, a closed table): drop it.
      shared.queue = Shared.acknowledge(shared.queue, entry.seq);
      toast(t('syncFailed', { msg: error.message }));
      applySharedView();
      fetchSnapshot();
      flush();
    }
  }
}

function renderSyncState() {
  const el = document.querySelector('.sync-state');
  if (!el || !state.shared) return;
  const offline = navigator.onLine === false || state.shared.attempt > 0;
  el.hidden = !offline;
  el.textContent = offline ? t('offline') : '';
}

// ---------- cart operations (one API for the shared and the local cart) ----------

function addToCart(dish, selection, quantity) {
  if (state.shared) {
    const unitFen = Cart.unitPrice(dish, selection);
    sendChange(Shared.addChange(state.cart.lines, me(), dish, selection, unitFen, quantity));
  } else {
    setCart(Cart.addLine(state.cart, dish, selection, quantity));
  }
}

function changeQuantity(key, quantity) {
  if (state.shared) sendChange(quantity > 0 ? { kind: 'set_quantity', line_id: key, quantity } : { kind: 'remove', line_id: key });
  else setCart(Cart.setQuantity(state.cart, key, quantity));
}

function clearCart() {
  if (state.shared) sendChange({ kind: 'clear' });
  else setCart(Cart.emptyCart());
}

/** The line a simple dish's stepper changes: my own line with those choices, else anyone's. */
function lineFor(selection) {
  const key = Cart.lineKey(selection);
  const same = state.cart.lines.filter((l) => (l.lineKey || l.key) === key && !l.unavailable);
  return (state.shared && same.find((l) => l.addedBy === me())) || same[0];
}

function reconcileCart() {
  state.cart = Cart.reconcile(state.cart, state.dishes);
  if (!state.shared) saveCart();
}

function setCart(cart) {
  state.cart = cart;
  saveCart();
  afterCartChange();
}

function afterCartChange() {
  renderCartBar();
  for (const dish of state.dishes.values()) updateControl(dish);
  updateCategoryCounts();
  if (document.querySelector('.cart-sheet')) openCartSheet();
  cartChanged();
}

// ---------- helpers ----------

const dishName = (dish) => localized(dish.name, dish.name_en);
const nameOf = (zh, en) => localized(zh, en);
const priceDiffers = (dish) => new Set(dish.skus.map((s) => s.price_fen)).size > 1;

function remainingOf(dish) {
  const open = dish.skus.filter((s) => !s.sold_out);
  if (!open.length || open.some((s) => s.remaining === null || s.remaining === undefined)) return null;
  return open.reduce((sum, s) => sum + s.remaining, 0);
}

/** How many more of a spec the diner may add, given today's remaining count and the cart. */
function roomFor(dish, skuId) {
  const sku = dish.skus.find((s) => s.id === skuId);
  if (!sku || sku.remaining === null || sku.remaining === undefined) return Infinity;
  const inCart = state.cart.lines.filter((l) => l.skuId === skuId && !l.unavailable).reduce((n, l) => n + l.quantity, 0);
  return Math.max(0, sku.remaining - inCart);
}

/** "¥18起" in Chinese, "from ¥18" in English. */
function priceFrom(fen) {
  return lang() === 'en' ? [h('small', {}, t('from')), yuan(fen)] : [yuan(fen), h('small', {}, t('from'))];
}

// The tags merchants use most, in English; any other tag shows as typed.
const TAG_EN = { 招牌: 'Signature', 新品: 'New', 辣: 'Spicy', 微辣: 'Mild', 特辣: 'Extra hot', 超值: 'Value', 热销: 'Popular', 素食: 'Vegetarian' };
const tagText = (tag) => (lang() === 'en' && TAG_EN[tag]) || tag;

function tagClass(tag) {
  if (tag === '招牌' || /signature/i.test(tag)) return 'tag tag-signature';
  if (tag === '新品' || /^new$/i.test(tag)) return 'tag tag-new';
  if (tag.includes('辣') || /spicy/i.test(tag)) return 'tag tag-spicy';
  return 'tag';
}

function matches(dish, query) {
  if (!query) return true;
  const q = query.toLowerCase();
  return [dish.name, dish.name_en, dish.description, ...(dish.tags || [])].some((s) => s && s.toLowerCase().includes(q));
}

// ---------- page ----------

function renderApp() {
  const { store } = state.menu;
  document.body.className = 'menu-page';
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  document.title = `${storeName(store)} · ${store.brand_name}`;
  els = {};
  mount(
    root,
    h('div.menu-app', {},
      renderHeader(store),
      renderNotice(store),
      state.table ? (els.tableBanner = h('p.notice.warn', { role: 'note', hidden: !tableClosed() }, t('tableNotOpen'))) : null,
      nicknamePrompt(),
      h('div.search', { role: 'search' },
        (els.search = h('input', {
          type: 'search',
          value: state.query,
          placeholder: t('search'),
          'aria-label': t('search'),
          enterkeyhint: 'search',
          oninput: (event) => {
            state.query = event.target.value.trim();
            renderMenu();
          },
        })),
      ),
      h('div.menu', {},
        (els.cats = h('nav.cats', { 'aria-label': lang() === 'en' ? 'Categories' : '分类' })),
        (els.dishes = h('section.dishes', { onscroll: onDishScroll })),
      ),
    ),
    (els.bar = renderCartBarShell()),
  );
  renderMenu();
  renderCartBar();
}

function renderHeader(store) {
  const status = openState(store);
  const place = state.table
    ? h('span.mode', {}, `${state.table.area_name} ${state.table.table_code}`)
    : h('span.mode', {}, t('takeaway'));
  return h('header.store-header', {},
    h('div.top', {},
      h('h1', {}, `${store.brand_name}（${storeName(store)}）`),
      h('a.orders-link', { href: '#member', dataset: { action: 'member' } }, t('member')),
      h('a.orders-link', { href: '#orders', dataset: { action: 'my-orders' } }, t('myOrders')),
      h('a.orders-link.inbox-link', { href: '#inbox', dataset: { action: 'inbox' } }, t('inbox'), h('span.badge', { hidden: true })),
      h('button.lang-toggle', {
        onclick: () => {
          setLang(lang() === 'en' ? 'zh' : 'en');
          renderApp();
        },
        'aria-label': lang() === 'en' ? '切换到中文' : 'Switch to English',
      }, lang() === 'en' ? '中文' : 'EN'),
    ),
    h('div.status', {},
      place,
      state.table ? h('span', {}, `${t('dineIn')} · ${t('seats', { n: state.table.seats })}`) : null,
      h(status.open ? 'span.badge-open' : 'span.badge-closed', {}, status.label),
      h('span', {}, status.detail || hoursText(store.hours)),
    ),
  );
}

function renderNotice(store) {
  const parts = [];
  if (state.table) parts.push(store.pay_mode === 'pay_after_meal' ? t('payAfter') : t('payFirst'));
  if (state.table && store.seat_fee_fen) parts.push(t('seatFee', { fee: yuan(store.seat_fee_fen) }));
  if (!state.table && store.packing_fee?.kind === 'per_item') parts.push(t('packing', { fee: yuan(store.packing_fee.fee_fen) }));
  if (!state.table && store.packing_fee?.kind === 'per_order') parts.push(t('packingOrder', { fee: yuan(store.packing_fee.fee_fen) }));
  if (!parts.length) return null;
  return h('p.notice', {}, h('strong', {}, t('notice')), h('span', {}, parts.join(' · ')));
}

/** The starred dishes on today's menu, shown first as 我的收藏 (not while searching). */
function favouritesCategory() {
  if (state.query) return null;
  const dishes = (Favourites?.list() ?? []).map((id) => state.dishes.get(id)).filter(Boolean);
  if (!dishes.length) return null;
  return { id: 'favourites', name: t('favourites'), name_en: null, dishes };
}

/** Redraws the menu with the starred section, keeping what the diner is looking at in place. */
function favouritesChanged() {
  if (!els.dishes) return;
  const before = els.dishes.querySelector('section[data-cat-id="favourites"]')?.offsetHeight || 0;
  const scroll = els.dishes.scrollTop;
  renderMenu();
  const after = els.dishes.querySelector('section[data-cat-id="favourites"]')?.offsetHeight || 0;
  if (scroll > 0) {
    els.dishes.scrollTop = scroll + after - before;
    state.ignoreScrollUntil = 0;
    onDishScroll();
  }
  const button = document.querySelector('.spec-sheet [data-action="favourite"]');
  if (button) mount(button.parentNode, favouriteButton(state.dishes.get(button.dataset.dishId)));
}

function favouriteButton(dish) {
  const on = Favourites?.has(dish.id) ?? false;
  return h('button.fav' + (on ? '.on' : ''), {
    type: 'button',
    dataset: { action: 'favourite', dishId: dish.id },
    'aria-pressed': on ? 'true' : 'false',
    onclick: async () => {
      try {
        const module = Favourites || (await favouritesReady);
        if (await module.toggle(dish.id)) toast(t('starredToast'));
      } catch (error) {
        toast(error.message);
      }
    },
  }, h('span.heart', { 'aria-hidden': 'true' }, on ? '♥' : '♡'), on ? t('starred') : t('star'));
}

function renderMenu() {
  const sections = [];
  const catButtons = [];
  state.controls = new Map();
  const starred = favouritesCategory();
  state.shownCategories = starred ? [starred, ...state.menu.categories] : state.menu.categories;
  for (const category of state.shownCategories) {
    const dishes = category.dishes.filter((d) => matches(d, state.query));
    if (!dishes.length) continue;
    catButtons.push(
      h('button', { type: 'button', dataset: { catId: category.id }, onclick: () => jumpTo(category.id) },
        nameOf(category.name, category.name_en),
        h('span.count', { hidden: true })),
    );
    sections.push(
      h('section.category', { dataset: { catId: category.id } },
        h('h2', {}, nameOf(category.name, category.name_en)),
        dishes.map(renderDish)),
    );
  }
  mount(els.cats, catButtons);
  mount(els.dishes, sections.length ? sections : h('p.empty', {}, t('noMatch', { q: state.query })));
  els.dishes.scrollTop = 0;
  setCurrent(sections[0]?.dataset.catId);
  updateCategoryCounts();
}

function renderDish(dish) {
  const name = dishName(dish);
  const description = localized(dish.description, dish.description_en);
  const image = dish.image_ids?.[0];
  const left = remainingOf(dish);
  const control = h('div.control');
  const list = state.controls.get(dish.id) || [];
  list.push(control);
  state.controls.set(dish.id, list);
  const row = h('article.dish' + (dish.sold_out ? '.sold-out' : ''), { dataset: { dishId: dish.id } },
    h('button.thumb', { type: 'button', onclick: () => openSpecSheet(dish), 'aria-label': name },
      image ? h('img', { src: imageUrl(state.menu.image_urls.thumbnail, image), alt: '', loading: 'lazy', decoding: 'async', width: 84, height: 84 }) : null,
      dish.sold_out ? h('span.stamp', {}, t('soldOut')) : null),
    h('div.info', {},
      h('h3', { onclick: () => openSpecSheet(dish) }, name),
      description ? h('p.desc', {}, description) : null,
      dish.tags?.length ? h('div.tags', {}, dish.tags.map((tag) => h('span', { class: tagClass(tag) }, tagText(tag)))) : null,
      left !== null && !dish.sold_out ? h('p.left', {}, t('left', { n: left })) : null,
      h('div.foot', {},
        h('span.price', {}, priceDiffers(dish) ? priceFrom(dish.price_from_fen) : yuan(dish.price_from_fen)),
        control),
    ),
  );
  updateControl(dish);
  return row;
}

/** The round +, the stepper, 选规格 or 已售罄 for one dish, kept in step with the cart. */
function updateControl(dish) {
  for (const el of state.controls.get(dish.id) || []) mount(el, controlFor(dish));
}

function controlFor(dish) {
  if (dish.sold_out) return h('span.sold-label', {}, t('soldOut'));
  const count = Cart.dishCount({ lines: state.cart.lines.filter((l) => !l.unavailable) }, dish.id);
  if (dish.needs_choices) {
    return h('button.choose', { type: 'button', dataset: { action: 'choose' }, onclick: () => openSpecSheet(dish) },
      t('choose'), count ? h('span.n', {}, count) : null);
  }
  const sku = dish.skus[0];
  const add = () => {
    if (roomFor(dish, sku.id) < 1) return toast(t('maxReached', { n: sku.remaining }));
    addToCart(dish, Cart.emptySelection(dish), 1);
    bumpBar();
  };
  if (!count) return h('button.add', { type: 'button', dataset: { action: 'add' }, onclick: add, 'aria-label': `${t('add')} ${dishName(dish)}` }, '+');
  const line = lineFor(Cart.emptySelection(dish));
  return h('div.stepper', {},
    h('button.minus', {
      type: 'button',
      dataset: { action: 'remove' },
      'aria-label': t('remove'),
      onclick: () => line && changeQuantity(line.key, line.quantity - 1),
    }, '−'),
    h('output', {}, count),
    h('button.plus', { type: 'button', dataset: { action: 'add' }, onclick: add, 'aria-label': t('add') }, '+'),
  );
}

// ---------- category column ----------

function jumpTo(catId) {
  const section = els.dishes.querySelector(`section[data-cat-id="${catId}"]`);
  if (!section) return;
  state.ignoreScrollUntil = Date.now() + 200;
  els.dishes.scrollTop = section.offsetTop;
  setCurrent(catId);
}

function onDishScroll() {
  if (Date.now() < state.ignoreScrollUntil) return;
  const list = els.dishes;
  const sections = list.querySelectorAll('section.category');
  if (!sections.length) return;
  let current = sections[0];
  if (list.scrollTop + list.clientHeight >= list.scrollHeight - 4) current = sections[sections.length - 1];
  else for (const section of sections) if (section.offsetTop <= list.scrollTop + 24) current = section;
  setCurrent(current.dataset.catId);
}

function setCurrent(catId) {
  if (!catId || (state.currentCat === catId && els.cats.querySelector('.current'))) return;
  state.currentCat = catId;
  for (const button of els.cats.children) {
    const on = button.dataset.catId === catId;
    button.classList.toggle('current', on);
    if (on) {
      button.setAttribute('aria-current', 'true');
      const nav = els.cats;
      if (button.offsetTop < nav.scrollTop) nav.scrollTop = button.offsetTop;
      else if (button.offsetTop + button.offsetHeight > nav.scrollTop + nav.clientHeight) nav.scrollTop = button.offsetTop + button.offsetHeight - nav.clientHeight;
    } else button.removeAttribute('aria-current');
  }
}

function updateCategoryCounts() {
  if (!els.cats) return;
  for (const button of els.cats.children) {
    const category = state.shownCategories.find((c) => c.id === button.dataset.catId);
    if (!category) continue;
    const ids = new Set(category.dishes.map((d) => d.id));
    const n = state.cart.lines.filter((l) => ids.has(l.dishId) && !l.unavailable).reduce((s, l) => s + l.quantity, 0);
    const badge = button.querySelector('.count');
    badge.textContent = n || '';
    badge.hidden = !n;
  }
}

// ---------- cart bar ----------

function renderCartBarShell() {
  return h('div', { id: 'cart-bar' },
    h('button.open', { type: 'button', onclick: toggleCartSheet, 'aria-label': t('cart') },
      h('span.icon', {}, h('span.count')),
      h('span.sum', {}, h('span.total'), h('span.hint'))),
    h('button.checkout', { type: 'button', dataset: { action: 'checkout' }, onclick: () => (location.hash = 'checkout') }, t('checkout')),
  );
}

function renderCartBar() {
  const bar = els.bar;
  if (!bar) return;
  const { count, totalFen } = Cart.totals(state.cart);
  bar.classList.toggle('has-items', count > 0);
  bar.querySelector('.count').textContent = count ? String(count > 99 ? '99+' : count) : '';
  bar.querySelector('.total').textContent = count ? yuan(totalFen) : t('emptyCart');
  bar.querySelector('.hint').textContent = count ? t('estimate') : '';
  bar.querySelector('.checkout').disabled = !count;
  bar.querySelector('.open').disabled = !state.cart.lines.length;
  if (count) nudgeSoon();
}

// The cart bar's nudge: the server prices the cart (a moment after the last change) and the bar
// says what the promotions take off or how far the next threshold is ("再买 8 元减 15").
let nudgeTimer;
let nudgeSeq = 0;
function nudgeSoon() {
  clearTimeout(nudgeTimer);
  nudgeTimer = setTimeout(nudge, 600);
}

async function nudge() {
  const lines = Ordering.orderableLines(state.cart);
  if (!lines.length || !state.storeId) return;
  const seq = ++nudgeSeq;
  const form = state.table ? { channel: 'dine_in', tableToken: state.token } : { channel: 'pickup' };
  try {
    const quote = await post(`stores/${encodeURIComponent(state.storeId)}/quote`, Ordering.quoteBody(lines, form));
    if (seq !== nudgeSeq || !els.bar) return;
    const text = Ordering.cartBarNudge(quote, lang());
    if (text) els.bar.querySelector('.hint').textContent = text;
    els.bar.classList.toggle('nudged', !!quote.hint);
  } catch {
    // The estimate stays; the checkout explains any problem.
  }
}

function bumpBar() {
  const icon = els.bar?.querySelector('.icon');
  if (!icon) return;
  icon.classList.remove('bump');
  void icon.offsetWidth;
  icon.classList.add('bump');
}

// ---------- sheets ----------

function openSheet(className, ...content) {
  closeSheet();
  const overlay = h('div.overlay', { onclick: closeSheet });
  const sheet = h('div.sheet.' + className, { role: 'dialog', 'aria-modal': 'true' }, ...content);
  document.body.append(overlay, sheet);
  return sheet;
}

function closeSheet() {
  for (const el of document.querySelectorAll('.overlay, .sheet')) el.remove();
  document.body.classList.remove('cart-open');
}

// ---------- spec sheet ----------

function openSpecSheet(dish) {
  const spec = { dish, selection: Cart.emptySelection(dish), quantity: 1, groups: null, foot: null };
  const image = dish.image_ids?.[0];
  const facts = [
    dish.portion && `${t('portion')}：${dish.portion}`,
    dish.calories_kcal && t('kcal', { n: dish.calories_kcal }),
    dish.ingredients && `${t('ingredients')}：${dish.ingredients}`,
    dish.allergens?.length && `${t('allergens')}：${dish.allergens.join('、')}`,
  ].filter(Boolean);
  spec.groups = h('div.groups');
  spec.qty = h('div.qty');
  spec.foot = h('div.sheet-foot');
  openSheet('spec-sheet',
    h('button.close', { type: 'button', onclick: closeSheet, 'aria-label': t('close') }, '×'),
    h('div.body', {},
      image ? h('div.detail-photo', {}, h('img', { src: imageUrl(state.menu.image_urls.detail, image), alt: dishName(dish) })) : null,
      h('div.intro', {},
        h('div.title', {}, h('h2', {}, dishName(dish)), h('span.fav-slot', {}, favouriteButton(dish))),
        dish.description ? h('p.desc', {}, localized(dish.description, dish.description_en)) : null,
        dish.tags?.length ? h('div.tags', { style: { marginTop: '6px' } }, dish.tags.map((tag) => h('span', { class: tagClass(tag) }, tagText(tag)))) : null,
        facts.length ? h('div.facts', {}, facts.map((f) => h('span', {}, f))) : null),
      spec.groups,
      spec.qty),
    spec.foot,
  );
  renderSpec(spec);
}

function renderSpec(spec) {
  const { dish, selection } = spec;
  const problems = Cart.validate(dish, selection);
  const missing = new Set(problems.map((p) => p.id));
  const blocks = [];
  const update = (change) => {
    Object.assign(selection, change);
    spec.quantity = Math.max(1, Math.min(spec.quantity, roomFor(dish, selection.skuId)));
    renderSpec(spec);
  };

  if (dish.skus.length > 1) {
    blocks.push(group(t('spec'), true, '', !selection.skuId,
      dish.skus.map((sku) => chip({
        data: { skuId: sku.id },
        label: nameOf(sku.name, sku.name_en) || yuan(sku.price_fen),
        extra: yuan(sku.price_fen),
        selected: selection.skuId === sku.id,
        disabled: sku.sold_out,
        onclick: () => update({ skuId: sku.id }),
      }))));
  }
  for (const g of dish.option_groups || []) {
    const ids = g.options.map((o) => o.id);
    blocks.push(group(nameOf(g.name, g.name_en), g.min_select > 0, ruleText(g), missing.has(g.id),
      g.options.map((o) => chip({
        data: { optionId: o.id },
        label: nameOf(o.name, o.name_en),
        extra: o.price_delta_fen ? '+' + yuan(o.price_delta_fen) : '',
        selected: selection.optionIds.includes(o.id),
        onclick: () => {
          const next = Cart.toggle(selection.optionIds, ids, o.id, g.max_select);
          if (next === selection.optionIds) return toast(t('tooMany', { name: nameOf(g.name, g.name_en), n: g.max_select }));
          update({ optionIds: next });
        },
      }))));
  }
  for (const slot of dish.combo_slots || []) {
    const ids = slot.choices.map((c) => c.id);
    const fixed = Cart.isFixedSlot(slot);
    blocks.push(group(nameOf(slot.name, slot.name_en), !fixed && slot.min_select > 0, fixed ? '' : ruleText(slot), missing.has(slot.id),
      slot.choices.map((c) => chip({
        data: { choiceId: c.id },
        label: c.dish_name + (c.sku_name ? ` ${c.sku_name}` : '') + (c.quantity > 1 ? ` ×${c.quantity}` : ''),
        extra: c.price_delta_fen ? '+' + yuan(c.price_delta_fen) : '',
        selected: selection.choiceIds.includes(c.id),
        disabled: fixed || (c.sold_out && !selection.choiceIds.includes(c.id)),
        fixed,
        onclick: () => {
          const next = Cart.toggle(selection.choiceIds, ids, c.id, slot.max_select);
          if (next === selection.choiceIds) return toast(t('tooMany', { name: nameOf(slot.name, slot.name_en), n: slot.max_select }));
          update({ choiceIds: next });
        },
      }))));
  }
  mount(spec.groups, blocks);

  const room = roomFor(dish, selection.skuId);
  const sku = dish.skus.find((s) => s.id === selection.skuId);
  mount(spec.qty,
    h('strong', {}, t('quantity')),
    h('div.stepper', {},
      h('button.minus', { type: 'button', disabled: spec.quantity <= 1, 'aria-label': '−', onclick: () => { spec.quantity -= 1; renderSpec(spec); } }, '−'),
      h('output', {}, spec.quantity),
      h('button.plus', {
        type: 'button',
        disabled: spec.quantity >= room,
        'aria-label': '+',
        onclick: () => { spec.quantity += 1; renderSpec(spec); },
      }, '+')),
  );

  const ok = problems.length === 0 && room >= 1 && !dish.sold_out;
  const price = selection.skuId ? yuan(Cart.unitPrice(dish, selection) * spec.quantity) : priceFrom(dish.price_from_fen);
  const unsatisfied = problems.filter((p) => p.kind !== 'sold_out').map((p) => p.name || t('spec'));
  const picked = ok
    ? Cart.choiceLabels(dish, selection, nameOf).join('，')
    : dish.sold_out || (sku && sku.sold_out) ? t('soldOut')
    : room < 1 ? t('maxReached', { n: sku?.remaining ?? 0 })
    : t('pleaseChoose', { names: unsatisfied.join('、') });
  mount(spec.foot,
    h('span.price', {}, price),
    h('span.picked', {}, picked),
    h('button.button.wide', {
      type: 'button',
      dataset: { action: 'add-to-cart' },
      disabled: !ok,
      onclick: () => {
        closeSheet();
        addToCart(dish, selection, spec.quantity);
        bumpBar();
        toast(t('added'));
      },
    }, t('add')),
  );
}

function ruleText(g) {
  if (g.min_select === g.max_select) return g.max_select > 1 ? t('pickN', { n: g.max_select }) : '';
  if (g.min_select === 0) return g.max_select > 1 ? t('pickUpTo', { n: g.max_select }) : '';
  return t('pickRange', { min: g.min_select, max: g.max_select });
}

function group(title, required, rule, missing, chips) {
  return h('section.group' + (missing ? '.missing' : ''), {},
    h('h3', {}, title, required ? h('span.required', {}, t('required')) : null, rule ? h('span.rule', {}, rule) : null),
    h('div.chips', {}, chips));
}

function chip({ data, label, extra, selected, disabled, fixed, onclick }) {
  return h('button.chip' + (selected ? '.selected' : '') + (fixed ? '.fixed' : ''), {
    type: 'button',
    dataset: data,
    disabled: !!disabled,
    'aria-pressed': selected ? 'true' : 'false',
    onclick,
  }, label, extra ? h('span.delta', {}, extra) : null, disabled && !fixed ? h('span.off', {}, t('soldOut')) : null);
}

// ---------- cart sheet ----------

function toggleCartSheet() {
  if (document.querySelector('.cart-sheet')) return closeSheet();
  openCartSheet();
}

function openCartSheet() {
  if (!state.cart.lines.length) return closeSheet();
  let armed = false;
  const clear = h('button.clear', {
    type: 'button',
    dataset: { action: 'clear-cart' },
    onclick: () => {
      if (!armed) {
        armed = true;
        clear.textContent = t('clearConfirm');
        setTimeout(() => { armed = false; clear.textContent = t('clear'); }, 3000);
        return;
      }
      closeSheet();
      clearCart();
    },
  }, t('clear'));
  const scroll = document.querySelector('.cart-sheet .body')?.scrollTop || 0;
  const sheet = openSheet('cart-sheet',
    h('div.head', {}, h('h2', {}, t('cart'), state.shared ? h('small.shared', {}, t('sharedCart')) : null), clear),
    state.shared ? nicknameRow() : null,
    state.shared ? h('p.sync-state', { hidden: true, role: 'status' }) : null,
    h('div.body', {}, h('div.cart-lines', {}, state.cart.lines.map(renderCartLine))),
  );
  sheet.querySelector('.body').scrollTop = scroll;
  renderSyncState();
  document.body.classList.add('cart-open');
}

function renderCartLine(line) {
  const dish = state.dishes.get(line.dishId);
  const labels = dish ? Cart.choiceLabels(dish, line, nameOf) : [];
  const change = (quantity) => changeQuantity(line.key, quantity);
  const room = dish ? roomFor(dish, line.skuId) : 0;
  return h('div.cart-line' + (line.unavailable ? '.unavailable' : ''), { dataset: { key: line.key } },
    h('div.what', {},
      h('div.name', {}, dish ? dishName(dish) : '—'),
      labels.length ? h('div.choices', {}, labels.join('，')) : null,
      line.addedBy ? h('div.by' + (line.addedBy === me() ? '.mine' : ''), {}, addedByText(line.addedBy), line.pending ? h('span.pending', {}, ` · ${t('syncing')}`) : null) : null,
      line.unavailable ? h('div.gone', {}, t('unavailable')) : h('div.price', {}, yuan(line.unitFen * line.quantity))),
    line.unavailable
      ? null
      : h('div.stepper', {},
        h('button.minus', { type: 'button', 'aria-label': '−', onclick: () => change(line.quantity - 1) }, '−'),
        h('output', {}, line.quantity),
        h('button.plus', { type: 'button', 'aria-label': '+', disabled: room < 1, onclick: () => change(line.quantity + 1) }, '+')),
    h('button.delete', { type: 'button', dataset: { action: 'delete-line' }, 'aria-label': t('remove'), onclick: () => change(0) }, '✕'),
  );
}

// ---------- nickname (shared cart) ----------

function nicknameRow() {
  const input = h('input', { value: me(), maxLength: 12, name: 'nickname', 'aria-label': t('nickname'), enterkeyhint: 'done' });
  const saveName = () => {
    const name = input.value.trim().slice(0, 12);
    if (!name || name === me()) return;
    try {
      localStorage.setItem(NICK_KEY, name);
    } catch {
      state.tempNick = name;
    }
    toast(`${t('nickname')}：${name}`);
  };
  input.addEventListener('change', saveName);
  input.addEventListener('keydown', (e) => e.key === 'Enter' && input.blur());
  return h('label.nickname', {}, h('span', {}, t('nickname')), input);
}

/** Asked once per phone, at the first table visit: a nickname, with a ready default. */
function nicknamePrompt() {
  if (!state.shared) return null;
  try {
    if (localStorage.getItem(NICK_KEY + '.asked')) return null;
  } catch {
    return null;
  }
  const input = h('input', { value: me(), maxLength: 12, name: 'nickname', 'aria-label': t('nickname') });
  const box = h('form.nick-prompt', {
    onsubmit: (event) => {
      event.preventDefault();
      const name = input.value.trim().slice(0, 12) || me();
      try {
        localStorage.setItem(NICK_KEY, name);
        localStorage.setItem(NICK_KEY + '.asked', '1');
      } catch {
        // Nothing to remember it in.
      }
      box.remove();
    },
  }, h('p', {}, t('nicknameAsk')), h('div.row', {}, input, h('button.button', { type: 'submit', dataset: { action: 'save-nickname' } }, t('ok'))));
  return box;
}

start();
