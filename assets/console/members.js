// 会员: the brand's members, searched by phone (found through the blind index on the server;
// the list shows masked numbers only), one member's level, points and stored value with both
// ledgers, points redeemed or corrected at the counter, and the programme's settings (levels,
// points rule, member day, recharge tiers). Cashiers may look and redeem; managers configure.

import { h, mount } from '../shared/dom.js';
import { get, post, put } from '../shared/api.js';
import { yuan } from '../shared/money.js';
import { lang } from '../shared/i18n.js';
import { t } from './strings.js';
import { busy, explain, field, input, modal, notice, toast, toggle } from './ui.js';
import { bodyOf, formOf } from './member-logic.js';

const dateTime = (ms) => new Date(ms).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour12: false });

export function membersPage(main, { onUnauthorized }) {
  const page = { main, onUnauthorized, phone: '', rows: [], nextBefore: null, programme: null };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page, more = false) {
  try {
    const query = new URLSearchParams({ limit: '20' });
    if (page.phone) query.set('phone', page.phone);
    if (more && page.nextBefore) query.set('before', page.nextBefore);
    const [list, programme] = await Promise.all([
      get(`console/members?${query}`),
      page.programme ? Promise.resolve(page.programme) : get('console/membership'),
    ]);
    page.rows = more ? page.rows.concat(list.members) : list.members;
    page.nextBefore = list.next_before || null;
    page.programme = programme;
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    if (e.status === 403) return mount(page.main, notice(t('members_forbidden')));
    if (e.status === 422) return toast(explain(e), 'error');
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

function render(page) {
  const phone = input({ name: 'phone', type: 'search', inputMode: 'numeric', placeholder: t('members_search_phone'), value: page.phone, maxLength: 20 });
  const search = h('form.member-search', {
    onsubmit: (e) => {
      e.preventDefault();
      page.phone = phone.value.trim();
      load(page);
    },
  }, phone, h('button.primary', { type: 'submit', dataset: { action: 'search-members' } }, t('members_search')));
  const rows = page.rows.map((m) => h('tr', { dataset: { customerId: m.customer_id } },
    h('td', {}, m.phone_masked || '—'),
    h('td', {}, m.display_name),
    h('td', {}, h(`span.badge.level-${m.level}`, {}, t('level_' + m.level))),
    h('td.num', {}, String(m.growth)),
    h('td.num', {}, String(m.points)),
    h('td', {}, dateTime(m.joined_at_ms)),
    h('td.actions', {}, h('button.ghost.small', { type: 'button', dataset: { action: 'open-member' }, onclick: () => openMember(page, m.customer_id) }, t('members_open')))));
  mount(page.main, h('div.members-page', {},
    h('header.page-head', {}, h('h1', {}, t('nav_members')), h('div.spacer'),
      h('button.ghost', { type: 'button', dataset: { action: 'programme' }, onclick: () => editProgramme(page) }, t('members_programme'))),
    h('section.card', {}, search,
      rows.length
        ? h('table.members-list', {},
          h('thead', {}, h('tr', {}, ['members_phone', 'staff_name', 'members_level', 'members_growth', 'members_points', 'members_joined', ''].map((k) => h('th', {}, k ? t(k) : '')))),
          h('tbody', {}, rows))
        : h('p.empty', {}, page.phone ? t('members_none_with_phone') : t('members_none')),
      page.nextBefore ? h('button.ghost', { type: 'button', onclick: () => load(page, true) }, t('show_more_members')) : null)));
}

async function openMember(page, customerId) {
  let m;
  try {
    m = await get(`console/members/${encodeURIComponent(customerId)}/membership`);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    return toast(explain(e), 'error');
  }
  const ms = m.membership;
  const s = ms.standing;
  const pointsRows = m.points_entries.map((e) => h('tr', { dataset: { kind: e.kind } },
    h('td', {}, dateTime(e.created_at_ms)), h('td', {}, t('points_' + e.kind)),
    h('td.num', {}, `${e.points > 0 ? '+' : ''}${e.points}`), h('td.num', {}, String(e.balance_after)), h('td', {}, e.reason)));
  const balanceRows = m.balance_entries.map((e) => h('tr', {},
    h('td', {}, dateTime(e.created_at_ms)), h('td', {}, t('balance_' + e.kind)),
    h('td.num', {}, yuan(e.amount_fen)), h('td.num', {}, yuan(e.balance_after_fen)), h('td', {}, e.reason)));
  const body = h('div.member-detail', {},
    h('div.member-summary', {},
      h('div', {}, h('strong', {}, t('level_' + s.level)), h('div.sub', {}, t('members_growth_of', { n: ms.growth }))),
      h('div', {}, h('strong', { dataset: { points: String(ms.points) } }, String(ms.points)), h('div.sub', {}, t('members_points'))),
      h('div', {}, h('strong', {}, yuan(ms.balance_fen)), h('div.sub', {}, t('members_balance')))),
    h('div.member-actions', {},
      h('button.primary', { type: 'button', dataset: { action: 'redeem-points' }, onclick: () => pointsForm(page, customerId, 'redeem', close) }, t('members_redeem')),
      h('button.ghost', { type: 'button', dataset: { action: 'adjust-points' }, onclick: () => pointsForm(page, customerId, 'adjust', close) }, t('members_adjust'))),
    h('h3', {}, t('members_points_ledger')),
    pointsRows.length ? h('table.ledger', {}, h('tbody', {}, pointsRows)) : h('p.empty', {}, t('members_no_entries')),
    h('h3', {}, t('members_balance_ledger')),
    balanceRows.length ? h('table.ledger', {}, h('tbody', {}, balanceRows)) : h('p.empty', {}, t('members_no_entries')));
  const { close } = modal(t('members_member'), body, { className: 'member-modal' });
}

function pointsForm(page, customerId, kind, closeDetail) {
  const points = input({ name: 'points', inputMode: 'numeric', placeholder: kind === 'redeem' ? '100' : '-50 / 50' });
  const reason = input({ name: 'reason', maxLength: 100, placeholder: t(kind === 'redeem' ? 'members_redeem_reason' : 'members_adjust_reason') });
  const errors = h('p.error', { role: 'alert', hidden: true });
  const key = crypto.randomUUID();
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-points' }, onclick: async () => {
    const n = Number(points.value.trim());
    if (!Number.isInteger(n) || n === 0) {
      errors.hidden = false;
      errors.textContent = t('members_points_whole');
      return;
    }
    try {
      await busy(save, () => post(`console/members/${encodeURIComponent(customerId)}/points`, { kind, points: n, reason: reason.value.trim(), key }));
      close();
      closeDetail();
      toast(t('saved'));
      openMember(page, customerId);
      load(page);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      errors.hidden = false;
      errors.textContent = explain(e);
    }
  } }, t('save'));
  const { close } = modal(t(kind === 'redeem' ? 'members_redeem' : 'members_adjust'),
    h('div', {}, field(t('members_points'), points), field(t('members_reason'), reason), errors),
    { actions: [save] });
}

const WEEKDAYS = ['', 1, 2, 3, 4, 5, 6, 7];

function editProgramme(page) {
  const form = formOf(page.programme);
  const errors = h('p.error', { role: 'alert', hidden: true });
  const levels = form.levels.map((l) => h('tr', { dataset: { level: l.level } },
    h('td', {}, t('level_' + l.level)),
    h('td', {}, input({ name: `growth_${l.level}`, value: l.growth_from, inputMode: 'numeric', disabled: l.level === 'bronze', oninput: (e) => (l.growth_from = e.target.value) })),
    h('td', {}, input({ name: `discount_${l.level}`, value: l.discount_percent, inputMode: 'decimal', oninput: (e) => (l.discount_percent = e.target.value) })),
    h('td', {}, toggle({ checked: l.free_delivery, name: `free_delivery_${l.level}`, label: t('members_free_delivery'), onchange: (e) => (l.free_delivery = e.target.checked) })),
    h('td', {}, toggle({ checked: l.birthday_gift, name: `birthday_${l.level}`, label: t('members_birthday_gift'), onchange: (e) => (l.birthday_gift = e.target.checked) }))));
  const tiers = h('div.tiers');
  const drawTiers = () => mount(tiers, form.tiers.map((tier, i) => h('div.tier-row', {},
    t('members_tier_pay'), input({ name: `tier_pay_${i}`, value: tier.pay, inputMode: 'decimal', oninput: (e) => (tier.pay = e.target.value) }),
    t('members_tier_bonus'), input({ name: `tier_bonus_${i}`, value: tier.bonus, inputMode: 'decimal', oninput: (e) => (tier.bonus = e.target.value) }),
    h('button.ghost.small', { type: 'button', onclick: () => { form.tiers.splice(i, 1); drawTiers(); } }, t('delete')))),
  form.tiers.length < 8 ? h('button.ghost.small', { type: 'button', dataset: { action: 'add-tier' }, onclick: () => { form.tiers.push({ pay: '', bonus: '' }); drawTiers(); } }, t('members_add_tier')) : null);
  drawTiers();
  const weekday = h('select', { name: 'member_day', onchange: (e) => (form.member_day_weekday = e.target.value) },
    WEEKDAYS.map((d) => h('option', { value: String(d), selected: String(d) === form.member_day_weekday }, d ? t('weekday_' + d) : t('members_no_member_day'))));
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-programme' }, onclick: async () => {
    const { body, problems } = bodyOf(form);
    const found = Object.entries(problems);
    if (found.length) {
      errors.hidden = false;
      errors.textContent = found.map(([, key]) => t('members_problem_' + key)).join('；');
      return;
    }
    try {
      page.programme = await busy(save, () => put('console/membership', body));
      close();
      toast(t('saved'));
      load(page);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      errors.hidden = false;
      errors.textContent = explain(e);
    }
  } }, t('save'));
  const { close } = modal(t('members_programme'), h('div.programme-form', {},
    h('h3', {}, t('members_levels')),
    h('table.levels', {}, h('thead', {}, h('tr', {}, ['members_level', 'members_growth_from', 'members_discount_percent', '', ''].map((k) => h('th', {}, k ? t(k) : '')))), h('tbody', {}, levels)),
    h('h3', {}, t('members_points_rule')),
    field(t('members_points_per_yuan'), input({ name: 'points_per_yuan', value: form.points_per_yuan, inputMode: 'numeric', oninput: (e) => (form.points_per_yuan = e.target.value) })),
    field(t('members_expiry_months'), input({ name: 'expiry_months', value: form.expiry_months, inputMode: 'numeric', oninput: (e) => (form.expiry_months = e.target.value) }), { hint: t('members_expiry_hint') }),
    field(t('members_member_day'), weekday),
    field(t('members_multiplier'), input({ name: 'multiplier', value: form.member_day_multiplier, inputMode: 'numeric', oninput: (e) => (form.member_day_multiplier = e.target.value) })),
    h('h3', {}, t('members_tiers')),
    tiers,
    errors), { className: 'programme-modal', actions: [save] });
}
