import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from '../../src/localcluster/patch/merge-patch.js';
import type { JsonObject, JsonValue } from '../../src/localcluster/types.js';

const frozen = <T extends JsonValue>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) frozen(child as JsonValue);
    Object.freeze(value);
  }
  return value;
};

const merge = (target: JsonValue, patch: JsonValue): JsonValue => applyMergePatch(frozen(target), frozen(patch));

test('RFC 7386 appendix A examples', () => {
  const cases: Array<[JsonValue, JsonValue, JsonValue]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) assert.deepEqual(merge(target, patch), expected);
});

test('kubectl patch --type merge on a Canary: arrays are replaced whole, maps merged', () => {
  const canary: JsonObject = {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', labels: { app: 'podinfo' } },
    spec: {
      analysis: {
        interval: '1m',
        threshold: 5,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 } },
          { name: 'request-duration', thresholdRange: { max: 500 } },
        ],
      },
      skipAnalysis: false,
    },
  };
  const result = merge(canary, {
    metadata: { labels: { team: 'web' } },
    spec: { analysis: { threshold: 10, metrics: [{ name: 'request-success-rate' }] }, skipAnalysis: null },
  }) as JsonObject;
  assert.deepEqual(result.metadata, { name: 'podinfo', labels: { app: 'podinfo', team: 'web' } });
  assert.deepEqual(result.spec, {
    analysis: { interval: '1m', threshold: 10, metrics: [{ name: 'request-success-rate' }] },
  });
});

test('the result shares nothing with the inputs, and a __proto__ key stays plain data', () => {
  const target: JsonObject = { keep: { deep: [1, { x: 1 }] } };
  const patch: JsonObject = { added: { list: [{ y: 1 }] } };
  const result = applyMergePatch(target, patch) as { keep: { deep: [number, JsonObject] }; added: { list: JsonObject[] } };
  result.keep.deep[1].x = 2;
  result.added.list[0]!.y = 2;
  assert.equal(((target.keep as JsonObject).deep as [number, JsonObject])[1].x, 1);
  assert.equal((((patch.added as JsonObject).list as JsonObject[])[0] as JsonObject).y, 1);

  const hostile = JSON.parse('{"__proto__": {"polluted": true}}') as JsonObject;
  const merged = applyMergePatch({}, hostile) as JsonObject;
  assert.equal(Object.getPrototypeOf(merged), Object.prototype);
  assert.deepEqual(Object.keys(merged), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
