import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonPathError, evaluateJsonPath } from '../../src/localcluster/jsonpath.js';
import type { JsonObject } from '../../src/localcluster/types.js';

const canary: JsonObject = {
  metadata: {
    name: 'podinfo',
    creationTimestamp: '2024-05-01T10:00:00Z',
    labels: { 'app.kubernetes.io/name': 'podinfo', tier: 'web' },
  },
  spec: {
    analysis: { stepWeights: [1, 2, 10, 80], metrics: [{ name: 'rate', threshold: 99 }, { name: 'latency', threshold: 500 }] },
  },
  status: {
    phase: 'Progressing',
    conditions: [
      { type: 'Promoted', status: 'Unknown' },
      { type: 'Ready', status: 'True' },
    ],
  },
};

test('dotted fields reach scalars, lists and timestamps', () => {
  assert.deepEqual(evaluateJsonPath(canary, '.status.phase'), ['Progressing']);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.stepWeights'), [[1, 2, 10, 80]]);
  assert.deepEqual(evaluateJsonPath(canary, '.metadata.creationTimestamp'), ['2024-05-01T10:00:00Z']);
});

test('braces, a leading $ and a missing leading dot are accepted', () => {
  assert.deepEqual(evaluateJsonPath(canary, '{.status.phase}'), ['Progressing']);
  assert.deepEqual(evaluateJsonPath(canary, '$.metadata.name'), ['podinfo']);
  assert.deepEqual(evaluateJsonPath(canary, 'metadata.name'), ['podinfo']);
});

test('filters select list items by field value', () => {
  assert.deepEqual(evaluateJsonPath(canary, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
  assert.deepEqual(evaluateJsonPath(canary, ".status.conditions[?(@.type == 'Promoted')].status"), ['Unknown']);
  assert.deepEqual(evaluateJsonPath(canary, '.status.conditions[?(@.type!="Ready")].type'), ['Promoted']);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.metrics[?(@.threshold > 100)].name'), ['latency']);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.metrics[?(@.threshold)].name'), ['rate', 'latency']);
});

test('indexes, negative indexes, slices and wildcards', () => {
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.stepWeights[0]'), [1]);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.stepWeights[-1]'), [80]);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.stepWeights[1:3]'), [2, 10]);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.metrics[*].name'), ['rate', 'latency']);
  assert.deepEqual(evaluateJsonPath(canary, '.metadata.labels.*'), ['podinfo', 'web']);
});

test('keys with dots, by bracket quoting or escaping', () => {
  assert.deepEqual(evaluateJsonPath(canary, ".metadata.labels['app.kubernetes.io/name']"), ['podinfo']);
  assert.deepEqual(evaluateJsonPath(canary, '.metadata.labels.app\\.kubernetes\\.io/name'), ['podinfo']);
});

test('recursive descent collects every matching field', () => {
  assert.deepEqual(evaluateJsonPath(canary, '..name'), ['podinfo', 'rate', 'latency']);
});

test('missing fields and out-of-range indexes give no result, not an error', () => {
  assert.deepEqual(evaluateJsonPath(canary, '.status.canaryWeight'), []);
  assert.deepEqual(evaluateJsonPath(canary, '.nothing.below'), []);
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.stepWeights[7]'), []);
  // a field step does not reach into lists (as in Kubernetes)
  assert.deepEqual(evaluateJsonPath(canary, '.spec.analysis.metrics.name'), []);
});

test('malformed expressions throw JsonPathError', () => {
  for (const bad of ['.spec[', '.a[?(@.x==)]', '.a]', '.a[x]']) {
    assert.throws(() => evaluateJsonPath(canary, bad), JsonPathError, bad);
  }
});
