/**
 * The demo's traffic simulator against an in-memory KubeApi: the split it reads from a VirtualService
 * as the istio router writes it, the Deployments' demo annotations, readiness, API errors, the clock,
 * and the Istio-shaped exposition it renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Clock } from '../../src/api/clock.js';
import { parseCanary } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { KubeApiError } from '../../src/kube/api.js';
import { buildVirtualService } from '../../providers/routers/istio-build.js';
import { ISTIO_DURATION_BUCKETS_MS } from '../../src/demo/istio-telemetry.js';
import { createTrafficSimulator, seededRandom, serveTrafficMetrics } from '../../src/demo/traffic.js';
import type { TrafficSimulator } from '../../src/demo/traffic.js';

const NS = 'test';
const keyOf = (r: ObjectRef): string => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;

/** Just enough of KubeApi for the simulator (get); `failing` makes reads of some refs throw. */
class MemoryKube implements KubeApi {
  readonly objects = new Map<string, KubeObject>();
  failing: (ref: ObjectRef) => boolean = () => false;
  reads = 0;

  put(obj: KubeObject): void {
    this.objects.set(keyOf({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace }), structuredClone(obj));
  }
  remove(ref: ObjectRef): void {
    this.objects.delete(keyOf(ref));
  }
  get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.reads += 1;
    if (this.failing(ref)) return Promise.reject(new KubeApiError(503, 'the server is currently unable to handle the request'));
    const found = this.objects.get(keyOf(ref));
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }
  private unused = (): Promise<never> => Promise.reject(new Error('not used by the simulator'));
  list = this.unused;
  create = this.unused;
  replace = this.unused;
  mergePatch = this.unused;
  patchStatus = this.unused;
  apply = this.unused;
  delete = this.unused;
}

/** A clock the test moves by hand. */
class StepClock implements Clock {
  t = 0;
  private timers: Array<{ id: number; at: number; fn: () => void }> = [];
  private seq = 0;
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== handle);
  };
  pending = (): number => this.timers.length;
  /** One second, firing what falls due, then letting the ticks it started finish. */
  async second(): Promise<void> {
    this.t += 1000;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
    for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
  }
}

const deployment = (name: string, opts: { replicas?: number; ready?: number; errorRate?: string; latencyMs?: string } = {}): KubeObject => {
  const annotations: Record<string, string> = {};
  if (opts.errorRate !== undefined) annotations['demo.fledge.dev/error-rate'] = opts.errorRate;
  if (opts.latencyMs !== undefined) annotations['demo.fledge.dev/latency-ms'] = opts.latencyMs;
  const replicas = opts.replicas ?? 1;
  const ready = opts.ready ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas, template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [{ name: 'podinfo', image: 'podinfo' }] } } },
    status: ready > 0 ? { replicas, readyReplicas: ready, availableReplicas: ready } : { replicas },
  };
};

// The VirtualService exactly as the istio router writes it for the fixture canary (podinfo in `test`).
const canary = parseCanary(parseYaml(readFileSync(new URL('../../../test/fixtures/routers/canary-istio.yaml', import.meta.url), 'utf8')));
const virtualService = (primary: number, canaryWeight: number, mirrored = false): KubeObject =>
  buildVirtualService(canary, { routes: { primary, canary: canaryWeight, mirrored } });

const setup = (objects: KubeObject[], extra: { rps?: number; seed?: number } = {}): { kube: MemoryKube; clock: StepClock; sim: TrafficSimulator } => {
  const kube = new MemoryKube();
  for (const o of objects) kube.put(o);
  const clock = new StepClock();
  const sim = createTrafficSimulator({
    kube,
    clock,
    targets: [{ namespace: NS, service: 'podinfo', target: 'podinfo' }],
    ...(extra.rps !== undefined ? { requestsPerSecond: extra.rps } : {}),
    random: seededRandom(extra.seed ?? 42),
  });
  return { kube, clock, sim };
};

const ticks = async (sim: TrafficSimulator, n: number): Promise<void> => {
  for (let i = 0; i < n; i += 1) await sim.tick();
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text exposition 0.0.4: every line a comment or a well-formed sample. */
const parseExposition = (text: string): Sample[] => {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# ')) {
      assert.match(line, /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k ?? ''] = v ?? '';
    const raw = m[3] ?? '';
    const value = raw === '+Inf' ? Infinity : Number(raw);
    assert.ok(!Number.isNaN(value), `not a number: ${raw}`);
    samples.push({ name: m[1] ?? '', labels, value });
  }
  return samples;
};

const total = (samples: Sample[], name: string, match: Record<string, string>): number =>
  samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

test('90/10 with a 20% error rate on the canary: the canary gets 10% of the requests, a fifth of them 500', async () => {
  const { sim } = setup([virtualService(90, 10), deployment('podinfo-primary'), deployment('podinfo', { errorRate: '0.2' })]);
  await ticks(sim, 200);
  const snap = sim.snapshot();
  const t = snap.targets[0];
  assert.ok(t);
  assert.deepEqual(t.weights, { primary: 90, canary: 10, mirrored: false });
  // The split is apportioned, not drawn: exactly 45 + 5 a second.
  assert.equal(t.primary.requests, 200 * 45);
  assert.equal(t.canary.requests, 200 * 5);
  assert.equal(t.primary.failures, 0);
  // 1000 draws at p = 0.2: mean 200, sd ≈ 12.6.
  assert.ok(Math.abs(t.canary.failures - 200) < 40, `canary failures ${t.canary.failures}`);
  assert.equal(snap.ticks, 200);
  assert.equal(snap.errors, 0);

  // The same numbers through the exposition, with the labels the built-in istio queries select on.
  const samples = parseExposition(sim.metricsText());
  const sel = (workload: string, code?: string) => ({
    reporter: 'destination',
    destination_workload_namespace: NS,
    destination_workload: workload,
    ...(code ? { response_code: code } : {}),
  });
  assert.equal(total(samples, 'istio_requests_total', sel('podinfo')), 1000);
  assert.equal(total(samples, 'istio_requests_total', sel('podinfo', '500')), t.canary.failures);
  assert.equal(total(samples, 'istio_requests_total', sel('podinfo-primary', '200')), 9000);
  assert.equal(total(samples, 'istio_requests_total', sel('podinfo-primary', '500')), 0);
  const all = total(samples, 'istio_requests_total', {});
  const share = total(samples, 'istio_requests_total', sel('podinfo')) / all;
  assert.ok(Math.abs(share - 0.1) < 1e-9, `canary share ${share}`);
});

test('the exposition: exact lines, TYPE per family, cumulative buckets, +Inf equal to _count', async () => {
  const { sim } = setup([virtualService(90, 10), deployment('podinfo-primary'), deployment('podinfo', { errorRate: '0.2' })]);
  await ticks(sim, 20);
  const text = sim.metricsText();
  const lines = text.split('\n');
  assert.ok(lines.includes('# TYPE istio_requests_total counter'));
  assert.ok(lines.includes('# TYPE istio_request_duration_milliseconds histogram'));
  const primaryLabels =
    'reporter="destination",source_workload="traffic-simulator",source_workload_namespace="test",source_app="traffic-simulator",' +
    'destination_workload="podinfo-primary",destination_workload_namespace="test",destination_app="podinfo-primary",destination_version="unknown",' +
    'destination_service="podinfo-primary.test.svc.cluster.local",destination_service_name="podinfo-primary",destination_service_namespace="test",' +
    'request_protocol="http",response_code="200",response_flags="-",connection_security_policy="mutual_tls"';
  assert.ok(lines.includes(`istio_requests_total{${primaryLabels}} 900`), text);
  assert.ok(lines.includes(`istio_request_duration_milliseconds_count{${primaryLabels}} 900`));
  assert.ok(lines.includes(`istio_request_duration_milliseconds_bucket{${primaryLabels},le="+Inf"} 900`));
  // The primary's 500 series exists at zero from its first request on, so rate() misses no first error.
  assert.ok(lines.includes(`istio_requests_total{${primaryLabels.replace('response_code="200"', 'response_code="500"')}} 0`));

  const samples = parseExposition(text);
  const buckets = samples.filter((s) => s.name === 'istio_request_duration_milliseconds_bucket');
  const counts = samples.filter((s) => s.name === 'istio_request_duration_milliseconds_count');
  assert.equal(counts.length, 4, 'two workloads x two response codes');
  for (const count of counts) {
    const code = count.labels.response_code;
    const workload = count.labels.destination_workload;
    const mine = buckets.filter((b) => b.labels.response_code === code && b.labels.destination_workload === workload);
    assert.deepEqual(
      mine.map((b) => b.labels.le),
      [...ISTIO_DURATION_BUCKETS_MS.map(String), '+Inf'],
    );
    for (let i = 1; i < mine.length; i += 1) assert.ok((mine[i]?.value ?? 0) >= (mine[i - 1]?.value ?? 0), 'buckets are cumulative');
    assert.equal(mine.at(-1)?.value, count.value, `+Inf equals _count for ${workload} ${code}`);
    const requests = total(samples, 'istio_requests_total', { destination_workload: workload ?? '', response_code: code ?? '' });
    assert.equal(count.value, requests, 'every request is also observed in the histogram');
  }
});

test('latency follows the latency-ms annotation (mean preserved), default 20 ms', async () => {
  const { sim } = setup([virtualService(50, 50), deployment('podinfo-primary'), deployment('podinfo', { latencyMs: '300' })]);
  await ticks(sim, 100);
  const samples = parseExposition(sim.metricsText());
  const mean = (workload: string): number =>
    total(samples, 'istio_request_duration_milliseconds_sum', { destination_workload: workload }) /
    total(samples, 'istio_request_duration_milliseconds_count', { destination_workload: workload });
  assert.ok(Math.abs(mean('podinfo') - 300) < 300 * 0.1, `canary mean ${mean('podinfo')}`);
  assert.ok(Math.abs(mean('podinfo-primary') - 20) < 20 * 0.1, `primary mean ${mean('podinfo-primary')}`);
  // Nothing at 300 ms mean lands at or under 25 ms... almost: the log-normal's left tail is thin.
  const under25 = total(samples, 'istio_request_duration_milliseconds_bucket', { destination_workload: 'podinfo', le: '25' });
  assert.ok(under25 < 5, `canary requests under 25 ms: ${under25}`);
});

test('a canary at 0 replicas, or not ready, or missing, gets nothing; its share is not given to the primary', async () => {
  for (const canaryDeployment of [deployment('podinfo', { replicas: 0 }), deployment('podinfo', { replicas: 2, ready: 0 }), undefined]) {
    const { sim } = setup([virtualService(90, 10), deployment('podinfo-primary'), ...(canaryDeployment ? [canaryDeployment] : [])]);
    await ticks(sim, 10);
    const t = sim.snapshot().targets[0];
    assert.equal(t?.canary.requests, 0);
    assert.equal(t?.canary.serving, false);
    assert.equal(t?.primary.requests, 450);
    assert.doesNotMatch(sim.metricsText(), /destination_workload="podinfo"/);
  }
});

test('no VirtualService yet: everything to the primary; none to a primary that does not exist', async () => {
  const { kube, sim } = setup([deployment('podinfo-primary'), deployment('podinfo', { errorRate: '1' })]);
  await ticks(sim, 4);
  assert.equal(sim.snapshot().targets[0]?.primary.requests, 200);
  assert.equal(sim.snapshot().targets[0]?.canary.requests, 0);
  kube.remove({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary', namespace: NS });
  await ticks(sim, 4);
  assert.equal(sim.snapshot().targets[0]?.primary.requests, 200);
  assert.equal(sim.snapshot().targets[0]?.primary.lastTick, 0);
});

test('weights that do not divide the rate are apportioned exactly over time; the split follows live changes', async () => {
  const { kube, sim } = setup([virtualService(95, 5), deployment('podinfo-primary'), deployment('podinfo')]);
  await ticks(sim, 10);
  // 50 rps at 5% is 2.5 a second: 25 in 10 s, not 20 or 30.
  assert.equal(sim.snapshot().targets[0]?.canary.requests, 25);
  assert.equal(sim.snapshot().targets[0]?.primary.requests, 475);
  kube.put(virtualService(0, 100));
  await ticks(sim, 2);
  assert.equal(sim.snapshot().targets[0]?.canary.lastTick, 50);
  assert.equal(sim.snapshot().targets[0]?.primary.lastTick, 0);
  assert.deepEqual(sim.snapshot().targets[0]?.weights, { primary: 0, canary: 100, mirrored: false });
});

test('mirroring: the canary also receives a copy of every primary request', async () => {
  const { sim } = setup([virtualService(100, 0, true), deployment('podinfo-primary'), deployment('podinfo', { errorRate: '0.5' })]);
  await ticks(sim, 3);
  const t = sim.snapshot().targets[0];
  assert.equal(t?.weights.mirrored, true);
  assert.equal(t?.primary.requests, 150);
  assert.equal(t?.canary.requests, 150);
});

test('API errors are counted, the target is skipped for that tick, and the simulator carries on', async () => {
  const { kube, sim } = setup([virtualService(90, 10), deployment('podinfo-primary'), deployment('podinfo')]);
  kube.failing = (ref) => ref.kind === 'VirtualService';
  await ticks(sim, 3);
  let snap = sim.snapshot();
  assert.equal(snap.errors, 3);
  assert.match(snap.lastError ?? '', /test\/podinfo: the server is currently unable/);
  assert.equal(snap.targets[0]?.primary.requests, 0);
  kube.failing = () => false;
  await ticks(sim, 1);
  snap = sim.snapshot();
  assert.equal(snap.errors, 3);
  assert.equal(snap.ticks, 4);
  assert.equal(snap.targets[0]?.primary.requests, 45);
});

test('bad annotations fall back to the defaults; out-of-range error rates are clamped', async () => {
  const { sim } = setup([virtualService(50, 50), deployment('podinfo-primary', { errorRate: 'lots', latencyMs: '-' }), deployment('podinfo', { errorRate: '7' })]);
  await ticks(sim, 2);
  const t = sim.snapshot().targets[0];
  assert.equal(t?.primary.errorRate, 0);
  assert.equal(t?.primary.latencyMs, 20);
  assert.equal(t?.canary.errorRate, 1);
  assert.equal(t?.canary.failures, t?.canary.requests);
});

test('start ticks once a second of the injected clock; stop ends it', async () => {
  const { kube, clock, sim } = setup([virtualService(90, 10), deployment('podinfo-primary'), deployment('podinfo')]);
  sim.start();
  sim.start(); // idempotent: still one timer
  assert.equal(clock.pending(), 1);
  await clock.second();
  await clock.second();
  await clock.second();
  assert.equal(sim.snapshot().ticks, 3);
  assert.equal(kube.reads, 9, 'one VirtualService and two Deployments a tick');
  sim.stop();
  assert.equal(clock.pending(), 0);
  await clock.second();
  assert.equal(sim.snapshot().ticks, 3);
});

test('a seed replays the same traffic; another seed does not', async () => {
  const objects = [virtualService(90, 10), deployment('podinfo-primary'), deployment('podinfo', { errorRate: '0.3' })];
  const runs = await Promise.all(
    [7, 7, 8].map(async (seed) => {
      const { sim } = setup(objects, { seed });
      await ticks(sim, 5);
      return sim.metricsText();
    }),
  );
  assert.equal(runs[0], runs[1]);
  assert.notEqual(runs[0], runs[2]);
});

test('serveTrafficMetrics serves the exposition on a loopback port', async () => {
  const { sim } = setup([virtualService(90, 10), deployment('podinfo-primary'), deployment('podinfo')]);
  await ticks(sim, 1);
  const server = await serveTrafficMetrics(sim);
  try {
    assert.equal(server.target, `127.0.0.1:${server.port}`);
    const res = await fetch(`http://${server.target}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(await res.text(), sim.metricsText());
  } finally {
    await server.close();
  }
});

test('an invalid request rate is refused', () => {
  assert.throws(
    () => createTrafficSimulator({ kube: new MemoryKube(), clock: new StepClock(), targets: [], requestsPerSecond: -1 }),
    (e: Error & { code?: string }) => e.code === 'InvalidSpec' && /requestsPerSecond/.test(e.message),
  );
});
