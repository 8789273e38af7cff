/** Config tracking: references found in a pod spec, renaming to -primary copies, checksums. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { configChecksum, findConfigRefs, renameConfigRefs } from '../../src/workloads/configs.js';
import { pathOf } from '../../src/workloads/json.js';
import { configDataChecksum, revisionChecksum } from '../../src/workloads/checksum.js';

const podSpec = () => ({
  volumes: [
    { name: 'a', configMap: { name: 'cm-volume' } },
    { name: 'b', secret: { secretName: 'secret-volume', optional: true } },
    { name: 'c', projected: { sources: [{ configMap: { name: 'cm-projected' } }, { secret: { name: 'secret-projected' } }, { serviceAccountToken: { path: 't' } }] } },
    { name: 'd', emptyDir: {} },
  ],
  initContainers: [{ name: 'init', envFrom: [{ configMapRef: { name: 'cm-init' } }] }],
  containers: [
    {
      name: 'app',
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm-env', key: 'k', optional: false } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'secret-env', key: 'k' } } },
        { name: 'C', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'D', value: 'plain' },
      ],
      envFrom: [{ secretRef: { name: 'secret-envfrom' } }, { configMapRef: { name: 'cm-volume' } }],
    },
  ],
});

test('every ConfigMap and Secret a pod spec names is found once, sorted, required only when optional: false', () => {
  assert.deepEqual(findConfigRefs(podSpec()), [
    { kind: 'configmap', name: 'cm-env', required: true },
    { kind: 'configmap', name: 'cm-init', required: false },
    { kind: 'configmap', name: 'cm-projected', required: false },
    { kind: 'configmap', name: 'cm-volume', required: false },
    { kind: 'secret', name: 'secret-env', required: false },
    { kind: 'secret', name: 'secret-envfrom', required: false },
    { kind: 'secret', name: 'secret-projected', required: false },
    { kind: 'secret', name: 'secret-volume', required: false },
  ]);
  assert.deepEqual(findConfigRefs({}), []);
});

test('renaming points tracked references (every place, init containers too) at the -primary copies', () => {
  const source = podSpec();
  const tracked = new Set(['configmap/cm-volume', 'configmap/cm-init', 'secret/secret-projected', 'secret/secret-volume', 'configmap/cm-env']);
  const renamed = renameConfigRefs(source, tracked);
  const at = (...path: Array<string | number>): unknown => pathOf(renamed, ...path);
  assert.equal(at('volumes', 0, 'configMap', 'name'), 'cm-volume-primary');
  assert.equal(at('volumes', 1, 'secret', 'secretName'), 'secret-volume-primary');
  assert.equal(at('volumes', 2, 'projected', 'sources', 0, 'configMap', 'name'), 'cm-projected', 'not tracked');
  assert.equal(at('volumes', 2, 'projected', 'sources', 1, 'secret', 'name'), 'secret-projected-primary');
  assert.equal(at('initContainers', 0, 'envFrom', 0, 'configMapRef', 'name'), 'cm-init-primary');
  assert.equal(at('containers', 0, 'env', 0, 'valueFrom', 'configMapKeyRef', 'name'), 'cm-env-primary');
  assert.equal(at('containers', 0, 'env', 1, 'valueFrom', 'secretKeyRef', 'name'), 'secret-env', 'not tracked');
  assert.equal(at('containers', 0, 'envFrom', 1, 'configMapRef', 'name'), 'cm-volume-primary');
  assert.equal(source.volumes[0]?.configMap?.name, 'cm-volume', 'the input is not modified');
});

test("config checksums are Flagger's: sha256 of Go's JSON of the data, 16 hex digits", () => {
  const goJson = '{"a":"\\u003cb\\u003e \\u0026","b":"2"}';
  const expected = createHash('sha256').update(goJson).digest('hex').slice(0, 16);
  assert.equal(configDataChecksum({ b: '2', a: '<b> &' }), expected);
  assert.equal(configDataChecksum(undefined), createHash('sha256').update('null').digest('hex').slice(0, 16));
  assert.notEqual(configDataChecksum({ a: '1' }), configDataChecksum({ a: '2' }));
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } };
  assert.equal(configChecksum(cm), configDataChecksum({ a: '1' }));
  assert.notEqual(configChecksum({ ...cm, binaryData: { b: 'AA==' } }), configChecksum(cm), 'binaryData counts when present');
});

test('the revision checksum is stable under key order and changes with the template or a config', () => {
  const template = { metadata: { labels: { app: 'a', v: '1' } }, spec: { containers: [{ name: 'a', image: 'x:1' }] } };
  const reordered = { spec: { containers: [{ image: 'x:1', name: 'a' }] }, metadata: { labels: { v: '1', app: 'a' } } };
  const configs = { 'configmap/a': '1111', 'secret/b': '2222' };
  const base = revisionChecksum(template, configs);
  assert.match(base, /^[0-9a-f]{16}$/);
  assert.equal(revisionChecksum(reordered, { 'secret/b': '2222', 'configmap/a': '1111' }), base);
  assert.notEqual(revisionChecksum({ ...template, spec: { containers: [{ name: 'a', image: 'x:2' }] } }, configs), base);
  assert.notEqual(revisionChecksum(template, { ...configs, 'configmap/a': '3333' }), base);
  assert.notEqual(revisionChecksum(template, {}), base);
});
