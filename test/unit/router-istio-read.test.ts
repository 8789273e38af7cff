/** Reading live VirtualServices back (routes, mirror, cookies), cookie transitions and istio's limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import { buildVirtualService } from '../../providers/routers/istio-build.js';
import { isOwnedBy, originalSpecOf, readCookies, readRoutes, tryReadRoutes } from '../../providers/routers/istio-read.js';
import { istioProblems, nextCookies } from '../../providers/routers/istio.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as KubeObject;

type Raw = { spec: { service: Record<string, unknown>; analysis: Record<string, unknown> } };
const canaryWith = (edit: (raw: Raw) => void = () => undefined): Canary => {
  const raw = structuredClone(fixture('canary-istio.yaml')) as unknown as Raw;
  edit(raw);
  return parseCanary(raw);
};
const affinity = canaryWith((r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 21600 }));
const ab = canaryWith((r) => (r.spec.analysis = { iterations: 10, match: [{ headers: { 'x-user-type': { exact: 'test' } } }] }));
const tcp = canaryWith((r) => (r.spec.service.appProtocol = 'TCP'));

test('readRoutes reads the golden fixtures back', () => {
  const base = canaryWith();
  assert.deepEqual(readRoutes(base, fixture('vs-canary-90-10.yaml')), { primary: 90, canary: 10, mirrored: false });
  assert.deepEqual(readRoutes(base, fixture('vs-canary-0-100.yaml')), { primary: 0, canary: 100, mirrored: false });
  assert.deepEqual(readRoutes(base, fixture('vs-mirrored-100-0.yaml')), { primary: 100, canary: 0, mirrored: true });
  assert.deepEqual(readRoutes(ab, fixture('vs-ab-0-100.yaml')), { primary: 0, canary: 100, mirrored: false });
  // The sticky route (0/100) is not the split; the weighted route after it is.
  assert.deepEqual(readRoutes(affinity, fixture('vs-affinity-90-10.yaml')), { primary: 90, canary: 10, mirrored: false });
  assert.deepEqual(readRoutes(tcp, fixture('vs-tcp-90-10.yaml')), { primary: 90, canary: 10, mirrored: false });
});

test('what is built is read back, for every strategy and split', () => {
  for (const canary of [canaryWith(), ab, affinity, tcp]) {
    for (const [primary, canaryWeight] of [[100, 0], [75, 25], [0, 100]] as const) {
      const mirrored = canary === ab || canary === tcp ? false : primary === 100;
      const routes = { primary, canary: canaryWeight, mirrored };
      const cookies = canaryWeight > 0 ? { active: 'flagger-cookie=abc' } : {};
      assert.deepEqual(readRoutes(canary, buildVirtualService(canary, { routes, cookies })), routes);
    }
  }
});

test('a VirtualService without a route to the canary is NotReady', () => {
  const base = canaryWith();
  const foreign: KubeObject = {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: { hosts: ['podinfo'], http: [{ route: [{ destination: { host: 'podinfo' } }] }] },
  };
  assert.throws(() => readRoutes(base, foreign), (e) => isFledgeError(e, 'NotReady') && /no route to podinfo-canary/.test(e.message));
  assert.equal(tryReadRoutes(base, foreign), undefined);
  const zero = { ...foreign, spec: { http: [{ route: [{ destination: { host: 'podinfo-canary' } }] }] } };
  assert.throws(() => readRoutes(base, zero), (e) => isFledgeError(e, 'NotReady'));
});

test('readCookies finds the active and the expiring cookie', () => {
  assert.deepEqual(readCookies(affinity, fixture('vs-affinity-90-10.yaml')), { active: 'flagger-cookie=LpsIaLdoNZ' });
  assert.deepEqual(readCookies(affinity, fixture('vs-affinity-expiring-100-0.yaml')), { expiring: 'flagger-cookie=LpsIaLdoNZ' });
  assert.deepEqual(readCookies(affinity, fixture('vs-canary-90-10.yaml')), {});
});

test('nextCookies keeps the cookie during a run, makes one when needed and expires it afterwards', () => {
  const fresh = (): string => 'NEWVALUE';
  const run = { primary: 90, canary: 10, mirrored: false };
  const done = { primary: 100, canary: 0, mirrored: false };
  assert.deepEqual(nextCookies(affinity, run, {}, fresh), { active: 'flagger-cookie=NEWVALUE' });
  assert.deepEqual(nextCookies(affinity, run, { active: 'flagger-cookie=OLD' }, fresh), { active: 'flagger-cookie=OLD' });
  // A renamed cookie starts afresh; an expiring one from the last run is replaced by the new run's.
  assert.deepEqual(nextCookies(affinity, run, { active: 'other=OLD' }, fresh), { active: 'flagger-cookie=NEWVALUE' });
  assert.deepEqual(nextCookies(affinity, run, { expiring: 'flagger-cookie=OLD' }, fresh), { active: 'flagger-cookie=NEWVALUE' });
  assert.deepEqual(nextCookies(affinity, done, { active: 'flagger-cookie=OLD' }, fresh), { expiring: 'flagger-cookie=OLD' });
  assert.deepEqual(nextCookies(affinity, done, { expiring: 'flagger-cookie=OLD' }, fresh), { expiring: 'flagger-cookie=OLD' });
  assert.deepEqual(nextCookies(affinity, done, {}, fresh), {});
  assert.deepEqual(nextCookies(canaryWith(), run, { active: 'flagger-cookie=OLD' }, fresh), {});
});

test('a generated cookie is ten letters after the cookie name', () => {
  const { active } = nextCookies(affinity, { primary: 50, canary: 50, mirrored: false }, {});
  assert.match(active ?? '', /^flagger-cookie=[a-zA-Z]{10}$/);
});

test('istioProblems: delegation with hosts, and HTTP-only features on a TCP service', () => {
  assert.deepEqual(istioProblems(canaryWith()), []);
  const delegating = canaryWith((r) => (r.spec.service.delegation = true));
  assert.deepEqual(istioProblems(delegating).map((p) => p.path), ['spec.service.delegation']);
  const tcpAll = canaryWith((r) => {
    r.spec.service.appProtocol = 'tcp';
    r.spec.analysis = { iterations: 5, mirror: true, match: [{ headers: { a: { exact: 'b' } } }], sessionAffinity: { cookieName: 'c' } };
  });
  assert.deepEqual(istioProblems(tcpAll).map((p) => p.path), ['spec.analysis.match', 'spec.analysis.mirror', 'spec.analysis.sessionAffinity']);
});

test('originalSpecOf prefers kubectl last-applied over the adoption copy', () => {
  const vs = fixture('vs-canary-90-10.yaml');
  assert.equal(originalSpecOf(vs), undefined);
  const copy = { hosts: ['podinfo'], http: [{ route: [{ destination: { host: 'podinfo' } }] }] };
  const adopted = { ...vs, metadata: { ...vs.metadata, annotations: { 'flagger.kubernetes.io/original-configuration': JSON.stringify(copy) } } };
  assert.deepEqual(originalSpecOf(adopted), copy);
  const lastApplied = { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', spec: { hosts: ['kubectl'] } };
  const both = {
    ...adopted,
    metadata: {
      ...adopted.metadata,
      annotations: { ...adopted.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(lastApplied) },
    },
  };
  assert.deepEqual(originalSpecOf(both), { hosts: ['kubectl'] });
});

test('isOwnedBy matches the Canary by uid', () => {
  const canary = canaryWith();
  const vs = fixture('vs-canary-90-10.yaml');
  assert.equal(isOwnedBy(vs, canary), true);
  assert.equal(isOwnedBy(vs, { ...canary, metadata: { ...canary.metadata, uid: 'another' } }), false);
  assert.equal(isOwnedBy({ ...vs, metadata: { name: 'podinfo' } }, canary), false);
});
