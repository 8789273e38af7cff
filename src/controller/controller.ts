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
import { isKnativeTarget } from '../api/knative.js';
import { runChecks } from '../analysis/checks.js';
import type { ChecksDeps } from '../analysis/checks.js';
import { ProviderCache } from '../analysis/resolve.js';
import { createWebhookRunner } from '../analysis/webhooks.js';
import type { WebhookRunner } from '../analysis/webhooks.js';
import { advance } from '../engine/index.js';
import type { CheckVerdict } from '../engine/index.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import { ClientNodeKubeApi, enableKeepAlive } from '../kube/client.js';
import { createWorkloads } from '../workloads/index.js';
import { createMetricProvider } from '../../providers/metrics/index.js';
import { createRouter } from '../../providers/routers/index.js';
import type { Router } from '../../providers/routers/types.js';
import { AlertDispatcher } from './alerts.js';
import type { AlertingOptions } from './alerts.js';
import { countingKubeApi } from './api-requests.js';
import { CachedKubeApi, InformerCache, WATCHED_KINDS } from './cache.js';
import type { WatchedKind } from './cache.js';
import { EventRecorder } from './events.js';
import { ensureFinalizer, finalizeStep } from './finalize.js';
import { createConfigMapGateStore } from './gate-store.js';
import { createGateHandler, isGatePath } from './gates.js';
import { createRollbackRequests } from './rollback-requests.js';
import type { RollbackRequests } from './rollback-requests.js';
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
  /** Global channels (--slack-url, --msteams-url ...), --cluster-name, timeouts and the delivery counter. */
  alerting?: AlertingOptions;
}

const CANARY = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary' };
const RETRY_SOON_MS = 2000;
const WAKE_ON_CHANGE = new Set(['Initializing', 'Initialized', 'Succeeded', 'Failed']);

const keyOf = (o: { metadata: { namespace?: string; name: string } }): string => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const numericRv = (o: KubeObject | undefined): number => Number(o?.metadata.resourceVersion ?? 0) || 0;

export class Controller {
  readonly metrics: ControllerMetrics;
  /** Every alert raised, in order (tests read it); the dispatcher sends them to their channels. */
  readonly alerts: Alert[] = [];
  readonly alertDispatcher: AlertDispatcher;
  /** Every request to the API server goes through here, counted in fledge_api_requests_total. */
  private readonly live: KubeApi;
  private readonly cache: InformerCache;
  private readonly kube: CachedKubeApi;
  private readonly queue: KeyedQueue;
  private readonly events: EventRecorder;
  private readonly routers = new Map<string, Router>();
  private readonly checks: ChecksDeps;
  private readonly webhooks: WebhookRunner;
  /** `fledge abort` requests: the 'rollback' gates, read from the cache. */
  private readonly rollbackRequests: RollbackRequests;
  /** Aborts metric queries in flight when the controller stops. */
  private readonly stopping = new AbortController();
  /** The Canary as our last status write returned it: newer than the cache until the watch catches up. */
  private readonly written = new Map<string, KubeObject>();
  /** The invalid-spec message last reported per canary, so a bad Canary is reported once, not every tick. */
  private readonly reportedInvalid = new Map<string, string>();
  private server: Server | undefined;
  private elector: LeaderElector | undefined;
  private synced = false;
  private readonly alertListeners: Array<(a: Alert) => void> = [];
  private readonly verdictListeners: Array<(canary: Canary, verdict: CheckVerdict) => void> = [];

  constructor(private readonly opts: ControllerOptions) {
    enableKeepAlive(opts.kubeConfig);
    this.metrics = new ControllerMetrics({
      version: opts.version ?? '0.1.0',
      meshProvider: opts.meshProvider,
      canariesPerNamespace: () => this.canariesPerNamespace(),
    });
    this.live = countingKubeApi(new ClientNodeKubeApi(opts.kubeConfig), (verb) => this.metrics.countApiRequest(verb));
    this.cache = new InformerCache(opts.kubeConfig, WATCHED_KINDS, opts.clock, opts.log, opts.namespace);
    this.kube = new CachedKubeApi(this.live, this.cache);
    this.events = new EventRecorder(this.live, opts.clock, opts.log);
    this.rollbackRequests = createRollbackRequests({ cached: this.kube, live: this.live, namespace: opts.gateNamespace ?? 'default' });
    this.alertDispatcher = new AlertDispatcher(
      { kube: this.kube, clock: opts.clock, log: opts.log, ...(opts.fetch ? { fetch: opts.fetch } : {}) },
      {
        ...opts.alerting,
        onDelivery: (d) => {
          this.metrics.countNotification(d.type, d.ok ? 'success' : 'failure');
          opts.alerting?.onDelivery?.(d);
        },
      },
    );
    const providerDeps = { clock: opts.clock, ...(opts.fetch ? { fetch: opts.fetch } : {}) };
    this.checks = {
      kube: this.kube,
      createProvider: (config) => createMetricProvider(config, providerDeps),
      metricsServer: opts.metricsServer,
      meshProvider: opts.meshProvider,
      providers: new ProviderCache(),
      signal: this.stopping.signal,
      observeQuery: (provider, seconds) => this.metrics.observeProviderQuery(provider, seconds),
    };
    this.webhooks = createWebhookRunner({
      clock: opts.clock,
      log: opts.log,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      onResult: (type, ok) => this.metrics.countWebhook(type, ok ? 'success' : 'failure'),
    });
    this.queue = new KeyedQueue((key) => this.reconcile(key), opts.clock, 4, (key, err) => {
      opts.log.error({ err, canary: key }, 'reconcile failed');
      this.queue.addAfter(key, RETRY_SOON_MS);
    });
  }

  onAlert(listener: (a: Alert) => void): void {
    this.alertListeners.push(listener);
  }

  /** Told of every metric check's verdict (metric name, value, range ...), e.g. for flagger_canary_metric_analysis. */
  onVerdict(listener: (canary: Canary, verdict: CheckVerdict) => void): void {
    this.verdictListeners.push(listener);
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
    this.stopping.abort();
    await this.elector?.stop();
    this.queue.stop();
    await this.alertDispatcher.stop();
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
      // A status someone else wrote after ours (`fledge retry` clearing lastAppliedSpec) is news too.
      const foreignStatus = numericRv(obj) > numericRv(seen) && JSON.stringify(obj.status) !== JSON.stringify(seen?.status);
      if (change === 'update' && seen && seen.metadata.generation === obj.metadata.generation && !obj.metadata.deletionTimestamp && !foreignStatus) return;
      this.queue.add(key);
      return;
    }
    const knative = isKnativeTarget(kind);
    if (kind.kind === 'Service' && !knative) return;
    for (const c of this.cache.list(CANARY.apiVersion, CANARY.kind, ns)) {
      const ref = (c.spec as { targetRef?: { apiVersion?: string; kind?: string; name?: string } } | undefined)?.targetRef;
      const target = ref?.name;
      const isWorkload = kind.kind === 'Deployment' || kind.kind === 'DaemonSet';
      if (isWorkload && target !== obj.metadata.name && `${target}-primary` !== obj.metadata.name) continue;
      // A Knative Service (its status names each new revision) concerns only the canary targeting it.
      if (knative && (target !== obj.metadata.name || !isKnativeTarget({ apiVersion: ref?.apiVersion ?? '', kind: ref?.kind ?? '' }))) continue;
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
      webhooks: this.webhooks,
      events: this.events,
      runChecks: async (c) => {
        const verdicts = await runChecks(c, this.checks);
        for (const verdict of verdicts) for (const listener of this.verdictListeners) listener(c, verdict);
        return verdicts;
      },
      alert: (a) => {
        this.alerts.push(a);
        this.opts.log.info({ alert: a }, 'alert');
        for (const l of this.alertListeners) l(a);
        // In the background: a slow channel never holds the tick (see alerts.ts).
        this.alertDispatcher.dispatch(canary, a);
      },
      statusWritten: (o) => this.written.set(key, o),
      pending,
      ...(this.opts.eventWebhook ? { eventWebhook: this.opts.eventWebhook } : {}),
      rollbackRequests: this.rollbackRequests,
    });
    const started = performance.now();
    const tickStart = this.opts.clock.now();
    const outcome = await advance(canary, ports, { clock: this.opts.clock });
    await Promise.allSettled(pending);
    this.record(canary, outcome, (performance.now() - started) / 1000);
    const interval = Math.max(canary.spec.analysis.intervalMs, this.opts.minAnalysisIntervalMs);
    // Steps keep their period: the next one is due an interval after this one started, not after it ended.
    if (outcome.requeue === 'interval') this.queue.addAfter(key, Math.max(0, interval - (this.opts.clock.now() - tickStart)));
    else if (outcome.requeue === 'soon') this.queue.addAfter(key, Math.min(interval, RETRY_SOON_MS));
    else this.queue.forget(key);
  }

  private record(canary: Canary, outcome: Awaited<ReturnType<typeof advance>>, elapsedSeconds: number): void {
    const { namespace, name } = canary.metadata;
    this.metrics.recordTick(canary, outcome, elapsedSeconds);
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

  /** flagger_canary_total, from the watch cache at scrape time. */
  private canariesPerNamespace(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.cache.list(CANARY.apiVersion, CANARY.kind)) {
      const ns = c.metadata.namespace ?? 'default';
      counts.set(ns, (counts.get(ns) ?? 0) + 1);
    }
    return counts;
  }

  private routerFor(name: string): Router {
    let router = this.routers.get(name);
    if (!router) this.routers.set(name, (router = createRouter(name, { kube: this.kube })));
    return router;
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
      if (path === '/metrics') {
        return void this.metrics.render().then(
          (text) => res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
        );
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
  }
}
