/**
 * Structural pruning of a custom resource, as kube-apiserver does on create/update: fields the schema
 * does not specify are dropped, unless a node says `x-kubernetes-preserve-unknown-fields: true` (then its
 * unknown fields stay while its known ones are still pruned inside). The root, like any
 * `x-kubernetes-embedded-resource`, always keeps apiVersion, kind and metadata (metadata is the server's
 * to prune). The dropped paths feed fieldValidation: Strict → 400 `strict decoding error: unknown field
 * "spec.foo"`, Warn → a Warning header per path.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import { additionalOf, childPath, deepCopy, indexPath, isEmbeddedResource, itemsOf, preservesUnknown, propertiesOf } from './node.js';

export interface PruneResult {
  pruned: JsonObject;
  /** Dropped field paths, sorted (`spec.foo`, `spec.items[0].bar`). */
  unknown: string[];
}

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** Returns a pruned copy of `obj`; `obj` itself is left untouched. */
export const pruneUnknownFields = (obj: JsonObject, schema: JsonObject): PruneResult => {
  const pruned = deepCopy(obj);
  const unknown: string[] = [];
  // The root's type and object meta always stay; the server prunes metadata to ObjectMeta itself.
  const props = { ...(propertiesOf(schema) ?? {}) };
  for (const key of META_FIELDS) delete props[key];
  const rootSchema = { ...schema, properties: props, 'x-kubernetes-embedded-resource': true };
  const meta = Object.fromEntries(Object.entries(pruned).filter(([k]) => META_FIELDS.has(k)));
  pruneValue(pruned, rootSchema, '', unknown);
  return { pruned: { ...pruned, ...meta }, unknown: unknown.sort() };
};

/** `schema` undefined means "no schema at all here": every field of an object below is unknown. */
const pruneValue = (value: JsonValue, schema: JsonObject | undefined, path: string, unknown: string[]): void => {
  if (schema && preservesUnknown(schema)) {
    pruneKnownOnly(value, schema, path, unknown);
    return;
  }
  if (Array.isArray(value)) {
    const items = schema ? itemsOf(schema) : undefined;
    value.forEach((item, i) => pruneValue(item, items, indexPath(path, i), unknown));
    return;
  }
  if (!isJsonObject(value)) return;
  const props = schema ? (propertiesOf(schema) ?? {}) : {};
  const additional = schema ? additionalOf(schema) : undefined;
  for (const key of Object.keys(value)) {
    if (schema && isEmbeddedResource(schema) && keepsMetaField(key, value[key], props)) continue;
    const prop = props[key];
    if (isJsonObject(prop)) {
      pruneValue(value[key] ?? null, prop, childPath(path, key), unknown);
    } else if (additional !== undefined && additional !== false) {
      // additionalProperties: true carries no schema, so objects below it keep nothing (as upstream).
      pruneValue(value[key] ?? null, isJsonObject(additional) ? additional : undefined, childPath(path, key), unknown);
    } else {
      unknown.push(childPath(path, key));
      delete value[key];
    }
  }
};

/** Under x-kubernetes-preserve-unknown-fields: unknown fields stay, specified ones are pruned inside. */
const pruneKnownOnly = (value: JsonValue, schema: JsonObject, path: string, unknown: string[]): void => {
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    if (items) value.forEach((item, i) => pruneValue(item, items, indexPath(path, i), unknown));
    return;
  }
  if (!isJsonObject(value)) return;
  const props = propertiesOf(schema) ?? {};
  const additional = additionalOf(schema);
  for (const key of Object.keys(value)) {
    if (isEmbeddedResource(schema) && META_FIELDS.has(key)) continue;
    const prop = props[key];
    if (isJsonObject(prop)) pruneValue(value[key] ?? null, prop, childPath(path, key), unknown);
    else if (isJsonObject(additional)) pruneValue(value[key] ?? null, additional, childPath(path, key), unknown);
  }
};

/** In an embedded resource, string apiVersion/kind stay; metadata stays unless the schema specifies it. */
const keepsMetaField = (key: string, value: JsonValue | undefined, props: JsonObject): boolean => {
  if (key === 'apiVersion' || key === 'kind') return typeof value === 'string';
  return key === 'metadata' && !isJsonObject(props.metadata);
};
