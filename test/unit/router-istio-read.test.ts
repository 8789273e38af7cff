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
import { istioProblems, nextAffinityCookies, nextCookies, nextPrimaryCookie } from '../../providers/routers/istio.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as KubeObject;

type Raw = { spec: { service: Record<string, unknown>; analysis: Record<string, unknown> } };
const canaryWith = (edit: (raw: Raw) => void = () => undefined): Canary => {
  const raw = structuredClone(fixture('canary-istio.yaml')) as unknown as Raw;
  edit(raw);
  return parseCanary(raw);
};
const affinity = canaryWith((r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 21600 }));
const primaryAffinity = canaryWith(
  (r) => (r.spec.analysis.sessionAffinity = { cookieName: 'flagger-cookie', primaryCookieName: 'primary-cookie', maxAge: 21600 }),
);
const split = (primary: number, canary: number, mirrored = false) => ({ primary, canary, mirrored });
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
  // Neither sticky route (0/100, then 100/0) is the split.
  assert.deepEqual(readRoutes(primaryAffinity, fixture('vs-affinity-primary-90-10.yaml')), { primary: 90, canary: 10, mirrored: false });
  assert.deepEqual(readRoutes(primaryAffinity, fixture('vs-affinity-primary-mesh-50-50.yaml')), { primary: 50, canary: 50, mirrored: false });
});

test('with both sticky routes present, the weights and the mirror flag come from the weighted route', () => {
  for (const [primary, canaryWeight, mirrored] of [[90, 10, false], [60, 40, true], [100, 0, true], [0, 100, false]] as const) {
    const routes = split(primary, canaryWeight, mirrored);
    const vs = buildVirtualService(primaryAffinity, { routes, cookies: { active: 'flagger-cookie=abc', primary: 'primary-cookie=def' } });
    const names = ((vs.spec as { http: Array<{ name?: string }> }).http).map((r) => r.name);
    assert.deepEqual(names, ['sticky-route', 'sticky-primary-route', undefined]);
    assert.deepEqual(readRoutes(primaryAffinity, vs), routes);
  }
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

test('readCookies finds the primary cookie the primary destination hands out', () => {
  const both = { active: 'flagger-cookie=LpsIaLdoNZ', primary: 'primary-cookie=QwErTyUiOp' };
  assert.deepEqual(readCookies(primaryAffinity, fixture('vs-affinity-primary-90-10.yaml')), both);
  assert.deepEqual(readCookies(primaryAffinity, fixture('vs-affinity-primary-mesh-50-50.yaml')), {
    active: 'canary-cookie=LpsIaLdoNZ',
    primary: 'primary-cookie=QwErTyUiOp',
  });
  // What is built is read back, so reconcile rebuilds the same object.
  const vs = buildVirtualService(primaryAffinity, { routes: split(70, 30), cookies: both });
  assert.deepEqual(readCookies(primaryAffinity, vs), both);
});

test('nextPrimaryCookie is renewed at each new split, kept when the live split is written again, absent at 0', () => {
  let n = 0;
  const fresh = (): string => `v${++n}`;
  assert.equal(nextPrimaryCookie(primaryAffinity, split(90, 10), split(100, 0), undefined, fresh), 'primary-cookie=v1');
  assert.equal(nextPrimaryCookie(primaryAffinity, split(90, 10), split(90, 10), 'primary-cookie=v1', fresh), 'primary-cookie=v1');
  assert.equal(nextPrimaryCookie(primaryAffinity, split(80, 20), split(90, 10), 'primary-cookie=v1', fresh), 'primary-cookie=v2');
  // A renamed cookie, or a live split that cannot be read, starts afresh.
  assert.equal(nextPrimaryCookie(primaryAffinity, split(80, 20), split(80, 20), 'old=x', fresh), 'primary-cookie=v3');
  assert.equal(nextPrimaryCookie(primaryAffinity, split(80, 20), undefined, 'primary-cookie=v3', fresh), 'primary-cookie=v4');
  assert.equal(nextPrimaryCookie(primaryAffinity, split(100, 0), split(80, 20), 'primary-cookie=v4', fresh), undefined);
  assert.equal(nextPrimaryCookie(affinity, split(90, 10), split(100, 0), undefined, fresh), undefined);
  assert.equal(n, 4);
});

test('nextAffinityCookies: canary cookie kept for the run, primary cookie renewed per step, only the canary one expired', () => {
  let n = 0;
  const fresh = (): string => `v${++n}`;
  const first = nextAffinityCookies(primaryAffinity, split(90, 10), split(100, 0), {}, fresh);
  assert.deepEqual(first, { active: 'flagger-cookie=v1', primary: 'primary-cookie=v2' });
  assert.deepEqual(nextAffinityCookies(primaryAffinity, split(90, 10), split(90, 10), first, fresh), first);
  const next = nextAffinityCookies(primaryAffinity, split(80, 20), split(90, 10), first, fresh);
  assert.deepEqual(next, { active: 'flagger-cookie=v1', primary: 'primary-cookie=v3' });
  assert.deepEqual(nextAffinityCookies(primaryAffinity, split(100, 0), split(80, 20), next, fresh), { expiring: 'flagger-cookie=v1' });
  // Without primaryCookieName it is nextCookies.
  assert.deepEqual(nextAffinityCookies(affinity, split(90, 10), split(100, 0), { primary: 'primary-cookie=x' }, fresh), { active: 'flagger-cookie=v4' });
});

test('a generated primary cookie is ten letters after its name, as the canary one', () => {
  const { primary } = nextAffinityCookies(primaryAffinity, split(50, 50), split(100, 0), {});
  assert.match(primary ?? '', /^primary-cookie=[a-zA-Z]{10}$/);
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
