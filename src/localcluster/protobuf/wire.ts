/**
 * A minimal reader of the protobuf wire format: enough to walk the fields of a message. Values stay raw
 * (varints as bigint, length-delimited as byte views) so the schema decides how to read them.
 */
export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

export type WireValue =
  | { wireType: WireType.Varint; value: bigint }
  | { wireType: WireType.Fixed64; bytes: Uint8Array }
  | { wireType: WireType.LengthDelimited; bytes: Uint8Array }
  | { wireType: WireType.Fixed32; bytes: Uint8Array };

export type WireField = WireValue & { field: number };

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/** Reads a base-128 varint at `offset`; returns the value and the offset after it. */
export const readVarint = (bytes: Uint8Array, offset: number): { value: bigint; next: number } => {
  let value = 0n;
  let shift = 0n;
  for (let i = offset; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return { value: BigInt.asUintN(64, value), next: i + 1 };
    shift += 7n;
    if (shift > 63n) throw new WireFormatError(`varint at byte ${offset} is longer than 10 bytes`);
  }
  throw new WireFormatError(`truncated varint at byte ${offset}`);
};

const take = (bytes: Uint8Array, offset: number, length: number, what: string): Uint8Array => {
  if (offset + length > bytes.length) {
    throw new WireFormatError(`truncated ${what} at byte ${offset}: needs ${length} bytes, ${bytes.length - offset} left`);
  }
  return bytes.subarray(offset, offset + length);
};

/** Every field of one message, in wire order (repeated fields appear once per element). */
export const readFields = (bytes: Uint8Array): WireField[] => {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const key = readVarint(bytes, offset);
    offset = key.next;
    const field = Number(key.value >> 3n);
    const wireType = Number(key.value & 7n);
    if (field === 0) throw new WireFormatError(`field number 0 at byte ${offset}`);
    switch (wireType) {
      case WireType.Varint: {
        const v = readVarint(bytes, offset);
        fields.push({ field, wireType, value: v.value });
        offset = v.next;
        break;
      }
      case WireType.Fixed64:
        fields.push({ field, wireType, bytes: take(bytes, offset, 8, 'fixed64') });
        offset += 8;
        break;
      case WireType.LengthDelimited: {
        const len = readVarint(bytes, offset);
        const length = Number(len.value);
        fields.push({ field, wireType, bytes: take(bytes, len.next, length, `field ${field}`) });
        offset = len.next + length;
        break;
      }
      case WireType.Fixed32:
        fields.push({ field, wireType, bytes: take(bytes, offset, 4, 'fixed32') });
        offset += 4;
        break;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} for field ${field}`);
    }
  }
  return fields;
};

/** Packed repeated varints (proto3 style); Kubernetes sends them unpacked, but a reader must accept both. */
export const readPackedVarints = (bytes: Uint8Array): bigint[] => {
  const values: bigint[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const v = readVarint(bytes, offset);
    values.push(v.value);
    offset = v.next;
  }
  return values;
};

const utf8 = new TextDecoder('utf-8');

/** Invalid sequences become U+FFFD, as Go's JSON encoder would write them. */
export const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes);
