// 会员 page arithmetic, apart from the DOM so `node --test` can check it: how far a member is
// to the next level, what a recharge amount earns by the brand's tiers, which tiers to offer.

/** Percent (0–100, whole) of the way from this level's threshold to the next; 100 at the top. */
export function progressPercent(growth, levels, level) {
  const at = levels.findIndex((l) => l.level === level);
  const next = levels[at + 1];
  if (at < 0 || !next) return 100;
  const from = levels[at].growth_from;
  const span = next.growth_from - from;
  if (span <= 0) return 100;
  return Math.max(0, Math.min(100, Math.floor(((growth - from) * 100) / span)));
}

/** The bonus (fen) a recharge of `amountFen` earns: the highest tier it reaches. */
export function bonusFor(amountFen, tiers) {
  let bonus = 0;
  for (const tier of tiers) if (amountFen >= tier.pay_fen) bonus = Math.max(bonus, tier.bonus_fen);
  return bonus;
}

/** Parses what the diner typed as yuan ("150", "99.5") into fen, or null if it is not money. */
export function yuanToFen(text) {
  const clean = String(text ?? '').trim();
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, part = ''] = clean.split('.');
  return Number(whole) * 100 + Number((part + '00').slice(0, 2));
}

/** A recharge amount within the brand's range, or the reason it is not. */
export function checkAmount(fen, min, max) {
  if (fen == null) return 'notMoney';
  if (fen < min) return 'tooSmall';
  if (fen > max) return 'tooLarge';
  return null;
}

/** Discount basis points as the 折 a diner reads: 500 → "9.5折", 1000 → "9折", 0 → null. */
export function discountLabel(bps) {
  if (!bps) return null;
  const tenths = (10000 - bps) / 1000;
  return `${Number.isInteger(tenths) ? tenths : tenths.toFixed(2).replace(/0$/, '')}折`;
}
