/**
 * The notation of the schema tables in ./schemas/ and its resolution into field descriptions.
 *
 * A table maps a message name to `{ fieldNumber: [jsonName, kind, flag?] }`. Kinds:
 * - scalars `string`, `bytes` (base64 in JSON), `bool`, `int32`, `int64`, `uint32`, `uint64`, `double`, `float`;
 *   a trailing `?` marks a field whose zero value JSON writes (a Go pointer, or a json tag without `omitempty`);
 *   other zero scalars are dropped, as `omitempty` does (Go's marshaller sends every non-pointer scalar);
 * - messages by name: `PodSpec` (same package) or `core/v1.PodSpec` (another package);
 * - special messages with their own JSON form: `Time`, `MicroTime`, `Duration`, `IntOrString`, `Quantity`,
 *   `FieldsV1`, `RawExtension`;
 * - maps `map<string,V>` where V is a scalar, a message, or `string[]` (a Go named string slice such as
 *   ExtraValue, sent as a message whose field 1 holds the strings);
 * - a trailing `[]` marks a repeated field.
 * The flag `inline` marks an embedded Go struct whose fields JSON writes into the parent (`json:",inline"`).
 */
export type FieldSpec = readonly [name: string, kind: string, flag?: 'inline'];
export type MessageTable = Readonly<Record<number, FieldSpec>>;
export interface PackageTable {
  /** `core/v1`, `apps/v1`, `meta/v1`: the proto package's group (first label) and version. */
  readonly pkg: string;
  readonly messages: Readonly<Record<string, MessageTable>>;
}

export type ScalarKind = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'double' | 'float';
export type SpecialKind = 'Time' | 'MicroTime' | 'Duration' | 'IntOrString' | 'Quantity' | 'FieldsV1' | 'RawExtension';

export type ValueKind =
  | { type: 'scalar'; scalar: ScalarKind; keepZero: boolean }
  | { type: 'special'; special: SpecialKind }
  | { type: 'message'; ref: string }
  | { type: 'stringList' };

export type FieldKind = ValueKind | { type: 'map'; value: ValueKind };

export interface ResolvedField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  readonly inline: boolean;
}

export type ResolvedMessage = ReadonlyMap<number, ResolvedField>;
/** Messages by qualified name, e.g. `apps/v1.Deployment`. */
export type Schema = ReadonlyMap<string, ResolvedMessage>;

const scalars = new Set<string>(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);
const specials = new Set<string>(['Time', 'MicroTime', 'Duration', 'IntOrString', 'Quantity', 'FieldsV1', 'RawExtension']);

const parseValueKind = (kind: string, pkg: string): ValueKind => {
  if (kind === 'string[]') return { type: 'stringList' };
  const keepZero = kind.endsWith('?');
  const bare = keepZero ? kind.slice(0, -1) : kind;
  if (scalars.has(bare)) return { type: 'scalar', scalar: bare as ScalarKind, keepZero };
  if (keepZero) throw new Error(`'?' applies to scalars only, not to ${kind}`);
  if (specials.has(bare)) return { type: 'special', special: bare as SpecialKind };
  if (!/^[A-Za-z0-9/]*\.?[A-Z][A-Za-z0-9]*$/.test(bare)) throw new Error(`unknown field kind ${kind}`);
  return { type: 'message', ref: bare.includes('.') ? bare : `${pkg}.${bare}` };
};

export const parseFieldKind = (kind: string, pkg: string): { kind: FieldKind; repeated: boolean } => {
  const map = /^map<string,(.+)>$/.exec(kind);
  if (map) return { kind: { type: 'map', value: parseValueKind(map[1] as string, pkg) }, repeated: false };
  const repeated = kind.endsWith('[]');
  return { kind: parseValueKind(repeated ? kind.slice(0, -2) : kind, pkg), repeated };
};

/** Resolves the tables into one schema; throws on a malformed table (a programming error, caught by tests). */
export const buildSchema = (packages: readonly PackageTable[]): Schema => {
  const schema = new Map<string, ResolvedMessage>();
  for (const { pkg, messages } of packages) {
    for (const [message, table] of Object.entries(messages)) {
      const fields = new Map<number, ResolvedField>();
      for (const [number, [name, kind, flag]] of Object.entries(table)) {
        fields.set(Number(number), { name, ...parseFieldKind(kind, pkg), inline: flag === 'inline' });
      }
      schema.set(`${pkg}.${message}`, fields);
    }
  }
  return schema;
};

/** Message references that no table defines: empty for a consistent schema. */
export const danglingReferences = (schema: Schema): string[] => {
  const missing = new Set<string>();
  for (const [message, fields] of schema) {
    for (const { name, kind } of fields.values()) {
      const value = kind.type === 'map' ? kind.value : kind;
      if (value.type === 'message' && !schema.has(value.ref)) missing.add(`${message}.${name} -> ${value.ref}`);
    }
  }
  return [...missing];
};
