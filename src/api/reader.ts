/**
 * Reads untyped JSON field by field, checking each value and collecting every problem with its
 * path instead of stopping at the first. Parsers build typed values from what it returns and throw
 * one InvalidSpec error listing all problems at the end. `null` counts as absent, as in Kubernetes.
 */
import type { Problem } from './errors.js';
import { DURATION_RULE, parseDuration } from './duration.js';

export type Fields = Record<string, unknown>;

export const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const childPath = (parent: string, key: string): string => (parent === '' ? key : `${parent}.${key}`);
export const itemPath = (parent: string, index: number): string => `${parent}[${index}]`;

/** Drops keys whose value is undefined, so parsed values hold only what was given or defaulted. */
export const compact = <T extends object>(value: T): T => {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = field;
  return out as T;
};

export interface Duration {
  /** As written, e.g. '1m'; passed on verbatim where a router or provider wants the text. */
  text: string;
  ms: number;
}

interface Presence {
  required?: boolean;
}

export class SpecReader {
  readonly problems: Problem[] = [];
  /** Things Flagger tolerates by changing the spec; not errors, but worth a Warning event. */
  readonly warnings: Problem[] = [];

  report(path: string, rule: string): undefined {
    this.problems.push({ path, rule });
    return undefined;
  }

  warn(path: string, rule: string): void {
    this.warnings.push({ path, rule });
  }

  /** The raw value of a field, treating null as absent and reporting a missing required one. */
  private raw(parent: Fields | undefined, key: string, at: string, presence: Presence): unknown {
    const value = parent?.[key];
    if (value === undefined || value === null) {
      if (presence.required) this.report(childPath(at, key), 'is required');
      return undefined;
    }
    return value;
  }

  object(parent: Fields | undefined, key: string, at: string, presence: Presence = {}): Fields | undefined {
    const value = this.raw(parent, key, at, presence);
    if (value === undefined) return undefined;
    return isFields(value) ? value : this.report(childPath(at, key), 'must be an object');
  }

  string(
    parent: Fields | undefined,
    key: string,
    at: string,
    opts: Presence & { nonEmpty?: boolean; oneOf?: readonly string[] } = {},
  ): string | undefined {
    const path = childPath(at, key);
    const value = this.raw(parent, key, at, opts);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return this.report(path, 'must be a string');
    if ((opts.nonEmpty || opts.required) && value === '') return this.report(path, 'must not be empty');
    if (opts.oneOf && !opts.oneOf.includes(value)) {
      return this.report(path, `must be one of: ${opts.oneOf.filter((v) => v !== '').join(', ')}`);
    }
    return value;
  }

  number(parent: Fields | undefined, key: string, at: string, presence: Presence = {}): number | undefined {
    const value = this.raw(parent, key, at, presence);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.report(childPath(at, key), 'must be a number');
    return value;
  }

  integer(
    parent: Fields | undefined,
    key: string,
    at: string,
    opts: Presence & { min?: number; max?: number } = {},
  ): number | undefined {
    const path = childPath(at, key);
    const value = this.raw(parent, key, at, opts);
    if (value === undefined) return undefined;
    return this.checkInteger(value, path, opts);
  }

  /** Checks an integer that is not a named field, such as a list item. */
  checkInteger(value: unknown, path: string, range: { min?: number; max?: number }): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.report(path, 'must be an integer');
    const { min, max } = range;
    if (min !== undefined && max !== undefined && (value < min || value > max)) {
      return this.report(path, `must be between ${min} and ${max}`);
    }
    if (min !== undefined && value < min) return this.report(path, `must be at least ${min}`);
    if (max !== undefined && value > max) return this.report(path, `must be at most ${max}`);
    return value;
  }

  boolean(parent: Fields | undefined, key: string, at: string): boolean | undefined {
    const value = this.raw(parent, key, at, {});
    if (value === undefined) return undefined;
    return typeof value === 'boolean' ? value : this.report(childPath(at, key), 'must be a boolean');
  }

  /** A list field; absent means empty. */
  list(parent: Fields | undefined, key: string, at: string): unknown[] {
    const value = this.raw(parent, key, at, {});
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.report(childPath(at, key), 'must be a list');
      return [];
    }
    return value;
  }

  /** A list of objects, each handed to `parse` with its own path; items that are not objects are reported. */
  objects<T>(parent: Fields | undefined, key: string, at: string, parse: (item: Fields, path: string) => T): T[] {
    const out: T[] = [];
    this.list(parent, key, at).forEach((item, index) => {
      const path = itemPath(childPath(at, key), index);
      if (isFields(item)) out.push(parse(item, path));
      else this.report(path, 'must be an object');
    });
    return out;
  }

  stringList(parent: Fields | undefined, key: string, at: string): string[] {
    const out: string[] = [];
    this.list(parent, key, at).forEach((item, index) => {
      if (typeof item === 'string') out.push(item);
      else this.report(itemPath(childPath(at, key), index), 'must be a string');
    });
    return out;
  }

  /** A map of strings (labels, annotations, metadata); absent means empty. */
  stringMap(parent: Fields | undefined, key: string, at: string): Record<string, string> {
    const map = this.object(parent, key, at);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(map ?? {})) {
      if (typeof value === 'string') out[name] = value;
      else this.report(childPath(childPath(at, key), name), 'must be a string');
    }
    return out;
  }

  duration(parent: Fields | undefined, key: string, at: string, opts: Presence & { positive?: boolean } = {}): Duration | undefined {
    const text = this.string(parent, key, at, opts);
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) return this.report(childPath(at, key), DURATION_RULE);
    if (opts.positive && ms <= 0) return this.report(childPath(at, key), 'must be longer than 0s');
    return { text, ms };
  }
}

/** Whether `text` is an absolute http(s) URL (provider and alert addresses, proxies). */
export const isHttpUrl = (text: string): boolean => {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
};
