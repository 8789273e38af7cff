/**
 * The `istio` router: DestinationRules `<svc>-primary` / `<svc>-canary` and a VirtualService `<svc>`
 * whose weights split traffic between them (Flagger's pkg/router/istio.go, same object shapes).
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights, mirror and affinity cookie when it updates the VirtualService
 *   (Flagger resets them to 100/0 whenever the rest of the spec changed);
 * - a user's VirtualService is remembered once, when first adopted, not overwritten on every update;
 * - the affinity cookies are read back from the VirtualService instead of the Canary status, so the
 *   router needs no status writes; the sticky route exists only while there is a cookie to match;
 * - with primaryCookieName (Flagger 1.43), holders of the primary cookie are pinned by a route named
 *   `sticky-primary-route` placed after `sticky-route`; the primary cookie is renewed when the split
 *   changes, not when setRoutes re-asserts the live split, and is simply no longer handed out once the
 *   canary has no weight (it lives one interval), as the gatewayapi router does;
 * - canaries the router cannot serve (see istioProblems) are refused instead of silently degraded;
 * - mirrorPercentage is always written (100 when mirrorWeight is unset; Istio reads absent as 100),
 *   and the A/B default route always carries weight 100 for its only destination, the primary.
 */
import { randomInt } from 'node:crypto';
import type { Canary, Problem } from '../../src/api/index.js';
import { FledgeError, compact, invalidSpec, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import type { AffinityCookies, RouteState } from './istio-build.js';
import {
  INITIAL_ROUTES,
  ISTIO_API_VERSION,
  KUBECTL_LAST_APPLIED_ANNOTATION,
  ORIGINAL_CONFIG_ANNOTATION,
  buildDestinationRule,
  buildVirtualService,
  buildVirtualServiceSpec,
  isTcp,
} from './istio-build.js';
import { isOwnedBy, originalSpecOf, readCookies, readRoutes, tryReadRoutes } from './istio-read.js';

export const ISTIO_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: true,
  sessionAffinity: true,
};

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const istioProblems = (canary: Canary): Problem[] => {
  const { service, analysis } = canary.spec;
  const problems: Problem[] = [];
  if (service.delegation && (service.hosts.length > 0 || service.gateways.length > 0)) {
    problems.push({ path: 'spec.service.delegation', rule: 'a delegate VirtualService cannot have hosts or gateways' });
  }
  if (isTcp(service)) {
    const tcp = 'router "istio" routes appProtocol tcp by weight only';
    if (analysis.match.length > 0) problems.push({ path: 'spec.analysis.match', rule: `${tcp}: A/B testing needs HTTP` });
    if (analysis.mirror) problems.push({ path: 'spec.analysis.mirror', rule: `${tcp}: mirroring needs HTTP` });
    if (analysis.sessionAffinity) problems.push({ path: 'spec.analysis.sessionAffinity', rule: `${tcp}: session affinity needs HTTP` });
  }
  return problems;
};

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A fresh cookie value, ten letters as Flagger makes them (letters only, so it is safe in a regex). */
export const freshCookieValue = (): string => Array.from({ length: 10 }, () => LETTERS[randomInt(LETTERS.length)]).join('');

/**
 * The cookies after a change of split: while the canary gets traffic it keeps handing out its cookie
 * (a new one when the name changed or none exists); once it gets none, the last cookie expires.
 */
export const nextCookies = (canary: Canary, routes: Routes, live: AffinityCookies, fresh: () => string = freshCookieValue): AffinityCookies => {
  const affinity = canary.spec.analysis.sessionAffinity;
  if (!affinity) return {};
  if (routes.canary > 0) {
    const current = live.active?.startsWith(`${affinity.cookieName}=`) ? live.active : undefined;
    return { active: current ?? `${affinity.cookieName}=${fresh()}` };
  }
  const expiring = live.active ?? live.expiring;
  return expiring ? { expiring } : {};
};

/**
 * The primary cookie for a new split, with primaryCookieName: a fresh one at each new split, so its
 * holders are rebalanced by the next step's weights (it also lives one interval); the live one when the
 * live split is written again; none while the canary has no weight (nothing to be kept away from).
 */
export const nextPrimaryCookie = (
  canary: Canary,
  routes: Routes,
  liveRoutes: Routes | undefined,
  livePrimary: string | undefined,
  fresh: () => string = freshCookieValue,
): string | undefined => {
  const name = canary.spec.analysis.sessionAffinity?.primaryCookieName;
  if (!name || routes.canary === 0) return undefined;
  const sameSplit = liveRoutes?.primary === routes.primary && liveRoutes.canary === routes.canary;
  return sameSplit && livePrimary?.startsWith(`${name}=`) ? livePrimary : `${name}=${fresh()}`;
};

/** Every affinity cookie for a new split: the canary's (nextCookies), then the primary's. */
export const nextAffinityCookies = (
  canary: Canary,
  routes: Routes,
  liveRoutes: Routes | undefined,
  live: AffinityCookies,
  fresh: () => string = freshCookieValue,
): AffinityCookies => {
  const cookies = nextCookies(canary, routes, live, fresh);
  return { ...cookies, ...compact({ primary: nextPrimaryCookie(canary, routes, liveRoutes, live.primary, fresh) }) };
};

const checkRoutes = (routes: Routes): void => {
  const valid = [routes.primary, routes.canary].every((w) => Number.isInteger(w) && w >= 0 && w <= 100);
  if (!valid || routes.primary + routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `weights must be integers from 0 to 100 that add up to 100, got ${routes.primary}/${routes.canary}`);
  }
};

/** Key-order-insensitive equality of JSON values, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

const withoutKeys = (map: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !keys.includes(k)));

class IstioRouter implements Router {
  readonly name = 'istio';
  readonly capabilities = ISTIO_CAPABILITIES;

  constructor(private readonly kube: KubeApi) {}

  async reconcile(canary: Canary): Promise<void> {
    const problems = istioProblems(canary);
    if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
    const names = serviceNames(canary.spec.service);
    await this.reconcileDestinationRule(canary, names.canary);
    await this.reconcileDestinationRule(canary, names.primary);
    await this.reconcileVirtualService(canary);
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(routes);
    const live = await this.liveVirtualService(canary);
    const cookies = nextAffinityCookies(canary, routes, tryReadRoutes(canary, live), readCookies(canary, live));
    const spec = buildVirtualServiceSpec(canary, { routes, cookies });
    // Only the route lists: hosts, gateways and metadata are reconcile's business.
    const patch = isTcp(canary.spec.service) ? { tcp: spec.tcp } : { http: spec.http };
    await this.kube.mergePatch(this.ref(canary, 'VirtualService', names(canary).apex), { spec: patch });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return readRoutes(canary, await this.liveVirtualService(canary));
  }

  async finalize(canary: Canary): Promise<void> {
    const { apex, primary, canary: canaryHost } = names(canary);
    const vs = await this.kube.get(this.ref(canary, 'VirtualService', apex));
    if (vs && isOwnedBy(vs, canary)) {
      await this.kube.delete(this.ref(canary, 'VirtualService', apex));
    } else if (vs && canary.spec.revertOnDeletion) {
      const original = originalSpecOf(vs);
      if (original) {
        const annotations = withoutKeys(vs.metadata.annotations, [ORIGINAL_CONFIG_ANNOTATION, ...Object.keys(FLUX_RECONCILE_DISABLED)]);
        await this.kube.replace({ ...vs, metadata: { ...vs.metadata, annotations }, spec: original });
      }
    }
    for (const host of [primary, canaryHost]) {
      const rule = await this.kube.get(this.ref(canary, 'DestinationRule', host));
      if (rule && isOwnedBy(rule, canary)) await this.kube.delete(this.ref(canary, 'DestinationRule', host));
    }
  }

  private ref(canary: Canary, kind: string, name: string): ObjectRef {
    return { apiVersion: ISTIO_API_VERSION, kind, name, namespace: canary.metadata.namespace };
  }

  private async liveVirtualService(canary: Canary): Promise<KubeObject> {
    const vs = await this.kube.get(this.ref(canary, 'VirtualService', names(canary).apex));
    if (!vs) {
      throw new FledgeError('NotReady', `VirtualService ${canary.metadata.namespace}/${names(canary).apex} not found (not reconciled yet)`);
    }
    return vs;
  }

  private async reconcileDestinationRule(canary: Canary, host: string): Promise<void> {
    const desired = buildDestinationRule(canary, host);
    const live = await this.kube.get(this.ref(canary, 'DestinationRule', host));
    if (!live) {
      await this.kube.create(desired);
      return;
    }
    const annotations = { ...live.metadata.annotations, ...FLUX_RECONCILE_DISABLED };
    if (sameJson(live.spec, desired.spec) && sameJson(live.metadata.annotations ?? {}, annotations)) return;
    await this.kube.replace({ ...live, metadata: { ...live.metadata, annotations }, spec: desired.spec });
  }

  private async reconcileVirtualService(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.ref(canary, 'VirtualService', names(canary).apex));
    if (!live) {
      await this.kube.create(buildVirtualService(canary, { routes: INITIAL_ROUTES }));
      return;
    }
    // Never reset a split mid-analysis: rebuild around the live weights, mirror and cookie.
    const state: RouteState = { routes: tryReadRoutes(canary, live) ?? INITIAL_ROUTES, cookies: readCookies(canary, live) };
    const desired = buildVirtualService(canary, state);
    const liveAnnotations = live.metadata.annotations ?? {};
    const annotations: Record<string, string> = { ...desired.metadata.annotations };
    // Kept from the live object: kubectl's record of the user's manifest and our copy of the original.
    for (const key of [KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION]) {
      const value = liveAnnotations[key];
      if (value !== undefined) annotations[key] = value;
    }
    const adopting = !isOwnedBy(live, canary) && annotations[ORIGINAL_CONFIG_ANNOTATION] === undefined;
    if (adopting) annotations[ORIGINAL_CONFIG_ANNOTATION] = JSON.stringify(live.spec ?? {});
    const labels = desired.metadata.labels ?? {};
    const unchanged =
      sameJson(live.spec, desired.spec) && sameJson(live.metadata.labels ?? {}, labels) && sameJson(liveAnnotations, annotations);
    if (unchanged) return;
    await this.kube.replace({ ...live, metadata: { ...live.metadata, labels, annotations }, spec: desired.spec });
  }
}

const names = (canary: Canary): ReturnType<typeof serviceNames> => serviceNames(canary.spec.service);

export const createIstioRouter = (deps: RouterDeps): Router => new IstioRouter(deps.kube);
