/**
 * Schema defaulting as kube-apiserver does it for custom resources: a property with a `default` that is
 * missing (or null while not nullable) gets a copy of the default, top-down, so defaults nested in the
 * default value's own schema apply too; array items and map values (additionalProperties) are defaulted
 * the same way. A null that is neither nullable nor defaultable is dropped, as the apiserver prunes it
 * before defaulting. Existing values are never overwritten. `metadata` is the server's business.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import { additionalSchemaOf, deepCopy, flag, itemsOf, propertiesOf } from './node.js';

/** Returns a defaulted copy of `obj`; `obj` itself is left untouched. */
export const applyDefaults = (obj: JsonObject, schema: JsonObject): JsonObject => {
  const copy = deepCopy(obj);
  defaultObject(copy, schema, new Set(['metadata']));
  return copy;
};

const hasDefault = (schema: JsonObject): boolean => schema.default !== undefined;

/** A null the apiserver replaces (default) or drops (no default) because the schema is not nullable. */
const isNonNullableNull = (value: JsonValue | undefined, schema: JsonObject): boolean =>
  value === null && !flag(schema, 'nullable');

const defaultValue = (value: JsonValue, schema: JsonObject): void => {
  if (isJsonObject(value)) defaultObject(value, schema, new Set());
  else if (Array.isArray(value)) defaultArray(value, schema);
};

const defaultObject = (obj: JsonObject, schema: JsonObject, skip: ReadonlySet<string>): void => {
  const props = propertiesOf(schema) ?? {};
  for (const [key, prop] of Object.entries(props)) {
    if (skip.has(key) || !isJsonObject(prop) || !hasDefault(prop)) continue;
    const present = Object.prototype.hasOwnProperty.call(obj, key);
    if (!present || isNonNullableNull(obj[key], prop)) obj[key] = deepCopy(prop.default as JsonValue);
  }
  const additional = additionalSchemaOf(schema);
  for (const key of Object.keys(obj)) {
    if (skip.has(key)) continue;
    const prop = props[key];
    const childSchema = isJsonObject(prop) ? prop : additional;
    if (!childSchema) continue;
    if (isNonNullableNull(obj[key], childSchema)) {
      if (hasDefault(childSchema)) obj[key] = deepCopy(childSchema.default as JsonValue);
      else {
        delete obj[key];
        continue;
      }
    }
    defaultValue(obj[key] ?? null, childSchema);
  }
};

const defaultArray = (items: JsonValue[], schema: JsonObject): void => {
  const itemSchema = itemsOf(schema);
  if (!itemSchema) return;
  items.forEach((item, i) => {
    if (isNonNullableNull(item, itemSchema) && hasDefault(itemSchema)) {
      items[i] = deepCopy(itemSchema.default as JsonValue);
    }
    defaultValue(items[i] ?? null, itemSchema);
  });
};
