/**
 * Label and field selectors as the kube-apiserver parses them from the `labelSelector` and
 * `fieldSelector` query parameters, and metav1.LabelSelector objects (Deployment spec.selector, ...).
 * Grammar and error wording follow apimachinery's labels and fields packages.
 */
import { ApiError } from './errors.js';
import type { JsonObject, JsonValue } from './types.js';
import { isJsonObject } from './types.js';

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and unique for in/notin; one value for =, ==, !=, gt, lt; none for exists and !. */
  values: string[];
}

/** An AND of requirements, sorted by key (as upstream, so rendering is deterministic). No requirements = everything. */
export interface LabelSelector {
  requirements: LabelRequirement[];
}

/** metav1.LabelSelector as it appears in objects. */
export interface MetaLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

// ---- validation (apimachinery util/validation) ----

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const QUALIFIED_NAME_HELP =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric " +
  "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is " +
  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Problems with a label key (a qualified name: optional DNS subdomain prefix and '/', then a name). */
export const labelKeyErrors = (key: string): string[] => {
  const parts = key.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${QUALIFIED_NAME_HELP} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errors: string[] = [];
  const name = parts[parts.length - 1]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') errors.push('prefix part must be non-empty');
    else if (prefix.length > 253) errors.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) {
      errors.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
          "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
          "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
    }
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (name !== '' && !QUALIFIED_NAME.test(name)) errors.push(`name part ${QUALIFIED_NAME_HELP}`);
  return errors;
};

/** Problems with a label value (empty is allowed). */
export const labelValueErrors = (value: string): string[] => {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    errors.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must " +
        "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used " +
        "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return errors;
};

const INTEGER = /^[+-]?[0-9]+$/;

/** Checks a requirement as apimachinery's NewRequirement does; returns the problems found. */
const requirementErrors = (r: LabelRequirement): string[] => {
  const errors: string[] = [];
  const keyErrors = labelKeyErrors(r.key);
  if (keyErrors.length) errors.push(`key: Invalid value: "${r.key}": ${keyErrors.join('; ')}`);
  const shown = `[]string{${r.values.map((v) => `"${v}"`).join(', ')}}`;
  if ((r.operator === 'in' || r.operator === 'notin') && r.values.length === 0) {
    errors.push(`values: Invalid value: ${shown}: for 'in', 'notin' operators, values set can't be empty`);
  }
  if ((r.operator === 'exists' || r.operator === '!') && r.values.length !== 0) {
    errors.push(`values: Invalid value: ${shown}: values set must be empty for exists and does not exist`);
  }
  if (r.operator === 'gt' || r.operator === 'lt') {
    r.values.forEach((v, i) => {
      if (!INTEGER.test(v)) {
        errors.push(`values[${i}]: Invalid value: "${v}": for 'Gt', 'Lt' operators, the value must be an integer`);
      }
    });
  }
  r.values.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length) errors.push(`values[${i}][${r.key}]: Invalid value: "${v}": ${valueErrors.join('; ')}`);
  });
  return errors;
};

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

const byKey = (a: LabelRequirement, b: LabelRequirement): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

// ---- the query-string syntax ----

type TokenKind = 'id' | 'op' | '(' | ')' | ',' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOLS = new Set(['=', '==', '!=', '!', '>', '<', '(', ')', ',']);
const isSpace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

const tokenize = (input: string): Token[] => {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    while (pos < input.length && isSpace(input[pos]!)) pos++;
    if (pos >= input.length) {
      tokens.push({ kind: 'end', text: '' });
      return tokens;
    }
    if (SPECIAL.has(input[pos]!)) {
      // Longest symbol wins: '!=' and '==' before '!' and '='.
      const two = input.slice(pos, pos + 2);
      const text = SYMBOLS.has(two) ? two : input[pos]!;
      pos += text.length;
      tokens.push({ kind: text === '(' || text === ')' || text === ',' ? text : 'op', text });
      continue;
    }
    const start = pos;
    while (pos < input.length && !SPECIAL.has(input[pos]!) && !isSpace(input[pos]!)) pos++;
    tokens.push({ kind: 'id', text: input.slice(start, pos) });
  }
};

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';
const EXACT_OPERATORS: Record<string, LabelOperator> = { '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' };

class SelectorSyntaxError extends Error {}

const parseRequirements = (input: string): LabelRequirement[] => {
  const tokens = tokenize(input);
  let at = 0;
  const peek = (): Token => tokens[at]!;
  const next = (): Token => tokens[at++]!;
  const fail = (message: string): never => {
    throw new SelectorSyntaxError(message);
  };
  const isStart = (t: Token): boolean => t.kind === 'id' || t.text === '!';

  const parseValues = (): string[] => {
    const open = next();
    if (open.kind !== '(') fail(`found '${open.text}' expected: '('`);
    const values: string[] = [];
    let expectValue = true;
    for (;;) {
      const t = next();
      if (t.kind === ')') {
        if (expectValue) values.push('');
        return values;
      }
      if (t.kind === ',') {
        if (expectValue) values.push('');
        expectValue = true;
      } else if (t.kind === 'id' && expectValue) {
        values.push(t.text);
        expectValue = false;
      } else fail(t.kind === 'id' ? `found '${t.text}', expected: ',' or ')'` : `found '${t.text}', expected: ',', or identifier`);
    }
  };

  const parseRequirement = (): LabelRequirement => {
    let first = next();
    const negated = first.text === '!';
    if (negated) first = next();
    if (first.kind !== 'id') fail(`found '${first.text}', expected: identifier`);
    const key = first.text;
    const keyErrors = labelKeyErrors(key);
    if (keyErrors.length) fail(`Invalid value: "${key}": ${keyErrors.join('; ')}`);
    if (negated || peek().kind === 'end' || peek().kind === ',') {
      return { key, operator: negated ? '!' : 'exists', values: [] };
    }
    const op = next();
    if (op.kind === 'id' && (op.text === 'in' || op.text === 'notin')) {
      return { key, operator: op.text, values: sortedUnique(parseValues()) };
    }
    const operator = op.kind === 'op' ? EXACT_OPERATORS[op.text] : undefined;
    if (!operator) return fail(`found '${op.text}', expected: ${BINARY_OPERATORS}`);
    const value = peek();
    if (value.kind === 'end' || value.kind === ',') return { key, operator, values: [''] };
    next();
    if (value.kind !== 'id') fail(`found '${value.text}', expected: identifier`);
    return { key, operator, values: [value.text] };
  };

  const requirements: LabelRequirement[] = [];
  if (peek().kind === 'end') return requirements;
  if (!isStart(peek())) fail(`found '${peek().text}', expected: !, identifier, or 'end of string'`);
  for (;;) {
    let requirement: LabelRequirement;
    try {
      requirement = parseRequirement();
    } catch (e) {
      throw e instanceof SelectorSyntaxError ? new SelectorSyntaxError(`unable to parse requirement: ${e.message}`) : e;
    }
    const errors = requirementErrors(requirement);
    if (errors.length) {
      fail(`unable to parse requirement: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`);
    }
    requirements.push(requirement);
    const sep = next();
    if (sep.kind === 'end') return requirements.sort(byKey);
    if (sep.kind !== ',') fail(`found '${sep.text}', expected: ',' or 'end of string'`);
    if (!isStart(peek())) fail(`found '${peek().text}', expected: identifier after ','`);
  }
};

/** Parses a `labelSelector` query parameter. Invalid syntax throws ApiError BadRequest naming the selector. */
export const parseLabelSelector = (selector: string): LabelSelector => {
  try {
    return { requirements: parseRequirements(selector) };
  } catch (e) {
    if (e instanceof SelectorSyntaxError) throw new ApiError('BadRequest', `invalid label selector "${selector}": ${e.message}`);
    throw e;
  }
};

const requirementMatches = (r: LabelRequirement, labels: Record<string, string>): boolean => {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key]! : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !INTEGER.test(value!) || r.values.length !== 1) return false;
      const actual = BigInt(value!);
      const bound = BigInt(r.values[0]!);
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
};

/** Whether `labels` satisfy every requirement of `selector` (missing labels = no labels). */
export const matchesLabels = (selector: LabelSelector, labels: Record<string, string> | undefined): boolean =>
  selector.requirements.every((r) => requirementMatches(r, labels ?? {}));

const META_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * A metav1.LabelSelector as a selector (matchLabels become `=` requirements). An empty one selects
 * everything. An unknown operator or invalid key/value throws ApiError BadRequest.
 */
export const labelSelectorFromObject = (selector: MetaLabelSelector): LabelSelector => {
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, operator: '=', values: [value] });
  }
  for (const expression of selector.matchExpressions ?? []) {
    const operator = META_OPERATORS[expression.operator];
    if (!operator) throw new ApiError('BadRequest', `"${expression.operator}" is not a valid label selector operator`);
    const values = operator === 'in' || operator === 'notin' ? sortedUnique(expression.values ?? []) : [];
    if ((operator === 'exists' || operator === '!') && (expression.values ?? []).length) {
      throw new ApiError('BadRequest', `values: Invalid value: ${JSON.stringify(expression.values)}: values set must be empty for exists and does not exist`);
    }
    requirements.push({ key: expression.key, operator, values });
  }
  for (const r of requirements) {
    const errors = requirementErrors(r);
    if (errors.length) throw new ApiError('BadRequest', errors.join(', '));
  }
  return { requirements: requirements.sort(byKey) };
};

const renderRequirement = (r: LabelRequirement): string => {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0] ?? ''}`;
    case 'lt':
      return `${r.key}<${r.values[0] ?? ''}`;
    default:
      return `${r.key}${r.operator}${r.values[0] ?? ''}`;
  }
};

/** Renders a selector in the query-string syntax (`app=podinfo,tier in (a,b)`); '' selects everything. */
export const labelSelectorToString = (selector: LabelSelector | MetaLabelSelector): string => {
  const parsed = 'requirements' in selector ? selector : labelSelectorFromObject(selector);
  return parsed.requirements.map(renderRequirement).join(',');
};

// ---- field selectors ----

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  field: string;
  operator: FieldOperator;
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** Splits on commas that are not escaped with a backslash. */
const splitTerms = (selector: string): string[] => {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    if (selector[i] === '\\') i++;
    else if (selector[i] === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
};

const FIELD_OPERATORS: FieldOperator[] = ['!=', '==', '='];

const splitTerm = (term: string): [string, FieldOperator, string] | undefined => {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    for (const op of FIELD_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
};

/** Undoes the `\\`, `\,` and `\=` escapes; anything else escaped, or a bare ',' or '=', is an error. */
const unescapeValue = (value: string): string => {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\') {
      const escaped = value[i + 1];
      if (escaped !== '\\' && escaped !== ',' && escaped !== '=') {
        throw new ApiError('BadRequest', `invalid escape sequence: ${value.slice(i, i + 2)}`);
      }
      out += escaped;
      i++;
    } else if (ch === ',' || ch === '=') {
      throw new ApiError('BadRequest', `invalid field selector: unescaped '${ch}' in value: ${value}`);
    } else out += ch;
  }
  return out;
};

/** Parses a `fieldSelector` query parameter (`metadata.name=x,status.phase!=Running`). */
export const parseFieldSelector = (selector: string): FieldSelector => {
  const requirements: FieldRequirement[] = [];
  for (const part of splitTerms(selector)) {
    if (part.trim() === '') continue;
    const split = splitTerm(part);
    const field = split?.[0].trim() ?? '';
    if (!split || field === '') {
      throw new ApiError('BadRequest', `invalid selector: '${selector}'; can't understand '${part}'`);
    }
    requirements.push({ field, operator: split[1], value: unescapeValue(split[2].trim()) });
  }
  return { requirements };
};

/** The value of a dotted field path as a field selector sees it: scalars as strings, missing = ''. */
const fieldValue = (obj: JsonObject, path: string): string => {
  let node: JsonValue | undefined = obj;
  for (const part of path.split('.')) {
    node = isJsonObject(node) && Object.hasOwn(node, part) ? node[part] : undefined;
  }
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  return '';
};

/** Whether `obj` satisfies every requirement of `selector`. */
export const matchesFields = (selector: FieldSelector, obj: JsonObject): boolean =>
  selector.requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator !== '!='));
