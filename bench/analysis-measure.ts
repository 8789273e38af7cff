/**
 * The analysis benchmark's measurements: one analysis step = `runChecks` of one canary (its two
 * built-in checks, run concurrently). A round starts many steps at once (a burst, optionally through
 * a limit of steps in flight) or spreads their arrivals evenly over a window, and records each step's
 * latency, each query's latency as the client saw it, every verdict that is not a healthy value, and
 * the CPU the benchmark and Prometheus used meanwhile.
 */
import http from 'node:http';
import type { Canary } from '../src/api/index.js';
import type { ChecksDeps } from '../src/analysis/checks.js';
import { runChecks } from '../src/analysis/checks.js';
import type { CheckVerdict } from '../src/engine/ports.js';
import type { MetricsTarget } from '../src/devtools/prometheus.js';
import type { EngineCounters } from './analysis-prometheus.js';
import { engineDelta, readEngineCounters } from './analysis-prometheus.js';
import { now, runPool } from './support.js';

/** Everything a round reads besides the steps themselves. */
export interface Probes {
  prometheusUrl: string;
  prometheusCpuMs: () => number;
  machineBusyMs: () => number;
  target: MetricsTarget;
  /** Per-query latencies (ms) as the client saw them; the deps' observeQuery pushes here. */
  queryMs: number[];
}

export interface RoundFigures {
  wallMs: number;
  /** Per step: from its arrival (scheduled start) until both verdicts are in. */
  stepMs: number[];
  /** Per step: how late runChecks was called against its scheduled arrival (event-loop delay). */
  startLateMs: number[];
  queryMs: number[];
  /** Verdicts that are not a healthy value, as `metric: message` (must stay empty). */
  errors: string[];
  verdicts: number;
  /** This process's CPU, less the time spent rendering the scrape target's expositions. */
  benchCpuMs: number;
  renderMs: number;
  prometheusCpuMs: number;
  machineBusyMs: number;
  engine: EngineCounters;
}

/** Healthy data must give a value and ok=true for each check, and the values must be the ones served. */
export const problemsOf = (verdicts: readonly CheckVerdict[]): string[] =>
  verdicts.flatMap((v) => {
    const wrong = `${v.metric}: ${v.errorCode ?? 'not ok'}: ${v.message}`;
    if (!v.ok || typeof v.value !== 'number' || !Number.isFinite(v.value)) return [wrong];
    if (v.metric === 'request-success-rate' && !(v.value >= 99 && v.value <= 100)) return [`${wrong} (expected 99..100)`];
    if (v.metric === 'request-duration' && !(v.value > 0 && v.value <= 500)) return [`${wrong} (expected 0..500 ms)`];
    return [];
  });

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Closes the idle keep-alive sockets of node's global agent (which axios uses), so every round
 * opens its connections as a controller's step does when its canaries' intervals (30 s) are longer
 * than the agent's 5 s idle timeout. Then waits for Prometheus to see them closed.
 */
export const dropConnections = async (): Promise<void> => {
  http.globalAgent.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
};

type Schedule = (steps: readonly Canary[], deps: ChecksDeps, record: (at: number, started: number, verdicts: CheckVerdict[]) => void) => Promise<void>;

const measureRound = async (steps: readonly Canary[], deps: ChecksDeps, probes: Probes, schedule: Schedule): Promise<RoundFigures> => {
  await dropConnections();
  const stepMs: number[] = [];
  const startLateMs: number[] = [];
  const errors: string[] = [];
  let verdicts = 0;
  probes.queryMs.length = 0;
  const engineBefore = await readEngineCounters(probes.prometheusUrl);
  const before = { bench: cpuMs(), render: probes.target.renderMs, prometheus: probes.prometheusCpuMs(), machine: probes.machineBusyMs() };
  const started = now();
  await schedule(steps, deps, (at, began, found) => {
    const done = now();
    stepMs.push(done - at);
    startLateMs.push(began - at);
    verdicts += found.length;
    errors.push(...problemsOf(found));
  });
  const wallMs = now() - started;
  const renderMs = probes.target.renderMs - before.render;
  const figures = {
    wallMs,
    stepMs,
    startLateMs,
    queryMs: [...probes.queryMs],
    errors,
    verdicts,
    benchCpuMs: cpuMs() - before.bench - renderMs,
    renderMs,
    prometheusCpuMs: probes.prometheusCpuMs() - before.prometheus,
    machineBusyMs: probes.machineBusyMs() - before.machine,
  };
  return { ...figures, engine: engineDelta(engineBefore, await readEngineCounters(probes.prometheusUrl)) };
};

/** All steps arrive at once (as due timers firing together); at most `limit` in flight when given. */
export const burstRound = (steps: readonly Canary[], deps: ChecksDeps, probes: Probes, limit?: number): Promise<RoundFigures> =>
  measureRound(steps, deps, probes, async (all, d, record) => {
    const at = now();
    const one = async (canary: Canary): Promise<void> => {
      const began = now();
      record(at, began, await runChecks(canary, d));
    };
    if (limit === undefined) await Promise.all(all.map(one));
    else await runPool(all.length, limit, (i) => one(all[i] as Canary));
  });

/** Step i arrives at `i × windowMs / n` after the start: n steps spread evenly over the window. */
export const spreadRound = (steps: readonly Canary[], deps: ChecksDeps, probes: Probes, windowMs: number): Promise<RoundFigures> =>
  measureRound(steps, deps, probes, (all, d, record) => {
    const origin = now();
    const gap = windowMs / all.length;
    return Promise.all(
      all.map(
        (canary, i) =>
          new Promise<void>((resolve) => {
            const at = origin + i * gap;
            setTimeout(() => {
              const began = now();
              void runChecks(canary, d).then((found) => {
                record(at, began, found);
                resolve();
              });
            }, Math.max(0, at - now()));
          }),
      ),
    ).then(() => undefined);
  });
