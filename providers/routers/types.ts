/**
 * The traffic-router interface. One file per router implements it; index.ts registers them by the
 * names Flagger uses for `spec.provider` / `--mesh-provider`. Live weights read back from the cluster
 * are the source of truth: a router keeps nothing in memory between calls.
 */
import type { Canary, Strategy } from '../../src/api/index.js';
import type { KubeApi } from '../../src/kube/api.js';

export interface Routes {
  /** Percent of traffic to the primary (0..100). */
  primary: number;
  /** Percent of traffic to the canary (0..100); primary + canary = 100. */
  canary: number;
  /** Whether the primary's traffic is also mirrored to the canary. */
  mirrored: boolean;
}

export interface RouterCapabilities {
  strategies: Strategy[];
  mirror: boolean;
  sessionAffinity: boolean;
}

export interface Router {
  readonly name: string;
  readonly capabilities: RouterCapabilities;
  /**
   * Create or adopt the routing objects for the canary. Never resets weights already set: a restart in
   * the middle of an analysis keeps its traffic split.
   */
  reconcile(canary: Canary): Promise<void>;
  setRoutes(canary: Canary, routes: Routes): Promise<void>;
  getRoutes(canary: Canary): Promise<Routes>;
  /** Undo what reconcile did (restore a pre-existing user object when revertOnDeletion is set). */
  finalize(canary: Canary): Promise<void>;
}

export interface RouterDeps {
  kube: KubeApi;
  /**
   * The name the router was asked for (`gatewayapi:v1beta1`), set by createRouter: a canary without
   * spec.provider is routed by `--mesh-provider`, whose variant must still count.
   */
  name?: string;
}

export type RouterFactory = (deps: RouterDeps) => Router;

/** The annotation that tells a Flux kustomize-controller (or Fledge's reconciler) to leave an object alone. */
export const FLUX_RECONCILE_DISABLED = { 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' } as const;
