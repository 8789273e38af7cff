/**
 * Measuring the analysis benchmark's processes: CPU time of a process from /proc/<pid>/stat, the
 * machine's busy time from /proc/stat, and Prometheus' own query-engine counters. Starting the real
 * Prometheus and serving its scrape target live in src/devtools/prometheus.ts (shared with the tests).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const clockTicks = (): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
  const ticks = Number(out.trim());
  return ticks > 0 ? ticks : 100;
};

/** Reads a process's CPU time (user + system, ms) from /proc/<pid>/stat. */
export const processCpuReader = (pid: number): (() => number) => {
  const msPerTick = 1000 / clockTicks();
  return () => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * msPerTick;
  };
};

/** CPU time the whole machine spent busy (all CPUs), in ms, to tell other load from ours. */
export const machineBusyReader = (): (() => number) => {
  const msPerTick = 1000 / clockTicks();
  return () => {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = cpu.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return busy * msPerTick;
  };
};

/** Prometheus' own counters about the queries it served (from its /metrics). */
export interface EngineCounters {
  /** /api/v1/query requests served, and the seconds spent serving them (handler time). */
  httpQueries: number;
  httpSeconds: number;
  /** Seconds per query-engine slice: queue_time (waiting for --query.max-concurrency), prepare_time, inner_eval, result_sort. */
  slices: Record<string, number>;
  /** TCP connections accepted by the web listener. */
  connections: number;
}

const sampleOf = (text: string, name: string, labels: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
};

export const readEngineCounters = async (url: string): Promise<EngineCounters> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const slices: Record<string, number> = {};
  for (const slice of ['queue_time', 'prepare_time', 'inner_eval', 'result_sort']) {
    slices[slice] = sampleOf(text, 'prometheus_engine_query_duration_seconds_sum', `slice="${slice}"`);
  }
  return {
    httpQueries: sampleOf(text, 'prometheus_http_request_duration_seconds_count', 'handler="/api/v1/query"'),
    httpSeconds: sampleOf(text, 'prometheus_http_request_duration_seconds_sum', 'handler="/api/v1/query"'),
    slices,
    connections: sampleOf(text, 'net_conntrack_listener_conn_accepted_total', 'listener_name="http"'),
  };
};

export const engineDelta = (before: EngineCounters, after: EngineCounters): EngineCounters => ({
  httpQueries: after.httpQueries - before.httpQueries,
  httpSeconds: after.httpSeconds - before.httpSeconds,
  slices: Object.fromEntries(Object.entries(after.slices).map(([k, v]) => [k, v - (before.slices[k] ?? 0)])),
  connections: after.connections - before.connections,
});
