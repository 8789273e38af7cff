/**
 * Status causes worded like kube-apiserver's field errors (k8s.io/apimachinery util/validation/field):
 * the message is the error body (`Invalid value: 200: <detail>`), the field the dotted path. The details
 * come from kube-openapi's schema validator (`spec.x in body should be ...`).
 */
import type { StatusCause } from '../errors.js';
import type { JsonValue } from '../types.js';
import { goNumber, goQuote, goSharpV, goJson } from './gofmt.js';

/** Errors not tied to a field (composite anyOf/oneOf/allOf/not) carry a nil path, printed `<nil>`. */
export const fieldOf = (path: string): string => (path === '' ? '<nil>' : path);

/** How field.Error prints the offending value. */
export const badValue = (value: JsonValue | undefined): string => {
  if (value === null || value === undefined) return goQuote('null');
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  return goSharpV(value);
};

const cause = (reason: string, path: string, message: string): StatusCause => ({
  reason,
  message,
  field: fieldOf(path),
});

export const invalidCause = (path: string, value: JsonValue | undefined, detail: string): StatusCause =>
  cause('FieldValueInvalid', path, `Invalid value: ${badValue(value)}: ${detail}`);

export const typeInvalidCause = (path: string, value: JsonValue | undefined, detail: string): StatusCause =>
  cause('FieldValueTypeInvalid', path, `Invalid value: ${badValue(value)}: ${detail}`);

export const requiredCause = (path: string): StatusCause => cause('FieldValueRequired', path, 'Required value');

export const notSupportedCause = (path: string, value: JsonValue, allowed: JsonValue[]): StatusCause => {
  const quoted = allowed.map((v) => goQuote(typeof v === 'string' ? v : goJson(v)));
  const detail = quoted.length > 0 ? `: supported values: ${quoted.join(', ')}` : '';
  return cause('FieldValueNotSupported', path, `Unsupported value: ${badValue(value)}${detail}`);
};

export const tooLongCause = (path: string, max: number): StatusCause =>
  cause('FieldValueTooLong', path, `Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`);

export const tooManyCause = (path: string, actual: number, max: number): StatusCause =>
  cause('FieldValueTooMany', path, `Too many: ${actual}: must have at most ${max} items`);

export const duplicateCause = (path: string, value: JsonValue): StatusCause =>
  cause('FieldValueDuplicate', path, `Duplicate value: ${badValue(value)}`);

/** A composite (anyOf/oneOf/allOf/not) failure: no field, empty value, quoted path in the detail. */
export const compositeCause = (path: string, detail: string): StatusCause =>
  invalidCause('', '', `${goQuote(path)} ${detail}`);
