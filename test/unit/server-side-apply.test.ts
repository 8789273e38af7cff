import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, recordUpdate, setManagedFields } from '../../src/localcluster/apply/index.js';
import { ApiError } from '../../src/localcluster/errors.js';
import { builtinMergeSchema } from '../../src/localcluster/patch/list-semantics.js';
import type { JsonObject, KubeObject, ManagedFieldsEntry } from '../../src/localcluster/types.js';

const schema = builtinMergeSchema;
const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';
const T2 = '2025-01-01T00:02:00Z';

type Container = Record<string, unknown>;

const deployment = (opts: { replicas?: number; labels?: Record<string, string>; containers?: Container[] } = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', ...(opts.labels ? { labels: opts.labels } : {}) },
  spec: {
    ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: opts.containers ?? [{ name: 'app', image: 'nginx:1', ports: [{ containerPort: 80 }] }] },
    },
  },
});

/** What the server would store: the apply result plus server-set identity. */
const stored = (obj: KubeObject): KubeObject => ({
  ...obj,
  metadata: { ...obj.metadata, uid: 'uid-1', resourceVersion: '1', creationTimestamp: T0, generation: 1 },
});

const apply = (live: KubeObject | undefined, applied: KubeObject, manager = 'kubectl', force = false, now = T1): KubeObject =>
  applyPatch({ live, applied, manager, force, schema, now });

const entry = (obj: KubeObject, manager: string, operation?: string): ManagedFieldsEntry | undefined =>
  obj.metadata.managedFields?.find((e) => e.manager === manager && (!operation || e.operation === operation));

const owns = (e: ManagedFieldsEntry | undefined, ...path: string[]): boolean => {
  let node: unknown = e?.fieldsV1;
  for (const element of path) {
    if (typeof node !== 'object' || node === null || !(element in node)) return false;
    node = (node as JsonObject)[element];
  }
  return true;
};

const spec = (obj: KubeObject): JsonObject => obj.spec as JsonObject;
const containersOf = (obj: KubeObject): JsonObject[] =>
  ((spec(obj).template as JsonObject).spec as JsonObject).containers as JsonObject[];

const expectApiError = (fn: () => unknown, reason: string): ApiError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail('expected an error');
};

test('apply creates the object with one Apply entry owning exactly the sent fields', () => {
  const created = apply(undefined, deployment({ replicas: 2, labels: { team: 'a' } }), 'kubectl', false, T0);
  assert.equal(spec(created).replicas, 2);
  assert.equal(created.metadata.name, 'web');
  const entries = created.metadata.managedFields ?? [];
  assert.equal(entries.length, 1);
  const mine = entries[0];
  assert.equal(mine?.manager, 'kubectl');
  assert.equal(mine?.operation, 'Apply');
  assert.equal(mine?.apiVersion, 'apps/v1');
  assert.equal(mine?.time, T0);
  assert.equal(mine?.fieldsType, 'FieldsV1');
  assert.ok(owns(mine, 'f:metadata', 'f:labels', 'f:team'));
  assert.ok(!owns(mine, 'f:metadata', 'f:name'), 'identity is never owned');
  assert.ok(owns(mine, 'f:spec', 'f:replicas'));
  const app = ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"app"}'];
  assert.ok(owns(mine, ...app, '.'));
  assert.ok(owns(mine, ...app, 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}', 'f:containerPort'));
  assert.ok(!owns(mine, 'f:spec', '.'), 'maps with fields are not members in an Apply entry');
});

test('re-applying the same configuration changes nothing, managedFields included', () => {
  const live = stored(apply(undefined, deployment({ replicas: 2 }), 'kubectl', false, T0));
  const again = apply(live, deployment({ replicas: 2 }), 'kubectl', false, T2);
  assert.deepEqual(again, live);
});

test('a label the applier stops sending is removed; labels other managers own stay', () => {
  const live = stored(apply(undefined, deployment({ labels: { team: 'a', tier: 'web' } }), 'kubectl', false, T0));
  // Someone else labels the object with a plain patch.
  const patched: KubeObject = { ...live, metadata: { ...live.metadata, labels: { ...live.metadata.labels, owner: 'ops' } } };
  const withOps = stored(
    setManagedFields(patched, recordUpdate({ before: live, after: patched, manager: 'kubectl-label', schema, now: T1 })),
  );
  const next = apply(withOps, deployment({ labels: { team: 'a' } }), 'kubectl', false, T2);
  assert.deepEqual(next.metadata.labels, { team: 'a', owner: 'ops' });
  assert.ok(!owns(entry(next, 'kubectl'), 'f:metadata', 'f:labels', 'f:tier'));
  assert.equal(entry(next, 'kubectl')?.time, T2, 'the object changed, so the entry time moves');
  assert.equal(entry(next, 'kubectl-label')?.time, T1);
});

/** A Deployment created by client-side `kubectl apply`: an Update entry owning everything. */
const createdByClientSideApply = (replicas: number): KubeObject => {
  const obj = stored(deployment({ replicas }));
  return setManagedFields(
    obj,
    recordUpdate({ before: undefined, after: obj, manager: 'kubectl-client-side-apply', schema, now: T0 }),
  );
};

test('changing a field another manager owns is a 409 naming the field and the manager', () => {
  const live = createdByClientSideApply(3);
  const err = expectApiError(() => apply(live, deployment({ replicas: 5 })), 'Conflict');
  assert.equal(err.code, 409);
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  assert.deepEqual(err.details.causes, [
    { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
  ]);
});

test('force takes the conflicting field over', () => {
  const live = createdByClientSideApply(3);
  const next = apply(live, deployment({ replicas: 5 }), 'kubectl', true);
  assert.equal(spec(next).replicas, 5);
  assert.ok(owns(entry(next, 'kubectl', 'Apply'), 'f:spec', 'f:replicas'));
  const csa = entry(next, 'kubectl-client-side-apply');
  assert.ok(csa, 'the old manager keeps the fields it still shares');
  assert.ok(!owns(csa, 'f:spec', 'f:replicas'));
  assert.ok(owns(csa, 'f:spec', 'f:selector'));
  assert.equal(next.metadata.managedFields?.[0]?.operation, 'Apply', 'Apply entries sort first');
});

test('applying the value another manager set shares the field without conflict', () => {
  const live = createdByClientSideApply(3);
  const next = apply(live, deployment({ replicas: 3 }));
  assert.ok(owns(entry(next, 'kubectl', 'Apply'), 'f:spec', 'f:replicas'));
  assert.ok(owns(entry(next, 'kubectl-client-side-apply'), 'f:spec', 'f:replicas'));
  // Now both own it; a third applier changing it conflicts with both, listed per manager.
  const err = expectApiError(() => apply(stored(next), deployment({ replicas: 4 }), 'helm'), 'Conflict');
  assert.equal(
    err.message,
    'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\nconflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas',
  );
});

test('a sidecar another applier added survives a re-apply that does not know it', () => {
  const app = { name: 'app', image: 'nginx:1' };
  const proxy = { name: 'proxy', image: 'envoy:1' };
  const first = stored(apply(undefined, deployment({ containers: [app] }), 'team', false, T0));
  const withProxy = stored(apply(first, deployment({ containers: [proxy] }), 'mesh', false, T1));
  assert.deepEqual(containersOf(withProxy).map((c) => c.name), ['app', 'proxy']);
  const reapplied = apply(withProxy, deployment({ containers: [{ ...app, image: 'nginx:2' }] }), 'team', false, T2);
  assert.deepEqual(containersOf(reapplied), [{ name: 'app', image: 'nginx:2' }, proxy]);
  // The team applier then replaces its container: the old one goes, the proxy stays where it was.
  const dropped = apply(stored(reapplied), deployment({ containers: [{ name: 'other', image: 'busybox' }] }), 'team', false, T2);
  assert.deepEqual(containersOf(dropped).map((c) => c.name), ['proxy', 'other']);
});

test('a container added by a plain update is owned as an item and kept when the applier re-applies', () => {
  const live = stored(apply(undefined, deployment({ containers: [{ name: 'app', image: 'nginx:1' }] }), 'kubectl', false, T0));
  const injected = structuredClone(live);
  containersOf(injected).push({ name: 'proxy', image: 'envoy:1' });
  const entries = recordUpdate({ before: live, after: injected, manager: 'injector', schema, now: T1 });
  const injector = entries.find((e) => e.manager === 'injector');
  assert.ok(owns(injector, 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"proxy"}', '.'));
  const next = apply(stored(setManagedFields(injected, entries)), deployment({ containers: [{ name: 'app', image: 'nginx:1' }] }));
  assert.deepEqual(containersOf(next).map((c) => c.name), ['app', 'proxy']);
});

test('an update takes ownership of what it changed, so the applier then conflicts with it', () => {
  const live = stored(apply(undefined, deployment({ replicas: 2 }), 'kubectl', false, T0));
  const scaled: KubeObject = { ...live, spec: { ...spec(live), replicas: 7 } };
  const entries = recordUpdate({ before: live, after: scaled, manager: 'hpa', schema, now: T1, subresource: 'scale' });
  const hpa = entries.find((e) => e.manager === 'hpa');
  assert.deepEqual(hpa, {
    manager: 'hpa',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: T1,
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    subresource: 'scale',
  });
  assert.ok(!owns(entries.find((e) => e.manager === 'kubectl'), 'f:spec', 'f:replicas'));
  const err = expectApiError(() => apply(stored(setManagedFields(scaled, entries)), deployment({ replicas: 2 })), 'Conflict');
  assert.match(err.message, /conflict with "hpa" with subresource "scale" using apps\/v1: \.spec\.replicas$/);
});

test('an update that changes nothing leaves managedFields as they were', () => {
  const live = createdByClientSideApply(1);
  const entries = recordUpdate({ before: live, after: structuredClone(live), manager: 'kubectl-edit', schema, now: T2 });
  assert.deepEqual(entries, live.metadata.managedFields);
});

test('create by update records new maps and items with their member marker', () => {
  const live = createdByClientSideApply(1);
  const csa = entry(live, 'kubectl-client-side-apply');
  assert.equal(csa?.operation, 'Update');
  assert.ok(owns(csa, 'f:spec', 'f:template', 'f:metadata', 'f:labels', '.'));
  assert.ok(owns(csa, 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"app"}', 'f:ports', '.'));
  assert.ok(!owns(csa, 'f:spec', '.'));
  assert.ok(!owns(csa, 'f:metadata', 'f:uid'));
});

test('status is owned only through the status subresource', () => {
  const live = stored(apply(undefined, deployment({ replicas: 1 }), 'kubectl', false, T0));
  const withStatus: KubeObject = { ...live, status: { readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] } };
  const main = recordUpdate({ before: live, after: withStatus, manager: 'editor', schema, now: T1 });
  assert.equal(main.find((e) => e.manager === 'editor'), undefined, 'main-resource writes never own status');
  const viaStatus = recordUpdate({ before: live, after: withStatus, manager: 'controller', schema, now: T1, subresource: 'status' });
  const controller = viaStatus.find((e) => e.manager === 'controller');
  assert.equal(controller?.subresource, 'status');
  assert.ok(owns(controller, 'f:status', 'f:conditions', 'k:{"type":"Available"}', 'f:status'));
  // An apply to the main resource ignores the status it carries.
  const applied = apply(live, { ...deployment({ replicas: 1 }), status: { readyReplicas: 9 } });
  assert.equal(applied.status, undefined);
});

test('the first apply to an object without managedFields conflicts with before-first-apply', () => {
  const legacy = stored(deployment({ replicas: 1 }));
  const err = expectApiError(() => apply(legacy, deployment({ replicas: 2 })), 'Conflict');
  assert.match(err.message, /conflict with "before-first-apply" using apps\/v1: \.spec\.replicas/);
  const forced = apply(legacy, deployment({ replicas: 2 }), 'kubectl', true);
  assert.ok(owns(entry(forced, 'before-first-apply'), 'f:spec', 'f:selector'));
});

test('bad apply bodies are rejected like kube-apiserver does', () => {
  const withManaged = deployment();
  withManaged.metadata.managedFields = [];
  assert.equal(expectApiError(() => apply(undefined, withManaged), 'BadRequest').message, 'metadata.managedFields must be nil');
  const dup = deployment({ containers: [{ name: 'a' }, { name: 'a' }] });
  assert.match(expectApiError(() => apply(undefined, dup), 'BadRequest').message, /containers: duplicate entries for key \[name="a"\]/);
  const keyless = deployment({ containers: [{ image: 'x' }] });
  assert.match(expectApiError(() => apply(undefined, keyless), 'BadRequest').message, /omits key field "name"/);
  const noManager = expectApiError(() => apply(undefined, deployment(), ''), 'Invalid');
  assert.match(noManager.message, /fieldManager: Required value: is required for apply patch/);
  const wrongVersion = { ...deployment(), apiVersion: 'apps/v1beta1' };
  assert.match(expectApiError(() => apply(stored(deployment()), wrongVersion), 'BadRequest').message, /Incorrect version/);
});

test('managedFields a client writes replace the stored ones; [{}] clears them', () => {
  const live = createdByClientSideApply(1);
  const cleared: KubeObject = { ...live, metadata: { ...live.metadata, managedFields: [{} as ManagedFieldsEntry] } };
  assert.deepEqual(recordUpdate({ before: live, after: cleared, manager: 'kubectl', schema, now: T1 }), []);
  // kubectl's client-side to server-side migration rewrites the entries itself.
  const migrated = (live.metadata.managedFields ?? []).map((e) => ({ ...e, manager: 'kubectl', operation: 'Apply' as const }));
  const rewritten: KubeObject = { ...live, metadata: { ...live.metadata, managedFields: migrated } };
  const entries = recordUpdate({ before: live, after: rewritten, manager: 'kubectl', schema, now: T1 });
  assert.deepEqual(entries.map((e) => [e.manager, e.operation]), [['kubectl', 'Apply']]);
  // Subresource writes cannot touch managedFields.
  const viaStatus = recordUpdate({ before: live, after: rewritten, manager: 'x', schema, now: T1, subresource: 'status' });
  assert.deepEqual(viaStatus, live.metadata.managedFields);
});

test('more than ten updaters fold the oldest into ancient-changes', () => {
  let live = stored(deployment({ labels: {} }));
  for (let i = 0; i < 12; i++) {
    const next: KubeObject = { ...live, metadata: { ...live.metadata, labels: { ...live.metadata.labels, [`l${i}`]: 'x' } } };
    const now = new Date(Date.parse(T0) + i * 60_000).toISOString().replace('.000', '');
    live = setManagedFields(next, recordUpdate({ before: live, after: next, manager: `m${i}`, schema, now }));
  }
  const entries = live.metadata.managedFields ?? [];
  assert.equal(entries.filter((e) => e.operation === 'Update').length, 10);
  const ancient = entries.find((e) => e.manager === 'ancient-changes');
  assert.ok(owns(ancient, 'f:metadata', 'f:labels', 'f:l0'));
  assert.ok(owns(ancient, 'f:metadata', 'f:labels', 'f:l2'));
  assert.ok(!entries.some((e) => e.manager === 'm0' || e.manager === 'm2'));
  assert.ok(entries.some((e) => e.manager === 'm11'));
});

test('kubectl server-side apply keeps an existing last-applied annotation in step', () => {
  const key = 'kubectl.kubernetes.io/last-applied-configuration';
  const live = stored(deployment({ replicas: 1 }));
  live.metadata.annotations = { [key]: '{"old":true}' };
  const next = apply(live, deployment({ replicas: 1 }), 'kubectl', true);
  const recorded = JSON.parse(next.metadata.annotations?.[key] ?? '{}') as KubeObject;
  assert.equal(recorded.kind, 'Deployment');
  assert.equal((recorded.spec as JsonObject).replicas, 1);
  const byHelm = apply(live, deployment({ replicas: 1 }), 'helm', true);
  assert.equal(byHelm.metadata.annotations?.[key], '{"old":true}');
});
