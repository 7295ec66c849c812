// Following a kitchen stream: the screen says offline within 5 s of hearing nothing (the
// server sends a heartbeat every 2 s, so silence means a dead server or a dead network alike),
// and reconnects by itself, asking for everything after the last event it saw. The browser's
// own reconnect sends Last-Event-ID; a reconnect of ours sends the same version as `after`.
// A screen offline for longer than the server keeps its log hears `reset` and reads its state
// again (`onReset`); without a handler the page reloads.

export const SILENCE_MS = 5000;
export const RETRY_MS = 1000;

/**
 * Follows `url` (an SSE endpoint). `kinds` are the event names to hand to `onEvent(kind, data,
 * id)`; `onOnline(bool)` hears each change of connection; `after` (or null) is where to start;
 * `onReset()` is told the log no longer holds everything after `after` (read the state again).
 * The timers and EventSource are injectable for tests. Returns `{ stop() }`.
 */
export function follow({
  url,
  kinds,
  onEvent,
  onOnline = () => {},
  onReset = () => globalThis.location?.reload(),
  after = null,
  EventSourceImpl = globalThis.EventSource,
  setTimer = setTimeout,
  clearTimer = clearTimeout,
  silenceMs = SILENCE_MS,
  retryMs = RETRY_MS,
}) {
  let last = after;
  let source = null;
  let watchdog = null;
  let retry = null;
  let online = null;
  let stopped = false;

  const say = (value) => {
    if (value === online) return;
    online = value;
    onOnline(value);
  };
  const arm = () => {
    clearTimer(watchdog);
    watchdog = setTimer(() => {
      say(false);
      reopen();
    }, silenceMs);
  };
  const heard = () => {
    arm();
    say(true);
  };
  const reopen = () => {
    if (source) source.close();
    source = null;
    clearTimer(watchdog);
    clearTimer(retry);
    if (!stopped) retry = setTimer(open, retryMs);
  };
  const address = () => (last === null ? url : `${url}${url.includes('?') ? '&' : '?'}after=${encodeURIComponent(last)}`);

  function open() {
    if (stopped) return;
    const current = new EventSourceImpl(address());
    source = current;
    arm();
    for (const kind of kinds) {
      current.addEventListener(kind, (event) => {
        heard();
        const id = event.lastEventId ? Number(event.lastEventId) : NaN;
        if (Number.isFinite(id) && last !== null) last = Math.max(last, id);
        else if (Number.isFinite(id)) last = id;
        let data = null;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        onEvent(kind, data, id);
      });
    }
    current.addEventListener('heartbeat', heard);
    current.addEventListener('reset', () => {
      heard();
      onReset();
    });
    current.onopen = heard;
    current.onerror = () => {
      say(false);
      // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up.
      if (current.readyState === 2) reopen();
    };
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimer(watchdog);
      clearTimer(retry);
      if (source) source.close();
    },
    /** The last event version seen (what a reconnect asks after). */
    get last() {
      return last;
    },
  };
}
