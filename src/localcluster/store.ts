/**
 * The object store: every object by storage key (group/plural), namespace and name, one monotonic
 * resourceVersion counter for the whole cluster (as etcd's revision), and a bounded history of changes
 * that watches replay from. Stored objects are treated as immutable: writers build a new object and
 * hand it over; readers must not mutate what they get.
 */
import { ApiError } from './errors.js';
import type { KubeObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: string;
  object: KubeObject;
  rv: number;
}

export type StoreListener = (event: StoreEvent) => void;

export interface Subscription {
  unsubscribe(): void;
}

export interface StoreSnapshot {
  resourceVersion: number;
  objects: Record<string, KubeObject[]>;
}

const itemKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class ObjectStore {
  private readonly byResource = new Map<string, Map<string, KubeObject>>();
  private readonly byUid = new Map<string, { resource: string; key: string }>();
  private readonly history: StoreEvent[] = [];
  private historyStart = 0; // index of the oldest live entry in `history` (ring via splice batches)
  private rv = 0;
  /** The lowest resourceVersion a watch may start from; older ones are answered 410 Gone. */
  private compactedRv = 0;
  private readonly listeners = new Map<string, Set<StoreListener>>();
  private readonly anyListeners = new Set<StoreListener>();
  private readonly sortedKeyCache = new Map<string, string[]>();

  constructor(private readonly historySize = 100_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  nextResourceVersion(): number {
    return this.rv + 1;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byResource.get(resource)?.get(itemKey(namespace, name));
  }

  getByUid(uid: string): { resource: string; object: KubeObject } | undefined {
    const at = this.byUid.get(uid);
    if (!at) return undefined;
    const object = this.byResource.get(at.resource)?.get(at.key);
    return object ? { resource: at.resource, object } : undefined;
  }

  /** Objects of one resource, in one namespace or all, sorted by namespace then name (list order). */
  list(resource: string, namespace?: string): KubeObject[] {
    const all = this.byResource.get(resource);
    if (!all) return [];
    const out: KubeObject[] = [];
    for (const key of this.sortedKeys(resource, all)) {
      const o = all.get(key);
      if (o && (namespace === undefined || o.metadata.namespace === namespace)) out.push(o);
    }
    return out;
  }

  /** Item keys in list order, cached until an object is added or removed (updates keep keys). */
  private sortedKeys(resource: string, items: Map<string, KubeObject>): string[] {
    let keys = this.sortedKeyCache.get(resource);
    if (!keys) {
      keys = [...items.keys()].sort(compareItemKeys);
      this.sortedKeyCache.set(resource, keys);
    }
    return keys;
  }

  resources(): string[] {
    return [...this.byResource.keys()];
  }

  /** Store a new object; stamps the resourceVersion. The caller has checked it does not exist. */
  create(resource: string, object: KubeObject): KubeObject {
    const stored = this.stamp(object);
    const key = itemKey(stored.metadata.namespace, stored.metadata.name ?? '');
    let items = this.byResource.get(resource);
    if (!items) this.byResource.set(resource, (items = new Map()));
    if (items.has(key)) throw new ApiError('AlreadyExists', `object ${key} already exists`);
    items.set(key, stored);
    this.sortedKeyCache.delete(resource);
    if (stored.metadata.uid) this.byUid.set(stored.metadata.uid, { resource, key });
    this.emit({ type: 'ADDED', resource, object: stored, rv: this.rv });
    return stored;
  }

  /** Replace an existing object; stamps the resourceVersion. */
  update(resource: string, object: KubeObject): KubeObject {
    const key = itemKey(object.metadata.namespace, object.metadata.name ?? '');
    const items = this.byResource.get(resource);
    if (!items?.has(key)) throw new ApiError('NotFound', `object ${key} not found`);
    const stored = this.stamp(object);
    items.set(key, stored);
    this.emit({ type: 'MODIFIED', resource, object: stored, rv: this.rv });
    return stored;
  }

  /** Remove an object; the DELETED event carries a new resourceVersion, as the real server does. */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const items = this.byResource.get(resource);
    const key = itemKey(namespace, name);
    const current = items?.get(key);
    if (!items || !current) return undefined;
    items.delete(key);
    this.sortedKeyCache.delete(resource);
    if (current.metadata.uid) this.byUid.delete(current.metadata.uid);
    const stamped = this.stamp(current);
    this.emit({ type: 'DELETED', resource, object: stamped, rv: this.rv });
    return stamped;
  }

  /** Listen to every change of every resource (controllers inside the server). */
  onAnyChange(listener: StoreListener): Subscription {
    this.anyListeners.add(listener);
    return { unsubscribe: () => this.anyListeners.delete(listener) };
  }

  /**
   * Watch one resource from a resourceVersion: replays the changes after it from history, then live ones.
   * A version older than the history holds is 410 Gone, so the client relists.
   */
  watch(resource: string, fromRv: number, listener: StoreListener): Subscription {
    if (fromRv < this.compactedRv) {
      throw new ApiError('Expired', `too old resource version: ${fromRv} (${this.compactedRv})`);
    }
    for (let i = this.firstIndexAfter(fromRv); i < this.history.length; i++) {
      const e = this.history[i];
      if (e && e.resource === resource) listener(e);
    }
    let set = this.listeners.get(resource);
    if (!set) this.listeners.set(resource, (set = new Set()));
    set.add(listener);
    return { unsubscribe: () => set.delete(listener) };
  }

  snapshot(): StoreSnapshot {
    const objects: Record<string, KubeObject[]> = {};
    for (const [resource, items] of this.byResource) objects[resource] = [...items.values()];
    return { resourceVersion: this.rv, objects };
  }

  /** Load a snapshot into an empty store (at start-up, before anyone watches). */
  restore(snapshot: StoreSnapshot): void {
    for (const [resource, items] of Object.entries(snapshot.objects)) {
      const map = new Map<string, KubeObject>();
      for (const o of items) {
        const key = itemKey(o.metadata.namespace, o.metadata.name ?? '');
        map.set(key, o);
        if (o.metadata.uid) this.byUid.set(o.metadata.uid, { resource, key });
      }
      this.byResource.set(resource, map);
    }
    this.rv = snapshot.resourceVersion;
    this.compactedRv = snapshot.resourceVersion;
  }

  private stamp(object: KubeObject): KubeObject {
    this.rv += 1;
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(this.rv) } };
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length - this.historyStart > this.historySize) {
      this.historyStart += 1;
      const dropped = this.history[this.historyStart - 1];
      if (dropped) this.compactedRv = dropped.rv;
      // Drop the consumed prefix in batches so trimming stays O(1) amortised.
      if (this.historyStart > 4096) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const l of this.anyListeners) l(event);
    for (const l of this.listeners.get(event.resource) ?? []) l(event);
  }

  private firstIndexAfter(rv: number): number {
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.history[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Keys are `namespace/name`; list order is by namespace, then name. */
const compareItemKeys = (a: string, b: string): number => {
  const [na = '', ma = ''] = splitKey(a);
  const [nb = '', mb = ''] = splitKey(b);
  if (na !== nb) return na < nb ? -1 : 1;
  return ma < mb ? -1 : ma > mb ? 1 : 0;
};

const splitKey = (k: string): [string, string] => {
  const i = k.indexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
};
