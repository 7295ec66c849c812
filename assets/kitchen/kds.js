// The kitchen display: /kds (a station's tickets), /kds/expo (every station, bump the whole
// order) and /kds/pickup (the diners' 请 23 号取餐 screen, no login). Each follows its live
// stream, says 离线 within 5 s of losing the server and catches up when it is back. The rules
// live in kds-logic.js and live-feed.js; this module draws and sends.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { lang, setLang, translator, localized } from '../shared/i18n.js';
import { toast } from '../shared/toast.js';
import * as K from './kds-logic.js';
import { follow } from '../shared/live-feed.js';
import { say, unlock } from '../shared/voice.js';
import { chosenStore, loginForm } from './signin.js';

const t = translator({
  kds: ['后厨屏', 'Kitchen display'],
  expo: ['出品', 'Expo'],
  pickup: ['取餐屏', 'Pickup screen'],
  pickStore: ['选择门店', 'Choose a store'],
  noStore: ['您的账号没有关联门店，请联系店长', 'Your account has no store; ask your manager'],
  needStore: ['请在地址中带上门店：?store=<门店编号>', 'Add the store to the address: ?store=<store id>'],
  online: ['在线', 'Online'],
  offline: ['离线', 'Offline'],
  offlineHint: ['与服务器断开，正在重连…', 'Lost the server; reconnecting…'],
  recall: ['召回', 'Recall'],
  nothingToRecall: ['今天还没有出餐的单', 'Nothing bumped today yet'],
  bump: ['出餐', 'Bump'],
  hold: ['叫起', 'Hold'],
  fire: ['起菜', 'Fire'],
  held: ['已叫起', 'Held'],
  voided: ['已取消', 'Cancelled'],
  done: ['已划', 'Done'],
  addition: ['加菜', 'Added'],
  recalled: ['召回', 'Recalled'],
  dine_in: ['堂食', 'Dine-in'],
  pickup_channel: ['自取', 'Pickup'],
  delivery: ['外送', 'Delivery'],
  allDay: ['全天汇总', 'All day'],
  allDayEmpty: ['没有待做的菜', 'Nothing open'],
  heldCount: ['叫起 {n}', 'held {n}'],
  noTickets: ['暂无出餐单', 'No tickets'],
  allStations: ['全部档口', 'All stations'],
  noStation: ['后厨', 'Kitchen'],
  bumpOrder: ['整单出餐', 'Send order'],
  waitingStations: ['还差 {n} 个档口', '{n} station(s) to go'],
  orderSent: ['{label} 已通知取餐', '{label} is called'],
  stationDone: ['已出', 'Out'],
  stationLeft: ['剩 {n}', '{n} left'],
  pickupTitle: ['请取餐', 'Ready for pickup'],
  pickupEmpty: ['出餐后号码会显示在这里', 'Numbers appear here when ready'],
  soundOn: ['叫号语音已开', 'Announcements on'],
  soundOff: ['点此开启叫号语音', 'Tap to turn announcements on'],
  failed: ['没有完成：{message}', 'Not done: {message}'],
  keys: ['数字键选单 · Enter 出餐 · R 召回', 'Number keys select · Enter bumps · R recalls'],
});

const root = document.getElementById('app');
const params = new URLSearchParams(location.search);
const mode = location.pathname.replace(/\/$/, '').endsWith('/expo') ? 'expo' : location.pathname.replace(/\/$/, '').endsWith('/pickup') ? 'pickup' : 'station';
const STATION_KEY = 'diancan.kds.station';
const enc = encodeURIComponent;

const state = {
  me: null,
  store: null,
  stations: [],
  station: null,
  board: null,
  allDay: [],
  expo: null,
  calling: [],
  selected: null,
  pending: new Set(),
  online: true,
  offsetMs: 0,
  feed: null,
};

const now = () => Date.now() + state.offsetMs;
const channelText = (channel) => t(channel === 'pickup' ? 'pickup_channel' : channel);
const stationName = (id) => {
  const station = state.stations.find((s) => s.id === id);
  return station ? localized(station.name, station.name_en) : t('noStation');
};
const prepOf = (stationId) => state.stations.find((s) => s.id === stationId)?.prep || { amber_after_secs: 480, red_after_secs: 600 };

async function start() {
  setLang(lang());
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  if (mode === 'pickup') return startPickup();
  try {
    state.me = await get('auth/me');
  } catch (error) {
    if (error.status === 401) return showLogin();
    return showProblem(error.message);
  }
  chooseStore();
}

// ---------- sign-in and store ----------

function showLogin(message = '') {
  mount(root, h('main.center', {}, loginForm({ message, onSignedIn: (me) => { state.me = me; chooseStore(); } })));
}

function showProblem(text, ...more) {
  mount(root, h('main.center', {}, h('div.problem', {}, h('h1', {}, text), ...more)));
}

function chooseStore() {
  const stores = state.me.stores || [];
  const store = chosenStore(state.me);
  if (!store) {
    const links = stores.map((s) => h('a.store-link', { href: `${location.pathname}?store=${enc(s.id)}` }, s.name));
    return showProblem(stores.length ? t('pickStore') : t('noStore'), ...links);
  }
  state.store = store;
  if (mode === 'expo') startExpo();
  else startStation();
}

// ---------- the frame every screen shares ----------

function frame(title, extra, main) {
  const conn = h('div.conn', { id: 'conn', role: 'status', dataset: { online: String(state.online) } }, state.online ? t('online') : t('offline'));
  const clock = h('div.clock');
  els.conn = conn;
  els.clock = clock;
  mount(root,
    h('div.kds.mode-' + mode, {},
      h('header.kds-head', {},
        h('div.title', {}, h('h1', {}, title), state.store ? h('div.sub', {}, state.store.name) : null),
        ...extra,
        h('div.spacer'),
        conn,
        clock,
        h('button.small', { type: 'button', onclick: () => { setLang(lang() === 'en' ? 'zh' : 'en'); redraw(); } }, lang() === 'en' ? '中文' : 'EN')),
      h('div.offline-bar', { hidden: state.online }, t('offlineHint')),
      main));
  els.offlineBar = root.querySelector('.offline-bar');
  tick();
}

let els = {};
let redraw = () => {};

function setOnline(online) {
  state.online = online;
  if (els.conn) {
    els.conn.textContent = online ? t('online') : t('offline');
    els.conn.dataset.online = String(online);
  }
  if (els.offlineBar) els.offlineBar.hidden = online;
}

function tick() {
  if (els.clock) {
    els.clock.textContent = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(now()));
  }
  for (const card of root.querySelectorAll('[data-cooking-since]')) {
    const since = Number(card.dataset.cookingSince);
    const elapsed = card.querySelector('.elapsed');
    if (elapsed) elapsed.textContent = K.elapsedText(since, now());
    const status = K.prepStatus({ cooking_since_ms: since }, prepOf(card.dataset.stationId || null), now());
    if (status) card.dataset.prep = status;
    if (state.board && card.dataset.ticketId) card.classList.toggle('flash', K.isFlashing(state.board, card.dataset.ticketId, now()));
  }
}
setInterval(tick, 1000);

async function refreshAllDay() {
  const station = state.station ? `?station=${enc(state.station)}` : '';
  try {
    state.allDay = await get(`console/stores/${enc(state.store.id)}/kitchen/all-day${station}`);
    renderAllDay();
  } catch {
    // Offline: the panel keeps its last counts until the stream is back.
  }
}

let allDayQueued = false;
function queueAllDay() {
  if (allDayQueued) return;
  allDayQueued = true;
  setTimeout(() => {
    allDayQueued = false;
    refreshAllDay();
  }, 150);
}

function renderAllDay() {
  if (!els.allDay) return;
  mount(els.allDay,
    h('h2', {}, t('allDay')),
    state.allDay.length
      ? h('ul.all-day-list', {}, state.allDay.map((row) => h('li', { dataset: { dishId: row.dish_id } },
        h('span.dish', {}, row.dish_name),
        h('span.count', {}, `×${row.open}`),
        row.held ? h('span.held', {}, t('heldCount', { n: row.held })) : null)))
      : h('p.empty', {}, t('allDayEmpty')));
}

// ---------- a station's screen ----------

async function startStation() {
  let data;
  try {
    data = await get(`console/stores/${enc(state.store.id)}/kitchen/tickets`);
  } catch (error) {
    if (error.status === 401) return showLogin();
    return showProblem(t('failed', { message: error.message }));
  }
  state.offsetMs = data.now_ms - Date.now();
  state.stations = data.stations;
  const wanted = params.get('station') || localStorage.getItem(STATION_KEY);
  state.station = state.stations.find((s) => s.id === wanted)?.id || state.stations[0]?.id || null;
  state.board = K.createBoard(data, state.station);
  const stationQuery = state.station ? `?station=${enc(state.station)}` : '';
  try {
    state.board.bumped = await get(`console/stores/${enc(state.store.id)}/kitchen/bumped${stationQuery}`);
  } catch {
    state.board.bumped = [];
  }
  redraw = renderStation;
  renderStation();
  refreshAllDay();
  if (state.feed) state.feed.stop();
  state.feed = follow({
    url: `/api/v1/console/stores/${enc(state.store.id)}/kitchen/events`,
    after: state.board.lastEventId,
    // Offline longer than the server keeps the kitchen's log: read the tickets again.
    onReset: startStation,
    kinds: ['ticket.created', 'ticket.item_bumped', 'ticket.bumped', 'ticket.recalled', 'ticket.held', 'ticket.fired', 'ticket.voided', 'ticket.relabelled'],
    onEvent: (kind, payload, id) => {
      if (K.applyEvent(state.board, id, payload, now())) renderTickets();
      queueAllDay();
    },
    onOnline: (online) => {
      setOnline(online);
      if (online) queueAllDay();
    },
  });
}

function renderStation() {
  const tabs = h('nav.stations', {}, state.stations.map((s) => h('button' + (s.id === state.station ? '.current' : ''), {
    type: 'button',
    dataset: { stationId: s.id },
    'aria-pressed': String(s.id === state.station),
    onclick: () => {
      localStorage.setItem(STATION_KEY, s.id);
      const next = new URL(location.href);
      next.searchParams.set('station', s.id);
      history.replaceState(null, '', next);
      params.set('station', s.id);
      startStation();
    },
  }, localized(s.name, s.name_en))));
  const links = h('nav.modes', {},
    h('a.small', { href: `/kds/expo?store=${enc(state.store.id)}` }, t('expo')),
    h('a.small', { href: `/kds/pickup?store=${enc(state.store.id)}` }, t('pickup')));
  const recall = h('button.small.recall', { type: 'button', dataset: { action: 'recall' }, onclick: recallLast }, `${t('recall')} (R)`);
  els.tickets = h('section.tickets', { 'aria-label': t('kds') });
  els.allDay = h('aside.all-day', { 'aria-label': t('allDay') });
  frame(t('kds'), [tabs, links, recall],
    h('div.kds-main', {}, els.tickets, els.allDay),
  );
  root.querySelector('.kds').append(h('footer.keys', {}, t('keys')));
  renderTickets();
  renderAllDay();
}

function renderTickets() {
  if (!els.tickets) return;
  const tickets = K.orderedTickets(state.board);
  if (state.selected && !state.board.open.has(state.selected)) state.selected = null;
  mount(els.tickets, tickets.length
    ? tickets.map((ticket, index) => ticketCard(ticket, index))
    : h('p.empty.no-tickets', {}, t('noTickets')));
  tick();
}

function ticketCard(ticket, index) {
  const flashing = K.isFlashing(state.board, ticket.id, now());
  const status = K.prepStatus(ticket, prepOf(ticket.station_id), now());
  const classes = ['article.ticket'];
  if (flashing) classes.push('flash');
  if (state.pending.has(ticket.id)) classes.push('pending');
  if (state.selected === ticket.id) classes.push('selected');
  const dataset = { ticketId: ticket.id, state: ticket.state, version: String(ticket.version), label: ticket.label };
  if (status) dataset.prep = status;
  if (ticket.cooking_since_ms !== null && ticket.cooking_since_ms !== undefined) dataset.cookingSince = String(ticket.cooking_since_ms);
  if (ticket.station_id) dataset.stationId = ticket.station_id;
  return h(classes.join('.'), { dataset },
    h('button.ticket-head', { type: 'button', dataset: { action: 'bump-ticket' }, title: t('bump'), onclick: () => send(ticket, { command: 'bump_ticket', seen: ticket.version }) },
      h('span.place', {}, String(index + 1)),
      h('span.label', {}, K.ticketLabel(ticket)),
      h('span.channel', {}, channelText(ticket.channel)),
      ticket.round > 1 ? h('span.tag.addition', {}, t('addition')) : null,
      ticket.state === 'recalled' ? h('span.tag.recalled', {}, t('recalled')) : null,
      h('span.elapsed', {}, K.elapsedText(ticket.cooking_since_ms, now()))),
    h('ul.items', {}, ticket.items.map((item) => itemRow(ticket, item))),
    h('button.bump', { type: 'button', dataset: { action: 'bump' }, onclick: () => send(ticket, { command: 'bump_ticket', seen: ticket.version }) }, `${t('bump')} ✓`));
}

function itemRow(ticket, item) {
  const actions = K.itemActions(ticket, item);
  const mark = { voided: t('voided'), held: t('held'), done: t('done') }[item.state];
  return h('li.item.' + item.state, { dataset: { line: String(item.line), state: item.state } },
    h('button.item-main', {
      type: 'button',
      disabled: !actions.includes('bump_item'),
      onclick: () => send(ticket, K.commandFor('bump_item', ticket, item)),
    },
    h('span.qty', {}, `${item.quantity}×`),
    h('span.name', {}, item.dish_name),
    mark ? h('span.mark', {}, mark) : null),
    item.specs.length || item.note
      ? h('div.specs', {}, item.specs.join(' · '), item.note ? h('span.note', {}, `「${item.note}」`) : null)
      : null,
    actions.filter((a) => a !== 'bump_item').map((action) => h('button.item-action', {
      type: 'button',
      dataset: { action },
      onclick: () => send(ticket, K.commandFor(action, ticket, item)),
    }, t(action))));
}

/** Sends a command at once (the card dims), then shows the ticket as the server answered. */
async function send(ticket, body) {
  if (state.pending.has(ticket.id)) return;
  state.pending.add(ticket.id);
  renderTickets();
  try {
    const answer = await post(`console/stores/${enc(state.store.id)}/kitchen/tickets/${enc(ticket.id)}/commands`, body);
    K.putTicket(state.board, answer);
  } catch (error) {
    // A refusal carries the ticket as it is now: show that, and say why.
    if (error.ticket) K.putTicket(state.board, error.ticket);
    if (error.status === 401) return showLogin(error.message);
    toast(t('failed', { message: error.message }), { ms: 3500 });
  } finally {
    state.pending.delete(ticket.id);
    renderTickets();
  }
}

function recallLast() {
  const last = K.lastBumped(state.board);
  if (!last) return toast(t('nothingToRecall'));
  send(last, { command: 'recall', seen: last.version });
}

document.addEventListener('keydown', (event) => {
  if (mode !== 'station' || !state.board || event.target.closest?.('input, textarea')) return;
  const tickets = K.orderedTickets(state.board);
  const action = K.keyAction(event.key, tickets.length);
  if (!action) return;
  event.preventDefault();
  if (action.type === 'select') {
    state.selected = tickets[action.index].id;
    renderTickets();
  } else if (action.type === 'bump') {
    const ticket = state.board.open.get(state.selected);
    if (ticket) send(ticket, { command: 'bump_ticket', seen: ticket.version });
  } else if (action.type === 'recall') {
    recallLast();
  }
});

// ---------- expo ----------

async function startExpo() {
  try {
    const first = await get(`console/stores/${enc(state.store.id)}/kitchen/expo`);
    state.offsetMs = first.now_ms - Date.now();
    state.expo = first;
    state.stations = first.stations;
  } catch (error) {
    if (error.status === 401) return showLogin();
    return showProblem(t('failed', { message: error.message }));
  }
  redraw = renderExpo;
  renderExpo();
  refreshAllDay();
  if (state.feed) state.feed.stop();
  state.feed = follow({
    url: `/api/v1/console/stores/${enc(state.store.id)}/kitchen/expo/events`,
    kinds: ['expo'],
    onEvent: (kind, expo) => {
      state.expo = expo;
      state.stations = expo.stations;
      renderExpoOrders();
      queueAllDay();
    },
    onOnline: setOnline,
  });
}

function renderExpo() {
  const links = h('nav.modes', {},
    h('a.small', { href: `/kds?store=${enc(state.store.id)}` }, t('kds')),
    h('a.small', { href: `/kds/pickup?store=${enc(state.store.id)}` }, t('pickup')));
  els.tickets = h('section.tickets.expo-orders', { 'aria-label': t('expo') });
  els.allDay = h('aside.all-day', { 'aria-label': t('allDay') });
  frame(t('expo'), [h('span.all-stations', {}, t('allStations')), links], h('div.kds-main', {}, els.tickets, els.allDay));
  renderExpoOrders();
  renderAllDay();
}

function renderExpoOrders() {
  if (!els.tickets) return;
  const orders = state.expo?.orders || [];
  mount(els.tickets, orders.length ? orders.map(expoCard) : h('p.empty.no-tickets', {}, t('noTickets')));
  tick();
}

function expoCard(order) {
  const label = order.table_code || `#${order.pickup_number}`;
  const ready = order.expo.ready;
  const waiting = order.expo.tickets - order.expo.bumped;
  const oldest = order.tickets.map((t) => t.cooking_since_ms).filter((v) => v !== null && v !== undefined).sort((a, b) => a - b)[0];
  const dataset = { orderId: order.order_id, ready: String(ready), label };
  if (oldest !== undefined) dataset.cookingSince = String(oldest);
  return h('article.ticket.expo' + (ready ? '.ready' : '') + (state.pending.has(order.order_id) ? '.pending' : ''), { dataset },
    h('div.ticket-head', {},
      h('span.label', {}, label),
      h('span.channel', {}, channelText(order.channel)),
      order.round > 1 ? h('span.tag.addition', {}, t('addition')) : null,
      h('span.elapsed', {}, K.elapsedText(oldest, now()))),
    h('ul.stations-of-order', {}, order.tickets.map((ticket) => {
      const left = ticket.items.filter((i) => ['waiting', 'held', 'fired'].includes(i.state)).length;
      return h('li' + (ticket.state === 'bumped' ? '.out' : ''), { dataset: { ticketId: ticket.id, state: ticket.state } },
        h('span.station', {}, stationName(ticket.station_id)),
        h('span.items', {}, ticket.items.map((i) => `${i.dish_name}×${i.quantity}`).join('、')),
        h('span.state', {}, ticket.state === 'bumped' ? `✓ ${t('stationDone')}` : t('stationLeft', { n: left })));
    })),
    h('button.bump', {
      type: 'button',
      dataset: { action: 'bump-order' },
      disabled: !ready,
      onclick: () => bumpOrder(order, label),
    }, ready ? `${t('bumpOrder')} ✓` : t('waitingStations', { n: waiting })));
}

async function bumpOrder(order, label) {
  if (state.pending.has(order.order_id)) return;
  state.pending.add(order.order_id);
  renderExpoOrders();
  try {
    await post(`console/stores/${enc(state.store.id)}/orders/${enc(order.order_id)}/actions`, { action: 'mark_ready', version: order.order_version });
    toast(t('orderSent', { label }));
  } catch (error) {
    toast(t('failed', { message: error.message }), { ms: 3500 });
  } finally {
    state.pending.delete(order.order_id);
    renderExpoOrders();
  }
}

// ---------- the pickup screen ----------

const spokenKey = () => `diancan.kds.spoken.${params.get('store')}`;
let soundOn = false;

function startPickup() {
  const storeId = params.get('store');
  if (!storeId) return showProblem(t('needStore'));
  redraw = renderPickup;
  renderPickup();
  follow({
    url: `/api/v1/stores/${enc(storeId)}/pickup/events`,
    kinds: ['pickup'],
    onEvent: (kind, data) => {
      state.calling = data.calling;
      renderCalls();
      announce();
    },
    onOnline: setOnline,
  });
}

function renderPickup() {
  const sound = h('button.small.sound', {
    type: 'button',
    dataset: { sound: String(soundOn) },
    onclick: () => {
      // Browsers speak only after a tap on the page: this is that tap.
      soundOn = true;
      unlock();
      sound.dataset.sound = 'true';
      sound.textContent = t('soundOn');
      announce();
    },
  }, soundOn ? t('soundOn') : t('soundOff'));
  els.calls = h('section.calls', { 'aria-live': 'polite' });
  frame(t('pickupTitle'), [sound], els.calls);
  renderCalls();
}

function renderCalls() {
  if (!els.calls) return;
  const calling = state.calling;
  const newest = calling[calling.length - 1];
  mount(els.calls, calling.length
    ? [h('div.call-now', {}, K.callText(newest, lang())),
      h('ul.numbers', {}, calling.map((n) => h('li' + (n === newest ? '.newest' : ''), { dataset: { number: String(n) } }, String(n))))]
    : h('p.empty', {}, t('pickupEmpty')));
}

/** Speaks each number once on this screen: a reload or a reconnect does not repeat it. */
function announce() {
  if (!soundOn || typeof speechSynthesis === 'undefined') return;
  const { speak, remember } = K.newCalls(state.calling, JSON.parse(localStorage.getItem(spokenKey()) || '[]'));
  for (const number of speak) say(K.callText(number, lang()), lang());
  localStorage.setItem(spokenKey(), JSON.stringify(remember));
}

start();
