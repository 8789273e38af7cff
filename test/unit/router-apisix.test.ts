/**
 * The apisix router's pure parts: golden canary ApisixRoutes (test/fixtures/routers/apisixroute-*.yaml,
 * written by hand from the ApisixRoute/v2 reference), reading the split back, and what it refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import { apisixProblems, buildApisixCanaryRoute, canaryRouteName, readApisixRoutes } from '../../providers/routers/apisix.js';
import { checkSupport } from '../../providers/routers/index.js';
import { canaryFor, goldenRoundTrips, routerFixture as fixture, split, weightCases } from './support/router-fixtures.js';

const userRoute = (): KubeObject => fixture('apisixroute-podinfo.yaml');
const canaryWith = canaryFor('apisix', { routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'podinfo' } }, { threshold: 10 });
type Backend = Record<string, unknown>;
const backendsOf = (route: KubeObject): Backend[] => ((route.spec as { http: Array<{ backends: Backend[] }> }).http[0]?.backends ?? []);

goldenRoundTrips('canary ApisixRoute', weightCases('apisixroute-canary', canaryWith()), (canary, routes) => buildApisixCanaryRoute(canary, userRoute(), routes), readApisixRoutes);

test('the copy is named <route>-<apex>-canary and leaves the user route untouched', () => {
  const canary = canaryWith({}, { service: { name: 'web', port: 80 } });
  assert.equal(canaryRouteName(canary), 'podinfo-web-canary');
  const route = userRoute();
  (route.spec as { http: Array<{ backends: Backend[] }> }).http[1]?.backends.forEach((b) => (b.serviceName = 'web'));
  const before = structuredClone(route);
  const built = buildApisixCanaryRoute(canary, route, split(90, 10));
  assert.deepEqual(route, before);
  assert.deepEqual(backendsOf(built).map((b) => b.serviceName), ['web-primary', 'web-canary']);
});

test('a subset is copied to the canary backend; absent weights read as APISIX default 100 each', () => {
  const route = userRoute();
  const rule = (route.spec as { http: Array<{ backends: Backend[] }> }).http[1];
  if (rule?.backends[0]) rule.backends[0].subset = 'v1';
  const built = buildApisixCanaryRoute(canaryWith(), route, split(100, 0));
  assert.equal(backendsOf(built)[1]?.subset, 'v1');
  for (const b of backendsOf(built)) delete b.weight;
  assert.deepEqual(readApisixRoutes(canaryWith(), built), split(50, 50));
});

test('a user route without a single backend for the apex Service is refused, naming spec.routeRef.name', () => {
  const none = userRoute();
  (none.spec as { http: unknown[] }).http.pop();
  assert.throws(
    () => buildApisixCanaryRoute(canaryWith(), none, split(100, 0)),
    (e) => isFledgeError(e, 'InvalidSpec') && e.problems[0]?.path === 'spec.routeRef.name' && /no http backend for Service "podinfo"/.test(e.message),
  );
  const two = userRoute();
  (two.spec as { http: Array<{ backends: Backend[] }> }).http[1]?.backends.push({ serviceName: 'other', servicePort: 80 });
  assert.throws(() => buildApisixCanaryRoute(canaryWith(), two, split(100, 0)), (e) => isFledgeError(e, 'InvalidSpec') && /one backend per http rule/.test(e.message));
});

test('a copy without the primary backend is NotReady', () => {
  const route = fixture('apisixroute-canary-90-10.yaml');
  for (const b of backendsOf(route)) b.serviceName = 'elsewhere';
  assert.throws(() => readApisixRoutes(canaryWith(), route), (e) => isFledgeError(e, 'NotReady'));
});

test('checkSupport: apisix refuses A/B testing, mirroring, session affinity and a missing routeRef, naming the router', () => {
  assert.deepEqual(checkSupport(canaryWith(), 'apisix'), []);
  assert.deepEqual(checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5 }), 'apisix'), []);
  const ab = checkSupport(canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }), 'apisix');
  assert.deepEqual(ab.map((p) => p.path), ['spec.analysis.match']);
  assert.match(ab[0]?.rule ?? '', /router "apisix" cannot do A\/B testing/);
  const more = checkSupport(canaryWith({ mirror: true, sessionAffinity: { cookieName: 'c' } }, { routeRef: undefined, provider: undefined }), 'apisix');
  assert.deepEqual(more.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity', 'spec.routeRef']);
  for (const p of more) assert.match(p.rule, /router "apisix"/);
  assert.deepEqual(apisixProblems(canaryWith({}, { routeRef: undefined })), [{ path: 'spec.routeRef', rule: 'router "apisix" needs the ApisixRoute to copy' }]);
});
