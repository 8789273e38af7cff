/** Pure builders of the primary workload: selector label, primary spec, promotion, revision source. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import {
  buildPrimaryWorkload,
  checkTargetStrategy,
  promotedPrimary,
  revisionSource,
  selectorLabelOf,
} from '../../src/workloads/primary-spec.js';
import type { PrimaryOptions } from '../../src/workloads/primary-spec.js';
import { DEFAULT_SELECTOR_LABELS, FLUX_RECONCILE_KEY } from '../../src/workloads/metadata.js';
import { mapOf, pathOf } from '../../src/workloads/json.js';

const canary = (kind = 'Deployment'): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: 'canary-uid' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind, name: 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: '1m', stepWeight: 10, maxWeight: 50 },
    },
  });

const deployment = (over: Partial<{ replicas: number; labels: Record<string, string> }> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'podinfo',
    namespace: 'test',
    labels: over.labels ?? { app: 'podinfo', team: 'a', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
    annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  },
  spec: {
    replicas: over.replicas ?? 3,
    progressDeadlineSeconds: 120,
    minReadySeconds: 5,
    strategy: { type: 'RollingUpdate' },
    paused: false,
    selector: { matchLabels: { app: 'podinfo' } },
    template: {
      metadata: {
        labels: { app: 'podinfo', version: 'v1', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
        annotations: { 'prometheus.io/scrape': 'true', 'flagger-id': 'stale' },
      },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'podinfo:6.0.0',
            env: [{ name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } }],
            envFrom: [{ secretRef: { name: 'untracked' } }],
          },
        ],
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['podinfo', 'other'] }] }, topologyKey: 'x' },
            ],
          },
        },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', labelSelector: { matchLabels: { app: 'podinfo', tier: 'podinfo' } } }],
      },
    },
  },
});

const options = (target: KubeObject, over: Partial<PrimaryOptions> = {}): PrimaryOptions => ({
  selector: selectorLabelOf(target, DEFAULT_SELECTOR_LABELS),
  trackedKeys: new Set(['configmap/cfg']),
  rolloutId: 'rev-1',
  selectorLabels: DEFAULT_SELECTOR_LABELS,
  ...over,
});

test('the selector label is the first accepted label present in matchLabels', () => {
  const target = deployment();
  mapOf(target.spec).selector = { matchLabels: { 'app.kubernetes.io/name': 'web', name: 'n' } };
  assert.deepEqual(selectorLabelOf(target, DEFAULT_SELECTOR_LABELS), { label: 'name', value: 'n' });
  assert.deepEqual(selectorLabelOf(target, ['app.kubernetes.io/name', 'name']), { label: 'app.kubernetes.io/name', value: 'web' });
});

test('a target without an accepted selector label is an InvalidSpec error naming the labels', () => {
  const target = deployment();
  mapOf(target.spec).selector = { matchLabels: { component: 'web' } };
  assert.throws(
    () => selectorLabelOf(target, DEFAULT_SELECTOR_LABELS),
    (err: unknown) =>
      err instanceof FledgeError &&
      err.code === 'InvalidSpec' &&
      err.message === 'deployment podinfo.test spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]',
  );
});

test('the primary Deployment selects <value>-primary and runs the target template with tracked configs renamed', () => {
  const target = deployment();
  const primary = buildPrimaryWorkload(target, canary(), options(target));
  const spec = (...path: Array<string | number>): unknown => pathOf(primary.spec, ...path);
  const pod = (...path: Array<string | number>): unknown => spec('template', 'spec', ...path);
  assert.equal(primary.metadata.name, 'podinfo-primary');
  assert.equal(primary.metadata.namespace, 'test');
  assert.deepEqual(spec('selector'), { matchLabels: { app: 'podinfo-primary' } });
  assert.equal(spec('replicas'), 3);
  assert.equal(spec('progressDeadlineSeconds'), 120);
  assert.equal(spec('minReadySeconds'), 5);
  assert.equal(spec('paused'), undefined, 'only the rollout settings Flagger copies are copied');
  assert.deepEqual(spec('template', 'metadata', 'labels'), { app: 'podinfo-primary', version: 'v1' });
  assert.deepEqual(spec('template', 'metadata', 'annotations'), { 'prometheus.io/scrape': 'true', 'flagger-id': 'rev-1' });
  assert.equal(pod('containers', 0, 'env', 0, 'valueFrom', 'configMapKeyRef', 'name'), 'cfg-primary');
  assert.equal(pod('containers', 0, 'envFrom', 0, 'secretRef', 'name'), 'untracked', 'untracked configs keep their names');
  assert.deepEqual(
    pod('affinity', 'podAntiAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 0, 'labelSelector', 'matchExpressions', 0, 'values'),
    ['podinfo-primary', 'other'],
  );
  assert.deepEqual(pod('topologySpreadConstraints', 0, 'labelSelector', 'matchLabels'), { app: 'podinfo-primary', tier: 'podinfo' });
  assert.equal(
    pathOf(target, 'spec', 'template', 'spec', 'containers', 0, 'env', 0, 'valueFrom', 'configMapKeyRef', 'name'),
    'cfg',
    'the target object is not modified',
  );
});

test('primary metadata: copied labels without Flux keys, Flux reconcile disabled, owned by the Canary', () => {
  const target = deployment();
  const primary = buildPrimaryWorkload(target, canary(), options(target));
  assert.deepEqual(primary.metadata.labels, { app: 'podinfo-primary', team: 'a' });
  assert.deepEqual(primary.metadata.annotations, { note: 'x', [FLUX_RECONCILE_KEY]: 'disabled' });
  assert.deepEqual(primary.metadata.ownerReferences, [
    { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'podinfo', uid: 'canary-uid', controller: true, blockOwnerDeletion: true },
  ]);
  const filtered = buildPrimaryWorkload(target, canary(), options(target, { includeLabelPrefixes: ['te'] }));
  assert.deepEqual(filtered.metadata.labels, { app: 'podinfo-primary', team: 'a' });
  const none = buildPrimaryWorkload(deployment({ labels: { app: 'podinfo', owner: 'me' } }), canary(), options(target, { includeLabelPrefixes: ['team'] }));
  assert.deepEqual(none.metadata.labels, { app: 'podinfo-primary' });
});

test('a target already scaled to zero still gets a primary with one replica', () => {
  const target = deployment({ replicas: 0 });
  assert.equal((buildPrimaryWorkload(target, canary(), options(target)).spec as { replicas: number }).replicas, 1);
});

test('a DaemonSet primary copies updateStrategy and drops the scale-down node selector', () => {
  const ds: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: {
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: { name: 'podinfo' } },
      template: {
        metadata: { labels: { name: 'podinfo' } },
        spec: { nodeSelector: { 'flagger.app/scale-to-zero': 'true', disk: 'ssd' }, containers: [{ name: 'a', image: 'x' }] },
      },
    },
  };
  const primary = buildPrimaryWorkload(ds, canary('DaemonSet'), options(ds));
  const spec = (...path: string[]): unknown => pathOf(primary.spec, ...path);
  assert.equal(primary.kind, 'DaemonSet');
  assert.equal(spec('replicas'), undefined);
  assert.deepEqual(spec('updateStrategy'), { type: 'RollingUpdate' });
  assert.deepEqual(spec('selector'), { matchLabels: { name: 'podinfo-primary' } });
  assert.deepEqual(spec('template', 'spec', 'nodeSelector'), { disk: 'ssd' });
  const scaledDown = structuredClone(ds);
  const plain = structuredClone(ds);
  delete mapOf(pathOf(plain, 'spec', 'template', 'spec', 'nodeSelector'))['flagger.app/scale-to-zero'];
  assert.deepEqual(revisionSource(scaledDown), revisionSource(plain), 'scaling down is not a new revision');
  mapOf(ds.spec).updateStrategy = { type: 'OnDelete' };
  assert.throws(() => checkTargetStrategy(ds), /spec.updateStrategy.type must be RollingUpdate, not OnDelete/);
});

test('promotion replaces the template and rollout settings but keeps the live selector and identity', () => {
  const target = deployment({ replicas: 2 });
  const live = buildPrimaryWorkload(deployment(), canary(), options(deployment(), { rolloutId: 'rev-0' }));
  live.metadata.resourceVersion = '42';
  mapOf(pathOf(target, 'spec', 'template', 'spec', 'containers', 0)).image = 'podinfo:6.1.0';
  delete mapOf(target.spec).minReadySeconds;
  const next = promotedPrimary(live, target, { ...options(target), copyReplicas: true });
  const nextSpec = (...path: Array<string | number>): unknown => pathOf(next.spec, ...path);
  assert.equal(next.metadata.resourceVersion, '42');
  assert.equal(nextSpec('template', 'spec', 'containers', 0, 'image'), 'podinfo:6.1.0');
  assert.equal(nextSpec('template', 'metadata', 'annotations', 'flagger-id'), 'rev-1');
  assert.equal(nextSpec('minReadySeconds'), undefined);
  assert.equal(nextSpec('replicas'), 2);
  assert.deepEqual(nextSpec('selector'), { matchLabels: { app: 'podinfo-primary' } });
  const withHpa = promotedPrimary(live, target, { ...options(target), copyReplicas: false });
  assert.equal(pathOf(withHpa, 'spec', 'replicas'), 3, 'an autoscaler owns the replicas');
});
