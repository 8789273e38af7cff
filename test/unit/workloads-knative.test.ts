/**
 * The Knative Service target: its pure parts (revision names, Revision readiness, which revision a
 * promotion pins and the patch that pins it), and the target itself, picked by createWorkloads, over
 * an in-memory KubeApi that keeps resourceVersions like an API server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../src/api/clock.js';
import type { Canary } from '../../src/api/index.js';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import { PRIMARY_REVISION_ANNOTATION } from '../../src/api/knative.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { KubeApiError } from '../../src/kube/api.js';
import { createWorkloads } from '../../src/workloads/index.js';
import {
  belongsTo,
  primaryRevisionName,
  promotionPatch,
  promotionRevision,
  revisionNamesOf,
  revisionReadiness,
} from '../../src/workloads/knative.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const V1 = 'serving.knative.dev/v1';

const service = (status: Record<string, unknown>, annotations: Record<string, string> = {}, traffic?: unknown[]): KubeObject => ({
  apiVersion: V1,
  kind: 'Service',
  metadata: { name: 'podinfo', namespace: 'default', resourceVersion: '7', annotations },
  spec: { template: { spec: { containers: [{ image: 'podinfo:1' }] } }, ...(traffic ? { traffic } : {}) },
  status,
});

const revision = (name: string, ready?: { status: string; reason?: string; message?: string }, owner = 'podinfo'): KubeObject => ({
  apiVersion: V1,
  kind: 'Revision',
  metadata: { name, namespace: 'default', labels: { 'serving.knative.dev/service': owner } },
  status: ready ? { conditions: [{ type: 'ConfigurationsReady', status: 'True' }, { type: 'Ready', ...ready }] } : {},
});

const ctx = (nowMs = T0 + 10_000) => ({ deadlineSeconds: 60, nowMs, sinceMs: T0 });

const canary = (status: Record<string, unknown> = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'default' },
    spec: {
      provider: 'knative',
      targetRef: { apiVersion: V1, kind: 'Service', name: 'podinfo' },
      progressDeadlineSeconds: 60,
      service: { port: 80 },
      analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
    },
    status: { lastTransitionTime: new Date(T0).toISOString(), ...status },
  });

test('revision names: empty strings are absent; the primary is the pin, else the latest ready revision', () => {
  assert.deepEqual(revisionNamesOf(service({ latestCreatedRevisionName: 'podinfo-00002', latestReadyRevisionName: '' })), { latestCreated: 'podinfo-00002' });
  const unpinned = service({ latestCreatedRevisionName: 'podinfo-00002', latestReadyRevisionName: 'podinfo-00001' });
  assert.equal(primaryRevisionName(unpinned), 'podinfo-00001');
  const pinned = service({ latestCreatedRevisionName: 'podinfo-00003', latestReadyRevisionName: 'podinfo-00003' }, { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00001' });
  assert.equal(primaryRevisionName(pinned), 'podinfo-00001');
  assert.equal(primaryRevisionName(service({})), undefined);
});

test('a Revision whose Ready condition is True is ready', () => {
  assert.deepEqual(revisionReadiness(revision('podinfo-00001', { status: 'True' }), 'podinfo-00001.default', ctx()), { ready: true, retriable: true, message: '' });
});

test('a Revision still rolling out, failing, or missing waits until the canary deadline, then fails for good', () => {
  const cases: Array<[KubeObject | undefined, RegExp]> = [
    [revision('podinfo-00002', { status: 'Unknown', reason: 'Deploying' }), /podinfo-00002\.default not ready: Deploying/],
    [revision('podinfo-00002', { status: 'False', reason: 'ExitCode1', message: 'container exited' }), /not ready: ExitCode1: container exited/],
    [revision('podinfo-00002'), /not ready: Ready is not reported/],
    [undefined, /podinfo-00002\.default not ready: not found/],
  ];
  for (const [rev, message] of cases) {
    const before = revisionReadiness(rev, 'podinfo-00002.default', ctx(T0 + 59_000));
    assert.deepEqual([before.ready, before.retriable], [false, true]);
    assert.match(before.message, message);
    const after = revisionReadiness(rev, 'podinfo-00002.default', ctx(T0 + 61_000));
    assert.deepEqual([after.ready, after.retriable], [false, false]);
    assert.match(after.message, /exceeded its progressDeadlineSeconds: 60/);
  }
});

test("Knative's own ProgressDeadlineExceeded fails at once", () => {
  const r = revisionReadiness(revision('podinfo-00002', { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'no pods' }), 'podinfo-00002.default', ctx());
  assert.deepEqual([r.ready, r.retriable], [false, false]);
  assert.match(r.message, /ProgressDeadlineExceeded: no pods/);
});

test('promotion pins the analysed revision once ready; a name that is no Revision of this Service falls back to the latest ready one', () => {
  const svc = service({ latestCreatedRevisionName: 'podinfo-00003', latestReadyRevisionName: 'podinfo-00003' });
  assert.equal(promotionRevision(svc, revision('podinfo-00002', { status: 'True' })), 'podinfo-00002');
  assert.throws(() => promotionRevision(svc, revision('podinfo-00002', { status: 'Unknown' })), (e) => isFledgeError(e, 'NotReady') && /podinfo-00002 is not ready/.test(e.message));
  assert.equal(belongsTo(revision('other-00001', { status: 'True' }, 'other'), 'podinfo'), false);
  assert.equal(promotionRevision(svc, revision('other-00001', { status: 'True' }, 'other')), 'podinfo-00003');
  assert.equal(promotionRevision(svc, undefined), 'podinfo-00003');
  assert.throws(() => promotionRevision(service({ latestCreatedRevisionName: 'podinfo-00001' }), undefined), (e) => isFledgeError(e, 'NotReady'));
});

test('the promotion patch moves the pin and renames the primary traffic entry, keeping its percent, at the resourceVersion read', () => {
  const traffic = [
    { latestRevision: true, percent: 50 },
    { revisionName: 'podinfo-00001', percent: 50 },
    { revisionName: 'podinfo-00000', percent: 0, tag: 'old' },
  ];
  const svc = service({ latestReadyRevisionName: 'podinfo-00002' }, { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00001' }, traffic);
  assert.deepEqual(promotionPatch(svc, 'podinfo-00002'), {
    metadata: { resourceVersion: '7', annotations: { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00002' } },
    spec: {
      traffic: [
        { latestRevision: true, percent: 50 },
        { revisionName: 'podinfo-00002', percent: 50 },
        { revisionName: 'podinfo-00000', percent: 0, tag: 'old' },
      ],
    },
  });
  assert.equal(promotionPatch(service({}, { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00002' }, traffic), 'podinfo-00002'), undefined);
  // A Service the router never adopted gets the pin only.
  assert.deepEqual(promotionPatch(service({}), 'podinfo-00002'), { metadata: { resourceVersion: '7', annotations: { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00002' } } });
});

/** An in-memory API server for a few objects: merge patches with a resourceVersion are preconditions. */
const memoryKube = (objects: KubeObject[]): KubeApi & { patches: Array<Record<string, unknown>>; conflicts: number } => {
  const key = (r: ObjectRef): string => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
  const store = new Map(objects.map((o) => [key({ ...o, name: o.metadata.name, namespace: o.metadata.namespace ?? '' }), structuredClone(o)]));
  const merge = (target: unknown, patch: unknown): unknown => {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
    const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k], v);
    }
    return out;
  };
  const unsupported = async (): Promise<never> => {
    throw new Error('not used by the Knative target');
  };
  const api = {
    patches: [] as Array<Record<string, unknown>>,
    conflicts: 0,
    get: async (ref: ObjectRef) => structuredClone(store.get(key({ ...ref, namespace: ref.namespace ?? '' }))),
    list: async () => [],
    async mergePatch(ref: ObjectRef, patch: Record<string, unknown>) {
      const k = key({ ...ref, namespace: ref.namespace ?? '' });
      const live = store.get(k);
      if (!live) throw new KubeApiError(404, 'not found');
      const rv = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (rv !== undefined && rv !== live.metadata.resourceVersion) {
        api.conflicts++;
        throw new KubeApiError(409, 'the object has been modified');
      }
      api.patches.push(patch);
      const next = merge(live, patch) as KubeObject;
      next.metadata.resourceVersion = String(Number(live.metadata.resourceVersion) + 1);
      store.set(k, next);
      return structuredClone(next);
    },
    create: unsupported,
    replace: unsupported,
    patchStatus: unsupported,
    apply: unsupported,
    delete: unsupported,
  };
  return api;
};

const clock: Clock = { now: () => T0 + 10_000, setTimeout: () => 0, clearTimeout: () => undefined };

test('createWorkloads sends a Knative Service target here: checksum, readiness, no-op scaling, promotion', async () => {
  const traffic = [{ latestRevision: true, percent: 50 }, { revisionName: 'podinfo-00001', percent: 50 }];
  const kube = memoryKube([
    service({ latestCreatedRevisionName: 'podinfo-00002', latestReadyRevisionName: 'podinfo-00002' }, { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00001' }, traffic),
    revision('podinfo-00001', { status: 'True' }),
    revision('podinfo-00002', { status: 'Unknown', reason: 'Deploying' }),
  ]);
  const workloads = createWorkloads({ kube, clock });
  const c = canary({ lastAppliedSpec: 'podinfo-00002' });
  await workloads.initialize(c);
  assert.deepEqual(await workloads.targetChecksum(c), { checksum: 'podinfo-00002', trackedConfigs: {} });
  assert.equal((await workloads.primaryReadiness(c)).ready, true);
  const waiting = await workloads.canaryReadiness(c);
  assert.deepEqual([waiting.ready, waiting.retriable], [false, true]);
  assert.match(waiting.message, /^canary Knative Revision podinfo-00002\.default not ready: Deploying/);
  await workloads.scaleCanaryToZero(c);
  await workloads.scaleCanaryUp(c);
  assert.equal(await workloads.selectorOf(c), undefined);
  assert.equal(kube.patches.length, 0);
  // Not ready yet: the analysed revision cannot be promoted, and nothing is written.
  await assert.rejects(workloads.promote(c), (e) => isFledgeError(e, 'NotReady'));
  assert.equal(kube.patches.length, 0);
});

test('promotion writes once, and is idempotent', async () => {
  const traffic = [{ latestRevision: true, percent: 50 }, { revisionName: 'podinfo-00001', percent: 50 }];
  const kube = memoryKube([
    service({ latestCreatedRevisionName: 'podinfo-00002', latestReadyRevisionName: 'podinfo-00002' }, { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00001' }, traffic),
    revision('podinfo-00002', { status: 'True' }),
  ]);
  const workloads = createWorkloads({ kube, clock });
  const c = canary({ lastAppliedSpec: 'podinfo-00002' });
  await workloads.promote(c);
  await workloads.promote(c);
  assert.equal(kube.patches.length, 1);
  const after = await kube.get({ apiVersion: V1, kind: 'Service', namespace: 'default', name: 'podinfo' });
  assert.equal(after?.metadata.annotations?.[PRIMARY_REVISION_ANNOTATION], 'podinfo-00002');
  assert.deepEqual((after?.spec as { traffic: unknown }).traffic, [{ latestRevision: true, percent: 50 }, { revisionName: 'podinfo-00002', percent: 50 }]);
  assert.deepEqual(await workloads.finalize(c), { done: true, message: 'nothing to restore for a Knative Service target' });
});

test('a promotion read at a stale resourceVersion conflicts, reads again and writes on the fresh one', async () => {
  const kube = memoryKube([
    service({ latestCreatedRevisionName: 'podinfo-00002', latestReadyRevisionName: 'podinfo-00002' }, { [PRIMARY_REVISION_ANNOTATION]: 'podinfo-00001' }),
    revision('podinfo-00002', { status: 'True' }),
  ]);
  let stale = true;
  const lagging: KubeApi = {
    ...kube,
    // The first read of the Service is one write behind, as a watch cache can be.
    async get(ref) {
      const o = await kube.get(ref);
      if (o && ref.kind === 'Service' && stale) {
        stale = false;
        o.metadata.resourceVersion = '6';
      }
      return o;
    },
  };
  await createWorkloads({ kube: lagging, clock }).promote(canary({ lastAppliedSpec: 'podinfo-00002' }));
  assert.equal(kube.conflicts, 1);
  assert.equal(kube.patches.length, 1);
  const after = await kube.get({ apiVersion: V1, kind: 'Service', namespace: 'default', name: 'podinfo' });
  assert.equal(after?.metadata.annotations?.[PRIMARY_REVISION_ANNOTATION], 'podinfo-00002');
});

test('a missing Knative Service or one with no revision yet is NotReady, not a crash', async () => {
  const workloads = createWorkloads({ kube: memoryKube([service({})]), clock });
  const missing = { ...canary(), spec: { ...canary().spec, targetRef: { apiVersion: V1, kind: 'Service' as const, name: 'absent' } } };
  await assert.rejects(workloads.initialize(missing), (e) => isFledgeError(e, 'NotReady') && /Knative Service absent\.default not found/.test(e.message));
  await assert.rejects(workloads.targetChecksum(canary()), (e) => isFledgeError(e, 'NotReady') && /latestCreatedRevisionName is empty/.test(e.message));
  const primary = await workloads.primaryReadiness(canary());
  assert.deepEqual([primary.ready, primary.retriable], [false, true]);
  assert.match(primary.message, /no primary revision yet/);
});
