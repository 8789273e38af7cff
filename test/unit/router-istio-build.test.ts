/**
 * Golden tests of the istio router's pure builders: each fixture under test/fixtures/routers/ was
 * written by hand from Istio's VirtualService / DestinationRule reference, not produced by the code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { RouteState } from '../../providers/routers/istio-build.js';
import { buildDestinationRule, buildVirtualService, buildVirtualServiceSpec, mergeMatches, setCookieValue } from '../../providers/routers/istio-build.js';
import { buildRules } from '../../providers/routers/gatewayapi-build.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): unknown => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as unknown;

type Raw = { spec: { service: Record<string, unknown>; analysis: Record<string, unknown> } };

/** The fixture canary, changed by `edit` before parsing. */
const canaryWith = (edit: (raw: Raw) => void = () => undefined): Canary => {
  const raw = structuredClone(fixture('canary-istio.yaml')) as Raw;
  edit(raw);
  return parseCanary(raw);
};

const split = (primary: number, canary: number, mirrored = false): RouteState => ({ routes: { primary, canary, mirrored } });
const COOKIE = 'flagger-cookie=LpsIaLdoNZ';
const withAffinity = (raw: Raw): void => {
  raw.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 21600 };
};

const PRIMARY_COOKIE = 'primary-cookie=QwErTyUiOp';
const withPrimaryAffinity = (raw: Raw): void => {
  raw.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', primaryCookieName: 'primary-cookie', maxAge: 21600 };
};
/** Inside the mesh (no ports), with a service match and a route-level response header, a 30s interval. */
const meshPrimaryAffinity = (raw: Raw): void => {
  const s = raw.spec.service;
  for (const key of ['gateways', 'hosts', 'portDiscovery', 'timeout', 'retries']) delete s[key];
  s.match = [{ uri: { prefix: '/api' } }];
  s.headers = { response: { add: { 'x-served-by': 'podinfo' } } };
  Object.assign(raw.spec.analysis, { interval: '30s', sessionAffinity: { cookieName: 'canary-cookie', primaryCookieName: 'primary-cookie' } });
};

const cases: Array<{ file: string; canary: Canary; state: RouteState }> = [
  { file: 'vs-canary-100-0.yaml', canary: canaryWith(), state: split(100, 0) },
  { file: 'vs-canary-90-10.yaml', canary: canaryWith(), state: split(90, 10) },
  { file: 'vs-canary-0-100.yaml', canary: canaryWith(), state: split(0, 100) },
  { file: 'vs-mirrored-100-0.yaml', canary: canaryWith((r) => (r.spec.analysis.mirror = true)), state: split(100, 0, true) },
  {
    file: 'vs-ab-0-100.yaml',
    canary: canaryWith((r) => {
      r.spec.service.match = [{ uri: { prefix: '/api' } }];
      r.spec.analysis = { interval: '1m', threshold: 5, iterations: 10, match: [{ headers: { 'x-user-type': { exact: 'test' } } }] };
    }),
    state: split(0, 100),
  },
  { file: 'vs-affinity-90-10.yaml', canary: canaryWith(withAffinity), state: { ...split(90, 10), cookies: { active: COOKIE } } },
  {
    file: 'vs-affinity-expiring-100-0.yaml',
    canary: canaryWith(withAffinity),
    state: { ...split(100, 0), cookies: { expiring: COOKIE } },
  },
  {
    file: 'vs-affinity-primary-90-10.yaml',
    canary: canaryWith(withPrimaryAffinity),
    state: { ...split(90, 10), cookies: { active: COOKIE, primary: PRIMARY_COOKIE } },
  },
  {
    file: 'vs-affinity-primary-mesh-50-50.yaml',
    canary: canaryWith(meshPrimaryAffinity),
    state: { ...split(50, 50), cookies: { active: 'canary-cookie=LpsIaLdoNZ', primary: PRIMARY_COOKIE } },
  },
  { file: 'vs-tcp-90-10.yaml', canary: canaryWith((r) => (r.spec.service.appProtocol = 'tcp')), state: split(90, 10) },
  {
    file: 'vs-mesh-100-0.yaml',
    canary: canaryWith((r) => {
      const s = r.spec.service;
      for (const key of ['gateways', 'hosts', 'portDiscovery', 'timeout', 'retries']) delete s[key];
      s.apex = { labels: { 'app.kubernetes.io/part-of': 'shop' }, annotations: { team: 'web' } };
      s.match = [{ uri: { prefix: '/api' } }];
      s.rewrite = { uri: '/' };
      s.headers = { request: { add: { 'x-envoy-upstream-rq-timeout-ms': '15000' }, remove: ['test'] }, response: { remove: ['token'] } };
      s.corsPolicy = { allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['GET', 'POST'], allowCredentials: true, maxAge: '24h' };
    }),
    state: split(100, 0),
  },
  {
    file: 'vs-delegate-90-10.yaml',
    canary: canaryWith((r) => {
      for (const key of ['gateways', 'hosts', 'timeout', 'retries']) delete r.spec.service[key];
      r.spec.service.delegation = true;
    }),
    state: split(90, 10),
  },
];

for (const { file, canary, state } of cases) {
  test(`VirtualService matches ${file}`, () => {
    assert.deepEqual(buildVirtualService(canary, state), fixture(file));
  });
}

test('DestinationRule matches destinationrule-primary.yaml', () => {
  assert.deepEqual(buildDestinationRule(canaryWith(), 'podinfo-primary'), fixture('destinationrule-primary.yaml'));
});

test('a DestinationRule without trafficPolicy has only the host', () => {
  const rule = buildDestinationRule(canaryWith((r) => delete r.spec.service.trafficPolicy), 'podinfo-canary');
  assert.deepEqual(rule.spec, { host: 'podinfo-canary' });
});

test('mirrorWeight sets the mirrored percentage', () => {
  const canary = canaryWith((r) => Object.assign(r.spec.analysis, { mirror: true, mirrorWeight: 50 }));
  const http = (buildVirtualService(canary, split(100, 0, true)).spec as { http: Array<Record<string, unknown>> }).http;
  assert.deepEqual(http[0]?.mirrorPercentage, { value: 50 });
  assert.deepEqual(http[0]?.mirror, { host: 'podinfo-canary' });
});

test('the apex host is not added twice, nor next to a wildcard', () => {
  for (const hosts of [['podinfo', 'app.example.com'], ['*']]) {
    const vs = buildVirtualService(canaryWith((r) => (r.spec.service.hosts = hosts)), split(100, 0));
    assert.deepEqual((vs.spec as { hosts: string[] }).hosts, hosts);
  }
});

test('no owner reference for a canary without a uid', () => {
  const canary = canaryWith();
  const { uid: _uid, ...metadata } = canary.metadata;
  const vs = buildVirtualService({ ...canary, metadata }, split(100, 0));
  assert.equal(vs.metadata.ownerReferences, undefined);
});

test('mergeMatches combines every condition with every common match, condition fields winning', () => {
  const merged = mergeMatches(
    [{ headers: { 'x-user-type': { exact: 'test' } } }, { sourceLabels: { app: 'tester' }, uri: { exact: '/beta' } }],
    [{ uri: { prefix: '/api' }, headers: { host: { exact: 'a' } } }, { method: { exact: 'GET' } }],
  );
  assert.deepEqual(merged, [
    { uri: { prefix: '/api' }, headers: { host: { exact: 'a' }, 'x-user-type': { exact: 'test' } } },
    { method: { exact: 'GET' }, headers: { 'x-user-type': { exact: 'test' } } },
    { uri: { exact: '/beta' }, headers: { host: { exact: 'a' } }, sourceLabels: { app: 'tester' } },
    { method: { exact: 'GET' }, uri: { exact: '/beta' }, sourceLabels: { app: 'tester' } },
  ]);
  assert.deepEqual(mergeMatches([{ uri: { prefix: '/x' } }], []), [{ uri: { prefix: '/x' } }]);
});

test('primary cookie: without primaryCookieName, or once the canary has no weight, no primary route is built', () => {
  const cookies = { active: COOKIE, primary: PRIMARY_COOKIE };
  // A primary cookie left on the live object after primaryCookieName was removed is dropped.
  assert.deepEqual(buildVirtualService(canaryWith(withAffinity), { ...split(90, 10), cookies }), fixture('vs-affinity-90-10.yaml'));
  // After the run only the canary cookie is expired; the primary one is no longer handed out and lapses.
  const done = buildVirtualService(canaryWith(withPrimaryAffinity), { ...split(100, 0), cookies: { expiring: COOKIE } });
  assert.deepEqual(done.spec, (fixture('vs-affinity-expiring-100-0.yaml') as { spec: unknown }).spec);
});

test('primary cookie: A/B routing ignores session affinity, primary cookie included', () => {
  const canary = canaryWith((r) => {
    withPrimaryAffinity(r);
    delete r.spec.analysis.stepWeight;
    Object.assign(r.spec.analysis, { iterations: 10, match: [{ headers: { 'x-user-type': { exact: 'test' } } }] });
  });
  const http = (buildVirtualService(canary, { ...split(0, 100), cookies: { active: COOKIE, primary: PRIMARY_COOKIE } }).spec as {
    http: Array<Record<string, unknown>>;
  }).http;
  assert.equal(http.length, 2);
  assert.equal(JSON.stringify(http).includes('Cookie'), false);
});

test('primary cookie: Max-Age is the analysis interval in whole seconds', () => {
  const canary = canaryWith((r) => {
    withPrimaryAffinity(r);
    r.spec.analysis.interval = '2m30s';
  });
  const http = (buildVirtualService(canary, { ...split(80, 20), cookies: { active: COOKIE, primary: PRIMARY_COOKIE } }).spec as {
    http: Array<{ name?: string; route: Array<{ destination: { host: string }; headers?: { response: { add: Record<string, string> } } }> }>;
  }).http;
  assert.deepEqual(http.map((r) => r.name), ['sticky-route', 'sticky-primary-route', undefined]);
  const primary = http[2]?.route.find((d) => d.destination.host === 'podinfo-primary');
  assert.equal(primary?.headers?.response.add['Set-Cookie'], `${PRIMARY_COOKIE}; Max-Age=150`);
});

test('Flagger 1.42 cookie attributes follow Max-Age on every Set-Cookie, the expiring one included (istio and gatewayapi)', () => {
  const attributes = { domain: 'example.com', path: '/app', sameSite: 'Strict', secure: true, httpOnly: true, partitioned: true };
  const canary = canaryWith((raw) => {
    raw.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 21600, ...attributes };
  });
  const expected = `${COOKIE}; Max-Age=21600; Domain=example.com; Path=/app; SameSite=Strict; Secure; HttpOnly; Partitioned`;
  const active = JSON.stringify(buildVirtualServiceSpec(canary, { routes: { primary: 90, canary: 10, mirrored: false }, cookies: { active: COOKIE } }));
  assert.ok(active.includes(JSON.stringify(expected)), active);
  const expiring = JSON.stringify(buildVirtualServiceSpec(canary, { routes: { primary: 100, canary: 0, mirrored: false }, cookies: { expiring: COOKIE } }));
  assert.ok(expiring.includes(JSON.stringify(expected.replace('Max-Age=21600', 'Max-Age=-1'))), expiring);
  const gateway = JSON.stringify(buildRules(canary, { primary: 90, canary: 10, mirrored: false }, { active: COOKIE }));
  assert.ok(gateway.includes(JSON.stringify(expected)), gateway);
  // Without attributes nothing but Max-Age is written (the golden fixtures above pin that shape).
  assert.equal(setCookieValue(COOKIE, 60, { cookieName: 'flagger-cookie', maxAge: 60 }), `${COOKIE}; Max-Age=60`);
});
