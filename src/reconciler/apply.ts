/**
 * Staged server-side apply and pruning. Each object is first applied as a dry run and compared with
 * the live copy, so an unchanged object costs a GET and a dry-run PATCH and is never written: a
 * reconciliation that changes nothing makes no write, and the object's resourceVersion stays put (no
 * watch event wakes anyone). Definitions (CRDs, Namespaces) go first and are waited for, so custom
 * resources of a CRD shipped in the same commit apply in one reconciliation.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../api/clock.js';
import { FledgeError } from '../api/index.js';
import type { KubeObject, ObjectRef } from '../kube/api.js';
import { KubeApiError, refOf } from '../kube/api.js';
import type { InventoryEntry } from './inventory.js';
import { applyOrder, describe, entryOf, refOfEntry, stageOf } from './inventory.js';

/** What the reconciler needs from the cluster (ClientNodeKubeApi provides it). */
export interface ApplyClient {
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  serverSideApply(obj: KubeObject, opts: { fieldManager: string; dryRun?: boolean; force?: boolean }): Promise<KubeObject>;
  delete(ref: ObjectRef): Promise<void>;
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'skipped';

export interface ObjectChange {
  /** `Deployment/default/podinfo`. */
  subject: string;
  action: ApplyAction | 'deleted';
  entry: InventoryEntry;
  ref: ObjectRef;
}

export interface ApplyOptions {
  fieldManager: string;
  /** Recreate objects whose immutable fields changed. */
  force: boolean;
  /** Namespace for namespaced objects that name none (targetNamespace, else the Kustomization's). */
  defaultNamespace: string;
  /** Overrides every namespaced object's namespace (Flux's targetNamespace). */
  targetNamespace?: string;
  clock: Clock;
  /** How long to wait for CRDs of the build to be established. */
  establishTimeoutMs: number;
}

/** The annotation (on the manifest or the live object) that makes the reconciler leave an object alone. */
export const RECONCILE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/reconcile';
export const PRUNE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/prune';

const isDisabled = (o: KubeObject | undefined, key: string): boolean => o?.metadata.annotations?.[key] === 'disabled';

/** The parts of an object an apply can change: everything but server bookkeeping. */
const comparable = (o: KubeObject): unknown => {
  const { managedFields: _m, resourceVersion: _r, generation: _g, ...metadata } = o.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  const { status: _s, ...rest } = o;
  return { ...rest, metadata };
};

const ownsWithApply = (live: KubeObject, fieldManager: string): boolean =>
  ((live.metadata as { managedFields?: Array<{ manager?: string; operation?: string }> }).managedFields ?? []).some(
    (f) => f.manager === fieldManager && f.operation === 'Apply',
  );

const isImmutableError = (e: unknown): boolean => e instanceof KubeApiError && e.status === 422 && /immutable/i.test(e.message);

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));

/** Sets the namespace the way the apply needs it; cluster-scoped objects lose any namespace given. */
export const placed = async (client: ApplyClient, o: KubeObject, opts: Pick<ApplyOptions, 'defaultNamespace' | 'targetNamespace'>): Promise<KubeObject> => {
  const namespaced = await client.isNamespaced(o.apiVersion, o.kind);
  if (namespaced === undefined) {
    throw new FledgeError('ReconciliationFailed', `${describe(o)}: the cluster serves no kind ${o.kind} in ${o.apiVersion} (is its CRD installed or part of this build?)`);
  }
  const metadata = { ...o.metadata };
  if (!namespaced) delete metadata.namespace;
  else metadata.namespace = opts.targetNamespace ?? metadata.namespace ?? opts.defaultNamespace;
  return { ...o, metadata };
};

const applyOne = async (client: ApplyClient, o: KubeObject, opts: ApplyOptions): Promise<ApplyAction> => {
  const live = await client.get(refOf(o));
  if (isDisabled(o, RECONCILE_ANNOTATION) || isDisabled(live, RECONCILE_ANNOTATION)) return 'skipped';
  const apply = (dryRun: boolean) => client.serverSideApply(o, { fieldManager: opts.fieldManager, dryRun, force: true });
  try {
    if (live) {
      const preview = await apply(true);
      if (isDeepStrictEqual(comparable(preview), comparable(live)) && ownsWithApply(live, opts.fieldManager)) return 'unchanged';
    }
    await apply(false);
    return live ? 'configured' : 'created';
  } catch (e) {
    if (!isImmutableError(e)) {
      throw new FledgeError('ReconciliationFailed', `${describe(o)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (!opts.force) {
      throw new FledgeError('ReconciliationFailed', `${describe(o)}: ${(e as Error).message}; set spec.force to recreate it`, { cause: e });
    }
    await client.delete(refOf(o));
    await waitGone(client, o, opts);
    await apply(false);
    return 'created';
  }
};

const waitGone = async (client: ApplyClient, o: KubeObject, opts: ApplyOptions): Promise<void> => {
  const deadline = opts.clock.now() + opts.establishTimeoutMs;
  while (await client.get(refOf(o))) {
    if (opts.clock.now() > deadline) throw new FledgeError('ReconciliationFailed', `${describe(o)}: still being deleted after ${opts.establishTimeoutMs} ms`);
    await sleep(opts.clock, 250);
  }
};

const isEstablished = (crd: KubeObject | undefined): boolean =>
  ((crd?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');

const waitEstablished = async (client: ApplyClient, crds: KubeObject[], opts: ApplyOptions): Promise<void> => {
  const deadline = opts.clock.now() + opts.establishTimeoutMs;
  for (const crd of crds) {
    while (!isEstablished(await client.get(refOf(crd)))) {
      if (opts.clock.now() > deadline) throw new FledgeError('ReconciliationFailed', `${describe(crd)}: not established after ${opts.establishTimeoutMs} ms`);
      await sleep(opts.clock, 200);
    }
  }
};

/**
 * Applies every object in stage order and returns what happened to each. Stops at the first failure
 * (objects of later stages may depend on it), naming the object.
 */
export const applyStaged = async (client: ApplyClient, objects: KubeObject[], opts: ApplyOptions): Promise<ObjectChange[]> => {
  const changes: ObjectChange[] = [];
  for (const stage of [1, 2, 3] as const) {
    const inStage = objects.filter((o) => stageOf(o) === stage);
    // Namespaces are decided per stage: a CRD applied in stage 1 makes its kind known for stage 3.
    const ready = (await Promise.all(inStage.map((o) => placed(client, o, opts)))).sort(applyOrder);
    for (const o of ready) changes.push({ subject: describe(o), action: await applyOne(client, o, opts), entry: entryOf(o), ref: refOf(o) });
    if (stage === 1) await waitEstablished(client, ready.filter((o) => o.kind === 'CustomResourceDefinition'), opts);
  }
  return changes;
};

export interface PruneOptions {
  /** Labels that mark an object as applied by this Kustomization; an object without them is never deleted. */
  ownerLabels: Record<string, string>;
}

/**
 * Deletes what the previous inventory held and the new one does not, in reverse apply order. An object
 * that lost our owner labels (someone else took it over), or that is annotated prune/reconcile
 * `disabled`, is left alone.
 */
export const prune = async (client: ApplyClient, previous: InventoryEntry[], current: InventoryEntry[], opts: PruneOptions): Promise<ObjectChange[]> => {
  const keep = new Set(current.map((e) => e.id));
  const stale = previous.filter((e) => !keep.has(e.id));
  const live = (await Promise.all(stale.map(async (entry) => ({ entry, object: await client.get(refOfEntry(entry)) })))).filter(
    (x): x is { entry: InventoryEntry; object: KubeObject } => x.object !== undefined,
  );
  live.sort((a, b) => applyOrder(b.object, a.object));
  const deleted: ObjectChange[] = [];
  for (const { entry, object } of live) {
    const labels = object.metadata.labels ?? {};
    if (!Object.entries(opts.ownerLabels).every(([k, v]) => labels[k] === v)) continue;
    if (isDisabled(object, PRUNE_ANNOTATION) || isDisabled(object, RECONCILE_ANNOTATION)) continue;
    try {
      await client.delete(refOf(object));
    } catch (e) {
      throw new FledgeError('PruneFailed', `${describe(object)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    deleted.push({ subject: describe(object), action: 'deleted', entry, ref: refOf(object) });
  }
  return deleted;
};
