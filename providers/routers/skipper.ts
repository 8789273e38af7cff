/**
 * The `skipper` router: Skipper's Ingress backend weights (Flagger's pkg/router/skipper.go). The
 * Canary's spec.ingressRef names the user's Ingress, which is never written. The router keeps a copy,
 * `<ingress>-canary`, in which every path to the apex Service `<svc>` goes to `<svc>-primary` and is
 * followed by the same path to `<svc>-canary`; the split is the `zalando.org/backend-weights`
 * annotation, a JSON object of both Services' weights (`{"<svc>-canary":10,"<svc>-primary":90}`,
 * keys sorted as Flagger's Go encoder writes them). The `zalando.org/skipper-predicate` annotation
 * starts with `Weight(100)`, so the copy's routes win over the user's Ingress for the same host and
 * path, or with `False()` while the canary gets nothing, so the user's Ingress serves everything;
 * the user's own predicates follow, ANDed.
 *
 * Capabilities: canary and blue/green. A/B testing is refused (Flagger's router has none), as are
 * mirroring and session affinity.
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights when it refreshes the copy (Flagger resets them to 100/0
 *   whenever the user's Ingress spec changed), and writes the predicate for the live split;
 * - the copy is created with the predicate of its split (`False()` at 100/0; Flagger creates it
 *   with `Weight(100)` and disables it at the first setRoutes);
 * - kubectl's last-applied record and Flux's ownership marks are not copied (Flux would prune the
 *   copy), and an Ingress without a path to the apex Service is an error (Flagger's check for it
 *   never fires);
 * - weights are read as shares of their sum, and a copy disabled by `False()` reads 100/0;
 * - finalize deletes the copy only when the Canary owns it.
 */
import type { Canary, Problem } from '../../src/api/index.js';
import { FledgeError, invalidSpec, isFields, serviceNames } from '../../src/api/index.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import type { Fields } from './adoption.js';
import {
  INITIAL_ROUTES,
  copiedMetadata,
  deleteIfOwned,
  fieldsOf,
  getUserObject,
  itemsOf,
  ownedMetadata,
  percentSplit,
  reconcileCopy,
  refuseProblems,
  tryRead,
  weightValue,
} from './adoption.js';
import { SplitRouter } from './split-router.js';

export const SKIPPER_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

export const BACKEND_WEIGHTS_ANNOTATION = 'zalando.org/backend-weights';
export const SKIPPER_PREDICATE_ANNOTATION = 'zalando.org/skipper-predicate';
/** Outweighs the user's Ingress routes for the same host and path. */
export const ROUTE_WEIGHT_PREDICATE = 'Weight(100)';
/** Turns the copy's routes off, so the user's Ingress serves every request. */
export const ROUTE_DISABLED_PREDICATE = 'False()';
const INGRESS_API_VERSION = 'networking.k8s.io/v1';
const ROUTER = 'router "skipper"';

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const skipperProblems = (canary: Canary): Problem[] =>
  canary.spec.ingressRef?.name ? [] : [{ path: 'spec.ingressRef', rule: `${ROUTER} needs the Ingress to copy` }];

export const skipperCanaryIngressName = (canary: Canary): string => `${canary.spec.ingressRef?.name ?? ''}-canary`;

/** The backend-weights annotation for a split: both Services, keys sorted (Go's encoding/json order). */
export const backendWeights = (canary: Canary, routes: Routes): string => {
  const names = serviceNames(canary.spec.service);
  const weights: Array<[string, number]> = [
    [names.primary, routes.primary],
    [names.canary, routes.canary],
  ];
  return JSON.stringify(Object.fromEntries(weights.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
};

const splitPredicates = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split('&&')
    .map((p) => p.trim())
    .filter((p) => p !== '');

/** The predicate annotation for a split: ours first, then the user's, without earlier ones of ours. */
export const skipperPredicate = (existing: string | undefined, routes: Routes): string => {
  const ours = routes.canary === 0 ? ROUTE_DISABLED_PREDICATE : ROUTE_WEIGHT_PREDICATE;
  const rest = splitPredicates(existing).filter((p) => p !== ROUTE_WEIGHT_PREDICATE && p !== ROUTE_DISABLED_PREDICATE);
  return [ours, ...rest].join(' && ');
};

/** A path's backend renamed to `to` when it is the Service `from`'s; undefined when it is not. */
const withBackend = (path: unknown, from: string, to: string): Fields | undefined => {
  const fields = fieldsOf(path);
  const service = fieldsOf(fieldsOf(fields.backend).service);
  if (service.name !== from) return undefined;
  return { ...fields, backend: { ...fieldsOf(fields.backend), service: { ...service, name: to } } };
};

/**
 * The user's Ingress spec with each path to the apex Service sent to the primary, and the same path to
 * the canary appended to its rule; undefined when no path names the apex Service.
 */
export const skipperIngressSpec = (spec: unknown, apex: string, primary: string, canaryService: string): Fields | undefined => {
  const copy: Fields = structuredClone(fieldsOf(spec));
  let found = false;
  copy.rules = itemsOf(copy.rules).map((rule) => {
    const http = fieldsOf(fieldsOf(rule).http);
    if (!Array.isArray(http.paths)) return rule;
    const canaryPaths: Fields[] = [];
    const paths = http.paths.map((path) => {
      const toPrimary = withBackend(path, apex, primary);
      if (!toPrimary) return path;
      found = true;
      canaryPaths.push(withBackend(path, apex, canaryService) ?? {});
      return toPrimary;
    });
    return { ...fieldsOf(rule), http: { ...http, paths: [...paths, ...canaryPaths] } };
  });
  if (!Array.isArray(fieldsOf(spec).rules)) delete copy.rules;
  return found ? copy : undefined;
};

/** The canary Ingress for a split, built from the user's Ingress; pure, for golden tests. */
export const buildSkipperIngress = (canary: Canary, ingress: KubeObject, routes: Routes): KubeObject => {
  const names = serviceNames(canary.spec.service);
  const spec = skipperIngressSpec(ingress.spec, names.apex, names.primary, names.canary);
  if (!spec) {
    throw invalidSpec('Canary', canary.metadata.name, [
      { path: 'spec.ingressRef.name', rule: `Ingress "${ingress.metadata.name}" has no path to Service "${names.apex}"` },
    ]);
  }
  const { labels, annotations } = copiedMetadata(ingress);
  annotations[BACKEND_WEIGHTS_ANNOTATION] = backendWeights(canary, routes);
  annotations[SKIPPER_PREDICATE_ANNOTATION] = skipperPredicate(ingress.metadata.annotations?.[SKIPPER_PREDICATE_ANNOTATION], routes);
  return { apiVersion: INGRESS_API_VERSION, kind: 'Ingress', metadata: ownedMetadata(canary, skipperCanaryIngressName(canary), { labels, annotations }), spec };
};

/**
 * The split a live canary Ingress carries: 100/0 while its routes are disabled by `False()`, else the
 * backend weights as shares of their sum (Skipper weights are ratios, integers or not).
 */
export const readSkipperRoutes = (canary: Canary, ingress: KubeObject): Routes => {
  const subject = `Ingress ${canary.metadata.namespace}/${ingress.metadata.name}`;
  const annotations = ingress.metadata.annotations ?? {};
  if (splitPredicates(annotations[SKIPPER_PREDICATE_ANNOTATION]).includes(ROUTE_DISABLED_PREDICATE)) return { ...INITIAL_ROUTES };
  const raw = annotations[BACKEND_WEIGHTS_ANNOTATION];
  const weights = tryRead(() => JSON.parse(raw ?? '') as unknown);
  if (!isFields(weights)) {
    throw new FledgeError('NotReady', `${subject} has no JSON object in ${BACKEND_WEIGHTS_ANNOTATION} (${raw ?? 'absent'})`);
  }
  const names = serviceNames(canary.spec.service);
  return percentSplit(weightValue(weights[names.primary]), weightValue(weights[names.canary]), subject);
};

class SkipperRouter extends SplitRouter {
  readonly name = 'skipper';
  readonly capabilities = SKIPPER_CAPABILITIES;
  protected readonly readSplit = readSkipperRoutes;

  async reconcile(canary: Canary): Promise<void> {
    refuseProblems(canary, skipperProblems(canary));
    const ingress = await getUserObject(this.kube, this.ref(canary, canary.spec.ingressRef?.name ?? ''));
    await reconcileCopy(this.kube, this.splitRef(canary), (live) => buildSkipperIngress(canary, ingress, this.keptRoutes(canary, live)));
  }

  async finalize(canary: Canary): Promise<void> {
    if (canary.spec.ingressRef?.name) await deleteIfOwned(this.kube, canary, this.splitRef(canary));
  }

  protected splitRef(canary: Canary): ObjectRef {
    return this.ref(canary, skipperCanaryIngressName(canary));
  }

  /** Only the two annotations: spec, labels and the rest are reconcile's business. */
  protected splitPatch(canary: Canary, routes: Routes, live: KubeObject): Fields {
    const predicate = skipperPredicate(live.metadata.annotations?.[SKIPPER_PREDICATE_ANNOTATION], routes);
    return { metadata: { annotations: { [BACKEND_WEIGHTS_ANNOTATION]: backendWeights(canary, routes), [SKIPPER_PREDICATE_ANNOTATION]: predicate } } };
  }

  protected override async live(canary: Canary): Promise<KubeObject> {
    refuseProblems(canary, skipperProblems(canary));
    return super.live(canary);
  }

  private ref(canary: Canary, name: string): ObjectRef {
    return { apiVersion: INGRESS_API_VERSION, kind: 'Ingress', name, namespace: canary.metadata.namespace };
  }
}

export const createSkipperRouter = (deps: RouterDeps): Router => new SkipperRouter(deps.kube);
