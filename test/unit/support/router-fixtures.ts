/**
 * What the router unit tests share: the fixtures under test/fixtures/routers/ (golden objects written
 * by hand from each proxy's reference, and input canaries), Canaries built for a router, a split, the
 * golden round trip (build matches the fixture, the fixture reads back as the split), and a KubeApi
 * for tests of what a router refuses before it reaches the cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseCanary } from '../../../src/api/index.js';
import type { Canary } from '../../../src/api/index.js';
import type { KubeApi, KubeObject } from '../../../src/kube/api.js';
import type { Routes } from '../../../providers/routers/types.js';

type Fields = Record<string, unknown>;

const FIXTURES = new URL('../../../../test/fixtures/routers/', import.meta.url);

/** A fixture from test/fixtures/routers/, read afresh: tests may change what they get. */
export const routerFixture = (name: string): KubeObject => parseYaml(readFileSync(new URL(name, FIXTURES), 'utf8')) as KubeObject;

export const split = (primary: number, canary: number): Routes => ({ primary, canary, mirrored: false });

/** Rejects every call: the router under test must not reach the cluster. */
export const unusedKube = new Proxy({} as KubeApi, { get: () => () => Promise.reject(new Error('not expected in this test')) });

/**
 * Builds Canary `test/podinfo` (with a uid, so what the router writes is owned by it) for `provider`
 * with the router's `refs` (ingressRef, routeRef...) and a canary analysis; each call can change
 * analysis fields and spec fields (`{ provider: undefined }` leaves the router checks to checkSupport).
 */
export const canaryFor =
  (provider: string, refs: Fields, analysisDefaults: Fields = {}) =>
  (analysis: Fields = {}, spec: Fields = {}): Canary =>
    parseCanary({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'podinfo', namespace: 'test', uid: '5f9a7c1e-2b1d-4c9e-8a51-0d3b0c6f7e21' },
      spec: {
        provider,
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        ...refs,
        service: { port: 80, targetPort: 9898 },
        analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10, ...analysisDefaults, ...analysis },
        ...spec,
      },
    });

/** The raw Canary fields the tests edit before parsing. */
export type RawCanary = { spec: { provider?: string; service: Fields; analysis: Fields } };

/** Builds the Canary of an input fixture, edited by each call before it is parsed. */
export const canaryFromFixture =
  (name: string) =>
  (edit: (raw: RawCanary) => void = () => undefined): Canary => {
    const raw = routerFixture(name) as unknown as RawCanary;
    edit(raw);
    return parseCanary(raw);
  };

export interface GoldenCase {
  file: string;
  canary: Canary;
  routes: Routes;
}

/** The canary and blue/green splits each router has golden files for: `<prefix>-<primary>-<canary>.yaml`. */
export const weightCases = (prefix: string, canary: Canary): GoldenCase[] =>
  [split(100, 0), split(90, 10), split(0, 100)].map((routes) => ({ file: `${prefix}-${routes.primary}-${routes.canary}.yaml`, canary, routes }));

/** Two tests per case: what `build` writes for the split is the fixture, and `read` gives the split back from it. */
export const goldenRoundTrips = (
  what: string,
  cases: readonly GoldenCase[],
  build: (canary: Canary, routes: Routes) => unknown,
  read: (canary: Canary, obj: KubeObject) => Routes,
): void => {
  for (const { file, canary, routes } of cases) {
    test(`${what} matches ${file}`, () => {
      assert.deepEqual(build(canary, routes), routerFixture(file));
    });
    test(`${file} reads back as ${routes.primary}/${routes.canary}`, () => {
      assert.deepEqual(read(canary, routerFixture(file)), routes);
    });
  }
};
