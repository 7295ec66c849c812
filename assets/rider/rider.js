// The rider's phone at /rider?store=<id>: sign in, see the deliveries given to you with the
// diner's address and phone (tap to call), and tap 取货 when you leave with the food and 送达
// when the diner has it. The list refreshes every 10 s and whenever the page comes back.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { lang, setLang, translator } from '../shared/i18n.js';
import { yuan } from '../shared/money.js';
import { toast } from '../shared/toast.js';
import { nextStep, telLink, sortDeliveries, minutesSince } from './rider-logic.js';

const t = translator({
  title: ['我的配送', 'My deliveries'],
  signInTitle: ['骑手登录', 'Rider sign-in'],
  login: ['账号', 'Login'],
  password: ['密码', 'Password'],
  signIn: ['登录', 'Sign in'],
  logout: ['退出', 'Sign out'],
  pickStore: ['选择门店', 'Choose a store'],
  noStore: ['您的账号没有关联门店，请联系店长', 'Your account has no store; ask your manager'],
  empty: ['暂时没有派给您的订单', 'No deliveries for you right now'],
  emptyHint: ['店里派单后会出现在这里', 'Orders given to you appear here'],
  number: ['#{n}', '#{n}'],
  items: ['{n} 件', '{n} items'],
  since: ['{n} 分钟前派单', 'given {n} min ago'],
  call: ['拨打', 'Call'],
  noAddress: ['（无地址）', '(no address)'],
  note: ['备注：{text}', 'Note: {text}'],
  pickUp: ['已取货，出发', 'Picked up, leaving'],
  deliver: ['已送达', 'Delivered'],
  waitReady: ['等待出餐', 'Waiting for the kitchen'],
  onTheWay: ['配送中', 'On the way'],
  assigned: ['待取货', 'To pick up'],
  done: ['已更新', 'Updated'],
  failed: ['加载失败：{message}', 'Could not load: {message}'],
  retry: ['重试', 'Retry'],
  refresh: ['刷新', 'Refresh'],
});

const root = document.getElementById('app');
const state = { me: null, store: null, items: [], busy: new Set() };
let timer = null;

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

function showLogin(message = '') {
  stop();
  const error = h('p.error', { role: 'alert' }, message);
  const button = h('button.primary', { type: 'submit' }, t('signIn'));
  const form = h('form.login', {
    onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      button.disabled = true;
      error.textContent = '';
      try {
        await post('auth/login', { login: String(data.get('login')).trim(), password: String(data.get('password')) });
        state.me = await get('auth/me');
        chooseStore();
      } catch (failure) {
        error.textContent = failure.message;
        button.disabled = false;
      }
    },
  },
  h('h1', {}, t('signInTitle')),
  h('label', {}, t('login'), h('input', { name: 'login', autocomplete: 'username', required: true, autocapitalize: 'off' })),
  h('label', {}, t('password'), h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
  error, button);
  mount(root, h('main.signin', {}, form));
}

function chooseStore() {
  const stores = state.me.stores || [];
  const wanted = new URLSearchParams(location.search).get('store');
  const store = stores.find((s) => s.id === wanted) || (!wanted && stores.length === 1 ? stores[0] : null);
  if (!store) {
    return mount(root, h('main.pick', {},
      h('h1', {}, stores.length ? t('pickStore') : t('noStore')),
      stores.map((s) => h('a.store-link', { href: `/rider?store=${encodeURIComponent(s.id)}` }, s.name))));
  }
  state.store = store;
  load();
  stop();
  timer = setInterval(load, 10000);
}

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
}

async function load() {
  try {
    state.items = sortDeliveries(await get(`console/stores/${encodeURIComponent(state.store.id)}/rider/deliveries`));
    render();
  } catch (error) {
    if (error.status === 401) return showLogin();
    showFailure(error);
  }
}

function showFailure(error) {
  mount(root, h('main.failure', {},
    h('p', {}, t('failed', { message: error.message })),
    h('button.primary', { onclick: () => start() }, t('retry'))));
}

async function act(item, step) {
  const id = item.delivery.id;
  if (state.busy.has(id)) return;
  state.busy.add(id);
  render();
  const path = step === 'pick_up' ? 'pick-up' : 'deliver';
  try {
    await post(`console/stores/${encodeURIComponent(state.store.id)}/deliveries/${encodeURIComponent(id)}/${path}`);
    toast(t('done'));
  } catch (error) {
    toast(error.message, { ms: 3500 });
  } finally {
    state.busy.delete(id);
  }
  load();
}

function card(item) {
  const { delivery, order } = item;
  const step = nextStep(delivery, order);
  const tel = telLink(item.phone);
  const busy = state.busy.has(delivery.id);
  const items = (order.quote?.lines || []).map((line) => h('li', {}, `${line.dish_name}${line.sku_name ? `（${line.sku_name}）` : ''} ×${line.quantity}`));
  let action = null;
  if (step === 'pick_up') action = h('button.primary.wide', { disabled: busy, onclick: () => act(item, 'pick_up') }, t('pickUp'));
  else if (step === 'deliver') action = h('button.primary.wide.go', { disabled: busy, onclick: () => act(item, 'deliver') }, t('deliver'));
  else if (step === 'wait_ready') action = h('button.wide', { disabled: true }, t('waitReady'));
  return h('article.delivery', { dataset: { id: delivery.id, state: delivery.state } },
    h('header', {},
      h('span.number', {}, t('number', { n: order.pickup_number })),
      h('span.badge', {}, delivery.state === 'picked_up' ? t('onTheWay') : t('assigned')),
      h('span.since', {}, t('since', { n: minutesSince(delivery.created_at_ms, Date.now()) }))),
    h('p.address', {}, item.address || t('noAddress')),
    h('div.contact', {},
      h('span', {}, item.contact_name || ''),
      tel ? h('a.call', { href: tel }, `${t('call')} ${item.phone}`) : h('span', {}, item.phone || '')),
    h('ul.lines', {}, items),
    h('p.total', {}, `${t('items', { n: order.quote?.item_count ?? 0 })} · ${yuan(order.quote?.total_fen ?? 0)}`),
    order.note ? h('p.note', {}, t('note', { text: order.note })) : null,
    action);
}

function render() {
  const list = state.items.length
    ? state.items.map(card)
    : [h('div.empty', {}, h('p', {}, t('empty')), h('p.hint', {}, t('emptyHint')))];
  mount(root,
    h('header.top', {},
      h('h1', {}, t('title')),
      h('span.store', {}, state.store.name),
      h('button.link', { onclick: load }, t('refresh')),
      h('button.link', { onclick: async () => { try { await post('auth/logout'); } catch { /* signed out anyway */ } showLogin(); } }, t('logout'))),
    h('main.list', {}, list));
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.store) load();
});

start();
