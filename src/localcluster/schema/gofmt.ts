/**
 * How Go prints values, for messages and table cells that must read exactly like the real API server's.
 * The apiserver decodes JSON into int64 (numbers without fraction) or float64; here an integral number
 * stands for an int64, anything else for a float64.
 */
import type { JsonValue } from '../types.js';

/** Go's `%v` of a float64: shortest digits, exponent form (`1e+06`) when the exponent is < -4 or >= 6. */
export const goFloat = (value: number): string => {
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '0', expText = '0'] = value.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mantissa}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  return String(value);
};

/** Go's `%v` of a JSON number as decoded by the apiserver (int64 when integral). */
export const goNumber = (value: number): string =>
  Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? BigInt(value).toString() : goFloat(value);

/** Go's `%q` of a string (close enough: JSON quoting, which Go's strconv.Quote matches for printable text). */
export const goQuote = (value: string): string => JSON.stringify(value);

/** Go's `%#v` of an `interface{}` holding a decoded JSON value. */
export const goSharpV = (value: JsonValue): string => {
  if (value === null) return 'interface {}(nil)';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSharpV).join(', ')}}`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${goQuote(k)}:${goSharpV(value[k] ?? null)}`);
  return `map[string]interface {}{${entries.join(', ')}}`;
};

const htmlEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's `json.Marshal` of a decoded JSON value: compact, map keys sorted, HTML characters escaped. */
export const goJson = (value: JsonValue): string => {
  if (value === null || typeof value !== 'object') {
    return (JSON.stringify(value) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => htmlEscapes[c] ?? c);
  }
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${goJson(k)}:${goJson(value[k] ?? null)}`);
  return `{${entries.join(',')}}`;
};

/** Go's `fmt.Fprint` of a decoded JSON scalar, as the apiserver's JSONPath printer writes it. */
export const goPrint = (value: JsonValue): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (value === null) return '<nil>';
  return goJson(value);
};
