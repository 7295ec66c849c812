// 桌台: the current store's dining areas and tables with the path each table's QR code opens,
// and forms to add an area and a table.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { t } from './strings.js';
import { busy, explain, field, input, notice, toast, trackShownErrors } from './ui.js';
import { byOrder } from './dish-form.js';

export function tablesPage(main, { store, onUnauthorized }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = { main, store, onUnauthorized, plan: null };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page) {
  try {
    page.plan = await get(`console/stores/${page.store.id}/tables`);
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

function render(page) {
  const areas = [...page.plan.areas].sort(byOrder);
  mount(
    page.main,
    h(
      'div.tables-page',
      {},
      h('header.page-head', {}, h('h1', {}, t('tables_title')), h('span.muted', {}, page.store.name)),
      h(
        'div.tables-columns',
        {},
        h(
          'div.areas',
          {},
          areas.length ? null : notice(t('no_areas')),
          areas.map((area) => {
            const tables = page.plan.tables.filter((x) => x.area_id === area.id).sort((a, b) => a.code.localeCompare(b.code, 'zh', { numeric: true }));
            return h(
              'section.card.area',
              {},
              h('h2', {}, area.name, h('span.count', {}, String(tables.length))),
              tables.length
                ? h(
                    'table.data',
                    {},
                    h('thead', {}, h('tr', {}, h('th', {}, t('table_code')), h('th.num', {}, t('seats')), h('th', {}, t('qr_path')))),
                    h('tbody', {}, tables.map((x) => h('tr', { dataset: { tableId: x.id } },
                      h('td.strong', {}, x.code),
                      h('td.num', {}, String(x.seats)),
                      h('td.qr', {},
                        h('code', {}, x.qr_path),
                        h('a.button.ghost.small', { href: x.qr_path, target: '_blank', rel: 'noopener' }, t('open')),
                        h('button.ghost.small', { type: 'button', onclick: () => copy(location.origin + x.qr_path) }, t('copy')))))),
                  )
                : h('p.muted', {}, t('no_tables')),
            );
          }),
        ),
        h('aside.table-forms', {}, areaForm(page, areas), areas.length ? tableForm(page, areas) : null),
      ),
    ),
  );
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
      toast(t('table_created', { code: table.code }));
      render(page);
    },
  );
}
