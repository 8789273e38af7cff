/**
 * Reading objects as field sets: which fields are tracked at all, how list items are named, the set
 * of fields an object sets (what an applier owns) and the difference between two versions of an
 * object (what an update takes over).
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import type { MergeSchema } from '../patch/list-semantics.js';
import type { FieldPath, PathElement } from './fieldset.js';
import { FieldSet, describePath, fieldElement, keyElement, valueElement } from './fieldset.js';
import { deepEqual } from './json.js';

/** Which part of an object a write may own. */
export interface TrackingScope {
  /** 'status', 'scale', or undefined for the main resource. */
  subresource?: string;
  /** Whether the kind serves a status subresource (then main-resource writes never own `status`). */
  statusSubresource: boolean;
}

/** Metadata the server maintains or that names the object; never owned by anyone. */
export const UNTRACKED_METADATA: readonly string[] = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
  'clusterName',
];

/** The part of an object whose fields are tracked in this scope (identity and server fields removed). */
export const trackedView = (obj: JsonObject, scope: TrackingScope): JsonObject => {
  const out: JsonObject = {};
  const metadata: JsonObject = {};
  const sourceMeta = isJsonObject(obj.metadata) ? obj.metadata : {};
  const statusOnly = scope.subresource === 'status';
  for (const [key, value] of Object.entries(sourceMeta)) {
    if (UNTRACKED_METADATA.includes(key)) continue;
    if (statusOnly && key !== 'labels' && key !== 'annotations') continue;
    metadata[key] = value;
  }
  if (Object.keys(metadata).length > 0) out.metadata = metadata;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    const isStatus = key === 'status';
    if (statusOnly ? !isStatus : isStatus && scope.statusSubresource) continue;
    out[key] = value;
  }
  return out;
};

/** A list's items named as path elements, or why they cannot be. */
export type ListItems =
  | { kind: 'atomic' }
  | { kind: 'set' | 'map'; elements: PathElement[] }
  | { kind: 'invalid'; message: string };

export const namedItems = (items: ListItems): items is { kind: 'set' | 'map'; elements: PathElement[] } =>
  items.kind === 'set' || items.kind === 'map';

/** Key fields Kubernetes defaults when an item omits them (ports are keyed by port and protocol). */
const keyDefault = (names: readonly string[], key: string): JsonValue | undefined =>
  key === 'protocol' && names[names.length - 1] === 'ports' ? 'TCP' : undefined;

export const listItems = (list: JsonValue[], names: readonly string[], schema: MergeSchema): ListItems => {
  const semantics = schema.listAt(names);
  const keys = semantics.keys ?? [];
  if (semantics.type === 'atomic' || (semantics.type === 'map' && keys.length === 0)) return { kind: 'atomic' };
  const elements: PathElement[] = [];
  for (const [index, item] of list.entries()) {
    let element: PathElement;
    if (semantics.type === 'set') {
      element = valueElement(item);
    } else {
      if (!isJsonObject(item)) {
        return { kind: 'invalid', message: `element ${index}: associative list with keys may not have non-map elements` };
      }
      const key: JsonObject = {};
      for (const name of keys) {
        const value = item[name] ?? keyDefault(names, name);
        if (value === undefined || value === null) {
          return {
            kind: 'invalid',
            message: `element ${index}: associative list with keys has an element that omits key field "${name}" (and doesn't have default value)`,
          };
        }
        key[name] = value;
      }
      element = keyElement(key);
    }
    if (elements.includes(element)) {
      return { kind: 'invalid', message: `duplicate entries for key ${describePath([element])}` };
    }
    elements.push(element);
  }
  return { kind: semantics.type, elements };
};

/** An object the applier sent that cannot be read as fields (bad list keys, duplicates). */
export class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'ShapeError';
  }
}

type Mode = 'strict' | 'lenient';

/**
 * The fields an object sets: every leaf, every list item, every empty map. Maps holding fields are
 * implied by their children and are not members themselves, as in an applier's managedFields entry.
 * In strict mode a list whose items cannot be named throws ShapeError; lenient mode owns it whole.
 */
export const toFieldSet = (obj: JsonObject, schema: MergeSchema, mode: Mode = 'lenient'): FieldSet => {
  const out: FieldPath[] = [];
  const visitFields = (node: JsonObject, path: FieldPath, names: readonly string[]): void => {
    for (const [name, value] of Object.entries(node)) {
      visitValue(value, [...path, fieldElement(name)], [...names, name]);
    }
  };
  const visitValue = (value: JsonValue, path: FieldPath, names: readonly string[]): void => {
    if (isJsonObject(value)) {
      if (Object.keys(value).length === 0 || schema.atomicMapAt?.(names)) out.push(path);
      else visitFields(value, path, names);
      return;
    }
    if (!Array.isArray(value)) {
      out.push(path);
      return;
    }
    const items = listItems(value, names, schema);
    if (items.kind === 'invalid' && mode === 'strict') throw new ShapeError(describePath(path), items.message);
    if (items.kind === 'atomic' || items.kind === 'invalid') {
      out.push(path);
      return;
    }
    items.elements.forEach((element, index) => {
      const itemPath = [...path, element];
      out.push(itemPath);
      const item = value[index];
      if (items.kind === 'map' && isJsonObject(item)) visitFields(item, itemPath, names);
    });
  };
  visitFields(obj, [], []);
  return FieldSet.of(out);
};

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * Maps that Go always serialises for built-in kinds (non-pointer structs), so a write never "adds"
 * them and Kubernetes records no `.` for them. Only affects how an Update entry looks.
 */
const ALWAYS_PRESENT: readonly string[] = [
  'metadata',
  'spec',
  'status',
  'spec.template',
  'spec.template.metadata',
  'spec.template.spec',
  'spec.template.spec.containers',
  'spec.strategy',
];

/**
 * What changed from `before` to `after`: leaves that appeared, changed or vanished, plus maps, lists
 * and items that appeared or vanished as a whole (those become `.` members of an Update entry).
 */
export const compareObjects = (before: JsonObject, after: JsonObject, schema: MergeSchema): Comparison => {
  const added: FieldPath[] = [];
  const modified: FieldPath[] = [];
  const removed: FieldPath[] = [];

  // Records a whole subtree that exists on one side only.
  const subtree = (value: JsonValue, path: FieldPath, names: readonly string[], out: FieldPath[], self: boolean): void => {
    const container = (isJsonObject(value) && Object.keys(value).length > 0 && !schema.atomicMapAt?.(names)) || Array.isArray(value);
    const items = Array.isArray(value) ? listItems(value, names, schema) : undefined;
    const leaf = !container || (items !== undefined && !namedItems(items));
    if (self && (leaf || out !== added || !ALWAYS_PRESENT.includes(names.join('.')))) out.push(path);
    if (leaf) return;
    if (isJsonObject(value)) {
      for (const [name, child] of Object.entries(value)) subtree(child, [...path, fieldElement(name)], [...names, name], out, true);
      return;
    }
    if (!items || !namedItems(items)) return;
    items.elements.forEach((element, index) => {
      const itemPath = [...path, element];
      out.push(itemPath);
      const item = (value as JsonValue[])[index];
      if (items.kind === 'map' && isJsonObject(item)) {
        for (const [name, child] of Object.entries(item)) subtree(child, [...itemPath, fieldElement(name)], [...names, name], out, true);
      }
    });
  };

  const fields = (l: JsonObject, r: JsonObject, path: FieldPath, names: readonly string[]): void => {
    for (const name of new Set([...Object.keys(l), ...Object.keys(r)])) {
      value(l[name], r[name], [...path, fieldElement(name)], [...names, name]);
    }
  };

  const lists = (l: JsonValue[], r: JsonValue[], path: FieldPath, names: readonly string[]): boolean => {
    const li = listItems(l, names, schema);
    const ri = listItems(r, names, schema);
    if (!namedItems(li) || !namedItems(ri) || li.kind !== ri.kind) return false;
    const leftIndex = new Map(li.elements.map((element, index) => [element, index]));
    const rightIndex = new Map(ri.elements.map((element, index) => [element, index]));
    for (const [element, index] of leftIndex) {
      const itemPath = [...path, element];
      const right = rightIndex.get(element);
      if (right === undefined) {
        removed.push(itemPath);
        subtree(l[index] as JsonValue, itemPath, names, removed, false);
      }
      else if (li.kind === 'map') fields(l[index] as JsonObject, r[right] as JsonObject, itemPath, names);
    }
    for (const [element, index] of rightIndex) {
      if (leftIndex.has(element)) continue;
      // An item is always a member of its own subtree, whatever its list's path.
      added.push([...path, element]);
      subtree(r[index] as JsonValue, [...path, element], names, added, false);
    }
    return true;
  };

  const value = (l: JsonValue | undefined, r: JsonValue | undefined, path: FieldPath, names: readonly string[]): void => {
    if (l === undefined && r === undefined) return;
    if (l === undefined) return subtree(r as JsonValue, path, names, added, true);
    if (r === undefined) return subtree(l, path, names, removed, true);
    if (isJsonObject(l) && isJsonObject(r) && !schema.atomicMapAt?.(names)) return fields(l, r, path, names);
    if (Array.isArray(l) && Array.isArray(r) && lists(l, r, path, names)) return;
    if (deepEqual(l, r)) return;
    modified.push(path);
    // A map that became a scalar (or the reverse): its old children are gone, its new ones are new.
    if (isJsonObject(l) !== isJsonObject(r) || Array.isArray(l) !== Array.isArray(r)) {
      subtree(l, path, names, removed, false);
      subtree(r, path, names, added, false);
    }
  };

  fields(before, after, [], []);
  return { added: FieldSet.of(added), modified: FieldSet.of(modified), removed: FieldSet.of(removed) };
};
