/**
 * Watch-fed caches. Each watched kind has one informer (list once, then watch); reads of those kinds are
 * served from memory, so an idle canary costs no API request. Writes go to the API server. A change seen
 * by a watch is reported to the controller at once, which is how a new revision is detected within the
 * watch latency instead of at the next poll.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { KubeApi, KubeObject, ObjectRef } from '../kube/api.js';
import { RawObjectApi } from '../kube/client.js';

export interface WatchedKind {
  apiVersion: string;
  kind: string;
  plural: string;
  /** A CRD that may not be installed: watched only when the server serves it at start, never fatal. */
  optional?: boolean;
  /**
   * Watched only to notice changes; reads go to the server. For a target that the router and the
   * workloads both write within one tick (the Knative Service), a read must see the write before it.
   */
  liveReads?: boolean;
}

export const WATCHED_KINDS: WatchedKind[] = [
  { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', plural: 'canaries' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  // Read at every analysis step (templates) and every alert (providers): served from memory too.
  { apiVersion: 'flagger.app/v1beta1', kind: 'MetricTemplate', plural: 'metrictemplates' },
  { apiVersion: 'flagger.app/v1beta1', kind: 'AlertProvider', plural: 'alertproviders' },
  // Knative Service targets: a new revision shows in its status; without Knative installed, no watch.
  { apiVersion: 'serving.knative.dev/v1', kind: 'Service', plural: 'services', optional: true, liveReads: true },
];

export type ChangeKind = 'add' | 'update' | 'delete';
export type ChangeHandler = (kind: WatchedKind, change: ChangeKind, obj: KubeObject) => void;

const pathOf = (w: WatchedKind, namespace?: string): string => {
  const base = w.apiVersion.includes('/') ? `/apis/${w.apiVersion}` : `/api/${w.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${w.plural}` : `${base}/${w.plural}`;
};

const keyOf = (apiVersion: string, kind: string): string => `${apiVersion}/${kind}`;

export class InformerCache {
  private readonly informers = new Map<string, { kind: WatchedKind; informer: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject> }>();
  private stopped = false;

  constructor(
    private readonly config: k8s.KubeConfig,
    private readonly kinds: WatchedKind[],
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly namespace?: string,
  ) {}

  /** Start every informer; resolves once each has listed (the caches are synced). */
  async start(onChange: ChangeHandler): Promise<void> {
    const objects = this.config.makeApiClient(RawObjectApi);
    const kinds = await this.servedKinds(objects);
    await Promise.all(
      kinds.map(async (w) => {
        // Lists arrive as plain JSON, like watch events (RawObjectApi skips client-node's models).
        let listed = false;
        let synced = false;
        const list = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
          const res = (await objects.list(w.apiVersion, w.kind, this.namespace)) as k8s.KubernetesListObject<k8s.KubernetesObject>;
          listed = true;
          return res;
        };
        const informer = k8s.makeInformer(this.config, pathOf(w, this.namespace), list);
        const emit = (change: ChangeKind) => (o: k8s.KubernetesObject) => onChange(w, change, this.complete(w, o));
        informer.on('add', emit('add'));
        informer.on('update', emit('update'));
        informer.on('delete', emit('delete'));
        informer.on('error', (err: unknown) => {
          // Before the first successful list the start loop below retries; after it, restart here.
          if (this.stopped || !synced) return;
          this.log.warn({ err, kind: w.kind }, 'watch failed; restarting the informer');
          this.clock.setTimeout(() => void informer.start().catch(() => undefined), 1000);
        });
        this.informers.set(keyOf(w.apiVersion, w.kind), { kind: w, informer });
        // client-node's start() reports a failed list to the error handlers instead of throwing, so
        // success is judged by the list itself; a busy or flaky API server gets retries with backoff.
        for (let attempt = 1; ; attempt++) {
          await informer.start().catch((err: unknown) => this.log.warn({ err, kind: w.kind }, 'informer start failed'));
          if (listed) break;
          if (w.optional && (attempt >= 10 || this.stopped)) {
            this.log.warn({ kind: w.kind, apiVersion: w.apiVersion }, 'listing an optional kind failed; not watching it');
            await informer.stop();
            this.informers.delete(keyOf(w.apiVersion, w.kind));
            return;
          }
          if (attempt >= 10 || this.stopped) throw new Error(`listing ${w.kind} failed ${attempt} times; giving up`);
          this.log.warn({ kind: w.kind, attempt }, 'initial list failed; retrying');
          await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 200 * attempt));
        }
        synced = true;
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.values()].map((i) => i.informer.stop()));
  }

  /** Whether reads of this kind are served from memory (kinds watched with liveReads are not). */
  watches(apiVersion: string, kind: string): boolean {
    const entry = this.informers.get(keyOf(apiVersion, kind));
    return entry !== undefined && !entry.kind.liveReads;
  }

  /** The kinds to watch: every required one, and the optional ones the server serves now. */
  private async servedKinds(objects: RawObjectApi): Promise<WatchedKind[]> {
    const served = await Promise.all(
      this.kinds.map(async (w) => {
        if (!w.optional) return true;
        try {
          return (await objects.resourceOf(w.apiVersion, w.kind)) !== undefined;
        } catch (err) {
          // A group the server does not know is a 404; anything else may pass, so try the watch.
          if (err instanceof k8s.ApiException && err.code === 404) return false;
          this.log.warn({ err, kind: w.kind, apiVersion: w.apiVersion }, 'discovery failed; trying to watch anyway');
          return true;
        }
      }),
    );
    const kinds = this.kinds.filter((_, i) => served[i]);
    for (const w of this.kinds) if (!kinds.includes(w)) this.log.info({ kind: w.kind, apiVersion: w.apiVersion }, 'not served; not watching it');
    return kinds;
  }

  get(ref: ObjectRef): KubeObject | undefined {
    const entry = this.informers.get(keyOf(ref.apiVersion, ref.kind));
    const o = entry?.informer.get(ref.name, ref.namespace);
    return entry && o ? this.complete(entry.kind, o) : undefined;
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const entry = this.informers.get(keyOf(apiVersion, kind));
    if (!entry) return [];
    return entry.informer.list(namespace).map((o) => this.complete(entry.kind, o));
  }

  /** Items of a list carry no apiVersion/kind; put them back so every consumer sees whole objects. */
  private complete(w: WatchedKind, o: k8s.KubernetesObject): KubeObject {
    return { ...(o as unknown as KubeObject), apiVersion: w.apiVersion, kind: w.kind };
  }
}

/** KubeApi whose reads of watched kinds come from the caches; everything else goes to the server. */
export class CachedKubeApi implements KubeApi {
  constructor(
    private readonly live: KubeApi,
    private readonly cache: InformerCache,
  ) {}

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    if (this.cache.watches(ref.apiVersion, ref.kind)) return this.cache.get(ref);
    return this.live.get(ref);
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    if (!labelSelector && this.cache.watches(apiVersion, kind)) return this.cache.list(apiVersion, kind, namespace);
    return this.live.list(apiVersion, kind, namespace, labelSelector);
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.live.create(obj);
  }
  replace(obj: KubeObject): Promise<KubeObject> {
    return this.live.replace(obj);
  }
  mergePatch(ref: ObjectRef, patch: Record<string, unknown>): Promise<KubeObject> {
    return this.live.mergePatch(ref, patch);
  }
  patchStatus(ref: ObjectRef, status: Record<string, unknown>): Promise<KubeObject> {
    return this.live.patchStatus(ref, status);
  }
  apply(obj: KubeObject): Promise<KubeObject> {
    return this.live.apply(obj);
  }
  delete(ref: ObjectRef): Promise<void> {
    return this.live.delete(ref);
  }
}
