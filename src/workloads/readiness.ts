/**
 * Whether a Deployment or DaemonSet has finished rolling out (Flagger's deployment_ready.go and
 * daemonset_ready.go), as pure functions of the object, the canary's settings and the time.
 *
 * Not ready is retriable (wait and look again) until waiting cannot help: the Deployment's Progressing
 * condition says ProgressDeadlineExceeded, or the canary has waited longer than its
 * progressDeadlineSeconds since its last transition. Flagger applies the second rule to DaemonSets
 * only; applying it to Deployments too means a canary whose Deployment has a long (or default 600 s)
 * deadline still fails on the Canary's own deadline.
 */
import type { Readiness } from '../engine/ports.js';
import type { KubeObject } from '../kube/api.js';
import { listOf, mapOf, numberOf, stringOf, isMap } from './json.js';

export interface ReadinessContext {
  /** primaryReadyThreshold or canaryReadyThreshold, percent of replicas that must be available. */
  readyThreshold: number;
  /** The canary's progressDeadlineSeconds. */
  deadlineSeconds: number;
  nowMs: number;
  /** When the canary last changed phase (status.lastTransitionTime); no deadline applies without it. */
  sinceMs?: number;
}

const ready = (): Readiness => ({ ready: true, retriable: true, message: '' });

const deadlinePassed = (ctx: ReadinessContext): boolean =>
  ctx.sinceMs !== undefined && ctx.nowMs - ctx.sinceMs > ctx.deadlineSeconds * 1000;

/** Not ready: retriable unless the canary's deadline has passed. */
const waiting = (ctx: ReadinessContext, message: string): Readiness =>
  deadlinePassed(ctx)
    ? { ready: false, retriable: false, message: `${message}; exceeded its progressDeadlineSeconds: ${ctx.deadlineSeconds}` }
    : { ready: false, retriable: true, message };

const count = (status: Record<string, unknown>, field: string): number => numberOf(status[field]) ?? 0;

const conditionOf = (status: Record<string, unknown>, type: string): Record<string, unknown> | undefined =>
  listOf(status.conditions).filter(isMap).find((c) => c.type === type);

/** Replicas that must be available: ceil(replicas × threshold %). */
export const requiredAvailable = (replicas: number, readyThreshold: number): number => Math.ceil((replicas * readyThreshold) / 100);

export const deploymentReadiness = (deployment: KubeObject, ctx: ReadinessContext): Readiness => {
  const status = mapOf(deployment.status);
  const name = deployment.metadata.name;
  if ((deployment.metadata.generation ?? 0) > count(status, 'observedGeneration')) {
    return { ready: false, retriable: true, message: 'waiting for rollout to finish: observed deployment generation less than desired generation' };
  }
  if (stringOf(conditionOf(status, 'Progressing')?.reason) === 'ProgressDeadlineExceeded') {
    return { ready: false, retriable: false, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const replicas = numberOf(mapOf(deployment.spec).replicas) ?? 1;
  const updated = count(status, 'updatedReplicas');
  const available = count(status, 'availableReplicas');
  if (updated < replicas) {
    return waiting(ctx, `waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated`);
  }
  const current = count(status, 'replicas');
  if (current > updated) {
    return waiting(ctx, `waiting for rollout to finish: ${current - updated} old replicas are pending termination`);
  }
  const needed = requiredAvailable(replicas, ctx.readyThreshold);
  if (available < needed) {
    return waiting(ctx, `waiting for rollout to finish: ${available} of ${needed} (readyThreshold ${ctx.readyThreshold}%) updated replicas are available`);
  }
  return ready();
};

export const daemonSetReadiness = (daemonSet: KubeObject, ctx: ReadinessContext): Readiness => {
  const status = mapOf(daemonSet.status);
  if ((daemonSet.metadata.generation ?? 0) > count(status, 'observedGeneration')) {
    return { ready: false, retriable: true, message: 'waiting for rollout to finish: observed daemonset generation less than desired generation' };
  }
  const desired = count(status, 'desiredNumberScheduled');
  const updated = count(status, 'updatedNumberScheduled');
  const available = count(status, 'numberAvailable');
  if (updated < desired) {
    return waiting(ctx, `waiting for rollout to finish: ${updated} out of ${desired} new pods have been updated`);
  }
  const needed = requiredAvailable(desired, ctx.readyThreshold);
  if (available < needed) {
    return waiting(ctx, `waiting for rollout to finish: ${available} of ${needed} (readyThreshold ${ctx.readyThreshold}%) updated pods are available`);
  }
  return ready();
};

/** The readiness of a workload of either kind. */
export const workloadReadiness = (workload: KubeObject, ctx: ReadinessContext): Readiness =>
  workload.kind === 'DaemonSet' ? daemonSetReadiness(workload, ctx) : deploymentReadiness(workload, ctx);
