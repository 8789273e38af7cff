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
import type { GatewayAffinityCookies } from '../../providers/routers/gatewayapi-build.js';
import { buildHTTPRoute, gatewayApiVersionOf, mergeRouteMatches, toRouteMatch } from '../../providers/routers/gatewayapi-build.js';
import {
  gatewayApiProblems,
  nextAffinityCookies,
  notAcceptedReason,
  readAffinityCookies,
  readHTTPRouteRoutes,
} from '../../providers/routers/gatewayapi.js';
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

test('registered as gatewayapi, gatewayapi:v1 and gatewayapi:v1beta1; session affinity is served', () => {
  const sticky = canaryWith((r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie' }));
  for (const name of ['gatewayapi', 'gatewayapi:v1', 'gatewayapi:v1beta1']) {
    const router = createRouter(name, { kube: unusedKube });
    assert.equal(router.name, 'gatewayapi');
    assert.equal(router.capabilities.sessionAffinity, true);
    assert.deepEqual(checkSupport(mirrorCanary, name), []);
    assert.deepEqual(checkSupport(abCanary, name), []);
    assert.deepEqual(checkSupport(sticky, name), []);
  }
});

test('reconcile refuses a canary it cannot serve before touching the cluster', async () => {
  const router = createRouter('gatewayapi', { kube: unusedKube });
  const canary = canaryWith((r) => (r.spec.service.gatewayRefs = []));
  await assert.rejects(router.reconcile(canary), (e) => isFledgeError(e, 'InvalidSpec') && /gatewayRefs/.test(e.message));
});

// Session affinity. The cookie values are fixed by the fixtures; fresh ones come from `fresh`.
const ACTIVE = 'flagger-cookie=LpsIaLdoNZ';
const PRIMARY = 'primary-cookie=QwErTyUiOp';
const stickyCanary = canaryWith((r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 21600 }));
const primaryStickyCanary = canaryWith(
  (r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', primaryCookieName: 'primary-cookie', maxAge: 21600 }),
);

const affinityCases: Array<{ file: string; canary: Canary; routes: Routes; cookies: GatewayAffinityCookies }> = [
  { file: 'httproute-affinity-90-10.yaml', canary: stickyCanary, routes: split(90, 10), cookies: { active: ACTIVE } },
  { file: 'httproute-affinity-primary-90-10.yaml', canary: primaryStickyCanary, routes: split(90, 10), cookies: { active: ACTIVE, primary: PRIMARY } },
  { file: 'httproute-affinity-expiring-100-0.yaml', canary: stickyCanary, routes: split(100, 0), cookies: { expiring: ACTIVE } },
];

for (const { file, canary, routes, cookies } of affinityCases) {
  test(`affinity: HTTPRoute matches ${file}`, () => {
    assert.deepEqual(buildHTTPRoute(canary, routes, 'v1', cookies), fixture(file));
  });
  test(`affinity: reading ${file} back gives its split (sticky rules ignored) and its cookies`, () => {
    const live = fixture(file) as KubeObject;
    assert.deepEqual(readHTTPRouteRoutes(canary, live), routes);
    assert.deepEqual(readAffinityCookies(canary, live), cookies);
  });
}

test('affinity: without sessionAffinity no cookie rule is written, and a route without cookies reads none', () => {
  assert.deepEqual(buildHTTPRoute(canaryWith(), split(90, 10), 'v1', { active: ACTIVE }), fixture('httproute-90-10.yaml'));
  assert.deepEqual(buildHTTPRoute(stickyCanary, split(90, 10)), fixture('httproute-90-10.yaml'));
  assert.deepEqual(readAffinityCookies(stickyCanary, fixture('httproute-90-10.yaml') as KubeObject), {});
});

test('affinity: an A/B route ignores session affinity, as the istio router does', () => {
  const abSticky = canaryWith((r) => {
    r.spec.service.match = [{ uri: { prefix: '/api' } }];
    r.spec.analysis = {
      interval: '1m',
      threshold: 5,
      iterations: 10,
      match: [{ headers: { 'x-user-type': { exact: 'test' } } }, { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } }],
      sessionAffinity: { cookieName: 'flagger-cookie' },
    };
  });
  assert.deepEqual(buildHTTPRoute(abSticky, split(0, 100), 'v1', { active: ACTIVE }), fixture('httproute-ab-0-100.yaml'));
});

test('affinity: the expiring cookie gets its own ResponseHeaderModifier when the service adds no response header', () => {
  const plain = canaryWith((r) => {
    delete r.spec.service.headers;
    r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie' };
  });
  const rules = (buildHTTPRoute(plain, split(100, 0), 'v1', { expiring: ACTIVE }).spec as { rules: Array<Record<string, unknown>> }).rules;
  assert.equal(rules.length, 2);
  assert.deepEqual(rules[0]?.filters, [
    { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: `${ACTIVE}; Max-Age=-1` }] } },
  ]);
});

test('affinity: the canary cookie is made once per run and expires when the canary has no weight', () => {
  let n = 0;
  const fresh = (): string => `v${++n}`;
  assert.deepEqual(nextAffinityCookies(stickyCanary, split(90, 10), split(100, 0), {}, fresh), { active: 'flagger-cookie=v1' });
  assert.deepEqual(nextAffinityCookies(stickyCanary, split(80, 20), split(90, 10), { active: ACTIVE }, fresh), { active: ACTIVE });
  // A renamed cookie starts afresh.
  assert.deepEqual(nextAffinityCookies(stickyCanary, split(80, 20), split(90, 10), { active: 'old=x' }, fresh), { active: 'flagger-cookie=v2' });
  assert.deepEqual(nextAffinityCookies(stickyCanary, split(100, 0), split(50, 50), { active: ACTIVE }, fresh), { expiring: ACTIVE });
  assert.deepEqual(nextAffinityCookies(stickyCanary, split(100, 0), split(100, 0), { expiring: ACTIVE }, fresh), { expiring: ACTIVE });
  assert.deepEqual(nextAffinityCookies(stickyCanary, split(100, 0), undefined, {}, fresh), {});
  assert.deepEqual(nextAffinityCookies(canaryWith(), split(90, 10), split(100, 0), { active: ACTIVE }, fresh), {});
});

test('affinity: the primary cookie is renewed at each new split and kept when the live split is written again', () => {
  let n = 0;
  const fresh = (): string => `v${++n}`;
  const first = nextAffinityCookies(primaryStickyCanary, split(90, 10), split(100, 0), {}, fresh);
  assert.deepEqual(first, { active: 'flagger-cookie=v1', primary: 'primary-cookie=v2' });
  assert.deepEqual(nextAffinityCookies(primaryStickyCanary, split(90, 10), split(90, 10), first, fresh), first);
  const next = nextAffinityCookies(primaryStickyCanary, split(80, 20), split(90, 10), first, fresh);
  assert.deepEqual(next, { active: 'flagger-cookie=v1', primary: 'primary-cookie=v3' });
  // Once the canary has no weight there is no primary cookie to hand out; the last one lapses after an interval.
  assert.deepEqual(nextAffinityCookies(primaryStickyCanary, split(100, 0), split(80, 20), next, fresh), { expiring: 'flagger-cookie=v1' });
});

test('affinity: a Set-Cookie in service.headers.response.add is refused (it would clash with the cookie)', () => {
  const clash = canaryWith((r) => {
    r.spec.service.headers = { response: { add: { 'set-cookie': 'a=b' } } };
    r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie' };
  });
  assert.deepEqual(gatewayApiProblems(clash).map((p) => p.path), ['spec.service.headers.response.add']);
  assert.match(checkSupport(clash, 'gatewayapi')[0]?.rule ?? '', /Set-Cookie/);
  const noAffinity = canaryWith((r) => (r.spec.service.headers = { response: { add: { 'set-cookie': 'a=b' } } }));
  assert.deepEqual(gatewayApiProblems(noAffinity), []);
});
