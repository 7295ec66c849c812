// 订单: today's orders of the current store in columns by stage (新订单, 制作中, 待上菜/待取餐,
// 已完成/已取消), each card with the one next step as its main button. The list is fetched again
// every five seconds; it is not a live push board.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { yuan } from '../shared/money.js';
import { lang } from '../shared/i18n.js';
import { t } from './strings.js';
import { busy, confirmAction, explain, notice, toast } from './ui.js';
import { COLUMNS, FINAL, columnOf, lineText, minutesSince, orderButtons, sortForColumn } from './order-logic.js';

const REFRESH_MS = 5000;

export function ordersPage(main, { store, onUnauthorized }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = { main, store, onUnauthorized, orders: null, signature: '', updatedAt: null, error: null, acting: 0, timer: null };
  mount(main, notice(t('loading')));
  load(page);
  page.timer = setInterval(() => {
    // The page was left (another area or store): stop asking.
    if (!main.isConnected) return clearInterval(page.timer);
    // Never redraw under a confirm dialog or a button that is still waiting for the server.
    if (page.acting || document.querySelector('dialog[open]')) return;
    load(page, { quiet: true });
  }, REFRESH_MS);
}

async function load(page, { quiet = false } = {}) {
  try {
    const orders = await get(`console/stores/${page.store.id}/orders`);
    page.error = null;
    page.updatedAt = new Date();
    const signature = JSON.stringify(orders);
    if (signature !== page.signature || !page.board) {
      page.orders = orders;
      page.signature = signature;
      render(page);
    } else {
      tick(page);
    }
  } catch (e) {
    if (e.status === 401) {
      clearInterval(page.timer);
      return page.onUnauthorized();
    }
    if (!quiet || !page.orders) {
      mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
      page.board = null;
      return;
    }
    page.error = explain(e);
    tick(page);
  }
}

const clock = (date) => date.toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const hhmm = (ms) => new Date(ms).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });

function ago(ms) {
  const n = minutesSince(ms, Date.now());
  if (n < 1) return t('just_now');
  if (n < 60) return t('minutes_ago', { n });
  return t('hours_ago', { h: Math.floor(n / 60), m: n % 60 });
}

function statusLine(page) {
  return page.error ? t('refresh_failed', { message: page.error }) : t('auto_refresh', { time: page.updatedAt ? clock(page.updatedAt) : '—' });
}

/** Between full redraws: the "n 分钟前" texts and the refresh line. */
function tick(page) {
  if (!page.board) return;
  for (const el of page.board.querySelectorAll('[data-placed-at]')) el.textContent = ago(Number(el.dataset.placedAt));
  const line = page.main.querySelector('.refresh-line');
  if (line) {
    line.textContent = statusLine(page);
    line.classList.toggle('failed', !!page.error);
  }
}

function render(page) {
  // Keep each column's scroll position across redraws.
  const scrolls = Object.fromEntries([...page.main.querySelectorAll('.order-column')].map((c) => [c.dataset.column, c.querySelector('.order-list').scrollTop]));
  const orders = page.orders;
  const board = h(
    'div.order-board',
    {},
    COLUMNS.map((col) => {
      const mine = sortForColumn(orders.filter((o) => columnOf(o) === col.key), col.key);
      return h(
        `section.order-column.col-${col.key}`,
        { dataset: { column: col.key }, 'aria-label': t(col.label) },
        h('h2.column-head', {}, t(col.label), h('span.count', {}, String(mine.length))),
        h('div.order-list', {}, mine.length ? mine.map((o) => orderCard(page, o)) : h('p.muted.empty-col', {}, t('no_orders_col'))),
      );
    }),
  );
  page.board = board;
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
        h('div.spacer'),
        h(`span.refresh-line.muted${page.error ? '.failed' : ''}`, { role: 'status' }, statusLine(page)),
        h('button.secondary.small', { type: 'button', dataset: { action: 'refresh-orders' }, onclick: (e) => busy(e.currentTarget, () => load(page)) }, t('refresh')),
      ),
      orders.length ? null : notice(t('no_orders')),
      board,
    ),
  );
  for (const c of board.querySelectorAll('.order-column')) c.querySelector('.order-list').scrollTop = scrolls[c.dataset.column] || 0;
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
  const lines = (o.quote?.lines || []).map(lineText);
  const facts = [
    o.channel === 'dine_in' && o.diners ? t('diners_n', { n: o.diners }) : null,
    o.round > 1 ? t('round_n', { n: o.round - 1 }) : null,
    o.ready_by_ms && !done ? t('ready_by', { time: hhmm(o.ready_by_ms) }) : null,
    o.status === 'awaiting_payment' && o.pay_by_ms ? t('pay_by', { time: hhmm(o.pay_by_ms) }) : null,
  ].filter(Boolean);
  return h(
    `article.order-card.ch-${o.channel}${o.cancel_requested && !done ? '.cancel-asked' : ''}${done ? '.done' : ''}`,
    { dataset: { orderId: o.id, status: o.status } },
    h(
      'header.order-head',
      {},
      h('span.pickup-no', { title: t('pickup_no') }, h('span.visually-hidden', {}, t('pickup_no') + ' '), String(o.pickup_number)),
      h('span.channel', {}, channelText(o)),
      h('span.spacer'),
      h('time.ago', { dataset: { placedAt: String(o.placed_at_ms) }, datetime: new Date(o.placed_at_ms).toISOString(), title: hhmm(o.placed_at_ms) }, ago(o.placed_at_ms)),
    ),
    h(
      'div.order-status',
      {},
      h(`span.status-label.s-${o.status}`, {}, statusText(o)),
      o.cancel_requested && !done ? h('span.badge.alert', { dataset: { badge: 'cancel-requested' } }, t('cancel_requested')) : null,
      facts.length ? h('span.facts.muted', {}, facts.join(' · ')) : null,
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
    done ? null : h('div.order-actions', {}, orderButtons(o).map((b) => actionButton(page, o, b))),
  );
}

function actionButton(page, order, { action, kind }) {
  const label = kind === 'approve' ? t('act_approve_cancel') : kind === 'decline' ? t('act_decline_cancel') : t('act_' + action);
  const cls = { primary: 'primary', approve: 'danger', decline: 'secondary', secondary: 'secondary', cancel: 'ghost.cancel-order' }[kind];
  const button = h(`button.${cls}`, {
    type: 'button',
    dataset: { action: 'order-action', next: action },
    onclick: async () => {
      if (kind === 'cancel' && !(await confirmAction(t('confirm_cancel_order', { no: order.pickup_number }), t('act_cancel'), t('act_cancel'), t('keep_order')))) return;
      page.acting++;
      try {
        const updated = await busy(button, () => post(`console/stores/${page.store.id}/orders/${order.id}/actions`, { action, version: order.version }));
        toast(t('order_done', { no: updated.pickup_number, status: statusText(updated) }));
        page.orders = page.orders.map((o) => (o.id === updated.id ? updated : o));
        page.signature = '';
        render(page);
      } catch (e) {
        if (e.status === 401) return page.onUnauthorized();
        toast(explain(e), 'error');
        // Someone else may have moved the order on: show what it is now.
        load(page, { quiet: true });
      } finally {
        page.acting--;
      }
    },
  }, label);
  return button;
}
