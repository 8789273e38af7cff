/** Parsers shared by the three resources: metadata, type header, local references, conditions. */
import type { Condition, LocalObjectReference, ResourceMeta } from './types.js';
import { FLAGGER_API_VERSION } from './types.js';
import type { Fields, SpecReader } from './reader.js';
import { childPath, compact } from './reader.js';

/** Checks apiVersion and kind when present; manifests built in code may leave them out. */
export const checkTypeHeader = (r: SpecReader, obj: Fields, kind: string): void => {
  r.string(obj, 'apiVersion', '', { oneOf: [FLAGGER_API_VERSION] });
  r.string(obj, 'kind', '', { oneOf: [kind] });
};

export const parseMeta = (r: SpecReader, obj: Fields): ResourceMeta => {
  const meta = r.object(obj, 'metadata', '', { required: true });
  const at = 'metadata';
  return {
    name: r.string(meta, 'name', at, { required: meta !== undefined }) ?? '',
    namespace: r.string(meta, 'namespace', at, { nonEmpty: true }) ?? 'default',
    labels: r.stringMap(meta, 'labels', at),
    annotations: r.stringMap(meta, 'annotations', at),
    finalizers: r.stringList(meta, 'finalizers', at),
    ...compact({
      uid: r.string(meta, 'uid', at),
      resourceVersion: r.string(meta, 'resourceVersion', at),
      generation: r.integer(meta, 'generation', at, { min: 0 }),
      deletionTimestamp: r.string(meta, 'deletionTimestamp', at),
    }),
  };
};

/** A same-namespace reference; `kinds` restricts the kind when given. */
export const parseLocalRef = (
  r: SpecReader,
  parent: Fields,
  key: string,
  at: string,
  opts: { required?: boolean; kinds?: readonly string[] } = {},
): (LocalObjectReference & { fields: Fields }) | undefined => {
  const ref = r.object(parent, key, at, { required: opts.required });
  if (!ref) return undefined;
  const path = childPath(at, key);
  return {
    apiVersion: r.string(ref, 'apiVersion', path, { required: true }) ?? '',
    kind: r.string(ref, 'kind', path, { required: true, oneOf: opts.kinds }) ?? '',
    name: r.string(ref, 'name', path, { required: true }) ?? '',
    fields: ref,
  };
};

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export const parseConditions = (r: SpecReader, status: Fields | undefined, at: string): Condition[] =>
  r.objects(status, 'conditions', at, (item, path) => {
    const value = r.string(item, 'status', path, { required: true, oneOf: CONDITION_STATUSES });
    return {
      type: r.string(item, 'type', path, { required: true }) ?? '',
      status: CONDITION_STATUSES.find((s) => s === value) ?? 'Unknown',
      ...compact({
        lastUpdateTime: r.string(item, 'lastUpdateTime', path),
        lastTransitionTime: r.string(item, 'lastTransitionTime', path),
        reason: r.string(item, 'reason', path),
        message: r.string(item, 'message', path),
      }),
    };
  });
