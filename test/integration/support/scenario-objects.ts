/**
 * Objects and reads shared by the failure and promotion scenarios: the fixture with overrides, a new pod
 * template by merge patch (optionally one that never becomes ready), and the Canary's events.
 */
import type { KubeObject } from '../../../src/kube/api.js';
import { eventually } from './cluster.js';
import type { Rollout } from './rollout.js';
import { fixtureObjects, startRollout } from './rollout.js';

export const NEVER_READY = 'localcluster.fledge.dev/never-ready';

export type Spec = Record<string, unknown>;

/** The fixture with the Canary's spec and analysis and the Deployment's spec overridden. */
export const fixture = (canary: Spec = {}, analysis: Spec = {}, deployment: Spec = {}): KubeObject[] =>
  fixtureObjects('podinfo-canary.yaml').map((o) => {
    const spec = o.spec as Spec;
    if (o.kind === 'Deployment') return { ...o, spec: { ...spec, ...deployment } };
    return { ...o, spec: { ...spec, ...canary, analysis: { ...(spec.analysis as Spec), ...analysis } } };
  });

export const initialized = async (objects: KubeObject[]): Promise<Rollout> => {
  const r = await startRollout();
  await r.apply(objects);
  await r.waitPhase('Initialized');
  return r;
};

export const deploymentRef = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name });

/**
 * A new pod template: the image, and optionally the never-ready annotation. A merge patch, as
 * `kubectl set image` would do, so replicas stay as the controller left them.
 */
export const setImage = async (r: Rollout, image: string, opts: { neverReady?: boolean } = {}): Promise<void> => {
  await r.kube.mergePatch(deploymentRef('podinfo'), {
    spec: {
      template: {
        metadata: { annotations: opts.neverReady ? { [NEVER_READY]: 'true' } : null },
        spec: { containers: [{ name: 'podinfod', image, ports: [{ name: 'http', containerPort: 9898 }] }] },
      },
    },
  });
};

export const imageOf = async (r: Rollout, name: string): Promise<string | undefined> => {
  const d = await r.kube.get(deploymentRef(name));
  return (d?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
};

/** The target has rolled out its current template: the next tick finds the canary ready. */
export const targetReady = (r: Rollout): Promise<boolean> =>
  eventually(async () => {
    const d = await r.kube.get(deploymentRef('podinfo'));
    const status = (d?.status ?? {}) as { observedGeneration?: number; availableReplicas?: number };
    return status.observedGeneration === d?.metadata.generation && (status.availableReplicas ?? 0) >= 1;
  }, 'podinfo to be available');

export const replicasOf = async (r: Rollout, name: string): Promise<number | undefined> =>
  ((await r.kube.get(deploymentRef(name)))?.spec as { replicas?: number }).replicas;

export interface CanaryEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
}

export const eventsOf = async (r: Rollout, name = 'podinfo'): Promise<CanaryEvent[]> =>
  (await r.kube.list('v1', 'Event', 'default'))
    .filter((e) => (e.involvedObject as { kind?: string; name?: string }).kind === 'Canary' && (e.involvedObject as { name?: string }).name === name)
    .map((e) => ({ type: String(e.type), reason: String(e.reason), message: String(e.message), count: Number(e.count ?? 1) }));


/** Waits until the target Deployment reports ProgressDeadlineExceeded (the local cluster's real-time deadline). */
export const progressDeadlineExceeded = (r: Rollout): Promise<boolean> =>
  eventually(async () => {
    const conditions = ((await r.kube.get(deploymentRef('podinfo')))?.status as { conditions?: Array<{ type: string; reason?: string }> }).conditions ?? [];
    return conditions.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  }, 'podinfo to report ProgressDeadlineExceeded');
