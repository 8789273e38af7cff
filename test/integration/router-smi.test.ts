/**
 * The SMI routers against the local cluster over HTTP, with a TrafficSplit CRD of our own
 * (test/fixtures/crds/smi.yaml). Every read goes back to the server: a fresh router instance must see
 * what another one wrote.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { KubeObject as ClusterObject } from '../../src/localcluster/types.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router } from '../../providers/routers/index.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const NS = 'default';
const smiCrds = (): ClusterObject[] =>
  parseAllDocuments(readFileSync(new URL('../../../test/fixtures/crds/smi.yaml', import.meta.url), 'utf8')).map(
    (d) => d.toJS() as ClusterObject,
  );
const tsRef = (version: string, name: string) => ({ apiVersion: `split.smi-spec.io/${version}`, kind: 'TrafficSplit', name, namespace: NS });

describe('SMI routers against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  const router = (name: string): Router => createRouter(name, { kube });

  const createCanary = async (name: string, provider: string): Promise<Canary> => {
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: NS },
      spec: {
        provider,
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 9898 },
        analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
      },
    });
    return parseCanary(created);
  };

  before(async () => {
    c = await startTestCluster();
    c.cluster.applyObjects(smiCrds());
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    for (const version of ['v1alpha1', 'v1alpha2', 'v1alpha3']) {
      await eventually(async () => Array.isArray(await kube.list(`split.smi-spec.io/${version}`, 'TrafficSplit', NS)), `${version} served`);
    }
  });
  after(async () => c.close());

  const cases: Array<{ provider: string; version: string; weight: (n: number) => unknown }> = [
    { provider: 'linkerd', version: 'v1alpha1', weight: String },
    { provider: 'osm', version: 'v1alpha2', weight: (n) => n },
    { provider: 'smi:v1alpha3', version: 'v1alpha3', weight: (n) => n },
  ];

  for (const { provider, version, weight } of cases) {
    const name = `split-${version}`;
    test(`${provider}: reconcile, setRoutes 90/10, a fresh router reads it, reconcile keeps it`, async () => {
      const canary = await createCanary(name, provider);
      await router(provider).reconcile(canary);
      const created = await kube.get(tsRef(version, name));
      assert.equal(created?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
      assert.equal(created?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
      assert.deepEqual(await router(provider).getRoutes(canary), { primary: 100, canary: 0, mirrored: false });

      await router(provider).setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
      assert.deepEqual(await router(provider).getRoutes(canary), { primary: 90, canary: 10, mirrored: false });
      const split = await kube.get(tsRef(version, name));
      assert.deepEqual((split?.spec as { backends: unknown }).backends, [
        { service: `${name}-canary`, weight: weight(10) },
        { service: `${name}-primary`, weight: weight(90) },
      ]);

      await router(provider).reconcile(canary);
      const after = await kube.get(tsRef(version, name));
      assert.equal(after?.metadata.resourceVersion, split?.metadata.resourceVersion, 'a reconcile with nothing to change writes nothing');
      assert.deepEqual(await router(provider).getRoutes(canary), { primary: 90, canary: 10, mirrored: false });

      // A changed service is written around the live weights.
      const hosted: Canary = { ...canary, spec: { ...canary.spec, service: { ...canary.spec.service, hosts: [`${name}.${NS}.svc.cluster.local`] } } };
      await router(provider).reconcile(hosted);
      const rewritten = await kube.get(tsRef(version, name));
      assert.equal((rewritten?.spec as { service: string }).service, `${name}.${NS}.svc.cluster.local`);
      assert.deepEqual(await router(provider).getRoutes(hosted), { primary: 90, canary: 10, mirrored: false });

      await router(provider).finalize(canary);
      assert.equal(await kube.get(tsRef(version, name)), undefined);
    });
  }

  test('a user TrafficSplit is adopted without owners, its relative weights kept, and left alone on finalize', async () => {
    await kube.create({
      ...tsRef('v1alpha1', 'users'),
      metadata: { name: 'users', namespace: NS, labels: { owner: 'me' } },
      spec: { service: 'users', backends: [{ service: 'users-primary', weight: '500m' }, { service: 'users-canary', weight: '500m' }] },
    });
    const canary = await createCanary('users', 'smi:v1alpha1');
    await router('smi:v1alpha1').reconcile(canary);
    const adopted = await kube.get(tsRef('v1alpha1', 'users'));
    assert.equal(adopted?.metadata.ownerReferences, undefined);
    assert.equal(adopted?.metadata.labels?.owner, 'me');
    assert.deepEqual(await router('smi:v1alpha1').getRoutes(canary), { primary: 50, canary: 50, mirrored: false });
    await router('smi:v1alpha1').finalize(canary);
    assert.notEqual(await kube.get(tsRef('v1alpha1', 'users')), undefined);
  });

  test('routes of a canary that was never reconciled are NotReady', async () => {
    const canary = await createCanary('early', 'linkerd');
    await assert.rejects(router('linkerd').getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
    await assert.rejects(router('linkerd').setRoutes(canary, { primary: 90, canary: 10, mirrored: false }), (e) => isFledgeError(e, 'NotReady'));
  });
});
