import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeWorld, hook, initializedWorld, manifest } from './engine-harness.js';

test('init waits for the primary with a Warning event, then completes (SCENARIOS 1-2)', async () => {
  const world = new FakeWorld(manifest());
  world.primaryReady = { ready: false, retriable: true, message: 'primary deployment podinfo-primary.default not ready: waiting for rollout to finish' };
  const first = await world.tick();
  assert.equal(first.phase, 'Initializing');
  assert.equal(first.requeue, 'interval');
  assert.equal(world.status['phase'], 'Initializing');
  assert.equal(world.canaryReplicas, 1, 'the target keeps serving until the primary is ready');
  assert.equal(world.routerExists, false, 'the apex and router wait for a ready primary');
  assert.deepEqual(world.events.at(-1), { type: 'Warning', reason: 'Synced', message: world.primaryReady.message });

  world.primaryReady = { ready: true, retriable: true, message: '' };
  const second = await world.tick();
  assert.equal(second.action, 'Initialized');
  assert.equal(second.requeue, 'idle');
  assert.equal(world.status['phase'], 'Initialized');
  assert.equal(world.canaryReplicas, 0);
  assert.equal(world.routerExists, true);
  assert.deepEqual(world.routes, { primary: 100, canary: 0, mirrored: false });
  assert.equal(world.status['lastAppliedSpec'], 'rev-1');
  assert.equal(world.status['lastPromotedSpec'], 'rev-1');
  const conditions = world.status['conditions'] as Array<Record<string, string>>;
  assert.equal(conditions.length, 1);
  assert.deepEqual(
    { type: conditions[0]?.['type'], status: conditions[0]?.['status'], reason: conditions[0]?.['reason'] },
    { type: 'Promoted', status: 'True', reason: 'Initialized' },
  );
  assert.equal(world.events.at(-1)?.message, 'Initialization done! podinfo.default');
  assert.deepEqual(world.alerts.at(-1), { severity: 'info', message: 'New Deployment detected, initialization completed.' });
  // Routing only after readiness, and the target scaled down after the apex moved to the primary.
  const order = world.calls.filter((c) => ['reconcileRouting', 'scaleCanaryToZero', 'writeStatus'].includes(c));
  assert.deepEqual(order.slice(-3), ['reconcileRouting', 'scaleCanaryToZero', 'writeStatus']);
});

test('a primary that cannot become ready fails the initialization, which is retried', async () => {
  const world = new FakeWorld(manifest());
  world.primaryReady = { ready: false, retriable: false, message: 'primary deployment podinfo-primary.default progress deadline exceeded' };
  const outcome = await world.tick();
  assert.equal(outcome.action, 'InitializationFailed');
  assert.equal(world.status['phase'], 'Failed');
  assert.equal(world.alerts.at(-1)?.severity, 'error');
  assert.equal(world.status['lastAppliedSpec'], undefined);
  world.primaryReady = { ready: true, retriable: true, message: '' };
  await world.tick();
  assert.equal(world.status['phase'], 'Initialized');
});

test('an idle canary with no new revision costs one checksum call and nothing else', async () => {
  for (const phase of ['Initialized', 'Succeeded', 'Failed']) {
    const world = await initializedWorld(manifest());
    world.status['phase'] = phase;
    world.calls = [];
    const events = world.events.length;
    const outcome = await world.tick();
    assert.deepEqual(world.calls, ['targetChecksum'], phase);
    assert.equal(outcome.action, 'Idle');
    assert.equal(outcome.requeue, 'idle');
    assert.equal(world.events.length, events);
  }
});

test('a new revision scales the canary up and enters Progressing; analysis waits a tick (SCENARIOS 3)', async () => {
  const world = await initializedWorld(manifest());
  world.checksum = 'rev-2';
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'RevisionDetected');
  assert.equal(outcome.requeue, 'interval');
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 0, routes: '100/0', failedChecks: 0, iterations: 0 });
  assert.equal(world.canaryReplicas, 1);
  assert.equal(world.status['lastAppliedSpec'], 'rev-2');
  assert.equal(world.status['lastPromotedSpec'], 'rev-1');
  assert.deepEqual(world.eventsSince(mark), ['New revision detected! Scaling up podinfo.default']);
  assert.deepEqual(world.alerts.at(-1), { severity: 'info', message: 'New revision detected, progressing canary analysis.' });
  assert.ok(!world.calls.includes('runChecks'), 'entering Progressing is a tick of its own');
});

test('a new revision while Failed is not lost when the tick is interrupted', async () => {
  const world = await initializedWorld(manifest());
  world.status['phase'] = 'Failed';
  world.checksum = 'rev-2';
  world.failNext.add('scaleCanaryUp');
  const interrupted = await world.tick();
  assert.equal(interrupted.action, 'Error');
  assert.equal(interrupted.requeue, 'soon');
  assert.equal(interrupted.error?.step, 'scaleCanaryUp');
  assert.equal(world.status['lastAppliedSpec'], 'rev-1', 'the revision is stored only with its transition');
  assert.equal(world.events.at(-1)?.type, 'Warning');
  const retried = await world.tick();
  assert.equal(retried.action, 'RevisionDetected');
  assert.equal(world.status['phase'], 'Progressing');
  assert.equal(world.status['lastAppliedSpec'], 'rev-2');
});

test('confirm-rollout gate: Waiting with one warning alert, then Progressing once opened (SCENARIOS 22)', async () => {
  const world = await initializedWorld(manifest({ webhooks: [hook('gate', 'confirm-rollout')] }));
  world.hookAnswers.set('confirm-rollout', false);
  world.checksum = 'rev-2';
  const alerts = world.alerts.length;
  const traces = await world.run(3);
  assert.deepEqual(traces.map((t) => t.phase), ['Waiting', 'Waiting', 'Waiting']);
  assert.equal(world.canaryReplicas, 0, 'not scaled up while waiting');
  const warned = world.alerts.slice(alerts);
  assert.deepEqual(warned, [{ severity: 'warn', message: 'Halt podinfo.default advancement waiting for approval gate' }]);
  assert.equal(world.events.filter((e) => e.message.startsWith('Halt podinfo.default advancement waiting for approval')).length, 1);
  // The gate is asked about the new revision, with the phase the canary is in.
  assert.deepEqual(world.hookCalls[0], { type: 'confirm-rollout', phase: 'Initialized', checksum: 'rev-2' });
  assert.deepEqual(world.hookCalls[1], { type: 'confirm-rollout', phase: 'Waiting', checksum: 'rev-2' });

  world.hookAnswers.set('confirm-rollout', true);
  const opened = await world.tick();
  assert.equal(opened.action, 'RevisionDetected');
  assert.equal(world.status['phase'], 'Progressing');
  assert.equal(world.canaryReplicas, 1);
  assert.ok(world.events.some((e) => e.message === 'Confirm-rollout check gate passed'));
});

test('a muted confirm-rollout hook still waits but sends no alert', async () => {
  const world = await initializedWorld(manifest({ webhooks: [hook('gate', 'confirm-rollout', { muteAlert: true })] }));
  world.hookAnswers.set('confirm-rollout', false);
  world.checksum = 'rev-2';
  const alerts = world.alerts.length;
  await world.tick();
  assert.equal(world.status['phase'], 'Waiting');
  assert.equal(world.alerts.length, alerts);
});

test('a suspended canary does nothing', async () => {
  const world = await initializedWorld(manifest());
  world.manifest = manifest({}, { suspend: true });
  world.checksum = 'rev-2';
  world.calls = [];
  const outcome = await world.tick();
  assert.equal(outcome.action, 'Suspended');
  assert.deepEqual(world.calls, []);
  assert.equal(world.status['phase'], 'Initialized');
});
