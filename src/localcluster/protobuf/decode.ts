/**
 * Schema-driven decoding of a protobuf message into the JSON object Go's encoding/json would write for the
 * same Go value: JSON names from the tables, non-pointer zero scalars and empty lists/maps left out
 * (Kubernetes' Go marshaller always sends non-pointer scalars, so presence on the wire says nothing there),
 * special messages (Time, IntOrString, Quantity, ...) in their JSON forms.
 */
import type { JsonObject, JsonValue } from '../types.js';
import type { FieldKind, ResolvedField, Schema, ScalarKind, SpecialKind, ValueKind } from './schema-table.js';
import { decodeUtf8, readFields, readPackedVarints, WireFormatError, WireType } from './wire.js';
import type { WireValue } from './wire.js';

export class UnknownMessageError extends Error {
  constructor(readonly ref: string) {
    super(`no protobuf schema for ${ref}`);
    this.name = 'UnknownMessageError';
  }
}

const lengthDelimited = (v: WireValue, what: string): Uint8Array => {
  if (v.wireType !== WireType.LengthDelimited) throw new WireFormatError(`${what}: expected length-delimited, got wire type ${v.wireType}`);
  return v.bytes;
};

const varint = (v: WireValue, what: string): bigint => {
  if (v.wireType !== WireType.Varint) throw new WireFormatError(`${what}: expected varint, got wire type ${v.wireType}`);
  return v.value;
};

const fixed = (v: WireValue, size: 4 | 8, what: string): DataView => {
  const expected = size === 8 ? WireType.Fixed64 : WireType.Fixed32;
  if (v.wireType !== expected) throw new WireFormatError(`${what}: expected fixed${size * 8}, got wire type ${v.wireType}`);
  return new DataView(v.bytes.buffer, v.bytes.byteOffset, size);
};

const decodeScalar = (v: WireValue, scalar: ScalarKind, what: string): JsonValue => {
  switch (scalar) {
    case 'string':
      return decodeUtf8(lengthDelimited(v, what));
    case 'bytes':
      return Buffer.from(lengthDelimited(v, what)).toString('base64');
    case 'bool':
      return varint(v, what) !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, varint(v, what)));
    case 'uint32':
      return Number(BigInt.asUintN(32, varint(v, what)));
    case 'int64':
      return Number(BigInt.asIntN(64, varint(v, what)));
    case 'uint64':
      return Number(varint(v, what));
    case 'double':
      return fixed(v, 8, what).getFloat64(0, true);
    case 'float':
      return fixed(v, 4, what).getFloat32(0, true);
  }
};

const isZero = (value: JsonValue): boolean => value === '' || value === 0 || value === false;

/** The fields of a small fixed message, keyed by number; later occurrences win, as in protobuf. */
const fieldsByNumber = (bytes: Uint8Array): Map<number, WireValue> => {
  const byNumber = new Map<number, WireValue>();
  for (const f of readFields(bytes)) byNumber.set(f.field, f);
  return byNumber;
};

const scalarField = (fields: Map<number, WireValue>, n: number, scalar: ScalarKind, what: string): JsonValue | undefined => {
  const v = fields.get(n);
  return v === undefined ? undefined : decodeScalar(v, scalar, what);
};

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `metav1.Time` keeps whole seconds (RFC3339); `MicroTime` keeps microseconds. Both are written in UTC. */
const formatTime = (seconds: number, nanos: number, micro: boolean): string => {
  const d = new Date(seconds * 1000);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
};

/** Go's time.Duration.String(): `1h2m3.5s`, `1.5ms`, `0s`. */
export const formatGoDuration = (nanoseconds: bigint): string => {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  const ns = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  const fraction = (value: bigint, unit: bigint, digits: number): string => {
    const whole = value / unit;
    const rest = (value % unit).toString().padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : `${whole}`;
  };
  if (ns < 1000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${fraction(ns, 1000n, 3)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${fraction(ns, 1_000_000n, 6)}ms`;
  const hours = ns / 3_600_000_000_000n;
  const minutes = (ns / 60_000_000_000n) % 60n;
  const seconds = fraction(ns % 60_000_000_000n, 1_000_000_000n, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
};

const parseEmbeddedJson = (bytes: Uint8Array, what: string): JsonValue => {
  try {
    return JSON.parse(decodeUtf8(bytes)) as JsonValue;
  } catch (e) {
    throw new WireFormatError(`${what}: embedded bytes are not JSON (${(e as Error).message})`);
  }
};

const decodeSpecial = (bytes: Uint8Array, special: SpecialKind, what: string): JsonValue => {
  // Go writes a zero Time as an empty message and reads it back as the zero time, which JSON writes as null.
  if ((special === 'Time' || special === 'MicroTime') && bytes.length === 0) return null;
  const fields = fieldsByNumber(bytes);
  switch (special) {
    case 'Time':
    case 'MicroTime': {
      const seconds = (scalarField(fields, 1, 'int64', `${what}.seconds`) as number | undefined) ?? 0;
      const nanos = (scalarField(fields, 2, 'int32', `${what}.nanos`) as number | undefined) ?? 0;
      return formatTime(seconds, nanos, special === 'MicroTime');
    }
    case 'Duration': {
      const v = fields.get(1);
      return formatGoDuration(v === undefined ? 0n : BigInt.asIntN(64, varint(v, `${what}.duration`)));
    }
    case 'IntOrString': {
      const isString = scalarField(fields, 1, 'int64', `${what}.type`) === 1;
      if (isString) return scalarField(fields, 3, 'string', `${what}.strVal`) ?? '';
      return scalarField(fields, 2, 'int32', `${what}.intVal`) ?? 0;
    }
    case 'Quantity':
      return scalarField(fields, 1, 'string', `${what}.string`) ?? '0';
    case 'FieldsV1': {
      const raw = fields.get(1);
      return raw === undefined ? {} : parseEmbeddedJson(lengthDelimited(raw, what), what);
    }
    case 'RawExtension': {
      const raw = fields.get(1);
      return raw === undefined ? null : parseEmbeddedJson(lengthDelimited(raw, what), what);
    }
  }
};

const decodeValue = (schema: Schema, v: WireValue, kind: ValueKind, what: string): JsonValue => {
  switch (kind.type) {
    case 'scalar':
      return decodeScalar(v, kind.scalar, what);
    case 'special':
      return decodeSpecial(lengthDelimited(v, what), kind.special, what);
    case 'message':
      return decodeMessage(schema, lengthDelimited(v, what), kind.ref);
    case 'stringList':
      return readFields(lengthDelimited(v, what))
        .filter((f) => f.field === 1)
        .map((f) => decodeScalar(f, 'string', what));
  }
};

const packable = (kind: FieldKind): kind is { type: 'scalar'; scalar: ScalarKind; keepZero: boolean } =>
  kind.type === 'scalar' && kind.scalar !== 'string' && kind.scalar !== 'bytes';

const appendRepeated = (schema: Schema, list: JsonValue[], v: WireValue, field: ResolvedField, what: string): void => {
  const { kind } = field;
  if (kind.type === 'map') throw new Error('maps are not repeated');
  if (packable(kind) && v.wireType === WireType.LengthDelimited) {
    if (kind.scalar === 'double' || kind.scalar === 'float') throw new WireFormatError(`${what}: packed ${kind.scalar} is not supported`);
    for (const value of readPackedVarints(v.bytes)) list.push(decodeScalar({ wireType: WireType.Varint, value }, kind.scalar, what));
    return;
  }
  list.push(decodeValue(schema, v, kind, what));
};

const mapEntry = (schema: Schema, v: WireValue, value: ValueKind, what: string): [string, JsonValue] => {
  const entry = fieldsByNumber(lengthDelimited(v, what));
  const key = entry.get(1);
  const raw = entry.get(2);
  const k = key === undefined ? '' : (decodeScalar(key, 'string', `${what} key`) as string);
  if (raw !== undefined) return [k, decodeValue(schema, raw, value, `${what}[${k}]`)];
  // An absent value is the value type's zero.
  const zero: JsonValue =
    value.type === 'scalar' ? (value.scalar === 'string' || value.scalar === 'bytes' ? '' : value.scalar === 'bool' ? false : 0)
    : value.type === 'stringList' ? []
    : decodeValue(schema, { wireType: WireType.LengthDelimited, bytes: new Uint8Array() }, value, what);
  return [k, zero];
};

/** Decodes one message of the schema (`apps/v1.Deployment`) into its JSON object. */
export const decodeMessage = (schema: Schema, bytes: Uint8Array, ref: string): JsonObject => {
  const fields = schema.get(ref);
  if (!fields) throw new UnknownMessageError(ref);
  const out: JsonObject = {};
  for (const wire of readFields(bytes)) {
    const field = fields.get(wire.field);
    if (!field) continue; // a field newer than our tables: the real server's decoder skips it too
    const what = `${ref}.${field.name}`;
    const { kind, name } = field;
    if (kind.type === 'map') {
      const map = (out[name] ??= {}) as JsonObject;
      const [k, value] = mapEntry(schema, wire, kind.value, what);
      map[k] = value;
    } else if (field.repeated) {
      appendRepeated(schema, (out[name] ??= []) as JsonValue[], wire, field, what);
    } else if (field.inline && kind.type === 'message') {
      Object.assign(out, decodeMessage(schema, lengthDelimited(wire, what), kind.ref));
    } else {
      const value = decodeValue(schema, wire, kind, what);
      const previous = out[name];
      // A message sent twice merges, as protobuf specifies; anything else: the last one wins.
      out[name] =
        kind.type === 'message' && previous !== null && typeof previous === 'object' && !Array.isArray(previous)
          ? { ...previous, ...(value as JsonObject) }
          : value;
      if (kind.type === 'scalar' && !kind.keepZero && isZero(value)) delete out[name];
    }
  }
  return out;
};
