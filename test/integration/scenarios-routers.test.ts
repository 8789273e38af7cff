/**
 * SCENARIO 4 (linear weights) through the controller for the gatewayapi, linkerd and nginx routers, and
 * SCENARIO 27 (NGINX A/B) through the controller: the controller in-process on a manual clock against
 * the local cluster, the Prometheus fake answering 100. After every tick the split is read back twice:
 * from the router's own object as stored in the cluster, and by a fresh router instance's getRoutes.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';
import { eventually } from './support/cluster.js';
import { NEW_IMAGE, canaryEvents, patchImage, replicasOf, withAnalysis } from './support/scenario-steps.js';
import type { RouterCase } from './support/router-routes.js';
import { NGINX_PREFIX, ROUTER_CASES, canaryAnnotationsOf, canaryIngress, freshRouterRoutes, podinfoIngress, withSpec } from './support/router-routes.js';

const primaryImage = async (r: Rollout): Promise<string | undefined> => {
  const primary = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' });
  return (primary?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
};

/** Starts the controller for `c`, applies its prerequisites and the Canary, waits for Initialized. */
const initialized = async (c: RouterCase, analysis: Record<string, unknown>, spec: Record<string, unknown> = c.spec): Promise<Rollout> => {
  const r = await startRollout(c.controller);
  try {
    await r.apply(c.prerequisites);
    await r.apply(withAnalysis(withSpec(fixtureObjects('podinfo-canary.yaml'), spec), analysis));
    await r.waitPhase('Initialized');
    return r;
  } catch (e) {
    await r.close();
    throw e;
  }
};

/** "phase primary/canary" with the split read from the router's object, checked against a fresh router's reading. */
const observe = async (r: Rollout, c: RouterCase): Promise<string> => {
  const fromObject = await c.objectRoutes(r);
  const fromRouter = await freshRouterRoutes(r, c);
  assert.deepEqual(fromRouter, { ...fromObject, mirrored: false }, `${c.router}: getRoutes disagrees with the object`);
  return `${(await r.status()).phase ?? ''} ${fromObject.primary}/${fromObject.canary}`;
};

describe('router scenarios through the controller', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  for (const c of ROUTER_CASES) {
    test(`4 with ${c.router}: routes 20, 40, 60 on successive ticks, then Promoting, Finalising at 100/0, Succeeded`, async () => {
      r = await initialized(c, { stepWeight: 20, maxWeight: 50 });
      assert.equal(await observe(r, c), 'Initialized 100/0');

      await patchImage(r, NEW_IMAGE);
      await r.waitPhase('Progressing');
      assert.equal(await observe(r, c), 'Progressing 100/0');
      const seen: string[] = [];
      for (let i = 0; i < 8 && (await r.status()).phase !== 'Succeeded'; i++) {
        await r.tick();
        seen.push(await observe(r, c));
      }
      assert.deepEqual(seen, [
        'Progressing 80/20',
        'Progressing 60/40',
        'Progressing 40/60',
        'Promoting 40/60',
        'Finalising 100/0',
        'Succeeded 100/0',
      ]);
      assert.equal(await primaryImage(r), NEW_IMAGE);
      assert.equal(await replicasOf(r, 'podinfo'), 0);
      // The controller measured this router's traffic with its own built-in queries.
      const queries = r.prometheus.queries.filter((q) => q !== 'vector(1)');
      // Two built-in checks on each analysis tick after the first (as with istio in scenarios-canary).
      assert.equal(queries.length, 6, queries.join('\n'));
      for (const q of queries) assert.ok(q.includes(c.querySelector), q);
    });
  }

  test('nginx: a Canary applied before its Ingress waits in Initializing with a Warning, then initializes once the Ingress exists', async () => {
    const nginx = ROUTER_CASES.find((c) => c.router === 'nginx') as RouterCase;
    r = await startRollout(nginx.controller);
    await r.apply(withSpec(fixtureObjects('podinfo-canary.yaml'), nginx.spec));
    const missing = 'Ingress default/podinfo not found';
    await eventually(async () => (await canaryEvents(r as Rollout)).some((e) => e.type === 'Warning' && e.message === missing), 'missing Ingress event');
    // Ingresses are not watched: the controller retries every 2 s, well inside the 1m interval.
    await r.tick(2000);
    assert.equal((await r.status()).phase, 'Initializing');

    await r.apply([podinfoIngress()]);
    await r.tick(2000);
    await r.waitPhase('Initialized');
    assert.deepEqual(await canaryAnnotationsOf(r), { canary: 'true', 'canary-weight': '0' });
  });

  describe('27: NGINX A/B through the controller', () => {
    const nginx = ROUTER_CASES.find((c) => c.router === 'nginx') as RouterCase;
    const IDLE = { canary: 'true', 'canary-weight': '0' };
    const cases: Array<{ name: string; match: unknown[]; annotations: Record<string, string> }> = [
      {
        name: 'header exact → canary-by-header + canary-by-header-value',
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
        annotations: { 'canary-by-header': 'x-canary', 'canary-by-header-value': 'insider' },
      },
      {
        name: 'header regex → canary-by-header-pattern',
        match: [{ headers: { 'user-agent': { regex: '.*Firefox.*' } } }],
        annotations: { 'canary-by-header': 'user-agent', 'canary-by-header-pattern': '.*Firefox.*' },
      },
      {
        name: 'cookie → canary-by-cookie',
        match: [{ headers: { cookie: { exact: 'canary' } } }],
        annotations: { 'canary-by-cookie': 'canary' },
      },
    ];
    for (const ab of cases) {
      test(ab.name, async () => {
        r = await initialized(nginx, { iterations: 2, match: ab.match, stepWeight: undefined, maxWeight: undefined });
        assert.deepEqual(await canaryAnnotationsOf(r), IDLE);

        await patchImage(r, NEW_IMAGE);
        await r.waitPhase('Progressing');
        assert.deepEqual(await canaryAnnotationsOf(r), IDLE);
        const seen: Array<[string | undefined, Record<string, string>, string]> = [];
        for (let i = 0; i < 8 && (await r.status()).phase !== 'Succeeded'; i++) {
          await r.tick();
          const routes = await freshRouterRoutes(r, nginx);
          seen.push([(await r.status()).phase, await canaryAnnotationsOf(r), `${routes.primary}/${routes.canary}`]);
        }
        // Matching requests go to the canary for the analysis; the rest never does (canary-weight 0).
        const matching = { ...ab.annotations, ...IDLE };
        assert.deepEqual(seen, [
          ['Progressing', matching, '0/100'],
          ['Progressing', matching, '0/100'],
          ['Promoting', matching, '0/100'],
          ['Finalising', IDLE, '100/0'],
          ['Succeeded', IDLE, '100/0'],
        ]);
        assert.equal(await primaryImage(r), NEW_IMAGE);
        // The copy keeps the user's other annotations and the user's Ingress is never written.
        assert.equal((await canaryIngress(r)).metadata.annotations?.[`${NGINX_PREFIX}/proxy-body-size`], '8m');
        const user = await r.kube.get({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'default', name: 'podinfo' });
        assert.deepEqual(user?.metadata.annotations, podinfoIngress().metadata.annotations);
      });
    }
  });
});
