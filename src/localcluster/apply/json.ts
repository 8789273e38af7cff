/** Small JSON helpers the apply machinery shares: canonical encoding, deep equality, copies. */
import type { JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';

/** JSON with object keys sorted at every level, as Go encodes maps; the fieldsV1 key spelling relies on it. */
export const canonicalJson = (value: JsonValue): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    const otherKeys = Object.keys(b).filter((k) => b[k] !== undefined);
    return keys.length === otherKeys.length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
};

export const cloneJson = <T>(value: T): T => structuredClone(value);
