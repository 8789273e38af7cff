/**
 * The `traefik` router: a TraefikService `<svc>` whose weighted round robin splits traffic between
 * the Services `<svc>-primary` and `<svc>-canary` on the service port (Flagger's
 * pkg/router/traefik.go, same object shape). An IngressRoute of the user's sends to it.
 *
 * API version: traefik.io/v1alpha1, the group current Flagger writes (pkg/apis/traefik registers
 * GroupName "traefik.io"); earlier Flagger releases wrote traefik.containo.us/v1alpha1, which
 * Traefik v3 no longer serves.
 *
 * Capabilities: canary and blue/green. A/B testing is refused: a TraefikService only weighs
 * services, and Flagger's router ignores analysis.match. No mirroring: Traefik has a `mirroring`
 * TraefikService kind, but Flagger's router never writes one, so Fledge keeps mirroring to the
 * routers that mirror in Flagger. No session affinity.
 *
 * Differences from Flagger, on purpose:
 * - both services are always listed with an explicit weight, 0 included. Flagger omits a zero
 *   weight (and, at 100/0, the canary), and Traefik reads an absent weight as 1, so Flagger's 0/100
 *   still sends about 1% to the primary. An absent weight reads as 0 here, as Flagger means it;
 * - reconcile keeps the live weights when it rewrites the spec, writes nothing when nothing changed,
 *   and keeps labels/annotations others put on the object; setRoutes patches only the services;
 * - a user's TraefikService of the same name is adopted and restored by finalize with
 *   revertOnDeletion; an owned one is deleted (Flagger leaves it to the garbage collector).
 */
import type { Canary } from '../../src/api/index.js';
import { FledgeError, serviceNames } from '../../src/api/index.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import type { Fields } from './adoption.js';
import { apexRef, fieldsOf, finalizeAdopted, listOf, ownedMetadata, percentSplit, reconcileAdopting, weightValue } from './adoption.js';
import { SplitRouter } from './split-router.js';

export const TRAEFIK_API_VERSION = 'traefik.io/v1alpha1';

export const TRAEFIK_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

export interface TraefikWeightedService {
  name: string;
  namespace: string;
  port: number;
  weight: number;
}

/** The weighted services for a split: primary first, then canary, as Flagger lists them. */
export const buildTraefikServices = (canary: Canary, routes: Routes): TraefikWeightedService[] => {
  const names = serviceNames(canary.spec.service);
  const { namespace } = canary.metadata;
  const { port } = canary.spec.service;
  return [
    { name: names.primary, namespace, port, weight: routes.primary },
    { name: names.canary, namespace, port, weight: routes.canary },
  ];
};

/** The TraefikService for a split, labelled and annotated from spec.service.apex; pure, for golden tests. */
export const buildTraefikService = (canary: Canary, routes: Routes): KubeObject => ({
  apiVersion: TRAEFIK_API_VERSION,
  kind: 'TraefikService',
  metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex, canary.spec.service.apex),
  spec: { weighted: { services: buildTraefikServices(canary, routes) } },
});

/** The split of a live TraefikService, as shares of the primary's and the canary's weights. */
export const readTraefikRoutes = (canary: Canary, ts: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const subject = `TraefikService ${canary.metadata.namespace}/${ts.metadata.name}`;
  const services = listOf(fieldsOf(fieldsOf(ts.spec).weighted).services);
  if (!services.some((s) => s.name === names.primary)) {
    throw new FledgeError('NotReady', `${subject} has no weighted service ${names.primary}`);
  }
  const weight = (name: string): number => services.filter((s) => s.name === name).reduce((sum, s) => sum + weightValue(s.weight), 0);
  return percentSplit(weight(names.primary), weight(names.canary), subject);
};

class TraefikRouter extends SplitRouter {
  readonly name = 'traefik';
  readonly capabilities = TRAEFIK_CAPABILITIES;
  protected readonly readSplit = readTraefikRoutes;

  async reconcile(canary: Canary): Promise<void> {
    await reconcileAdopting(this.kube, canary, this.splitRef(canary), (live) => buildTraefikService(canary, this.keptRoutes(canary, live)));
  }

  async finalize(canary: Canary): Promise<void> {
    await finalizeAdopted(this.kube, canary, this.splitRef(canary));
  }

  protected splitRef(canary: Canary): ObjectRef {
    return apexRef(canary, TRAEFIK_API_VERSION, 'TraefikService');
  }

  /** A merge patch replaces the services list as a whole and keeps the rest of `weighted`. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { spec: { weighted: { services: buildTraefikServices(canary, routes) } } };
  }
}

export const createTraefikRouter = (deps: RouterDeps): Router => new TraefikRouter(deps.kube);
