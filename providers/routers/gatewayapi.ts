/**
 * The `gatewayapi` router (also `gatewayapi:v1`, `gatewayapi:v1beta1`): an HTTPRoute `<svc>` in the
 * canary's namespace, attached to spec.service.gatewayRefs, whose backendRefs `<svc>-primary` and
 * `<svc>-canary` carry the split (Flagger's pkg/router/gateway_api.go, same object shape).
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights and mirror when it updates the HTTPRoute (Flagger resets them to
 *   100/0 whenever the rest of the spec changed), and setRoutes patches only spec.rules;
 * - A/B conditions add their header and query matches to service.match's instead of replacing them;
 * - mirroring follows the routes the engine asks for (Flagger also requires iterations > 0), and
 *   analysis.mirrorWeight becomes the RequestMirror percent;
 * - finalize deletes an HTTPRoute the canary owns (Flagger leaves it to the garbage collector);
 * - session affinity (rules in gatewayapi-build.ts) reads its cookies back from the live HTTPRoute, as
 *   the istio router does, instead of the Canary status, so the router needs no status writes, and
 *   reconcile keeps them; the sticky rule exists only while there is a cookie to match (Flagger
 *   otherwise writes a copy of the weighted rule); a canary's A/B route ignores it (Flagger overwrites
 *   the sticky rule's matches with the A/B ones); the primary cookie is renewed when the split changes,
 *   not when setRoutes re-asserts the live split (Flagger renews it on every call).
 * The apiVersion is taken from spec.provider (`gatewayapi:v1beta1` → v1beta1, else v1).
 */
import type { Canary, Problem } from '../../src/api/index.js';
import { FledgeError, compact, invalidSpec, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import type { GatewayAffinityCookies } from './gatewayapi-build.js';
import {
  GATEWAY_API_GROUP,
  GATEWAY_API_VERSIONS,
  buildHTTPRoute,
  buildRules,
  gatewayApiVersionOf,
  httpRouteApiVersion,
  matchProblems,
} from './gatewayapi-build.js';
import { INITIAL_ROUTES, SET_COOKIE } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';
import { nextAffinityCookies } from './istio.js';

export const GATEWAYAPI_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: true,
  sessionAffinity: true,
};

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const gatewayApiProblems = (canary: Canary): Problem[] => {
  const { service, analysis, provider } = canary.spec;
  const problems: Problem[] = [];
  const variant = provider?.startsWith('gatewayapi:') ? provider.slice('gatewayapi:'.length) : undefined;
  if (variant !== undefined && !(GATEWAY_API_VERSIONS as readonly string[]).includes(variant)) {
    problems.push({ path: 'spec.provider', rule: `router "gatewayapi" serves versions ${GATEWAY_API_VERSIONS.join(', ')}, not "${variant}"` });
  }
  if (service.gatewayRefs.length === 0) {
    problems.push({ path: 'spec.service.gatewayRefs', rule: 'router "gatewayapi" needs at least one gateway reference' });
  }
  // Gateway API refuses a header added twice in one filter, and the expiring cookie joins this one.
  if (analysis.sessionAffinity && Object.keys(service.headers?.response?.add ?? {}).some((name) => name.toLowerCase() === 'set-cookie')) {
    problems.push({ path: 'spec.service.headers.response.add', rule: 'router "gatewayapi" sets Set-Cookie itself for session affinity' });
  }
  return [...problems, ...matchProblems(service.match, 'spec.service.match'), ...matchProblems(analysis.match, 'spec.analysis.match')];
};

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

/** Gateway API defaults an absent backendRef weight to 1. */
const weightOf = (ref: Fields): number => (typeof ref.weight === 'number' ? ref.weight : 1);

const subject = (canary: Canary): string => `HTTPRoute ${canary.metadata.namespace}/${serviceNames(canary.spec.service).apex}`;

/** Key-order-insensitive JSON, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    isFields(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

const refsOf = (rule: Fields | undefined): Fields[] => listOf(rule?.backendRefs);

/**
 * Where the split is: the last rule whose backendRefs reach both primary and canary. Session-affinity
 * rules reach both too but always come before it (in Flagger's HTTPRoutes as in ours, and Flagger's
 * GetRoutes also settles on the last such rule); an A/B route's primary-only rule reaches one. -1: none.
 */
const weightedRuleIndex = (canary: Canary, rules: readonly Fields[]): number => {
  const names = serviceNames(canary.spec.service);
  return rules.findLastIndex((rule) => [names.primary, names.canary].every((n) => refsOf(rule).some((ref) => ref.name === n)));
};

/** The split of a live HTTPRoute, in percent, read from its weighted rule; mirrored when that rule mirrors to the canary. */
export const readHTTPRouteRoutes = (canary: Canary, route: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const rules = listOf(fieldsOf(route.spec).rules);
  const weighted = rules[weightedRuleIndex(canary, rules)];
  if (!weighted) throw new FledgeError('NotReady', `${subject(canary)} has no rule routing to both ${names.primary} and ${names.canary}`);
  const weight = (name: string): number => refsOf(weighted).filter((ref) => ref.name === name).reduce((sum, ref) => sum + weightOf(ref), 0);
  const primary = weight(names.primary);
  const canaryWeight = weight(names.canary);
  if (primary + canaryWeight === 0) throw new FledgeError('NotReady', `${subject(canary)} routes no traffic to ${names.primary} or ${names.canary}`);
  const mirrored = listOf(weighted.filters).some(
    (f) => f.type === 'RequestMirror' && fieldsOf(fieldsOf(f.requestMirror).backendRef).name === names.canary,
  );
  // Gateway API weights are proportions (1 and 1 is an even split); Routes are percentages.
  const primaryPercent = Math.round((100 * primary) / (primary + canaryWeight));
  return { primary: primaryPercent, canary: 100 - primaryPercent, mirrored };
};

const tryReadRoutes = (canary: Canary, route: KubeObject): Routes | undefined => {
  try {
    return readHTTPRouteRoutes(canary, route);
  } catch {
    return undefined;
  }
};

/** The Set-Cookie value a list of filters adds to responses, if any. */
const setCookieIn = (filters: unknown): string | undefined => {
  const added = listOf(filters)
    .filter((f) => f.type === 'ResponseHeaderModifier')
    .flatMap((f) => listOf(fieldsOf(f.responseHeaderModifier).add));
  const value = added.find((h) => typeof h.name === 'string' && h.name.toLowerCase() === SET_COOKIE.toLowerCase())?.value;
  return typeof value === 'string' ? value : undefined;
};

/** The `name=value` pair before the first `;` of a Set-Cookie value. */
const cookiePair = (setCookie: string | undefined): string | undefined =>
  setCookie?.includes('=') ? setCookie.split(';', 1)[0]?.trim() : undefined;

/**
 * The affinity cookies a live HTTPRoute carries: the active and primary ones are what the canary and
 * primary backendRefs of the weighted rule hand out; the expiring one is what a rule before it tells
 * clients to drop (Max-Age=-1).
 */
export const readAffinityCookies = (canary: Canary, route: KubeObject): GatewayAffinityCookies => {
  const names = serviceNames(canary.spec.service);
  const rules = listOf(fieldsOf(route.spec).rules);
  const at = weightedRuleIndex(canary, rules);
  const handedOutBy = (name: string): string | undefined =>
    cookiePair(setCookieIn(refsOf(rules[at]).find((ref) => ref.name === name)?.filters));
  const dropped = rules
    .slice(0, Math.max(at, 0))
    .map((rule) => setCookieIn(rule.filters))
    .find((value) => value !== undefined && /Max-Age=-1\b/.test(value));
  return compact({ active: handedOutBy(names.canary), primary: handedOutBy(names.primary), expiring: cookiePair(dropped) });
};


/** The same cookie rules as the istio router's (one place for both). */
export { nextAffinityCookies };

/**
 * Why a gateway has not yet applied the current generation, as Flagger checks it: a parent status of
 * one of our gateways whose Accepted condition is not True or was observed for an older generation.
 */
export const notAcceptedReason = (canary: Canary, route: KubeObject): string | undefined => {
  const generation = route.metadata.generation ?? 0;
  const ours = new Set(canary.spec.service.gatewayRefs.map((ref) => parentKey(canary, ref)));
  for (const parent of listOf(fieldsOf(route.status).parents)) {
    const ref = fieldsOf(parent.parentRef);
    if (!ours.has(parentKey(canary, ref))) continue;
    const accepted = listOf(parent.conditions).find((c) => c.type === 'Accepted');
    if (!accepted) continue;
    const observed = typeof accepted.observedGeneration === 'number' ? accepted.observedGeneration : 0;
    if (accepted.status !== 'True' || observed < generation) {
      return `${subject(canary)} parent ${String(ref.name)} is not ready (status: ${String(accepted.status)}, observed generation: ${observed}, current generation: ${generation})`;
    }
  }
  return undefined;
};

/** A parent reference with the API server's defaults applied (group, Gateway kind, the route's namespace). */
const parentKey = (canary: Canary, ref: object): string => {
  const fields = ref as Readonly<Record<string, unknown>>;
  const text = (key: string, fallback = ''): string => (typeof fields[key] === 'string' ? (fields[key] as string) : fallback);
  const port = typeof fields.port === 'number' ? String(fields.port) : '';
  return [text('group', GATEWAY_API_GROUP), text('kind', 'Gateway'), text('namespace', canary.metadata.namespace), text('name'), text('sectionName'), port].join('/');
};

const checkRoutes = (routes: Routes): void => {
  const valid = [routes.primary, routes.canary].every((w) => Number.isInteger(w) && w >= 0 && w <= 100);
  if (!valid || routes.primary + routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `weights must be integers from 0 to 100 that add up to 100, got ${routes.primary}/${routes.canary}`);
  }
};

class GatewayApiRouter implements Router {
  readonly name = 'gatewayapi';
  readonly capabilities = GATEWAYAPI_CAPABILITIES;

  constructor(
    private readonly kube: KubeApi,
    /** `gatewayapi:v1beta1` when --mesh-provider asked for it; spec.provider, when set, wins. */
    private readonly routerName?: string,
  ) {}

  private versionOf(canary: Canary) {
    return gatewayApiVersionOf(canary.spec.provider ?? this.routerName);
  }

  async reconcile(canary: Canary): Promise<void> {
    const problems = gatewayApiProblems(canary);
    if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
    const live = await this.kube.get(this.ref(canary));
    if (!live) {
      await this.kube.create(buildHTTPRoute(canary, INITIAL_ROUTES, this.versionOf(canary)));
      return;
    }
    // Never reset a split mid-analysis: rebuild around the live weights, mirror and affinity cookies.
    const routes = tryReadRoutes(canary, live) ?? INITIAL_ROUTES;
    const desired = buildHTTPRoute(canary, routes, this.versionOf(canary), readAffinityCookies(canary, live));
    // Annotations other controllers put on the route are kept (Flagger does the same).
    const annotations = { ...live.metadata.annotations, ...desired.metadata.annotations };
    const labels = desired.metadata.labels ?? {};
    const unchanged =
      canonical(live.spec) === canonical(desired.spec) &&
      canonical(live.metadata.labels ?? {}) === canonical(labels) &&
      canonical(live.metadata.annotations ?? {}) === canonical(annotations);
    if (unchanged) return;
    await this.kube.replace({ ...live, metadata: { ...live.metadata, labels, annotations }, spec: desired.spec });
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(routes);
    const live = await this.live(canary);
    const cookies = nextAffinityCookies(canary, routes, tryReadRoutes(canary, live), readAffinityCookies(canary, live));
    // Only the rules: parents, hostnames and metadata are reconcile's business.
    await this.kube.mergePatch(this.ref(canary), { spec: { rules: buildRules(canary, routes, cookies) } });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    const live = await this.live(canary);
    const reason = notAcceptedReason(canary, live);
    if (reason) throw new FledgeError('NotReady', reason);
    return readHTTPRouteRoutes(canary, live);
  }

  async finalize(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.ref(canary));
    if (live && isOwnedBy(live, canary)) await this.kube.delete(this.ref(canary));
  }

  private ref(canary: Canary): ObjectRef {
    const name = serviceNames(canary.spec.service).apex;
    return { apiVersion: httpRouteApiVersion(this.versionOf(canary)), kind: 'HTTPRoute', name, namespace: canary.metadata.namespace };
  }

  private async live(canary: Canary): Promise<KubeObject> {
    const route = await this.kube.get(this.ref(canary));
    if (!route) throw new FledgeError('NotReady', `${subject(canary)} not found (not reconciled yet)`);
    return route;
  }
}


export const createGatewayApiRouter = (deps: RouterDeps): Router => new GatewayApiRouter(deps.kube, deps.name);
