/**
 * The primary/canary objects Fledge manages for a Canary, behind KubeApi: `createWorkloads(deps)`
 * picks the implementation for the canary's target kind on every call, so one instance serves every
 * canary of a controller.
 */
import type { Canary } from '../api/index.js';
import { isKnativeTarget } from '../api/knative.js';
import { createKnativeTarget } from './knative.js';
import { DEFAULT_SELECTOR_LABELS } from './metadata.js';
import { createServiceTarget } from './service-target.js';
import type { WorkloadSettings, Workloads, WorkloadsDeps } from './types.js';
import { createWorkloadTarget } from './workload-target.js';

export const createWorkloads = (deps: WorkloadsDeps): Workloads => {
  const settings: WorkloadSettings = {
    kube: deps.kube,
    clock: deps.clock,
    selectorLabels: deps.selectorLabels?.length ? deps.selectorLabels : DEFAULT_SELECTOR_LABELS,
    configTracking: deps.configTracking ?? true,
    ...(deps.includeLabelPrefixes ? { includeLabelPrefixes: deps.includeLabelPrefixes } : {}),
  };
  const workloadTarget = createWorkloadTarget(settings);
  const serviceTarget = createServiceTarget(settings);
  const knativeTarget = createKnativeTarget(settings);
  const pick = (canary: Canary): Workloads => {
    if (isKnativeTarget(canary.spec.targetRef)) return knativeTarget;
    return canary.spec.targetRef.kind === 'Service' ? serviceTarget : workloadTarget;
  };
  return {
    initialize: (canary) => pick(canary).initialize(canary),
    primaryReadiness: (canary) => pick(canary).primaryReadiness(canary),
    canaryReadiness: (canary) => pick(canary).canaryReadiness(canary),
    targetChecksum: (canary) => pick(canary).targetChecksum(canary),
    scaleCanaryToZero: (canary) => pick(canary).scaleCanaryToZero(canary),
    scaleCanaryUp: (canary) => pick(canary).scaleCanaryUp(canary),
    promote: (canary) => pick(canary).promote(canary),
    finalize: (canary) => pick(canary).finalize(canary),
    selectorOf: (canary) => pick(canary).selectorOf(canary),
  };
};

export type { FinalizeProgress, TargetRevision, Workloads, WorkloadsDeps } from './types.js';
export type { SelectorLabel } from './primary-spec.js';
export { DEFAULT_SELECTOR_LABELS, FLUX_RECONCILE_DISABLED, ORIGINAL_SELECTOR_ANNOTATION, ROLLOUT_ID_ANNOTATION } from './metadata.js';
export { CONFIG_TRACKING_ANNOTATION } from './configs.js';
export { KEDA_PAUSED_REPLICAS_ANNOTATION } from './autoscalers.js';
