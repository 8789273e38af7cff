/**
 * Health of an applied object, after kstatus (sigs.k8s.io/cli-utils/pkg/kstatus), which Flux uses for
 * `wait` and `healthChecks`:
 *
 *  1. generic: an object being deleted is InProgress (kstatus: Terminating); an observedGeneration behind
 *     metadata.generation is InProgress; a `Reconciling=True` condition is InProgress and `Stalled=True`
 *     is Failed;
 *  2. built-in kinds by their own status fields (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Job,
 *     PVC, Service, CRD, Namespace; ConfigMap, Secret, CronJob, PDB always Current), and flagger.app
 *     Canary by its phase;
 *  3. any other kind by its `Ready` condition when it has one;
 *  4. otherwise, including objects with no status at all, Current.
 *
 * Differences from kstatus, on purpose: a Pod in phase Failed is Failed (kstatus calls it Current, done);
 * an unschedulable Pod stays InProgress (kstatus fails it after a 15s window it measures with the wall
 * clock; here the Kustomization's timeout decides); a LoadBalancer Service needs an ingress address, not
 * just a cluster IP; Namespaces are judged by phase.
 */
import type { KubeObject } from '../kube/api.js';
import { groupOf } from './inventory.js';

export type HealthStatus = 'Current' | 'InProgress' | 'Failed';

export interface Health {
  status: HealthStatus;
  message: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

type Fields = Record<string, unknown>;

const current = (message: string): Health => ({ status: 'Current', message });
const inProgress = (message: string): Health => ({ status: 'InProgress', message });
const failed = (message: string): Health => ({ status: 'Failed', message });

const fields = (v: unknown): Fields => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Fields) : {});
const int = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

const conditionsOf = (status: Fields): Condition[] =>
  (Array.isArray(status.conditions) ? status.conditions : []).map(fields).map((c) => ({
    type: str(c.type),
    status: str(c.status),
    ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
    ...(typeof c.message === 'string' ? { message: c.message } : {}),
  }));

const find = (conds: Condition[], type: string): Condition | undefined => conds.find((c) => c.type === type);
const why = (c: Condition): string => [c.reason, c.message].filter(Boolean).join(': ');

type Rule = (o: KubeObject, spec: Fields, status: Fields, conds: Condition[]) => Health;

const deployment: Rule = (o, spec, status, conds) => {
  for (const c of conds) {
    if (c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') return failed(`Progress deadline exceeded${c.message ? `: ${c.message}` : ''}`);
  }
  const want = int(spec.replicas, 1);
  const replicas = int(status.replicas, 0);
  const updated = int(status.updatedReplicas, 0);
  const ready = int(status.readyReplicas, 0);
  const available = int(status.availableReplicas, 0);
  if (want > replicas) return inProgress(`Replicas: ${replicas}/${want}`);
  if (want > updated) return inProgress(`Updated: ${updated}/${want}`);
  if (replicas > want) return inProgress(`Pending termination: ${replicas - want}`);
  if (updated > available) return inProgress(`Available: ${available}/${updated}`);
  if (want > ready) return inProgress(`Ready: ${ready}/${want}`);
  // Without progressDeadlineSeconds the controller never reports Progressing; with it (the API server
  // defaults it to 600), the rollout is only done once the new ReplicaSet is reported available.
  const progressing = spec.progressDeadlineSeconds === undefined || conds.some((c) => c.type === 'Progressing' && c.status === 'True' && c.reason === 'NewReplicaSetAvailable');
  if (!progressing) return inProgress('ReplicaSet not available yet');
  if (!conds.some((c) => c.type === 'Available' && c.status === 'True')) return inProgress('Deployment not available');
  return current(`Deployment is available. Replicas: ${replicas}`);
};

const statefulSet: Rule = (_o, spec, status) => {
  const strategy = fields(spec.updateStrategy);
  if (str(strategy.type) === 'OnDelete') return current('StatefulSet uses the OnDelete update strategy');
  const want = int(spec.replicas, 1);
  const replicas = int(status.replicas, 0);
  const ready = int(status.readyReplicas, 0);
  const currentReplicas = int(status.currentReplicas, 0);
  const updated = int(status.updatedReplicas, 0);
  const partition = int(fields(strategy.rollingUpdate).partition, -1);
  if (want > replicas) return inProgress(`Replicas: ${replicas}/${want}`);
  if (want > ready) return inProgress(`Ready: ${ready}/${want}`);
  if (replicas > want) return inProgress(`Pending termination: ${replicas - want}`);
  if (partition !== -1) {
    if (updated < want - partition) return inProgress(`Partitioned rollout: updated ${updated}/${want - partition}`);
    return current(`Partitioned rollout complete. Updated: ${updated}`);
  }
  if (want > currentReplicas) return inProgress(`Current: ${currentReplicas}/${want}`);
  if (str(status.currentRevision) !== str(status.updateRevision)) return inProgress('Waiting for the updated revision to become current');
  return current(`All replicas scheduled as expected. Replicas: ${replicas}`);
};

const daemonSet: Rule = (o, _spec, status) => {
  // The DaemonSet controller always writes these once it has seen the object.
  if (o.metadata.generation === undefined) return inProgress('DaemonSet metadata.generation not set');
  if (status.observedGeneration === undefined) return inProgress('DaemonSet status.observedGeneration not set');
  const desired = int(status.desiredNumberScheduled, -1);
  if (desired === -1) return inProgress('Missing status.desiredNumberScheduled');
  const checks: Array<[string, number]> = [
    ['Current', int(status.currentNumberScheduled, 0)],
    ['Updated', int(status.updatedNumberScheduled, 0)],
    ['Available', int(status.numberAvailable, 0)],
    ['Ready', int(status.numberReady, 0)],
  ];
  for (const [what, n] of checks) if (desired > n) return inProgress(`${what}: ${n}/${desired}`);
  return current(`All replicas scheduled as expected. Replicas: ${desired}`);
};

const replicaSet: Rule = (_o, spec, status, conds) => {
  if (conds.some((c) => c.type === 'ReplicaFailure' && c.status === 'True')) return inProgress('ReplicaFailure condition: check the Pods');
  const want = int(spec.replicas, 1);
  const checks: Array<[string, number]> = [
    ['Labelled', int(status.fullyLabeledReplicas, 0)],
    ['Available', int(status.availableReplicas, 0)],
    ['Ready', int(status.readyReplicas, 0)],
  ];
  for (const [what, n] of checks) if (want > n) return inProgress(`${what}: ${n}/${want}`);
  const replicas = int(status.replicas, 0);
  if (replicas > want) return inProgress(`Pending termination: ${replicas - want}`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
};

const pod: Rule = (_o, _spec, status, conds) => {
  const phase = str(status.phase);
  switch (phase) {
    case 'Succeeded':
      return current('Pod has completed successfully');
    case 'Failed':
      return failed(`Pod has failed${status.reason ? `: ${str(status.reason)}` : ''}${status.message ? ` (${str(status.message)})` : ''}`);
    case 'Running': {
      if (conds.some((c) => c.type === 'Ready' && c.status === 'True')) return current('Pod is Ready');
      const crashing = (Array.isArray(status.containerStatuses) ? status.containerStatuses : [])
        .map(fields)
        .filter((cs) => str(fields(fields(cs.state).waiting).reason) === 'CrashLoopBackOff')
        .map((cs) => str(cs.name));
      if (crashing.length > 0) return failed(`Containers in CrashLoopBackOff: ${crashing.join(', ')}`);
      return inProgress('Pod is running but is not Ready');
    }
    case 'Pending': {
      const scheduled = find(conds, 'PodScheduled');
      if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return inProgress(`Pod is not scheduled yet: ${why(scheduled)}`);
      return inProgress('Pod is Pending');
    }
    default:
      return inProgress(phase ? `Pod phase is ${phase}` : 'Pod phase not reported yet');
  }
};

const job: Rule = (_o, spec, status, conds) => {
  const completions = int(spec.completions, int(spec.parallelism, 1));
  for (const c of conds) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return current(`Job completed. Succeeded: ${int(status.succeeded, 0)}/${completions}`);
    if (c.type === 'Failed') return failed(`Job failed. Failed: ${int(status.failed, 0)}/${completions}${c.message ? ` (${c.message})` : ''}`);
    if (c.type === 'Suspended') return current('Job is suspended');
  }
  // As in kstatus (and so Flux), a started Job counts as Current while it runs.
  if (!status.startTime) return inProgress('Job not started');
  return current(`Job in progress. Succeeded: ${int(status.succeeded, 0)}, active: ${int(status.active, 0)}, failed: ${int(status.failed, 0)}`);
};

const pvc: Rule = (_o, _spec, status) => {
  const phase = str(status.phase, 'unknown');
  return phase === 'Bound' ? current('PVC is Bound') : inProgress(`PVC is not Bound. Phase: ${phase}`);
};

const service: Rule = (_o, spec, status) => {
  if (str(spec.type, 'ClusterIP') !== 'LoadBalancer') return current('Service is ready');
  const ingress = (Array.isArray(fields(status.loadBalancer).ingress) ? (fields(status.loadBalancer).ingress as unknown[]) : []).map(fields);
  const address = ingress.map((i) => str(i.ip) || str(i.hostname)).find(Boolean);
  return address ? current(`Service is ready. Load balancer: ${address}`) : inProgress('Waiting for the load balancer address');
};

const crd: Rule = (_o, _spec, _status, conds) => {
  const names = find(conds, 'NamesAccepted');
  if (names?.status === 'False') return failed(`Names not accepted: ${why(names)}`);
  const established = find(conds, 'Established');
  if (established?.status === 'False' && established.reason !== 'Installing') return failed(`Not established: ${why(established)}`);
  if (established?.status === 'True') return current('CRD is established');
  return inProgress('CRD is being installed');
};

const namespace: Rule = (_o, _spec, status) => {
  const phase = str(status.phase);
  if (phase === 'Active') return current('Namespace is Active');
  return inProgress(phase ? `Namespace is ${phase}` : 'Namespace phase not reported yet');
};

const canary: Rule = (_o, _spec, status) => {
  const phase = str(status.phase);
  if (phase === 'Succeeded' || phase === 'Initialized') return current(`Canary phase is ${phase}`);
  if (phase === 'Failed') return failed('Canary phase is Failed: the rollout was rolled back');
  return inProgress(phase ? `Canary phase is ${phase}` : 'Canary not initialised yet');
};

const always: Rule = () => current('Resource is always ready');

/** Rules by `group/Kind` (`Kind` alone for the core group), as kstatus keys them. */
const RULES: Record<string, Rule> = {
  'apps/Deployment': deployment,
  'extensions/Deployment': deployment,
  'apps/StatefulSet': statefulSet,
  'apps/DaemonSet': daemonSet,
  'extensions/DaemonSet': daemonSet,
  'apps/ReplicaSet': replicaSet,
  'extensions/ReplicaSet': replicaSet,
  Pod: pod,
  'batch/Job': job,
  PersistentVolumeClaim: pvc,
  Service: service,
  'apiextensions.k8s.io/CustomResourceDefinition': crd,
  Namespace: namespace,
  'flagger.app/Canary': canary,
  ConfigMap: always,
  Secret: always,
  'batch/CronJob': always,
  'policy/PodDisruptionBudget': always,
};

export const healthOf = (obj: KubeObject): Health => {
  if (obj.metadata.deletionTimestamp) return inProgress('Resource is being deleted');
  const status = fields(obj.status);
  const generation = obj.metadata.generation;
  const observed = status.observedGeneration;
  if (typeof generation === 'number' && typeof observed === 'number' && observed !== generation) {
    return inProgress(`${obj.kind} generation is ${generation}, but latest observed generation is ${observed}`);
  }
  const conds = conditionsOf(status);
  const reconciling = find(conds, 'Reconciling');
  if (reconciling?.status === 'True') return inProgress(reconciling.message || 'Reconciling');
  const stalled = find(conds, 'Stalled');
  if (stalled?.status === 'True') return failed(stalled.message || why(stalled) || 'Stalled');
  const group = groupOf(obj.apiVersion);
  const rule = RULES[group ? `${group}/${obj.kind}` : obj.kind];
  if (rule) return rule(obj, fields(obj.spec), status, conds);
  const ready = find(conds, 'Ready');
  if (ready?.status === 'True') return current(ready.message || 'Ready');
  if (ready) return inProgress(why(ready) || `Ready is ${ready.status || 'Unknown'}`);
  return current('Resource is current');
};
