/**
 * Typed reads of one node of a structural OpenAPI v3 schema (a CRD's `openAPIV3Schema`). Schemas arrive
 * as plain JSON; these accessors keep the walkers free of casts.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';

export const propertiesOf = (schema: JsonObject): JsonObject | undefined =>
  isJsonObject(schema.properties) ? schema.properties : undefined;

export const propertyOf = (schema: JsonObject, key: string): JsonObject | undefined => {
  const props = propertiesOf(schema);
  if (!props || !Object.prototype.hasOwnProperty.call(props, key)) return undefined;
  const prop = props[key];
  return isJsonObject(prop) ? prop : undefined;
};

/** The schema for map values, or `true`/`false`/undefined as written. */
export const additionalOf = (schema: JsonObject): JsonObject | boolean | undefined => {
  const additional = schema.additionalProperties;
  if (isJsonObject(additional) || typeof additional === 'boolean') return additional;
  return undefined;
};

export const additionalSchemaOf = (schema: JsonObject): JsonObject | undefined => {
  const additional = additionalOf(schema);
  return isJsonObject(additional) ? additional : undefined;
};

export const itemsOf = (schema: JsonObject): JsonObject | undefined =>
  isJsonObject(schema.items) ? schema.items : undefined;

export const typeOf = (schema: JsonObject): string | undefined =>
  typeof schema.type === 'string' ? schema.type : undefined;

export const flag = (schema: JsonObject, name: string): boolean => schema[name] === true;

export const preservesUnknown = (schema: JsonObject): boolean => flag(schema, 'x-kubernetes-preserve-unknown-fields');

export const isIntOrString = (schema: JsonObject): boolean => flag(schema, 'x-kubernetes-int-or-string');

export const isEmbeddedResource = (schema: JsonObject): boolean => flag(schema, 'x-kubernetes-embedded-resource');

export const numberOf = (schema: JsonObject, name: string): number | undefined => {
  const value = schema[name];
  return typeof value === 'number' ? value : undefined;
};

export const stringOf = (schema: JsonObject, name: string): string | undefined => {
  const value = schema[name];
  return typeof value === 'string' ? value : undefined;
};

export const schemaListOf = (schema: JsonObject, name: string): JsonObject[] => {
  const value = schema[name];
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
};

export const stringListOf = (schema: JsonObject, name: string): string[] => {
  const value = schema[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
};

/** The JSON type name of a decoded value, as go-openapi's type validator infers it. */
export const jsonTypeOf = (value: JsonValue): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value; // 'string' | 'boolean'
};

/** Deep structural equality of two JSON values (key order ignored). */
export const jsonEqual = (a: JsonValue, b: JsonValue): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i] ?? null));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k] ?? null, b[k] ?? null));
  }
  return false;
};

export const deepCopy = <T extends JsonValue>(value: T): T => structuredClone(value);

/** Field paths as the apiserver prints them: `spec.analysis.stepWeight`, `spec.metrics[0].name`. */
export const childPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
export const indexPath = (path: string, index: number): string => `${path}[${index}]`;
