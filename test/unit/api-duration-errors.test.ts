import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/api/duration.js';
import { DEFAULTS } from '../../src/api/defaults.js';
import { FLEDGE_ERROR_CODES, FledgeError, formatProblem, invalidSpec, isFledgeError } from '../../src/api/errors.js';

test('parseDuration reads Go durations into milliseconds', () => {
  const cases: Array<[string, number]> = [
    ['1m', 60_000],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['2m3s', 123_000],
    ['0', 0],
    ['0s', 0],
    ['+10s', 10_000],
    ['.5s', 500],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('parseDuration rejects what Go rejects, and negative durations', () => {
  for (const text of ['', '1', '10', 'm', '1d', '1 m', '-1m', 'ms', '.s', '1m 30s', '1mm', 'abc', '1.2.3s']) {
    assert.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
});

test('FledgeError carries a stable code and its problems', () => {
  const error = invalidSpec('Canary', 'podinfo', [
    { path: 'spec.analysis.stepWeight', rule: 'must be between 0 and 100' },
    { path: 'spec.service.port', rule: 'is required' },
  ]);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'FledgeError');
  assert.equal(error.code, 'InvalidSpec');
  assert.equal(error.problems.length, 2);
  assert.equal(
    error.message,
    'Canary "podinfo" is invalid: spec.analysis.stepWeight: must be between 0 and 100; spec.service.port: is required',
  );
  assert.ok(isFledgeError(error));
  assert.ok(isFledgeError(error, 'InvalidSpec'));
  assert.ok(!isFledgeError(error, 'NoValues'));
  assert.ok(!isFledgeError(new Error('plain')));
});

test('every error code can be raised and keeps its cause', () => {
  assert.deepEqual(
    [...FLEDGE_ERROR_CODES].sort(),
    [
      'ArtifactFailed', 'BuildFailed', 'DeadlineExceeded', 'DependencyNotReady', 'GitOperationFailed', 'HealthCheckFailed',
      'InvalidResponse', 'InvalidSpec', 'NoValues', 'NotReady', 'ProviderUnavailable', 'PruneFailed', 'ReconciliationFailed', 'UnknownProvider',
    ],
  );
  const cause = new Error('connect ECONNREFUSED');
  for (const code of FLEDGE_ERROR_CODES) {
    const error = new FledgeError(code, `failed: ${code}`, { cause });
    assert.equal(error.code, code);
    assert.equal(error.cause, cause);
    assert.deepEqual(error.problems, []);
  }
  assert.equal(formatProblem({ path: '', rule: 'must be an object' }), 'must be an object');
});

test('default durations and their milliseconds agree', () => {
  assert.equal(parseDuration(DEFAULTS.analysisInterval), DEFAULTS.analysisIntervalMs);
  assert.equal(parseDuration(DEFAULTS.metricInterval), DEFAULTS.metricIntervalMs);
  assert.equal(parseDuration(DEFAULTS.webhookTimeout), DEFAULTS.webhookTimeoutMs);
});
