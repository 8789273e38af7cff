/**
 * SemVer ranges for `GitRepository.spec.ref.semver`, with the constraint syntax Flux takes from
 * Masterminds/semver v3: comparisons (`=`, `!=`, `>`, `>=`, `<`, `<=`), `~` and `^` ranges, `x`/`*`
 * wildcards and partial versions, hyphen ranges (`1.2 - 1.4.5`), `,` or spaces for AND and `||` for OR.
 * As there, a pre-release version only matches a range that itself names a pre-release.
 */

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** A tag as a version (`v1.2.3`, `1.2`, `2.0.0-rc.1+build`), or undefined when it is not one. */
export const parseVersion = (text: string): SemVer | undefined => {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: m[4] ? m[4].split('.') : [] };
};

const compareIdentifiers = (a: string, b: string): number => {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
};

export const compareVersions = (a: SemVer, b: SemVer): number => {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  // A release sorts after its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareIdentifiers(x, y);
    if (c !== 0) return c;
  }
  return 0;
};

type Test = (v: SemVer) => boolean;

interface Partial {
  parts: number[]; // the numbers given before the first wildcard
  version: SemVer; // the partial filled with zeros
}

const WILDCARD = /^[xX*]$/;

const parsePartial = (text: string): Partial => {
  const bare = text.replace(/^v/, '');
  const [core = '', ...rest] = bare.split('-');
  const fields = core.split('+')[0]!.split('.');
  const parts: number[] = [];
  for (const f of fields) {
    if (WILDCARD.test(f)) break;
    if (!/^\d+$/.test(f)) throw new Error(`"${text}" is not a version`);
    parts.push(Number(f));
  }
  if (parts.length > 3) throw new Error(`"${text}" is not a version`);
  const version: SemVer = { major: parts[0] ?? 0, minor: parts[1] ?? 0, patch: parts[2] ?? 0, prerelease: rest.length > 0 ? rest.join('-').split('.') : [] };
  return { parts, version };
};

const bump = (p: Partial, level: number): SemVer => {
  const n = [p.version.major, p.version.minor, p.version.patch];
  n[level] = (n[level] ?? 0) + 1;
  for (let i = level + 1; i < 3; i++) n[i] = 0;
  return { major: n[0]!, minor: n[1]!, patch: n[2]!, prerelease: [] };
};

const atLeast = (v: SemVer): Test => (x) => compareVersions(x, v) >= 0;
const below = (v: SemVer): Test => (x) => compareVersions(x, v) < 0;
const both = (a: Test, b: Test): Test => (x) => a(x) && b(x);

/** The versions a partial stands for: `1.2` is 1.2.x, `1` is 1.x.x, `*` is everything. */
const rangeOf = (p: Partial): Test =>
  p.parts.length === 0 ? () => true : p.parts.length === 3 ? (x) => compareVersions(x, p.version) === 0 : both(atLeast(p.version), below(bump(p, p.parts.length - 1)));

const caret = (p: Partial): Test => {
  // ^1.2.3 := >=1.2.3 <2.0.0; ^0.2.3 := <0.3.0; ^0.0.3 := <0.0.4 (the first non-zero part is fixed).
  const [major = 0, minor = 0] = p.parts;
  const level = major > 0 || p.parts.length === 1 ? 0 : minor > 0 || p.parts.length === 2 ? 1 : 2;
  return p.parts.length === 0 ? () => true : both(atLeast(p.version), below(bump(p, level)));
};

const tilde = (p: Partial): Test =>
  // ~1.2.3 := >=1.2.3 <1.3.0; ~1 := >=1.0.0 <2.0.0.
  p.parts.length === 0 ? () => true : both(atLeast(p.version), below(bump(p, p.parts.length === 1 ? 0 : 1)));

const comparison = (term: string): Test => {
  const m = /^(!=|>=|=>|<=|=<|~>|[=<>~^])?\s*(.+)$/.exec(term);
  if (!m) throw new Error(`"${term}" is not a constraint`);
  const op = m[1] ?? '=';
  const p = parsePartial(m[2]!);
  const whole = p.parts.length === 0 ? undefined : p;
  switch (op) {
    case '=':
      return rangeOf(p);
    case '!=':
      return (x) => !rangeOf(p)(x);
    case '>':
      // >1.2 means above every 1.2.x.
      return whole ? (p.parts.length === 3 ? (x) => compareVersions(x, p.version) > 0 : atLeast(bump(p, p.parts.length - 1))) : () => false;
    case '>=':
    case '=>':
      return atLeast(p.version);
    case '<':
      return below(p.version);
    case '<=':
    case '=<':
      return whole && p.parts.length < 3 ? below(bump(p, p.parts.length - 1)) : (x) => compareVersions(x, p.version) <= 0;
    case '~':
    case '~>':
      return tilde(p);
    case '^':
      return caret(p);
    default:
      throw new Error(`"${term}" has an unknown operator`);
  }
};

const andGroup = (group: string): { test: Test; pre: boolean } => {
  // Hyphen ranges first, so their spaces are not read as AND.
  const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(group);
  if (hyphen) {
    const lo = parsePartial(hyphen[1]!);
    const hi = parsePartial(hyphen[2]!);
    const upper: Test = hi.parts.length < 3 && hi.parts.length > 0 ? below(bump(hi, hi.parts.length - 1)) : (x) => compareVersions(x, hi.version) <= 0;
    return { test: both(atLeast(lo.version), upper), pre: lo.version.prerelease.length + hi.version.prerelease.length > 0 };
  }
  const terms = group
    .replace(/(!=|>=|=>|<=|=<|~>|[=<>~^])\s+/g, '$1')
    .split(/[\s,]+/)
    .filter(Boolean);
  if (terms.length === 0) throw new Error('empty constraint');
  const tests = terms.map(comparison);
  return { test: (x) => tests.every((t) => t(x)), pre: terms.some((t) => /-/.test(t)) };
};

/** A predicate for the constraint; throws an Error naming the bad part when it does not parse. */
export const parseRange = (constraint: string): ((v: SemVer) => boolean) => {
  const groups = constraint.split('||').map(andGroup);
  return (v) => groups.some((g) => (v.prerelease.length === 0 || g.pre) && g.test(v));
};

/** The tag holding the highest version within the range, or undefined when none does. */
export const highestMatching = (tags: readonly string[], constraint: string): string | undefined => {
  const inRange = parseRange(constraint);
  let best: { tag: string; version: SemVer } | undefined;
  for (const tag of [...tags].sort()) {
    const version = parseVersion(tag);
    if (!version || !inRange(version)) continue;
    if (!best || compareVersions(version, best.version) > 0) best = { tag, version };
  }
  return best?.tag;
};
