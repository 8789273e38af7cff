/** The local cluster judged by @kubernetes/client-node: informers, dropped watches, conflicts, validation. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const kubeConfigFor = (server: string): k8s.KubeConfig => {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server, skipTLSVerify: true }],
    users: [{ name: 'local', token: 'test' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'local' }],
    currentContext: 'local',
  });
  return kc;
};

describe('@kubernetes/client-node against the local cluster', () => {
  let c: TestCluster;
  let kc: k8s.KubeConfig;
  before(async () => {
    c = await startTestCluster();
    kc = kubeConfigFor(c.cluster.url);
  });
  after(async () => c.close());

  test('an informer sees add, update and delete, and recovers when the server drops the watch', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name}:${o.data?.v ?? ''}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.v ?? ''}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    let stopped = false;
    let restart: NodeJS.Timeout | undefined;
    informer.on('error', () => {
      // After an error the informer stops; start() it again, as client-node's docs advise.
      if (!stopped) restart = setTimeout(() => void informer.start().catch(() => undefined), 100);
    });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'inf' }, data: { v: '1' } } });
      await eventually(() => seen.includes('add:inf:1'), 'add event');
      await core.patchNamespacedConfigMap(
        { namespace: 'default', name: 'inf', body: { data: { v: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await eventually(() => seen.includes('update:inf:2'), 'update event');

      assert.ok(c.cluster.dropWatches() >= 1, 'the informer had a watch open');
      await core.patchNamespacedConfigMap(
        { namespace: 'default', name: 'inf', body: { data: { v: '3' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await eventually(() => seen.includes('update:inf:3'), 'update after the dropped watch');
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'inf' });
      await eventually(() => seen.includes('delete:inf'), 'delete event');
      assert.equal(informer.list('default').filter((o) => o.metadata?.name === 'inf').length, 0);
    } finally {
      stopped = true;
      clearTimeout(restart);
      await informer.stop();
    }
  });

  test('two writers with the same resourceVersion: the second gets 409', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'race' }, data: { v: '0' } } });
    const a = { ...created, data: { v: 'a' } };
    const b = { ...created, data: { v: 'b' } };
    await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'race', body: a });
    await assert.rejects(
      core.replaceNamespacedConfigMap({ namespace: 'default', name: 'race', body: b }),
      (e: unknown) => (e as { code?: number }).code === 409 && /the object has been modified/.test(String((e as { body?: unknown }).body)),
    );
    const now = await core.readNamespacedConfigMap({ namespace: 'default', name: 'race' });
    assert.equal(now.data?.v, 'a');
  });

  test('a Canary with stepWeight 200 is refused with 422 naming the field, and nothing is stored', async () => {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const canary = {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'too-far', namespace: 'default' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        service: { port: 9898 },
        analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 200 },
      },
    };
    await assert.rejects(
      custom.createNamespacedCustomObject({ group: 'flagger.app', version: 'v1beta1', namespace: 'default', plural: 'canaries', body: canary }),
      (e: unknown) => (e as { code?: number }).code === 422 && /spec\.analysis\.stepWeight/.test(String((e as { body?: unknown }).body)),
    );
    const list = (await custom.listNamespacedCustomObject({ group: 'flagger.app', version: 'v1beta1', namespace: 'default', plural: 'canaries' })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    assert.ok(!list.items.some((i) => i.metadata.name === 'too-far'));
  });

  test('a watch from a compacted resourceVersion answers 410 Expired', async () => {
    const small = await startTestCluster({ historySize: 5, crds: false });
    try {
      const skc = kubeConfigFor(small.cluster.url);
      const core = skc.makeApiClient(k8s.CoreV1Api);
      for (let i = 0; i < 12; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm${i}` } } });
      const res = await fetch(`${small.cluster.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1`);
      const text = await res.text();
      const first = JSON.parse(text.split('\n')[0] ?? '{}') as { type: string; object: { code: number; reason: string } };
      assert.equal(first.type, 'ERROR');
      assert.equal(first.object.code, 410);
      assert.equal(first.object.reason, 'Expired');
    } finally {
      await small.close();
    }
  });
});
