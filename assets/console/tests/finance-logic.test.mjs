import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakerTone, defaultStatementDate, successRate } from '../finance-logic.js';

test('a breaker is ok when closed, probing when half open, down when open', () => {
  assert.equal(breakerTone('closed'), 'ok');
  assert.equal(breakerTone('half_open'), 'probing');
  assert.equal(breakerTone('open'), 'down');
});

test("the default statement is yesterday's in China time, whatever the browser's zone", () => {
  // 2026-12-03 15:59 UTC is 23:59 in China: yesterday there is the 2nd.
  assert.equal(defaultStatementDate(Date.UTC(2026, 11, 3, 15, 59)), '2026-12-02');
  // One minute later it is the 4th in China, so the 3rd's statement is the one to ask for.
  assert.equal(defaultStatementDate(Date.UTC(2026, 11, 3, 16, 0)), '2026-12-03');
  // Across a month and a year.
  assert.equal(defaultStatementDate(Date.UTC(2026, 11, 31, 17, 0)), '2026-12-31');
  assert.equal(defaultStatementDate(Date.UTC(2027, 0, 1, 1, 0)), '2026-12-31');
});

test('a success rate is shown to one decimal, never rounded up to 100 %', () => {
  assert.equal(successRate(10000), '100.0%');
  assert.equal(successRate(9999), '99.9%');
  assert.equal(successRate(9950), '99.5%');
  assert.equal(successRate(0), '0.0%');
  assert.equal(successRate(null), null);
});
