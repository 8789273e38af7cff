/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies (what kubectl's typed clients send for
 * `kubectl create configmap|secret|deployment|...`) into the JSON object the JSON encoding would carry.
 * The server never answers in protobuf; it only reads it.
 */
import { ApiError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { decodeMessage, UnknownMessageError } from './decode.js';
import { buildSchema } from './schema-table.js';
import type { Schema } from './schema-table.js';
import { packageTables } from './schemas/index.js';
import { decodeUtf8, readFields, WireFormatError, WireType } from './wire.js';

export const protobufContentType = 'application/vnd.kubernetes.protobuf';

/** Every body starts with these four bytes, then a runtime.Unknown message. */
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const builtinSchema: Schema = buildSchema(packageTables);

/** `v1` -> `core/v1`, `apps/v1` -> `apps/v1`, `rbac.authorization.k8s.io/v1` -> `rbac/v1` (proto package naming). */
const packageOf = (apiVersion: string): string => {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return `core/${apiVersion}`;
  const group = apiVersion.slice(0, slash);
  return `${group.split('.')[0]}/${apiVersion.slice(slash + 1)}`;
};

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
}

const readEnvelope = (body: Uint8Array): Envelope => {
  const envelope: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(), contentEncoding: '' };
  for (const f of readFields(body)) {
    if (f.wireType !== WireType.LengthDelimited) continue;
    if (f.field === 1) {
      for (const t of readFields(f.bytes)) {
        if (t.wireType !== WireType.LengthDelimited) continue;
        if (t.field === 1) envelope.apiVersion = decodeUtf8(t.bytes);
        if (t.field === 2) envelope.kind = decodeUtf8(t.bytes);
      }
    } else if (f.field === 2) envelope.raw = f.bytes;
    else if (f.field === 3) envelope.contentEncoding = decodeUtf8(f.bytes);
  }
  return envelope;
};

/**
 * Decodes a Kubernetes protobuf body (`k8s\0` + runtime.Unknown) into the object JSON would carry.
 * Throws ApiError BadRequest for a malformed body and UnsupportedMediaType for a kind we have no schema for.
 */
export const decodeKubernetesProtobuf = (body: Uint8Array, schema: Schema = builtinSchema): KubeObject => {
  if (body.length < magic.length || !magic.equals(body.subarray(0, magic.length))) {
    throw new ApiError('BadRequest', `the object provided is unrecognized: protobuf body does not start with the "k8s\\x00" prefix`);
  }
  try {
    const { apiVersion, kind, raw, contentEncoding } = readEnvelope(body.subarray(magic.length));
    if (!apiVersion || !kind) {
      throw new ApiError('BadRequest', 'the object provided is unrecognized: protobuf envelope carries no apiVersion/kind');
    }
    if (contentEncoding) {
      throw new ApiError('UnsupportedMediaType', `protobuf content encoding "${contentEncoding}" is not supported`);
    }
    const own = `${packageOf(apiVersion)}.${kind}`;
    // Option kinds (DeleteOptions, ...) live in meta/v1 but travel under the resource's group version.
    const ref = schema.has(own) ? own : `meta/v1.${kind}`;
    if (!schema.has(ref)) {
      throw new ApiError(
        'UnsupportedMediaType',
        `the protobuf encoding of ${kind} (${apiVersion}) is not supported by this server; send it as application/json`,
        { kind },
      );
    }
    return { apiVersion, kind, ...decodeMessage(schema, raw, ref) } as KubeObject;
  } catch (e) {
    if (e instanceof WireFormatError) throw new ApiError('BadRequest', `the object provided is unrecognized: ${e.message}`);
    if (e instanceof UnknownMessageError) {
      throw new ApiError('UnsupportedMediaType', `the protobuf encoding of ${e.ref} is not supported by this server`);
    }
    throw e;
  }
};

/** The qualified message names (`apps/v1.Deployment`) the built-in schema can decode. */
export const knownProtobufMessages = (): string[] => [...builtinSchema.keys()];
