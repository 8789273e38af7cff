/**
 * SCENARIOS 1-7 against the local cluster over HTTP: the controller in-process on a manual clock, the
 * Istio router, a Prometheus fake answering 100; results read back from the cluster.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';
import { patchImage } from './support/scenario-steps.js';

const withAnalysis = (objects: KubeObject[], analysis: Record<string, unknown>): KubeObject[] =>
  objects.map((o) => (o.kind === 'Canary' ? { ...o, spec: { ...(o.spec as object), analysis: { ...((o.spec as { analysis: object }).analysis), ...analysis } } } : o));

/** Changes only the pod template's image, as `kubectl set image` does (replicas stay as the controller left them). */
const setImage = (r: Rollout, image: string): Promise<void> => patchImage(r, image);

const initialized = async (analysis: Record<string, unknown> = {}): Promise<Rollout> => {
  const r = await startRollout();
  await r.apply(withAnalysis(fixtureObjects('podinfo-canary.yaml'), analysis));
  await r.waitPhase('Initialized');
  return r;
};

describe('canary scenarios', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  test('1-2: init creates the primary, then completes with routes 100/0 and the target scaled to 0', async () => {
    r = await startRollout();
    await r.apply(fixtureObjects('podinfo-canary.yaml'));
    await r.waitPhase('Initialized');
    const primary = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' });
    assert.deepEqual((primary?.spec as { selector: unknown }).selector, { matchLabels: { app: 'podinfo-primary' } });
    const svc = async (name: string) => (await r?.kube.get({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name }))?.spec as { selector: Record<string, string> };
    assert.deepEqual((await svc('podinfo')).selector, { app: 'podinfo-primary' });
    assert.deepEqual((await svc('podinfo-primary')).selector, { app: 'podinfo-primary' });
    assert.deepEqual((await svc('podinfo-canary')).selector, { app: 'podinfo' });
    const target = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo' });
    assert.equal((target?.spec as { replicas: number }).replicas, 0);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    const conditions = ((await r.canary()).status as { conditions: Array<{ type: string; status: string }> }).conditions;
    assert.ok(conditions.some((c) => c.type === 'Promoted' && c.status === 'True'));
  });

  test('3 and 4: a new revision is detected at once, then weights 20, 40, 60, promotion, Succeeded', async () => {
    r = await initialized({ stepWeight: 20, maxWeight: 50 });
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    const detected = await r.status();
    assert.deepEqual([detected.canaryWeight, detected.failedChecks, detected.iterations], [0, 0, 0]);
    const target = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo' });
    assert.equal((target?.spec as { replicas: number }).replicas, 1);
    const seen: Array<[string | undefined, number]> = [];
    for (let i = 0; i < 8 && (await r.status()).phase !== 'Succeeded'; i++) {
      await r.tick();
      const s = await r.status();
      seen.push([s.phase, (await r.routes()).canary]);
    }
    assert.deepEqual(seen, [
      ['Progressing', 20],
      ['Progressing', 40],
      ['Progressing', 60],
      ['Promoting', 60],
      ['Finalising', 0],
      ['Succeeded', 0],
    ]);
    const primary = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' });
    const image = (primary?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
    assert.equal(image, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    // Two built-in checks on each of the three analysis ticks after the first: each query timed.
    assert.equal(await r.controller.metrics.read('fledge_provider_query_duration_seconds_count', { provider: 'prometheus' }), 6);
  });

  test('5 and 7: stepWeight 50 up to 100 routes 50, 100, then Promoting; the first step is 90/10 unmirrored', async () => {
    r = await initialized({ stepWeight: 50, maxWeight: 100 });
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 50, canary: 50, mirrored: false });
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 0, canary: 100, mirrored: false });
    await r.tick();
    assert.equal((await r.status()).phase, 'Promoting');
  });

  test('6: stepWeights 1, 2, 10, 80 then Promoting', async () => {
    r = await initialized({ stepWeight: undefined, stepWeights: [1, 2, 10, 80], maxWeight: undefined });
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    const weights: number[] = [];
    for (let i = 0; i < 4; i++) {
      await r.tick();
      weights.push((await r.routes()).canary);
    }
    assert.deepEqual(weights, [1, 2, 10, 80]);
    await r.tick();
    assert.equal((await r.status()).phase, 'Promoting');
  });
});
