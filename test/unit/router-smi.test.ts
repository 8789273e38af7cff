/**
 * The SMI routers (linkerd, osm, smi:v1alphaN): golden TrafficSplits per API version, written by hand
 * under test/fixtures/routers/ from the SMI spec; reading weights back; the registry entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { SmiVersion } from '../../providers/routers/smi.js';
import { SMI_ROUTERS, buildTrafficSplit, readSplitRoutes, weightValue } from '../../providers/routers/smi.js';
import { checkSupport, createRouter, routerCapabilities } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as KubeObject;

const canaryWith = (spec: { service?: Record<string, unknown>; analysis?: Record<string, unknown>; provider?: string } = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: '0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e' },
    spec: {
      provider: spec.provider ?? 'linkerd',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898, ...spec.service },
      analysis: spec.analysis ?? { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
    },
  });

const VERSIONS: SmiVersion[] = ['v1alpha1', 'v1alpha2', 'v1alpha3'];
const SPLITS: Array<[number, number]> = [
  [100, 0],
  [90, 10],
  [0, 100],
];

for (const version of VERSIONS) {
  for (const [primary, canary] of SPLITS) {
    const file = `trafficsplit-${version}-${primary}-${canary}.yaml`;
    test(`TrafficSplit ${version} at ${primary}/${canary} matches ${file}`, () => {
      const routes = { primary, canary, mirrored: false };
      const built = buildTrafficSplit(canaryWith(), version, routes);
      assert.deepEqual(built, fixture(file));
      assert.deepEqual(readSplitRoutes(canaryWith(), built), routes, 'what is built reads back as the same split');
    });
  }
}

test('spec.service is the first host when hosts are given, as Flagger writes it', () => {
  const ts = buildTrafficSplit(canaryWith({ service: { hosts: ['podinfo.test.svc.cluster.local', 'other'] } }), 'v1alpha2', {
    primary: 100,
    canary: 0,
    mirrored: false,
  });
  assert.equal((ts.spec as { service: string }).service, 'podinfo.test.svc.cluster.local');
});

test('a canary without uid gets no ownerReferences', () => {
  const canary = canaryWith();
  const anonymous: Canary = { ...canary, metadata: { ...canary.metadata, uid: undefined } };
  assert.equal(buildTrafficSplit(anonymous, 'v1alpha3', { primary: 100, canary: 0, mirrored: false }).metadata.ownerReferences, undefined);
});

test('weights are read as quantities, integers, or shares of their sum', () => {
  assert.equal(weightValue('90'), 90);
  assert.equal(weightValue(90), 90);
  assert.equal(weightValue('500m'), 0.5);
  assert.equal(weightValue('1k'), 1000);
  assert.equal(weightValue('2Ki'), 2048);
  assert.equal(weightValue('1e2'), 100);
  assert.equal(weightValue('-5'), 0);
  assert.equal(weightValue('ten'), 0);
  assert.equal(weightValue(undefined), 0);

  const split = (canaryWeight: unknown, primaryWeight: unknown): KubeObject => ({
    apiVersion: 'split.smi-spec.io/v1alpha1',
    kind: 'TrafficSplit',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: {
      service: 'podinfo',
      backends: [
        { service: 'podinfo-canary', weight: canaryWeight },
        { service: 'podinfo-primary', weight: primaryWeight },
        { service: 'someone-else', weight: 1000 },
      ],
    },
  });
  assert.deepEqual(readSplitRoutes(canaryWith(), split('500m', '500m')), { primary: 50, canary: 50, mirrored: false });
  assert.deepEqual(readSplitRoutes(canaryWith(), split(1, 3)), { primary: 75, canary: 25, mirrored: false });
  assert.deepEqual(readSplitRoutes(canaryWith(), split(undefined, '1')), { primary: 100, canary: 0, mirrored: false });
  assert.throws(
    () => readSplitRoutes(canaryWith(), split(0, '0')),
    (e) => isFledgeError(e, 'NotReady') && /does not contain routes for podinfo-primary and podinfo-canary/.test(e.message),
  );
});

test('registry: linkerd and smi:v1alpha1 write v1alpha1, osm and smi:v1alpha2 v1alpha2, smi:v1alpha3 v1alpha3', async () => {
  assert.deepEqual(Object.keys(SMI_ROUTERS).sort(), ['linkerd', 'osm', 'smi:v1alpha1', 'smi:v1alpha2', 'smi:v1alpha3']);
  const written: KubeObject[] = [];
  const kube = {
    get: () => Promise.resolve(undefined),
    create: (obj: KubeObject) => {
      written.push(obj);
      return Promise.resolve(obj);
    },
  } as unknown as Parameters<typeof createRouter>[1]['kube'];
  const expected: Record<string, string> = {
    linkerd: 'split.smi-spec.io/v1alpha1',
    osm: 'split.smi-spec.io/v1alpha2',
    'smi:v1alpha1': 'split.smi-spec.io/v1alpha1',
    'smi:v1alpha2': 'split.smi-spec.io/v1alpha2',
    'smi:v1alpha3': 'split.smi-spec.io/v1alpha3',
  };
  for (const [name, apiVersion] of Object.entries(expected)) {
    const router = createRouter(name, { kube });
    assert.equal(router.name, name);
    await router.reconcile(canaryWith({ provider: name }));
    assert.equal(written.at(-1)?.apiVersion, apiVersion, name);
  }
});

test('checkSupport refuses A/B testing, mirroring and session affinity on SMI routers', () => {
  assert.deepEqual(routerCapabilities('osm'), { strategies: ['canary', 'bluegreen'], mirror: false, sessionAffinity: false });
  assert.deepEqual(checkSupport(canaryWith(), 'linkerd'), []);
  assert.deepEqual(checkSupport(canaryWith({ analysis: { interval: '1m', threshold: 5, iterations: 10 } }), 'smi:v1alpha3'), []);

  const ab = canaryWith({ analysis: { interval: '1m', threshold: 5, iterations: 10, match: [{ headers: { 'x-user': { exact: 'test' } } }] } });
  assert.deepEqual(
    checkSupport(ab, 'linkerd').map((p) => p.path),
    ['spec.analysis.match'],
  );
  // parseCanary already refuses mirroring for a provider it knows cannot mirror: parse as istio, check as osm.
  const mirrored = canaryWith({ provider: 'istio', analysis: { interval: '1m', threshold: 5, iterations: 10, mirror: true } });
  assert.deepEqual(
    checkSupport(mirrored, 'osm').map((p) => p.path),
    ['spec.analysis.mirror'],
  );
  const sticky = canaryWith({ analysis: { interval: '1m', threshold: 5, stepWeight: 10, sessionAffinity: { cookieName: 'c', maxAge: 60 } } });
  assert.deepEqual(
    checkSupport(sticky, 'smi:v1alpha2').map((p) => p.path),
    ['spec.analysis.sessionAffinity'],
  );
});

test('setRoutes refuses mirroring and splits that do not add up, before any request', async () => {
  const kube = {
    get: () => assert.fail('no request expected'),
    mergePatch: () => assert.fail('no request expected'),
  } as unknown as Parameters<typeof createRouter>[1]['kube'];
  const router = createRouter('linkerd', { kube });
  await assert.rejects(router.setRoutes(canaryWith(), { primary: 100, canary: 0, mirrored: true }), (e) => isFledgeError(e, 'InvalidSpec'));
  await assert.rejects(router.setRoutes(canaryWith(), { primary: 90, canary: 20, mirrored: false }), (e) => isFledgeError(e, 'InvalidSpec'));
});
