// Checkout payloads, idempotency, error mapping and status steps: `node --test assets/customer/tests/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attemptFor, errorAction, fingerprint, lineIndex, lineProblems, missingFields, orderBody, orderSteps,
  orderableLines, parseOrders, pickupTimes, quoteBody, rememberOrder,
  eventsUrl, parseSecrets, rememberSecret, secretHeaders,
} from '../ordering.js';

const cart = {
  lines: [
    { key: 'a', dishId: 'd1', skuId: 's1', optionIds: ['o1'], choiceIds: [], quantity: 2, unitFen: 2800 },
    { key: 'b', dishId: 'd2', skuId: 's2', optionIds: [], choiceIds: [], quantity: 1, unitFen: 900, unavailable: true },
    { key: 'c', dishId: 'd3', skuId: 's3', optionIds: [], choiceIds: ['c1', 'c2'], quantity: 1, unitFen: 9800, note: '不要葱' },
  ],
};

test('only orderable lines are sent, in order', () => {
  assert.deepEqual(orderableLines(cart).map((l) => l.key), ['a', 'c']);
});

test('quote body per channel', () => {
  const lines = orderableLines(cart);
  assert.deepEqual(quoteBody(lines, { channel: 'dine_in', diners: 3, tableToken: 'T', deliveryTo: { latitude_e6: 1, longitude_e6: 2 } }), {
    channel: 'dine_in',
    lines: [
      { sku_id: 's1', quantity: 2, option_ids: ['o1'], combo_choice_ids: [] },
      { sku_id: 's3', quantity: 1, option_ids: [], combo_choice_ids: ['c1', 'c2'], note: '不要葱' },
    ],
    diners: 3,
    table_token: 'T',
  });
  const pickup = quoteBody(lines, { channel: 'pickup', diners: 3, tableToken: 'T' });
  assert.equal(pickup.diners, undefined);
  assert.equal(pickup.table_token, undefined);
  assert.deepEqual(quoteBody(lines, { channel: 'delivery', deliveryTo: { latitude_e6: 1, longitude_e6: 2 } }).delivery_to, { latitude_e6: 1, longitude_e6: 2 });
});

test('order body adds quote version, note, pickup time and delivery contact', () => {
  const lines = orderableLines(cart);
  const pickup = orderBody(lines, { channel: 'pickup', note: '  少辣 ', pickupTime: '12:30' }, 'v1');
  assert.equal(pickup.quote_version, 'v1');
  assert.equal(pickup.note, '少辣');
  assert.equal(pickup.pickup_time, '12:30');
  assert.equal(pickup.contact, undefined);
  assert.equal(orderBody(lines, { channel: 'pickup' }, 'v1').pickup_time, 'asap');
  const delivery = orderBody(lines, {
    channel: 'delivery', contactName: ' 王 ', contactPhone: '138 0013 8000', address: '南京西路 2 号 3 楼', deliveryTo: { latitude_e6: 1, longitude_e6: 2 },
  }, 'v2');
  assert.deepEqual(delivery.contact, { name: '王', phone: '13800138000' });
  assert.equal(delivery.delivery_address, '南京西路 2 号 3 楼');
  assert.equal(delivery.pickup_time, undefined);
  assert.equal(orderBody(lines, { channel: 'dine_in', note: '' }, 'v').note, undefined);
});

test('delivery needs name, a mainland mobile number, an address and a point', () => {
  assert.deepEqual(missingFields({ channel: 'delivery', contactPhone: '12345' }), ['contactName', 'contactPhone', 'address', 'deliveryTo']);
  assert.deepEqual(missingFields({ channel: 'delivery', contactName: '王', contactPhone: '13800138000', address: 'x', deliveryTo: {} }), []);
  assert.deepEqual(missingFields({ channel: 'pickup', pickupTime: 'soon' }), ['pickupTime']);
  assert.deepEqual(missingFields({ channel: 'dine_in' }), []);
});

test('the idempotency key is kept while the body is the same, and renewed when it changes', () => {
  let n = 0;
  const newKey = () => `k${++n}`;
  const body = { channel: 'pickup', lines: [{ sku_id: 's1', quantity: 1 }], quote_version: 'v1' };
  const first = attemptFor(null, body, newKey);
  assert.equal(first.key, 'k1');
  assert.equal(attemptFor(first, { ...body }, newKey).key, 'k1', 'a retry reuses the key');
  assert.equal(attemptFor(first, { quote_version: 'v2', lines: body.lines, channel: 'pickup' }, newKey).key, 'k1', 'a re-quote alone keeps the key');
  assert.equal(attemptFor(first, { ...body, lines: [{ sku_id: 's1', quantity: 2 }] }, newKey).key, 'k2');
  assert.equal(fingerprint({ b: 1, a: [{ y: 1, x: 2 }] }), fingerprint({ a: [{ x: 2, y: 1 }], b: 1 }));
});

test('errors map back to the lines they name', () => {
  assert.equal(lineIndex('lines[3]'), 3);
  assert.equal(lineIndex('lines[12].quantity'), 12);
  assert.equal(lineIndex('diners'), null);
  const { byLine, general } = lineProblems({
    code: 'LINE_PROBLEMS',
    details: [
      { field: 'lines[1]', code: 'SOLD_OUT', text: '红烧牛肉面已售罄' },
      { field: 'lines[1]', code: 'UNKNOWN_OPTION', message: '口味已变更' },
      { field: 'note', code: 'NOTE_TOO_LONG', message: '备注太长' },
    ],
  });
  assert.deepEqual(byLine.get(1), [{ code: 'SOLD_OUT', text: '红烧牛肉面已售罄' }, { code: 'UNKNOWN_OPTION', text: '口味已变更' }]);
  assert.deepEqual(general, [{ code: 'NOTE_TOO_LONG', text: '备注太长' }]);
  assert.equal(lineProblems(null).byLine.size, 0);
});

test('each error code has a next step', () => {
  assert.equal(errorAction({ code: 'NETWORK', status: 0 }), 'retry');
  assert.equal(errorAction({ code: 'STALE_QUOTE', status: 409 }), 'requote');
  assert.equal(errorAction({ code: 'LINE_PROBLEMS', status: 422 }), 'lines');
  assert.equal(errorAction({ code: 'SOLD_OUT', status: 409 }), 'lines');
  assert.equal(errorAction({ code: 'TABLE_NOT_OPEN', status: 409 }), 'waiter');
  assert.equal(errorAction({ code: 'IDEMPOTENCY_KEY_REUSED', status: 409 }), 'new-key');
  assert.equal(errorAction({ code: 'HTTP_502', status: 502 }), 'retry');
  assert.equal(errorAction({ code: 'OUTSIDE_DELIVERY_ZONES', status: 422 }), 'message');
});

test('status steps per channel', () => {
  const states = (channel, status) => orderSteps(channel, status).map((s) => s.state[0]).join('');
  assert.deepEqual(orderSteps('dine_in', 'placed').map((s) => s.code), ['placed', 'accepted', 'preparing', 'served']);
  assert.deepEqual(orderSteps('pickup', 'placed').map((s) => s.code), ['placed', 'accepted', 'preparing', 'ready']);
  assert.deepEqual(orderSteps('delivery', 'placed').map((s) => s.code), ['placed', 'accepted', 'preparing', 'out_for_delivery']);
  assert.equal(states('pickup', 'awaiting_payment'), 'cttt');
  assert.equal(states('pickup', 'placed'), 'cttt');
  assert.equal(states('pickup', 'accepted'), 'dctt');
  assert.equal(states('pickup', 'preparing'), 'ddct');
  assert.equal(states('pickup', 'ready'), 'dddc');
  assert.equal(states('pickup', 'picked_up'), 'dddd');
  assert.equal(states('dine_in', 'ready'), 'dddc');
  assert.equal(states('dine_in', 'served'), 'dddd');
  assert.equal(states('delivery', 'out_for_delivery'), 'dddc');
  assert.equal(states('delivery', 'completed'), 'dddd');
  assert.equal(states('pickup', 'cancelled'), 'tttt');
});

test('the phone keeps its own order list, newest first', () => {
  let list = rememberOrder([], { id: 'o1', path: '/s/x' });
  list = rememberOrder(list, { id: 'o2', path: '/t/y' });
  list = rememberOrder(list, { id: 'o1', path: '/s/x' });
  assert.deepEqual(list.map((e) => e.id), ['o1', 'o2']);
  assert.equal(rememberOrder(list, { id: 'o3', path: '/' }, 2).length, 2);
  assert.deepEqual(parseOrders('[{"id":"a","path":"/s/1"},{"id":1},"x"]'), [{ id: 'a', path: '/s/1' }]);
  assert.deepEqual(parseOrders('{'), []);
});

test('pickup times run every 15 minutes from the lead time to closing', () => {
  assert.deepEqual(pickupTimes({ minutes: 11 * 60 + 7 }, { closesAt: '12:30' }), ['11:30', '11:45', '12:00', '12:15', '12:30']);
  assert.deepEqual(pickupTimes({ minutes: 21 * 60 + 50 }, { closesAt: '22:00' }), []);
  assert.equal(pickupTimes({ minutes: 8 * 60 }, { closesAt: '22:00' }).length, 24, 'capped');
});

test('quoted lines read in the page language, with the spec only when it tells dishes apart', async () => {
  const { lineName, optionName } = await import('../ordering.js');
  const saved = new Map();
  globalThis.location ??= { search: '' };
  globalThis.localStorage ??= { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, String(v)) };
  const line = { dish_name: '红烧牛肉面', dish_name_en: 'Braised beef noodles', sku_name: '大碗', sku_name_en: 'Large' };
  globalThis.localStorage.setItem('diancan.lang', 'zh');
  assert.equal(lineName(line, true), '红烧牛肉面（大碗）');
  assert.equal(lineName(line, false), '红烧牛肉面');
  globalThis.localStorage.setItem('diancan.lang', 'en');
  assert.equal(lineName(line, true), 'Braised beef noodles (Large)');
  assert.equal(lineName({ dish_name: '小笼包', dish_name_en: null, sku_name: null }, true), '小笼包', 'no English: the Chinese name');
  assert.equal(optionName({ name: '微辣', name_en: 'Mild' }), 'Mild');
  globalThis.localStorage.setItem('diancan.lang', 'zh');
});

test('each order keeps its secret, the newest few, and sends it as a header or in the stream URL', () => {
  let secrets = rememberSecret({}, 'o1', 's1');
  secrets = rememberSecret(secrets, 'o2', 's2');
  secrets = rememberSecret(secrets, 'o1', 's1b');
  assert.deepEqual(secrets, { o2: 's2', o1: 's1b' });
  assert.deepEqual(rememberSecret(secrets, 'o3', undefined), secrets, 'a signed-in diner gets none');
  assert.deepEqual(Object.keys(rememberSecret(secrets, 'o3', 's3', 2)), ['o1', 'o3']);
  assert.deepEqual(parseSecrets('{"a":"x","b":1,"c":""}'), { a: 'x' });
  assert.deepEqual(parseSecrets('[1]'), {});
  assert.deepEqual(parseSecrets('{'), {});
  assert.deepEqual(secretHeaders('s1'), { 'X-Order-Secret': 's1' });
  assert.deepEqual(secretHeaders(undefined), {});
  assert.equal(eventsUrl('o 1', 'a+b'), '/api/v1/orders/o%201/events?secret=a%2Bb');
  assert.equal(eventsUrl('o1'), '/api/v1/orders/o1/events');
});

import { offerChoices, offerKind, toggleOffer } from '../ordering.js';

const langStore = new Map();
globalThis.location ??= { search: '' };
globalThis.localStorage ??= { getItem: (k) => langStore.get(k) ?? null, setItem: (k, v) => langStore.set(k, String(v)) };

const promoQuote = {
  chosen: ['promotion:p1', 'coupon:g1'],
  discounts: [
    { source: 'promotion:p1', label: '满50减5', amount_fen: 500, class: 'order' },
    { source: 'coupon:g1', label: '无门槛5元券', amount_fen: 500, class: 'order' },
  ],
  gifts: [],
  not_applicable: [{ source: 'coupon:g2', label: '满100减20券', code: 'THRESHOLD_NOT_MET', message: '还差 44 元可用', message_en: 'Spend ¥44 more to use it' }],
};

test('a quote lists the offers it uses and the ones it leaves out with the reason', () => {
  const choices = offerChoices(promoQuote);
  assert.deepEqual(choices.map((c) => [c.source, c.applied]), [['promotion:p1', true], ['coupon:g1', true], ['coupon:g2', false]]);
  assert.equal(choices[1].fen, 500);
  assert.equal(choices[2].reason, '还差 44 元可用');
  assert.equal(offerKind('coupon:g1'), 'coupon');
  assert.deepEqual(offerChoices(null), []);
});

test('tapping an offer picks from the quote\'s combination, and the pick goes into the quote body', () => {
  const without = toggleOffer(null, promoQuote, 'coupon:g1');
  assert.deepEqual(without, ['promotion:p1']);
  assert.deepEqual(toggleOffer(without, promoQuote, 'coupon:g2'), ['promotion:p1', 'coupon:g2']);
  const body = quoteBody([], { channel: 'pickup', chosen: without });
  assert.deepEqual(body.chosen, ['promotion:p1']);
  assert.equal('chosen' in quoteBody([], { channel: 'pickup', chosen: null }), false);
});

import { cartBarNudge } from '../ordering.js';

test('the cart bar names the next threshold, else the saving, else nothing', () => {
  const hint = { message: '再买 8 元减 15', message_en: 'Spend ¥8 more to save ¥15' };
  assert.equal(cartBarNudge({ hint, discount_total_fen: 500 }), '再买 8 元减 15');
  assert.equal(cartBarNudge({ hint, discount_total_fen: 500 }, 'en'), 'Spend ¥8 more to save ¥15');
  assert.equal(cartBarNudge({ hint: null, discount_total_fen: 550 }), '已优惠 ¥5.50');
  assert.equal(cartBarNudge({ hint: null, discount_total_fen: 0 }), '');
  assert.equal(cartBarNudge(null), '');
});
