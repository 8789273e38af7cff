/**
 * The traefik router's pure parts: golden TraefikServices (fixtures under test/fixtures/routers/ written
 * by hand from Traefik's Kubernetes CRD reference), reading one back, and what checkSupport refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import type { Routes } from '../../providers/routers/types.js';
import { TRAEFIK_API_VERSION, buildTraefikService, readTraefikRoutes } from '../../providers/routers/traefik.js';
import { checkSupport, createRouter } from '../../providers/routers/index.js';

const fixtures = new URL('../../../test/fixtures/routers/', import.meta.url);
const fixture = (name: string): unknown => parseYaml(readFileSync(new URL(name, fixtures), 'utf8')) as unknown;

type Raw = { spec: { provider?: string; service: Record<string, unknown>; analysis: Record<string, unknown> } };
const canaryWith = (edit: (raw: Raw) => void = () => undefined): Canary => {
  const raw = structuredClone(fixture('traefik-input-canary.yaml')) as Raw;
  edit(raw);
  return parseCanary(raw);
};
const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });
type Services = { spec: { weighted: { services: Array<Record<string, unknown>> } } };

for (const [primary, canary] of [
  [100, 0],
  [90, 10],
  [0, 100],
] as const) {
  const file = `traefik-${primary}-${canary}.yaml`;
  test(`TraefikService matches ${file}`, () => {
    assert.deepEqual(buildTraefikService(canaryWith(), split(primary, canary)), fixture(file));
  });
  test(`reading ${file} back gives the split it was built from`, () => {
    assert.deepEqual(readTraefikRoutes(canaryWith(), fixture(file) as KubeObject), split(primary, canary));
  });
}

test('writes the traefik.io group current Flagger uses', () => {
  assert.equal(TRAEFIK_API_VERSION, 'traefik.io/v1alpha1');
});

test('TraefikServices written by Flagger read as Flagger meant them', () => {
  // Flagger at 100/0: the primary alone.
  const idle = fixture('traefik-100-0.yaml') as Services;
  idle.spec.weighted.services.pop();
  assert.deepEqual(readTraefikRoutes(canaryWith(), idle as unknown as KubeObject), split(100, 0));
  // Flagger at 0/100: the primary's zero weight omitted.
  const promoted = fixture('traefik-0-100.yaml') as Services;
  delete promoted.spec.weighted.services[0]?.weight;
  assert.deepEqual(readTraefikRoutes(canaryWith(), promoted as unknown as KubeObject), split(0, 100));
  // Relative weights read as shares.
  const relative = fixture('traefik-90-10.yaml') as Services;
  for (const s of relative.spec.weighted.services) s.weight = 1;
  assert.deepEqual(readTraefikRoutes(canaryWith(), relative as unknown as KubeObject), split(50, 50));
});

test('a TraefikService without the primary is NotReady', () => {
  const ts = fixture('traefik-90-10.yaml') as Services;
  ts.spec.weighted.services.shift();
  assert.throws(() => readTraefikRoutes(canaryWith(), ts as unknown as KubeObject), (e) => isFledgeError(e, 'NotReady') && /podinfo-primary/.test(e.message));
});

const unusedKube = new Proxy({} as KubeApi, { get: () => () => Promise.reject(new Error('not expected in this test')) });

test('checkSupport: traefik serves canary and blue/green, refuses A/B, mirroring and session affinity naming itself', () => {
  assert.equal(createRouter('traefik', { kube: unusedKube }).name, 'traefik');
  assert.deepEqual(checkSupport(canaryWith(), 'traefik'), []);
  assert.deepEqual(checkSupport(canaryWith((r) => (r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5 })), 'traefik'), []);
  const ab = checkSupport(
    canaryWith((r) => (r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5, match: [{ headers: { a: { exact: 'b' } } }] })),
    'traefik',
  );
  assert.deepEqual(ab.map((p) => p.path), ['spec.analysis.match']);
  assert.match(ab[0]?.rule ?? '', /router "traefik" cannot do A\/B testing/);
  const other = checkSupport(
    canaryWith((r) => {
      delete r.spec.provider;
      r.spec.analysis = { interval: '1m', threshold: 5, iterations: 5, mirror: true, sessionAffinity: { cookieName: 'c' } };
    }),
    'traefik',
  );
  assert.deepEqual(other.map((p) => p.path), ['spec.analysis.mirror', 'spec.analysis.sessionAffinity']);
  for (const p of other) assert.match(p.rule, /router "traefik" cannot/);
});
