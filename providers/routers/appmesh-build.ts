/**
 * Pure builders of the AWS App Mesh objects (appmesh.k8s.aws/v1beta2) for a canary, shaped after
 * Flagger's pkg/router/appmesh_v1beta2.go and the App Mesh controller's v1beta2 API:
 * - VirtualNodes `<svc>-primary` and `<svc>-canary`: one listener on the container port, DNS discovery
 *   at `<name>.<namespace>.svc.cluster.local.`, the pods of the matching Service, spec.service.backends;
 * - VirtualRouter `<svc>` whose route splits between the two nodes (A/B: a header route `<svc>-a` for
 *   matching requests and a primary-only route `<svc>-b`), and VirtualRouter `<svc>-canary` that sends
 *   everything to the canary node, so `<svc>-canary` can be tested directly;
 * - VirtualServices `<svc>` and `<svc>-canary`, each provided by the router of its name.
 * No I/O: golden tests compare what these build with fixtures; the router (appmesh.ts) reads the live
 * objects and writes what these return.
 */
import type { Canary, CanaryService, HTTPMatchRequest, Problem, StringMatch } from '../../src/api/index.js';
import { compact, parseDuration, serviceNames } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import { ownedMetadata } from './adoption.js';

export const APPMESH_API_VERSION = 'appmesh.k8s.aws/v1beta2';
/** Annotations the App Mesh gateway reads on a VirtualService to expose it (Flagger writes them from hosts). */
export const GATEWAY_ANNOTATION_PREFIX = 'gateway.appmesh.k8s.aws/';
/** A/B routes: matching requests first, then the rest (App Mesh: lower value, higher priority). */
const AB_PRIORITY = { match: 10, rest: 20 } as const;
const ROUTER = 'router "appmesh"';

export interface AppMeshDuration {
  unit: 'ms';
  value: number;
}
export interface WeightedTarget {
  virtualNodeRef: { name: string };
  weight: number;
}
export interface HeaderMatch {
  name: string;
  match: Partial<Record<'exact' | 'prefix' | 'suffix' | 'regex', string>>;
}
export interface HttpRoute {
  match: { prefix: string; headers?: HeaderMatch[] };
  timeout?: { perRequest: AppMeshDuration };
  retryPolicy?: { httpRetryEvents: string[]; maxRetries: number; perRetryTimeout: AppMeshDuration };
  action: { weightedTargets: WeightedTarget[] };
}
export interface MeshRoute {
  name: string;
  priority?: number;
  httpRoute: HttpRoute;
}

export type NodeRole = 'primary' | 'canary';

/** Flagger's reading of the port: the numeric target port, else the Service port. */
export const containerPort = (service: CanaryService): number => (typeof service.targetPort === 'number' ? service.targetPort : service.port);

/** `grpc` when the port name says so (Flagger's rule), else `http`. */
export const listenerProtocol = (service: CanaryService): 'grpc' | 'http' => (service.portName.includes('grpc') ? 'grpc' : 'http');

const millis = (text: string | undefined): AppMeshDuration | undefined => {
  const ms = text === undefined ? undefined : parseDuration(text);
  return ms === undefined ? undefined : { unit: 'ms', value: Math.round(ms) };
};

/** Flagger's retry policy: spec.service.retries, with 1 attempt, 250ms per try and gateway-error as defaults. */
const retryPolicy = (service: CanaryService): HttpRoute['retryPolicy'] => {
  const retries = service.retries;
  if (!retries) return undefined;
  const events = retries.retryOn ? retries.retryOn.split(',').map((e) => e.trim()).filter(Boolean) : [];
  return {
    httpRetryEvents: events.length > 0 ? events : ['gateway-error'],
    maxRetries: retries.attempts && retries.attempts > 0 ? retries.attempts : 1,
    perRetryTimeout: millis(retries.perTryTimeout) ?? { unit: 'ms', value: 250 },
  };
};

/** The path prefix routes match: service.match[0].uri.prefix, else `/` (App Mesh matches prefixes). */
export const routePrefix = (service: CanaryService): string => service.match[0]?.uri?.prefix || '/';

const MATCH_KINDS = ['exact', 'prefix', 'suffix', 'regex'] as const;
const headerMatch = (value: StringMatch): HeaderMatch['match'] =>
  Object.fromEntries(MATCH_KINDS.flatMap((kind) => (value[kind] ? [[kind, value[kind]]] : [])));

/** The A/B condition's headers as App Mesh header matches, sorted by name. */
export const headerMatches = (condition: HTTPMatchRequest | undefined): HeaderMatch[] =>
  Object.entries(condition?.headers ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, match: headerMatch(value) }));

/**
 * Conditions App Mesh cannot express, which Flagger silently drops or merges: A/B testing takes one
 * condition of headers only (Flagger ANDs the headers of every condition into one route), and the
 * routes match one path prefix (service.match[0].uri.prefix).
 */
export const appMeshMatchProblems = (canary: Canary): Problem[] => {
  const { service, analysis } = canary.spec;
  const problems: Problem[] = [];
  if (analysis.match.length > 1) problems.push({ path: 'spec.analysis.match[1]', rule: `${ROUTER} can match one A/B condition only` });
  analysis.match.slice(0, 1).forEach((condition, i) => {
    const at = `spec.analysis.match[${i}]`;
    for (const field of Object.keys(condition).filter((k) => k !== 'headers' && k !== 'name')) {
      problems.push({ path: `${at}.${field}`, rule: `${ROUTER} matches A/B requests on headers only` });
    }
    const headers = Object.entries(condition.headers ?? {});
    if (headers.length === 0) problems.push({ path: `${at}.headers`, rule: `${ROUTER} needs a header to match` });
    if (headers.length > 10) problems.push({ path: `${at}.headers`, rule: `${ROUTER} matches at most 10 headers` });
    for (const [name, value] of headers) {
      if (!MATCH_KINDS.some((kind) => value[kind])) problems.push({ path: `${at}.headers.${name}`, rule: 'must set exact, prefix, suffix or regex' });
    }
  });
  if (service.match.length > 1) problems.push({ path: 'spec.service.match[1]', rule: `${ROUTER} routes one path prefix only` });
  service.match.slice(0, 1).forEach((condition, i) => {
    const fields = Object.keys(condition).filter((k) => k !== 'name' && !(k === 'uri' && condition.uri?.prefix));
    for (const field of fields) problems.push({ path: `spec.service.match[${i}].${field}`, rule: `${ROUTER} matches a uri prefix only` });
  });
  return problems;
};

const target = (name: string, weight: number): WeightedTarget => ({ virtualNodeRef: { name }, weight });

/** Targets in Flagger's order: canary first, then primary. */
export const weightedTargets = (canary: Canary, routes: Routes): WeightedTarget[] => {
  const names = serviceNames(canary.spec.service);
  return [target(names.canary, routes.canary), target(names.primary, routes.primary)];
};

const httpRoute = (service: CanaryService, targets: WeightedTarget[], headers?: HeaderMatch[]): HttpRoute => {
  const timeout = millis(service.timeout);
  return compact({
    match: compact({ prefix: routePrefix(service), headers: headers && headers.length > 0 ? headers : undefined }),
    timeout: timeout ? { perRequest: timeout } : undefined,
    retryPolicy: retryPolicy(service),
    action: { weightedTargets: targets },
  });
};

/** The routes of the apex VirtualRouter for a split (A/B: matching requests split, the rest on the primary). */
export const buildApexRoutes = (canary: Canary, routes: Routes): MeshRoute[] => {
  const { service, analysis } = canary.spec;
  const names = serviceNames(service);
  if (analysis.match.length === 0) return [{ name: names.apex, httpRoute: httpRoute(service, weightedTargets(canary, routes)) }];
  return [
    { name: `${names.apex}-a`, priority: AB_PRIORITY.match, httpRoute: httpRoute(service, weightedTargets(canary, routes), headerMatches(analysis.match[0])) },
    { name: `${names.apex}-b`, priority: AB_PRIORITY.rest, httpRoute: httpRoute(service, [target(names.primary, 100)]) },
  ];
};

/** spec.service.backends as VirtualNode backends: an ARN as such, anything else as a VirtualService name. */
const nodeBackends = (service: CanaryService): Array<{ virtualService: Record<string, unknown> }> | undefined => {
  if (service.backends.length === 0) return undefined;
  return service.backends.map((backend) =>
    backend.startsWith('arn:aws') ? { virtualService: { virtualServiceARN: backend } } : { virtualService: { virtualServiceRef: { name: backend } } },
  );
};

/** The VirtualNode of one side; `podSelector` is what that side's Service selects. */
export const buildVirtualNode = (canary: Canary, role: NodeRole, podSelector: Record<string, string>): KubeObject => {
  const { service } = canary.spec;
  const name = serviceNames(service)[role];
  const timeout = millis(service.timeout);
  return {
    apiVersion: APPMESH_API_VERSION,
    kind: 'VirtualNode',
    metadata: ownedMetadata(canary, name),
    spec: compact({
      listeners: [
        compact({
          portMapping: { port: containerPort(service), protocol: listenerProtocol(service) },
          // Flagger writes the listener timeout under `http` whatever the protocol.
          timeout: timeout ? { http: { perRequest: timeout } } : undefined,
        }),
      ],
      serviceDiscovery: { dns: { hostname: `${name}.${canary.metadata.namespace}.svc.cluster.local.` } },
      podSelector: { matchLabels: { ...podSelector } },
      backends: nodeBackends(service),
    }),
  };
};

const routerListeners = (service: CanaryService) => [{ portMapping: { port: containerPort(service), protocol: listenerProtocol(service) } }];

/** The apex VirtualRouter `<svc>` for a split. */
export const buildApexVirtualRouter = (canary: Canary, routes: Routes): KubeObject => ({
  apiVersion: APPMESH_API_VERSION,
  kind: 'VirtualRouter',
  metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex),
  spec: { listeners: routerListeners(canary.spec.service), routes: buildApexRoutes(canary, routes) },
});

/** The VirtualRouter `<svc>-canary`: all traffic to the canary node, never split. */
export const buildCanaryVirtualRouter = (canary: Canary): KubeObject => {
  const { service } = canary.spec;
  const name = serviceNames(service).canary;
  const route: MeshRoute = { name, httpRoute: httpRoute(service, weightedTargets(canary, { primary: 0, canary: 100, mirrored: false })) };
  return {
    apiVersion: APPMESH_API_VERSION,
    kind: 'VirtualRouter',
    metadata: ownedMetadata(canary, name),
    spec: { listeners: routerListeners(service), routes: [route] },
  };
};

/** Flagger's gateway annotations for the apex VirtualService: exposed on spec.service.hosts. */
export const gatewayAnnotations = (service: CanaryService): Record<string, string> => {
  if (service.hosts.length === 0) return {};
  const annotations: Record<string, string> = {
    [`${GATEWAY_ANNOTATION_PREFIX}expose`]: 'true',
    // Flagger's format: every host followed by a comma.
    [`${GATEWAY_ANNOTATION_PREFIX}domain`]: service.hosts.map((h) => `${h},`).join(''),
  };
  if (service.timeout) annotations[`${GATEWAY_ANNOTATION_PREFIX}timeout`] = service.timeout;
  if (service.retries?.attempts) annotations[`${GATEWAY_ANNOTATION_PREFIX}retries`] = String(service.retries.attempts);
  return annotations;
};

/** The VirtualService `name` (`<svc>` or `<svc>-canary`), provided by the VirtualRouter of the same name. */
export const buildVirtualService = (canary: Canary, name: string): KubeObject => {
  const apex = name === serviceNames(canary.spec.service).apex;
  return {
    apiVersion: APPMESH_API_VERSION,
    kind: 'VirtualService',
    metadata: ownedMetadata(canary, name, { annotations: apex ? gatewayAnnotations(canary.spec.service) : {} }),
    spec: { provider: { virtualRouter: { virtualRouterRef: { name } } } },
  };
};
