// The diner's cart as plain data: which choices make a line, what it costs in fen, and whether
// a dish's choices satisfy its groups' min/max. No DOM and no storage, so node can test it.

/** A starting selection: one spec, option ids, combo choice ids. */
export function emptySelection(dish) {
  // The first spec that can be had is picked for the diner, as the big apps do; tastes are not.
  const available = dish.skus.find((sku) => !sku.sold_out);
  const skuId = available ? available.id : null;
  // Combo slots whose every choice must be taken are fixed parts of the set, not a choice.
  const choiceIds = [];
  for (const slot of dish.combo_slots || []) {
    if (isFixedSlot(slot)) choiceIds.push(...slot.choices.map((c) => c.id));
  }
  return { skuId, optionIds: [], choiceIds };
}

/** A slot the diner cannot change: it takes exactly all of its choices. */
export const isFixedSlot = (slot) => slot.min_select === slot.choices.length && slot.max_select === slot.choices.length;

/** The identity of a cart line: same spec, same options, same combo choices → same line. */
export function lineKey({ skuId, optionIds = [], choiceIds = [] }) {
  return [skuId, [...optionIds].sort().join(','), [...choiceIds].sort().join(',')].join('|');
}

/**
 * Toggles `id` in a group's selection and returns the new list. A single-choice group
 * (max 1) swaps; a multi-choice group refuses to go beyond max (returns the list unchanged).
 */
export function toggle(selected, groupIds, id, max) {
  if (selected.includes(id)) return selected.filter((x) => x !== id);
  const inGroup = selected.filter((x) => groupIds.includes(x));
  if (max === 1) return [...selected.filter((x) => !groupIds.includes(x)), id];
  if (max > 0 && inGroup.length >= max) return selected;
  return [...selected, id];
}

/** One unit's price in fen: spec price + option deltas + combo choice deltas. */
export function unitPrice(dish, selection) {
  const sku = dish.skus.find((s) => s.id === selection.skuId) || dish.skus[0];
  let fen = sku ? sku.price_fen : dish.price_from_fen;
  for (const group of dish.option_groups || []) {
    for (const option of group.options) if (selection.optionIds.includes(option.id)) fen += option.price_delta_fen;
  }
  for (const slot of dish.combo_slots || []) {
    for (const choice of slot.choices) if (selection.choiceIds.includes(choice.id)) fen += choice.price_delta_fen;
  }
  return fen;
}

/**
 * Checks a selection against the dish: a spec that exists and is not sold out, each option
 * group and combo slot within min..max, no sold-out combo choice. Returns the problems,
 * each {kind, id, name, min, max, count}; an empty list means it can go in the cart.
 */
export function validate(dish, selection) {
  const problems = [];
  const sku = dish.skus.find((s) => s.id === selection.skuId);
  if (!sku) problems.push({ kind: 'sku', id: null, name: null, min: 1, max: 1, count: 0 });
  else if (sku.sold_out) problems.push({ kind: 'sold_out', id: sku.id, name: sku.name, min: 1, max: 1, count: 1 });
  const check = (kind, group, ids, selected) => {
    const count = ids.filter((id) => selected.includes(id)).length;
    if (count < group.min_select || count > group.max_select) {
      problems.push({ kind, id: group.id, name: group.name, min: group.min_select, max: group.max_select, count });
    }
  };
  for (const group of dish.option_groups || []) check('option_group', group, group.options.map((o) => o.id), selection.optionIds);
  for (const slot of dish.combo_slots || []) {
    check('combo_slot', slot, slot.choices.map((c) => c.id), selection.choiceIds);
    for (const choice of slot.choices) {
      if (choice.sold_out && selection.choiceIds.includes(choice.id)) {
        problems.push({ kind: 'sold_out', id: choice.id, name: choice.dish_name, min: 0, max: 0, count: 1 });
      }
    }
  }
  return problems;
}

/** The words that describe a line's choices: spec, options, combo choices. */
export function choiceLabels(dish, selection, name = (zh) => zh) {
  const labels = [];
  const sku = dish.skus.find((s) => s.id === selection.skuId);
  if (sku && sku.name && dish.skus.length > 1) labels.push(name(sku.name, sku.name_en));
  for (const group of dish.option_groups || []) {
    for (const o of group.options) if (selection.optionIds.includes(o.id)) labels.push(name(o.name, o.name_en));
  }
  for (const slot of dish.combo_slots || []) {
    if (isFixedSlot(slot)) continue;
    for (const c of slot.choices) {
      if (selection.choiceIds.includes(c.id)) labels.push(c.dish_name + (c.sku_name ? `(${c.sku_name})` : ''));
    }
  }
  return labels;
}

/** Adds `quantity` of a selection; merges into an existing line with the same key. */
export function addLine(cart, dish, selection, quantity = 1) {
  const key = lineKey(selection);
  const lines = cart.lines.map((line) => (line.key === key ? { ...line, quantity: line.quantity + quantity } : line));
  if (!lines.some((line) => line.key === key)) {
    lines.push({
      key,
      dishId: dish.id,
      skuId: selection.skuId,
      optionIds: [...selection.optionIds],
      choiceIds: [...selection.choiceIds],
      quantity,
      unitFen: unitPrice(dish, selection),
      addedAt: Date.now(),
    });
  }
  return { ...cart, lines };
}

/** Sets a line's quantity; zero or less removes it. */
export function setQuantity(cart, key, quantity) {
  const lines = cart.lines
    .map((line) => (line.key === key ? { ...line, quantity } : line))
    .filter((line) => line.quantity > 0);
  return { ...cart, lines };
}

export const removeLine = (cart, key) => setQuantity(cart, key, 0);
export const emptyCart = () => ({ lines: [] });

/** How many of a dish are in the cart, across its lines. */
export const dishCount = (cart, dishId) =>
  cart.lines.filter((l) => l.dishId === dishId).reduce((sum, l) => sum + l.quantity, 0);

/**
 * Checks saved lines against a fresh menu: prices are taken from the menu again, and a line
 * whose dish, spec or choices are gone or sold out is marked `unavailable` (kept, so the
 * diner sees what happened, but not counted).
 */
export function reconcile(cart, dishesById) {
  const lines = cart.lines.map((line) => {
    const dish = dishesById.get(line.dishId);
    if (!dish) return { ...line, unavailable: true };
    const problems = validate(dish, line);
    return { ...line, unitFen: unitPrice(dish, line), unavailable: problems.length > 0 || dish.sold_out };
  });
  return { ...cart, lines };
}

/** Item count and total in fen of the lines that can be ordered. */
export function totals(cart) {
  let count = 0;
  let totalFen = 0;
  for (const line of cart.lines) {
    if (line.unavailable) continue;
    count += line.quantity;
    totalFen += line.unitFen * line.quantity;
  }
  return { count, totalFen };
}

/** The packing fee a takeaway order of `count` items would carry, in fen. */
export function packingFee(rule, count) {
  if (!rule || !count) return 0;
  if (rule.kind === 'per_item') return rule.fee_fen * count;
  if (rule.kind === 'per_order') return rule.fee_fen;
  return 0;
}

/** Reads a stored cart, tolerating anything (old formats, hand edits, quota errors). */
export function parseCart(text) {
  try {
    const data = JSON.parse(text);
    if (!data || !Array.isArray(data.lines)) return emptyCart();
    const lines = data.lines.filter(
      (l) => l && typeof l.key === 'string' && typeof l.dishId === 'string' && Number.isInteger(l.quantity) && l.quantity > 0,
    );
    return { lines: lines.map((l) => ({ optionIds: [], choiceIds: [], unitFen: 0, ...l })) };
  } catch {
    return emptyCart();
  }
}
