/**
 * Workloads for Deployment and DaemonSet targets: the primary copy, its Services, configs and
 * autoscaler, readiness, scaling and promotion. The pure parts live in primary-spec.ts, configs.ts,
 * services.ts and readiness.ts; this file only sequences the API calls.
 */
import type { Canary } from '../api/index.js';
import { FledgeError } from '../api/index.js';
import type { Readiness } from '../engine/ports.js';
import type { KubeObject, ObjectRef } from '../kube/api.js';
import {
  autoscalerMinReplicas,
  deletePrimaryAutoscaler,
  reconcilePrimaryAutoscaler,
  setTargetScalerPaused,
} from './autoscalers.js';
import { revisionChecksum } from './checksum.js';
import type { TrackedConfig } from './configs.js';
import { checksumsOf, deletePrimaryConfigs, findConfigRefs, readTrackedConfigs, syncPrimaryConfigs } from './configs.js';
import { mapOf, numberOf, pathOf, sameJson } from './json.js';
import { DAEMONSET_SCALE_DOWN_SELECTOR, isOwnedBy } from './metadata.js';
import type { PrimaryOptions, SelectorLabel } from './primary-spec.js';
import {
  buildPrimaryWorkload,
  checkTargetStrategy,
  primaryName,
  promotedPrimary,
  revisionSource,
  selectorLabelOf,
} from './primary-spec.js';
import { workloadReadiness } from './readiness.js';
import { retryOnConflict } from './retry.js';
import type { ServiceRole } from './services.js';
import { buildService, discoverPorts, reconcileService, releaseApex, serviceName, servicePorts } from './services.js';
import type { FinalizeProgress, TargetRevision, WorkloadSettings, Workloads } from './types.js';

interface Revision extends TargetRevision {
  tracked: TrackedConfig[];
}

const targetRefOf = (canary: Canary): ObjectRef => ({
  apiVersion: canary.spec.targetRef.apiVersion,
  kind: canary.spec.targetRef.kind,
  name: canary.spec.targetRef.name,
  namespace: canary.metadata.namespace,
});

const primaryRefOf = (canary: Canary): ObjectRef => ({ ...targetRefOf(canary), name: primaryName(canary.spec.targetRef.name) });

const describe = (ref: ObjectRef): string => `${ref.kind.toLowerCase()} ${ref.name}.${ref.namespace ?? 'default'}`;

const podSpecOf = (workload: KubeObject): unknown => pathOf(workload, 'spec', 'template', 'spec');

const replicasOf = (workload: KubeObject | undefined): number | undefined => numberOf(mapOf(workload?.spec).replicas);

const isInitializing = (canary: Canary): boolean => canary.status.phase === undefined || canary.status.phase === 'Initializing';

export const createWorkloadTarget = (settings: WorkloadSettings): Workloads => {
  const { kube, clock } = settings;

  const readTarget = async (canary: Canary): Promise<KubeObject> => {
    const ref = targetRefOf(canary);
    const target = await kube.get(ref);
    if (!target) throw new FledgeError('NotReady', `${describe(ref)} not found`);
    return target;
  };

  const revisionOf = async (canary: Canary, target: KubeObject): Promise<Revision> => {
    const refs = settings.configTracking ? findConfigRefs(podSpecOf(target)) : [];
    const tracked = await readTrackedConfigs(kube, canary.metadata.namespace, refs);
    const trackedConfigs = checksumsOf(tracked);
    return { checksum: revisionChecksum(revisionSource(target), trackedConfigs), trackedConfigs, tracked };
  };

  const primaryOptions = (target: KubeObject, revision: Revision): PrimaryOptions => ({
    selector: selectorLabelOf(target, settings.selectorLabels),
    trackedKeys: new Set(revision.tracked.map((c) => c.key)),
    rolloutId: revision.checksum,
    selectorLabels: settings.selectorLabels,
    ...(settings.includeLabelPrefixes ? { includeLabelPrefixes: settings.includeLabelPrefixes } : {}),
  });

  const readiness = async (canary: Canary, ref: ObjectRef, role: 'primary' | 'canary'): Promise<Readiness> => {
    const workload = await kube.get(ref);
    if (!workload) return { ready: false, retriable: true, message: `${describe(ref)} not found` };
    const { analysis } = canary.spec;
    const since = canary.status.lastTransitionTime ? Date.parse(canary.status.lastTransitionTime) : NaN;
    const result = workloadReadiness(workload, {
      readyThreshold: role === 'primary' ? analysis.primaryReadyThreshold : analysis.canaryReadyThreshold,
      deadlineSeconds: canary.spec.progressDeadlineSeconds,
      nowMs: clock.now(),
      ...(Number.isNaN(since) ? {} : { sinceMs: since }),
    });
    if (result.ready && role === 'primary' && workload.kind === 'Deployment' && replicasOf(workload) === 0) {
      return { ready: false, retriable: true, message: `halt ${canary.metadata.name}.${canary.metadata.namespace} advancement: primary deployment is scaled to zero` };
    }
    if (result.ready) return result;
    const subject = role === 'primary' ? `${ref.name}.${ref.namespace}` : `canary ${describe(ref)}`;
    return { ...result, message: `${subject} not ready: ${result.message}` };
  };

  const reconcileServices = async (canary: Canary, target: KubeObject, sel: SelectorLabel, roles: ServiceRole[]): Promise<void> => {
    const { service } = canary.spec;
    const ports = servicePorts(service, service.portDiscovery ? discoverPorts(service, podSpecOf(target)) : []);
    for (const role of roles) await reconcileService(kube, canary, role, buildService(canary, role, sel, ports), sel);
  };

  /** Replicas the target scales up to: its own, else the autoscaler's floor, else the primary's, at least 1. */
  const scaleUpReplicas = async (canary: Canary, target: KubeObject): Promise<number> => {
    const own = replicasOf(target);
    if (own !== undefined && own > 0) return own;
    if (canary.spec.autoscalerRef) return (await autoscalerMinReplicas(kube, canary)) ?? 1;
    const primary = replicasOf(await kube.get(primaryRefOf(canary)));
    return primary !== undefined && primary > 0 ? primary : 1;
  };

  const scaleTarget = async (canary: Canary, up: boolean, replicas?: number): Promise<void> => {
    const target = await readTarget(canary);
    const ref = targetRefOf(canary);
    if (target.kind === 'DaemonSet') {
      const key = Object.keys(DAEMONSET_SCALE_DOWN_SELECTOR)[0] ?? '';
      const current = pathOf(target, 'spec', 'template', 'spec', 'nodeSelector', key);
      if (up ? current === undefined : current === 'true') return;
      await kube.mergePatch(ref, { spec: { template: { spec: { nodeSelector: { [key]: up ? null : 'true' } } } } });
      return;
    }
    const wanted = up ? (replicas ?? (await scaleUpReplicas(canary, target))) : 0;
    if (replicasOf(target) !== wanted) await kube.mergePatch(ref, { spec: { replicas: wanted } });
  };

  const workloads: Workloads = {
    async initialize(canary) {
      const target = await readTarget(canary);
      checkTargetStrategy(target);
      const sel = selectorLabelOf(target, settings.selectorLabels);
      if (!(await kube.get(primaryRefOf(canary)))) {
        const revision = await revisionOf(canary, target);
        await syncPrimaryConfigs(kube, canary, revision.tracked, settings.includeLabelPrefixes);
        await kube.create(buildPrimaryWorkload(target, canary, primaryOptions(target, revision)));
      }
      await reconcileServices(canary, target, sel, ['canary', 'primary']);
      await reconcilePrimaryAutoscaler(kube, canary, primaryName(target.metadata.name), {
        update: false,
        ...(settings.includeLabelPrefixes ? { includeLabelPrefixes: settings.includeLabelPrefixes } : {}),
      });
      // Traffic moves to the primary only once it can take it (Flagger reconciles the apex after the primary is ready).
      if (!isInitializing(canary) || canary.spec.skipAnalysis || (await workloads.primaryReadiness(canary)).ready) {
        await reconcileServices(canary, target, sel, ['apex']);
      }
    },

    primaryReadiness: (canary) => readiness(canary, primaryRefOf(canary), 'primary'),

    canaryReadiness: (canary) => readiness(canary, targetRefOf(canary), 'canary'),

    async targetChecksum(canary) {
      const { checksum, trackedConfigs } = await revisionOf(canary, await readTarget(canary));
      return { checksum, trackedConfigs };
    },

    async scaleCanaryToZero(canary) {
      await scaleTarget(canary, false);
      await setTargetScalerPaused(kube, canary, true);
    },

    async scaleCanaryUp(canary) {
      await setTargetScalerPaused(kube, canary, false);
      await scaleTarget(canary, true);
    },

    async promote(canary) {
      const target = await readTarget(canary);
      const revision = await revisionOf(canary, target);
      const options = primaryOptions(target, revision);
      const ref = primaryRefOf(canary);
      // Configs first: the new template names the copies, which must hold the new data when pods start.
      await syncPrimaryConfigs(kube, canary, revision.tracked, settings.includeLabelPrefixes);
      await retryOnConflict(async () => {
        const live = await kube.get(ref);
        if (!live) throw new FledgeError('NotReady', `${describe(ref)} not found`);
        const next = promotedPrimary(live, target, { ...options, copyReplicas: !canary.spec.autoscalerRef });
        if (!sameJson(next, live)) await kube.replace(next);
      });
      await reconcilePrimaryAutoscaler(kube, canary, ref.name, {
        update: true,
        ...(settings.includeLabelPrefixes ? { includeLabelPrefixes: settings.includeLabelPrefixes } : {}),
      });
    },

    async finalize(canary): Promise<FinalizeProgress> {
      const target = await kube.get(targetRefOf(canary));
      if (target) {
        const primary = await kube.get(primaryRefOf(canary));
        const primaryReplicas = replicasOf(primary);
        await setTargetScalerPaused(kube, canary, false);
        await scaleTarget(canary, true, primaryReplicas !== undefined && primaryReplicas > 0 ? primaryReplicas : undefined);
        const serving = await workloads.canaryReadiness(canary);
        // Keep the primary serving until the target can; a target that will never be ready does not hold us up.
        if (!serving.ready && serving.retriable) return { done: false, message: serving.message };
        await releaseApex(kube, canary, selectorLabelOf(target, settings.selectorLabels));
      }
      const primaryRef = primaryRefOf(canary);
      const namespace = canary.metadata.namespace;
      const owned = async (ref: ObjectRef): Promise<void> => {
        const live = await kube.get(ref);
        if (live && isOwnedBy(live, canary)) await kube.delete(ref);
      };
      await owned(primaryRef);
      for (const role of ['primary', 'canary'] as const) {
        await owned({ apiVersion: 'v1', kind: 'Service', name: serviceName(canary, role), namespace });
      }
      await deletePrimaryAutoscaler(kube, canary);
      if (target) await deletePrimaryConfigs(kube, canary, findConfigRefs(podSpecOf(target)));
      return { done: true, message: `${describe(targetRefOf(canary))} restored` };
    },

    async selectorOf(canary) {
      return selectorLabelOf(await readTarget(canary), settings.selectorLabels);
    },
  };
  return workloads;
};
