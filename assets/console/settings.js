// 设置: the current store's profile and trading rules as one form over
// PUT /console/stores/{id}: name, address, phone, hours, the 营业 switch, payment, fees, table
// ordering, pickup slots and delivery zones. Server errors land under their inputs.

import { h, mount } from '../shared/dom.js';
import { get, put } from '../shared/api.js';
import { yuan } from '../shared/money.js';
import { localized } from '../shared/i18n.js';
import { t, errorText } from './strings.js';
import { busy, explain, field, fieldError, input, notice, toast, toggle, trackShownErrors } from './ui.js';
import { scheduleInput } from './schedule-input.js';
import { emptyZone, formToProfile, storeToForm } from './settings-form.js';

export function settingsPage(main, { store, onUnauthorized }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = { main, store, onUnauthorized, profile: null, form: null, initial: '', errors: {} };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page) {
  try {
    page.profile = await get(`console/stores/${page.store.id}`);
    page.form = storeToForm(page.profile);
    page.initial = JSON.stringify(page.form);
    // A store whose saved details no longer read opens with what to fix marked.
    page.errors = Object.fromEntries((page.profile.problems || []).map((d) => [d.field, localized(d.message, d.message_en)]));
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

const SECTION_OF = { name: 'sec_basics', address: 'sec_basics', phone: 'sec_basics', name_en: 'sec_basics', location: 'sec_basics' };
function sectionOf(path) {
  if (SECTION_OF[path]) return SECTION_OF[path];
  if (path.startsWith('location')) return 'sec_basics';
  if (path.startsWith('rules.delivery_zones')) return 'sec_delivery';
  if (path.startsWith('rules.slots')) return 'sec_slots';
  if (path.startsWith('rules.hours') || path === 'rules.accepting_orders' || path.startsWith('rules.auto_accept')) return 'sec_trading';
  return 'sec_ordering';
}

function render(page) {
  const { form } = page;
  const errors = page.errors;
  const done = trackShownErrors();
  const bind = (key) => (e) => (form[key] = e.target.value);
  const text = (key, path, attrs = {}) => input({ name: path, value: form[key], oninput: bind(key), ...attrs });

  const summary = h('div.form-error', { role: 'alert', hidden: true });
  const saveButton = h('button.primary', { type: 'submit', dataset: { action: 'save-settings' } }, t('save'));
  const formEl = h(
    'form.settings-form',
    { id: 'store-settings', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(page, saveButton); } },
    summary,
    section('sec_basics', h(
      'div.grid-2',
      {},
      field(t('store_name'), text('name', 'name', { required: true, maxlength: 60 }), { path: 'name', errors }),
      field(t('name_en'), text('name_en', 'name_en', { lang: 'en', maxlength: 60 }), { path: 'name_en', errors }),
      field(t('address'), text('address', 'address', { maxlength: 200 }), { path: 'address', errors, className: 'span-2' }),
      field(t('phone'), text('phone', 'phone', { type: 'tel', inputmode: 'tel', maxlength: 30 }), { path: 'phone', errors }),
      field(t('latitude'), text('latitude', 'location.latitude_e6', { inputmode: 'decimal' }), { path: 'location.latitude_e6', errors, hint: t('latitude_hint') }),
      field(t('longitude'), text('longitude', 'location.longitude_e6', { inputmode: 'decimal' }), { path: 'location.longitude_e6', errors }),
    )),
    section('sec_trading', h(
      'div.form-fields',
      {},
      h('div.field', { dataset: { field: 'rules.accepting_orders' } },
        toggle({ checked: form.accepting_orders, name: 'accepting_orders', label: t('accepting_orders'), onchange: (e) => (form.accepting_orders = e.target.checked) }),
        fieldError('rules.accepting_orders', errors)),
      h('fieldset.field.auto-accept', { dataset: { field: 'rules.auto_accept' } },
        h('legend.label', {}, t('auto_accept')),
        h('p.hint', {}, t('auto_accept_settings_hint')),
        ['dine_in', 'pickup', 'delivery'].map((c) =>
          toggle({ checked: form.auto_accept[c], name: `auto_accept_${c}`, label: t('ch_' + c), onchange: (e) => (form.auto_accept[c] = e.target.checked) }))),
      h('fieldset.field', {}, h('legend.label', {}, t('hours')), h('p.hint', {}, t('hours_hint')), scheduleInput(form.hours, { errors, path: 'rules.hours' })),
    )),
    section('sec_ordering', h(
      'div.grid-2',
      {},
      choice('pay_mode', 'rules.pay_mode', ['pay_first', 'pay_after_meal'], form, errors),
      choice('table_ordering', 'rules.table_ordering', ['open_on_first_scan', 'require_open_table'], form, errors),
      field(t('unpaid_timeout'), text('unpaid_timeout', 'rules.unpaid_timeout_minutes', { type: 'number', min: 0, inputmode: 'numeric' }), { path: 'rules.unpaid_timeout_minutes', errors, hint: t('unpaid_hint') }),
      field(t('seat_fee'), text('seat_fee', 'rules.seat_fee_fen', { inputmode: 'decimal', class: 'money' }), { path: 'rules.seat_fee_fen', errors, hint: t('seat_fee_hint') }),
      packingFee(page),
    )),
    section('sec_slots', h(
      'div.grid-3',
      {},
      field(t('lead_minutes'), text('lead_minutes', 'rules.slots.lead_minutes', { type: 'number', min: 0, inputmode: 'numeric' }), { path: 'rules.slots.lead_minutes', errors }),
      field(t('slot_minutes'), text('slot_minutes', 'rules.slots.slot_minutes', { type: 'number', min: 5, inputmode: 'numeric' }), { path: 'rules.slots.slot_minutes', errors }),
      field(t('capacity_per_slot'), text('capacity_per_slot', 'rules.slots.capacity_per_slot', { type: 'number', min: 0, inputmode: 'numeric' }), { path: 'rules.slots.capacity_per_slot', errors, hint: t('capacity_hint') }),
    )),
    section('sec_delivery', zones(page), t('delivery_hint')),
    h(
      'footer.settings-foot',
      {},
      h('button.secondary', { type: 'button', dataset: { action: 'discard-settings' }, onclick: () => { page.form = JSON.parse(page.initial); page.errors = {}; render(page); } }, t('discard_changes')),
      saveButton,
    ),
  );
  mount(page.main, h('div.settings-page', {}, h('header.page-head', {}, h('h1', {}, t('settings_title')), h('span.muted', {}, page.store.name)), formEl));

  const placed = done();
  const unplaced = Object.keys(errors).filter((p) => !placed.has(p));
  const count = Object.keys(errors).length;
  summary.hidden = !count;
  mount(
    summary,
    count ? h('p', {}, t('fix_errors', { n: count })) : null,
    unplaced.length ? h('ul', {}, unplaced.map((p) => h('li', {}, `${t(sectionOf(p))} (${p}): ${errorText(errors[p])}`))) : null,
  );
  page.summary = summary;
}

function section(key, content, hint) {
  return h('section.editor-section', { dataset: { section: key } }, h('h2', {}, t(key)), hint ? h('p.hint', {}, hint) : null, content);
}

/** A small radio group for an enum setting. */
function choice(key, path, values, form, errors) {
  return h(
    `fieldset.field.choice${errors[path] ? '.invalid' : ''}`,
    { dataset: { field: path } },
    h('legend.label', {}, t(key)),
    h('div.segmented', {}, values.map((v) =>
      h('label.segment', {},
        h('input', { type: 'radio', name: path, value: v, checked: form[key] === v, onchange: () => (form[key] = v) }),
        h('span', {}, t(v))))),
    fieldError(path, errors),
  );
}

function packingFee(page) {
  const { form, errors } = page;
  const path = 'rules.packing_fee';
  const amount = input({ name: `${path}.fee_fen`, value: form.packing_fee, inputmode: 'decimal', class: 'money', disabled: form.packing_kind === 'none', oninput: (e) => (form.packing_fee = e.target.value), 'aria-label': `${t('packing_fee')} ${t('packing_amount')}` });
  return h(
    'fieldset.field.choice.span-2',
    { dataset: { field: path } },
    h('legend.label', {}, t('packing_fee')),
    h('div.packing-row', {},
      h('div.segmented', {}, [['none', 'packing_none'], ['per_order', 'packing_per_order'], ['per_item', 'packing_per_item']].map(([v, label]) =>
        h('label.segment', {},
          h('input', {
            type: 'radio', name: path, value: v, checked: form.packing_kind === v,
            onchange: () => {
              form.packing_kind = v;
              amount.disabled = v === 'none';
              if (v !== 'none' && !amount.value) amount.value = form.packing_fee = '1';
            },
          }),
          h('span', {}, t(label))))),
      field(t('packing_amount'), amount, { path: `${path}.fee_fen`, errors, className: 'narrow' })),
    fieldError(path, errors),
  );
}

function zones(page) {
  const { form, errors } = page;
  const move = (i, step) => {
    [form.zones[i], form.zones[i + step]] = [form.zones[i + step], form.zones[i]];
    render(page);
  };
  return h(
    'div.rows.zones',
    {},
    fieldError('rules.delivery_zones', errors),
    form.zones.length ? null : h('p.muted', {}, t('no_zones')),
    form.zones.map((z, i) => {
      const p = `rules.delivery_zones[${i}]`;
      const bind = (key) => (e) => (z[key] = e.target.value);
      const tools = h('div.zone-tools', {},
        h('button.icon.small', { type: 'button', 'aria-label': t('move_up'), disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
        h('button.icon.small', { type: 'button', 'aria-label': t('move_down'), disabled: i === form.zones.length - 1, onclick: () => move(i, 1) }, '↓'),
        h('button.icon.small', { type: 'button', 'aria-label': `${t('remove')} ${z.name}`, dataset: { action: 'remove-zone' }, onclick: () => { form.zones.splice(i, 1); render(page); } }, '×'));
      return h(
        'div.row.zone-row',
        { dataset: { zone: String(i) } },
        field(t('zone_name'), input({ name: `${p}.name`, value: z.name, maxlength: 20, oninput: bind('name') }), { path: `${p}.name`, errors }),
        z.area
          ? h('div.field', { dataset: { field: `${p}.area` } }, h('span.label', {}, t('radius_m')), h('span.static.muted', {}, t('polygon_zone', { n: z.area.points?.length ?? 0 })), fieldError(`${p}.area`, errors))
          : field(t('radius_m'), input({ name: `${p}.area.radius_m`, value: z.radius_m, type: 'number', min: 100, max: 50000, step: 100, inputmode: 'numeric', oninput: bind('radius_m') }), { path: `${p}.area.radius_m`, errors }),
        field(t('delivery_fee'), input({ name: `${p}.fee_fen`, value: z.fee, inputmode: 'decimal', class: 'money', oninput: bind('fee') }), { path: `${p}.fee_fen`, errors }),
        field(t('minimum_order'), input({ name: `${p}.minimum_order_fen`, value: z.minimum, inputmode: 'decimal', class: 'money', placeholder: yuan(0), oninput: bind('minimum') }), { path: `${p}.minimum_order_fen`, errors }),
        tools,
      );
    }),
    h('button.secondary.small', { type: 'button', dataset: { action: 'add-zone' }, onclick: () => { form.zones.push(emptyZone()); render(page); } }, '+ ' + t('add_zone')),
  );
}

async function save(page, button) {
  const { profile, errors: local } = formToProfile(page.form, page.profile);
  page.errors = local;
  if (Object.keys(local).length) return showErrors(page);
  try {
    const saved = await busy(button, () => put(`console/stores/${page.store.id}`, profile), t('saving'));
    page.profile = saved;
    page.form = storeToForm(saved);
    page.initial = JSON.stringify(page.form);
    page.errors = {};
    // The store switcher shows the name too.
    page.store.name = saved.name;
    render(page);
    toast(t('settings_saved'));
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    page.errors = Object.fromEntries((e.details || []).map((d) => [d.field, d.text]));
    if (!e.details?.length) {
      render(page);
      page.summary.hidden = false;
      mount(page.summary, h('p', {}, explain(e)));
      page.summary.scrollIntoView({ block: 'nearest' });
      return;
    }
    showErrors(page);
  }
}

function showErrors(page) {
  render(page);
  const first = page.main.querySelector('[aria-invalid=true], .field.invalid, p.error');
  (first || page.summary).scrollIntoView({ block: 'center' });
  first?.focus?.();
}
