/**
 * Pure builders of the Gloo Edge objects for a canary (shapes after Flagger's pkg/router/gloo.go,
 * fields after Gloo Edge's Upstream and RouteTable references). No I/O: golden tests compare what
 * they build with fixtures; gloo.ts reads the live objects and writes what these return.
 *
 * - Upstreams `<ns>-<svc>-primaryupstream-<port>` and `<ns>-<svc>-canaryupstream-<port>`
 *   (gloo.solo.io/v1), kube upstreams of the primary and canary Services, so the router does not
 *   depend on Gloo's upstream discovery. With spec.upstreamRef, the connection settings Flagger
 *   copies are taken from that Upstream.
 * - A RouteTable `<svc>` (gateway.solo.io/v1) whose route splits between the two upstreams; the
 *   user's VirtualService delegates to it, and the route inherits the delegating path.
 */
import type { Canary, HTTPMatchRequest, Problem, StringMatch } from '../../src/api/index.js';
import { compact, serviceNames } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import type { Fields } from './adoption.js';
import { ownedMetadata, valueMatchOf } from './adoption.js';

export const GLOO_UPSTREAM_API_VERSION = 'gloo.solo.io/v1';
export const GLOO_ROUTE_TABLE_API_VERSION = 'gateway.solo.io/v1';
/** The Upstream settings Flagger copies from spec.upstreamRef (Gloo's JSON names). */
export const UPSTREAM_CONFIG_FIELDS = [
  'labels',
  'sslConfig',
  'circuitBreakers',
  'connectionConfig',
  'loadBalancerConfig',
  'useHttp2',
  'initialStreamWindowSize',
  'initialConnectionWindowSize',
  'httpProxyHostname',
] as const;

const ROUTER = 'router "gloo"';

export type Side = 'primary' | 'canary';

const upstreamPrefix = (canary: Canary, side: Side): string => `${canary.metadata.namespace}-${serviceNames(canary.spec.service).apex}-${side}upstream-`;

export const upstreamName = (canary: Canary, side: Side): string => `${upstreamPrefix(canary, side)}${canary.spec.service.port}`;

/**
 * Whether `name` is this canary's Upstream for `side` on any port: a port change renames the
 * Upstreams, and the live split and the stale Upstreams must still be found.
 */
export const isUpstreamName = (canary: Canary, side: Side, name: unknown): boolean => {
  const prefix = upstreamPrefix(canary, side);
  return typeof name === 'string' && name.startsWith(prefix) && /^[0-9]+$/.test(name.slice(prefix.length));
};

export interface NameValueMatcher {
  name: string;
  value: string;
  regex?: true;
}
export interface Matcher {
  headers?: NameValueMatcher[];
  queryParameters?: NameValueMatcher[];
  methods?: string[];
}
export interface WeightedDestination {
  destination: { upstream: { name: string; namespace: string } };
  weight: number;
}
export interface GlooRoute {
  matchers?: Matcher[];
  inheritablePathMatchers: true;
  routeAction: { multi: { destinations: WeightedDestination[] } };
}

const A_B_FIELDS = new Set(['headers', 'queryParams', 'method', 'name']);

/** What Gloo cannot express, beyond what the capabilities say. */
export const glooProblems = (canary: Canary): Problem[] =>
  canary.spec.analysis.match.flatMap((condition, i) => {
    const at = `spec.analysis.match[${i}]`;
    const problems: Problem[] = [];
    for (const field of Object.keys(condition).filter((k) => !A_B_FIELDS.has(k))) {
      problems.push({ path: `${at}.${field}`, rule: `${ROUTER} matches A/B requests on headers, query parameters and method only (the path is the delegating VirtualService's)` });
    }
    if (!condition.headers && !condition.queryParams && !condition.method) {
      problems.push({ path: at, rule: `${ROUTER} needs a header, query parameter or method to match` });
    }
    if (condition.method && condition.method.exact === undefined) {
      problems.push({ path: `${at}.method`, rule: `${ROUTER} matches a method exactly only` });
    }
    for (const field of ['headers', 'queryParams'] as const) {
      for (const [name, m] of Object.entries(condition[field] ?? {})) {
        if (!valueMatchOf(m)) problems.push({ path: `${at}.${field}.${name}`, rule: 'must set exact, regex, prefix or suffix' });
      }
    }
    return problems;
  });

/** Exact matches stay values; regex, prefix and suffix become a regex over the whole value. */
const nameValueMatchers = (map: Record<string, StringMatch> | undefined): NameValueMatcher[] | undefined => {
  const out = Object.entries(map ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, m]): NameValueMatcher[] => {
      const value = valueMatchOf(m);
      if (!value) return [];
      return 'exact' in value ? [{ name, value: value.exact }] : [{ name, value: value.regex, regex: true }];
    });
  return out.length > 0 ? out : undefined;
};

/** One A/B condition as a Gloo matcher (its headers, query parameters and method all must match). */
export const matcherOf = (condition: HTTPMatchRequest): Matcher =>
  compact({
    headers: nameValueMatchers(condition.headers),
    queryParameters: nameValueMatchers(condition.queryParams),
    methods: condition.method?.exact ? [condition.method.exact] : undefined,
  });

const destination = (canary: Canary, side: Side, weight: number): WeightedDestination => ({
  destination: { upstream: { name: upstreamName(canary, side), namespace: canary.metadata.namespace } },
  weight,
});

/**
 * The routes for a split: one weighted route; for A/B, its matchers are the match entries (Gloo ORs
 * matchers), and a last route keeps every other request on the primary. Flagger ANDs every header of
 * every entry into one matcher and has no such last route, so requests that do not match get no
 * route from the table at all.
 */
export const buildGlooRoutes = (canary: Canary, routes: Routes): GlooRoute[] => {
  const weighted: GlooRoute = {
    inheritablePathMatchers: true,
    routeAction: { multi: { destinations: [destination(canary, 'primary', routes.primary), destination(canary, 'canary', routes.canary)] } },
  };
  const { match } = canary.spec.analysis;
  if (match.length === 0) return [weighted];
  return [
    { matchers: match.map(matcherOf), ...weighted },
    { inheritablePathMatchers: true, routeAction: { multi: { destinations: [destination(canary, 'primary', 100)] } } },
  ];
};

/** The RouteTable for a split, labelled and annotated from spec.service.apex. */
export const buildRouteTable = (canary: Canary, routes: Routes): KubeObject => {
  return {
    apiVersion: GLOO_ROUTE_TABLE_API_VERSION,
    kind: 'RouteTable',
    metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex, canary.spec.service.apex),
    spec: { routes: buildGlooRoutes(canary, routes) },
  };
};

/**
 * The kube Upstream of one side's Service: its name, namespace, the service port and the Service's
 * selector (as Flagger writes it), plus the settings Flagger copies from the upstreamRef's spec.
 */
export const buildUpstream = (canary: Canary, side: Side, selector: Record<string, string> | undefined, config?: Fields): KubeObject => {
  const names = serviceNames(canary.spec.service);
  const copied = Object.fromEntries(UPSTREAM_CONFIG_FIELDS.flatMap((key) => (config?.[key] !== undefined ? [[key, config[key]]] : [])));
  const kube = compact({
    serviceName: side === 'primary' ? names.primary : names.canary,
    serviceNamespace: canary.metadata.namespace,
    servicePort: canary.spec.service.port,
    selector: selector && Object.keys(selector).length > 0 ? { ...selector } : undefined,
  });
  return {
    apiVersion: GLOO_UPSTREAM_API_VERSION,
    kind: 'Upstream',
    metadata: ownedMetadata(canary, upstreamName(canary, side)),
    spec: { ...copied, kube },
  };
};
