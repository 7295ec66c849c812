// Money arrives from the API as integer fen. Shown as ¥18 or ¥18.50: two decimals only
// when the fen are not zero.

export function yuan(fen) {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const whole = Math.trunc(abs / 100);
  const cents = abs % 100;
  return `${sign}¥${whole}${cents ? '.' + String(cents).padStart(2, '0') : ''}`;
}

/** Parses what a merchant types ("18", "18.5", "¥18.50") into fen, or null. */
export function parseYuan(text) {
  const match = /^\s*[¥￥]?\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(String(text));
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'));
}
