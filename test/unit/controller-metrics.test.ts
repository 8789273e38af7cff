/**
 * The controller's metrics: the exposition (names, types, labels, values) after recorded ticks, the
 * counters other parts call, the counting KubeApi decorator, and the Grafana dashboard's queries
 * against the series the registry really exposes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { parseCanary } from '../../src/api/index.js';
import type { Canary, CanaryPhase } from '../../src/api/index.js';
import type { TickOutcome } from '../../src/engine/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { countingKubeApi } from '../../src/controller/api-requests.js';
import type { KubeVerb } from '../../src/controller/api-requests.js';
import { ControllerMetrics, statusValue } from '../../src/controller/metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples and `# TYPE` lines of a text exposition (format 0.0.4). */
const parse = (text: string): { samples: Sample[]; types: Map<string, string> } => {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, types };
};

/** The one sample of `name` with exactly these labels; undefined when there is none. */
const valueOf = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined => {
  const want = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
};

const canary = (name: string, target: string, analysis: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace: 'test' },
    spec: {
      provider: 'istio',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      service: { port: 9898 },
      analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10, ...analysis },
      ...spec,
    },
  });

const outcome = (previousPhase: CanaryPhase | undefined, phase: CanaryPhase | undefined, more: Partial<TickOutcome> = {}): TickOutcome => ({
  phase,
  previousPhase,
  action: 'Idle',
  reason: '',
  requeue: 'interval',
  verdicts: [],
  ...more,
});

const newMetrics = (): ControllerMetrics => new ControllerMetrics({ version: '1.2.3', meshProvider: 'istio' });

test('flagger_info and the types of every family, with no series on the global registry', async () => {
  const m = newMetrics();
  const { samples, types } = parse(await m.render());
  assert.equal(valueOf(samples, 'flagger_info', { version: '1.2.3', mesh_provider: 'istio' }), 1);
  assert.deepEqual(Object.fromEntries([...types].sort()), {
    flagger_canary_duration_seconds: 'histogram',
    flagger_canary_failures_total: 'counter',
    flagger_canary_metric_analysis: 'gauge',
    flagger_canary_status: 'gauge',
    flagger_canary_successes_total: 'counter',
    flagger_canary_total: 'gauge',
    flagger_canary_weight: 'gauge',
    flagger_info: 'gauge',
    fledge_api_requests_total: 'counter',
    fledge_notifications_total: 'counter',
    fledge_provider_query_duration_seconds: 'histogram',
    fledge_webhook_requests_total: 'counter',
  });
  assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
  assert.equal((await globalRegistry.metrics()).includes('flagger_'), false);
});

test('two controllers in one process keep separate registries', async () => {
  const a = newMetrics();
  const b = newMetrics();
  a.countApiRequest('get');
  assert.equal(await a.read('fledge_api_requests_total', { verb: 'get' }), 1);
  assert.equal(await b.read('fledge_api_requests_total', { verb: 'get' }), undefined);
});

test('a rollout step: status 0, both weight series, the last value of each check, one duration sample', async () => {
  const m = newMetrics();
  const c = canary('podinfo-canary', 'podinfo');
  m.recordTick(
    c,
    outcome('Progressing', 'Progressing', {
      action: 'WeightIncreased',
      routes: { primary: 80, canary: 20, mirrored: false },
      verdicts: [
        { metric: 'request-success-rate', ok: true, value: 99.5, thresholdRange: { min: 99 }, message: '' },
        { metric: 'latency', ok: false, thresholdRange: { max: 1 }, errorCode: 'NoValues', message: 'no values' },
      ],
    }),
    0.25,
  );
  const { samples } = parse(await m.render());
  // Flagger labels per-canary series with the target's name, not the Canary's.
  assert.equal(valueOf(samples, 'flagger_canary_status', { name: 'podinfo', namespace: 'test' }), 0);
  assert.equal(valueOf(samples, 'flagger_canary_weight', { workload: 'podinfo-primary', namespace: 'test' }), 80);
  assert.equal(valueOf(samples, 'flagger_canary_weight', { workload: 'podinfo', namespace: 'test' }), 20);
  assert.equal(valueOf(samples, 'flagger_canary_metric_analysis', { name: 'podinfo', namespace: 'test', metric: 'request-success-rate' }), 99.5);
  // A check without a value leaves no series.
  assert.equal(samples.some((s) => s.name === 'flagger_canary_metric_analysis' && s.labels.metric === 'latency'), false);
  assert.equal(valueOf(samples, 'flagger_canary_duration_seconds_count', { name: 'podinfo', namespace: 'test' }), 1);
  assert.equal(valueOf(samples, 'flagger_canary_duration_seconds_sum', { name: 'podinfo', namespace: 'test' }), 0.25);
  assert.equal(valueOf(samples, 'flagger_canary_duration_seconds_bucket', { name: 'podinfo', namespace: 'test', le: '0.1' }), 0);
  assert.equal(valueOf(samples, 'flagger_canary_duration_seconds_bucket', { name: 'podinfo', namespace: 'test', le: '0.25' }), 1);

  // The next step moves the weights and replaces the check's value; an idle tick is not timed.
  m.recordTick(c, outcome('Progressing', 'Progressing', { action: 'WeightIncreased', routes: { primary: 70, canary: 30, mirrored: false }, verdicts: [{ metric: 'request-success-rate', ok: true, value: 100, thresholdRange: {}, message: '' }] }), 0.5);
  m.recordTick(c, outcome('Progressing', 'Progressing', { action: 'WaitingForCanary' }), 9);
  assert.equal(await m.read('flagger_canary_weight', { workload: 'podinfo' }), 30);
  assert.equal(await m.read('flagger_canary_weight', { workload: 'podinfo-primary' }), 70);
  assert.equal(await m.read('flagger_canary_metric_analysis', { metric: 'request-success-rate' }), 100);
  assert.equal(await m.read('flagger_canary_duration_seconds_count', { name: 'podinfo' }), 2);
  assert.equal(await m.read('flagger_canary_duration_seconds_sum', { name: 'podinfo' }), 0.75);
});

test('flagger_canary_status follows Flagger: 0 under way, 2 failed, 1 otherwise', () => {
  const running: CanaryPhase[] = ['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting', 'Finalising'];
  const other: Array<CanaryPhase | undefined> = [undefined, 'Initializing', 'Initialized', 'Succeeded', 'Terminating', 'Terminated'];
  assert.deepEqual(running.map(statusValue), [0, 0, 0, 0, 0]);
  assert.deepEqual(other.map(statusValue), [1, 1, 1, 1, 1, 1]);
  assert.equal(statusValue('Failed'), 2);
});

test('successes and failures count once per transition, labelled with the strategy and the analysis status', async () => {
  const m = newMetrics();
  const canaryStrategy = canary('a', 'app-a');
  m.recordTick(canaryStrategy, outcome('Finalising', 'Succeeded', { action: 'Succeeded' }), 0);
  // Staying Succeeded counts nothing more.
  m.recordTick(canaryStrategy, outcome('Succeeded', 'Succeeded'), 0);
  const blueGreen = canary('b', 'app-b', { iterations: 3, maxWeight: undefined, stepWeight: undefined });
  m.recordTick(blueGreen, outcome('Progressing', 'Failed', { action: 'RolledBack' }), 0);
  const ab = canary('c', 'app-c', { iterations: 2, match: [{ headers: { x: { exact: '1' } } }], maxWeight: undefined, stepWeight: undefined });
  m.recordTick(ab, outcome('Progressing', 'Failed', { action: 'RolledBack' }), 0);
  const skipped = canary('d', 'app-d', {}, { skipAnalysis: true });
  m.recordTick(skipped, outcome('Progressing', 'Succeeded', { action: 'AnalysisSkipped' }), 0);

  const { samples } = parse(await m.render());
  const labels = (name: string, strategy: string, status = 'completed') => ({ name, namespace: 'test', deployment_strategy: strategy, analysis_status: status });
  assert.equal(valueOf(samples, 'flagger_canary_successes_total', labels('app-a', 'canary')), 1);
  assert.equal(valueOf(samples, 'flagger_canary_failures_total', labels('app-b', 'blue-green')), 1);
  assert.equal(valueOf(samples, 'flagger_canary_failures_total', labels('app-c', 'ab-testing')), 1);
  assert.equal(valueOf(samples, 'flagger_canary_successes_total', labels('app-d', 'canary', 'skipped')), 1);
  assert.equal(samples.filter((s) => s.name === 'flagger_canary_successes_total').length, 2);
  assert.equal(samples.filter((s) => s.name === 'flagger_canary_failures_total').length, 2);
  assert.equal(valueOf(samples, 'flagger_canary_status', { name: 'app-b', namespace: 'test' }), 2);
  assert.equal(valueOf(samples, 'flagger_canary_status', { name: 'app-a', namespace: 'test' }), 1);
});

test('flagger_canary_total: counted at scrape time by the callback, else from the canaries that ticked', async () => {
  const counts = new Map([['prod', 3]]);
  const withCache = new ControllerMetrics({ version: 'v', meshProvider: 'kubernetes', canariesPerNamespace: () => counts });
  assert.equal(await withCache.read('flagger_canary_total', { namespace: 'prod' }), 3);
  counts.delete('prod');
  counts.set('dev', 1);
  assert.equal(await withCache.read('flagger_canary_total', { namespace: 'prod' }), undefined);
  assert.equal(await withCache.read('flagger_canary_total', { namespace: 'dev' }), 1);

  const m = newMetrics();
  m.recordTick(canary('one', 'app-1'), outcome(undefined, 'Initialized'), 0);
  m.recordTick(canary('two', 'app-2'), outcome(undefined, 'Initialized'), 0);
  assert.equal(await m.read('flagger_canary_total', { namespace: 'test' }), 2);
  m.forget('test', 'one');
  assert.equal(await m.read('flagger_canary_total', { namespace: 'test' }), 1);
});

test('a deleted Canary loses its gauges but keeps its counters; a new target drops the old series', async () => {
  const m = newMetrics();
  const c = canary('podinfo', 'podinfo');
  m.recordTick(c, outcome('Progressing', 'Progressing', { action: 'WeightIncreased', routes: { primary: 90, canary: 10, mirrored: false }, verdicts: [{ metric: 'rate', ok: true, value: 1, thresholdRange: {}, message: '' }] }), 0.1);
  m.recordTick(c, outcome('Progressing', 'Failed', { action: 'RolledBack', routes: { primary: 100, canary: 0, mirrored: false } }), 0);
  m.forget('test', 'podinfo');
  const after = parse(await m.render()).samples;
  for (const gauge of ['flagger_canary_status', 'flagger_canary_weight', 'flagger_canary_metric_analysis']) {
    assert.equal(after.some((s) => s.name === gauge), false, gauge);
  }
  assert.equal(await m.read('flagger_canary_failures_total', { name: 'podinfo' }), 1);
  assert.equal(await m.read('flagger_canary_duration_seconds_count', { name: 'podinfo' }), 1);

  m.recordTick(canary('web', 'web-v1'), outcome(undefined, 'Initialized', { routes: { primary: 100, canary: 0, mirrored: false } }), 0);
  m.recordTick(canary('web', 'web-v2'), outcome(undefined, 'Initialized', { routes: { primary: 100, canary: 0, mirrored: false } }), 0);
  assert.equal(await m.read('flagger_canary_weight', { workload: 'web-v1-primary' }), undefined);
  assert.equal(await m.read('flagger_canary_status', { name: 'web-v1' }), undefined);
  assert.equal(await m.read('flagger_canary_weight', { workload: 'web-v2-primary' }), 100);
});

test('counters for notifiers, webhooks, providers and API requests', async () => {
  let now = 10;
  const m = new ControllerMetrics({ version: 'v', meshProvider: 'istio', seconds: () => now });
  m.countNotification('slack', 'success');
  m.countNotification('slack', 'success');
  m.countNotification('msteams', 'failure');
  m.countWebhook('pre-rollout', 'success');
  m.countWebhook('confirm-promotion', 'failure');
  m.countApiRequest('patch');
  const answer = await m.timeProviderQuery('prometheus', async () => {
    now += 0.2;
    return 42;
  });
  assert.equal(answer, 42);
  await assert.rejects(
    m.timeProviderQuery('datadog', async () => {
      now += 3;
      throw new Error('unavailable');
    }),
    /unavailable/,
  );
  const { samples } = parse(await m.render());
  assert.equal(valueOf(samples, 'fledge_notifications_total', { type: 'slack', result: 'success' }), 2);
  assert.equal(valueOf(samples, 'fledge_notifications_total', { type: 'msteams', result: 'failure' }), 1);
  assert.equal(valueOf(samples, 'fledge_webhook_requests_total', { type: 'pre-rollout', result: 'success' }), 1);
  assert.equal(valueOf(samples, 'fledge_webhook_requests_total', { type: 'confirm-promotion', result: 'failure' }), 1);
  assert.equal(valueOf(samples, 'fledge_api_requests_total', { verb: 'patch' }), 1);
  assert.ok(Math.abs((valueOf(samples, 'fledge_provider_query_duration_seconds_sum', { provider: 'prometheus' }) ?? -1) - 0.2) < 1e-9);
  // A failed query is timed too.
  assert.equal(valueOf(samples, 'fledge_provider_query_duration_seconds_count', { provider: 'datadog' }), 1);
  assert.equal(valueOf(samples, 'fledge_provider_query_duration_seconds_bucket', { provider: 'datadog', le: '2.5' }), 0);
  assert.equal(valueOf(samples, 'fledge_provider_query_duration_seconds_bucket', { provider: 'datadog', le: '5' }), 1);
});

test('countingKubeApi counts each call by Kubernetes verb and passes arguments and results through', async () => {
  const calls: string[] = [];
  const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'd' } };
  const ref: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: 'd' };
  const inner: KubeApi = {
    get: async (r) => (calls.push(`get ${r.name}`), obj),
    list: async (v, k, ns, sel) => (calls.push(`list ${v} ${k} ${ns} ${sel}`), [obj]),
    create: async () => (calls.push('create'), obj),
    replace: async () => (calls.push('replace'), obj),
    mergePatch: async (_r, p) => (calls.push(`mergePatch ${JSON.stringify(p)}`), obj),
    patchStatus: async () => (calls.push('patchStatus'), obj),
    apply: async () => (calls.push('apply'), obj),
    delete: async () => void calls.push('delete'),
  };
  const verbs: KubeVerb[] = [];
  const api = countingKubeApi(inner, (verb) => verbs.push(verb));
  assert.equal(await api.get(ref), obj);
  assert.deepEqual(await api.list('v1', 'ConfigMap', 'd', 'a=b'), [obj]);
  await api.create(obj);
  await api.replace(obj);
  await api.mergePatch(ref, { data: { k: 'v' } });
  await api.patchStatus(ref, {});
  await api.apply(obj);
  await api.delete(ref);
  assert.deepEqual(verbs, ['get', 'list', 'create', 'update', 'patch', 'patch', 'patch', 'delete']);
  assert.deepEqual(calls, ['get x', 'list v1 ConfigMap d a=b', 'create', 'replace', 'mergePatch {"data":{"k":"v"}}', 'patchStatus', 'apply', 'delete']);
  assert.equal(api.createEvent, undefined);

  const withEvents = countingKubeApi({ ...inner, createEvent: async () => void calls.push('event') }, (verb) => verbs.push(verb));
  await withEvents.createEvent?.(obj);
  assert.equal(verbs.at(-1), 'create');
  assert.equal(calls.at(-1), 'event');
});

test('the Grafana dashboard queries only series the registry exposes, with unique panel ids', async () => {
  const dashboard = JSON.parse(readFileSync(join(process.cwd(), 'helm', 'fledge', 'dashboards', 'fledge.json'), 'utf8')) as {
    uid: string;
    panels: Array<{ id: number; type: string; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
    templating: { list: Array<{ name: string; query: unknown }> };
  };
  const { types, samples } = parse(await newMetrics().render());
  const exposed = new Set([...types.keys()]);
  for (const [name, type] of types) if (type === 'histogram') for (const part of ['_bucket', '_sum', '_count']) exposed.add(name + part);
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  exprs.push(...dashboard.templating.list.map((v) => JSON.stringify(v.query)));
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(?:flagger|fledge)_[a-z_]+/g)].map((x) => x[0])));
  assert.ok(used.size >= 10, [...used].join(' '));
  for (const name of used) assert.ok(exposed.has(name), `${name} is not exposed`);
  // Every Flagger family and every one of ours appears on some panel.
  for (const family of types.keys()) assert.ok([...used].some((u) => u.startsWith(family)), `${family} has no panel`);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const p of dashboard.panels) for (const t of p.targets ?? []) assert.equal(t.datasource.uid, '${datasource}');
  assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'job', 'namespace', 'target']);
  assert.ok(samples.length > 0);
});
