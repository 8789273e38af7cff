/**
 * Simulated workload controllers. There are no kubelets here, so a Deployment's, DaemonSet's or
 * StatefulSet's status is made to follow its spec after `readyDelayMs`, the way a healthy cluster's
 * would. A pod template annotated `localcluster.fledge.dev/never-ready: "true"` never becomes available;
 * a Deployment then reports ProgressDeadlineExceeded once its progressDeadlineSeconds have passed.
 */
import type { Clock } from '../../api/clock.js';
import type { Logger } from 'pino';
import type { ApiService } from '../service.js';
import type { StoreEvent } from '../store.js';
import type { JsonObject, KubeObject, ResourceType } from '../types.js';
import { isJsonObject } from '../types.js';
import { deepEqual } from '../util.js';

export const NEVER_READY_ANNOTATION = 'localcluster.fledge.dev/never-ready';

const WATCHED = new Set(['apps/deployments', 'apps/daemonsets', 'apps/statefulsets']);

interface Pending {
  generation: number;
  replicas: number;
  timer: unknown;
}

const obj = (v: unknown): JsonObject => (isJsonObject(v) ? v : {});

const neverReady = (o: KubeObject): boolean => {
  const annotations = obj(obj(obj(obj(o.spec).template).metadata).annotations);
  return annotations[NEVER_READY_ANNOTATION] === 'true';
};

const condition = (type: string, status: string, reason: string, message: string, at: string): JsonObject => ({
  type,
  status,
  reason,
  message,
  lastUpdateTime: at,
  lastTransitionTime: at,
});

/** Keeps timestamps of conditions that did not change, so an unchanged status is byte-identical. */
const keepTimes = (next: JsonObject, prev: JsonObject): JsonObject => {
  const old = Array.isArray(prev.conditions) ? prev.conditions.filter(isJsonObject) : [];
  const conds = Array.isArray(next.conditions) ? next.conditions.filter(isJsonObject) : [];
  next.conditions = conds.map((c) => {
    const o = old.find((x) => x.type === c.type);
    if (o && o.status === c.status && o.reason === c.reason && o.message === c.message) {
      return { ...c, lastUpdateTime: o.lastUpdateTime ?? c.lastUpdateTime ?? null, lastTransitionTime: o.lastTransitionTime ?? c.lastTransitionTime ?? null };
    }
    return c;
  });
  if (!conds.length) delete next.conditions;
  return next;
};

const nonZero = (fields: Record<string, number>): JsonObject =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== 0));

export class WorkloadSimulator {
  private readonly pending = new Map<string, Pending>();
  private readonly deadlines = new Map<string, unknown>();
  /** When each never-ready generation started progressing, for ProgressDeadlineExceeded. */
  private readonly progressStart = new Map<string, number>();

  constructor(
    private readonly svc: ApiService,
    private readonly clock: Clock,
    private readonly readyDelayMs: number,
    private readonly log: Logger,
  ) {}

  onEvent = (e: StoreEvent): void => {
    if (!WATCHED.has(e.resource)) return;
    const key = `${e.resource}/${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === 'DELETED') return this.forget(key);
    const o = e.object;
    const generation = o.metadata.generation ?? 1;
    const replicas = this.replicasOf(o);
    const pending = this.pending.get(key);
    if (pending && pending.generation === generation && pending.replicas === replicas) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    if (deepEqual(this.desired(key, o), obj(o.status))) {
      this.pending.delete(key);
      return;
    }
    const timer = this.clock.setTimeout(() => this.reconcile(key, e.resource, o), this.readyDelayMs);
    this.pending.set(key, { generation, replicas, timer });
  };

  stop(): void {
    for (const p of this.pending.values()) this.clock.clearTimeout(p.timer);
    for (const t of this.deadlines.values()) this.clock.clearTimeout(t);
    this.pending.clear();
    this.deadlines.clear();
  }

  private forget(key: string): void {
    const p = this.pending.get(key);
    if (p) this.clock.clearTimeout(p.timer);
    const d = this.deadlines.get(key);
    if (d) this.clock.clearTimeout(d);
    this.pending.delete(key);
    this.deadlines.delete(key);
    for (const k of this.progressStart.keys()) if (k.startsWith(key + '@')) this.progressStart.delete(k);
  }

  private replicasOf(o: KubeObject): number {
    if (o.kind === 'DaemonSet') return 1;
    const r = obj(o.spec).replicas;
    return typeof r === 'number' ? r : 1;
  }

  private reconcile(key: string, resource: string, seen: KubeObject): void {
    this.pending.delete(key);
    const type = this.typeOf(resource);
    if (!type) return;
    const live = this.svc.tryGet(type, seen.metadata.namespace, seen.metadata.name ?? '');
    if (!live || live.metadata.deletionTimestamp) return;
    const status = keepTimes(this.desired(key, live), obj(live.status));
    if (deepEqual(status, live.status)) return;
    try {
      this.svc.update(type, live.metadata.namespace, live.metadata.name ?? '', { ...live, status }, { fieldManager: 'kube-controller-manager', subresource: 'status' });
    } catch (err) {
      this.log.warn({ err, key }, 'workload status update failed');
    }
    if (live.kind === 'Deployment' && neverReady(live)) this.armDeadline(key, resource, live);
  }

  private armDeadline(key: string, resource: string, o: KubeObject): void {
    const old = this.deadlines.get(key);
    if (old) this.clock.clearTimeout(old);
    const start = this.progressStart.get(`${key}@${o.metadata.generation ?? 1}`) ?? this.clock.now();
    const deadlineMs = this.deadlineSeconds(o) * 1000;
    const wait = Math.max(0, start + deadlineMs - this.clock.now());
    this.deadlines.set(
      key,
      this.clock.setTimeout(() => {
        this.deadlines.delete(key);
        this.reconcile(key, resource, o);
      }, wait + 1),
    );
  }

  private deadlineSeconds(o: KubeObject): number {
    const d = obj(o.spec).progressDeadlineSeconds;
    return typeof d === 'number' ? d : 600;
  }

  private typeOf(resource: string): ResourceType | undefined {
    const plural = resource.split('/')[1] ?? '';
    return this.svc.registry.lookup('apps', 'v1', plural);
  }

  /** The status a real cluster would settle on for this object (condition times are filled with now). */
  private desired(key: string, o: KubeObject): JsonObject {
    const now = this.svc.now();
    const generation = o.metadata.generation ?? 1;
    const replicas = this.replicasOf(o);
    const broken = neverReady(o);
    if (o.kind === 'DaemonSet') {
      const ready = broken ? 0 : 1;
      return {
        observedGeneration: generation,
        currentNumberScheduled: 1,
        desiredNumberScheduled: 1,
        updatedNumberScheduled: 1,
        numberMisscheduled: 0,
        numberReady: ready,
        ...(ready ? { numberAvailable: 1 } : { numberUnavailable: 1 }),
      };
    }
    if (o.kind === 'StatefulSet') {
      const ready = broken ? 0 : replicas;
      return { observedGeneration: generation, replicas, ...nonZero({ readyReplicas: ready, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: ready }) };
    }
    if (!broken) {
      return keepTimes(
        {
          observedGeneration: generation,
          ...nonZero({ replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas }),
          conditions: [
            condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now),
            condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${o.metadata.name}" has successfully progressed.`, now),
          ],
        },
        obj(o.status),
      );
    }
    const startKey = `${key}@${generation}`;
    if (!this.progressStart.has(startKey)) this.progressStart.set(startKey, this.clock.now());
    const started = this.progressStart.get(startKey) ?? this.clock.now();
    const exceeded = this.clock.now() - started >= this.deadlineSeconds(o) * 1000;
    return keepTimes(
      {
        observedGeneration: generation,
        ...nonZero({ replicas, updatedReplicas: replicas, unavailableReplicas: replicas }),
        conditions: [
          condition('Available', replicas === 0 ? 'True' : 'False', replicas === 0 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', replicas === 0 ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', now),
          exceeded
            ? condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${o.metadata.name}" has timed out progressing.`, now)
            : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${o.metadata.name}" is progressing.`, now),
        ],
      },
      obj(o.status),
    );
  }
}
