/**
 * The appmesh router's pure parts: golden App Mesh objects (test/fixtures/routers/appmesh-*.yaml,
 * written by hand from the App Mesh controller's v1beta2 API reference), reading the split back, the
 * A/B conditions App Mesh can express, and the registration of `appmesh` and `appmesh:v1beta2`.
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
  buildApexVirtualRouter,
  buildCanaryVirtualRouter,
  buildVirtualNode,
  buildVirtualService,
  headerMatches,
  listenerProtocol,
} from '../../providers/routers/appmesh-build.js';
import { appMeshProblems, readVirtualRouterRoutes } from '../../providers/routers/appmesh.js';
import { checkSupport, createRouter, routerCapabilities } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): unknown => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as unknown;

type Raw = { spec: { service: Record<string, unknown>; analysis: Record<string, unknown> } };
const canaryWith = (edit: (raw: Raw) => void = () => undefined): Canary => {
  const raw = structuredClone(fixture('appmesh-input-canary.yaml')) as Raw;
  edit(raw);
  return parseCanary(raw);
};
const abCanary = (match: unknown[]): Canary =>
  canaryWith((r) => {
    r.spec.analysis = { interval: '1m', threshold: 5, iterations: 10, match };
  });
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });

for (const routes of [split(100, 0), split(90, 10), split(0, 100)]) {
  const file = `appmesh-virtualrouter-${routes.primary}-${routes.canary}.yaml`;
  test(`VirtualRouter matches ${file}`, () => {
    assert.deepEqual(buildApexVirtualRouter(canaryWith(), routes), fixture(file));
  });
  test(`${file} reads back as ${routes.primary}/${routes.canary}`, () => {
    assert.deepEqual(readVirtualRouterRoutes(canaryWith(), fixture(file) as KubeObject), routes);
  });
}

const ab = abCanary([{ headers: { 'x-canary': { exact: 'insider' }, 'user-agent': { regex: '.*Firefox.*' } } }]);

test('A/B VirtualRouter matches appmesh-virtualrouter-ab-0-100.yaml and reads back as 0/100', () => {
  assert.deepEqual(buildApexVirtualRouter(ab, split(0, 100)), fixture('appmesh-virtualrouter-ab-0-100.yaml'));
  assert.deepEqual(readVirtualRouterRoutes(ab, fixture('appmesh-virtualrouter-ab-0-100.yaml') as KubeObject), split(0, 100));
});

test('VirtualNodes, the canary VirtualRouter and both VirtualServices match their fixtures', () => {
  const canary = canaryWith();
  assert.deepEqual(buildVirtualNode(canary, 'primary', { app: 'podinfo-primary' }), fixture('appmesh-virtualnode-primary.yaml'));
  assert.deepEqual(buildVirtualNode(canary, 'canary', { app: 'podinfo' }), fixture('appmesh-virtualnode-canary.yaml'));
  assert.deepEqual(buildCanaryVirtualRouter(canary), fixture('appmesh-virtualrouter-canary.yaml'));
  assert.deepEqual(buildVirtualService(canary, 'podinfo'), fixture('appmesh-virtualservice-apex.yaml'));
  assert.deepEqual(buildVirtualService(canary, 'podinfo-canary'), fixture('appmesh-virtualservice-canary.yaml'));
});

test('without timeout, retries, backends or hosts those fields are left out; a grpc port name gives grpc', () => {
  const canary = canaryWith((r) => {
    r.spec.service = { port: 9898, portName: 'grpc-web', targetPort: 'grpc' };
  });
  assert.equal(listenerProtocol(canary.spec.service), 'grpc');
  const node = buildVirtualNode(canary, 'primary', { app: 'x' }).spec as Record<string, unknown>;
  assert.deepEqual(node.listeners, [{ portMapping: { port: 9898, protocol: 'grpc' } }]);
  assert.equal(node.backends, undefined);
  const router = buildApexVirtualRouter(canary, split(100, 0)).spec as { routes: Array<{ httpRoute: Record<string, unknown> }> };
  assert.deepEqual(Object.keys(router.routes[0]?.httpRoute ?? {}).sort(), ['action', 'match']);
  assert.deepEqual(buildVirtualService(canary, 'podinfo').metadata.annotations, { 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' });
});

test('retries default to one attempt on gateway-error with 250ms per try, as in Flagger', () => {
  const canary = canaryWith((r) => {
    r.spec.service.retries = { attempts: 0 };
  });
  const router = buildApexVirtualRouter(canary, split(100, 0)).spec as { routes: Array<{ httpRoute: { retryPolicy: unknown } }> };
  assert.deepEqual(router.routes[0]?.httpRoute.retryPolicy, { httpRetryEvents: ['gateway-error'], maxRetries: 1, perRetryTimeout: { unit: 'ms', value: 250 } });
});

test('header matches take exact, prefix, suffix or regex', () => {
  assert.deepEqual(headerMatches({ headers: { b: { suffix: 'x' }, a: { prefix: 'y' } } }), [
    { name: 'a', match: { prefix: 'y' } },
    { name: 'b', match: { suffix: 'x' } },
  ]);
});

test('a router without a route reaching both nodes is NotReady', () => {
  const router = fixture('appmesh-virtualrouter-ab-0-100.yaml') as KubeObject & { spec: { routes: unknown[] } };
  router.spec.routes.shift();
  assert.throws(() => readVirtualRouterRoutes(ab, router), (e) => isFledgeError(e, 'NotReady') && /podinfo-primary and podinfo-canary/.test(e.message));
});

test('conditions App Mesh cannot express are problems naming the field', () => {
  const paths = (canary: Canary): string[] => appMeshProblems(canary).map((p) => p.path);
  assert.deepEqual(paths(ab), []);
  assert.deepEqual(paths(abCanary([{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }])), ['spec.analysis.match[1]']);
  assert.deepEqual(paths(abCanary([{ uri: { prefix: '/api' }, headers: { a: { exact: '1' } } }])), ['spec.analysis.match[0].uri']);
  assert.deepEqual(paths(abCanary([{ queryParams: { a: { exact: '1' } } }])), ['spec.analysis.match[0].queryParams', 'spec.analysis.match[0].headers']);
  const regexPath = canaryWith((r) => {
    r.spec.service.match = [{ uri: { regex: '/v[0-9]' } }];
  });
  assert.deepEqual(paths(regexPath), ['spec.service.match[0].uri']);
});

test('checkSupport: appmesh serves every strategy, refuses mirroring and session affinity by name', () => {
  assert.deepEqual(checkSupport(canaryWith(), 'appmesh'), []);
  assert.deepEqual(checkSupport(ab, 'appmesh:v1beta2'), []);
  const refused = checkSupport(
    canaryWith((r) => {
      r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5, mirror: true, sessionAffinity: { cookieName: 'c' } };
      delete (r.spec as { provider?: string }).provider;
    }),
    'appmesh',
  );
  assert.deepEqual(refused.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity']);
  for (const p of refused) assert.match(p.rule, /router "appmesh" cannot/);
  const twoConditions = checkSupport(abCanary([{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }]), 'appmesh');
  assert.match(twoConditions[0]?.rule ?? '', /router "appmesh" can match one A\/B condition only/);
});

test('appmesh and appmesh:v1beta2 are the same router under their own names', () => {
  const kube = {} as KubeApi;
  for (const name of ['appmesh', 'appmesh:v1beta2']) {
    const router = createRouter(name, { kube });
    assert.equal(router.name, name);
    assert.deepEqual(routerCapabilities(name), { strategies: ['canary', 'ab', 'bluegreen'], mirror: false, sessionAffinity: false });
  }
  assert.throws(() => createRouter('appmesh:v1beta1', { kube }), (e) => isFledgeError(e, 'UnknownProvider'));
});
