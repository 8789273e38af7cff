import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/api/clock.js';
import type { Canary } from '../../src/api/index.js';
import { parseCanary } from '../../src/api/index.js';
import { advance, phaseUpdate, promotedConditions, readSavedVerdicts } from '../../src/engine/index.js';
import { failedCheckMessage } from '../../src/engine/messages.js';
import { FakeWorld, manifest, progressingWorld } from './engine-harness.js';

const fixedClock = (iso: string): Clock => ({ now: () => Date.parse(iso), setTimeout: () => 0, clearTimeout: () => undefined });

const canaryWith = (status: Record<string, unknown>): Canary => parseCanary({ ...manifest(), status });

test('the Promoted condition follows the phase and keeps its transition time while its status holds', () => {
  const clock = fixedClock('2025-01-02T03:04:05.000Z');
  const progressing = canaryWith({
    phase: 'Progressing',
    conditions: [{ type: 'Promoted', status: 'Unknown', reason: 'Progressing', lastTransitionTime: '2025-01-01T00:00:00Z' }],
  });
  assert.equal(promotedConditions(progressing, 'Progressing', clock), undefined, 'nothing to write');
  const promoting = promotedConditions(progressing, 'Promoting', clock)?.[0];
  assert.deepEqual(promoting, {
    type: 'Promoted',
    status: 'Unknown',
    reason: 'Promoting',
    message: 'Canary analysis completed, starting primary rolling update.',
    lastUpdateTime: '2025-01-02T03:04:05.000Z',
    lastTransitionTime: '2025-01-01T00:00:00Z',
  });
  const failed = promotedConditions(progressing, 'Failed', clock)?.[0];
  assert.equal(failed?.status, 'False');
  assert.equal(failed?.message, 'Canary analysis failed, Deployment scaled to zero.');
  assert.equal(failed?.lastTransitionTime, '2025-01-02T03:04:05.000Z');
  assert.equal(promotedConditions(progressing, 'Succeeded')?.[0]?.lastUpdateTime, undefined, 'no clock, no times');
});

test('phase writes reset counters outside the phases that keep progress', () => {
  const canary = canaryWith({ phase: 'Progressing', canaryWeight: 40, iterations: 3, lastAppliedSpec: 'rev-2' });
  for (const phase of ['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting'] as const) {
    const update = phaseUpdate(canary, phase);
    assert.equal(update.canaryWeight, undefined, phase);
    assert.equal(update.iterations, undefined, phase);
  }
  for (const phase of ['Finalising', 'Succeeded', 'Failed', 'Initialized'] as const) {
    const update = phaseUpdate(canary, phase);
    assert.deepEqual([update.canaryWeight, update.iterations], [0, 0], phase);
  }
  assert.equal(phaseUpdate(canary, 'Succeeded').lastPromotedSpec, 'rev-2');
  assert.equal(phaseUpdate(canary, 'Failed').lastPromotedSpec, undefined);
  assert.equal(phaseUpdate(canary, 'Finalising', { canaryWeight: 7 }).canaryWeight, 7, 'explicit fields win');
});

test('saved verdicts are read back defensively', () => {
  const saved = readSavedVerdicts({
    lastFailedChecks: [
      { metric: 'latency', ok: false, value: 812, thresholdRange: { max: 500 }, message: 'too slow' },
      { metric: 42 },
      'garbage',
      { metric: 'errors', thresholdRange: { min: 'x' }, value: null, errorCode: 'NoValues' },
    ],
  });
  assert.deepEqual(saved, [
    { metric: 'latency', ok: false, value: 812, thresholdRange: { max: 500 }, message: 'too slow' },
    { metric: 'errors', ok: false, thresholdRange: {}, message: '', errorCode: 'NoValues' },
  ]);
  assert.deepEqual(readSavedVerdicts({ lastFailedChecks: 'nope' }), []);
});

test('failed check messages name the metric, the value and the bound crossed', () => {
  const canary = canaryWith({});
  const base = { ok: false, message: 'why' } as const;
  assert.equal(
    failedCheckMessage(canary, { ...base, metric: 'request-success-rate', value: 98.456, thresholdRange: { min: 99 } }),
    'Halt podinfo.default advancement request-success-rate 98.46 < 99',
  );
  assert.equal(
    failedCheckMessage(canary, { ...base, metric: 'latency', value: 0.75, thresholdRange: { min: 0, max: 0.5 } }),
    'Halt podinfo.default advancement latency 0.75 > 0.5',
  );
  assert.equal(
    failedCheckMessage(canary, { ...base, metric: 'errors', thresholdRange: {}, errorCode: 'NoValues' }),
    'Halt advancement no values found for custom metric: errors: why',
  );
  assert.equal(
    failedCheckMessage(canary, { ...base, metric: 'errors', thresholdRange: {}, errorCode: 'ProviderUnavailable' }),
    'Metric query failed for errors: why',
  );
});

test('advance with a clock stamps the conditions it writes', async () => {
  const world = new FakeWorld(manifest());
  await advance(world.canary(), world, { clock: fixedClock('2030-06-01T00:00:00.000Z') });
  const condition = (world.status['conditions'] as Array<Record<string, string>>)[0];
  assert.equal(condition?.['lastTransitionTime'], '2030-06-01T00:00:00.000Z');
  assert.equal(condition?.['reason'], 'Initialized');
});

test('an I/O error ends the tick with the failing step and a Warning event', async () => {
  const world = await progressingWorld(manifest());
  world.failNext.add('getRoutes');
  world.calls = [];
  const outcome = await world.tick();
  assert.equal(outcome.action, 'Error');
  assert.equal(outcome.requeue, 'soon');
  assert.deepEqual(outcome.error, { step: 'getRoutes', message: 'getRoutes: connection refused' });
  assert.equal(outcome.phase, 'Progressing');
  assert.deepEqual(world.events.at(-1), { type: 'Warning', reason: 'Synced', message: 'getRoutes: connection refused' });
  assert.ok(!world.calls.includes('setRoutes'));
});
