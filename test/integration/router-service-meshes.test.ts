/**
 * The kuma, apisix, appmesh and knative routers against one local cluster over HTTP, with minimal CRDs
 * of our own (test/fixtures/crds/{kuma,apisix,appmesh,knative}.yaml). Every read goes back to the
 * server: a fresh router instance must see what another one wrote, and a second reconcile must keep
 * the split. No mesh controller runs: tests play its part where it matters (App Mesh's meshRef,
 * Knative's revision status).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { KubeApiError } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { KubeObject as ClusterObject } from '../../src/localcluster/types.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router, Routes } from '../../providers/routers/index.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const NS = 'default';
const OWNER_UID_MISSING = 'no owner';
const crds = (name: string): ClusterObject[] =>
  parseAllDocuments(readFileSync(new URL(`../../../test/fixtures/crds/${name}.yaml`, import.meta.url), 'utf8')).map((d) => d.toJS() as ClusterObject);
const routerFixture = (name: string): KubeObject =>
  parseYaml(readFileSync(new URL(`../../../test/fixtures/routers/${name}`, import.meta.url), 'utf8')) as KubeObject;

type Spec = Record<string, unknown>;
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });

/**
 * A KubeApi over plain HTTP with JSON as sent, for Knative Services: @kubernetes/client-node picks its
 * model by version and kind only, so it (de)serializes a serving.knative.dev/v1 Service as a core
 * V1Service and drops spec.traffic and the revision status (reported to the lead; src/kube/client.ts).
 */
const rawKube = (server: string): KubeApi => {
  const plurals = new Map<string, { name: string; namespaced: boolean }>();
  const resource = async (apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean }> => {
    const key = `${apiVersion}/${kind}`;
    const known = plurals.get(key);
    if (known) return known;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = (await (await fetch(`${server}${base}`)).json()) as { resources: Array<{ name: string; kind: string; namespaced: boolean }> };
    const found = list.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!found) throw new Error(`no resource for ${key}`);
    plurals.set(key, found);
    return found;
  };
  const url = async (ref: { apiVersion: string; kind: string; name?: string; namespace?: string }, sub = ''): Promise<string> => {
    const r = await resource(ref.apiVersion, ref.kind);
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const ns = r.namespaced ? `/namespaces/${ref.namespace ?? NS}` : '';
    return `${server}${base}${ns}/${r.name}${ref.name ? `/${ref.name}` : ''}${sub}`;
  };
  const call = async (method: string, target: string, body?: unknown, type = 'application/json'): Promise<KubeObject | undefined> => {
    const res = await fetch(target, { method, headers: { 'Content-Type': type }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (res.status === 404 && method === 'GET') return undefined;
    const json = (await res.json()) as KubeObject & { message?: string };
    if (!res.ok) throw new KubeApiError(res.status, json.message ?? res.statusText);
    return json;
  };
  const must = (o: KubeObject | undefined): KubeObject => {
    if (!o) throw new Error('empty response');
    return o;
  };
  const merge = 'application/merge-patch+json';
  return {
    get: async (ref) => call('GET', await url(ref)),
    list: async (apiVersion, kind, namespace) => ((await call('GET', await url({ apiVersion, kind, namespace }))) as unknown as { items: KubeObject[] }).items,
    create: async (obj) => must(await call('POST', await url({ ...obj, name: undefined, namespace: obj.metadata.namespace }), obj)),
    replace: async (obj) => must(await call('PUT', await url({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace }), obj)),
    mergePatch: async (ref, patch) => must(await call('PATCH', await url(ref), patch, merge)),
    patchStatus: async (ref, status) => must(await call('PATCH', await url(ref, '/status'), { status }, merge)),
    apply: () => Promise.reject(new Error('not used by routers')),
    delete: async (ref) => void (await call('DELETE', await url(ref))),
  };
};
const specOf = (o: KubeObject | undefined): Spec => (o?.spec ?? {}) as Spec;

describe('service-mesh routers against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  /** A new router for every call: nothing may be remembered between calls. */
  const router = (name: string): Router => createRouter(name, { kube });

  const createCanary = async (name: string, spec: Spec, meta: { namespace?: string; annotations?: Record<string, string> } = {}): Promise<Canary> => {
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: meta.namespace ?? NS, ...(meta.annotations ? { annotations: meta.annotations } : {}) },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 9898 },
        analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
        ...spec,
      },
    });
    return parseCanary(created);
  };

  /** A second reconcile writes nothing and keeps the split a fresh router reads. */
  const reconcileKeeps = async (name: string, canary: Canary, ref: ObjectRef, routes: Routes, api: KubeApi = kube): Promise<void> => {
    const before = await api.get(ref);
    await createRouter(name, { kube: api }).reconcile(canary);
    const after = await api.get(ref);
    assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion, `${name}: a reconcile with nothing to change writes nothing`);
    assert.deepEqual(await createRouter(name, { kube: api }).getRoutes(canary), routes);
  };

  before(async () => {
    c = await startTestCluster();
    c.cluster.applyObjects(['kuma', 'apisix', 'appmesh', 'knative'].flatMap(crds));
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    const served: Array<[string, string, string?]> = [
      ['kuma.io/v1alpha1', 'TrafficRoute'],
      ['apisix.apache.org/v2', 'ApisixRoute', NS],
      ['appmesh.k8s.aws/v1beta2', 'VirtualRouter', NS],
      ['serving.knative.dev/v1', 'Service', NS],
    ];
    for (const [apiVersion, kind, ns] of served) await eventually(async () => Array.isArray(await kube.list(apiVersion, kind, ns)), `${kind} served`);
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  });
  after(async () => c.close());

  describe('kuma', () => {
    const trRef = (name: string): ObjectRef => ({ apiVersion: 'kuma.io/v1alpha1', kind: 'TrafficRoute', name });

    test('reconcile creates a cluster-scoped TrafficRoute at 100/0; 90/10 is read by a fresh router and kept by reconcile', async () => {
      const canary = await createCanary('kapp', { provider: 'kuma' });
      await router('kuma').reconcile(canary);
      const created = await kube.get(trRef('kapp'));
      assert.equal(created?.metadata.namespace, undefined);
      assert.equal(created?.mesh, 'default');
      assert.equal(created?.metadata.ownerReferences?.[0]?.uid ?? OWNER_UID_MISSING, canary.metadata.uid);
      assert.equal(created?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
      assert.deepEqual(specOf(created).destinations, [{ match: { 'kuma.io/service': 'kapp_default_svc_9898' } }]);
      assert.deepEqual(await router('kuma').getRoutes(canary), split(100, 0));

      await router('kuma').setRoutes(canary, split(90, 10));
      assert.deepEqual(await router('kuma').getRoutes(canary), split(90, 10));
      await reconcileKeeps('kuma', canary, trRef('kapp'), split(90, 10));

      // A new mesh is written around the live weights.
      const moved = { ...canary, metadata: { ...canary.metadata, annotations: { 'kuma.io/mesh': 'payments' } } };
      await router('kuma').reconcile(moved);
      assert.equal((await kube.get(trRef('kapp')))?.mesh, 'payments');
      assert.deepEqual(await router('kuma').getRoutes(moved), split(90, 10));

      await router('kuma').finalize(canary);
      assert.equal(await kube.get(trRef('kapp')), undefined);
    });

    test('a canary with the same Service name in another namespace is refused, not given the route', async () => {
      const first = await createCanary('shared', { provider: 'kuma' });
      await router('kuma').reconcile(first);
      await router('kuma').setRoutes(first, split(70, 30));
      const second = await createCanary('shared', { provider: 'kuma' }, { namespace: 'other' });
      await assert.rejects(router('kuma').reconcile(second), (e) => isFledgeError(e, 'InvalidSpec') && /already routes Canary "shared"/.test(e.message));
      await router('kuma').finalize(second);
      assert.deepEqual(await router('kuma').getRoutes(first), split(70, 30), 'the other canary neither took nor deleted the route');
    });

    test('a user TrafficRoute is adopted without owners and given back by finalize with revertOnDeletion', async () => {
      const userSpec = { sources: [{ match: { 'kuma.io/service': '*' } }], destinations: [{ match: { 'kuma.io/service': 'users_default_svc_9898' } }], conf: { destination: { 'kuma.io/service': 'users_default_svc_9898' } } };
      await kube.create({ ...trRef('users'), mesh: 'default', metadata: { name: 'users', labels: { owner: 'me' } }, spec: userSpec });
      const canary = await createCanary('users', { provider: 'kuma', revertOnDeletion: true });
      await router('kuma').reconcile(canary);
      const adopted = await kube.get(trRef('users'));
      assert.equal(adopted?.metadata.ownerReferences, undefined);
      assert.equal(adopted?.metadata.labels?.owner, 'me');
      assert.deepEqual(await router('kuma').getRoutes(canary), split(100, 0));
      await router('kuma').finalize(canary);
      const restored = await kube.get(trRef('users'));
      assert.deepEqual(restored?.spec, userSpec);
      assert.equal(restored?.metadata.annotations?.['flagger.kubernetes.io/original-configuration'], undefined);
      assert.equal(restored?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], undefined);
    });
  });

  describe('apisix', () => {
    const arRef = (name: string): ObjectRef => ({ apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name, namespace: NS });

    test('reconcile copies the user route at 100/0; 90/10 is read by a fresh router and kept when the user route changes', async () => {
      const user = routerFixture('apisixroute-podinfo.yaml');
      user.metadata = { name: 'web-route', namespace: NS, labels: { app: 'web' } };
      const http = specOf(user).http as Array<{ backends: Spec[] }>;
      for (const b of http[1]?.backends ?? []) b.serviceName = 'web';
      await kube.create(user);
      const canary = await createCanary('web', {
        provider: 'apisix',
        routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'web-route' },
        service: { port: 80, targetPort: 9898 },
      });
      await router('apisix').reconcile(canary);
      const copy = await kube.get(arRef('web-route-web-canary'));
      assert.equal(copy?.metadata.ownerReferences?.[0]?.uid ?? OWNER_UID_MISSING, canary.metadata.uid);
      assert.deepEqual(((specOf(copy).http as Spec[])[0]?.backends as Spec[]).map((b) => [b.serviceName, b.weight]), [
        ['web-primary', 100],
        ['web-canary', 0],
      ]);
      assert.deepEqual(await router('apisix').getRoutes(canary), split(100, 0));

      await router('apisix').setRoutes(canary, split(90, 10));
      assert.deepEqual(await router('apisix').getRoutes(canary), split(90, 10));
      await reconcileKeeps('apisix', canary, arRef('web-route-web-canary'), split(90, 10));

      const live = await kube.get(arRef('web-route'));
      const rules = structuredClone(specOf(live).http) as Array<{ match: { hosts: string[] } }>;
      rules[1]?.match.hosts.push('www.example.com');
      await kube.mergePatch(arRef('web-route'), { spec: { http: rules } });
      await router('apisix').reconcile(canary);
      const updated = await kube.get(arRef('web-route-web-canary'));
      assert.deepEqual(((specOf(updated).http as Spec[])[0]?.match as Spec).hosts, ['app.example.com', 'www.example.com']);
      assert.deepEqual(await router('apisix').getRoutes(canary), split(90, 10));

      await router('apisix').finalize(canary);
      assert.equal(await kube.get(arRef('web-route-web-canary')), undefined);
      assert.notEqual(await kube.get(arRef('web-route')), undefined, 'the user route stays');
    });

    test('a missing user route is NotReady; routes of a canary never reconciled are NotReady', async () => {
      const canary = await createCanary('lost', { provider: 'apisix', routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'nowhere' } });
      await assert.rejects(router('apisix').reconcile(canary), (e) => isFledgeError(e, 'NotReady') && /nowhere not found/.test(e.message));
      await assert.rejects(router('apisix').getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
    });
  });

  describe('appmesh', () => {
    const meshRef = (kind: string, name: string): ObjectRef => ({ apiVersion: 'appmesh.k8s.aws/v1beta2', kind, name, namespace: NS });
    /** The primary and canary Services src/workloads would have created. */
    const createServices = async (name: string): Promise<void> => {
      for (const [suffix, pods] of [['-primary', `${name}-primary`], ['-canary', name]]) {
        await kube.create({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: `${name}${suffix}`, namespace: NS },
          spec: { selector: { app: pods }, ports: [{ name: 'http', port: 9898, targetPort: 9898 }] },
        });
      }
    };

    test('reconcile creates nodes, routers and services; 90/10 is read by a fresh router and kept with the controller meshRef', async () => {
      await createServices('mapp');
      const canary = await createCanary('mapp', { provider: 'appmesh:v1beta2' });
      await router('appmesh:v1beta2').reconcile(canary);
      for (const [kind, name] of [['VirtualNode', 'mapp-primary'], ['VirtualNode', 'mapp-canary'], ['VirtualRouter', 'mapp'], ['VirtualRouter', 'mapp-canary'], ['VirtualService', 'mapp'], ['VirtualService', 'mapp-canary']] as const) {
        const obj = await kube.get(meshRef(kind, name));
        assert.equal(obj?.metadata.ownerReferences?.[0]?.uid ?? OWNER_UID_MISSING, canary.metadata.uid, `${kind} ${name}`);
      }
      assert.deepEqual(specOf(await kube.get(meshRef('VirtualNode', 'mapp-primary'))).podSelector, { matchLabels: { app: 'mapp-primary' } });
      assert.deepEqual(await router('appmesh').getRoutes(canary), split(100, 0));

      await router('appmesh:v1beta2').setRoutes(canary, split(90, 10));
      assert.deepEqual(await router('appmesh').getRoutes(canary), split(90, 10));
      await reconcileKeeps('appmesh:v1beta2', canary, meshRef('VirtualRouter', 'mapp'), split(90, 10));

      // The App Mesh webhook fills in spec.meshRef; a reconcile with a new timeout keeps it and the split.
      await kube.mergePatch(meshRef('VirtualRouter', 'mapp'), { spec: { meshRef: { name: 'global', uid: 'mesh-uid' } } });
      const slower: Canary = { ...canary, spec: { ...canary.spec, service: { ...canary.spec.service, timeout: '20s' } } };
      await router('appmesh:v1beta2').reconcile(slower);
      const updated = specOf(await kube.get(meshRef('VirtualRouter', 'mapp')));
      assert.deepEqual(updated.meshRef, { name: 'global', uid: 'mesh-uid' });
      assert.deepEqual(((updated.routes as Spec[])[0]?.httpRoute as Spec).timeout, { perRequest: { unit: 'ms', value: 20000 } });
      assert.deepEqual(await router('appmesh').getRoutes(slower), split(90, 10));

      await router('appmesh').finalize(canary);
      for (const kind of ['VirtualService', 'VirtualRouter', 'VirtualNode']) assert.deepEqual(await kube.list('appmesh.k8s.aws/v1beta2', kind, NS), [], kind);
    });

    test('A/B: matching requests go to the canary through route -a, the rest to the primary through route -b', async () => {
      await createServices('mab');
      const match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
      const canary = await createCanary('mab', { provider: 'appmesh', analysis: { interval: '1m', threshold: 5, iterations: 10, match } });
      await router('appmesh').reconcile(canary);
      await router('appmesh').setRoutes(canary, split(0, 100));
      assert.deepEqual(await router('appmesh').getRoutes(canary), split(0, 100));
      const routes = specOf(await kube.get(meshRef('VirtualRouter', 'mab'))).routes as Array<{ name: string; priority: number }>;
      assert.deepEqual(routes.map((r) => [r.name, r.priority]), [['mab-a', 10], ['mab-b', 20]]);
      await reconcileKeeps('appmesh', canary, meshRef('VirtualRouter', 'mab'), split(0, 100));
    });

    test('a user VirtualService is adopted and given back with revertOnDeletion; nodes need the Services', async () => {
      const userSpec = { provider: { virtualNode: { virtualNodeRef: { name: 'legacy' } } } };
      await kube.create({ ...meshRef('VirtualService', 'mold'), metadata: { name: 'mold', namespace: NS }, spec: userSpec });
      const canary = await createCanary('mold', { provider: 'appmesh', revertOnDeletion: true });
      await assert.rejects(router('appmesh').reconcile(canary), (e) => isFledgeError(e, 'NotReady') && /mold-primary not found/.test(e.message));
      await createServices('mold');
      await router('appmesh').reconcile(canary);
      const adopted = await kube.get(meshRef('VirtualService', 'mold'));
      assert.equal(adopted?.metadata.ownerReferences, undefined);
      assert.deepEqual(adopted?.spec, { provider: { virtualRouter: { virtualRouterRef: { name: 'mold' } } } });
      await router('appmesh').finalize(canary);
      assert.deepEqual((await kube.get(meshRef('VirtualService', 'mold')))?.spec, userSpec);
      assert.equal(await kube.get(meshRef('VirtualRouter', 'mold')), undefined);
    });
  });

  describe('knative', () => {
    let raw: KubeApi;
    before(() => {
      raw = rawKube(c.cluster.url);
    });
    const knRouter = (): Router => createRouter('knative', { kube: raw });
    const ksvcRef = (name: string): ObjectRef => ({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', name, namespace: NS });
    /** A Knative Service whose status says which revisions exist, as Knative would report them. */
    const createKnativeService = async (name: string, ready?: string): Promise<void> => {
      const service = routerFixture('knative-service-podinfo.yaml');
      await raw.create({ ...service, metadata: { name, namespace: NS }, status: undefined });
      if (ready) await raw.patchStatus(ksvcRef(name), { latestCreatedRevisionName: ready, latestReadyRevisionName: ready });
    };
    const knativeCanary = (name: string, extra: Spec = {}): Promise<Canary> =>
      createCanary(name, { provider: 'knative', targetRef: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name }, ...extra });

    test('reconcile pins the ready revision at 100/0; 90/10 is read by a fresh router and kept across new revisions', async () => {
      await createKnativeService('kn', 'kn-00001');
      const canary = await knativeCanary('kn');
      await knRouter().reconcile(canary);
      const adopted = await raw.get(ksvcRef('kn'));
      assert.equal(adopted?.metadata.annotations?.['flagger.app/primary-revision'], 'kn-00001');
      assert.deepEqual(specOf(adopted).traffic, [{ latestRevision: true, percent: 0 }, { revisionName: 'kn-00001', percent: 100 }]);
      assert.equal(adopted?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], undefined, 'the target stays deliverable by Flux');
      assert.deepEqual(await knRouter().getRoutes(canary), split(100, 0));

      await knRouter().setRoutes(canary, split(90, 10));
      assert.deepEqual(await knRouter().getRoutes(canary), split(90, 10));
      await reconcileKeeps('knative', canary, ksvcRef('kn'), split(90, 10), raw);

      // A new revision neither moves the primary nor resets the split.
      await raw.patchStatus(ksvcRef('kn'), { latestCreatedRevisionName: 'kn-00002', latestReadyRevisionName: 'kn-00002' });
      await knRouter().reconcile(canary);
      assert.equal((await raw.get(ksvcRef('kn')))?.metadata.annotations?.['flagger.app/primary-revision'], 'kn-00001');
      assert.deepEqual(await knRouter().getRoutes(canary), split(90, 10));

      // A manifest reapplied without a traffic block would send everything to the latest revision: pinned again.
      await raw.mergePatch(ksvcRef('kn'), { spec: { traffic: null } });
      await knRouter().reconcile(canary);
      assert.deepEqual(await knRouter().getRoutes(canary), split(100, 0));
    });

    test('finalize with revertOnDeletion gives back the user traffic block and drops the pin', async () => {
      await createKnativeService('kback', 'kback-00001');
      const userTraffic = [{ latestRevision: true, percent: 100, tag: 'current' }];
      await raw.mergePatch(ksvcRef('kback'), { spec: { traffic: userTraffic } });
      const canary = await knativeCanary('kback', { revertOnDeletion: true });
      await knRouter().reconcile(canary);
      await knRouter().setRoutes(canary, split(50, 50));
      await knRouter().finalize(canary);
      const restored = await raw.get(ksvcRef('kback'));
      assert.deepEqual(specOf(restored).traffic, userTraffic);
      assert.equal(restored?.metadata.annotations?.['flagger.app/primary-revision'], undefined);
      assert.equal(restored?.metadata.annotations?.['fledge.dev/original-traffic'], undefined);
    });

    test('a Service without a ready revision is NotReady; a Deployment target is refused', async () => {
      await createKnativeService('knew');
      const canary = await knativeCanary('knew');
      await assert.rejects(knRouter().reconcile(canary), (e) => isFledgeError(e, 'NotReady') && /no ready revision/.test(e.message));
      await assert.rejects(knRouter().setRoutes(canary, split(90, 10)), (e) => isFledgeError(e, 'NotReady'));
      const deployment = await createCanary('kdeploy', { provider: 'knative' });
      await assert.rejects(knRouter().reconcile(deployment), (e) => isFledgeError(e, 'InvalidSpec') && /spec\.targetRef/.test(e.message));
    });
  });
});
