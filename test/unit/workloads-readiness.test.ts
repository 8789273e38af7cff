/** Readiness of Deployments and DaemonSets: what waits, what fails for good. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import { daemonSetReadiness, deploymentReadiness, requiredAvailable } from '../../src/workloads/readiness.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');

const deployment = (status: Record<string, unknown>, replicas = 3, generation = 2): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'podinfo', generation },
  spec: { replicas },
  status: { observedGeneration: 2, ...status },
});

const ctx = (over: { nowMs?: number; sinceMs?: number; readyThreshold?: number } = {}) => ({
  readyThreshold: 100,
  deadlineSeconds: 60,
  nowMs: T0 + 10_000,
  sinceMs: T0,
  ...over,
});

test('a fully rolled out Deployment is ready', () => {
  const r = deploymentReadiness(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }), ctx());
  assert.deepEqual(r, { ready: true, retriable: true, message: '' });
});

test('a Deployment whose controller has not seen the new generation waits', () => {
  const r = deploymentReadiness(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3, 3), ctx({ nowMs: T0 + 3_600_000 }));
  assert.equal(r.ready, false);
  assert.equal(r.retriable, true);
  assert.match(r.message, /observed deployment generation less than desired generation/);
});

test('unavailable replicas wait until the canary deadline, then fail for good', () => {
  const d = deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 1 });
  const before = deploymentReadiness(d, ctx({ nowMs: T0 + 59_000 }));
  assert.deepEqual([before.ready, before.retriable], [false, true]);
  assert.match(before.message, /1 of 3 \(readyThreshold 100%\) updated replicas are available/);
  const after = deploymentReadiness(d, ctx({ nowMs: T0 + 61_000 }));
  assert.deepEqual([after.ready, after.retriable], [false, false]);
  assert.match(after.message, /exceeded its progressDeadlineSeconds: 60/);
  const noClockStart = deploymentReadiness(d, { readyThreshold: 100, deadlineSeconds: 60, nowMs: T0 + 3_600_000 });
  assert.equal(noClockStart.retriable, true, 'without a last transition time no deadline applies');
});

test('ProgressDeadlineExceeded is final at once', () => {
  const d = deployment({
    replicas: 3,
    updatedReplicas: 3,
    unavailableReplicas: 3,
    conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
  });
  const r = deploymentReadiness(d, ctx({ nowMs: T0 }));
  assert.deepEqual(r, { ready: false, retriable: false, message: 'deployment "podinfo" exceeded its progress deadline' });
});

test('old replicas pending termination and missing updates both wait', () => {
  assert.match(deploymentReadiness(deployment({ replicas: 3, updatedReplicas: 1, availableReplicas: 3 }), ctx()).message, /1 out of 3 new replicas/);
  assert.match(deploymentReadiness(deployment({ replicas: 5, updatedReplicas: 3, availableReplicas: 3 }), ctx()).message, /2 old replicas are pending termination/);
});

test('the ready threshold rounds up: 50% of 3 replicas needs 2 available', () => {
  assert.equal(requiredAvailable(3, 50), 2);
  assert.equal(requiredAvailable(4, 50), 2);
  assert.equal(requiredAvailable(1, 1), 1);
  assert.equal(deploymentReadiness(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 1 }), ctx({ readyThreshold: 50 })).ready, false);
  assert.equal(deploymentReadiness(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 2 }), ctx({ readyThreshold: 50 })).ready, true);
});

test('a DaemonSet is ready when every desired pod is updated and available, with the same deadline', () => {
  const ds = (status: Record<string, unknown>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', generation: 1 },
    status: { observedGeneration: 1, desiredNumberScheduled: 2, ...status },
  });
  assert.equal(daemonSetReadiness(ds({ updatedNumberScheduled: 2, numberAvailable: 2 }), ctx()).ready, true);
  const waiting = daemonSetReadiness(ds({ updatedNumberScheduled: 1, numberAvailable: 1 }), ctx());
  assert.deepEqual([waiting.ready, waiting.retriable], [false, true]);
  assert.match(waiting.message, /1 out of 2 new pods have been updated/);
  const late = daemonSetReadiness(ds({ updatedNumberScheduled: 2, numberAvailable: 1 }), ctx({ nowMs: T0 + 120_000 }));
  assert.deepEqual([late.ready, late.retriable], [false, false]);
});
