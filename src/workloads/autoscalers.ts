/**
 * The primary's autoscaler: a `<name>-primary` copy of the target's HorizontalPodAutoscaler
 * (autoscaling/v2) or KEDA ScaledObject, scaling the primary workload (Flagger's hpa_reconciler.go and
 * scaled_object_reconciler.go). While the target is scaled to zero its ScaledObject is paused, else
 * KEDA would scale it back up; an HPA needs nothing, as it leaves a zero-replica target alone.
 */
import type { AutoscalerReference, Canary } from '../api/index.js';
import { FledgeError } from '../api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../kube/api.js';
import { refOf } from '../kube/api.js';
import type { JsonMap } from './json.js';
import { deepCopy, isMap, listOf, mapOf, numberOf, sameJson, stringMapOf, stringOf } from './json.js';
import { copiedMetadata, ownedMeta } from './metadata.js';
import { retryOnConflict } from './retry.js';

export const KEDA_PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';

export const autoscalerRefOf = (canary: Canary): ObjectRef | undefined => {
  const ref = canary.spec.autoscalerRef;
  return ref && { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace: canary.metadata.namespace };
};

const primaryRefOf = (canary: Canary): ObjectRef | undefined => {
  const ref = autoscalerRefOf(canary);
  return ref && { ...ref, name: `${ref.name}-primary` };
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A trigger query rewritten for the primary: the target's name (bare or `-canary`) becomes
 * `<target>-primary`. Only whole names are rewritten (`podinfo2` stays); use primaryScalerQueries
 * when the guess is wrong.
 */
export const primaryQuery = (query: string, targetName: string): string => {
  const name = new RegExp(`(?<![A-Za-z0-9-])${escapeRegExp(targetName)}(?:-canary|-primary)?(?![A-Za-z0-9-])`, 'g');
  return query.replace(name, `${targetName}-primary`);
};

const replicaOverrides = (ref: AutoscalerReference, minKey: string, maxKey: string): JsonMap => ({
  ...(ref.primaryScalerReplicas?.minReplicas !== undefined ? { [minKey]: ref.primaryScalerReplicas.minReplicas } : {}),
  ...(ref.primaryScalerReplicas?.maxReplicas !== undefined ? { [maxKey]: ref.primaryScalerReplicas.maxReplicas } : {}),
});

const copyMeta = (source: KubeObject, canary: Canary, includeLabelPrefixes?: readonly string[]): KubeObject['metadata'] => {
  const annotations = copiedMetadata(stringMapOf(source.metadata.annotations), includeLabelPrefixes);
  // The canary's pause must never pause the primary.
  delete annotations[KEDA_PAUSED_REPLICAS_ANNOTATION];
  return ownedMeta(canary, `${source.metadata.name}-primary`, copiedMetadata(stringMapOf(source.metadata.labels), includeLabelPrefixes), annotations);
};

/** The `-primary` HPA: the target HPA's spec, scaling the primary workload. */
export const buildPrimaryHpa = (hpa: KubeObject, canary: Canary, primaryWorkload: string, includeLabelPrefixes?: readonly string[]): KubeObject => {
  const spec = mapOf(hpa.spec);
  const ref = canary.spec.autoscalerRef;
  const target = mapOf(spec.scaleTargetRef);
  return {
    apiVersion: hpa.apiVersion,
    kind: hpa.kind,
    metadata: copyMeta(hpa, canary, includeLabelPrefixes),
    spec: {
      ...deepCopy(spec),
      scaleTargetRef: { apiVersion: target.apiVersion ?? 'apps/v1', kind: target.kind ?? canary.spec.targetRef.kind, name: primaryWorkload },
      ...(ref ? replicaOverrides(ref, 'minReplicas', 'maxReplicas') : {}),
    },
  };
};

/** The `-primary` ScaledObject: triggers query the primary (primaryScalerQueries by trigger name win). */
export const buildPrimaryScaledObject = (
  so: KubeObject,
  canary: Canary,
  primaryWorkload: string,
  includeLabelPrefixes?: readonly string[],
): KubeObject => {
  const spec = deepCopy(mapOf(so.spec));
  const ref = canary.spec.autoscalerRef;
  const queries = ref?.primaryScalerQueries ?? {};
  spec.scaleTargetRef = { ...mapOf(spec.scaleTargetRef), name: primaryWorkload };
  spec.triggers = listOf(spec.triggers).map((trigger) => {
    if (!isMap(trigger) || !isMap(trigger.metadata) || typeof trigger.metadata.query !== 'string') return trigger;
    const named = stringOf(trigger.name);
    const query = named !== undefined && queries[named] !== undefined ? queries[named] : primaryQuery(trigger.metadata.query, canary.spec.targetRef.name);
    return { ...trigger, metadata: { ...trigger.metadata, query } };
  });
  return {
    apiVersion: so.apiVersion,
    kind: so.kind,
    metadata: copyMeta(so, canary, includeLabelPrefixes),
    spec: { ...spec, ...(ref ? replicaOverrides(ref, 'minReplicaCount', 'maxReplicaCount') : {}) },
  };
};

const readAutoscaler = async (kube: KubeApi, canary: Canary): Promise<KubeObject> => {
  const ref = autoscalerRefOf(canary);
  const source = ref && (await kube.get(ref));
  if (!ref || !source) {
    throw new FledgeError('NotReady', `${ref?.kind ?? 'autoscaler'} ${ref?.name ?? ''}.${canary.metadata.namespace} not found`);
  }
  return source;
};

/**
 * Creates the primary autoscaler, or (on promotion, `update`) brings it to the target's spec,
 * labels and annotations.
 */
export const reconcilePrimaryAutoscaler = async (
  kube: KubeApi,
  canary: Canary,
  primaryWorkload: string,
  opts: { update: boolean; includeLabelPrefixes?: readonly string[] },
): Promise<void> => {
  if (!canary.spec.autoscalerRef) return;
  const source = await readAutoscaler(kube, canary);
  const build = source.kind === 'ScaledObject' ? buildPrimaryScaledObject : buildPrimaryHpa;
  const desired = build(source, canary, primaryWorkload, opts.includeLabelPrefixes);
  await retryOnConflict(async () => {
    const live = await kube.get(refOf(desired));
    if (!live) {
      await kube.create(desired);
      return;
    }
    if (!opts.update) return;
    const same =
      sameJson(live.spec, desired.spec) &&
      sameJson(live.metadata.labels ?? {}, desired.metadata.labels) &&
      sameJson(live.metadata.annotations ?? {}, desired.metadata.annotations);
    if (!same) {
      await kube.replace({ ...live, metadata: { ...live.metadata, labels: desired.metadata.labels, annotations: desired.metadata.annotations }, spec: desired.spec });
    }
  });
};

/** Pauses (replicas 0) or resumes the target's ScaledObject; HPAs need neither. */
export const setTargetScalerPaused = async (kube: KubeApi, canary: Canary, paused: boolean): Promise<void> => {
  const ref = autoscalerRefOf(canary);
  if (!ref || ref.kind !== 'ScaledObject') return;
  const live = await kube.get(ref);
  if (!live) return;
  const current = live.metadata.annotations?.[KEDA_PAUSED_REPLICAS_ANNOTATION];
  if (paused ? current === '0' : current === undefined) return;
  await kube.mergePatch(ref, { metadata: { annotations: { [KEDA_PAUSED_REPLICAS_ANNOTATION]: paused ? '0' : null } } });
};

/** The autoscaler's floor, when it asks for more than one replica (the canary starts there). */
export const autoscalerMinReplicas = async (kube: KubeApi, canary: Canary): Promise<number | undefined> => {
  const ref = autoscalerRefOf(canary);
  const live = ref && (await kube.get(ref));
  if (!live) return undefined;
  const min = numberOf(mapOf(live.spec)[live.kind === 'ScaledObject' ? 'minReplicaCount' : 'minReplicas']);
  return min !== undefined && min > 1 ? min : undefined;
};

export const deletePrimaryAutoscaler = async (kube: KubeApi, canary: Canary): Promise<void> => {
  const ref = primaryRefOf(canary);
  if (ref) await kube.delete(ref);
};
