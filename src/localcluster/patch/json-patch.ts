/**
 * JSON patch (RFC 6902), the `application/json-patch+json` patch type. A malformed operation list is a
 * 400 BadRequest, as the kube-apiserver answers when it cannot decode the patch; an operation that does
 * not apply to the object (missing path, failed `test`) is a 422 Invalid naming the path, with the
 * wording of the JSON patch library the kube-apiserver uses.
 */
import { ApiError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';

type OpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

interface Operation {
  op: OpName;
  path: string[];
  rawPath: string;
  from?: string[];
  rawFrom?: string;
  value?: JsonValue;
}

const OPS_NEEDING_VALUE: ReadonlySet<string> = new Set(['add', 'replace', 'test']);
const OPS_NEEDING_FROM: ReadonlySet<string> = new Set(['move', 'copy']);
const KNOWN_OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

const badRequest = (message: string): ApiError => new ApiError('BadRequest', message);

const notApplicable = (message: string, path: string): ApiError =>
  new ApiError('Invalid', message, { causes: [{ reason: 'FieldValueInvalid', message, field: path }] });

/** Splits a JSON pointer into its unescaped reference tokens ('' is the whole document). */
export const parseJsonPointer = (pointer: string): string[] => {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`JSON pointer must be empty or start with a "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw badRequest(`invalid escape sequence in JSON pointer: ${pointer}`);
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
};

const parseOperations = (ops: unknown): Operation[] => {
  if (!Array.isArray(ops)) {
    const got = ops === null ? 'null' : typeof ops === 'object' ? 'object' : typeof ops;
    throw badRequest(`json: cannot unmarshal ${got} into Go value of type jsonpatch.Patch`);
  }
  return ops.map((raw: unknown, index): Operation => {
    if (!isJsonObject(raw)) throw badRequest(`json patch operation ${index} is not an object`);
    const { op, path, from } = raw;
    if (typeof op !== 'string' || !KNOWN_OPS.has(op)) throw badRequest(`Unexpected kind: ${String(op)}`);
    if (typeof path !== 'string') throw badRequest(`json patch operation ${index} (${op}) is missing path`);
    const parsed: Operation = { op: op as OpName, path: parseJsonPointer(path), rawPath: path };
    if (OPS_NEEDING_VALUE.has(op)) {
      if (!Object.hasOwn(raw, 'value')) throw badRequest(`json patch operation ${index} (${op}) is missing value`);
      parsed.value = raw.value;
    }
    if (OPS_NEEDING_FROM.has(op)) {
      if (typeof from !== 'string') throw badRequest(`json patch operation ${index} (${op}) is missing from`);
      parsed.from = parseJsonPointer(from);
      parsed.rawFrom = from;
    }
    return parsed;
  });
};

const setOwn = (target: JsonObject, key: string, value: JsonValue): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
};

/** An array index token: RFC 6902 allows only canonical decimal numbers (and `-` where noted). */
const arrayIndex = (token: string, length: number, allowEnd: boolean): number | undefined => {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  return index < length || (allowEnd && index === length) ? index : undefined;
};

/** The value at `tokens`, or undefined when the document has nothing there. */
const valueAt = (doc: JsonValue, tokens: readonly string[]): JsonValue | undefined => {
  let node: JsonValue | undefined = doc;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      const index = arrayIndex(token, node.length, false);
      node = index === undefined ? undefined : node[index];
    } else if (isJsonObject(node)) {
      node = Object.hasOwn(node, token) ? node[token] : undefined;
    } else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
};

const sameJson = (a: JsonValue, b: JsonValue): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]!));
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k]!, b[k]!));
  }
  return false;
};

/** The container holding the last token of `tokens`, which must exist. */
const parentOf = (doc: JsonValue, tokens: readonly string[]): JsonValue | undefined => valueAt(doc, tokens.slice(0, -1));

/** Applies one operation to `doc` (a private copy) and returns the new document. */
const applyOne = (doc: JsonValue, op: Operation): JsonValue => {
  const missing = (verb: string, what = 'path', raw = op.rawPath): ApiError =>
    notApplicable(`${verb} operation does not apply: doc is missing ${what}: "${raw}": missing value`, raw);

  const add = (target: JsonValue, tokens: readonly string[], value: JsonValue, verb: string): JsonValue => {
    if (tokens.length === 0) return value;
    const parent = parentOf(target, tokens);
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) {
      const index = arrayIndex(last, parent.length, true);
      if (index === undefined) {
        throw notApplicable(`Unable to access invalid index: ${last}: invalid index referenced`, op.rawPath);
      }
      parent.splice(index, 0, value);
    } else if (isJsonObject(parent)) setOwn(parent, last, value);
    else throw missing(verb);
    return target;
  };

  const remove = (target: JsonValue, tokens: readonly string[], verb: string, raw: string): JsonValue => {
    const last = tokens[tokens.length - 1];
    const parent = parentOf(target, tokens);
    if (last === undefined || valueAt(target, tokens) === undefined) throw missing(verb, 'path', raw);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (isJsonObject(parent)) delete parent[last];
    return target;
  };

  switch (op.op) {
    case 'add':
      return add(doc, op.path, structuredClone(op.value!), 'add');
    case 'remove':
      return remove(doc, op.path, 'remove', op.rawPath);
    case 'replace':
      if (valueAt(doc, op.path) === undefined) throw missing('replace', 'key');
      if (op.path.length === 0) return structuredClone(op.value!);
      return add(remove(doc, op.path, 'replace', op.rawPath), op.path, structuredClone(op.value!), 'replace');
    case 'test': {
      const actual = valueAt(doc, op.path);
      // A missing member compares as null, as in the library the kube-apiserver uses.
      if (!sameJson(actual === undefined ? null : actual, op.value!)) {
        throw notApplicable(`testing value ${op.rawPath} failed: test failed`, op.rawPath);
      }
      return doc;
    }
    case 'copy': {
      const value = valueAt(doc, op.from!);
      if (value === undefined) throw missing('copy', 'from path', op.rawFrom);
      return add(doc, op.path, structuredClone(value), 'copy');
    }
    case 'move': {
      const from = op.from!;
      const value = valueAt(doc, from);
      if (value === undefined) throw missing('move', 'from path', op.rawFrom);
      const intoItself = from.length < op.path.length && from.every((t, i) => op.path[i] === t);
      if (intoItself) throw notApplicable(`move operation cannot move "${op.rawFrom}" into its own child`, op.rawPath);
      if (from.length === op.path.length && from.every((t, i) => op.path[i] === t)) return doc;
      return add(remove(doc, from, 'move', op.rawFrom!), op.path, value, 'move');
    }
  }
};

/** Applies the RFC 6902 operation list `ops` to `target`; neither input is modified. */
export const applyJsonPatch = (target: JsonValue, ops: unknown): JsonValue =>
  parseOperations(ops).reduce<JsonValue>(applyOne, structuredClone(target));
