/**
 * The apiserver's list-type checks, run after schema validation: items of an
 * `x-kubernetes-list-type: set` must be unique, items of a `map` list unique by their
 * `x-kubernetes-list-map-keys` (a missing key counts as its schema default). Each repeated value is
 * reported once, at its second occurrence, as `Duplicate value: ...`.
 */
import type { StatusCause } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import { duplicateCause, invalidCause } from './causes.js';
import { additionalSchemaOf, childPath, indexPath, itemsOf, jsonEqual, propertiesOf, propertyOf, stringListOf } from './node.js';

export const listTypeCauses = (obj: JsonObject, schema: JsonObject): StatusCause[] => {
  const out: StatusCause[] = [];
  const props = propertiesOf(schema) ?? {};
  for (const [key, value] of Object.entries(obj)) {
    const propSchema = props[key];
    if (key === 'metadata' || !isJsonObject(propSchema)) continue;
    walk(value, propSchema, key, out);
  }
  return out;
};

const walk = (value: JsonValue, schema: JsonObject, path: string, out: StatusCause[]): void => {
  if (Array.isArray(value)) {
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set') checkSet(value, path, out);
    if (listType === 'map') checkMap(value, schema, path, out);
    const items = itemsOf(schema);
    if (items) value.forEach((item, i) => walk(item, items, indexPath(path, i), out));
    return;
  }
  if (!isJsonObject(value)) return;
  const props = propertiesOf(schema) ?? {};
  const additional = additionalSchemaOf(schema);
  for (const [key, child] of Object.entries(value)) {
    const childSchema = isJsonObject(props[key]) ? props[key] : additional;
    if (childSchema) walk(child, childSchema, childPath(path, key), out);
  }
};

/** Reports each distinct repeated entry once, at its second occurrence. */
const reportRepeats = (keys: JsonValue[], items: JsonValue[], path: string, out: StatusCause[]): void => {
  const seen: Array<{ key: JsonValue; count: number }> = [];
  keys.forEach((key, i) => {
    const entry = seen.find((s) => jsonEqual(s.key, key));
    if (!entry) {
      seen.push({ key, count: 1 });
      return;
    }
    entry.count += 1;
    if (entry.count === 2) out.push(duplicateCause(indexPath(path, i), items[i] ?? null));
  });
};

const checkSet = (value: JsonValue[], path: string, out: StatusCause[]): void => {
  if (value.length > 1) reportRepeats(value, value, path, out);
};

/** Stands for a key field absent from an item with no default for it. */
const UNSPECIFIED = { 'unspecified key': true };

const checkMap = (value: JsonValue[], schema: JsonObject, path: string, out: StatusCause[]): void => {
  const bad = value.findIndex((item) => item !== null && !isJsonObject(item));
  if (bad >= 0) {
    out.push(invalidCause(indexPath(path, bad), value[bad], 'must be an object for an array of list-type map'));
    return;
  }
  if (value.length <= 1) return;
  const keyFields = stringListOf(schema, 'x-kubernetes-list-map-keys');
  const itemSchema = itemsOf(schema);
  const keys = value.map((item): JsonValue =>
    keyFields.map((field) => {
      if (isJsonObject(item) && Object.prototype.hasOwnProperty.call(item, field)) return item[field] ?? null;
      const fallback = itemSchema ? propertyOf(itemSchema, field)?.default : undefined;
      return fallback === undefined ? UNSPECIFIED : fallback;
    }),
  );
  reportRepeats(keys, value, path, out);
};
