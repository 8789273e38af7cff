/**
 * The demo's traffic simulator against the local cluster over HTTP (Istio's CRDs applied, the split
 * written by the real istio router), then scraped by a REAL Prometheus that evaluates Fledge's
 * built-in istio queries rendered for the canary, as the analysis would on an Istio cluster.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import { systemClock } from '../../src/api/clock.js';
import type { Clock } from '../../src/api/clock.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { KubeObject as ClusterObject } from '../../src/localcluster/types.js';
import { builtinQuery } from '../../src/analysis/builtin-queries.js';
import { startPrometheus } from '../../src/devtools/prometheus.js';
import type { RealPrometheus } from '../../src/devtools/prometheus.js';
import { createRouter } from '../../providers/routers/index.js';
import { createPrometheusProvider } from '../../providers/metrics/prometheus.js';
import { createTrafficSimulator, seededRandom, serveTrafficMetrics } from '../../src/demo/traffic.js';
import type { SimulatorMetricsServer, TrafficSimulator } from '../../src/demo/traffic.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';

const NS = 'default';
const istioCrds = (): ClusterObject[] =>
  parseAllDocuments(readFileSync(new URL('../../../examples/crds/istio.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as ClusterObject);

const deploymentRef = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: NS });
const deployment = (name: string, annotations: Record<string, string>): KubeObject => ({
  ...deploymentRef(name),
  metadata: { name, namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [{ name: 'podinfo', image: 'ghcr.io/stefanprodan/podinfo:6.9.0' }] } },
  },
});
const readyReplicas = (d: KubeObject | undefined): number => ((d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0);

/** Manual ticks only: a clock whose timers never fire. */
const stillClock: Clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };

describe('demo traffic simulator against the local cluster', () => {
  let c: TestCluster;
  let kube: KubeApi;
  let canary: Canary;

  before(async () => {
    c = await startTestCluster();
    c.cluster.applyObjects(istioCrds());
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    await eventually(async () => Array.isArray(await kube.list('networking.istio.io/v1beta1', 'VirtualService', NS)), 'istio CRDs served');
    const created = await kube.create({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'podinfo', namespace: NS },
      spec: {
        provider: 'istio',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        service: { port: 9898 },
        analysis: { interval: '10s', threshold: 5, maxWeight: 50, stepWeight: 10 },
      },
    });
    canary = parseCanary(created);
    const router = createRouter('istio', { kube });
    await router.reconcile(canary);
    await router.setRoutes(canary, { primary: 90, canary: 10, mirrored: false });
    await kube.create(deployment('podinfo-primary', {}));
    await kube.create(deployment('podinfo', { 'demo.fledge.dev/error-rate': '0.2', 'demo.fledge.dev/latency-ms': '50' }));
    for (const name of ['podinfo-primary', 'podinfo']) {
      await eventually(async () => readyReplicas(await kube.get(deploymentRef(name))) > 0, `${name} ready`);
    }
  });
  after(async () => c?.close());

  const simulator = (clock: Clock, requestsPerSecond: number): TrafficSimulator =>
    createTrafficSimulator({ kube, clock, targets: [{ namespace: NS, service: 'podinfo', target: 'podinfo' }], requestsPerSecond, random: seededRandom(1) });

  test('the split the istio router wrote: 10% of the requests to the canary, a fifth of those 500', async () => {
    const sim = simulator(stillClock, 50);
    for (let i = 0; i < 60; i += 1) await sim.tick();
    const snap = sim.snapshot();
    assert.equal(snap.errors, 0, snap.lastError);
    const t = snap.targets[0];
    assert.deepEqual(t?.weights, { primary: 90, canary: 10, mirrored: false });
    assert.equal(t?.primary.requests, 60 * 45);
    assert.equal(t?.canary.requests, 60 * 5);
    assert.equal(t?.primary.failures, 0);
    // 300 draws at p = 0.2: mean 60, sd ≈ 6.9.
    assert.ok(Math.abs((t?.canary.failures ?? 0) - 60) < 21, `canary failures ${t?.canary.failures}`);
  });

  describe('scraped by a real Prometheus', () => {
    let prom: RealPrometheus;
    let server: SimulatorMetricsServer;
    let sim: TrafficSimulator;

    before(async () => {
      // 500 rps so a 10 s window holds ~500 canary requests: the success rate is then 80 ± ~2.
      sim = simulator(systemClock(), 500);
      server = await serveTrafficMetrics(sim);
      sim.start();
      prom = await startPrometheus({ targets: [server.target], scrapeIntervalSeconds: 1 });
    });
    after(async () => {
      sim?.stop();
      await prom?.stop();
      await server?.close();
    });

    test("Fledge's built-in istio queries, rendered for the canary, see the simulated versions", async () => {
      const p = createPrometheusProvider({ type: 'prometheus', address: prom.url, secret: {}, insecureSkipVerify: false }, { clock: systemClock(), timeoutMs: 5000 });
      // Wait for ten scrapes of canary traffic: the 10 s window below is then covered edge to edge.
      const covered = 'count_over_time(istio_requests_total{destination_workload="podinfo",response_code="200"}[10s])';
      await eventually(async () => (await p.runQuery(covered, { intervalMs: 1000 }).catch(() => 0)) >= 10, `ten scrapes (log: ${prom.log()})`, 60_000);

      const metric = { interval: '10s', templateVariables: {} };
      const successQuery = builtinQuery(canary, { ...metric, builtin: 'request-success-rate' }, 'istio');
      assert.match(successQuery, /reporter="destination",destination_workload_namespace="default",destination_workload=~"podinfo"/);
      const success = await p.runQuery(successQuery, { intervalMs: 10_000 });
      assert.ok(Math.abs(success - 80) < 8, `canary success rate ${success}`);

      // The same query for the primary (a target named podinfo-primary) sees no errors at all.
      const primary: Canary = { ...canary, spec: { ...canary.spec, targetRef: { ...canary.spec.targetRef, name: 'podinfo-primary' } } };
      assert.equal(await p.runQuery(builtinQuery(primary, { ...metric, builtin: 'request-success-rate' }, 'istio'), { intervalMs: 10_000 }), 100);

      // Log-normal around 50 ms: P99 ≈ 141 ms, interpolated inside Istio's 100–250 ms bucket.
      const duration = await p.runQuery(builtinQuery(canary, { ...metric, builtin: 'request-duration' }, 'istio'), { intervalMs: 10_000 });
      assert.ok(duration > 100 && duration <= 250, `canary P99 ${duration}`);
      assert.equal(sim.snapshot().errors, 0, sim.snapshot().lastError);
    });
  });

  test('a canary scaled to zero gets no traffic', async () => {
    await kube.mergePatch(deploymentRef('podinfo'), { spec: { replicas: 0 } });
    const sim = simulator(stillClock, 50);
    await sim.tick();
    const t = sim.snapshot().targets[0];
    assert.equal(t?.canary.serving, false);
    assert.equal(t?.canary.lastTick, 0);
    assert.equal(t?.primary.lastTick, 45);
  });
});
