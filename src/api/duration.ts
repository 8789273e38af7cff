/**
 * Go-style durations ('1m', '30s', '1h30m', '500ms', '1.5h'), as Flagger reads them with
 * time.ParseDuration. Results are in milliseconds and may be fractional below one millisecond.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu, which Go also accepts
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a non-negative Go duration, or undefined when the text is not one. */
export const parseDuration = (text: string): number | undefined => {
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  if (body === '') return undefined;
  // Built per call: a sticky regex keeps its position in lastIndex, which must not be shared.
  const part = /([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < body.length) {
    part.lastIndex = at;
    const match = part.exec(body);
    if (!match) return undefined;
    const [whole, amount = '', unit = ''] = match;
    // Go rejects a unit with no digits ('ms', '.s').
    if (!/[0-9]/.test(amount)) return undefined;
    const scale = UNIT_MS[unit];
    if (scale === undefined) return undefined;
    total += Number(amount) * scale;
    at += whole.length;
  }
  return total;
};

export const DURATION_RULE = 'must be a duration such as 30s, 1m or 1h30m';
