/**
 * Pure builder of the Gateway API HTTPRoute for a canary and a traffic split (shapes after Flagger's
 * pkg/router/gateway_api.go, fields after the Gateway API reference). No I/O: golden tests compare what
 * it builds with fixtures; the router (gatewayapi.ts) reads the live object and writes what this returns.
 *
 * Every field the API server would default is written explicitly (parentRef group/kind, backendRef
 * group/kind, header match type, the catch-all path match), so a live object read back equals the
 * desired one and a reconcile with nothing to change writes nothing.
 *
 * Session affinity (analysis.sessionAffinity, weighted routing only, as in the istio router) adds rules
 * in front of the weighted one, as Flagger does: while the canary has weight, requests carrying the
 * canary cookie go all to the canary, whose backendRef in the weighted rule hands the cookie out
 * (Set-Cookie `<cookieName>=<value>; Max-Age=<maxAge>`); with primaryCookieName, requests carrying the
 * primary cookie go all to the primary, whose backendRef hands out a cookie that lives one analysis
 * interval. Once the canary has no weight, holders of the last canary cookie follow the split and are
 * told to drop it (Max-Age=-1).
 */
import type { Canary, CanaryService, HTTPMatchRequest, HeaderChanges, ParentReference, Problem, StringMatch } from '../../src/api/index.js';
import { compact, serviceNames } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import type { AffinityCookies } from './istio-build.js';
import { SET_COOKIE, canaryOwnerReference, setCookieValue } from './istio-build.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_API_VERSIONS = ['v1', 'v1beta1'] as const;
export type GatewayApiVersion = (typeof GATEWAY_API_VERSIONS)[number];

export interface PathMatch {
  type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value: string;
}
export interface NameValueMatch {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
export interface RouteMatch {
  path?: PathMatch;
  method?: string;
  headers?: NameValueMatch[];
  queryParams?: NameValueMatch[];
}
export interface BackendRef {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
  /** Filters for requests sent to this backend only: where the affinity cookies are handed out. */
  filters?: RouteFilter[];
}
export interface HeaderFilter {
  add?: Array<{ name: string; value: string }>;
  set?: Array<{ name: string; value: string }>;
  remove?: string[];
}
export interface RouteFilter {
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'URLRewrite' | 'RequestMirror';
  requestHeaderModifier?: HeaderFilter;
  responseHeaderModifier?: HeaderFilter;
  urlRewrite?: { hostname?: string; path?: { type: string; replaceFullPath?: string; replacePrefixMatch?: string } };
  requestMirror?: { backendRef: Omit<BackendRef, 'weight' | 'filters'>; percent?: number; fraction?: { numerator: number; denominator?: number } };
}
export interface RouteRule {
  matches: RouteMatch[];
  filters?: RouteFilter[];
  backendRefs: BackendRef[];
  timeouts?: { request: string };
}
export interface HTTPRouteSpec {
  parentRefs: Array<ParentReference & { group: string; kind: string }>;
  hostnames?: string[];
  rules: RouteRule[];
}

/** The apiVersion for a router name: `gatewayapi:v1beta1` asks for v1beta1; anything else gets v1. */
export const gatewayApiVersionOf = (routerName: string | undefined): GatewayApiVersion =>
  routerName?.split(':')[1] === 'v1beta1' ? 'v1beta1' : 'v1';

export const httpRouteApiVersion = (version: GatewayApiVersion): string => `${GATEWAY_API_GROUP}/${version}`;

/** Flagger's catch-all when service.match gives no condition Gateway API can express. */
const CATCH_ALL: RouteMatch = { path: { type: 'PathPrefix', value: '/' } };

const pathMatch = (uri: StringMatch): PathMatch | undefined => {
  if (uri.regex) return { type: 'RegularExpression', value: uri.regex };
  if (uri.exact) return { type: 'Exact', value: uri.exact };
  if (uri.prefix) return { type: 'PathPrefix', value: uri.prefix };
  return undefined;
};

const nameValueMatches = (map: Record<string, StringMatch> | undefined): NameValueMatch[] | undefined => {
  const out = Object.entries(map ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, m]): NameValueMatch[] => {
      if (m.exact) return [{ type: 'Exact', name, value: m.exact }];
      if (m.regex) return [{ type: 'RegularExpression', name, value: m.regex }];
      return [];
    });
  return out.length > 0 ? out : undefined;
};

/** One Istio-style condition as an HTTPRouteMatch; fields Gateway API has no place for are dropped (as Flagger does). */
export const toRouteMatch = (condition: HTTPMatchRequest): RouteMatch =>
  compact({
    path: condition.uri ? pathMatch(condition.uri) : undefined,
    method: condition.method?.exact || undefined,
    headers: nameValueMatches(condition.headers),
    queryParams: nameValueMatches(condition.queryParams),
  });

const toRouteMatches = (conditions: readonly HTTPMatchRequest[]): RouteMatch[] =>
  conditions.map(toRouteMatch).filter((m) => Object.keys(m).length > 0);

/** Conditions Gateway API cannot express and Flagger refuses (it fails the reconcile with them). */
export const matchProblems = (conditions: readonly HTTPMatchRequest[], at: string): Problem[] =>
  conditions.flatMap((condition, i) => {
    const path = `${at}[${i}]`;
    const problems: Problem[] = [];
    if (condition.uri && !pathMatch(condition.uri)) {
      problems.push({ path: `${path}.uri`, rule: 'Gateway API matches a path by exact, prefix or regex only' });
    }
    if (condition.method && !condition.method.exact) {
      problems.push({ path: `${path}.method`, rule: 'Gateway API matches a method exactly only' });
    }
    for (const field of ['headers', 'queryParams'] as const) {
      for (const [name, m] of Object.entries(condition[field] ?? {})) {
        if (!m.exact && !m.regex) problems.push({ path: `${path}.${field}.${name}`, rule: 'Gateway API matches by exact or regex only' });
      }
    }
    return problems;
  });

const byName = <T extends { name: string }>(base: readonly T[] | undefined, over: readonly T[] | undefined): T[] | undefined => {
  if (!base && !over) return undefined;
  const merged = new Map<string, T>();
  for (const item of [...(base ?? []), ...(over ?? [])]) merged.set(item.name, item);
  return [...merged.values()];
};

/**
 * Each A/B condition combined with each common match: the condition's path and method win, and its
 * header and query matches are added to the common ones (Flagger replaces the common headers
 * instead, which drops the scoping service.match asked for).
 */
export const mergeRouteMatches = (conditions: readonly RouteMatch[], common: readonly RouteMatch[]): RouteMatch[] => {
  if (conditions.length === 0) return [...common];
  if (common.length === 0) return [...conditions];
  return conditions.flatMap((condition) =>
    common.map((base) =>
      compact({
        path: condition.path ?? base.path,
        method: condition.method ?? base.method,
        headers: byName(base.headers, condition.headers),
        queryParams: byName(base.queryParams, condition.queryParams),
      }),
    ),
  );
};

const headerFilter = (changes: HeaderChanges): HeaderFilter => {
  const pairs = (map: Record<string, string> | undefined) => {
    const list = Object.entries(map ?? {})
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.value.localeCompare(b.value));
    return list.length > 0 ? list : undefined;
  };
  return compact({ add: pairs(changes.add), set: pairs(changes.set), remove: changes.remove?.length ? [...changes.remove] : undefined });
};

const serviceBackend = (name: string, port: number): Omit<BackendRef, 'weight' | 'filters'> => ({ group: '', kind: 'Service', name, port });

/** Filters every rule shares: header modifiers, URL rewrite and the user's mirrors (Flagger's makeFilters). */
const commonFilters = (service: CanaryService): RouteFilter[] => {
  const filters: RouteFilter[] = [];
  if (service.headers?.request) filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: headerFilter(service.headers.request) });
  if (service.headers?.response) filters.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: headerFilter(service.headers.response) });
  const rewrite = service.rewrite;
  if (rewrite && (rewrite.uri || rewrite.authority)) {
    const full = rewrite.type === 'ReplaceFullPath';
    const path = rewrite.uri
      ? full
        ? { type: 'ReplaceFullPath', replaceFullPath: rewrite.uri }
        : { type: 'ReplacePrefixMatch', replacePrefixMatch: rewrite.uri }
      : undefined;
    filters.push({ type: 'URLRewrite', urlRewrite: compact({ hostname: rewrite.authority || undefined, path }) });
  }
  for (const mirror of service.mirror) {
    const { group = '', kind = 'Service', ...rest } = mirror.backendRef;
    filters.push({
      type: 'RequestMirror',
      requestMirror: compact({ backendRef: { group, kind, ...rest }, percent: mirror.percent, fraction: mirror.fraction }),
    });
  }
  return filters;
};

const withCommon = (service: CanaryService, rule: Omit<RouteRule, 'filters' | 'timeouts'>, extra: RouteFilter[] = []): RouteRule => {
  const filters = [...commonFilters(service), ...extra];
  return compact({
    ...rule,
    filters: filters.length > 0 ? filters : undefined,
    timeouts: service.timeout ? { request: service.timeout } : undefined,
  });
};

/**
 * The session-affinity cookies (`name=value`) an HTTPRoute carries: the istio router's active and
 * expiring canary cookies, plus the primary cookie handed out while primaryCookieName is set.
 */
export interface GatewayAffinityCookies extends AffinityCookies {
  primary?: string;
}

/** The request header the sticky rules match (Flagger's spelling). */
const COOKIE_HEADER = 'Cookie';

/** A `Cookie` header match for `name=value` anywhere in the header, written as Flagger writes it. */
const cookieMatch = (cookie: string): RouteMatch => {
  const [name = '', value = ''] = cookie.split('=', 2);
  return { headers: [{ type: 'RegularExpression', name: COOKIE_HEADER, value: `.*${name}.*${value}.*` }] };
};

const setCookieFilter = (value: string): RouteFilter => ({
  type: 'ResponseHeaderModifier',
  responseHeaderModifier: { add: [{ name: SET_COOKIE, value }] },
});

/**
 * A rule's filters plus a Set-Cookie response header. Gateway API allows one ResponseHeaderModifier
 * per rule, so the header joins service.headers.response's filter when there is one (Flagger appends
 * a second filter, which the API server refuses).
 */
const withSetCookie = (filters: readonly RouteFilter[], value: string): RouteFilter[] => {
  const at = filters.findIndex((f) => f.type === 'ResponseHeaderModifier');
  if (at < 0) return [...filters, setCookieFilter(value)];
  return filters.map((f, i) =>
    i === at
      ? { ...f, responseHeaderModifier: { ...f.responseHeaderModifier, add: [...(f.responseHeaderModifier?.add ?? []), { name: SET_COOKIE, value }] } }
      : f,
  );
};

/** Seconds a primary cookie lives: one analysis interval, so the next step rebalances its holders. */
const primaryCookieMaxAge = (canary: Canary): number => Math.floor(canary.spec.analysis.intervalMs / 1000);

/** The rules for session affinity around the weighted rule (see the file comment). */
const affinityRules = (canary: Canary, weighted: RouteRule, scope: readonly RouteMatch[], cookies: GatewayAffinityCookies): RouteRule[] => {
  const { service, analysis } = canary.spec;
  const affinity = analysis.sessionAffinity;
  if (!affinity) return [weighted];
  const names = serviceNames(service);
  const matching = (cookie: string): RouteMatch[] => mergeRouteMatches([cookieMatch(cookie)], scope);
  const { active, expiring } = cookies;
  if (active !== undefined) {
    const primaryCookie = affinity.primaryCookieName ? cookies.primary : undefined;
    const handOut = (ref: BackendRef): BackendRef => {
      if (ref.name === names.canary) return { ...ref, filters: [setCookieFilter(setCookieValue(active, affinity.maxAge, affinity))] };
      if (ref.name === names.primary && primaryCookie) {
        return { ...ref, filters: [setCookieFilter(setCookieValue(primaryCookie, primaryCookieMaxAge(canary), affinity))] };
      }
      return ref;
    };
    const sticky = (cookie: string, primaryWeight: number): RouteRule =>
      withCommon(service, {
        matches: matching(cookie),
        backendRefs: [
          { ...serviceBackend(names.primary, service.port), weight: primaryWeight },
          { ...serviceBackend(names.canary, service.port), weight: 100 - primaryWeight },
        ],
      });
    return [
      sticky(active, 0),
      ...(primaryCookie ? [sticky(primaryCookie, 100)] : []),
      { ...weighted, backendRefs: weighted.backendRefs.map(handOut) },
    ];
  }
  if (expiring !== undefined) {
    // The weighted rule again (same split, same filters) for holders of the old cookie, who are told to drop it.
    const dropping: RouteRule = {
      ...weighted,
      matches: matching(expiring),
      filters: withSetCookie(weighted.filters ?? [], setCookieValue(expiring, -1, affinity)),
    };
    return [dropping, weighted];
  }
  return [weighted];
};

/**
 * The rules for a split: the weighted rule (A/B: for matching requests) and, for A/B, the primary-only
 * rest; with session affinity, the sticky rules before the weighted one.
 */
export const buildRules = (canary: Canary, routes: Routes, cookies: GatewayAffinityCookies = {}): RouteRule[] => {
  const { service, analysis } = canary.spec;
  const names = serviceNames(service);
  const common = toRouteMatches(service.match);
  const scope = common.length > 0 ? common : [CATCH_ALL];
  const backendRefs: BackendRef[] = [
    { ...serviceBackend(names.primary, service.port), weight: routes.primary },
    { ...serviceBackend(names.canary, service.port), weight: routes.canary },
  ];
  const mirror: RouteFilter[] = routes.mirrored
    ? [
        {
          type: 'RequestMirror',
          requestMirror: compact({
            backendRef: serviceBackend(names.canary, service.port),
            percent: analysis.mirrorWeight > 0 ? analysis.mirrorWeight : undefined,
          }),
        },
      ]
    : [];
  if (analysis.match.length === 0) return affinityRules(canary, withCommon(service, { matches: scope, backendRefs }, mirror), scope, cookies);
  return [
    withCommon(service, { matches: mergeRouteMatches(toRouteMatches(analysis.match), scope), backendRefs }, mirror),
    withCommon(service, { matches: scope, backendRefs: [{ ...serviceBackend(names.primary, service.port), weight: 100 }] }),
  ];
};

/** A gateway reference with the defaults the API server would fill in (a Gateway of the Gateway API group). */
export const parentRefOf = (ref: ParentReference): HTTPRouteSpec['parentRefs'][number] => ({
  ...ref,
  group: ref.group ?? GATEWAY_API_GROUP,
  kind: ref.kind ?? 'Gateway',
});

export const buildHTTPRouteSpec = (canary: Canary, routes: Routes, cookies: GatewayAffinityCookies = {}): HTTPRouteSpec => {
  const { service } = canary.spec;
  return compact({
    parentRefs: service.gatewayRefs.map(parentRefOf),
    hostnames: service.hosts.length > 0 ? [...service.hosts] : undefined,
    rules: buildRules(canary, routes, cookies),
  });
};

/** The labels and annotations the HTTPRoute gets from spec.service.apex, plus Flux's hands-off mark. */
export const httpRouteMetadata = (canary: Canary): { labels: Record<string, string>; annotations: Record<string, string> } => ({
  labels: { ...(canary.spec.service.apex?.labels ?? {}) },
  annotations: { ...(canary.spec.service.apex?.annotations ?? {}), ...FLUX_RECONCILE_DISABLED },
});

export const buildHTTPRoute = (
  canary: Canary,
  routes: Routes,
  version: GatewayApiVersion = 'v1',
  cookies: GatewayAffinityCookies = {},
): KubeObject => {
  const { labels, annotations } = httpRouteMetadata(canary);
  const owners = canaryOwnerReference(canary);
  return {
    apiVersion: httpRouteApiVersion(version),
    kind: 'HTTPRoute',
    metadata: compact({
      name: serviceNames(canary.spec.service).apex,
      namespace: canary.metadata.namespace,
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      annotations,
      ownerReferences: owners.length > 0 ? owners : undefined,
    }),
    spec: buildHTTPRouteSpec(canary, routes, cookies),
  };
};
