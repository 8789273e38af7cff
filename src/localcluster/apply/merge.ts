/**
 * Combining an applied configuration with the live object, and removing fields by set: the two
 * object edits server-side apply makes.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import type { MergeSchema } from '../patch/list-semantics.js';
import type { FieldTree, PathElement } from './fieldset.js';
import { listItems, namedItems } from './typed.js';
import { cloneJson } from './json.js';

/**
 * Sets every field of `applied` on `live`. Maps merge field by field, set- and map-lists merge item
 * by item (items named by value or keys), everything else is replaced. A `null` in `applied`
 * removes the field, as it would after the server decodes the object into its type.
 */
export const mergeApplied = (live: JsonObject, applied: JsonObject, schema: MergeSchema): JsonObject =>
  mergeFields(live, applied, [], schema);

const mergeFields = (live: JsonObject, applied: JsonObject, names: readonly string[], schema: MergeSchema): JsonObject => {
  const out: JsonObject = { ...live };
  for (const [name, value] of Object.entries(applied)) {
    if (value === null) delete out[name];
    else out[name] = mergeValue(live[name], value, [...names, name], schema);
  }
  return out;
};

const mergeValue = (live: JsonValue | undefined, applied: JsonValue, names: readonly string[], schema: MergeSchema): JsonValue => {
  if (isJsonObject(live) && isJsonObject(applied) && !schema.atomicMapAt?.(names)) {
    return mergeFields(live, applied, names, schema);
  }
  if (Array.isArray(live) && Array.isArray(applied)) return mergeLists(live, applied, names, schema);
  return cloneJson(applied);
};

/**
 * Items of both lists, in an order that keeps the applier's order for the items it sends and leaves
 * items only the live list has where they were (relative to the items around them).
 */
const mergeLists = (live: JsonValue[], applied: JsonValue[], names: readonly string[], schema: MergeSchema): JsonValue[] => {
  const liveItems = listItems(live, names, schema);
  const appliedItems = listItems(applied, names, schema);
  if (!namedItems(liveItems) || !namedItems(appliedItems) || liveItems.kind !== appliedItems.kind) return cloneJson(applied);
  const liveIndex = new Map(liveItems.elements.map((element, index) => [element, index]));
  const appliedIndex = new Map(appliedItems.elements.map((element, index) => [element, index]));
  const out: JsonValue[] = [];
  const emitted = new Set<number>();
  const emitApplied = (index: number): void => {
    emitted.add(index);
    const item = applied[index] as JsonValue;
    const match = liveIndex.get(appliedItems.elements[index] as PathElement);
    const liveItem = match === undefined ? undefined : live[match];
    out.push(isJsonObject(liveItem) && isJsonObject(item) ? mergeFields(liveItem, item, names, schema) : cloneJson(item));
  };
  let next = 0;
  liveItems.elements.forEach((element, index) => {
    const target = appliedIndex.get(element);
    if (target === undefined) {
      out.push(live[index] as JsonValue);
      return;
    }
    for (; next <= target; next++) if (!emitted.has(next)) emitApplied(next);
  });
  for (; next < applied.length; next++) if (!emitted.has(next)) emitApplied(next);
  return out;
};

/** Removes every member of the tree (with everything under it) from the object; returns a new object. */
export const removeFields = (obj: JsonObject, tree: FieldTree, schema: MergeSchema): JsonObject =>
  removeFromFields(obj, tree, [], schema);

const removeFromFields = (obj: JsonObject, tree: FieldTree, names: readonly string[], schema: MergeSchema): JsonObject => {
  let out: JsonObject | undefined;
  for (const [element, sub] of tree.children) {
    if (!element.startsWith('f:')) continue;
    const name = element.slice(2);
    const current = obj[name];
    if (current === undefined) continue;
    const next = sub.member ? undefined : removeFromValue(current, sub, [...names, name], schema);
    if (next === current) continue;
    out ??= { ...obj };
    if (next === undefined) delete out[name];
    else out[name] = next;
  }
  return out ?? obj;
};

const removeFromValue = (value: JsonValue, tree: FieldTree, names: readonly string[], schema: MergeSchema): JsonValue => {
  if (tree.children.size === 0) return value;
  if (isJsonObject(value)) return removeFromFields(value, tree, names, schema);
  if (!Array.isArray(value)) return value;
  const items = listItems(value, names, schema);
  if (!namedItems(items)) return value;
  let changed = false;
  const kept: JsonValue[] = [];
  value.forEach((item, index) => {
    const sub = tree.children.get(items.elements[index] as PathElement);
    if (!sub) kept.push(item);
    else if (sub.member) changed = true;
    else if (items.kind === 'map' && isJsonObject(item)) {
      const next = removeFromFields(item, sub, names, schema);
      if (next !== item) changed = true;
      kept.push(next);
    } else kept.push(item);
  });
  return changed ? kept : value;
};
