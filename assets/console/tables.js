// 桌台: the current store's dining areas and tables as cards showing what each table is doing
// (空闲, 点餐中, 用餐中, 待结账, 待清台, live over SSE), with 开台 / 清台 / 换台 / 并台 / 换码, the
// path each table's QR code opens, a way to the printable QR sheet, and forms to add an area
// and a table.

import { h, mount } from '../shared/dom.js';
import { get, post, del } from '../shared/api.js';
import { follow } from '../shared/live-feed.js';
import { yuan } from '../shared/money.js';
import { t } from './strings.js';
import { busy, confirmAction, explain, field, input, modal, notice, toast, trackShownErrors } from './ui.js';
import { byOrder } from './dish-form.js';

export function tablesPage(main, { store, onUnauthorized, navigate }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = { main, store, onUnauthorized, navigate, plan: null, open: {}, floor: {}, needsOpenTable: null, feed: null };
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
    followFloor(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

/** Every table's state in one request, and whether scanning opens a table (from one table's landing). */
async function loadStates(page) {
  const [floor, landing] = await Promise.allSettled([
    get(`console/stores/${page.store.id}/floor`),
    page.plan.tables.length ? get(`tables/${encodeURIComponent(tokenOf(page.plan.tables[0].qr_path))}`) : Promise.reject(new Error('no tables')),
  ]);
  if (floor.status === 'fulfilled') takeFloor(page, floor.value);
  if (landing.status === 'fulfilled') page.needsOpenTable = !!landing.value.ordering_needs_open_table;
}

function takeFloor(page, floor) {
  for (const x of floor.tables) {
    page.floor[x.id] = x;
    page.open[x.id] = x.state !== 'idle';
  }
}

/** Redraws on every change of any table, unless a dialog is open (then after it closes). */
function followFloor(page) {
  page.feed = follow({
    url: `/api/v1/console/stores/${encodeURIComponent(page.store.id)}/floor/events`,
    kinds: ['floor'],
    onEvent: (kind, floor) => {
      if (!page.main.isConnected) return page.feed.stop();
      takeFloor(page, floor);
      if (!document.querySelector('dialog[open]')) render(page);
    },
  });
}

const STATE_LABELS = { idle: 'table_free', ordering: 'table_ordering', eating: 'table_eating', awaiting_bill: 'table_awaiting_bill', to_clear: 'table_to_clear' };

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
  const now = page.floor[table.id];
  const state = now?.state ?? (open === null || open === undefined ? 'unknown' : open ? 'ordering' : 'idle');
  const label = t(STATE_LABELS[state] || 'table_unknown');
  // The older two-state look (.open / .free) stays for the card's colours.
  const look = state === 'unknown' ? 'unknown' : state === 'idle' ? 'free' : 'open';
  return h(
    `div.table-card.${look}.st-${state}`,
    { dataset: { tableId: table.id, state } },
    h(
      'div.table-head',
      {},
      h('span.table-code', {}, table.code),
      h('span.muted', {}, t('seats_n', { n: table.seats })),
      h('span.spacer'),
      h(`span.table-state.${look}`, {}, label),
    ),
    open && now?.orders ? h('p.table-bill-line.muted', {}, t('table_bill_line', { n: now.orders, total: yuan(now.total_fen), unpaid: yuan(now.unpaid_fen) })) : null,
    h(
      'div.table-actions',
      {},
      open
        ? h('button.secondary.small', { type: 'button', dataset: { action: 'clear-table' }, onclick: (e) => clearTable(page, table, e.currentTarget) }, t('clear_table'))
        : h('button.primary.small', { type: 'button', dataset: { action: 'open-table' }, onclick: () => openTable(page, table) }, t('open_table')),
      open ? h('button.ghost.small', { type: 'button', dataset: { action: 'transfer-table' }, onclick: () => moveDiners(page, table, 'transfer') }, t('transfer_table')) : null,
      open ? h('button.ghost.small', { type: 'button', dataset: { action: 'merge-table' }, onclick: () => moveDiners(page, table, 'merge') }, t('merge_table')) : null,
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

/** 换台 (to a free table) or 并台 (onto a seated one): pick the other table from the list. */
function moveDiners(page, table, how) {
  const candidates = page.plan.tables
    .filter((x) => x.id !== table.id && (how === 'transfer' ? !page.open[x.id] : page.open[x.id]))
    .sort(byCode);
  const choose = async (other, button) => {
    const body = how === 'transfer' ? { to_table_id: other.id } : { into_table_id: other.id };
    try {
      await busy(button, () => post(`console/stores/${page.store.id}/tables/${table.id}/${how}`, body));
      close();
      toast(t(how === 'transfer' ? 'table_transferred' : 'table_merged', { from: table.code, to: other.code }));
      await loadStates(page);
      render(page);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      toast(explain(e), 'error');
    }
  };
  const list = candidates.length
    ? h('div.table-choices', {}, candidates.map((x) => h('button.secondary', { type: 'button', dataset: { table: x.code }, onclick: (e) => choose(x, e.currentTarget) }, x.code)))
    : h('p.muted', {}, t(how === 'transfer' ? 'no_free_tables' : 'no_seated_tables'));
  const { close } = modal(t(how === 'transfer' ? 'transfer_title' : 'merge_title', { code: table.code }), h('div', {}, h('p.hint', {}, t(how === 'transfer' ? 'transfer_hint' : 'merge_hint')), list), {
    actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel'))],
    onclose: () => render(page),
  });
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
