/**
 * The gatewayapi router against the local cluster over HTTP, with a minimal HTTPRoute CRD
 * (test/fixtures/crds/gatewayapi.yaml, v1 and v1beta1 served). Every read goes back to the server: a
 * fresh router instance must see what another one wrote.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { KubeObject as ClusterObject } from '../../src/localcluster/types.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router } from '../../providers/routers/index.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const NS = 'default';
const crds = (): ClusterObject[] =>
  parseAllDocuments(readFileSync(new URL('../../../test/fixtures/crds/gatewayapi.yaml', import.meta.url), 'utf8')).map(
    (d) => d.toJS() as ClusterObject,
  );

type Spec = Record<string, unknown>;
const routeRef = (name: string, version = 'v1') => ({ apiVersion: `gateway.networking.k8s.io/${version}`, kind: 'HTTPRoute', name, namespace: NS });
const rulesOf = (route: KubeObject | undefined): Spec[] => ((route?.spec as Spec | undefined)?.rules ?? []) as Spec[];

describe('gatewayapi router against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  const router = (name = 'gatewayapi:v1'): Router => createRouter(name, { kube });

  const createCanary = async (name: string, spec: { provider?: string; service?: Spec; analysis?: Spec }): Promise<Canary> => {
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: NS },
      spec: {
        provider: spec.provider ?? 'gatewayapi:v1',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 9898, hosts: [`${name}.example.com`], gatewayRefs: [{ name: 'gateway', namespace: 'gw' }], ...spec.service },
        analysis: spec.analysis ?? { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
      },
    });
    return parseCanary(created);
  };

  before(async () => {
    c = await startTestCluster();
    c.cluster.applyObjects(crds());
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    await eventually(async () => Array.isArray(await kube.list('gateway.networking.k8s.io/v1', 'HTTPRoute', NS)), 'HTTPRoute CRD served');
  });
  after(async () => c.close());

  test('reconcile creates an HTTPRoute owned by the Canary at 100/0; 90/10 is read by a fresh router and kept by reconcile', async () => {
    const canary = await createCanary('split', {});
    await router().reconcile(canary);
    const created = await kube.get(routeRef('split'));
    assert.equal(created?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
    assert.equal(created?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
    assert.deepEqual((created?.spec as Spec).hostnames, ['split.example.com']);
    assert.deepEqual(await router().getRoutes(canary), { primary: 100, canary: 0, mirrored: false });

    await router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 90, canary: 10, mirrored: false });

    const before = await kube.get(routeRef('split'));
    await router().reconcile(canary);
    const after = await kube.get(routeRef('split'));
    assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion, 'a reconcile with nothing to change writes nothing');
    assert.deepEqual(await router().getRoutes(canary), { primary: 90, canary: 10, mirrored: false });

    // A spec change is written around the live weights.
    const changed: Canary = { ...canary, spec: { ...canary.spec, service: { ...canary.spec.service, timeout: '5s', hosts: ['new.example.com'] } } };
    await router().reconcile(changed);
    const updated = await kube.get(routeRef('split'));
    assert.deepEqual((updated?.spec as Spec).hostnames, ['new.example.com']);
    assert.deepEqual(rulesOf(updated)[0]?.timeouts, { request: '5s' });
    assert.deepEqual(await router().getRoutes(changed), { primary: 90, canary: 10, mirrored: false });
  });

  test('gatewayapi:v1beta1 reads and writes through the v1beta1 endpoint', async () => {
    const canary = await createCanary('beta', { provider: 'gatewayapi:v1beta1' });
    await router('gatewayapi:v1beta1').reconcile(canary);
    await router('gatewayapi:v1beta1').setRoutes(canary, { primary: 60, canary: 40, mirrored: false });
    const viaV1 = await kube.get(routeRef('beta', 'v1'));
    assert.equal(viaV1?.apiVersion, 'gateway.networking.k8s.io/v1');
    assert.deepEqual(await router('gatewayapi').getRoutes(canary), { primary: 60, canary: 40, mirrored: false });
  });

  test('--mesh-provider gatewayapi:v1beta1 counts for a Canary without spec.provider', async () => {
    const canary = await createCanary('meshdefault', { provider: '' });
    assert.equal(canary.spec.provider, undefined);
    await router('gatewayapi:v1beta1').reconcile(canary);
    // The server records the version each write was made through.
    const written = await kube.get(routeRef('meshdefault', 'v1'));
    const versions = ((written?.metadata as { managedFields?: Array<{ apiVersion: string }> }).managedFields ?? []).map((f) => f.apiVersion);
    assert.deepEqual([...new Set(versions)], ['gateway.networking.k8s.io/v1beta1']);
    await router('gatewayapi:v1beta1').setRoutes(canary, { primary: 70, canary: 30, mirrored: false });
    assert.deepEqual(await router('gatewayapi:v1beta1').getRoutes(canary), { primary: 70, canary: 30, mirrored: false });
  });

  test('mirroring adds a RequestMirror to the canary, survives reconcile, and is dropped with the next split', async () => {
    const canary = await createCanary('mirror', { analysis: { interval: '1m', threshold: 5, iterations: 5, mirror: true } });
    await router().reconcile(canary);
    await router().setRoutes(canary, { primary: 100, canary: 0, mirrored: true });
    await router().reconcile(canary);
    assert.deepEqual(await router().getRoutes(canary), { primary: 100, canary: 0, mirrored: true });
    const filters = rulesOf(await kube.get(routeRef('mirror')))[0]?.filters as Spec[];
    assert.deepEqual(filters.at(-1), { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'mirror-canary', port: 9898 } } });
    await router().setRoutes(canary, { primary: 0, canary: 100, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 0, canary: 100, mirrored: false });
    assert.equal(rulesOf(await kube.get(routeRef('mirror')))[0]?.filters, undefined);
  });

  test('A/B: matching requests are split, the rest go to the primary', async () => {
    const match = [{ headers: { 'x-user-type': { exact: 'test' } } }];
    const canary = await createCanary('abtest', { analysis: { interval: '1m', threshold: 5, iterations: 10, match } });
    await router().reconcile(canary);
    await router().setRoutes(canary, { primary: 0, canary: 100, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 0, canary: 100, mirrored: false });
    const rules = rulesOf(await kube.get(routeRef('abtest')));
    assert.deepEqual(rules[0]?.matches, [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-user-type', value: 'test' }] }]);
    assert.deepEqual(rules[1]?.backendRefs, [{ group: '', kind: 'Service', name: 'abtest-primary', port: 9898, weight: 100 }]);
  });

  test('session affinity: the cookie rule survives reconcile, a fresh router reads 90/10, promotion expires the cookie', async () => {
    const analysis = { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10, sessionAffinity: { cookieName: 'flagger-cookie', maxAge: 600 } };
    const canary = await createCanary('sticky', { analysis });
    await router().reconcile(canary);
    await router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 90, canary: 10, mirrored: false });

    const rules = rulesOf(await kube.get(routeRef('sticky')));
    assert.equal(rules.length, 2);
    const canaryRef = (rules[1]?.backendRefs as Spec[]).find((ref) => ref.name === 'sticky-canary');
    const setCookie = (((canaryRef?.filters as Spec[])[0]?.responseHeaderModifier as Spec).add as Spec[])[0];
    assert.equal(setCookie?.name, 'Set-Cookie');
    const [, value] = /^flagger-cookie=([A-Za-z]{10}); Max-Age=600$/.exec(String(setCookie?.value)) ?? [];
    assert.ok(value, `cookie handed out by the canary: ${String(setCookie?.value)}`);
    assert.deepEqual(rules[0]?.matches, [
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'RegularExpression', name: 'Cookie', value: `.*flagger-cookie.*${value}.*` }] },
    ]);
    assert.deepEqual(
      (rules[0]?.backendRefs as Spec[]).map((ref) => [ref.name, ref.weight]),
      [['sticky-primary', 0], ['sticky-canary', 100]],
    );

    const before = await kube.get(routeRef('sticky'));
    await router().reconcile(canary);
    const after = await kube.get(routeRef('sticky'));
    assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion, 'reconcile keeps the cookie rule and writes nothing');

    // The next step keeps the cookie; promotion tells its holders to drop it.
    await router().setRoutes(canary, { primary: 80, canary: 20, mirrored: false });
    assert.match(JSON.stringify(rulesOf(await kube.get(routeRef('sticky')))[0]?.matches), new RegExp(value ?? '-'));
    await router().setRoutes(canary, { primary: 100, canary: 0, mirrored: false });
    assert.deepEqual(await router().getRoutes(canary), { primary: 100, canary: 0, mirrored: false });
    const promoted = rulesOf(await kube.get(routeRef('sticky')));
    assert.equal(promoted.length, 2);
    assert.deepEqual(promoted[0]?.filters, [
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: `flagger-cookie=${value}; Max-Age=-1` }] } },
    ]);
    assert.equal((promoted[1]?.backendRefs as Spec[]).some((ref) => ref.filters !== undefined), false, 'no cookie is handed out at 100/0');
  });

  test('session affinity with primaryCookieName: a primary sticky rule whose cookie changes with each step', async () => {
    const sessionAffinity = { cookieName: 'canary-cookie', primaryCookieName: 'primary-cookie' };
    const canary = await createCanary('sticky2', { analysis: { interval: '30s', threshold: 5, maxWeight: 50, stepWeight: 10, sessionAffinity } });
    await router().reconcile(canary);
    const primaryCookieOf = async (): Promise<string> => {
      const rules = rulesOf(await kube.get(routeRef('sticky2')));
      assert.equal(rules.length, 3);
      assert.deepEqual((rules[1]?.backendRefs as Spec[]).map((ref) => ref.weight), [100, 0]);
      const primaryRef = (rules[2]?.backendRefs as Spec[]).find((ref) => ref.name === 'sticky2-primary');
      return String((((primaryRef?.filters as Spec[])[0]?.responseHeaderModifier as Spec).add as Spec[])[0]?.value);
    };
    await router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    const first = await primaryCookieOf();
    assert.match(first, /^primary-cookie=[A-Za-z]{10}; Max-Age=30$/);
    assert.deepEqual(await router().getRoutes(canary), { primary: 90, canary: 10, mirrored: false });
    await router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.equal(await primaryCookieOf(), first, 'writing the live split again keeps the primary cookie');
    await router().setRoutes(canary, { primary: 80, canary: 20, mirrored: false });
    assert.notEqual(await primaryCookieOf(), first, 'a new step hands out a new primary cookie');
    assert.deepEqual(await router().getRoutes(canary), { primary: 80, canary: 20, mirrored: false });
  });

  test('a parent that has not accepted the latest generation makes getRoutes NotReady', async () => {
    const canary = await createCanary('pending', {});
    await router().reconcile(canary);
    const live = await kube.get(routeRef('pending'));
    const generation = live?.metadata.generation ?? 1;
    const condition = { type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: generation - 1, lastTransitionTime: new Date().toISOString(), message: '' };
    await kube.patchStatus(routeRef('pending'), { parents: [{ parentRef: { name: 'gateway', namespace: 'gw' }, controllerName: 'example.com/gw', conditions: [condition] }] });
    await assert.rejects(router().getRoutes(canary), (e) => isFledgeError(e, 'NotReady') && /not ready/.test(e.message));
    await kube.patchStatus(routeRef('pending'), {
      parents: [{ parentRef: { name: 'gateway', namespace: 'gw' }, controllerName: 'example.com/gw', conditions: [{ ...condition, observedGeneration: generation }] }],
    });
    assert.deepEqual(await router().getRoutes(canary), { primary: 100, canary: 0, mirrored: false });
  });

  test('finalize deletes the owned route; routes of a canary never reconciled are NotReady', async () => {
    const canary = await createCanary('gone', {});
    await router().reconcile(canary);
    await router().finalize(canary);
    assert.equal(await kube.get(routeRef('gone')), undefined);
    await assert.rejects(router().getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
    await assert.rejects(router().setRoutes(canary, { primary: 90, canary: 10, mirrored: false }), (e) => isFledgeError(e, 'NotReady'));
  });
});
