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
import { FledgeError, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, RouterFactory, Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import { canaryOwnerReference } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';

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

/** The weights a TrafficSplit starts with: everything to the primary. */
export const INITIAL_ROUTES: Routes = { primary: 100, canary: 0, mirrored: false };

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
export const buildTrafficSplit = (canary: Canary, version: SmiVersion, routes: Routes): KubeObject => {
  const owners = canaryOwnerReference(canary);
  return {
    apiVersion: smiApiVersion(version),
    kind: 'TrafficSplit',
    metadata: {
      name: serviceNames(canary.spec.service).apex,
      namespace: canary.metadata.namespace,
      annotations: { ...FLUX_RECONCILE_DISABLED },
      ...(owners.length > 0 ? { ownerReferences: owners } : {}),
    },
    spec: buildTrafficSplitSpec(canary, version, routes),
  };
};

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
  if (typeof weight === 'number') return Number.isFinite(weight) && weight > 0 ? weight : 0;
  if (typeof weight !== 'string') return 0;
  const m = QUANTITY.exec(weight.trim());
  if (!m) return 0;
  const [, digits = '0', exponent, suffix] = m;
  const factor = exponent !== undefined ? 10 ** Number(exponent) : suffix !== undefined ? (SUFFIX_FACTORS[suffix] ?? 1) : 1;
  return Number(digits) * factor;
};

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

const subject = (canary: Canary): string => `TrafficSplit ${canary.metadata.namespace}/${serviceNames(canary.spec.service).apex}`;

/**
 * The split a live TrafficSplit carries, as percentages of the primary and canary weights' sum
 * (SMI weights are relative). Throws NotReady when neither backend gets any weight.
 */
export const readSplitRoutes = (canary: Canary, ts: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const spec = isFields(ts.spec) ? ts.spec : {};
  const backends = Array.isArray(spec.backends) ? spec.backends.filter(isFields) : [];
  const weight = (service: string): number =>
    backends.filter((b) => b.service === service).reduce((sum, b) => sum + weightValue(b.weight), 0);
  const primary = weight(names.primary);
  const canaryWeight = weight(names.canary);
  const total = primary + canaryWeight;
  if (total === 0) throw new FledgeError('NotReady', `${subject(canary)} does not contain routes for ${names.primary} and ${names.canary}`);
  const canaryShare = Math.round((100 * canaryWeight) / total);
  return { primary: 100 - canaryShare, canary: canaryShare, mirrored: false };
};

const tryReadSplitRoutes = (canary: Canary, ts: KubeObject): Routes | undefined => {
  try {
    return readSplitRoutes(canary, ts);
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

/** Key-order-insensitive equality of JSON values, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    isFields(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

class SmiRouter implements Router {
  readonly capabilities = SMI_CAPABILITIES;

  constructor(
    readonly name: string,
    private readonly version: SmiVersion,
    private readonly kube: KubeApi,
  ) {}

  async reconcile(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.ref(canary));
    if (!live) {
      await this.kube.create(buildTrafficSplit(canary, this.version, INITIAL_ROUTES));
      return;
    }
    // Never reset a split mid-analysis: rebuild the spec around the live weights.
    const routes = tryReadSplitRoutes(canary, live) ?? INITIAL_ROUTES;
    const spec = buildTrafficSplitSpec(canary, this.version, routes);
    const annotations = { ...live.metadata.annotations, ...FLUX_RECONCILE_DISABLED };
    if (sameJson(live.spec, spec) && sameJson(live.metadata.annotations ?? {}, annotations)) return;
    // Labels and owners stay as they are: a user's TrafficSplit is not handed to the garbage collector.
    await this.kube.replace({ ...live, metadata: { ...live.metadata, annotations }, spec });
  }

  async setRoutes(canary: Canary, routes: Routes): Promise<void> {
    checkRoutes(this.name, routes);
    await this.live(canary);
    // Only the weights: a merge patch replaces the backends list as a whole.
    await this.kube.mergePatch(this.ref(canary), { spec: { backends: buildBackends(canary, this.version, routes) } });
  }

  async getRoutes(canary: Canary): Promise<Routes> {
    return readSplitRoutes(canary, await this.live(canary));
  }

  async finalize(canary: Canary): Promise<void> {
    const live = await this.kube.get(this.ref(canary));
    if (live && isOwnedBy(live, canary)) await this.kube.delete(this.ref(canary));
  }

  private ref(canary: Canary): ObjectRef {
    return {
      apiVersion: smiApiVersion(this.version),
      kind: 'TrafficSplit',
      name: serviceNames(canary.spec.service).apex,
      namespace: canary.metadata.namespace,
    };
  }

  private async live(canary: Canary): Promise<KubeObject> {
    const ts = await this.kube.get(this.ref(canary));
    if (!ts) throw new FledgeError('NotReady', `${subject(canary)} not found (not reconciled yet)`);
    return ts;
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
