/**
 * What every phase of the fleet benchmark shares: the API endpoint and agent, the Canary watch, the
 * cluster and controller processes, and a measurement window that charges each phase the requests the
 * cluster served, the CPU both processes spent and the metric queries the controller made meanwhile.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { ControllerProcess } from './fleet-controller.js';
import type { PrometheusFake } from './fleet-prometheus.js';
import type { CanaryWatch } from './fleet-watch.js';
import type { ServerProcess } from './server-process.js';
import type { Endpoint, Reply } from './support.js';
import { expectStatus, now, send } from './support.js';

/** The sizes of one run (the full run, or --quick). */
export interface FleetPlan {
  quick: boolean;
  canaries: number;
  namespaces: number;
  idleSeconds: number;
  detectionSample: number;
  detectionGapMs: number;
  steppers: number;
  stepWeight: number;
  maxWeight: number;
  initTimeoutMs: number;
}

export interface FleetContext {
  agent: http.Agent;
  at: Endpoint;
  watch: CanaryWatch;
  server: ServerProcess;
  controller: ControllerProcess;
  prometheus: PrometheusFake;
  /** Requests this benchmark made itself by verb (its watch opens are in ctx.watch.opens), to tell them from the controller's. */
  own: Record<string, number>;
}

export interface Window {
  seconds: number;
  /** Requests the controller made (served by the cluster minus the benchmark's own), by verb. */
  requests: Record<string, number>;
  controllerRequests: number;
  ownRequests: number;
  clusterCpuMs: number;
  controllerCpuMs: number;
  benchCpuMs: number;
  /** CPU time the whole machine spent busy (all CPUs, from /proc/stat), to tell other load from ours. */
  machineBusyMs: number;
  metricQueries: number;
  canaryEvents: number;
}

/** One API request on the shared agent, counted as the benchmark's own; throws unless a status in `expected`. */
export const call = async (ctx: FleetContext, method: string, path: string, body: unknown, expected: number[], contentType?: string): Promise<Reply> => {
  ctx.own[method] = (ctx.own[method] ?? 0) + 1;
  const reply = await send(ctx.agent, ctx.at, method, path, body, contentType ? { 'Content-Type': contentType } : {});
  return expectStatus(reply, expected, `${method} ${path}`);
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a measurement window; the returned function closes it. */
/** Busy CPU time of the whole machine so far (user, nice, system, irq, softirq, steal), in milliseconds. */
const machineBusyMs = (ticksPerSecond: number): number => {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return ((user + nice + system + irq + softirq + steal) / ticksPerSecond) * 1000;
};

const cpuMsOf = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

const ownByVerb = (ctx: FleetContext): Record<string, number> => ({ ...ctx.own, WATCH: (ctx.own.WATCH ?? 0) + ctx.watch.opens });

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

export const openWindow = async (ctx: FleetContext): Promise<() => Promise<Window>> => {
  const stats = await ctx.server.stats();
  const ticks = ctx.controller.clockTicksPerSecond;
  const start = {
    at: now(),
    own: ownByVerb(ctx),
    controllerCpu: ctx.controller.cpuMs(),
    bench: process.cpuUsage(),
    machine: machineBusyMs(ticks),
    queries: ctx.prometheus.queries,
    events: ctx.watch.events,
  };
  return async () => {
    const after = await ctx.server.stats();
    const own = ownByVerb(ctx);
    const requests: Record<string, number> = {};
    let ownRequests = 0;
    for (const verb of new Set([...Object.keys(after.requests), ...Object.keys(own)])) {
      const ownDelta = (own[verb] ?? 0) - (start.own[verb] ?? 0);
      ownRequests += ownDelta;
      const d = (after.requests[verb] ?? 0) - (stats.requests[verb] ?? 0) - ownDelta;
      if (d) requests[verb] = d;
    }
    return {
      seconds: (now() - start.at) / 1000,
      requests,
      controllerRequests: sum(requests),
      ownRequests,
      clusterCpuMs: after.cpuMs - stats.cpuMs,
      controllerCpuMs: ctx.controller.cpuMs() - start.controllerCpu,
      benchCpuMs: cpuMsOf(process.cpuUsage(start.bench)),
      machineBusyMs: machineBusyMs(ticks) - start.machine,
      metricQueries: ctx.prometheus.queries - start.queries,
      canaryEvents: ctx.watch.events - start.events,
    };
  };
};

/** Polls `done` every 100 ms until it holds; fails after `timeoutMs`, or at once if `failed` says why. */
export const waitFor = async (what: string, timeoutMs: number, done: () => boolean, failed: () => string | undefined = () => undefined, progress?: () => string): Promise<number> => {
  const started = now();
  let lastReport = started;
  for (;;) {
    const problem = failed();
    if (problem) throw new Error(`${what}: ${problem}`);
    if (done()) return now() - started;
    if (now() - started > timeoutMs) throw new Error(`${what}: not done within ${timeoutMs / 1000} s${progress ? ` (${progress()})` : ''}`);
    if (progress && now() - lastReport > 5000) {
      lastReport = now();
      console.error(`  ${what}: ${progress()} after ${Math.round((lastReport - started) / 1000)} s`);
    }
    await sleep(100);
  }
};
