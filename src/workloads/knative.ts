/**
 * Workloads for a Knative Service target (serving.knative.dev/v1; Flagger's knative_controller.go).
 * Knative keeps every revision of the Service and scales each one itself, so there is no primary
 * copy, no Service to create and nothing to scale: the primary is the revision named by the Service's
 * `flagger.app/primary-revision` annotation (pinned by the knative router), the canary is the latest
 * created revision, and promotion moves the annotation. A new revision is a new checksum.
 *
 * Differences from Flagger, on purpose:
 * - before the router has pinned a primary, the primary is Knative's own serving revision (the latest
 *   ready one) instead of an error, so initialization can wait for it like for a Deployment;
 * - a revision that is not ready waits until the canary's progressDeadlineSeconds (a revision whose
 *   Ready condition says ProgressDeadlineExceeded fails at once), instead of waiting forever;
 * - promotion pins the revision that was analysed (status.lastAppliedSpec, once Ready), not whichever
 *   revision is latest at that moment, and renames the primary entry of spec.traffic in the same write
 *   (guarded by the resourceVersion it read), so the router's next read finds the split it wrote.
 *
 * The checksum is the revision name itself, not Flagger's hash of it: a Canary migrated from Flagger
 * starts one analysis of the revision it already runs.
 */
import type { Canary } from '../api/index.js';
import { FledgeError } from '../api/index.js';
import { KNATIVE_API_VERSION, PRIMARY_REVISION_ANNOTATION } from '../api/knative.js';
import type { Readiness } from '../engine/ports.js';
import type { KubeObject, ObjectRef } from '../kube/api.js';
import { isMap, listOf, mapOf, stringOf } from './json.js';
import type { ReadinessContext } from './readiness.js';
import { retryOnConflict } from './retry.js';
import type { WorkloadSettings, Workloads } from './types.js';

/** The label Knative puts on each Revision naming the Service it belongs to. */
export const KNATIVE_SERVICE_LABEL = 'serving.knative.dev/service';

export type DeadlineContext = Omit<ReadinessContext, 'readyThreshold'>;

/** The revision names a Knative Service carries; empty strings count as absent. */
export interface RevisionNames {
  latestCreated?: string;
  latestReady?: string;
  /** The router's pin (the annotation). */
  pinned?: string;
}

const nonEmpty = (value: unknown): string | undefined => stringOf(value) || undefined;

export const revisionNamesOf = (service: KubeObject): RevisionNames => {
  const status = mapOf(service.status);
  const names: RevisionNames = {};
  const latestCreated = nonEmpty(status.latestCreatedRevisionName);
  const latestReady = nonEmpty(status.latestReadyRevisionName);
  const pinned = nonEmpty(service.metadata.annotations?.[PRIMARY_REVISION_ANNOTATION]);
  if (latestCreated) names.latestCreated = latestCreated;
  if (latestReady) names.latestReady = latestReady;
  if (pinned) names.pinned = pinned;
  return names;
};

/** The primary: the pinned revision, else (before the router adopts the Service) the one Knative serves. */
export const primaryRevisionName = (service: KubeObject): string | undefined => {
  const names = revisionNamesOf(service);
  return names.pinned ?? names.latestReady;
};

const readyCondition = (revision: KubeObject): Record<string, unknown> | undefined =>
  listOf(mapOf(revision.status).conditions).filter(isMap).find((c) => c.type === 'Ready');

export const isRevisionReady = (revision: KubeObject): boolean => readyCondition(revision)?.status === 'True';

/** Whether the Revision belongs to the Service; a Revision without Knative's label is taken at its word. */
export const belongsTo = (revision: KubeObject, serviceName: string): boolean => {
  const owner = revision.metadata.labels?.[KNATIVE_SERVICE_LABEL];
  return owner === undefined || owner === serviceName;
};

const deadlinePassed = (ctx: DeadlineContext): boolean => ctx.sinceMs !== undefined && ctx.nowMs - ctx.sinceMs > ctx.deadlineSeconds * 1000;

/**
 * Whether a Revision serves: its Ready condition is True. Not ready waits (Knative is still rolling
 * it out, or retrying) until the canary's deadline; Knative's own ProgressDeadlineExceeded is final.
 */
export const revisionReadiness = (revision: KubeObject | undefined, name: string, ctx: DeadlineContext): Readiness => {
  if (revision && isRevisionReady(revision)) return { ready: true, retriable: true, message: '' };
  const condition = revision ? readyCondition(revision) : undefined;
  const reason = stringOf(condition?.reason);
  const detail = revision
    ? [reason, stringOf(condition?.message)].filter((s) => s).join(': ') || `Ready is ${stringOf(condition?.status) ?? 'not reported'}`
    : 'not found';
  const message = `Knative Revision ${name} not ready: ${detail}`;
  if (reason === 'ProgressDeadlineExceeded') return { ready: false, retriable: false, message };
  return deadlinePassed(ctx)
    ? { ready: false, retriable: false, message: `${message}; exceeded its progressDeadlineSeconds: ${ctx.deadlineSeconds}` }
    : { ready: false, retriable: true, message };
};

/**
 * The revision promotion pins: the analysed one (the canary's lastAppliedSpec) when it is a Revision
 * of this Service, which must then be ready; otherwise (a status written by Flagger holds a hash, not
 * a name) the latest ready revision, as Knative would serve it.
 */
export const promotionRevision = (service: KubeObject, analysed: KubeObject | undefined): string => {
  if (analysed && belongsTo(analysed, service.metadata.name)) {
    if (!isRevisionReady(analysed)) throw new FledgeError('NotReady', `Knative Revision ${analysed.metadata.name} is not ready; it cannot be promoted`);
    return analysed.metadata.name;
  }
  const latestReady = revisionNamesOf(service).latestReady;
  if (!latestReady) throw new FledgeError('NotReady', `Knative Service ${service.metadata.name} has no ready revision to promote`);
  return latestReady;
};

/**
 * The merge patch that makes `revision` the primary: the annotation, and the traffic entries that
 * named the old primary renamed so the split keeps its percentages (both revisions now serve the
 * promoted code, as a promoted primary Deployment does). Undefined when there is nothing to change.
 */
export const promotionPatch = (service: KubeObject, revision: string): Record<string, unknown> | undefined => {
  const pinned = revisionNamesOf(service).pinned;
  if (pinned === revision) return undefined;
  const patch: Record<string, unknown> = {
    metadata: { resourceVersion: service.metadata.resourceVersion, annotations: { [PRIMARY_REVISION_ANNOTATION]: revision } },
  };
  const traffic = listOf(mapOf(service.spec).traffic);
  if (pinned && traffic.some((t) => isMap(t) && t.revisionName === pinned)) {
    patch.spec = { traffic: traffic.map((t) => (isMap(t) && t.revisionName === pinned ? { ...t, revisionName: revision } : t)) };
  }
  return patch;
};

export const createKnativeTarget = (settings: WorkloadSettings): Workloads => {
  const { kube, clock } = settings;
  const serviceRef = (canary: Canary): ObjectRef => ({
    apiVersion: KNATIVE_API_VERSION,
    kind: 'Service',
    name: canary.spec.targetRef.name,
    namespace: canary.metadata.namespace,
  });
  const revisionRef = (canary: Canary, name: string): ObjectRef => ({
    apiVersion: KNATIVE_API_VERSION,
    kind: 'Revision',
    name,
    namespace: canary.metadata.namespace,
  });
  const subject = (canary: Canary): string => `Knative Service ${canary.spec.targetRef.name}.${canary.metadata.namespace}`;

  const readService = async (canary: Canary): Promise<KubeObject> => {
    const service = await kube.get(serviceRef(canary));
    if (!service) throw new FledgeError('NotReady', `${subject(canary)} not found`);
    return service;
  };

  const readiness = async (canary: Canary, role: 'primary' | 'canary'): Promise<Readiness> => {
    const service = await kube.get(serviceRef(canary));
    if (!service) return { ready: false, retriable: true, message: `${subject(canary)} not found` };
    const name = role === 'primary' ? primaryRevisionName(service) : revisionNamesOf(service).latestCreated;
    if (!name) {
      const field = role === 'primary' ? 'latestReadyRevisionName' : 'latestCreatedRevisionName';
      return { ready: false, retriable: true, message: `${subject(canary)} has no ${role} revision yet (status.${field} is empty)` };
    }
    const since = canary.status.lastTransitionTime ? Date.parse(canary.status.lastTransitionTime) : NaN;
    const result = revisionReadiness(await kube.get(revisionRef(canary, name)), `${name}.${canary.metadata.namespace}`, {
      deadlineSeconds: canary.spec.progressDeadlineSeconds,
      nowMs: clock.now(),
      ...(Number.isNaN(since) ? {} : { sinceMs: since }),
    });
    return result.ready || role === 'primary' ? result : { ...result, message: `canary ${result.message}` };
  };

  return {
    // The router pins the primary and writes the split; there is nothing of ours to create.
    async initialize(canary) {
      await readService(canary);
    },

    primaryReadiness: (canary) => readiness(canary, 'primary'),

    canaryReadiness: (canary) => readiness(canary, 'canary'),

    async targetChecksum(canary) {
      const latest = revisionNamesOf(await readService(canary)).latestCreated;
      if (!latest) throw new FledgeError('NotReady', `${subject(canary)} has no revision yet (status.latestCreatedRevisionName is empty)`);
      return { checksum: latest, trackedConfigs: {} };
    },

    // Knative scales every revision by its own traffic, down to zero when it gets none.
    scaleCanaryToZero: async () => undefined,
    scaleCanaryUp: async () => undefined,

    async promote(canary) {
      const analysedName = canary.status.lastAppliedSpec;
      const analysed = analysedName ? await kube.get(revisionRef(canary, analysedName)) : undefined;
      await retryOnConflict(async () => {
        const service = await readService(canary);
        const patch = promotionPatch(service, promotionRevision(service, analysed));
        if (patch) await kube.mergePatch(serviceRef(canary), patch);
      });
    },

    // The knative router gives the traffic back (and drops the annotation) when the Canary goes.
    finalize: async () => ({ done: true, message: 'nothing to restore for a Knative Service target' }),

    selectorOf: async () => undefined,
  };
};
