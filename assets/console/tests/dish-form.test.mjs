// The editor's form ↔ DishDraft mapping and the menu list's small calculations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dishToForm, dishToDraft, emptyForm, formToDraft, formatYuanPlain, parseDelta, parseCount,
  priceLabel, priceRange, soldOutState, matchesSearch, reorder, skuChoices,
  storeFormToSettings, storeSkuToForm, withSoldOut, fieldPath,
} from '../dish-form.js';

const noodles = {
  id: 'd1', brand_id: 'b', category_id: 'c1', kind: 'single', name: '红烧牛肉面', name_en: 'Braised Beef Noodles',
  description: '慢炖', description_en: null, tags: ['招牌', '辣'], ingredients: null, allergens: [], calories_kcal: 620,
  portion: '一人份', sort_order: 0, station_id: 's1', on_shelf: true,
  availability: [{ weekdays: [1, 2, 3, 4, 5], start: '10:30', end: '14:30' }], image_ids: ['i1'],
  skus: [{ id: 'k1', code: 'NR-L', name: '大碗', name_en: null, price_fen: 3200 }, { id: 'k2', code: 'NR-M', name: '中碗', name_en: null, price_fen: 2850 }],
  option_groups: [{ id: 'g1', name: '加料', name_en: null, min_select: 0, max_select: 3, options: [{ id: 'o1', name: '加蛋', name_en: null, price_delta_fen: 200 }, { id: 'o2', name: '少面', name_en: null, price_delta_fen: -100 }] }],
  combo_slots: [],
};

test('yuan as typed: no trailing zeros, signs kept', () => {
  assert.equal(formatYuanPlain(3200), '32');
  assert.equal(formatYuanPlain(2850), '28.5');
  assert.equal(formatYuanPlain(1805), '18.05');
  assert.equal(formatYuanPlain(-100), '-1');
});

test('price deltas may be negative or signed', () => {
  assert.equal(parseDelta('2'), 200);
  assert.equal(parseDelta('+2.5'), 250);
  assert.equal(parseDelta('-1'), -100);
  assert.equal(parseDelta(''), 0);
  assert.equal(parseDelta('-'), null);
  assert.equal(parseDelta('abc'), null);
});

test('counts: empty gives the default, junk gives NaN', () => {
  assert.equal(parseCount(''), null);
  assert.equal(parseCount(' 12 '), 12);
  assert.ok(Number.isNaN(parseCount('1.5')));
});

test('a dish survives form and back unchanged, ids included', () => {
  const draft = dishToDraft(noodles);
  assert.equal(draft.name, '红烧牛肉面');
  assert.equal(draft.description_en, null);
  assert.equal(draft.calories_kcal, 620);
  assert.deepEqual(draft.skus, [
    { id: 'k1', code: 'NR-L', name: '大碗', name_en: null, price_fen: 3200 },
    { id: 'k2', code: 'NR-M', name: '中碗', name_en: null, price_fen: 2850 },
  ]);
  assert.deepEqual(draft.option_groups[0].options.map((o) => [o.id, o.price_delta_fen]), [['o1', 200], ['o2', -100]]);
  assert.equal(draft.option_groups[0].id, 'g1');
  assert.deepEqual(draft.availability, noodles.availability);
  assert.deepEqual(draft.combo_slots, []);
  for (const key of ['brand_id', 'id']) assert.ok(!(key in draft), `${key} is not part of a draft`);
});

test('a new dish leaves out ids and reports unparsable fields with server paths', () => {
  const form = emptyForm('c1');
  form.name = ' 新菜 ';
  form.skus[0] = { id: null, code: 'X1', name: '', name_en: '', price: '十八' };
  form.calories_kcal = '很多';
  form.option_groups = [{ id: null, name: '辣度', name_en: '', min: '1', max: '1', options: [{ id: null, name: '微辣', name_en: '', delta: 'x' }] }];
  const { draft, errors } = formToDraft(form);
  assert.equal(draft.name, '新菜');
  assert.ok(!('id' in draft.skus[0]));
  assert.equal(draft.skus[0].name, null);
  assert.deepEqual(errors, {
    'skus[0].price_fen': 'NOT_A_PRICE',
    calories_kcal: 'NOT_A_NUMBER',
    'option_groups[0].options[0].price_delta_fen': 'NOT_A_PRICE',
  });
});

test('an empty price is required, not zero', () => {
  const { errors } = formToDraft(emptyForm('c1'));
  assert.equal(errors['skus[0].price_fen'], 'REQUIRED');
});

test('combo slots are sent only for combos, and need a spec picked', () => {
  const form = emptyForm('c1', 'combo');
  form.skus[0].price = '39';
  let { draft, errors } = formToDraft(form);
  assert.equal(draft.kind, 'combo');
  assert.equal(draft.combo_slots.length, 1);
  assert.equal(errors['combo_slots[0].choices[0].sku_id'], 'REQUIRED');
  form.combo_slots[0].choices[0].sku_id = 'k1';
  form.combo_slots[0].choices[0].quantity = '2';
  ({ draft, errors } = formToDraft(form));
  assert.deepEqual(errors, {});
  assert.deepEqual(draft.combo_slots[0].choices, [{ sku_id: 'k1', quantity: 2, price_delta_fen: 0 }]);
  form.kind = 'single';
  assert.deepEqual(formToDraft(form).draft.combo_slots, []);
});

test('combo form keeps slot and choice ids', () => {
  const combo = { ...noodles, kind: 'combo', option_groups: [], combo_slots: [{ id: 'z1', name: '主食', name_en: null, min_select: 1, max_select: 1, choices: [{ id: 'x1', sku_id: 'k9', quantity: 1, price_delta_fen: 400 }] }] };
  const draft = dishToDraft(combo);
  assert.deepEqual(draft.combo_slots, [{ id: 'z1', name: '主食', name_en: null, min_select: 1, max_select: 1, choices: [{ id: 'x1', sku_id: 'k9', quantity: 1, price_delta_fen: 400 }] }]);
  assert.equal(dishToForm(combo).combo_slots[0].choices[0].delta, '4');
});

test('price range uses the store price where set', () => {
  assert.deepEqual(priceRange(noodles), { min: 2850, max: 3200 });
  assert.equal(priceLabel(noodles), '¥28.50–¥32');
  assert.equal(priceLabel(noodles, { k1: { price_fen: 2850 } }), '¥28.50');
});

test('sold-out state across specs', () => {
  assert.equal(soldOutState(noodles, {}), 'none');
  assert.equal(soldOutState(noodles, { k1: { sold_out: true } }), 'some');
  assert.equal(soldOutState(noodles, { k1: { sold_out: true }, k2: { sold_out: true } }), 'all');
});

test('search matches names, English, tags and codes', () => {
  assert.ok(matchesSearch(noodles, '牛肉'));
  assert.ok(matchesSearch(noodles, 'beef'));
  assert.ok(matchesSearch(noodles, '招牌'));
  assert.ok(matchesSearch(noodles, 'nr-m'));
  assert.ok(!matchesSearch(noodles, '奶茶'));
  assert.ok(matchesSearch(noodles, '  '));
});

test('reorder swaps sort orders, renumbering when they tie', () => {
  const a = { id: 'a', name: 'A', sort_order: 0 };
  const b = { id: 'b', name: 'B', sort_order: 10 };
  const c = { id: 'c', name: 'C', sort_order: 20 };
  assert.deepEqual(reorder([a, b, c], 1, -1).map(({ item, sort_order }) => [item.id, sort_order]), [['b', 0], ['a', 10]]);
  assert.deepEqual(reorder([a, b, c], 0, -1), []);
  const tied = [{ id: 'x', name: 'X', sort_order: 5 }, { id: 'y', name: 'Y', sort_order: 5 }];
  assert.deepEqual(reorder(tied, 0, 1).map(({ item, sort_order }) => [item.id, sort_order]), [['y', 0], ['x', 10]]);
});

test('combo choices list single dishes\' specs, not the combo itself', () => {
  const combo = { ...noodles, id: 'd2', kind: 'combo' };
  const choices = skuChoices([noodles, combo]);
  assert.deepEqual(choices.map((c) => c.label), ['红烧牛肉面 · 大碗', '红烧牛肉面 · 中碗']);
  assert.deepEqual(skuChoices([noodles], 'd1'), []);
});

test('store settings: empty means unset, junk is reported', () => {
  const form = storeSkuToForm({ price_fen: 2600, stock: null, daily_limit: 20, low_stock_threshold: 5, sold_out: false });
  assert.deepEqual(form, { price: '26', stock: '', daily_limit: '20', low_stock_threshold: '5', sold_out: false });
  assert.deepEqual(storeFormToSettings(form), { settings: { price_fen: 2600, stock: null, daily_limit: 20, low_stock_threshold: 5, sold_out: false }, errors: {} });
  const bad = storeFormToSettings({ ...form, price: 'x', stock: '-1' });
  assert.deepEqual(Object.keys(bad.errors).sort(), ['price_fen', 'stock']);
  assert.deepEqual(withSoldOut(undefined, true), { price_fen: null, stock: null, daily_limit: null, low_stock_threshold: null, sold_out: true });
});

test('field paths split into parts', () => {
  assert.deepEqual(fieldPath('option_groups[0].options[2].name'), ['option_groups', 0, 'options', 2, 'name']);
});
