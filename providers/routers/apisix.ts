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
import { FledgeError, canaryOwnerReferences, compact, invalidSpec, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import { INITIAL_ROUTES, KUBECTL_LAST_APPLIED_ANNOTATION } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';

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
/** Flux's ownership marks: copied onto the canary route they would make Flux prune it. */
const FLUX_TOOLKIT_DOMAIN = /(^|\.)toolkit\.fluxcd\.io\//;

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

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

const copiedMetadata = (map: Record<string, string> | undefined, drop: (key: string) => boolean): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !drop(key)));

/** The canary ApisixRoute for a split, built from the user's; pure, for golden tests. */
export const buildApisixCanaryRoute = (canary: Canary, userRoute: KubeObject, routes: Routes): KubeObject => {
  const labels = copiedMetadata(userRoute.metadata.labels, (key) => FLUX_TOOLKIT_DOMAIN.test(key));
  const annotations = {
    ...copiedMetadata(userRoute.metadata.annotations, (key) => key === KUBECTL_LAST_APPLIED_ANNOTATION || FLUX_TOOLKIT_DOMAIN.test(key)),
    ...FLUX_RECONCILE_DISABLED,
  };
  const owners = canaryOwnerReferences(canary);
  return {
    apiVersion: APISIX_API_VERSION,
    kind: 'ApisixRoute',
    metadata: compact({
      name: canaryRouteName(canary),
      namespace: canary.metadata.namespace,
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      annotations,
      ownerReferences: owners.length > 0 ? owners : undefined,
    }),
    spec: canaryRouteSpec(canary, userRoute, routes),
  };
};

const subject = (canary: Canary): string => `ApisixRoute ${canary.metadata.namespace}/${canaryRouteName(canary)}`;

/** The split of a live canary route: the weights of the rule that has the primary backend, as shares. */
export const readApisixRoutes = (canary: Canary, route: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const rule = listOf(fieldsOf(route.spec).http)[ruleIndexOf(route.spec, names.primary)];
  const weight = (service: string): number =>
    listOf(rule?.backends)
      .filter((b) => b.serviceName === service)
      .reduce((sum, b) => sum + (typeof b.weight === 'number' ? Math.max(b.weight, 0) : DEFAULT_BACKEND_WEIGHT), 0);
  const primary = weight(names.primary);
  const canaryWeight = weight(names.canary);
  const total = primary + canaryWeight;
  if (total === 0) throw new FledgeError('NotReady', `${subject(canary)} has no weighted backends ${names.primary} and ${names.canary}`);
  const canaryShare = Math.round((100 * canaryWeight) / total);
  return { primary: 100 - canaryShare, canary: canaryShare, mirrored: false };
};

const tryRead = (canary: Canary, route: KubeObject): Routes | undefined => {
  try {
    return readApisixRoutes(canary, route);
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

/** Key-order-insensitive equality of JSON values, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (isFields(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

class ApisixRouter implements Router {
  readonly name = 'apisix';
  readonly capabilities = APISIX_CAPABILITIES;

  constructor(private readonly kube: KubeApi) {}

  async reconcile(canary: Canary): Promise<void> {
    const problems = apisixProblems(canary);
    if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
    const userName = canary.spec.routeRef?.name ?? '';
    const userRoute = await this.kube.get(this.ref(canary, userName));
    if (!userRoute) throw new FledgeError('NotReady', `ApisixRoute ${canary.metadata.namespace}/${userName} not found`);
    const live = await this.kube.get(this.ref(canary, canaryRouteName(canary)));
    if (!live) {
      await this.kube.create(buildApisixCanaryRoute(canary, userRoute, INITIAL_ROUTES));
      return;
    }
    // Never reset a split mid-analysis: rebuild around the live weights.
    const desired = buildApisixCanaryRoute(canary, userRoute, tryRead(canary, live) ?? INITIAL_ROUTES);
    const metadata = { ...live.metadata, ...desired.metadata };
    if (!desired.metadata.labels) delete metadata.labels;
    const fields = (o: KubeObject): unknown => [o.spec, o.metadata.labels ?? {}, o.metadata.annotations ?? {}, o.metadata.ownerReferences ?? []];
    if (sameJson(fields(live), fields({ ...desired, metadata }))) return;
    await this.kube.replace({ ...live, metadata, spec: desired.spec });
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(routes);
    const live = await this.live(canary);
    const names = serviceNames(canary.spec.service);
    const index = ruleIndexOf(live.spec, names.primary);
    if (index < 0) throw new FledgeError('NotReady', `${subject(canary)} has no rule with backend ${names.primary}`);
    const http = listOf(fieldsOf(live.spec).http).map((rule, i) => (i === index ? { ...rule, backends: weighted(canary, rule.backends, routes) } : rule));
    // A merge patch replaces the rule list as a whole: guard it with the version it was built from.
    const ref = this.ref(canary, canaryRouteName(canary));
    await this.kube.mergePatch(ref, { metadata: { resourceVersion: live.metadata.resourceVersion }, spec: { http } });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return readApisixRoutes(canary, await this.live(canary));
  }

  async finalize(canary: Canary): Promise<void> {
    if (!canary.spec.routeRef?.name) return;
    const ref = this.ref(canary, canaryRouteName(canary));
    const live = await this.kube.get(ref);
    if (live && isOwnedBy(live, canary)) await this.kube.delete(ref);
  }

  private ref(canary: Canary, name: string): ObjectRef {
    return { apiVersion: APISIX_API_VERSION, kind: 'ApisixRoute', name, namespace: canary.metadata.namespace };
  }

  private async live(canary: Canary): Promise<KubeObject> {
    const problems = apisixProblems(canary);
    if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
    const route = await this.kube.get(this.ref(canary, canaryRouteName(canary)));
    if (!route) throw new FledgeError('NotReady', `${subject(canary)} not found (not reconciled yet)`);
    return route;
  }
}

export const createApisixRouter = (deps: RouterDeps): Router => new ApisixRouter(deps.kube);
