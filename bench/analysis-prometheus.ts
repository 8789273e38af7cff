/**
 * A real Prometheus for the analysis benchmark (Debian's `prometheus`, installed by
 * `bash scripts/install-tools.sh --prometheus`): started on a free loopback port with its TSDB in a temp
 * dir, scraping loopback targets every second. Adapted from the integration tests' helper, which bench/
 * may not import. Also: a /metrics target served from this process, CPU time of a process from
 * /proc/<pid>/stat, the machine's busy time from /proc/stat, and Prometheus' own query-engine counters.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RealPrometheus {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly pid: number;
  readonly version: string;
  /** The server's stderr so far, for failure messages. */
  log(): string;
  /** SIGTERM (SIGKILL after 10 s), then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install it with `bash scripts/install-tools.sh --prometheus` (Debian package prometheus)';

const onPath = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

const configYaml = (targets: readonly string[], intervalSeconds: number): string =>
  [
    'global:',
    `  scrape_interval: ${intervalSeconds}s`,
    `  scrape_timeout: ${intervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: bench',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
  ].join('\n') + '\n';

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

const waitReady = async (url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode} before it was ready:\n${log()}`);
    if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus was not ready within ${timeoutMs}ms:\n${log()}`);
};

/** Starts Prometheus scraping `targets` every `intervalSeconds`; resolves once `/-/ready` answers 200. */
export const startPrometheus = async (targets: readonly string[], intervalSeconds: number): Promise<RealPrometheus> => {
  for (const tool of ['prometheus', 'promtool']) if (!onPath(tool)) throw new Error(`${tool} is not on PATH; ${INSTALL_HINT}`);
  const version = (spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).stdout || '').split('\n')[0] ?? '';
  const dir = await mkdtemp(join(tmpdir(), 'fledge-bench-prometheus-'));
  let lastError: unknown;
  try {
    await writeFile(join(dir, 'prometheus.yml'), configYaml(targets, intervalSeconds));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // The free port is probed then released; another process may take it first, hence the retries.
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-20000);
      });
      const log = (): string => stderr;
      // A benchmark that dies without its finally block must not leave Prometheus running.
      const killOnExit = (): void => void child.kill('SIGKILL');
      process.once('exit', killOnExit);
      try {
        await waitReady(url, child, log, 30000);
      } catch (e) {
        lastError = e;
        process.removeListener('exit', killOnExit);
        child.kill('SIGKILL');
        await exited(child);
        continue;
      }
      let stopped = false;
      return {
        url,
        pid: child.pid ?? 0,
        version,
        log,
        async stop() {
          if (stopped) return;
          stopped = true;
          process.removeListener('exit', killOnExit);
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
            await exited(child);
            clearTimeout(killer);
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    lastError = e;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
};

export interface MetricsTarget {
  /** `127.0.0.1:port`, for the scrape config. */
  readonly target: string;
  readonly scrapes: number;
  /** Wall time spent rendering expositions, so the benchmark can take it out of its own CPU figure. */
  readonly renderMs: number;
  close(): Promise<void>;
}

/** Serves Prometheus text exposition at /metrics; `render` runs on each scrape. */
export const serveMetrics = async (render: () => string): Promise<MetricsTarget> => {
  let scrapes = 0;
  let renderMs = 0;
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') return void res.writeHead(404).end();
    scrapes += 1;
    const started = performance.now();
    const body = render();
    renderMs += performance.now() - started;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    get scrapes() {
      return scrapes;
    },
    get renderMs() {
      return renderMs;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

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
