/**
 * The controller's /metrics, /healthz and /readyz over HTTP. A REAL Prometheus (Debian's package, see
 * support/prometheus.ts) scrapes the controller every second during a rollout on the scenario harness,
 * and its stored samples of flagger_canary_weight must follow the routes the controller wrote. The
 * health endpoints are checked on a controller whose API server does not answer (not ready), on a
 * synced one, and on a standby under leader election (ready, and costing only Lease reads).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { Controller } from '../../src/controller/controller.js';
import type { ControllerOptions } from '../../src/controller/controller.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, repoRoot, run, startTestCluster } from './support/cluster.js';
import { ManualClock } from './support/manual-clock.js';
import { startPrometheus } from '../../src/devtools/prometheus.js';
import type { RealPrometheus } from '../../src/devtools/prometheus.js';
import type { Rollout } from './support/rollout.js';
import { fixture, initialized, setImage, targetReady } from './support/scenario-objects.js';

interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

const promQuery = async (prom: RealPrometheus, query: string): Promise<PromSeries[]> => {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data?: { result: PromSeries[] }; error?: string };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${query} failed: ${body.error ?? res.status}`);
  return body.data.result;
};

/** The current value of each flagger_canary_weight series in default, by workload. */
const storedWeights = async (prom: RealPrometheus): Promise<Record<string, number>> =>
  Object.fromEntries((await promQuery(prom, 'flagger_canary_weight{namespace="default"}')).map((s) => [s.metric.workload, Number(s.value?.[1])]));

/** Every sample Prometheus stored for one series, oldest first, with runs of one value folded. */
const storedHistory = async (prom: RealPrometheus, selector: string): Promise<number[]> => {
  const [series, ...more] = await promQuery(prom, `${selector}[10m]`);
  assert.equal(more.length, 0, `one series for ${selector}`);
  const values = (series?.values ?? []).map(([, v]) => Number(v));
  return values.filter((v, i) => i === 0 || v !== values[i - 1]);
};

/** An API server that accepts requests and never answers them: the controller's first lists never finish. */
const silentApiServer = async (): Promise<{ url: string; close(): Promise<void> }> => {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

const controllerOn = (server: string, more: Partial<ControllerOptions> = {}): Controller =>
  new Controller({
    kubeConfig: kubeConfigForUrl(server),
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
    meshProvider: 'istio',
    metricsServer: 'http://127.0.0.1:9',
    minAnalysisIntervalMs: 0,
    configTracking: false,
    port: 0,
    ...more,
  });

const get = async (url: string): Promise<{ status: number; type: string; text: string }> => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};

describe('controller metrics over HTTP', () => {
  let r: Rollout | undefined;
  let prom: RealPrometheus | undefined;
  let cluster: TestCluster | undefined;
  const controllers: Controller[] = [];
  afterEach(async () => {
    await prom?.stop();
    await r?.close();
    for (const c of controllers.splice(0)) await c.stop();
    await cluster?.close();
    [prom, r, cluster] = [undefined, undefined, undefined];
  });

  test('a real Prometheus scraping /metrics during a rollout stores flagger_canary_weight as the routes moved', async () => {
    r = await initialized(fixture());
    const rollout = r;
    const url = rollout.controller.url;
    assert.ok(url, 'the controller serves HTTP');
    prom = await startPrometheus({ targets: [new URL(url).host], scrapeIntervalSeconds: 1 });
    const scraped = prom;
    /** Waits until Prometheus has scraped the routes the VirtualService holds now. */
    const scrapedRoutes = async (): Promise<{ primary: number; canary: number }> => {
      const { primary, canary } = await rollout.routes();
      await eventually(async () => {
        const w = await storedWeights(scraped);
        return w['podinfo'] === canary && w['podinfo-primary'] === primary;
      }, `Prometheus to store the weights ${primary}/${canary}`);
      return { primary, canary };
    };

    assert.deepEqual(await scrapedRoutes(), { primary: 100, canary: 0 });
    await setImage(rollout, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await rollout.waitPhase('Progressing');
    await targetReady(rollout);
    const steps: Array<{ primary: number; canary: number }> = [];
    for (let i = 0; i < 3; i++) {
      await rollout.tick();
      steps.push(await scrapedRoutes());
    }
    // stepWeight 10 from the fixture: the router moved 10 points per tick, and so did the metric.
    assert.deepEqual(steps, [
      { primary: 90, canary: 10 },
      { primary: 80, canary: 20 },
      { primary: 70, canary: 30 },
    ]);
    assert.deepEqual(await storedHistory(scraped, 'flagger_canary_weight{namespace="default",workload="podinfo"}'), [0, 10, 20, 30]);
    assert.deepEqual(await storedHistory(scraped, 'flagger_canary_weight{namespace="default",workload="podinfo-primary"}'), [100, 90, 80, 70]);

    // The other series arrived through the same scrapes.
    const value = async (q: string): Promise<number | undefined> => {
      const [s] = await promQuery(scraped, q);
      return s?.value ? Number(s.value[1]) : undefined;
    };
    assert.equal(await value('flagger_canary_status{namespace="default",name="podinfo"}'), 0);
    assert.equal(await value('flagger_canary_total{namespace="default"}'), 1);
    assert.equal(await value('flagger_info{mesh_provider="istio"}'), 1);
    assert.equal(await value('flagger_canary_metric_analysis{namespace="default",name="podinfo",metric="request-success-rate"}'), 100);
    assert.equal(await value('flagger_canary_duration_seconds_count{namespace="default",name="podinfo"}'), 3);
    // Status patches at least once per step, all counted by the decorated client.
    assert.ok(((await value('fledge_api_requests_total{verb="patch"}')) ?? 0) >= 3);
  });

  test('/readyz is 503 until the caches sync; /healthz is 200 throughout; /metrics is the text format', async () => {
    const silent = await silentApiServer();
    const unsynced = controllerOn(silent.url);
    // start() waits for the first lists, which never finish: do not await it.
    void unsynced.start().catch(() => undefined);
    const base = await eventually(() => unsynced.url, 'the HTTP server to listen');
    assert.deepEqual(await get(`${base}/readyz`), { status: 503, type: 'text/plain', text: 'caches not synced' });
    assert.deepEqual(await get(`${base}/healthz`), { status: 200, type: 'text/plain', text: 'ok' });
    await unsynced.stop();
    await silent.close();

    cluster = await startTestCluster();
    const synced = controllerOn(cluster.cluster.url);
    controllers.push(synced);
    await synced.start();
    const url = synced.url ?? '';
    assert.deepEqual(await get(`${url}/readyz`), { status: 200, type: 'text/plain', text: 'ok' });
    assert.deepEqual(await get(`${url}/healthz`), { status: 200, type: 'text/plain', text: 'ok' });
    const metrics = await get(`${url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(metrics.text, /^flagger_info\{version="0\.1\.0",mesh_provider="istio"\} 1$/m);
    assert.match(metrics.text, /^# TYPE flagger_canary_duration_seconds histogram$/m);
    assert.equal((await get(`${url}/nothing-here`)).status, 404);
  });

  test('a standby under leader election is ready and costs only Lease reads', async () => {
    cluster = await startTestCluster();
    const clock = new ManualClock();
    const kube = new ClientNodeKubeApi(kubeConfigForUrl(cluster.cluster.url));
    const renewTime = new Date(clock.now()).toISOString().replace('Z', '000Z');
    await kube.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'fledge', namespace: 'default' },
      spec: { holderIdentity: 'someone-else', leaseDurationSeconds: 3600, renewTime, acquireTime: renewTime },
    });
    const standby = controllerOn(cluster.cluster.url, {
      clock,
      leaderElection: { namespace: 'default', name: 'fledge', identity: 'standby', leaseDurationMs: 15_000, renewMs: 5_000 },
    });
    controllers.push(standby);
    await standby.start();
    await eventually(async () => ((await standby.metrics.read('fledge_api_requests_total', { verb: 'get' })) ?? 0) >= 1, 'the first Lease read');
    assert.equal(standby.leading, false);
    assert.deepEqual(await get(`${standby.url ?? ''}/readyz`), { status: 200, type: 'text/plain', text: 'ok' });
    // Each retry (every renewMs / 2) is one GET of the Lease and nothing else: no lists, no writes.
    await eventually(async () => {
      clock.advance(2_500);
      return ((await standby.metrics.read('fledge_api_requests_total', { verb: 'get' })) ?? 0) >= 3;
    }, 'more Lease reads');
    assert.equal(standby.leading, false);
    const gets = await standby.metrics.read('fledge_api_requests_total', { verb: 'get' });
    assert.equal(await standby.metrics.read('fledge_api_requests_total'), gets);
  });

  test('the chart ships the Grafana dashboard in a ConfigMap labelled grafana_dashboard: "1", only when asked', async () => {
    const chart = join(repoRoot(), 'helm', 'fledge');
    const helm = (args: string[]) => run(join(repoRoot(), '.tools', 'bin', 'helm'), args, process.env);
    const lint = await helm(['lint', chart, '--set', 'grafanaDashboard.enabled=true']);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    const rendered = await helm(['template', 'fledge', chart, '--namespace', 'fledge-system', '--set', 'grafanaDashboard.enabled=true', '--set', 'grafanaDashboard.annotations.grafana_folder=Delivery']);
    assert.equal(rendered.code, 0, rendered.stderr);
    const configMaps = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as { kind?: string; metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> }; data: Record<string, string> })
      .filter((o) => o?.kind === 'ConfigMap');
    assert.deepEqual(configMaps.map((c) => [c.metadata.name, c.metadata.namespace]), [['fledge-dashboard', 'fledge-system']]);
    const [dashboard] = configMaps;
    assert.equal(dashboard?.metadata.labels['grafana_dashboard'], '1');
    assert.equal(dashboard?.metadata.annotations?.['grafana_folder'], 'Delivery');
    const shipped = readFileSync(join(chart, 'dashboards', 'fledge.json'), 'utf8');
    assert.deepEqual(JSON.parse(dashboard?.data['fledge.json'] ?? ''), JSON.parse(shipped));
    const plain = await helm(['template', 'fledge', chart]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.includes('grafana_dashboard'), false);
  });
});
