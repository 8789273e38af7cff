/**
 * The `gloo` router (Gloo Edge; also `gloo:<anything>` through the registry, Flagger's old
 * `gloo:<upstream-discovery-namespace>` form, whose suffix current Flagger ignores as well): two kube
 * Upstreams and a RouteTable `<svc>` splitting between them (Flagger's pkg/router/gloo.go, same
 * object shapes; gloo-build.ts builds them). The user's VirtualService delegates to the RouteTable.
 *
 * Capabilities: canary, A/B (header, query parameter and method matchers) and blue/green. No
 * mirroring and no session affinity (Flagger's Gloo router does neither). A/B headers and query
 * parameters: exact as a value, regex/prefix/suffix as a regex matcher; a method exactly only; uri
 * and the other match fields are refused (the path is inherited from the delegating VirtualService).
 * spec.upstreamRef (parsed by src/api) names the Upstream whose settings the two Upstreams copy; its
 * namespace defaults to the canary's.
 *
 * Differences from Flagger, on purpose:
 * - A/B match entries are alternatives (one matcher each) and non-matching requests keep a route to
 *   the primary; Flagger ANDs all headers into one matcher and leaves the rest unrouted;
 * - prefix/suffix header matches become regexes (Flagger turns them into a presence check);
 * - the Upstreams are kept up to date with the Services and the upstreamRef (Flagger only creates them);
 * - zero weights are written (Flagger omits them); an absent weight reads as 0;
 * - reconcile keeps the live weights and writes nothing when nothing changed; setRoutes patches
 *   only spec.routes; a user's RouteTable or Upstream of the same name is adopted and restored by
 *   finalize with revertOnDeletion; owned ones are deleted (Flagger leaves them to the garbage collector).
 */
import type { Canary } from '../../src/api/index.js';
import { FledgeError, serviceNames } from '../../src/api/index.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import type { Fields } from './adoption.js';
import { apexRef, fieldsOf, finalizeAdopted, listOf, percentSplit, reconcileAdopting, refuseProblems, weightValue } from './adoption.js';
import { SplitRouter } from './split-router.js';
import type { Side } from './gloo-build.js';
import {
  GLOO_ROUTE_TABLE_API_VERSION,
  GLOO_UPSTREAM_API_VERSION,
  buildGlooRoutes,
  buildRouteTable,
  buildUpstream,
  glooProblems,
  isUpstreamName,
  upstreamName,
} from './gloo-build.js';

export { glooProblems } from './gloo-build.js';

export const GLOO_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

const SIDES: readonly Side[] = ['primary', 'canary'];

/**
 * The split of a live RouteTable: the first route whose destinations reach both upstreams (the A/B
 * fallback route reaches the primary only). Weights are relative; an absent one is 0.
 */
export const readRouteTableRoutes = (canary: Canary, table: KubeObject): Routes => {
  const subject = `RouteTable ${canary.metadata.namespace}/${table.metadata.name}`;
  const destinationsOf = (route: Fields) => listOf(fieldsOf(fieldsOf(route.routeAction).multi).destinations);
  // By name on any port, so a port change keeps the live split.
  const onSide = (side: Side) => (d: Fields): boolean => isUpstreamName(canary, side, fieldsOf(fieldsOf(d.destination).upstream).name);
  const weighted = listOf(fieldsOf(table.spec).routes).find((route) => SIDES.every((side) => destinationsOf(route).some(onSide(side))));
  if (!weighted) {
    throw new FledgeError('NotReady', `${subject} has no route to both ${upstreamName(canary, 'primary')} and ${upstreamName(canary, 'canary')}`);
  }
  const weight = (side: Side): number =>
    destinationsOf(weighted)
      .filter(onSide(side))
      .reduce((sum, d) => sum + weightValue(d.weight), 0);
  return percentSplit(weight('primary'), weight('canary'), subject);
};

class GlooRouter extends SplitRouter {
  readonly name = 'gloo';
  readonly capabilities = GLOO_CAPABILITIES;
  protected readonly readSplit = readRouteTableRoutes;

  async reconcile(canary: Canary): Promise<void> {
    refuseProblems(canary, glooProblems(canary));
    const config = await this.configUpstreamSpec(canary);
    for (const side of SIDES) {
      const selector = await this.selectorOf(canary, side);
      await reconcileAdopting(this.kube, canary, this.upstreamRef(canary, side), () => buildUpstream(canary, side, selector, config));
    }
    await reconcileAdopting(this.kube, canary, this.splitRef(canary), (live) => buildRouteTable(canary, this.keptRoutes(canary, live)));
  }

  async finalize(canary: Canary): Promise<void> {
    await finalizeAdopted(this.kube, canary, this.splitRef(canary));
    // Every port's Upstreams: a port change leaves the previous ones behind.
    const upstreams = await this.kube.list(GLOO_UPSTREAM_API_VERSION, 'Upstream', canary.metadata.namespace);
    for (const { metadata } of upstreams) {
      if (!SIDES.some((side) => isUpstreamName(canary, side, metadata.name))) continue;
      await finalizeAdopted(this.kube, canary, { ...this.upstreamRef(canary, 'primary'), name: metadata.name });
    }
  }

  /** The RouteTable holds the split. */
  protected splitRef(canary: Canary): ObjectRef {
    return apexRef(canary, GLOO_ROUTE_TABLE_API_VERSION, 'RouteTable');
  }

  /** Only the routes: metadata is reconcile's business. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { spec: { routes: buildGlooRoutes(canary, routes) } };
  }

  /** The spec of the Upstream named by spec.upstreamRef; undefined without one. */
  private async configUpstreamSpec(canary: Canary): Promise<Fields | undefined> {
    const ref = canary.spec.upstreamRef;
    if (!ref) return undefined;
    const namespace = ref.namespace ?? canary.metadata.namespace;
    const upstream = await this.kube.get({ apiVersion: ref.apiVersion || GLOO_UPSTREAM_API_VERSION, kind: 'Upstream', name: ref.name, namespace });
    if (!upstream) throw new FledgeError('NotReady', `Upstream ${namespace}/${ref.name} (spec.upstreamRef) not found`);
    return fieldsOf(upstream.spec);
  }

  /** The selector of the primary or canary Service, which the workloads create before the router runs. */
  private async selectorOf(canary: Canary, side: Side): Promise<Record<string, string> | undefined> {
    const names = serviceNames(canary.spec.service);
    const name = side === 'primary' ? names.primary : names.canary;
    const service = await this.kube.get({ apiVersion: 'v1', kind: 'Service', name, namespace: canary.metadata.namespace });
    if (!service) throw new FledgeError('NotReady', `Service ${canary.metadata.namespace}/${name} not found`);
    const selector = fieldsOf(fieldsOf(service.spec).selector);
    return Object.fromEntries(Object.entries(selector).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }

  private upstreamRef(canary: Canary, side: Side): ObjectRef {
    return { apiVersion: GLOO_UPSTREAM_API_VERSION, kind: 'Upstream', name: upstreamName(canary, side), namespace: canary.metadata.namespace };
  }
}

export const createGlooRouter = (deps: RouterDeps): Router => new GlooRouter(deps.kube);
