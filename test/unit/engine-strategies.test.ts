import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hook, manifest, progressingWorld } from './engine-harness.js';

const stepless = { stepWeight: undefined, maxWeight: undefined };

test('blue/green with iterations 1 (SCENARIOS 17)', async () => {
  const world = await progressingWorld(manifest({ ...stepless, iterations: 1 }));
  const traces = [world.trace(), ...(await world.run(5))];
  assert.deepEqual(
    traces.map((t) => `${t.phase} ${t.routes} i${t.iterations}`),
    [
      'Progressing 100/0 i0',
      'Progressing 100/0 i1',
      'Progressing 0/100 i2',
      'Promoting 0/100 i2',
      'Finalising 100/0 i0',
      'Succeeded 100/0 i0',
    ],
  );
  assert.ok(world.events.some((e) => e.message === 'Advance podinfo.default canary iteration 1/1'));
  assert.ok(world.events.some((e) => e.message === 'Routing all traffic to canary'));
  assert.equal(world.primaryRevision, 'rev-2');
  assert.equal(world.promotions, 1);
});

test('blue/green with mirror mirrors during the iterations, then switches unmirrored', async () => {
  const world = await progressingWorld(manifest({ ...stepless, iterations: 2, mirror: true }));
  const traces = await world.run(4);
  assert.deepEqual(
    traces.map((t) => `${t.routes} i${t.iterations}`),
    ['100/0 mirrored i1', '100/0 mirrored i2', '0/100 i3', '0/100 i3'],
  );
  assert.equal(traces[3]?.phase, 'Promoting');
  assert.ok(world.events.some((e) => e.message === 'Stop traffic mirroring and route all traffic to canary'));
});

test('blue/green confirm-promotion gates the switch and the promotion', async () => {
  const world = await progressingWorld(manifest({ ...stepless, iterations: 1, webhooks: [hook('approve', 'confirm-promotion')] }));
  world.hookAnswers.set('confirm-promotion', false);
  const waiting = await world.run(3);
  assert.deepEqual(waiting.map((t) => `${t.phase} ${t.routes} i${t.iterations}`), [
    'Progressing 100/0 i1',
    'WaitingPromotion 100/0 i1',
    'WaitingPromotion 100/0 i1',
  ]);
  world.hookAnswers.set('confirm-promotion', true);
  const resumed = await world.run(2);
  assert.deepEqual(resumed.map((t) => `${t.phase} ${t.routes}`), ['Progressing 0/100', 'Promoting 0/100']);
});

test('A/B: matching traffic to the canary for 10 iterations, then promotion (SCENARIOS 18)', async () => {
  const match = [{ headers: { 'x-user-type': { exact: 'test' } } }];
  const world = await progressingWorld(manifest({ ...stepless, iterations: 10, match }));
  const first = await world.tick();
  assert.equal(first.action, 'IterationAdvanced');
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 0, routes: '0/100', failedChecks: 0, iterations: 1 });
  const iterating = await world.run(9);
  assert.deepEqual(iterating.map((t) => t.iterations), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(iterating.every((t) => t.phase === 'Progressing' && t.routes === '0/100'));
  const finishing = await world.run(3);
  assert.deepEqual(finishing.map((t) => `${t.phase} ${t.routes}`), ['Promoting 0/100', 'Finalising 100/0', 'Succeeded 100/0']);
  assert.equal(world.events.filter((e) => e.message.startsWith('Advance podinfo.default canary iteration')).length, 10);
  assert.equal(world.events.filter((e) => e.message === 'Advance podinfo.default canary iteration 10/10').length, 1);
  assert.equal(world.promotions, 1);
});

test('A/B failed checks count and roll back at the threshold', async () => {
  const match = [{ headers: { 'x-user-type': { exact: 'test' } } }];
  const world = await progressingWorld(manifest({ ...stepless, iterations: 10, match, threshold: 1 }));
  await world.tick();
  world.verdicts = [{ metric: 'request-success-rate', ok: false, value: 42, thresholdRange: { min: 99 }, message: 'below min' }];
  await world.tick();
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 0, routes: '0/100', failedChecks: 1, iterations: 1 });
  assert.equal(world.events.at(-1)?.message, 'Halt podinfo.default advancement request-success-rate 42.00 < 99');
  await world.tick();
  assert.deepEqual(world.trace(), { phase: 'Failed', weight: 0, routes: '100/0', failedChecks: 1, iterations: 0 });
});
