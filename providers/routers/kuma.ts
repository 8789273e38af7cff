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
import { compact, invalidSpec, isFields, serviceNames } from '../../src/api/index.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import { KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION } from './istio-build.js';
import type { Fields } from './adoption.js';
import { fieldsOf, finalizeAdopted, listOf, ownedMetadata, parseJson, percentSplit, reconcileAdopting, weightValue } from './adoption.js';
import { SplitRouter } from './split-router.js';

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
 * Flagger's `<port>.service.kuma.io: http` mark.
 */
const routeMetadata = (canary: Canary): { labels: Record<string, string>; annotations: Record<string, string> } => {
  const { apex, port } = canary.spec.service;
  const own = apex?.annotations ?? {};
  return { labels: apex?.labels ?? {}, annotations: Object.keys(own).length > 0 ? own : { [`${port}.service.kuma.io`]: 'http' } };
};

/** The TrafficRoute for a split; pure, for golden tests. */
export const buildTrafficRoute = (canary: Canary, routes: Routes): KubeObject => ({
  apiVersion: KUMA_API_VERSION,
  kind: 'TrafficRoute',
  mesh: kumaMeshOf(canary),
  metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex, routeMetadata(canary), 'Cluster'),
  spec: buildTrafficRouteSpec(canary, routes),
});

const subject = (canary: Canary): string => `TrafficRoute ${serviceNames(canary.spec.service).apex}`;

/**
 * The split a live TrafficRoute carries, as percentages of the primary and canary weights' sum.
 * Destinations are matched by Service name, so a route written for another port still reads.
 */
export const readTrafficRouteRoutes = (canary: Canary, route: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const split = listOf(fieldsOf(fieldsOf(route.spec).conf).split);
  const weight = (service: string): number =>
    split.filter((s) => serviceOfTag(fieldsOf(s.destination)[SERVICE_TAG]) === service).reduce((sum, s) => sum + weightValue(s.weight), 0);
  return percentSplit(weight(names.primary), weight(names.canary), subject(canary), `does not contain routes for ${names.primary} and ${names.canary}`);
};

/** The Canary owner of a route when it is not `canary` (same Service name in another namespace). */
const otherOwner = (route: KubeObject, canary: Canary): string | undefined => {
  if (!canary.metadata.uid) return undefined;
  const owner = (route.metadata.ownerReferences ?? []).find((ref) => ref.kind === 'Canary' && ref.apiVersion.startsWith('flagger.app/'));
  return owner && owner.uid !== canary.metadata.uid ? owner.name : undefined;
};

/** The route as it was before the canary adopted it, from kubectl's record of it, else ours; undefined when neither is there. */
const restoredRoute = (route: KubeObject): KubeObject | undefined => {
  const annotations = route.metadata.annotations ?? {};
  for (const key of [KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION]) {
    const original = parseJson(annotations[key]);
    if (isFields(original) && isFields(original.spec)) {
      return { ...route, spec: original.spec, ...(typeof original.mesh === 'string' ? { mesh: original.mesh } : {}) };
    }
  }
  return undefined;
};

class KumaRouter extends SplitRouter {
  readonly name = 'kuma';
  readonly capabilities = KUMA_CAPABILITIES;
  protected readonly readSplit = readTrafficRouteRoutes;

  async reconcile(canary: Canary): Promise<void> {
    const build = (live: KubeObject | undefined): KubeObject => {
      const other = live && otherOwner(live, canary);
      if (other !== undefined) {
        throw invalidSpec('Canary', canary.metadata.name, [
          { path: 'spec.service.name', rule: `${ROUTER}: the cluster-scoped ${subject(canary)} already routes Canary "${other}" (in another namespace)` },
        ]);
      }
      return buildTrafficRoute(canary, this.keptRoutes(canary, live));
    };
    // The mesh is remembered with the spec: finalize gives both back.
    await reconcileAdopting(this.kube, canary, this.splitRef(canary), build, { remember: (live) => compact({ mesh: live.mesh, spec: live.spec ?? {} }) });
  }

  async finalize(canary: Canary): Promise<void> {
    // Another namespace's Canary routes through it: not this Canary's to delete or give back.
    await finalizeAdopted(this.kube, canary, this.splitRef(canary), { leave: (live) => otherOwner(live, canary) !== undefined, restore: restoredRoute });
  }

  /** TrafficRoutes are cluster-scoped: the ref has no namespace. */
  protected splitRef(canary: Canary): ObjectRef {
    return { apiVersion: KUMA_API_VERSION, kind: 'TrafficRoute', name: serviceNames(canary.spec.service).apex };
  }

  /** Only the split: a merge patch replaces the list as a whole; sources and destinations are reconcile's. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { spec: { conf: { split: buildSplit(canary, routes) } } };
  }
}

export const createKumaRouter = (deps: RouterDeps): Router => new KumaRouter(deps.kube);
