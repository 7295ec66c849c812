import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextStep, telLink, sortDeliveries, minutesSince } from '../rider-logic.js';

const own = (state) => ({ courier_kind: 'own_rider', state, created_at_ms: 0 });

test('the rider picks up once the food is ready, then delivers', () => {
  assert.equal(nextStep(own('assigned'), { status: 'preparing' }), 'wait_ready');
  assert.equal(nextStep(own('assigned'), { status: 'ready' }), 'pick_up');
  assert.equal(nextStep(own('picked_up'), { status: 'out_for_delivery' }), 'deliver');
  assert.equal(nextStep(own('delivered'), { status: 'completed' }), null);
  assert.equal(nextStep({ ...own('assigned'), courier_kind: 'courier' }, { status: 'ready' }), null);
});

test('a phone becomes a tel: link only when it is a phone number', () => {
  assert.equal(telLink('138 0013 8000'), 'tel:13800138000');
  assert.equal(telLink('+86-138-0013-8000'), 'tel:+8613800138000');
  assert.equal(telLink('javascript:alert(1)'), null);
  assert.equal(telLink(null), null);
});

test('deliveries on the road come first, then the oldest', () => {
  const items = [
    { delivery: { state: 'assigned', created_at_ms: 2 } },
    { delivery: { state: 'picked_up', created_at_ms: 3 } },
    { delivery: { state: 'assigned', created_at_ms: 1 } },
  ];
  assert.deepEqual(sortDeliveries(items).map((i) => i.delivery.created_at_ms), [3, 1, 2]);
  assert.equal(minutesSince(0, 125000), 2);
  assert.equal(minutesSince(10, 0), 0);
});
