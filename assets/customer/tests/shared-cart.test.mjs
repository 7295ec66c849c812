// The table's shared cart and its offline queue: run with `node --test assets/customer/tests/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acknowledge, addChange, applyChange, backoff, defaultNickname, enqueue, fromRecord, isRetryable,
  lineBody, parseQueue, uuid4, uuid7, view,
} from '../shared-cart.js';

const dish = { id: 'd1', name: '红烧牛肉面' };
const sel = { skuId: 'big', optionIds: ['hot'], choiceIds: [] };
const record = (id, quantity, added_by = '小王') => ({ id, line: lineBody(dish, sel, 3200), quantity, added_by, updated_at_ms: 1 });

test('uuids have the right shape and v7 sorts by time', () => {
  assert.match(uuid4(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const a = uuid7(1_700_000_000_000);
  const b = uuid7(1_700_000_000_001);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
  assert.ok(a < b);
  assert.notEqual(uuid4(), uuid4());
});

test('default nickname is 顾客 and four digits', () => {
  assert.equal(defaultNickname(() => 0), '顾客1000');
  assert.match(defaultNickname(), /^顾客\d{4}$/);
});

test('server records become cart lines with who added them', () => {
  const line = fromRecord(record('L1', 2));
  assert.equal(line.key, 'L1');
  assert.equal(line.dishId, 'd1');
  assert.equal(line.skuId, 'big');
  assert.deepEqual(line.optionIds, ['hot']);
  assert.equal(line.unitFen, 3200);
  assert.equal(line.addedBy, '小王');
  assert.equal(line.lineKey, 'big|hot|');
});

test('changes apply with absolute quantities, so a replay changes nothing more', () => {
  const put = { kind: 'put', line_id: 'L2', line: lineBody(dish, sel, 3200), quantity: 3, added_by: '我' };
  const once = applyChange([record('L1', 1)], put);
  const twice = applyChange(once, put);
  assert.deepEqual(once.map((r) => [r.id, r.quantity]), [['L1', 1], ['L2', 3]]);
  assert.deepEqual(twice.map((r) => [r.id, r.quantity]), [['L1', 1], ['L2', 3]]);
  assert.deepEqual(applyChange(once, { kind: 'set_quantity', line_id: 'L1', quantity: 5 }).map((r) => r.quantity), [5, 3]);
  assert.deepEqual(applyChange(once, { kind: 'set_quantity', line_id: 'L1', quantity: 0 }).map((r) => r.id), ['L2']);
  assert.deepEqual(applyChange(once, { kind: 'remove', line_id: 'L2' }).map((r) => r.id), ['L1']);
  assert.deepEqual(applyChange(once, { kind: 'clear' }), []);
});

test('the view is the snapshot with unsent changes on top, marked pending', () => {
  const snapshot = { version: 4, lines: [record('L1', 1, '小王')] };
  let q = enqueue([], { kind: 'set_quantity', line_id: 'L1', quantity: 2 });
  q = enqueue(q, { kind: 'put', line_id: 'L9', line: lineBody(dish, sel, 3200), quantity: 1, added_by: '我' });
  const lines = view(snapshot, q);
  assert.deepEqual(lines.map((l) => [l.key, l.quantity, l.addedBy, l.pending]), [['L1', 2, '小王', true], ['L9', 1, '我', true]]);
  assert.deepEqual(view(snapshot, []).map((l) => l.pending), [false]);
});

test('the queue coalesces changes to the same line', () => {
  const put = { kind: 'put', line_id: 'A', line: {}, quantity: 1, added_by: '我' };
  let q = enqueue([], put);
  q = enqueue(q, { kind: 'set_quantity', line_id: 'A', quantity: 4 });
  assert.equal(q.length, 1);
  assert.deepEqual(q[0].change, { ...put, quantity: 4 }, 'an unsent put absorbs a later quantity');
  q = enqueue(q, { kind: 'set_quantity', line_id: 'B', quantity: 2 });
  q = enqueue(q, { kind: 'set_quantity', line_id: 'B', quantity: 3 });
  assert.deepEqual(q.map((e) => [e.change.line_id, e.change.quantity]), [['A', 4], ['B', 3]]);
  q = enqueue(q, { kind: 'set_quantity', line_id: 'A', quantity: 0 });
  assert.deepEqual(q.map((e) => e.change.kind), ['set_quantity', 'remove'], 'quantity 0 is a remove');
  q = enqueue(q, { kind: 'clear' });
  assert.deepEqual(q.map((e) => e.change.kind), ['clear']);
  q = enqueue(q, put);
  assert.deepEqual(q.map((e) => e.change.kind), ['clear', 'put'], 'changes after a clear stay after it');
});

test('seqs grow and acknowledging removes only the entry that was sent', () => {
  let q = enqueue([], { kind: 'set_quantity', line_id: 'A', quantity: 1 });
  const sent = q[0].seq;
  q = enqueue(q, { kind: 'set_quantity', line_id: 'A', quantity: 2 });
  assert.ok(q[0].seq > sent, 'a rewritten entry has a new seq');
  assert.equal(acknowledge(q, sent).length, 1, 'the answer for the old request leaves the new change queued');
  assert.equal(acknowledge(q, q[0].seq).length, 0);
});

test('stored queues survive junk', () => {
  assert.deepEqual(parseQueue('nope'), []);
  assert.deepEqual(parseQueue('{"a":1}'), []);
  assert.deepEqual(parseQueue('[{"seq":1,"change":{"kind":"clear"}},{"seq":"x"},null]'), [{ seq: 1, change: { kind: 'clear' } }]);
});

test('retry rules: offline and server trouble retry with backoff, client errors do not', () => {
  assert.ok(isRetryable(0));
  assert.ok(isRetryable(503));
  assert.ok(isRetryable(429));
  assert.ok(!isRetryable(422));
  assert.ok(!isRetryable(404));
  assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map(backoff), [1, 2, 4, 8, 16, 30, 30]);
});

test('adding goes to my own line with the same choices, else a new line', () => {
  const lines = [fromRecord(record('L1', 2, '小王'))];
  const mine = addChange(lines, '我', dish, sel, 3200, 1, () => 'NEW');
  assert.equal(mine.line_id, 'NEW', 'someone else\'s line is not mine to bump');
  assert.equal(mine.quantity, 1);
  assert.equal(mine.added_by, '我');
  const again = addChange([...lines, fromRecord(record('L2', 1, '我'))], '我', dish, sel, 3200, 2, () => 'NEW');
  assert.deepEqual([again.kind, again.line_id, again.quantity], ['put', 'L2', 3]);
  assert.deepEqual(again.line, { sku_id: 'big', option_ids: ['hot'], combo_choice_ids: [], dish_id: 'd1', dish_name: '红烧牛肉面', unit_fen: 3200 });
});
