/**
 * One reconciliation of one Kustomization: check dependencies, build the source's artifact, patch,
 * substitute, label, apply in stages, prune, wait for health, and write the status. Failures become
 * Ready=False with Flux's reason. lastAppliedRevision moves only on success, so a bad revision never
 * hides which one last worked; the inventory always records what is in the cluster, so pruning stays right.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../api/clock.js';
import { FledgeError, isFledgeError } from '../api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../kube/api.js';
import type { ApplyClient, ObjectChange } from './apply.js';
import { applyStaged, prune } from './apply.js';
import type { Condition } from './conditions.js';
import { conditionsOf, isReady, rfc3339, withCondition, withoutCondition } from './conditions.js';
import type { InventoryEntry } from './inventory.js';
import { describe } from './inventory.js';
import { applyPatches } from './patches.js';
import { collectVariables } from './substitute.js';
import type { SubstitutionTarget } from './substitute.js';
import type { Kustomization } from './types.js';
import { KUSTOMIZATION_API, REQUESTED_AT } from './types.js';

export interface Artifact {
  revision: string;
  /** An immutable directory holding this revision's files. */
  dir: string;
  ignore?: string;
}

export type HealthStatus = 'Current' | 'InProgress' | 'Failed';

export interface KustomizationDeps {
  /** The reconciler's own identity: the Kustomization's status and its dependencies. */
  client: ApplyClient & Pick<KubeApi, 'patchStatus'>;
  /**
   * What the build touches (apply, prune, health, substituteFrom) goes through this one: the
   * reconciler's client, or one impersonating `spec.serviceAccountName` (Flux's multi-tenancy lockdown).
   */
  objects?: ApplyClient;
  clock: Clock;
  fieldManager: string;
  /** The source's latest artifact, or undefined when it has none yet. */
  artifact(ref: { kind: string; name: string; namespace: string }): Artifact | undefined;
  /** The artifact's objects, each with the YAML it was read from (quoting kept for substitution). */
  build(artifact: Artifact, path: string): Promise<SubstitutionTarget[]>;
  /** Substitutes variables into each object (objects opting out are returned as they are). */
  substitute(objects: SubstitutionTarget[], vars: Record<string, string>): KubeObject[];
  /** The same substitution for a text that is not an object (a patch). */
  substituteText(text: string, vars: Record<string, string>): string;
  health(o: KubeObject): { status: HealthStatus; message: string };
  /** Between health polls (default 1 s). */
  healthPollMs?: number;
}

export interface Outcome {
  ready: boolean;
  reason: string;
  message: string;
  revision?: string;
  changes: ObjectChange[];
  /** When to come back: the interval after success, the retry interval after a failure. */
  requeueAfterMs: number;
}

/**
 * Whether a merge patch would leave the status as it is. A reconciliation that changes nothing then
 * writes nothing at all: idle Kustomizations cost the API server reads only.
 */
export const unchangedBy = (status: Record<string, unknown>, patch: Record<string, unknown>): boolean =>
  Object.entries(patch).every(([key, value]) => isDeepStrictEqual(status[key], value));

/** The labels Flux puts on what a Kustomization applies; pruning only ever deletes objects carrying them. */
export const ownerLabels = (k: Kustomization): Record<string, string> => ({
  'kustomize.toolkit.fluxcd.io/name': k.metadata.name,
  'kustomize.toolkit.fluxcd.io/namespace': k.metadata.namespace,
});

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const inventoryOf = (raw: KubeObject): InventoryEntry[] => {
  const entries = (raw.status as { inventory?: { entries?: InventoryEntry[] } } | undefined)?.inventory?.entries;
  return Array.isArray(entries) ? entries : [];
};

const checkDependencies = async (k: Kustomization, client: ApplyClient): Promise<void> => {
  for (const dep of k.spec.dependsOn) {
    const ref: ObjectRef = { apiVersion: KUSTOMIZATION_API, kind: 'Kustomization', ...dep };
    const live = await client.get(ref);
    if (!live) throw new FledgeError('DependencyNotReady', `dependency '${dep.namespace}/${dep.name}' not found`);
    if (!isReady(live.status, live.metadata.generation ?? 0)) throw new FledgeError('DependencyNotReady', `dependency '${dep.namespace}/${dep.name}' is not ready`);
  }
};

const variables = async (k: Kustomization, client: ApplyClient): Promise<Record<string, string>> => {
  const from: KubeObject[] = [];
  for (const ref of k.spec.substituteFrom) {
    const o = await client.get({ apiVersion: 'v1', kind: ref.kind, name: ref.name, namespace: k.metadata.namespace });
    if (o) from.push(o);
    else if (!ref.optional) throw new FledgeError('BuildFailed', `spec.postBuild.substituteFrom: ${ref.kind} '${k.metadata.namespace}/${ref.name}' not found`);
  }
  return collectVariables(from, k.spec.substitute);
};

const withOwnerLabels = (objects: KubeObject[], labels: Record<string, string>): KubeObject[] =>
  objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...labels } } }));

/** The build of an artifact as it will be applied: patched, substituted and labelled as ours. */
export const prepareObjects = async (k: Kustomization, artifact: Artifact, deps: Pick<KustomizationDeps, 'build' | 'substitute' | 'substituteText' | 'client' | 'objects'>): Promise<KubeObject[]> => {
  const documents = await deps.build(artifact, k.spec.path);
  const vars = await variables(k, deps.objects ?? deps.client);
  // Variables are substituted into the YAML as written, before patching, and into the patches' own
  // text, so each value takes the type its author's quoting gives it (`"${port}"` stays a string,
  // `replicas: ${count}` becomes a number) whether it sits in a manifest or in a patch.
  const substituted = deps.substitute(documents, vars);
  const patches = k.spec.patches.map((p) => ({ ...p, patch: deps.substituteText(p.patch, vars) }));
  const objects = applyPatches(substituted, patches);
  return withOwnerLabels(objects, ownerLabels(k));
};

/** Waits until every object is Current; throws HealthCheckFailed naming the first that failed or timed out. */
const waitHealthy = async (refs: ObjectRef[], k: Kustomization, deps: KustomizationDeps): Promise<void> => {
  const deadline = deps.clock.now() + k.spec.timeout.ms;
  for (;;) {
    const pending: string[] = [];
    for (const ref of refs) {
      const live = await (deps.objects ?? deps.client).get(ref);
      const subject = describe(ref);
      if (!live) {
        pending.push(`${subject} not found`);
        continue;
      }
      const h = deps.health(live);
      if (h.status === 'Failed') throw new FledgeError('HealthCheckFailed', `health check failed: ${subject}: ${h.message}`);
      if (h.status === 'InProgress') pending.push(`${subject}: ${h.message}`);
    }
    if (pending.length === 0) return;
    if (deps.clock.now() >= deadline) {
      throw new FledgeError('HealthCheckFailed', `health check timed out after ${k.spec.timeout.text}: ${pending.join('; ')}`);
    }
    await sleep(deps.clock, deps.healthPollMs ?? 1000);
  }
};

const healthRefs = (k: Kustomization, changes: ObjectChange[]): ObjectRef[] => {
  if (k.spec.wait) return changes.filter((c) => c.action !== 'deleted' && c.action !== 'skipped').map((c) => c.ref);
  return k.spec.healthChecks.map((h) => ({ ...h, namespace: h.namespace ?? k.metadata.namespace }));
};

const summary = (changes: ObjectChange[]): string => {
  const counts = new Map<string, number>();
  for (const c of changes) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${action}`).join(', ') || 'nothing to apply';
};

/** Runs one reconciliation and writes the status; never throws for a failure of the Kustomization itself. */
export const reconcileKustomization = async (raw: KubeObject, k: Kustomization, deps: KustomizationDeps): Promise<Outcome> => {
  const ref: ObjectRef = { apiVersion: KUSTOMIZATION_API, kind: 'Kustomization', name: k.metadata.name, namespace: k.metadata.namespace };
  let conditions: Condition[] = conditionsOf(raw.status);
  const previous = inventoryOf(raw);
  const artifact = deps.artifact(k.spec.sourceRef);
  const gen = k.metadata.generation;
  const requested = k.metadata.annotations[REQUESTED_AT];
  let written = (raw.status ?? {}) as Record<string, unknown>;
  const writeStatus = async (extra: Record<string, unknown>) => {
    const patch = { observedGeneration: gen, conditions, ...(requested ? { lastHandledReconcileAt: requested } : {}), ...extra };
    if (unchangedBy(written, patch)) return;
    await deps.client.patchStatus(ref, patch);
    written = { ...written, ...patch };
  };

  let changes: ObjectChange[] = [];
  try {
    await checkDependencies(k, deps.client);
    if (!artifact) {
      const src = `${k.spec.sourceRef.kind} '${k.spec.sourceRef.namespace}/${k.spec.sourceRef.name}'`;
      throw new FledgeError('ArtifactFailed', `Source artifact not found: ${src} is not ready yet`);
    }
    conditions = withCondition(conditions, { type: 'Reconciling', status: 'True', reason: 'Progressing', message: `Reconciliation in progress for revision ${artifact.revision}`, observedGeneration: gen }, deps.clock.now());
    const objects = await prepareObjects(k, artifact, deps);
    const cluster = deps.objects ?? deps.client;
    changes = await applyStaged(cluster, objects, {
      fieldManager: deps.fieldManager,
      force: k.spec.force,
      defaultNamespace: k.metadata.namespace,
      ...(k.spec.targetNamespace ? { targetNamespace: k.spec.targetNamespace } : {}),
      clock: deps.clock,
      establishTimeoutMs: k.spec.timeout.ms,
    });
    const inventory = changes.map((c) => c.entry);
    if (k.spec.prune) changes.push(...(await prune(cluster, previous, inventory, { ownerLabels: ownerLabels(k) })));
    // A changed inventory is saved before the health wait: what was applied is in the cluster either way,
    // and a later prune must know it even if this revision never turns healthy.
    if (!isDeepStrictEqual(previous, inventory)) await writeStatus({ lastAttemptedRevision: artifact.revision, inventory: { entries: inventory } });
    const checks = healthRefs(k, changes);
    if (checks.length > 0) {
      await waitHealthy(checks, k, deps);
      conditions = withCondition(conditions, { type: 'Healthy', status: 'True', reason: 'Succeeded', message: 'Health check passed', observedGeneration: gen }, deps.clock.now());
    }
    const message = `Applied revision: ${artifact.revision}`;
    conditions = withoutCondition(withoutCondition(conditions, 'Reconciling'), 'Stalled');
    conditions = withCondition(conditions, { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message, observedGeneration: gen }, deps.clock.now());
    await writeStatus({ lastAppliedRevision: artifact.revision, lastAttemptedRevision: artifact.revision, inventory: { entries: inventory } });
    return { ready: true, reason: 'ReconciliationSucceeded', message: `${message} (${summary(changes)})`, revision: artifact.revision, changes, requeueAfterMs: k.spec.interval.ms };
  } catch (e) {
    const reason = isFledgeError(e) ? e.code : 'ReconciliationFailed';
    const message = messageOf(e);
    const now = deps.clock.now();
    if (reason === 'HealthCheckFailed') {
      conditions = withCondition(conditions, { type: 'Healthy', status: 'False', reason, message, observedGeneration: gen }, now);
    }
    conditions = withoutCondition(conditions, 'Reconciling');
    conditions = withCondition(conditions, { type: 'Ready', status: 'False', reason, message, observedGeneration: gen }, now);
    await writeStatus(artifact ? { lastAttemptedRevision: artifact.revision } : {}).catch(() => undefined);
    return { ready: false, reason, message, ...(artifact ? { revision: artifact.revision } : {}), changes, requeueAfterMs: k.spec.retryInterval.ms };
  }
};

/** The status of a Kustomization whose spec does not parse: Stalled, since retrying cannot help. */
export const stalledStatus = (raw: KubeObject, message: string, nowMs: number): Record<string, unknown> => {
  const gen = raw.metadata.generation ?? 0;
  let conditions = withCondition(conditionsOf(raw.status), { type: 'Ready', status: 'False', reason: 'InvalidSpec', message, observedGeneration: gen }, nowMs);
  conditions = withCondition(conditions, { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message, observedGeneration: gen }, nowMs);
  return { observedGeneration: gen, conditions };
};

export { rfc3339 };
