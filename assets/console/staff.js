// 员工: the brand's staff accounts (owner only): who they are, their role, the stores they work
// in, whether they can sign in; add an account, change one, switch it off, set a new password.
// Every change signs the account out, so it takes effect at once.

import { h, mount } from '../shared/dom.js';
import { get, post, put } from '../shared/api.js';
import { t } from './strings.js';
import { busy, explain, field, input, modal, notice, toast, toggle } from './ui.js';

const ROLES = ['manager', 'cashier', 'waiter', 'kitchen', 'rider', 'owner'];

export function staffPage(main, { store, staff, onUnauthorized }) {
  const page = { main, store, stores: staff?.stores || [], onUnauthorized, members: [] };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page) {
  try {
    page.members = await get('console/staff');
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    if (e.status === 403) return mount(page.main, notice(t('staff_owner_only')));
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

const storeNames = (page, ids) => (ids === null ? t('all_stores') : ids.map((id) => page.stores.find((s) => s.id === id)?.name ?? '—').join('、'));

function render(page) {
  mount(page.main, h('div.staff-page', {},
    h('header.page-head', {}, h('h1', {}, t('staff_title')), h('div.spacer'),
      h('button.primary', { type: 'button', dataset: { action: 'add-staff' }, onclick: () => editMember(page, null) }, t('add_staff'))),
    h('section.card', {}, h('table.staff-list', {},
      h('thead', {}, h('tr', {}, ['staff_name', 'staff_login', 'staff_role', 'staff_stores', 'staff_state', ''].map((k) => h('th', {}, k ? t(k) : '')))),
      h('tbody', {}, page.members.map((m) => h(`tr${m.active ? '' : '.inactive'}`, { dataset: { staffId: m.id } },
        h('td', {}, m.display_name),
        h('td', {}, h('code', {}, m.login)),
        h('td', {}, t('role_' + m.role)),
        h('td', {}, storeNames(page, m.store_ids)),
        h('td', {}, m.active ? t('staff_active') : h('span.badge.muted', {}, t('staff_inactive'))),
        h('td.actions', {},
          h('button.ghost.small', { type: 'button', dataset: { action: 'edit-staff' }, onclick: () => editMember(page, m) }, t('edit')),
          h('button.ghost.small', { type: 'button', dataset: { action: 'reset-password' }, onclick: () => resetPassword(page, m) }, t('reset_password'))))))))));
}

/** The account form: add (member null) or change; server field errors are listed under it. */
function editMember(page, member) {
  const form = {
    login: '', password: '',
    display_name: member?.display_name ?? '',
    role: member?.role ?? 'cashier',
    store_ids: member?.store_ids ?? [page.store?.id].filter(Boolean),
    active: member?.active ?? true,
  };
  const errors = h('p.error', { role: 'alert', hidden: true });
  const everywhere = () => form.store_ids === null;
  const stores = h('div.station-choices');
  const drawStores = () => mount(stores,
    toggle({ checked: everywhere(), name: 'all_stores', label: t('all_stores'), onchange: (e) => { form.store_ids = e.target.checked ? null : []; drawStores(); } }),
    everywhere() ? null : page.stores.map((s) => toggle({ checked: form.store_ids.includes(s.id), name: `store_${s.id}`, label: s.name, onchange: (e) => {
      form.store_ids = e.target.checked ? [...form.store_ids, s.id] : form.store_ids.filter((x) => x !== s.id);
    } })));
  drawStores();
  const role = h('select', { name: 'role', onchange: (e) => (form.role = e.target.value) },
    ROLES.map((r) => h('option', { value: r, selected: r === form.role }, t('role_' + r))));
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-staff' }, onclick: async () => {
    try {
      const body = member
        ? { display_name: form.display_name, role: form.role, store_ids: form.store_ids, active: form.active }
        : { login: form.login, display_name: form.display_name, role: form.role, password: form.password, store_ids: form.store_ids };
      await busy(save, () => (member ? put(`console/staff/${member.id}`, body) : post('console/staff', body)));
      close();
      toast(t('saved'));
      load(page);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      errors.hidden = false;
      errors.textContent = e.details?.map((d) => `${t('field_' + d.field) !== 'field_' + d.field ? t('field_' + d.field) : d.field}：${d.text}`).join('；') || explain(e);
    }
  } }, t('save'));
  const { close } = modal(member ? t('edit_staff', { name: member.display_name }) : t('add_staff'), h('div.form-fields', {},
    member ? null : field(t('staff_login'), input({ name: 'login', maxlength: 64, autocomplete: 'off', oninput: (e) => (form.login = e.target.value) }), { hint: t('login_hint_chars') }),
    field(t('staff_name'), input({ name: 'display_name', maxlength: 60, value: form.display_name, oninput: (e) => (form.display_name = e.target.value) })),
    field(t('staff_role'), role),
    member ? null : field(t('password'), input({ name: 'password', type: 'password', maxlength: 128, autocomplete: 'new-password', oninput: (e) => (form.password = e.target.value) }), { hint: t('password_hint') }),
    h('fieldset.field', {}, h('legend.label', {}, t('staff_stores')), stores),
    member ? toggle({ checked: form.active, name: 'active', label: t('staff_can_sign_in'), onchange: (e) => (form.active = e.target.checked) }) : null,
    errors,
  ), { actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), save] });
}

function resetPassword(page, member) {
  const password = input({ name: 'password', type: 'password', maxlength: 128, autocomplete: 'new-password' });
  const errors = h('p.error', { role: 'alert', hidden: true });
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-password' }, onclick: async () => {
    try {
      await busy(save, () => post(`console/staff/${member.id}/password`, { password: password.value }));
      close();
      toast(t('password_set', { name: member.display_name }));
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      errors.hidden = false;
      errors.textContent = e.details?.map((d) => d.text).join('；') || explain(e);
    }
  } }, t('save'));
  const { close } = modal(t('reset_password_for', { name: member.display_name }), h('div.form-fields', {},
    field(t('password'), password, { hint: t('password_hint') }), errors),
  { actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), save] });
  password.focus();
}
