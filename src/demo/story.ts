/**
 * `fledge demo`: the whole GitOps canary story on one machine, every part real. A local cluster, a
 * real Prometheus scraping Istio-style telemetry from a traffic simulator, the reconciler fetching a
 * local Git repository, the controller, and a Slack-compatible receiver. Then: v1 is delivered and
 * initialised; v2 (20% errors) is committed, analysed, rolled back with a Slack alert; v3 (healthy) is
 * committed and promoted step by step.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { systemClock } from '../api/clock.js';
import { readManifests } from '../cli/local-cluster.js';
import { Controller } from '../controller/controller.js';
import { startPrometheus } from '../devtools/prometheus.js';
import type { RealPrometheus } from '../devtools/prometheus.js';
import type { KubeObject } from '../kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../kube/client.js';
import { startLocalCluster } from '../localcluster/cluster.js';
import { createReconciler } from '../reconciler/index.js';
import { createDemoRepo } from './git-repo.js';
import { startSlackReceiver } from './slack-receiver.js';
import { createTrafficSimulator, serveTrafficMetrics } from './traffic.js';
import type { DemoEvent, DemoView } from './view.js';

export interface DemoOptions {
  /** The package root: crds/, examples/ live there. */
  root: string;
  env: Readonly<Record<string, string | undefined>>;
  view: DemoView;
  /** Leave everything running at the end until `stopSignal` resolves. */
  keep?: boolean;
  stopSignal: Promise<void>;
  analysisInterval?: string;
  /** Each wait of the story gives up after this long. */
  stepTimeoutMs?: number;
}

export interface DemoSummary {
  ok: boolean;
  /** Stopped by Ctrl-C (SIGINT/SIGTERM) before the story ended; everything started was stopped. */
  interrupted?: boolean;
  seconds: number;
  v2: { phase: string; alerts: string[] };
  v3: { phase: string; weights: number[]; primaryImage: string };
  prometheusPid?: number;
  workDir: string;
}

const NS = 'default';
const CANARY = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'podinfo', namespace: NS };
const APP = 'apps/podinfo/deployment.yaml';

class Interrupted extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rewrites the image tag and the simulator's behaviour annotations of the podinfo Deployment. */
const release = (tag: string, errorRate: string) => (text: string) =>
  text
    .replace(/podinfo:[0-9.]+/, `podinfo:${tag}`)
    .replace(/(demo\.fledge\.dev\/error-rate: )"[^"]*"/, `$1"${errorRate}"`);

export const runDemo = async (opts: DemoOptions): Promise<DemoSummary> => {
  const started = Date.now();
  const view = opts.view;
  const workDir = mkdtempSync(join(tmpdir(), 'fledge-demo-'));
  const log: Logger = pino({ level: 'info' }, pino.destination({ dest: join(workDir, 'fledge.log'), sync: false }));
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let interrupted = false;
  void opts.stopSignal.then(() => (interrupted = true));
  const stepTimeout = opts.stepTimeoutMs ?? 120_000;
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> => {
    const deadline = Date.now() + stepTimeout;
    for (;;) {
      if (interrupted) throw new Interrupted('interrupted');
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${stepTimeout / 1000}s waiting for ${what} (logs: ${join(workDir, 'fledge.log')})`);
      await sleep(200);
    }
  };
  const summary: DemoSummary = { ok: false, seconds: 0, v2: { phase: '', alerts: [] }, v3: { phase: '', weights: [], primaryImage: '' }, workDir };
  try {
    view.step('Starting the local cluster (Kubernetes API on loopback)');
    const cluster = await startLocalCluster({ port: 0, readyDelayMs: 300, log: log.child({ part: 'local-cluster' }) });
    cleanups.push(() => cluster.close());
    cluster.applyObjects([...readManifests(join(opts.root, 'crds')), ...readManifests(join(opts.root, 'examples', 'crds'))]);
    const kubeconfig = join(workDir, 'kubeconfig');
    writeFileSync(kubeconfig, cluster.kubeconfig());
    const config = kubeConfigForUrl(cluster.url);
    const kube = new ClientNodeKubeApi(config);
    const clock = systemClock();

    view.step('Starting the Slack-compatible receiver');
    const slack = await startSlackReceiver();
    cleanups.push(() => slack.close());
    slack.onMessage((m) => view.alert(m));

    view.step('Starting the traffic simulator (Istio telemetry) and a real Prometheus scraping it');
    const traffic = createTrafficSimulator({ kube, clock, targets: [{ namespace: NS, service: 'podinfo', target: 'podinfo' }], requestsPerSecond: 100 });
    const metrics = await serveTrafficMetrics(traffic);
    cleanups.push(() => metrics.close());
    traffic.start();
    cleanups.push(() => traffic.stop());
    const prometheus: RealPrometheus = await startPrometheus({ targets: [metrics.target], scrapeIntervalSeconds: 1 });
    summary.prometheusPid = prometheus.pid;
    view.process('prometheus', prometheus.pid, prometheus.url);
    cleanups.push(() => prometheus.stop());

    view.step('Creating a Git repository from examples/podinfo and starting the reconciler');
    const repo = createDemoRepo(join(workDir, 'git'), join(opts.root, 'examples', 'podinfo'), 'apps/podinfo', opts.env);
    const v1 = repo.commit('podinfo v1 (6.0.0)');
    view.commit('v1', v1, 'podinfo 6.0.0');
    const reconciler = createReconciler({
      config,
      log: log.child({ part: 'reconciler' }),
      clock,
      workDir: join(workDir, 'reconciler'),
      env: opts.env,
      jitter: 0,
      onOutcome: (key, o) => view.reconciled(key, o.ready, o.revision ?? '', o.message),
    });
    await reconciler.start();
    cleanups.push(() => reconciler.stop());
    await kube.create({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'demo', namespace: NS }, spec: { url: repo.url, interval: '1s', ref: { branch: 'main' } } });
    const interval = opts.analysisInterval ?? '5s';
    await kube.create({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'podinfo', namespace: NS },
      spec: {
        interval: '10m',
        prune: true,
        path: './apps/podinfo',
        sourceRef: { kind: 'GitRepository', name: 'demo' },
        postBuild: { substitute: { slack_url: `${slack.url}/services/demo`, analysis_interval: interval, metrics_interval: interval } },
      },
    });

    view.step('Starting the Fledge controller');
    const controller = new Controller({
      kubeConfig: config,
      clock,
      log: log.child({ part: 'controller' }),
      meshProvider: 'istio',
      metricsServer: prometheus.url,
      minAnalysisIntervalMs: 1000,
      configTracking: true,
    });
    controller.onVerdict((c, v) => view.verdict(c.metadata.name, v));
    await controller.start();
    cleanups.push(() => controller.stop());

    let lastCanary: KubeObject | undefined;
    const canary = async () => {
      const c = await kube.get(CANARY);
      if (c) view.canary(c);
      lastCanary = c;
      return c;
    };
    const phase = (c: KubeObject | undefined) => (c?.status as { phase?: string } | undefined)?.phase ?? '';
    await waitFor('podinfo to be initialised', async () => phase(await canary()) === 'Initialized');

    const alertsBefore = slack.messages().length;
    const v2 = repo.commit('podinfo v2 (6.0.1): a bad release, 20% of requests fail', { [APP]: release('6.0.1', '0.2') });
    view.commit('v2', v2, 'podinfo 6.0.1 with 20% errors');
    await waitFor('v2 to start progressing', async () => ['Progressing', 'Failed'].includes(phase(await canary())));
    await waitFor('v2 to be rolled back', async () => phase(await canary()) === 'Failed');
    await waitFor('the rollback alert', async () => slack.messages().length > alertsBefore && slack.messages().some((m, i) => i >= alertsBefore && JSON.stringify(m).includes('request-success-rate')));
    summary.v2 = { phase: 'Failed', alerts: slack.messages().slice(alertsBefore).map((m) => JSON.stringify(m)) };

    const v3 = repo.commit('podinfo v3 (6.0.2): the fix', { [APP]: release('6.0.2', '0') });
    view.commit('v3', v3, 'podinfo 6.0.2, healthy');
    const weights: number[] = [];
    await waitFor('v3 to be promoted', async () => {
      const c = await canary();
      const st = (c?.status ?? {}) as { phase?: string; canaryWeight?: number; lastAppliedSpec?: string };
      if (st.phase === 'Progressing' && st.canaryWeight && st.canaryWeight !== weights.at(-1)) weights.push(st.canaryWeight);
      return st.phase === 'Succeeded';
    });
    const primary = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary', namespace: NS });
    const image = ((primary?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)?.template?.spec?.containers?.[0]?.image) ?? '';
    summary.v3 = { phase: phase(lastCanary), weights, primaryImage: image };
    summary.ok = summary.v2.phase === 'Failed' && summary.v3.phase === 'Succeeded' && image.endsWith(':6.0.2');
    summary.seconds = Math.round((Date.now() - started) / 100) / 10;
    view.summary(summary);
    if (opts.keep && !interrupted) {
      mkdirSync(join(opts.root, '.fledge'), { recursive: true });
      writeFileSync(join(opts.root, '.fledge', 'kubeconfig'), cluster.kubeconfig());
      view.step(`Still running (--keep). Try:\n  export KUBECONFIG=${join(opts.root, '.fledge', 'kubeconfig')}\n  kubectl get canaries,deployments,virtualservices\n  Prometheus: ${prometheus.url}\nPress Ctrl-C to stop everything.`);
      await opts.stopSignal;
    }
    return summary;
  } catch (e) {
    if (e instanceof Interrupted) {
      view.step('Interrupted; stopping everything');
      summary.interrupted = true;
      return summary;
    }
    throw e;
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
    log.flush();
    if (summary.ok && !opts.keep) rmSync(workDir, { recursive: true, force: true });
  }
};

export type { DemoEvent };
