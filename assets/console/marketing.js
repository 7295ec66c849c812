// 营销: the brand's promotions (with the domain's warnings about ones that overlap badly) and
// coupon templates with their redemption figures, a form for each, and a preview that prices a
// cart of the store's dishes at a chosen hour and says what comes off and why.

import { h, mount } from '../shared/dom.js';
import { get, post, put } from '../shared/api.js';
import { yuan } from '../shared/money.js';
import { lang } from '../shared/i18n.js';
import { t } from './strings.js';
import { busy, explain, field, input, modal, notice, toast, toggle } from './ui.js';
import {
  COUPON_KINDS, PROMOTION_KINDS, describeBenefit, emptyCoupon, emptyPromotion, formToCoupon, formToPromotion, promotionToForm,
} from './promo-form.js';

export function marketingPage(main, { store, onUnauthorized }) {
  const page = { main, store, onUnauthorized, promotions: [], warnings: [], templates: [], stats: [], dishes: [], preview: { lines: new Map(), at: '', quote: null, error: null } };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page) {
  try {
    const [promotions, coupons, catalog] = await Promise.all([
      get('console/promotions'),
      get('console/coupon-templates'),
      get('console/menu'),
    ]);
    Object.assign(page, {
      promotions: promotions.promotions,
      warnings: promotions.warnings,
      templates: coupons.templates,
      stats: coupons.stats,
      dishes: catalog.dishes || [],
    });
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(e.status === 403 ? t('promo_forbidden') : t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

const dishName = (page) => (id) => page.dishes.find((d) => d.id === id)?.name ?? '—';

function render(page) {
  mount(page.main, h('div.marketing-page', {},
    h('header.page-head', {}, h('h1', {}, t('nav_marketing')), h('div.spacer'),
      h('button.primary', { type: 'button', dataset: { action: 'add-promotion' }, onclick: () => editPromotion(page, null) }, t('promo_add')),
      h('button.secondary', { type: 'button', dataset: { action: 'add-coupon' }, onclick: () => editCoupon(page) }, t('coupon_add'))),
    page.warnings.length ? h('section.card.warnings', { role: 'status' },
      h('h2', {}, t('promo_warnings')),
      page.warnings.map((w) => h('p.warning', { dataset: { code: w.code } }, lang() === 'en' ? w.message_en : w.message))) : null,
    h('section.card', {}, h('h2', {}, t('promo_list')), promotionsTable(page)),
    h('section.card', {}, h('h2', {}, t('coupon_list')), couponsTable(page)),
    page.store ? previewCard(page) : null));
}

function promotionsTable(page) {
  if (!page.promotions.length) return h('p.muted', {}, t('promo_none'));
  return h('table.jobs', {},
    h('thead', {}, h('tr', {}, ['promo_name', 'promo_rule', 'promo_state', 'promo_redeemed', ''].map((k) => h('th', {}, k ? t(k) : '')))),
    h('tbody', {}, page.promotions.map((p) => h('tr', { dataset: { promotionId: p.id } },
      h('td', {}, p.name),
      h('td', {}, describeBenefit(p.benefit, dishName(page))),
      h('td', {}, p.damaged ? h('span.badge.alert', {}, t('promo_damaged')) : p.enabled ? t('promo_on') : h('span.muted', {}, t('promo_off'))),
      h('td', {}, t('promo_redeemed_n', { n: p.redeemed_orders, amount: yuan(p.discount_fen) })),
      h('td', {}, promotionToForm(p) ? h('button.ghost.small', { type: 'button', dataset: { action: 'edit-promotion' }, onclick: () => editPromotion(page, p) }, t('edit')) : null)))));
}

function couponsTable(page) {
  if (!page.templates.length) return h('p.muted', {}, t('coupon_none'));
  const statsOf = (id) => page.stats.find((s) => s.template_id === id) || {};
  return h('table.jobs', {},
    h('thead', {}, h('tr', {}, ['promo_name', 'promo_rule', 'coupon_issued', 'coupon_used', 'coupon_returned'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, page.templates.map((c) => {
      const s = statsOf(c.id);
      return h('tr', { dataset: { templateId: c.id } },
        h('td', {}, c.name, c.claimable ? h('span.badge', {}, t('coupon_in_centre')) : null),
        h('td', {}, describeBenefit(c.benefit, dishName(page))),
        h('td', {}, c.total_limit ? `${c.issued} / ${c.total_limit}` : String(c.issued)),
        h('td', {}, t('promo_redeemed_n', { n: s.used ?? 0, amount: yuan(s.discount_fen ?? 0) })),
        h('td', {}, String(s.returned ?? 0)));
    })));
}

function showErrors(box, errors, e) {
  box.hidden = false;
  box.textContent = e ? e.details?.map((d) => `${d.field}: ${d.text}`).join('；') || explain(e) : Object.entries(errors).map(([f, c]) => `${f}: ${t('error_' + c)}`).join('；');
}

function dishSelect(page, value, onchange) {
  return h('select', { name: 'dish', onchange: (e) => onchange(e.target.value) },
    h('option', { value: '' }, t('promo_pick_dish')),
    page.dishes.map((d) => h('option', { value: d.id, selected: d.id === value }, d.name)));
}

/** The promotion form: add (`existing` null) or edit one of the kinds the form knows. */
function editPromotion(page, existing) {
  const form = existing ? promotionToForm(existing) : emptyPromotion();
  const errors = h('p.error', { role: 'alert', hidden: true });
  const body = h('div.form-fields');
  const draw = () => {
    const text = (name, attrs = {}) => input({ name, value: form[name], oninput: (e) => (form[name] = e.target.value), ...attrs });
    const kindFields = {
      spend_and_save: () => h('div', {},
        form.tiers.map((tier, i) => h('div.grid-2', {},
          field(t('promo_threshold'), input({ name: `threshold_${i}`, inputmode: 'decimal', value: tier.threshold, oninput: (e) => (tier.threshold = e.target.value) })),
          field(t('promo_save'), input({ name: `save_${i}`, inputmode: 'decimal', value: tier.save, oninput: (e) => (tier.save = e.target.value) })))),
        h('button.ghost.small', { type: 'button', onclick: () => { form.tiers.push({ threshold: '', save: '' }); draw(); } }, '+ ' + t('promo_add_tier'))),
      nth_item: () => h('div', {},
        field(t('promo_dish'), dishSelect(page, form.dishId, (v) => (form.dishId = v))),
        h('div.grid-2', {}, field(t('promo_nth'), text('nth', { inputmode: 'numeric' })), field(t('promo_pays_percent'), text('paysPercent', { inputmode: 'decimal' })))),
      slot_price: () => h('div', {},
        field(t('promo_dish'), dishSelect(page, form.dishId, (v) => (form.dishId = v))),
        field(t('promo_price'), text('price', { inputmode: 'decimal' })),
        h('div.grid-2', {}, field(t('promo_from'), text('from', { type: 'time' })), field(t('promo_until'), text('until', { type: 'time' })))),
      order_discount: () => h('div.grid-2', {}, field(t('promo_off_percent'), text('offPercent', { inputmode: 'decimal' })), field(t('promo_min_spend'), text('minSpend', { inputmode: 'decimal' }))),
    };
    mount(body,
      field(t('promo_name'), text('name', { maxlength: 40, required: true })),
      field(t('promo_kind'), h('select', { name: 'kind', disabled: !!existing, onchange: (e) => { form.kind = e.target.value; draw(); } },
        PROMOTION_KINDS.map((k) => h('option', { value: k, selected: k === form.kind }, t('promo_kind_' + k))))),
      kindFields[form.kind](),
      field(t('promo_per_diner'), text('perDinerLimit', { inputmode: 'numeric', placeholder: t('promo_unlimited') })),
      ['spend_and_save', 'order_discount'].includes(form.kind)
        ? toggle({ checked: form.stacksWithCoupons, name: 'stacks', label: t('promo_with_coupons'), onchange: (e) => (form.stacksWithCoupons = e.target.checked) }) : null,
      toggle({ checked: form.enabled, name: 'enabled', label: t('promo_on'), onchange: (e) => (form.enabled = e.target.checked) }),
      errors);
  };
  draw();
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-promotion' }, onclick: async () => {
    const { body: payload, errors: found } = formToPromotion(form);
    if (Object.keys(found).length) return showErrors(errors, found);
    try {
      await busy(save, () => (existing ? put(`console/promotions/${existing.id}`, payload) : post('console/promotions', payload)));
      close();
      toast(t('saved'));
      load(page);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      showErrors(errors, null, e);
    }
  } }, t('save'));
  const { close } = modal(existing ? existing.name : t('promo_add'), body, { actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), save] });
}

function editCoupon(page) {
  const form = emptyCoupon();
  const errors = h('p.error', { role: 'alert', hidden: true });
  const body = h('div.form-fields');
  const draw = () => {
    const text = (name, attrs = {}) => input({ name, value: form[name], oninput: (e) => (form[name] = e.target.value), ...attrs });
    const money = (name) => text(name, { inputmode: 'decimal' });
    const kindFields = {
      no_threshold: () => field(t('coupon_off'), money('off')),
      threshold: () => h('div.grid-2', {}, field(t('promo_min_spend'), money('minSpend')), field(t('coupon_off'), money('off'))),
      percent: () => h('div.grid-2', {}, field(t('promo_off_percent'), money('offPercent')), field(t('coupon_cap'), money('cap'))),
      delivery_fee: () => field(t('promo_min_spend'), money('minSpend')),
    };
    mount(body,
      field(t('promo_name'), text('name', { maxlength: 40, required: true })),
      field(t('promo_kind'), h('select', { name: 'kind', onchange: (e) => { form.kind = e.target.value; draw(); } },
        COUPON_KINDS.map((k) => h('option', { value: k, selected: k === form.kind }, t('coupon_kind_' + k))))),
      kindFields[form.kind](),
      h('div.grid-2', {}, field(t('coupon_days'), text('days', { inputmode: 'numeric' })), field(t('coupon_per_diner'), text('perDinerLimit', { inputmode: 'numeric' }))),
      field(t('coupon_total'), text('totalLimit', { inputmode: 'numeric', placeholder: t('promo_unlimited') })),
      toggle({ checked: form.claimable, name: 'claimable', label: t('coupon_in_centre'), onchange: (e) => (form.claimable = e.target.checked) }),
      errors);
  };
  draw();
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-coupon' }, onclick: async () => {
    const { body: payload, errors: found } = formToCoupon(form);
    if (Object.keys(found).length) return showErrors(errors, found);
    try {
      await busy(save, () => post('console/coupon-templates', payload));
      close();
      toast(t('saved'));
      load(page);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      showErrors(errors, null, e);
    }
  } }, t('save'));
  const { close } = modal(t('coupon_add'), body, { actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), save] });
}

/** 预览: a cart of the store's dishes (first spec, first choices), priced at an hour of the day. */
function previewCard(page) {
  const p = page.preview;
  const out = h('div.preview-result');
  const showResult = () => {
    const q = p.quote;
    mount(out,
      p.error ? h('p.error', {}, explain(p.error)) : null,
      q ? h('div', {},
        h('p', {}, t('preview_subtotal', { amount: yuan(q.subtotal_fen) })),
        q.discounts.map((d) => h('p.discount', { dataset: { source: d.source } }, `${d.label} -${yuan(d.amount_fen)}`)),
        (q.gifts || []).map((g) => h('p.discount', {}, `${t('preview_gift')} ${g.name}`)),
        h('p', {}, h('strong', {}, t('preview_total', { amount: yuan(q.total_fen) }))),
        q.hint ? h('p.muted', {}, lang() === 'en' ? q.hint.message_en : q.hint.message) : null,
        (q.not_applicable || []).map((r) => h('p.muted', { dataset: { code: r.code } }, `${r.label}：${lang() === 'en' ? r.message_en : r.message}`))) : null);
  };
  const run = async (button) => {
    const lines = [...p.lines.entries()].filter(([, n]) => n > 0).map(([dishId, quantity]) => {
      const dish = page.dishes.find((d) => d.id === dishId);
      const options = (dish.option_groups || []).filter((g) => g.min_select > 0).flatMap((g) => g.options.slice(0, g.min_select).map((o) => o.id));
      return { sku_id: dish.skus[0].id, quantity, option_ids: options };
    });
    if (!lines.length) return;
    const body = { channel: 'pickup', lines };
    if (p.at) {
      const [hh, mm] = p.at.split(':').map(Number);
      const at = new Date();
      at.setHours(hh, mm, 0, 0);
      body.at_ms = at.getTime();
    }
    try {
      p.quote = await busy(button, () => post(`console/stores/${page.store.id}/promotions/preview`, body));
      p.error = null;
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      p.quote = null;
      p.error = e;
    }
    showResult();
  };
  const button = h('button.primary', { type: 'button', dataset: { action: 'preview' }, onclick: (e) => run(e.currentTarget) }, t('preview_run'));
  showResult();
  return h('section.card.preview', {},
    h('h2', {}, t('preview_title')),
    h('p.hint', {}, t('preview_hint')),
    h('div.preview-dishes', {}, page.dishes.filter((d) => d.skus?.length && !(d.combo_slots || []).length).slice(0, 40).map((d) =>
      h('label.preview-dish', {}, h('span', {}, d.name),
        input({ type: 'number', min: 0, max: 99, inputmode: 'numeric', value: String(p.lines.get(d.id) || 0), 'aria-label': d.name, oninput: (e) => p.lines.set(d.id, Math.max(0, Math.min(99, Number(e.target.value) || 0))) })))),
    field(t('preview_at'), input({ type: 'time', name: 'at', value: p.at, oninput: (e) => (p.at = e.target.value) })),
    button,
    out);
}
