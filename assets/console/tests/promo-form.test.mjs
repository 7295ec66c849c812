// 营销 forms: what the console sends for each kind, the slips it catches, and the summaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
const saved = new Map();
globalThis.location ??= { search: '' };
globalThis.localStorage ??= { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, String(v)) };

import { describeBenefit, emptyCoupon, emptyPromotion, formToCoupon, formToPromotion, promotionToForm } from '../promo-form.js';

test('a 满减 form becomes tiers in fen that welcome coupons', () => {
  const form = { ...emptyPromotion('spend_and_save'), name: '满50减5', tiers: [{ threshold: '50', save: '5' }, { threshold: '100', save: '15' }] };
  const { body, errors } = formToPromotion(form);
  assert.deepEqual(errors, {});
  assert.deepEqual(body.benefit, { kind: 'spend_and_save', scope: {}, tiers: [{ threshold: 5000, save: 500 }, { threshold: 10000, save: 1500 }] });
  assert.deepEqual(body.stacking.with_classes, ['item', 'order', 'delivery_fee']);
  assert.equal(describeBenefit(body.benefit), '满50减5，满100减15');
});

test('zero, negative and falling tiers are caught before sending', () => {
  const zero = formToPromotion({ ...emptyPromotion(), name: 'x', tiers: [{ threshold: '50', save: '0' }] });
  assert.equal(zero.errors['tiers[0]'], 'MUST_BE_POSITIVE');
  const falling = formToPromotion({ ...emptyPromotion(), name: 'x', tiers: [{ threshold: '100', save: '15' }, { threshold: '50', save: '5' }] });
  assert.equal(falling.errors['tiers[1]'], 'MIN_ABOVE_MAX');
  const over = formToPromotion({ ...emptyPromotion(), name: 'x', tiers: [{ threshold: '5', save: '5' }] });
  assert.equal(over.errors['tiers[0]'], 'TOO_LARGE');
  assert.equal(formToPromotion({ ...emptyPromotion(), name: ' ' }).errors.name, 'REQUIRED');
});

test('an afternoon-tea price carries its hours; a listed promotion edits back into the same form', () => {
  const form = { ...emptyPromotion('slot_price'), name: '下午茶', dishId: 'd1', price: '12', from: '14:00', until: '17:00', version: 3 };
  const { body, errors } = formToPromotion(form);
  assert.deepEqual(errors, {});
  assert.deepEqual(body.conditions.schedule, [{ weekdays: [1, 2, 3, 4, 5, 6, 7], start: '14:00', end: '17:00' }]);
  assert.equal(body.version, 3);
  const back = promotionToForm({ id: 'p1', name: '下午茶', enabled: true, version: 3, ...body });
  assert.equal(back.price, '12');
  assert.equal(back.until, '17:00');
  const late = formToPromotion({ ...form, from: '17:00', until: '14:00' });
  assert.equal(late.errors.until, 'MIN_ABOVE_MAX');
});

test('第二份半价 sends the dish, the unit and the share paid', () => {
  const { body } = formToPromotion({ ...emptyPromotion('nth_item'), name: '第二份半价', dishId: 'd1' });
  assert.deepEqual(body.benefit, { kind: 'nth_item', scope: { dishes: ['d1'] }, nth: 2, pays: 5000 });
  assert.equal(describeBenefit(body.benefit, () => '牛肉面'), '牛肉面第2份5折');
});

test('coupon forms: a threshold must be above the amount off; limits are whole numbers', () => {
  const ok = formToCoupon({ ...emptyCoupon('threshold'), name: '满30减8', minSpend: '30', off: '8', totalLimit: '500' });
  assert.deepEqual(ok.errors, {});
  assert.deepEqual(ok.body.benefit, { kind: 'threshold', min_spend: 3000, off: 800 });
  assert.equal(ok.body.total_limit, 500);
  assert.deepEqual(ok.body.validity, { kind: 'days_after_claim', days: 7 });
  assert.equal(formToCoupon({ ...emptyCoupon('threshold'), name: 'x', minSpend: '5', off: '5' }).errors.minSpend, 'TOO_SMALL');
  assert.equal(formToCoupon({ ...emptyCoupon(), name: 'x', perDinerLimit: '1.5' }).errors.perDinerLimit, 'OUT_OF_RANGE');
  assert.equal(formToCoupon({ ...emptyCoupon(), name: 'x', off: '-1' }).errors.off, 'MUST_BE_POSITIVE');
});
