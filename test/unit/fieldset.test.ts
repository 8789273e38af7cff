import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, describePath, keyElement } from '../../src/localcluster/apply/fieldset.js';
import { compareObjects, toFieldSet, trackedView } from '../../src/localcluster/apply/typed.js';
import { builtinMergeSchema } from '../../src/localcluster/patch/list-semantics.js';
import type { JsonObject } from '../../src/localcluster/types.js';

const portsFieldsV1: JsonObject = {
  'f:spec': {
    'f:containers': {
      'k:{"name":"app"}': {
        '.': {},
        'f:name': {},
        'f:ports': {
          'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
        },
      },
    },
  },
};

test('fieldsV1 round-trips a keyed port item and its member marker', () => {
  const set = FieldSet.fromFieldsV1(portsFieldsV1);
  const port = ['f:spec', 'f:containers', 'k:{"name":"app"}', 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}'];
  assert.ok(set.has(port));
  assert.ok(set.has([...port, 'f:protocol']));
  assert.ok(!set.has(['f:spec', 'f:containers']), 'a parent with only children is not a member');
  assert.equal(set.size, 5);
  assert.deepEqual(set.toFieldsV1(), portsFieldsV1);
});

test('key elements are spelled with sorted keys, whatever order a client used', () => {
  assert.equal(keyElement({ protocol: 'TCP', containerPort: 80 }), 'k:{"containerPort":80,"protocol":"TCP"}');
  const fromClient = FieldSet.fromFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
  assert.ok(fromClient.has(['f:ports', 'k:{"containerPort":80,"protocol":"TCP"}']));
  assert.throws(() => FieldSet.fromFieldsV1({ 'x:bad': {} }), /invalid path element/);
});

test('paths print as the API server prints them in conflicts', () => {
  assert.equal(describePath(['f:spec', 'f:replicas']), '.spec.replicas');
  assert.equal(
    describePath(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', 'f:targetPort']),
    '.spec.ports[port=80,protocol="TCP"].targetPort',
  );
  assert.equal(describePath(['f:metadata', 'f:finalizers', 'v:"a"']), '.metadata.finalizers[="a"]');
});

test('set operations and named parents', () => {
  const a = FieldSet.of([['f:spec', 'f:replicas'], ['f:spec', 'f:paused']]);
  const b = FieldSet.of([['f:spec', 'f:replicas']]);
  assert.deepEqual(a.difference(b).paths(), [['f:spec', 'f:paused']]);
  assert.deepEqual(a.intersection(b).paths(), [['f:spec', 'f:replicas']]);
  assert.equal(a.union(b).size, 2);
  const withParents = FieldSet.of([['f:spec', 'f:containers', 'k:{"name":"a"}', 'f:image']]).withNamedParents();
  assert.ok(withParents.has(['f:spec']));
  assert.ok(withParents.has(['f:spec', 'f:containers']));
  assert.ok(!withParents.has(['f:spec', 'f:containers', 'k:{"name":"a"}']), 'list items are not implied');
});

test('an object as fields: leaves, keyed items, set items, atomic lists; identity is not tracked', () => {
  const obj: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u', labels: { app: 'x' }, finalizers: ['a', 'b'] },
    spec: { containers: [{ name: 'c', args: ['--x'], ports: [{ containerPort: 80 }] }], resources: {} },
    status: { phase: 'Running' },
  };
  const set = toFieldSet(trackedView(obj, { statusSubresource: true }), builtinMergeSchema);
  const encoded = set.toFieldsV1();
  assert.deepEqual(encoded, {
    'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} }, 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:containers': {
        'k:{"name":"c"}': {
          '.': {},
          'f:args': {},
          'f:name': {},
          'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
        },
      },
      'f:resources': {},
    },
  });
});

test('comparison marks maps and items that appear as members', () => {
  const before: JsonObject = { metadata: {}, spec: { replicas: 1 } };
  const after: JsonObject = { metadata: { labels: { a: '1' } }, spec: { replicas: 2, strategy: { rollingUpdate: { maxSurge: 1 } } } };
  const diff = compareObjects(before, after, builtinMergeSchema);
  assert.deepEqual(diff.modified.paths(), [['f:spec', 'f:replicas']]);
  assert.ok(diff.added.has(['f:metadata', 'f:labels']));
  assert.ok(diff.added.has(['f:spec', 'f:strategy', 'f:rollingUpdate']));
  assert.ok(!diff.added.has(['f:spec', 'f:strategy']), 'strategy is always present on a Deployment');
  assert.ok(diff.removed.isEmpty());
  const back = compareObjects(after, before, builtinMergeSchema);
  assert.ok(back.removed.has(['f:metadata', 'f:labels', 'f:a']));
});
