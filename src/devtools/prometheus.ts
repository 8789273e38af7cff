/**
 * A real Prometheus (Debian's `prometheus` package, installed by `scripts/install-tools.sh --prometheus`)
 * for the integration tests, the benchmarks (and the demo to come): started on a free loopback port with its TSDB in a temp dir, optionally
 * backfilled first from OpenMetrics text with `promtool tsdb create-blocks-from openmetrics` (exact,
 * fixed history), optionally scraping loopback targets every second. `stop()` kills it and removes the dir.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RealPrometheus {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** The server's log so far (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** `host:port` targets scraped under job "fledge-test" (metrics path /metrics). */
  targets?: string[];
  scrapeIntervalSeconds?: number;
  /** OpenMetrics text ending with `# EOF`; turned into TSDB blocks before the server starts. */
  backfill?: string;
  readyTimeoutMs?: number;
}

const INSTALL_HINT = 'install it with `bash scripts/install-tools.sh --prometheus` (Debian package prometheus)';

/** The installed version, e.g. `2.42.0`, or `unknown`. */
export const prometheusVersion = (): string =>
  /version (\S+)/.exec(spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';

/** Why a real Prometheus cannot run here, or undefined when `prometheus` and `promtool` are on PATH. */
export const prometheusMissing = (): string | undefined => {
  for (const tool of ['prometheus', 'promtool']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) return `${tool} is not on PATH; ${INSTALL_HINT}`;
  }
  return undefined;
};

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
    ...(targets.length === 0
      ? []
      : ['  - job_name: fledge-test', '    static_configs:', `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`]),
  ].join('\n') + '\n';

const backfill = (openMetrics: string, dir: string, tsdb: string): Promise<void> =>
  writeFile(join(dir, 'backfill.om'), openMetrics).then(() => {
    const run = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'backfill.om'), tsdb], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`promtool backfill failed (${run.status}): ${run.stderr || run.stdout || run.error?.message}`);
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

const waitReady = async (url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode} before it was ready:\n${log()}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus was not ready within ${timeoutMs}ms:\n${log()}`);
};

/** Starts Prometheus (backfilling first when asked) and resolves once `/-/ready` answers 200. */
export const startPrometheus = async (opts: StartPrometheusOptions = {}): Promise<RealPrometheus> => {
  const missing = prometheusMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'fledge-prometheus-'));
  const tsdb = join(dir, 'tsdb');
  try {
    if (opts.backfill !== undefined) await backfill(opts.backfill, dir, tsdb);
    await writeFile(join(dir, 'prometheus.yml'), configYaml(opts.targets ?? [], opts.scrapeIntervalSeconds ?? 1));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    // The free port is probed then released; another process may take it first, hence the retries.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${tsdb}`,
        '--storage.tsdb.retention.time=100y',
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
    // A test process that dies without its after() hooks must not leave Prometheus running.
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    try {
      await waitReady(url, child, log, opts.readyTimeoutMs ?? 30000);
    } catch (e) {
      lastError = e;
      process.removeListener('exit', killOnExit);
      child.kill('SIGKILL');
      await exited(child);
      continue;
    }
    return {
      url,
      pid: child.pid ?? 0,
      dataDir: tsdb,
      log,
      async stop() {
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
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
};

export interface MetricsTarget {
  /** `127.0.0.1:port`, for StartPrometheusOptions.targets */
  readonly target: string;
  /** How many times the exposition was served. */
  readonly scrapes: number;
  /** Wall time spent rendering expositions (benchmarks take it out of their own CPU figure). */
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

/** One OpenMetrics counter family: `samples` are [unix seconds, value] per label set. */
export const openMetricsCounter = (family: string, series: Array<{ labels: Record<string, string>; samples: Array<[number, number]> }>): string => {
  const lines = [`# TYPE ${family} counter`];
  for (const { labels, samples } of series) {
    const text = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
    for (const [t, v] of samples) lines.push(`${family}_total{${text}} ${v} ${t}`);
  }
  return lines.join('\n') + '\n';
};
