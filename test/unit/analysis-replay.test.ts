import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCanary } from '../../src/api/index.js';
import type { CanaryAnalysis } from '../../src/api/index.js';
import { failure, judge } from '../../src/analysis/checks.js';
import { replayAnalysis, stepTimes } from '../../src/analysis/replay.js';
import { parseTime, verdictLine } from '../../src/cli/analyze.js';

const analysis = (a: Record<string, unknown>): CanaryAnalysis =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: {
      provider: 'istio',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: { interval: '1m', metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }], ...a },
    },
  }).spec.analysis;

/** Replays a success-rate series (undefined = no data) against `a`. */
const replay = (a: CanaryAnalysis, values: Array<number | undefined>, wait = false) => {
  const metric = { ...a.metrics[0]!, noDataPolicy: wait ? ('wait' as const) : ('fail' as const) };
  const times = values.map((_, i) => i * 60_000);
  return replayAnalysis(a, times, (t) => {
    const value = values[t / 60_000];
    return [value === undefined ? failure(metric, 'NoValues', 'none') : judge(metric, value)];
  });
};

test('a healthy window walks the canary weights up to promotion', () => {
  const result = replay(analysis({ stepWeight: 20, maxWeight: 50, threshold: 2 }), [100, 100, 100, 100, 100, 100]);
  assert.equal(result.outcome, 'promoted');
  assert.deepEqual(
    result.steps.map((s) => [s.decision, s.canaryWeight]),
    [
      ['advance', 20],
      ['advance', 40],
      ['advance', 60],
      ['promote', 60],
    ],
  );
});

test('failures count up to the threshold and roll back at the next step, as the controller does', () => {
  const result = replay(analysis({ stepWeight: 10, maxWeight: 50, threshold: 2 }), [100, 90, 100, 95, 100, 100]);
  assert.equal(result.outcome, 'rolled back');
  assert.deepEqual(
    result.steps.map((s) => [s.decision, s.failedChecks]),
    [
      ['advance', 0],
      ['failed', 1],
      ['advance', 1],
      ['failed', 2],
      ['rollback', 2],
    ],
  );
  assert.match(result.steps[1]?.summary ?? '', /failed check 1\/2: request-success-rate 90 < 99/);
});

test('no data fails by default and only waits under noDataPolicy: wait', () => {
  const gaps = [undefined, undefined, undefined, 100];
  assert.equal(replay(analysis({ stepWeight: 10, threshold: 2 }), gaps).outcome, 'rolled back');
  const waited = replay(analysis({ stepWeight: 10, threshold: 2 }), gaps, true);
  assert.equal(waited.outcome, 'still progressing');
  assert.deepEqual(waited.steps.map((s) => s.decision), ['wait', 'wait', 'wait', 'advance']);
});

test('A/B and blue/green count iterations, blue/green switching once before promotion', () => {
  const ab = replay(analysis({ iterations: 2, match: [{ headers: { x: { exact: 'y' } } }] }), [100, 100, 100, 100]);
  assert.deepEqual(ab.steps.map((s) => s.decision), ['advance', 'advance', 'promote']);
  const bg = replay(analysis({ iterations: 2 }), [100, 100, 100, 100, 100]);
  assert.deepEqual(bg.steps.map((s) => s.summary), ['advance: iteration 1/2', 'advance: iteration 2/2', 'advance: all traffic to the canary', 'promote']);
});

test('step times and the times --from and --to accept', () => {
  assert.deepEqual(stepTimes(0, 150_000, 60_000), [0, 60_000, 120_000]);
  assert.throws(() => stepTimes(10, 0, 1), /--to/);
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(parseTime('now', now), now);
  assert.equal(parseTime('now-1h30m', now), Date.parse('2024-05-01T10:30:00Z'));
  assert.equal(parseTime('2024-05-01T10:00:00Z', now), Date.parse('2024-05-01T10:00:00Z'));
  assert.equal(parseTime('1714557600', now), 1714557600_000);
  assert.throws(() => parseTime('yesterday', now), /not a time/);
});

test('a verdict line says metric, value, range and verdict', () => {
  const metric = analysis({ stepWeight: 10 }).metrics[0]!;
  assert.equal(verdictLine(judge(metric, 99.5)), 'request-success-rate  PASS  value 99.5  (range min 99)');
  assert.equal(verdictLine(judge(metric, 42)), 'request-success-rate  FAIL  value 42  (range min 99): request-success-rate 42 < 99');
  assert.match(verdictLine(failure(metric, 'NoValues', 'none')), /ERROR NoValues/);
});
