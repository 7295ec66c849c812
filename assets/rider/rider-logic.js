// What the rider's page decides without the DOM: which button a delivery offers next, how it
// is labelled, and the tel: link for the diner's phone. Kept apart so `node --test` covers it.

/** The step the rider can take on a delivery now: 'pick_up', 'deliver', or null (waiting). */
export function nextStep(delivery, order) {
  if (delivery.courier_kind !== 'own_rider') return null;
  if (delivery.state === 'assigned') return order.status === 'ready' ? 'pick_up' : 'wait_ready';
  if (delivery.state === 'picked_up') return 'deliver';
  return null;
}

/** A tel: link for a phone as the diner typed it (digits, +, -, spaces), or null. */
export function telLink(phone) {
  if (!phone) return null;
  const digits = String(phone).replace(/[\s-]/g, '');
  return /^\+?\d{3,20}$/.test(digits) ? `tel:${digits}` : null;
}

/** The rider's list: out for delivery first (they are on the road), then by when given out. */
export function sortDeliveries(items) {
  const rank = (item) => (item.delivery.state === 'picked_up' ? 0 : 1);
  return [...items].sort((a, b) => rank(a) - rank(b) || a.delivery.created_at_ms - b.delivery.created_at_ms);
}

/** Minutes since `ms`, never negative. */
export function minutesSince(ms, now) {
  return Math.max(0, Math.floor((now - ms) / 60000));
}
