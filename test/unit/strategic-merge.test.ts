import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch } from '../../src/localcluster/patch/strategic-merge.js';
import { builtinMergeSchema, schemaMergeSchema } from '../../src/localcluster/patch/list-semantics.js';
import type { ListSemantics, MergeSchema } from '../../src/localcluster/patch/list-semantics.js';
import { ApiError } from '../../src/localcluster/errors.js';
import type { JsonObject, JsonValue } from '../../src/localcluster/types.js';

/** Freezes deeply, so any mutation of an input throws (modules run in strict mode). */
const frozen = <T extends JsonValue>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) frozen(child as JsonValue);
    Object.freeze(value);
  }
  return value;
};

const smp = (original: JsonObject, patch: JsonObject, schema: MergeSchema = builtinMergeSchema): JsonObject =>
  applyStrategicMergePatch(frozen(structuredClone(original)), frozen(structuredClone(patch)), schema);

/** Every key anywhere in a value, to check that no directive leaks into a result. */
const allKeys = (value: JsonValue): string[] =>
  Array.isArray(value)
    ? value.flatMap(allKeys)
    : value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([k, v]) => [k, ...allKeys(v)])
      : [];

const assertNoDirectives = (value: JsonValue): void =>
  assert.deepEqual(
    allKeys(value).filter((k) => k.startsWith('$')),
    [],
  );

/** The schema apimachinery's own tests use: mergingList keyed by name, mergingIntList a set. */
const testSchema: MergeSchema = {
  listAt(path): ListSemantics {
    const last = path[path.length - 1];
    if (last === 'mergingList' || last === 'retainKeysMergingList') return { type: 'map', keys: ['name'] };
    if (last === 'mergingIntList') return { type: 'set' };
    return { type: 'atomic' };
  },
};

const deployment = (): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'podinfo', namespace: 'test', labels: { app: 'podinfo' }, finalizers: ['a', 'b'] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'podinfo' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'podinfo' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'ghcr.io/stefanprodan/podinfo:6.0.0',
            args: ['--port=9898', '--level=info'],
            ports: [
              { containerPort: 9898, protocol: 'TCP', name: 'http' },
              { containerPort: 9797, protocol: 'TCP', name: 'metrics' },
            ],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
              { name: 'C', value: '3' },
            ],
          },
          { name: 'sidecar', image: 'envoy:1.0', ports: [{ containerPort: 15000, protocol: 'TCP' }] },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'podinfo-config' } }],
      },
    },
  },
});

type Containers = Array<JsonObject & { name: string; image: string; env?: JsonObject[]; ports?: JsonObject[] }>;
const containersOf = (obj: JsonObject): Containers =>
  ((obj.spec as JsonObject).template as { spec: { containers: Containers } }).spec.containers;

test('kubectl set image changes one container and leaves the other and their order alone', () => {
  const original = deployment();
  const result = smp(original, { spec: { template: { spec: { containers: [{ name: 'app', image: 'x:2' }] } } } });
  const containers = containersOf(result);
  assert.deepEqual(
    containers.map((c) => [c.name, c.image]),
    [
      ['app', 'x:2'],
      ['sidecar', 'envoy:1.0'],
    ],
  );
  assert.deepEqual(containers[0]!.env, containersOf(original)[0]!.env);
  assert.deepEqual(containers[0]!.ports, containersOf(original)[0]!.ports);
  assert.deepEqual((result.spec as JsonObject).strategy, (original.spec as JsonObject).strategy);
});

test('the result shares no structure with the original', () => {
  const original = deployment();
  const result = smp(original, { spec: { replicas: 3 } });
  assert.equal((result.spec as JsonObject).replicas, 3);
  ((result.metadata as JsonObject).labels as JsonObject).extra = 'x';
  containersOf(result)[1]!.image = 'changed';
  assert.equal(((original.metadata as JsonObject).labels as JsonObject).extra, undefined);
  assert.equal(containersOf(original)[1]!.image, 'envoy:1.0');
});

test('kubectl scale, label and annotate patches', () => {
  const result = smp(deployment(), {
    spec: { replicas: 5 },
    metadata: { labels: { app: null, tier: 'web' }, annotations: { 'fledge.dev/note': 'hi', gone: null } },
  });
  assert.equal((result.spec as JsonObject).replicas, 5);
  assert.deepEqual((result.metadata as JsonObject).labels, { tier: 'web' });
  // A null for a key the object never had is not stored.
  assert.deepEqual((result.metadata as JsonObject).annotations, { 'fledge.dev/note': 'hi' });
});

test('second kubectl apply after removing an env var (three-way patch with $setElementOrder)', () => {
  const live = deployment();
  // Another manager added D to the live object; the user's manifest never had it.
  containersOf(live)[0]!.env!.push({ name: 'D', value: 'server' });
  const lastApplied = '{"apiVersion":"apps/v1","kind":"Deployment"}';
  const patch: JsonObject = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
          containers: [
            {
              '$setElementOrder/env': [{ name: 'A' }, { name: 'C' }],
              env: [{ $patch: 'delete', name: 'B' }],
              name: 'app',
            },
          ],
        },
      },
    },
  };
  const result = smp(live, patch);
  const containers = containersOf(result);
  assert.deepEqual(
    containers.map((c) => c.name),
    ['app', 'sidecar'],
  );
  assert.deepEqual(
    containers[0]!.env!.map((e) => e.name),
    ['A', 'C', 'D'],
  );
  assert.equal(containers[0]!.image, 'ghcr.io/stefanprodan/podinfo:6.0.0');
  assert.equal(
    ((result.metadata as JsonObject).annotations as JsonObject)['kubectl.kubernetes.io/last-applied-configuration'],
    lastApplied,
  );
  assertNoDirectives(result);
});

test('kubectl apply reordering containers and adding one with $setElementOrder', () => {
  const result = smp(deployment(), {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'init' }, { name: 'app' }],
          containers: [{ name: 'init', image: 'busybox' }],
        },
      },
    },
  });
  assert.deepEqual(
    containersOf(result).map((c) => c.name),
    ['sidecar', 'init', 'app'],
  );
});

test('$setElementOrder naming items the list lacks, and one contradicting the patch order', () => {
  const original = { mergingList: [{ name: '1' }, { name: '3' }] };
  const result = smp(
    original,
    {
      '$setElementOrder/mergingList': [{ name: '3' }, { name: '2' }, { name: '1' }],
      mergingList: [
        { name: '3', value: '3' },
        { name: '1', value: '1' },
      ],
    },
    testSchema,
  );
  assert.deepEqual(result, {
    mergingList: [
      { name: '3', value: '3' },
      { name: '1', value: '1' },
    ],
  });
  const reordered = smp({ mergingIntList: [1, 3] }, { '$setElementOrder/mergingIntList': [3, 2, 1] }, testSchema);
  assert.deepEqual(reordered, { mergingIntList: [3, 1] });
  assert.throws(
    () =>
      smp(
        { mergingList: [{ name: '1' }, { name: '3' }, { name: '2' }] },
        {
          '$setElementOrder/mergingList': [{ name: '1' }, { name: '2' }, { name: '3' }],
          mergingList: [{ name: '3' }, { name: '1' }],
        },
        testSchema,
      ),
    (e: unknown) => e instanceof ApiError && e.code === 400 && e.message.includes("doesn't match"),
  );
});

test('merge list order follows the patch, then the live list (as apimachinery)', () => {
  const original: JsonObject = { mergingList: [{ name: '1' }, { name: '2', value: 'b' }, { name: '3' }] };
  const all = smp(
    original,
    { mergingList: [{ name: '3', value: 'c' }, { name: '1', value: 'a' }, { name: '2', other: 'x' }] },
    testSchema,
  );
  assert.deepEqual(all.mergingList, [
    { name: '3', value: 'c' },
    { name: '1', value: 'a' },
    { name: '2', value: 'b', other: 'x' },
  ]);
  const partial = smp(original, { mergingList: [{ name: '3', value: 'c' }, { name: '1', value: 'a' }] }, testSchema);
  assert.deepEqual(
    (partial.mergingList as JsonObject[]).map((i) => i.name),
    ['2', '3', '1'],
  );
  const ints = smp({ mergingIntList: [1, 2, 3] }, { mergingIntList: [3, 1] }, testSchema);
  assert.deepEqual(ints.mergingIntList, [2, 3, 1]);
  // Appending keeps the live order and puts the new item after the patched ones.
  const appended = smp(original, { mergingList: [{ name: '3' }, { name: '4' }] }, testSchema);
  assert.deepEqual(
    (appended.mergingList as JsonObject[]).map((i) => i.name),
    ['1', '2', '3', '4'],
  );
});

test('three-way patches from apimachinery: merge lists of maps, delete from primitive lists', () => {
  const maps = smp(
    { mergingList: [{ name: '1', other: 'a' }, { name: '2', value: '2', other: 'b' }] },
    {
      '$setElementOrder/mergingList': [{ name: '4' }, { name: '1' }, { name: '2' }, { name: '3' }],
      mergingList: [
        { name: '4', value: '4' },
        { name: '3', value: '3' },
      ],
    },
    testSchema,
  );
  assert.deepEqual(maps.mergingList, [
    { name: '4', value: '4' },
    { name: '1', other: 'a' },
    { name: '2', value: '2', other: 'b' },
    { name: '3', value: '3' },
  ]);
  const ints = smp(
    { mergingIntList: [1, 2, 3, 3, 4] },
    { '$setElementOrder/mergingIntList': [1, 2], '$deleteFromPrimitiveList/mergingIntList': [3] },
    testSchema,
  );
  assert.deepEqual(ints.mergingIntList, [1, 2, 4]);
});

test('$deleteFromPrimitiveList removes finalizers and never creates a list', () => {
  const result = smp(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
  assert.deepEqual((result.metadata as JsonObject).finalizers, ['b']);
  const untouched = smp({ foo: ['bar'] }, { '$deleteFromPrimitiveList/mergingIntList': [3] }, testSchema);
  assert.deepEqual(untouched, { foo: ['bar'] });
});

test('set lists merge as unions, atomic lists are replaced', () => {
  const result = smp(deployment(), {
    metadata: { finalizers: ['b', 'c'] },
    spec: { template: { spec: { containers: [{ name: 'app', args: ['--port=8080'] }] } } },
  });
  assert.deepEqual((result.metadata as JsonObject).finalizers, ['a', 'b', 'c']);
  assert.deepEqual(containersOf(result)[0]!.args, ['--port=8080']);
});

test('container ports merge on containerPort, Service ports on port', () => {
  const result = smp(deployment(), {
    spec: { template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 9797, name: 'prom' }] }] } } },
  });
  assert.deepEqual(containersOf(result)[0]!.ports, [
    { containerPort: 9898, protocol: 'TCP', name: 'http' },
    { containerPort: 9797, protocol: 'TCP', name: 'prom' },
  ]);
  const service: JsonObject = {
    kind: 'Service',
    spec: { ports: [{ port: 80, targetPort: 9898, name: 'http' }], selector: { app: 'podinfo' } },
  };
  const patched = smp(service, { spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 443, name: 'https' }] } });
  assert.deepEqual((patched.spec as JsonObject).ports, [
    { port: 80, targetPort: 'http', name: 'http' },
    { port: 443, name: 'https' },
  ]);
});

test('$patch: delete removes a list item; deleting a missing item is a no-op', () => {
  const result = smp(deployment(), {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'sidecar', $patch: 'delete' },
            { name: 'ghost', $patch: 'delete' },
          ],
        },
      },
    },
  });
  assert.deepEqual(
    containersOf(result).map((c) => c.name),
    ['app'],
  );
});

test('$patch: replace in a list and in a map, $patch: delete and merge in a map', () => {
  const replacedList = smp(deployment(), {
    spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } },
  });
  assert.deepEqual(containersOf(replacedList), [{ name: 'only', image: 'x' }]);

  const replacedMap = smp(deployment(), { spec: { selector: { $patch: 'replace', matchLabels: { v: '2' } } } });
  assert.deepEqual((replacedMap.spec as JsonObject).selector, { matchLabels: { v: '2' } });

  const deletedMap = smp(deployment(), { metadata: { labels: { $patch: 'delete' } } });
  assert.deepEqual((deletedMap.metadata as JsonObject).labels, {});

  const merged = smp(deployment(), { metadata: { labels: { $patch: 'merge', tier: 'web' } } });
  assert.deepEqual((merged.metadata as JsonObject).labels, { app: 'podinfo', tier: 'web' });

  assert.throws(
    () => smp(deployment(), { metadata: { labels: { $patch: 'explode' } } }),
    (e: unknown) => e instanceof ApiError && e.code === 400 && e.message.includes('unknown patch type: explode'),
  );
});

test('$retainKeys clears the strategy fields not named (kubectl apply switching to Recreate)', () => {
  const result = smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  assert.deepEqual((result.spec as JsonObject).strategy, { type: 'Recreate' });

  const volumes = smp(deployment(), {
    spec: {
      template: {
        spec: { volumes: [{ $retainKeys: ['name', 'secret'], name: 'cfg', secret: { secretName: 'podinfo' } }] },
      },
    },
  });
  const spec = ((volumes.spec as JsonObject).template as { spec: JsonObject }).spec;
  assert.deepEqual(spec.volumes, [{ name: 'cfg', secret: { secretName: 'podinfo' } }]);

  assert.throws(
    () => smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', extra: 1 } } }),
    (e: unknown) => e instanceof ApiError && e.code === 422 && e.message.includes('retainKeys'),
  );
});

test('directives inside values the object lacks are applied, never stored', () => {
  const result = smp(deployment(), {
    spec: {
      template: {
        spec: {
          '$setElementOrder/initContainers': [{ name: 'b' }, { name: 'a' }],
          initContainers: [
            { name: 'b', image: 'b', resources: { $patch: 'replace', limits: { cpu: '1' } } },
            { name: 'a', image: 'a', env: [{ name: 'X', $patch: 'delete' }, { name: 'Y', value: 'y' }] },
          ],
        },
      },
      newMap: { keep: 'x', drop: null, nested: { $patch: 'delete' } },
    },
  });
  const spec = ((result.spec as JsonObject).template as { spec: JsonObject }).spec;
  assert.deepEqual(spec.initContainers, [
    { name: 'b', image: 'b', resources: { limits: { cpu: '1' } } },
    { name: 'a', image: 'a', env: [{ name: 'Y', value: 'y' }] },
  ]);
  assert.deepEqual((result.spec as JsonObject).newMap, { keep: 'x', nested: {} });
  assertNoDirectives(result);
});

test('a patch item without its merge key is rejected', () => {
  assert.throws(
    () => smp(deployment(), { spec: { template: { spec: { containers: [{ image: 'x:2' }] } } } }),
    (e: unknown) =>
      e instanceof ApiError && e.code === 400 && e.message.includes('does not contain declared merge key: name'),
  );
});

test('null deletes fields at any depth; a type change replaces the value', () => {
  const result = smp(deployment(), {
    spec: { strategy: { rollingUpdate: null }, selector: 'not-a-map' },
    metadata: { finalizers: null },
  });
  assert.deepEqual((result.spec as JsonObject).strategy, { type: 'RollingUpdate' });
  assert.equal((result.spec as JsonObject).selector, 'not-a-map');
  assert.equal(Object.hasOwn(result.metadata as JsonObject, 'finalizers'), false);
});

test('a whole-object $patch: delete leaves an empty object', () => {
  assert.deepEqual(smp(deployment(), { $patch: 'delete' }), {});
});

test('CRD schemas: x-kubernetes-list-type map and atomic maps', () => {
  const schema = schemaMergeSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          metrics: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object', properties: { name: { type: 'string' } } },
          },
          headers: { type: 'object', 'x-kubernetes-map-type': 'atomic' },
          hosts: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  });
  const result = smp(
    {
      spec: {
        metrics: [
          { name: 'request-success-rate', threshold: 99 },
          { name: 'latency', threshold: 500 },
        ],
        headers: { a: '1', b: '2' },
        hosts: ['a', 'b'],
      },
    },
    { spec: { metrics: [{ name: 'latency', threshold: 300 }], headers: { c: '3' }, hosts: ['c'] } },
    schema,
  );
  assert.deepEqual(result.spec, {
    metrics: [
      { name: 'request-success-rate', threshold: 99 },
      { name: 'latency', threshold: 300 },
    ],
    headers: { c: '3' },
    hosts: ['c'],
  });
});
