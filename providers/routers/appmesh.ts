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
import { FledgeError, isFields, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { refOf } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, RouterFactory, Routes } from './types.js';
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
import type { Fields } from './adoption.js';
import { INITIAL_ROUTES, apexRef, fieldsOf, finalizeAdopted, listOf, originalSpecOf, percentSplit, reconcileAdopting, refuseProblems, weightValue } from './adoption.js';
import { SplitRouter } from './split-router.js';

export const APPMESH_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const appMeshProblems = (canary: Canary): Problem[] => appMeshMatchProblems(canary);

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
      .reduce((sum, t) => sum + weightValue(t.weight), 0);
  return percentSplit(weight(names.primary), weight(names.canary), subject(canary), `sends no traffic to ${names.primary} or ${names.canary}`);
};

class AppMeshRouter extends SplitRouter {
  readonly capabilities = APPMESH_CAPABILITIES;
  protected readonly readSplit = readVirtualRouterRoutes;

  constructor(
    readonly name: string,
    kube: KubeApi,
  ) {
    super(kube);
  }

  async reconcile(canary: Canary): Promise<void> {
    refuseProblems(canary, appMeshProblems(canary));
    const names = serviceNames(canary.spec.service);
    for (const role of ['primary', 'canary'] as const) {
      await this.apply(canary, buildVirtualNode(canary, role, await this.podSelector(canary, role)));
    }
    await this.apply(canary, buildApexVirtualRouter(canary, INITIAL_ROUTES), (live) => buildApexRoutes(canary, this.keptRoutes(canary, live)));
    await this.apply(canary, buildVirtualService(canary, names.apex));
    await this.apply(canary, buildCanaryVirtualRouter(canary));
    await this.apply(canary, buildVirtualService(canary, names.canary));
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
    const restore = (live: KubeObject): KubeObject | undefined => {
      const original = originalSpecOf(live);
      return original && { ...live, spec: { ...original, ...this.controllerFields(live) } };
    };
    for (const [kind, name] of objects) await finalizeAdopted(this.kube, canary, this.ref(canary, kind, name), { restore });
  }

  /** The apex VirtualRouter holds the split. */
  protected splitRef(canary: Canary): ObjectRef {
    return apexRef(canary, APPMESH_API_VERSION, 'VirtualRouter');
  }

  /** Only the routes: listeners, mesh and metadata are reconcile's business. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { spec: { routes: buildApexRoutes(canary, routes) } };
  }

  /**
   * Create `desired`, or bring the live object in line with it: the spec (its routes from
   * `liveRoutes` for the apex router, so the live split stays) plus the controller's fields.
   * Gateway annotations follow spec.service.hosts: stale ones go, current ones come from `desired`.
   */
  private async apply(canary: Canary, desired: KubeObject, liveRoutes?: (live: KubeObject) => unknown): Promise<void> {
    const build = (live: KubeObject | undefined): KubeObject => {
      if (!live) return desired;
      const spec: Fields = { ...fieldsOf(desired.spec), ...this.controllerFields(live) };
      if (liveRoutes) spec.routes = liveRoutes(live);
      return { ...desired, spec };
    };
    await reconcileAdopting(this.kube, canary, refOf(desired), build, { keepAnnotation: (key) => !key.startsWith(GATEWAY_ANNOTATION_PREFIX) });
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
