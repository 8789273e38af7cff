/**
 * The subset of Kubernetes JSONPath that CRD additionalPrinterColumns and kubectl use:
 * `.status.phase`, `.spec.x[0]`, `.spec.x[-1]`, `.spec.x[1:3]`, `.spec.x[*].name`, `.metadata.labels.*`,
 * `['app.kubernetes.io/name']` (or `app\.kubernetes\.io/name`), `..name`, and filters
 * `[?(@.type=="Ready")]` with == != < <= > >= or bare existence `[?(@.ready)]`. An expression may be
 * wrapped in `{...}` and start with `$`. As in the apiserver (AllowMissingKeys), a missing field or an
 * out-of-range index yields no result rather than an error, and a field step does not reach into lists.
 */
import type { JsonValue } from './types.js';
import { isJsonObject } from './types.js';

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

type Literal = string | number | boolean | null;
type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** One parsed step of a JSONPath expression. */
export type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'descend' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'filter'; left: Step[]; op?: Operator; right?: { literal: Literal } | { path: Step[] } };

/** Evaluates `path` against `obj`, returning every match in document order. */
export const evaluateJsonPath = (obj: JsonValue, path: string): JsonValue[] => evaluate(obj, parseJsonPath(path));

/** Parses a JSONPath expression once, to evaluate it many times with `evaluate`. */
export const parseJsonPath = (path: string): Step[] => {
  let text = path.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  const parser = new Parser(text);
  const steps = parser.steps(false);
  if (!parser.done()) throw new JsonPathError(`unexpected ${JSON.stringify(parser.rest())} in JSONPath ${JSON.stringify(path)}`);
  return steps;
};

export const evaluate = (obj: JsonValue, steps: readonly Step[]): JsonValue[] =>
  steps.reduce<JsonValue[]>((current, step) => current.flatMap((value) => applyStep(value, step)), [obj]);

const FIELD_STOP = new Set(['.', '[', ']', '(', ')', '{', '}', ' ', '=', '!', '<', '>', ',', '"', "'", '@']);
const OPERATORS: Operator[] = ['==', '!=', '<=', '>=', '<', '>'];

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  rest(): string {
    return this.text.slice(this.pos);
  }

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private fail(what: string): never {
    throw new JsonPathError(`${what} at position ${this.pos} in JSONPath ${JSON.stringify(this.text)}`);
  }

  /** Steps until the end, or (inside a filter) until an operator or `)`. */
  steps(inFilter: boolean): Step[] {
    const steps: Step[] = [];
    while (!this.done()) {
      const c = this.peek();
      if (inFilter && (c === ')' || c === ' ' || OPERATORS.some((op) => this.text.startsWith(op, this.pos)))) break;
      if (c === '.' && this.peek(1) === '.') {
        this.pos += 2;
        steps.push({ kind: 'descend' });
        if (this.peek() !== '[') steps.push(this.afterDot());
      } else if (c === '.') {
        this.pos += 1;
        if (this.done() || this.peek() === '[') continue; // `.` alone is the current object
        steps.push(this.afterDot());
      } else if (c === '[') {
        steps.push(this.bracket());
      } else if (steps.length === 0 && !inFilter) {
        steps.push(this.afterDot()); // tolerate a missing leading dot: `status.phase`
      } else {
        this.fail(`unexpected ${JSON.stringify(c)}`);
      }
    }
    return steps;
  }

  private afterDot(): Step {
    if (this.peek() === '*') {
      this.pos += 1;
      return { kind: 'wildcard' };
    }
    let name = '';
    while (!this.done() && !FIELD_STOP.has(this.peek())) {
      if (this.peek() === '\\' && this.pos + 1 < this.text.length) this.pos += 1; // `\.` escapes a dot
      name += this.peek();
      this.pos += 1;
    }
    if (name === '') this.fail('expected a field name');
    return { kind: 'field', name };
  }

  private bracket(): Step {
    this.pos += 1; // '['
    const close = (step: Step): Step => {
      this.skipSpaces();
      if (this.peek() !== ']') this.fail('expected "]"');
      this.pos += 1;
      return step;
    };
    this.skipSpaces();
    const c = this.peek();
    if (c === '*') {
      this.pos += 1;
      return close({ kind: 'wildcard' });
    }
    if (c === "'" || c === '"') return close({ kind: 'field', name: this.quoted() });
    if (c === '?') return close(this.filter());
    const end = this.text.indexOf(']', this.pos);
    if (end < 0) this.fail('expected "]"');
    const inner = this.text.slice(this.pos, end).trim();
    this.pos = end;
    const parts = inner.split(':');
    const int = (s: string | undefined): number | undefined => {
      if (s === undefined || s.trim() === '') return undefined;
      if (!/^-?\d+$/.test(s.trim())) this.fail(`invalid array index ${JSON.stringify(inner)}`);
      return Number(s.trim());
    };
    if (parts.length === 1) return close({ kind: 'index', index: int(parts[0]) ?? this.fail('empty array index') });
    if (parts.length > 3) this.fail(`invalid array slice ${JSON.stringify(inner)}`);
    return close({ kind: 'slice', start: int(parts[0]), end: int(parts[1]), step: int(parts[2]) });
  }

  private filter(): Step {
    this.pos += 1; // '?'
    if (this.peek() !== '(') this.fail('expected "(" after "?"');
    this.pos += 1;
    this.skipSpaces();
    const left = this.relativePath();
    this.skipSpaces();
    const op = OPERATORS.find((o) => this.text.startsWith(o, this.pos));
    let step: Step = { kind: 'filter', left };
    if (op) {
      this.pos += op.length;
      this.skipSpaces();
      const right = this.peek() === '@' ? { path: this.relativePath() } : { literal: this.literal() };
      step = { kind: 'filter', left, op, right };
      this.skipSpaces();
    }
    if (this.peek() !== ')') this.fail('expected ")" to end the filter');
    this.pos += 1;
    return step;
  }

  private relativePath(): Step[] {
    if (this.peek() !== '@') this.fail('expected "@" in filter');
    this.pos += 1;
    return this.steps(true);
  }

  private literal(): Literal {
    const c = this.peek();
    if (c === "'" || c === '"') return this.quoted();
    const match = /^(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(this.rest());
    if (!match?.[1]) this.fail('expected a literal');
    this.pos += match[1].length;
    if (match[1] === 'true' || match[1] === 'false') return match[1] === 'true';
    return match[1] === 'null' ? null : Number(match[1]);
  }

  private quoted(): string {
    const quote = this.peek();
    this.pos += 1;
    let out = '';
    while (!this.done() && this.peek() !== quote) {
      if (this.peek() === '\\' && this.pos + 1 < this.text.length) this.pos += 1;
      out += this.peek();
      this.pos += 1;
    }
    if (this.done()) this.fail('unterminated quoted string');
    this.pos += 1;
    return out;
  }

  private skipSpaces(): void {
    while (this.peek() === ' ') this.pos += 1;
  }
}

const childrenOf = (value: JsonValue): JsonValue[] =>
  Array.isArray(value) ? value : isJsonObject(value) ? Object.values(value) : [];

const descendantsOrSelf = (value: JsonValue): JsonValue[] => [value, ...childrenOf(value).flatMap(descendantsOrSelf)];

const sliceOf = (list: JsonValue[], step: Extract<Step, { kind: 'slice' }>): JsonValue[] => {
  const by = step.step ?? 1;
  if (by <= 0) return [];
  const clamp = (n: number): number => Math.min(Math.max(n < 0 ? n + list.length : n, 0), list.length);
  const out: JsonValue[] = [];
  for (let i = clamp(step.start ?? 0); i < clamp(step.end ?? list.length); i += by) out.push(list[i] ?? null);
  return out;
};

const compare = (left: JsonValue, op: Operator, right: JsonValue): boolean => {
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  const bothNumbers = typeof left === 'number' && typeof right === 'number';
  const bothStrings = typeof left === 'string' && typeof right === 'string';
  if (!bothNumbers && !bothStrings) return false;
  const l = left as number | string;
  const r = right as number | string;
  return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
};

const matches = (item: JsonValue, step: Extract<Step, { kind: 'filter' }>): boolean => {
  const left = evaluate(item, step.left);
  if (!step.op || !step.right) return left.length > 0; // bare `@.x`: the field exists
  if (left.length === 0) return false;
  const right = 'literal' in step.right ? [step.right.literal] : evaluate(item, step.right.path);
  if (right.length === 0) return false;
  return compare(left[0] ?? null, step.op, right[0] ?? null);
};

const applyStep = (value: JsonValue, step: Step): JsonValue[] => {
  switch (step.kind) {
    case 'field':
      return isJsonObject(value) && Object.prototype.hasOwnProperty.call(value, step.name) ? [value[step.name] ?? null] : [];
    case 'wildcard':
      return childrenOf(value);
    case 'descend':
      return descendantsOrSelf(value);
    case 'index': {
      if (!Array.isArray(value)) return [];
      const i = step.index < 0 ? step.index + value.length : step.index;
      return i >= 0 && i < value.length ? [value[i] ?? null] : [];
    }
    case 'slice':
      return Array.isArray(value) ? sliceOf(value, step) : [];
    case 'filter':
      return childrenOf(value).filter((item) => matches(item, step));
  }
};
