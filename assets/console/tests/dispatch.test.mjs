// 派单 on the board: when it is offered, which buttons a delivery in hand leaves, how board
// events update an order's delivery, and the spoken alert when a courier gives up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announcementFor, applyDeliveryEvent, buttonsWithDelivery, canDispatch } from '../order-logic.js';

const order = (status, channel = 'delivery') => ({ id: 'o1', status, channel, cancel_requested: false, placed_at_ms: 0, pickup_number: 23 });

test('派单 is offered on accepted delivery orders that have no active delivery', () => {
  assert.equal(canDispatch(order('ready')), true);
  assert.equal(canDispatch(order('preparing')), true);
  assert.equal(canDispatch(order('placed')), false, 'accept first');
  assert.equal(canDispatch(order('out_for_delivery')), false);
  assert.equal(canDispatch(order('ready', 'pickup')), false);
  assert.equal(canDispatch(order('ready'), { state: 'assigned' }), false);
  assert.equal(canDispatch(order('ready'), { state: 'failed' }), true, 'a failed delivery is given out again');
  assert.equal(canDispatch(order('ready'), { state: 'cancelled' }), true);
});

test('while a rider has the order, the board does not send it out or complete it by hand', () => {
  const actions = (o, d) => buttonsWithDelivery(o, d).map((b) => b.action);
  assert.deepEqual(actions(order('ready')), ['dispatch', 'cancel']);
  assert.deepEqual(actions(order('ready'), { state: 'assigned' }), ['cancel']);
  assert.deepEqual(actions(order('out_for_delivery'), { state: 'picked_up' }), ['cancel']);
  assert.deepEqual(actions(order('ready'), { state: 'failed' }), ['dispatch', 'cancel']);
});

test('a delivery step on the board updates the card, and a failure is heard once', () => {
  const failed = { order: order('ready'), delivery_state: 'failed', reason: '附近暂无骑手', action: 'delivery', kind: 'order.delivery' };
  let { deliveries, failed: alert } = applyDeliveryEvent({ o1: { state: 'requested' } }, failed);
  assert.deepEqual(deliveries.o1, { state: 'failed', note: '附近暂无骑手' });
  assert.equal(alert, true);
  ({ failed: alert } = applyDeliveryEvent(deliveries, failed));
  assert.equal(alert, false, 'a replayed event does not alert again');
  const plain = applyDeliveryEvent(deliveries, { order: order('ready'), action: 'accept' });
  assert.equal(plain.deliveries, deliveries);
  assert.equal(announcementFor(failed, 'zh'), '取餐号 23 配送失败，请重新派单');
  assert.match(announcementFor(failed, 'en'), /Delivery failed for number 23/);
});
