/** The router registry and its support checks; the kubernetes router's pure selector logic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi } from '../../src/kube/api.js';
import { checkSupport, createRouter, knownRouters, routerCapabilities } from '../../providers/routers/index.js';
import { sameSelector, selectedSide, selectorPatch, sideOf } from '../../providers/routers/kubernetes.js';

// The registry never calls the API while building a router, so an API that fails loudly suffices.
const unusedKube = new Proxy({} as KubeApi, {
  get: () => () => Promise.reject(new Error('not expected in this test')),
});

const canary = (analysis: Record<string, unknown>, service: Record<string, unknown> = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'default' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898, ...service },
      analysis: { interval: '1m', threshold: 5, ...analysis },
    },
  });

test('knownRouters lists the registered names, sorted', () => {
  const names = knownRouters();
  for (const name of ['istio', 'kubernetes']) assert.ok(names.includes(name), name);
  assert.deepEqual(names, [...names].sort());
});

test('createRouter builds the router of each known name', () => {
  for (const name of knownRouters()) {
    const router = createRouter(name, { kube: unusedKube });
    assert.equal(router.name, name);
    assert.deepEqual(router.capabilities, routerCapabilities(name));
  }
});

test('an unknown router is an UnknownProvider error listing the known ones', () => {
  const listed = knownRouters().join(', ');
  for (const name of ['mystery-mesh', 'istio:v2', '', 'toString']) {
    assert.throws(
      () => createRouter(name, { kube: unusedKube }),
      (e) => isFledgeError(e, 'UnknownProvider') && e.message.includes(`"${name}"`) && e.message.includes(listed),
    );
  }
  assert.equal(routerCapabilities('mystery-mesh'), undefined);
});

test('checkSupport: istio serves every strategy, mirroring and session affinity', () => {
  assert.deepEqual(checkSupport(canary({ stepWeight: 10, mirror: true, sessionAffinity: { cookieName: 'c' } }), 'istio'), []);
  assert.deepEqual(checkSupport(canary({ iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }), 'istio'), []);
});

test('checkSupport names the router and the feature the kubernetes router lacks', () => {
  const problems = checkSupport(canary({ stepWeight: 10, mirror: true, sessionAffinity: { cookieName: 'c' } }), 'kubernetes');
  assert.deepEqual(
    problems.map((p) => p.path),
    ['spec.analysis.stepWeight', 'spec.analysis.mirror', 'spec.analysis.sessionAffinity'],
  );
  for (const p of problems) assert.match(p.rule, /router "kubernetes" cannot/);
  assert.match(problems[0]?.rule ?? '', /progressive traffic shifting.*supports blue\/green/);
  const ab = checkSupport(canary({ iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }), 'kubernetes');
  assert.deepEqual(ab.map((p) => p.path), ['spec.analysis.match']);
  assert.deepEqual(checkSupport(canary({ iterations: 5 }), 'kubernetes'), []);
});

test('checkSupport adds router-specific limits and reports unknown routers', () => {
  const tcpAb = canary({ iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] }, { appProtocol: 'tcp' });
  assert.deepEqual(checkSupport(tcpAb, 'istio').map((p) => p.path), ['spec.analysis.match']);
  const unknown = checkSupport(canary({ stepWeight: 10 }), 'nope');
  assert.equal(unknown.length, 1);
  assert.equal(unknown[0]?.path, 'spec.provider');
  assert.equal(unknown[0]?.rule, `unknown router "nope" (known routers: ${knownRouters().join(', ')})`);
});

test('the kubernetes router accepts only whole switches, never a split or a mirror', () => {
  assert.equal(sideOf({ primary: 100, canary: 0, mirrored: false }), 'primary');
  assert.equal(sideOf({ primary: 0, canary: 100, mirrored: false }), 'canary');
  assert.throws(() => sideOf({ primary: 90, canary: 10, mirrored: false }), (e) => isFledgeError(e, 'InvalidSpec') && /90\/10/.test(e.message));
  assert.throws(() => sideOf({ primary: 100, canary: 0, mirrored: true }), (e) => isFledgeError(e, 'InvalidSpec') && /mirror/.test(e.message));
});

test('selector helpers: which side the apex selects, and the merge patch that switches it', () => {
  const primary = { app: 'podinfo-primary' };
  const canarySel = { app: 'podinfo' };
  assert.equal(selectedSide({ app: 'podinfo-primary' }, primary, canarySel), 'primary');
  assert.equal(selectedSide({ app: 'podinfo' }, primary, canarySel), 'canary');
  assert.equal(selectedSide({ app: 'podinfo', tier: 'web' }, primary, canarySel), undefined);
  assert.equal(selectedSide({}, {}, canarySel), undefined);
  assert.equal(sameSelector({ a: '1', b: '2' }, { b: '2', a: '1' }), true);
  assert.equal(sameSelector({ a: '1' }, { a: '1', b: '2' }), false);
  assert.deepEqual(selectorPatch({ app: 'podinfo-primary', old: 'x' }, { app: 'podinfo' }), { app: 'podinfo', old: null });
});
