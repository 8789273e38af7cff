/**
 * What every router that keeps its split in one object (an HTTPProxy, a TrafficSplit, a canary
 * Ingress, ...) does the same way. setRoutes refuses a bad split before any API call, reads the
 * object (NotReady until reconcile has created it) and merge-patches only the split into it, leaving
 * the rest to reconcile; getRoutes reads the split back from the live object, the source of truth;
 * reconcile rebuilds around the live split (keptRoutes) so a restart mid-analysis keeps its traffic.
 * A router says where its object is and how a split is read from and written into it; reconcile and
 * finalize stay its own.
 */
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, Routes } from './types.js';
import type { Fields } from './adoption.js';
import { INITIAL_ROUTES, checkSplit, getLive, tryRead } from './adoption.js';

export abstract class SplitRouter implements Router {
  abstract readonly name: string;
  abstract readonly capabilities: RouterCapabilities;

  constructor(protected readonly kube: KubeApi) {}

  abstract reconcile(canary: Canary): Promise<void>;
  abstract finalize(canary: Canary): Promise<void>;

  /** The object that holds the split. */
  protected abstract splitRef(canary: Canary): ObjectRef;
  /** The split a live object carries; throws NotReady when it carries none. */
  protected abstract readonly readSplit: (canary: Canary, live: KubeObject) => Routes;
  /** The merge patch that writes `routes` into the live object, touching nothing but the split. */
  protected abstract splitPatch(canary: Canary, routes: Routes, live: KubeObject): Fields;

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    this.checkRoutes(canary, routes);
    const live = await this.live(canary);
    await this.kube.mergePatch(this.splitRef(canary), this.splitPatch(canary, routes, live));
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return this.readSplit(canary, await this.live(canary));
  }

  /** Refuses a split the router cannot write; a router with more rules (nginx's A/B) adds them. */
  protected checkRoutes(_canary: Canary, routes: Routes): void {
    checkSplit(this.name, routes);
  }

  /** The object holding the split, as reconcile left it. */
  protected live(canary: Canary): Promise<KubeObject> {
    return getLive(this.kube, this.splitRef(canary));
  }

  /**
   * The split to (re)build the object with: the live object's, so a reconcile in the middle of an
   * analysis (a restart, an edited Canary) never resets the traffic; all to the primary when there is
   * no object yet or it carries no readable split.
   */
  protected keptRoutes(canary: Canary, live: KubeObject | undefined): Routes {
    return (live ? tryRead(() => this.readSplit(canary, live)) : undefined) ?? INITIAL_ROUTES;
  }
}
