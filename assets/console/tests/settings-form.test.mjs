// Store settings: the profile ↔ form mapping keeps what the form does not show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeToForm, formToProfile, emptyZone } from '../settings-form.js';
import { paginate } from '../qr-sheet.js';

const store = {
  id: 's1', name: '人民广场店', name_en: null, address: '南京西路 2 号', phone: '021-6351 8888',
  location: { latitude_e6: 31232400, longitude_e6: 121475600 },
  rules: {
    time_zone: 'Asia/Shanghai', hours: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], start: '07:00', end: '22:00' }],
    accepting_orders: true, auto_accept: { dine_in: true, pickup: false, delivery: false }, pay_mode: 'pay_first', packing_fee: { kind: 'per_item', fee_fen: 100 }, seat_fee_fen: 0,
    business_day_starts_at: '04:00', table_ordering: 'open_on_first_scan',
    delivery_zones: [
      { name: '3公里内', area: { kind: 'radius', radius_m: 3000 }, fee_fen: 500, minimum_order_fen: 2000 },
      { name: '商圈', area: { kind: 'polygon', points: [{ latitude_e6: 1, longitude_e6: 2 }, { latitude_e6: 3, longitude_e6: 4 }, { latitude_e6: 5, longitude_e6: 6 }] }, fee_fen: 300, minimum_order_fen: 0 },
    ],
    slots: { lead_minutes: 20, slot_minutes: 15, capacity_per_slot: 0 }, unpaid_timeout_minutes: 15,
  },
};

test('an untouched form sends the profile back unchanged', () => {
  const { profile, errors } = formToProfile(storeToForm(store), store);
  assert.deepEqual(errors, {});
  const { id, ...expected } = store;
  assert.deepEqual(profile, expected);
});

test('edits land on the right rules; polygons keep their points', () => {
  const form = storeToForm(store);
  Object.assign(form, { accepting_orders: false, pay_mode: 'pay_after_meal', table_ordering: 'require_open_table', seat_fee: '2', packing_kind: 'per_order', packing_fee: '1.5', capacity_per_slot: '8', phone: ' ' });
  form.zones.push({ ...emptyZone(), name: '5公里内', radius_m: '5000', fee: '8', minimum: '40' });
  const { profile, errors } = formToProfile(form, store);
  assert.deepEqual(errors, {});
  assert.equal(profile.phone, null);
  assert.equal(profile.rules.accepting_orders, false);
  assert.equal(profile.rules.pay_mode, 'pay_after_meal');
  assert.equal(profile.rules.table_ordering, 'require_open_table');
  assert.equal(profile.rules.seat_fee_fen, 200);
  assert.deepEqual(profile.rules.packing_fee, { kind: 'per_order', fee_fen: 150 });
  assert.equal(profile.rules.slots.capacity_per_slot, 8);
  assert.deepEqual(profile.rules.delivery_zones[1], store.rules.delivery_zones[1]);
  assert.deepEqual(profile.rules.delivery_zones[2], { name: '5公里内', area: { kind: 'radius', radius_m: 5000 }, fee_fen: 800, minimum_order_fen: 4000 });
  assert.equal(profile.rules.business_day_starts_at, '04:00');
  assert.deepEqual(profile.location, store.location);
});

test('the location is edited in degrees; a damaged store opens without one and says so', () => {
  const form = { ...storeToForm(store), latitude: '31.2304', longitude: ' 121.4737 ' };
  assert.deepEqual(formToProfile(form, store).profile.location, { latitude_e6: 31230400, longitude_e6: 121473700 });
  const damaged = { ...store, location: null, problems: [{ field: 'location.latitude_e6', code: 'OUT_OF_RANGE' }] };
  const opened = storeToForm(damaged);
  assert.equal(opened.latitude, '');
  const { profile, errors } = formToProfile(opened, damaged);
  assert.deepEqual(errors, { 'location.latitude_e6': 'REQUIRED', 'location.longitude_e6': 'REQUIRED' });
  assert.equal('problems' in profile, false, 'problems are not sent back');
  const typed = formToProfile({ ...opened, latitude: 'north', longitude: '121.5' }, damaged);
  assert.deepEqual(typed.errors, { 'location.latitude_e6': 'NOT_DEGREES' });
});

test('no packing fee drops the amount', () => {
  const form = { ...storeToForm(store), packing_kind: 'none' };
  assert.deepEqual(formToProfile(form, store).profile.rules.packing_fee, { kind: 'none' });
});

test('what cannot be sent is reported on the server paths', () => {
  const form = { ...storeToForm(store), seat_fee: 'abc', packing_fee: '', unpaid_timeout: '', slot_minutes: '1.5' };
  form.zones[0].radius_m = '';
  const { errors } = formToProfile(form, store);
  assert.deepEqual(errors, {
    'rules.seat_fee_fen': 'NOT_A_PRICE',
    'rules.packing_fee.fee_fen': 'REQUIRED',
    'rules.unpaid_timeout_minutes': 'REQUIRED',
    'rules.slots.slot_minutes': 'NOT_A_NUMBER',
    'rules.delivery_zones[0].area.radius_m': 'REQUIRED',
  });
});

test('QR cards go six to a page', () => {
  assert.deepEqual(paginate([1, 2, 3, 4, 5, 6, 7, 8]).map((p) => p.length), [6, 2]);
  assert.deepEqual(paginate([]), []);
});
