// The table's shared cart as plain data: the server's snapshot, the changes this phone has not
// sent yet (kept in localStorage so a phone that drops off the network replays them), and the
// view the diner sees = snapshot with the unsent changes applied on top. No DOM, no fetch.
//
// Changes carry absolute quantities, so sending one twice is harmless; the queue coalesces
// changes to the same line so a flaky minute does not pile up dozens of requests.

import { lineKey } from './cart.js';

/** Random bytes, from crypto where it exists (also on plain-http origins, unlike randomUUID). */
function randomBytes(n) {
  const bytes = new Uint8Array(n);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
  return bytes;
}

function format(bytes) {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A random (version 4) UUID: idempotency keys. */
export function uuid4() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return format(b);
}

/** A time-ordered (version 7) UUID: cart line ids, so lines keep the order they were added in. */
export function uuid7(now = Date.now()) {
  const b = randomBytes(16);
  let ms = Math.floor(now);
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return format(b);
}

/** The default nickname: 顾客 and four digits. */
export const defaultNickname = (random = Math.random) => '顾客' + String(Math.floor(random() * 9000) + 1000);

/** What the client stores as a line's `line` object: the order request fields plus display hints. */
export function lineBody(dish, selection, unitFen, note) {
  return {
    sku_id: selection.skuId,
    option_ids: [...selection.optionIds],
    combo_choice_ids: [...selection.choiceIds],
    ...(note ? { note } : {}),
    dish_id: dish.id,
    dish_name: dish.name,
    unit_fen: unitFen,
  };
}

/** A server line record → the cart line shape the menu page uses (see cart.js). */
export function fromRecord(record) {
  const line = record.line || {};
  const selection = { skuId: line.sku_id, optionIds: line.option_ids || [], choiceIds: line.combo_choice_ids || [] };
  return {
    key: record.id,
    id: record.id,
    lineKey: lineKey(selection),
    dishId: line.dish_id,
    skuId: selection.skuId,
    optionIds: [...selection.optionIds],
    choiceIds: [...selection.choiceIds],
    note: line.note || null,
    quantity: record.quantity,
    unitFen: line.unit_fen || 0,
    addedBy: record.added_by,
    updatedAtMs: record.updated_at_ms,
    body: line,
  };
}

/** Applies one change to a list of records ({id, line, quantity, added_by}); returns a new list. */
export function applyChange(records, change) {
  switch (change.kind) {
    case 'put': {
      const record = { id: change.line_id, line: change.line, quantity: change.quantity, added_by: change.added_by, updated_at_ms: Date.now(), pending: true };
      const at = records.findIndex((r) => r.id === change.line_id);
      if (change.quantity <= 0) return records.filter((r) => r.id !== change.line_id);
      if (at < 0) return [...records, record].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return records.map((r, i) => (i === at ? { ...r, line: change.line, quantity: change.quantity, pending: true } : r));
    }
    case 'set_quantity':
      if (change.quantity <= 0) return records.filter((r) => r.id !== change.line_id);
      return records.map((r) => (r.id === change.line_id ? { ...r, quantity: change.quantity, pending: true } : r));
    case 'remove':
      return records.filter((r) => r.id !== change.line_id);
    case 'clear':
      return [];
    default:
      return records;
  }
}

/** The lines the diner sees: the server's snapshot with every unsent change applied in order. */
export function view(snapshot, queue) {
  const records = queue.reduce((acc, entry) => applyChange(acc, entry.change), snapshot?.lines || []);
  return records.map((r) => ({ ...fromRecord(r), pending: !!r.pending }));
}

/**
 * Adds a change to the queue of unsent changes and returns the new queue. Entries are
 * {seq, change}; a new or rewritten entry gets a new seq, so an answer for a request that was
 * in flight removes only the entry that was sent.
 *   - clear drops everything before it;
 *   - a change to a line drops the earlier unsent changes to that line;
 *   - set_quantity on a line whose put has not been sent becomes that put with the new quantity
 *     (the server may not know the line yet); quantity 0 becomes remove.
 */
export function enqueue(queue, change, nextSeq) {
  const seq = nextSeq ?? queue.reduce((m, e) => Math.max(m, e.seq), 0) + 1;
  if (change.kind === 'clear') return [{ seq, change: { kind: 'clear' } }];
  let next = change;
  if (change.kind === 'set_quantity' && change.quantity <= 0) next = { kind: 'remove', line_id: change.line_id };
  if (next.kind === 'set_quantity') {
    const put = queue.find((e) => e.change.kind === 'put' && e.change.line_id === next.line_id);
    if (put) next = { ...put.change, quantity: next.quantity };
  }
  const rest = queue.filter((e) => e.change.line_id !== next.line_id);
  return [...rest, { seq, change: next }];
}

/** Removes the entry that was sent and answered. */
export const acknowledge = (queue, seq) => queue.filter((e) => e.seq !== seq);

/** Reads a stored queue, tolerating anything. */
export function parseQueue(text) {
  try {
    const data = JSON.parse(text);
    if (!Array.isArray(data)) return [];
    return data.filter((e) => e && Number.isInteger(e.seq) && e.change && typeof e.change.kind === 'string');
  } catch {
    return [];
  }
}

/** Whether a failed send should be tried again later (offline, server trouble) or dropped. */
export const isRetryable = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

/** Seconds to wait before the n-th retry (1, 2, 4, … up to 30). */
export const backoff = (attempt) => Math.min(30, 2 ** Math.max(0, attempt - 1));

/**
 * The change that adds `quantity` of a selection for diner `me`: to their own line with the
 * same choices if there is one (a new absolute quantity), else a new line.
 */
export function addChange(lines, me, dish, selection, unitFen, quantity, newId = uuid7) {
  const key = lineKey(selection);
  const mine = lines.find((l) => l.lineKey === key && l.addedBy === me && !l.note);
  if (mine) return { kind: 'put', line_id: mine.id, line: mine.body, quantity: mine.quantity + quantity, added_by: me };
  return { kind: 'put', line_id: newId(), line: lineBody(dish, selection, unitFen), quantity, added_by: me };
}
