import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckVerdict } from '../../src/engine/index.js';
import { hook, initializedWorld, manifest, passing, progressingWorld } from './engine-harness.js';

const slowResponses = (): CheckVerdict[] => [
  passing()[0]!,
  { metric: 'request-duration', ok: false, value: 742.5, thresholdRange: { max: 500 }, message: 'above max' },
];

test('a failed check counts once, keeps the routes and names metric, value and threshold (SCENARIOS 10)', async () => {
  const world = await progressingWorld(manifest());
  await world.run(2);
  assert.equal(world.trace().routes, '80/20');
  world.verdicts = slowResponses();
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'CheckFailed');
  assert.equal(outcome.verdicts.length, 2, 'every verdict of the tick is reported');
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 20, routes: '80/20', failedChecks: 1, iterations: 0 });
  assert.deepEqual(world.events.slice(mark), [
    { type: 'Warning', reason: 'Synced', message: 'Halt podinfo.default advancement request-duration 742.50 > 500' },
  ]);
});

test('reaching the threshold rolls back on the next tick with an explaining alert (SCENARIOS 11)', async () => {
  const world = await progressingWorld(manifest({ threshold: 2 }));
  await world.run(3);
  assert.equal(world.trace().routes, '70/30');
  world.verdicts = slowResponses();
  await world.run(2);
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 30, routes: '70/30', failedChecks: 2, iterations: 0 });
  world.calls = [];
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'RolledBack');
  assert.equal(outcome.rollbackCause, 'threshold');
  assert.equal(outcome.requeue, 'idle');
  assert.deepEqual(world.trace(), { phase: 'Failed', weight: 0, routes: '100/0', failedChecks: 2, iterations: 0 });
  assert.equal(world.canaryReplicas, 0);
  assert.equal(world.primaryRevision, 'rev-1', 'the primary is untouched');
  assert.ok(!world.calls.includes('runChecks'), 'no analysis once the threshold is reached');
  assert.deepEqual(world.eventsSince(mark), [
    'Rolling back podinfo.default failed checks threshold reached 2',
    'Canary failed! Scaling down podinfo.default',
  ]);
  const alert = world.alerts.at(-1);
  assert.equal(alert?.severity, 'error');
  assert.equal(alert?.message, 'Failed checks threshold reached 2, canary weight was 30');
  assert.deepEqual(
    alert?.verdicts?.map((v) => [v.metric, v.value, v.thresholdRange.max]),
    [['request-duration', 742.5, 500]],
    'the verdicts saved by the failing ticks survive into the rollback tick',
  );
  const conditions = world.status['conditions'] as Array<Record<string, string>>;
  assert.equal(conditions[0]?.['status'], 'False');
  assert.equal((await world.tick()).action, 'Idle', 'the failed revision is not retried');
});

test('a canary that is not ready only waits; past its deadline it rolls back (SCENARIOS 12-13)', async () => {
  const world = await progressingWorld(manifest({ threshold: 1 }));
  world.canaryReady = { ready: false, retriable: true, message: 'canary deployment podinfo.default not ready: waiting for rollout to finish' };
  const traces = await world.run(4);
  assert.deepEqual(traces.map((t) => `${t.phase} ${t.failedChecks}`), Array(4).fill('Progressing 0'));
  assert.equal(world.events.at(-1)?.message, world.canaryReady.message);
  world.canaryReady = { ready: false, retriable: false, message: 'deployment "podinfo" exceeded its progress deadline' };
  const outcome = await world.tick();
  assert.equal(outcome.rollbackCause, 'deadline');
  assert.equal(world.status['phase'], 'Failed');
  assert.equal(world.alerts.at(-1)?.message, `Progress deadline exceeded ${world.canaryReady.message}, canary weight was 0`);
  assert.ok(world.events.some((e) => e.message === `Rolling back podinfo.default progress deadline exceeded ${world.canaryReady.message}`));
});

test('a primary past its deadline during the analysis rolls back; a slow one waits', async () => {
  const world = await progressingWorld(manifest());
  world.primaryReady = { ready: false, retriable: true, message: 'primary not ready' };
  assert.equal((await world.tick()).action, 'WaitingForPrimary');
  assert.equal(world.status['phase'], 'Progressing');
  world.primaryReady = { ready: false, retriable: false, message: 'primary progress deadline exceeded' };
  assert.equal((await world.tick()).rollbackCause, 'deadline');
  assert.equal(world.status['phase'], 'Failed');
});

test('a failing pre-rollout hook counts a failed check and keeps the canary at 0', async () => {
  const world = await progressingWorld(manifest({ webhooks: [hook('smoke', 'pre-rollout')] }));
  world.hookAnswers.set('pre-rollout', false);
  await world.run(2);
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 0, routes: '100/0', failedChecks: 2, iterations: 0 });
  assert.equal(world.events.at(-1)?.message, 'Halt podinfo.default advancement pre-rollout check smoke failed');
  assert.equal(world.hookCalls.filter((c) => c.type === 'pre-rollout').length, 2, 'still a first tick');
});

test('a failing rollout hook counts a failed check without querying metrics', async () => {
  const world = await progressingWorld(manifest({ webhooks: [hook('load', 'rollout')] }));
  await world.tick();
  world.hookAnswers.set('rollout', false);
  world.calls = [];
  assert.equal((await world.tick()).action, 'CheckFailed');
  assert.ok(!world.calls.includes('runChecks'));
  assert.equal(world.status['failedChecks'], 1);
});

for (const phase of ['Progressing', 'Waiting', 'WaitingPromotion'] as const) {
  test(`a rollback webhook rolls back in ${phase}`, async () => {
    const gates = [hook('gate', 'confirm-rollout'), hook('approve', 'confirm-promotion'), hook('abort', 'rollback')];
    const world = await initializedWorld(manifest({ stepWeight: 50, webhooks: gates }));
    world.checksum = 'rev-2';
    if (phase === 'Waiting') world.hookAnswers.set('confirm-rollout', false);
    if (phase === 'WaitingPromotion') world.hookAnswers.set('confirm-promotion', false);
    await world.tick();
    if (phase === 'WaitingPromotion') await world.run(2);
    assert.equal(world.status['phase'], phase);
    world.hookAnswers.set('rollback', true);
    const outcome = await world.tick();
    assert.equal(outcome.rollbackCause, 'manual');
    assert.equal(world.status['phase'], 'Failed');
    assert.equal(world.trace().routes, '100/0');
    assert.equal(world.canaryReplicas, 0);
    assert.ok(world.events.some((e) => e.message === 'Rolling back podinfo.default manual webhook invoked'));
    assert.equal(world.alerts.at(-1)?.severity, 'error');
    assert.equal(world.alerts.at(-1)?.message, `Rolling back manual webhook invoked, canary weight was ${phase === 'WaitingPromotion' ? 50 : 0}`);
    assert.equal(world.hookCalls.at(-1)?.type, 'rollback');
    assert.equal(world.status['lastAppliedSpec'], 'rev-2');
  });
}

test('skipAnalysis: one tick to Progressing, the next promotes straight to Succeeded (SCENARIOS 14)', async () => {
  const world = await initializedWorld(manifest({ webhooks: [hook('notify', 'post-rollout')] }, { skipAnalysis: true }));
  world.checksum = 'rev-2';
  const traces = await world.run(2);
  assert.deepEqual(traces.map((t) => t.phase), ['Progressing', 'Succeeded']);
  assert.equal(world.primaryRevision, 'rev-2');
  assert.equal(world.canaryReplicas, 0);
  assert.ok(!world.calls.includes('runChecks'));
  assert.deepEqual(world.hookCalls.map((c) => `${c.type}@${c.phase}`), ['post-rollout@Succeeded']);
  assert.ok(world.events.some((e) => e.message === 'Promotion completed! Canary analysis was skipped for podinfo.default'));
  assert.equal(world.status['lastPromotedSpec'], 'rev-2');
});

test('skipAnalysis with a canary that never becomes ready fails and keeps the primary (SCENARIOS 15)', async () => {
  const world = await initializedWorld(manifest({}, { skipAnalysis: true }));
  world.checksum = 'rev-2';
  world.canaryReady = { ready: false, retriable: true, message: 'waiting for rollout' };
  const waiting = await world.run(3);
  assert.deepEqual(waiting.map((t) => t.phase), ['Progressing', 'Progressing', 'Progressing']);
  world.canaryReady = { ready: false, retriable: false, message: 'progress deadline exceeded' };
  await world.tick();
  assert.equal(world.status['phase'], 'Failed');
  assert.equal(world.primaryRevision, 'rev-1');
  assert.equal(world.promotions, 0);
});

test('lifecycle: fail, revert to the primary image (no run), then a healthy image succeeds (SCENARIOS 28)', async () => {
  const world = await progressingWorld(manifest({ threshold: 2, stepWeight: 20, maxWeight: 40 }));
  world.verdicts = slowResponses();
  const failing = await world.run(4);
  assert.deepEqual(failing.map((t) => `${t.phase} ${t.failedChecks}`), ['Progressing 0', 'Progressing 1', 'Progressing 2', 'Failed 2']);
  world.verdicts = passing();
  world.checksum = 'rev-1';
  world.calls = [];
  const reverted = await world.tick();
  assert.equal(reverted.action, 'Idle');
  assert.deepEqual(world.calls, ['targetChecksum', 'writeStatus'], 'no scale-up, no analysis');
  assert.equal(world.status['phase'], 'Failed');
  assert.equal((await world.tick()).action, 'Idle');
  world.checksum = 'rev-3';
  const traces = await world.run(6);
  assert.deepEqual(traces.map((t) => t.phase), ['Progressing', 'Progressing', 'Progressing', 'Promoting', 'Finalising', 'Succeeded']);
  assert.equal(world.primaryRevision, 'rev-3');
});

test('re-applying the failed revision after a revert starts a new run', async () => {
  const world = await progressingWorld(manifest({ threshold: 1 }));
  world.verdicts = slowResponses();
  await world.run(3);
  assert.equal(world.status['phase'], 'Failed');
  world.checksum = 'rev-1';
  await world.tick();
  world.checksum = 'rev-2';
  assert.equal((await world.tick()).action, 'RevisionDetected');
});
