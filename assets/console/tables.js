// 桌台: the current store's dining areas and tables as cards showing whether diners are seated,
// with 开台 / 清台 / 换码, the path each table's QR code opens, a way to the printable QR sheet,
// and forms to add an area and a table.

import { h, mount } from '../shared/dom.js';
import { get, post, del } from '../shared/api.js';
import { t } from './strings.js';
import { busy, confirmAction, explain, field, input, modal, notice, toast, trackShownErrors } from './ui.js';
import { byOrder } from './dish-form.js';

export function tablesPage(main, { store, onUnauthorized, navigate }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = { main, store, onUnauthorized, navigate, plan: null, open: {}, needsOpenTable: null };
  mount(main, notice(t('loading')));
  load(page);
}

/** The token a table's QR path carries: "/t/<token>". */
export const tokenOf = (qrPath) => String(qrPath).split('/').filter(Boolean).pop();

export const byCode = (a, b) => a.code.localeCompare(b.code, 'zh', { numeric: true });

async function load(page) {
  try {
    page.plan = await get(`console/stores/${page.store.id}/tables`);
    await loadStates(page);
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

/** Whether each table is open, from what its QR code shows diners (one request per table). */
async function loadStates(page) {
  const results = await Promise.allSettled(page.plan.tables.map((x) => get(`tables/${encodeURIComponent(tokenOf(x.qr_path))}`)));
  results.forEach((r, i) => {
    const id = page.plan.tables[i].id;
    page.open[id] = r.status === 'fulfilled' ? !!r.value.session_open : null;
    if (r.status === 'fulfilled') page.needsOpenTable = !!r.value.ordering_needs_open_table;
  });
}

function render(page) {
  const areas = [...page.plan.areas].sort(byOrder);
  mount(
    page.main,
    h(
      'div.tables-page',
      {},
      h(
        'header.page-head',
        {},
        h('h1', {}, t('tables_title')),
        h('span.muted', {}, page.store.name),
        page.needsOpenTable === null ? null : h('span.badge.muted', {}, page.needsOpenTable ? t('needs_open_table') : t('scan_opens_table')),
        h('div.spacer'),
        page.plan.tables.length
          ? h('button.secondary', { type: 'button', dataset: { action: 'print-qr' }, onclick: () => page.navigate('tables/print') }, t('print_qr'))
          : null,
      ),
      h(
        'div.tables-columns',
        {},
        h(
          'div.areas',
          {},
          areas.length ? null : notice(t('no_areas')),
          areas.map((area) => {
            const tables = page.plan.tables.filter((x) => x.area_id === area.id).sort(byCode);
            const seated = tables.filter((x) => page.open[x.id]).length;
            return h(
              'section.card.area',
              {},
              h('h2', {}, area.name, h('span.count', {}, `${seated}/${tables.length} ${t('table_open')}`)),
              tables.length ? h('div.table-grid', {}, tables.map((x) => tableCard(page, x))) : h('p.muted', {}, t('no_tables')),
            );
          }),
        ),
        h('aside.table-forms', {}, areaForm(page, areas), areas.length ? tableForm(page, areas) : null),
      ),
    ),
  );
}

function tableCard(page, table) {
  const open = page.open[table.id];
  const state = open === null || open === undefined ? 'unknown' : open ? 'open' : 'free';
  const label = { open: t('table_open'), free: t('table_free'), unknown: t('table_unknown') }[state];
  return h(
    `div.table-card.${state}`,
    { dataset: { tableId: table.id, state } },
    h(
      'div.table-head',
      {},
      h('span.table-code', {}, table.code),
      h('span.muted', {}, t('seats_n', { n: table.seats })),
      h('span.spacer'),
      h(`span.table-state.${state}`, {}, label),
    ),
    h(
      'div.table-actions',
      {},
      open
        ? h('button.secondary.small', { type: 'button', dataset: { action: 'clear-table' }, onclick: (e) => clearTable(page, table, e.currentTarget) }, t('clear_table'))
        : h('button.primary.small', { type: 'button', dataset: { action: 'open-table' }, onclick: () => openTable(page, table) }, t('open_table')),
      h('button.ghost.small', { type: 'button', dataset: { action: 'rotate-token' }, onclick: (e) => rotateToken(page, table, e.currentTarget) }, t('rotate_token')),
    ),
    h(
      'div.table-link',
      {},
      h('code', { title: table.qr_path }, table.qr_path),
      h('a.button.ghost.small', { href: table.qr_path, target: '_blank', rel: 'noopener' }, t('open')),
      h('button.ghost.small', { type: 'button', onclick: () => copy(location.origin + table.qr_path) }, t('copy')),
    ),
  );
}

function openTable(page, table) {
  const diners = input({ name: 'diners', type: 'number', min: 1, max: 100, inputmode: 'numeric', placeholder: String(table.seats) });
  const error = h('p.error', { role: 'alert', hidden: true });
  const submit = h('button.primary', { type: 'submit', form: 'open-table-form', dataset: { action: 'confirm-open-table' } }, t('open_table'));
  const form = h(
    'form.form-fields',
    {
      id: 'open-table-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const raw = diners.value.trim();
        const n = raw === '' ? null : Number(raw);
        if (n !== null && !(Number.isInteger(n) && n > 0)) {
          error.hidden = false;
          error.textContent = t('error_NOT_A_NUMBER');
          diners.setAttribute('aria-invalid', 'true');
          return;
        }
        try {
          await busy(submit, () => post(`console/stores/${page.store.id}/tables/${table.id}/session`, { diners: n }));
          page.open[table.id] = true;
          close();
          toast(t('table_opened', { code: table.code }));
          render(page);
        } catch (err) {
          if (err.status === 401) return page.onUnauthorized();
          error.hidden = false;
          error.textContent = err.details?.map((d) => d.text).join('；') || explain(err);
        }
      },
    },
    field(t('diners'), diners, { hint: t('optional') }),
    error,
  );
  const { close } = modal(t('open_table_title', { code: table.code }), form, {
    actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), submit],
  });
  diners.focus();
}

async function clearTable(page, table, button) {
  if (!(await confirmAction(t('confirm_clear', { code: table.code }), t('clear_table'), t('clear_table')))) return;
  try {
    await busy(button, () => del(`console/stores/${page.store.id}/tables/${table.id}/session`));
    toast(t('table_cleared', { code: table.code }));
    page.open[table.id] = false;
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    // 404: nobody is seated there any more (cleared elsewhere); show it as free.
    if (e.status === 404) page.open[table.id] = false;
    toast(explain(e), 'error');
  }
  if (button.isConnected) render(page);
}

async function rotateToken(page, table, button) {
  if (!(await confirmAction(t('confirm_rotate', { code: table.code }), t('rotate_token'), t('rotate_token')))) return;
  try {
    const { qr_path } = await busy(button, () => post(`console/stores/${page.store.id}/tables/${table.id}/rotate-token`));
    table.qr_path = qr_path;
    toast(t('token_rotated', { code: table.code }));
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    toast(explain(e), 'error');
  }
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('copied'));
  } catch {
    toast(text, 'error');
  }
}

/** A small create form whose server errors land next to the matching inputs. */
function createForm(id, title, fields, submit) {
  const state = { errors: {} };
  const body = h('div.form-fields');
  const formError = h('p.form-error', { role: 'alert', hidden: true });
  const button = h('button.primary', { type: 'submit' }, t('add'));
  const renderFields = () => {
    const done = trackShownErrors();
    mount(body, fields(state.errors));
    done();
  };
  renderFields();
  return h(
    'form.card',
    {
      id,
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        formError.hidden = true;
        try {
          await busy(button, () => submit(new FormData(e.target)));
        } catch (err) {
          state.errors = Object.fromEntries((err.details || []).map((d) => [d.field, d.text]));
          renderFields();
          if (!err.details?.length) {
            formError.hidden = false;
            formError.textContent = explain(err);
          }
        }
      },
    },
    h('h2', {}, title),
    body,
    formError,
    button,
  );
}

function areaForm(page, areas) {
  return createForm(
    'area-form',
    t('add_area'),
    (errors) => [
      field(t('area_name'), input({ name: 'name', required: true, placeholder: '大厅' }), { path: 'name', errors }),
      field(t('sort_order'), input({ name: 'sort_order', type: 'number', min: 0, value: String(areas.length ? Math.max(...areas.map((a) => a.sort_order)) + 1 : 1) }), { path: 'sort_order', errors }),
    ],
    async (data) => {
      const area = await post(`console/stores/${page.store.id}/areas`, { name: String(data.get('name')).trim(), sort_order: Number(data.get('sort_order') || 0) });
      page.plan.areas.push(area);
      toast(t('area_created', { name: area.name }));
      render(page);
    },
  );
}

function tableForm(page, areas) {
  return createForm(
    'table-form',
    t('add_table'),
    (errors) => [
      field(t('area'), h('select', { name: 'area_id' }, areas.map((a) => h('option', { value: a.id }, a.name))), { path: 'area_id', errors }),
      field(t('table_code'), input({ name: 'code', required: true, maxlength: 12, placeholder: 'A12' }), { path: 'code', errors }),
      field(t('seats'), input({ name: 'seats', type: 'number', min: 1, max: 100, value: '4' }), { path: 'seats', errors }),
    ],
    async (data) => {
      const seats = Number(data.get('seats'));
      const table = await post(`console/stores/${page.store.id}/tables`, { area_id: data.get('area_id'), code: String(data.get('code')).trim(), seats: Number.isInteger(seats) ? seats : 0 });
      page.plan.tables.push(table);
      page.open[table.id] = false;
      toast(t('table_created', { code: table.code }));
      render(page);
    },
  );
}
