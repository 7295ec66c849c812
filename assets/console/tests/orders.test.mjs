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
