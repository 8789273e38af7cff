import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../src/localcluster/errors.js';
import { decodeKubernetesProtobuf, knownProtobufMessages } from '../../src/localcluster/protobuf/index.js';
import { decodeMessage, formatGoDuration } from '../../src/localcluster/protobuf/decode.js';
import { buildSchema, danglingReferences } from '../../src/localcluster/protobuf/schema-table.js';
import { packageTables } from '../../src/localcluster/protobuf/schemas/index.js';
import { readFields, readVarint } from '../../src/localcluster/protobuf/wire.js';

// --- a tiny protobuf writer, enough to hand-encode test messages -------------------------------------------
const varint = (n: bigint | number): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? low | 0x80 : low);
  } while (v);
  return out;
};
const key = (field: number, wireType: number): number[] => varint((field << 3) | wireType);
const int = (field: number, n: bigint | number): Buffer => Buffer.from([...key(field, 0), ...varint(n)]);
const bool = (field: number, b: boolean): Buffer => int(field, b ? 1 : 0);
const bytes = (field: number, b: Uint8Array): Buffer => Buffer.concat([Buffer.from([...key(field, 2), ...varint(b.length)]), b]);
const str = (field: number, s: string): Buffer => bytes(field, Buffer.from(s, 'utf8'));
const msg = (field: number, ...parts: Buffer[]): Buffer => bytes(field, Buffer.concat(parts));
const entry = (field: number, k: string, value: Buffer): Buffer => msg(field, str(1, k), value);
const double = (field: number, d: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return Buffer.concat([Buffer.from(key(field, 1)), b]);
};
const envelope = (apiVersion: string, kind: string, ...raw: Buffer[]): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(1, str(1, apiVersion), str(2, kind)), msg(2, ...raw)]);

const fixtures = new URL('../../../test/fixtures/protobuf/', import.meta.url);

const rejects = (fn: () => unknown, reason: string, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.reason, reason);
    assert.match(e.message, pattern);
    return true;
  });
};

// --- wire reader -----------------------------------------------------------------------------------------
test('wire: varints of one to ten bytes, including negative int32 sent as ten bytes', () => {
  assert.deepEqual(readVarint(Uint8Array.from([0x96, 0x01]), 0), { value: 150n, next: 2 });
  const minusOne = Uint8Array.from(varint(-1));
  assert.equal(minusOne.length, 10);
  assert.equal(BigInt.asIntN(32, readVarint(minusOne, 0).value), -1n);
  assert.throws(() => readVarint(Uint8Array.from([0x80, 0x80]), 0), /truncated varint/);
});

test('wire: fields of every wire type, and truncation is an error', () => {
  const fixed32 = Buffer.from([...key(4, 5), 1, 2, 3, 4]);
  const fields = readFields(Buffer.concat([int(1, 300), str(2, 'hi'), double(3, 1.5), fixed32]));
  assert.deepEqual(
    fields.map((f) => [f.field, f.wireType]),
    [[1, 0], [2, 2], [3, 1], [4, 5]],
  );
  assert.throws(() => readFields(str(1, 'hello').subarray(0, 4)), /truncated field 1/);
  assert.throws(() => readFields(Buffer.from([...key(1, 3)])), /unsupported wire type 3/);
});

// --- real kubectl bodies ----------------------------------------------------------------------------------
test('every body captured from kubectl decodes to the JSON kubectl prints for --dry-run=client -o json', () => {
  const names = readdirSync(fixtures).filter((f) => f.endsWith('.bin'));
  assert.ok(names.length >= 15, `expected the captured fixtures, found ${names.length}`);
  for (const name of names) {
    const body = readFileSync(new URL(name, fixtures));
    const expected: unknown = JSON.parse(readFileSync(new URL(name.replace(/\.bin$/, '.json'), fixtures), 'utf8'));
    assert.deepEqual(decodeKubernetesProtobuf(body), expected, name);
  }
});

test('kubectl fixtures: the details that differ between JSON and protobuf come out right', () => {
  const load = (name: string) => decodeKubernetesProtobuf(readFileSync(join(fixtures.pathname, `${name}.bin`)));
  const secret = load('secret-generic');
  assert.deepEqual(secret['data'], { password: Buffer.from('hunter2').toString('base64') });
  assert.deepEqual(load('configmap')['data'], { a: 'b', empty: '' }, 'map values keep their empty strings');
  const zero = load('deployment-zero-replicas') as unknown as { spec: { replicas?: number } };
  assert.equal(zero.spec.replicas, 0, 'a pointer field keeps its zero');
  const svc = load('service-clusterip') as unknown as { spec: { ports: { port: number; targetPort: unknown }[] } };
  assert.deepEqual(svc.spec.ports[0], { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 });
  assert.equal(load('namespace').metadata.creationTimestamp, null);
});

// --- hand-encoded objects ---------------------------------------------------------------------------------
test('a Deployment with metadata, a pod template and special types decodes like its JSON', () => {
  const quantity = (s: string) => str(1, s);
  const intOrString = (v: number | string) => (typeof v === 'number' ? Buffer.concat([int(1, 0), int(2, v)]) : Buffer.concat([int(1, 1), str(3, v)]));
  const body = envelope(
    'apps/v1',
    'Deployment',
    msg(1, // metadata
      str(1, 'web'), str(2, ''), str(3, 'prod'), int(7, 0), msg(8),
      entry(11, 'app', str(2, 'web')),
      msg(13, str(1, 'ReplicaSet'), str(3, 'web-1'), str(4, 'u-1'), str(5, 'apps/v1'), bool(6, true)),
      msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'apps/v1'), msg(4, int(1, 1_700_000_000), int(2, 5)),
        str(6, 'FieldsV1'), msg(7, str(1, '{"f:spec":{"f:replicas":{}}}'))),
    ),
    msg(2, // spec
      int(1, 0), // replicas: a pointer, the zero stays
      msg(2, entry(1, 'app', str(2, 'web'))),
      msg(3, msg(1, msg(8)), msg(2, // template.spec
        msg(1, str(1, 'cache'), msg(2, msg(2, str(1, '')))), // volume with an inline emptyDir source
        msg(1, str(1, 'cfg'), msg(2, msg(19, msg(1, str(1, 'settings')), int(3, 420)))),
        msg(2, // container
          str(1, 'app'), str(2, 'nginx'), str(3, 'nginx'), str(3, '-g'),
          msg(6, int(3, 8080), str(4, 'TCP')),
          msg(7, str(1, 'MODE'), msg(3, msg(3, msg(1, str(1, 'settings')), str(2, 'mode'), bool(3, false)))),
          msg(8, entry(1, 'cpu', msg(2, quantity('500m'))), entry(2, 'memory', msg(2, quantity('64Mi')))),
          msg(10, msg(1, msg(2, str(1, '/healthz'), msg(2, intOrString('http')))), int(2, 0), int(4, 10)),
          bool(16, false),
        ),
        int(4, 0), // terminationGracePeriodSeconds: pointer
        bool(11, false), // hostNetwork: not a pointer, omitted like omitempty
        bool(21, false), // automountServiceAccountToken: pointer
      )),
      msg(4, str(1, 'RollingUpdate'), msg(2, msg(1, intOrString('25%')), msg(2, intOrString(2)))),
      int(5, 0), bool(7, false),
    ),
    msg(3),
  );
  assert.deepEqual(decodeKubernetesProtobuf(body), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'prod',
      creationTimestamp: null,
      labels: { app: 'web' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', uid: 'u-1', apiVersion: 'apps/v1', controller: true }],
      managedFields: [{
        manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: '2023-11-14T22:13:20Z',
        fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      }],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { creationTimestamp: null },
        spec: {
          volumes: [
            { name: 'cache', emptyDir: {} },
            { name: 'cfg', configMap: { name: 'settings', defaultMode: 420 } },
          ],
          containers: [{
            name: 'app',
            image: 'nginx',
            command: ['nginx', '-g'],
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode', optional: false } } }],
            resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
          }],
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } },
    },
    status: {},
  });
});

test('RBAC: a RoleBinding keeps roleRef as a field and required empty strings', () => {
  const body = envelope(
    'rbac.authorization.k8s.io/v1',
    'RoleBinding',
    msg(1, str(1, 'rb')),
    msg(2, str(1, 'User'), str(2, ''), str(3, 'alice')),
    msg(3, str(1, ''), str(2, 'Role'), str(3, 'reader')),
  );
  assert.deepEqual(decodeKubernetesProtobuf(body), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'rb' },
    subjects: [{ kind: 'User', name: 'alice' }],
    roleRef: { apiGroup: '', kind: 'Role', name: 'reader' },
  });
});

test('map<string,string[]> (ExtraValue) and option kinds sent under a resource group version', () => {
  const review = envelope(
    'authentication.k8s.io/v1',
    'TokenReview',
    msg(1),
    msg(2, str(1, 'tok')),
    msg(3, bool(1, true), msg(2, str(1, 'alice'), entry(4, 'scopes', msg(2, str(1, 'a'), str(1, 'b'))))),
  );
  const decoded = decodeKubernetesProtobuf(review) as unknown as { status: { user: { extra: unknown } } };
  assert.deepEqual(decoded.status.user.extra, { scopes: ['a', 'b'] });

  const deleteOptions = envelope('apps/v1', 'DeleteOptions', int(1, 0), str(4, 'Foreground'), str(5, 'All'));
  assert.deepEqual(decodeKubernetesProtobuf(deleteOptions), {
    apiVersion: 'apps/v1',
    kind: 'DeleteOptions',
    gracePeriodSeconds: 0,
    propagationPolicy: 'Foreground',
    dryRun: ['All'],
  });
});

test('decodeMessage: scalar kinds, special kinds, packed lists, unknown fields and repeated singles', () => {
  const schema = buildSchema([{
    pkg: 'test/v1',
    messages: {
      All: {
        1: ['i32', 'int32?'], 2: ['i64', 'int64'], 3: ['u', 'uint32'], 4: ['d', 'double'], 5: ['blob', 'bytes'],
        6: ['t', 'Time'], 7: ['mt', 'MicroTime'], 8: ['dur', 'Duration'], 9: ['raw', 'RawExtension'],
        10: ['nums', 'int32[]'], 11: ['bin', 'map<string,bytes>'], 12: ['q', 'Quantity'], 13: ['child', 'Child'],
        14: ['last', 'string'],
      },
      Child: { 1: ['a', 'string'], 2: ['b', 'string'] },
    },
  }]);
  const packed = bytes(10, Buffer.from([...varint(1), ...varint(-2), ...varint(300)]));
  const out = decodeMessage(schema, Buffer.concat([
    int(1, -7), int(2, 9_007_199_254_740_991n), int(3, 4_000_000_000), double(4, 2.5), bytes(5, Buffer.from([0, 255])),
    msg(6, int(1, 86_400), int(2, 999_000_000)), msg(7, int(1, 0), int(2, 123_456_789)), msg(8, int(1, 5_400_000_000_000n)),
    msg(9, str(1, '{"kind":"X"}')), int(10, 5), packed, entry(11, 'k', bytes(2, Buffer.from('v'))), entry(11, 'empty', Buffer.alloc(0)),
    msg(12), msg(13, str(1, 'x')), msg(13, str(2, 'y')), str(14, 'first'), str(14, 'second'),
    str(99, 'a field from a newer Kubernetes'),
  ]), 'test/v1.All');
  assert.deepEqual(out, {
    i32: -7,
    i64: 9_007_199_254_740_991,
    u: 4_000_000_000,
    d: 2.5,
    blob: 'AP8=',
    t: '1970-01-02T00:00:00Z', // Time drops sub-seconds, as Kubernetes' JSON does
    mt: '1970-01-01T00:00:00.123456Z',
    dur: '1h30m0s',
    raw: { kind: 'X' },
    nums: [5, 1, -2, 300],
    bin: { k: 'dg==', empty: '' },
    q: '0',
    child: { a: 'x', b: 'y' },
    last: 'second',
  });
});

test('formatGoDuration writes what Go time.Duration.String() writes', () => {
  const cases: [bigint, string][] = [
    [0n, '0s'], [1n, '1ns'], [1_500n, '1.5µs'], [1_500_000n, '1.5ms'], [1_000_000_000n, '1s'],
    [90_000_000_000n, '1m30s'], [3_600_000_000_000n, '1h0m0s'], [3_723_500_000_000n, '1h2m3.5s'], [-2_000_000_000n, '-2s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, `${ns}ns`);
});

// --- errors -----------------------------------------------------------------------------------------------
test('errors: no magic prefix, malformed bytes, unknown kinds, content encodings', () => {
  rejects(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"ConfigMap"}')), 'BadRequest', /k8s\\x00/);
  const truncated = envelope('v1', 'ConfigMap', msg(1, str(1, 'x')));
  rejects(() => decodeKubernetesProtobuf(truncated.subarray(0, truncated.length - 2)), 'BadRequest', /unrecognized: truncated/);
  rejects(() => decodeKubernetesProtobuf(envelope('example.com/v1', 'Widget', msg(1))), 'UnsupportedMediaType', /Widget \(example\.com\/v1\)/);
  rejects(() => decodeKubernetesProtobuf(Buffer.from('k8s\0', 'latin1')), 'BadRequest', /no apiVersion\/kind/);
  const gzipped = Buffer.concat([envelope('v1', 'ConfigMap', msg(1)), str(3, 'gzip')]);
  rejects(() => decodeKubernetesProtobuf(gzipped), 'UnsupportedMediaType', /content encoding "gzip"/);
  // A string field sent as a varint is a wire-type mismatch, not a crash.
  rejects(() => decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', msg(1, int(1, 5)))), 'BadRequest', /expected length-delimited/);
});

// --- the tables themselves --------------------------------------------------------------------------------
test('schema tables: every referenced message is defined and the kubectl create kinds are covered', () => {
  assert.deepEqual(danglingReferences(buildSchema(packageTables)), []);
  const known = new Set(knownProtobufMessages());
  for (const ref of [
    'core/v1.ConfigMap', 'core/v1.Secret', 'core/v1.Namespace', 'core/v1.ServiceAccount', 'core/v1.Service', 'core/v1.Pod',
    'core/v1.ResourceQuota', 'apps/v1.Deployment', 'apps/v1.StatefulSet', 'apps/v1.DaemonSet', 'batch/v1.Job', 'batch/v1.CronJob',
    'rbac/v1.Role', 'rbac/v1.ClusterRole', 'rbac/v1.RoleBinding', 'rbac/v1.ClusterRoleBinding', 'networking/v1.Ingress',
    'policy/v1.PodDisruptionBudget', 'policy/v1.Eviction', 'scheduling/v1.PriorityClass', 'authentication/v1.TokenRequest',
    'authorization/v1.SelfSubjectAccessReview', 'autoscaling/v2.HorizontalPodAutoscaler', 'meta/v1.DeleteOptions',
  ]) assert.ok(known.has(ref), ref);
});
