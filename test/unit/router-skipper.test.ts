/**
 * The skipper router's pure parts: golden canary Ingresses (fixtures under test/fixtures/routers/
 * written by hand from Skipper's Ingress annotation reference), reading one back, the predicate
 * handling, and what checkSupport refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import type { Routes } from '../../providers/routers/types.js';
import {
  BACKEND_WEIGHTS_ANNOTATION,
  SKIPPER_PREDICATE_ANNOTATION,
  backendWeights,
  buildSkipperIngress,
  readSkipperRoutes,
  skipperPredicate,
} from '../../providers/routers/skipper.js';
import { checkSupport, createRouter } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as KubeObject;
const userIngress = (): KubeObject => fixture('skipper-input-ingress.yaml');

const canaryWith = (analysis: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: '5f9a7c1e-2b1d-4c9e-8a51-0d3b0c6f7e21' },
    spec: {
      provider: 'skipper',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' },
      service: { port: 80, targetPort: 9898 },
      analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10, ...analysis },
      ...spec,
    },
  });
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });

for (const [primary, canary] of [
  [100, 0],
  [90, 10],
  [0, 100],
] as const) {
  const file = `skipper-${primary}-${canary}.yaml`;
  test(`canary Ingress matches ${file}`, () => {
    assert.deepEqual(buildSkipperIngress(canaryWith(), userIngress(), split(primary, canary)), fixture(file));
  });
  test(`reading ${file} back gives the split it was built from`, () => {
    assert.deepEqual(readSkipperRoutes(canaryWith(), fixture(file)), split(primary, canary));
  });
}

test('backend weights are a JSON object of both Services, keys sorted as Go writes them', () => {
  assert.equal(backendWeights(canaryWith(), split(70, 30)), '{"podinfo-canary":30,"podinfo-primary":70}');
});

test('our predicate goes first and replaces an earlier one of ours; the user predicates stay', () => {
  assert.equal(skipperPredicate(undefined, split(90, 10)), 'Weight(100)');
  assert.equal(skipperPredicate('False() && Path("/x")', split(90, 10)), 'Weight(100) && Path("/x")');
  assert.equal(skipperPredicate('Weight(100) &&Path("/x")&& Method("GET")', split(100, 0)), 'False() && Path("/x") && Method("GET")');
});

test('a copy Flagger wrote reads back: Weight(100) with ratios, False() as 100/0 whatever the weights', () => {
  const flagger = (weights: string, predicate: string): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'podinfo-canary', annotations: { [BACKEND_WEIGHTS_ANNOTATION]: weights, [SKIPPER_PREDICATE_ANNOTATION]: predicate } },
  });
  assert.deepEqual(readSkipperRoutes(canaryWith(), flagger('{"podinfo-primary":1.5,"podinfo-canary":0.5}', 'Weight(100)')), split(75, 25));
  assert.deepEqual(readSkipperRoutes(canaryWith(), flagger('{"podinfo-primary":0,"podinfo-canary":100}', 'False()')), split(100, 0));
  assert.throws(() => readSkipperRoutes(canaryWith(), flagger('not json', 'Weight(100)')), (e) => isFledgeError(e, 'NotReady'));
  assert.throws(() => readSkipperRoutes(canaryWith(), flagger('{"other":1}', 'Weight(100)')), (e) => isFledgeError(e, 'NotReady'));
});

test('an Ingress without a path to the apex Service is an InvalidSpec naming ingressRef', () => {
  const other = userIngress();
  (other.spec as { rules: Array<{ http: { paths: unknown[] } }> }).rules[0]?.http.paths.shift();
  assert.throws(
    () => buildSkipperIngress(canaryWith(), other, split(100, 0)),
    (e) => isFledgeError(e, 'InvalidSpec') && /spec\.ingressRef\.name.*no path to Service "podinfo"/.test(e.message),
  );
});

const unusedKube = new Proxy({} as KubeApi, { get: () => () => Promise.reject(new Error('not expected in this test')) });

test('checkSupport: skipper refuses A/B, mirroring, session affinity and a missing ingressRef, naming itself', () => {
  assert.equal(createRouter('skipper', { kube: unusedKube }).name, 'skipper');
  assert.deepEqual(checkSupport(canaryWith(), 'skipper'), []);
  const ab = checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }), 'skipper');
  assert.deepEqual(ab.map((p) => p.path), ['spec.analysis.match']);
  assert.match(ab[0]?.rule ?? '', /router "skipper" cannot do A\/B testing/);
  const problems = checkSupport(
    canaryWith({ mirror: true, sessionAffinity: { cookieName: 'c' } }, { ingressRef: undefined, provider: undefined }),
    'skipper',
  );
  assert.deepEqual(problems.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity', 'spec.ingressRef']);
  for (const p of problems) assert.match(p.rule, /router "skipper" (cannot|needs)/);
});
