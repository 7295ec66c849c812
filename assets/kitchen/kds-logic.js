// The kitchen display's decisions, without the DOM: which copy of a ticket is newer, what an
// event does to a station's board, amber and red, the elapsed clock, the bump-bar keys, and
// which pickup numbers still need calling. Tickets come as the API and the kitchen stream give
// them: the ticket's fields plus `cooking_since_ms`.

/** A station's screen (or expo's, with no station) from the board the API answered. */
export function createBoard({ tickets = [], last_event_id = 0 } = {}, station = null) {
  const board = { open: new Map(), bumped: [], lastEventId: last_event_id, station, flashes: new Map() };
  for (const ticket of tickets) if (onStation(board, ticket)) board.open.set(ticket.id, ticket);
  return board;
}

/** Whether `ticket` belongs on this board's station. */
export const onStation = (board, ticket) => !board.station || ticket.station_id === board.station;

/**
 * Takes one ticket as it is now (from an event, a command's answer or a refusal): kept only if
 * newer than the copy the board has, so replays and overlapping reads change nothing.
 * Returns true when the board changed.
 */
export function putTicket(board, ticket) {
  if (!onStation(board, ticket)) return false;
  const known = board.open.get(ticket.id) || board.bumped.find((t) => t.id === ticket.id);
  if (known && known.version >= ticket.version) return false;
  board.bumped = board.bumped.filter((t) => t.id !== ticket.id);
  if (ticket.state === 'bumped') {
    board.open.delete(ticket.id);
    board.bumped.unshift(ticket);
  } else {
    board.open.set(ticket.id, ticket);
  }
  return true;
}

/** Changes that flash whatever the ticket (加菜 flashes by its round). */
const FLASHING_KINDS = new Set(['ticket.voided', 'ticket.relabelled']);

/** How long a change flashes on screen (加菜, cancelled items, a moved table). */
export const FLASH_MS = 30_000;

/**
 * One kitchen stream event (`id` its stream version, `data` its payload). Events at or before
 * the board's version were in the tickets already. A 加菜 ticket arriving, a cancel striking
 * items through and a ticket moving to another table (换台) flash, so a cook never misses them
 * as a silent edit.
 */
export function applyEvent(board, id, data, nowMs) {
  if (Number.isFinite(id) && id <= board.lastEventId) return false;
  if (Number.isFinite(id)) board.lastEventId = id;
  const ticket = data && data.ticket;
  if (!ticket || !putTicket(board, ticket)) return false;
  const addition = data.kind === 'ticket.created' && ticket.round > 1;
  if (addition || FLASHING_KINDS.has(data.kind)) board.flashes.set(ticket.id, nowMs + FLASH_MS);
  return true;
}

/** Whether a ticket is flashing at `nowMs`. */
export const isFlashing = (board, ticketId, nowMs) => (board.flashes.get(ticketId) || 0) > nowMs;

/** Open tickets in arrival order, oldest first (left to right). */
export function orderedTickets(board) {
  return [...board.open.values()].sort((a, b) => a.created_at_ms - b.created_at_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The ticket a recall brings back: the one bumped last. */
export const lastBumped = (board) => board.bumped[0] || null;

/**
 * The prep-time colour at `nowMs` against the station's `prep` (the API's `StationView.prep`),
 * as the server's `PrepTarget::status_after` decides it: null when nothing is cooking.
 */
export function prepStatus(ticket, prep, nowMs) {
  if (ticket.cooking_since_ms === null || ticket.cooking_since_ms === undefined || !prep) return null;
  const elapsed = nowMs - ticket.cooking_since_ms;
  if (elapsed >= prep.red_after_secs * 1000) return 'red';
  if (elapsed >= prep.amber_after_secs * 1000) return 'amber';
  return 'on_time';
}

/** "4:07" or "1:02:07": minutes and seconds since `sinceMs`. */
export function elapsedText(sinceMs, nowMs) {
  if (sinceMs === null || sinceMs === undefined) return '';
  const total = Math.max(0, Math.floor((nowMs - sinceMs) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * A bump bar's key: 1–9 select the ticket in that place, Enter bumps the selected one, R
 * recalls the last bumped. `count` is how many tickets are on screen.
 */
export function keyAction(key, count) {
  if (/^[1-9]$/.test(key)) {
    const index = Number(key) - 1;
    return index < count ? { type: 'select', index } : null;
  }
  if (key === 'Enter') return { type: 'bump' };
  if (key === 'r' || key === 'R') return { type: 'recall' };
  return null;
}

/** What the screen offers for an item: tap to bump when cooking; 叫起 / 起菜 on a dine-in ticket. */
export function itemActions(ticket, item) {
  const actions = [];
  if (item.state === 'waiting' || item.state === 'fired') actions.push('bump_item');
  if (ticket.channel === 'dine_in' && item.state === 'waiting') actions.push('hold');
  if (item.state === 'held') actions.push('fire');
  return actions;
}

/** The command body for an action on one item, on the version the screen shows. */
export function commandFor(action, ticket, item) {
  if (action === 'bump_item') return { command: 'bump_item', line: item.line, seen: ticket.version };
  if (action === 'hold' || action === 'fire') return { command: action, lines: [item.line], seen: ticket.version };
  return { command: action, seen: ticket.version };
}

/** The ticket's header label: a table's code, or a pickup number as "#23". */
export const ticketLabel = (ticket) => (ticket.channel === 'dine_in' ? ticket.label : `#${ticket.label}`);

/**
 * Pickup numbers to announce: those calling now that were not announced before. `spoken` is
 * what the screen announced (kept across reloads, so each is spoken once). A number leaves
 * `remember` once it is no longer called, so tomorrow's 23 is spoken again.
 */
export function newCalls(calling, spoken) {
  const said = new Set(spoken);
  return { speak: calling.filter((n) => !said.has(n)), remember: [...calling] };
}

/** The announcement for a number, in the screen's language. */
export const callText = (number, lang) => (lang === 'en' ? `Order ${number}, please collect` : `请 ${number} 号取餐`);
