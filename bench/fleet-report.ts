/** The fleet benchmark's results as a table for people and one JSON line for scripts, with each goal's verdict. */
import { cpus } from 'node:os';
import type { ServerStats } from './cluster-child.js';
import type { FleetPlan, Window } from './fleet-context.js';
import type { SetupFigures } from './fleet-setup.js';
import type { DetectionFigures, Distribution, StepFigures } from './fleet-timing.js';
import type { Row } from './support.js';
import { formatTable, mb, round } from './support.js';

export interface FleetResults {
  setup: SetupFigures;
  afterInit: { peakRssBytes: number; rssBytes: number };
  idle: Window;
  detection: DetectionFigures;
  steps: StepFigures;
  memory: { peakRssBytes: number; rssBytes: number };
  serverStats: ServerStats;
  logs: { lines: number; errors: number; first: string[] };
  watchOpens: number;
}

const GOALS = { idleRps: 0, peakRssMiB: 256, detectionP99Ms: 1000, latenessP99Ms: 250 };

const verdict = (ok: boolean): string => (ok ? 'goal met' : 'GOAL MISSED');
const verbs = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${v} ${n}`)
    .join(', ') || 'none';
const dist = (d: Distribution): string => `p50 ${round(d.p50)} ms, p99 ${round(d.p99)} ms, max ${round(d.max)} ms (n=${d.count})`;
/** CPU of each process in the window, and what the rest of the machine used (other load skews timings). */
const cpu = (w: Window): string => {
  return `CPU: controller ${Math.round(w.controllerCpuMs)} ms, cluster ${Math.round(w.clusterCpuMs)} ms, benchmark ${Math.round(w.benchCpuMs)} ms, other processes ${othersMs(w)} ms`;
};
const othersMs = (w: Window): number => Math.max(0, Math.round(w.machineBusyMs - w.controllerCpuMs - w.clusterCpuMs - w.benchCpuMs));
const perSecond = (n: number, w: Window): number => round(n / w.seconds, 2);

export const fleetReport = (plan: FleetPlan, r: FleetResults): { table: string; summary: Record<string, unknown> } => {
  const { setup, idle, detection, steps } = r;
  const idleRps = perSecond(idle.controllerRequests, idle);
  const peakMiB = mb(r.memory.peakRssBytes);
  const stepTicks = steps.intervals;
  const rows: Row[] = [
    {
      measure: `create ${setup.canaries} Deployments + Canaries`,
      value: `${round(setup.createSeconds)} s`,
      detail: `${setup.namespaces} namespaces, 16 in flight`,
    },
    {
      measure: '  until all Initialized',
      value: `${round(setup.initializedSeconds)} s`,
      detail: `from the first create; then quiet after ${round(setup.settleSeconds)} s; controller requests ${verbs(setup.window.requests)}; ${cpu(setup.window)}`,
    },
    {
      measure: `1. idle API requests (${round(idle.seconds)} s)`,
      value: `${idleRps} /s`,
      detail: `${idle.controllerRequests} requests (${verbs(idle.requests)}), ${idle.canaryEvents} Canary events, ${idle.metricQueries} metric queries; ${cpu(idle)}; ${verdict(idleRps <= GOALS.idleRps)} (0)`,
    },
    {
      measure: '2. controller peak RSS (VmHWM)',
      value: `${peakMiB} MiB`,
      detail: `after init ${mb(r.afterInit.peakRssBytes)} MiB peak / ${mb(r.afterInit.rssBytes)} MiB now; at the end ${mb(r.memory.rssBytes)} MiB; ${verdict(peakMiB < GOALS.peakRssMiB)} (< ${GOALS.peakRssMiB} MiB)`,
    },
    {
      measure: `3. detection latency (${detection.latencyMs.count} canaries)`,
      value: `${round(detection.latencyMs.p99)} ms`,
      detail: `p99; ${dist(detection.latencyMs)}; PATCH itself p50 ${round(detection.patchMs.p50)} ms; ${verdict(detection.latencyMs.p99 < GOALS.detectionP99Ms)} (p99 < 1 s)`,
    },
    {
      measure: `  requests during detection`,
      value: `${detection.window.controllerRequests}`,
      detail: `${round(detection.window.controllerRequests / Math.max(1, detection.latencyMs.count), 1)} per detection (${verbs(detection.window.requests)}); ${cpu(detection.window)}`,
    },
    {
      measure: `4. step lateness (${steps.canaries} canaries at 1 s)`,
      value: `${round(steps.latenessMs.p99)} ms`,
      detail: `p99; ${dist(steps.latenessMs)}, min ${round(steps.latenessMs.min)} ms; ${verdict(steps.latenessMs.p99 < GOALS.latenessP99Ms)} (p99 < 250 ms)`,
    },
    {
      measure: '  lateness by step, p50/p99 ms',
      value: '',
      detail: steps.latenessByStep.map((d, i) => `${i + 1}: ${Math.round(d.p50)}/${Math.round(d.p99)}`).join(', '),
    },
    {
      measure: '  step phase',
      value: `${round(steps.seconds)} s`,
      detail:
        `${steps.promoted}/${steps.canaries} reached Promoting, ${steps.failed} Failed, ${steps.irregularCanaries} with irregular weights; ` +
        `${round(steps.window.controllerRequests / Math.max(1, stepTicks), 1)} requests per step (${verbs(steps.window.requests)}), ` +
        `${perSecond(steps.window.controllerRequests, steps.window)} req/s, ${steps.window.metricQueries} metric queries; ${cpu(steps.window)}`,
    },
    {
      measure: 'cluster peak RSS',
      value: `${mb(r.serverStats.peakRssBytes)} MiB`,
      detail: `all requests served ${verbs(r.serverStats.requests)}; controller log lines (warn+) ${r.logs.lines}, errors ${r.logs.errors}; benchmark watch opened ${r.watchOpens}x`,
    },
  ];
  const summary = {
    bench: 'fleet',
    quick: plan.quick,
    node: process.version,
    cpus: cpus().length,
    canaries: setup.canaries,
    createSeconds: round(setup.createSeconds, 2),
    initializedSeconds: round(setup.initializedSeconds, 2),
    idleSeconds: round(idle.seconds, 1),
    idleRequests: idle.controllerRequests,
    idleRequestsPerSec: idleRps,
    idleControllerCpuMs: Math.round(idle.controllerCpuMs),
    controllerPeakRssMiB: peakMiB,
    controllerRssAfterInitMiB: mb(r.afterInit.rssBytes),
    detectionP50Ms: round(detection.latencyMs.p50, 1),
    detectionP99Ms: round(detection.latencyMs.p99, 1),
    detectionMaxMs: round(detection.latencyMs.max, 1),
    steppers: steps.canaries,
    stepIntervals: steps.intervals,
    latenessP50Ms: round(steps.latenessMs.p50, 1),
    latenessP99Ms: round(steps.latenessMs.p99, 1),
    latenessMaxMs: round(steps.latenessMs.max, 1),
    stepRequestsPerStep: round(steps.window.controllerRequests / Math.max(1, stepTicks), 2),
    stepControllerCpuMs: Math.round(steps.window.controllerCpuMs),
    stepClusterCpuMs: Math.round(steps.window.clusterCpuMs),
    stepBenchCpuMs: Math.round(steps.window.benchCpuMs),
    stepOtherCpuMs: othersMs(steps.window),
    stepSeconds: round(steps.seconds, 1),
    clusterPeakRssMiB: mb(r.serverStats.peakRssBytes),
    controllerLogLines: r.logs.lines,
    controllerLogErrors: r.logs.errors,
  };
  return { table: formatTable(rows), summary };
};
