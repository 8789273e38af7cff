/**
 * MetricTemplate query rendering: the part of Go's text/template that Flagger's templates use,
 * interpreted (never evaluated as code). An action is `{{ name }}`, `{{ namespace }}`, `{{ target }}`,
 * `{{ service }}`, `{{ ingress }}`, `{{ route }}`, `{{ interval }}`, `{{ variables.key }}`,
 * `{{ index variables "key" }}`, a string literal, or `printf` over those (verbs %s %v %d %%), with
 * pipelines (`{{ target | printf "%s-canary" }}`), trim markers (`{{-`, `-}}`) and comments.
 *
 * Every value taken from the model is escaped for the place it lands in: inside a "..." or '...'
 * string its quote and backslashes are escaped, inside a `...` raw string a backtick is refused, and
 * outside any string only a plain token ([A-Za-z0-9_.:-]) is accepted. Control characters
 * (newlines included) are refused everywhere. So no value can end a label matcher early or add to the
 * query; what the template author wrote is kept as written.
 */
import type { Canary, CanaryMetric } from '../api/index.js';
import { FledgeError } from '../api/index.js';

/** The values a query template can use (Flagger's MetricTemplateModel). */
export interface TemplateModel {
  name: string;
  namespace: string;
  target: string;
  service: string;
  ingress: string;
  route: string;
  interval: string;
  variables: Record<string, string>;
}

export const MODEL_FUNCTIONS = ['name', 'namespace', 'target', 'service', 'ingress', 'route', 'interval'] as const;
type ModelFunction = (typeof MODEL_FUNCTIONS)[number];

/** The model of one metric of a canary, with Flagger's fallbacks to the target's name. */
export const templateModel = (canary: Canary, metric: Pick<CanaryMetric, 'interval' | 'templateVariables'>): TemplateModel => {
  const target = canary.spec.targetRef.name;
  return {
    name: canary.metadata.name,
    namespace: canary.metadata.namespace,
    target,
    service: canary.spec.service.name ?? target,
    ingress: canary.spec.ingressRef?.name ?? target,
    route: canary.spec.routeRef?.name ?? target,
    interval: metric.interval,
    variables: { ...metric.templateVariables },
  };
};

const renderError = (message: string): FledgeError => new FledgeError('InvalidSpec', `query template: ${message}`);

// --- where a value lands -------------------------------------------------------------------------

type Quote = 'none' | '"' | "'" | '`';

interface QuoteState {
  quote: Quote;
  /** A backslash inside a quoted string is waiting for the character it escapes. */
  escaping: boolean;
}

/** Follows the template's own text to know whether the next action lands inside a string. */
const advanceQuotes = (state: QuoteState, text: string): QuoteState => {
  let { quote, escaping } = state;
  for (const ch of text) {
    if (escaping) {
      escaping = false;
    } else if (quote === 'none') {
      if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    } else if (ch === '\\' && quote !== '`') {
      escaping = true;
    } else if (ch === quote) {
      quote = 'none';
    }
  }
  return { quote, escaping };
};

/** Newlines and other control characters: no query language lets a value carry them safely. */
const hasControl = (value: string): boolean =>
  [...value].some((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
  });
const PLAIN_TOKEN = /^[A-Za-z0-9_.:-]*$/;

/** A model value made safe for its place in the query, or an error naming it. */
const escapeValue = (value: string, label: string, state: QuoteState): string => {
  if (hasControl(value)) throw renderError(`${label} must not contain newlines or control characters`);
  if (state.escaping) throw renderError(`${label} is placed right after a backslash`);
  switch (state.quote) {
    case '"':
    case "'":
      return value.replace(/\\/g, '\\\\').replaceAll(state.quote, `\\${state.quote}`);
    case '`':
      if (value.includes('`')) throw renderError(`${label} must not contain a backtick inside a raw string`);
      return value;
    case 'none':
      if (!PLAIN_TOKEN.test(value)) {
        throw renderError(`${label} ${JSON.stringify(value)} is used outside a quoted string, where only letters, digits and _.:- are allowed`);
      }
      return value;
  }
};

// --- actions -------------------------------------------------------------------------------------

type Token = { kind: 'word'; text: string } | { kind: 'string'; text: string } | { kind: 'pipe' };

const GO_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', "'": "'" };

/** Reads a Go string literal starting at `start`; returns its value and the index after it. */
const readStringLiteral = (src: string, start: number): { value: string; end: number } => {
  const open = src[start];
  let value = '';
  for (let i = start + 1; i < src.length; i++) {
    const ch = src[i] as string;
    if (ch === open) return { value, end: i + 1 };
    if (open === '"' && ch === '\\') {
      const next = src[i + 1] ?? '';
      const unescaped = GO_ESCAPES[next];
      if (unescaped === undefined) throw renderError(`unsupported escape \\${next} in string literal`);
      value += unescaped;
      i++;
    } else {
      if (open === '"' && ch === '\n') throw renderError('unterminated string literal');
      value += ch;
    }
  }
  throw renderError('unterminated string literal');
};

const tokenize = (action: string): Token[] => {
  const tokens: Token[] = [];
  for (let i = 0; i < action.length; ) {
    const ch = action[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '|') {
      tokens.push({ kind: 'pipe' });
      i++;
    } else if (ch === '"' || ch === '`') {
      const { value, end } = readStringLiteral(action, i);
      tokens.push({ kind: 'string', text: value });
      i = end;
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(action.slice(i));
      if (!match) throw renderError(`unsupported syntax "${action.trim()}"`);
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
};

/** A fragment of an action's output: text the author wrote (kept) or a model value (escaped where it lands). */
interface Piece {
  text: string;
  trusted: boolean;
  label: string;
}

const lookup = (model: TemplateModel, word: string): Piece => {
  if ((MODEL_FUNCTIONS as readonly string[]).includes(word)) {
    return { text: model[word as ModelFunction], trusted: false, label: word };
  }
  const variable = /^variables\.(.+)$/.exec(word);
  if (variable) return variableValue(model, variable[1] as string);
  if (word === 'variables') throw renderError('variables needs a key: variables.<key>');
  throw renderError(`function "${word}" not defined (known: ${MODEL_FUNCTIONS.join(', ')}, variables.<key>, index, printf)`);
};

const variableValue = (model: TemplateModel, key: string): Piece => {
  if (!Object.hasOwn(model.variables, key)) {
    throw renderError(`variables.${key} is not set: add "${key}" to the metric's templateVariables`);
  }
  return { text: model.variables[key] as string, trusted: false, label: `variables.${key}` };
};

const trusted = (text: string): Piece => ({ text, trusted: true, label: 'literal' });

/** Go's fmt for the verbs a query needs; the arguments stay pieces, escaped once placed. */
const printf = (format: string, args: Piece[][]): Piece[] => {
  const out: Piece[] = [];
  let literal = '';
  let next = 0;
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] as string;
    if (ch !== '%') {
      literal += ch;
      continue;
    }
    const verb = format[++i];
    if (verb === '%') {
      literal += '%';
    } else if (verb === 's' || verb === 'v' || verb === 'd') {
      const arg = args[next++];
      if (!arg) throw renderError(`printf: missing argument for %${verb}`);
      out.push(trusted(literal), ...arg);
      literal = '';
    } else {
      throw renderError(`printf: unsupported verb %${verb ?? ''} (use %s, %v, %d or %%)`);
    }
  }
  if (next < args.length) throw renderError(`printf: ${args.length - next} extra argument(s)`);
  out.push(trusted(literal));
  return out;
};

/** One command of a pipeline. `piped` is the previous command's result, passed last as Go does. */
const runCommand = (tokens: Token[], model: TemplateModel, piped: Piece[] | undefined): Piece[] => {
  const [head, ...rest] = tokens;
  const argument = (token: Token): Piece => {
    if (token.kind === 'string') return trusted(token.text);
    if (token.kind === 'word') return lookup(model, token.text);
    throw renderError('unexpected "|"');
  };
  if (!head) throw renderError('empty command');
  if (head.kind === 'word' && head.text === 'printf') {
    const [format, ...args] = rest;
    if (!format || format.kind !== 'string') throw renderError('printf needs a format string first');
    const values = args.map((a) => [argument(a)]);
    if (piped !== undefined) values.push(piped);
    return printf(format.text, values);
  }
  if (head.kind === 'word' && head.text === 'index') {
    const [collection, key] = rest;
    if (collection?.kind !== 'word' || collection.text !== 'variables' || key?.kind !== 'string' || rest.length !== 2) {
      throw renderError('index is supported as: index variables "key"');
    }
    if (piped !== undefined) throw renderError('index cannot take a piped value');
    return [variableValue(model, key.text)];
  }
  if (rest.length > 0 || piped !== undefined) {
    // An unknown name is reported as such before its arguments are.
    if (head.kind === 'word') lookup(model, head.text);
    throw renderError(`${head.kind === 'word' ? `"${head.text}"` : 'a string literal'} takes no arguments`);
  }
  return [argument(head)];
};

const evaluate = (action: string, model: TemplateModel): Piece[] => {
  const commands: Token[][] = [[]];
  for (const token of tokenize(action)) {
    if (token.kind === 'pipe') commands.push([]);
    else commands[commands.length - 1]?.push(token);
  }
  let result: Piece[] | undefined;
  for (const command of commands) result = runCommand(command, model, result);
  return result ?? [];
};

// --- the template ------------------------------------------------------------------------------

/** Finds the `}}` closing an action that starts at `from`, skipping string literals inside it. */
const actionEnd = (src: string, from: number): number => {
  for (let i = from; i < src.length; i++) {
    const ch = src[i];
    if (ch === '"' || ch === '`') {
      i = readStringLiteral(src, i).end - 1;
    } else if (ch === '}' && src[i + 1] === '}') {
      return i;
    }
  }
  throw renderError('unclosed action: "{{" without "}}"');
};

const isSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

/**
 * Renders a query template. Throws FledgeError('InvalidSpec') naming what is wrong: an unknown
 * function, a variable missing from templateVariables, unsupported syntax, or a value that could not
 * be placed safely.
 */
export const renderQuery = (template: string, model: TemplateModel): string => {
  let out = '';
  let state: QuoteState = { quote: 'none', escaping: false };
  let trimNext = false;
  for (let pos = 0; pos < template.length; ) {
    const open = template.indexOf('{{', pos);
    let text = template.slice(pos, open === -1 ? undefined : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      out += text;
      break;
    }
    const close = actionEnd(template, open + 2);
    let inner = template.slice(open + 2, close);
    if (inner.startsWith('-') && isSpace(inner[1])) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = inner.endsWith('-') && isSpace(inner[inner.length - 2]);
    if (trimNext) inner = inner.slice(0, -1);
    const body = inner.trim();
    const pieces = body.startsWith('/*') && body.endsWith('*/') ? [] : evaluate(body, model);
    for (const piece of [trusted(text), ...pieces]) {
      // The quote state follows what is written, so a value is escaped for where it really lands.
      const placed = piece.trusted ? piece.text : escapeValue(piece.text, piece.label, state);
      out += placed;
      state = advanceQuotes(state, placed);
    }
    pos = close + 2;
  }
  return out;
};

/** The query as a provider sends it and a person reads it: whitespace runs collapsed. */
export const compactQuery = (query: string): string => query.replace(/\s+/g, ' ').trim();
