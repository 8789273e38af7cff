/** Small JSON helpers shared by the server's parts. */
import type { JsonObject, JsonValue } from './types.js';
import { isJsonObject } from './types.js';

export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
};

export const clone = <T>(v: T): T => structuredClone(v);

/** RFC 3339 with second precision, as Kubernetes timestamps are. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The value at a dotted path such as `.spec.replicas` (leading dot optional). */
export const getPath = (obj: unknown, path: string): unknown => {
  let node: unknown = obj;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (!part) continue;
    if (!isJsonObject(node)) return undefined;
    node = node[part];
  }
  return node;
};

/** A copy of `obj` with the value at a dotted path set, creating maps on the way. */
export const setPath = (obj: JsonObject, path: string, value: JsonValue): JsonObject => {
  const parts = path.replace(/^\./, '').split('.').filter(Boolean);
  const root = clone(obj);
  let node: JsonObject = root;
  parts.forEach((part, i) => {
    if (i === parts.length - 1) node[part] = value;
    else {
      const next = node[part];
      node = isJsonObject(next) ? next : (node[part] = {});
    }
  });
  return root;
};
