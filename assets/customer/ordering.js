// Checkout and order rules as plain data: the quote and order bodies built from the cart, the
// idempotency key kept for one checkout attempt, server errors mapped back to cart lines, the
// status steps of an order, and the phone's own list of orders. No DOM, so node can test it.

import { uuid4 } from './shared-cart.js';
import { lang, localized } from '../shared/i18n.js';

/** The cart lines that go into an order, in the order they are sent (index = lines[i]). */
export const orderableLines = (cart) => cart.lines.filter((l) => !l.unavailable && l.quantity > 0);

/** One request line from a cart line. */
export function requestLine(line) {
  const out = {
    sku_id: line.skuId,
    quantity: line.quantity,
    option_ids: [...(line.optionIds || [])],
    combo_choice_ids: [...(line.choiceIds || [])],
  };
  if (line.note) out.note = line.note;
  return out;
}

/**
 * The quote body. `form` = {channel, diners, deliveryTo: {latitude_e6, longitude_e6}, tableToken}.
 * Only the fields the channel uses are sent.
 */
export function quoteBody(lines, form) {
  const body = { channel: form.channel, lines: lines.map(requestLine) };
  if (form.channel === 'dine_in') {
    if (form.diners) body.diners = form.diners;
    if (form.tableToken) body.table_token = form.tableToken;
  }
  if (form.channel === 'delivery' && form.deliveryTo) body.delivery_to = { ...form.deliveryTo };
  // The diner's own pick of promotions and coupons; without it the server picks the best.
  if (Array.isArray(form.chosen)) body.chosen = [...form.chosen];
  return body;
}

/** What the cart bar says about a quote: the next threshold, else what is already taken off. */
export function cartBarNudge(quote, language = 'zh') {
  if (!quote) return '';
  if (quote.hint) return language === 'en' ? quote.hint.message_en : quote.hint.message;
  if (quote.discount_total_fen > 0) {
    const fen = quote.discount_total_fen;
    const amount = fen % 100 === 0 ? String(fen / 100) : (fen / 100).toFixed(2);
    return language === 'en' ? `¥${amount} off applied` : `已优惠 ¥${amount}`;
  }
  return '';
}

/** The kind of an offer from its source (`promotion:<id>`, `coupon:<id>`). */
export const offerKind = (source) => String(source || '').split(':')[0];

/**
 * Every promotion and coupon of a quote, for the checkout's picker: the ones it uses (with the
 * amount each takes off, or a gift's value) and the ones it does not (with the server's reason).
 */
export function offerChoices(quote) {
  if (!quote) return [];
  const used = new Set(quote.chosen || []);
  const taken = new Map();
  for (const d of quote.discounts || []) taken.set(d.source, { label: d.label, fen: d.amount_fen });
  for (const g of quote.gifts || []) taken.set(g.source, { label: g.name, fen: g.value_fen, gift: true });
  const choices = [...used].map((source) => ({
    source,
    kind: offerKind(source),
    label: taken.get(source)?.label || '',
    fen: taken.get(source)?.fen || 0,
    gift: !!taken.get(source)?.gift,
    applied: true,
  }));
  for (const r of quote.not_applicable || []) {
    if (used.has(r.source)) continue;
    choices.push({
      source: r.source,
      kind: offerKind(r.source),
      label: r.label,
      applied: false,
      code: r.code,
      reason: lang() === 'en' ? r.message_en : r.message,
    });
  }
  return choices;
}

/**
 * The diner taps an offer: from the quote's combination (or their earlier pick), the offer is
 * added or taken out. The server prices the new pick or says why it cannot be used.
 */
export function toggleOffer(chosen, quote, source) {
  const current = Array.isArray(chosen) ? chosen : [...(quote?.chosen || [])];
  return current.includes(source) ? current.filter((s) => s !== source) : [...current, source];
}

/** The order body: the quote body plus the quote version, contact, address, time and note. */
export function orderBody(lines, form, quoteVersion) {
  const body = { ...quoteBody(lines, form), quote_version: quoteVersion };
  const note = (form.note || '').trim();
  if (note) body.note = note;
  if (form.channel === 'pickup') body.pickup_time = form.pickupTime || 'asap';
  if (form.channel === 'delivery') {
    body.contact = { name: (form.contactName || '').trim(), phone: (form.contactPhone || '').replace(/\s+/g, '') };
    body.delivery_address = (form.address || '').trim();
  } else if ((form.contactPhone || '').trim()) {
    body.contact = { name: (form.contactName || '').trim(), phone: form.contactPhone.replace(/\s+/g, '') };
  }
  return body;
}

/** What the diner must still fill in before the order can be sent: a list of field names. */
export function missingFields(form) {
  const missing = [];
  if (form.channel === 'delivery') {
    if (!(form.contactName || '').trim()) missing.push('contactName');
    if (!/^1\d{10}$/.test((form.contactPhone || '').replace(/\s+/g, ''))) missing.push('contactPhone');
    if (!(form.address || '').trim()) missing.push('address');
    if (!form.deliveryTo) missing.push('deliveryTo');
  }
  if (form.channel === 'pickup' && form.pickupTime && form.pickupTime !== 'asap' && !/^\d\d:\d\d$/.test(form.pickupTime)) missing.push('pickupTime');
  return missing;
}

/** A stable text for a body, to tell whether a retry sends the same order. */
export function fingerprint(body) {
  const sort = (v) => (Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(body));
}

/**
 * The idempotency key for sending `body`: the key of the previous attempt when the body is the
 * same (a retry after a network error must not make a second order), a new key otherwise.
 * Returns {key, fingerprint}; keep it until the order succeeds.
 */
export function attemptFor(previous, body, newKey = uuid4) {
  const fp = fingerprint({ ...body, quote_version: undefined });
  if (previous && previous.fingerprint === fp && previous.key) return previous;
  return { key: newKey(), fingerprint: fp };
}

/** Parses "lines[3]" (or "lines[3].quantity") into 3, or null. */
export function lineIndex(field) {
  const m = /^lines\[(\d+)\]/.exec(field || '');
  return m ? Number(m[1]) : null;
}

/**
 * Problems per line from an API error: Map index → [{code, text}]; errors that name no line
 * come back in `general`.
 */
export function lineProblems(error) {
  const byLine = new Map();
  const general = [];
  for (const d of error?.details || []) {
    const index = lineIndex(d.field);
    const problem = { code: d.code, text: d.text || d.message || d.code };
    if (index === null) general.push(problem);
    else byLine.set(index, [...(byLine.get(index) || []), problem]);
  }
  return { byLine, general };
}

/** What the page should do with a failed quote or order, by the error's code. */
export function errorAction(error) {
  switch (error?.code) {
    case 'NETWORK':
      return 'retry';
    case 'STALE_QUOTE':
      return 'requote';
    case 'LINE_PROBLEMS':
    case 'SOLD_OUT':
      return 'lines';
    case 'TABLE_NOT_OPEN':
      return 'waiter';
    case 'IDEMPOTENCY_KEY_REUSED':
      return 'new-key';
    default:
      return error?.status >= 500 ? 'retry' : 'message';
  }
}

// ---------- order status ----------

const LAST_STEP = { dine_in: 'served', pickup: 'ready', delivery: 'out_for_delivery' };
const ORDER = ['awaiting_payment', 'placed', 'accepted', 'preparing', 'ready', 'served', 'picked_up', 'out_for_delivery', 'completed'];

/**
 * The step indicator: 已下单 → 已接单 → 制作中 → 请取餐 / 已上菜 / 配送中. Each step is
 * {code, state: 'done' | 'current' | 'todo'}: the step of the current status is 'current', the
 * ones before it 'done'. Ready food counts as the last step (请取餐, 待上菜, 待配送); a
 * finished order has every step done; a cancelled one none.
 */
export function orderSteps(channel, status) {
  const last = LAST_STEP[channel] || 'ready';
  const steps = ['placed', 'accepted', 'preparing', last];
  const at = {
    awaiting_payment: 0, placed: 0, accepted: 1, preparing: 2, ready: 3,
    out_for_delivery: 3, served: 4, picked_up: 4, completed: 4,
  }[status] ?? -1;
  return steps.map((code, i) => ({ code, state: i < at ? 'done' : i === at ? 'current' : 'todo' }));
}

/** Whether an order has come to rest (no more updates expected). */
export const isFinal = (status) => status === 'completed' || status === 'cancelled';

/** Whether `status` comes after `other` in an order's life (for ignoring stale events). */
export const statusRank = (status) => (status === 'cancelled' ? 99 : ORDER.indexOf(status));

// ---------- the phone's own orders ----------

/** Adds an order to the stored list (newest first, no duplicates, at most `max`). */
export function rememberOrder(list, entry, max = 30) {
  return [entry, ...list.filter((e) => e.id !== entry.id)].slice(0, max);
}

// A guest's key to each order, handed out once when it is placed: without it (another phone,
// cleared storage) the server answers 404 as for no order, so it is kept per order id.

/** Adds `secret` for order `id` to the stored map, keeping the newest `max`. */
export function rememberSecret(map, id, secret, max = 30) {
  if (!secret) return map;
  const entries = Object.entries(map).filter(([key]) => key !== id);
  return Object.fromEntries([...entries, [id, secret]].slice(-max));
}

export function parseSecrets(text) {
  try {
    const data = JSON.parse(text);
    if (!data || typeof data !== 'object' || Array.isArray(data)) return {};
    return Object.fromEntries(Object.entries(data).filter(([, v]) => typeof v === 'string' && v));
  } catch {
    return {};
  }
}

/** The request headers that prove the order is this phone's (none for a signed-in diner). */
export const secretHeaders = (secret) => (secret ? { 'X-Order-Secret': secret } : {});

/** The order's live stream; EventSource cannot send headers, so the secret goes in the query. */
export const eventsUrl = (id, secret) =>
  `/api/v1/orders/${encodeURIComponent(id)}/events` + (secret ? `?secret=${encodeURIComponent(secret)}` : '');

export function parseOrders(text) {
  try {
    const data = JSON.parse(text);
    return Array.isArray(data) ? data.filter((e) => e && typeof e.id === 'string' && typeof e.path === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Pickup times offered after ASAP: every 15 minutes from now + lead until the store closes.
 * `now` = {minutes} since midnight at the store (the phone may be in another time zone).
 */
export function pickupTimes(now, { leadMinutes = 20, closesAt = '22:00', step = 15, max = 24 } = {}) {
  const [ch, cm] = closesAt.split(':').map(Number);
  const close = ch * 60 + cm;
  let t = Math.ceil((now.minutes + leadMinutes) / step) * step;
  const out = [];
  while (t <= close && t < 24 * 60 && out.length < max) {
    out.push(`${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`);
    t += step;
  }
  return out;
}

/** A quoted line's dish, with its spec when the dish has several, in the page's language. */
export function lineName(line, showSpec) {
  const name = localized(line.dish_name, line.dish_name_en);
  const spec = showSpec && line.sku_name ? localized(line.sku_name, line.sku_name_en) : null;
  if (!spec) return name;
  return lang() === 'en' ? `${name} (${spec})` : `${name}（${spec}）`;
}

/** A quoted option or combo item's name in the page's language. */
export const optionName = (option) => localized(option.name, option.name_en);
export const comboItemName = (item) => localized(item.dish_name, item.dish_name_en);

// ---------- delivery ----------

const DELIVERY_WORDS = {
  requested: ['正在为您呼叫骑手', 'Finding a rider'],
  assigned: ['骑手已接单', 'A rider has your order'],
  picked_up: ['配送中', 'On the way'],
  delivered: ['已送达', 'Delivered'],
  // The diner is not told a courier gave up: the store gives the order to someone else.
  failed: ['正在为您重新安排骑手', 'Arranging another rider'],
};

/** The line the order page shows about its delivery (骑手已接单 · 王师傅), or null for none. */
export function deliveryLine(delivery, lang = 'zh') {
  if (!delivery) return null;
  const words = DELIVERY_WORDS[delivery.state];
  if (!words) return null;
  const text = lang === 'en' ? words[1] : words[0];
  return delivery.state === 'assigned' && delivery.rider_name ? `${text} · ${delivery.rider_name}` : text;
}
