// The campaign composer's rules: audience shapes, checks before sending, progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
const saved = new Map();
globalThis.localStorage = { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, String(v)) };
globalThis.location = { search: '' };
const { audienceOf, checkForm, progressOf } = await import('../campaigns.js');

test('the audience is sent as the API takes it', () => {
  assert.deepEqual(audienceOf({ audience: 'all_members', days: 30 }), { kind: 'all_members' });
  assert.deepEqual(audienceOf({ audience: 'recent_diners', days: '30' }), { kind: 'recent_diners', days: 30 });
});

test('a title and a body are required within their limits, and days within a year', () => {
  assert.deepEqual(checkForm({ title: '会员日', body: '八折', audience: 'all_members', days: 0 }), {});
  const errors = checkForm({ title: ' ', body: '长'.repeat(201), audience: 'recent_diners', days: 400 });
  assert.deepEqual(Object.keys(errors), ['title', 'body', 'audience.days']);
  assert.equal(errors.title, 'REQUIRED');
  assert.deepEqual(Object.keys(checkForm({ title: '题'.repeat(21), body: 'x', audience: 'all_members', days: 1 })), ['title']);
});

test('progress counts the diners gone through', () => {
  assert.deepEqual(progressOf({ audience_count: 40, reached_count: 10 }), { text: '10 / 40', percent: 25 });
  assert.deepEqual(progressOf({ audience_count: 0, reached_count: 0 }), { text: '0 / 0', percent: 100 });
});
