/**
 * Reading untyped Kubernetes objects. Workload objects arrive as JSON from the API server; these
 * helpers read them without casting at every step and copy them before anything is changed.
 */

export type JsonMap = Record<string, unknown>;

export const isMap = (value: unknown): value is JsonMap =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value as an object, or an empty one. */
export const mapOf = (value: unknown): JsonMap => (isMap(value) ? value : {});

export const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const numberOf = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** A label or annotation map: only string values survive. */
export const stringMapOf = (value: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(mapOf(value))) if (typeof v === 'string') out[key] = v;
  return out;
};

/** The value at a path of object keys and list indexes, or undefined. */
export const pathOf = (value: unknown, ...path: Array<string | number>): unknown => {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number' ? !Array.isArray(current) : !isMap(current)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
};

export const deepCopy = <T>(value: T): T => structuredClone(value);

/** Copies only the keys that are set, so absent fields stay absent instead of becoming null. */
export const pick = (source: JsonMap, keys: readonly string[]): JsonMap => {
  const out: JsonMap = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = deepCopy(source[key]);
  return out;
};

/** JSON with object keys sorted at every level: equal values always give equal text. */
export const canonicalJson = (value: unknown): string => {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (isMap(value)) {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
