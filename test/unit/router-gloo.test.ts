/**
 * The gloo router's pure parts: golden RouteTables and Upstream (fixtures under test/fixtures/routers/
 * written by hand from Gloo Edge's API reference), reading a RouteTable back, problems, registration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import { buildRouteTable, buildUpstream, isUpstreamName, upstreamName } from '../../providers/routers/gloo-build.js';
import { glooProblems, readRouteTableRoutes } from '../../providers/routers/gloo.js';
import { checkSupport, createRouter } from '../../providers/routers/index.js';
import { canaryFromFixture, goldenRoundTrips, routerFixture, split, unusedKube, weightCases } from './support/router-fixtures.js';

const fixture = (name: string): unknown => routerFixture(name);
const canaryWith = canaryFromFixture('gloo-input-canary.yaml');
const abCanary = canaryWith((r) => {
  r.spec.analysis = {
    interval: '1m',
    threshold: 5,
    iterations: 10,
    match: [
      { headers: { 'x-canary': { exact: 'insider' } } },
      { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } }, queryParams: { beta: { prefix: 'on' } }, method: { exact: 'GET' } },
    ],
  };
});

goldenRoundTrips(
  'RouteTable',
  [...weightCases('gloo-routetable', canaryWith()), { file: 'gloo-routetable-ab-0-100.yaml', canary: abCanary, routes: split(0, 100) }],
  buildRouteTable,
  readRouteTableRoutes,
);

test('the primary Upstream copies the upstreamRef settings Flagger copies, and nothing else', () => {
  const config = (fixture('gloo-config-upstream.yaml') as { spec: Record<string, unknown> }).spec;
  assert.deepEqual(buildUpstream(canaryWith(), 'primary', { app: 'podinfo-primary' }, config), fixture('gloo-upstream-primary.yaml'));
  const plain = buildUpstream(canaryWith(), 'canary', { app: 'podinfo' });
  assert.equal(plain.metadata.name, 'test-podinfo-canaryupstream-9898');
  assert.deepEqual(plain.spec, { kube: { serviceName: 'podinfo-canary', serviceNamespace: 'test', servicePort: 9898, selector: { app: 'podinfo' } } });
});

test('Upstream names follow Flagger: <namespace>-<service>-<side>upstream-<port>', () => {
  assert.equal(upstreamName(canaryWith(), 'primary'), 'test-podinfo-primaryupstream-9898');
  assert.equal(upstreamName(canaryWith((r) => (r.spec.service = { name: 'web', port: 80 })), 'canary'), 'test-web-canaryupstream-80');
});

test('a port change keeps the live split: the Upstreams are found on any port', () => {
  const otherPort = canaryWith((r) => (r.spec.service = { port: 8080 }));
  assert.deepEqual(readRouteTableRoutes(otherPort, fixture('gloo-routetable-90-10.yaml') as KubeObject), split(90, 10));
  assert.equal(isUpstreamName(otherPort, 'primary', 'test-podinfo-primaryupstream-9898'), true);
  assert.equal(isUpstreamName(otherPort, 'canary', 'test-podinfo-primaryupstream-9898'), false);
  assert.equal(isUpstreamName(otherPort, 'primary', 'test-podinfo-primaryupstream-x'), false);
});

test('a RouteTable written by Flagger (zero weight omitted) reads the same; one without both upstreams is NotReady', () => {
  type Table = { spec: { routes: Array<{ routeAction: { multi: { destinations: Array<Record<string, unknown>> } } }> } };
  const table = fixture('gloo-routetable-100-0.yaml') as Table;
  delete table.spec.routes[0]?.routeAction.multi.destinations[1]?.weight;
  assert.deepEqual(readRouteTableRoutes(canaryWith(), table as unknown as KubeObject), split(100, 0));
  table.spec.routes[0]?.routeAction.multi.destinations.pop();
  assert.throws(() => readRouteTableRoutes(canaryWith(), table as unknown as KubeObject), (e) => isFledgeError(e, 'NotReady'));
});

test('problems: path and other non-header conditions, inexact methods and empty conditions are refused', () => {
  const canary = canaryWith((r) => {
    r.spec.analysis = {
      interval: '1m',
      threshold: 5,
      iterations: 5,
      match: [{ uri: { prefix: '/api' }, headers: { a: { exact: 'b' } } }, { method: { regex: 'GET|HEAD' } }, { name: 'nothing' }],
    };
  });
  assert.deepEqual(
    glooProblems(canary).map((p) => p.path),
    ['spec.analysis.match[0].uri', 'spec.analysis.match[1].method', 'spec.analysis.match[2]'],
  );
  assert.match(glooProblems(canary)[0]?.rule ?? '', /router "gloo" matches A\/B requests on headers, query parameters and method only/);
  assert.deepEqual(glooProblems(abCanary), []);
});

test('registered as gloo and gloo:<namespace>; mirroring and session affinity are refused naming the router', () => {
  for (const name of ['gloo', 'gloo:gloo-system']) {
    assert.equal(createRouter(name, { kube: unusedKube }).name, 'gloo');
    assert.deepEqual(checkSupport(abCanary, name), []);
  }
  const canary = canaryWith((r) => {
    delete r.spec.provider;
    r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5, mirror: true, sessionAffinity: { cookieName: 'c' } };
  });
  const problems = checkSupport(canary, 'gloo');
  assert.deepEqual(problems.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity']);
  for (const p of problems) assert.match(p.rule, /router "gloo" cannot/);
});
