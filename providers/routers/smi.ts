/**
 * The SMI routers: one TrafficSplit `<svc>` (split.smi-spec.io) whose backends `<svc>-canary` and
 * `<svc>-primary` carry the weights (Flagger's pkg/router/smi.go, smi_v1alpha2.go, smi_v1alpha3.go).
 * One implementation, parameterised by the API version. As in Flagger's router factory:
 * - `linkerd` and `smi:v1alpha1` write v1alpha1, whose weights are resource.Quantity (JSON strings, "90");
 * - `osm` and `smi:v1alpha2` write v1alpha2, `smi:v1alpha3` writes v1alpha3; both with integer weights.
 * `spec.service` is the first of spec.service.hosts, else the apex Service, as Flagger writes it.
 *
 * Differences from Flagger, on purpose:
 * - reconcile keeps the live weights when it rewrites the rest of the spec (Flagger resets them to
 *   100/0 whenever the service or backend names changed), and writes nothing when nothing changed;
 * - weights are read as shares of their sum, so a split written with relative weights ("500m"/"500m",
 *   or 1/3) reads as percentages (Flagger reads raw integers and errs on "500m");
 * - A/B testing (analysis.match) and mirroring are refused by checkSupport instead of being ignored:
 *   a TrafficSplit can only weigh backends. Flagger's v1alpha3 router writes no HTTPRouteGroup either.
 * - the TrafficSplit gets the Flux `reconcile: disabled` annotation, like every object Fledge drives.
 */
import type { Canary } from '../../src/api/index.js';
import { serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, RouterFactory, Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import type { Fields } from './adoption.js';
import { INITIAL_ROUTES, apexRef, deleteIfOwned, fieldsOf, listOf, ownedMetadata, percentSplit, sameJson, weightValue as numberWeight } from './adoption.js';
import { SplitRouter } from './split-router.js';

/** The weights a TrafficSplit starts with: everything to the primary. */
export { INITIAL_ROUTES };

export type SmiVersion = 'v1alpha1' | 'v1alpha2' | 'v1alpha3';

export const SMI_GROUP = 'split.smi-spec.io';
export const smiApiVersion = (version: SmiVersion): string => `${SMI_GROUP}/${version}`;

export const SMI_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

/** A backend as written: v1alpha1 weights are quantities (strings), later versions integers. */
export interface TrafficSplitBackend {
  service: string;
  weight: number | string;
}

export interface TrafficSplitSpec {
  service: string;
  backends: TrafficSplitBackend[];
}

const weightFor = (version: SmiVersion, percent: number): number | string => (version === 'v1alpha1' ? String(percent) : percent);

/** Backends in Flagger's order: canary first, then primary. */
export const buildBackends = (canary: Canary, version: SmiVersion, routes: Routes): TrafficSplitBackend[] => {
  const names = serviceNames(canary.spec.service);
  return [
    { service: names.canary, weight: weightFor(version, routes.canary) },
    { service: names.primary, weight: weightFor(version, routes.primary) },
  ];
};

export const buildTrafficSplitSpec = (canary: Canary, version: SmiVersion, routes: Routes): TrafficSplitSpec => ({
  service: canary.spec.service.hosts[0] ?? serviceNames(canary.spec.service).apex,
  backends: buildBackends(canary, version, routes),
});

/** The TrafficSplit a canary gets for a split; pure, for golden tests. */
export const buildTrafficSplit = (canary: Canary, version: SmiVersion, routes: Routes): KubeObject => ({
  apiVersion: smiApiVersion(version),
  kind: 'TrafficSplit',
  metadata: ownedMetadata(canary, serviceNames(canary.spec.service).apex),
  spec: buildTrafficSplitSpec(canary, version, routes),
});

const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/;
const SUFFIX_FACTORS: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A backend weight as a number: an integer, or a Kubernetes quantity string ("90", "500m", "1k").
 * Anything else (absent, negative, malformed) counts as 0, so it cannot take traffic from the rest.
 */
export const weightValue = (weight: unknown): number => {
  if (typeof weight !== 'string') return numberWeight(weight);
  const m = QUANTITY.exec(weight.trim());
  if (!m) return 0;
  const [, digits = '0', exponent, suffix] = m;
  const factor = exponent !== undefined ? 10 ** Number(exponent) : suffix !== undefined ? (SUFFIX_FACTORS[suffix] ?? 1) : 1;
  return Number(digits) * factor;
};

const subject = (canary: Canary): string => `TrafficSplit ${canary.metadata.namespace}/${serviceNames(canary.spec.service).apex}`;

/**
 * The split a live TrafficSplit carries, as percentages of the primary and canary weights' sum
 * (SMI weights are relative). Throws NotReady when neither backend gets any weight.
 */
export const readSplitRoutes = (canary: Canary, ts: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const backends = listOf(fieldsOf(ts.spec).backends);
  const weight = (service: string): number =>
    backends.filter((b) => b.service === service).reduce((sum, b) => sum + weightValue(b.weight), 0);
  return percentSplit(weight(names.primary), weight(names.canary), subject(canary), `does not contain routes for ${names.primary} and ${names.canary}`);
};

class SmiRouter extends SplitRouter {
  readonly capabilities = SMI_CAPABILITIES;
  protected readonly readSplit = readSplitRoutes;

  constructor(
    readonly name: string,
    private readonly version: SmiVersion,
    kube: KubeApi,
  ) {
    super(kube);
  }

  /** Unlike the routers that adopt, a user's TrafficSplit is not remembered: only the spec and Flux's mark are written. */
  async reconcile(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.splitRef(canary));
    if (!live) {
      await this.kube.create(buildTrafficSplit(canary, this.version, INITIAL_ROUTES));
      return;
    }
    const spec = buildTrafficSplitSpec(canary, this.version, this.keptRoutes(canary, live));
    const annotations = { ...live.metadata.annotations, ...FLUX_RECONCILE_DISABLED };
    if (sameJson(live.spec, spec) && sameJson(live.metadata.annotations ?? {}, annotations)) return;
    // Labels and owners stay as they are: a user's TrafficSplit is not handed to the garbage collector.
    await this.kube.replace({ ...live, metadata: { ...live.metadata, annotations }, spec });
  }

  async finalize(canary: Canary): Promise<void> {
    await deleteIfOwned(this.kube, canary, this.splitRef(canary));
  }

  protected splitRef(canary: Canary): ObjectRef {
    return apexRef(canary, smiApiVersion(this.version), 'TrafficSplit');
  }

  /** Only the weights: a merge patch replaces the backends list as a whole. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { spec: { backends: buildBackends(canary, this.version, routes) } };
  }
}

export const createSmiRouter =
  (name: string, version: SmiVersion): RouterFactory =>
  (deps: RouterDeps): Router =>
    new SmiRouter(name, version, deps.kube);

const entry = (name: string, version: SmiVersion): { create: RouterFactory; capabilities: RouterCapabilities } => ({
  create: createSmiRouter(name, version),
  capabilities: SMI_CAPABILITIES,
});

/** The registry entries, by the names Flagger's router factory maps to each TrafficSplit version. */
export const SMI_ROUTERS = {
  linkerd: entry('linkerd', 'v1alpha1'),
  osm: entry('osm', 'v1alpha2'),
  'smi:v1alpha1': entry('smi:v1alpha1', 'v1alpha1'),
  'smi:v1alpha2': entry('smi:v1alpha2', 'v1alpha2'),
  'smi:v1alpha3': entry('smi:v1alpha3', 'v1alpha3'),
} as const;
