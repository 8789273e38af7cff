/**
 * The kuma router's pure parts: golden TrafficRoutes (test/fixtures/routers/kuma-trafficroute-*.yaml,
 * written by hand from Kuma's TrafficRoute reference and its kuma.io/service tag format), reading the
 * split back, and what checkSupport refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from '../../providers/routers/types.js';
import { buildTrafficRoute, kumaServiceTag, readTrafficRouteRoutes } from '../../providers/routers/kuma.js';
import { checkSupport, routerCapabilities } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as KubeObject;

const canaryWith = (analysis: Record<string, unknown> = {}, extra: { service?: Record<string, unknown>; annotations?: Record<string, string>; provider?: string } = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: '5f9a7c1e-2b1d-4c9e-8a51-0d3b0c6f7e21', annotations: extra.annotations ?? {} },
    spec: {
      provider: 'provider' in extra ? extra.provider : 'kuma',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898, targetPort: 'http', ...extra.service },
      analysis: { interval: '30s', threshold: 5, maxWeight: 50, stepWeight: 10, ...analysis },
    },
  });
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });

for (const routes of [split(100, 0), split(90, 10), split(0, 100)]) {
  const file = `kuma-trafficroute-${routes.primary}-${routes.canary}.yaml`;
  test(`TrafficRoute matches ${file}`, () => {
    assert.deepEqual(buildTrafficRoute(canaryWith(), routes), fixture(file));
  });
  test(`${file} reads back as ${routes.primary}/${routes.canary}`, () => {
    assert.deepEqual(readTrafficRouteRoutes(canaryWith(), fixture(file)), routes);
  });
}

test('kuma.io/service tags are <name>_<namespace>_svc_<port>', () => {
  assert.equal(kumaServiceTag('backend', 'kuma-demo', 3001), 'backend_kuma-demo_svc_3001');
});

test('the mesh comes from the kuma.io/mesh annotation; apex metadata replaces the port annotation', () => {
  const canary = canaryWith({}, { annotations: { 'kuma.io/mesh': 'payments' }, service: { apex: { labels: { tier: 'web' }, annotations: { team: 'a' } } } });
  const route = buildTrafficRoute(canary, split(100, 0));
  assert.equal(route.mesh, 'payments');
  assert.deepEqual(route.metadata.labels, { tier: 'web' });
  assert.deepEqual(route.metadata.annotations, { team: 'a', 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' });
  assert.equal(route.metadata.namespace, undefined, 'TrafficRoutes are cluster-scoped');
});

test('a Canary not stored yet gets no owner reference', () => {
  const canary = canaryWith();
  delete canary.metadata.uid;
  assert.equal(buildTrafficRoute(canary, split(100, 0)).metadata.ownerReferences, undefined);
});

test('weights are shares of their sum, matched by Service name whatever the port', () => {
  const route = fixture('kuma-trafficroute-90-10.yaml') as KubeObject & { spec: { conf: { split: Array<{ weight: number; destination: Record<string, string> }> } } };
  const [primary, canary] = route.spec.conf.split;
  assert.ok(primary && canary);
  primary.weight = 1;
  canary.weight = 3;
  canary.destination['kuma.io/service'] = 'podinfo-canary_test_svc_8080';
  assert.deepEqual(readTrafficRouteRoutes(canaryWith(), route), split(25, 75));
  primary.weight = 0;
  canary.weight = 0;
  assert.throws(() => readTrafficRouteRoutes(canaryWith(), route), (e) => isFledgeError(e, 'NotReady') && /podinfo-primary/.test(e.message));
});

test('checkSupport: kuma serves canary and blue/green, and refuses A/B, mirroring and session affinity by name', () => {
  assert.deepEqual(routerCapabilities('kuma')?.strategies, ['canary', 'bluegreen']);
  assert.deepEqual(checkSupport(canaryWith(), 'kuma'), []);
  assert.deepEqual(checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5 }), 'kuma'), []);
  const ab = checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }), 'kuma');
  assert.deepEqual(ab.map((p) => p.path), ['spec.analysis.match']);
  assert.match(ab[0]?.rule ?? '', /router "kuma" cannot do A\/B testing/);
  // Parsed knowing the router, mirroring is refused at once; checkSupport reports a canary parsed without it.
  assert.throws(() => canaryWith({ mirror: true }), (e) => isFledgeError(e, 'InvalidSpec') && /router "kuma" cannot mirror/.test(e.message));
  const more = checkSupport(canaryWith({ mirror: true, sessionAffinity: { cookieName: 'c' } }, { provider: undefined }), 'kuma');
  assert.deepEqual(more.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity']);
  for (const p of more) assert.match(p.rule, /router "kuma" cannot/);
});
