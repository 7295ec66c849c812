// The 账务 page's decisions, apart from the DOM so they can be tested: how a breaker state is
// shown, which day a statement is asked for by default, and a success rate in words.

/** 'ok' while calls go through, 'probing' while one probe is out, 'down' while refused. */
export function breakerTone(state) {
  if (state === 'closed') return 'ok';
  if (state === 'half_open') return 'probing';
  return 'down';
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000;

/**
 * Yesterday in China time (YYYY-MM-DD): the gateways publish a day's statement the morning
 * after, dated in China time whatever the browser's zone.
 */
export function defaultStatementDate(nowMs) {
  const chinaNow = new Date(nowMs + CHINA_OFFSET_MS);
  const yesterday = new Date(Date.UTC(chinaNow.getUTCFullYear(), chinaNow.getUTCMonth(), chinaNow.getUTCDate() - 1));
  return yesterday.toISOString().slice(0, 10);
}

/** Basis points as a percentage with one decimal ("99.5%"), or null before any call. */
export function successRate(bp) {
  if (bp === null || bp === undefined) return null;
  return `${(Math.floor(bp / 10) / 10).toFixed(1)}%`;
}
