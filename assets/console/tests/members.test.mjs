import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, fenOf, formOf } from '../member-logic.js';

const programme = {
  levels: [
    { level: 'bronze', growth_from: 0, benefits: { discount_bps: 0, free_delivery: false, birthday_gift: false } },
    { level: 'silver', growth_from: 500, benefits: { discount_bps: 200, free_delivery: false, birthday_gift: true } },
    { level: 'gold', growth_from: 2000, benefits: { discount_bps: 500, free_delivery: true, birthday_gift: true } },
    { level: 'diamond', growth_from: 5000, benefits: { discount_bps: 1000, free_delivery: true, birthday_gift: true } },
  ],
  points_per_yuan: 1,
  expiry_months: 12,
  member_day_weekday: 3,
  member_day_multiplier: 2,
  recharge_tiers: [{ pay_fen: 10000, bonus_fen: 2000 }, { pay_fen: 20000, bonus_fen: 5000 }],
};

test('the programme survives the form unchanged', () => {
  const { body, problems } = bodyOf(formOf(programme));
  assert.deepEqual(problems, {});
  assert.deepEqual(body, {
    levels: programme.levels,
    points_per_yuan: 1,
    expiry_months: 12,
    member_day_weekday: 3,
    member_day_multiplier: 2,
    recharge_tiers: programme.recharge_tiers,
  });
});

test('bad thresholds, discounts and tiers are named before sending', () => {
  const form = formOf(programme);
  form.levels[2].growth_from = '400';
  form.levels[3].discount_percent = '31';
  form.tiers.push({ pay: '100', bonus: '10' });
  form.tiers[0].bonus = '0';
  form.points_per_yuan = '101';
  const { problems } = bodyOf(form);
  assert.equal(problems['levels.2.growth_from'], 'thresholds_rising');
  assert.equal(problems['levels.3.discount'], 'discount_range');
  assert.equal(problems['tiers.0.bonus'], 'tier_bonus_range');
  assert.equal(problems.tiers, 'tiers_distinct');
  assert.equal(problems.points_per_yuan, 'points_range');
});

test('no member day sends none', () => {
  const form = formOf({ ...programme, member_day_weekday: null });
  assert.equal(bodyOf(form).body.member_day_weekday, null);
  assert.equal(fenOf('20.5'), 2050);
  assert.equal(fenOf('abc'), null);
});
