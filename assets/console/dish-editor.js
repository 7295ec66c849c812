// The dish editor drawer: every field of a dish or set meal, photos, specs, choices and combo
// slots, with the server's field errors shown next to their inputs, plus this store's settings.

import { h, mount } from '../shared/dom.js';
import { post, put, del, imageUrl } from '../shared/api.js';
import { localized } from '../shared/i18n.js';
import { yuan } from '../shared/money.js';
import { t, errorText } from './strings.js';
import { busy, chipsInput, confirmAction, explain, field, fieldError, input, modal, toast, toggle, trackShownErrors } from './ui.js';
import {
  byOrder, dishToForm, emptyChoice, emptyForm, emptyGroup, emptyOption, emptySku, emptySlot,
  formToDraft, skuChoices, storeFormToSettings, storeSkuToForm,
} from './dish-form.js';
import { scheduleInput } from './schedule-input.js';

const TAG_SUGGESTIONS = ['招牌', '新品', '辣', '热销', '推荐', '素食'];
const ALLERGEN_SUGGESTIONS = ['花生', '坚果', '麸质', '乳制品', '鸡蛋', '海鲜', '大豆'];
const SECTION_OF = { skus: 'specs', option_groups: 'option_groups', combo_slots: 'combo_slots', image_ids: 'images', availability: 'schedule', tags: 'tags', allergens: 'allergens' };

export function openDishEditor({ dish, kind, categoryId, catalog, store, settings, onSaved, onStoreSaved, onDeleted }) {
  const form = dish ? dishToForm(dish) : emptyForm(categoryId, kind);
  const initial = JSON.stringify(form);
  let errors = {};
  let imageError = '';
  const uploads = []; // local previews of photos being uploaded

  const summary = h('div.form-error', { role: 'alert', hidden: true });
  const body = h('div.editor-body');
  const formEl = h('form', { id: 'dish-editor', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } }, summary, body);
  const saveButton = h('button.primary', { type: 'submit', form: 'dish-editor', dataset: { action: 'save' } }, t('save'));
  const deleteButton = dish ? h('button.danger.push-left', { type: 'button', dataset: { action: 'delete-dish' }, onclick: () => remove() }, t('delete')) : null;
  const title = dish ? `${t('edit_dish')} · ${dish.name}` : form.kind === 'combo' ? t('new_combo') : t('new_dish');
  const { dialog, close } = modal(title, formEl, {
    className: 'drawer',
    actions: [deleteButton, h('button.secondary', { type: 'button', onclick: () => requestClose() }, t('cancel')), saveButton],
  });
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    requestClose();
  });

  async function requestClose() {
    if (JSON.stringify(form) !== initial && !(await confirmAction(t('unsaved'), t('close')))) return;
    close();
  }

  function render() {
    const done = trackShownErrors();
    mount(
      body,
      section('basics', basics()),
      section('images', images(), t('images_hint')),
      section('specs', specs(), t('specs_hint')),
      form.kind === 'combo' ? section('combo_slots', comboSlots(), t('combo_slots_hint')) : null,
      section('option_groups', optionGroups(), t('option_groups_hint')),
      section('schedule', scheduleInput(form.availability, { errors })),
      section('ingredients', details()),
      section('store_panel', storePanel()),
    );
    const placed = done();
    const unplaced = Object.keys(errors).filter((p) => !placed.has(p));
    const count = Object.keys(errors).length;
    summary.hidden = !count;
    mount(
      summary,
      count ? h('p', {}, t('fix_errors', { n: count })) : null,
      unplaced.length ? h('ul', {}, unplaced.map((p) => h('li', {}, `${t(SECTION_OF[p.split(/[.[]/)[0]] || p)} (${p}): ${errorText(errors[p])}`))) : null,
    );
  }

  function section(key, content, hint) {
    const heading = key === 'store_panel' ? t('store_panel', { store: store?.name || t('no_store') }) : t(key);
    return h('section.editor-section', { dataset: { section: key } }, h('h3', {}, heading), hint ? h('p.hint', {}, hint) : null, content);
  }

  const bind = (obj, key) => (e) => (obj[key] = e.target.value);
  const text = (obj, key, path, attrs = {}) => input({ name: path, value: obj[key], oninput: bind(obj, key), ...attrs });

  function basics() {
    const categories = [...catalog.categories].sort(byOrder);
    return h(
      'div.grid-2',
      {},
      field(t('dish_name'), text(form, 'name', 'name', { required: true, maxlength: 30 }), { path: 'name', errors }),
      field(t('name_en'), text(form, 'name_en', 'name_en', { lang: 'en' }), { path: 'name_en', errors }),
      field(
        t('category'),
        h('select', { name: 'category_id', onchange: bind(form, 'category_id') },
          categories.map((c) => h('option', { value: c.id, selected: c.id === form.category_id }, localized(c.name, c.name_en)))),
        { path: 'category_id', errors },
      ),
      field(
        t('station'),
        h('select', { name: 'station_id', onchange: bind(form, 'station_id') },
          h('option', { value: '', selected: !form.station_id }, t('no_station')),
          catalog.stations.map((s) => h('option', { value: s.id, selected: s.id === form.station_id }, localized(s.name, s.name_en)))),
        { path: 'station_id', errors },
      ),
      field(t('description'), h('textarea', { name: 'description', rows: 2, maxlength: 500, oninput: bind(form, 'description') }, form.description), { path: 'description', errors, className: 'span-2' }),
      field(t('description_en'), h('textarea', { name: 'description_en', rows: 2, lang: 'en', maxlength: 500, oninput: bind(form, 'description_en') }, form.description_en), { path: 'description_en', errors, className: 'span-2' }),
      h('div.field.span-2', { dataset: { field: 'tags' } }, h('span.label', {}, t('tags')),
        chipsInput({ values: form.tags, suggestions: TAG_SUGGESTIONS, name: 'tag' }),
        fieldError('tags', errors), Object.keys(errors).filter((p) => p.startsWith('tags[')).map((p) => fieldError(p, errors))),
      field(t('sort_order'), text(form, 'sort_order', 'sort_order', { type: 'number', min: 0, inputmode: 'numeric' }), { path: 'sort_order', errors, hint: t('sort_hint') }),
      h('div.field', {}, h('span.label', {}, t('kind')), h('span.static', {}, form.kind === 'combo' ? t('kind_combo') : t('kind_single')),
        toggle({ checked: form.on_shelf, name: 'on_shelf', label: t('shelf_switch'), onchange: (e) => (form.on_shelf = e.target.checked) })),
    );
  }

  function images() {
    const picker = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', hidden: true, onchange: (e) => upload(e.target) });
    const move = (i, step) => {
      const list = form.image_ids;
      [list[i], list[i + step]] = [list[i + step], list[i]];
      render();
    };
    return h(
      'div.images',
      {},
      h(
        'ul.image-grid',
        {},
        form.image_ids.map((id, i) =>
          h(
            'li.image-tile',
            {},
            h('img', { src: imageUrl(catalog.image_urls.thumbnail, id), alt: '', width: 96, height: 96 }),
            i === 0 ? h('span.cover', {}, t('cover')) : null,
            h(
              'div.image-tools',
              {},
              h('button.icon.small', { type: 'button', 'aria-label': t('move_left'), disabled: i === 0, onclick: () => move(i, -1) }, '←'),
              h('button.icon.small', { type: 'button', 'aria-label': t('move_right'), disabled: i === form.image_ids.length - 1, onclick: () => move(i, 1) }, '→'),
              h('button.icon.small', { type: 'button', 'aria-label': t('remove'), onclick: () => { form.image_ids.splice(i, 1); render(); } }, '×'),
            ),
          ),
        ),
        uploads.map((u) => h('li.image-tile.uploading', { 'aria-busy': 'true' }, h('img', { src: u.url, alt: '', width: 96, height: 96 }), h('span.cover', {}, t('uploading')))),
        form.image_ids.length + uploads.length < 6
          ? h('li.image-tile.add', {}, h('button.secondary', { type: 'button', dataset: { action: 'upload-image' }, onclick: () => picker.click() }, '+ ' + t('upload')), picker)
          : null,
      ),
      imageError ? h('p.error', { role: 'alert' }, imageError) : null,
      fieldError('image_ids', errors),
    );
  }

  async function upload(picker) {
    const file = picker.files[0];
    picker.value = '';
    if (!file) return;
    const preview = { url: URL.createObjectURL(file) };
    uploads.push(preview);
    imageError = '';
    render();
    try {
      const data = new FormData();
      data.append('file', file, file.name);
      const image = await post('console/images', data);
      form.image_ids.push(image.id);
    } catch (e) {
      imageError = t('upload_failed', { message: explain(e) });
    } finally {
      uploads.splice(uploads.indexOf(preview), 1);
      URL.revokeObjectURL(preview.url);
      render();
    }
  }

  function specs() {
    return h(
      'div.rows',
      {},
      fieldError('skus', errors),
      form.skus.map((sku, i) => {
        const p = `skus[${i}]`;
        return h(
          'div.row.sku-row',
          {},
          field(t('sku_code'), text(sku, 'code', `${p}.code`, { required: true, maxlength: 32, autocapitalize: 'characters' }), { path: `${p}.code`, errors }),
          field(t('sku_name'), text(sku, 'name', `${p}.name`, { placeholder: form.skus.length > 1 ? '' : t('optional') }), { path: `${p}.name`, errors }),
          field(t('price_yuan'), text(sku, 'price', `${p}.price_fen`, { inputmode: 'decimal', required: true, class: 'money' }), { path: `${p}.price_fen`, errors }),
          removeButton(form.skus, i, form.skus.length === 1),
        );
      }),
      h('button.secondary.small', { type: 'button', onclick: () => { form.skus.push(emptySku()); render(); } }, '+ ' + t('add_sku')),
    );
  }

  function removeButton(list, i, disabled = false) {
    return h('button.icon.remove', { type: 'button', 'aria-label': t('remove'), title: t('remove'), disabled, onclick: () => { list.splice(i, 1); render(); } }, '×');
  }

  function bounds(obj, p) {
    return [
      field(t('min_select'), text(obj, 'min', `${p}.min_select`, { type: 'number', min: 0, inputmode: 'numeric' }), { path: `${p}.min_select`, errors, className: 'narrow' }),
      field(t('max_select'), text(obj, 'max', `${p}.max_select`, { type: 'number', min: 1, inputmode: 'numeric' }), { path: `${p}.max_select`, errors, className: 'narrow' }),
    ];
  }

  function optionGroups() {
    return h(
      'div.groups',
      {},
      fieldError('option_groups', errors),
      form.option_groups.map((group, i) => {
        const p = `option_groups[${i}]`;
        return h(
          'div.group.card',
          {},
          h('div.row.group-head', {},
            field(t('group_name'), text(group, 'name', `${p}.name`, { required: true }), { path: `${p}.name`, errors }),
            bounds(group, p),
            h('span.badge' + (Number(group.min) > 0 ? '.required' : '.muted'), {}, Number(group.min) > 0 ? t('required') : t('optional')),
            removeButton(form.option_groups, i)),
          fieldError(`${p}.options`, errors),
          h('div.rows.options', {},
            group.options.map((option, j) => {
              const q = `${p}.options[${j}]`;
              return h('div.row.option-row', {},
                field(t('option_name'), text(option, 'name', `${q}.name`, { required: true }), { path: `${q}.name`, errors }),
                field(t('price_delta'), text(option, 'delta', `${q}.price_delta_fen`, { inputmode: 'decimal', class: 'money' }), { path: `${q}.price_delta_fen`, errors }),
                removeButton(group.options, j, group.options.length === 1));
            }),
            h('button.secondary.small', { type: 'button', onclick: () => { group.options.push(emptyOption()); render(); } }, '+ ' + t('add_option'))),
        );
      }),
      h('button.secondary.small', { type: 'button', onclick: () => { form.option_groups.push(emptyGroup()); render(); } }, '+ ' + t('add_group')),
    );
  }

  function comboSlots() {
    const choices = skuChoices(catalog.dishes, form.id).sort((a, b) => a.label.localeCompare(b.label, 'zh'));
    return h(
      'div.groups',
      {},
      fieldError('combo_slots', errors),
      form.combo_slots.map((slot, i) => {
        const p = `combo_slots[${i}]`;
        return h(
          'div.group.card',
          {},
          h('div.row.group-head', {},
            field(t('slot_name'), text(slot, 'name', `${p}.name`, { required: true }), { path: `${p}.name`, errors }),
            bounds(slot, p),
            removeButton(form.combo_slots, i)),
          fieldError(`${p}.choices`, errors),
          h('div.rows.options', {},
            slot.choices.map((choice, j) => {
              const q = `${p}.choices[${j}]`;
              const known = choices.some((c) => c.sku_id === choice.sku_id);
              return h('div.row.choice-row', {},
                field(t('choice'), h('select', { name: `${q}.sku_id`, required: true, onchange: bind(choice, 'sku_id') },
                  h('option', { value: '', selected: !choice.sku_id }, t('pick_sku')),
                  choice.sku_id && !known ? h('option', { value: choice.sku_id, selected: true }, choice.sku_id) : null,
                  choices.map((c) => h('option', { value: c.sku_id, selected: c.sku_id === choice.sku_id }, `${c.label}  ${yuan(c.sku.price_fen)}`))),
                { path: `${q}.sku_id`, errors, className: 'grow' }),
                field(t('quantity'), text(choice, 'quantity', `${q}.quantity`, { type: 'number', min: 1, inputmode: 'numeric' }), { path: `${q}.quantity`, errors, className: 'narrow' }),
                field(t('price_delta'), text(choice, 'delta', `${q}.price_delta_fen`, { inputmode: 'decimal', class: 'money' }), { path: `${q}.price_delta_fen`, errors, className: 'narrow' }),
                removeButton(slot.choices, j, slot.choices.length === 1));
            }),
            h('button.secondary.small', { type: 'button', onclick: () => { slot.choices.push(emptyChoice()); render(); } }, '+ ' + t('add_choice'))),
        );
      }),
      h('button.secondary.small', { type: 'button', onclick: () => { form.combo_slots.push(emptySlot()); render(); } }, '+ ' + t('add_slot')),
    );
  }

  function details() {
    return h(
      'div.grid-2',
      {},
      field(t('ingredients'), h('textarea', { name: 'ingredients', rows: 2, maxlength: 500, oninput: bind(form, 'ingredients') }, form.ingredients), { path: 'ingredients', errors, className: 'span-2' }),
      h('div.field.span-2', { dataset: { field: 'allergens' } }, h('span.label', {}, t('allergens')),
        chipsInput({ values: form.allergens, suggestions: ALLERGEN_SUGGESTIONS, name: 'allergen' }),
        fieldError('allergens', errors), Object.keys(errors).filter((p) => p.startsWith('allergens[')).map((p) => fieldError(p, errors))),
      field(t('calories'), text(form, 'calories_kcal', 'calories_kcal', { type: 'number', min: 0, inputmode: 'numeric' }), { path: 'calories_kcal', errors }),
      field(t('portion'), text(form, 'portion', 'portion', { maxlength: 30 }), { path: 'portion', errors }),
    );
  }

  function storePanel() {
    if (!store) return h('p.muted', {}, t('no_store'));
    if (!dish) return h('p.muted', {}, t('store_panel_new'));
    const states = settings.sku_states;
    const listing = { listed: settings.dish_settings[dish.id]?.listed !== false };
    const rows = dish.skus.map((sku) => ({ sku, form: storeSkuToForm(states[sku.id]), errors: {} }));
    const panelError = h('p.error', { role: 'alert', hidden: true });
    const saveStore = h('button.secondary', { type: 'button', dataset: { action: 'save-store' }, onclick: () => saveStoreSettings() }, t('save_store'));
    const grid = h('div.rows.store-rows');
    const renderRows = () =>
      mount(
        grid,
        rows.map(({ sku, form: f, errors: e }) => {
          const sold = states[sku.id]?.sold_count || 0;
          return h(
            'div.row.store-row',
            { dataset: { skuId: sku.id } },
            h('div.field.narrow', {}, h('span.label', {}, t('sku_name')), h('span.static', {}, sku.name || dish.name, h('small.muted', {}, ` ${yuan(sku.price_fen)}`))),
            field(t('store_price'), input({ value: f.price, inputmode: 'decimal', placeholder: yuan(sku.price_fen), class: 'money', oninput: bind(f, 'price') }), { path: 'price_fen', errors: e }),
            field(t('stock'), input({ value: f.stock, type: 'number', min: 0, placeholder: t('not_counted'), oninput: bind(f, 'stock') }), { path: 'stock', errors: e }),
            field(t('daily_limit'), input({ value: f.daily_limit, type: 'number', min: 0, placeholder: t('not_counted'), oninput: bind(f, 'daily_limit') }), { path: 'daily_limit', errors: e, hint: sold ? t('sold_today', { n: sold }) : undefined }),
            field(t('low_stock'), input({ value: f.low_stock_threshold, type: 'number', min: 0, oninput: bind(f, 'low_stock_threshold') }), { path: 'low_stock_threshold', errors: e }),
            toggle({ checked: f.sold_out, label: t('sold_out'), onchange: (ev) => (f.sold_out = ev.target.checked) }),
          );
        }),
      );
    renderRows();

    async function saveStoreSettings() {
      panelError.hidden = true;
      let failed = false;
      for (const row of rows) {
        const { settings: s, errors: local } = storeFormToSettings(row.form);
        row.errors = local;
        row.payload = s;
        if (Object.keys(local).length) failed = true;
      }
      if (failed) return renderRows();
      try {
        await busy(saveStore, async () => {
          for (const row of rows) {
            try {
              const saved = await put(`console/stores/${store.id}/skus/${row.sku.id}`, row.payload);
              states[row.sku.id] = { ...(states[row.sku.id] || { sold_count: 0, sold_on: null }), ...saved };
              row.errors = {};
            } catch (e) {
              row.errors = Object.fromEntries((e.details || []).map((d) => [d.field, d.text]));
              if (!e.details?.length) throw e;
              failed = true;
            }
          }
          const before = settings.dish_settings[dish.id]?.listed !== false;
          if (listing.listed !== before) {
            await put(`console/stores/${store.id}/dishes/${dish.id}`, listing);
            settings.dish_settings[dish.id] = { listed: listing.listed };
          }
        }, t('saving'));
        renderRows();
        if (!failed) {
          toast(t('store_saved'));
          onStoreSaved?.();
        }
      } catch (e) {
        renderRows();
        panelError.hidden = false;
        panelError.textContent = explain(e);
      }
    }

    return h(
      'div.store-panel',
      {},
      h('p.hint', {}, t('store_panel_hint')),
      toggle({ checked: listing.listed, label: t('listed'), name: 'listed', onchange: (e) => (listing.listed = e.target.checked) }),
      grid,
      panelError,
      h('div.row-actions', {}, saveStore),
    );
  }

  async function save() {
    const { draft, errors: local } = formToDraft(form);
    errors = local;
    if (Object.keys(local).length) {
      render();
      focusFirstError();
      return;
    }
    try {
      const saved = await busy(saveButton, () => (dish ? put(`console/dishes/${dish.id}`, draft) : post('console/dishes', draft)), t('saving'));
      close();
      onSaved?.(saved);
      toast(t(dish ? 'dish_saved' : 'dish_created', { name: saved.name }));
    } catch (e) {
      errors = Object.fromEntries((e.details || []).map((d) => [d.field, d.text]));
      render();
      if (!e.details?.length) {
        summary.hidden = false;
        mount(summary, h('p', {}, explain(e)));
      }
      focusFirstError();
    }
  }

  function focusFirstError() {
    const target = formEl.querySelector('[aria-invalid=true]') || summary;
    target.scrollIntoView({ block: 'center' });
    if (target.focus) target.focus({ preventScroll: true });
  }

  async function remove() {
    if (!(await confirmAction(t('confirm_delete_dish', { name: dish.name })))) return;
    try {
      await busy(deleteButton, () => del(`console/dishes/${dish.id}`));
      close();
      onDeleted?.(dish.id);
      toast(t('deleted'));
    } catch (e) {
      summary.hidden = false;
      mount(summary, h('p', {}, explain(e)));
      summary.scrollIntoView({ block: 'nearest' });
    }
  }

  render();
  formEl.querySelector('input[name=name]')?.focus();
}
