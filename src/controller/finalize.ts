/**
 * revertOnDeletion: a Canary that asks for it carries Flagger's finalizer; when it is deleted the
 * controller hands the traffic back to the target (Terminating), undoes the router objects and lets the
 * deletion finish (Terminated), as Flagger does.
 */
import type { Canary } from '../api/index.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import type { Workloads } from '../workloads/index.js';
import type { Router } from '../../providers/routers/types.js';

export const FINALIZER = 'finalizer.flagger.app';

export interface FinalizeDeps {
  kube: KubeApi;
  workloads: Workloads;
  router: Router;
  writeStatus(status: Record<string, unknown>): Promise<void>;
  event(type: 'Normal' | 'Warning', message: string): Promise<void>;
}

const ref = (c: Canary) => ({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: c.metadata.namespace, name: c.metadata.name });

/** Adds the finalizer when revertOnDeletion asks for one; true when it wrote. */
export const ensureFinalizer = async (canary: Canary, kube: KubeApi): Promise<boolean> => {
  const has = canary.metadata.finalizers.includes(FINALIZER);
  if (canary.metadata.deletionTimestamp || has === canary.spec.revertOnDeletion) return false;
  await editFinalizers(canary, kube, (list) => (has ? list.filter((f) => f !== FINALIZER) : [...list, FINALIZER]));
  return true;
};

const removeFinalizer = (canary: Canary, kube: KubeApi): Promise<void> => editFinalizers(canary, kube, (list) => list.filter((f) => f !== FINALIZER));

/**
 * Finalizers are a list other controllers edit too: change it on a fresh read, guarded by that read's
 * resourceVersion (a merge patch replaces the whole list).
 */
const editFinalizers = async (canary: Canary, kube: KubeApi, edit: (list: string[]) => string[]): Promise<void> => {
  const fresh = await kube.get(ref(canary));
  if (!fresh) return;
  const finalizers = edit(fresh.metadata.finalizers ?? []);
  await kube.mergePatch(ref(canary), { metadata: { finalizers, resourceVersion: fresh.metadata.resourceVersion } } as Partial<KubeObject>);
};

/** One finalization step of a deleted Canary; 'done' when the finalizer is gone, 'again' to retry soon. */
export const finalizeStep = async (canary: Canary, d: FinalizeDeps): Promise<'done' | 'again' | 'none'> => {
  if (!canary.metadata.deletionTimestamp || !canary.metadata.finalizers.includes(FINALIZER)) return 'none';
  if (canary.status.phase !== 'Terminating') {
    await d.writeStatus({ phase: 'Terminating' });
    await d.event('Normal', `Terminating ${canary.metadata.name}.${canary.metadata.namespace}: reverting the target`);
  }
  const progress = await d.workloads.finalize(canary);
  if (!progress.done) return 'again';
  await d.router.finalize(canary);
  await d.writeStatus({ phase: 'Terminated' });
  await d.event('Normal', `Terminated ${canary.metadata.name}.${canary.metadata.namespace}: the target serves again`);
  await removeFinalizer(canary, d.kube);
  return 'done';
};
