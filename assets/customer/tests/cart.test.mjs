// Cart rules without a browser: run with `node --test assets/customer/tests/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addLine, emptyCart, emptySelection, lineKey, packingFee, parseCart, reconcile, removeLine,
  setQuantity, toggle, totals, unitPrice, validate, choiceLabels, dishCount,
} from '../cart.js';

const noodles = {
  id: 'd1', kind: 'single', name: '红烧牛肉面', price_from_fen: 2800, sold_out: false,
  skus: [
    { id: 'big', name: '大碗', price_fen: 3200, sold_out: false },
    { id: 'mid', name: '中碗', price_fen: 2800, sold_out: false },
  ],
  option_groups: [
    { id: 'spice', name: '辣度', min_select: 1, max_select: 1, options: [
      { id: 'mild', name: '微辣', price_delta_fen: 0 }, { id: 'hot', name: '特辣', price_delta_fen: 0 }] },
    { id: 'extra', name: '加料', min_select: 0, max_select: 2, options: [
      { id: 'egg', name: '加蛋', price_delta_fen: 200 }, { id: 'beef', name: '加牛肉', price_delta_fen: 1000 },
      { id: 'more', name: '加面', price_delta_fen: 300 }] },
  ],
  combo_slots: [],
};

const combo = {
  id: 'c1', kind: 'combo', name: '双人套餐', price_from_fen: 9800, sold_out: false,
  skus: [{ id: 'c1sku', name: null, price_fen: 9800, sold_out: false }],
  option_groups: [],
  combo_slots: [
    { id: 'main', name: '主食', min_select: 1, max_select: 1, choices: [
      { id: 'm1', dish_name: '牛肉面', sku_name: '大碗', quantity: 1, price_delta_fen: 0, sold_out: false }] },
    { id: 'drinks', name: '饮品两杯', min_select: 2, max_select: 2, choices: [
      { id: 'k1', dish_name: '酸梅汤', quantity: 1, price_delta_fen: 0, sold_out: false },
      { id: 'k2', dish_name: '奶茶', quantity: 1, price_delta_fen: 300, sold_out: false },
      { id: 'k3', dish_name: '可乐', quantity: 1, price_delta_fen: 0, sold_out: true }] },
  ],
};

test('a fresh selection picks the first spec in stock and the fixed combo items, nothing else', () => {
  assert.deepEqual(emptySelection(noodles), { skuId: 'big', optionIds: [], choiceIds: [] });
  const bigGone = { ...noodles, skus: [{ ...noodles.skus[0], sold_out: true }, noodles.skus[1]] };
  assert.equal(emptySelection(bigGone).skuId, 'mid');
  assert.deepEqual(emptySelection(combo), { skuId: 'c1sku', optionIds: [], choiceIds: ['m1'] });
});

test('line identity ignores the order choices were tapped in', () => {
  const a = lineKey({ skuId: 'big', optionIds: ['mild', 'egg'], choiceIds: [] });
  const b = lineKey({ skuId: 'big', optionIds: ['egg', 'mild'], choiceIds: [] });
  assert.equal(a, b);
  assert.notEqual(a, lineKey({ skuId: 'mid', optionIds: ['egg', 'mild'], choiceIds: [] }));
  assert.notEqual(a, lineKey({ skuId: 'big', optionIds: ['mild'], choiceIds: [] }));
});

test('single-choice groups swap, multi-choice groups stop at max', () => {
  const spice = ['mild', 'hot'];
  let selected = toggle([], spice, 'mild', 1);
  selected = toggle(selected, spice, 'hot', 1);
  assert.deepEqual(selected, ['hot']);
  const extra = ['egg', 'beef', 'more'];
  selected = toggle(selected, extra, 'egg', 2);
  selected = toggle(selected, extra, 'beef', 2);
  assert.deepEqual(toggle(selected, extra, 'more', 2), ['hot', 'egg', 'beef']);
  assert.deepEqual(toggle(selected, extra, 'egg', 2), ['hot', 'beef']);
});

test('validation names what is missing, too many, or sold out', () => {
  const kinds = (p) => p.map((x) => `${x.kind}:${x.id}`);
  assert.deepEqual(kinds(validate(noodles, { skuId: null, optionIds: [], choiceIds: [] })), ['sku:null', 'option_group:spice']);
  assert.deepEqual(validate(noodles, { skuId: 'big', optionIds: ['mild'], choiceIds: [] }), []);
  assert.deepEqual(kinds(validate(noodles, { skuId: 'big', optionIds: ['mild', 'egg', 'beef', 'more'], choiceIds: [] })), ['option_group:extra']);
  assert.deepEqual(kinds(validate(combo, { skuId: 'c1sku', optionIds: [], choiceIds: ['m1', 'k1'] })), ['combo_slot:drinks']);
  assert.deepEqual(validate(combo, { skuId: 'c1sku', optionIds: [], choiceIds: ['m1', 'k1', 'k2'] }), []);
  assert.deepEqual(kinds(validate(combo, { skuId: 'c1sku', optionIds: [], choiceIds: ['m1', 'k1', 'k3'] })), ['sold_out:k3']);
  const soldOut = { ...noodles, skus: [{ ...noodles.skus[0], sold_out: true }, noodles.skus[1]] };
  assert.deepEqual(kinds(validate(soldOut, { skuId: 'big', optionIds: ['mild'], choiceIds: [] })), ['sold_out:big']);
});

test('unit price adds spec, option and combo deltas in fen', () => {
  assert.equal(unitPrice(noodles, { skuId: 'big', optionIds: ['mild', 'egg', 'beef'], choiceIds: [] }), 3200 + 200 + 1000);
  assert.equal(unitPrice(combo, { skuId: 'c1sku', optionIds: [], choiceIds: ['m1', 'k1', 'k2'] }), 9800 + 300);
});

test('adding the same choices merges lines; totals count units and fen', () => {
  const sel = { skuId: 'mid', optionIds: ['mild', 'egg'], choiceIds: [] };
  let cart = addLine(emptyCart(), noodles, sel, 1);
  cart = addLine(cart, noodles, { ...sel, optionIds: ['egg', 'mild'] }, 2);
  cart = addLine(cart, combo, { skuId: 'c1sku', optionIds: [], choiceIds: ['m1', 'k1', 'k2'] });
  assert.equal(cart.lines.length, 2);
  assert.equal(cart.lines[0].quantity, 3);
  assert.deepEqual(totals(cart), { count: 4, totalFen: 3 * 3000 + 10100 });
  assert.equal(dishCount(cart, 'd1'), 3);
  cart = setQuantity(cart, cart.lines[0].key, 1);
  assert.deepEqual(totals(cart), { count: 2, totalFen: 3000 + 10100 });
  cart = removeLine(cart, cart.lines[0].key);
  assert.deepEqual(totals(cart), { count: 1, totalFen: 10100 });
});

test('reconcile reprices from the menu and sets aside what is gone or sold out', () => {
  let cart = addLine(emptyCart(), noodles, { skuId: 'big', optionIds: ['mild'], choiceIds: [] }, 2);
  cart = addLine(cart, noodles, { skuId: 'mid', optionIds: ['hot'], choiceIds: [] }, 1);
  cart.lines.push({ key: 'x', dishId: 'gone', skuId: 's', optionIds: [], choiceIds: [], quantity: 1, unitFen: 100 });
  const repriced = { ...noodles, skus: [{ ...noodles.skus[0], price_fen: 3500 }, { ...noodles.skus[1], sold_out: true }] };
  const after = reconcile(cart, new Map([['d1', repriced]]));
  assert.deepEqual(after.lines.map((l) => l.unavailable), [false, true, true]);
  assert.deepEqual(totals(after), { count: 2, totalFen: 7000 });
});

test('labels list the spec, options and chosen combo items', () => {
  assert.deepEqual(choiceLabels(noodles, { skuId: 'big', optionIds: ['egg', 'mild'], choiceIds: [] }), ['大碗', '微辣', '加蛋']);
  assert.deepEqual(choiceLabels(combo, { skuId: 'c1sku', optionIds: [], choiceIds: ['m1', 'k1', 'k2'] }), ['酸梅汤', '奶茶']);
});

test('packing fee per item or per order', () => {
  assert.equal(packingFee({ kind: 'per_item', fee_fen: 100 }, 3), 300);
  assert.equal(packingFee({ kind: 'per_order', fee_fen: 200 }, 3), 200);
  assert.equal(packingFee({ kind: 'none' }, 3), 0);
  assert.equal(packingFee({ kind: 'per_order', fee_fen: 200 }, 0), 0);
});

test('a damaged stored cart becomes an empty one, bad lines are dropped', () => {
  assert.deepEqual(parseCart('not json'), { lines: [] });
  assert.deepEqual(parseCart('{"lines": 3}'), { lines: [] });
  const cart = parseCart(JSON.stringify({ lines: [{ key: 'k', dishId: 'd', skuId: 's', quantity: 2 }, { key: 'k2', quantity: -1 }] }));
  assert.equal(cart.lines.length, 1);
  assert.deepEqual(cart.lines[0].optionIds, []);
});
