/** The analysis benchmark's results: a table for people and one JSON line for scripts. */
import type { RoundFigures } from './analysis-measure.js';
import type { Row } from './support.js';
import { formatTable, median, percentile, round } from './support.js';

export interface PhaseResult {
  /** e.g. `burst`, `burst, 50 in flight`, `spread over 1 s`. */
  name: string;
  key: string;
  rounds: RoundFigures[];
}

export interface PhaseFigures {
  wallMs: { median: number; min: number; max: number };
  queriesPerSec: number;
  step: { p50: number; p99: number; max: number; p99Min: number; p99Max: number };
  startLateP99Ms: number;
  query: { meanMs: number; p50: number; p99: number };
  /** Prometheus' side per query (ms): HTTP handler time and its engine's slices. */
  server: { handlerMs: number; queueMs: number; prepareMs: number; evalMs: number };
  connectionsPerRound: number;
  cpuPerRound: { benchMs: number; prometheusMs: number; otherMs: number };
  cpuPerQueryUs: { bench: number; prometheus: number };
  errors: number;
  firstError?: string;
}

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const mean = (values: number[]): number => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : NaN);
const perQueryMs = (seconds: number, queries: number): number => (queries > 0 ? (seconds * 1000) / queries : NaN);

export const phaseFigures = (phase: PhaseResult): PhaseFigures => {
  const { rounds } = phase;
  const walls = rounds.map((r) => r.wallMs);
  const steps = sorted(rounds.flatMap((r) => r.stepMs));
  const queries = sorted(rounds.flatMap((r) => r.queryMs));
  const p99s = rounds.map((r) => percentile(sorted(r.stepMs), 0.99));
  const served = rounds.reduce((s, r) => s + r.engine.httpQueries, 0);
  const slice = (name: string): number => perQueryMs(rounds.reduce((s, r) => s + (r.engine.slices[name] ?? 0), 0), served);
  const cpu = rounds.map((r) => ({ bench: r.benchCpuMs, prometheus: r.prometheusCpuMs, other: r.machineBusyMs - r.benchCpuMs - r.renderMs - r.prometheusCpuMs }));
  const queriesPerRound = median(rounds.map((r) => r.queryMs.length));
  const errors = rounds.flatMap((r) => r.errors);
  return {
    wallMs: { median: median(walls), min: Math.min(...walls), max: Math.max(...walls) },
    queriesPerSec: queriesPerRound / (median(walls) / 1000),
    step: { p50: percentile(steps, 0.5), p99: percentile(steps, 0.99), max: steps[steps.length - 1] ?? NaN, p99Min: Math.min(...p99s), p99Max: Math.max(...p99s) },
    startLateP99Ms: percentile(sorted(rounds.flatMap((r) => r.startLateMs)), 0.99),
    query: { meanMs: mean(queries), p50: percentile(queries, 0.5), p99: percentile(queries, 0.99) },
    server: {
      handlerMs: perQueryMs(rounds.reduce((s, r) => s + r.engine.httpSeconds, 0), served),
      queueMs: slice('queue_time'),
      prepareMs: slice('prepare_time'),
      evalMs: slice('inner_eval'),
    },
    connectionsPerRound: median(rounds.map((r) => r.engine.connections)),
    cpuPerRound: { benchMs: median(cpu.map((c) => c.bench)), prometheusMs: median(cpu.map((c) => c.prometheus)), otherMs: median(cpu.map((c) => Math.max(0, c.other))) },
    cpuPerQueryUs: {
      bench: (median(cpu.map((c) => c.bench)) * 1000) / queriesPerRound,
      prometheus: (median(cpu.map((c) => c.prometheus)) * 1000) / queriesPerRound,
    },
    errors: errors.length,
    ...(errors[0] !== undefined ? { firstError: errors[0] } : {}),
  };
};

export interface RunInfo {
  canaries: number;
  rounds: number;
  /** The --identity experiment: answers asked for uncompressed. */
  identity: boolean;
  machine: string;
  prometheusVersion: string;
  setupSeconds: number;
  scrapesBeforeStart: number;
  /** Prometheus' CPU while idle but scraping (ms per s), the floor under every phase's figure. */
  prometheusIdleCpuMsPerSec: number;
  /** This process's CPU while idle, less rendering (ms per s): serving the scrapes, timers, GC. */
  benchIdleCpuMsPerSec: number;
  renderMsPerScrape: number;
  warnings: string[];
}

const ms = (v: number): string => `${round(v, v < 10 ? 2 : 1)} ms`;

const rowsOf = (phase: PhaseResult, f: PhaseFigures, info: RunInfo): Row[] => [
  {
    measure: `${phase.name}: wall`,
    value: ms(f.wallMs.median),
    detail: `${info.canaries} steps, ${round(f.queriesPerSec, 0)} queries/s; rounds ${ms(f.wallMs.min)} – ${ms(f.wallMs.max)}; errors ${f.errors}${f.firstError ? ` (first: ${f.firstError})` : ''}`,
  },
  {
    measure: '  step latency p50 / p99 / max',
    value: `${round(f.step.p50)} / ${round(f.step.p99)} / ${round(f.step.max)} ms`,
    detail: `p99 per round ${round(f.step.p99Min)} – ${round(f.step.p99Max)} ms; start delay p99 ${ms(f.startLateP99Ms)}`,
  },
  {
    measure: '  query as the client saw it',
    value: `mean ${ms(f.query.meanMs)}`,
    detail: `p50 ${ms(f.query.p50)}, p99 ${ms(f.query.p99)}`,
  },
  {
    measure: '  query inside Prometheus (mean)',
    value: ms(f.server.handlerMs),
    detail: `HTTP handler; engine: queue ${ms(f.server.queueMs)}, prepare ${ms(f.server.prepareMs)}, eval ${ms(f.server.evalMs)}; ${f.connectionsPerRound} new connections per round`,
  },
  {
    measure: '  CPU per round',
    value: `${round(f.cpuPerRound.benchMs, 0)} / ${round(f.cpuPerRound.prometheusMs, 0)} ms`,
    detail: `bench / Prometheus (idle floors ${round(info.benchIdleCpuMsPerSec, 0)} / ${round(info.prometheusIdleCpuMsPerSec, 0)} ms/s); per query ${round(f.cpuPerQueryUs.bench, 0)} / ${round(f.cpuPerQueryUs.prometheus, 0)} µs; other processes ${round(f.cpuPerRound.otherMs, 0)} ms`,
  },
];

export const analysisReport = (phases: PhaseResult[], info: RunInfo): { table: string; summary: Record<string, unknown>; errors: number } => {
  const figures = phases.map((p) => ({ phase: p, f: phaseFigures(p) }));
  const rows: Row[] = [
    {
      measure: 'setup',
      value: `${round(info.setupSeconds)} s`,
      detail: `Prometheus up, ${info.scrapesBeforeStart} scrapes of ${info.canaries} workloads; exposition render ${ms(info.renderMsPerScrape)} per scrape`,
    },
    ...figures.flatMap(({ phase, f }) => rowsOf(phase, f, info)),
  ];
  const summary: Record<string, unknown> = { canaries: info.canaries, rounds: info.rounds, identity: info.identity, prometheusIdleCpuMsPerSec: round(info.prometheusIdleCpuMsPerSec), benchIdleCpuMsPerSec: round(info.benchIdleCpuMsPerSec) };
  for (const { phase, f } of figures) {
    summary[phase.key] = {
      wallMs: round(f.wallMs.median),
      qps: round(f.queriesPerSec, 0),
      stepP50Ms: round(f.step.p50),
      stepP99Ms: round(f.step.p99),
      stepMaxMs: round(f.step.max),
      queryMeanMs: round(f.query.meanMs, 2),
      serverHandlerMs: round(f.server.handlerMs, 2),
      serverQueueMs: round(f.server.queueMs, 2),
      benchCpuUsPerQuery: round(f.cpuPerQueryUs.bench, 0),
      prometheusCpuUsPerQuery: round(f.cpuPerQueryUs.prometheus, 0),
      errors: f.errors,
    };
  }
  const header = [`${info.machine}; ${info.prometheusVersion}; ${info.canaries} canaries × 2 built-in checks, ${info.rounds} rounds per phase${info.identity ? '; --identity: answers asked for uncompressed' : ''}`, ...info.warnings.map((w) => `warning: ${w}`)];
  return { table: [...header, formatTable(rows)].join('\n'), summary, errors: figures.reduce((s, { f }) => s + f.errors, 0) };
};
