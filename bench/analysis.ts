/**
 * One analysis step at fleet scale against a real Prometheus (`npm run build && node
 * dist/bench/analysis.js`, `--quick` for 50 canaries). This process serves Istio-style series for N
 * workloads, growing every second; Prometheus 2.42 (Debian's) scrapes them every second on loopback.
 * Each of N parsed Canaries (provider istio, built-in request-success-rate and request-duration at a
 * 30 s metric interval) is one analysis step = `runChecks` with the controller's dependencies (one
 * ProviderCache, createMetricProvider, a KubeApi that throws if used). It measures:
 *   1. a burst: all N steps started at once, as N due timers firing together (then the same through a
 *      limit of steps in flight);
 *   2. the same N steps arriving evenly over 1 s;
 *   3. CPU of Prometheus (/proc/<pid>/stat) and of this process, and Prometheus' own query timings.
 * Every verdict must hold a healthy value. Prints a table, then one JSON line; exits 1 on any error.
 * Bounded: the run stops after 170 s; Prometheus is stopped and its temp dir removed on the way out.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import type { Canary } from '../src/api/index.js';
import { systemClock } from '../src/api/clock.js';
import type { ChecksDeps } from '../src/analysis/checks.js';
import { runChecks } from '../src/analysis/checks.js';
import { ProviderCache } from '../src/analysis/resolve.js';
import type { KubeApi } from '../src/kube/api.js';
import { createMetricProvider } from '../providers/metrics/index.js';
import { NAMESPACE, benchCanary, renderIstioExposition, seriesPerWorkload } from './analysis-istio.js';
import type { Probes } from './analysis-measure.js';
import { burstRound, problemsOf, spreadRound } from './analysis-measure.js';
import type { MetricsTarget, RealPrometheus } from '../src/devtools/prometheus.js';
import { prometheusVersion, serveMetrics, startPrometheus } from '../src/devtools/prometheus.js';
import { machineBusyReader, processCpuReader } from './analysis-prometheus.js';
import type { PhaseResult } from './analysis-report.js';
import { analysisReport } from './analysis-report.js';
import { now } from './support.js';

const TIME_BUDGET_MS = 170_000;

interface Plan {
  canaries: number;
  rounds: number;
  /** Burst phases with at most this many steps in flight. */
  limits: number[];
  spreadMs: number;
  metricInterval: string;
  /** Experiment: ask Prometheus for uncompressed answers (axios asks for gzip by default). */
  identity: boolean;
}

const planFor = (quick: boolean, identity: boolean): Plan => ({ canaries: quick ? 50 : 500, rounds: 3, limits: [10, 50], spreadMs: 1000, metricInterval: '30s', identity });

/** Built-in checks read nothing from the cluster; any call here is a bug the benchmark must show. */
const noCluster = (): never => {
  throw new Error('the analysis benchmark has no cluster: built-in checks must not read it');
};
const throwingKube: KubeApi = {
  get: async () => noCluster(),
  list: async () => noCluster(),
  create: async () => noCluster(),
  replace: async () => noCluster(),
  mergePatch: async () => noCluster(),
  patchStatus: async () => noCluster(),
  apply: async () => noCluster(),
  delete: async () => noCluster(),
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const scalar = async (url: string, promql: string): Promise<number> => {
  const reply = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await reply.json()) as { data?: { result?: Array<{ value?: [number, string] }> } };
  return Number(body.data?.result?.[0]?.value?.[1] ?? NaN);
};

/** Waits until every series is in Prometheus with at least `samples` scrapes each. */
const waitForData = async (url: string, canaries: number, samples: number, timeoutMs: number): Promise<void> => {
  const selector = `istio_requests_total{destination_workload_namespace="${NAMESPACE}"}`;
  const deadline = Date.now() + timeoutMs;
  let seen = { series: NaN, samples: NaN };
  while (Date.now() < deadline) {
    seen = { series: await scalar(url, `count(${selector})`), samples: await scalar(url, `min(count_over_time(${selector}[1m]))`) };
    if (seen.series === 2 * canaries && seen.samples >= samples) return;
    await sleep(250);
  }
  throw new Error(`Prometheus did not have ${samples} scrapes of all ${2 * canaries} request series within ${timeoutMs} ms (saw ${seen.series} series, min ${seen.samples} samples)`);
};

/** Runs the first steps one at a time (JIT, provider cache); each must give healthy verdicts. */
const warmUp = async (steps: readonly Canary[], deps: ChecksDeps): Promise<void> => {
  for (const canary of steps) {
    const problems = problemsOf(await runChecks(canary, deps));
    if (problems.length) throw new Error(`warm-up step ${canary.metadata.name}: ${problems.join('; ')}`);
  }
};

interface Resources {
  target?: MetricsTarget;
  prometheus?: RealPrometheus;
  stopping: AbortController;
}

const run = async (plan: Plan, res: Resources): Promise<number> => {
  const warnings: string[] = [];
  process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
  const setupStarted = now();
  const trafficStarted = now();
  res.target = await serveMetrics(() => renderIstioExposition(plan.canaries, (now() - trafficStarted) / 1000));
  const prometheus = (res.prometheus = await startPrometheus({ targets: [res.target.target], scrapeIntervalSeconds: 1 }));
  console.error(`Prometheus (pid ${prometheus.pid}) at ${prometheus.url} scraping ${plan.canaries * seriesPerWorkload} series every 1 s; waiting for 5 scrapes ...`);
  await waitForData(prometheus.url, plan.canaries, 5, 60_000);
  const setupSeconds = (now() - setupStarted) / 1000;
  const scrapesBeforeStart = res.target.scrapes;

  const probes: Probes = {
    prometheusUrl: prometheus.url,
    prometheusCpuMs: processCpuReader(prometheus.pid),
    machineBusyMs: machineBusyReader(),
    target: res.target,
    queryMs: [],
  };
  const deps: ChecksDeps = {
    kube: throwingKube,
    createProvider: (config) =>
      createMetricProvider(plan.identity ? { ...config, headers: { ...config.headers, 'Accept-Encoding': 'identity' } } : config, { clock: systemClock() }),
    metricsServer: prometheus.url,
    meshProvider: 'istio',
    providers: new ProviderCache(),
    // As in the controller, every check listens on the one signal aborted at shutdown.
    signal: res.stopping.signal,
    observeQuery: (_provider, seconds) => probes.queryMs.push(seconds * 1000),
  };
  const canaries = Array.from({ length: plan.canaries }, (_, i) => benchCanary(i, plan.metricInterval));

  // Prometheus' CPU while it only scrapes: the floor under every phase's figure.
  const ownCpuMs = (): number => (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  const idleFrom = { cpu: probes.prometheusCpuMs(), own: ownCpuMs(), at: now(), render: res.target.renderMs, scrapes: res.target.scrapes };
  await sleep(3000);
  const idleSeconds = (now() - idleFrom.at) / 1000;
  const prometheusIdleCpuMsPerSec = (probes.prometheusCpuMs() - idleFrom.cpu) / idleSeconds;
  const benchIdleCpuMsPerSec = (ownCpuMs() - idleFrom.own - (res.target.renderMs - idleFrom.render)) / idleSeconds;
  const renderMsPerScrape = (res.target.renderMs - idleFrom.render) / Math.max(1, res.target.scrapes - idleFrom.scrapes);
  await warmUp(canaries.slice(0, 20), deps);

  const phases: PhaseResult[] = [];
  const measure = async (name: string, key: string, round: () => ReturnType<typeof burstRound>): Promise<void> => {
    console.error(`${name} ...`);
    const phase: PhaseResult = { name, key, rounds: [] };
    for (let r = 0; r < plan.rounds; r += 1) phase.rounds.push(await round());
    phases.push(phase);
  };
  await measure(`1. burst of ${plan.canaries}`, 'burst', () => burstRound(canaries, deps, probes));
  for (const limit of plan.limits) {
    await measure(`1b. burst, ${limit} steps in flight`, `burstLimit${limit}`, () => burstRound(canaries, deps, probes, limit));
  }
  await measure(`2. spread over ${plan.spreadMs / 1000} s`, 'spread', () => spreadRound(canaries, deps, probes, plan.spreadMs));

  const cpu = cpus();
  const machine =
    `${cpu.length} vCPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GB, ${process.platform}, Node ${process.version}, ` +
    `load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  const report = analysisReport(phases, {
    canaries: plan.canaries,
    rounds: plan.rounds,
    identity: plan.identity,
    machine,
    prometheusVersion: prometheusVersion(),
    setupSeconds,
    scrapesBeforeStart,
    prometheusIdleCpuMsPerSec,
    benchIdleCpuMsPerSec,
    renderMsPerScrape,
    warnings: [...new Set(warnings)],
  });
  console.log(report.table);
  console.log(JSON.stringify(report.summary));
  return report.errors;
};

const cleanUp = async (res: Resources): Promise<void> => {
  res.stopping.abort();
  await res.prometheus?.stop().catch((e: unknown) => console.error(`stopping Prometheus: ${String(e)}`));
  await res.target?.close();
};

const main = async (): Promise<number> => {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, identity: { type: 'boolean', default: false } }, strict: true });
  const res: Resources = { stopping: new AbortController() };
  let budget: NodeJS.Timeout | undefined;
  const overBudget = new Promise<never>((_, reject) => {
    budget = setTimeout(() => reject(new Error(`exceeded its ${TIME_BUDGET_MS / 1000} s budget`)), TIME_BUDGET_MS);
  });
  const interrupted = (): void => void cleanUp(res).finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const errors = await Promise.race([run(planFor(values.quick, values.identity), res), overBudget]);
    if (errors > 0) console.error(`analysis benchmark: ${errors} verdicts were not healthy values`);
    return errors > 0 ? 1 : 0;
  } catch (e) {
    console.error(`analysis benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    clearTimeout(budget);
    await cleanUp(res);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
};

const code = await main();
// Steps still in flight after a failure or the budget must not keep the process alive.
process.exit(code);
