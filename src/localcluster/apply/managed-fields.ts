/**
 * metadata.managedFields as records with field sets: decoding, encoding in Kubernetes' order, the
 * cap on Update entries, and the 409 an apply conflict answers with.
 */
import type { ManagedFieldsEntry } from '../types.js';
import { isJsonObject } from '../types.js';
import { ApiError } from '../errors.js';
import type { FieldPath } from './fieldset.js';
import { FieldSet, describePath } from './fieldset.js';

export interface ManagerRecord {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  fields: FieldSet;
}

/**
 * Which records are one manager. Kubernetes keys Apply entries by manager (and subresource) and
 * Update entries also by apiVersion, so one client updating through two versions has two entries.
 */
export const recordIdentity = (r: Pick<ManagerRecord, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string =>
  JSON.stringify([r.manager, r.operation, r.operation === 'Update' ? r.apiVersion : '', r.subresource ?? '']);

const seconds = (time: string | undefined): number => {
  const ms = time === undefined ? NaN : Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
};

/** Reads stored or client-sent entries; throws Error when one is malformed. Same-identity entries merge. */
export const decodeManagedFields = (entries: unknown): ManagerRecord[] => {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  const byIdentity = new Map<string, ManagerRecord>();
  for (const entry of entries) {
    if (!isJsonObject(entry)) throw new Error('managedFields entries must be objects');
    const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
    if (typeof manager !== 'string') throw new Error('managedFields entry without manager');
    if (operation !== 'Apply' && operation !== 'Update') throw new Error(`unknown operation ${String(operation)}`);
    if (fieldsType !== undefined && fieldsType !== 'FieldsV1') throw new Error(`unknown fieldsType ${String(fieldsType)}`);
    if (fieldsV1 !== undefined && !isJsonObject(fieldsV1)) throw new Error('fieldsV1 must be an object');
    const record: ManagerRecord = {
      manager,
      operation,
      apiVersion: typeof apiVersion === 'string' ? apiVersion : '',
      fields: fieldsV1 ? FieldSet.fromFieldsV1(fieldsV1) : FieldSet.empty,
    };
    if (typeof time === 'string') record.time = time;
    if (typeof subresource === 'string' && subresource !== '') record.subresource = subresource;
    const identity = recordIdentity(record);
    const previous = byIdentity.get(identity);
    byIdentity.set(identity, previous ? { ...record, fields: previous.fields.union(record.fields) } : record);
  }
  return [...byIdentity.values()];
};

/** `managedFields: [{}]` in a write asks the server to forget all ownership. */
export const isResetRequest = (entries: unknown): boolean =>
  Array.isArray(entries) && entries.length === 1 && isJsonObject(entries[0]) && Object.keys(entries[0]).length === 0;

const compareRecords = (p: ManagerRecord, q: ManagerRecord): number => {
  if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
  const byTime = seconds(p.time) - seconds(q.time);
  if (byTime !== 0) return byTime;
  for (const [a, b] of [
    [p.manager, q.manager],
    [p.apiVersion, q.apiVersion],
    [p.subresource ?? '', q.subresource ?? ''],
  ] as const) {
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
};

/** Entries as Kubernetes stores them: Apply before Update, then oldest first; empty ones dropped. */
export const encodeManagedFields = (records: readonly ManagerRecord[]): ManagedFieldsEntry[] =>
  records
    .filter((r) => !r.fields.isEmpty())
    .sort(compareRecords)
    .map((r) => ({
      manager: r.manager,
      operation: r.operation,
      apiVersion: r.apiVersion,
      ...(r.time !== undefined ? { time: r.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: r.fields.toFieldsV1(),
      ...(r.subresource !== undefined ? { subresource: r.subresource } : {}),
    }));

const withoutSubresource = (r: ManagerRecord): ManagerRecord => {
  const { subresource: _subresource, ...rest } = r;
  return rest;
};

export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';

/**
 * Keeps at most `max` Update entries: the oldest are folded, per apiVersion, into one
 * `ancient-changes` entry, as the API server does so that managedFields cannot grow without bound.
 */
export const capUpdateManagers = (records: readonly ManagerRecord[], max = MAX_UPDATE_MANAGERS): ManagerRecord[] => {
  const updaters = records.filter((r) => r.operation === 'Update' && !r.fields.isEmpty());
  if (updaters.length <= max) return [...records];
  const oldestFirst = [...updaters].sort((p, q) => seconds(p.time) - seconds(q.time) || (p.manager < q.manager ? -1 : 1));
  const folded = new Set<ManagerRecord>();
  const buckets = new Map<string, ManagerRecord>();
  const firstOfVersion = new Map<string, ManagerRecord>();
  let count = updaters.length;
  for (const record of oldestFirst) {
    if (count <= max) break;
    const first = firstOfVersion.get(record.apiVersion);
    if (!first) {
      firstOfVersion.set(record.apiVersion, record);
      continue;
    }
    const bucket = buckets.get(record.apiVersion) ?? { ...withoutSubresource(first), manager: ANCIENT_CHANGES_MANAGER };
    folded.add(first).add(record);
    // The bucket takes the time of the newest update folded into it.
    buckets.set(record.apiVersion, { ...bucket, time: record.time, fields: bucket.fields.union(record.fields) });
    count--;
  }
  const kept = records.filter((r) => !folded.has(r));
  const existing = (version: string): ManagerRecord | undefined =>
    kept.find((r) => r.manager === ANCIENT_CHANGES_MANAGER && r.operation === 'Update' && r.apiVersion === version && !r.subresource);
  for (const [version, bucket] of buckets) {
    const old = existing(version);
    if (old) kept.splice(kept.indexOf(old), 1, { ...bucket, fields: bucket.fields.union(old.fields) });
    else kept.push(bucket);
  }
  return kept;
};

/** How the API server names a manager in conflict messages. */
export const describeManager = (r: ManagerRecord): string => {
  let text = JSON.stringify(r.manager);
  if (r.subresource) text += ` with subresource ${JSON.stringify(r.subresource)}`;
  if (r.operation === 'Update') text += ` using ${r.apiVersion}`;
  return text;
};

export interface Conflict {
  record: ManagerRecord;
  path: FieldPath;
}

/** 409 Conflict worded like kube-apiserver's, one FieldManagerConflict cause per field. */
export const conflictError = (conflicts: readonly Conflict[]): ApiError => {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.record)}`,
    field: describePath(c.path),
  }));
  let message: string;
  const only = conflicts[0];
  if (conflicts.length === 1 && only) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(only.record)}: ${describePath(only.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const name = describeManager(c.record);
      byManager.set(name, [...(byManager.get(name) ?? []), describePath(c.path)]);
    }
    const lines = [...byManager.keys()]
      .sort()
      .flatMap((name) => [`conflicts with ${name}:`, ...(byManager.get(name) ?? []).map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('Conflict', message, { causes });
};
