/**
 * Workloads against a real local cluster over HTTP (ClientNodeKubeApi): initialization of a podinfo
 * canary, readiness and its deadlines, checksums, scaling, promotion with configs, HPA copies,
 * DaemonSet and Service targets, and revertOnDeletion.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../../src/api/clock.js';
import type { Canary } from '../../src/api/index.js';
import { parseCanary } from '../../src/api/index.js';
import { readManifests } from '../../src/cli/local-cluster.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { LocalCluster } from '../../src/localcluster/cluster.js';
import { startLocalCluster } from '../../src/localcluster/cluster.js';
import { createWorkloads } from '../../src/workloads/index.js';
import type { Workloads } from '../../src/workloads/index.js';
import { pathOf } from '../../src/workloads/json.js';

const NS = 'default';
const T0 = Date.parse('2030-01-01T00:00:00Z');

/** Polls until `probe` returns a value (never a fixed sleep before asserting). */
const eventually = async <T>(probe: () => Promise<T | false | undefined>, what: string, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** The value at a path as plain JSON (client-node hands back its model classes and Dates). */
const at = (value: unknown, ...path: Array<string | number>): unknown => {
  const found = pathOf(value, ...path);
  return found === undefined ? undefined : JSON.parse(JSON.stringify(found));
};

const ref = (kind: string, name: string, apiVersion = kind === 'Deployment' || kind === 'DaemonSet' ? 'apps/v1' : 'v1'): ObjectRef => ({
  apiVersion,
  kind,
  name,
  namespace: NS,
});

const podinfo = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS, labels: { app: name, 'kustomize.toolkit.fluxcd.io/name': 'apps' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox', envFrom: [{ configMapRef: { name: `${name}-init` } }] }],
        containers: [
          {
            name: 'podinfod',
            image: 'ghcr.io/stefanprodan/podinfo:6.0.0',
            ports: [{ name: 'http', containerPort: 9898 }, { name: 'grpc', containerPort: 9999 }],
            env: [{ name: 'COLOR', valueFrom: { configMapKeyRef: { name: `${name}-config`, key: 'color' } } }],
            envFrom: [{ secretRef: { name: `${name}-secret` } }, { secretRef: { name: 'absent', optional: true } }],
          },
        ],
        volumes: [{ name: 'static', configMap: { name: `${name}-static` } }],
      },
    },
    ...extra,
  },
});

const canaryManifest = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name, namespace: NS },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    progressDeadlineSeconds: 60,
    service: { port: 80, targetPort: 9898, portDiscovery: true },
    analysis: { interval: '1m', stepWeight: 10, maxWeight: 50 },
    ...spec,
  },
});

describe('workloads against the local cluster', () => {
  let cluster: LocalCluster;
  let kube: ClientNodeKubeApi;
  let workloads: Workloads;
  let now = T0;
  const clock: Clock = { now: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

  const get = async (kind: string, name: string, apiVersion?: string): Promise<KubeObject | undefined> => kube.get(ref(kind, name, apiVersion));
  const must = async (kind: string, name: string, apiVersion?: string): Promise<KubeObject> => {
    const o = await get(kind, name, apiVersion);
    assert.ok(o, `${kind} ${name} exists`);
    return o;
  };
  const createCanary = async (manifest: KubeObject, status: Record<string, unknown> = {}): Promise<Canary> => {
    const created = await kube.create(manifest);
    return { ...parseCanary(created), status: { ...parseCanary(created).status, ...status } };
  };

  before(async () => {
    cluster = await startLocalCluster({ readyDelayMs: 400 });
    cluster.applyObjects(readManifests(join(process.cwd(), 'crds')));
    kube = new ClientNodeKubeApi(kubeConfigForUrl(cluster.url));
    workloads = createWorkloads({ kube, clock });
  });
  after(async () => cluster.close());

  describe('a podinfo Deployment', () => {
    let canary: Canary;
    before(async () => {
      await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'podinfo-config', namespace: NS, labels: { team: 'a' } }, data: { color: 'blue' } });
      await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'podinfo-init', namespace: NS }, data: { MODE: 'init' } });
      await kube.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'podinfo-static', namespace: NS, annotations: { 'flagger.app/config-tracking': 'disabled' } },
        data: { 'index.html': '<h1>hi</h1>' },
      });
      await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'podinfo-secret', namespace: NS }, type: 'Opaque', data: { TOKEN: 'czNjcjN0' } });
      await kube.create(podinfo('podinfo'));
      // A user-made apex Service: initialize must adopt it and finalize hand it back.
      await kube.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'podinfo', namespace: NS },
        spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, targetPort: 'http' }] },
      });
      canary = await createCanary(canaryManifest('podinfo', { revertOnDeletion: true }));
    });

    test('initialize creates the primary, its configs and the -primary/-canary Services; the apex waits for the primary', async () => {
      await workloads.initialize(canary);
      const primary = await must('Deployment', 'podinfo-primary');
      assert.deepEqual(at(primary, 'spec', 'selector'), { matchLabels: { app: 'podinfo-primary' } });
      assert.equal(at(primary, 'spec', 'replicas'), 2);
      assert.deepEqual(primary.metadata.labels, { app: 'podinfo-primary' });
      assert.equal(primary.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
      assert.equal(primary.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
      const pod = (...path: Array<string | number>): unknown => at(primary, 'spec', 'template', 'spec', ...path);
      assert.equal(pod('containers', 0, 'env', 0, 'valueFrom', 'configMapKeyRef', 'name'), 'podinfo-config-primary');
      assert.equal(pod('containers', 0, 'envFrom', 0, 'secretRef', 'name'), 'podinfo-secret-primary');
      assert.equal(pod('containers', 0, 'envFrom', 1, 'secretRef', 'name'), 'absent', 'a missing optional config is left alone');
      assert.equal(pod('initContainers', 0, 'envFrom', 0, 'configMapRef', 'name'), 'podinfo-init-primary');
      assert.equal(pod('volumes', 0, 'configMap', 'name'), 'podinfo-static', 'an opted-out config is shared');
      const configCopy = await must('ConfigMap', 'podinfo-config-primary');
      assert.deepEqual(configCopy.data, { color: 'blue' });
      assert.equal(configCopy.metadata.ownerReferences?.[0]?.kind, 'Canary');
      assert.deepEqual((await must('Secret', 'podinfo-secret-primary')).data, { TOKEN: 'czNjcjN0' });
      assert.equal(await get('ConfigMap', 'podinfo-static-primary'), undefined);

      const canarySvc = await must('Service', 'podinfo-canary');
      const primarySvc = await must('Service', 'podinfo-primary');
      assert.deepEqual(at(canarySvc, 'spec', 'selector'), { app: 'podinfo' });
      assert.deepEqual(at(primarySvc, 'spec', 'selector'), { app: 'podinfo-primary' });
      assert.deepEqual(
        (at(primarySvc, 'spec', 'ports') as Array<{ name: string; port: number }>).map((p) => `${p.name}:${p.port}`),
        ['http:80', 'grpc:9999'],
        'service.port first, then the discovered ports',
      );
      const readiness = await workloads.primaryReadiness(canary);
      assert.deepEqual([readiness.ready, readiness.retriable], [false, true]);
      assert.deepEqual(at(await must('Service', 'podinfo'), 'spec', 'selector'), { app: 'podinfo' }, 'no traffic moves to an unready primary');
    });

    test('once the primary is ready, initialize adopts the apex and points it at the primary', async () => {
      await eventually(async () => (await workloads.primaryReadiness(canary)).ready || undefined, 'primary ready');
      await workloads.initialize(canary);
      const apex = await must('Service', 'podinfo');
      assert.deepEqual(at(apex, 'spec', 'selector'), { app: 'podinfo-primary' });
      assert.equal(apex.metadata.annotations?.['fledge.dev/original-selector'], '{"app":"podinfo"}');
      assert.equal(apex.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
      assert.equal(apex.metadata.ownerReferences, undefined, 'an adopted Service is not garbage-collected with the Canary');
      const versions = async (): Promise<unknown[]> =>
        Promise.all(
          [['Service', 'podinfo'], ['Service', 'podinfo-primary'], ['Service', 'podinfo-canary'], ['Deployment', 'podinfo-primary'], ['ConfigMap', 'podinfo-config-primary']].map(
            async ([kind = '', name = '']) => (await must(kind, name)).metadata.resourceVersion,
          ),
        );
      const seen = await versions();
      await workloads.initialize(canary);
      assert.deepEqual(await versions(), seen, 'initialize is idempotent');
    });

    test('scaling the canary to zero and back up', async () => {
      await workloads.scaleCanaryToZero(canary);
      assert.equal(at(await must('Deployment', 'podinfo'), 'spec', 'replicas'), 0);
      assert.equal((await workloads.canaryReadiness(canary)).retriable, true);
      await workloads.scaleCanaryUp(canary);
      assert.equal(at(await must('Deployment', 'podinfo'), 'spec', 'replicas'), 2, 'back to the primary replicas');
      await eventually(async () => (await workloads.canaryReadiness(canary)).ready || undefined, 'canary ready');
    });

    test('the checksum is stable and changes with the template or a tracked config', async () => {
      const first = await workloads.targetChecksum(canary);
      assert.deepEqual(Object.keys(first.trackedConfigs).sort(), ['configmap/podinfo-config', 'configmap/podinfo-init', 'secret/podinfo-secret']);
      assert.deepEqual(await workloads.targetChecksum(canary), first);
      const untracked = await createWorkloads({ kube, clock, configTracking: false }).targetChecksum(canary);
      assert.deepEqual(untracked.trackedConfigs, {});
      assert.notEqual(untracked.checksum, first.checksum);
      await kube.mergePatch(ref('ConfigMap', 'podinfo-static'), { data: { 'index.html': '<h1>changed</h1>' } });
      assert.equal((await workloads.targetChecksum(canary)).checksum, first.checksum, 'an opted-out config does not count');
      await kube.mergePatch(ref('ConfigMap', 'podinfo-config'), { data: { color: 'green' } });
      const configChanged = await workloads.targetChecksum(canary);
      assert.notEqual(configChanged.checksum, first.checksum);
      assert.notEqual(configChanged.trackedConfigs['configmap/podinfo-config'], first.trackedConfigs['configmap/podinfo-config']);
      assert.equal(configChanged.trackedConfigs['secret/podinfo-secret'], first.trackedConfigs['secret/podinfo-secret']);
      await kube.mergePatch(ref('Deployment', 'podinfo'), {
        spec: { template: { spec: { containers: [{ ...(pathOf(podinfo('podinfo'), 'spec', 'template', 'spec', 'containers', 0) as object), image: 'ghcr.io/stefanprodan/podinfo:6.1.0' }] } } },
      });
      const templateChanged = await workloads.targetChecksum(canary);
      assert.notEqual(templateChanged.checksum, configChanged.checksum);
      assert.deepEqual(templateChanged.trackedConfigs, configChanged.trackedConfigs);
    });

    test('promote copies the configs first, then the template, to the primary', async () => {
      const revision = await workloads.targetChecksum(canary);
      await workloads.promote(canary);
      const primary = await must('Deployment', 'podinfo-primary');
      assert.equal(at(primary, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'ghcr.io/stefanprodan/podinfo:6.1.0');
      assert.equal(at(primary, 'spec', 'template', 'metadata', 'annotations', 'flagger-id'), revision.checksum);
      assert.equal(at(primary, 'spec', 'template', 'spec', 'containers', 0, 'env', 0, 'valueFrom', 'configMapKeyRef', 'name'), 'podinfo-config-primary');
      assert.deepEqual((await must('ConfigMap', 'podinfo-config-primary')).data, { color: 'green' });
      assert.deepEqual(at(primary, 'spec', 'selector'), { matchLabels: { app: 'podinfo-primary' } });
      await eventually(async () => (await workloads.primaryReadiness(canary)).ready || undefined, 'promoted primary ready');
    });

    test('a never-ready canary waits until the canary deadline, then fails for good', async () => {
      const waiting: Canary = { ...canary, status: { ...canary.status, lastTransitionTime: new Date(T0).toISOString() } };
      now = T0 + 10_000;
      await kube.mergePatch(ref('Deployment', 'podinfo'), {
        spec: { template: { metadata: { annotations: { 'localcluster.fledge.dev/never-ready': 'true' } } } },
      });
      const stuck = await eventually(async () => {
        const r = await workloads.canaryReadiness(waiting);
        return /0 of 2/.test(r.message) && r;
      }, 'the never-ready rollout to settle');
      assert.deepEqual([stuck.ready, stuck.retriable], [false, true]);
      now = T0 + 61_000;
      const late = await workloads.canaryReadiness(waiting);
      assert.deepEqual([late.ready, late.retriable], [false, false]);
      assert.match(late.message, /exceeded its progressDeadlineSeconds: 60/);
      // The Deployment's own deadline is final regardless of the canary's clock.
      now = T0 + 10_000;
      await kube.mergePatch(ref('Deployment', 'podinfo'), { spec: { progressDeadlineSeconds: 1 } });
      const exceeded = await eventually(async () => {
        const r = await workloads.canaryReadiness(waiting);
        return !r.retriable && r;
      }, 'ProgressDeadlineExceeded');
      assert.match(exceeded.message, /exceeded its progress deadline/);
    });

    test('finalize restores the target, hands the apex back and deletes the primary objects', async () => {
      await kube.mergePatch(ref('Deployment', 'podinfo'), {
        spec: { progressDeadlineSeconds: 600, template: { metadata: { annotations: { 'localcluster.fledge.dev/never-ready': null } } } },
      });
      await workloads.scaleCanaryToZero(canary);
      const progress = await eventually(async () => {
        const p = await workloads.finalize(canary);
        return p.done && p;
      }, 'finalize done');
      assert.match(progress.message, /restored/);
      assert.equal(at(await must('Deployment', 'podinfo'), 'spec', 'replicas'), 2);
      const apex = await must('Service', 'podinfo');
      assert.deepEqual(at(apex, 'spec', 'selector'), { app: 'podinfo' });
      assert.equal(apex.metadata.annotations?.['fledge.dev/original-selector'], undefined);
      assert.equal(apex.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], undefined);
      for (const [kind, name] of [
        ['Deployment', 'podinfo-primary'],
        ['Service', 'podinfo-primary'],
        ['Service', 'podinfo-canary'],
        ['ConfigMap', 'podinfo-config-primary'],
        ['Secret', 'podinfo-secret-primary'],
      ] as const) {
        assert.equal(await get(kind, name), undefined, `${kind} ${name} deleted`);
      }
      assert.ok(await get('ConfigMap', 'podinfo-config'), 'the target configs stay');
    });
  });

  test('an HPA gets a -primary copy on the primary, and the canary scales up to its floor', async () => {
    for (const name of ['web-config', 'web-init', 'web-static']) {
      await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { k: 'v' } });
    }
    await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret', namespace: NS }, data: {} });
    await kube.create(podinfo('web'));
    await kube.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: NS },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 6 },
    });
    const canary = await createCanary(
      canaryManifest('web', {
        autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'web', primaryScalerReplicas: { maxReplicas: 10 } },
      }),
    );
    await workloads.initialize(canary);
    const hpa = await must('HorizontalPodAutoscaler', 'web-primary', 'autoscaling/v2');
    assert.deepEqual(at(hpa, 'spec', 'scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-primary' });
    assert.deepEqual([at(hpa, 'spec', 'minReplicas'), at(hpa, 'spec', 'maxReplicas')], [3, 10]);
    await workloads.scaleCanaryToZero(canary);
    await workloads.scaleCanaryUp(canary);
    assert.equal(at(await must('Deployment', 'web'), 'spec', 'replicas'), 3, "the HPA's minReplicas");
    await kube.mergePatch(ref('HorizontalPodAutoscaler', 'web', 'autoscaling/v2'), { spec: { minReplicas: 4 } });
    await workloads.promote(canary);
    assert.equal(at(await must('HorizontalPodAutoscaler', 'web-primary', 'autoscaling/v2'), 'spec', 'minReplicas'), 4);
  });

  test('a KEDA ScaledObject gets a -primary copy and is paused while the canary is scaled to zero', async () => {
    cluster.applyObjects([
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'scaledobjects.keda.sh' },
        spec: {
          group: 'keda.sh',
          scope: 'Namespaced',
          names: { kind: 'ScaledObject', plural: 'scaledobjects', singular: 'scaledobject', listKind: 'ScaledObjectList' },
          versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
        },
      },
    ]);
    for (const name of ['queue-config', 'queue-init', 'queue-static']) {
      await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { k: 'v' } });
    }
    await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'queue-secret', namespace: NS }, data: {} });
    await kube.create(podinfo('queue'));
    const soRef = ref('ScaledObject', 'queue-so', 'keda.sh/v1alpha1');
    await eventually(async () => {
      try {
        return await kube.create({
          apiVersion: 'keda.sh/v1alpha1',
          kind: 'ScaledObject',
          metadata: { name: 'queue-so', namespace: NS },
          spec: {
            scaleTargetRef: { name: 'queue' },
            minReplicaCount: 4,
            maxReplicaCount: 8,
            triggers: [{ type: 'prometheus', name: 'rps', metadata: { query: 'sum(rate(http_requests_total{app="queue"}[1m]))', threshold: '10' } }],
          },
        });
      } catch {
        return undefined;
      }
    }, 'the ScaledObject kind to be served');
    const canary = await createCanary(
      canaryManifest('queue', { autoscalerRef: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'queue-so', primaryScalerReplicas: { minReplicas: 3 } } }),
    );
    await workloads.initialize(canary);
    const primarySo = await kube.get({ ...soRef, name: 'queue-so-primary' });
    assert.deepEqual(at(primarySo, 'spec', 'scaleTargetRef'), { name: 'queue-primary' });
    assert.equal(at(primarySo, 'spec', 'triggers', 0, 'metadata', 'query'), 'sum(rate(http_requests_total{app="queue-primary"}[1m]))');
    assert.equal(at(primarySo, 'spec', 'minReplicaCount'), 3);
    await workloads.scaleCanaryToZero(canary);
    assert.equal((await kube.get(soRef))?.metadata.annotations?.['autoscaling.keda.sh/paused-replicas'], '0');
    assert.equal((await kube.get({ ...soRef, name: 'queue-so-primary' }))?.metadata.annotations?.['autoscaling.keda.sh/paused-replicas'], undefined);
    await workloads.scaleCanaryUp(canary);
    assert.equal((await kube.get(soRef))?.metadata.annotations?.['autoscaling.keda.sh/paused-replicas'], undefined);
    assert.equal(at(await must('Deployment', 'queue'), 'spec', 'replicas'), 4, "the ScaledObject's minReplicaCount");
  });

  test('a DaemonSet target is scaled down with a node selector that does not change its checksum', async () => {
    await kube.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: NS },
      spec: {
        selector: { matchLabels: { name: 'agent' } },
        template: { metadata: { labels: { name: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }] } },
      },
    });
    const canary = await createCanary(canaryManifest('agent', { targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent' } }));
    await workloads.initialize(canary);
    assert.deepEqual(at(await must('DaemonSet', 'agent-primary'), 'spec', 'selector'), { matchLabels: { name: 'agent-primary' } });
    assert.deepEqual(at(await must('Service', 'agent-canary'), 'spec', 'selector'), { name: 'agent' });
    await eventually(async () => (await workloads.primaryReadiness(canary)).ready || undefined, 'primary DaemonSet ready');
    const before = await workloads.targetChecksum(canary);
    await workloads.scaleCanaryToZero(canary);
    assert.equal(at(await must('DaemonSet', 'agent'), 'spec', 'template', 'spec', 'nodeSelector', 'flagger.app/scale-to-zero'), 'true');
    assert.equal((await workloads.targetChecksum(canary)).checksum, before.checksum);
    await workloads.scaleCanaryUp(canary);
    assert.equal(at(await must('DaemonSet', 'agent'), 'spec', 'template', 'spec', 'nodeSelector', 'flagger.app/scale-to-zero'), undefined);
    assert.equal((await workloads.targetChecksum(canary)).checksum, before.checksum, 'an emptied node selector is no change either');
  });

  test('a Service target gets -canary and -primary copies; promote copies its spec', async () => {
    await kube.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'backend', namespace: NS, labels: { app: 'backend' } },
      spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    const canary = await createCanary(canaryManifest('backend', { targetRef: { apiVersion: 'v1', kind: 'Service', name: 'backend' } }));
    await workloads.initialize(canary);
    assert.deepEqual(at(await must('Service', 'backend-primary'), 'spec', 'selector'), { app: 'backend' });
    assert.equal((await workloads.canaryReadiness(canary)).ready, true);
    const before = await workloads.targetChecksum(canary);
    await kube.mergePatch(ref('Service', 'backend'), { spec: { selector: { app: 'backend', version: 'v2' } } });
    assert.notEqual((await workloads.targetChecksum(canary)).checksum, before.checksum);
    await workloads.promote(canary);
    assert.deepEqual(at(await must('Service', 'backend-primary'), 'spec', 'selector'), { app: 'backend', version: 'v2' });
  });

  test('a target without an accepted selector label is rejected with the labels named', async () => {
    const bare = podinfo('bare');
    const spec = bare.spec as { selector: unknown; template: { metadata: { labels: unknown } } };
    spec.selector = { matchLabels: { component: 'bare' } };
    spec.template.metadata.labels = { component: 'bare' };
    await kube.create(bare);
    const canary = await createCanary(canaryManifest('bare'));
    await assert.rejects(workloads.initialize(canary), /deployment bare\.default spec\.selector\.matchLabels must contain one of \[app name app\.kubernetes\.io\/name\]/);
    assert.equal(await get('Deployment', 'bare-primary'), undefined);
  });
});
