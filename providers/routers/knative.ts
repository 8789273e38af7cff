/**
 * The `knative` router: the canary's target is a Knative Service (serving.knative.dev/v1), and the
 * split is its own spec.traffic between two revisions, as Flagger's pkg/router/knative.go and
 * pkg/canary/knative_controller.go write it: the primary is the revision named by the Service's
 * `flagger.app/primary-revision` annotation, the canary is the latest revision
 * (`latestRevision: true`). Promotion (moving the annotation to the latest revision) belongs to the
 * workloads layer, as in Flagger; this router pins the primary when it adopts the Service and moves
 * the percentages.
 *
 * Differences from Flagger, on purpose:
 * - the primary revision is the one Knative serves when the Service has no traffic block, the latest
 *   *ready* revision (Flagger takes the latest created one, which may be a failed revision); a Service
 *   with no ready revision yet is NotReady instead of being pinned to an empty name;
 * - getRoutes reads spec.traffic, the split Fledge wrote, rather than status.traffic, which lags until
 *   Knative has reconciled (and whose single `latestRevision` entry Flagger reads as 100/100 before
 *   the first split);
 * - the traffic block the user had before adoption is remembered (`fledge.dev/original-traffic`) and
 *   given back by finalize when revertOnDeletion is set; Flagger only removes its annotation;
 * - the user's Service gets no Flux `reconcile: disabled` mark and no owner: it is the target, which
 *   Flux must keep delivering. Fledge writes only the annotations and spec.traffic.
 */
import type { Canary, Problem } from '../../src/api/index.js';
import { FledgeError, invalidSpec } from '../../src/api/index.js';
import { KNATIVE_API_VERSION, PRIMARY_REVISION_ANNOTATION } from '../../src/api/knative.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import { INITIAL_ROUTES } from './istio-build.js';

export const KNATIVE_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

// Shared with src/workloads/knative.ts, which moves the annotation on promotion.
export { KNATIVE_API_VERSION, PRIMARY_REVISION_ANNOTATION };
/** Where the traffic block the user had before adoption is kept (JSON; `[]` when there was none). */
export const ORIGINAL_TRAFFIC_ANNOTATION = 'fledge.dev/original-traffic';
const ROUTER = 'router "knative"';

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const knativeProblems = (canary: Canary): Problem[] => {
  const { apiVersion, kind } = canary.spec.targetRef;
  if (apiVersion === KNATIVE_API_VERSION && kind === 'Service') return [];
  return [{ path: 'spec.targetRef', rule: `${ROUTER} needs a Knative Service target (apiVersion ${KNATIVE_API_VERSION}, kind Service), not ${apiVersion} ${kind}` }];
};

export interface TrafficTarget {
  latestRevision?: boolean;
  revisionName?: string;
  percent: number;
}

/** The traffic block for a split, in Flagger's order: the latest revision (canary), then the primary. */
export const buildTraffic = (primaryRevision: string, routes: Routes): TrafficTarget[] => [
  { latestRevision: true, percent: routes.canary },
  { revisionName: primaryRevision, percent: routes.primary },
];

const subject = (canary: Canary): string => `Knative Service ${canary.metadata.namespace}/${canary.spec.targetRef.name}`;

export const primaryRevisionOf = (service: KubeObject): string | undefined => service.metadata.annotations?.[PRIMARY_REVISION_ANNOTATION] || undefined;

/**
 * The split a Knative Service's spec.traffic carries: the `latestRevision` entries are the canary, the
 * entries naming the primary revision the primary (an absent percent is 0, as in Knative), as shares.
 */
export const readTrafficRoutes = (canary: Canary, service: KubeObject): Routes => {
  const primaryRevision = primaryRevisionOf(service);
  if (!primaryRevision) throw new FledgeError('NotReady', `${subject(canary)} has no ${PRIMARY_REVISION_ANNOTATION} annotation (not reconciled yet)`);
  const traffic = listOf(fieldsOf(service.spec).traffic);
  const percent = (t: Fields): number => (typeof t.percent === 'number' && t.percent > 0 ? t.percent : 0);
  const latest = traffic.filter((t) => t.latestRevision === true);
  const primaries = traffic.filter((t) => t.latestRevision !== true && t.revisionName === primaryRevision);
  if (latest.length === 0 || primaries.length === 0) {
    throw new FledgeError('NotReady', `${subject(canary)} spec.traffic does not split between revision ${primaryRevision} and the latest revision`);
  }
  const canaryWeight = latest.reduce((sum, t) => sum + percent(t), 0);
  const total = canaryWeight + primaries.reduce((sum, t) => sum + percent(t), 0);
  if (total === 0) throw new FledgeError('NotReady', `${subject(canary)} spec.traffic sends no traffic to either revision`);
  const canaryShare = Math.round((100 * canaryWeight) / total);
  return { primary: 100 - canaryShare, canary: canaryShare, mirrored: false };
};

const tryRead = (canary: Canary, service: KubeObject): Routes | undefined => {
  try {
    return readTrafficRoutes(canary, service);
  } catch {
    return undefined;
  }
};

const checkRoutes = (routes: Routes): void => {
  if (routes.mirrored) throw new FledgeError('InvalidSpec', `${ROUTER} cannot mirror traffic`);
  const valid = [routes.primary, routes.canary].every((w) => Number.isInteger(w) && w >= 0 && w <= 100);
  if (!valid || routes.primary + routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `weights must be integers from 0 to 100 that add up to 100, got ${routes.primary}/${routes.canary}`);
  }
};

/** The traffic block remembered at adoption; undefined when nothing was remembered or it is unreadable. */
const originalTraffic = (service: KubeObject): unknown[] | undefined => {
  const text = service.metadata.annotations?.[ORIGINAL_TRAFFIC_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
};

class KnativeRouter implements Router {
  readonly name = 'knative';
  readonly capabilities = KNATIVE_CAPABILITIES;

  constructor(private readonly kube: KubeApi) {}

  /**
   * Adopts the Service once: pins the revision serving now as the primary and writes a 100/0 split,
   * so a new revision gets no traffic until the analysis gives it some. Afterwards only a traffic
   * block that no longer carries a split (e.g. reapplied from Git) is written again, at 100/0.
   */
  async reconcile(canary: Canary): Promise<void> {
    const problems = knativeProblems(canary);
    if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
    const service = await this.service(canary);
    const pinned = primaryRevisionOf(service);
    if (pinned) {
      if (tryRead(canary, service)) return;
      await this.kube.mergePatch(this.ref(canary), { spec: { traffic: buildTraffic(pinned, INITIAL_ROUTES) } });
      return;
    }
    const status = fieldsOf(service.status);
    const ready = typeof status.latestReadyRevisionName === 'string' ? status.latestReadyRevisionName : '';
    if (!ready) throw new FledgeError('NotReady', `${subject(canary)} has no ready revision yet`);
    const before = fieldsOf(service.spec).traffic;
    await this.kube.mergePatch(this.ref(canary), {
      metadata: {
        resourceVersion: service.metadata.resourceVersion,
        annotations: { [PRIMARY_REVISION_ANNOTATION]: ready, [ORIGINAL_TRAFFIC_ANNOTATION]: JSON.stringify(Array.isArray(before) ? before : []) },
      },
      spec: { traffic: buildTraffic(ready, INITIAL_ROUTES) },
    });
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(routes);
    const service = await this.service(canary);
    const primaryRevision = primaryRevisionOf(service);
    if (!primaryRevision) throw new FledgeError('NotReady', `${subject(canary)} has no ${PRIMARY_REVISION_ANNOTATION} annotation (not reconciled yet)`);
    // The revision goes with the resourceVersion it was read at: a promotion in between is a conflict.
    await this.kube.mergePatch(this.ref(canary), {
      metadata: { resourceVersion: service.metadata.resourceVersion },
      spec: { traffic: buildTraffic(primaryRevision, routes) },
    });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return readTrafficRoutes(canary, await this.service(canary));
  }

  /** Drops the primary pin; with revertOnDeletion the user's traffic block comes back (none: Knative's default). */
  async finalize(canary: Canary): Promise<void> {
    if (knativeProblems(canary).length > 0) return;
    const service = await this.kube.get(this.ref(canary));
    if (!service || !primaryRevisionOf(service)) return;
    const patch: Fields = { metadata: { annotations: { [PRIMARY_REVISION_ANNOTATION]: null, [ORIGINAL_TRAFFIC_ANNOTATION]: null } } };
    // Without a remembered block (a Service adopted by Flagger), Knative's default: the latest ready revision.
    const original = originalTraffic(service) ?? [];
    if (canary.spec.revertOnDeletion) patch.spec = { traffic: original.length > 0 ? original : null };
    await this.kube.mergePatch(this.ref(canary), patch);
  }

  private ref(canary: Canary): ObjectRef {
    return { apiVersion: KNATIVE_API_VERSION, kind: 'Service', name: canary.spec.targetRef.name, namespace: canary.metadata.namespace };
  }

  private async service(canary: Canary): Promise<KubeObject> {
    const service = await this.kube.get(this.ref(canary));
    if (!service) throw new FledgeError('NotReady', `${subject(canary)} not found`);
    return service;
  }
}

export const createKnativeRouter = (deps: RouterDeps): Router => new KnativeRouter(deps.kube);
