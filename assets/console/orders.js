// 订单: today's orders of the current store in columns by stage (新订单, 制作中, 待上菜/待取餐,
// 已完成/已取消), live. The board reads the list once, then follows the store's log over SSE
// from the version it read: a new order appears within a second with a chime and a spoken
// line, and a board that was offline catches up on everything it missed when it reconnects.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { parseYuan, yuan } from '../shared/money.js';
import { lang } from '../shared/i18n.js';
import { follow } from '../shared/live-feed.js';
import { chime, say, soundOn, unlock } from '../shared/voice.js';
import { t } from './strings.js';
import { busy, explain, field, modal, notice, toast } from './ui.js';
import {
  COLUMNS, FINAL, REJECT_REASONS, announcementFor, applyBoardEvent, applyDeliveryEvent, buttonsWithDelivery, canDispatch,
  cashChange, columnOf, hurryPending, likelyTenders, lineText, matchesFilter, minutesSince, needsAttention, sortForColumn,
} from './order-logic.js';

const TICK_MS = 30_000;
const CHANNELS = ['all', 'dine_in', 'pickup', 'delivery'];

export function ordersPage(main, { store, onUnauthorized }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = {
    main, store, onUnauthorized, orders: [], deliveries: {}, autoAccept: {}, online: null, acting: 0, dirty: false,
    filter: { channel: 'all', attention: false, text: '' }, announced: new Set(), feed: null, timer: null,
  };
  mount(main, notice(t('loading')));
  open(page);
}

async function open(page) {
  try {
    const board = await get(`console/stores/${page.store.id}/board`);
    page.orders = board.orders;
    page.autoAccept = board.auto_accept || {};
    // Oldest first: the latest delivery of each order is the one left standing.
    page.deliveries = {};
    for (const d of board.deliveries || []) page.deliveries[d.order_id] = { state: d.state, note: d.note };
    render(page);
    page.feed = follow({
      url: `/api/v1/console/stores/${encodeURIComponent(page.store.id)}/board/events`,
      kinds: ['order'],
      after: board.stream_version,
      onEvent: (kind, event) => heard(page, event),
      // Offline longer than the server keeps the board's log: read the board again.
      onReset: () => {
        leave(page);
        open(page);
      },
      onOnline: (online) => {
        page.online = online;
        liveLine(page);
      },
    });
    page.timer = setInterval(() => {
      // The page was left (another area or store): stop following.
      if (!page.main.isConnected) return leave(page);
      tick(page);
    }, TICK_MS);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => open(page) }));
  }
}

function leave(page) {
  clearInterval(page.timer);
  page.feed?.stop();
}

function heard(page, event) {
  if (!page.main.isConnected) return leave(page);
  const { orders, changed } = applyBoardEvent(page.orders, event);
  page.orders = orders;
  const delivery = applyDeliveryEvent(page.deliveries, event);
  page.deliveries = delivery.deliveries;
  if (delivery.failed) toast(t('delivery_failed_toast', { no: event.order.pickup_number, reason: event.reason || t('ds_failed') }), 'error');
  announce(page, event);
  if (!changed && !delivery.failed) return;
  // Never redraw under an open dialog or a button still waiting for the server.
  if (page.acting || document.querySelector('dialog[open]')) page.dirty = true;
  else drawBoard(page);
}

/** Chimes and speaks once per change, however often a reconnect replays it. */
function announce(page, event) {
  const text = announcementFor(event, lang());
  const key = `${event.order?.id}:${event.order_version}`;
  if (!text || page.announced.has(key)) return;
  page.announced.add(key);
  if (!soundOn()) return;
  chime();
  say(text, lang());
}

const clock = (ms) => new Date(ms).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const hhmm = (ms) => new Date(ms).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });

function ago(ms) {
  const n = minutesSince(ms, Date.now());
  if (n < 1) return t('just_now');
  if (n < 60) return t('minutes_ago', { n });
  return t('hours_ago', { h: Math.floor(n / 60), m: n % 60 });
}

/** Between redraws: the "n 分钟前" texts. */
function tick(page) {
  for (const el of page.main.querySelectorAll('[data-placed-at]')) el.textContent = ago(Number(el.dataset.placedAt));
}

function liveLine(page) {
  const line = page.main.querySelector('.live-line');
  if (!line) return;
  line.textContent = page.online === false ? t('board_offline') : page.online ? t('board_live') : t('board_connecting');
  line.dataset.online = String(page.online);
  // Back online after a gap: whatever was held back while a dialog was open is drawn now.
  if (page.online && page.dirty && !document.querySelector('dialog[open]')) drawBoard(page);
}

function soundButton() {
  const on = soundOn();
  const button = h(`button.small.sound${on ? '.secondary' : '.primary'}`, {
    type: 'button',
    dataset: { sound: String(on) },
    'aria-pressed': String(on),
    onclick: () => {
      // Browsers play and speak only after a tap on the page: this is that tap.
      unlock();
      chime();
      button.replaceWith(soundButton());
    },
  }, on ? t('sound_on') : t('sound_off'));
  return button;
}

function autoAcceptLine(page) {
  const channels = ['dine_in', 'pickup', 'delivery'].filter((c) => page.autoAccept[c]);
  if (!channels.length) return null;
  return h('span.badge.muted.auto-accept', { title: t('auto_accept_hint') }, t('auto_accept_on', { channels: channels.map((c) => t('ch_' + c)).join('、') }));
}

function filterBar(page) {
  const chips = CHANNELS.map((c) =>
    h(`button.chip${page.filter.channel === c ? '.on' : ''}`, {
      type: 'button',
      dataset: { filter: c },
      'aria-pressed': String(page.filter.channel === c),
      onclick: () => {
        page.filter.channel = c;
        render(page);
      },
    }, c === 'all' ? t('filter_all') : t('ch_' + c)),
  );
  const attention = h(`button.chip.attention${page.filter.attention ? '.on' : ''}`, {
    type: 'button',
    dataset: { filter: 'attention' },
    'aria-pressed': String(page.filter.attention),
    onclick: () => {
      page.filter.attention = !page.filter.attention;
      render(page);
    },
  }, t('filter_attention', { n: page.orders.filter(needsAttention).length }));
  const search = h('input.search', {
    type: 'search',
    value: page.filter.text,
    maxlength: 40,
    placeholder: t('board_search'),
    'aria-label': t('board_search'),
    oninput: (e) => {
      page.filter.text = e.target.value;
      drawBoard(page);
    },
  });
  return h('div.board-filters', {}, chips, attention, search);
}

function render(page) {
  mount(
    page.main,
    h(
      'div.orders-page',
      {},
      h(
        'header.page-head',
        {},
        h('h1', {}, t('orders_title')),
        h('span.muted', {}, page.store.name),
        autoAcceptLine(page),
        h('div.spacer'),
        h('span.live-line.muted', { role: 'status' }),
        soundButton(),
      ),
      filterBar(page),
      h('div.board-slot'),
    ),
  );
  liveLine(page);
  drawBoard(page);
}

function drawBoard(page) {
  page.dirty = false;
  const slot = page.main.querySelector('.board-slot');
  if (!slot) return;
  // Keep each column's scroll position across redraws.
  const scrolls = Object.fromEntries([...slot.querySelectorAll('.order-column')].map((c) => [c.dataset.column, c.querySelector('.order-list').scrollTop]));
  const shown = page.orders.filter((o) => matchesFilter(o, page.filter));
  const board = h(
    'div.order-board',
    {},
    COLUMNS.map((col) => {
      const mine = sortForColumn(shown.filter((o) => columnOf(o) === col.key), col.key);
      return h(
        `section.order-column.col-${col.key}`,
        { dataset: { column: col.key }, 'aria-label': t(col.label) },
        h('h2.column-head', {}, t(col.label), h('span.count', {}, String(mine.length))),
        h('div.order-list', {}, mine.length ? mine.map((o) => orderCard(page, o)) : h('p.muted.empty-col', {}, t('no_orders_col'))),
      );
    }),
  );
  mount(slot, page.orders.length ? null : notice(t('no_orders')), board);
  for (const c of board.querySelectorAll('.order-column')) c.querySelector('.order-list').scrollTop = scrolls[c.dataset.column] || 0;
  const count = page.main.querySelector('[data-filter=attention]');
  if (count) count.textContent = t('filter_attention', { n: page.orders.filter(needsAttention).length });
}

/** The status in the staff's words (the order's own label is written for the diner). */
const statusText = (o) => (t('st_' + o.status) !== 'st_' + o.status ? t('st_' + o.status) : o.status_label);

function channelText(o) {
  // "包间 包间2" reads twice; the code alone says it.
  const area = o.area_name && !String(o.table_code || '').startsWith(o.area_name) ? o.area_name : null;
  if (o.channel === 'dine_in') return [t('ch_dine_in'), area, o.table_code].filter(Boolean).join(' ');
  if (o.channel === 'delivery') return [t('ch_delivery'), o.quote?.delivery_zone].filter(Boolean).join(' · ');
  return t('ch_pickup');
}

function orderCard(page, o) {
  const done = FINAL.includes(o.status);
  const hurry = hurryPending(o);
  const lines = (o.quote?.lines || []).map(lineText);
  const facts = [
    o.channel === 'dine_in' && o.diners ? t('diners_n', { n: o.diners }) : null,
    o.round > 1 ? t('round_n', { n: o.round - 1 }) : null,
    o.ready_by_ms && !done ? t('ready_by', { time: hhmm(o.ready_by_ms) }) : null,
    o.status === 'awaiting_payment' && o.pay_by_ms ? t('pay_by', { time: hhmm(o.pay_by_ms) }) : null,
  ].filter(Boolean);
  const delivery = page.deliveries[o.id];
  const deliveryFailed = delivery?.state === 'failed' && !done;
  const alert = (o.cancel_requested || hurry || deliveryFailed) && !done;
  return h(
    `article.order-card.ch-${o.channel}${alert ? '.cancel-asked' : ''}${done ? '.done' : ''}`,
    { dataset: { orderId: o.id, status: o.status } },
    h(
      'header.order-head',
      {},
      h('button.pickup-no.linklike', { type: 'button', title: t('order_detail'), dataset: { action: 'order-detail' }, onclick: () => showDetail(page, o) },
        h('span.visually-hidden', {}, t('pickup_no') + ' '), String(o.pickup_number)),
      h('span.channel', {}, channelText(o)),
      h('span.spacer'),
      h('time.ago', { dataset: { placedAt: String(o.placed_at_ms) }, datetime: new Date(o.placed_at_ms).toISOString(), title: hhmm(o.placed_at_ms) }, ago(o.placed_at_ms)),
    ),
    h(
      'div.order-status',
      {},
      h(`span.status-label.s-${o.status}`, {}, statusText(o)),
      o.cancel_requested && !done ? h('span.badge.alert', { dataset: { badge: 'cancel-requested' } }, t('cancel_requested')) : null,
      hurry ? h('span.badge.alert', { dataset: { badge: 'hurry' }, title: hhmm(o.last_hurry_ms) }, t('hurry_badge', { time: hhmm(o.last_hurry_ms) })) : null,
      facts.length ? h('span.facts.muted', {}, facts.join(' · ')) : null,
      delivery && o.channel === 'delivery'
        ? h(`span.badge${deliveryFailed ? '.alert' : '.muted'}.delivery-state`, { dataset: { delivery: delivery.state }, title: delivery.note || '' },
            deliveryFailed && delivery.note ? `${t('ds_failed')}：${delivery.note}` : t('ds_' + delivery.state))
        : null,
    ),
    done
      ? null
      : h(
          'ul.order-lines',
          {},
          lines.map((l) =>
            h('li', {}, h('span.qty', {}, `${l.quantity}×`), h('span.line-name', {}, l.name, l.extras ? h('span.extras', {}, l.extras) : null, l.note ? h('span.line-note', {}, l.note) : null)),
          ),
        ),
    o.note && !done ? h('p.order-note', {}, `${t('note')}：${o.note}`) : null,
    h('div.order-total', {}, h('span.muted', {}, t('items_n', { n: o.quote?.item_count ?? lines.reduce((n, l) => n + l.quantity, 0) })), h('span.price', {}, `${t('total')} ${yuan(o.quote?.total_fen ?? 0)}`)),
    done ? null : h('div.order-actions', {},
      canDispatch(o, delivery) ? assignButton(page, o) : null,
      buttonsWithDelivery(o, delivery).map((b) => actionButton(page, o, b)),
      delivery && ['requested', 'assigned'].includes(delivery.state) ? cancelDeliveryButton(page, o) : null),
  );
}

/** 派单: choose one of the store's riders or a courier. */
function assignButton(page, order) {
  return h('button.primary', {
    type: 'button',
    dataset: { action: 'assign-delivery' },
    onclick: async (event) => {
      let choices;
      try {
        choices = await busy(event.currentTarget, () => get(`console/stores/${page.store.id}/dispatch-choices`));
      } catch (e) {
        if (e.status === 401) return page.onUnauthorized();
        return toast(explain(e), 'error');
      }
      const give = async (button, body, who) => {
        page.acting++;
        try {
          const moved = await busy(button, () => post(`console/stores/${page.store.id}/orders/${order.id}/deliveries`, body));
          page.deliveries = { ...page.deliveries, [order.id]: { state: moved.delivery.state, note: null } };
          page.orders = applyBoardEvent(page.orders, { order: moved.order }).orders;
          toast(moved.delivery.courier_kind === 'courier' ? t('courier_asked', { who, fee: yuan(moved.delivery.fee_fen) }) : t('assigned_to', { who }));
          close();
        } catch (e) {
          if (e.status === 401) return page.onUnauthorized();
          toast(explain(e), 'error');
        } finally {
          page.acting--;
          drawBoard(page);
        }
      };
      const riders = choices.riders.length
        ? choices.riders.map((r) => h('button.secondary.choice', { type: 'button', dataset: { rider: r.id }, onclick: (e) => give(e.currentTarget, { rider_id: r.id }, r.name) }, r.name))
        : [h('p.muted', {}, t('assign_no_riders'))];
      const couriers = choices.couriers.length
        ? choices.couriers.map((c) => h('button.secondary.choice', { type: 'button', dataset: { courier: c.name }, onclick: (e) => give(e.currentTarget, { courier: c.name }, c.label) }, c.label))
        : [h('p.muted', {}, t('assign_no_couriers'))];
      const { close } = modal(t('assign_title', { no: order.pickup_number }), h('div.assign-form', {},
        h('h3', {}, t('assign_riders')), h('div.choices', {}, riders),
        h('h3', {}, t('assign_couriers')), h('div.choices', {}, couriers)), {
        className: 'assign',
        onclose: () => page.dirty && drawBoard(page),
      });
    },
  }, t('act_assign'));
}

function cancelDeliveryButton(page, order) {
  const button = h('button.ghost', {
    type: 'button',
    dataset: { action: 'cancel-delivery' },
    onclick: async () => {
      page.acting++;
      try {
        const moved = await busy(button, () => post(`console/stores/${page.store.id}/orders/${order.id}/deliveries/cancel`, {}));
        page.deliveries = { ...page.deliveries, [order.id]: { state: moved.delivery.state, note: moved.delivery.note } };
        page.orders = applyBoardEvent(page.orders, { order: moved.order }).orders;
        toast(t('delivery_cancelled'));
      } catch (e) {
        if (e.status === 401) return page.onUnauthorized();
        toast(explain(e), 'error');
      } finally {
        page.acting--;
        drawBoard(page);
      }
    },
  }, t('cancel_delivery'));
  return button;
}

function buttonLabel(order, { action, kind }) {
  if (kind === 'approve') return t('act_approve_cancel');
  if (kind === 'decline') return t('act_decline_cancel');
  // Turning down an order nobody has accepted yet is 拒单; later it is a cancellation.
  if (action === 'cancel' && ['awaiting_payment', 'placed'].includes(order.status)) return t('act_reject');
  return t('act_' + action);
}

function actionButton(page, order, choice) {
  const { action, kind } = choice;
  const cls = { primary: 'primary', approve: 'danger', decline: 'secondary', secondary: 'secondary', cancel: 'ghost.cancel-order' }[kind];
  const button = h(`button.${cls}`, {
    type: 'button',
    dataset: { action: 'order-action', next: action },
    onclick: async () => {
      let reason = null;
      if (kind === 'cancel') {
        reason = await askReason(order);
        if (reason === null) return;
      }
      if (action === 'pay' && !(await takeCash(order))) return;
      page.acting++;
      try {
        const body = { action, version: order.version, ...(reason ? { reason } : {}) };
        const updated = await busy(button, () => post(`console/stores/${page.store.id}/orders/${order.id}/actions`, body));
        toast(t('order_done', { no: updated.pickup_number, status: statusText(updated) }));
        page.orders = applyBoardEvent(page.orders, { order: updated }).orders;
      } catch (e) {
        if (e.status === 401) return page.onUnauthorized();
        toast(explain(e), 'error');
        // Someone else moved the order on: the 409 carries it as it is now.
        if (e.order) page.orders = applyBoardEvent(page.orders, { order: e.order }).orders;
      } finally {
        page.acting--;
        drawBoard(page);
      }
    },
  }, buttonLabel(order, choice));
  return button;
}

/** 现金收款: what the diner handed over and the change due; resolves true once confirmed. */
function takeCash(order) {
  return new Promise((resolve) => {
    let answer = false;
    const total = order.quote?.total_fen ?? 0;
    const change = h('p.cash-change', { role: 'status' });
    const tendered = h('input.money', { type: 'text', inputmode: 'decimal', name: 'tendered', 'aria-label': t('cash_tendered'), placeholder: yuan(total) });
    const yes = h('button.primary', { type: 'button', dataset: { action: 'confirm-cash' } }, t('cash_confirm'));
    const show = () => {
      const typed = tendered.value.trim() === '' ? total : parseYuan(tendered.value);
      const result = cashChange(total, typed);
      change.textContent = result.ok ? t('cash_change', { change: yuan(result.changeFen) }) : t(result.reason, { short: yuan(result.shortFen ?? 0) });
      change.classList.toggle('error', !result.ok);
      yes.disabled = !result.ok;
    };
    tendered.addEventListener('input', show);
    yes.addEventListener('click', () => { answer = true; close(); });
    const quick = likelyTenders(total).map((fen) =>
      h('button.chip', { type: 'button', dataset: { tender: String(fen) }, onclick: () => { tendered.value = (fen / 100).toFixed(fen % 100 ? 2 : 0); show(); } }, yuan(fen)));
    const { close } = modal(t('cash_title', { no: order.pickup_number }), h('div.cash-form', {},
      h('p.cash-due', {}, t('cash_due', { total: yuan(total) })),
      field(t('cash_tendered'), tendered),
      h('div.reason-chips', {}, quick),
      change), {
      className: 'confirm',
      onclose: () => resolve(answer),
      actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), yes],
    });
    show();
    tendered.focus();
  });
}

/** Asks why the order is turned down; resolves the reason ('' for none given) or null to keep it. */
function askReason(order) {
  return new Promise((resolve) => {
    let answer = null;
    const en = lang() === 'en';
    const text = h('input', { type: 'text', maxlength: 60, name: 'reason', placeholder: t('reason_placeholder'), 'aria-label': t('reason_label') });
    const presets = REJECT_REASONS.map(([zh, english]) =>
      h('button.chip', { type: 'button', dataset: { reason: zh }, onclick: () => { text.value = en ? english : zh; text.focus(); } }, en ? english : zh),
    );
    const yes = h('button.danger', { type: 'button', dataset: { action: 'confirm-reject' }, onclick: () => { answer = text.value.trim(); close(); } }, buttonLabel(order, { action: 'cancel', kind: 'cancel' }));
    const { close } = modal(
      t('reject_title', { no: order.pickup_number }),
      h('div.reject-form', {}, h('p', {}, order.paid_at_ms ? t('reject_paid_hint') : t('reject_hint')), h('div.reason-chips', {}, presets), text),
      {
        className: 'confirm',
        onclose: () => resolve(answer),
        actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('keep_order')), yes],
      },
    );
    text.focus();
  });
}

const ACTION_WORDS = { place: 'hist_place', cancel: 'act_cancel' };

function actorText(step) {
  if (step.actor_name) return step.actor_name;
  if (step.actor === 'diner') return t('actor_diner');
  if (step.actor === 'system:auto-accept') return t('actor_auto_accept');
  if (step.actor === 'system:unpaid-timeout') return t('actor_timeout');
  if (step.actor.startsWith('system:')) return t('actor_system');
  return step.actor;
}

/** The order's detail: its lines, its history (who, when, why) and, at a table, the whole bill. */
async function showDetail(page, order) {
  let detail;
  try {
    detail = await get(`console/stores/${page.store.id}/orders/${order.id}`);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    return toast(explain(e), 'error');
  }
  const o = detail.order;
  const history = h(
    'ol.order-history',
    {},
    detail.history.map((step) =>
      h('li', { dataset: { action: step.action } },
        h('time', { datetime: new Date(step.at_ms).toISOString() }, clock(step.at_ms)),
        h('span.step', {}, t(ACTION_WORDS[step.action] || 'act_' + step.action), ' → ', statusText({ status: step.to_status, status_label: step.to_status })),
        h('span.muted', {}, actorText(step)),
        step.reason ? h('span.reason', {}, t('reason_is', { reason: step.reason })) : null),
    ),
  );
  const bill = detail.table_bill
    ? h('section.table-bill', {},
        h('h3', {}, t('table_bill', { table: o.table_code || '' })),
        h('ul', {}, detail.table_bill.orders.map((r) =>
          h(`li${r.status === 'cancelled' ? '.cancelled' : ''}`, {},
            h('span', {}, r.round > 1 ? t('round_n', { n: r.round - 1 }) : t('first_round')),
            h('span.muted', {}, `#${r.pickup_number} · ${statusText(r)}`),
            h('span.price', {}, yuan(r.quote?.total_fen ?? 0))))),
        h('p.bill-total', {}, t('bill_total', { total: yuan(detail.table_bill.total_fen), unpaid: yuan(detail.table_bill.unpaid_fen) })))
    : null;
  const lines = (o.quote?.lines || []).map(lineText);
  let deliveries = null;
  if (o.channel === 'delivery') {
    const records = await get(`console/stores/${page.store.id}/orders/${order.id}/deliveries`).catch(() => []);
    if (records.length) {
      deliveries = h('section.delivery-history', {},
        h('h3', {}, t('delivery_history')),
        records.map((r) => h('ol.order-history', { dataset: { delivery: r.delivery.id } },
          r.history.map((step) => h('li', {},
            h('time', { datetime: new Date(step.at_ms).toISOString() }, clock(step.at_ms)),
            h('span.step', {}, t('ds_' + step.to_state)),
            h('span.muted', {}, step.actor.startsWith('courier:') ? `${t('actor_courier')}${r.delivery.rider_name ? ' · ' + r.delivery.rider_name : ''}` : t('actor_staff')),
            step.note ? h('span.reason', {}, t('reason_is', { reason: step.note })) : null)))));
    }
  }
  modal(
    t('detail_title', { no: o.pickup_number, channel: channelText(o) }),
    h('div.order-detail', {},
      h('ul.order-lines', {}, lines.map((l) => h('li', {}, h('span.qty', {}, `${l.quantity}×`), h('span.line-name', {}, l.name, l.extras ? h('span.extras', {}, l.extras) : null, l.note ? h('span.line-note', {}, l.note) : null)))),
      o.note ? h('p.order-note', {}, `${t('note')}：${o.note}`) : null,
      h('p.order-total', {}, h('span', {}, statusText(o)), h('span.price', {}, `${t('total')} ${yuan(o.quote?.total_fen ?? 0)}`)),
      h('h3', {}, t('history')),
      history,
      deliveries,
      bill),
    { className: 'detail', onclose: () => page.dirty && drawBoard(page) },
  );
}
