// Pure mapping between the API's dishes/drafts and the editor's form state (strings as typed),
// plus the small menu calculations the list needs. No DOM here, so node --test can run it.

import { parseYuan, yuan } from '../shared/money.js';

const text = (value) => (value === null || value === undefined ? '' : String(value));
const orNull = (value) => (String(value ?? '').trim() === '' ? null : String(value).trim());
const fenText = (fen) => (fen === null || fen === undefined ? '' : formatYuanPlain(fen));

/** 3200 → "32", 2850 → "28.5", -100 → "-1": what a merchant would type. */
export function formatYuanPlain(fen) {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const cents = abs % 100;
  const whole = Math.trunc(abs / 100);
  if (!cents) return `${sign}${whole}`;
  return `${sign}${whole}.${String(cents).padStart(2, '0').replace(/0$/, '')}`;
}

/** A price change that may be negative ("-1", "+2", "2.5"), in fen, or null. */
export function parseDelta(value) {
  const match = /^\s*([+-])?\s*(.*)$/.exec(String(value ?? ''));
  const rest = match[2];
  if (rest.trim() === '') return match[1] ? null : 0;
  const fen = parseYuan(rest);
  if (fen === null) return null;
  return match[1] === '-' ? -fen : fen;
}

/** A whole number typed into a field; '' gives `empty`, anything else non-integral gives NaN. */
export function parseCount(value, empty = null) {
  const s = String(value ?? '').trim();
  if (s === '') return empty;
  return /^-?\d+$/.test(s) ? Number(s) : NaN;
}

export function emptyForm(categoryId = '', kind = 'single') {
  return {
    id: null,
    kind,
    category_id: categoryId,
    name: '',
    name_en: '',
    description: '',
    description_en: '',
    tags: [],
    ingredients: '',
    allergens: [],
    calories_kcal: '',
    portion: '',
    sort_order: '0',
    station_id: '',
    on_shelf: true,
    availability: [],
    image_ids: [],
    skus: [{ id: null, code: '', name: '', name_en: '', price: '' }],
    option_groups: [],
    combo_slots: kind === 'combo' ? [emptySlot()] : [],
  };
}

export const emptySku = () => ({ id: null, code: '', name: '', name_en: '', price: '' });
export const emptyOption = () => ({ id: null, name: '', name_en: '', delta: '0' });
export const emptyGroup = () => ({ id: null, name: '', name_en: '', min: '0', max: '1', options: [emptyOption()] });
export const emptyChoice = () => ({ id: null, sku_id: '', quantity: '1', delta: '0' });
export const emptySlot = () => ({ id: null, name: '', name_en: '', min: '1', max: '1', choices: [emptyChoice()] });
export const emptyWindow = (start = '11:00', end = '14:00') => ({ weekdays: [1, 2, 3, 4, 5, 6, 7], start, end });

export function dishToForm(dish) {
  return {
    id: dish.id,
    kind: dish.kind,
    category_id: dish.category_id,
    name: text(dish.name),
    name_en: text(dish.name_en),
    description: text(dish.description),
    description_en: text(dish.description_en),
    tags: [...(dish.tags || [])],
    ingredients: text(dish.ingredients),
    allergens: [...(dish.allergens || [])],
    calories_kcal: text(dish.calories_kcal),
    portion: text(dish.portion),
    sort_order: text(dish.sort_order ?? 0),
    station_id: dish.station_id || '',
    on_shelf: dish.on_shelf !== false,
    availability: (dish.availability || []).map((w) => ({ weekdays: [...w.weekdays], start: w.start, end: w.end })),
    image_ids: [...(dish.image_ids || [])],
    skus: (dish.skus || []).map((s) => ({ id: s.id, code: s.code, name: text(s.name), name_en: text(s.name_en), price: fenText(s.price_fen) })),
    option_groups: (dish.option_groups || []).map((g) => ({
      id: g.id,
      name: g.name,
      name_en: text(g.name_en),
      min: String(g.min_select),
      max: String(g.max_select),
      options: g.options.map((o) => ({ id: o.id, name: o.name, name_en: text(o.name_en), delta: fenText(o.price_delta_fen) })),
    })),
    combo_slots: (dish.combo_slots || []).map((slot) => ({
      id: slot.id,
      name: slot.name,
      name_en: text(slot.name_en),
      min: String(slot.min_select),
      max: String(slot.max_select),
      choices: slot.choices.map((c) => ({ id: c.id, sku_id: c.sku_id, quantity: String(c.quantity), delta: fenText(c.price_delta_fen) })),
    })),
  };
}

/**
 * Builds the DishDraft the API takes. Fields that cannot even be sent (a price that is not a
 * number) come back in `errors` as {path: code}, with the same paths the server uses.
 */
export function formToDraft(form) {
  const errors = {};
  const count = (value, path, empty = null) => {
    const n = parseCount(value, empty);
    if (Number.isNaN(n)) errors[path] = 'NOT_A_NUMBER';
    return Number.isNaN(n) ? 0 : n;
  };
  const money = (value, path) => {
    const fen = parseYuan(value);
    if (fen === null) errors[path] = String(value ?? '').trim() === '' ? 'REQUIRED' : 'NOT_A_PRICE';
    return fen ?? 0;
  };
  const delta = (value, path) => {
    const fen = parseDelta(value);
    if (fen === null) errors[path] = 'NOT_A_PRICE';
    return fen ?? 0;
  };
  const withId = (id, rest) => (id ? { id, ...rest } : rest);

  const draft = {
    category_id: form.category_id,
    kind: form.kind,
    name: form.name.trim(),
    name_en: orNull(form.name_en),
    description: orNull(form.description),
    description_en: orNull(form.description_en),
    tags: form.tags.map((t) => t.trim()).filter(Boolean),
    ingredients: orNull(form.ingredients),
    allergens: form.allergens.map((t) => t.trim()).filter(Boolean),
    calories_kcal: count(form.calories_kcal, 'calories_kcal'),
    portion: orNull(form.portion),
    sort_order: count(form.sort_order, 'sort_order', 0),
    station_id: form.station_id || null,
    on_shelf: !!form.on_shelf,
    availability: form.availability.map((w) => ({ weekdays: [...w.weekdays].sort((a, b) => a - b), start: w.start, end: w.end })),
    image_ids: [...form.image_ids],
    skus: form.skus.map((s, i) =>
      withId(s.id, { code: s.code.trim(), name: orNull(s.name), name_en: orNull(s.name_en), price_fen: money(s.price, `skus[${i}].price_fen`) }),
    ),
    option_groups: form.option_groups.map((g, i) =>
      withId(g.id, {
        name: g.name.trim(),
        name_en: orNull(g.name_en),
        min_select: count(g.min, `option_groups[${i}].min_select`, 0),
        max_select: count(g.max, `option_groups[${i}].max_select`, 1),
        options: g.options.map((o, j) =>
          withId(o.id, { name: o.name.trim(), name_en: orNull(o.name_en), price_delta_fen: delta(o.delta, `option_groups[${i}].options[${j}].price_delta_fen`) }),
        ),
      }),
    ),
    combo_slots:
      form.kind === 'combo'
        ? form.combo_slots.map((slot, i) =>
            withId(slot.id, {
              name: slot.name.trim(),
              name_en: orNull(slot.name_en),
              min_select: count(slot.min, `combo_slots[${i}].min_select`, 1),
              max_select: count(slot.max, `combo_slots[${i}].max_select`, 1),
              choices: slot.choices.map((c, j) => {
                if (!c.sku_id) errors[`combo_slots[${i}].choices[${j}].sku_id`] = 'REQUIRED';
                return withId(c.id, {
                  sku_id: c.sku_id,
                  quantity: count(c.quantity, `combo_slots[${i}].choices[${j}].quantity`, 1),
                  price_delta_fen: delta(c.delta, `combo_slots[${i}].choices[${j}].price_delta_fen`),
                });
              }),
            }),
          )
        : [],
  };
  return { draft, errors };
}

/** The draft that saves a dish unchanged: the base for quick edits such as the shelf switch. */
export const dishToDraft = (dish) => formToDraft(dishToForm(dish)).draft;

/** The lowest and highest price of a dish, using this store's own prices where it has them. */
export function priceRange(dish, skuStates = {}) {
  const prices = (dish.skus || []).map((s) => skuStates[s.id]?.price_fen ?? s.price_fen);
  if (!prices.length) return null;
  return { min: Math.min(...prices), max: Math.max(...prices) };
}

export function priceLabel(dish, skuStates = {}) {
  const range = priceRange(dish, skuStates);
  if (!range) return '';
  return range.min === range.max ? yuan(range.min) : `${yuan(range.min)}–${yuan(range.max)}`;
}

/** 'none', 'some' or 'all' of the dish's specs are marked 沽清 in the store. */
export function soldOutState(dish, skuStates = {}) {
  const skus = dish.skus || [];
  const out = skus.filter((s) => skuStates[s.id]?.sold_out).length;
  if (!out) return 'none';
  return out === skus.length ? 'all' : 'some';
}

/** Whether a dish matches what was typed into the search box (name, English name, code, tag). */
export function matchesSearch(dish, query) {
  const q = String(query || '').trim().toLowerCase();
  if (!q) return true;
  const haystack = [dish.name, dish.name_en, ...(dish.tags || []), ...(dish.skus || []).flatMap((s) => [s.code, s.name])];
  return haystack.some((v) => v && String(v).toLowerCase().includes(q));
}

export const byOrder = (a, b) => a.sort_order - b.sort_order || String(a.name).localeCompare(String(b.name), 'zh');

/**
 * Moving the item at `index` by `step` (-1 up, +1 down): the sort_order changes to save.
 * Orders are renumbered 0, 10, 20… when needed so equal numbers cannot block a move.
 */
export function reorder(items, index, step) {
  const sorted = [...items].sort(byOrder);
  const target = index + step;
  if (target < 0 || target >= sorted.length) return [];
  [sorted[index], sorted[target]] = [sorted[target], sorted[index]];
  const distinct = new Set(items.map((i) => i.sort_order)).size === items.length;
  const orders = distinct ? [...items].map((i) => i.sort_order).sort((a, b) => a - b) : sorted.map((_, i) => i * 10);
  return sorted.map((item, i) => ({ item, sort_order: orders[i] })).filter(({ item, sort_order }) => item.sort_order !== sort_order);
}

/** Every single dish's specs, as choices for a combo slot: "红烧牛肉面 · 大碗". */
export function skuChoices(dishes, exceptDishId = null) {
  return dishes
    .filter((d) => d.kind === 'single' && d.id !== exceptDishId)
    .flatMap((d) => d.skus.map((s) => ({ sku_id: s.id, dish: d, sku: s, label: s.name ? `${d.name} · ${s.name}` : d.name })));
}

/** Per-store settings as typed: empty means "not set" (brand price, not counted, no limit). */
export function storeSkuToForm(state = {}) {
  return {
    price: fenText(state.price_fen ?? null),
    stock: text(state.stock),
    daily_limit: text(state.daily_limit),
    low_stock_threshold: text(state.low_stock_threshold),
    sold_out: !!state.sold_out,
  };
}

export function storeFormToSettings(form) {
  const errors = {};
  const count = (field) => {
    const n = parseCount(form[field]);
    if (Number.isNaN(n) || n < 0) errors[field] = 'NOT_A_NUMBER';
    return Number.isNaN(n) ? null : n;
  };
  let price_fen = null;
  if (String(form.price ?? '').trim() !== '') {
    price_fen = parseYuan(form.price);
    if (price_fen === null) errors.price_fen = 'NOT_A_PRICE';
  }
  const settings = {
    price_fen,
    stock: count('stock'),
    daily_limit: count('daily_limit'),
    low_stock_threshold: count('low_stock_threshold'),
    sold_out: !!form.sold_out,
  };
  return { settings, errors };
}

/** The settings to PUT that keep everything of a spec's store state but its 沽清 flag. */
export const withSoldOut = (state = {}, soldOut) => ({
  price_fen: state.price_fen ?? null,
  stock: state.stock ?? null,
  daily_limit: state.daily_limit ?? null,
  low_stock_threshold: state.low_stock_threshold ?? null,
  sold_out: soldOut,
});

/** "skus[1].price_fen" → ["skus", 1, "price_fen"]. */
export const fieldPath = (path) => String(path).split(/[.[\]]+/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
