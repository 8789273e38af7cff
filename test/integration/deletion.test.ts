/** revertOnDeletion: deleting the Canary hands traffic back to the target and removes what Fledge made. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import { eventually } from './support/cluster.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';

describe('canary deletion', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  test('revertOnDeletion: Terminating, target scaled back and selected by the apex, primary objects gone', async () => {
    r = await startRollout();
    const objects = fixtureObjects('podinfo-canary.yaml').map((o): KubeObject => (o.kind === 'Canary' ? { ...o, spec: { ...(o.spec as object), revertOnDeletion: true } } : o));
    await r.apply(objects);
    await r.waitPhase('Initialized');
    const canary = await r.canary();
    assert.ok(canary.metadata.finalizers?.includes('finalizer.flagger.app'), 'the finalizer is added');
    await r.kube.delete({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'podinfo' });
    const rollout = r;
    await eventually(async () => {
      await rollout.tick(2000);
      return (await rollout.kube.get({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'podinfo' })) === undefined;
    }, 'the Canary to be gone', 30_000);
    const target = await r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo' });
    assert.equal((target?.spec as { replicas: number }).replicas, 1);
    const apex = await r.kube.get({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'podinfo' });
    assert.deepEqual((apex?.spec as { selector: Record<string, string> }).selector, { app: 'podinfo' });
    await eventually(
      async () => (await rollout.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' })) === undefined,
      'the primary to be deleted',
    );
    const events = await r.kube.list('v1', 'Event', 'default');
    assert.ok(events.some((e) => /Terminated/.test(String(e.message))), 'a Terminated event');
  });
});
