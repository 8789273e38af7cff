/**
 * The istio and kubernetes routers against the local cluster over HTTP, with Istio's networking CRDs
 * (examples/crds/istio.yaml) applied. Every read goes back to the server: a fresh router instance
 * must see what another one wrote.
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
const istioCrds = (): ClusterObject[] =>
  parseAllDocuments(readFileSync(new URL('../../../examples/crds/istio.yaml', import.meta.url), 'utf8')).map(
    (d) => d.toJS() as ClusterObject,
  );

type Spec = Record<string, unknown>;
const vsRef = (name: string) => ({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', name, namespace: NS });
const drRef = (name: string) => ({ apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', name, namespace: NS });
const svcRef = (name: string) => ({ apiVersion: 'v1', kind: 'Service', name, namespace: NS });
const httpOf = (vs: KubeObject | undefined): Array<Record<string, unknown>> => ((vs?.spec as Spec | undefined)?.http ?? []) as Array<Record<string, unknown>>;

describe('routers against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  const router = (name: string): Router => createRouter(name, { kube });

  /** Creates the Canary in the cluster (so it has a uid to own objects) and parses it. */
  const createCanary = async (name: string, spec: { service?: Spec; analysis?: Spec; provider?: string; revertOnDeletion?: boolean }): Promise<Canary> => {
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: NS },
      spec: {
        provider: spec.provider ?? 'istio',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 9898, ...spec.service },
        analysis: spec.analysis ?? { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
        ...(spec.revertOnDeletion ? { revertOnDeletion: true } : {}),
      },
    });
    return parseCanary(created);
  };

  before(async () => {
    c = await startTestCluster();
    c.cluster.applyObjects(istioCrds());
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    await eventually(async () => Array.isArray(await kube.list('networking.istio.io/v1beta1', 'VirtualService', NS)), 'istio CRDs served');
  });
  after(async () => c.close());

  test('istio: reconcile creates DestinationRules and a VirtualService owned by the Canary, at 100/0', async () => {
    const canary = await createCanary('owned', { service: { trafficPolicy: { tls: { mode: 'DISABLE' } }, hosts: ['owned.example.com'] } });
    await router('istio').reconcile(canary);
    for (const host of ['owned-primary', 'owned-canary']) {
      const rule = await kube.get(drRef(host));
      assert.deepEqual(rule?.spec, { host, trafficPolicy: { tls: { mode: 'DISABLE' } } });
      assert.equal(rule?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
    }
    const vs = await kube.get(vsRef('owned'));
    assert.deepEqual((vs?.spec as Spec).hosts, ['owned.example.com', 'owned']);
    assert.deepEqual((vs?.spec as Spec).gateways, ['mesh']);
    assert.equal(vs?.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
    assert.equal(vs?.metadata.ownerReferences?.[0]?.uid, canary.metadata.uid);
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 100, canary: 0, mirrored: false });
  });

  test('istio: a split set by one router is read by a fresh one, and reconcile never resets it', async () => {
    const canary = await createCanary('split', {});
    await router('istio').reconcile(canary);
    await router('istio').setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 90, canary: 10, mirrored: false });

    const before = await kube.get(vsRef('split'));
    await router('istio').reconcile(canary);
    const unchanged = await kube.get(vsRef('split'));
    assert.equal(unchanged?.metadata.resourceVersion, before?.metadata.resourceVersion, 'a reconcile with nothing to change writes nothing');
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 90, canary: 10, mirrored: false });

    // A spec change is written, around the live weights.
    const changed: Canary = { ...canary, spec: { ...canary.spec, service: { ...canary.spec.service, hosts: ['split.example.com'], timeout: '5s' } } };
    await router('istio').reconcile(changed);
    const vs = await kube.get(vsRef('split'));
    assert.deepEqual((vs?.spec as Spec).hosts, ['split.example.com', 'split']);
    assert.equal(httpOf(vs)[0]?.timeout, '5s');
    assert.deepEqual(await router('istio').getRoutes(changed), { primary: 90, canary: 10, mirrored: false });
  });

  test('istio: mirroring is set, survives reconcile, and is cleared with the next split', async () => {
    const canary = await createCanary('mirror', { analysis: { interval: '1m', threshold: 5, stepWeight: 10, mirror: true, mirrorWeight: 40 } });
    await router('istio').reconcile(canary);
    await router('istio').setRoutes(canary, { primary: 100, canary: 0, mirrored: true });
    await router('istio').reconcile(canary);
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 100, canary: 0, mirrored: true });
    assert.deepEqual(httpOf(await kube.get(vsRef('mirror')))[0]?.mirrorPercentage, { value: 40 });
    await router('istio').setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 90, canary: 10, mirrored: false });
  });

  test('istio: A/B sends matching requests to the canary and the rest to the primary', async () => {
    const match = [{ headers: { 'x-user-type': { exact: 'test' } } }];
    const canary = await createCanary('abtest', { analysis: { interval: '1m', threshold: 5, iterations: 10, match } });
    await router('istio').reconcile(canary);
    await router('istio').setRoutes(canary, { primary: 0, canary: 100, mirrored: false });
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 0, canary: 100, mirrored: false });
    const http = httpOf(await kube.get(vsRef('abtest')));
    assert.deepEqual(http[0]?.match, match);
    assert.deepEqual(http[1]?.route, [{ destination: { host: 'abtest-primary' }, weight: 100 }]);
  });

  test('istio: the session cookie is kept across steps and reconciles, then expired', async () => {
    const canary = await createCanary('sticky', {
      analysis: { interval: '1m', threshold: 5, stepWeight: 10, sessionAffinity: { cookieName: 'flagger-cookie', maxAge: 600 } },
    });
    await router('istio').reconcile(canary);
    await router('istio').setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    const cookieOf = async (): Promise<string> => {
      const http = httpOf(await kube.get(vsRef('sticky')));
      assert.equal(http[0]?.name, 'sticky-route');
      const regex = (http[0]?.match as Array<{ headers: { Cookie: { regex: string } } }>)[0]?.headers.Cookie.regex ?? '';
      return regex;
    };
    const first = await cookieOf();
    assert.match(first, /^\.\*flagger-cookie\.\*[a-zA-Z]{10}\.\*$/);
    await router('istio').reconcile(canary);
    await router('istio').setRoutes(canary, { primary: 80, canary: 20, mirrored: false });
    assert.equal(await cookieOf(), first);
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 80, canary: 20, mirrored: false });
    await router('istio').setRoutes(canary, { primary: 100, canary: 0, mirrored: false });
    const http = httpOf(await kube.get(vsRef('sticky')));
    const setCookie = ((http[0]?.headers as Spec).response as { add: Record<string, string> }).add['Set-Cookie'];
    assert.match(setCookie ?? '', /^flagger-cookie=[a-zA-Z]{10}; Max-Age=-1$/);
    assert.equal(await cookieOf(), first);
  });

  test('istio: primaryCookieName adds a primary sticky route whose cookie changes with each step', async () => {
    const sessionAffinity = { cookieName: 'canary-cookie', primaryCookieName: 'primary-cookie' };
    const canary = await createCanary('sticky2', { analysis: { interval: '30s', threshold: 5, maxWeight: 50, stepWeight: 10, sessionAffinity } });
    await router('istio').reconcile(canary);
    type Route = { name?: string; match?: Array<{ headers: { Cookie: { regex: string } } }>; route: Spec[] };
    const setCookieOf = (d: Spec | undefined): string | undefined =>
      ((d?.headers as Spec | undefined)?.response as { add?: Record<string, string> } | undefined)?.add?.['Set-Cookie'];
    /** The cookies the live VirtualService hands out, checked against the sticky routes that match them. */
    const cookiesOf = async (): Promise<{ canary: string; primary: string }> => {
      const http = httpOf(await kube.get(vsRef('sticky2'))) as Route[];
      assert.deepEqual(http.map((r) => r.name), ['sticky-route', 'sticky-primary-route', undefined]);
      assert.deepEqual(http[1]?.route.map((d) => [(d.destination as Spec).host, d.weight]), [['sticky2-primary', 100], ['sticky2-canary', 0]]);
      const [toPrimary, toCanary] = http[2]?.route ?? [];
      const primary = setCookieOf(toPrimary) ?? '';
      const canaryCookie = setCookieOf(toCanary) ?? '';
      assert.match(primary, /^primary-cookie=[a-zA-Z]{10}; Max-Age=30$/);
      assert.match(canaryCookie, /^canary-cookie=[a-zA-Z]{10}; Max-Age=86400$/);
      const value = (cookie: string): string => cookie.split(';')[0]?.split('=')[1] ?? '';
      assert.equal(http[1]?.match?.[0]?.headers.Cookie.regex, `.*primary-cookie.*${value(primary)}.*`);
      assert.equal(http[0]?.match?.[0]?.headers.Cookie.regex, `.*canary-cookie.*${value(canaryCookie)}.*`);
      return { canary: canaryCookie, primary };
    };

    await router('istio').setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    const first = await cookiesOf();
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 90, canary: 10, mirrored: false });
    const before = await kube.get(vsRef('sticky2'));
    await router('istio').reconcile(canary);
    assert.equal((await kube.get(vsRef('sticky2')))?.metadata.resourceVersion, before?.metadata.resourceVersion, 'reconcile keeps both cookies');
    await router('istio').setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    assert.deepEqual(await cookiesOf(), first, 'writing the live split again keeps the primary cookie');

    await router('istio').setRoutes(canary, { primary: 80, canary: 20, mirrored: false });
    const second = await cookiesOf();
    assert.equal(second.canary, first.canary, 'the canary cookie lasts the run');
    assert.notEqual(second.primary, first.primary, 'a new step hands out a new primary cookie');
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 80, canary: 20, mirrored: false });

    // Promotion: the canary cookie is expired; the primary one is no longer handed out.
    await router('istio').setRoutes(canary, { primary: 100, canary: 0, mirrored: false });
    const http = httpOf(await kube.get(vsRef('sticky2'))) as Route[];
    assert.deepEqual(http.map((r) => r.name), ['sticky-route', undefined]);
    assert.equal(setCookieOf(http[0] as unknown as Spec), `${first.canary.split(';')[0]}; Max-Age=-1`);
    assert.equal(http[1]?.route.some((d) => d.headers !== undefined), false);
    assert.deepEqual(await router('istio').getRoutes(canary), { primary: 100, canary: 0, mirrored: false });
  });

  test('istio: an adopted user VirtualService is restored on finalize with revertOnDeletion', async () => {
    const userSpec = { hosts: ['adopt'], http: [{ route: [{ destination: { host: 'adopt' } }] }] };
    await kube.create({ ...vsRef('adopt'), metadata: { name: 'adopt', namespace: NS, labels: { owner: 'me' } }, spec: userSpec });
    const canary = await createCanary('adopt', { revertOnDeletion: true });
    await router('istio').reconcile(canary);
    const adopted = await kube.get(vsRef('adopt'));
    assert.deepEqual(JSON.parse(adopted?.metadata.annotations?.['flagger.kubernetes.io/original-configuration'] ?? '{}'), userSpec);
    assert.equal(adopted?.metadata.ownerReferences, undefined, 'a user object is not handed to the garbage collector');
    await router('istio').setRoutes(canary, { primary: 50, canary: 50, mirrored: false });
    await router('istio').reconcile(canary);
    const again = await kube.get(vsRef('adopt'));
    assert.deepEqual(JSON.parse(again?.metadata.annotations?.['flagger.kubernetes.io/original-configuration'] ?? '{}'), userSpec);

    await router('istio').finalize(canary);
    const restored = await kube.get(vsRef('adopt'));
    assert.deepEqual(restored?.spec, userSpec);
    assert.equal(restored?.metadata.annotations?.['flagger.kubernetes.io/original-configuration'], undefined);
    assert.equal(await kube.get(drRef('adopt-primary')), undefined);
    assert.equal(await kube.get(drRef('adopt-canary')), undefined);
  });

  test('istio: finalize deletes what the canary owns; deleting the Canary collects it too', async () => {
    const canary = await createCanary('gone', {});
    await router('istio').reconcile(canary);
    await router('istio').finalize(canary);
    assert.equal(await kube.get(vsRef('gone')), undefined);
    assert.equal(await kube.get(drRef('gone-primary')), undefined);

    const collected = await createCanary('collected', {});
    await router('istio').reconcile(collected);
    await kube.delete({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'collected', namespace: NS });
    await eventually(async () => (await kube.get(vsRef('collected'))) === undefined, 'VirtualService garbage-collected');
  });

  test('istio: routes of a canary that was never reconciled are NotReady', async () => {
    const canary = await createCanary('early', {});
    await assert.rejects(router('istio').getRoutes(canary), (e) => isFledgeError(e, 'NotReady'));
    await assert.rejects(router('istio').setRoutes(canary, { primary: 90, canary: 10, mirrored: false }), (e) => isFledgeError(e, 'NotReady'));
  });

  describe('kubernetes', () => {
    const service = (name: string, selector: Record<string, string>, annotations?: Record<string, string>): KubeObject => ({
      ...svcRef(name),
      metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
      spec: { selector, ports: [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }] },
    });
    const apexSelector = async (name: string): Promise<unknown> => ((await kube.get(svcRef(name)))?.spec as Spec).selector;
    const kubernetesCanary = (name: string, revertOnDeletion = false): Promise<Canary> =>
      createCanary(name, { provider: 'kubernetes', analysis: { interval: '1m', threshold: 5, iterations: 5 }, revertOnDeletion });

    test('switches the apex selector between primary and canary, read back by a fresh router', async () => {
      await kube.create(service('kpod', { app: 'kpod-primary' }));
      await kube.create(service('kpod-primary', { app: 'kpod-primary' }));
      await kube.create(service('kpod-canary', { app: 'kpod' }));
      const canary = await kubernetesCanary('kpod');
      await router('kubernetes').reconcile(canary);
      assert.deepEqual(await router('kubernetes').getRoutes(canary), { primary: 100, canary: 0, mirrored: false });

      await router('kubernetes').setRoutes(canary, { primary: 0, canary: 100, mirrored: false });
      assert.deepEqual(await apexSelector('kpod'), { app: 'kpod' });
      assert.deepEqual(await router('kubernetes').getRoutes(canary), { primary: 0, canary: 100, mirrored: false });

      await router('kubernetes').setRoutes(canary, { primary: 100, canary: 0, mirrored: false });
      assert.deepEqual(await apexSelector('kpod'), { app: 'kpod-primary' });
      await assert.rejects(
        router('kubernetes').setRoutes(canary, { primary: 90, canary: 10, mirrored: false }),
        (e) => isFledgeError(e, 'InvalidSpec'),
      );
      assert.deepEqual(await apexSelector('kpod'), { app: 'kpod-primary' });
    });

    test('an apex selecting neither side is NotReady until a switch replaces its whole selector', async () => {
      await kube.create(service('kmix', { app: 'kmix-primary', tier: 'web' }));
      await kube.create(service('kmix-primary', { app: 'kmix-primary' }));
      await kube.create(service('kmix-canary', { app: 'kmix' }));
      const canary = await kubernetesCanary('kmix');
      await assert.rejects(router('kubernetes').getRoutes(canary), (e) => isFledgeError(e, 'NotReady') && /tier=web/.test(e.message));
      await router('kubernetes').setRoutes(canary, { primary: 0, canary: 100, mirrored: false });
      assert.deepEqual(await apexSelector('kmix'), { app: 'kmix' });
    });

    test('reconcile waits for the Services; finalize points a user apex back at the target pods', async () => {
      const canary = await kubernetesCanary('kback', true);
      await assert.rejects(router('kubernetes').reconcile(canary), (e) => isFledgeError(e, 'NotReady') && /kback-primary/.test(e.message));
      await kube.create(service('kback', { app: 'kback-primary' }));
      await kube.create(service('kback-primary', { app: 'kback-primary' }));
      await kube.create(service('kback-canary', { app: 'kback' }));
      await router('kubernetes').reconcile(canary);
      await router('kubernetes').finalize(canary);
      assert.deepEqual(await apexSelector('kback'), { app: 'kback' });
    });
  });
});
