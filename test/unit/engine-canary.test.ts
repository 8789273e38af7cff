import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebhookType } from '../../src/api/index.js';
import { hook, manifest, progressingWorld } from './engine-harness.js';

test('linear weights 20, 40, 60, then Promoting, Finalising, Succeeded (SCENARIOS 4)', async () => {
  const world = await progressingWorld(manifest({ stepWeight: 20, maxWeight: 50 }));
  const traces = await world.run(6);
  assert.deepEqual(
    traces.map((t) => `${t.phase} ${t.routes}`),
    ['Progressing 80/20', 'Progressing 60/40', 'Progressing 40/60', 'Promoting 40/60', 'Finalising 100/0', 'Succeeded 100/0'],
  );
  assert.equal(world.primaryRevision, 'rev-2', 'the primary runs the new template');
  assert.equal(world.canaryReplicas, 0);
  assert.equal(world.status['lastPromotedSpec'], 'rev-2');
  assert.equal(world.promotions, 1);
  assert.deepEqual(world.alerts.at(-1), { severity: 'info', message: 'Canary analysis completed successfully, promotion finished.' });
  const after = await world.tick();
  assert.equal(after.action, 'Idle', 'a finished run waits for the next revision');
});

test('stepWeight 50 up to 100, then Promoting (SCENARIOS 5)', async () => {
  const world = await progressingWorld(manifest({ stepWeight: 50, maxWeight: 100 }));
  const traces = await world.run(3);
  assert.deepEqual(traces.map((t) => `${t.phase} ${t.routes}`), ['Progressing 50/50', 'Progressing 0/100', 'Promoting 0/100']);
});

test('stepWeights 1, 2, 10, 80, then Promoting (SCENARIOS 6)', async () => {
  const world = await progressingWorld(manifest({ stepWeight: undefined, maxWeight: undefined, stepWeights: [1, 2, 10, 80] }));
  const traces = await world.run(5);
  assert.deepEqual(traces.map((t) => t.routes), ['99/1', '98/2', '90/10', '20/80', '20/80']);
  assert.deepEqual(traces.map((t) => t.weight), [1, 2, 10, 80, 80]);
  assert.equal(traces[4]?.phase, 'Promoting');
});

test('first analysis tick: pre-rollout hooks, then routes 90/10 unmirrored (SCENARIOS 7)', async () => {
  const world = await progressingWorld(manifest({ webhooks: [hook('smoke', 'pre-rollout')] }));
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'WeightIncreased');
  assert.deepEqual(outcome.routes, { primary: 90, canary: 10, mirrored: false });
  assert.ok(!world.calls.includes('runChecks'), 'the first tick runs pre-rollout hooks instead of the checks');
  assert.deepEqual(world.eventsSince(mark), [
    'Starting canary analysis for podinfo.default',
    'Pre-rollout check smoke passed',
    'Advance podinfo.default canary weight 10',
  ]);
});

test('a new revision during the analysis restarts it (SCENARIOS 8)', async () => {
  const world = await progressingWorld(manifest());
  await world.run(2);
  assert.equal(world.trace().routes, '80/20');
  world.status['failedChecks'] = 2;
  world.checksum = 'rev-3';
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'AnalysisRestarted');
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 0, routes: '100/0', failedChecks: 0, iterations: 0 });
  assert.equal(world.status['lastAppliedSpec'], 'rev-3');
  assert.deepEqual(world.eventsSince(mark), ['New revision detected! Restarting analysis for podinfo.default']);
  // The analysis starts over: the next tick is a first tick again.
  await world.tick();
  assert.equal(world.trace().routes, '90/10');
});

test('progressive promotion: (phase, weight) per tick (SCENARIOS 9)', async () => {
  const world = await progressingWorld(manifest({ stepWeight: 100, maxWeight: undefined, stepWeightPromotion: 50 }));
  const traces = [world.trace(), ...(await world.run(5))];
  assert.deepEqual(
    traces.map((t) => `${t.phase} ${t.weight}`),
    ['Progressing 0', 'Progressing 100', 'Promoting 100', 'Promoting 50', 'Finalising 0', 'Succeeded 0'],
  );
  assert.ok(world.events.some((e) => e.message === 'Advance podinfo.default primary weight 50'));
});

test('mirror step: 100/0 mirrored, then 90/10 unmirrored (SCENARIOS 16)', async () => {
  const world = await progressingWorld(manifest({ mirror: true }));
  const first = await world.tick();
  assert.equal(first.action, 'MirrorStarted');
  assert.equal(world.trace().routes, '100/0 mirrored');
  assert.equal(world.status['mirrored'], true);
  world.calls = [];
  await world.tick();
  assert.ok(world.calls.includes('runChecks'), 'mirrored traffic is analysed');
  assert.equal(world.trace().routes, '90/10');
  assert.equal(world.status['mirrored'], false);
});

test('hook order over a healthy run (SCENARIOS 21)', async () => {
  const types: WebhookType[] = ['confirm-rollout', 'pre-rollout', 'confirm-traffic-increase', 'rollout', 'confirm-promotion', 'post-rollout', 'rollback'];
  const world = await progressingWorld(manifest({ stepWeight: 25, webhooks: types.map((t) => hook(t, t)) }));
  await world.run(6);
  assert.equal(world.status['phase'], 'Succeeded');
  const calls = world.hookCalls.map((c) => `${c.type}@${c.phase}`);
  assert.deepEqual(calls, [
    'confirm-rollout@Initialized',
    // 25: the first tick
    'rollback@Progressing',
    'pre-rollout@Progressing',
    'confirm-traffic-increase@Progressing',
    // 50
    'rollback@Progressing',
    'rollout@Progressing',
    'confirm-traffic-increase@Progressing',
    // at maxWeight: promotion
    'rollback@Progressing',
    'rollout@Progressing',
    'confirm-promotion@Progressing',
    'post-rollout@Succeeded',
  ]);
});

test('confirm-traffic-increase closed halts the step and warns; opened, the weight moves', async () => {
  const world = await progressingWorld(manifest({ webhooks: [hook('traffic', 'confirm-traffic-increase')] }));
  world.hookAnswers.set('confirm-traffic-increase', false);
  const halted = await world.tick();
  assert.equal(halted.action, 'TrafficIncreaseHalted');
  assert.equal(world.trace().routes, '100/0');
  assert.equal(world.events.at(-1)?.message, 'Halt podinfo.default advancement waiting for traffic increase approval traffic');
  assert.equal(world.alerts.at(-1)?.severity, 'warn');
  world.hookAnswers.set('confirm-traffic-increase', true);
  await world.tick();
  assert.equal(world.trace().routes, '90/10');
});

test('confirm-promotion closed: WaitingPromotion once, analysis goes on, promotion once opened', async () => {
  const world = await progressingWorld(manifest({ stepWeight: 50, webhooks: [hook('promotion', 'confirm-promotion')] }));
  world.hookAnswers.set('confirm-promotion', false);
  await world.run(1);
  assert.equal(world.trace().routes, '50/50');
  const alerts = world.alerts.length;
  const traces = await world.run(3);
  assert.deepEqual(traces.map((t) => t.phase), ['WaitingPromotion', 'WaitingPromotion', 'WaitingPromotion']);
  assert.deepEqual(traces.map((t) => t.weight), [50, 50, 50]);
  assert.equal(world.alerts.length, alerts + 1, 'one alert when entering WaitingPromotion');
  assert.equal(world.promotions, 0);
  world.calls = [];
  world.hookAnswers.set('confirm-promotion', true);
  await world.tick();
  assert.ok(world.calls.includes('runChecks'), 'WaitingPromotion keeps analysing');
  assert.equal(world.status['phase'], 'Promoting');
  assert.ok(world.events.some((e) => e.message === 'Confirm-promotion check promotion passed'));
});

test('never a double promotion, whatever the number of extra ticks', async () => {
  const world = await progressingWorld(manifest({ stepWeight: 50, stepWeightPromotion: 10 }));
  await world.run(30);
  assert.equal(world.status['phase'], 'Succeeded');
  assert.equal(world.promotions, 1);
  assert.equal(world.calls.filter((c) => c === 'promote').length, 1);
});
