import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, parseJsonPointer } from '../../src/localcluster/patch/json-patch.js';
import { ApiError } from '../../src/localcluster/errors.js';
import type { JsonObject, JsonValue } from '../../src/localcluster/types.js';

const frozen = <T extends JsonValue>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) frozen(child as JsonValue);
    Object.freeze(value);
  }
  return value;
};

const pod = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web', 'a/b': 'slash', 'm~n': 'tilde' } },
  spec: { containers: [{ name: 'app', image: 'nginx:1', args: ['a', 'b'] }] },
});

const patch = (ops: unknown, target: JsonObject = pod()): JsonObject =>
  applyJsonPatch(frozen(target), frozen(structuredClone(ops) as JsonValue)) as JsonObject;

const rejectsWith = (code: number, text: string) => (e: unknown) =>
  e instanceof ApiError && e.code === code && e.message.includes(text);

test('JSON pointers unescape ~1 and ~0 in that order', () => {
  assert.deepEqual(parseJsonPointer('/metadata/labels/a~1b'), ['metadata', 'labels', 'a/b']);
  assert.deepEqual(parseJsonPointer('/x/~01'), ['x', '~1']);
  assert.deepEqual(parseJsonPointer(''), []);
  assert.throws(() => parseJsonPointer('x'), rejectsWith(400, 'JSON pointer'));
  assert.throws(() => parseJsonPointer('/a~2'), rejectsWith(400, 'escape'));
});

test('add, replace and remove on an escaped label key', () => {
  const result = patch([
    { op: 'replace', path: '/metadata/labels/a~1b', value: 'changed' },
    { op: 'add', path: '/metadata/labels/fledge.dev~1owner', value: 'me' },
    { op: 'remove', path: '/metadata/labels/m~0n' },
  ]);
  assert.deepEqual((result.metadata as JsonObject).labels, { app: 'web', 'a/b': 'changed', 'fledge.dev/owner': 'me' });
});

test('array operations: append with -, insert at an index, remove by index', () => {
  const result = patch([
    { op: 'add', path: '/spec/containers/0/args/-', value: 'c' },
    { op: 'add', path: '/spec/containers/0/args/0', value: 'first' },
    { op: 'remove', path: '/spec/containers/0/args/1' },
    { op: 'add', path: '/spec/containers/-', value: { name: 'sidecar', image: 'envoy' } },
  ]);
  const containers = (result.spec as { containers: JsonObject[] }).containers;
  assert.deepEqual(containers[0]!.args, ['first', 'b', 'c']);
  assert.deepEqual(
    containers.map((c) => c.name),
    ['app', 'sidecar'],
  );
  assert.throws(
    () => patch([{ op: 'add', path: '/spec/containers/0/args/5', value: 'x' }]),
    rejectsWith(422, 'invalid index'),
  );
  assert.throws(() => patch([{ op: 'remove', path: '/spec/containers/0/args/01' }]), rejectsWith(422, 'args/01'));
});

test('move and copy', () => {
  const result = patch([
    { op: 'copy', from: '/metadata/labels', path: '/spec/selector' },
    { op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/name' },
  ]);
  assert.deepEqual((result.metadata as JsonObject).labels, { 'a/b': 'slash', 'm~n': 'tilde', name: 'web' });
  assert.deepEqual((result.spec as JsonObject).selector, { app: 'web', 'a/b': 'slash', 'm~n': 'tilde' });
  assert.throws(
    () => patch([{ op: 'move', from: '/metadata', path: '/metadata/labels/x' }]),
    rejectsWith(422, 'own child'),
  );
  assert.throws(
    () => patch([{ op: 'copy', from: '/metadata/nope', path: '/x' }]),
    rejectsWith(422, 'missing from path: "/metadata/nope"'),
  );
});

test('test passes on equal values and fails with 422 naming the path', () => {
  const ok = patch([
    { op: 'test', path: '/spec/containers/0', value: { args: ['a', 'b'], image: 'nginx:1', name: 'app' } },
    { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' },
  ]);
  assert.equal((ok.spec as { containers: JsonObject[] }).containers[0]!.image, 'nginx:2');
  assert.throws(
    () => patch([{ op: 'test', path: '/metadata/labels/app', value: 'other' }]),
    (e: unknown) =>
      e instanceof ApiError &&
      e.code === 422 &&
      e.reason === 'Invalid' &&
      e.message.includes('/metadata/labels/app') &&
      e.details.causes?.[0]?.field === '/metadata/labels/app',
  );
});

test('a missing path is a 422 naming the path; nothing is applied', () => {
  const target = pod();
  assert.throws(
    () => patch([{ op: 'replace', path: '/spec/replicas', value: 3 }], target),
    rejectsWith(422, '/spec/replicas'),
  );
  assert.throws(() => patch([{ op: 'remove', path: '/status/phase' }], target), rejectsWith(422, '/status/phase'));
  assert.throws(() => patch([{ op: 'add', path: '/status/phase', value: 'x' }], target), rejectsWith(422, '/status/phase'));
  assert.deepEqual(target, pod());
});

test('malformed operation lists are 400 BadRequest', () => {
  assert.throws(() => patch({ op: 'add' }), rejectsWith(400, 'cannot unmarshal object'));
  assert.throws(() => patch([{ op: 'frobnicate', path: '/a' }]), rejectsWith(400, 'Unexpected kind: frobnicate'));
  assert.throws(() => patch([{ op: 'add', path: '/a' }]), rejectsWith(400, 'missing value'));
  assert.throws(() => patch([{ op: 'move', path: '/a' }]), rejectsWith(400, 'missing from'));
  assert.throws(() => patch([{ op: 'remove' }]), rejectsWith(400, 'missing path'));
  assert.throws(() => patch(['add']), rejectsWith(400, 'not an object'));
});

test('the root can be replaced, and the result never aliases the inputs', () => {
  assert.deepEqual(patch([{ op: 'replace', path: '', value: { kind: 'Other' } }]), { kind: 'Other' });
  const value: JsonObject = { nested: { x: 1 } };
  const result = applyJsonPatch({ a: {} }, [{ op: 'add', path: '/a/b', value }]) as { a: { b: JsonObject } };
  (result.a.b.nested as JsonObject).x = 2;
  assert.equal((value.nested as JsonObject).x, 1);
});
