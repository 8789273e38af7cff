/**
 * What `fledge report` knows about a canary's last rollout, pure: its Events (the messages
 * src/engine/messages.ts writes, with the times and counts src/controller/events.ts keeps) and its
 * status. Weights come from the "Advance ... weight" events; metric values only from failed checks
 * (Warning events) and the last step's verdicts (status.lastChecks): passing values are not
 * recorded anywhere in the cluster, and the report says so instead of inventing them.
 */
import type { ThresholdRange } from '../api/index.js';
import { parseCanary } from '../api/index.js';
import type { KubeObject } from '../kube/api.js';
import type { CanaryView } from './render-status.js';
import { canaryView } from './render-status.js';

export interface ReportEvent {
  /** The last occurrence (lastTimestamp). */
  timeMs: number;
  /** The first occurrence; the recorder folds repeats of one message into a count. */
  firstMs: number;
  count: number;
  type: string;
  reason: string;
  message: string;
  /**
   * Order of the last write among events of the same second: the resourceVersion, when it is a
   * number (etcd's revision on real clusters; opaque by contract, so 0 otherwise).
   */
  seq: number;
}

export interface SeriesPoint {
  timeMs: number;
  value: number;
  label: string;
}

export interface MetricPoint {
  /** undefined: when the value was measured is not recorded (status.lastChecks). */
  timeMs?: number;
  /** undefined: the check produced no value (no data, query error). */
  value?: number;
  ok: boolean;
  note: string;
}

export interface MetricSeries {
  metric: string;
  range: ThresholdRange;
  points: MetricPoint[];
}

export interface RolloutReport {
  canary: CanaryView;
  generatedMs: number;
  /** undefined when no "New revision detected" event is left. */
  startMs?: number;
  endMs: number;
  outcome: 'promoted' | 'rolled back' | 'in progress' | 'unknown';
  /** 'weight': canary traffic in % (canary strategy); 'iterations': A/B and blue/green steps. */
  progress: { kind: 'weight' | 'iterations'; max: number; points: SeriesPoint[] };
  metrics: MetricSeries[];
  /** The rollout's events, oldest first (all events when its start is unknown). */
  timeline: ReportEvent[];
  /** What the page cannot show, and why. */
  missing: string[];
}

const timeOf = (e: KubeObject, ...keys: string[]): number | undefined => {
  for (const key of keys) {
    const value = key === 'creationTimestamp' ? e.metadata.creationTimestamp : e[key];
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
};

/** Oldest first; within a second (timestamps have no finer grain) in the order they were written. */
export const byTime = (a: ReportEvent, b: ReportEvent): number => a.timeMs - b.timeMs || a.seq - b.seq;

/** The canary's Events (by name and kind, and uid when both have one), oldest first. */
export const canaryEvents = (events: KubeObject[], canary: KubeObject): ReportEvent[] =>
  events
    .filter((e) => {
      const about = (e.involvedObject ?? {}) as { kind?: string; name?: string; uid?: string };
      if (about.kind !== 'Canary' || about.name !== canary.metadata.name) return false;
      return !about.uid || !canary.metadata.uid || about.uid === canary.metadata.uid;
    })
    .flatMap((e): ReportEvent[] => {
      const timeMs = timeOf(e, 'lastTimestamp', 'eventTime', 'firstTimestamp', 'creationTimestamp');
      if (timeMs === undefined) return [];
      const firstMs = timeOf(e, 'firstTimestamp', 'eventTime', 'creationTimestamp') ?? timeMs;
      const count = typeof e.count === 'number' && e.count > 0 ? e.count : 1;
      const seq = Number(e.metadata.resourceVersion ?? 0) || 0;
      return [{ timeMs, firstMs, count, type: String(e.type ?? ''), reason: String(e.reason ?? ''), message: String(e.message ?? ''), seq }];
    })
    .sort(byTime);


const START = /^New revision detected! Scaling up /;
const RETRY = /^Analysis retry requested with fledge retry/;

/**
 * The events of the last rollout: from its "New revision detected" on, with the `fledge retry`
 * request that caused it, if one did. Events of the same second before it (the rollback a retry
 * follows) belong to the previous rollout: the order of writes tells them apart.
 */
const lastRollout = (events: ReportEvent[]): { start?: ReportEvent; timeline: ReportEvent[] } => {
  const sorted = [...events].sort(byTime);
  let from = sorted.findLastIndex((e) => START.test(e.message));
  if (from < 0) return { timeline: sorted };
  const start = sorted[from];
  while (from > 0 && RETRY.test(sorted[from - 1]?.message ?? '')) from -= 1;
  return { ...(start ? { start } : {}), timeline: sorted.slice(from) };
};

/** The traffic weight an event's message sets, if it sets one. */
export const weightOf = (message: string): number | undefined => {
  if (START.test(message) || /^New revision detected! Restarting analysis/.test(message)) return 0;
  const canary = /^Advance \S+ canary weight (\d+)$/.exec(message);
  if (canary) return Number(canary[1]);
  const primary = /^Advance \S+ primary weight (\d+)$/.exec(message);
  if (primary) return 100 - Number(primary[1]);
  if (/^Routing all traffic to primary$/.test(message) || /^Canary failed! /.test(message) || /^Promotion completed! /.test(message)) return 0;
  if (/^(Routing all traffic to canary|Stop traffic mirroring and route all traffic to canary)$/.test(message)) return 100;
  return undefined;
};

/** The iterations done that an event's message reports (A/B, blue/green). */
export const iterationOf = (message: string): number | undefined => {
  if (START.test(message) || /^New revision detected! Restarting analysis/.test(message)) return 0;
  const m = /^Advance \S+ canary iteration (\d+)\/\d+$/.exec(message);
  return m ? Number(m[1]) : undefined;
};

/** A failed check's value from its Warning (failedCheckMessage in src/engine/messages.ts). */
export const failedCheckOf = (message: string): { metric: string; value?: number; note: string } | undefined => {
  const measured = /^Halt \S+ advancement (\S+) (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?) ([<>] \S+|: .*)$/i.exec(message);
  if (measured) return { metric: measured[1] as string, value: Number(measured[2]), note: message };
  const noValues = /^Halt advancement no values found for custom metric: ([^:]+): /.exec(message);
  if (noValues) return { metric: noValues[1] as string, note: message };
  const failed = /^Metric query failed for ([^:]+): /.exec(message);
  if (failed) return { metric: failed[1] as string, note: message };
  return undefined;
};

/** Each time an event is known to have happened in the window: its first and last occurrences. */
const occurrences = (e: ReportEvent, startMs: number | undefined): number[] =>
  e.count > 1 && (startMs === undefined || e.firstMs >= startMs) && e.firstMs !== e.timeMs ? [e.firstMs, e.timeMs] : [e.timeMs];

const ACTIVE = new Set(['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting', 'Finalising']);

const outcomeOf = (timeline: ReportEvent[], phase: string): RolloutReport['outcome'] => {
  const last = [...timeline].reverse().find((e) => /^(Promotion completed!|Canary failed!)/.test(e.message));
  if (ACTIVE.has(phase)) return 'in progress';
  if (last) return last.message.startsWith('Promotion') ? 'promoted' : 'rolled back';
  if (phase === 'Succeeded') return 'promoted';
  if (phase === 'Failed') return 'rolled back';
  return 'unknown';
};

const metricRanges = (canary: KubeObject): Map<string, ThresholdRange> => {
  try {
    return new Map(parseCanary(canary).spec.analysis.metrics.map((m) => [m.name, m.thresholdRange]));
  } catch {
    return new Map();
  }
};

export const buildReport = (canary: KubeObject, events: ReportEvent[], generatedMs: number): RolloutReport => {
  const view = canaryView(canary);
  const missing: string[] = [];
  const { start, timeline } = lastRollout(events);
  const startMs = start?.timeMs;
  if (events.length === 0) missing.push('The canary has no Events left: Kubernetes deletes Events after an hour by default (kube-apiserver --event-ttl), so no time series can be drawn.');
  else if (startMs === undefined) missing.push('No "New revision detected" event is left (Events expire after an hour by default), so the start of the rollout is unknown: the charts begin at the oldest event.');
  const outcome = outcomeOf(timeline, view.phase);
  const endMs = outcome === 'in progress' || timeline.length === 0 ? generatedMs : Math.max(...timeline.map((e) => e.timeMs));

  const iterations = view.strategy === 'ab' || view.strategy === 'bluegreen';
  const read = iterations ? iterationOf : weightOf;
  const points: SeriesPoint[] = [];
  for (const e of timeline) {
    const value = read(e.message);
    if (value !== undefined) for (const timeMs of occurrences(e, startMs)) points.push({ timeMs, value, label: e.message });
  }
  points.sort((a, b) => a.timeMs - b.timeMs);
  const current = iterations ? view.iterations : view.canaryWeight;
  if (outcome === 'in progress') points.push({ timeMs: generatedMs, value: current, label: `status now: ${view.phase}` });

  const ranges = metricRanges(canary);
  const series = new Map<string, MetricSeries>();
  const seriesOf = (metric: string, range?: ThresholdRange): MetricSeries => {
    let s = series.get(metric);
    if (!s) series.set(metric, (s = { metric, range: range ?? ranges.get(metric) ?? {}, points: [] }));
    return s;
  };
  for (const name of ranges.keys()) seriesOf(name);
  for (const e of timeline) {
    const failed = failedCheckOf(e.message);
    if (!failed) continue;
    for (const timeMs of occurrences(e, startMs)) {
      seriesOf(failed.metric).points.push({ timeMs, ok: false, note: failed.note, ...(failed.value !== undefined ? { value: failed.value } : {}) });
    }
  }
  for (const v of view.checks) {
    seriesOf(v.metric, v.thresholdRange).points.push({ ok: v.ok, note: `last analysis step: ${v.message}`, ...(v.value !== undefined ? { value: v.value } : {}) });
  }

  missing.push(
    'Values of passing checks are not recorded in the cluster: the metric charts show failed checks (from Warning events) and the last analysis step (status.lastChecks, whose time is not recorded: drawn at the right edge). ' +
      `For every value over the window, replay the checks: fledge analyze --canary ${view.name} -n ${view.namespace} --from <start> --to <end>.`,
  );
  const repeated = timeline.filter((e) => e.count > 2).length;
  if (repeated > 0) missing.push(`${repeated} event(s) happened more than twice; Kubernetes keeps only their first and last times (and a count), so the occurrences in between are not drawn.`);
  if (iterations) missing.push(`This is a${view.strategy === 'ab' ? 'n A/B' : ' blue/green'} canary: the progress chart shows iterations done, not a traffic weight.`);

  return {
    canary: view,
    generatedMs,
    ...(startMs !== undefined ? { startMs } : {}),
    endMs,
    outcome,
    progress: { kind: iterations ? 'iterations' : 'weight', max: iterations ? Math.max(1, view.iterationsTotal ?? 1) : 100, points },
    metrics: [...series.values()],
    timeline,
    missing,
  };
};
