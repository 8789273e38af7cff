/**
 * The gatewayapi router's pure parts: golden HTTPRoutes (fixtures under test/fixtures/routers/ written by
 * hand from the Gateway API reference, not produced by the code), reading a live route back, its
 * problems and its registration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import type { Routes } from '../../providers/routers/types.js';
import { buildHTTPRoute, gatewayApiVersionOf, mergeRouteMatches, toRouteMatch } from '../../providers/routers/gatewayapi-build.js';
import { gatewayApiProblems, notAcceptedReason, readHTTPRouteRoutes } from '../../providers/routers/gatewayapi.js';
import { checkSupport, createRouter } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): unknown => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as unknown;

type Raw = { spec: { provider?: string; service: Record<string, unknown>; analysis: Record<string, unknown> } };

const canaryWith = (edit: (raw: Raw) => void = () => undefined): Canary => {
  const raw = structuredClone(fixture('httproute-input-canary.yaml')) as Raw;
  edit(raw);
  return parseCanary(raw);
};

const split = (primary: number, canary: number, mirrored = false): Routes => ({ primary, canary, mirrored });
const abCanary = canaryWith((r) => {
  r.spec.service.match = [{ uri: { prefix: '/api' } }];
  r.spec.analysis = {
    interval: '1m',
    threshold: 5,
    iterations: 10,
    match: [{ headers: { 'x-user-type': { exact: 'test' } } }, { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } }],
  };
});
const mirrorCanary = canaryWith((r) => {
  r.spec.analysis = { interval: '1m', threshold: 5, iterations: 10, mirror: true };
});

const cases: Array<{ file: string; canary: Canary; routes: Routes }> = [
  { file: 'httproute-100-0.yaml', canary: canaryWith(), routes: split(100, 0) },
  { file: 'httproute-90-10.yaml', canary: canaryWith(), routes: split(90, 10) },
  { file: 'httproute-0-100.yaml', canary: canaryWith(), routes: split(0, 100) },
  { file: 'httproute-mirrored-100-0.yaml', canary: mirrorCanary, routes: split(100, 0, true) },
  { file: 'httproute-ab-0-100.yaml', canary: abCanary, routes: split(0, 100) },
];

for (const { file, canary, routes } of cases) {
  test(`HTTPRoute matches ${file}`, () => {
    assert.deepEqual(buildHTTPRoute(canary, routes), fixture(file));
  });
  test(`reading ${file} back gives the split it was built from`, () => {
    assert.deepEqual(readHTTPRouteRoutes(canary, fixture(file) as KubeObject), routes);
  });
}

test('gatewayapi:v1beta1 writes gateway.networking.k8s.io/v1beta1; other names write v1', () => {
  assert.equal(gatewayApiVersionOf('gatewayapi:v1beta1'), 'v1beta1');
  for (const name of ['gatewayapi', 'gatewayapi:v1', undefined]) assert.equal(gatewayApiVersionOf(name), 'v1');
  const route = buildHTTPRoute(canaryWith(), split(100, 0), 'v1beta1');
  assert.equal(route.apiVersion, 'gateway.networking.k8s.io/v1beta1');
});

test('mirrorWeight becomes the RequestMirror percent; a full rewrite and a hostname rewrite are kept', () => {
  const canary = canaryWith((r) => {
    r.spec.analysis = { interval: '1m', threshold: 5, iterations: 10, mirror: true, mirrorWeight: 25 };
    r.spec.service.rewrite = { uri: '/', authority: 'internal.example.com', type: 'ReplaceFullPath' };
    delete r.spec.service.headers;
    delete r.spec.service.timeout;
  });
  const rule = (buildHTTPRoute(canary, split(100, 0, true)).spec as { rules: Array<Record<string, unknown>> }).rules[0];
  assert.deepEqual(rule?.filters, [
    { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example.com', path: { type: 'ReplaceFullPath', replaceFullPath: '/' } } },
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898 }, percent: 25 } },
  ]);
  assert.equal(rule?.timeouts, undefined);
});

test('Istio-style conditions map to HTTPRouteMatch; A/B matches add to the common ones', () => {
  assert.deepEqual(
    toRouteMatch({ uri: { regex: '/v[0-9]+' }, method: { exact: 'GET' }, queryParams: { b: { regex: 'x.*' }, a: { exact: '1' } }, sourceLabels: { app: 'x' } }),
    {
      path: { type: 'RegularExpression', value: '/v[0-9]+' },
      method: 'GET',
      queryParams: [
        { type: 'Exact', name: 'a', value: '1' },
        { type: 'RegularExpression', name: 'b', value: 'x.*' },
      ],
    },
  );
  const common = [{ path: { type: 'PathPrefix' as const, value: '/api' }, headers: [{ type: 'Exact' as const, name: 'host', value: 'a' }] }];
  assert.deepEqual(mergeRouteMatches([{ headers: [{ type: 'Exact', name: 'x', value: '1' }] }], common), [
    {
      path: { type: 'PathPrefix', value: '/api' },
      headers: [
        { type: 'Exact', name: 'host', value: 'a' },
        { type: 'Exact', name: 'x', value: '1' },
      ],
    },
  ]);
});

test('an absent backend weight reads as 1, the Gateway API default', () => {
  const route = fixture('httproute-90-10.yaml') as { spec: { rules: Array<{ backendRefs: Array<Record<string, unknown>> }> } };
  for (const ref of route.spec.rules[0]?.backendRefs ?? []) delete ref.weight;
  assert.deepEqual(readHTTPRouteRoutes(canaryWith(), route as unknown as KubeObject), split(50, 50));
});

test('a route without a rule reaching both backends is NotReady', () => {
  const route = fixture('httproute-90-10.yaml') as { spec: { rules: Array<{ backendRefs: unknown[] }> } };
  route.spec.rules[0]?.backendRefs.pop();
  assert.throws(() => readHTTPRouteRoutes(canaryWith(), route as unknown as KubeObject), (e) => isFledgeError(e, 'NotReady'));
});

test('a parent that has not accepted the current generation is reported', () => {
  const route = fixture('httproute-90-10.yaml') as KubeObject;
  const parent = (status: string, observedGeneration: number) => ({
    ...route,
    metadata: { ...route.metadata, generation: 3 },
    status: { parents: [{ parentRef: { name: 'gateway', namespace: 'istio-ingress' }, conditions: [{ type: 'Accepted', status, observedGeneration }] }] },
  });
  assert.equal(notAcceptedReason(canaryWith(), parent('True', 3)), undefined);
  assert.match(notAcceptedReason(canaryWith(), parent('True', 2)) ?? '', /parent gateway is not ready .*observed generation: 2, current generation: 3/);
  assert.match(notAcceptedReason(canaryWith(), parent('False', 3)) ?? '', /status: False/);
});

test('problems: gateway references are required, unknown versions and inexpressible matches are refused', () => {
  const canary = canaryWith((r) => {
    r.spec.provider = 'gatewayapi:v2';
    r.spec.service.gatewayRefs = [];
    r.spec.service.match = [{ uri: { suffix: '.png' } }];
    r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5, match: [{ headers: { 'x-a': { prefix: 'b' } } }] };
  });
  assert.deepEqual(
    gatewayApiProblems(canary).map((p) => p.path),
    ['spec.provider', 'spec.service.gatewayRefs', 'spec.service.match[0].uri', 'spec.analysis.match[0].headers.x-a'],
  );
  assert.deepEqual(gatewayApiProblems(canaryWith()), []);
});

const unusedKube = new Proxy({} as KubeApi, { get: () => () => Promise.reject(new Error('not expected in this test')) });

test('registered as gatewayapi, gatewayapi:v1 and gatewayapi:v1beta1; session affinity is refused', () => {
  for (const name of ['gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1']) {
    assert.equal(createRouter(name, { kube: unusedKube }).name, 'gatewayapi');
    assert.deepEqual(checkSupport(mirrorCanary, name), []);
    assert.deepEqual(checkSupport(abCanary, name), []);
  }
  const sticky = canaryWith((r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie' }));
  assert.deepEqual(
    checkSupport(sticky, 'gatewayapi').map((p) => p.path),
    ['spec.analysis.sessionAffinity'],
  );
});

test('reconcile refuses a canary it cannot serve before touching the cluster', async () => {
  const router = createRouter('gatewayapi', { kube: unusedKube });
  const canary = canaryWith((r) => (r.spec.service.gatewayRefs = []));
  await assert.rejects(router.reconcile(canary), (e) => isFledgeError(e, 'InvalidSpec') && /gatewayRefs/.test(e.message));
});
