// The kitchen display's decisions: newer copies win, replays change nothing, deltas flash,
// amber and red at the station's thresholds, the bump-bar keys, pickup numbers spoken once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as K from '../kds-logic.js';

const HOT = 'station-hot';
const item = (line, state = 'waiting', extra = {}) => ({ line, dish_name: `菜${line}`, specs: [], note: null, quantity: 1, state, ...extra });
const ticket = (id, extra = {}) => ({ id, station_id: HOT, channel: 'dine_in', label: 'A1', round: 1, state: 'open', version: 1, created_at_ms: 0, cooking_since_ms: 0, items: [item(0)], ...extra });

test('a newer copy of a ticket replaces the old one; an older or equal one changes nothing', () => {
  const board = K.createBoard({ tickets: [ticket('t1', { version: 2 })], last_event_id: 5 });
  assert.equal(K.putTicket(board, ticket('t1', { version: 2, label: 'stale' })), false);
  assert.equal(K.putTicket(board, ticket('t1', { version: 1 })), false);
  assert.equal(K.putTicket(board, ticket('t1', { version: 3, label: 'B2' })), true);
  assert.equal(board.open.get('t1').label, 'B2');
});

test('events up to the board version were read with the tickets and are skipped', () => {
  const board = K.createBoard({ tickets: [], last_event_id: 5 });
  assert.equal(K.applyEvent(board, 5, { kind: 'ticket.created', ticket: ticket('t1') }, 0), false);
  assert.equal(board.open.size, 0);
  assert.equal(K.applyEvent(board, 6, { kind: 'ticket.created', ticket: ticket('t1') }, 0), true);
  assert.equal(board.lastEventId, 6);
  assert.equal(K.applyEvent(board, 6, { kind: 'ticket.created', ticket: ticket('t1') }, 0), false, 'a replayed event');
});

test('a bumped ticket leaves the board for the recall list; a recall brings it back', () => {
  const board = K.createBoard({ tickets: [ticket('t1'), ticket('t2', { created_at_ms: 5 })] });
  K.applyEvent(board, 1, { kind: 'ticket.bumped', ticket: ticket('t1', { state: 'bumped', version: 2 }) }, 0);
  assert.deepEqual(K.orderedTickets(board).map((t) => t.id), ['t2']);
  assert.equal(K.lastBumped(board).id, 't1');
  K.applyEvent(board, 2, { kind: 'ticket.recalled', ticket: ticket('t1', { state: 'recalled', version: 3 }) }, 0);
  assert.deepEqual(K.orderedTickets(board).map((t) => t.id), ['t1', 't2'], 'back in arrival order');
  assert.equal(K.lastBumped(board), null);
});

test("a station's board ignores other stations' tickets", () => {
  const board = K.createBoard({}, HOT);
  assert.equal(K.applyEvent(board, 1, { kind: 'ticket.created', ticket: ticket('cold', { station_id: 'station-cold' }) }, 0), false);
  assert.equal(board.lastEventId, 1, 'still counted as seen');
  assert.equal(board.open.size, 0);
});

test('加菜 tickets and cancels flash for a while; an ordinary new ticket does not', () => {
  const board = K.createBoard({});
  K.applyEvent(board, 1, { kind: 'ticket.created', ticket: ticket('first') }, 1000);
  K.applyEvent(board, 2, { kind: 'ticket.created', ticket: ticket('more', { round: 2 }) }, 1000);
  K.applyEvent(board, 3, { kind: 'ticket.voided', ticket: ticket('first', { version: 2, items: [item(0, 'voided')] }) }, 1000);
  assert.equal(K.isFlashing(board, 'more', 2000), true);
  assert.equal(K.isFlashing(board, 'first', 2000), true);
  assert.equal(K.isFlashing(board, 'more', 1000 + K.FLASH_MS), false, 'then it stops');
  const fresh = K.createBoard({});
  K.applyEvent(fresh, 1, { kind: 'ticket.created', ticket: ticket('plain') }, 0);
  assert.equal(K.isFlashing(fresh, 'plain', 10), false);
});

test('a ticket moved to another table (换台) shows its new table and flashes', () => {
  const board = K.createBoard({});
  K.applyEvent(board, 1, { kind: 'ticket.created', ticket: ticket('moved', { label: 'A3' }) }, 0);
  assert.equal(K.isFlashing(board, 'moved', 10), false);
  K.applyEvent(board, 2, { kind: 'ticket.relabelled', ticket: ticket('moved', { version: 2, label: 'B5' }) }, 1000);
  assert.equal(board.open.get('moved').label, 'B5');
  assert.equal(K.isFlashing(board, 'moved', 2000), true);
});

test('amber and red at the station thresholds, nothing when nothing is cooking', () => {
  const prep = { target_secs: 600, amber_after_secs: 480, red_after_secs: 600 };
  const t = ticket('t', { cooking_since_ms: 0 });
  assert.equal(K.prepStatus(t, prep, 479_999), 'on_time');
  assert.equal(K.prepStatus(t, prep, 480_000), 'amber');
  assert.equal(K.prepStatus(t, prep, 600_000), 'red');
  assert.equal(K.prepStatus(ticket('held', { cooking_since_ms: null }), prep, 999_999), null);
});

test('the elapsed clock reads m:ss, and h:mm:ss past an hour', () => {
  assert.equal(K.elapsedText(0, 247_000), '4:07');
  assert.equal(K.elapsedText(0, 3_727_000), '1:02:07');
  assert.equal(K.elapsedText(10_000, 0), '0:00', 'a screen clock behind the server');
  assert.equal(K.elapsedText(null, 5), '');
});

test('bump-bar keys: numbers select what is on screen, Enter bumps, R recalls', () => {
  assert.deepEqual(K.keyAction('1', 3), { type: 'select', index: 0 });
  assert.deepEqual(K.keyAction('3', 3), { type: 'select', index: 2 });
  assert.equal(K.keyAction('4', 3), null);
  assert.equal(K.keyAction('0', 3), null);
  assert.deepEqual(K.keyAction('Enter', 0), { type: 'bump' });
  assert.deepEqual(K.keyAction('r', 0), { type: 'recall' });
  assert.deepEqual(K.keyAction('R', 0), { type: 'recall' });
  assert.equal(K.keyAction('x', 3), null);
});

test('items offer bump while cooking, hold only on dine-in, fire only when held', () => {
  const dineIn = ticket('d');
  const pickup = ticket('p', { channel: 'pickup' });
  assert.deepEqual(K.itemActions(dineIn, item(0)), ['bump_item', 'hold']);
  assert.deepEqual(K.itemActions(pickup, item(0)), ['bump_item']);
  assert.deepEqual(K.itemActions(dineIn, item(0, 'held')), ['fire']);
  assert.deepEqual(K.itemActions(dineIn, item(0, 'fired')), ['bump_item']);
  assert.deepEqual(K.itemActions(dineIn, item(0, 'done')), []);
  assert.deepEqual(K.itemActions(dineIn, item(0, 'voided')), []);
  assert.deepEqual(K.commandFor('bump_item', ticket('x', { version: 4 }), item(2)), { command: 'bump_item', line: 2, seen: 4 });
  assert.deepEqual(K.commandFor('hold', ticket('x', { version: 4 }), item(2)), { command: 'hold', lines: [2], seen: 4 });
});

test('labels: a table by its code, a pickup order by its number', () => {
  assert.equal(K.ticketLabel(ticket('a', { channel: 'dine_in', label: 'A3' })), 'A3');
  assert.equal(K.ticketLabel(ticket('b', { channel: 'pickup', label: '23' })), '#23');
});

test('each pickup number is spoken once, and again on another day once it left the screen', () => {
  let spoken = [];
  let step = K.newCalls([21, 23], spoken);
  assert.deepEqual(step.speak, [21, 23]);
  spoken = step.remember;
  step = K.newCalls([21, 23, 24], spoken);
  assert.deepEqual(step.speak, [24], 'a reconnect does not repeat 21 and 23');
  spoken = step.remember;
  step = K.newCalls([24], spoken);
  assert.deepEqual(step.speak, []);
  spoken = step.remember;
  assert.deepEqual(K.newCalls([23], spoken).speak, [23], "tomorrow's 23");
  assert.equal(K.callText(23, 'zh'), '请 23 号取餐');
});
