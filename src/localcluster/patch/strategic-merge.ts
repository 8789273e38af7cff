/**
 * Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), as kubectl sends it for
 * built-in kinds. Follows the behaviour of apimachinery's strategicpatch package on the server side:
 *  - maps merge key by key, `null` deletes a key;
 *  - lists the schema calls `map` merge item by item on their merge key (the first list-map key),
 *    `set` lists merge as unions, `atomic` lists are replaced;
 *  - directives: `$patch` (replace/delete/merge, in maps and list items), `$retainKeys`,
 *    `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
 * Order of merged lists, as upstream: `$setElementOrder` first, then the order of the patch list, then the
 * order of the live list. So an unchanged relative order keeps live positions, and items the patch lists
 * are placed in the patch's order, interleaved with the live-only items.
 * Where upstream would copy a patch value verbatim (a field absent from the object) we merge it into an
 * empty value instead, so directives and nulls never leak into the stored object.
 */
import { ApiError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import type { MergeSchema } from './list-semantics.js';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

const isDirectiveKey = (key: string): boolean =>
  key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST);

/** Renders a value the way Go's `%v` does, so error messages read like the kube-apiserver's. */
const goFormat = (value: JsonValue | undefined): string => {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (isJsonObject(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${k}:${goFormat(value[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
};

const badPatch = (message: string): ApiError => new ApiError('BadRequest', message);

const setOwn = (target: JsonObject, key: string, value: JsonValue): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
};

/** Identity of a list item for ordering and matching: its merge key's value, or the scalar itself. */
type Identity = (item: JsonValue) => string | undefined;

const scalarIdentity: Identity = (item) => JSON.stringify(item);

const keyIdentity =
  (mergeKey: string): Identity =>
  (item) =>
    isJsonObject(item) && Object.hasOwn(item, mergeKey) ? JSON.stringify(item[mergeKey]) : undefined;

/**
 * Orders `merged`: items named in `patchOrder` follow that order, the others (live-only items) keep
 * their order in `serverOrder`, and the two runs are interleaved by their positions in `serverOrder`.
 */
const normalizeOrder = (
  merged: JsonValue[],
  patchOrder: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  identity: Identity,
): JsonValue[] => {
  const positions = (list: readonly JsonValue[]): Map<string, number> => {
    const map = new Map<string, number>();
    list.forEach((item, i) => {
      const id = identity(item);
      if (id !== undefined && !map.has(id)) map.set(id, i);
    });
    return map;
  };
  const inPatch = positions(patchOrder);
  const inServer = positions(serverOrder);
  const rank = (map: Map<string, number>, item: JsonValue): number => {
    const id = identity(item);
    return id === undefined ? Infinity : (map.get(id) ?? Infinity);
  };
  const byRank = (map: Map<string, number>) => (a: JsonValue, b: JsonValue) => rank(map, a) - rank(map, b) || 0;
  const patchItems = merged.filter((item) => inPatch.has(identity(item) ?? '\0')).sort(byRank(inPatch));
  const serverOnly = merged.filter((item) => !inPatch.has(identity(item) ?? '\0')).sort(byRank(inServer));

  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length && j < patchItems.length) {
    const left = rank(inServer, serverOnly[i]!);
    const right = rank(inServer, patchItems[j]!);
    if (left !== Infinity && right !== Infinity && left < right) out.push(serverOnly[i++]!);
    else out.push(patchItems[j++]!);
  }
  return out.concat(serverOnly.slice(i), patchItems.slice(j));
};

const dedupe = (items: readonly JsonValue[]): JsonValue[] => {
  const seen = new Set<string>();
  return items.filter((item) => {
    const id = scalarIdentity(item)!;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};

class StrategicMerger {
  constructor(private readonly schema: MergeSchema) {}

  /** A patch value for a field the object lacks: merged into nothing, so directives are applied. */
  materialize(value: JsonValue, path: readonly string[]): JsonValue {
    if (isJsonObject(value)) return this.mergeMap(undefined, value, path);
    if (Array.isArray(value)) return this.mergeList(undefined, value, path);
    return value;
  }

  /** `original` is private to this merge (already a copy); `patch` is never modified. */
  mergeMap(original: JsonObject | undefined, patch: JsonObject, path: readonly string[]): JsonObject {
    if (Object.hasOwn(patch, PATCH)) {
      const directive = patch[PATCH];
      const rest: JsonObject = {};
      for (const [k, v] of Object.entries(patch)) if (k !== PATCH) setOwn(rest, k, v);
      if (directive === 'delete') return {};
      if (directive === 'replace') return this.mergeMap(undefined, rest, path);
      if (directive !== 'merge') throw badPatch(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
      return this.mergeMap(original, rest, path);
    }
    if (original && path.length > 0 && this.schema.atomicMapAt?.(path)) return this.mergeMap(undefined, patch, path);

    const result: JsonObject = {};
    if (original) for (const [k, v] of Object.entries(original)) setOwn(result, k, v);
    this.applyRetainKeys(result, patch);
    const ordered = this.applySetElementOrder(result, patch, path);

    for (const [key, value] of Object.entries(patch)) {
      if (isDirectiveKey(key) || ordered.has(key)) continue;
      if (value === null) {
        delete result[key];
        continue;
      }
      const fieldPath = [...path, key];
      const current = Object.hasOwn(result, key) ? result[key] : undefined;
      if (isJsonObject(value)) setOwn(result, key, this.mergeMap(isJsonObject(current) ? current : undefined, value, fieldPath));
      else if (Array.isArray(value)) {
        setOwn(result, key, this.mergeList(Array.isArray(current) ? current : undefined, value, fieldPath));
      } else setOwn(result, key, value);
    }

    for (const [key, value] of Object.entries(patch)) {
      if (!key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
      const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      if (!Array.isArray(value) || field === '') throw badPatch('invalid patch format of primitive list');
      const current = result[field];
      if (!Array.isArray(current)) continue;
      const doomed = new Set(value.map(scalarIdentity));
      setOwn(result, field, current.filter((item) => !doomed.has(scalarIdentity(item))));
    }
    return result;
  }

  /** `$retainKeys`: keys of the live map that the list does not name are cleared before merging. */
  private applyRetainKeys(result: JsonObject, patch: JsonObject): void {
    if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
    const retain = patch[RETAIN_KEYS];
    if (!Array.isArray(retain)) throw badPatch('invalid patch format of retainKeys');
    const kept = new Set(retain.map((k) => (typeof k === 'string' ? k : JSON.stringify(k))));
    for (const [key, value] of Object.entries(patch)) {
      if (value === null || isDirectiveKey(key)) continue;
      if (!kept.has(key)) {
        const message = "patch content doesn't match retainKeys list";
        throw new ApiError('Invalid', message, { causes: [{ reason: 'FieldValueInvalid', message, field: key }] });
      }
    }
    for (const key of Object.keys(result)) if (!kept.has(key)) delete result[key];
  }

  /** Merges and orders every list named by a `$setElementOrder/<field>`; returns the fields it handled. */
  private applySetElementOrder(result: JsonObject, patch: JsonObject, path: readonly string[]): Set<string> {
    const handled = new Set<string>();
    for (const [key, order] of Object.entries(patch)) {
      if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
      const field = key.slice(SET_ELEMENT_ORDER.length);
      if (!Array.isArray(order) || field === '') throw badPatch('invalid patch format of setElementOrder list');
      const fieldPath = [...path, field];
      const semantics = this.schema.listAt(fieldPath);
      const live = Array.isArray(result[field]) ? (result[field] as JsonValue[]) : undefined;
      const patchValue = Object.hasOwn(patch, field) ? patch[field] : undefined;
      const patchList = Array.isArray(patchValue) ? patchValue : undefined;
      if (semantics.type === 'atomic' || (live === undefined && patchList === undefined)) continue;
      if (patchValue === null) continue;
      if (patchValue !== undefined && !patchList) {
        throw badPatch(`expected a list for ${field}, but received ${goFormat(patchValue)}`);
      }

      const mergeKey = semantics.type === 'map' ? semantics.keys?.[0] : undefined;
      const identity = mergeKey ? keyIdentity(mergeKey) : scalarIdentity;
      if (mergeKey) for (const item of order) this.requireMergeKey(item, mergeKey);
      if (patchList) this.checkOrderMatchesPatch(patchList, order, identity, field);

      const merged = this.mergeList(live, patchList ?? [], fieldPath);
      setOwn(result, field, normalizeOrder(merged, order, live ?? [], identity));
      handled.add(field);
    }
    return handled;
  }

  /** The patch list must name its items in the same relative order as `$setElementOrder`. */
  private checkOrderMatchesPatch(patchList: JsonValue[], order: JsonValue[], identity: Identity, field: string): void {
    const items = patchList.filter((item) => !(isJsonObject(item) && Object.hasOwn(item, PATCH)));
    let p = 0;
    for (let o = 0; o < order.length && p < items.length; o++) {
      if (identity(items[p]!) === identity(order[o]!)) p++;
    }
    if (p < items.length) {
      throw badPatch(
        `The order in patch list:\n${goFormat(patchList)}\n doesn't match $setElementOrder list:\n${goFormat(order)}\n` +
          `(field ${field})`,
      );
    }
  }

  private requireMergeKey(item: JsonValue, mergeKey: string): JsonObject {
    if (!isJsonObject(item)) throw badPatch(`expected a map, but received a ${goFormat(item)}`);
    if (!Object.hasOwn(item, mergeKey)) {
      throw badPatch(`map: ${goFormat(item)} does not contain declared merge key: ${mergeKey}`);
    }
    return item;
  }

  /** Merges a patch list into a live list (or into nothing) according to the schema at `path`. */
  mergeList(live: JsonValue[] | undefined, patch: JsonValue[], path: readonly string[]): JsonValue[] {
    const semantics = this.schema.listAt(path);
    const mergeKey = semantics.type === 'map' ? semantics.keys?.[0] : undefined;
    if (semantics.type === 'atomic' || (semantics.type === 'map' && !mergeKey)) {
      return patch.map((item) => this.materialize(item, path));
    }
    const original = live ?? [];
    const objects = [...original, ...patch].filter(isJsonObject).length;
    if (semantics.type === 'set' || objects === 0) {
      if (objects > 0) return patch.map((item) => this.materialize(item, path));
      return normalizeOrder(dedupe([...original, ...patch]), patch, original, scalarIdentity);
    }
    if (objects !== original.length + patch.length) {
      throw badPatch(`list element types are not identical: ${goFormat([original, patch])}`);
    }
    return this.mergeMapList(original as JsonObject[], patch as JsonObject[], mergeKey!, path);
  }

  private mergeMapList(original: JsonObject[], patch: JsonObject[], mergeKey: string, path: readonly string[]): JsonValue[] {
    const identity = keyIdentity(mergeKey);
    let survivors: JsonValue[] = original;
    let replace = false;
    const items: JsonObject[] = [];
    for (const item of patch) {
      if (!Object.hasOwn(item, PATCH)) {
        items.push(item);
        continue;
      }
      const directive = item[PATCH];
      if (directive === 'delete') {
        const doomed = identity(this.requireMergeKey(item, mergeKey));
        survivors = survivors.filter((live) => identity(live) !== doomed);
      } else if (directive === 'replace') replace = true;
      else if (directive === 'merge') {
        // An explicit merge is what lists do anyway; an item naming its key still merges.
        if (Object.hasOwn(item, mergeKey)) items.push(item);
      } else throw badPatch(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(item)}`);
    }
    if (replace) return items.map((item) => this.materialize(item, path));

    const merged = [...survivors];
    for (const item of items) {
      const id = identity(this.requireMergeKey(item, mergeKey));
      const at = merged.findIndex((live) => identity(live) === id);
      const base = at >= 0 ? merged[at] : undefined;
      const next = this.mergeMap(isJsonObject(base) ? base : undefined, item, path);
      if (at >= 0) merged[at] = next;
      else merged.push(next);
    }
    return normalizeOrder(merged, items, survivors, identity);
  }
}

/**
 * Applies a strategic merge patch to `original` with the list semantics of `schema`; returns a new
 * object and leaves both inputs untouched. Malformed patches throw ApiError (400, or 422 for content
 * outside `$retainKeys`).
 */
export const applyStrategicMergePatch = (original: JsonObject, patch: JsonObject, schema: MergeSchema): JsonObject =>
  new StrategicMerger(schema).mergeMap(structuredClone(original), patch, []);
