/**
 * The controller: watch-fed caches, a keyed queue (one canary never runs two ticks at once), a timer per
 * progressing canary at its analysis interval, and the engine's tick per canary. Changes to a target, its
 * configs or the Canary are acted on as soon as the watch delivers them; idle canaries cost nothing.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { Canary } from '../api/index.js';
import { formatProblem, isFledgeError, parseCanary, routerOf } from '../api/index.js';
import { prometheusProvider, runMetricChecks } from '../analysis/metrics.js';
import type { MetricProvider } from '../analysis/metrics.js';
import { createWebhookRunner } from '../analysis/webhooks.js';
import { advance } from '../engine/index.js';
import type { KubeObject } from '../kube/api.js';
import { ClientNodeKubeApi } from '../kube/client.js';
import { createWorkloads } from '../workloads/index.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router } from '../../providers/routers/types.js';
import { CachedKubeApi, InformerCache, WATCHED_KINDS } from './cache.js';
import type { WatchedKind } from './cache.js';
import { EventRecorder } from './events.js';
import { ensureFinalizer, finalizeStep } from './finalize.js';
import { createConfigMapGateStore } from './gate-store.js';
import { createGateHandler, isGatePath } from './gates.js';
import { LeaderElector } from './leader.js';
import type { LeaderElectionOptions } from './leader.js';
import { ControllerMetrics } from './metrics.js';
import type { Alert } from './ports.js';
import { buildPorts } from './ports.js';
import { KeyedQueue } from './queue.js';

export interface ControllerOptions {
  kubeConfig: k8s.KubeConfig;
  clock: Clock;
  log: Logger;
  namespace?: string;
  meshProvider: string;
  metricsServer: string;
  minAnalysisIntervalMs: number;
  selectorLabels?: string[];
  includeLabelPrefixes?: string[];
  configTracking: boolean;
  eventWebhook?: string;
  /** HTTP port for /metrics, /healthz, /readyz and the gates; undefined serves nothing. */
  port?: number;
  gateNamespace?: string;
  fetch?: typeof fetch;
  version?: string;
  /** --enable-leader-election: only the holder of this Lease runs canaries; standbys cost no API load. */
  leaderElection?: LeaderElectionOptions;
  /** Called when leadership is lost; the CLI exits so a fresh process campaigns again (as client-go does). */
  onLostLeadership?: () => void;
}

const CANARY = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary' };
const RETRY_SOON_MS = 2000;
const WAKE_ON_CHANGE = new Set(['Initializing', 'Initialized', 'Succeeded', 'Failed']);

const keyOf = (o: { metadata: { namespace?: string; name: string } }): string => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const numericRv = (o: KubeObject | undefined): number => Number(o?.metadata.resourceVersion ?? 0) || 0;

export class Controller {
  readonly metrics: ControllerMetrics;
  readonly alerts: Alert[] = [];
  private readonly live: ClientNodeKubeApi;
  private readonly cache: InformerCache;
  private readonly kube: CachedKubeApi;
  private readonly queue: KeyedQueue;
  private readonly events: EventRecorder;
  private readonly routers = new Map<string, Router>();
  private readonly providers = new Map<string, MetricProvider>();
  /** The Canary as our last status write returned it: newer than the cache until the watch catches up. */
  private readonly written = new Map<string, KubeObject>();
  /** The invalid-spec message last reported per canary, so a bad Canary is reported once, not every tick. */
  private readonly reportedInvalid = new Map<string, string>();
  private server: Server | undefined;
  private elector: LeaderElector | undefined;
  private synced = false;
  private readonly alertListeners: Array<(a: Alert) => void> = [];

  constructor(private readonly opts: ControllerOptions) {
    this.live = new ClientNodeKubeApi(opts.kubeConfig);
    this.cache = new InformerCache(opts.kubeConfig, WATCHED_KINDS, opts.clock, opts.log, opts.namespace);
    this.kube = new CachedKubeApi(this.live, this.cache);
    this.events = new EventRecorder(this.live, opts.clock, opts.log);
    this.metrics = new ControllerMetrics(opts.version ?? '0.1.0', opts.meshProvider);
    this.queue = new KeyedQueue((key) => this.reconcile(key), opts.clock, 4, (key, err) => {
      opts.log.error({ err, canary: key }, 'reconcile failed');
      this.queue.addAfter(key, RETRY_SOON_MS);
    });
  }

  onAlert(listener: (a: Alert) => void): void {
    this.alertListeners.push(listener);
  }

  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? `http://127.0.0.1:${address.port}` : undefined;
  }

  async start(): Promise<void> {
    if (this.opts.port !== undefined) await this.listen(this.opts.port);
    const election = this.opts.leaderElection;
    if (!election) return this.startWork();
    this.elector = new LeaderElector(this.live, this.opts.clock, this.opts.log, election);
    this.elector.start(
      () => void this.startWork().catch((err) => this.opts.log.error({ err }, 'starting work failed')),
      () => {
        this.queue.stop();
        void this.cache.stop();
        this.opts.onLostLeadership?.();
      },
    );
  }

  /** Whether this instance runs canaries (always, without leader election). */
  get leading(): boolean {
    return this.elector ? this.elector.isLeader : true;
  }

  private async startWork(): Promise<void> {
    await this.cache.start((kind, change, obj) => this.onChange(kind, change, obj));
    this.synced = true;
    for (const c of this.cache.list(CANARY.apiVersion, CANARY.kind)) this.queue.add(keyOf(c));
  }

  async stop(): Promise<void> {
    await this.elector?.stop();
    this.queue.stop();
    await this.cache.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** Ticks queued or running now (not counting timers). */
  get pendingWork(): number {
    return this.queue.size;
  }

  /** Resolves when no tick is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private onChange(kind: WatchedKind, change: string, obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? 'default';
    if (kind.kind === 'Canary') {
      const key = keyOf(obj);
      if (change === 'delete') {
        this.queue.forget(key);
        this.written.delete(key);
        this.reportedInvalid.delete(key);
        this.metrics.forget(ns, obj.metadata.name);
        return;
      }
      // Our own status writes come back as updates: only a new generation (spec) or a deletion is news.
      const seen = this.written.get(key);
      if (change === 'update' && seen && seen.metadata.generation === obj.metadata.generation && !obj.metadata.deletionTimestamp) return;
      this.queue.add(key);
      return;
    }
    if (kind.kind === 'Service') return;
    for (const c of this.cache.list(CANARY.apiVersion, CANARY.kind, ns)) {
      const target = (c.spec as { targetRef?: { name?: string } } | undefined)?.targetRef?.name;
      const isWorkload = kind.kind === 'Deployment' || kind.kind === 'DaemonSet';
      if (isWorkload && target !== obj.metadata.name && `${target}-primary` !== obj.metadata.name) continue;
      // A change wakes a canary that waits for one (idle, or initializing); an analysis in progress
      // keeps its pace and sees the change at its next step, as Flagger's does.
      const phase = (this.current(keyOf(c))?.status as { phase?: string } | undefined)?.phase;
      if (!phase || WAKE_ON_CHANGE.has(phase)) this.queue.add(keyOf(c));
    }
  }

  private current(key: string): KubeObject | undefined {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.cache.get({ ...CANARY, namespace, name });
    const mine = this.written.get(key);
    if (!cached) return undefined;
    return mine && numericRv(mine) > numericRv(cached) ? { ...cached, status: mine.status } : cached;
  }

  private async reconcile(key: string): Promise<void> {
    const obj = this.current(key);
    if (!obj) return;
    let canary: Canary;
    try {
      canary = parseCanary(obj, { meshProvider: this.opts.meshProvider });
    } catch (err) {
      if (isFledgeError(err, 'InvalidSpec')) return this.reportInvalid(key, obj, err.problems.map(formatProblem).join('; '));
      throw err;
    }
    this.reportedInvalid.delete(key);
    const routerName = routerOf(canary, this.opts.meshProvider) ?? 'kubernetes';
    const workloads = createWorkloads({
      kube: this.kube,
      clock: this.opts.clock,
      configTracking: this.opts.configTracking,
      ...(this.opts.selectorLabels ? { selectorLabels: this.opts.selectorLabels } : {}),
      ...(this.opts.includeLabelPrefixes ? { includeLabelPrefixes: this.opts.includeLabelPrefixes } : {}),
    });
    if (canary.metadata.deletionTimestamp) {
      const canaryRef = { ...CANARY, namespace: canary.metadata.namespace, name: canary.metadata.name };
      const step = await finalizeStep(canary, {
        kube: this.live,
        workloads,
        router: this.routerFor(routerName),
        writeStatus: async (status) => {
          this.written.set(key, await this.live.patchStatus(canaryRef, status));
        },
        event: (type, message) => this.events.record(canary, type, 'Synced', message),
      });
      if (step === 'again') this.queue.addAfter(key, RETRY_SOON_MS);
      return;
    }
    await ensureFinalizer(canary, this.live);
    // A running analysis steps only when its interval timer fires. A watch event can still queue it:
    // one that arrived while the tick leaving an idle phase had not yet written the new phase (the
    // canary scale-up, say); running it now would take an analysis step ahead of its interval.
    if (canary.status.phase && !WAKE_ON_CHANGE.has(canary.status.phase) && this.queue.scheduledAt(key) !== undefined) return;
    const pending: Array<Promise<unknown>> = [];
    const ports = buildPorts(canary, {
      kube: this.kube,
      clock: this.opts.clock,
      log: this.opts.log.child({ canary: key }),
      workloads,
      router: this.routerFor(routerName),
      webhooks: createWebhookRunner({ clock: this.opts.clock, log: this.opts.log, ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}) }),
      events: this.events,
      runChecks: (c) =>
        runMetricChecks(c, {
          providerFor: (address) => this.providerFor(address),
          defaultMetricsServer: this.opts.metricsServer,
          routerOf: () => routerName,
        }),
      alert: (a) => {
        this.alerts.push(a);
        this.opts.log.info({ alert: a }, 'alert');
        for (const l of this.alertListeners) l(a);
      },
      statusWritten: (o) => this.written.set(key, o),
      pending,
      ...(this.opts.eventWebhook ? { eventWebhook: this.opts.eventWebhook } : {}),
    });
    const outcome = await advance(canary, ports, { clock: this.opts.clock });
    await Promise.allSettled(pending);
    this.record(canary, outcome);
    const interval = Math.max(canary.spec.analysis.intervalMs, this.opts.minAnalysisIntervalMs);
    if (outcome.requeue === 'interval') this.queue.addAfter(key, interval);
    else if (outcome.requeue === 'soon') this.queue.addAfter(key, Math.min(interval, RETRY_SOON_MS));
    else this.queue.forget(key);
  }

  private record(canary: Canary, outcome: Awaited<ReturnType<typeof advance>>): void {
    const { namespace, name } = canary.metadata;
    this.metrics.setPhase(namespace, name, outcome.phase);
    if (outcome.routes) this.metrics.setWeight(namespace, canary.spec.targetRef.name, outcome.routes.primary, outcome.routes.canary);
    if (outcome.phase !== outcome.previousPhase && (outcome.phase === 'Succeeded' || outcome.phase === 'Failed')) {
      this.metrics.countResult(namespace, name, outcome.phase === 'Succeeded');
    }
    this.opts.log.debug({ canary: `${namespace}/${name}`, action: outcome.action, phase: outcome.phase, reason: outcome.reason }, 'tick');
  }

  private async reportInvalid(key: string, obj: KubeObject, message: string): Promise<void> {
    if (this.reportedInvalid.get(key) === message) return;
    this.reportedInvalid.set(key, message);
    const [namespace, name] = key.split('/') as [string, string];
    const now = new Date(this.opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const written = await this.live.patchStatus(
      { ...CANARY, namespace, name },
      { conditions: [{ type: 'Promoted', status: 'Unknown', reason: 'InvalidSpec', message, lastUpdateTime: now, lastTransitionTime: now }] },
    );
    this.written.set(key, written);
    await this.events.record({ metadata: { name, namespace, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) } }, 'Warning', 'InvalidSpec', message);
  }

  private routerFor(name: string): Router {
    let router = this.routers.get(name);
    if (!router) this.routers.set(name, (router = createRouter(name, { kube: this.kube })));
    return router;
  }

  private providerFor(address: string): MetricProvider {
    let p = this.providers.get(address);
    if (!p) this.providers.set(address, (p = prometheusProvider(address, this.opts.fetch)));
    return p;
  }

  private async listen(port: number): Promise<void> {
    const gates = createGateHandler(createConfigMapGateStore({ kube: this.live, namespace: this.opts.gateNamespace ?? 'default' }), { log: this.opts.log });
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (isGatePath(path)) return gates(req, res);
      if (path === '/healthz') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      // A standby is ready too: it answers gates and health checks and takes over when the leader goes.
      const ready = this.synced || (this.elector !== undefined && !this.elector.isLeader);
      if (path === '/readyz') return void res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ready ? 'ok' : 'caches not synced');
      if (path === '/metrics') return void res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(this.metrics.render());
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
  }
}
