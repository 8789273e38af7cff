/**
 * The `kubernetes` router: no mesh, only Services. The apex Service `<svc>` is pointed at the primary
 * pods (routes 100/0) or at the canary pods (routes 0/100) by copying the selector of the Service
 * `<svc>-primary` or `<svc>-canary`; src/workloads creates those three Services, this router only
 * switches the apex selector, and reads the selectors from them rather than recomputing labels.
 *
 * A Service selector cannot split traffic, so only blue/green is possible. Like Flagger, a canary
 * asking for stepped weights or A/B testing on this router runs as blue/green: parseCanary drops
 * analysis.match and sets iterations to 10, with warnings, when it knows the router; checkSupport
 * (index.ts) reports a canary parsed without that knowledge; setRoutes refuses any other split and
 * any mirroring instead of ignoring it.
 *
 * Difference from Flagger: Flagger's kubernetes provider routes nothing (its mesh router is a no-op),
 * so the apex keeps selecting the primary during a blue/green analysis; here 0/100 really sends the
 * traffic to the canary, and getRoutes reads the live apex selector instead of answering 0/0.
 */
import type { Canary } from '../../src/api/index.js';
import { FledgeError, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';

export const KUBERNETES_CAPABILITIES: RouterCapabilities = {
  strategies: ['bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

export type Selector = Record<string, string>;
export type Side = 'primary' | 'canary';

const KUBECTL_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The side that gets all the traffic; anything but 100/0 or 0/100 is refused. */
export const sideOf = (routes: Routes): Side => {
  if (routes.mirrored) throw new FledgeError('InvalidSpec', 'router "kubernetes" cannot mirror traffic');
  if (routes.primary === 100 && routes.canary === 0) return 'primary';
  if (routes.primary === 0 && routes.canary === 100) return 'canary';
  throw new FledgeError(
    'InvalidSpec',
    `router "kubernetes" can only send all traffic to the primary or to the canary (100/0 or 0/100), got ${routes.primary}/${routes.canary}`,
  );
};

const isSelector = (value: unknown): value is Selector =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

export const selectorOf = (service: KubeObject | undefined): Selector => {
  const spec = service?.spec;
  const selector = typeof spec === 'object' && spec !== null ? (spec as { selector?: unknown }).selector : undefined;
  return isSelector(selector) ? selector : {};
};

export const sameSelector = (a: Selector, b: Selector): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** A JSON merge patch turning `current` into `wanted`: keys no longer wanted are set to null. */
export const selectorPatch = (current: Selector, wanted: Selector): Record<string, string | null> => {
  const patch: Record<string, string | null> = { ...wanted };
  for (const key of Object.keys(current)) if (!(key in wanted)) patch[key] = null;
  return patch;
};

/** Which side the apex selects, or undefined when it selects neither Service's pods. */
export const selectedSide = (apex: Selector, primary: Selector, canary: Selector): Side | undefined => {
  if (Object.keys(apex).length === 0) return undefined;
  if (sameSelector(apex, primary)) return 'primary';
  if (sameSelector(apex, canary)) return 'canary';
  return undefined;
};

const ROUTES: Record<Side, Routes> = {
  primary: { primary: 100, canary: 0, mirrored: false },
  canary: { primary: 0, canary: 100, mirrored: false },
};

const describe = (selector: Selector): string =>
  Object.keys(selector).length === 0 ? '{}' : Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');

class KubernetesRouter implements Router {
  readonly name = 'kubernetes';
  readonly capabilities = KUBERNETES_CAPABILITIES;

  constructor(private readonly kube: KubeApi) {}

  /** Nothing to create (the Services belong to src/workloads); fails until all three exist. */
  async reconcile(canary: Canary): Promise<void> {
    await this.services(canary);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    const side = sideOf(routes);
    const services = await this.services(canary);
    const wanted = selectorOf(services[side]);
    if (Object.keys(wanted).length === 0) {
      throw new FledgeError('NotReady', `Service ${canary.metadata.namespace}/${services[side].metadata.name} has no selector to copy`);
    }
    await this.pointApexAt(canary, services.apex, wanted);
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    const services = await this.services(canary);
    const apex = selectorOf(services.apex);
    const side = selectedSide(apex, selectorOf(services.primary), selectorOf(services.canary));
    if (!side) {
      const { apex: apexName, primary, canary: canaryName } = serviceNames(canary.spec.service);
      throw new FledgeError(
        'NotReady',
        `Service ${canary.metadata.namespace}/${apexName} selects ${describe(apex)}, neither the pods of ${primary} nor of ${canaryName}`,
      );
    }
    return { ...ROUTES[side] };
  }

  /**
   * With revertOnDeletion, a user's apex Service goes back to the selector kubectl last applied, or
   * else to the target's own pods (what the canary Service selects). One this canary owns is left to
   * the garbage collector.
   */
  async finalize(canary: Canary): Promise<void> {
    if (!canary.spec.revertOnDeletion) return;
    const names = serviceNames(canary.spec.service);
    const apex = await this.kube.get(this.ref(canary, names.apex));
    if (!apex || ownedBy(apex, canary)) return;
    const target = lastAppliedSelector(apex) ?? selectorOf(await this.kube.get(this.ref(canary, names.canary)));
    if (Object.keys(target).length === 0) return;
    await this.pointApexAt(canary, apex, target);
  }

  private async pointApexAt(canary: Canary, apex: KubeObject, wanted: Selector): Promise<void> {
    const current = selectorOf(apex);
    if (sameSelector(current, wanted)) return;
    await this.kube.mergePatch(this.ref(canary, apex.metadata.name), { spec: { selector: selectorPatch(current, wanted) } });
  }

  private async services(canary: Canary): Promise<Record<'apex' | Side, KubeObject>> {
    const names = serviceNames(canary.spec.service);
    const [apex, primary, canaryService] = await Promise.all([
      this.kube.get(this.ref(canary, names.apex)),
      this.kube.get(this.ref(canary, names.primary)),
      this.kube.get(this.ref(canary, names.canary)),
    ]);
    if (!apex || !primary || !canaryService) {
      const missing = [apex ? '' : names.apex, primary ? '' : names.primary, canaryService ? '' : names.canary].filter(Boolean);
      throw new FledgeError('NotReady', `Service ${missing.map((n) => `${canary.metadata.namespace}/${n}`).join(', ')} not found`);
    }
    return { apex, primary, canary: canaryService };
  }

  private ref(canary: Canary, name: string): ObjectRef {
    return { apiVersion: 'v1', kind: 'Service', name, namespace: canary.metadata.namespace };
  }
}

const ownedBy = (obj: KubeObject, canary: Canary): boolean =>
  (obj.metadata.ownerReferences ?? []).some(
    (ref) => ref.kind === 'Canary' && (canary.metadata.uid ? ref.uid === canary.metadata.uid : ref.name === canary.metadata.name),
  );

const lastAppliedSelector = (service: KubeObject): Selector | undefined => {
  const text = service.metadata.annotations?.[KUBECTL_LAST_APPLIED];
  if (text === undefined) return undefined;
  try {
    const selector = selectorOf(JSON.parse(text) as KubeObject);
    return Object.keys(selector).length > 0 ? selector : undefined;
  } catch {
    return undefined;
  }
};

export const createKubernetesRouter = (deps: RouterDeps): Router => new KubernetesRouter(deps.kube);
