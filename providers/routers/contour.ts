/**
 * The `contour` router: an HTTPProxy `<svc>` (projectcontour.io/v1) whose routes send to
 * `<svc>-primary` and `<svc>-canary` by weight (Flagger's pkg/router/contour.go, same object shape;
 * contour-build.ts builds it). The proxy has no virtualhost: a root HTTPProxy includes it.
 *
 * Capabilities: canary, A/B (header conditions) and blue/green. No mirroring: Contour can mirror to
 * a service (`mirror: true`), but Flagger's router ignores the mirror flag and Fledge keeps mirroring
 * to the routers that have it in Flagger (istio, gatewayapi). No session affinity.
 * A/B headers: exact is written as `exact`; regex, prefix and suffix as `regex` (needs a Contour
 * whose header conditions have `regex`, projectcontour/contour#5311). Other match fields (uri,
 * method, queryParams, ...) are refused, and so is a service.match beyond a path prefix.
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights when it updates the proxy (Flagger compares ignoring weights but
 *   then writes its 100/0 spec) and setRoutes patches only spec.routes;
 * - A/B writes one route per match entry, each with a single prefix condition (Flagger's repeated
 *   prefix is rejected by Contour as soon as two headers are matched), and prefix/suffix header
 *   matches become anchored regexes instead of `contains`;
 * - zero weights are written as `weight: 0` (Flagger omits them); an absent weight reads as 0;
 * - service.retries.retryOn is passed on (Flagger drops it); status codes become retriableStatusCodes;
 * - the ingress-class annotation is kept up to date, not only set at creation;
 * - a virtualhost on the live proxy is kept, so a user's root proxy adopted under the service's
 *   name keeps serving its host (Flagger's rewrite drops it);
 * - a user's HTTPProxy of the same name is adopted and restored by finalize with revertOnDeletion;
 *   an owned one is deleted (Flagger leaves it to the garbage collector).
 */
import type { Canary } from '../../src/api/index.js';
import { FledgeError, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import { CONTOUR_API_VERSION, buildContourRoutes, buildHTTPProxy, contourProblems } from './contour-build.js';
import type { Fields } from './adoption.js';
import { apexRef, fieldsOf, finalizeAdopted, listOf, percentSplit, reconcileAdopting, refuseProblems, weightValue } from './adoption.js';
import { SplitRouter } from './split-router.js';

export { contourProblems } from './contour-build.js';

export const CONTOUR_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

export interface ContourOptions {
  /** Written as the projectcontour.io/ingress.class annotation (Flagger's --ingress-class); none by default. */
  ingressClass?: string;
}

/**
 * The split of a live HTTPProxy: the first route that sends to both the primary and the canary (the
 * A/B fallback route comes last). Weights are relative; an absent one is 0, as Flagger omits zeros.
 */
export const readHTTPProxyRoutes = (canary: Canary, proxy: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const subject = `HTTPProxy ${canary.metadata.namespace}/${proxy.metadata.name}`;
  const servicesOf = (route: Record<string, unknown>) => listOf(route.services);
  const weighted = listOf(fieldsOf(proxy.spec).routes).find((route) =>
    [names.primary, names.canary].every((name) => servicesOf(route).some((s) => s.name === name)),
  );
  if (!weighted) throw new FledgeError('NotReady', `${subject} has no route to both ${names.primary} and ${names.canary}`);
  const weight = (name: string): number =>
    servicesOf(weighted)
      .filter((s) => s.name === name)
      .reduce((sum, s) => sum + weightValue(s.weight), 0);
  return percentSplit(weight(names.primary), weight(names.canary), subject);
};

class ContourRouter extends SplitRouter {
  readonly name = 'contour';
  readonly capabilities = CONTOUR_CAPABILITIES;
  protected readonly readSplit = readHTTPProxyRoutes;

  constructor(
    kube: KubeApi,
    private readonly ingressClass: string | undefined,
  ) {
    super(kube);
  }

  async reconcile(canary: Canary): Promise<void> {
    refuseProblems(canary, contourProblems(canary));
    await reconcileAdopting(this.kube, canary, this.splitRef(canary), (live) =>
      buildHTTPProxy(canary, this.keptRoutes(canary, live), this.ingressClass, live ? fieldsOf(live.spec).virtualhost : undefined),
    );
  }

  async finalize(canary: Canary): Promise<void> {
    await finalizeAdopted(this.kube, canary, this.splitRef(canary));
  }

  protected splitRef(canary: Canary): ObjectRef {
    return apexRef(canary, CONTOUR_API_VERSION, 'HTTPProxy');
  }

  /** Only the routes: metadata is reconcile's business. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { spec: { routes: buildContourRoutes(canary, routes) } };
  }
}

export const createContourRouter = (deps: RouterDeps, options: ContourOptions = {}): Router =>
  new ContourRouter(deps.kube, options.ingressClass || undefined);
