// The orders board's decisions: columns, the next action per status and channel, buttons, lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnOf, nextAction, orderButtons, lineText, minutesSince, sortForColumn } from '../order-logic.js';

const order = (status, channel = 'pickup', extra = {}) => ({ id: status + channel, status, channel, cancel_requested: false, placed_at_ms: 0, ...extra });

test('statuses fall into the four columns', () => {
  assert.equal(columnOf(order('awaiting_payment')), 'new');
  assert.equal(columnOf(order('placed')), 'new');
  assert.equal(columnOf(order('accepted')), 'cooking');
  assert.equal(columnOf(order('preparing')), 'cooking');
  assert.equal(columnOf(order('ready')), 'ready');
  assert.equal(columnOf(order('served', 'dine_in')), 'ready');
  assert.equal(columnOf(order('out_for_delivery', 'delivery')), 'ready');
  assert.equal(columnOf(order('completed')), 'done');
  assert.equal(columnOf(order('cancelled')), 'done');
});

test('the next step follows the status, and for ready orders the channel', () => {
  assert.equal(nextAction(order('awaiting_payment')), 'pay');
  assert.equal(nextAction(order('placed')), 'accept');
  assert.equal(nextAction(order('accepted')), 'start_preparing');
  assert.equal(nextAction(order('preparing')), 'mark_ready');
  assert.equal(nextAction(order('ready', 'dine_in')), 'serve');
  assert.equal(nextAction(order('ready', 'pickup')), 'hand_over');
  assert.equal(nextAction(order('ready', 'delivery')), 'dispatch');
  for (const s of ['served', 'picked_up', 'out_for_delivery']) assert.equal(nextAction(order(s)), 'complete');
  assert.equal(nextAction(order('completed')), null);
  assert.equal(nextAction(order('cancelled')), null);
});

test('buttons: next step first and cancel; a cancel request puts approve and decline first', () => {
  assert.deepEqual(orderButtons(order('placed')), [{ action: 'accept', kind: 'primary' }, { action: 'cancel', kind: 'cancel' }]);
  assert.deepEqual(orderButtons(order('preparing', 'pickup', { cancel_requested: true })), [
    { action: 'cancel', kind: 'approve' }, { action: 'decline_cancel', kind: 'decline' }, { action: 'mark_ready', kind: 'secondary' },
  ]);
  assert.deepEqual(orderButtons(order('completed')), []);
  assert.deepEqual(orderButtons(order('cancelled', 'pickup', { cancel_requested: true })), []);
});

test('lines read as dish · spec with options and combo items', () => {
  assert.deepEqual(lineText({ dish_name: '红烧牛肉面', sku_name: '大碗', quantity: 2, options: [{ name: '微辣' }, { name: '加蛋' }], combo_items: [] }),
    { name: '红烧牛肉面 · 大碗', extras: '微辣、加蛋', quantity: 2, note: null });
  assert.deepEqual(lineText({ dish_name: '双人餐', sku_name: null, quantity: 1, options: [], combo_items: [{ dish_name: '可乐', quantity: 2 }, { dish_name: '薯条', quantity: 1 }], note: '不要葱' }),
    { name: '双人餐', extras: '可乐×2、薯条', quantity: 1, note: '不要葱' });
});

test('minutes since placing, never negative', () => {
  assert.equal(minutesSince(0, 59_999), 0);
  assert.equal(minutesSince(0, 125_000), 2);
  assert.equal(minutesSince(10_000, 0), 0);
});

test('open columns put the longest waiting first, cancel requests on top; done is newest first', () => {
  const a = order('placed', 'pickup', { id: 'a', placed_at_ms: 1 });
  const b = order('placed', 'pickup', { id: 'b', placed_at_ms: 2 });
  const c = order('placed', 'pickup', { id: 'c', placed_at_ms: 3, cancel_requested: true });
  assert.deepEqual(sortForColumn([b, c, a], 'new').map((o) => o.id), ['c', 'a', 'b']);
  assert.deepEqual(sortForColumn([a, b], 'done').map((o) => o.id), ['b', 'a']);
});

import { announcementFor, applyBoardEvent, hurryPending, matchesFilter, needsAttention } from '../order-logic.js';

test('a board event adds a new order and replaces an older copy, never a newer one', () => {
  const v1 = order('placed', 'pickup', { id: 'a', version: 1 });
  const v2 = { ...v1, status: 'accepted', version: 2 };
  let step = applyBoardEvent([], { order: v1 });
  assert.deepEqual([step.changed, step.orders.length], [true, 1]);
  step = applyBoardEvent(step.orders, { order: v2 });
  assert.deepEqual([step.changed, step.orders[0].status], [true, 'accepted']);
  // A replay after a reconnect repeats the first change: the newer copy stays.
  step = applyBoardEvent(step.orders, { order: v1 });
  assert.deepEqual([step.changed, step.orders[0].status], [false, 'accepted']);
  assert.equal(applyBoardEvent(step.orders, {}).changed, false);
});

test('the board speaks for new orders, 催单 and cancel requests, and for nothing else', () => {
  const pickup = order('placed', 'pickup', { pickup_number: 23 });
  assert.equal(announcementFor({ action: 'pay', status: 'placed', order: pickup }), '您有新的自取订单，取餐号 23');
  assert.equal(announcementFor({ action: 'pay', status: 'placed', order: pickup }, 'en'), 'New pickup order, number 23');
  const table = order('placed', 'dine_in', { pickup_number: 5, table_code: 'A3' });
  assert.equal(announcementFor({ action: 'place', status: 'placed', order: table }), '您有新的堂食订单，A3 桌');
  // Auto-accepted by the time the board reads it: the change itself said `placed`, so it still sounds.
  const auto = { ...order('accepted', 'delivery', { pickup_number: 8 }) };
  assert.equal(announcementFor({ action: 'pay', status: 'placed', order: auto }), '您有新的外卖订单，取餐号 8');
  assert.equal(announcementFor({ action: 'hurry', kind: 'order.hurry', status: 'preparing', order: pickup }), '取餐号 23催单');
  const asking = { ...pickup, cancel_requested: true };
  assert.equal(announcementFor({ action: 'cancel_requested', kind: 'order.cancel_requested', status: 'accepted', order: asking }), '取餐号 23申请取消');
  // An unpaid order is not the store's to act on yet; a staff step says nothing.
  assert.equal(announcementFor({ action: 'place', status: 'awaiting_payment', order: order('awaiting_payment') }), null);
  assert.equal(announcementFor({ action: 'accept', status: 'accepted', order: order('accepted') }), null);
});

test('orders needing a decision: new, a cancel request, or a 催单 the kitchen still holds', () => {
  assert.equal(needsAttention(order('placed')), true);
  assert.equal(needsAttention(order('preparing')), false);
  assert.equal(needsAttention(order('preparing', 'pickup', { last_hurry_ms: 5 })), true);
  assert.equal(hurryPending(order('ready', 'pickup', { last_hurry_ms: 5 })), false, 'out of the kitchen: answered');
  assert.equal(needsAttention(order('accepted', 'pickup', { cancel_requested: true })), true);
  assert.equal(needsAttention(order('cancelled', 'pickup', { cancel_requested: true })), false);
});

test('the filter matches channel, attention and text across number, table, dishes and note', () => {
  const o = order('accepted', 'dine_in', { pickup_number: 17, table_code: 'B2', note: '不要香菜', quote: { lines: [{ dish_name: '红烧牛肉面', sku_name: '大碗' }] } });
  assert.equal(matchesFilter(o), true);
  assert.equal(matchesFilter(o, { channel: 'pickup' }), false);
  assert.equal(matchesFilter(o, { channel: 'dine_in', text: '牛肉' }), true);
  assert.equal(matchesFilter(o, { text: '17' }), true);
  assert.equal(matchesFilter(o, { text: 'b2' }), true);
  assert.equal(matchesFilter(o, { text: '香菜' }), true);
  assert.equal(matchesFilter(o, { text: '饺子' }), false);
  assert.equal(matchesFilter(o, { attention: true }), false);
});

import { cashChange, likelyTenders } from '../order-logic.js';

test('cash: the change due, or how much is short, in fen', () => {
  assert.deepEqual(cashChange(2350, 5000), { ok: true, changeFen: 2650 });
  assert.deepEqual(cashChange(2350, 2350), { ok: true, changeFen: 0 });
  assert.deepEqual(cashChange(2350, 2000), { ok: false, reason: 'cash_too_little', shortFen: 350 });
  assert.equal(cashChange(2350, null).ok, false);
  assert.equal(cashChange(2350, NaN).ok, false);
});

test('cash: the notes a cashier is likely handed', () => {
  assert.deepEqual(likelyTenders(2350), [2350, 3000, 5000, 10000]);
  assert.deepEqual(likelyTenders(5000), [5000, 10000]);
  assert.deepEqual(likelyTenders(12800), [12800, 13000, 15000, 20000]);
});
