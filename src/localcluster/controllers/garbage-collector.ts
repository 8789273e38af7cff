/**
 * Owner-reference garbage collection, as kube-controller-manager's garbage collector does it:
 * a dependent whose owners are all gone is deleted; an owner being deleted in the foreground keeps its
 * `foregroundDeletion` finalizer until its dependents are gone.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { ApiService } from '../service.js';
import type { StoreEvent } from '../store.js';
import type { KubeObject, ResourceType } from '../types.js';

interface Ref {
  resource: string;
  namespace: string | undefined;
  name: string;
}

const refKey = (r: Ref): string => `${r.resource}|${r.namespace ?? ''}|${r.name}`;

export class GarbageCollector {
  /** owner uid -> dependents */
  private readonly dependents = new Map<string, Map<string, Ref>>();
  /** dependent key -> its owners' uids, so re-indexing an object touches only its own owners */
  private readonly ownersOf = new Map<string, string[]>();

  constructor(
    private readonly svc: ApiService,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Build the owner index from what is stored (at start-up, after a restore). */
  prime(): void {
    for (const resource of this.svc.store.resources()) {
      for (const o of this.svc.store.list(resource)) this.index(resource, o, true);
    }
  }

  onEvent = (e: StoreEvent): void => {
    const o = e.object;
    const ref: Ref = { resource: e.resource, namespace: o.metadata.namespace, name: o.metadata.name ?? '' };
    this.index(e.resource, o, e.type !== 'DELETED');
    const uid = o.metadata.uid;
    if (e.type === 'DELETED' && uid) {
      const deps = this.dependents.get(uid);
      if (deps?.size) this.defer(() => deps.forEach((d) => this.collectIfOrphaned(d)));
      this.dependents.delete(uid);
      for (const owner of o.metadata.ownerReferences ?? []) this.defer(() => this.finishForeground(owner.uid));
      return;
    }
    if (o.metadata.deletionTimestamp && o.metadata.finalizers?.includes('foregroundDeletion') && uid) {
      this.defer(() => this.deleteDependentsInForeground(uid));
    }
    if (e.type === 'ADDED' && o.metadata.ownerReferences?.length) this.defer(() => this.collectIfOrphaned(ref));
  };

  private defer(fn: () => void): void {
    this.clock.setTimeout(() => {
      try {
        fn();
      } catch (err) {
        this.log.warn({ err }, 'garbage collection step failed');
      }
    }, 0);
  }

  private index(resource: string, o: KubeObject, present: boolean): void {
    const ref: Ref = { resource, namespace: o.metadata.namespace, name: o.metadata.name ?? '' };
    const key = refKey(ref);
    for (const uid of this.ownersOf.get(key) ?? []) this.dependents.get(uid)?.delete(key);
    this.ownersOf.delete(key);
    const owners = present ? (o.metadata.ownerReferences ?? []) : [];
    if (!owners.length) return;
    this.ownersOf.set(key, owners.map((r) => r.uid));
    for (const owner of owners) {
      let deps = this.dependents.get(owner.uid);
      if (!deps) this.dependents.set(owner.uid, (deps = new Map()));
      deps.set(key, ref);
    }
  }

  private typeOf(resource: string): ResourceType | undefined {
    const [group = '', plural = ''] = resource.split('/');
    return this.svc.registry.all().find((t) => t.group === group && t.plural === plural);
  }

  private collectIfOrphaned(ref: Ref): void {
    const o = this.svc.store.get(ref.resource, ref.namespace, ref.name);
    if (!o || o.metadata.deletionTimestamp) return;
    const owners = o.metadata.ownerReferences ?? [];
    if (!owners.length || owners.some((r) => this.svc.store.getByUid(r.uid))) return;
    const type = this.typeOf(ref.resource);
    if (type) this.svc.delete(type, ref.namespace, ref.name, { propagationPolicy: 'Background' });
  }

  private deleteDependentsInForeground(ownerUid: string): void {
    const deps = [...(this.dependents.get(ownerUid)?.values() ?? [])];
    if (!deps.length) return this.finishForeground(ownerUid);
    for (const d of deps) {
      const type = this.typeOf(d.resource);
      const o = this.svc.store.get(d.resource, d.namespace, d.name);
      if (type && o && !o.metadata.deletionTimestamp) this.svc.delete(type, d.namespace, d.name, { propagationPolicy: 'Foreground' });
    }
  }

  /** Drop `foregroundDeletion` from an owner being deleted once it has no dependents left. */
  private finishForeground(ownerUid: string): void {
    const found = this.svc.store.getByUid(ownerUid);
    if (!found) return;
    const owner = found.object;
    if (!owner.metadata.deletionTimestamp || !owner.metadata.finalizers?.includes('foregroundDeletion')) return;
    if (this.dependents.get(ownerUid)?.size) return;
    const type = this.typeOf(found.resource);
    if (!type) return;
    const next: KubeObject = { ...owner, metadata: { ...owner.metadata, finalizers: owner.metadata.finalizers.filter((f) => f !== 'foregroundDeletion') } };
    this.svc.commit(type, owner, next, [], {});
  }
}
