/**
 * Validation of a custom resource against its CRD's structural OpenAPI v3 schema, following
 * kube-apiserver: kube-openapi's schema validator (type, value validations, anyOf/oneOf/allOf/not), its
 * results mapped to field errors as apiextensions-apiserver maps them, then the list-type checks.
 *
 * Not done here: `x-kubernetes-validations` (CEL rules) are ignored — there is no CEL evaluator — and
 * `metadata` is left to the server, which validates ObjectMeta itself; only the types of
 * metadata.name/generateName/namespace are checked (plus any restriction the schema puts on name).
 */
import type { StatusCause } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import {
  compositeCause,
  invalidCause,
  notSupportedCause,
  requiredCause,
  tooLongCause,
  tooManyCause,
  typeInvalidCause,
} from './causes.js';
import { checkFormat } from './formats.js';
import { goFloat, goNumber, goQuote } from './gofmt.js';
import { listTypeCauses } from './list-type.js';
import {
  additionalOf,
  childPath,
  flag,
  indexPath,
  isIntOrString,
  itemsOf,
  jsonEqual,
  jsonTypeOf,
  numberOf,
  propertiesOf,
  propertyOf,
  schemaListOf,
  stringListOf,
  stringOf,
  typeOf,
} from './node.js';

interface Context {
  /** Compiled `pattern`s (null when JavaScript cannot compile an RE2 pattern: then it is not checked). */
  readonly patterns: Map<string, RegExp | null>;
}

type Causes = StatusCause[];

/** Validates a whole custom resource (apiVersion, kind, metadata, spec, status...) against its schema. */
export const validateObject = (obj: JsonObject, schema: JsonObject): StatusCause[] => {
  const ctx: Context = { patterns: new Map() };
  const causes: Causes = [...metadataCauses(obj.metadata, propertyOf(schema, 'metadata'), ctx)];
  validateNode(obj, withoutMetadata(schema), '', ctx, causes);
  causes.push(...listTypeCauses(obj, schema));
  return causes;
};

/** Validates one value against one schema node, `path` naming the value (`''` for the root). */
export const validateValue = (value: JsonValue, schema: JsonObject, path = ''): StatusCause[] => {
  const causes: Causes = [];
  validateNode(value, schema, path, { patterns: new Map() }, causes);
  return causes;
};

const withoutMetadata = (schema: JsonObject): JsonObject => {
  const props = propertiesOf(schema);
  if (!props || !('metadata' in props)) return schema;
  const rest = { ...props };
  delete rest.metadata;
  return { ...schema, properties: rest };
};

const metadataCauses = (metadata: JsonValue | undefined, schema: JsonObject | undefined, ctx: Context): Causes => {
  if (metadata === undefined) return [];
  if (!isJsonObject(metadata)) {
    return [typeInvalidCause('metadata', jsonTypeOf(metadata), `metadata in body must be of type object: "${jsonTypeOf(metadata)}"`)];
  }
  const causes: Causes = [];
  for (const key of ['name', 'generateName', 'namespace']) {
    const value = metadata[key];
    if (value === undefined) continue;
    const path = `metadata.${key}`;
    if (typeof value !== 'string') {
      causes.push(typeInvalidCause(path, jsonTypeOf(value), `${path} in body must be of type string: "${jsonTypeOf(value)}"`));
      continue;
    }
    // CRDs may restrict name and generateName (pattern, maxLength...), nothing else under metadata.
    const restriction = key === 'namespace' || !schema ? undefined : propertyOf(schema, key);
    if (restriction) validateNode(value, restriction, path, ctx, causes);
  }
  return causes;
};

const typesOf = (schema: JsonObject): string[] => {
  if (isIntOrString(schema)) return ['integer', 'string'];
  const type = typeOf(schema);
  return type ? [type] : [];
};

const validateNode = (value: JsonValue, schema: JsonObject, path: string, ctx: Context, out: Causes): void => {
  const types = typesOf(schema);
  if (value === null) {
    if (types.length > 0 && !flag(schema, 'nullable')) {
      out.push(typeInvalidCause(path, 'null', `${path} in body must be of type ${types.join(',')}: "null"`));
    }
    checkEnum(value, schema, path, out);
    return;
  }
  const actual = jsonTypeOf(value);
  const typeMatches = types.length === 0 || types.includes(actual) || (actual === 'integer' && types.includes('number'));
  if (!typeMatches) {
    out.push(typeInvalidCause(path, actual, `${path} in body must be of type ${types.join(',')}: "${actual}"`));
  }
  checkCombinators(value, schema, path, ctx, out);
  if (typeof value === 'string') checkString(value, schema, path, ctx, out);
  if (typeof value === 'number') checkNumber(value, schema, path, out);
  if (Array.isArray(value)) checkArray(value, schema, path, ctx, out);
  checkEnum(value, schema, path, out);
  if (isJsonObject(value)) checkObject(value, schema, path, ctx, out);
};

const trial = (value: JsonValue, schema: JsonObject, path: string, ctx: Context): Causes => {
  const causes: Causes = [];
  validateNode(value, schema, path, ctx, causes);
  return causes;
};

/** The failing alternative to report: the one closest to passing. */
const closest = (failures: Causes[]): Causes =>
  failures.reduce<Causes>((best, f) => (best.length === 0 || f.length < best.length ? f : best), []);

const checkCombinators = (value: JsonValue, schema: JsonObject, path: string, ctx: Context, out: Causes): void => {
  const anyOf = schemaListOf(schema, 'anyOf');
  if (anyOf.length > 0) {
    const results = anyOf.map((s) => trial(value, s, path, ctx));
    if (!results.some((r) => r.length === 0)) {
      out.push(compositeCause(path, 'must validate at least one schema (anyOf)'), ...closest(results));
    }
  }
  const oneOf = schemaListOf(schema, 'oneOf');
  if (oneOf.length > 0) {
    const results = oneOf.map((s) => trial(value, s, path, ctx));
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== 1) {
      const found = valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`;
      out.push(compositeCause(path, `must validate one and only one schema (oneOf). ${found}`));
      if (valid === 0) out.push(...closest(results));
    }
  }
  const allOf = schemaListOf(schema, 'allOf');
  if (allOf.length > 0) {
    const results = allOf.map((s) => trial(value, s, path, ctx));
    const valid = results.filter((r) => r.length === 0).length;
    for (const r of results) out.push(...r);
    if (valid !== allOf.length) {
      out.push(compositeCause(path, `must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`));
    }
  }
  const not = schema.not;
  if (isJsonObject(not) && trial(value, not, path, ctx).length === 0) {
    out.push(compositeCause(path, 'must not validate the schema (not)'));
  }
};

const compilePattern = (pattern: string, ctx: Context): RegExp | null => {
  if (!ctx.patterns.has(pattern)) {
    let compiled: RegExp | null = null;
    for (const flags of ['u', '']) {
      try {
        compiled = new RegExp(pattern, flags);
        break;
      } catch {
        // RE2 syntax JavaScript does not read: try without the unicode flag, else skip the check.
      }
    }
    ctx.patterns.set(pattern, compiled);
  }
  return ctx.patterns.get(pattern) ?? null;
};

const checkString = (value: string, schema: JsonObject, path: string, ctx: Context, out: Causes): void => {
  const length = [...value].length; // characters (runes), as go-openapi counts
  const maxLength = numberOf(schema, 'maxLength');
  if (maxLength !== undefined && length > maxLength) out.push(tooLongCause(path, maxLength));
  const minLength = numberOf(schema, 'minLength');
  if (minLength !== undefined && length < minLength) {
    out.push(invalidCause(path, value, `${path} in body should be at least ${minLength} chars long`));
  }
  const pattern = stringOf(schema, 'pattern');
  const compiled = pattern === undefined ? null : compilePattern(pattern, ctx);
  if (pattern !== undefined && compiled && !compiled.test(value)) {
    out.push(invalidCause(path, value, `${path} in body should match '${pattern}'`));
  }
  const format = stringOf(schema, 'format');
  if (format !== undefined && checkFormat(format, value) === false) {
    out.push(typeInvalidCause(path, value, `${path} in body must be of type ${format}: ${goQuote(value)}`));
  }
};

const checkNumber = (value: number, schema: JsonObject, path: string, out: Causes): void => {
  // go-openapi compares an int64 value against int64(bound) and a float64 against the float bound.
  const integral = Number.isInteger(value);
  const bound = (b: number): string => (integral ? goNumber(Math.trunc(b)) : goFloat(b));
  const multipleOf = numberOf(schema, 'multipleOf');
  if (multipleOf !== undefined && multipleOf > 0) {
    const factor = integral ? Math.trunc(multipleOf) : multipleOf;
    const quotient = integral || factor >= 1 ? value / factor : (1 / factor) * value;
    if (factor !== 0 && !Number.isInteger(quotient)) {
      out.push(invalidCause(path, value, `${path} in body should be a multiple of ${bound(multipleOf)}`));
    }
  }
  const maximum = numberOf(schema, 'maximum');
  if (maximum !== undefined) {
    const max = integral ? Math.trunc(maximum) : maximum;
    const exclusive = flag(schema, 'exclusiveMaximum');
    if (exclusive ? value >= max : value > max) {
      const relation = exclusive ? 'less than' : 'less than or equal to';
      out.push(invalidCause(path, value, `${path} in body should be ${relation} ${bound(maximum)}`));
    }
  }
  const minimum = numberOf(schema, 'minimum');
  if (minimum !== undefined) {
    const min = integral ? Math.trunc(minimum) : minimum;
    const exclusive = flag(schema, 'exclusiveMinimum');
    if (exclusive ? value <= min : value < min) {
      const relation = exclusive ? 'greater than' : 'greater than or equal to';
      out.push(invalidCause(path, value, `${path} in body should be ${relation} ${bound(minimum)}`));
    }
  }
};

const checkArray = (value: JsonValue[], schema: JsonObject, path: string, ctx: Context, out: Causes): void => {
  const items = itemsOf(schema);
  if (items) value.forEach((item, i) => validateNode(item, items, indexPath(path, i), ctx, out));
  const minItems = numberOf(schema, 'minItems');
  if (minItems !== undefined && value.length < minItems) {
    out.push(invalidCause(path, value.length, `${path} in body should have at least ${minItems} items`));
  }
  const maxItems = numberOf(schema, 'maxItems');
  if (maxItems !== undefined && value.length > maxItems) out.push(tooManyCause(path, value.length, maxItems));
  if (flag(schema, 'uniqueItems') && value.some((v, i) => value.slice(0, i).some((u) => jsonEqual(u, v)))) {
    out.push(invalidCause(path, '', `${path} in body shouldn't contain duplicates`));
  }
};

const checkEnum = (value: JsonValue, schema: JsonObject, path: string, out: Causes): void => {
  const allowed = schema.enum;
  if (!Array.isArray(allowed) || allowed.length === 0) return;
  if (value !== null && allowed.some((a) => jsonEqual(a, value))) return;
  out.push(notSupportedCause(path, value, allowed));
};

const checkObject = (value: JsonObject, schema: JsonObject, path: string, ctx: Context, out: Causes): void => {
  const count = Object.keys(value).length;
  const minProperties = numberOf(schema, 'minProperties');
  if (minProperties !== undefined && count < minProperties) {
    out.push(invalidCause(path, minProperties, `${path} in body should have at least ${minProperties} properties`));
    return; // go-openapi stops at a property-count failure
  }
  const maxProperties = numberOf(schema, 'maxProperties');
  if (maxProperties !== undefined && count > maxProperties) {
    out.push(tooManyCause(path, count, maxProperties));
    return;
  }
  const props = propertiesOf(schema) ?? {};
  const additional = additionalOf(schema);
  for (const key of Object.keys(value)) {
    if (Object.prototype.hasOwnProperty.call(props, key)) continue;
    if (additional === false) {
      out.push(invalidCause(path, key, `${childPath(path, key)} in body is a forbidden property`));
    } else if (isJsonObject(additional)) {
      validateNode(value[key] ?? null, additional, childPath(path, key), ctx, out);
    }
  }
  for (const [key, propSchema] of Object.entries(props)) {
    if (!isJsonObject(propSchema) || !Object.prototype.hasOwnProperty.call(value, key)) continue;
    validateNode(value[key] ?? null, propSchema, childPath(path, key), ctx, out);
  }
  for (const key of stringListOf(schema, 'required')) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) out.push(requiredCause(childPath(path, key)));
  }
};
