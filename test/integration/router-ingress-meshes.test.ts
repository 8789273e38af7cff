/**
 * The contour, traefik, gloo and skipper routers against one local cluster over HTTP, with minimal
 * CRDs of our own (test/fixtures/crds/contour.yaml, traefik.yaml, gloo.yaml; skipper uses the
 * built-in Ingress). Every read goes back to the server: a fresh router instance must see what
 * another one wrote.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { KubeObject as ClusterObject } from '../../src/localcluster/types.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router, Routes } from '../../providers/routers/index.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const NS = 'default';
const crds = (file: string): ClusterObject[] =>
  parseAllDocuments(readFileSync(new URL(`../../../test/fixtures/crds/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS() as ClusterObject);

type Spec = Record<string, unknown>;
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });
const ORIGINAL = 'flagger.kubernetes.io/original-configuration';

/** Each router with the object that carries its split, and a user's object of that kind to adopt. */
const cases: Array<{ provider: string; ref: (name: string) => ObjectRef; userSpec: (name: string) => Spec }> = [
  {
    provider: 'contour',
    ref: (name) => ({ apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', name, namespace: NS }),
    userSpec: (name) => ({ virtualhost: { fqdn: `${name}.example.com` }, routes: [{ conditions: [{ prefix: '/' }], services: [{ name, port: 9898 }] }] }),
  },
  {
    provider: 'traefik',
    ref: (name) => ({ apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', name, namespace: NS }),
    userSpec: (name) => ({ weighted: { services: [{ name, namespace: NS, port: 9898, weight: 1 }] } }),
  },
  {
    provider: 'gloo',
    ref: (name) => ({ apiVersion: 'gateway.solo.io/v1', kind: 'RouteTable', name, namespace: NS }),
    userSpec: (name) => ({ routes: [{ routeAction: { single: { upstream: { name: `${name}-static`, namespace: NS } } } }] }),
  },
];

describe('ingress-mesh routers (contour, traefik, gloo, skipper) against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  const router = (name: string): Router => createRouter(name, { kube });

  const createCanary = async (name: string, provider: string, spec: Spec = {}): Promise<Canary> => {
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: NS },
      spec: {
        provider,
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 9898 },
        analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
        ...spec,
      },
    });
    return parseCanary(created);
  };

  /** The primary and canary Services the workloads would have made (the gloo Upstreams copy their selectors). */
  const createServices = async (name: string): Promise<void> => {
    for (const [suffix, app] of [
      ['-primary', `${name}-primary`],
      ['-canary', name],
    ]) {
      await kube.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${name}${suffix}`, namespace: NS },
        spec: { selector: { app }, ports: [{ name: 'http', port: 9898, targetPort: 9898 }] },
      });
    }
  };

  before(async () => {
    c = await startTestCluster();
    c.cluster.applyObjects([...crds('contour.yaml'), ...crds('traefik.yaml'), ...crds('gloo.yaml')]);
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    for (const [apiVersion, kind] of [
      ['projectcontour.io/v1', 'HTTPProxy'],
      ['traefik.io/v1alpha1', 'TraefikService'],
      ['gateway.solo.io/v1', 'RouteTable'],
      ['gloo.solo.io/v1', 'Upstream'],
    ] as const) {
      await eventually(async () => Array.isArray(await kube.list(apiVersion, kind, NS)), `${kind} CRD served`);
    }
  });
  after(async () => c.close());

  for (const { provider, ref } of cases) {
    test(`${provider}: reconcile creates an owned object at 100/0; 90/10 is read by a fresh router, kept by reconcile; finalize deletes`, async () => {
      const name = `${provider}-split`;
      if (provider === 'gloo') await createServices(name);
      const canary = await createCanary(name, provider);
      await router(provider).reconcile(canary);
      const created = await kube.get(ref(name));
      assert.equal(created?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
      assert.equal(created?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
      assert.deepEqual(await router(provider).getRoutes(canary), split(100, 0));

      await router(provider).setRoutes(canary, split(90, 10));
      assert.deepEqual(await router(provider).getRoutes(canary), split(90, 10));

      const before = await kube.get(ref(name));
      await router(provider).reconcile(canary);
      const after = await kube.get(ref(name));
      assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion, 'a reconcile with nothing to change writes nothing');
      assert.deepEqual(await router(provider).getRoutes(canary), split(90, 10));

      // A spec change is written around the live weights.
      const changed: Canary = { ...canary, spec: { ...canary.spec, service: { ...canary.spec.service, port: 8080 } } };
      await router(provider).reconcile(changed);
      assert.notEqual((await kube.get(ref(name)))?.metadata.resourceVersion, after?.metadata.resourceVersion);
      assert.deepEqual(await router(provider).getRoutes(changed), split(90, 10));

      await router(provider).finalize(changed);
      assert.equal(await kube.get(ref(name)), undefined);
      if (provider === 'gloo') {
        const left = (await kube.list('gloo.solo.io/v1', 'Upstream', NS)).filter((u) => u.metadata.name.includes(name));
        assert.deepEqual(left, [], 'the Upstreams of the old port and of the new one are gone');
      }
      await assert.rejects(router(provider).getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
      await assert.rejects(router(provider).setRoutes(canary, split(90, 10)), (e) => isFledgeError(e, 'NotReady'));
    });

    test(`${provider}: a user's object is adopted, and finalize restores it with revertOnDeletion`, async () => {
      const name = `${provider}-adopt`;
      if (provider === 'gloo') await createServices(name);
      const userSpec = cases.find((x) => x.provider === provider)?.userSpec(name) ?? {};
      await kube.create({ ...ref(name), metadata: { name, namespace: NS, labels: { owner: 'user' } }, spec: userSpec } as KubeObject);
      const canary = await createCanary(name, provider, { revertOnDeletion: true });
      await router(provider).reconcile(canary);
      const adopted = await kube.get(ref(name));
      assert.deepEqual(JSON.parse(adopted?.metadata.annotations?.[ORIGINAL] ?? 'null'), userSpec);
      assert.equal(adopted?.metadata.ownerReferences, undefined, 'a user object is never handed to the garbage collector');
      assert.equal(adopted?.metadata.labels?.owner, 'user');
      if (provider === 'contour') assert.deepEqual((adopted?.spec as Spec).virtualhost, { fqdn: `${name}.example.com` }, 'a root proxy stays a root');
      await router(provider).setRoutes(canary, split(60, 40));
      await router(provider).reconcile(canary);
      assert.deepEqual(await router(provider).getRoutes(canary), split(60, 40));

      await router(provider).finalize(canary);
      const restored = await kube.get(ref(name));
      assert.deepEqual(restored?.spec, userSpec);
      assert.equal(restored?.metadata.annotations?.[ORIGINAL], undefined);
      assert.equal(restored?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], undefined);
    });
  }

  test('contour: A/B routes matching requests by header, the rest to the primary', async () => {
    const match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
    const canary = await createCanary('contour-ab', 'contour', { analysis: { interval: '1m', threshold: 5, iterations: 10, match } });
    await router('contour').reconcile(canary);
    await router('contour').setRoutes(canary, split(0, 100));
    assert.deepEqual(await router('contour').getRoutes(canary), split(0, 100));
    const routes = ((await kube.get(cases[0]!.ref('contour-ab')))?.spec as { routes: Spec[] }).routes;
    assert.deepEqual(routes[0]?.conditions, [{ prefix: '/' }, { header: { name: 'x-canary', exact: 'insider' } }]);
    assert.deepEqual(routes[1]?.conditions, [{ prefix: '/' }]);
  });

  test('gloo: the Upstreams copy the Services and the upstreamRef, and finalize deletes them', async () => {
    const name = 'gloo-upstreams';
    await createServices(name);
    await kube.create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'config', namespace: NS },
      spec: { static: { hosts: [{ addr: 'example.com', port: 80 }] }, useHttp2: true },
    });
    const upstreamRef = { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', name: 'config' };
    const canary = await createCanary(name, 'gloo', { upstreamRef });
    await router('gloo').reconcile(canary);
    const upstream = (side: string) => kube.get({ apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', name: `${NS}-${name}-${side}upstream-9898`, namespace: NS });
    assert.deepEqual((await upstream('primary'))?.spec, {
      useHttp2: true,
      kube: { serviceName: `${name}-primary`, serviceNamespace: NS, servicePort: 9898, selector: { app: `${name}-primary` } },
    });
    assert.deepEqual(((await upstream('canary'))?.spec as Spec).kube, { serviceName: `${name}-canary`, serviceNamespace: NS, servicePort: 9898, selector: { app: name } });
    await router('gloo').finalize(canary);
    assert.equal(await upstream('primary'), undefined);
    assert.equal(await upstream('canary'), undefined);
    assert.notEqual(await kube.get({ apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', name: 'config', namespace: NS }), undefined);
  });

  test('gloo: Services the workloads have not made yet leave reconcile NotReady', async () => {
    const canary = await createCanary('gloo-early', 'gloo');
    await assert.rejects(router('gloo').reconcile(canary), (e) => isFledgeError(e, 'NotReady') && /gloo-early-primary/.test(e.message));
  });

  test('skipper: reconcile copies the Ingress, 90/10 is read by a fresh router and kept by reconcile; finalize deletes the copy', async () => {
    const name = 'skipper-split';
    const ingressRef = (n: string): ObjectRef => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: n, namespace: NS });
    const user: KubeObject = {
      ...ingressRef(name),
      metadata: { name, namespace: NS, annotations: { 'zalando.org/skipper-predicate': 'Method("GET")' } },
      spec: {
        ingressClassName: 'skipper',
        rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 9898 } } } }] } }],
      },
    };
    await kube.create(user);
    const userBefore = await kube.get(ingressRef(name));
    const canary = await createCanary(name, 'skipper', { ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name } });
    await router('skipper').reconcile(canary);
    const copy = await kube.get(ingressRef(`${name}-canary`));
    assert.equal(copy?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
    assert.equal(copy?.metadata.annotations?.['zalando.org/skipper-predicate'], 'False() && Method("GET")');
    type Paths = Array<{ backend: { service: { name: string } } }>;
    const backends = ((copy?.spec as { rules: Array<{ http: { paths: Paths } }> }).rules[0]?.http.paths ?? []).map((p) => p.backend.service.name);
    assert.deepEqual(backends, [`${name}-primary`, `${name}-canary`]);
    assert.deepEqual(await router('skipper').getRoutes(canary), split(100, 0));

    await router('skipper').setRoutes(canary, split(90, 10));
    assert.deepEqual(await router('skipper').getRoutes(canary), split(90, 10));
    const weighted = await kube.get(ingressRef(`${name}-canary`));
    assert.equal(weighted?.metadata.annotations?.['zalando.org/backend-weights'], `{"${name}-canary":10,"${name}-primary":90}`);
    assert.equal(weighted?.metadata.annotations?.['zalando.org/skipper-predicate'], 'Weight(100) && Method("GET")');

    await router('skipper').reconcile(canary);
    assert.equal((await kube.get(ingressRef(`${name}-canary`)))?.metadata.resourceVersion, weighted?.metadata.resourceVersion);
    assert.deepEqual(await router('skipper').getRoutes(canary), split(90, 10));
    assert.equal((await kube.get(ingressRef(name)))?.metadata.resourceVersion, userBefore?.metadata.resourceVersion, "the user's Ingress is never written");

    await router('skipper').finalize(canary);
    assert.equal(await kube.get(ingressRef(`${name}-canary`)), undefined);
    assert.notEqual(await kube.get(ingressRef(name)), undefined);
    await assert.rejects(router('skipper').getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
  });
});
