/**
 * Flux's post-build variable substitution (`spec.postBuild.substitute` / `substituteFrom`), with the
 * expression language of fluxcd/pkg/envsubst (a fork of drone/envsubst):
 *
 *   ${var}                 the value ("" when unset; an error in strict mode)
 *   ${var:=default}  ${var=default}  ${var:-default}  ${var-default}   the default when unset or empty
 *   ${#var}  ${var^}  ${var^^}  ${var,}  ${var,,}                       length, upper/lower case
 *   ${var:offset}  ${var:offset:length}                                 substring (negative counts from the end)
 *   ${var#glob}  ${var##glob}  ${var%glob}  ${var%%glob}                trim shortest/longest prefix/suffix
 *   ${var/str/rep}  ${var//str/rep}  ${var/#str/rep}  ${var/%str/rep}   replace first/all/prefix/suffix
 *   $${var}                escapes: prints ${var} (every `$$` becomes `$`); $var is left alone
 *
 * `${var:+x}` and `${var:?x}` are refused with an error: Flux documents them as unsupported (its parser
 * silently treats them as defaults, which inverts `:+`).
 *
 * Substitution runs per object on its serialized YAML, as in Flux, and that is deliberate: a value lands
 * in the YAML text before it is parsed, so `replicas: ${count}` becomes the number 3 while
 * `region: "${region}"` stays a string, exactly as a Flux user expects. Working per object is what lets
 * the `kustomize.toolkit.fluxcd.io/substitute: disabled` label or annotation skip one object. The build
 * keeps each document's YAML (with its quoting) for this; an object without it is serialized here.
 */
import { parseDocument, stringify } from 'yaml';
import { FledgeError } from '../api/index.js';
import type { KubeObject } from '../kube/api.js';
import { describe } from './inventory.js';

export const SUBSTITUTE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/substitute';
export const VARIABLE_NAME = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

class SubstitutionError extends Error {}

type Lookup = (name: string) => string | undefined;

/** A recursive-descent evaluator: expressions are evaluated as they are parsed. */
class Evaluator {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly lookup: Lookup,
    private readonly strict: boolean,
  ) {}

  run(): string {
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      const next = this.src[this.pos + 1];
      if (c === '$' && next === '$') {
        out += '$';
        this.pos += 2;
      } else if (c === '$' && next === '{') {
        this.pos += 2;
        out += this.expression();
      } else {
        out += c;
        this.pos += 1;
      }
    }
    return out;
  }

  private fail(rule: string): never {
    throw new SubstitutionError(`bad substitution at offset ${this.pos}: ${rule}`);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private expect(c: string): void {
    if (this.peek() !== c) this.fail(this.peek() === undefined ? 'missing closing brace' : `expected "${c}", found "${this.peek()}"`);
    this.pos += 1;
  }

  private ident(): string {
    const m = /^[\p{L}\p{N}_]+/u.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a variable name after "${"');
    this.pos += m[0].length;
    return m[0];
  }

  /** The variable's value; unset is "" unless strict mode, where only default operators may meet it. */
  private value(name: string, tolerateUnset = false): string {
    const v = this.lookup(name);
    if (v === undefined && this.strict && !tolerateUnset) throw new SubstitutionError(`variable "${name}" is not set (strict mode) and has no default`);
    return v ?? '';
  }

  /** Text up to one of `stops` (not consumed), with nested ${...} evaluated; `escapes` for replace arguments. */
  private arg(stops: string, escapes = false): string {
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('missing closing brace');
      if (stops.includes(c)) return out;
      if (c === '$' && this.peek(1) === '{') {
        this.pos += 2;
        out += this.expression();
      } else if (escapes && ((c === '\\' && (this.peek(1) === '/' || this.peek(1) === '\\')) || (c === '$' && this.peek(1) === '$'))) {
        out += this.peek(1);
        this.pos += 2;
      } else {
        out += c;
        this.pos += 1;
      }
    }
  }

  private expression(): string {
    if (this.peek() === '#') {
      this.pos += 1;
      const name = this.ident();
      this.expect('}');
      return String(Buffer.byteLength(this.value(name), 'utf8'));
    }
    const name = this.ident();
    const op = this.peek();
    if (op === '}') {
      this.pos += 1;
      return this.value(name);
    }
    if (op === ':' && (this.peek(1) === '=' || this.peek(1) === '-')) return this.defaulted(name, 2);
    if (op === '=' || op === '-') return this.defaulted(name, 1);
    if ((op === ':' && (this.peek(1) === '+' || this.peek(1) === '?')) || op === '+' || op === '?') {
      this.fail(`\${${name}${op === ':' ? `:${this.peek(1)}` : op}...} is not supported by Flux's substitution; use \${${name}:=default}`);
    }
    if (op === ':') return this.substring(name);
    if (op === ',' || op === '^') return this.casing(name, op);
    if (op === '/') return this.replace(name);
    if (op === '#' || op === '%') return this.trim(name, op);
    return this.fail(`unexpected "${op ?? 'end of text'}" after variable "${name}"`);
  }

  private defaulted(name: string, opLength: number): string {
    this.pos += opLength;
    const fallback = this.arg('}');
    this.expect('}');
    const v = this.value(name, true);
    return v === '' ? fallback : v;
  }

  private substring(name: string): string {
    this.pos += 1;
    const offsetText = this.arg(':}');
    let lengthText: string | undefined;
    if (this.peek() === ':') {
      this.pos += 1;
      lengthText = this.arg('}');
    }
    this.expect('}');
    const s = this.value(name);
    // Go's strconv.Atoi: an optional sign and digits; anything else leaves the value whole, as in Flux.
    const int = (t: string) => (/^[+-]?\d+$/.test(t) ? Number(t) : undefined);
    let offset = int(offsetText);
    if (offset === undefined) return s;
    if (offset < 0) offset = Math.max(0, s.length + offset);
    if (lengthText === undefined) return s.slice(offset);
    const length = int(lengthText);
    if (length === undefined) return s;
    if (length < 0) return s.length + length < offset ? '' : s.slice(offset, s.length + length);
    return s.slice(offset, offset + length);
  }

  private casing(name: string, op: string): string {
    this.pos += 1;
    const all = this.peek() === op;
    if (all) this.pos += 1;
    this.expect('}');
    const s = this.value(name);
    const f = op === '^' ? (t: string) => t.toUpperCase() : (t: string) => t.toLowerCase();
    if (all) return f(s);
    const first = String.fromCodePoint(s.codePointAt(0) ?? 0);
    return s === '' ? s : f(first) + s.slice(first.length);
  }

  private replace(name: string): string {
    this.pos += 1;
    let mode: '/' | '//' | '/#' | '/%' = '/';
    const m = this.peek();
    if (m === '/' || m === '#' || m === '%') {
      mode = `/${m}` as '//' | '/#' | '/%';
      this.pos += 1;
    }
    const pattern = this.arg('/}', true);
    if (this.peek() !== '/') this.fail(`\${${name}${mode}${pattern}} needs a "/" before the replacement`);
    this.pos += 1;
    const replacement = this.arg('}', true);
    this.expect('}');
    const s = this.value(name);
    switch (mode) {
      case '/':
        return s.replace(pattern, () => replacement);
      case '//':
        return pattern === '' ? s : s.split(pattern).join(replacement);
      case '/#':
        return s.startsWith(pattern) ? replacement + s.slice(pattern.length) : s;
      case '/%':
        return s.endsWith(pattern) ? s.slice(0, s.length - pattern.length) + replacement : s;
    }
  }

  private trim(name: string, op: '#' | '%'): string {
    this.pos += 1;
    const longest = this.peek() === op;
    if (longest) this.pos += 1;
    const pattern = this.arg('}');
    this.expect('}');
    const s = this.value(name);
    const re = globRegExp(pattern);
    // Candidates from longest to shortest, so the first hit is the longest match.
    const cuts = [...Array(s.length).keys()].map((i) => s.length - i);
    const order = longest ? cuts : cuts.reverse();
    for (const n of order) {
      if (op === '#' && re.test(s.slice(0, n))) return s.slice(n);
      if (op === '%' && re.test(s.slice(s.length - n))) return s.slice(0, s.length - n);
    }
    return s;
  }
}

/** Go's path.Match globs: `*` and `?` do not cross `/`, `[...]` classes, `\` escapes. */
const globRegExp = (glob: string): RegExp => {
  let body = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else if (c === '[' && glob.indexOf(']', i + 1) > i + 1) {
      const end = glob.indexOf(']', i + 1);
      const cls = glob.slice(i + 1, end);
      body += `[${cls.startsWith('^') ? `^${cls.slice(1)}` : cls}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) body += glob[++i]!.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    else body += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${body}$`, 's');
};

/**
 * Substitutes variables in one text. Throws FledgeError BuildFailed for a malformed expression or, in
 * strict mode, for a variable that is not set and has no default.
 */
export const substituteText = (text: string, vars: Readonly<Record<string, string>>, opts: { strict?: boolean } = {}): string => {
  try {
    return new Evaluator(text, (n) => (Object.hasOwn(vars, n) ? vars[n] : undefined), opts.strict ?? false).run();
  } catch (e) {
    if (e instanceof SubstitutionError) throw new FledgeError('BuildFailed', `variable substitution failed: ${e.message}`);
    throw e;
  }
};

/** One built object, with the YAML it was read from when the build kept it (preserving its quoting). */
export interface SubstitutionTarget {
  object: KubeObject;
  yaml?: string;
}

const isDisabled = (o: KubeObject): boolean =>
  o.metadata.labels?.[SUBSTITUTE_ANNOTATION] === 'disabled' || o.metadata.annotations?.[SUBSTITUTE_ANNOTATION] === 'disabled';

const reparse = (text: string, subject: string): KubeObject => {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) throw new FledgeError('BuildFailed', `${subject}: the YAML after variable substitution is invalid: ${doc.errors[0]!.message}`);
  const o = doc.toJS({ maxAliasCount: 1000 }) as Partial<KubeObject> | null;
  if (!o || typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string' || o.metadata.name === '') {
    throw new FledgeError('BuildFailed', `${subject}: after variable substitution the object no longer has apiVersion, kind and metadata.name`);
  }
  return o as KubeObject;
};

/**
 * Applies Flux's post-build substitution to every object. As in Flux, nothing happens when no variable is
 * defined at all (set any variable to enable defaults-only manifests); variable names must match
 * ^[_a-zA-Z][_a-zA-Z0-9]*$; newlines are removed from values; objects labelled or annotated
 * `kustomize.toolkit.fluxcd.io/substitute: disabled` are left as they are.
 */
export const substituteManifests = (
  targets: ReadonlyArray<SubstitutionTarget | KubeObject>,
  vars: Readonly<Record<string, string>>,
  opts: { strict?: boolean } = {},
): KubeObject[] => {
  const items = targets.map((t): SubstitutionTarget => ('object' in t && !('apiVersion' in t) ? (t as SubstitutionTarget) : { object: t as KubeObject }));
  const names = Object.keys(vars);
  if (names.length === 0) return items.map((t) => t.object);
  const bad = names.find((n) => !VARIABLE_NAME.test(n));
  if (bad !== undefined) throw new FledgeError('BuildFailed', `variable name "${bad}" is invalid: it must match ${VARIABLE_NAME.source}`);
  const clean: Record<string, string> = {};
  for (const n of names) clean[n] = vars[n]!.replace(/\n/g, '');
  return items.map(({ object, yaml }) => {
    if (isDisabled(object)) return object;
    const text = yaml ?? stringify(object);
    if (!text.includes('$')) return object;
    const subject = describe(object);
    let out: string;
    try {
      out = substituteText(text, clean, opts);
    } catch (e) {
      if (e instanceof FledgeError) throw new FledgeError('BuildFailed', `${subject}: ${e.message}`);
      throw e;
    }
    return reparse(out, subject);
  });
};

/**
 * The variables of a Kustomization: each `substituteFrom` object's data in order (a later one overrides an
 * earlier one; Secret data is base64-decoded), then the inline `substitute` map, which overrides them all.
 */
export const collectVariables = (from: readonly KubeObject[], inline: Readonly<Record<string, string>>): Record<string, string> => {
  const vars: Record<string, string> = {};
  for (const o of from) {
    const data = (o.data ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string') continue;
      vars[k] = o.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
    }
  }
  return { ...vars, ...inline };
};
