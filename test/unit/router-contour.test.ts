/**
 * The contour router's pure parts: golden HTTPProxies (fixtures under test/fixtures/routers/ written
 * by hand from Contour's HTTPProxy reference, not produced by the code), reading a live proxy back,
 * its problems and its registration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import { CONTOUR_INGRESS_CLASS_ANNOTATION, buildHTTPProxy, retryPolicyOf } from '../../providers/routers/contour-build.js';
import { contourProblems, createContourRouter, readHTTPProxyRoutes } from '../../providers/routers/contour.js';
import { checkSupport, createRouter } from '../../providers/routers/index.js';
import { canaryFromFixture, goldenRoundTrips, routerFixture, split, unusedKube, weightCases } from './support/router-fixtures.js';

const fixture = (name: string): unknown => routerFixture(name);
const canaryWith = canaryFromFixture('contour-input-canary.yaml');
const abMatch = [
  { headers: { 'x-canary': { exact: 'insider' } } },
  { headers: { 'user-agent': { prefix: 'Mozilla/5.0 (iPhone' }, cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } },
];
const abCanary = canaryWith((r) => {
  r.spec.service = { port: 9898, match: [{ uri: { prefix: '/api' } }] };
  r.spec.analysis = { interval: '1m', threshold: 5, iterations: 10, match: abMatch };
});

goldenRoundTrips(
  'HTTPProxy',
  [...weightCases('contour', canaryWith()), { file: 'contour-ab-0-100.yaml', canary: abCanary, routes: split(0, 100) }],
  (canary, routes) => buildHTTPProxy(canary, routes),
  readHTTPProxyRoutes,
);

test('the ingress class option becomes the projectcontour.io/ingress.class annotation', () => {
  const proxy = buildHTTPProxy(canaryWith(), split(100, 0), 'internal');
  assert.equal(proxy.metadata.annotations?.[CONTOUR_INGRESS_CLASS_ANNOTATION], 'internal');
  assert.equal(buildHTTPProxy(canaryWith(), split(100, 0)).metadata.annotations?.[CONTOUR_INGRESS_CLASS_ANNOTATION], undefined);
});

test("a live proxy's virtualhost is kept: an adopted root proxy stays a root", () => {
  const proxy = buildHTTPProxy(canaryWith(), split(90, 10), undefined, { fqdn: 'app.example.com' });
  assert.deepEqual(proxy.spec, { virtualhost: { fqdn: 'app.example.com' }, ...(fixture('contour-90-10.yaml') as { spec: object }).spec });
});

test('a proxy written by Flagger (zero weights omitted) reads the same split', () => {
  const proxy = fixture('contour-100-0.yaml') as { spec: { routes: Array<{ services: Array<Record<string, unknown>> }> } };
  delete proxy.spec.routes[0]?.services[1]?.weight;
  assert.deepEqual(readHTTPProxyRoutes(canaryWith(), proxy as unknown as KubeObject), split(100, 0));
});

test('a proxy without a route to both services is NotReady', () => {
  const proxy = fixture('contour-90-10.yaml') as { spec: { routes: Array<{ services: unknown[] }> } };
  proxy.spec.routes[0]?.services.pop();
  assert.throws(() => readHTTPProxyRoutes(canaryWith(), proxy as unknown as KubeObject), (e) => isFledgeError(e, 'NotReady'));
});

test('retries without retryOn or attempts keep only what was given', () => {
  assert.deepEqual(retryPolicyOf({ perTryTimeout: '2s' }), { perTryTimeout: '2s' });
  assert.deepEqual(retryPolicyOf({ attempts: 2, retryOn: '5xx, retriable-status-codes,502' }), {
    count: 2,
    retryOn: ['5xx', 'retriable-status-codes'],
    retriableStatusCodes: [502],
  });
  assert.equal(retryPolicyOf(undefined), undefined);
});

test('problems: non-header A/B conditions, a service.match beyond a prefix and unknown retry conditions', () => {
  const canary = canaryWith((r) => {
    r.spec.service.match = [{ uri: { exact: '/api' } }, { uri: { prefix: '/b' } }];
    r.spec.service.retries = { attempts: 2, retryOn: 'gateway-error,retriable-4xx,unknown-thing' };
    r.spec.analysis = {
      interval: '1m',
      threshold: 5,
      iterations: 5,
      match: [{ headers: { 'x-a': { exact: 'b' } }, queryParams: { q: { exact: '1' } } }, { method: { exact: 'GET' } }],
    };
  });
  assert.deepEqual(
    contourProblems(canary).map((p) => p.path),
    [
      'spec.service.match[0]',
      'spec.service.match[1]',
      'spec.analysis.match[0].queryParams',
      'spec.analysis.match[1].method',
      'spec.analysis.match[1].headers',
      'spec.service.retries.retryOn',
    ],
  );
  assert.match(contourProblems(canary).at(-1)?.rule ?? '', /cannot retry on "unknown-thing"/);
  assert.deepEqual(contourProblems(canaryWith()), []);
  assert.deepEqual(contourProblems(abCanary), []);
});

test('registered as contour: A/B passes checkSupport, mirroring and session affinity are refused naming the router', () => {
  assert.equal(createRouter('contour', { kube: unusedKube }).name, 'contour');
  assert.equal(createContourRouter({ kube: unusedKube }, { ingressClass: 'x' }).name, 'contour');
  assert.deepEqual(checkSupport(abCanary, 'contour'), []);
  const canary = canaryWith((r) => {
    delete r.spec.provider;
    r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5, mirror: true, sessionAffinity: { cookieName: 'c' } };
  });
  const problems = checkSupport(canary, 'contour');
  assert.deepEqual(problems.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity']);
  for (const p of problems) assert.match(p.rule, /router "contour" cannot (mirror|keep session affinity)/);
});

test('setRoutes refuses a split that does not add up and a mirror before any API call', async () => {
  const router = createRouter('contour', { kube: unusedKube });
  await assert.rejects(router.setRoutes(canaryWith(), { primary: 90, canary: 20, mirrored: false }), (e) => isFledgeError(e, 'InvalidSpec'));
  await assert.rejects(router.setRoutes(canaryWith(), { primary: 100, canary: 0, mirrored: true }), /cannot mirror/);
});
