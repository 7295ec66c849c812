// Inbox helpers: run with `node --test assets/customer/tests/`.
import { test } from 'node:test';
const saved = new Map();
globalThis.localStorage = { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, String(v)) };
globalThis.location = { search: '' };
import assert from 'node:assert/strict';
import { consentAnswers, messageTime } from '../inbox.js';

test('consent answers name only the templates asked about, with what WeChat said', () => {
  const result = { errMsg: 'requestSubscribeMessage:ok', T1: 'accept', T2: 'reject', T3: 'ban' };
  assert.deepEqual(consentAnswers(result, ['T1', 'T2', 'T4']), [
    { template_id: 'T1', answer: 'accept' },
    { template_id: 'T2', answer: 'reject' },
  ]);
  assert.deepEqual(consentAnswers(undefined, ['T1']), []);
});

test('a message from today shows its time, an older one its date', () => {
  const now = new Date(2026, 10, 25, 18, 0).getTime();
  assert.equal(messageTime(new Date(2026, 10, 25, 12, 5).getTime(), now), '12:05');
  assert.equal(messageTime(new Date(2026, 10, 24, 9, 30).getTime(), now), '11月24日 09:30');
});
