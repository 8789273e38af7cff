/**
 * The nginx router against the local cluster over HTTP (networking.k8s.io/v1 Ingress is built in).
 * Every read goes back to the server: a fresh router instance must see what another one wrote.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router } from '../../providers/routers/index.js';
import { createNginxRouter } from '../../providers/routers/nginx.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const NS = 'default';
const PREFIX = 'nginx.ingress.kubernetes.io';
const ingressRef = (name: string) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name, namespace: NS });

const userIngress = (name: string, service: string): KubeObject => ({
  ...ingressRef(name),
  metadata: { name, namespace: NS, labels: { app: service }, annotations: { [`${PREFIX}/proxy-body-size`]: '8m' } },
  spec: {
    ingressClassName: 'nginx',
    rules: [
      {
        host: `${service}.example.com`,
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] },
      },
    ],
  },
});

type Paths = Array<{ backend: { service: { name: string } } }>;
const backendOf = (ingress: KubeObject | undefined): string | undefined =>
  ((ingress?.spec as { rules?: Array<{ http: { paths: Paths } }> } | undefined)?.rules?.[0]?.http.paths[0])?.backend.service.name;

describe('nginx router against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  const router = (): Router => createRouter('nginx', { kube });

  /** Creates the Canary in the cluster (so it has a uid to own objects) and parses it. */
  const createCanary = async (name: string, analysis?: Record<string, unknown>): Promise<Canary> => {
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: NS },
      spec: {
        provider: 'nginx',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name },
        service: { port: 80, targetPort: 9898 },
        analysis: analysis ?? { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
      },
    });
    return parseCanary(created);
  };

  before(async () => {
    c = await startTestCluster();
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
  });
  after(async () => c.close());

  test('reconcile creates podinfo-canary; a split is read by a fresh router; reconcile keeps it; finalize deletes it', async () => {
    await kube.create(userIngress('podinfo', 'podinfo'));
    const canary = await createCanary('podinfo');
    await router().reconcile(canary);
    const created = await kube.get(ingressRef('podinfo-canary'));
    assert.equal(backendOf(created), 'podinfo-canary');
    assert.equal(created?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
    assert.equal(created?.metadata.annotations?.[`${PREFIX}/canary`], 'true');
    assert.equal(created?.metadata.annotations?.[`${PREFIX}/proxy-body-size`], '8m');
    assert.deepEqual(await router().getRoutes(canary), { primary: 100, canary: 0, mirrored: false });

    await router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 90, canary: 10, mirrored: false });
    assert.equal((await kube.get(ingressRef('podinfo-canary')))?.metadata.annotations?.[`${PREFIX}/canary-weight`], '10');

    const before = await kube.get(ingressRef('podinfo-canary'));
    await router().reconcile(canary);
    const unchanged = await kube.get(ingressRef('podinfo-canary'));
    assert.equal(unchanged?.metadata.resourceVersion, before?.metadata.resourceVersion, 'a reconcile with nothing to change writes nothing');

    // A change of the user's Ingress is copied, around the live weight; the user's Ingress is untouched.
    const user = await kube.get(ingressRef('podinfo'));
    await kube.replace({ ...user!, metadata: { ...user!.metadata, annotations: { [`${PREFIX}/rewrite-target`]: '/' } } });
    await router().reconcile(canary);
    const updated = await kube.get(ingressRef('podinfo-canary'));
    assert.equal(updated?.metadata.annotations?.[`${PREFIX}/rewrite-target`], '/');
    assert.equal(updated?.metadata.annotations?.[`${PREFIX}/proxy-body-size`], undefined);
    assert.deepEqual(await router().getRoutes(canary), { primary: 90, canary: 10, mirrored: false });
    assert.equal(backendOf(await kube.get(ingressRef('podinfo'))), 'podinfo');

    await router().finalize(canary);
    assert.equal(await kube.get(ingressRef('podinfo-canary')), undefined);
    assert.notEqual(await kube.get(ingressRef('podinfo')), undefined);
  });

  test('A/B: a header rule while the canary is tested, cleared when traffic returns', async () => {
    await kube.create(userIngress('abtest', 'abtest'));
    const match = [{ headers: { 'x-user-type': { exact: 'insider' } } }];
    const canary = await createCanary('abtest', { interval: '1m', threshold: 5, iterations: 10, match });
    await router().reconcile(canary);
    await router().setRoutes(canary, { primary: 0, canary: 100, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 0, canary: 100, mirrored: false });
    const annotations = (await kube.get(ingressRef('abtest-canary')))?.metadata.annotations ?? {};
    assert.equal(annotations[`${PREFIX}/canary-by-header`], 'x-user-type');
    assert.equal(annotations[`${PREFIX}/canary-by-header-value`], 'insider');
    assert.equal(annotations[`${PREFIX}/canary-weight`], '0');

    await router().reconcile(canary);
    assert.deepEqual(await router().getRoutes(canary), { primary: 0, canary: 100, mirrored: false });
    await router().setRoutes(canary, { primary: 100, canary: 0, mirrored: false });
    const cleared = (await kube.get(ingressRef('abtest-canary')))?.metadata.annotations ?? {};
    assert.equal(cleared[`${PREFIX}/canary-by-header`], undefined);
    assert.deepEqual(await router().getRoutes(canary), { primary: 100, canary: 0, mirrored: false });
  });

  test('a custom annotations prefix; the canary Ingress is garbage-collected with its Canary', async () => {
    await kube.create(userIngress('custom', 'custom'));
    const canary = await createCanary('custom');
    const custom = createNginxRouter({ kube }, { annotationsPrefix: 'example.io' });
    await custom.reconcile(canary);
    await custom.setRoutes(canary, { primary: 70, canary: 30, mirrored: false });
    const annotations = (await kube.get(ingressRef('custom-canary')))?.metadata.annotations ?? {};
    assert.equal(annotations['example.io/canary-weight'], '30');
    assert.equal(annotations[`${PREFIX}/canary-weight`], undefined);
    assert.deepEqual(await createNginxRouter({ kube }, { annotationsPrefix: 'example.io' }).getRoutes(canary), {
      primary: 70,
      canary: 30,
      mirrored: false,
    });
    await kube.delete({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'custom', namespace: NS });
    await eventually(async () => (await kube.get(ingressRef('custom-canary'))) === undefined, 'canary Ingress garbage-collected');
  });

  test('a missing Ingress is NotReady; routes before reconcile are NotReady', async () => {
    const canary = await createCanary('early');
    await assert.rejects(router().reconcile(canary), (e) => isFledgeError(e, 'NotReady') && /early/.test(e.message));
    await assert.rejects(router().getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
    await assert.rejects(router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false }), (e) => isFledgeError(e, 'NotReady'));
  });
});
