/**
 * Pure builders of the Istio objects for a canary: two DestinationRules and the VirtualService for a
 * given traffic split. No I/O, so golden tests compare what they build with fixtures; the router
 * (istio.ts) reads the live objects and writes what these return.
 *
 * Session affinity (analysis.sessionAffinity, weighted routing only) puts named routes in front of the
 * weighted one: while the canary has weight, `sticky-route` sends holders of the canary cookie all to
 * the canary, whose destination in the weighted route hands the cookie out (Max-Age = maxAge); with
 * primaryCookieName, `sticky-primary-route` sends holders of the primary cookie all to the primary,
 * whose destination hands out a cookie that lives one analysis interval, so each step rebalances its
 * holders by the new weights. Once the canary has no weight, `sticky-route` tells holders of the last
 * canary cookie to drop it (Max-Age=-1); the primary cookie is no longer handed out and lapses.
 */
import { canaryOwnerReferences } from '../../src/api/index.js';
import type { Canary, CanaryService, HTTPMatchRequest, HeaderOperations } from '../../src/api/index.js';
import { compact, serviceNames } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';

/** Flagger writes networking.istio.io/v1beta1, which every Istio release since 1.5 serves. */
export const ISTIO_API_VERSION = 'networking.istio.io/v1beta1';
/** Name of the route that sends holders of the canary cookie to the canary (Flagger's name). */
export const STICKY_ROUTE_NAME = 'sticky-route';
/** Name of the route that sends holders of the primary cookie to the primary (ours; see istio.ts). */
export const STICKY_PRIMARY_ROUTE_NAME = 'sticky-primary-route';
/** Routes that pin cookie holders to one side; never the route that carries the split. */
export const STICKY_ROUTE_NAMES: readonly string[] = [STICKY_ROUTE_NAME, STICKY_PRIMARY_ROUTE_NAME];
/** Where the spec of a user's VirtualService is remembered when the canary adopts it (Flagger's key). */
export const ORIGINAL_CONFIG_ANNOTATION = 'flagger.kubernetes.io/original-configuration';
export const KUBECTL_LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const SET_COOKIE = 'Set-Cookie';

/**
 * A Set-Cookie value: `name=value; Max-Age=N`, then the cookie attributes the Canary asks for (Flagger
 * 1.42's Domain, Path, SameSite, Secure, HttpOnly, Partitioned). An expiring cookie (Max-Age=-1) carries
 * them too: a browser drops a cookie only when Domain and Path match the ones it was set with.
 */
export const setCookieValue = (cookie: string, maxAge: number, affinity: Canary['spec']['analysis']['sessionAffinity']): string =>
  [
    cookie,
    `Max-Age=${maxAge}`,
    ...(affinity?.domain ? [`Domain=${affinity.domain}`] : []),
    ...(affinity?.path ? [`Path=${affinity.path}`] : []),
    ...(affinity?.sameSite ? [`SameSite=${affinity.sameSite}`] : []),
    ...(affinity?.secure ? ['Secure'] : []),
    ...(affinity?.httpOnly ? ['HttpOnly'] : []),
    ...(affinity?.partitioned ? ['Partitioned'] : []),
  ].join('; ');
const COOKIE_HEADER = 'Cookie';

export interface Destination {
  destination: { host: string; port?: { number: number } };
  weight?: number;
  headers?: HeaderOperations;
}

export interface HttpRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  rewrite?: { uri?: string; authority?: string };
  timeout?: string;
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string };
  corsPolicy?: Record<string, unknown>;
  headers?: HeaderOperations;
  route: Destination[];
  mirror?: { host: string };
  mirrorPercentage?: { value: number };
}

export interface TcpRoute {
  match?: Array<{ port: number }>;
  route: Destination[];
}

export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  http?: HttpRoute[];
  tcp?: TcpRoute[];
}

/**
 * The session-affinity cookies (`name=value`) a VirtualService carries: `active` is handed out by the
 * canary while it receives traffic; `expiring` is the previous run's cookie, which the sticky route now
 * sends to the primary with Max-Age=-1 so browsers drop it; `primary` is handed out by the primary
 * while the canary receives traffic and primaryCookieName is set.
 */
export interface AffinityCookies {
  active?: string;
  expiring?: string;
  primary?: string;
}

export interface RouteState {
  routes: Routes;
  cookies?: AffinityCookies;
}

export const isTcp = (service: Pick<CanaryService, 'appProtocol'>): boolean => service.appProtocol?.toLowerCase() === 'tcp';

/** The owner reference that lets the garbage collector remove an object with its Canary (one definition, in src/api). */
export const canaryOwnerReference = canaryOwnerReferences;

const ownedMetadata = (canary: Canary, name: string, custom?: { labels: Record<string, string>; annotations: Record<string, string> }) => {
  const owners = canaryOwnerReference(canary);
  const labels = custom?.labels ?? {};
  return compact({
    name,
    namespace: canary.metadata.namespace,
    labels: Object.keys(labels).length > 0 ? { ...labels } : undefined,
    annotations: { ...(custom?.annotations ?? {}), ...FLUX_RECONCILE_DISABLED },
    ownerReferences: owners.length > 0 ? owners : undefined,
  });
};

export const buildDestinationRule = (canary: Canary, host: string): KubeObject => ({
  apiVersion: ISTIO_API_VERSION,
  kind: 'DestinationRule',
  metadata: ownedMetadata(canary, host),
  spec: compact({ host, trafficPolicy: canary.spec.service.trafficPolicy }),
});

type MapField = 'headers' | 'withoutHeaders' | 'queryParams' | 'sourceLabels';
const MAP_FIELDS: readonly MapField[] = ['headers', 'withoutHeaders', 'queryParams', 'sourceLabels'];

/**
 * Each condition combined with each common condition (service.match): the condition's fields win and
 * its header/query/label maps are added to the common ones. Flagger copies only headers and
 * sourceLabels over; taking every field the condition sets is a superset of that.
 */
export const mergeMatches = (conditions: readonly HTTPMatchRequest[], common: readonly HTTPMatchRequest[]): HTTPMatchRequest[] => {
  if (common.length === 0) return conditions.map((c) => ({ ...c }));
  return conditions.flatMap((condition) =>
    common.map((base) => {
      const merged: HTTPMatchRequest = { ...base, ...condition };
      for (const field of MAP_FIELDS) {
        const maps = [base[field], condition[field]].filter((m) => m !== undefined);
        if (maps.length > 0) Object.assign(merged, { [field]: Object.assign({}, ...maps) as unknown });
      }
      return merged;
    }),
  );
};

/** Destinations carry the service port only behind an ingress gateway or a delegating VirtualService. */
const destination = (service: CanaryService, host: string, weight: number): Destination => {
  const viaGateway = service.gateways.length > 0 && service.gateways[0] !== 'mesh';
  const withPort = service.portDiscovery && (viaGateway || service.delegation);
  return { destination: { host, ...(withPort ? { port: { number: service.port } } : {}) }, weight };
};

/** The settings every HTTP route of the canary shares, taken from spec.service. */
const commonRouteFields = (service: CanaryService, match: readonly HTTPMatchRequest[]): Omit<HttpRoute, 'route'> =>
  compact({
    match: match.length > 0 ? [...match] : undefined,
    // `type` is a Gateway API notion; Istio's rewrite has uri and authority only.
    rewrite: service.rewrite ? compact({ uri: service.rewrite.uri, authority: service.rewrite.authority }) : undefined,
    timeout: service.timeout,
    retries: service.retries,
    corsPolicy: service.corsPolicy ? { ...service.corsPolicy } : undefined,
    headers: service.headers,
  });

/** `Cookie` header condition matching `name=value` anywhere in the header, as Flagger writes it. */
const cookieCondition = (cookie: string): HTTPMatchRequest => {
  const [name = '', value = ''] = cookie.split('=', 2);
  return { headers: { [COOKIE_HEADER]: { regex: `.*${name}.*${value}.*` } } };
};

const withResponseHeader = (headers: HeaderOperations | undefined, name: string, value: string): HeaderOperations => ({
  ...headers,
  response: { ...headers?.response, add: { ...headers?.response?.add, [name]: value } },
});

/** Seconds a primary cookie lives: one analysis interval, so the next step rebalances its holders. */
const primaryCookieMaxAge = (canary: Canary): number => Math.floor(canary.spec.analysis.intervalMs / 1000);

const httpRoutes = (canary: Canary, { routes, cookies = {} }: RouteState): HttpRoute[] => {
  const { service, analysis } = canary.spec;
  const names = serviceNames(service);
  const split = (): Destination[] => [destination(service, names.primary, routes.primary), destination(service, names.canary, routes.canary)];
  const mirror = (route: HttpRoute): HttpRoute =>
    routes.mirrored
      ? { ...route, mirror: { host: names.canary }, mirrorPercentage: { value: analysis.mirrorWeight > 0 ? analysis.mirrorWeight : 100 } }
      : route;

  if (analysis.match.length > 0) {
    // A/B: requests matching analysis.match are split (all to the canary while testing); the rest
    // always go to the primary.
    return [
      mirror({ ...commonRouteFields(service, mergeMatches(analysis.match, service.match)), route: split() }),
      { ...commonRouteFields(service, service.match), route: [destination(service, names.primary, 100)] },
    ];
  }

  const weighted: HttpRoute = mirror({ ...commonRouteFields(service, service.match), route: split() });
  const affinity = analysis.sessionAffinity;
  if (!affinity) return [weighted];
  if (cookies.active !== undefined) {
    // Each side hands out its cookie; requests that carry one stay on that side.
    const primaryCookie = affinity.primaryCookieName ? cookies.primary : undefined;
    const handedOut = new Map([[names.canary, setCookieValue(cookies.active, affinity.maxAge, affinity)]]);
    if (primaryCookie) handedOut.set(names.primary, setCookieValue(primaryCookie, primaryCookieMaxAge(canary), affinity));
    weighted.route = weighted.route.map((d) => {
      const setCookie = handedOut.get(d.destination.host);
      return setCookie ? { ...d, headers: withResponseHeader(d.headers, SET_COOKIE, setCookie) } : d;
    });
    const sticky = (name: string, cookie: string, primaryWeight: number): HttpRoute => ({
      name,
      ...commonRouteFields(service, mergeMatches([cookieCondition(cookie)], service.match)),
      route: [destination(service, names.primary, primaryWeight), destination(service, names.canary, 100 - primaryWeight)],
    });
    return [
      sticky(STICKY_ROUTE_NAME, cookies.active, 0),
      ...(primaryCookie ? [sticky(STICKY_PRIMARY_ROUTE_NAME, primaryCookie, 100)] : []),
      weighted,
    ];
  }
  if (cookies.expiring !== undefined) {
    // After a run, holders of the old cookie follow the split (all primary) and are told to drop it.
    const base = commonRouteFields(service, mergeMatches([cookieCondition(cookies.expiring)], service.match));
    const sticky: HttpRoute = {
      name: STICKY_ROUTE_NAME,
      ...base,
      headers: withResponseHeader(base.headers, SET_COOKIE, setCookieValue(cookies.expiring, -1, affinity)),
      route: split(),
    };
    return [sticky, weighted];
  }
  return [weighted];
};

const tcpRoutes = (canary: Canary, routes: Routes): TcpRoute[] => {
  const { service } = canary.spec;
  const names = serviceNames(service);
  const ports = service.match.flatMap((m) => (m.port !== undefined ? [{ port: m.port }] : []));
  return [
    compact({
      match: ports.length > 0 ? ports : undefined,
      route: [destination(service, names.primary, routes.primary), destination(service, names.canary, routes.canary)],
    }),
  ];
};

/** Hosts: the user's plus the apex Service (unless covered by it or `*`); gateways default to `mesh`. */
const hostsAndGateways = (service: CanaryService): Pick<VirtualServiceSpec, 'hosts' | 'gateways'> => {
  // A delegate VirtualService is attached by its parent and may carry neither.
  if (service.delegation) return {};
  const apex = serviceNames(service).apex;
  const hosts = service.hosts.includes(apex) || service.hosts.includes('*') ? [...service.hosts] : [...service.hosts, apex];
  return { hosts, gateways: service.gateways.length > 0 ? [...service.gateways] : ['mesh'] };
};

export const buildVirtualServiceSpec = (canary: Canary, state: RouteState): VirtualServiceSpec => {
  const { service } = canary.spec;
  const routing = isTcp(service) ? { tcp: tcpRoutes(canary, state.routes) } : { http: httpRoutes(canary, state) };
  return { ...hostsAndGateways(service), ...routing };
};

export const buildVirtualService = (canary: Canary, state: RouteState): KubeObject => ({
  apiVersion: ISTIO_API_VERSION,
  kind: 'VirtualService',
  metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex, canary.spec.service.apex),
  spec: buildVirtualServiceSpec(canary, state),
});

/** The weights a VirtualService starts with: everything to the primary. */
export const INITIAL_ROUTES: Routes = { primary: 100, canary: 0, mirrored: false };
