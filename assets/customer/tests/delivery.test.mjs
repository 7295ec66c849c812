// The diner's order page says where the delivery is: 骑手已接单 / 配送中 / 已送达.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryLine } from '../ordering.js';

test('each delivery state has its line, with the rider when the courier named them', () => {
  assert.equal(deliveryLine({ state: 'assigned', rider_name: '王师傅' }), '骑手已接单 · 王师傅');
  assert.equal(deliveryLine({ state: 'assigned', rider_name: null }), '骑手已接单');
  assert.equal(deliveryLine({ state: 'picked_up' }), '配送中');
  assert.equal(deliveryLine({ state: 'delivered' }), '已送达');
  assert.equal(deliveryLine({ state: 'delivered' }, 'en'), 'Delivered');
  assert.equal(deliveryLine({ state: 'failed' }), '正在为您重新安排骑手', 'the store gives it to another');
  assert.equal(deliveryLine({ state: 'cancelled' }), null);
  assert.equal(deliveryLine(null), null);
});
