/**
 * Field sets: which fields of an object a manager owns. A path is a list of elements spelled as in
 * the `fieldsV1` wire format, so encoding is a matter of nesting:
 *   `f:<name>`  a field of a map/struct
 *   `k:<json>`  an item of a map-list, named by its key fields (JSON object, keys sorted)
 *   `v:<json>`  an item of a set-list, named by its value
 *   `i:<n>`     an item of a list by position
 * A set holds exact members; `{}` in fieldsV1 is a member without children and `.` marks a member
 * that also has children.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { isJsonObject } from '../types.js';
import { canonicalJson } from './json.js';

export type PathElement = string;
export type FieldPath = readonly PathElement[];

export const fieldElement = (name: string): PathElement => `f:${name}`;
export const keyElement = (key: JsonObject): PathElement => `k:${canonicalJson(key)}`;
export const valueElement = (value: JsonValue): PathElement => `v:${canonicalJson(value)}`;
export const indexElement = (index: number): PathElement => `i:${index}`;

/** Nested form of a set, used to encode it and to walk an object along it. */
export interface FieldTree {
  member: boolean;
  children: Map<PathElement, FieldTree>;
}

const KIND_ORDER = 'fkvi';

/** Orders elements as structured-merge-diff does: fields, then keys, then values, then indexes. */
export const compareElements = (a: PathElement, b: PathElement): number => {
  const kind = KIND_ORDER.indexOf(a[0] ?? '') - KIND_ORDER.indexOf(b[0] ?? '');
  if (kind !== 0) return kind;
  if (a.startsWith('i:')) return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
};

const comparePaths = (a: FieldPath, b: FieldPath): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareElements(a[i] as PathElement, b[i] as PathElement);
    if (order !== 0) return order;
  }
  return a.length - b.length;
};

const keyOf = (path: FieldPath): string => JSON.stringify(path);

export class FieldSet {
  static readonly empty = new FieldSet(new Map());

  private constructor(private readonly members: ReadonlyMap<string, FieldPath>) {}

  static of(paths: Iterable<FieldPath>): FieldSet {
    const members = new Map<string, FieldPath>();
    for (const path of paths) if (path.length > 0) members.set(keyOf(path), [...path]);
    return new FieldSet(members);
  }

  get size(): number {
    return this.members.size;
  }

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  has(path: FieldPath): boolean {
    return this.members.has(keyOf(path));
  }

  /** Members in a stable order (the order fieldsV1 lists them). */
  paths(): FieldPath[] {
    return [...this.members.values()].sort(comparePaths);
  }

  union(other: FieldSet): FieldSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    return new FieldSet(new Map([...this.members, ...other.members]));
  }

  difference(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    return new FieldSet(new Map([...this.members].filter(([key]) => !other.members.has(key))));
  }

  intersection(other: FieldSet): FieldSet {
    return new FieldSet(new Map([...this.members].filter(([key]) => other.members.has(key))));
  }

  equals(other: FieldSet): boolean {
    return this.size === other.size && [...this.members.keys()].every((key) => other.members.has(key));
  }

  /**
   * This set plus every prefix that ends in a field name. Owning `.spec.replicas` implies caring that
   * `.spec` exists; structured-merge-diff does this for struct fields when it prunes, so that removing
   * one manager's fields never drops a parent another manager still has fields under.
   */
  withNamedParents(): FieldSet {
    const members = new Map(this.members);
    for (const path of this.members.values()) {
      for (let end = 1; end < path.length; end++) {
        if (path[end - 1]?.startsWith('f:')) members.set(keyOf(path.slice(0, end)), path.slice(0, end));
      }
    }
    return new FieldSet(members);
  }

  toTree(): FieldTree {
    const root: FieldTree = { member: false, children: new Map() };
    for (const path of this.members.values()) {
      let node = root;
      for (const element of path) {
        let child = node.children.get(element);
        if (!child) {
          child = { member: false, children: new Map() };
          node.children.set(element, child);
        }
        node = child;
      }
      node.member = true;
    }
    return root;
  }

  toFieldsV1(): JsonObject {
    const encode = (node: FieldTree): JsonObject => {
      const out: JsonObject = {};
      if (node.member && node.children.size > 0) out['.'] = {};
      const elements = [...node.children.keys()].sort(compareElements);
      for (const element of elements) out[element] = encode(node.children.get(element) as FieldTree);
      return out;
    };
    return encode(this.toTree());
  }

  /** Reads a fieldsV1 object; throws Error naming the bad element when it is not well formed. */
  static fromFieldsV1(fieldsV1: JsonObject): FieldSet {
    const paths: FieldPath[] = [];
    const visit = (node: JsonObject, path: PathElement[]): void => {
      for (const [raw, child] of Object.entries(node)) {
        if (!isJsonObject(child)) throw new Error(`expected an object at ${describePath([...path, raw])}`);
        if (raw === '.') {
          if (path.length > 0) paths.push(path);
          continue;
        }
        const element = [...path, canonicalElement(raw)];
        if (Object.keys(child).length === 0) paths.push(element);
        else visit(child, element);
      }
    };
    visit(fieldsV1, []);
    return FieldSet.of(paths);
  }
}

/** Re-spells an element read from a client so equal elements compare equal (key order inside `k:`). */
export const canonicalElement = (raw: string): PathElement => {
  const kind = raw.slice(0, 2);
  const body = raw.slice(2);
  if (kind === 'f:') return raw;
  if (kind === 'i:' && /^\d+$/.test(body)) return raw;
  if (kind === 'k:' || kind === 'v:') {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(body) as JsonValue;
    } catch {
      throw new Error(`invalid path element ${JSON.stringify(raw)}`);
    }
    if (kind === 'k:' && !isJsonObject(parsed)) throw new Error(`invalid path element ${JSON.stringify(raw)}`);
    return `${kind}${canonicalJson(parsed)}`;
  }
  throw new Error(`invalid path element ${JSON.stringify(raw)}`);
};

/** A path as the API server prints it in conflict messages: `.spec.template.spec.containers[name="app"].image`. */
export const describePath = (path: FieldPath): string =>
  path
    .map((element) => {
      const body = element.slice(2);
      if (element.startsWith('f:')) return `.${body}`;
      if (element.startsWith('i:')) return `[${body}]`;
      if (element.startsWith('v:')) return `[=${body}]`;
      if (element.startsWith('k:')) {
        try {
          const key = JSON.parse(body) as JsonObject;
          const parts = Object.keys(key)
            .sort()
            .map((name) => `${name}=${canonicalJson(key[name] as JsonValue)}`);
          return `[${parts.join(',')}]`;
        } catch {
          return `[${body}]`;
        }
      }
      return element;
    })
    .join('');
