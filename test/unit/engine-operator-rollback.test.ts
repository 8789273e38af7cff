/**
 * An operator's rollback request (`fledge abort`): honoured in Progressing, Waiting and
 * WaitingPromotion without any rollback webhook, withdrawn once the rollback is written, and never
 * carried over to the next revision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Canary } from '../../src/api/index.js';
import { FakeWorld, hook, manifest } from './engine-harness.js';

type JsonRecord = Record<string, unknown>;

/** The harness's world plus the operator's rollback request, as the controller's gate store keeps it. */
class OperatorWorld extends FakeWorld {
  rollbackRequested = false;

  async operatorRollbackRequested(_canary: Canary): Promise<boolean> {
    this.calls.push('operatorRollbackRequested');
    return this.rollbackRequested;
  }

  async clearOperatorRollback(_canary: Canary): Promise<void> {
    this.calls.push('clearOperatorRollback');
    if (this.failNext.delete('clearOperatorRollback')) throw new Error('clearOperatorRollback: connection refused');
    this.rollbackRequested = false;
  }
}

const initialized = async (m: JsonRecord): Promise<OperatorWorld> => {
  const world = new OperatorWorld(m);
  await world.tick();
  assert.equal(world.status['phase'], 'Initialized');
  return world;
};

const progressing = async (m: JsonRecord = manifest()): Promise<OperatorWorld> => {
  const world = await initialized(m);
  world.checksum = 'rev-2';
  await world.tick();
  assert.equal(world.status['phase'], 'Progressing');
  return world;
};

test('a requested rollback rolls a progressing canary back without any rollback webhook, then withdraws the request', async () => {
  const world = await progressing();
  await world.run(2);
  assert.equal(world.trace().routes, '80/20');
  world.rollbackRequested = true;
  world.calls = [];
  const mark = world.events.length;
  const outcome = await world.tick();
  assert.equal(outcome.action, 'RolledBack');
  assert.equal(outcome.rollbackCause, 'operator');
  assert.equal(outcome.requeue, 'idle');
  assert.deepEqual(world.trace(), { phase: 'Failed', weight: 0, routes: '100/0', failedChecks: 0, iterations: 0 });
  assert.equal(world.canaryReplicas, 0);
  assert.equal(world.primaryRevision, 'rev-1', 'the primary keeps the old revision');
  assert.deepEqual(world.eventsSince(mark), ['Rollback requested by operator, rolling back podinfo.default', 'Canary failed! Scaling down podinfo.default']);
  assert.deepEqual(world.alerts.at(-1), { severity: 'error', message: 'Rolling back: rollback requested by operator, canary weight was 20', verdicts: [] });
  assert.ok(!world.calls.includes('runChecks'), 'no analysis step once a rollback is requested');
  assert.ok(!world.calls.includes('runHooks:rollback'), 'no rollback webhook is needed (or called)');
  // The request is withdrawn only after Failed is written, so an interrupted tick keeps it.
  assert.ok(world.calls.lastIndexOf('clearOperatorRollback') > world.calls.lastIndexOf('writeStatus'));
  assert.equal(world.rollbackRequested, false);
  assert.equal((await world.tick()).action, 'Idle', 'the failed revision stays failed');
});

test('the request is honoured while the canary is not ready yet', async () => {
  const world = await progressing();
  world.canaryReady = { ready: false, retriable: true, message: 'canary not ready: waiting for rollout to finish' };
  assert.equal((await world.tick()).action, 'WaitingForCanary');
  world.rollbackRequested = true;
  const outcome = await world.tick();
  assert.equal(outcome.rollbackCause, 'operator');
  assert.equal(world.status['phase'], 'Failed');
});

test('a canary Waiting for approval (confirm-rollout closed) rolls back on request', async () => {
  const world = await initialized(manifest({ webhooks: [hook('gate', 'confirm-rollout')] }));
  world.hookAnswers.set('confirm-rollout', false);
  world.checksum = 'rev-2';
  await world.tick();
  assert.equal(world.status['phase'], 'Waiting');
  world.rollbackRequested = true;
  const outcome = await world.tick();
  assert.equal(outcome.rollbackCause, 'operator');
  assert.equal(world.status['phase'], 'Failed');
  assert.equal(world.canaryReplicas, 0);
  assert.equal(world.rollbackRequested, false);
});

test('a canary WaitingPromotion rolls back on request', async () => {
  const world = await progressing(manifest({ maxWeight: 20, webhooks: [hook('promote', 'confirm-promotion')] }));
  world.hookAnswers.set('confirm-promotion', false);
  await world.run(4);
  assert.equal(world.status['phase'], 'WaitingPromotion');
  world.rollbackRequested = true;
  assert.equal((await world.tick()).rollbackCause, 'operator');
  assert.equal(world.status['phase'], 'Failed');
  assert.equal(world.promotions, 0, 'never promoted');
});

test('with rollback webhooks too, the operator request wins and the webhooks are not asked that step', async () => {
  const world = await progressing(manifest({ webhooks: [hook('rb', 'rollback')] }));
  world.rollbackRequested = true;
  world.calls = [];
  const outcome = await world.tick();
  assert.equal(outcome.rollbackCause, 'operator');
  assert.ok(!world.calls.includes('runHooks:rollback'));
});

test('idle phases never ask; a request left open is withdrawn when the next revision starts, which then progresses', async () => {
  const world = await initialized(manifest());
  world.rollbackRequested = true;
  world.calls = [];
  assert.equal((await world.tick()).action, 'Idle');
  assert.ok(!world.calls.includes('operatorRollbackRequested'), 'an idle canary costs no question');
  world.checksum = 'rev-2';
  assert.equal((await world.tick()).action, 'RevisionDetected');
  assert.equal(world.rollbackRequested, false, 'withdrawn as the new analysis starts');
  const traces = await world.run(2);
  assert.deepEqual(traces.map((t) => `${t.phase} ${t.routes}`), ['Progressing 90/10', 'Progressing 80/20']);
});

test('a failed withdrawal is an error after Failed is written; the next revision is not rolled back by it', async () => {
  const world = await progressing();
  world.rollbackRequested = true;
  world.failNext.add('clearOperatorRollback');
  const outcome = await world.tick();
  assert.equal(outcome.action, 'Error');
  assert.equal(outcome.error?.step, 'clearOperatorRollback');
  assert.equal(world.status['phase'], 'Failed', 'the rollback itself is written');
  assert.equal(world.rollbackRequested, true, 'the request is still open');
  world.checksum = 'rev-3';
  await world.tick();
  assert.equal(world.rollbackRequested, false);
  await world.tick();
  assert.equal(world.status['phase'], 'Progressing');
  assert.equal(world.trace().routes, '90/10', 'the new revision takes its first step');
});

test('a Failed canary whose recorded revision is cleared starts the analysis again: failed checks reset, canary scaled up', async () => {
  // What `fledge retry` does: it removes status.lastAppliedSpec, so the target looks new.
  const world = await progressing(manifest({ threshold: 1 }));
  await world.run(1);
  world.verdicts = [{ metric: 'request-duration', ok: false, value: 900, thresholdRange: { max: 500 }, message: 'above max' }];
  await world.run(2);
  assert.deepEqual(world.trace(), { phase: 'Failed', weight: 0, routes: '100/0', failedChecks: 1, iterations: 0 });
  assert.equal(world.canaryReplicas, 0);
  assert.equal((await world.tick()).action, 'Idle');

  delete world.status['lastAppliedSpec'];
  world.verdicts = [];
  const outcome = await world.tick();
  assert.equal(outcome.action, 'RevisionDetected');
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 0, routes: '100/0', failedChecks: 0, iterations: 0 });
  assert.equal(world.status['lastAppliedSpec'], 'rev-2', 'the same revision is analysed again');
  assert.equal(world.canaryReplicas, 1);
  assert.deepEqual((await world.run(2)).map((t) => t.routes), ['90/10', '80/20']);
});
