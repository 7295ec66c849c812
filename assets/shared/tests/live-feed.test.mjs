// Following a stream: offline within 5 s of silence, back online on the next word, and a
// reconnect of our own asks for everything after the last event seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { follow, SILENCE_MS } from '../live-feed.js';

/** Fake timers driven by hand, and a fake EventSource that records what was opened. */
function harness() {
  let clock = 0;
  let next = 1;
  const timers = new Map();
  const opened = [];
  class FakeSource {
    constructor(url) {
      this.url = url;
      this.listeners = {};
      this.readyState = 0;
      this.closed = false;
      opened.push(this);
    }
    addEventListener(kind, fn) {
      (this.listeners[kind] ||= []).push(fn);
    }
    emit(kind, data, id = '') {
      for (const fn of this.listeners[kind] || []) fn({ data: JSON.stringify(data), lastEventId: id });
    }
    close() {
      this.closed = true;
      this.readyState = 2;
    }
  }
  const setTimer = (fn, ms) => {
    const id = next++;
    timers.set(id, { at: clock + ms, fn });
    return id;
  };
  const clearTimer = (id) => timers.delete(id);
  const advance = (ms) => {
    const until = clock + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      clock = due[1].at;
      due[1].fn();
    }
    clock = until;
  };
  return { FakeSource, setTimer, clearTimer, advance, opened };
}

test('events reach the screen with their ids, and the screen says online', () => {
  const hz = harness();
  const seen = [];
  const states = [];
  follow({ url: '/k/events', after: 7, kinds: ['ticket.created'], onEvent: (kind, data, id) => seen.push([kind, data.n, id]), onOnline: (v) => states.push(v), EventSourceImpl: hz.FakeSource, setTimer: hz.setTimer, clearTimer: hz.clearTimer });
  assert.equal(hz.opened[0].url, '/k/events?after=7');
  hz.opened[0].emit('ticket.created', { n: 1 }, '8');
  assert.deepEqual(seen, [['ticket.created', 1, 8]]);
  assert.deepEqual(states, [true]);
});

test('silence for 5 s says offline and reconnects after the last event seen', () => {
  const hz = harness();
  const states = [];
  const feed = follow({ url: '/k/events?x=1', after: 0, kinds: ['ticket.created'], onEvent: () => {}, onOnline: (v) => states.push(v), EventSourceImpl: hz.FakeSource, setTimer: hz.setTimer, clearTimer: hz.clearTimer });
  hz.opened[0].emit('ticket.created', {}, '12');
  hz.advance(SILENCE_MS - 1);
  assert.deepEqual(states, [true], 'heartbeats every 2 s would have kept it');
  hz.advance(1);
  assert.deepEqual(states, [true, false]);
  assert.equal(hz.opened[0].closed, true);
  hz.advance(1000);
  assert.equal(hz.opened[1].url, '/k/events?x=1&after=12');
  hz.opened[1].emit('heartbeat', {});
  assert.deepEqual(states, [true, false, true]);
  assert.equal(feed.last, 12);
  feed.stop();
});

test('heartbeats keep the screen online', () => {
  const hz = harness();
  const states = [];
  follow({ url: '/k', after: null, kinds: [], onEvent: () => {}, onOnline: (v) => states.push(v), EventSourceImpl: hz.FakeSource, setTimer: hz.setTimer, clearTimer: hz.clearTimer });
  assert.equal(hz.opened[0].url, '/k', 'a snapshot stream has nothing to resume after');
  for (let i = 0; i < 10; i++) {
    hz.advance(2000);
    hz.opened[0].emit('heartbeat', {});
  }
  assert.deepEqual(states, [true]);
  assert.equal(hz.opened.length, 1);
});

test('an error says offline at once; a stream the browser closed is reopened by us', () => {
  const hz = harness();
  const states = [];
  follow({ url: '/k', after: 3, kinds: [], onEvent: () => {}, onOnline: (v) => states.push(v), EventSourceImpl: hz.FakeSource, setTimer: hz.setTimer, clearTimer: hz.clearTimer });
  hz.opened[0].onopen();
  hz.opened[0].readyState = 0;
  hz.opened[0].onerror();
  assert.deepEqual(states, [true, false]);
  assert.equal(hz.opened.length, 1, 'the browser retries a CONNECTING stream itself');
  hz.opened[0].readyState = 2;
  hz.opened[0].onerror();
  hz.advance(1000);
  assert.equal(hz.opened.length, 2);
  assert.equal(hz.opened[1].url, '/k?after=3');
});

test('a reset from the server asks the screen to read its state again', () => {
  const hz = harness();
  let resets = 0;
  const seen = [];
  follow({ url: '/k/events', after: 3, kinds: ['order'], onEvent: (kind, data) => seen.push(data.n), onReset: () => resets++, EventSourceImpl: hz.FakeSource, setTimer: hz.setTimer, clearTimer: hz.clearTimer });
  hz.opened[0].emit('reset', { after: 3, oldest_kept: 40 });
  assert.equal(resets, 1);
  assert.deepEqual(seen, [], 'a reset is not an event of the page');
});
