/**
 * Pure builder of Contour's HTTPProxy (projectcontour.io/v1) for a canary and a traffic split, with
 * the shapes of Flagger's pkg/router/contour.go and the fields of Contour's HTTPProxy reference.
 * No I/O: golden tests compare what it builds with fixtures; contour.ts reads and writes the cluster.
 *
 * The proxy has no virtualhost, as Flagger writes it: it is a leaf that a root HTTPProxy includes.
 * Every route sends to `<svc>-primary` and `<svc>-canary` on the service port, each with the
 * `l5d-dst-override` header Flagger sets so a Linkerd mesh behind Contour keeps the split.
 */
import type { Canary, HTTPMatchRequest, HTTPRetry, Problem } from '../../src/api/index.js';
import { compact, serviceNames } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import { ownedMetadata, valueMatchOf } from './adoption.js';

export const CONTOUR_API_VERSION = 'projectcontour.io/v1';
/** The annotation Contour's --ingress-class-name selects proxies by (Flagger's --ingress-class). */
export const CONTOUR_INGRESS_CLASS_ANNOTATION = 'projectcontour.io/ingress.class';
/** Flagger's per-route idle timeout whenever service.timeout is set. */
const IDLE_TIMEOUT = '5m';
/** The retryOn conditions Contour's RetryPolicy accepts (Envoy's x-envoy-retry-on and grpc-on). */
export const CONTOUR_RETRY_ON = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;

const ROUTER = 'router "contour"';

export interface HeaderCondition {
  name: string;
  exact?: string;
  regex?: string;
}
export interface Condition {
  prefix?: string;
  header?: HeaderCondition;
}
export interface ContourService {
  name: string;
  port: number;
  weight: number;
  requestHeadersPolicy: { set: Array<{ name: string; value: string }> };
}
export interface ContourRoute {
  conditions: Condition[];
  timeoutPolicy?: { response: string; idle: string };
  retryPolicy?: { count?: number; perTryTimeout?: string; retryOn?: string[]; retriableStatusCodes?: number[] };
  services: ContourService[];
}

/** The path prefix every route matches: service.match[0].uri.prefix, else `/` (as Flagger reads it). */
export const pathPrefixOf = (canary: Canary): string => canary.spec.service.match[0]?.uri?.prefix || '/';

const retryOnParts = (retries: HTTPRetry | undefined): string[] =>
  (retries?.retryOn ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

const isStatusCode = (part: string): boolean => /^[1-5][0-9][0-9]$/.test(part);

/** What Contour cannot express, beyond what the capabilities say. */
export const contourProblems = (canary: Canary): Problem[] => {
  const { service, analysis } = canary.spec;
  const problems: Problem[] = [];
  service.match.forEach((condition, i) => {
    const at = `spec.service.match[${i}]`;
    const fields = Object.keys(condition).filter((k) => k !== 'name');
    const onlyPrefix = i === 0 && fields.every((k) => k === 'uri') && (!condition.uri || Object.keys(condition.uri).every((k) => k === 'prefix'));
    if (!onlyPrefix) problems.push({ path: at, rule: `${ROUTER} takes only a path prefix, from spec.service.match[0].uri.prefix` });
  });
  analysis.match.forEach((condition, i) => problems.push(...abConditionProblems(condition, `spec.analysis.match[${i}]`)));
  for (const part of retryOnParts(service.retries)) {
    if (!isStatusCode(part) && !(CONTOUR_RETRY_ON as readonly string[]).includes(part)) {
      problems.push({ path: 'spec.service.retries.retryOn', rule: `${ROUTER} cannot retry on "${part}" (Contour retries on ${CONTOUR_RETRY_ON.join(', ')} or HTTP status codes)` });
    }
  }
  return problems;
};

const abConditionProblems = (condition: HTTPMatchRequest, at: string): Problem[] => {
  const problems: Problem[] = [];
  for (const field of Object.keys(condition).filter((k) => k !== 'headers' && k !== 'name')) {
    problems.push({ path: `${at}.${field}`, rule: `${ROUTER} matches A/B requests on headers only` });
  }
  const headers = Object.entries(condition.headers ?? {});
  if (headers.length === 0) problems.push({ path: `${at}.headers`, rule: `${ROUTER} needs at least one header to match` });
  for (const [name, m] of headers) {
    if (!valueMatchOf(m)) problems.push({ path: `${at}.headers.${name}`, rule: 'must set exact, regex, prefix or suffix' });
  }
  return problems;
};

/**
 * One A/B condition as Contour header conditions (ANDed on a route): exact stays exact; regex, prefix
 * and suffix become a `regex` condition (Envoy matches it against the whole value). Flagger writes a
 * prefix or suffix as `contains`, which also matches the text anywhere in the value.
 */
const headerConditions = (condition: HTTPMatchRequest): Condition[] =>
  Object.entries(condition.headers ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, m]): Condition[] => {
      const value = valueMatchOf(m);
      return value ? [{ header: { name, ...value } }] : [];
    });

const timeoutPolicyOf = (canary: Canary): ContourRoute['timeoutPolicy'] =>
  canary.spec.service.timeout ? { response: canary.spec.service.timeout, idle: IDLE_TIMEOUT } : undefined;

/**
 * service.retries as a Contour RetryPolicy. Istio's comma-separated retryOn becomes Contour's list;
 * HTTP status codes in it become retriableStatusCodes, which Envoy honours only with
 * `retriable-status-codes` among the conditions (Istio adds it implicitly, so do we).
 */
export const retryPolicyOf = (retries: HTTPRetry | undefined): ContourRoute['retryPolicy'] => {
  if (!retries) return undefined;
  const parts = retryOnParts(retries);
  const codes = parts.filter(isStatusCode).map(Number);
  const retryOn = parts.filter((part) => !isStatusCode(part));
  if (codes.length > 0 && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  return compact({
    count: retries.attempts,
    perTryTimeout: retries.perTryTimeout || undefined,
    retryOn: retryOn.length > 0 ? retryOn : undefined,
    retriableStatusCodes: codes.length > 0 ? codes : undefined,
  });
};

const serviceOf = (canary: Canary, name: string, weight: number): ContourService => {
  const { port } = canary.spec.service;
  return {
    name,
    port,
    weight,
    requestHeadersPolicy: { set: [{ name: 'l5d-dst-override', value: `${name}.${canary.metadata.namespace}.svc.cluster.local:${port}` }] },
  };
};

const route = (canary: Canary, conditions: Condition[], routes: Routes): ContourRoute => {
  const names = serviceNames(canary.spec.service);
  return compact({
    conditions,
    timeoutPolicy: timeoutPolicyOf(canary),
    retryPolicy: retryPolicyOf(canary.spec.service.retries),
    services: [serviceOf(canary, names.primary, routes.primary), serviceOf(canary, names.canary, routes.canary)],
  });
};

/**
 * The routes for a split. Canary and blue/green: one route for the prefix. A/B: one route per
 * analysis.match entry (entries are alternatives, each one's headers must all match), carrying the
 * split, then the prefix route that keeps every other request on the primary. Flagger puts every
 * header of every entry into one route, repeating the prefix, which Contour rejects for more than
 * one header and which turns alternatives into a conjunction.
 */
export const buildContourRoutes = (canary: Canary, routes: Routes): ContourRoute[] => {
  const prefix: Condition = { prefix: pathPrefixOf(canary) };
  const { match } = canary.spec.analysis;
  if (match.length === 0) return [route(canary, [prefix], routes)];
  return [
    ...match.map((condition) => route(canary, [prefix, ...headerConditions(condition)], routes)),
    route(canary, [prefix], { primary: 100, canary: 0, mirrored: false }),
  ];
};

/**
 * The HTTPProxy for a split. `virtualhost` is what the live proxy has, if anything: a user's root
 * proxy adopted under the service's name stays a root (Flagger drops it, and the host with it).
 */
export const buildHTTPProxy = (canary: Canary, routes: Routes, ingressClass?: string, virtualhost?: unknown): KubeObject => {
  const annotations: Record<string, string> = ingressClass ? { [CONTOUR_INGRESS_CLASS_ANNOTATION]: ingressClass } : {};
  return {
    apiVersion: CONTOUR_API_VERSION,
    kind: 'HTTPProxy',
    metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex, { annotations }),
    spec: compact({ virtualhost, routes: buildContourRoutes(canary, routes) }),
  };
};
