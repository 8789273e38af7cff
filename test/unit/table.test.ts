import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toTable } from '../../src/localcluster/table.js';
import { humanDuration } from '../../src/localcluster/table-cells.js';
import type { JsonObject, KubeObject, ResourceType } from '../../src/localcluster/types.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const minutesAgo = (m: number): string => new Date(NOW - m * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const type = (over: Partial<ResourceType>): ResourceType => ({
  group: '',
  version: 'v1',
  kind: 'Thing',
  listKind: 'ThingList',
  plural: 'things',
  singular: 'thing',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['get', 'list'],
  subresources: [],
  ...over,
});

const canaryType = type({
  group: 'flagger.app',
  version: 'v1beta1',
  kind: 'Canary',
  listKind: 'CanaryList',
  plural: 'canaries',
  schema: { type: 'object' },
  printerColumns: [
    { name: 'Status', type: 'string', jsonPath: '.status.phase' },
    { name: 'Weight', type: 'integer', jsonPath: '.status.canaryWeight' },
    { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend', priority: 1 },
    { name: 'StepWeights', type: 'string', jsonPath: '.spec.analysis.stepWeights', priority: 1 },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Promoted")].status' },
    { name: 'LastTransitionTime', type: 'date', jsonPath: '.status.lastTransitionTime', description: 'When it changed' },
  ],
});

const obj = (kind: string, name: string, rest: JsonObject = {}, createdMinutesAgo = 5): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace: 'test', resourceVersion: '42', creationTimestamp: minutesAgo(createdMinutesAgo) },
  ...rest,
});

const cellsOf = (table: JsonObject): unknown[][] => (table.rows as JsonObject[]).map((r) => r.cells as unknown[]);
const columnsOf = (table: JsonObject): JsonObject[] => table.columnDefinitions as JsonObject[];

test('CRD tables: Name first, then the printer columns with their priorities and descriptions', () => {
  const table = toTable(canaryType, [], { includeObject: 'None', now: NOW, listMeta: { resourceVersion: '7' } });
  assert.equal(table.kind, 'Table');
  assert.equal(table.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(table.metadata, { resourceVersion: '7' });
  const columns = columnsOf(table);
  assert.deepEqual(
    columns.map((c) => [c.name, c.type, c.priority]),
    [
      ['Name', 'string', 0],
      ['Status', 'string', 0],
      ['Weight', 'integer', 0],
      ['Suspended', 'boolean', 1],
      ['StepWeights', 'string', 1],
      ['Ready', 'string', 0],
      ['LastTransitionTime', 'date', 0],
    ],
  );
  assert.equal(columns[0]?.format, 'name');
  assert.equal(columns[1]?.description, 'Custom resource definition column (in JSONPath format): .status.phase');
  assert.equal(columns[6]?.description, 'When it changed');
});

test('CRD cells: typed values, lists as compact JSON, dates as ages, missing as null', () => {
  const canary = obj('Canary', 'podinfo', {
    spec: { suspend: false, analysis: { stepWeights: [1, 2, 10, 80] } },
    status: {
      phase: 'Progressing',
      canaryWeight: 10,
      conditions: [{ type: 'Promoted', status: 'Unknown' }],
      lastTransitionTime: minutesAgo(65),
    },
  });
  const bare = obj('Canary', 'bare');
  const table = toTable(canaryType, [canary, bare], { includeObject: 'None', now: NOW });
  assert.deepEqual(cellsOf(table), [
    ['podinfo', 'Progressing', 10, false, '[1,2,10,80]', 'Unknown', '65m'],
    ['bare', null, null, null, null, null, null],
  ]);
});

test('string columns print numbers and maps as the apiserver does', () => {
  const t = type({
    schema: { type: 'object' },
    printerColumns: [
      { name: 'Weight', type: 'string', jsonPath: '.status.weight' },
      { name: 'Labels', type: 'string', jsonPath: '.spec.labels' },
      { name: 'Count', type: 'integer', jsonPath: '.status.text' },
    ],
  });
  const table = toTable(t, [obj('Thing', 'a', { spec: { labels: { b: '<x>', a: 1 } }, status: { weight: 2.5, text: 'many' } })], {
    includeObject: 'None',
    now: NOW,
  });
  assert.deepEqual(cellsOf(table)[0], ['a', '2.5', '{"a":1,"b":"\\u003cx\\u003e"}', null]);
});

test('a CRD without printer columns gets the Age column the apiserver adds', () => {
  const table = toTable(type({ schema: { type: 'object' } }), [obj('Thing', 'a', {}, 60 * 50)], { includeObject: 'None', now: NOW });
  assert.deepEqual(
    columnsOf(table).map((c) => [c.name, c.type]),
    [
      ['Name', 'string'],
      ['Age', 'date'],
    ],
  );
  assert.deepEqual(cellsOf(table), [['a', '2d2h']]);
});

test('row objects follow includeObject', () => {
  const canary = obj('Canary', 'podinfo', { spec: { suspend: true } });
  const rows = (includeObject: 'None' | 'Metadata' | 'Object'): JsonObject[] =>
    toTable(canaryType, [canary], { includeObject, now: NOW }).rows as JsonObject[];
  assert.equal('object' in (rows('None')[0] ?? {}), false);
  assert.deepEqual(rows('Metadata')[0]?.object, {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: canary.metadata,
  });
  assert.deepEqual(rows('Object')[0]?.object, canary);
});

test('a single object table takes its resourceVersion; noHeaders drops the columns', () => {
  const table = toTable(canaryType, [obj('Canary', 'x')], { includeObject: 'None', now: NOW, noHeaders: true });
  assert.deepEqual(table.metadata, { resourceVersion: '42' });
  assert.deepEqual(table.columnDefinitions, []);
});

test('Deployment: READY, UP-TO-DATE, AVAILABLE, AGE and wide columns', () => {
  const deploy = obj('Deployment', 'podinfo', {
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'podinfo' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] },
      template: { spec: { containers: [{ name: 'app', image: 'podinfo:6' }, { name: 'sidecar', image: 'envoy:1' }] } },
    },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  });
  const table = toTable(type({ group: 'apps', kind: 'Deployment' }), [deploy], { includeObject: 'None', now: NOW });
  assert.deepEqual(
    columnsOf(table).map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Up-to-date', 0],
      ['Available', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
      ['Selector', 1],
    ],
  );
  assert.deepEqual(cellsOf(table)[0], ['podinfo', '2/3', 3, 2, '5m', 'app,sidecar', 'podinfo:6,envoy:1', 'app=podinfo,tier in (api,web)']);
});

test('Service: type, cluster IP, external IP and ports', () => {
  const svc = obj('Service', 'podinfo', {
    spec: { type: 'NodePort', clusterIP: '10.0.0.9', selector: { app: 'podinfo' }, ports: [{ port: 80, nodePort: 30080 }, { port: 9090, protocol: 'UDP' }] },
  });
  const lb = obj('Service', 'lb', { spec: { type: 'LoadBalancer', clusterIP: '10.0.0.10', ports: [] } });
  const table = toTable(type({ kind: 'Service' }), [svc, lb], { includeObject: 'None', now: NOW });
  assert.deepEqual(columnsOf(table).map((c) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  assert.deepEqual(cellsOf(table), [
    ['podinfo', 'NodePort', '10.0.0.9', '<none>', '80:30080/TCP,9090/UDP', '5m', 'app=podinfo'],
    ['lb', 'LoadBalancer', '10.0.0.10', '<pending>', '<none>', '5m', '<none>'],
  ]);
});

test('Pod: ready containers, status, restarts', () => {
  const pod = obj('Pod', 'podinfo-abc', {
    spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      podIP: '10.1.0.5',
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { finishedAt: minutesAgo(3) } } },
        { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    },
  });
  const table = toTable(type({ kind: 'Pod' }), [pod], { includeObject: 'None', now: NOW });
  assert.deepEqual(cellsOf(table)[0], ['podinfo-abc', '1/2', 'CrashLoopBackOff', '3 (3m ago)', '5m', '10.1.0.5', 'node-1', '<none>', '<none>']);
});

test('Namespace, ConfigMap, Secret and Event columns', () => {
  const ns = toTable(type({ kind: 'Namespace', namespaced: false }), [obj('Namespace', 'test')], { includeObject: 'None', now: NOW });
  assert.deepEqual(cellsOf(ns)[0], ['test', 'Active', '5m']);
  const cm = toTable(type({ kind: 'ConfigMap' }), [obj('ConfigMap', 'cfg', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } })], { includeObject: 'None', now: NOW });
  assert.deepEqual(cellsOf(cm)[0], ['cfg', 3, '5m']);
  const secret = toTable(type({ kind: 'Secret' }), [obj('Secret', 's', { data: { token: 'eA==' } })], { includeObject: 'None', now: NOW });
  assert.deepEqual(columnsOf(secret).map((c) => c.name), ['Name', 'Type', 'Data', 'Age']);
  assert.deepEqual(cellsOf(secret)[0], ['s', 'Opaque', 1, '5m']);
  const event = obj('Event', 'podinfo.17a', {
    type: 'Warning',
    reason: 'Synced',
    message: ' Canary analysis failed ',
    involvedObject: { kind: 'Canary', name: 'podinfo' },
    source: { component: 'fledge' },
    firstTimestamp: minutesAgo(10),
    lastTimestamp: minutesAgo(2),
    count: 4,
  });
  const events = toTable(type({ kind: 'Event' }), [event], { includeObject: 'None', now: NOW });
  const visible = columnsOf(events).filter((c) => c.priority === 0).map((c) => c.name);
  assert.deepEqual(visible, ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  assert.deepEqual(cellsOf(events)[0], ['2m', 'Warning', 'Synced', 'canary/podinfo', '', 'fledge', 'Canary analysis failed', '10m', 4, 'podinfo.17a']);
});

test('other built-in kinds get NAME and AGE; CRDs themselves get CREATED AT', () => {
  const lease = toTable(type({ group: 'policy', kind: 'PodDisruptionBudget' }), [obj('PodDisruptionBudget', 'p')], { includeObject: 'None', now: NOW });
  assert.deepEqual(columnsOf(lease).map((c) => c.name), ['Name', 'Age']);
  const crd = obj('CustomResourceDefinition', 'canaries.flagger.app');
  const crds = toTable(type({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', namespaced: false }), [crd], { includeObject: 'None', now: NOW });
  assert.deepEqual(columnsOf(crds).map((c) => c.name), ['Name', 'Created At']);
  assert.deepEqual(cellsOf(crds)[0], ['canaries.flagger.app', minutesAgo(5)]);
});

test('ages read like kubectl: seconds, minutes, hours, days, years', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[number, string]> = [
    [-5 * s, '<invalid>'],
    [-1 * s, '0s'],
    [90 * s, '90s'],
    [5 * m + 7 * s, '5m7s'],
    [6 * m, '6m'],
    [45 * m, '45m'],
    [3 * h + 20 * m, '3h20m'],
    [20 * h, '20h'],
    [3 * d + 4 * h, '3d4h'],
    [40 * d, '40d'],
    [3 * 365 * d + 10 * d, '3y10d'],
    [9 * 365 * d, '9y'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms}ms`);
});
