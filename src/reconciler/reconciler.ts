/**
 * The reconciler's loop: watch-fed caches of Kustomizations and sources, a keyed queue (one object is
 * never reconciled twice at once), a timer per object at its interval (with jitter, so a fleet of
 * Kustomizations created together does not fetch in lockstep), and immediate runs when something that
 * matters changes: the spec (generation), `reconcile.fluxcd.io/requestedAt`, a source's new revision
 * (its Kustomizations run at once) or a dependency turning Ready (its dependants run at once, where
 * Flux polls every 30 s).
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { KubeObject } from '../kube/api.js';
import { InformerCache } from '../controller/cache.js';
import type { WatchedKind } from '../controller/cache.js';
import { KeyedQueue } from '../controller/queue.js';
import type { ApplyClient } from './apply.js';
import type { KubeApi } from '../kube/api.js';
import type { RunCommand } from './exec.js';
import type { HealthStatus, KustomizationDeps, Outcome } from './kustomization.js';
import { inventoryOf, reconcileKustomization, stalledStatus } from './kustomization.js';
import { prune } from './apply.js';
import { ArtifactStore, reconcileSource } from './sources.js';
import type { Kustomization, Source } from './types.js';
import { GIT_REPOSITORY_API, KUSTOMIZATION_API, LOCAL_DIRECTORY_API, REQUESTED_AT, parseGitRepository, parseKustomization, parseLocalDirectory } from './types.js';

export const RECONCILER_KINDS: WatchedKind[] = [
  { apiVersion: KUSTOMIZATION_API, kind: 'Kustomization', plural: 'kustomizations' },
  { apiVersion: GIT_REPOSITORY_API, kind: 'GitRepository', plural: 'gitrepositories' },
  { apiVersion: LOCAL_DIRECTORY_API, kind: 'LocalDirectory', plural: 'localdirectories' },
];

/** The field manager of every apply; distinct from the controller's, so neither takes the other's fields back. */
export const RECONCILER_FIELD_MANAGER = 'fledge-reconciler';

export interface ReconcilerOptions {
  config: k8s.KubeConfig;
  client: ApplyClient & Pick<KubeApi, 'patchStatus' | 'create' | 'mergePatch'>;
  /** A client acting as a service account (Impersonate-User), for Kustomizations that name one. */
  impersonating?(serviceAccount: { namespace: string; name: string }): ApplyClient;
  clock: Clock;
  log: Logger;
  run: RunCommand;
  workDir: string;
  build: KustomizationDeps['build'];
  substitute: KustomizationDeps['substitute'];
  substituteText: KustomizationDeps['substituteText'];
  health(o: KubeObject): { status: HealthStatus; message: string };
  namespace?: string;
  /** Fraction of the interval added at random to each schedule (default 0.05). */
  jitter?: number;
  random?: () => number;
  concurrency?: number;
  /** Told of every Kustomization outcome (the CLI prints them; tests wait on them). */
  onOutcome?(key: string, outcome: Outcome): void;
  healthPollMs?: number;
}

const keyOf = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;
const triggerOf = (o: KubeObject): string =>
  `${o.metadata.generation ?? 0}|${o.metadata.annotations?.[REQUESTED_AT] ?? ''}|${o.metadata.deletionTimestamp ?? ''}`;

/** Flux's finalizer: a Kustomization with prune enabled deletes what it applied when it is deleted. */
export const KUSTOMIZATION_FINALIZER = 'finalizers.fluxcd.io';

export class Reconciler {
  private readonly cache: InformerCache;
  private readonly queue: KeyedQueue;
  private readonly artifacts = new ArtifactStore();
  private readonly handled = new Map<string, string>();
  private readonly ready = new Map<string, boolean>();

  constructor(private readonly opts: ReconcilerOptions) {
    this.cache = new InformerCache(opts.config, RECONCILER_KINDS, opts.clock, opts.log, opts.namespace);
    this.queue = new KeyedQueue((key) => this.work(key), opts.clock, opts.concurrency ?? 4, (key, err) => opts.log.error({ err, key }, 'reconcile failed'));
  }

  async start(): Promise<void> {
    await this.cache.start((w, change, o) => {
      const key = keyOf(w.kind, o.metadata.namespace ?? 'default', o.metadata.name);
      if (change === 'delete') {
        this.queue.forget(key);
        this.handled.delete(key);
        this.artifacts.forget(w.kind, o.metadata.namespace ?? 'default', o.metadata.name);
        return;
      }
      // Our own status writes come back as updates; only spec changes and requests are news.
      if (change === 'update' && this.handled.get(key) === triggerOf(o)) return;
      this.queue.add(key);
    });
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await this.cache.stop();
  }

  /** Resolves when no work is queued or running (timers may still be pending). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private schedule(key: string, ms: number): void {
    const jitter = (this.opts.jitter ?? 0.05) * (this.opts.random ?? Math.random)();
    this.queue.addAfter(key, Math.round(ms * (1 + jitter)));
  }

  private async work(key: string): Promise<void> {
    const [kind = '', namespace = '', name = ''] = key.split('/');
    const api = RECONCILER_KINDS.find((k) => k.kind === kind)?.apiVersion ?? '';
    const raw = this.cache.get({ apiVersion: api, kind, name, namespace });
    if (!raw) return;
    this.handled.set(key, triggerOf(raw));
    if (kind === 'Kustomization') await this.kustomization(key, raw);
    else await this.source(key, raw);
  }

  private async source(key: string, raw: KubeObject): Promise<void> {
    let source: Source;
    try {
      source = raw.kind === 'GitRepository' ? parseGitRepository(raw) : parseLocalDirectory(raw);
    } catch (e) {
      await this.opts.client.patchStatus(refOf(raw), stalledStatus(raw, (e as Error).message, this.opts.clock.now())).catch(() => undefined);
      return;
    }
    if (source.spec.suspend) return;
    const before = this.artifacts.get({ kind: source.kind, name: source.metadata.name, namespace: source.metadata.namespace })?.revision;
    const outcome = await reconcileSource(raw, source, this.artifacts, { kube: { get: (r) => this.opts.client.get(r), patchStatus: (r, s) => this.opts.client.patchStatus(r, s) }, clock: this.opts.clock, run: this.opts.run, workDir: this.opts.workDir });
    if (outcome.artifact && outcome.artifact.revision !== before) {
      this.opts.log.info({ source: key, revision: outcome.artifact.revision }, 'new source revision');
      for (const k of this.kustomizations()) {
        if (k.spec.sourceRef.kind === source.kind && k.spec.sourceRef.name === source.metadata.name && k.spec.sourceRef.namespace === source.metadata.namespace) {
          this.queue.add(keyOf('Kustomization', k.metadata.namespace, k.metadata.name));
        }
      }
    }
    this.schedule(key, outcome.requeueAfterMs);
  }

  private kustomizations(): Kustomization[] {
    return this.cache.list(KUSTOMIZATION_API, 'Kustomization').flatMap((o) => {
      try {
        return [parseKustomization(o)];
      } catch {
        return [];
      }
    });
  }

  private async kustomization(key: string, raw: KubeObject): Promise<void> {
    if (raw.metadata.deletionTimestamp) return this.finalizeKustomization(key, raw);
    let k: Kustomization;
    try {
      k = parseKustomization(raw);
    } catch (e) {
      // A bad Kustomization stops only itself; the message names every field and rule.
      await this.opts.client.patchStatus(refOf(raw), stalledStatus(raw, (e as Error).message, this.opts.clock.now())).catch(() => undefined);
      return;
    }
    if (k.spec.suspend) return;
    const finalizers = raw.metadata.finalizers ?? [];
    if (!finalizers.includes(KUSTOMIZATION_FINALIZER)) {
      await this.opts.client.mergePatch(refOf(raw), { metadata: { finalizers: [...finalizers, KUSTOMIZATION_FINALIZER] } });
    }
    const outcome = await reconcileKustomization(raw, k, {
      client: this.opts.client,
      clock: this.opts.clock,
      fieldManager: RECONCILER_FIELD_MANAGER,
      ...(k.spec.serviceAccountName && this.opts.impersonating
        ? { objects: this.opts.impersonating({ namespace: k.metadata.namespace, name: k.spec.serviceAccountName }) }
        : {}),
      artifact: (ref) => this.artifacts.get(ref),
      build: this.opts.build,
      substitute: this.opts.substitute,
      substituteText: this.opts.substituteText,
      health: this.opts.health,
      ...(this.opts.healthPollMs ? { healthPollMs: this.opts.healthPollMs } : {}),
    });
    this.opts.log.info({ kustomization: key, ready: outcome.ready, reason: outcome.reason, revision: outcome.revision }, outcome.message);
    await this.event(raw, outcome);
    this.opts.onOutcome?.(key, outcome);
    const wasReady = this.ready.get(key);
    this.ready.set(key, outcome.ready);
    if (outcome.ready && !wasReady) {
      for (const d of this.kustomizations()) {
        if (d.spec.dependsOn.some((dep) => dep.name === k.metadata.name && dep.namespace === k.metadata.namespace)) {
          this.queue.add(keyOf('Kustomization', d.metadata.namespace, d.metadata.name));
        }
      }
    }
    this.schedule(key, outcome.requeueAfterMs);
  }

  /**
   * A deleted Kustomization: with prune enabled (and not suspended, as in Flux), what its inventory holds
   * is deleted first, under the same ownership rules as a prune; then the finalizer is released.
   */
  private async finalizeKustomization(key: string, raw: KubeObject): Promise<void> {
    const finalizers = raw.metadata.finalizers ?? [];
    if (!finalizers.includes(KUSTOMIZATION_FINALIZER)) return;
    const spec = (raw.spec ?? {}) as { prune?: boolean; suspend?: boolean; serviceAccountName?: string };
    const namespace = raw.metadata.namespace ?? 'default';
    if (spec.prune === true && spec.suspend !== true) {
      const objects = spec.serviceAccountName && this.opts.impersonating ? this.opts.impersonating({ namespace, name: spec.serviceAccountName }) : this.opts.client;
      const owner = { 'kustomize.toolkit.fluxcd.io/name': raw.metadata.name, 'kustomize.toolkit.fluxcd.io/namespace': namespace };
      const deleted = await prune(objects, inventoryOf(raw), [], { ownerLabels: owner });
      this.opts.log.info({ kustomization: key, deleted: deleted.map((d) => d.subject) }, 'Kustomization deleted; its objects were pruned');
    }
    await this.opts.client.mergePatch(refOf(raw), { metadata: { finalizers: finalizers.filter((f) => f !== KUSTOMIZATION_FINALIZER) } });
  }

  /** One event per reconciliation that changed something or failed, listing each object's fate. */
  private async event(raw: KubeObject, outcome: Outcome): Promise<void> {
    const changed = outcome.changes.filter((c) => c.action !== 'unchanged' && c.action !== 'skipped');
    if (outcome.ready && changed.length === 0) return;
    const lines = changed.map((c) => `${c.subject} ${c.action}`);
    const message = [outcome.message, ...lines].join('\n').slice(0, 1024);
    const now = new Date(this.opts.clock.now()).toISOString();
    await this.opts.client
      .create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${raw.metadata.name}.${this.opts.clock.now().toString(16)}`, namespace: raw.metadata.namespace ?? 'default' },
        involvedObject: { apiVersion: raw.apiVersion, kind: raw.kind, name: raw.metadata.name, namespace: raw.metadata.namespace, uid: raw.metadata.uid },
        reason: outcome.reason,
        message,
        type: outcome.ready ? 'Normal' : 'Warning',
        source: { component: 'fledge-reconciler' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch(() => undefined);
  }
}

const refOf = (o: KubeObject) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace ?? 'default' });
