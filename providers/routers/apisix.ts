/**
 * The `apisix` router: Apache APISIX ingress routes (Flagger's pkg/router/apisix.go). The Canary's
 * spec.routeRef names the user's ApisixRoute (apisix.apache.org/v2); the router keeps a copy of it,
 * `<route>-<svc>-canary`, holding only the http rule whose single backend is the apex Service, raised to
 * priority 10000 so it wins over the user's rule, with two weighted backends: `<svc>-primary` (the
 * user's backend renamed) and `<svc>-canary` (same port, resolve granularity and subset). The user's
 * route is never written.
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights when the user's route changed (Flagger writes 100/0 back) and also
 *   refreshes labels and annotations; kubectl's record and Flux's marks are not copied (the copy gets
 *   Flux's `reconcile: disabled` instead), and the owner reference is always written;
 * - weights are read as shares of their sum, an absent weight as APISIX's default of 100;
 * - setRoutes sends the rules with the resourceVersion it read, so a concurrent change is a conflict
 *   rather than lost; finalize deletes the copy (Flagger leaves it to the garbage collector);
 * - the route is always read and written as apisix.apache.org/v2 whatever routeRef.apiVersion says (as
 *   Flagger does); A/B testing and mirroring are refused by checkSupport.
 */
import type { Canary, Problem } from '../../src/api/index.js';
import { FledgeError, compact, invalidSpec, serviceNames } from '../../src/api/index.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import type { Fields } from './adoption.js';
import { copiedMetadata, deleteIfOwned, fieldsOf, getUserObject, listOf, ownedMetadata, percentSplit, reconcileCopy, refuseProblems } from './adoption.js';
import { SplitRouter } from './split-router.js';

export const APISIX_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

export const APISIX_API_VERSION = 'apisix.apache.org/v2';
/** Flagger's priority for the canary rule: above anything a user is likely to set. */
export const CANARY_RULE_PRIORITY = 10000;
/** What APISIX assumes for a backend without a weight. */
const DEFAULT_BACKEND_WEIGHT = 100;
const ROUTER = 'router "apisix"';

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const apisixProblems = (canary: Canary): Problem[] =>
  canary.spec.routeRef?.name ? [] : [{ path: 'spec.routeRef', rule: `${ROUTER} needs the ApisixRoute to copy` }];

export const canaryRouteName = (canary: Canary): string => `${canary.spec.routeRef?.name ?? ''}-${serviceNames(canary.spec.service).apex}-canary`;

/** Index of the first http rule with a backend named `service`, or -1. */
const ruleIndexOf = (spec: unknown, service: string): number =>
  listOf(fieldsOf(spec).http).findIndex((rule) => listOf(rule.backends).some((b) => b.serviceName === service));

/** The rule's backends with the primary and canary weights set to the split; others are kept. */
const weighted = (canary: Canary, backends: unknown, routes: Routes): Fields[] => {
  const names = serviceNames(canary.spec.service);
  return listOf(backends).map((b) => {
    if (b.serviceName === names.primary) return { ...b, weight: routes.primary };
    if (b.serviceName === names.canary) return { ...b, weight: routes.canary };
    return b;
  });
};

/**
 * The spec of the canary copy: the user's spec with only the apex rule, raised in priority, its one
 * backend renamed to the primary and a canary backend beside it.
 */
export const canaryRouteSpec = (canary: Canary, userRoute: KubeObject, routes: Routes): Fields => {
  const names = serviceNames(canary.spec.service);
  const refName = canary.spec.routeRef?.name ?? '';
  const spec = structuredClone(fieldsOf(userRoute.spec));
  const rule = listOf(spec.http)[ruleIndexOf(spec, names.apex)];
  if (!rule) {
    throw invalidSpec('Canary', canary.metadata.name, [
      { path: 'spec.routeRef.name', rule: `ApisixRoute "${refName}" has no http backend for Service "${names.apex}"` },
    ]);
  }
  const [backend, ...more] = listOf(rule.backends);
  if (!backend || more.length > 0) {
    throw invalidSpec('Canary', canary.metadata.name, [
      { path: 'spec.routeRef.name', rule: `${ROUTER} supports one backend per http rule; ApisixRoute "${refName}" rule "${String(rule.name)}" has ${more.length + 1}` },
    ]);
  }
  const canaryBackend = compact({
    serviceName: names.canary,
    servicePort: backend.servicePort,
    resolveGranularity: backend.resolveGranularity,
    subset: backend.subset,
  });
  const backends = weighted(canary, [{ ...backend, serviceName: names.primary }, canaryBackend], routes);
  return { ...spec, http: [{ ...rule, priority: CANARY_RULE_PRIORITY, backends }] };
};

/** The canary ApisixRoute for a split, built from the user's; pure, for golden tests. */
export const buildApisixCanaryRoute = (canary: Canary, userRoute: KubeObject, routes: Routes): KubeObject => ({
  apiVersion: APISIX_API_VERSION,
  kind: 'ApisixRoute',
  metadata: ownedMetadata(canary, canaryRouteName(canary), copiedMetadata(userRoute)),
  spec: canaryRouteSpec(canary, userRoute, routes),
});

const subject = (canary: Canary): string => `ApisixRoute ${canary.metadata.namespace}/${canaryRouteName(canary)}`;

/** The split of a live canary route: the weights of the rule that has the primary backend, as shares. */
export const readApisixRoutes = (canary: Canary, route: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const rule = listOf(fieldsOf(route.spec).http)[ruleIndexOf(route.spec, names.primary)];
  const weight = (service: string): number =>
    listOf(rule?.backends)
      .filter((b) => b.serviceName === service)
      .reduce((sum, b) => sum + (typeof b.weight === 'number' ? Math.max(b.weight, 0) : DEFAULT_BACKEND_WEIGHT), 0);
  return percentSplit(weight(names.primary), weight(names.canary), subject(canary), `has no weighted backends ${names.primary} and ${names.canary}`);
};

class ApisixRouter extends SplitRouter {
  readonly name = 'apisix';
  readonly capabilities = APISIX_CAPABILITIES;
  protected readonly readSplit = readApisixRoutes;

  async reconcile(canary: Canary): Promise<void> {
    refuseProblems(canary, apisixProblems(canary));
    const userRoute = await getUserObject(this.kube, this.ref(canary, canary.spec.routeRef?.name ?? ''));
    await reconcileCopy(this.kube, this.splitRef(canary), (live) => buildApisixCanaryRoute(canary, userRoute, this.keptRoutes(canary, live)));
  }

  async finalize(canary: Canary): Promise<void> {
    if (canary.spec.routeRef?.name) await deleteIfOwned(this.kube, canary, this.splitRef(canary));
  }

  protected splitRef(canary: Canary): ObjectRef {
    return this.ref(canary, canaryRouteName(canary));
  }

  protected splitPatch(canary: Canary, routes: Routes, live: KubeObject): Fields {
    const names = serviceNames(canary.spec.service);
    const index = ruleIndexOf(live.spec, names.primary);
    if (index < 0) throw new FledgeError('NotReady', `${subject(canary)} has no rule with backend ${names.primary}`);
    const http = listOf(fieldsOf(live.spec).http).map((rule, i) => (i === index ? { ...rule, backends: weighted(canary, rule.backends, routes) } : rule));
    // A merge patch replaces the rule list as a whole: guard it with the version it was built from.
    return { metadata: { resourceVersion: live.metadata.resourceVersion }, spec: { http } };
  }

  protected override async live(canary: Canary): Promise<KubeObject> {
    refuseProblems(canary, apisixProblems(canary));
    return super.live(canary);
  }

  private ref(canary: Canary, name: string): ObjectRef {
    return { apiVersion: APISIX_API_VERSION, kind: 'ApisixRoute', name, namespace: canary.metadata.namespace };
  }
}

export const createApisixRouter = (deps: RouterDeps): Router => new ApisixRouter(deps.kube);
