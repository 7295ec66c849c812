// What the orders board decides about an order: its column, the one next step staff take, and
// how its lines read. No DOM here, so node --test can run it.

/** The board's columns, left to right, and the statuses each holds. */
export const COLUMNS = [
  { key: 'new', label: 'col_new', statuses: ['awaiting_payment', 'placed'] },
  { key: 'cooking', label: 'col_cooking', statuses: ['accepted', 'preparing'] },
  // Served, picked up and out for delivery still wait for 完成, so they stay in sight here.
  { key: 'ready', label: 'col_ready', statuses: ['ready', 'served', 'picked_up', 'out_for_delivery'] },
  { key: 'done', label: 'col_done', statuses: ['completed', 'cancelled'] },
];

export const FINAL = ['completed', 'cancelled'];

export const columnOf = (order) => COLUMNS.find((c) => c.statuses.includes(order.status))?.key ?? 'new';

/** The action behind the order's primary button, or null when nothing is left to do. */
export function nextAction(order) {
  switch (order.status) {
    case 'awaiting_payment':
      return 'pay';
    case 'placed':
      return 'accept';
    case 'accepted':
      return 'start_preparing';
    case 'preparing':
      return 'mark_ready';
    case 'ready':
      return { dine_in: 'serve', pickup: 'hand_over', delivery: 'dispatch' }[order.channel] ?? null;
    case 'served':
    case 'picked_up':
    case 'out_for_delivery':
      return 'complete';
    default:
      return null;
  }
}

/**
 * The buttons an order card shows, primary first: [{action, kind}] where kind is 'primary',
 * 'approve' (同意取消), 'decline' or 'cancel'.
 */
export function orderButtons(order) {
  if (FINAL.includes(order.status)) return [];
  const buttons = [];
  if (order.cancel_requested) {
    buttons.push({ action: 'cancel', kind: 'approve' }, { action: 'decline_cancel', kind: 'decline' });
  }
  const next = nextAction(order);
  if (next) buttons.push({ action: next, kind: order.cancel_requested ? 'secondary' : 'primary' });
  if (!order.cancel_requested) buttons.push({ action: 'cancel', kind: 'cancel' });
  return buttons;
}

/** One line of an order as the kitchen reads it: "红烧牛肉面 · 大碗", "微辣、加蛋", quantity. */
export function lineText(line) {
  const name = line.sku_name ? `${line.dish_name} · ${line.sku_name}` : line.dish_name;
  const extras = [
    ...(line.options || []).map((o) => o.name),
    ...(line.combo_items || []).map((c) => (c.quantity > 1 ? `${c.dish_name}×${c.quantity}` : c.dish_name)),
  ];
  return { name, extras: extras.join('、'), quantity: line.quantity, note: line.note || null };
}

/** Minutes since the order was placed, never negative. */
export const minutesSince = (placedAtMs, nowMs) => Math.max(0, Math.floor((nowMs - placedAtMs) / 60000));

/** Orders of one column: open ones oldest first (the one waiting longest on top), done ones newest first. */
export function sortForColumn(orders, key) {
  const sorted = [...orders].sort((a, b) => a.placed_at_ms - b.placed_at_ms);
  if (key === 'done') sorted.reverse();
  // A diner asking to cancel needs an answer first.
  return sorted.sort((a, b) => Number(b.cancel_requested && !FINAL.includes(b.status)) - Number(a.cancel_requested && !FINAL.includes(a.status)));
}
