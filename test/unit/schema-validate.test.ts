import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, pruneUnknownFields, validateObject, validateValue } from '../../src/localcluster/schema/index.js';
import type { JsonObject } from '../../src/localcluster/types.js';

/** A cut-down Canary schema in the shape Flagger's CRD has (oneOf on analysis, int-or-string, enums). */
const schema: JsonObject = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } },
    spec: {
      type: 'object',
      required: ['targetRef', 'analysis'],
      properties: {
        provider: { type: 'string', enum: ['istio', 'kubernetes'] },
        progressDeadlineSeconds: { type: 'integer', default: 600 },
        targetRef: {
          type: 'object',
          required: ['kind', 'name'],
          properties: { kind: { type: 'string', enum: ['Deployment', 'DaemonSet'] }, name: { type: 'string', minLength: 1 } },
        },
        service: {
          type: 'object',
          properties: {
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            targetPort: { 'x-kubernetes-int-or-string': true },
            hosts: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
            gateways: { type: 'array', maxItems: 2, items: { type: 'string' } },
          },
        },
        analysis: {
          type: 'object',
          oneOf: [{ required: ['iterations'] }, { required: ['stepWeight'] }],
          'x-kubernetes-validations': [{ rule: 'self.stepWeight <= self.maxWeight' }],
          properties: {
            interval: { type: 'string', pattern: '^[0-9]+(m|s)$', default: '1m' },
            iterations: { type: 'integer' },
            stepWeight: { type: 'integer', minimum: 0, maximum: 100 },
            maxWeight: { type: 'number', exclusiveMaximum: true, maximum: 100.5 },
            mirrorWeight: { type: 'number', nullable: true },
            metrics: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string' },
                  interval: { type: 'string', default: '1m' },
                  thresholdRange: { type: 'object', properties: { min: { type: 'number' }, max: { type: 'number' } } },
                },
              },
            },
            webhooks: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  metadata: { type: 'object', additionalProperties: { type: 'string', maxLength: 5 } },
                },
              },
            },
          },
        },
        values: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
        strictMap: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
        labels: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string', default: 'x' } } } },
      },
    },
    status: {
      type: 'object',
      properties: { phase: { type: 'string' }, lastTransitionTime: { type: 'string', format: 'date-time' } },
    },
  },
};

const canary = (spec: JsonObject = {}): JsonObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: 'podinfo', namespace: 'test' },
  spec: {
    targetRef: { kind: 'Deployment', name: 'podinfo' },
    analysis: { interval: '1m', stepWeight: 10 },
    ...spec,
  },
});

const withAnalysis = (analysis: JsonObject): JsonObject => canary({ analysis });

test('a valid object has no causes', () => {
  assert.deepEqual(validateObject(canary(), schema), []);
});

test('maximum is reported like kube-apiserver, naming the field path', () => {
  const causes = validateObject(withAnalysis({ stepWeight: 200 }), schema);
  assert.deepEqual(causes, [
    {
      reason: 'FieldValueInvalid',
      field: 'spec.analysis.stepWeight',
      message: 'Invalid value: 200: spec.analysis.stepWeight in body should be less than or equal to 100',
    },
  ]);
});

test('minimum, exclusive maximum and float bounds', () => {
  const [below] = validateObject(withAnalysis({ stepWeight: -1 }), schema);
  assert.equal(below?.message, 'Invalid value: -1: spec.analysis.stepWeight in body should be greater than or equal to 0');
  const [over] = validateObject(withAnalysis({ stepWeight: 5, maxWeight: 100.5 }), schema);
  assert.equal(over?.message, 'Invalid value: 100.5: spec.analysis.maxWeight in body should be less than 100.5');
});

test('wrong types are FieldValueTypeInvalid, naming the type found', () => {
  const [cause] = validateObject(withAnalysis({ stepWeight: 'ten' }), schema);
  assert.deepEqual(cause, {
    reason: 'FieldValueTypeInvalid',
    field: 'spec.analysis.stepWeight',
    message: 'Invalid value: "string": spec.analysis.stepWeight in body must be of type integer: "string"',
  });
  const [fraction] = validateObject(withAnalysis({ stepWeight: 2.5 }), schema);
  assert.equal(fraction?.message, 'Invalid value: "number": spec.analysis.stepWeight in body must be of type integer: "number"');
});

test('missing required fields are FieldValueRequired at the child path', () => {
  const obj = canary();
  delete (obj.spec as JsonObject).targetRef;
  assert.deepEqual(validateObject(obj, schema), [{ reason: 'FieldValueRequired', field: 'spec.targetRef', message: 'Required value' }]);
});

test('enum violations list the supported values', () => {
  const [cause] = validateObject(canary({ provider: 'nginx' }), schema);
  assert.deepEqual(cause, {
    reason: 'FieldValueNotSupported',
    field: 'spec.provider',
    message: 'Unsupported value: "nginx": supported values: "istio", "kubernetes"',
  });
});

test('strings: pattern, minLength, maxLength and format', () => {
  const [pattern] = validateObject(withAnalysis({ stepWeight: 1, interval: '1 minute' }), schema);
  assert.equal(pattern?.message, `Invalid value: "1 minute": spec.analysis.interval in body should match '^[0-9]+(m|s)$'`);
  const [short] = validateObject(canary({ targetRef: { kind: 'Deployment', name: '' } }), schema);
  assert.equal(short?.message, 'Invalid value: "": spec.targetRef.name in body should be at least 1 chars long');
  const [long] = validateObject(withAnalysis({ stepWeight: 1, webhooks: [{ metadata: { cmd: 'toolong' } }] }), schema);
  assert.deepEqual(long, {
    reason: 'FieldValueTooLong',
    field: 'spec.analysis.webhooks[0].metadata.cmd',
    message: 'Too long: may not be more than 5 bytes',
  });
  const obj = canary();
  obj.status = { lastTransitionTime: 'yesterday' };
  const [format] = validateObject(obj, schema);
  assert.equal(format?.reason, 'FieldValueTypeInvalid');
  assert.equal(format?.message, 'Invalid value: "yesterday": status.lastTransitionTime in body must be of type date-time: "yesterday"');
  obj.status = { lastTransitionTime: '2024-05-01T10:00:00Z' };
  assert.deepEqual(validateObject(obj, schema), []);
});

test('arrays: maxItems is FieldValueTooMany, items are validated at indexed paths', () => {
  const [tooMany] = validateObject(canary({ service: { gateways: ['a', 'b', 'c'] } }), schema);
  assert.deepEqual(tooMany, { reason: 'FieldValueTooMany', field: 'spec.service.gateways', message: 'Too many: 3: must have at most 2 items' });
  const [item] = validateObject(withAnalysis({ stepWeight: 1, metrics: [{ name: 'a' }, { name: 'b', thresholdRange: { min: 'low' } }] }), schema);
  assert.equal(item?.field, 'spec.analysis.metrics[1].thresholdRange.min');
});

test('int-or-string accepts both and rejects anything else', () => {
  assert.deepEqual(validateObject(canary({ service: { targetPort: 8080 } }), schema), []);
  assert.deepEqual(validateObject(canary({ service: { targetPort: 'http' } }), schema), []);
  const [cause] = validateObject(canary({ service: { targetPort: true } }), schema);
  assert.equal(cause?.message, 'Invalid value: "boolean": spec.service.targetPort in body must be of type integer,string: "boolean"');
});

test('null is refused unless nullable', () => {
  assert.deepEqual(validateObject(withAnalysis({ stepWeight: 1, mirrorWeight: null }), schema), []);
  const [cause] = validateObject(withAnalysis({ stepWeight: null }), schema);
  assert.equal(cause?.message, 'Invalid value: "null": spec.analysis.stepWeight in body must be of type integer: "null"');
});

test('oneOf reports none or several valid alternatives, with a nil field', () => {
  const [none] = validateObject(withAnalysis({ interval: '1m' }), schema);
  assert.deepEqual(none, {
    reason: 'FieldValueInvalid',
    field: '<nil>',
    message: 'Invalid value: "": "spec.analysis" must validate one and only one schema (oneOf). Found none valid',
  });
  const [both] = validateObject(withAnalysis({ iterations: 10, stepWeight: 5 }), schema);
  assert.match(both?.message ?? '', /Found 2 valid alternatives$/);
});

test('anyOf, allOf and not', () => {
  const anyOf: JsonObject = { type: 'object', anyOf: [{ required: ['a'] }, { required: ['b'] }] };
  assert.deepEqual(validateValue({ b: 1 }, anyOf, 'spec.x'), []);
  const causes = validateValue({}, anyOf, 'spec.x');
  assert.equal(causes[0]?.message, 'Invalid value: "": "spec.x" must validate at least one schema (anyOf)');
  const allOf: JsonObject = { type: 'integer', allOf: [{ minimum: 1 }, { maximum: 3 }] };
  assert.deepEqual(validateValue(2, allOf, 'n'), []);
  assert.ok(validateValue(5, allOf, 'n').some((c) => c.message.includes('must validate all the schemas (allOf)')));
  const not: JsonObject = { type: 'object', not: { required: ['forbidden'] } };
  assert.equal(validateValue({ forbidden: 1 }, not, 'o')[0]?.message, 'Invalid value: "": "o" must not validate the schema (not)');
});

test('additionalProperties: false forbids unknown keys; schemas validate map values', () => {
  const [forbidden] = validateObject(canary({ strictMap: { a: 'x', b: 'y' } }), schema);
  assert.deepEqual(forbidden, { reason: 'FieldValueInvalid', field: 'spec.strictMap', message: 'Invalid value: "b": spec.strictMap.b in body is a forbidden property' });
  const [mapValue] = validateObject(canary({ labels: { one: { v: 3 } } }), schema);
  assert.equal(mapValue?.field, 'spec.labels.one.v');
});

test('list types: set and map items must be unique, reported at the second occurrence', () => {
  const [dupSet] = validateObject(canary({ service: { hosts: ['a', 'b', 'a', 'a'] } }), schema);
  assert.deepEqual(dupSet, { reason: 'FieldValueDuplicate', field: 'spec.service.hosts[2]', message: 'Duplicate value: "a"' });
  const causes = validateObject(withAnalysis({ stepWeight: 1, metrics: [{ name: 'a' }, { name: 'b' }, { name: 'a', interval: '2m' }] }), schema);
  assert.deepEqual(causes, [
    {
      reason: 'FieldValueDuplicate',
      field: 'spec.analysis.metrics[2]',
      message: 'Duplicate value: map[string]interface {}{"interval":"2m", "name":"a"}',
    },
  ]);
});

test('metadata: only name/namespace types and the schema restriction on name are checked', () => {
  const obj = canary();
  obj.metadata = { name: 'a-name-longer-than-twenty-chars', namespace: 7, labels: { any: 'thing' } };
  const causes = validateObject(obj, schema);
  assert.deepEqual(
    causes.map((c) => c.field),
    ['metadata.name', 'metadata.namespace'],
  );
  assert.equal(causes[0]?.reason, 'FieldValueTooLong');
  assert.equal(causes[1]?.message, 'Invalid value: "integer": metadata.namespace in body must be of type string: "integer"');
});

test('x-kubernetes-validations (CEL) are ignored', () => {
  assert.deepEqual(validateObject(withAnalysis({ stepWeight: 50, maxWeight: 10 }), schema), []);
});

test('defaults fill missing fields recursively, in list items and map values, without overwriting', () => {
  const input = canary({ labels: { one: {} } });
  (input.spec as JsonObject).analysis = { stepWeight: 5, metrics: [{ name: 'a' }, { name: 'b', interval: '30s' }] };
  const out = applyDefaults(input, schema);
  const spec = out.spec as JsonObject;
  assert.equal(spec.progressDeadlineSeconds, 600);
  assert.deepEqual(spec.analysis, {
    stepWeight: 5,
    interval: '1m',
    metrics: [
      { name: 'a', interval: '1m' },
      { name: 'b', interval: '30s' },
    ],
  });
  assert.deepEqual(spec.labels, { one: { v: 'x' } });
  // the input is untouched
  assert.equal((input.spec as JsonObject).progressDeadlineSeconds, undefined);
});

test('defaults replace non-nullable nulls, and such nulls without a default are dropped', () => {
  const out = applyDefaults(withAnalysis({ interval: null, stepWeight: null, mirrorWeight: null }), schema);
  assert.deepEqual((out.spec as JsonObject).analysis, { interval: '1m', mirrorWeight: null });
});

test('defaults never touch metadata', () => {
  const withMetaDefault: JsonObject = { type: 'object', properties: { metadata: { type: 'object', default: { name: 'x' } } } };
  assert.deepEqual(applyDefaults({ apiVersion: 'v1', kind: 'X' }, withMetaDefault), { apiVersion: 'v1', kind: 'X' });
});

test('pruning drops unknown fields, lists their paths, keeps apiVersion/kind/metadata', () => {
  const input = withAnalysis({ stepWeight: 5, bogus: true, metrics: [{ name: 'a', extra: 1 }] });
  input.topLevel = 'x';
  (input.metadata as JsonObject).labels = { app: 'podinfo' };
  (input.spec as JsonObject).values = { anything: { goes: 1 }, known: { a: 'ok', b: 'dropped' } };
  const { pruned, unknown } = pruneUnknownFields(input, schema);
  assert.deepEqual(unknown, ['spec.analysis.bogus', 'spec.analysis.metrics[0].extra', 'spec.values.known.b', 'topLevel']);
  assert.deepEqual(pruned.metadata, { name: 'podinfo', namespace: 'test', labels: { app: 'podinfo' } });
  assert.equal(pruned.apiVersion, 'flagger.app/v1beta1');
  assert.deepEqual((pruned.spec as JsonObject).values, { anything: { goes: 1 }, known: { a: 'ok' } });
  assert.deepEqual((pruned.spec as JsonObject).analysis, { stepWeight: 5, metrics: [{ name: 'a' }] });
  assert.equal('topLevel' in pruned, false);
  // the input is untouched
  assert.equal((input.spec as JsonObject).analysis !== undefined && 'bogus' in ((input.spec as JsonObject).analysis as JsonObject), true);
});

test('pruning an object whose schema declares no fields drops them all', () => {
  const { pruned, unknown } = pruneUnknownFields({ apiVersion: 'v1', kind: 'X', spec: { a: 1 } }, { type: 'object', properties: { spec: { type: 'object' } } });
  assert.deepEqual(pruned, { apiVersion: 'v1', kind: 'X', spec: {} });
  assert.deepEqual(unknown, ['spec.a']);
});
