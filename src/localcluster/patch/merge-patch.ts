/**
 * JSON merge patch (RFC 7386), the `application/merge-patch+json` patch type: objects merge key by key,
 * `null` deletes a key, anything else (arrays included) replaces the target value whole.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';

/** Sets a key without ever reaching the prototype (a `__proto__` key from the wire stays plain data). */
const setOwn = (target: JsonObject, key: string, value: JsonValue): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
};

/** A deep copy, so the result never shares structure with either input. */
const copyOf = (value: JsonValue): JsonValue => structuredClone(value);

/** Applies `patch` to `target` and returns the result; neither input is modified. */
export const applyMergePatch = (target: JsonValue | undefined, patch: JsonValue): JsonValue => {
  if (!isJsonObject(patch)) return copyOf(patch);
  const result: JsonObject = {};
  if (isJsonObject(target)) for (const [key, value] of Object.entries(target)) setOwn(result, key, copyOf(value));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
};
