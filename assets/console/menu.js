// 菜单: categories (with order and serving hours), the dishes of each with shelf and 沽清
// switches for the current store, search, and menu import/export.

import { h, mount } from '../shared/dom.js';
import { get, post, put, del, imageUrl } from '../shared/api.js';
import { localized } from '../shared/i18n.js';
import { t } from './strings.js';
import { busy, confirmAction, explain, field, input, modal, notice, toast, trackShownErrors } from './ui.js';
import { byOrder, dishToDraft, matchesSearch, priceLabel, reorder, soldOutState, withSoldOut } from './dish-form.js';
import { scheduleInput, scheduleSummary } from './schedule-input.js';
import { openDishEditor } from './dish-editor.js';

export function menuPage(main, context) {
  const page = {
    main,
    store: context.store,
    onUnauthorized: context.onUnauthorized,
    catalog: null,
    settings: { dish_settings: {}, sku_states: {} },
    categoryId: 'all',
    query: '',
  };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page) {
  try {
    const [catalog, settings] = await Promise.all([
      get('console/menu'),
      page.store ? get(`console/stores/${page.store.id}/menu-settings`) : { dish_settings: {}, sku_states: {} },
    ]);
    page.catalog = catalog;
    page.settings = settings;
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

/** Reloads the catalog and settings quietly (after a save), keeping scroll and filters. */
async function refresh(page) {
  const scroll = page.main.querySelector('.dish-list')?.scrollTop;
  await load(page);
  const list = page.main.querySelector('.dish-list');
  if (list && scroll) list.scrollTop = scroll;
}

function render(page) {
  const searchBox = input({
    type: 'search',
    name: 'q',
    value: page.query,
    placeholder: t('search'),
    'aria-label': t('search'),
    oninput: (e) => {
      page.query = e.target.value;
      renderDishes(page);
    },
  });
  const importInput = h('input', { type: 'file', accept: '.csv,.xlsx,text/csv', hidden: true, onchange: (e) => importMenu(page, e.target, importButton) });
  const importButton = h('button.secondary', { type: 'button', onclick: () => importInput.click() }, t('import'));
  mount(
    page.main,
    h(
      'div.menu-page',
      {},
      h(
        'header.page-head',
        {},
        h('h1', {}, t('menu_title')),
        h('div.spacer'),
        h('a.button.secondary', { href: '/api/v1/console/menu/export?format=csv', download: 'menu.csv' }, t('export_csv')),
        h('a.button.secondary', { href: '/api/v1/console/menu/export?format=xlsx', download: 'menu.xlsx' }, t('export_xlsx')),
        importButton,
        importInput,
      ),
      h(
        'div.menu-columns',
        {},
        h('aside.category-panel', { 'aria-label': t('categories') }),
        h(
          'section.dish-panel',
          {},
          h(
            'div.dish-toolbar',
            {},
            searchBox,
            h('button.secondary', { type: 'button', dataset: { action: 'new-combo' }, onclick: () => editDish(page, null, 'combo') }, '+ ' + t('new_combo')),
            h('button.primary', { type: 'button', dataset: { action: 'new-dish' }, onclick: () => editDish(page, null, 'single') }, '+ ' + t('new_dish')),
          ),
          h('div.dish-list', { role: 'list' }),
        ),
      ),
    ),
  );
  renderCategories(page);
  renderDishes(page);
}

function renderCategories(page) {
  const panel = page.main.querySelector('.category-panel');
  const categories = [...page.catalog.categories].sort(byOrder);
  const counts = {};
  for (const d of page.catalog.dishes) counts[d.category_id] = (counts[d.category_id] || 0) + 1;
  const item = (id, name, count, extra = []) =>
    h(
      'li.category' + (page.categoryId === id ? '.current' : ''),
      {},
      h(
        'button.category-pick',
        {
          type: 'button',
          'aria-pressed': String(page.categoryId === id),
          onclick: () => {
            page.categoryId = id;
            renderCategories(page);
            renderDishes(page);
          },
        },
        h('span.category-name', {}, name),
        h('span.count', {}, String(count)),
      ),
      extra,
    );
  mount(
    panel,
    h('div.panel-head', {}, h('h2', {}, t('categories')), h('button.secondary.small', { type: 'button', dataset: { action: 'new-category' }, onclick: () => editCategory(page, null) }, '+ ' + t('new_category'))),
    h(
      'ul.categories',
      {},
      item('all', t('all_dishes'), page.catalog.dishes.length),
      categories.map((c, i) =>
        item(c.id, localized(c.name, c.name_en), counts[c.id] || 0, [
          c.availability.length ? h('span.category-hours', {}, scheduleSummary(c.availability)) : null,
          h(
            'div.category-tools',
            {},
            h('button.icon.small', { type: 'button', 'aria-label': t('move_up'), title: t('move_up'), disabled: i === 0, onclick: (e) => moveCategory(page, categories, i, -1, e.currentTarget) }, '↑'),
            h('button.icon.small', { type: 'button', 'aria-label': t('move_down'), title: t('move_down'), disabled: i === categories.length - 1, onclick: (e) => moveCategory(page, categories, i, 1, e.currentTarget) }, '↓'),
            h('button.icon.small', { type: 'button', 'aria-label': `${t('edit')} ${c.name}`, title: t('edit'), dataset: { action: 'edit-category' }, onclick: () => editCategory(page, c) }, '✎'),
          ),
        ]),
      ),
    ),
  );
}

const categoryDraft = (c) => ({ name: c.name, name_en: c.name_en || null, sort_order: c.sort_order, availability: c.availability });

async function moveCategory(page, categories, index, step, button) {
  const changes = reorder(categories, index, step);
  try {
    await busy(button, () => Promise.all(changes.map(({ item, sort_order }) => put(`console/categories/${item.id}`, { ...categoryDraft(item), sort_order }))));
    await refresh(page);
  } catch (e) {
    toast(explain(e), 'error');
  }
}

function editCategory(page, category) {
  const draft = category
    ? { ...categoryDraft(category), name_en: category.name_en || '', availability: category.availability.map((w) => ({ ...w, weekdays: [...w.weekdays] })) }
    : { name: '', name_en: '', sort_order: nextOrder(page.catalog.categories), availability: [] };
  let errors = {};
  const body = h('form.category-form', { id: 'category-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } });
  const formError = h('p.form-error', { role: 'alert', hidden: true });
  const renderForm = () => {
    const done = trackShownErrors();
    mount(
      body,
      formError,
      field(t('category_name'), input({ name: 'name', value: draft.name, required: true, maxlength: 30, oninput: (e) => (draft.name = e.target.value) }), { path: 'name', errors }),
      field(t('name_en'), input({ name: 'name_en', value: draft.name_en, lang: 'en', oninput: (e) => (draft.name_en = e.target.value) }), { path: 'name_en', errors }),
      field(t('sort_order'), input({ name: 'sort_order', type: 'number', min: 0, inputmode: 'numeric', value: String(draft.sort_order), oninput: (e) => (draft.sort_order = e.target.value) }), { path: 'sort_order', errors, hint: t('sort_hint') }),
      h('fieldset.field', {}, h('legend.label', {}, t('schedule')), scheduleInput(draft.availability, { errors })),
    );
    const placed = done();
    const rest = Object.keys(errors).filter((p) => !placed.has(p));
    formError.hidden = !rest.length;
    formError.textContent = rest.map((p) => `${p}: ${errors[p]}`).join('；');
  };
  const saveButton = h('button.primary', { type: 'submit', form: 'category-form', dataset: { action: 'save-category' } }, t('save'));
  const deleteButton = category
    ? h('button.danger.push-left', { type: 'button', onclick: () => remove() }, t('delete'))
    : null;
  const { close } = modal(category ? t('edit_category') : t('new_category'), body, {
    className: 'category-modal',
    actions: [deleteButton, h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), saveButton],
  });
  renderForm();
  body.querySelector('input')?.focus();

  async function save() {
    const order = Number(String(draft.sort_order).trim() || 0);
    const payload = { name: draft.name.trim(), name_en: draft.name_en.trim() || null, sort_order: Number.isInteger(order) ? order : -1, availability: draft.availability };
    try {
      await busy(saveButton, () => (category ? put(`console/categories/${category.id}`, payload) : post('console/categories', payload)), t('saving'));
      close();
      toast(t('saved'));
      refresh(page);
    } catch (e) {
      errors = Object.fromEntries((e.details || []).map((d) => [d.field, d.text]));
      formError.hidden = false;
      renderForm();
      if (!e.details?.length) {
        formError.hidden = false;
        formError.textContent = explain(e);
      }
    }
  }

  async function remove() {
    if (!(await confirmAction(t('confirm_delete_category', { name: category.name })))) return;
    try {
      await busy(deleteButton, () => del(`console/categories/${category.id}`));
      close();
      toast(t('deleted'));
      if (page.categoryId === category.id) page.categoryId = 'all';
      refresh(page);
    } catch (e) {
      // CATEGORY_NOT_EMPTY explains itself: move or delete the dishes first.
      formError.hidden = false;
      formError.textContent = explain(e);
    }
  }
}

const nextOrder = (items) => (items.length ? Math.max(...items.map((i) => i.sort_order)) + 10 : 0);

function visibleDishes(page) {
  const order = Object.fromEntries([...page.catalog.categories].sort(byOrder).map((c, i) => [c.id, i]));
  return page.catalog.dishes
    .filter((d) => (page.query ? true : page.categoryId === 'all' || d.category_id === page.categoryId))
    .filter((d) => matchesSearch(d, page.query))
    .sort((a, b) => (order[a.category_id] ?? 0) - (order[b.category_id] ?? 0) || byOrder(a, b));
}

function renderDishes(page) {
  const list = page.main.querySelector('.dish-list');
  const dishes = visibleDishes(page);
  if (!dishes.length) {
    mount(list, notice(page.query ? t('no_results', { q: page.query }) : t('no_dishes')));
    return;
  }
  const categories = Object.fromEntries(page.catalog.categories.map((c) => [c.id, c]));
  mount(list, dishes.map((dish) => dishRow(page, dish, categories[dish.category_id])));
}

function dishRow(page, dish, category) {
  const states = page.settings.sku_states;
  const listed = page.settings.dish_settings[dish.id]?.listed !== false;
  const soldOut = soldOutState(dish, states);
  const thumb = dish.image_ids[0]
    ? h('img', { src: imageUrl(page.catalog.image_urls.thumbnail, dish.image_ids[0]), alt: '', loading: 'lazy', width: 64, height: 64 })
    : h('span.no-photo', { 'aria-hidden': 'true' }, dish.name.slice(0, 1));
  const open = () => editDish(page, dish);
  return h(
    'div.dish-row' + (dish.on_shelf ? '' : '.off') + (soldOut === 'all' ? '.sold-out' : ''),
    { role: 'listitem', dataset: { dishId: dish.id }, onclick: open },
    h('div.thumb', {}, thumb),
    h(
      'div.dish-main',
      {},
      h(
        'div.dish-title',
        {},
        h('span.dish-name', {}, dish.name),
        dish.kind === 'combo' ? h('span.badge', {}, t('combo')) : null,
        listed ? null : h('span.badge.muted', {}, t('not_listed')),
      ),
      h(
        'div.dish-meta',
        {},
        dish.name_en ? h('span.en', { lang: 'en' }, dish.name_en) : null,
        page.query || page.categoryId === 'all' ? h('span.muted', {}, category ? localized(category.name, category.name_en) : '') : null,
        dish.tags.map((tag) => h('span.tag', {}, tag)),
      ),
    ),
    h('div.price', {}, priceLabel(dish, states)),
    h(
      'div.row-switches',
      {},
      h(
        'button.state' + (dish.on_shelf ? '.on' : ''),
        { type: 'button', 'aria-pressed': String(dish.on_shelf), title: t('on_shelf'), onclick: (e) => { e.stopPropagation(); toggleShelf(page, dish, e.currentTarget); } },
        dish.on_shelf ? t('on_shelf') : t('off_shelf'),
      ),
      page.store
        ? h(
            'button.state.soldout' + (soldOut !== 'none' ? '.on' : ''),
            { type: 'button', 'aria-pressed': String(soldOut === 'all'), title: t('sold_out'), onclick: (e) => { e.stopPropagation(); toggleSoldOut(page, dish, soldOut !== 'all', e.currentTarget); } },
            soldOut === 'all' ? t('sold_out_all') : soldOut === 'some' ? t('sold_out_some') : t('in_stock'),
          )
        : null,
      h('button.secondary.small', { type: 'button', dataset: { action: 'edit-dish' }, onclick: (e) => { e.stopPropagation(); open(); } }, t('edit')),
    ),
  );
}

async function toggleShelf(page, dish, button) {
  const on = !dish.on_shelf;
  button.classList.toggle('on', on);
  button.textContent = on ? t('on_shelf') : t('off_shelf');
  try {
    const saved = await busy(button, () => put(`console/dishes/${dish.id}`, { ...dishToDraft(dish), on_shelf: on }));
    Object.assign(dish, saved);
    toast(t(on ? 'shelf_on_done' : 'shelf_off_done', { name: dish.name }));
  } catch (e) {
    toast(explain(e), 'error');
  }
  renderDishes(page);
}

async function toggleSoldOut(page, dish, soldOut, button) {
  const states = page.settings.sku_states;
  button.classList.toggle('on', soldOut);
  button.textContent = soldOut ? t('sold_out_all') : t('in_stock');
  try {
    await busy(button, () =>
      Promise.all(
        dish.skus.map(async (sku) => {
          const saved = await put(`console/stores/${page.store.id}/skus/${sku.id}`, withSoldOut(states[sku.id], soldOut));
          states[sku.id] = { ...(states[sku.id] || { sold_count: 0, sold_on: null }), ...saved };
        }),
      ),
    );
    toast(t(soldOut ? 'sold_out_done' : 'restock_done', { name: dish.name, store: page.store.name }));
  } catch (e) {
    toast(explain(e), 'error');
  }
  renderDishes(page);
}

function editDish(page, dish, kind = 'single') {
  openDishEditor({
    dish,
    kind,
    categoryId: dish ? dish.category_id : page.categoryId !== 'all' ? page.categoryId : [...page.catalog.categories].sort(byOrder)[0]?.id || '',
    catalog: page.catalog,
    store: page.store,
    settings: page.settings,
    onSaved: (saved) => {
      const list = page.catalog.dishes;
      const at = list.findIndex((d) => d.id === saved.id);
      if (at >= 0) list[at] = saved;
      else list.push(saved);
      renderCategories(page);
      renderDishes(page);
    },
    onStoreSaved: () => renderDishes(page),
    onDeleted: (id) => {
      page.catalog.dishes = page.catalog.dishes.filter((d) => d.id !== id);
      renderCategories(page);
      renderDishes(page);
    },
  });
}

async function importMenu(page, fileInput, button) {
  const file = fileInput.files[0];
  fileInput.value = '';
  if (!file) return;
  const form = new FormData();
  form.append('file', file, file.name);
  try {
    const report = await busy(button, () => post('console/menu/import', form), t('importing'));
    modal(t('import'), h('p.success-text', {}, t('import_done', { categories: report.categories_created, created: report.dishes_created, updated: report.dishes_updated })));
    refresh(page);
  } catch (e) {
    const rows = e.details || [];
    modal(
      t('import'),
      h('div.import-errors', {}, h('p.form-error', {}, rows.length ? t('import_failed') : explain(e)), rows.length ? h('ol.row-errors', {}, rows.map((d) => h('li', {}, d.text))) : null),
    );
  }
}
