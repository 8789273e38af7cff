/**
 * The `appmesh` router (also `appmesh:v1beta2`): AWS App Mesh through the App Mesh controller's
 * appmesh.k8s.aws/v1beta2 objects, as Flagger's pkg/router/appmesh_v1beta2.go writes them (see
 * appmesh-build.ts for the shapes). The split lives in the weighted targets of VirtualRouter `<svc>`.
 *
 * Differences from Flagger, on purpose:
 * - plain `appmesh` writes v1beta2 too; Flagger's plain `appmesh` writes the v1beta1 objects of the
 *   pre-1.0 App Mesh controller, which current controllers no longer serve;
 * - the VirtualNodes select the pods the `<svc>-primary` and `<svc>-canary` Services select (read from
 *   them) instead of recomputing `<label>: <target>[-primary]` from the controller's selector labels;
 * - reconcile keeps the live weights of every route when it updates the VirtualRouter (Flagger keeps
 *   only the first route's action), keeps the controller's spec.meshRef and spec.awsName, writes
 *   nothing when nothing changed, and refreshes the VirtualServices too (Flagger creates them once);
 * - A/B conditions App Mesh cannot express are refused (see appMeshMatchProblems) instead of being
 *   merged or dropped; mirroring and session affinity are refused by checkSupport;
 * - objects that existed before the canary are adopted, remembered, and given back by finalize when
 *   revertOnDeletion is set; objects the canary created are deleted by finalize.
 * spec.service.meshName is not used: with v1beta2 the controller picks the mesh from the namespace.
 */
import type { Canary, Problem } from '../../src/api/index.js';
import { FledgeError, invalidSpec, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { refOf } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, RouterFactory, Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import type { NodeRole } from './appmesh-build.js';
import {
  APPMESH_API_VERSION,
  GATEWAY_ANNOTATION_PREFIX,
  appMeshMatchProblems,
  buildApexRoutes,
  buildApexVirtualRouter,
  buildCanaryVirtualRouter,
  buildVirtualNode,
  buildVirtualService,
} from './appmesh-build.js';
import { INITIAL_ROUTES, KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';

export const APPMESH_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const appMeshProblems = (canary: Canary): Problem[] => appMeshMatchProblems(canary);

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

/** Spec fields the App Mesh controller's webhook fills in; a rewrite keeps them. */
const CONTROLLER_FIELDS = ['meshRef', 'awsName'] as const;
const ROUTE_KINDS = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;

const subject = (canary: Canary): string => `VirtualRouter ${canary.metadata.namespace}/${serviceNames(canary.spec.service).apex}`;

const targetsOf = (route: Fields): Fields[] => {
  const kind = ROUTE_KINDS.find((k) => isFields(route[k]));
  return kind ? listOf(fieldsOf(fieldsOf(route[kind]).action).weightedTargets) : [];
};

/**
 * The split of a live apex VirtualRouter: the first route whose targets reach both nodes (an A/B
 * router's primary-only route is skipped), as shares of the two weights' sum.
 */
export const readVirtualRouterRoutes = (canary: Canary, router: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const nodeOf = (t: Fields): unknown => fieldsOf(t.virtualNodeRef).name;
  const route = listOf(fieldsOf(router.spec).routes).find((r) => [names.primary, names.canary].every((n) => targetsOf(r).some((t) => nodeOf(t) === n)));
  if (!route) throw new FledgeError('NotReady', `${subject(canary)} has no route to both ${names.primary} and ${names.canary}`);
  const weight = (node: string): number =>
    targetsOf(route)
      .filter((t) => nodeOf(t) === node)
      .reduce((sum, t) => sum + (typeof t.weight === 'number' && t.weight > 0 ? t.weight : 0), 0);
  const primary = weight(names.primary);
  const canaryWeight = weight(names.canary);
  if (primary + canaryWeight === 0) throw new FledgeError('NotReady', `${subject(canary)} sends no traffic to ${names.primary} or ${names.canary}`);
  const canaryShare = Math.round((100 * canaryWeight) / (primary + canaryWeight));
  return { primary: 100 - canaryShare, canary: canaryShare, mirrored: false };
};

const tryRead = (canary: Canary, router: KubeObject): Routes | undefined => {
  try {
    return readVirtualRouterRoutes(canary, router);
  } catch {
    return undefined;
  }
};

const checkRoutes = (name: string, routes: Routes): void => {
  if (routes.mirrored) throw new FledgeError('InvalidSpec', `router "${name}" cannot mirror traffic`);
  const valid = [routes.primary, routes.canary].every((w) => Number.isInteger(w) && w >= 0 && w <= 100);
  if (!valid || routes.primary + routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `weights must be integers from 0 to 100 that add up to 100, got ${routes.primary}/${routes.canary}`);
  }
};

/** The spec a user's object had before the canary adopted it: kubectl's record, else our copy. */
const originalSpecOf = (obj: KubeObject): Fields | undefined => {
  const annotations = obj.metadata.annotations ?? {};
  for (const key of [KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION]) {
    const text = annotations[key];
    if (text === undefined) continue;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (key === KUBECTL_LAST_APPLIED_ANNOTATION && isFields(parsed) && isFields(parsed.spec)) return parsed.spec;
      if (key === ORIGINAL_CONFIG_ANNOTATION && isFields(parsed)) return parsed;
    } catch {
      // Not JSON: try the next record.
    }
  }
  return undefined;
};

/** Key-order-insensitive equality of JSON values, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (isFields(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

class AppMeshRouter implements Router {
  readonly capabilities = APPMESH_CAPABILITIES;

  constructor(
    readonly name: string,
    private readonly kube: KubeApi,
  ) {}

  async reconcile(canary: Canary): Promise<void> {
    const problems = appMeshProblems(canary);
    if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
    const names = serviceNames(canary.spec.service);
    for (const role of ['primary', 'canary'] as const) {
      await this.apply(canary, buildVirtualNode(canary, role, await this.podSelector(canary, role)));
    }
    // Never reset a split mid-analysis: the apex routes are rebuilt around the live weights.
    await this.apply(canary, buildApexVirtualRouter(canary, INITIAL_ROUTES), (live) => buildApexRoutes(canary, tryRead(canary, live) ?? INITIAL_ROUTES));
    await this.apply(canary, buildVirtualService(canary, names.apex));
    await this.apply(canary, buildCanaryVirtualRouter(canary));
    await this.apply(canary, buildVirtualService(canary, names.canary));
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(this.name, routes);
    await this.liveRouter(canary);
    // Only the routes: listeners, mesh and metadata are reconcile's business.
    await this.kube.mergePatch(this.ref(canary, 'VirtualRouter', serviceNames(canary.spec.service).apex), {
      spec: { routes: buildApexRoutes(canary, routes) },
    });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return readVirtualRouterRoutes(canary, await this.liveRouter(canary));
  }

  /** Services first, then routers, then nodes: the order App Mesh lets go of references. */
  async finalize(canary: Canary): Promise<void> {
    const names = serviceNames(canary.spec.service);
    const objects: Array<[string, string]> = [
      ['VirtualService', names.canary],
      ['VirtualService', names.apex],
      ['VirtualRouter', names.canary],
      ['VirtualRouter', names.apex],
      ['VirtualNode', names.canary],
      ['VirtualNode', names.primary],
    ];
    for (const [kind, name] of objects) {
      const ref = this.ref(canary, kind, name);
      const live = await this.kube.get(ref);
      if (!live) continue;
      if (isOwnedBy(live, canary)) {
        await this.kube.delete(ref);
        continue;
      }
      const original = canary.spec.revertOnDeletion ? originalSpecOf(live) : undefined;
      if (!original) continue;
      const annotations = Object.fromEntries(
        Object.entries(live.metadata.annotations ?? {}).filter(([key]) => key !== ORIGINAL_CONFIG_ANNOTATION && !(key in FLUX_RECONCILE_DISABLED)),
      );
      await this.kube.replace({ ...live, metadata: { ...live.metadata, annotations }, spec: { ...original, ...this.controllerFields(live) } });
    }
  }

  /**
   * Create `desired`, or bring the live object in line with it: the spec (from `specRoutes` for the
   * apex router) plus the controller's fields, our annotations over the live ones. A user's object is
   * remembered the first time it is adopted and keeps its owners.
   */
  private async apply(canary: Canary, desired: KubeObject, specRoutes?: (live: KubeObject) => unknown): Promise<void> {
    const live = await this.kube.get(refOf(desired));
    if (!live) {
      await this.kube.create(desired);
      return;
    }
    const spec: Fields = { ...fieldsOf(desired.spec), ...this.controllerFields(live) };
    if (specRoutes) spec.routes = specRoutes(live);
    // Gateway annotations follow spec.service.hosts: stale ones go, current ones come from `desired`.
    const kept = Object.entries(live.metadata.annotations ?? {}).filter(([key]) => !key.startsWith(GATEWAY_ANNOTATION_PREFIX));
    const annotations: Record<string, string> = { ...Object.fromEntries(kept), ...desired.metadata.annotations };
    if (!isOwnedBy(live, canary) && annotations[ORIGINAL_CONFIG_ANNOTATION] === undefined) {
      annotations[ORIGINAL_CONFIG_ANNOTATION] = JSON.stringify(live.spec ?? {});
    }
    if (sameJson(live.spec, spec) && sameJson(live.metadata.annotations ?? {}, annotations)) return;
    await this.kube.replace({ ...live, metadata: { ...live.metadata, annotations }, spec });
  }

  private controllerFields(live: KubeObject): Fields {
    const spec = fieldsOf(live.spec);
    return Object.fromEntries(CONTROLLER_FIELDS.flatMap((key) => (spec[key] !== undefined ? [[key, spec[key]]] : [])));
  }

  /** The pods a side's Service selects (created by src/workloads before the router runs). */
  private async podSelector(canary: Canary, role: NodeRole): Promise<Record<string, string>> {
    const name = serviceNames(canary.spec.service)[role];
    const service = await this.kube.get({ apiVersion: 'v1', kind: 'Service', name, namespace: canary.metadata.namespace });
    const selector = fieldsOf(fieldsOf(service?.spec).selector);
    const labels = Object.fromEntries(Object.entries(selector).filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (Object.keys(labels).length === 0) {
      throw new FledgeError('NotReady', `Service ${canary.metadata.namespace}/${name} ${service ? 'has no selector' : 'not found'}: the VirtualNode needs its pods`);
    }
    return labels;
  }

  private ref(canary: Canary, kind: string, name: string): ObjectRef {
    return { apiVersion: APPMESH_API_VERSION, kind, name, namespace: canary.metadata.namespace };
  }

  private async liveRouter(canary: Canary): Promise<KubeObject> {
    const router = await this.kube.get(this.ref(canary, 'VirtualRouter', serviceNames(canary.spec.service).apex));
    if (!router) throw new FledgeError('NotReady', `${subject(canary)} not found (not reconciled yet)`);
    return router;
  }
}

export const createAppMeshRouter =
  (name: string): RouterFactory =>
  (deps: RouterDeps): Router =>
    new AppMeshRouter(name, deps.kube);

/** The registry entries: `appmesh` and `appmesh:v1beta2` are the same v1beta2 router. */
export const APPMESH_ROUTERS = {
  appmesh: { create: createAppMeshRouter('appmesh'), capabilities: APPMESH_CAPABILITIES, problems: appMeshProblems },
  'appmesh:v1beta2': { create: createAppMeshRouter('appmesh:v1beta2'), capabilities: APPMESH_CAPABILITIES, problems: appMeshProblems },
} as const;
