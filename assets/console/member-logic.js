// 会员设置 form arithmetic, apart from the DOM so `node --test` can check it: the programme as
// the form edits it (yuan, percent) to the body the API takes (fen, basis points) and back, and
// the problems worth telling before sending.

const LEVELS = ['bronze', 'silver', 'gold', 'diamond'];

const yuanText = (fen) => (fen % 100 === 0 ? String(fen / 100) : (fen / 100).toFixed(2));

/** Parses typed yuan ("100", "20.5") into fen, or null when it is not an amount. */
export function fenOf(text) {
  const clean = String(text ?? '').trim();
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, part = ''] = clean.split('.');
  return Number(whole) * 100 + Number((part + '00').slice(0, 2));
}

/** The programme from the API as the form shows it. */
export function formOf(programme) {
  return {
    levels: programme.levels.map((l) => ({
      level: l.level,
      growth_from: String(l.growth_from),
      discount_percent: String(l.benefits.discount_bps / 100),
      free_delivery: l.benefits.free_delivery,
      birthday_gift: l.benefits.birthday_gift,
    })),
    points_per_yuan: String(programme.points_per_yuan),
    expiry_months: String(programme.expiry_months),
    member_day_weekday: programme.member_day_weekday ? String(programme.member_day_weekday) : '',
    member_day_multiplier: String(programme.member_day_multiplier || 1),
    tiers: programme.recharge_tiers.map((t) => ({ pay: yuanText(t.pay_fen), bonus: yuanText(t.bonus_fen) })),
  };
}

/** The form as the API's body, with the problems found (field path → message key). */
export function bodyOf(form) {
  const problems = {};
  const int = (text) => (/^\d{1,8}$/.test(String(text).trim()) ? Number(String(text).trim()) : null);
  const levels = form.levels.map((l, i) => {
    const growth = int(l.growth_from);
    const percent = Number(String(l.discount_percent).trim());
    if (growth === null) problems[`levels.${i}.growth_from`] = 'not_whole_number';
    if (!/^\d{1,2}(\.\d{1,2})?$/.test(String(l.discount_percent).trim()) || percent > 30) problems[`levels.${i}.discount`] = 'discount_range';
    return {
      level: LEVELS[i],
      growth_from: growth ?? 0,
      benefits: { discount_bps: Math.round((Number.isFinite(percent) ? percent : 0) * 100), free_delivery: !!l.free_delivery, birthday_gift: !!l.birthday_gift },
    };
  });
  if (levels[0]?.growth_from !== 0) problems['levels.0.growth_from'] = 'bronze_from_zero';
  for (let i = 1; i < levels.length; i += 1) {
    if (levels[i].growth_from <= levels[i - 1].growth_from) problems[`levels.${i}.growth_from`] = 'thresholds_rising';
  }
  const perYuan = int(form.points_per_yuan);
  if (perYuan === null || perYuan > 100) problems.points_per_yuan = 'points_range';
  const months = int(form.expiry_months);
  if (months === null || months > 60) problems.expiry_months = 'expiry_range';
  const weekday = form.member_day_weekday ? Number(form.member_day_weekday) : null;
  const multiplier = int(form.member_day_multiplier);
  if (weekday && (multiplier === null || multiplier < 1 || multiplier > 10)) problems.member_day_multiplier = 'multiplier_range';
  const tiers = form.tiers.map((t, i) => {
    const pay = fenOf(t.pay);
    const bonus = fenOf(t.bonus);
    if (pay === null || pay < 100 || pay > 500000) problems[`tiers.${i}.pay`] = 'tier_pay_range';
    if (bonus === null || bonus <= 0 || (pay !== null && bonus > pay)) problems[`tiers.${i}.bonus`] = 'tier_bonus_range';
    return { pay_fen: pay ?? 0, bonus_fen: bonus ?? 0 };
  });
  if (tiers.length > 8) problems.tiers = 'tiers_at_most_8';
  const pays = tiers.map((t) => t.pay_fen);
  if (new Set(pays).size !== pays.length) problems.tiers = 'tiers_distinct';
  return {
    body: {
      levels,
      points_per_yuan: perYuan ?? 0,
      expiry_months: months ?? 0,
      member_day_weekday: weekday,
      member_day_multiplier: weekday ? multiplier ?? 1 : 1,
      recharge_tiers: tiers,
    },
    problems,
  };
}
