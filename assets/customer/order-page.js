// The order page (#order=<id>): big status with steps, pickup number, estimated time, items,
// 催单 / 加菜 / 取消, kept live by the order's SSE stream. Also 我的订单 (#orders) with the
// optional phone login.

import { h, mount } from '../shared/dom.js';
import { yuan } from '../shared/money.js';
import { get, post } from '../shared/api.js';
import { lang, translator } from '../shared/i18n.js';
import { toast } from '../shared/toast.js';
import * as O from './ordering.js';

const t = translator({
  order: ['订单详情', 'Order'],
  back: ['返回菜单', 'Menu'],
  myOrders: ['我的订单', 'My orders'],
  placed: ['已下单', 'Placed'],
  accepted: ['已接单', 'Accepted'],
  preparing: ['制作中', 'Preparing'],
  ready: ['请取餐', 'Ready'],
  served: ['已上菜', 'Served'],
  out_for_delivery: ['配送中', 'On the way'],
  awaiting_payment: ['待支付', 'Awaiting payment'],
  cancelled: ['已取消', 'Cancelled'],
  completed: ['已完成', 'Completed'],
  picked_up: ['已取餐', 'Picked up'],
  pickupNumber: ['取餐号', 'Pickup no.'],
  tableNo: ['桌号', 'Table'],
  round: ['第 {n} 轮点菜', 'Round {n}'],
  readyBy: ['预计 {time} 完成', 'Ready about {time}'],
  minutes: ['约 {n} 分钟', 'about {n} min'],
  payBy: ['请在 {time} 前付款，超时自动取消', 'pay by {time} or it is cancelled'],
  logout: ['退出登录', 'Log out'],
  hintPayDelivery: ['在线支付即将开放，门店会联系您付款', 'Online payment is coming; the store will contact you to pay'],
  hintCooking: ['后厨正在准备，请稍候', 'The kitchen is on it'],
  hintPlaced: ['商家确认后开始制作', 'The store will confirm shortly'],
  hintPay: ['请到收银台付款，付款后后厨开始制作', 'Please pay at the counter; the kitchen starts once paid'],
  hintPayOnline: ['请完成支付，支付后后厨开始制作', 'Please pay; the kitchen starts once paid'],
  payWith: ['{name}支付 {amount}', 'Pay {amount} with {name}'],
  wechat_pay: ['微信', 'WeChat Pay'],
  alipay: ['支付宝', 'Alipay'],
  paying: ['正在前往支付…', 'Opening the payment…'],
  scanToPay: ['请用{name}扫码支付', 'Scan with {name} to pay'],
  payByBalance: ['余额支付 {amount}（余额 {balance}）', 'Pay {amount} from balance ({balance} left)'],
  useBalance: ['余额抵扣 {amount}', 'Use {amount} of my balance'],
  hintReadyPickup: ['请凭取餐号到前台取餐', 'Show your number at the counter'],
  hintReadyDine: ['菜品马上上桌', 'Your food is on its way to the table'],
  hintCancelled: ['订单已取消', 'This order was cancelled'],
  hintCancelledWhy: ['商家已取消订单：{reason}。已付款项将原路退回', 'The store cancelled this order: {reason}. Any payment is refunded'],
  cancelRequested: ['已申请取消，等待商家确认', 'Cancellation requested; waiting for the store'],
  hurry: ['催单', 'Hurry up'],
  hurried: ['已提醒商家尽快出餐', 'We asked the kitchen to hurry'],
  hurryTooSoon: ['刚刚催过了，请稍后再试', 'You just asked; try again a bit later'],
  addMore: ['加菜', 'Order more'],
  cancel: ['取消订单', 'Cancel order'],
  requestCancel: ['申请取消', 'Ask to cancel'],
  cancelConfirm: ['确认取消？', 'Really cancel?'],
  cancelledToast: ['订单已取消', 'Order cancelled'],
  requestedToast: ['已提交取消申请', 'Cancellation requested'],
  items: ['商品小计', 'Items'],
  packingFee: ['打包费', 'Packing'],
  seatFee: ['餐位费', 'Seat fee'],
  deliveryFee: ['配送费', 'Delivery fee'],
  total: ['合计', 'Total'],
  orderId: ['订单号', 'Order no.'],
  placedAt: ['下单时间', 'Placed at'],
  live: ['实时更新中', 'Live'],
  offline: ['连接中断，正在重连…', 'Reconnecting…'],
  notFound: ['找不到这个订单', 'Order not found'],
  otherPhone: ['无法在这部手机上打开这个订单：请在下单的手机上查看，或登录下单时的账号后在“我的订单”中查看。',
    'This order cannot be opened on this phone: open it on the phone it was ordered from, or log in with the account that ordered it and look under My orders.'],
  loadFailed: ['订单加载失败', 'Could not load the order'],
  retry: ['重试', 'Retry'],
  noOrders: ['还没有订单', 'No orders yet'],
  onThisPhone: ['本机下过的订单', 'Orders placed on this phone'],
  login: ['登录', 'Log in'],
  loginHint: ['登录后可查看历史订单（可选，不登录也能点餐）', 'Log in to see your order history (optional; you can order as a guest)'],
  phone: ['手机号', 'Mobile'],
  code: ['验证码', 'Code'],
  sendCode: ['获取验证码', 'Send code'],
  resend: ['{n} 秒后重发', 'Resend in {n}s'],
  codeSent: ['验证码已发送', 'Code sent'],
  loggedIn: ['已登录 {phone}', 'Logged in as {phone}'],
  loginUnavailable: ['登录暂未开放', 'Login is not available yet'],
  badPhone: ['请输入 11 位手机号', 'Enter an 11-digit mobile number'],
  dine_in: ['堂食', 'Dine-in'],
  pickup: ['自取', 'Pickup'],
  delivery: ['外卖', 'Delivery'],
});

let current = null;

function shell(title, ctx, ...body) {
  document.querySelector('.page-view.order-view')?.remove();
  const root = h('div.page-view.order-view', { role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
    h('header.view-head', {},
      h('button.back', { type: 'button', onclick: () => ctx.backToMenu(), 'aria-label': t('back') }, '‹'),
      h('h1', {}, title),
      h('span'),
    ),
    h('div.view-body', {}, ...body),
  );
  document.body.append(root);
  return root;
}

export function closeOrderViews() {
  current?.stop();
  current = null;
  document.querySelector('.page-view.order-view')?.remove();
}

// ---------- one order ----------

function setZone(ctx) {
  storeZone = ctx.state.menu?.store?.time_zone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: storeZone });
  } catch {
    storeZone = undefined;
  }
}

export function openOrder(ctx, id) {
  closeOrderViews();
  setZone(ctx);
  const body = h('div.order-content', {}, h('div.skeleton-card'));
  const live = h('span.live');
  const root = shell(t('order'), ctx, body);
  root.querySelector('.view-head span:last-child').replaceWith(live);
  // A guest's key to the order; a signed-in diner's session is theirs, so it may be absent.
  const secret = ctx.secretOf(id);
  const page = { id, order: null, source: null, poll: null, fetching: false, again: false, stopped: false, armed: false, providers: null, qr: null, balance: null, useBalance: false };
  current = page;
  page.stop = () => {
    page.stopped = true;
    page.source?.close();
    clearInterval(page.poll);
  };

  async function refresh() {
    if (page.fetching) {
      page.again = true;
      return;
    }
    page.fetching = true;
    try {
      const order = await get(`orders/${encodeURIComponent(id)}`, { headers: O.secretHeaders(secret) });
      if (page.stopped) return;
      if (order.channel === 'delivery') {
        const found = await get(`orders/${encodeURIComponent(id)}/delivery`, { headers: O.secretHeaders(secret) }).catch(() => null);
        if (found) page.delivery = found.delivery;
      }
      // Events can overtake each other; never show an older version over a newer one.
      if (!page.order || (order.version ?? 0) >= (page.order.version ?? 0)) page.order = order;
      ctx.rememberOrder(order);
      if (order.status === 'awaiting_payment' && !page.providers) await loadProviders();
      render();
    } catch (error) {
      if (page.stopped) return;
      if (!page.order) {
        // 404 is also the answer without this phone's key (a link opened on another phone):
        // say so, and stop listening to a stream that will not open either.
        if (error.status === 404) page.stop();
        const missing = error.status === 404 ? (secret ? t('notFound') : t('otherPhone')) : null;
        mount(body, h('div.card.errors', { dataset: { error: error.status === 404 ? (secret ? 'not-found' : 'other-phone') : 'load-failed' } },
          h('p', {}, missing || `${t('loadFailed')}：${error.message}`),
          error.status === 404 ? null : h('button.button.secondary', { type: 'button', onclick: refresh }, t('retry'))));
      }
    } finally {
      page.fetching = false;
      if (page.again && !page.stopped) {
        page.again = false;
        refresh();
      }
    }
  }

  // The gateways this store offers, asked once while the order waits for its money.
  async function loadProviders() {
    try {
      const options = await get(`orders/${encodeURIComponent(id)}/payments`, { headers: O.secretHeaders(secret) });
      page.providers = options.providers || [];
    } catch {
      page.providers = [];
    }
    // 余额 only for a signed-in diner (the session cookie goes along; a guest gets 401).
    try {
      const balance = await get('customer/balance?limit=1');
      page.balance = balance.available_fen ?? 0;
    } catch {
      page.balance = null;
    }
  }

  async function payByBalance(button) {
    button.disabled = true;
    try {
      const paid = await post(`orders/${encodeURIComponent(id)}/balance-payment`, {}, { headers: O.secretHeaders(secret) });
      page.order = paid.order;
      page.balance = paid.available_fen;
    } catch (error) {
      toast(error.message);
      if (error.order) page.order = error.order;
    }
    render();
  }

  async function pay(provider, button) {
    button.disabled = true;
    button.textContent = t('paying');
    try {
      const back = `${location.pathname}${location.search}#order=${encodeURIComponent(id)}`;
      const started = await post(`orders/${encodeURIComponent(id)}/payments`,
        { provider, how: 'browser', return_path: back, use_balance: page.useBalance }, { headers: O.secretHeaders(secret) });
      const next = started.next || {};
      if (started.simulator_url) return location.assign(started.simulator_url);
      if (next.kind === 'redirect') return location.assign(next.url);
      if (next.kind === 'wechat_bridge' && window.WeixinJSBridge) {
        return window.WeixinJSBridge.invoke('getBrandWCPayRequest', next.params, () => refresh());
      }
      if (next.kind === 'qr_code') {
        page.qr = { provider, code: next.code };
        render();
      }
    } catch (error) {
      toast(error.message);
      if (error.order) page.order = error.order;
      render();
    }
  }

  function listen() {
    if (typeof EventSource === 'undefined') {
      page.poll = setInterval(refresh, 10000);
      return;
    }
    const source = new EventSource(O.eventsUrl(id, secret));
    page.source = source;
    const onEvent = () => refresh();
    for (const type of ['order.placed', 'order.status', 'order.hurry', 'order.cancel_requested', 'order.cancel_declined', 'order.updated', 'order.table_changed', 'order.delivery']) {
      source.addEventListener(type, onEvent);
    }
    source.onmessage = onEvent;
    source.onopen = () => {
      live.textContent = t('live');
      live.className = 'live on';
      refresh();
    };
    source.onerror = () => {
      live.textContent = t('offline');
      live.className = 'live off';
      // A closed stream (endpoint missing, order gone) does not come back by itself: poll.
      if (source.readyState === EventSource.CLOSED && !page.poll) page.poll = setInterval(refresh, 10000);
    };
  }

  function render() {
    const o = page.order;
    if (!o) return;
    const status = o.status;
    const steps = O.orderSteps(o.channel, status);
    const q = o.quote || { lines: [], discounts: [] };
    const stepLabel = (code, state) => {
      if (code === 'placed' && status === 'awaiting_payment') return t('awaiting_payment');
      if (state === 'current' && status === 'ready' && o.channel === 'dine_in') return lang() === 'en' ? 'Coming' : '待上菜';
      if (state === 'current' && status === 'ready' && o.channel === 'delivery') return lang() === 'en' ? 'Awaiting rider' : '待配送';
      return t(code);
    };
    const delivered = o.channel === 'delivery' && status === 'completed' && page.delivery?.state === 'delivered';
    const label = delivered ? O.deliveryLine(page.delivery, lang())
      : status === 'ready' && o.channel !== 'pickup' ? stepLabel(O.orderSteps(o.channel, status)[3].code, 'current')
      : lang() === 'en' ? t(status) : o.status_label || t(status);
    const deliveryText = o.channel === 'delivery' && status !== 'cancelled' && !delivered ? O.deliveryLine(page.delivery, lang()) : null;
    const hint = o.cancel_requested && status !== 'cancelled' ? t('cancelRequested')
      : status === 'awaiting_payment' ? (page.providers?.length ? t('hintPayOnline') : o.channel === 'delivery' ? t('hintPayDelivery') : t('hintPay')) + (o.pay_by_ms ? ` · ${t('payBy', { time: clock(o.pay_by_ms) })}` : '')
      : status === 'placed' ? t('hintPlaced')
      : status === 'ready' ? (o.channel === 'dine_in' ? t('hintReadyDine') : t('hintReadyPickup'))
      : status === 'cancelled' ? (o.cancel_reason ? t('hintCancelledWhy', { reason: o.cancel_reason }) : t('hintCancelled'))
      : eta(o) || (status === 'accepted' || status === 'preparing' ? t('hintCooking') : '');
    const actions = [];
    const total = o.quote?.total_fen ?? 0;
    const balance = status === 'awaiting_payment' && page.balance > 0 ? page.balance : 0;
    const covers = balance >= total && total > 0;
    // Combined payment: the balance first, the gateway the rest.
    const rest = page.useBalance && !covers ? total - balance : total;
    const balanceChoice = !balance ? null
      : covers ? h('button.button.pay.balance', { type: 'button', dataset: { action: 'pay-balance' }, onclick: (e) => payByBalance(e.currentTarget) },
        t('payByBalance', { amount: yuan(total), balance: yuan(balance) }))
        : page.providers?.length ? h('label.use-balance', {},
          h('input', { type: 'checkbox', checked: page.useBalance, dataset: { action: 'use-balance' }, onchange: (e) => { page.useBalance = e.currentTarget.checked; render(); } }),
          h('span', {}, t('useBalance', { amount: yuan(balance) })))
          : null;
    const payButtons = status === 'awaiting_payment' && (page.providers?.length || balanceChoice)
      ? h('div.pay-methods', {}, balanceChoice, covers ? null : (page.providers || []).map((provider) => h(`button.button.pay.${provider.replace('_', '-')}`, {
        type: 'button',
        dataset: { action: 'pay', provider },
        onclick: (e) => pay(provider, e.currentTarget),
      }, t('payWith', { name: t(provider), amount: yuan(rest) }))),
      page.qr ? h('div.pay-qr', {}, h('p', {}, t('scanToPay', { name: t(page.qr.provider) })), h('code', {}, page.qr.code)) : null)
      : null;
    if (o.can_hurry) {
      actions.push(h('button.button.secondary', { type: 'button', dataset: { action: 'hurry' }, onclick: hurry }, t('hurry')));
    }
    if (o.channel === 'dine_in' && !O.isFinal(status) && ctx.canAddMore(o)) {
      actions.push(h('button.button.secondary', { type: 'button', dataset: { action: 'add-more' }, onclick: () => ctx.backToMenu() }, t('addMore')));
    }
    if (o.can_cancel && !o.cancel_requested) {
      const direct = status === 'placed' || status === 'awaiting_payment';
      actions.push(h('button.button.secondary.danger', {
        type: 'button',
        dataset: { action: 'cancel' },
        onclick: (e) => cancel(e.currentTarget, direct),
      }, direct ? t('cancel') : t('requestCancel')));
    }
    const row = (name, value, cls = 'row') => h('div', { class: cls }, h('span', {}, name), h('span', {}, value));
    mount(body,
      h('section.card.status-card', {},
        h('div', { id: 'order-status', dataset: { status }, 'aria-live': 'polite' },
          h('h2.status-label', {}, label),
          deliveryText ? h('p.delivery-state', { dataset: { delivery: page.delivery.state } }, deliveryText) : null,
          h('p.status-hint', {}, hint || '')),
        status === 'cancelled' ? null : h('ol.steps', {}, steps.map((s) => h('li', { class: 'step ' + s.state, dataset: { step: s.code } },
          h('span.dot'), h('span.step-label', {}, stepLabel(s.code, s.state))))),
        o.pickup_number ? h('div.number', {},
          h('span.caption', {}, t('pickupNumber')),
          h('span.pickup-number', {}, o.pickup_number)) : null,
        o.table_code ? h('p.where', {}, `${t('tableNo')} ${o.area_name || ''} ${o.table_code}` + (o.round > 1 ? ` · ${t('round', { n: o.round })}` : '')) : null,
        payButtons,
        actions.length ? h('div.actions', {}, actions) : null),
      h('section.card.breakdown', {},
        q.lines.map((l) => h('div.q-line', {},
          h('div.what', {},
            h('div.name', {}, O.lineName(l, (ctx.state.dishes.get(l.dish_id)?.skus.length ?? 2) > 1), h('span.qty', {}, ` ×${l.quantity}`)),
            l.options.length || l.combo_items?.length
              ? h('div.choices', {}, [...l.options.map(O.optionName), ...(l.combo_items || []).map(O.comboItemName)].join(lang() === 'en' ? ', ' : '，'))
              : null,
            l.note ? h('div.choices', {}, l.note) : null),
          h('div.amount', {}, yuan(l.line_total_fen)))),
        row(t('items'), yuan(q.subtotal_fen ?? 0), 'row subtotal'),
        q.packing_fee_fen ? row(t('packingFee'), yuan(q.packing_fee_fen)) : null,
        q.seat_fee_fen ? row(t('seatFee'), yuan(q.seat_fee_fen)) : null,
        q.delivery_fee_fen ? row(t('deliveryFee'), yuan(q.delivery_fee_fen)) : null,
        q.discounts.map((d) => h('div.row.discount', {}, h('span', {}, d.label), h('span', {}, '-' + yuan(d.amount_fen)))),
        h('div.row.total', {}, h('span', {}, t('total')), h('span.price', {}, yuan(q.total_fen ?? 0)))),
      h('section.card.meta', {},
        row(t('orderId'), h('code', {}, o.id)),
        row(t('placedAt'), dateTime(o.placed_at_ms)),
        h('p', {}, h('a', { href: '#orders' }, t('myOrders')))),
    );
  }

  async function hurry() {
    try {
      await post(`orders/${encodeURIComponent(id)}/hurry`, undefined, { headers: O.secretHeaders(secret) });
      toast(t('hurried'));
    } catch (error) {
      toast(error.code === 'HURRY_TOO_SOON' ? t('hurryTooSoon') : error.message);
    }
    refresh();
  }

  async function cancel(button, direct) {
    if (!page.armed) {
      page.armed = true;
      button.textContent = t('cancelConfirm');
      setTimeout(() => {
        page.armed = false;
        if (button.isConnected) button.textContent = direct ? t('cancel') : t('requestCancel');
      }, 3000);
      return;
    }
    page.armed = false;
    button.disabled = true;
    try {
      const order = await post(`orders/${encodeURIComponent(id)}/cancel`, undefined, { headers: O.secretHeaders(secret) });
      if (order && order.id) page.order = order;
      toast(order?.status === 'cancelled' ? t('cancelledToast') : t('requestedToast'));
      render();
    } catch (error) {
      toast(error.message);
    }
    refresh();
  }

  refresh();
  listen();
}

// Times are the store's (a diner abroad still picks up at the store's 12:30).
let storeZone;
const inZone = (options) => (storeZone ? { ...options, timeZone: storeZone } : options);
const locale = () => (lang() === 'en' ? 'en-GB' : 'zh-CN');
const clock = (ms) => new Date(ms).toLocaleTimeString(locale(), inZone({ hour: '2-digit', minute: '2-digit', hour12: false }));
const dateTime = (ms) => new Date(ms).toLocaleString(locale(), inZone({ hour12: false }));

function eta(o) {
  if (!o.ready_by_ms || O.isFinal(o.status)) return '';
  const time = clock(o.ready_by_ms);
  const minutes = Math.max(1, Math.round((o.ready_by_ms - Date.now()) / 60000));
  return `${t('readyBy', { time })} · ${t('minutes', { n: minutes })}`;
}

// ---------- my orders + login ----------

export function openOrders(ctx) {
  closeOrderViews();
  setZone(ctx);
  const account = h('section.card.account');
  const list = h('section.card.order-list');
  shell(t('myOrders'), ctx, account, list);
  renderAccount(ctx, account);
  const entries = ctx.orderList();
  if (!entries.length) return mount(list, h('p.empty', {}, t('noOrders')));
  mount(list, h('h2', {}, t('onThisPhone')), entries.map((e) => orderRow(e)));
  // Fresh statuses for the newest few.
  for (const entry of entries.slice(0, 10)) {
    get(`orders/${encodeURIComponent(entry.id)}`, { headers: O.secretHeaders(ctx.secretOf(entry.id)) }).then((o) => {
      const el = list.querySelector(`[data-order-id="${entry.id}"] .st`);
      if (el) el.textContent = lang() === 'en' ? t(o.status) : o.status_label || t(o.status);
    }, () => {});
  }
}

function orderRow(e) {
  return h('a.order-row', { href: `${e.path}#order=${encodeURIComponent(e.id)}`, dataset: { orderId: e.id } },
    h('div', {},
      h('strong', {}, e.storeName || ''),
      h('div.sub', {}, [t(e.channel || 'pickup'), e.pickupNumber ? `${t('pickupNumber')} ${e.pickupNumber}` : '', e.placedAtMs ? dateTime(e.placedAtMs) : ''].filter(Boolean).join(' · '))),
    h('div.right', {}, h('span.price', {}, e.totalFen != null ? yuan(e.totalFen) : ''), h('span.st', {}, e.statusLabel || '')));
}

async function renderAccount(ctx, el) {
  try {
    const me = await get('customer/me');
    const customer = me.customer || me;
    return mount(el,
      h('p.logged-in', {}, t('loggedIn', { phone: customer.phone_masked || customer.display_name || '' })),
      h('button.chip', {
        type: 'button',
        dataset: { action: 'logout' },
        onclick: async () => {
          await post('customer/logout').catch(() => {});
          renderAccount(ctx, el);
        },
      }, t('logout')));
  } catch (error) {
    if (error.status !== 401 && error.status !== 403 && error.code !== 'NO_SUCH_ENDPOINT' && error.status !== 404) return mount(el, h('p.hint', {}, error.message));
    if (error.code === 'NO_SUCH_ENDPOINT' || error.status === 404) return mount(el, h('p.hint', {}, t('loginHint')), h('p.hint', {}, t('loginUnavailable')));
  }
  const phone = h('input', { type: 'tel', name: 'phone', inputMode: 'numeric', autocomplete: 'tel', maxLength: 13, placeholder: t('phone') });
  const code = h('input', { name: 'code', inputMode: 'numeric', autocomplete: 'one-time-code', maxLength: 6, placeholder: t('code') });
  const send = h('button.chip', { type: 'button', dataset: { action: 'send-code' } }, t('sendCode'));
  const submit = h('button.button', { type: 'submit', dataset: { action: 'login' } }, t('login'));
  const clean = () => phone.value.replace(/\s+/g, '');
  send.onclick = async () => {
    if (!/^1\d{10}$/.test(clean())) return toast(t('badPhone'));
    send.disabled = true;
    try {
      const sent = await post(`stores/${encodeURIComponent(ctx.state.storeId)}/customer/otp`, { phone: clean() });
      toast(t('codeSent'));
      code.focus();
      let n = sent?.resend_after_secs || 60;
      const tick = setInterval(() => {
        n -= 1;
        send.textContent = n > 0 ? t('resend', { n }) : t('sendCode');
        if (n <= 0) {
          clearInterval(tick);
          send.disabled = false;
        }
      }, 1000);
    } catch (error) {
      send.disabled = false;
      toast(error.status === 404 ? t('loginUnavailable') : error.message);
    }
  };
  const form = h('form.login', {
    onsubmit: async (event) => {
      event.preventDefault();
      if (!/^1\d{10}$/.test(clean())) return toast(t('badPhone'));
      submit.disabled = true;
      try {
        await post(`stores/${encodeURIComponent(ctx.state.storeId)}/customer/login`, { phone: clean(), code: code.value.trim() });
        renderAccount(ctx, el);
      } catch (error) {
        submit.disabled = false;
        toast(error.status === 404 ? t('loginUnavailable') : error.message);
      }
    },
  }, h('div.login-row', {}, phone, send), h('div.login-row', {}, code, submit));
  mount(el, h('p.hint', {}, t('loginHint')), form);
}
