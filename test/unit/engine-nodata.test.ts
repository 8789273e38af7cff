import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckVerdict } from '../../src/engine/index.js';
import { manifest, passing, progressingWorld } from './engine-harness.js';

const noValues = (wait: boolean): CheckVerdict => ({
  metric: 'request-success-rate',
  ok: false,
  thresholdRange: { min: 99 },
  errorCode: 'NoValues',
  message: 'no values',
  query: 'sum(rate(x[1m]))',
  ...(wait ? { wait: true } : {}),
});

test('no values from a wait metric neither counts a failed check nor advances', async () => {
  const world = await progressingWorld(manifest());
  await world.run(1);
  assert.equal(world.trace().routes, '90/10');
  world.verdicts = [noValues(true), passing()[1]!];
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'WaitingForData');
  assert.equal(outcome.requeue, 'interval');
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 10, routes: '90/10', failedChecks: 0, iterations: 0 });
  assert.deepEqual(world.eventsSince(mark), [
    'Halt podinfo.default advancement no values found for metric request-success-rate: waiting for data (noDataPolicy: wait)',
  ]);
  // Data arrives: the analysis goes on from where it waited.
  world.verdicts = passing();
  assert.equal((await world.tick()).action, 'WeightIncreased');
  assert.equal(world.trace().routes, '80/20');
});

test('waiting forever never reaches the threshold', async () => {
  const world = await progressingWorld(manifest({ threshold: 2 }));
  world.verdicts = [noValues(true)];
  const traces = await world.run(5);
  assert.ok(traces.every((t) => t.phase === 'Progressing' && t.failedChecks === 0));
});

test('by default (fail) no values counts a failed check, as in Flagger', async () => {
  const world = await progressingWorld(manifest());
  await world.run(1);
  world.verdicts = [noValues(false), passing()[1]!];
  const outcome = await world.tick();
  assert.equal(outcome.action, 'CheckFailed');
  assert.equal(world.trace().failedChecks, 1);
  const saved = world.status['lastFailedChecks'] as CheckVerdict[];
  assert.deepEqual(saved.map((v) => [v.metric, v.errorCode, v.query]), [['request-success-rate', 'NoValues', 'sum(rate(x[1m]))']]);
});

test('a real failure next to a waiting metric counts once and saves only the real failure', async () => {
  const world = await progressingWorld(manifest());
  await world.run(1);
  world.verdicts = [
    noValues(true),
    { metric: 'request-duration', ok: false, value: 900, thresholdRange: { max: 500 }, message: 'too slow' },
  ];
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'CheckFailed');
  assert.equal(world.trace().failedChecks, 1);
  assert.deepEqual(
    (world.status['lastFailedChecks'] as CheckVerdict[]).map((v) => v.metric),
    ['request-duration'],
  );
  assert.equal(world.eventsSince(mark).length, 2, 'one event for the failure, one for the wait');
});
