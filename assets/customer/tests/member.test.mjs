import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressPercent, bonusFor, yuanToFen, checkAmount, discountLabel } from '../member-logic.js';

const levels = [
  { level: 'bronze', growth_from: 0 },
  { level: 'silver', growth_from: 500 },
  { level: 'gold', growth_from: 2000 },
  { level: 'diamond', growth_from: 5000 },
];

test('progress runs from this level to the next and is full at the top', () => {
  assert.equal(progressPercent(250, levels, 'bronze'), 50);
  assert.equal(progressPercent(500, levels, 'silver'), 0);
  assert.equal(progressPercent(1999, levels, 'silver'), 99);
  assert.equal(progressPercent(9000, levels, 'diamond'), 100);
});

test('a recharge earns the bonus of the highest tier it reaches', () => {
  const tiers = [{ pay_fen: 10000, bonus_fen: 2000 }, { pay_fen: 20000, bonus_fen: 5000 }];
  assert.equal(bonusFor(9999, tiers), 0);
  assert.equal(bonusFor(15000, tiers), 2000);
  assert.equal(bonusFor(20000, tiers), 5000);
  assert.equal(bonusFor(100000, []), 0);
});

test('typed yuan become fen, and amounts out of range are named', () => {
  assert.equal(yuanToFen('150'), 15000);
  assert.equal(yuanToFen('99.5'), 9950);
  assert.equal(yuanToFen('0.01'), 1);
  assert.equal(yuanToFen('1e3'), null);
  assert.equal(yuanToFen('-5'), null);
  assert.equal(yuanToFen('1.234'), null);
  assert.equal(checkAmount(null, 100, 500000), 'notMoney');
  assert.equal(checkAmount(99, 100, 500000), 'tooSmall');
  assert.equal(checkAmount(500001, 100, 500000), 'tooLarge');
  assert.equal(checkAmount(10000, 100, 500000), null);
});

test('a discount reads as 折', () => {
  assert.equal(discountLabel(0), null);
  assert.equal(discountLabel(1000), '9折');
  assert.equal(discountLabel(500), '9.5折');
  assert.equal(discountLabel(200), '9.8折');
  assert.equal(discountLabel(250), '9.75折');
});
