/** kstatus-style health over realistic objects, one row per case. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import type { HealthStatus } from '../../src/reconciler/health.js';
import { healthOf } from '../../src/reconciler/health.js';

const cond = (type: string, status: string, reason?: string, message?: string) => ({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastTransitionTime: '2024-01-01T00:00:00Z' });

const obj = (apiVersion: string, kind: string, rest: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name: 'x', namespace: 'apps', generation: 2, ...meta },
  ...rest,
});

const rolledOut = {
  observedGeneration: 2,
  replicas: 3,
  updatedReplicas: 3,
  readyReplicas: 3,
  availableReplicas: 3,
  conditions: [cond('Available', 'True', 'MinimumReplicasAvailable'), cond('Progressing', 'True', 'NewReplicaSetAvailable')],
};
const deploy = (status: Record<string, unknown>, spec: Record<string, unknown> = { replicas: 3, progressDeadlineSeconds: 600 }) => obj('apps/v1', 'Deployment', { spec, status });

const cases: Array<[string, KubeObject, HealthStatus, RegExp]> = [
  // Generic rules
  ['no status and no rules', obj('example.com/v1', 'Widget'), 'Current', /current/],
  ['being deleted', obj('v1', 'ConfigMap', {}, { deletionTimestamp: '2024-01-01T00:00:00Z' }), 'InProgress', /deleted/],
  ['generation not yet observed', deploy({ ...rolledOut, observedGeneration: 1 }), 'InProgress', /generation is 2, but latest observed generation is 1/],
  ['Reconciling=True', obj('example.com/v1', 'Widget', { status: { observedGeneration: 2, conditions: [cond('Reconciling', 'True', 'Progressing', 'working on it')] } }), 'InProgress', /working on it/],
  ['Stalled=True', obj('example.com/v1', 'Widget', { status: { conditions: [cond('Stalled', 'True', 'BadConfig', 'cannot continue')] } }), 'Failed', /cannot continue/],
  ['Ready=True on a custom resource', obj('source.toolkit.fluxcd.io/v1', 'GitRepository', { status: { observedGeneration: 2, conditions: [cond('Ready', 'True', 'Succeeded', 'stored artifact')] } }), 'Current', /stored artifact/],
  ['Ready=False on a custom resource', obj('cert-manager.io/v1', 'Certificate', { status: { conditions: [cond('Ready', 'False', 'Issuing', 'issuing certificate')] } }), 'InProgress', /Issuing: issuing certificate/],

  // Deployment
  ['Deployment rolled out', deploy(rolledOut), 'Current', /Deployment is available. Replicas: 3/],
  ['Deployment scaling up', deploy({ ...rolledOut, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }), 'InProgress', /Replicas: 1\/3/],
  ['Deployment updating', deploy({ ...rolledOut, updatedReplicas: 2 }), 'InProgress', /Updated: 2\/3/],
  ['Deployment with old pods terminating', deploy({ ...rolledOut, replicas: 4 }), 'InProgress', /Pending termination: 1/],
  ['Deployment not yet available', deploy({ ...rolledOut, availableReplicas: 2 }), 'InProgress', /Available: 2\/3/],
  ['Deployment not ready', deploy({ ...rolledOut, readyReplicas: 2 }), 'InProgress', /Ready: 2\/3/],
  [
    'Deployment past its progress deadline',
    deploy({ ...rolledOut, availableReplicas: 0, conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "x-1" has timed out progressing.')] }),
    'Failed',
    /Progress deadline exceeded: ReplicaSet "x-1" has timed out/,
  ],
  ['Deployment whose new ReplicaSet is not reported yet', deploy({ ...rolledOut, conditions: [cond('Available', 'True'), cond('Progressing', 'True', 'ReplicaSetUpdated')] }), 'InProgress', /ReplicaSet not available/],
  ['Deployment without a deadline needs no Progressing condition', deploy({ ...rolledOut, conditions: [cond('Available', 'True')] }, { replicas: 3 }), 'Current', /available/],
  ['Deployment scaled to zero', deploy({ observedGeneration: 2, conditions: rolledOut.conditions }, { replicas: 0, progressDeadlineSeconds: 600 }), 'Current', /Replicas: 0/],

  // StatefulSet
  ['StatefulSet ready', obj('apps/v1', 'StatefulSet', { spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, currentRevision: 'r1', updateRevision: 'r1' } }), 'Current', /Replicas: 2/],
  ['StatefulSet mid-update', obj('apps/v1', 'StatefulSet', { spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, readyReplicas: 2, currentReplicas: 2, currentRevision: 'r1', updateRevision: 'r2' } }), 'InProgress', /updated revision/],
  ['StatefulSet missing ready pods', obj('apps/v1', 'StatefulSet', { spec: { replicas: 3 }, status: { observedGeneration: 2, replicas: 3, readyReplicas: 1 } }), 'InProgress', /Ready: 1\/3/],
  ['StatefulSet partitioned rollout done', obj('apps/v1', 'StatefulSet', { spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 1 } }), 'Current', /Partitioned rollout complete/],

  // DaemonSet
  ['DaemonSet scheduled everywhere', obj('apps/v1', 'DaemonSet', { status: { observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 } }), 'Current', /Replicas: 3/],
  ['DaemonSet updating', obj('apps/v1', 'DaemonSet', { status: { observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3, numberReady: 3 } }), 'InProgress', /Updated: 1\/3/],
  ['DaemonSet never observed', obj('apps/v1', 'DaemonSet', { status: {} }), 'InProgress', /observedGeneration not set/],

  // Service
  ['ClusterIP Service', obj('v1', 'Service', { spec: { type: 'ClusterIP', clusterIP: '10.0.0.1' } }), 'Current', /ready/],
  ['LoadBalancer without an address', obj('v1', 'Service', { spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1' }, status: { loadBalancer: {} } }), 'InProgress', /load balancer address/],
  ['LoadBalancer with an address', obj('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } }), 'Current', /lb\.example\.com/],

  // Job
  ['Job complete', obj('batch/v1', 'Job', { spec: { completions: 1 }, status: { succeeded: 1, conditions: [cond('Complete', 'True')] } }), 'Current', /Job completed. Succeeded: 1\/1/],
  ['Job failed', obj('batch/v1', 'Job', { spec: { completions: 1 }, status: { failed: 4, conditions: [cond('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] } }), 'Failed', /Job failed. Failed: 4\/1/],
  ['Job not started', obj('batch/v1', 'Job', { status: {} }), 'InProgress', /not started/],
  ['Job running (Current, as kstatus)', obj('batch/v1', 'Job', { status: { startTime: '2024-01-01T00:00:00Z', active: 1 } }), 'Current', /in progress/],

  // Pod
  ['Pod running and ready', obj('v1', 'Pod', { status: { phase: 'Running', conditions: [cond('Ready', 'True')] } }), 'Current', /Ready/],
  ['Pod succeeded', obj('v1', 'Pod', { status: { phase: 'Succeeded' } }), 'Current', /completed/],
  ['Pod failed', obj('v1', 'Pod', { status: { phase: 'Failed', reason: 'Evicted' } }), 'Failed', /failed: Evicted/],
  [
    'Pod crash-looping',
    obj('v1', 'Pod', { status: { phase: 'Running', conditions: [cond('Ready', 'False')], containerStatuses: [{ name: 'app', state: { waiting: { reason: 'CrashLoopBackOff' } } }] } }),
    'Failed',
    /CrashLoopBackOff: app/,
  ],
  ['Pod unschedulable', obj('v1', 'Pod', { status: { phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'Unschedulable', '0/3 nodes are available')] } }), 'InProgress', /not scheduled yet: Unschedulable: 0\/3 nodes/],

  // PVC, CRD, Namespace, always-ready kinds
  ['PVC bound', obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Bound' } }), 'Current', /Bound/],
  ['PVC pending', obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending' } }), 'InProgress', /Phase: Pending/],
  ['CRD established', obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { status: { conditions: [cond('NamesAccepted', 'True'), cond('Established', 'True')] } }), 'Current', /established/],
  ['CRD installing', obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { status: { conditions: [cond('Established', 'False', 'Installing')] } }), 'InProgress', /being installed/],
  ['CRD with conflicting names', obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', { status: { conditions: [cond('NamesAccepted', 'False', 'ListKindConflict', 'plural in use')] } }), 'Failed', /ListKindConflict: plural in use/],
  ['Namespace active', obj('v1', 'Namespace', { status: { phase: 'Active' } }), 'Current', /Active/],
  ['Namespace terminating', obj('v1', 'Namespace', { status: { phase: 'Terminating' } }), 'InProgress', /Terminating/],
  ['Secret', obj('v1', 'Secret', { data: {} }), 'Current', /always ready/],

  // Flagger Canary
  ['Canary initialized', obj('flagger.app/v1beta1', 'Canary', { status: { phase: 'Initialized' } }), 'Current', /Initialized/],
  ['Canary succeeded', obj('flagger.app/v1beta1', 'Canary', { status: { phase: 'Succeeded' } }), 'Current', /Succeeded/],
  ['Canary progressing', obj('flagger.app/v1beta1', 'Canary', { status: { phase: 'Progressing', canaryWeight: 20 } }), 'InProgress', /Progressing/],
  ['Canary failed', obj('flagger.app/v1beta1', 'Canary', { status: { phase: 'Failed' } }), 'Failed', /Failed/],
  ['Canary with no status yet', obj('flagger.app/v1beta1', 'Canary'), 'InProgress', /not initialised/],
];

for (const [name, o, status, message] of cases) {
  test(`${name}: ${status}`, () => {
    const h = healthOf(o);
    assert.equal(h.status, status, `${name}: ${h.message}`);
    assert.match(h.message, message);
  });
}
