/**
 * Steps shared by the scenario tests: edit the fixture Canary, change the target's pod template, run
 * ticks until a phase, read the VirtualService and the Canary's events.
 */
import type { KubeObject } from '../../../src/kube/api.js';
import type { Rollout } from './rollout.js';
import { fixtureObjects, startRollout } from './rollout.js';
import type { ControllerOptions } from '../../../src/controller/controller.js';

export const NEW_IMAGE = 'ghcr.io/stefanprodan/podinfo:6.1.0';

type Spec = Record<string, unknown>;

/** The objects with the Canary's spec.analysis merged with `analysis` (undefined removes a field). */
export const withAnalysis = (objects: KubeObject[], analysis: Spec): KubeObject[] =>
  objects.map((o) =>
    o.kind === 'Canary' ? { ...o, spec: { ...(o.spec as Spec), analysis: { ...((o.spec as { analysis: Spec }).analysis), ...analysis } } } : o,
  );

export const podinfoDeployment = (objects: KubeObject[] = fixtureObjects('podinfo-canary.yaml')): KubeObject =>
  structuredClone(objects.find((o) => o.kind === 'Deployment') as KubeObject);

export interface PodSpecLike {
  containers: Array<Record<string, unknown> & { image: string }>;
  initContainers?: Array<Record<string, unknown>>;
  volumes?: Array<Record<string, unknown>>;
}

export const podSpecOf = (deploy: KubeObject | undefined): PodSpecLike =>
  (deploy?.spec as { template: { spec: PodSpecLike } } | undefined)?.template.spec ?? { containers: [] };

/** Applies `deploy` (default: the fixture's) with the first container's image set to `image`. */
export const setImage = async (r: Rollout, image: string, deploy: KubeObject = podinfoDeployment()): Promise<void> => {
  const copy = structuredClone(deploy);
  const first = podSpecOf(copy).containers[0];
  if (first) first.image = image;
  await r.kube.apply(copy);
};

/**
 * Changes only the pod template (as `kubectl set image` would), leaving spec.replicas to whoever set
 * it last: the controller, after initialization.
 */
export const patchImage = async (r: Rollout, image: string, deploy: KubeObject = podinfoDeployment()): Promise<void> => {
  const template = structuredClone((deploy.spec as { template: Record<string, unknown> }).template);
  const first = podSpecOf({ ...deploy, spec: { template } }).containers[0];
  if (first) first.image = image;
  await r.kube.mergePatch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: deploy.metadata.name }, { spec: { template } });
};

/** A started rollout with `objects` applied and the canary Initialized. */
export const initializedWith = async (objects: KubeObject[], opts: Partial<ControllerOptions> = {}): Promise<Rollout> => {
  const r = await startRollout(opts);
  try {
    await r.apply(objects);
    await r.waitPhase('Initialized');
    return r;
  } catch (e) {
    await r.close();
    throw e;
  }
};

/** Ticks until the canary reaches `phase` (at most `max` ticks); returns the phases seen after each tick. */
export const tickUntil = async (r: Rollout, phase: string, max = 20): Promise<string[]> => {
  const seen: string[] = [];
  for (let i = 0; i < max && (await r.status()).phase !== phase; i++) {
    await r.tick();
    seen.push((await r.status()).phase ?? '');
  }
  if ((await r.status()).phase !== phase) throw new Error(`no ${phase} after ${max} ticks: ${seen.join(', ')}`);
  return seen;
};

export interface VsRoute {
  match?: Array<Record<string, unknown>>;
  route: Array<{ destination: { host: string }; weight?: number }>;
  mirror?: { host: string };
  mirrorPercentage?: { value: number };
}

export const virtualServiceRoutes = async (r: Rollout): Promise<VsRoute[]> => {
  const vs = await r.kube.get({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', namespace: 'default', name: 'podinfo' });
  return (vs?.spec as { http?: VsRoute[] } | undefined)?.http ?? [];
};

/** `host=weight` pairs of one route, e.g. ['podinfo-primary=100', 'podinfo-canary=0']. */
export const weightsOf = (route: VsRoute | undefined): string[] => (route?.route ?? []).map((d) => `${d.destination.host}=${d.weight ?? 0}`);

export interface CanaryEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
}

export const canaryEvents = async (r: Rollout): Promise<CanaryEvent[]> =>
  (await r.kube.list('v1', 'Event', 'default'))
    .filter((e) => (e.involvedObject as { name?: string; kind?: string } | undefined)?.name === 'podinfo' && (e.involvedObject as { kind?: string }).kind === 'Canary')
    .map((e) => ({ type: String(e.type), reason: String(e.reason), message: String(e.message), count: Number(e.count ?? 1) }));

export const replicasOf = async (r: Rollout, name: string): Promise<number | undefined> =>
  ((await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name }))?.spec as { replicas?: number } | undefined)?.replicas;
