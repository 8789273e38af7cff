/**
 * The API server's logic, free of HTTP: get, list, create, update, patch, delete with the same
 * semantics as kube-apiserver (optimistic concurrency, generation, finalizers, managed fields,
 * no-op writes that do not bump the resourceVersion). Controllers inside the server call it too.
 */
import type { Clock } from '../api/clock.js';
import { Admission, describe, stampNew } from './admission/index.js';
import type { FieldValidation } from './admission/index.js';
import { recordUpdate } from './apply/index.js';
import { ApiError } from './errors.js';
import { builtinMergeSchema, schemaMergeSchema } from './patch/list-semantics.js';
import type { MergeSchema } from './patch/list-semantics.js';
import type { ResourceRegistry } from './registry.js';
import { storageKey } from './registry.js';
import type { LabelSelector, FieldSelector } from './selectors.js';
import { matchesFields, matchesLabels } from './selectors.js';
import type { ObjectStore } from './store.js';
import type { JsonObject, KubeObject, ResourceType } from './types.js';
import { apiVersionOf } from './types.js';
import { clone, deepEqual, rfc3339 } from './util.js';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager: string;
  fieldValidation?: FieldValidation;
  subresource?: string;
  /** Server-side apply computes managed fields itself; plain writes record an Update entry. */
  keepManagedFields?: boolean;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  created: boolean;
}

export interface ListOptions {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continueToken?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const NO_GENERATION_GROUPS = new Set(['', 'coordination.k8s.io', 'events.k8s.io', 'rbac.authorization.k8s.io']);

export class ApiService {
  private readonly admission = new Admission();

  constructor(
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
    private readonly clock: Clock,
  ) {}

  now(): string {
    return rfc3339(this.clock.now());
  }

  nowMs(): number {
    return this.clock.now();
  }

  mergeSchemaOf(type: ResourceType): MergeSchema {
    return type.schema ? schemaMergeSchema(type.schema) : builtinMergeSchema;
  }

  /** The stored object, with the apiVersion of the version asked for. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.store.get(storageKey(type), type.namespaced ? namespace : undefined, name);
    if (!found) throw new ApiError('NotFound', `${describe(type, name)} not found`, { name, group: type.group, kind: type.plural });
    return this.asVersion(type, found);
  }

  tryGet(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.store.get(storageKey(type), type.namespaced ? namespace : undefined, name);
    return found && this.asVersion(type, found);
  }

  list(type: ResourceType, namespace: string | undefined, opts: ListOptions = {}): ListResult {
    const resourceVersion = String(this.store.resourceVersion);
    let items = this.store
      .list(storageKey(type), type.namespaced ? namespace : undefined)
      .filter((o) => this.matches(o, opts.labelSelector, opts.fieldSelector));
    let start = 0;
    if (opts.continueToken) start = decodeContinue(opts.continueToken, items);
    items = items.slice(start);
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      const last = page[page.length - 1] as KubeObject;
      return {
        items: page.map((o) => this.asVersion(type, o)),
        resourceVersion,
        continueToken: encodeContinue(last),
        remainingItemCount: items.length - opts.limit,
      };
    }
    return { items: items.map((o) => this.asVersion(type, o)), resourceVersion };
  }

  matches(o: KubeObject, labels?: LabelSelector, fields?: FieldSelector): boolean {
    if (labels && !matchesLabels(labels, o.metadata.labels)) return false;
    if (fields && !matchesFields(fields, o as unknown as JsonObject)) return false;
    return true;
  }

  create(type: ResourceType, namespace: string | undefined, body: KubeObject, opts: WriteOptions): WriteResult {
    const object = clone(body);
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    object.metadata = { ...(object.metadata ?? {}) };
    if (type.namespaced) {
      const ns = namespace ?? object.metadata.namespace ?? 'default';
      if (object.metadata.namespace && namespace && object.metadata.namespace !== namespace) {
        throw new ApiError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata.namespace = ns;
      this.requireNamespace(ns);
    } else delete object.metadata.namespace;
    stampNew(object, this.now(), this.hasGeneration(type));
    if (type.subresources.includes('status') && opts.subresource === undefined && type.schema) delete object.status;
    const { object: admitted, warnings } = this.admission.admit(type, object, undefined, opts.fieldValidation ?? 'Ignore');
    if (!opts.keepManagedFields) {
      admitted.metadata.managedFields = recordUpdate({
        before: undefined,
        after: admitted,
        manager: opts.fieldManager,
        schema: this.mergeSchemaOf(type),
        now: this.now(),
        statusSubresource: type.subresources.includes('status'),
      });
    }
    const key = storageKey(type);
    const name = admitted.metadata.name ?? '';
    if (this.store.get(key, admitted.metadata.namespace, name)) {
      throw new ApiError('AlreadyExists', `${describe(type, name)} already exists`, { name, group: type.group, kind: type.plural });
    }
    if (opts.dryRun) return { object: admitted, warnings, created: true };
    return { object: this.asVersion(type, this.store.create(key, admitted)), warnings, created: true };
  }

  /**
   * Replace an object (PUT, or the result of a patch). The stored identity wins over the body's; a
   * body resourceVersion that is not the stored one is a 409 Conflict.
   */
  update(type: ResourceType, namespace: string | undefined, name: string, body: KubeObject, opts: WriteOptions): WriteResult {
    const key = storageKey(type);
    const ns = type.namespaced ? namespace : undefined;
    const current = this.store.get(key, ns, name);
    if (!current) throw new ApiError('NotFound', `${describe(type, name)} not found`, { name, group: type.group, kind: type.plural });
    const wanted = body.metadata?.resourceVersion;
    if (wanted && wanted !== current.metadata.resourceVersion) {
      throw new ApiError(
        'Conflict',
        `Operation cannot be fulfilled on ${describe(type, name)}: the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: type.group, kind: type.plural },
      );
    }
    if (body.metadata?.name && body.metadata.name !== name) {
      throw new ApiError('BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    const next = this.mergeForSubresource(type, current, clone(body), opts.subresource);
    const { object: admitted, warnings } = this.admission.admit(type, next, current, opts.fieldValidation ?? 'Ignore');
    if (this.hasGeneration(type)) {
      const gen = current.metadata.generation ?? 1;
      admitted.metadata.generation = this.specChanged(type, current, admitted) ? gen + 1 : gen;
    }
    if (!opts.keepManagedFields) {
      admitted.metadata.managedFields = recordUpdate({
        before: current,
        after: admitted,
        manager: opts.fieldManager,
        schema: this.mergeSchemaOf(type),
        now: this.now(),
        statusSubresource: type.subresources.includes('status'),
        ...(opts.subresource ? { subresource: opts.subresource } : {}),
      });
    }
    return this.commit(type, current, admitted, warnings, opts);
  }

  /** Store `next` over `current` unless nothing changed; finish a deletion whose finalizers are gone. */
  commit(type: ResourceType, current: KubeObject, next: KubeObject, warnings: string[], opts: { dryRun?: boolean }): WriteResult {
    const key = storageKey(type);
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (sameIgnoringTimes(current, next)) return { object: this.asVersion(type, current), warnings, created: false };
    if (opts.dryRun) return { object: next, warnings, created: false };
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
      const removed = this.store.remove(key, next.metadata.namespace, next.metadata.name ?? '');
      return { object: this.asVersion(type, removed ?? next), warnings, created: false };
    }
    return { object: this.asVersion(type, this.store.update(key, next)), warnings, created: false };
  }

  /**
   * Delete: with finalizers the object only gets a deletionTimestamp; Foreground adds the
   * foregroundDeletion finalizer for the garbage collector; Orphan detaches dependents first.
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const key = storageKey(type);
    const ns = type.namespaced ? namespace : undefined;
    const current = this.store.get(key, ns, name);
    if (!current) throw new ApiError('NotFound', `${describe(type, name)} not found`, { name, group: type.group, kind: type.plural });
    const pre = opts.preconditions ?? {};
    if ((pre.uid && pre.uid !== current.metadata.uid) || (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
      throw new ApiError('Conflict', `Operation cannot be fulfilled on ${describe(type, name)}: Precondition failed`, { name, group: type.group, kind: type.plural });
    }
    if (opts.dryRun) return this.asVersion(type, current);
    if (opts.propagationPolicy === 'Orphan') this.orphanDependents(current);
    const finalizers = [...(current.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (type.kind === 'Namespace' && type.group === '') {
      if (['default', 'kube-system', 'kube-public'].includes(name)) {
        throw new ApiError('Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
      }
      const next = clone(current);
      next.metadata.deletionTimestamp ??= this.now();
      next.status = { ...(next.status as JsonObject), phase: 'Terminating' };
      return this.asVersion(type, this.store.update(key, next));
    }
    if (finalizers.length) {
      if (current.metadata.deletionTimestamp && deepEqual(finalizers, current.metadata.finalizers)) return this.asVersion(type, current);
      const next = clone(current);
      next.metadata.deletionTimestamp ??= this.now();
      next.metadata.deletionGracePeriodSeconds ??= 0;
      next.metadata.finalizers = finalizers;
      return this.asVersion(type, this.store.update(key, next));
    }
    return this.asVersion(type, this.store.remove(key, ns, name) ?? current);
  }

  requireNamespace(ns: string): void {
    const nsObj = this.store.get('/namespaces', undefined, ns);
    if (!nsObj) throw new ApiError('NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (nsObj.metadata.deletionTimestamp) {
      throw new ApiError('Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  hasGeneration(type: ResourceType): boolean {
    return !NO_GENERATION_GROUPS.has(type.group);
  }

  /** Serve a stored object as the version asked for (no conversion: versions share one schema here). */
  asVersion(type: ResourceType, o: KubeObject): KubeObject {
    const apiVersion = apiVersionOf(type);
    return o.apiVersion === apiVersion ? o : { ...o, apiVersion };
  }

  private mergeForSubresource(type: ResourceType, current: KubeObject, body: KubeObject, subresource: string | undefined): KubeObject {
    const base: KubeObject = { ...body, apiVersion: current.apiVersion, kind: current.kind };
    const meta = { ...(body.metadata ?? {}) };
    for (const k of ['uid', 'creationTimestamp', 'namespace', 'name', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (current.metadata[k] === undefined) delete meta[k];
      else (meta as Record<string, unknown>)[k] = current.metadata[k];
    }
    if (subresource === 'status') {
      return { ...clone(current), status: body.status, metadata: { ...clone(current.metadata) } };
    }
    base.metadata = meta;
    if (type.subresources.includes('status')) {
      if (current.status === undefined) delete base.status;
      else base.status = clone(current.status);
    }
    return base;
  }

  private specChanged(type: ResourceType, a: KubeObject, b: KubeObject): boolean {
    const strip = (o: KubeObject): Record<string, unknown> => {
      const { metadata: _m, status, ...rest } = o;
      return type.subresources.includes('status') ? rest : { ...rest, status };
    };
    return !deepEqual(strip(a), strip(b));
  }

  private orphanDependents(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    if (!uid) return;
    for (const resource of this.store.resources()) {
      for (const o of this.store.list(resource)) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        const next = clone(o);
        next.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        if (!next.metadata.ownerReferences.length) delete next.metadata.ownerReferences;
        this.store.update(resource, next);
      }
    }
  }
}

const withoutTimes = (o: KubeObject): unknown => ({
  ...o,
  metadata: { ...o.metadata, resourceVersion: undefined, managedFields: (o.metadata.managedFields ?? []).map((m) => ({ ...m, time: undefined })) },
});

const sameIgnoringTimes = (a: KubeObject, b: KubeObject): boolean => deepEqual(withoutTimes(a), withoutTimes(b));

const encodeContinue = (last: KubeObject): string =>
  Buffer.from(JSON.stringify({ ns: last.metadata.namespace ?? '', name: last.metadata.name ?? '' })).toString('base64url');

const decodeContinue = (token: string, items: KubeObject[]): number => {
  let after: { ns: string; name: string };
  try {
    after = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { ns: string; name: string };
  } catch {
    throw new ApiError('BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion');
  }
  // Items are in list order: binary search for the first one after the token's position.
  const isAfter = (o: KubeObject): boolean => {
    const ns = o.metadata.namespace ?? '';
    const name = o.metadata.name ?? '';
    return ns > after.ns || (ns === after.ns && name > after.name);
  };
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isAfter(items[mid] as KubeObject)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
};
