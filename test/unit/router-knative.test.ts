/**
 * The knative router's pure parts: golden traffic blocks (test/fixtures/routers/knative-service-*.yaml,
 * written by hand from the Knative Serving API reference), reading the split back from spec.traffic,
 * and what checkSupport refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from '../../providers/routers/types.js';
import { buildTraffic, knativeProblems, primaryRevisionOf, readTrafficRoutes } from '../../providers/routers/knative.js';
import { checkSupport } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as KubeObject;

const canaryWith = (analysis: Record<string, unknown> = {}, targetRef: Record<string, unknown> = {}, provider: string | null = 'knative'): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: '5f9a7c1e-2b1d-4c9e-8a51-0d3b0c6f7e21' },
    spec: {
      provider: provider ?? undefined,
      targetRef: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'podinfo', ...targetRef },
      service: { port: 80 },
      analysis: { interval: '15s', threshold: 15, maxWeight: 50, stepWeight: 10, ...analysis },
    },
  });
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });
type Traffic = Array<Record<string, unknown>>;
const trafficOf = (service: KubeObject): Traffic => (service.spec as { traffic: Traffic }).traffic;

for (const routes of [split(100, 0), split(90, 10), split(0, 100)]) {
  const file = `knative-service-${routes.primary}-${routes.canary}.yaml`;
  test(`traffic block matches ${file}`, () => {
    const service = fixture(file);
    assert.deepEqual(buildTraffic(primaryRevisionOf(service) ?? '', routes), trafficOf(service));
  });
  test(`${file} reads back as ${routes.primary}/${routes.canary}`, () => {
    assert.deepEqual(readTrafficRoutes(canaryWith(), fixture(file)), routes);
  });
}

test('percentages are shares; an absent percent is 0; other revisions do not count', () => {
  const service = fixture('knative-service-90-10.yaml');
  trafficOf(service).push({ revisionName: 'podinfo-00000', percent: 50, tag: 'old' });
  const latest = trafficOf(service)[0];
  if (latest) delete latest.percent;
  assert.deepEqual(readTrafficRoutes(canaryWith(), service), split(100, 0));
});

test('a Service without the primary annotation or without both revisions in its traffic is NotReady', () => {
  assert.throws(() => readTrafficRoutes(canaryWith(), fixture('knative-service-podinfo.yaml')), (e) => isFledgeError(e, 'NotReady') && /primary-revision/.test(e.message));
  const service = fixture('knative-service-90-10.yaml');
  trafficOf(service).shift();
  assert.throws(() => readTrafficRoutes(canaryWith(), service), (e) => isFledgeError(e, 'NotReady') && /podinfo-00001/.test(e.message));
});

test('checkSupport: knative needs a Knative Service target and refuses A/B, mirroring and session affinity by name', () => {
  assert.deepEqual(checkSupport(canaryWith(), 'knative'), []);
  assert.deepEqual(checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5 }), 'knative'), []);
  const ab = checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }), 'knative');
  assert.deepEqual(ab.map((p) => p.path), ['spec.analysis.match']);
  assert.match(ab[0]?.rule ?? '', /router "knative" cannot do A\/B testing/);
  const more = checkSupport(canaryWith({ mirror: true, sessionAffinity: { cookieName: 'c' } }, { apiVersion: 'apps/v1', kind: 'Deployment' }, null), 'knative');
  assert.deepEqual(more.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity', 'spec.targetRef']);
  for (const p of more) assert.match(p.rule, /router "knative"/);
  assert.match(knativeProblems(canaryWith({}, { apiVersion: 'v1' }))[0]?.rule ?? '', /serving\.knative\.dev\/v1/);
});
