// What the orders board decides about an order: its column, the one next step staff take, and
// how its lines read. No DOM here, so node --test can run it.

/** The board's columns, left to right, and the statuses each holds. */
export const COLUMNS = [
  { key: 'new', label: 'col_new', statuses: ['awaiting_payment', 'placed'] },
  { key: 'cooking', label: 'col_cooking', statuses: ['accepted', 'preparing'] },
  // Served, picked up and out for delivery still wait for 完成, so they stay in sight here.
  { key: 'ready', label: 'col_ready', statuses: ['ready', 'served', 'picked_up', 'out_for_delivery'] },
  { key: 'done', label: 'col_done', statuses: ['completed', 'cancelled'] },
];

export const FINAL = ['completed', 'cancelled'];

export const columnOf = (order) => COLUMNS.find((c) => c.statuses.includes(order.status))?.key ?? 'new';

/** The action behind the order's primary button, or null when nothing is left to do. */
export function nextAction(order) {
  switch (order.status) {
    case 'awaiting_payment':
      return 'pay';
    case 'placed':
      return 'accept';
    case 'accepted':
      return 'start_preparing';
    case 'preparing':
      return 'mark_ready';
    case 'ready':
      return { dine_in: 'serve', pickup: 'hand_over', delivery: 'dispatch' }[order.channel] ?? null;
    case 'served':
    case 'picked_up':
    case 'out_for_delivery':
      return 'complete';
    default:
      return null;
  }
}

/**
 * The buttons an order card shows, primary first: [{action, kind}] where kind is 'primary',
 * 'approve' (同意取消), 'decline' or 'cancel'.
 */
export function orderButtons(order) {
  if (FINAL.includes(order.status)) return [];
  const buttons = [];
  if (order.cancel_requested) {
    buttons.push({ action: 'cancel', kind: 'approve' }, { action: 'decline_cancel', kind: 'decline' });
  }
  const next = nextAction(order);
  if (next) buttons.push({ action: next, kind: order.cancel_requested ? 'secondary' : 'primary' });
  if (!order.cancel_requested) buttons.push({ action: 'cancel', kind: 'cancel' });
  return buttons;
}

/** One line of an order as the kitchen reads it: "红烧牛肉面 · 大碗", "微辣、加蛋", quantity. */
export function lineText(line) {
  const name = line.sku_name ? `${line.dish_name} · ${line.sku_name}` : line.dish_name;
  const extras = [
    ...(line.options || []).map((o) => o.name),
    ...(line.combo_items || []).map((c) => (c.quantity > 1 ? `${c.dish_name}×${c.quantity}` : c.dish_name)),
  ];
  return { name, extras: extras.join('、'), quantity: line.quantity, note: line.note || null };
}

/** Minutes since the order was placed, never negative. */
export const minutesSince = (placedAtMs, nowMs) => Math.max(0, Math.floor((nowMs - placedAtMs) / 60000));

/** Orders of one column: open ones oldest first (the one waiting longest on top), done ones newest first. */
export function sortForColumn(orders, key) {
  const sorted = [...orders].sort((a, b) => a.placed_at_ms - b.placed_at_ms);
  if (key === 'done') sorted.reverse();
  // A diner asking to cancel needs an answer first.
  return sorted.sort((a, b) => Number(b.cancel_requested && !FINAL.includes(b.status)) - Number(a.cancel_requested && !FINAL.includes(a.status)));
}

/**
 * Folds one board event into the list: the event's order replaces the one held when it is at
 * least as new (a replay after a reconnect repeats changes already seen; an older copy never
 * overwrites a newer one). Returns the new list and whether anything changed.
 */
export function applyBoardEvent(orders, event) {
  const incoming = event?.order;
  if (!incoming?.id) return { orders, changed: false };
  const at = orders.findIndex((o) => o.id === incoming.id);
  if (at === -1) return { orders: [incoming, ...orders], changed: true };
  if (orders[at].version >= incoming.version) return { orders, changed: false };
  const next = orders.slice();
  next[at] = incoming;
  return { orders: next, changed: true };
}

const CHANNEL_WORDS = {
  zh: { dine_in: '堂食', pickup: '自取', delivery: '外卖' },
  en: { dine_in: 'dine-in', pickup: 'pickup', delivery: 'delivery' },
};

/** How a board names an order aloud: the table for dine-in, else the pickup number. */
function spokenName(order, lang) {
  if (order.channel === 'dine_in' && order.table_code) return lang === 'en' ? `table ${order.table_code}` : `${order.table_code} 桌`;
  return lang === 'en' ? `number ${order.pickup_number}` : `取餐号 ${order.pickup_number}`;
}

/**
 * What the board says aloud for an event, or null: a new order waiting for the store (or one
 * the store accepted by itself), a 催单, a diner asking to cancel.
 */
export function announcementFor(event, lang = 'zh') {
  const order = event?.order;
  if (!order) return null;
  const en = lang === 'en';
  // A store that accepts by itself still hears it: the change that made it new said `placed`.
  if ((event.action === 'place' || event.action === 'pay') && event.status === 'placed') {
    const channel = CHANNEL_WORDS[en ? 'en' : 'zh'][order.channel] ?? '';
    return en ? `New ${channel} order, ${spokenName(order, 'en')}` : `您有新的${channel}订单，${spokenName(order, 'zh')}`;
  }
  if (event.action === 'hurry') return en ? `${spokenName(order, 'en')} is asking to hurry` : `${spokenName(order, 'zh')}催单`;
  if (event.kind === 'order.cancel_requested' && order.cancel_requested) {
    return en ? `${spokenName(order, 'en')} asks to cancel` : `${spokenName(order, 'zh')}申请取消`;
  }
  if (event.delivery_state === 'failed') return deliveryFailedAnnouncement(order, en ? 'en' : 'zh');
  return null;
}

/** 催单 that still needs the kitchen: asked for, and the order not yet out of the kitchen. */
export const hurryPending = (order) => !!order.last_hurry_ms && ['placed', 'accepted', 'preparing'].includes(order.status);

/** Needs a decision from staff now: a new order, a cancel request, or a 催单. */
export const needsAttention = (order) => !FINAL.includes(order.status) && (order.status === 'placed' || order.cancel_requested || hurryPending(order));

/**
 * Whether an order passes the board's filter: `channel` ('all' or one channel), `attention`
 * (only those needing a decision) and `text`, matched against the pickup number, the table,
 * the dishes and the note.
 */
export function matchesFilter(order, { channel = 'all', attention = false, text = '' } = {}) {
  if (channel !== 'all' && order.channel !== channel) return false;
  if (attention && !needsAttention(order)) return false;
  const wanted = text.trim().toLowerCase();
  if (!wanted) return true;
  const haystack = [
    String(order.pickup_number),
    order.table_code,
    order.area_name,
    order.note,
    ...(order.quote?.lines || []).map((l) => `${l.dish_name} ${l.sku_name || ''}`),
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
  return haystack.includes(wanted);
}

/** Reasons staff pick from when turning an order down; they may type their own. */
export const REJECT_REASONS = [
  ['菜品售罄', 'Sold out'],
  ['店铺太忙，暂时无法接单', 'Too busy right now'],
  ['超出配送范围', 'Outside the delivery area'],
  ['即将打烊', 'Closing soon'],
];

/**
 * Cash at the counter (现金收款): the change due for what the diner handed over, or why it
 * cannot be taken (nothing typed, not an amount, less than the total). Fen, integers only.
 */
export function cashChange(totalFen, tenderedFen) {
  if (tenderedFen === null || tenderedFen === undefined || Number.isNaN(tenderedFen)) return { ok: false, reason: 'cash_enter_amount' };
  if (tenderedFen < totalFen) return { ok: false, reason: 'cash_too_little', shortFen: totalFen - tenderedFen };
  return { ok: true, changeFen: tenderedFen - totalFen };
}

/** The notes a cashier is likely handed for `totalFen`: the next round 10, 50 and 100 yuan. */
export function likelyTenders(totalFen) {
  const steps = [1000, 5000, 10000].map((step) => Math.ceil(totalFen / step) * step);
  return [...new Set([totalFen, ...steps])].filter((fen) => fen >= totalFen).sort((a, b) => a - b);
}

/** Delivery states that still hold the order (a failed or cancelled one makes room for the next). */
export const ACTIVE_DELIVERY = ['requested', 'assigned', 'picked_up'];

/** Whether the board offers 派单 on this order: a delivery order accepted and not yet out, with no active delivery. */
export function canDispatch(order, delivery) {
  if (order.channel !== 'delivery') return false;
  if (!['accepted', 'preparing', 'ready'].includes(order.status)) return false;
  return !(delivery && ACTIVE_DELIVERY.includes(delivery.state));
}

/**
 * The order's buttons once its delivery is known: while a rider or courier has it, their taps
 * and reports move it (取货, 送达), so the board does not offer 配送 / 完成 for it.
 */
export function buttonsWithDelivery(order, delivery) {
  const buttons = orderButtons(order);
  if (!(delivery && ACTIVE_DELIVERY.includes(delivery.state))) return buttons;
  return buttons.filter((b) => !['dispatch', 'complete'].includes(b.action));
}

/** The delivery a board event says an order's delivery is now in, merged over what was known. */
export function applyDeliveryEvent(deliveries, event) {
  const id = event?.order?.id;
  if (!id || !event.delivery_state) return { deliveries, failed: false };
  const next = { ...deliveries, [id]: { state: event.delivery_state, note: event.delivery_state === 'failed' ? event.reason || null : null } };
  const failed = event.delivery_state === 'failed' && deliveries[id]?.state !== 'failed';
  return { deliveries: next, failed };
}

/** What the board says aloud when a courier gives up on an order. */
export function deliveryFailedAnnouncement(order, lang) {
  return lang === 'en'
    ? `Delivery failed for ${spokenName(order, lang)}, please dispatch again`
    : `${spokenName(order, lang)} 配送失败，请重新派单`;
}
