/**
 * Server-side apply and field ownership for every other write, following Kubernetes'
 * structured-merge-diff: an Apply owns exactly the fields it sends and drops the ones it stopped
 * sending (unless someone else owns them); an Update owns what it changed; changing a field another
 * manager owns is a conflict for Apply (unless forced) and a silent takeover for Update.
 */
import type { JsonObject, KubeObject, ManagedFieldsEntry } from '../types.js';
import { isJsonObject } from '../types.js';
import { ApiError, invalid } from '../errors.js';
import type { MergeSchema } from '../patch/list-semantics.js';
import { FieldSet, fieldElement } from './fieldset.js';
import { canonicalJson, cloneJson, deepEqual } from './json.js';
import type { Conflict, ManagerRecord } from './managed-fields.js';
import {
  capUpdateManagers,
  conflictError,
  decodeManagedFields,
  encodeManagedFields,
  isResetRequest,
  recordIdentity,
} from './managed-fields.js';
import { mergeApplied, removeFields } from './merge.js';
import type { TrackingScope } from './typed.js';
import { ShapeError, compareObjects, toFieldSet, trackedView } from './typed.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Owner of every field of an object that had no managedFields when it was first applied to. */
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';

interface WriteOptions {
  manager: string;
  schema: MergeSchema;
  /** RFC 3339 timestamp for entries this write touches. */
  now: string;
  /** 'status' or 'scale' when the write goes to a subresource. */
  subresource?: string;
  /** Whether the kind has a status subresource; default true (then the main resource never owns status). */
  statusSubresource?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** The stored object, or undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The request body. */
  applied: KubeObject;
  /** --force-conflicts: take conflicting fields instead of failing. */
  force: boolean;
  /** The apiVersion of the endpoint; defaults to the live object's. */
  expectedApiVersion?: string;
}

export interface UpdateOptions extends WriteOptions {
  /** The stored object, or undefined for a create. */
  before: KubeObject | undefined;
  /** The object about to be stored; its managedFields, when a client set them, are taken as given. */
  after: KubeObject;
}

const scopeOf = (opts: WriteOptions): TrackingScope => ({
  subresource: opts.subresource,
  statusSubresource: opts.statusSubresource ?? true,
});

const asJson = (obj: KubeObject): JsonObject => obj as unknown as JsonObject;

const withoutManagedFields = (obj: KubeObject): JsonObject => {
  const { managedFields: _managedFields, ...metadata } = obj.metadata ?? {};
  return { ...asJson(obj), metadata: metadata as JsonObject };
};

/** Returns the object with these entries as its managedFields (none: the field is left out). */
export const setManagedFields = (obj: KubeObject, entries: ManagedFieldsEntry[]): KubeObject => {
  const { managedFields: _managedFields, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata: entries.length > 0 ? { ...metadata, managedFields: entries } : metadata };
};

const badRequest = (message: string): ApiError => new ApiError('BadRequest', message);

const validateApplied = (opts: ApplyOptions): void => {
  if (!opts.manager) {
    throw invalid('PatchOptions', '', 'meta.k8s.io', [
      { reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' },
    ]);
  }
  const applied: unknown = opts.applied;
  if (!isJsonObject(applied)) throw badRequest('error decoding YAML: the apply patch must be an object');
  const expected = opts.expectedApiVersion ?? opts.live?.apiVersion;
  const version = typeof applied.apiVersion === 'string' ? applied.apiVersion : '';
  if (!version || (expected !== undefined && version !== expected)) {
    throw badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${version}, expected: ${expected ?? 'a version'}`,
    );
  }
  if (typeof applied.kind !== 'string' || !applied.kind) {
    throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(applied)}'`);
  }
  if (opts.live && applied.kind !== opts.live.kind) {
    throw badRequest(`the kind in the apply patch (${applied.kind}) does not match the object's kind (${opts.live.kind})`);
  }
  const metadata = applied.metadata;
  if (metadata !== undefined && metadata !== null && !isJsonObject(metadata)) throw badRequest('metadata must be an object');
  if (isJsonObject(metadata) && metadata.managedFields !== undefined && metadata.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
};

const decodeOrEmpty = (entries: unknown): ManagerRecord[] => {
  try {
    return decodeManagedFields(entries);
  } catch {
    return [];
  }
};

/** The new object an apply produces (not stored yet), with its managedFields updated. Throws ApiError. */
export const applyPatch = (opts: ApplyOptions): KubeObject => {
  validateApplied(opts);
  const scope = scopeOf(opts);
  const { live, applied, schema, manager } = opts;
  const appliedJson = asJson(applied);
  // Only what this write may set: no identity or server-maintained metadata, and no status on the
  // main resource of a kind with a status subresource (nor anything but status on that subresource).
  const content = trackedView(appliedJson, scope);
  let appliedSet: FieldSet;
  try {
    appliedSet = toFieldSet(content, schema, 'strict');
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    const gvk = `${applied.apiVersion}, Kind=${applied.kind}`;
    throw badRequest(`failed to create typed patch object (${gvk}): ${err.message}`);
  }

  let records = live ? decodeOrEmpty(live.metadata?.managedFields) : [];
  const liveBody = live ? withoutManagedFields(live) : identityOf(appliedJson);
  if (live && records.length === 0) {
    records = [
      {
        manager: BEFORE_FIRST_APPLY_MANAGER,
        operation: 'Update',
        apiVersion: live.apiVersion,
        time: opts.now,
        fields: toFieldSet(trackedView(liveBody, scope), schema),
      },
    ];
  }

  let merged = mergeApplied(liveBody, content, schema);
  merged.apiVersion = applied.apiVersion;
  merged.kind = applied.kind;

  const mine: ManagerRecord = {
    manager,
    operation: 'Apply',
    apiVersion: applied.apiVersion,
    fields: appliedSet,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  const identity = recordIdentity(mine);
  const previous = records.find((r) => recordIdentity(r) === identity);
  const others = records.filter((r) => recordIdentity(r) !== identity);

  if (previous) {
    // Fields this manager applied last time and no longer sends go, unless someone still owns them.
    const stillOwned = others.reduce((set, r) => set.union(r.fields), appliedSet).withNamedParents();
    const dropped = previous.fields
      .withNamedParents()
      .difference(stillOwned)
      .difference(FieldSet.of([[fieldElement('metadata')]]));
    if (!dropped.isEmpty()) merged = removeFields(merged, dropped.toTree(), schema);
  }

  const diff = compareObjects(trackedView(liveBody, scope), trackedView(merged, scope), schema);
  const changed = diff.added.union(diff.modified);
  const conflicts: Conflict[] = others.flatMap((record) =>
    record.fields.intersection(changed).paths().map((path) => ({ record, path })),
  );
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);

  const objectChanged = !deepEqual(liveBody, merged) || !live;
  mine.time = objectChanged || !previous ? opts.now : previous.time;
  if (mine.time === undefined) delete mine.time;
  records = [
    ...others.map((r) => ({ ...r, fields: r.fields.difference(changed).difference(diff.removed) })),
    mine,
  ];

  syncLastApplied(merged, appliedJson, manager);
  const result = merged as unknown as KubeObject;
  return setManagedFields(result, encodeManagedFields(capUpdateManagers(records)));
};

/** What a created-by-apply object starts from: its kind and name. */
const identityOf = (applied: JsonObject): JsonObject => {
  const metadata = isJsonObject(applied.metadata) ? applied.metadata : {};
  const identity: JsonObject = {};
  for (const key of ['name', 'generateName', 'namespace'] as const) {
    const value = metadata[key];
    if (value !== undefined && value !== null) identity[key] = value;
  }
  return { apiVersion: applied.apiVersion ?? null, kind: applied.kind ?? null, metadata: identity };
};

/**
 * kubectl's own server-side applies keep an existing client-side-apply annotation in step, so that
 * switching back to client-side apply later computes the right three-way diff (as the API server does).
 */
const syncLastApplied = (merged: JsonObject, applied: JsonObject, manager: string): void => {
  const metadata = merged.metadata;
  const annotations = isJsonObject(metadata) ? metadata.annotations : undefined;
  if (manager !== 'kubectl' || !isJsonObject(metadata) || !isJsonObject(annotations)) return;
  if (typeof annotations[LAST_APPLIED_ANNOTATION] !== 'string') return;
  const recorded = cloneJson(applied);
  if (isJsonObject(recorded.metadata) && isJsonObject(recorded.metadata.annotations)) {
    delete recorded.metadata.annotations[LAST_APPLIED_ANNOTATION];
  }
  merged.metadata = { ...metadata, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: `${canonicalJson(recorded)}\n` } };
};

/**
 * The ownership a non-apply write (create, update, merge/JSON/strategic patch) leaves: the writer
 * gets an Update entry owning every field it added or changed, and those fields (and removed ones)
 * leave every other entry. Managed fields sent by the client replace the stored ones, except on
 * subresources; `[{}]` clears them.
 */
export const recordUpdate = (opts: UpdateOptions): ManagedFieldsEntry[] => {
  const scope = scopeOf(opts);
  const { before, after, schema } = opts;
  const diff = compareObjects(
    before ? trackedView(asJson(before), scope) : {},
    trackedView(asJson(after), scope),
    schema,
  );
  const changed = diff.added.union(diff.modified);
  let records = baseRecords(before, after, opts.subresource !== undefined).map((r) => ({
    ...r,
    fields: r.fields.difference(changed).difference(diff.removed),
  }));
  if (!changed.isEmpty()) {
    const mine: ManagerRecord = {
      manager: opts.manager,
      operation: 'Update',
      apiVersion: after.apiVersion,
      time: opts.now,
      fields: changed,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    };
    const identity = recordIdentity(mine);
    const previous = records.find((r) => recordIdentity(r) === identity);
    if (previous) mine.fields = previous.fields.union(changed);
    records = [...records.filter((r) => r !== previous), mine];
  }
  return encodeManagedFields(capUpdateManagers(records));
};

const baseRecords = (before: KubeObject | undefined, after: KubeObject, subresource: boolean): ManagerRecord[] => {
  const stored = before?.metadata?.managedFields;
  if (subresource) return decodeOrEmpty(stored);
  const sent: unknown = after.metadata?.managedFields;
  if (isResetRequest(sent)) return [];
  const fromClient = decodeOrEmpty(sent);
  return fromClient.length > 0 ? fromClient : decodeOrEmpty(stored);
};
