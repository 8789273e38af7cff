/**
 * The controller's Prometheus metrics on a prom-client Registry of its own: never the global default
 * one, so two controllers in one process (tests, benchmarks) keep separate counts.
 *
 * Flagger's series keep Flagger's names, types, help texts and labels (pkg/metrics/recorder.go), so
 * its dashboards and alert rules work unchanged. As in Flagger, the per-canary series are labelled
 * with the target's name (`spec.targetRef.name`), not the Canary's, and flagger_canary_weight has a
 * `<target>-primary` series beside the `<target>` one. Ours are prefixed `fledge_`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Canary, CanaryPhase, Strategy } from '../api/index.js';
import type { TickAction, TickOutcome } from '../engine/index.js';

/** prometheus.DefBuckets, which Flagger's duration histogram uses. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Phases in which a rollout is under way: flagger_canary_status reads 0 ("running") in them. */
const RUNNING_PHASES: ReadonlySet<CanaryPhase> = new Set<CanaryPhase>(['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting', 'Finalising']);

/**
 * Ticks that took an analysis step (checks, hooks, a weight or iteration step, the promotion gate):
 * the part of Flagger's advanceCanary its duration histogram times. Idle and waiting ticks are not
 * observed, so the histogram is not flooded with no-op ticks.
 */
const ANALYSIS_STEPS: ReadonlySet<TickAction> = new Set<TickAction>([
  'CheckFailed',
  'WaitingForData',
  'WeightIncreased',
  'MirrorStarted',
  'TrafficIncreaseHalted',
  'IterationAdvanced',
  'TrafficSwitched',
  'WaitingForPromotion',
  'PromotionStarted',
]);

/** Flagger's deployment_strategy label values. */
const STRATEGY_LABEL: Record<Strategy, string> = { canary: 'canary', bluegreen: 'blue-green', ab: 'ab-testing' };

/** flagger_canary_status: 0 while a rollout is under way, 2 after a failure, 1 otherwise (as Flagger). */
export const statusValue = (phase: CanaryPhase | undefined): 0 | 1 | 2 => {
  if (phase === 'Failed') return 2;
  return phase !== undefined && RUNNING_PHASES.has(phase) ? 0 : 1;
};

export type Result = 'success' | 'failure';

export interface ControllerMetricsOptions {
  version: string;
  meshProvider: string;
  /**
   * Canaries per namespace, read at each scrape (flagger_canary_total); the controller counts its
   * watch cache. Without it, the canaries that ran a tick are counted.
   */
  canariesPerNamespace?: () => ReadonlyMap<string, number>;
  /** Seconds since some origin, for timing provider queries; defaults to performance.now. */
  seconds?: () => number;
}

/** The label values one canary's gauges were set with, so a deleted Canary's series can be dropped. */
interface CanarySeries {
  namespace: string;
  target: string;
  metrics: Set<string>;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly status: Gauge<'name' | 'namespace'>;
  private readonly weight: Gauge<'workload' | 'namespace'>;
  private readonly duration: Histogram<'name' | 'namespace'>;
  private readonly analysis: Gauge<'name' | 'namespace' | 'metric'>;
  private readonly successes: Counter<'name' | 'namespace' | 'deployment_strategy' | 'analysis_status'>;
  private readonly failures: Counter<'name' | 'namespace' | 'deployment_strategy' | 'analysis_status'>;
  private readonly notifications: Counter<'type' | 'result'>;
  private readonly webhooks: Counter<'type' | 'result'>;
  private readonly providerQueries: Histogram<'provider'>;
  private readonly apiRequests: Counter<'verb'>;
  private readonly series = new Map<string, CanarySeries>();
  private readonly seconds: () => number;

  constructor(opts: ControllerMetricsOptions) {
    const registers = [this.registry];
    this.seconds = opts.seconds ?? (() => performance.now() / 1000);
    new Gauge({ name: 'flagger_info', help: 'Flagger version and mesh provider information', labelNames: ['version', 'mesh_provider'], registers }).set(
      { version: opts.version, mesh_provider: opts.meshProvider },
      1,
    );
    const counted = opts.canariesPerNamespace ?? (() => this.trackedPerNamespace());
    const total: Gauge<'namespace'> = new Gauge({
      name: 'flagger_canary_total',
      help: 'Total number of canary object',
      labelNames: ['namespace'],
      registers,
      // Counted at scrape time, so a namespace whose last Canary went away drops out.
      collect: () => {
        total.reset();
        for (const [namespace, n] of counted()) total.set({ namespace }, n);
      },
    });
    this.status = new Gauge({ name: 'flagger_canary_status', help: 'Last canary analysis result', labelNames: ['name', 'namespace'], registers });
    this.weight = new Gauge({
      name: 'flagger_canary_weight',
      help: 'The virtual service destination weight current value',
      labelNames: ['workload', 'namespace'],
      registers,
    });
    this.duration = new Histogram({
      name: 'flagger_canary_duration_seconds',
      help: 'Seconds spent performing canary analysis.',
      labelNames: ['name', 'namespace'],
      buckets: DEFAULT_BUCKETS,
      registers,
    });
    this.analysis = new Gauge({
      name: 'flagger_canary_metric_analysis',
      help: 'Last canary analysis result per metric',
      labelNames: ['name', 'namespace', 'metric'],
      registers,
    });
    const resultLabels = ['name', 'namespace', 'deployment_strategy', 'analysis_status'] as const;
    this.successes = new Counter({ name: 'flagger_canary_successes_total', help: 'Total number of canary successes', labelNames: resultLabels, registers });
    this.failures = new Counter({ name: 'flagger_canary_failures_total', help: 'Total number of canary failures', labelNames: resultLabels, registers });
    this.notifications = new Counter({
      name: 'fledge_notifications_total',
      help: 'Alerts sent to notification channels, by channel type and result',
      labelNames: ['type', 'result'],
      registers,
    });
    this.webhooks = new Counter({
      name: 'fledge_webhook_requests_total',
      help: 'Webhook calls made by the analysis, by webhook type and result',
      labelNames: ['type', 'result'],
      registers,
    });
    this.providerQueries = new Histogram({
      name: 'fledge_provider_query_duration_seconds',
      help: 'Seconds spent querying a metric provider',
      labelNames: ['provider'],
      buckets: DEFAULT_BUCKETS,
      registers,
    });
    this.apiRequests = new Counter({
      name: 'fledge_api_requests_total',
      help: 'Requests the controller made to the Kubernetes API server, by verb (watch-fed cache reads excluded)',
      labelNames: ['verb'],
      registers,
    });
  }

  /** The exposition format's Content-Type for /metrics. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The sum of the samples of `name` whose labels include `labels`; undefined when there is none.
   * Histogram parts are read by their suffixed names (`..._count`, `..._sum`, `..._bucket`).
   */
  async read(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const family = this.registry.getSingleMetric(name) ?? this.registry.getSingleMetric(name.replace(/_(count|sum|bucket)$/, ''));
    if (!family) return undefined;
    const { name: familyName, values } = await family.get();
    const matching = values.filter(
      (v) =>
        ((v as { metricName?: string }).metricName ?? familyName) === name &&
        Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
    );
    return matching.length === 0 ? undefined : matching.reduce((sum, v) => sum + v.value, 0);
  }

  /** Everything one engine tick tells: status, weights, check values, step duration, final results. */
  recordTick(canary: Canary, outcome: TickOutcome, elapsedSeconds: number): void {
    const { namespace } = canary.metadata;
    const target = canary.spec.targetRef.name;
    const series = this.track(namespace, canary.metadata.name, target);
    this.setStatus(namespace, target, outcome.phase);
    if (outcome.routes) this.setWeight(namespace, target, outcome.routes.primary, outcome.routes.canary);
    for (const v of outcome.verdicts) {
      if (v.value === undefined || !Number.isFinite(v.value)) continue;
      this.analysis.set({ name: target, namespace, metric: v.metric }, v.value);
      series.metrics.add(v.metric);
    }
    if (ANALYSIS_STEPS.has(outcome.action)) this.duration.observe({ name: target, namespace }, elapsedSeconds);
    if (outcome.phase !== outcome.previousPhase && (outcome.phase === 'Succeeded' || outcome.phase === 'Failed')) {
      const labels = {
        name: target,
        namespace,
        deployment_strategy: STRATEGY_LABEL[canary.spec.analysis.strategy],
        analysis_status: canary.spec.skipAnalysis ? 'skipped' : 'completed',
      };
      (outcome.phase === 'Succeeded' ? this.successes : this.failures).inc(labels);
    }
  }

  setStatus(namespace: string, target: string, phase: CanaryPhase | undefined): void {
    this.status.set({ name: target, namespace }, statusValue(phase));
  }

  /** Both series, as Flagger: `<target>-primary` with the primary's weight, `<target>` with the canary's. */
  setWeight(namespace: string, target: string, primary: number, canary: number): void {
    this.weight.set({ workload: `${target}-primary`, namespace }, primary);
    this.weight.set({ workload: target, namespace }, canary);
  }

  /** An alert delivered (or not) through a notifier of `type` (slack, msteams, discord, ...). */
  countNotification(type: string, result: Result): void {
    this.notifications.inc({ type, result });
  }

  /** A webhook of `type` (pre-rollout, rollout, confirm-promotion, event, ...) called; `failure` covers refusals and errors. */
  countWebhook(type: string, result: Result): void {
    this.webhooks.inc({ type, result });
  }

  observeProviderQuery(provider: string, seconds: number): void {
    this.providerQueries.observe({ provider }, seconds);
  }

  /** Runs `query`, observing its duration under `provider` whether it resolves or rejects. */
  async timeProviderQuery<T>(provider: string, query: () => Promise<T>): Promise<T> {
    const start = this.seconds();
    try {
      return await query();
    } finally {
      this.observeProviderQuery(provider, Math.max(0, this.seconds() - start));
    }
  }

  countApiRequest(verb: string): void {
    this.apiRequests.inc({ verb });
  }

  /** A Canary is gone: its gauges go too (counters and histograms stay, as counters must). */
  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const series = this.series.get(key);
    if (!series) return;
    this.dropGauges(series);
    this.series.delete(key);
  }

  private track(namespace: string, name: string, target: string): CanarySeries {
    const key = `${namespace}/${name}`;
    const known = this.series.get(key);
    if (known && known.target === target) return known;
    // A new targetRef: the old target's series would otherwise stay frozen forever.
    if (known) this.dropGauges(known);
    const fresh: CanarySeries = { namespace, target, metrics: new Set() };
    this.series.set(key, fresh);
    return fresh;
  }

  private dropGauges({ namespace, target, metrics }: CanarySeries): void {
    this.status.remove({ name: target, namespace });
    this.weight.remove({ workload: `${target}-primary`, namespace });
    this.weight.remove({ workload: target, namespace });
    for (const metric of metrics) this.analysis.remove({ name: target, namespace, metric });
  }

  private trackedPerNamespace(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { namespace } of this.series.values()) counts.set(namespace, (counts.get(namespace) ?? 0) + 1);
    return counts;
  }
}
