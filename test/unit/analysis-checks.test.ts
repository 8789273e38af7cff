import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FledgeError, parseCanary } from '../../src/api/index.js';
import type { Canary, CanaryMetric } from '../../src/api/index.js';
import { describeRange, judge, runChecks } from '../../src/analysis/checks.js';
import type { ChecksDeps } from '../../src/analysis/checks.js';
import { ProviderCache } from '../../src/analysis/resolve.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { MetricProvider, ProviderConfig, QueryOptions } from '../../providers/metrics/types.js';

const canary = (metrics: unknown[], spec: Record<string, unknown> = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: {
      provider: 'istio',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: { interval: '1m', stepWeight: 10, metrics },
      ...spec,
    },
  });

const metricOf = (m: Record<string, unknown>): CanaryMetric => {
  const parsed = canary([m]).spec.analysis.metrics[0];
  assert.ok(parsed);
  return parsed;
};

class FakeKube {
  objects = new Map<string, KubeObject>();
  reads: string[] = [];
  put(o: KubeObject): void {
    this.objects.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
    this.reads.push(key);
    return this.objects.get(key);
  }
}

interface Asked {
  config: ProviderConfig;
  query: string;
  opts: QueryOptions;
}

/** Providers that answer from `answer(query)` and record what they were asked. */
const fakeProviders = (answer: (query: string, config: ProviderConfig) => Promise<number> | number) => {
  const created: ProviderConfig[] = [];
  const asked: Asked[] = [];
  const createProvider = (config: ProviderConfig): MetricProvider => {
    created.push(config);
    return {
      type: config.type,
      async runQuery(query, opts) {
        asked.push({ config, query, opts });
        return answer(query, config);
      },
      async isOnline() {
        return true;
      },
    };
  };
  return { created, asked, createProvider };
};

const template = (name: string, spec: Record<string, unknown>, resourceVersion = '1'): KubeObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'MetricTemplate',
  metadata: { name, namespace: 'monitoring', resourceVersion },
  spec,
});

const secret = (name: string, data: Record<string, string>, resourceVersion = '1'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'monitoring', resourceVersion },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

test('a value is judged against min and max, bounds included', () => {
  const both = metricOf({ name: 'latency', query: 'x', thresholdRange: { min: 1, max: 10 } });
  assert.equal(judge(both, 1).ok, true);
  assert.equal(judge(both, 10).ok, true);
  assert.equal(judge(both, 5).message, 'latency 5 within min 1, max 10');
  assert.deepEqual([judge(both, 0.5).ok, judge(both, 0.5).message], [false, 'latency 0.5 < 1']);
  assert.deepEqual([judge(both, 10.25).ok, judge(both, 10.25).message], [false, 'latency 10.25 > 10']);
  assert.equal(judge(both, Number.POSITIVE_INFINITY).ok, false);
  const nan = judge(both, Number.NaN);
  assert.deepEqual([nan.ok, nan.errorCode, nan.value], [false, 'NoValues', undefined]);
  assert.equal(describeRange({}), 'no bounds');
});

test("the deprecated threshold, and no bounds at all, read as Flagger's", () => {
  assert.deepEqual(metricOf({ name: 'request-success-rate', threshold: 99 }).thresholdRange, { min: 99 });
  assert.deepEqual(metricOf({ name: 'request-duration', threshold: 500 }).thresholdRange, { max: 500 });
  assert.deepEqual(metricOf({ name: 'errors', query: 'x', threshold: 5 }).thresholdRange, { max: 5 });
  // Neither: Flagger compares with threshold 0, so any error at all fails the check.
  const errors = metricOf({ name: 'errors', query: 'x' });
  assert.equal(judge(errors, 0).ok, true);
  assert.equal(judge(errors, 0.1).ok, false);
  assert.equal(metricOf({ name: 'request-success-rate' }).thresholdRange.min, 0);
  // thresholdRange wins over threshold.
  assert.deepEqual(metricOf({ name: 'errors', query: 'x', threshold: 5, thresholdRange: { max: 7 } }).thresholdRange, { max: 7 });
});

test('the checks of a step run concurrently, each with its own verdict', async () => {
  const metrics = ['a', 'b', 'c'].map((name) => ({ name, query: `q_${name}`, thresholdRange: { max: 10 } }));
  let started = 0;
  let release: () => void = () => undefined;
  const allStarted = new Promise<void>((resolve) => (release = resolve));
  const providers = fakeProviders(async (query) => {
    started++;
    if (started === 3) release();
    // Sequential checks would never get here for the first query: it waits for the third to start.
    await Promise.race([allStarted, new Promise((_, reject) => setTimeout(() => reject(new Error('checks ran one at a time')), 2000))]);
    return query === 'q_b' ? 20 : 1;
  });
  const kube = new FakeKube();
  const verdicts = await runChecks(canary(metrics), { kube, metricsServer: 'http://prom:9090', createProvider: providers.createProvider });
  assert.deepEqual(
    verdicts.map((v) => [v.metric, v.ok, v.value, v.query]),
    [
      ['a', true, 1, 'q_a'],
      ['b', false, 20, 'q_b'],
      ['c', true, 1, 'q_c'],
    ],
  );
});

test('a MetricTemplate is read with its Secret, rendered, and asked of its own provider', async () => {
  const kube = new FakeKube();
  kube.put(
    template('errors', {
      provider: { type: 'prometheus', address: 'http://thanos:9090', secretRef: { name: 'prom-auth' }, insecureSkipVerify: true },
      query: 'sum(rate(errors{namespace="{{ namespace }}",app="{{ target }}",dir="{{ variables.direction }}"}[{{ interval }}]))',
    }),
  );
  kube.put(secret('prom-auth', { token: 's3cr3t' }));
  const providers = fakeProviders(() => 0.5);
  const c = canary([
    { name: 'error rate', templateRef: { name: 'errors', namespace: 'monitoring' }, interval: '2m', thresholdRange: { max: 1 }, templateVariables: { direction: 'inbound' } },
  ]);
  const controller = new AbortController();
  const [verdict] = await runChecks(c, { kube, metricsServer: 'http://prom:9090', createProvider: providers.createProvider, signal: controller.signal });
  assert.deepEqual(providers.created, [
    { type: 'prometheus', address: 'http://thanos:9090', secret: { token: 's3cr3t' }, insecureSkipVerify: true },
  ]);
  const expected = 'sum(rate(errors{namespace="test",app="podinfo",dir="inbound"}[2m]))';
  assert.equal(providers.asked[0]?.query, expected);
  assert.equal(providers.asked[0]?.opts.intervalMs, 120_000);
  assert.equal(providers.asked[0]?.opts.signal, controller.signal);
  assert.deepEqual(verdict, {
    metric: 'error rate',
    ok: true,
    value: 0.5,
    thresholdRange: { max: 1 },
    provider: 'prometheus',
    query: expected,
    message: 'error rate 0.5 within max 1',
  });
});

test('providers are cached per template and Secret resourceVersion', async () => {
  const kube = new FakeKube();
  kube.put(template('errors', { provider: { type: 'prometheus', address: 'http://p:9090', secretRef: { name: 'auth' } }, query: 'up' }));
  kube.put(secret('auth', { token: 'one' }, '5'));
  const providers = fakeProviders(() => 0);
  const deps: ChecksDeps = { kube, metricsServer: 'http://prom:9090', createProvider: providers.createProvider, providers: new ProviderCache() };
  const c = canary([
    { name: 'errors', templateRef: { name: 'errors', namespace: 'monitoring' }, thresholdRange: { max: 1 } },
    { name: 'request-success-rate', thresholdRange: { min: 99 } },
  ]);
  await runChecks(c, deps);
  await runChecks(c, deps);
  assert.equal(providers.created.length, 2, 'one provider for the template, one for --metrics-server');
  kube.put(secret('auth', { token: 'two' }, '6'));
  await runChecks(c, deps);
  assert.equal(providers.created.length, 3);
  assert.deepEqual(providers.created.at(-1)?.secret, { token: 'two' }, 'an edited Secret takes effect at the next step');
});

test('built-in checks and inline queries ask the Prometheus of spec.metricsServer, else --metrics-server', async () => {
  const providers = fakeProviders(() => 100);
  const metrics = [
    { name: 'request-success-rate', thresholdRange: { min: 99 } },
    { name: 'inline', query: 'sum(up{namespace="{{ namespace }}"})', thresholdRange: { min: 1 } },
  ];
  const deps = { kube: new FakeKube(), metricsServer: 'http://default:9090', createProvider: providers.createProvider };
  await runChecks(canary(metrics), deps);
  await runChecks(canary(metrics, { metricsServer: 'http://own:9090' }), deps);
  assert.deepEqual(
    providers.asked.map((a) => a.config.address),
    ['http://default:9090', 'http://default:9090', 'http://own:9090', 'http://own:9090'],
  );
  assert.match(providers.asked[0]?.query ?? '', /^sum\(rate\(istio_requests_total\{reporter="destination",destination_workload_namespace="test"/);
  assert.equal(providers.asked[1]?.query, 'sum(up{namespace="test"})', 'inline queries are rendered too');
});

test('whatever goes wrong becomes that check\'s explained, failed verdict', async () => {
  const kube = new FakeKube();
  kube.put(template('needs-var', { provider: { type: 'prometheus', address: 'http://p:9090' }, query: 'x{a="{{ variables.missing }}"}' }));
  kube.put(template('needs-secret', { provider: { type: 'prometheus', address: 'http://p:9090', secretRef: { name: 'absent' } }, query: 'x' }));
  kube.put(template('datadog', { provider: { type: 'datadog', address: 'http://p:9090' }, query: 'avg:x{*}' }));
  kube.put(template('empty', { provider: { type: 'prometheus', address: 'http://empty:9090' }, query: 'x' }));
  kube.put(template('down', { provider: { type: 'prometheus', address: 'http://down:9090' }, query: 'x' }));
  const providers = fakeProviders((_query, config) => {
    if (config.address === 'http://empty:9090') throw new FledgeError('NoValues', 'no values found');
    throw new Error('connect ECONNREFUSED');
  });
  const createProvider = (config: ProviderConfig): MetricProvider => {
    if (config.type === 'datadog') throw new FledgeError('UnknownProvider', 'metric provider "datadog" is not implemented');
    return providers.createProvider(config);
  };
  const ref = (name: string, extra: Record<string, unknown> = {}) => ({ name, templateRef: { name, namespace: 'monitoring' }, thresholdRange: { max: 1 }, ...extra });
  const c = canary([ref('nope'), ref('needs-var'), ref('needs-secret'), ref('datadog'), ref('empty'), ref('down'), ref('empty', { name: 'idle', noDataPolicy: 'wait' })]);
  const verdicts = await runChecks(c, { kube, metricsServer: 'http://prom:9090', createProvider });
  assert.deepEqual(
    verdicts.map((v) => [v.metric, v.ok, v.errorCode, v.wait ?? false]),
    [
      ['nope', false, 'InvalidSpec', false],
      ['needs-var', false, 'InvalidSpec', false],
      ['needs-secret', false, 'InvalidSpec', false],
      ['datadog', false, 'UnknownProvider', false],
      ['empty', false, 'NoValues', false],
      ['down', false, 'ProviderUnavailable', false],
      ['idle', false, 'NoValues', true],
    ],
  );
  assert.match(verdicts[0]?.message ?? '', /MetricTemplate monitoring\/nope not found/);
  assert.match(verdicts[1]?.message ?? '', /variables\.missing is not set/);
  assert.match(verdicts[2]?.message ?? '', /Secret monitoring\/absent \(secretRef of MetricTemplate monitoring\/needs-secret\) not found/);
  assert.equal(verdicts[4]?.query, 'x', 'a query that ran is recorded even without a value');
  assert.match(verdicts[5]?.message ?? '', /ECONNREFUSED/);
});
