/**
 * Metric analysis end to end against the local cluster: a MetricTemplate and its Secret read by the
 * controller, the query rendered and sent with the Secret's token to a Prometheus fake, a failing
 * template metric rolling the canary back with its verdict in the event, the status and the alert;
 * `noDataPolicy: wait`; and `fledge analyze` as a child process, now and (with a real Prometheus
 * backfilled with history) over a past window.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { CheckVerdict } from '../../src/engine/index.js';
import type { TestCluster } from './support/cluster.js';
import { repoRoot, run, startTestCluster } from './support/cluster.js';
import type { PrometheusFake } from './support/prometheus-fake.js';
import { startPrometheusFake } from './support/prometheus-fake.js';
import { openMetricsCounter, prometheusMissing, startPrometheus } from '../../src/devtools/prometheus.js';
import type { Rollout } from './support/rollout.js';
import { eventsOf, fixture, initialized, setImage, targetReady } from './support/scenario-objects.js';

const TOKEN = 's3cr3t-token';
const TEMPLATE_QUERY = `sum(rate(http_requests_total{namespace="{{ namespace }}",app="{{ target }}",code=~"{{ variables.codes }}"}[{{ interval }}]))
  / sum(rate(http_requests_total{namespace="{{ namespace }}",app="{{ target }}"}[{{ interval }}])) * 100`;
const RENDERED = 'sum(rate(http_requests_total{namespace="default",app="podinfo",code=~"5.."}[30s])) / sum(rate(http_requests_total{namespace="default",app="podinfo"}[30s])) * 100';

const templateObjects = (address: string, query = TEMPLATE_QUERY): KubeObject[] => [
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'prom-auth', namespace: 'default' },
    data: { token: Buffer.from(TOKEN).toString('base64') },
  },
  {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    metadata: { name: 'error-rate', namespace: 'default' },
    spec: { provider: { type: 'prometheus', address, secretRef: { name: 'prom-auth' } }, query },
  },
];

const errorRate = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'error-rate',
  templateRef: { name: 'error-rate' },
  thresholdRange: { max: 5 },
  interval: '30s',
  templateVariables: { codes: '5..' },
  ...extra,
});

/** Detects a new revision and takes the first step (pre-rollout, no checks yet): routes 90/10. */
const atFirstStep = async (r: Rollout): Promise<void> => {
  await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
  await r.waitPhase('Progressing');
  await targetReady(r);
  await r.tick();
  assert.equal((await r.status()).canaryWeight, 10);
};

const statusList = async (r: Rollout, key: string): Promise<CheckVerdict[]> =>
  ((await r.canary()).status as Record<string, unknown>)[key] as CheckVerdict[];

describe('metric analysis', () => {
  let r: Rollout | undefined;
  let backend: PrometheusFake | undefined;
  afterEach(async () => {
    await r?.close();
    await backend?.close();
    r = undefined;
    backend = undefined;
  });

  test('a failing MetricTemplate metric rolls the canary back, explained in events, status, alert and listener', async () => {
    backend = await startPrometheusFake(1);
    const objects = [...templateObjects(backend.url), ...fixture({}, { threshold: 2, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }, errorRate()] })];
    r = await initialized(objects);
    const seen: Array<[string, string, number | undefined]> = [];
    r.controller.onVerdict((canary, v) => seen.push([canary.metadata.name, v.metric, v.value]));
    await atFirstStep(r);
    await r.tick();
    assert.equal((await r.status()).canaryWeight, 20, 'the template metric passes at 1%');
    assert.deepEqual(backend.requests.at(-1), { query: RENDERED, authorization: `Bearer ${TOKEN}` });
    assert.deepEqual(
      (await statusList(r, 'lastChecks')).map((v) => [v.metric, v.ok, v.value]),
      [
        ['request-success-rate', true, 100],
        ['error-rate', true, 1],
      ],
    );

    backend.rule(/code=~"5\.\."/, 12);
    await r.tick();
    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks, s.canaryWeight], ['Progressing', 1, 20]);
    const warnings = (await eventsOf(r)).filter((e) => e.type === 'Warning').map((e) => e.message);
    assert.ok(warnings.includes('Halt podinfo.default advancement error-rate 12.00 > 5'), warnings.join('\n'));
    const [failed] = await statusList(r, 'lastFailedChecks');
    assert.deepEqual(failed, {
      metric: 'error-rate',
      ok: false,
      value: 12,
      thresholdRange: { max: 5 },
      provider: 'prometheus',
      query: RENDERED,
      message: 'error-rate 12 > 5',
    });

    await r.tick();
    await r.tick();
    assert.equal((await r.status()).phase, 'Failed');
    const alert = r.controller.alerts.find((a) => a.severity === 'error' && a.message.startsWith('Failed checks threshold reached 2'));
    assert.ok(alert, JSON.stringify(r.controller.alerts));
    assert.deepEqual(
      alert.verdicts?.map((v) => [v.metric, v.value, v.thresholdRange.max, v.query]),
      [['error-rate', 12, 5, RENDERED]],
      'the rollback alert says which metric failed with what value against what threshold',
    );
    assert.ok(seen.some(([name, metric, value]) => name === 'podinfo' && metric === 'error-rate' && value === 12));
    assert.ok(seen.some(([, metric, value]) => metric === 'request-success-rate' && value === 100));
  });

  test('noDataPolicy: wait holds the step without failing until data arrives; the CRD refuses other policies', async () => {
    backend = await startPrometheusFake();
    backend.rule(/http_requests_total/, undefined);
    const objects = [...templateObjects(backend.url), ...fixture({}, { threshold: 1, metrics: [errorRate({ noDataPolicy: 'wait' })] })];
    r = await initialized(objects);
    await atFirstStep(r);
    await r.tick();
    await r.tick();
    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks, s.canaryWeight], ['Progressing', 0, 10]);
    const waits = (await eventsOf(r)).filter((e) => e.message.includes('waiting for data (noDataPolicy: wait)'));
    assert.ok(waits.length >= 1);
    backend.clearRules();
    backend.rule(/http_requests_total/, 0.5);
    await r.tick();
    assert.equal((await r.status()).canaryWeight, 20, 'data arrived: the analysis advances');

    const canary = await r.canary();
    const spec = structuredClone(canary['spec']) as { analysis: { metrics: unknown[] } };
    spec.analysis.metrics = [errorRate({ noDataPolicy: 'ignore' })];
    const bad = { apiVersion: canary.apiVersion, kind: canary.kind, metadata: { name: 'podinfo', namespace: 'default' }, spec };
    const applied = await r.c.kubectl(['apply', '-f', '-'], JSON.stringify(bad));
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /noDataPolicy/);
    assert.match(applied.stderr, /"fail", "wait"/);
  });
});

describe('fledge analyze', () => {
  let c: TestCluster;
  let kube: ClientNodeKubeApi;
  let backend: PrometheusFake;
  let builtin: PrometheusFake;
  const fledge = join(repoRoot(), 'bin', 'fledge.js');
  const analyze = (...args: string[]) => run(process.execPath, [fledge, 'analyze', '--kubeconfig', c.kubeconfig, ...args], process.env);

  before(async () => {
    c = await startTestCluster();
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    backend = await startPrometheusFake(12);
    builtin = await startPrometheusFake(99.5);
    const canary = fixture({}, { threshold: 2, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }, errorRate()] }).filter((o) => o.kind === 'Canary');
    for (const o of [...templateObjects(backend.url), ...canary]) await kube.apply(o);
  });
  after(async () => {
    await backend.close();
    await builtin.close();
    await c.close();
  });

  test('runs the checks now and prints metric, query, value, range and verdict, touching nothing', async () => {
    const before = await kube.get({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'podinfo' });
    const result = await analyze('--canary', 'podinfo', '-n', 'default', '--metrics-server', builtin.url);
    assert.equal(result.code, 1, `a failing check exits 1\n${result.stdout}\n${result.stderr}`);
    const lines = result.stdout.split('\n');
    assert.ok(lines.includes('request-success-rate  PASS  value 99.5  (range min 99)'), result.stdout);
    assert.ok(lines.includes('error-rate  FAIL  value 12  (range max 5): error-rate 12 > 5'), result.stdout);
    assert.ok(lines.includes(`  query:  ${RENDERED}`), result.stdout);
    assert.ok(lines.includes(`  source: prometheus (MetricTemplate default/error-rate)`), result.stdout);
    assert.match(result.stdout, /1 of 2 checks failed/);
    assert.deepEqual(backend.requests.at(-1), { query: RENDERED, authorization: `Bearer ${TOKEN}` });
    assert.match(builtin.queries.at(-1) ?? '', /istio_requests_total/);
    const afterRun = await kube.get({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'podinfo' });
    assert.equal(afterRun?.metadata.resourceVersion, before?.metadata.resourceVersion, 'the Canary is not written');

    const only = await analyze('--canary', 'podinfo', '--template', 'error-rate', '--metrics-server', builtin.url);
    assert.doesNotMatch(only.stdout, /request-success-rate/);
    const missing = await analyze('--canary', 'nope');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Canary default\/nope not found/);
  });

  test('replays the checks over a past window and says what the analysis would have decided', { skip: prometheusMissing() }, async () => {
    // Two hours ago: 20 minutes at 1% errors, then 20 minutes at 20%.
    const start = Math.floor(Date.now() / 1000) - 7200;
    const samples = (rate: (t: number) => number): Array<[number, number]> => {
      const out: Array<[number, number]> = [];
      let total = 0;
      for (let t = start; t <= start + 2400; t += 15) out.push([t, (total += rate(t) * 15)]);
      return out;
    };
    const errors = (t: number): number => (t - start < 1200 ? 1 : 20);
    const history = openMetricsCounter('http_requests', [
      { labels: { namespace: 'default', app: 'podinfo', code: '500' }, samples: samples(errors) },
      { labels: { namespace: 'default', app: 'podinfo', code: '200' }, samples: samples((t) => 100 - errors(t)) },
    ]);
    const prometheus = await startPrometheus({ backfill: `${history}# EOF\n` });
    try {
      for (const o of templateObjects(prometheus.url)) await kube.apply(o);
      const iso = (s: number): string => new Date(s * 1000).toISOString();
      const result = await analyze('--canary', 'podinfo', '--template', 'error-rate', '--from', iso(start + 450), '--to', iso(start + 2400), '--step', '5m');
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}\n${prometheus.log()}`);
      assert.match(result.stdout, /error-rate=1 +-> advance: canary weight 10/);
      assert.match(result.stdout, /error-rate=20 \(fail\) +-> failed check 1\/2: error-rate 20 > 5/);
      const decisions = result.stdout.split('\n').filter((l) => l.includes('-> ')).map((l) => l.slice(l.indexOf('-> ') + 3));
      assert.deepEqual(decisions, [
        'advance: canary weight 10',
        'advance: canary weight 20',
        'advance: canary weight 30',
        'failed check 1/2: error-rate 20 > 5',
        'failed check 2/2: error-rate 20 > 5',
        'roll back: failed checks threshold reached 2',
      ]);
      assert.match(result.stdout, new RegExp(`would have rolled the canary back at ${iso(start + 1950).replace('.000Z', 'Z')}`));
    } finally {
      await prometheus.stop();
    }
  });
});
