/**
 * The skipper router's pure parts: golden canary Ingresses (fixtures under test/fixtures/routers/
 * written by hand from Skipper's Ingress annotation reference), reading one back, the predicate
 * handling, and what checkSupport refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import {
  BACKEND_WEIGHTS_ANNOTATION,
  SKIPPER_PREDICATE_ANNOTATION,
  backendWeights,
  buildSkipperIngress,
  readSkipperRoutes,
  skipperPredicate,
} from '../../providers/routers/skipper.js';
import { checkSupport, createRouter } from '../../providers/routers/index.js';
import { canaryFor, goldenRoundTrips, routerFixture as fixture, split, unusedKube, weightCases } from './support/router-fixtures.js';

const userIngress = (): KubeObject => fixture('skipper-input-ingress.yaml');
const canaryWith = canaryFor('skipper', { ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' } });

goldenRoundTrips('canary Ingress', weightCases('skipper', canaryWith()), (canary, routes) => buildSkipperIngress(canary, userIngress(), routes), readSkipperRoutes);

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
