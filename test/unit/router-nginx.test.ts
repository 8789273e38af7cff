/**
 * The nginx router's pure parts: golden canary Ingresses (test/fixtures/routers/ingress-*.yaml, written
 * by hand from the ingress-nginx canary annotation docs), reading the split back, and what A/B
 * conditions nginx can express.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from '../../providers/routers/types.js';
import {
  abRuleOf,
  buildCanaryIngress,
  canaryAnnotations,
  canaryIngressSpec,
  nginxProblems,
  readIngressRoutes,
} from '../../providers/routers/nginx.js';
import { checkSupport } from '../../providers/routers/index.js';
import { canaryFor, goldenRoundTrips, routerFixture as fixture, split, weightCases } from './support/router-fixtures.js';

const userIngress = (): KubeObject => fixture('ingress-podinfo.yaml');
const canaryWith = canaryFor('nginx', { ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' } });
const abCanary = (headers: Record<string, unknown>): Canary => canaryWith({ stepWeight: undefined, maxWeight: undefined, iterations: 10, match: [{ headers }] });

goldenRoundTrips(
  'canary Ingress',
  [
    ...weightCases('ingress-canary', canaryWith()),
    { file: 'ingress-ab-header-exact.yaml', canary: abCanary({ 'x-user-type': { exact: 'insider' } }), routes: split(0, 100) },
    { file: 'ingress-ab-header-regex.yaml', canary: abCanary({ 'x-user-type': { regex: '.*insider.*' } }), routes: split(0, 100) },
    { file: 'ingress-ab-cookie.yaml', canary: abCanary({ cookie: { exact: 'canary' } }), routes: split(0, 100) },
    { file: 'ingress-ab-100-0.yaml', canary: abCanary({ 'x-user-type': { exact: 'insider' } }), routes: split(100, 0) },
  ],
  (canary, routes) => buildCanaryIngress(canary, userIngress(), routes),
  (canary, ingress) => readIngressRoutes(canary, ingress),
);

test('the copy does not change the user Ingress it was built from', () => {
  const ingress = userIngress();
  buildCanaryIngress(canaryWith(), ingress, split(90, 10));
  assert.deepEqual(ingress, userIngress());
});

test('a custom annotations prefix is used for every canary annotation and for filtering', () => {
  const ingress = userIngress();
  ingress.metadata.annotations = { 'custom.io/canary-weight': '33', 'custom.io/rewrite-target': '/' };
  const built = buildCanaryIngress(abCanary({ 'x-user-type': { exact: 'a' } }), ingress, split(0, 100), 'custom.io');
  assert.deepEqual(built.metadata.annotations, {
    'custom.io/rewrite-target': '/',
    'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
    'custom.io/canary': 'true',
    'custom.io/canary-weight': '0',
    'custom.io/canary-by-header': 'x-user-type',
    'custom.io/canary-by-header-value': 'a',
  });
  assert.deepEqual(readIngressRoutes(abCanary({ 'x-user-type': { exact: 'a' } }), built, 'custom.io'), split(0, 100));
  // Read with the default prefix, the same object carries no canary annotations at all.
  assert.deepEqual(readIngressRoutes(canaryWith(), built), split(100, 0));
});

test('setRoutes annotations clear the A/B rule when traffic goes back to the primary', () => {
  const canary = abCanary({ 'x-user-type': { regex: 'a|b' } });
  const patch = canaryAnnotations(canary, split(100, 0));
  assert.equal(patch['nginx.ingress.kubernetes.io/canary-by-header'], null);
  assert.equal(patch['nginx.ingress.kubernetes.io/canary-by-header-pattern'], null);
  assert.equal(patch['nginx.ingress.kubernetes.io/canary-weight'], '0');
  assert.equal(canaryAnnotations(canary, split(0, 100))['nginx.ingress.kubernetes.io/canary-by-header-pattern'], 'a|b');
});

test('splits nginx cannot carry are refused', () => {
  const refused = (canary: Canary, routes: Routes): void =>
    assert.throws(() => canaryAnnotations(canary, routes), (e) => isFledgeError(e, 'InvalidSpec'));
  refused(canaryWith(), { primary: 100, canary: 0, mirrored: true });
  refused(canaryWith(), split(90, 20));
  refused(canaryWith(), split(89.5, 10.5));
  refused(abCanary({ 'x-user-type': { exact: 'a' } }), split(50, 50));
});

test('a Flagger-made copy with canary "false" reads 100/0; a garbage weight is NotReady', () => {
  const ingress = fixture('ingress-canary-90-10.yaml');
  const annotations = ingress.metadata.annotations ?? {};
  annotations['nginx.ingress.kubernetes.io/canary'] = 'false';
  assert.deepEqual(readIngressRoutes(canaryWith(), ingress), split(100, 0));
  annotations['nginx.ingress.kubernetes.io/canary'] = 'true';
  for (const bad of ['ten', '101', '-1', '']) {
    annotations['nginx.ingress.kubernetes.io/canary-weight'] = bad;
    assert.throws(() => readIngressRoutes(canaryWith(), ingress), (e) => isFledgeError(e, 'NotReady'));
  }
});

test('backends of the apex move to the canary Service, the default backend too; none is an error', () => {
  const spec = { defaultBackend: { service: { name: 'podinfo', port: { number: 80 } } }, rules: [{ host: 'x' }] };
  assert.deepEqual(canaryIngressSpec(spec, 'podinfo', 'podinfo-canary'), {
    defaultBackend: { service: { name: 'podinfo-canary', port: { number: 80 } } },
    rules: [{ host: 'x' }],
  });
  assert.equal(canaryIngressSpec({ rules: [{ http: { paths: [{ backend: { service: { name: 'other' } } }] } }] }, 'podinfo', 'podinfo-canary'), undefined);
  const other = userIngress();
  other.spec = { rules: [] };
  assert.throws(
    () => buildCanaryIngress(canaryWith(), other, split(100, 0)),
    (e) => isFledgeError(e, 'InvalidSpec') && e.problems[0]?.path === 'spec.ingressRef.name',
  );
});

test('abRuleOf: a header and a cookie in separate conditions; prefix and suffix become anchored patterns', () => {
  assert.deepEqual(abRuleOf([{ headers: { 'X-Canary': { exact: 'insider' } } }, { headers: { Cookie: { exact: 'canary' } } }]), {
    rule: { header: { name: 'X-Canary', value: 'insider' }, cookie: 'canary' },
    problems: [],
  });
  assert.deepEqual(abRuleOf([{ headers: { 'x-v': { prefix: '1.2' } } }]).rule, { header: { name: 'x-v', pattern: '^1\\.2' } });
  assert.deepEqual(abRuleOf([{ headers: { 'x-v': { suffix: '(beta)' } } }]).rule, { header: { name: 'x-v', pattern: '\\(beta\\)$' } });
});

test('conditions nginx cannot express are problems naming the field', () => {
  const paths = (match: Parameters<typeof abRuleOf>[0]): string[] => abRuleOf(match).problems.map((p) => p.path);
  assert.deepEqual(paths([{ uri: { prefix: '/api' }, headers: { a: { exact: '1' } } }]), ['spec.analysis.match[0].uri']);
  assert.deepEqual(paths([{ headers: { a: { exact: '1' }, cookie: { exact: 'c' } } }]), ['spec.analysis.match[0].headers']);
  assert.deepEqual(paths([{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }]), ['spec.analysis.match[1].headers.b']);
  assert.deepEqual(paths([{ headers: { cookie: { regex: 'c.*' } } }]), ['spec.analysis.match[0].headers.cookie']);
  assert.deepEqual(paths([{}]), ['spec.analysis.match[0].headers']);
});

test('checkSupport refuses mirroring, session affinity and a missing ingressRef', () => {
  // Parsed without a provider, so parseCanary leaves the router checks to checkSupport.
  const problems = checkSupport(
    canaryWith({ mirror: true, sessionAffinity: { cookieName: 'c', maxAge: 60 } }, { ingressRef: undefined, provider: undefined }),
    'nginx',
  ).map((p) => p.path);
  assert.deepEqual(problems.sort(), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity', 'spec.ingressRef']);
  assert.deepEqual(nginxProblems(canaryWith()), []);
});
