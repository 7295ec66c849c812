// 营销 forms as plain data: the few promotion and coupon kinds the console edits, turned into
// the API's rule JSON (amounts in fen, rates in basis points) and back, and a short Chinese or
// English summary of any rule. No DOM, so node can test it.

import { lang } from '../shared/i18n.js';

const yuanToFen = (text) => {
  const n = Number(String(text ?? '').trim());
  return Number.isFinite(n) && String(text ?? '').trim() !== '' ? Math.round(n * 100) : NaN;
};
const fenToYuan = (fen) => (fen % 100 === 0 ? String(fen / 100) : (fen / 100).toFixed(2));
const zh = () => lang() !== 'en';

/** The promotion kinds the form offers, in menu order. */
export const PROMOTION_KINDS = ['spend_and_save', 'nth_item', 'slot_price', 'order_discount'];
/** The coupon kinds the form offers. */
export const COUPON_KINDS = ['no_threshold', 'threshold', 'percent', 'delivery_fee'];

const EVERY_CLASS = { with_classes: ['item', 'order', 'delivery_fee'] };

/** A blank promotion form of `kind`. */
export function emptyPromotion(kind = 'spend_and_save') {
  return {
    kind,
    name: '',
    enabled: true,
    tiers: [{ threshold: '50', save: '5' }],
    dishId: '',
    nth: '2',
    paysPercent: '50',
    price: '',
    from: '14:00',
    until: '17:00',
    offPercent: '10',
    minSpend: '0',
    stacksWithCoupons: true,
    perDinerLimit: '',
    version: null,
  };
}

/** The form for a promotion as the API lists it; a kind the form does not edit returns null. */
export function promotionToForm(p) {
  const b = p.benefit || {};
  if (!PROMOTION_KINDS.includes(b.kind)) return null;
  const form = { ...emptyPromotion(b.kind), name: p.name, enabled: p.enabled, version: p.version, id: p.id };
  form.perDinerLimit = p.per_diner_limit ? String(p.per_diner_limit) : '';
  form.stacksWithCoupons = (p.stacking?.with_classes || []).includes('order');
  if (b.kind === 'spend_and_save') form.tiers = b.tiers.map((t) => ({ threshold: fenToYuan(t.threshold), save: fenToYuan(t.save) }));
  if (b.kind === 'nth_item') {
    form.dishId = b.scope?.dishes?.[0] || '';
    form.nth = String(b.nth);
    form.paysPercent = String(b.pays / 100);
  }
  if (b.kind === 'slot_price') {
    form.dishId = b.dish_id;
    form.price = fenToYuan(b.price);
    const w = p.conditions?.schedule?.[0];
    if (w) Object.assign(form, { from: w.start, until: w.end });
  }
  if (b.kind === 'order_discount') {
    form.offPercent = String((b.off?.off || 0) / 100);
    form.minSpend = fenToYuan(b.min_spend || 0);
  }
  return form;
}

/**
 * The API body for a promotion form, or `errors` by field (the server checks again; these are
 * the slips worth catching before a round trip).
 */
export function formToPromotion(form) {
  const errors = {};
  const name = (form.name || '').trim();
  if (!name) errors.name = 'REQUIRED';
  else if ([...name].length > 40) errors.name = 'TOO_LONG';
  let benefit;
  let conditions = {};
  if (form.kind === 'spend_and_save') {
    const tiers = form.tiers.map((t) => ({ threshold: yuanToFen(t.threshold), save: yuanToFen(t.save) }));
    tiers.forEach((t, i) => {
      if (!(t.threshold > 0) || !(t.save > 0)) errors[`tiers[${i}]`] = 'MUST_BE_POSITIVE';
      else if (t.save >= t.threshold) errors[`tiers[${i}]`] = 'TOO_LARGE';
      else if (i > 0 && (t.threshold <= tiers[i - 1].threshold || t.save <= tiers[i - 1].save)) errors[`tiers[${i}]`] = 'MIN_ABOVE_MAX';
    });
    if (!tiers.length) errors.tiers = 'EMPTY';
    benefit = { kind: 'spend_and_save', scope: {}, tiers };
  } else if (form.kind === 'nth_item') {
    const nth = Number(form.nth);
    const pays = Math.round(Number(form.paysPercent) * 100);
    if (!form.dishId) errors.dishId = 'REQUIRED';
    if (!(Number.isInteger(nth) && nth >= 2 && nth <= 10)) errors.nth = 'OUT_OF_RANGE';
    if (!(pays >= 0 && pays < 10000)) errors.paysPercent = 'OUT_OF_RANGE';
    benefit = { kind: 'nth_item', scope: { dishes: form.dishId ? [form.dishId] : [] }, nth, pays };
  } else if (form.kind === 'slot_price') {
    const price = yuanToFen(form.price);
    if (!form.dishId) errors.dishId = 'REQUIRED';
    if (!(price >= 0)) errors.price = 'MUST_NOT_BE_NEGATIVE';
    if (!/^\d\d:\d\d$/.test(form.from) || !/^\d\d:\d\d$/.test(form.until) || form.until <= form.from) errors.until = 'MIN_ABOVE_MAX';
    benefit = { kind: 'slot_price', dish_id: form.dishId, price };
    conditions = { schedule: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], start: form.from, end: form.until }] };
  } else if (form.kind === 'order_discount') {
    const off = Math.round(Number(form.offPercent) * 100);
    const minSpend = yuanToFen(form.minSpend || '0');
    if (!(off > 0 && off <= 10000)) errors.offPercent = 'OUT_OF_RANGE';
    if (!(minSpend >= 0)) errors.minSpend = 'MUST_NOT_BE_NEGATIVE';
    benefit = { kind: 'order_discount', off: { kind: 'percent', off, cap: null }, min_spend: minSpend };
  } else {
    errors.kind = 'INVALID_CHOICE';
  }
  const own = benefit && ['spend_and_save', 'order_discount'].includes(benefit.kind) ? 'order' : 'item';
  // Order promotions stand alone in their class unless they welcome coupons (which are order class too).
  const stacking = own === 'order' && !form.stacksWithCoupons
    ? { with_classes: ['item', 'delivery_fee'] }
    : own === 'order' ? EVERY_CLASS : { with_classes: ['order', 'delivery_fee'] };
  const limit = String(form.perDinerLimit || '').trim();
  const body = { name, benefit, conditions, stacking, enabled: !!form.enabled };
  if (limit) {
    const n = Number(limit);
    if (!(Number.isInteger(n) && n >= 1 && n <= 100)) errors.perDinerLimit = 'OUT_OF_RANGE';
    body.per_diner_limit = n;
  }
  if (form.version != null) body.version = form.version;
  return { body, errors };
}

/** A blank coupon template form. */
export function emptyCoupon(kind = 'no_threshold') {
  return { kind, name: '', enabled: true, claimable: true, off: '5', minSpend: '30', offPercent: '10', cap: '20', days: '7', perDinerLimit: '1', totalLimit: '', version: null };
}

export function formToCoupon(form) {
  const errors = {};
  const name = (form.name || '').trim();
  if (!name) errors.name = 'REQUIRED';
  const off = yuanToFen(form.off);
  const minSpend = yuanToFen(form.minSpend || '0');
  let benefit;
  if (form.kind === 'no_threshold') {
    if (!(off > 0)) errors.off = 'MUST_BE_POSITIVE';
    benefit = { kind: 'no_threshold', off };
  } else if (form.kind === 'threshold') {
    if (!(off > 0)) errors.off = 'MUST_BE_POSITIVE';
    if (!(minSpend > off)) errors.minSpend = 'TOO_SMALL';
    benefit = { kind: 'threshold', min_spend: minSpend, off };
  } else if (form.kind === 'percent') {
    const pct = Math.round(Number(form.offPercent) * 100);
    const cap = yuanToFen(form.cap);
    if (!(pct > 0 && pct <= 10000)) errors.offPercent = 'OUT_OF_RANGE';
    if (!(cap > 0)) errors.cap = 'MUST_BE_POSITIVE';
    benefit = { kind: 'percent', off: pct, cap, min_spend: minSpend >= 0 ? minSpend : 0 };
  } else if (form.kind === 'delivery_fee') {
    benefit = { kind: 'delivery_fee', off: { kind: 'free' }, min_spend: minSpend >= 0 ? minSpend : 0 };
  } else {
    errors.kind = 'INVALID_CHOICE';
  }
  const days = Number(form.days);
  if (!(Number.isInteger(days) && days >= 1 && days <= 366)) errors.days = 'OUT_OF_RANGE';
  const perDiner = Number(form.perDinerLimit);
  if (!(Number.isInteger(perDiner) && perDiner >= 1 && perDiner <= 100)) errors.perDinerLimit = 'OUT_OF_RANGE';
  const total = String(form.totalLimit || '').trim();
  const body = {
    name,
    benefit,
    validity: { kind: 'days_after_claim', days },
    stacking: EVERY_CLASS,
    enabled: !!form.enabled,
    claimable: !!form.claimable,
    per_diner_limit: perDiner,
  };
  if (total) {
    const n = Number(total);
    if (!(Number.isInteger(n) && n >= 1)) errors.totalLimit = 'OUT_OF_RANGE';
    body.total_limit = n;
  }
  if (form.version != null) body.version = form.version;
  return { body, errors };
}

/** One line on what a rule gives: "满50减5，满100减15", "第2份5折", "14:00–17:00 ¥12". */
export function describeBenefit(benefit, dishName = () => '') {
  if (!benefit) return zh() ? '规则已损坏' : 'Damaged rule';
  const y = (fen) => fenToYuan(fen);
  switch (benefit.kind) {
    case 'spend_and_save':
      return benefit.tiers.map((t) => (zh() ? `满${y(t.threshold)}减${y(t.save)}` : `¥${y(t.save)} off ¥${y(t.threshold)}`)).join(zh() ? '，' : ', ');
    case 'nth_item':
      return zh()
        ? `${dishName(benefit.scope?.dishes?.[0])}第${benefit.nth}份${benefit.pays / 1000}折`
        : `Every ${benefit.nth}th ${dishName(benefit.scope?.dishes?.[0])} at ${benefit.pays / 100}%`;
    case 'slot_price':
      return `${dishName(benefit.dish_id)} ¥${y(benefit.price)}`;
    case 'order_discount':
      return zh() ? `整单${(10000 - benefit.off.off) / 1000}折` : `${benefit.off.off / 100}% off the order`;
    case 'no_threshold':
      return zh() ? `无门槛减${y(benefit.off)}` : `¥${y(benefit.off)} off`;
    case 'threshold':
      return zh() ? `满${y(benefit.min_spend)}减${y(benefit.off)}` : `¥${y(benefit.off)} off ¥${y(benefit.min_spend)}`;
    case 'percent':
      return zh() ? `${(10000 - benefit.off) / 1000}折，最多减${y(benefit.cap)}` : `${benefit.off / 100}% off, up to ¥${y(benefit.cap)}`;
    case 'delivery_fee':
      return zh() ? `满${y(benefit.min_spend)}免配送费` : `Free delivery from ¥${y(benefit.min_spend)}`;
    default:
      return benefit.kind;
  }
}
