// Pure mapping between a store's profile (GET/PUT /console/stores/{id}) and the settings form
// (strings as typed). The PUT replaces the whole profile, so everything the form does not show
// (time zone, when the business day starts, polygon zones' points …) is sent back as it came.
// No DOM here, so node --test can run it.

import { parseYuan } from '../shared/money.js';
import { formatYuanPlain, parseCount } from './dish-form.js';

const text = (value) => (value === null || value === undefined ? '' : String(value));
const orNull = (value) => (String(value ?? '').trim() === '' ? null : String(value).trim());
const fenText = (fen) => (fen === null || fen === undefined ? '' : formatYuanPlain(fen));
// Coordinates are micro-degrees on the wire and degrees in the form (31.2324).
const degreesText = (e6) => (typeof e6 === 'number' ? String(e6 / 1e6) : '');

export const emptyZone = () => ({ name: '', kind: 'radius', radius_m: '3000', fee: '0', minimum: '0', area: null });

export function storeToForm(store) {
  const rules = store.rules || {};
  const packing = rules.packing_fee || { kind: 'none' };
  const slots = rules.slots || { lead_minutes: 20, slot_minutes: 15, capacity_per_slot: 0 };
  return {
    name: text(store.name),
    name_en: text(store.name_en),
    address: text(store.address),
    phone: text(store.phone),
    // A store saved off the globe comes without a location: the owner types it again.
    latitude: degreesText(store.location?.latitude_e6),
    longitude: degreesText(store.location?.longitude_e6),
    accepting_orders: rules.accepting_orders !== false,
    auto_accept: { dine_in: !!rules.auto_accept?.dine_in, pickup: !!rules.auto_accept?.pickup, delivery: !!rules.auto_accept?.delivery },
    hours: (rules.hours || []).map((w) => ({ weekdays: [...w.weekdays], start: w.start, end: w.end })),
    pay_mode: rules.pay_mode || 'pay_first',
    table_ordering: rules.table_ordering || 'open_on_first_scan',
    unpaid_timeout: text(rules.unpaid_timeout_minutes ?? 15),
    seat_fee: fenText(rules.seat_fee_fen ?? 0),
    packing_kind: packing.kind,
    packing_fee: packing.kind === 'none' ? '' : fenText(packing.fee_fen),
    lead_minutes: text(slots.lead_minutes),
    slot_minutes: text(slots.slot_minutes),
    capacity_per_slot: text(slots.capacity_per_slot),
    zones: (rules.delivery_zones || []).map((z) => ({
      name: text(z.name),
      kind: z.area?.kind || 'radius',
      radius_m: z.area?.kind === 'radius' ? text(z.area.radius_m) : '',
      fee: fenText(z.fee_fen),
      minimum: fenText(z.minimum_order_fen),
      // Drawn areas cannot be edited here; their points go back unchanged.
      area: z.area?.kind === 'radius' ? null : z.area,
    })),
  };
}

/**
 * The whole profile to PUT: `store` as loaded with the form's values over it. Values that
 * cannot even be sent come back in `errors` as {path: code}, on the server's own paths.
 */
export function formToProfile(form, store) {
  const errors = {};
  const money = (value, path, { empty = 'REQUIRED' } = {}) => {
    if (String(value ?? '').trim() === '') {
      if (empty === 'REQUIRED') errors[path] = 'REQUIRED';
      return empty === 'REQUIRED' ? 0 : empty;
    }
    const fen = parseYuan(value);
    if (fen === null) errors[path] = 'NOT_A_PRICE';
    return fen ?? 0;
  };
  // `empty` is what a blank field means; without one a blank field is REQUIRED.
  const count = (value, path, empty) => {
    if (String(value ?? '').trim() === '') {
      if (empty === undefined) errors[path] = 'REQUIRED';
      return empty ?? 0;
    }
    const n = parseCount(value);
    if (Number.isNaN(n) || n < 0) {
      errors[path] = 'NOT_A_NUMBER';
      return 0;
    }
    return n;
  };

  const degrees = (value, path) => {
    const typed = String(value ?? '').trim();
    if (typed === '') {
      errors[path] = 'REQUIRED';
      return 0;
    }
    const n = Number(typed);
    if (!Number.isFinite(n)) {
      errors[path] = 'NOT_DEGREES';
      return 0;
    }
    return Math.round(n * 1e6);
  };

  // `problems` describe the store as loaded; they are not part of what is saved.
  const { id, problems, ...profile } = store;
  const rules = { ...(store.rules || {}) };
  rules.accepting_orders = !!form.accepting_orders;
  rules.auto_accept = { ...form.auto_accept };
  rules.hours = form.hours.map((w) => ({ weekdays: [...w.weekdays].sort((a, b) => a - b), start: w.start, end: w.end }));
  rules.pay_mode = form.pay_mode;
  rules.table_ordering = form.table_ordering;
  rules.unpaid_timeout_minutes = count(form.unpaid_timeout, 'rules.unpaid_timeout_minutes', undefined);
  rules.seat_fee_fen = money(form.seat_fee, 'rules.seat_fee_fen', { empty: 0 });
  rules.packing_fee = form.packing_kind === 'none' ? { kind: 'none' } : { kind: form.packing_kind, fee_fen: money(form.packing_fee, 'rules.packing_fee.fee_fen') };
  rules.slots = {
    lead_minutes: count(form.lead_minutes, 'rules.slots.lead_minutes', undefined),
    slot_minutes: count(form.slot_minutes, 'rules.slots.slot_minutes', undefined),
    capacity_per_slot: count(form.capacity_per_slot, 'rules.slots.capacity_per_slot', 0),
  };
  rules.delivery_zones = form.zones.map((z, i) => {
    const p = `rules.delivery_zones[${i}]`;
    return {
      name: z.name.trim(),
      area: z.area ? z.area : { kind: 'radius', radius_m: count(z.radius_m, `${p}.area.radius_m`, undefined) },
      fee_fen: money(z.fee, `${p}.fee_fen`, { empty: 0 }),
      minimum_order_fen: money(z.minimum, `${p}.minimum_order_fen`, { empty: 0 }),
    };
  });
  return {
    profile: {
      ...profile,
      name: form.name.trim(),
      name_en: orNull(form.name_en),
      address: form.address.trim(),
      phone: orNull(form.phone),
      location: {
        latitude_e6: degrees(form.latitude, 'location.latitude_e6'),
        longitude_e6: degrees(form.longitude, 'location.longitude_e6'),
      },
      rules,
    },
    errors,
  };
}
