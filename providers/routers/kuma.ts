/**
 * The `kuma` router: one TrafficRoute `<svc>` (kuma.io/v1alpha1) that splits the traffic of the apex
 * Kuma service between the primary and the canary, as Flagger's pkg/router/kuma.go writes it. On
 * Kubernetes, Kuma tags each Service port as `kuma.io/service: <name>_<namespace>_svc_<port>`; the
 * route sends every source (`*`) to the apex tag and splits it between the `-primary` and `-canary`
 * tags. A TrafficRoute is cluster-scoped; `mesh` sits beside `spec` and comes from the Canary's
 * `kuma.io/mesh` annotation, else `default`.
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights when it rewrites the rest of the route (Flagger writes 100/0
 *   back whenever the sources or destinations changed) and writes nothing when nothing changed;
 * - weights are read as shares of their sum (Kuma weights are relative), and the mesh is kept in step
 *   with the annotation;
 * - the route is cluster-scoped, so two canaries with the same Service name in two namespaces would
 *   share it: one owned by another Canary is refused instead of overwritten;
 * - a user's TrafficRoute of that name is remembered when adopted and given back by finalize when
 *   revertOnDeletion is set; one the canary created is deleted by finalize. Its owner reference is
 *   written as Flagger writes it, but Kubernetes' garbage collector does not collect a cluster-scoped
 *   object owned by a namespaced Canary (it reports OwnerRefInvalidNamespace), so deletion is ours.
 * - A/B testing and mirroring are refused by checkSupport: a TrafficRoute split only weighs services.
 */
import type { Canary } from '../../src/api/index.js';
import { FledgeError, canaryOwnerReferences, compact, invalidSpec, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import { INITIAL_ROUTES, KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';

export const KUMA_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

export const KUMA_API_VERSION = 'kuma.io/v1alpha1';
/** The Canary annotation naming the mesh (Flagger's), and the mesh used without it. */
export const KUMA_MESH_ANNOTATION = 'kuma.io/mesh';
export const DEFAULT_KUMA_MESH = 'default';
const SERVICE_TAG = 'kuma.io/service';
const ROUTER = 'router "kuma"';

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

/** The kuma.io/service tag Kuma gives port `port` of Service `name` in `namespace`. */
export const kumaServiceTag = (name: string, namespace: string, port: number): string => `${name}_${namespace}_svc_${port}`;

/** The Service name a kuma.io/service tag stands for (Service names cannot contain `_`). */
const serviceOfTag = (tag: unknown): string | undefined => (typeof tag === 'string' ? tag.split('_', 1)[0] : undefined);

export const kumaMeshOf = (canary: Canary): string => canary.metadata.annotations[KUMA_MESH_ANNOTATION] || DEFAULT_KUMA_MESH;

export interface TrafficRouteSplit {
  weight: number;
  destination: Record<string, string>;
}

/** The split in Flagger's order: primary first, then canary. */
export const buildSplit = (canary: Canary, routes: Routes): TrafficRouteSplit[] => {
  const { primary, canary: canaryName } = serviceNames(canary.spec.service);
  const tag = (name: string) => ({ [SERVICE_TAG]: kumaServiceTag(name, canary.metadata.namespace, canary.spec.service.port) });
  return [
    { weight: routes.primary, destination: tag(primary) },
    { weight: routes.canary, destination: tag(canaryName) },
  ];
};

export const buildTrafficRouteSpec = (canary: Canary, routes: Routes): Fields => ({
  sources: [{ match: { [SERVICE_TAG]: '*' } }],
  destinations: [
    { match: { [SERVICE_TAG]: kumaServiceTag(serviceNames(canary.spec.service).apex, canary.metadata.namespace, canary.spec.service.port) } },
  ],
  conf: { split: buildSplit(canary, routes) },
});

/**
 * The labels and annotations of the route: spec.service.apex's, or, when it sets no annotations,
 * Flagger's `<port>.service.kuma.io: http` mark; plus Flux's hands-off mark.
 */
const routeMetadata = (canary: Canary): { labels: Record<string, string>; annotations: Record<string, string> } => {
  const { apex, port } = canary.spec.service;
  const own = apex?.annotations ?? {};
  const annotations = Object.keys(own).length > 0 ? { ...own } : { [`${port}.service.kuma.io`]: 'http' };
  return { labels: { ...(apex?.labels ?? {}) }, annotations: { ...annotations, ...FLUX_RECONCILE_DISABLED } };
};

/** The TrafficRoute for a split; pure, for golden tests. */
export const buildTrafficRoute = (canary: Canary, routes: Routes): KubeObject => {
  const { labels, annotations } = routeMetadata(canary);
  const owners = canaryOwnerReferences(canary);
  return {
    apiVersion: KUMA_API_VERSION,
    kind: 'TrafficRoute',
    mesh: kumaMeshOf(canary),
    metadata: compact({
      name: serviceNames(canary.spec.service).apex,
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      annotations,
      ownerReferences: owners.length > 0 ? owners : undefined,
    }),
    spec: buildTrafficRouteSpec(canary, routes),
  };
};

const subject = (canary: Canary): string => `TrafficRoute ${serviceNames(canary.spec.service).apex}`;

/**
 * The split a live TrafficRoute carries, as percentages of the primary and canary weights' sum.
 * Destinations are matched by Service name, so a route written for another port still reads.
 */
export const readTrafficRouteRoutes = (canary: Canary, route: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const split = listOf(fieldsOf(fieldsOf(route.spec).conf).split);
  const weight = (service: string): number =>
    split
      .filter((s) => serviceOfTag(fieldsOf(s.destination)[SERVICE_TAG]) === service)
      .reduce((sum, s) => sum + (typeof s.weight === 'number' && s.weight > 0 ? s.weight : 0), 0);
  const primary = weight(names.primary);
  const canaryWeight = weight(names.canary);
  const total = primary + canaryWeight;
  if (total === 0) throw new FledgeError('NotReady', `${subject(canary)} does not contain routes for ${names.primary} and ${names.canary}`);
  const canaryShare = Math.round((100 * canaryWeight) / total);
  return { primary: 100 - canaryShare, canary: canaryShare, mirrored: false };
};

const tryRead = (canary: Canary, route: KubeObject): Routes | undefined => {
  try {
    return readTrafficRouteRoutes(canary, route);
  } catch {
    return undefined;
  }
};

const checkRoutes = (router: string, routes: Routes): void => {
  if (routes.mirrored) throw new FledgeError('InvalidSpec', `router "${router}" cannot mirror traffic`);
  const valid = [routes.primary, routes.canary].every((w) => Number.isInteger(w) && w >= 0 && w <= 100);
  if (!valid || routes.primary + routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `weights must be integers from 0 to 100 that add up to 100, got ${routes.primary}/${routes.canary}`);
  }
};

/** The Canary owner of a route when it is not `canary` (same Service name in another namespace). */
const otherOwner = (route: KubeObject, canary: Canary): string | undefined => {
  if (!canary.metadata.uid) return undefined;
  const owner = (route.metadata.ownerReferences ?? []).find((ref) => ref.kind === 'Canary' && ref.apiVersion.startsWith('flagger.app/'));
  return owner && owner.uid !== canary.metadata.uid ? owner.name : undefined;
};

/** What the route looked like before the canary adopted it: kubectl's record of it, else our copy. */
const originalOf = (route: KubeObject): { mesh?: unknown; spec: unknown } | undefined => {
  const annotations = route.metadata.annotations ?? {};
  for (const key of [KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION]) {
    const text = annotations[key];
    if (text === undefined) continue;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (isFields(parsed) && isFields(parsed.spec)) return { mesh: parsed.mesh, spec: parsed.spec };
    } catch {
      // Not JSON: try the next record.
    }
  }
  return undefined;
};

/** Key-order-insensitive equality of JSON values, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (isFields(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

class KumaRouter implements Router {
  readonly name = 'kuma';
  readonly capabilities = KUMA_CAPABILITIES;

  constructor(private readonly kube: KubeApi) {}

  async reconcile(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.ref(canary));
    if (!live) {
      await this.kube.create(buildTrafficRoute(canary, INITIAL_ROUTES));
      return;
    }
    const other = otherOwner(live, canary);
    if (other !== undefined) {
      throw invalidSpec('Canary', canary.metadata.name, [
        { path: 'spec.service.name', rule: `${ROUTER}: the cluster-scoped ${subject(canary)} already routes Canary "${other}" (in another namespace)` },
      ]);
    }
    // Never reset a split mid-analysis: rebuild the spec around the live weights.
    const desired = buildTrafficRoute(canary, tryRead(canary, live) ?? INITIAL_ROUTES);
    const annotations: Record<string, string> = { ...live.metadata.annotations, ...desired.metadata.annotations };
    if (!isOwnedBy(live, canary) && annotations[ORIGINAL_CONFIG_ANNOTATION] === undefined) {
      annotations[ORIGINAL_CONFIG_ANNOTATION] = JSON.stringify(compact({ mesh: live.mesh, spec: live.spec ?? {} }));
    }
    const labels = { ...live.metadata.labels, ...desired.metadata.labels };
    const unchanged =
      sameJson(live.spec, desired.spec) &&
      live.mesh === desired.mesh &&
      sameJson(live.metadata.annotations ?? {}, annotations) &&
      sameJson(live.metadata.labels ?? {}, labels);
    if (unchanged) return;
    // Owners stay as they are: a user's route is not handed to the Canary.
    await this.kube.replace({ ...live, mesh: desired.mesh, metadata: { ...live.metadata, labels, annotations }, spec: desired.spec });
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(this.name, routes);
    await this.live(canary);
    // Only the split: a merge patch replaces the list as a whole; sources and destinations are reconcile's.
    await this.kube.mergePatch(this.ref(canary), { spec: { conf: { split: buildSplit(canary, routes) } } });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return readTrafficRouteRoutes(canary, await this.live(canary));
  }

  async finalize(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.ref(canary));
    if (!live || otherOwner(live, canary) !== undefined) return;
    if (isOwnedBy(live, canary)) {
      await this.kube.delete(this.ref(canary));
      return;
    }
    const original = canary.spec.revertOnDeletion ? originalOf(live) : undefined;
    if (!original) return;
    const annotations = Object.fromEntries(
      Object.entries(live.metadata.annotations ?? {}).filter(([key]) => key !== ORIGINAL_CONFIG_ANNOTATION && !(key in FLUX_RECONCILE_DISABLED)),
    );
    const restored: KubeObject = { ...live, metadata: { ...live.metadata, annotations }, spec: original.spec };
    if (typeof original.mesh === 'string') restored.mesh = original.mesh;
    await this.kube.replace(restored);
  }

  /** TrafficRoutes are cluster-scoped: the ref has no namespace. */
  private ref(canary: Canary): ObjectRef {
    return { apiVersion: KUMA_API_VERSION, kind: 'TrafficRoute', name: serviceNames(canary.spec.service).apex };
  }

  private async live(canary: Canary): Promise<KubeObject> {
    const route = await this.kube.get(this.ref(canary));
    if (!route) throw new FledgeError('NotReady', `${subject(canary)} not found (not reconciled yet)`);
    return route;
  }
}

export const createKumaRouter = (deps: RouterDeps): Router => new KumaRouter(deps.kube);
