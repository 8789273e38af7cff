/** The primary's HPA and KEDA ScaledObject copies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import { buildPrimaryHpa, buildPrimaryScaledObject, primaryQuery } from '../../src/workloads/autoscalers.js';
import { pathOf } from '../../src/workloads/json.js';

const canary = (autoscalerRef: Record<string, unknown>): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: 'uid-1' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      autoscalerRef,
      service: { port: 9898 },
      analysis: { interval: '1m', stepWeight: 10, maxWeight: 50 },
    },
  });

const hpa: KubeObject = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'podinfo', namespace: 'test', labels: { app: 'podinfo', 'helm.toolkit.fluxcd.io/name': 'x' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    minReplicas: 2,
    maxReplicas: 4,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
  },
};

test('the primary HPA scales the primary with the target HPA spec', () => {
  const c = canary({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' });
  const primary = buildPrimaryHpa(hpa, c, 'podinfo-primary');
  const spec = primary.spec;
  assert.equal(primary.metadata.name, 'podinfo-primary');
  assert.deepEqual(pathOf(spec, 'scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' });
  assert.deepEqual([pathOf(spec, 'minReplicas'), pathOf(spec, 'maxReplicas')], [2, 4]);
  assert.deepEqual(pathOf(spec, 'metrics'), pathOf(hpa, 'spec', 'metrics'));
  assert.deepEqual(primary.metadata.labels, { app: 'podinfo' });
  assert.equal(primary.metadata.ownerReferences?.[0]?.kind, 'Canary');
  assert.equal(pathOf(hpa, 'spec', 'scaleTargetRef', 'name'), 'podinfo', 'the source is not modified');
});

test('primaryScalerReplicas overrides the primary HPA bounds', () => {
  const c = canary({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    name: 'podinfo',
    primaryScalerReplicas: { minReplicas: 3, maxReplicas: 9 },
  });
  const spec = buildPrimaryHpa(hpa, c, 'podinfo-primary').spec;
  assert.deepEqual([pathOf(spec, 'minReplicas'), pathOf(spec, 'maxReplicas')], [3, 9]);
});

test('trigger queries are rewritten to the primary; whole names only', () => {
  assert.equal(primaryQuery('sum(rate(x{app="podinfo"}[1m]))', 'podinfo'), 'sum(rate(x{app="podinfo-primary"}[1m]))');
  assert.equal(primaryQuery('x{app="podinfo-canary", svc="podinfo"}', 'podinfo'), 'x{app="podinfo-primary", svc="podinfo-primary"}');
  assert.equal(primaryQuery('x{app="podinfo-primary"}', 'podinfo'), 'x{app="podinfo-primary"}');
  assert.equal(primaryQuery('x{cluster="test_podinfo_80", other="podinfo2"}', 'podinfo'), 'x{cluster="test_podinfo-primary_80", other="podinfo2"}');
});

test('the primary ScaledObject: primary target, named queries win, overrides, never the canary pause', () => {
  const so: KubeObject = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'podinfo-so', namespace: 'test', annotations: { 'autoscaling.keda.sh/paused-replicas': '0', keep: 'me' } },
    spec: {
      scaleTargetRef: { name: 'podinfo' },
      minReplicaCount: 1,
      maxReplicaCount: 5,
      triggers: [
        { type: 'prometheus', name: 'named', metadata: { query: 'sum(a{app="podinfo"})', threshold: '5' } },
        { type: 'prometheus', metadata: { query: 'sum(b{app="podinfo-canary"})' } },
        { type: 'cpu', metadata: { value: '50' } },
      ],
    },
  };
  const c = canary({
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    name: 'podinfo-so',
    primaryScalerQueries: { named: 'custom{app="podinfo-primary"}' },
    primaryScalerReplicas: { minReplicas: 2 },
  });
  const primary = buildPrimaryScaledObject(so, c, 'podinfo-primary');
  const spec = primary.spec;
  assert.equal(primary.metadata.name, 'podinfo-so-primary');
  assert.deepEqual(pathOf(spec, 'scaleTargetRef'), { name: 'podinfo-primary' });
  assert.equal(pathOf(spec, 'triggers', 0, 'metadata', 'query'), 'custom{app="podinfo-primary"}');
  assert.equal(pathOf(spec, 'triggers', 0, 'metadata', 'threshold'), '5');
  assert.equal(pathOf(spec, 'triggers', 1, 'metadata', 'query'), 'sum(b{app="podinfo-primary"})');
  assert.deepEqual(pathOf(spec, 'triggers', 2), { type: 'cpu', metadata: { value: '50' } });
  assert.deepEqual([pathOf(spec, 'minReplicaCount'), pathOf(spec, 'maxReplicaCount')], [2, 5]);
  assert.deepEqual(primary.metadata.annotations, { keep: 'me', 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' });
});
