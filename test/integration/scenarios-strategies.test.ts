/**
 * SCENARIOS 16-18 against the local cluster over HTTP: the mirror step, blue/green and A/B testing with
 * the Istio router, read back from the live VirtualService after each tick.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects } from './support/rollout.js';
import { NEW_IMAGE, initializedWith, replicasOf, setImage, virtualServiceRoutes, weightsOf, withAnalysis } from './support/scenario-steps.js';

const PRIMARY_ONLY = ['podinfo-primary=100', 'podinfo-canary=0'];
const CANARY_ONLY = ['podinfo-primary=0', 'podinfo-canary=100'];

const primaryImage = async (r: Rollout): Promise<string | undefined> => {
  const primary = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' });
  return (primary?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
};

/** Changes the image and waits for the detecting tick (Progressing, canary weight 0). */
const detect = async (r: Rollout): Promise<void> => {
  await setImage(r, NEW_IMAGE);
  await r.waitPhase('Progressing');
};

describe('strategy scenarios', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  test('16: with mirror the first analysis tick mirrors at 100/0 to podinfo-canary, the next routes 90/10 unmirrored', async () => {
    r = await initializedWith(withAnalysis(fixtureObjects('podinfo-canary.yaml'), { mirror: true, stepWeight: 10 }));
    await detect(r);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });

    await r.tick();
    const [mirroring] = await virtualServiceRoutes(r);
    assert.deepEqual(weightsOf(mirroring), PRIMARY_ONLY);
    assert.deepEqual(mirroring?.mirror, { host: 'podinfo-canary' });
    assert.equal(mirroring?.mirrorPercentage?.value, 100);
    const mirrored = await r.status();
    assert.deepEqual([mirrored.phase, mirrored.canaryWeight], ['Progressing', 0]);

    await r.tick();
    const [weighted] = await virtualServiceRoutes(r);
    assert.deepEqual(weightsOf(weighted), ['podinfo-primary=90', 'podinfo-canary=10']);
    assert.equal(weighted?.mirror, undefined);
    assert.equal((await r.status()).canaryWeight, 10);
  });

  test('17: blue/green with one iteration: iteration, switch to 0/100, Promoting, Finalising at 100/0, Succeeded', async () => {
    const objects = withAnalysis(fixtureObjects('podinfo-canary.yaml'), { iterations: 1, stepWeight: undefined, maxWeight: undefined });
    r = await initializedWith(objects);
    await detect(r);
    const seen: Array<[string | undefined, number | undefined, string[]]> = [];
    for (let i = 0; i < 8 && (await r.status()).phase !== 'Succeeded'; i++) {
      await r.tick();
      const s = await r.status();
      seen.push([s.phase, s.iterations, weightsOf((await virtualServiceRoutes(r)).at(-1))]);
    }
    assert.deepEqual(seen, [
      ['Progressing', 1, PRIMARY_ONLY],
      ['Progressing', 2, CANARY_ONLY],
      ['Promoting', 2, CANARY_ONLY],
      ['Finalising', 0, PRIMARY_ONLY],
      ['Succeeded', 0, PRIMARY_ONLY],
    ]);
    assert.equal(await primaryImage(r), NEW_IMAGE);
    assert.equal(await replicasOf(r, 'podinfo'), 0);
  });

  test('18: A/B sends the requests matching x-user-type=test to the canary, other traffic stays on the primary, promotes after 10 iterations', async () => {
    const match = [{ headers: { 'x-user-type': { exact: 'test' } } }];
    const objects = withAnalysis(fixtureObjects('podinfo-canary.yaml'), { iterations: 10, match, stepWeight: undefined, maxWeight: undefined });
    r = await initializedWith(objects);
    await detect(r);

    await r.tick();
    const [matching, rest] = await virtualServiceRoutes(r);
    assert.deepEqual(matching?.match, match);
    assert.deepEqual(weightsOf(matching), CANARY_ONLY);
    assert.equal(rest?.match, undefined);
    assert.deepEqual(weightsOf(rest), ['podinfo-primary=100']);
    assert.equal((await r.status()).iterations, 1);

    const iterations: Array<number | undefined> = [1];
    for (let i = 0; i < 12 && (await r.status()).phase === 'Progressing'; i++) {
      await r.tick();
      if ((await r.status()).phase === 'Progressing') iterations.push((await r.status()).iterations);
    }
    assert.deepEqual(iterations, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const promoting = await r.status();
    assert.deepEqual([promoting.phase, promoting.iterations], ['Promoting', 10]);
    assert.equal(await primaryImage(r), NEW_IMAGE);

    await r.tick();
    assert.equal((await r.status()).phase, 'Finalising');
    const [finalMatching, finalRest] = await virtualServiceRoutes(r);
    assert.deepEqual(weightsOf(finalMatching), PRIMARY_ONLY);
    assert.deepEqual(weightsOf(finalRest), ['podinfo-primary=100']);
    await r.tick();
    assert.equal((await r.status()).phase, 'Succeeded');
    assert.equal(await replicasOf(r, 'podinfo'), 0);
  });
});
