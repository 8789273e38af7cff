/**
 * The alert dispatcher against a receiver on loopback, with AlertProviders and Secrets served from
 * memory and time on a manual clock: the severity filter, the Secret's address over the spec's, the
 * Bearer token, the global channels, the fields, and the bounds (a hanging or failing receiver costs
 * one timeout per attempt and one retry; a full queue drops; stop() ends everything).
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AlertSeverity, Canary } from '../../src/api/index.js';
import { parseCanary } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import { AlertDispatcher } from '../../src/controller/alerts.js';
import type { AlertDelivery, AlertingOptions } from '../../src/controller/alerts.js';
import { ManualClock } from '../integration/support/manual-clock.js';
import type { ReceivedPost, Receiver } from './notifier-receiver.js';
import { startReceiver } from './notifier-receiver.js';

const log = pino({ level: 'silent' });
let rx: Receiver;
before(async () => {
  rx = await startReceiver();
});
after(() => rx.close());
beforeEach(() => {
  rx.posts.length = 0;
  rx.answer(() => 200);
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const provider = (name: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'AlertProvider',
  metadata: { name, namespace },
  spec,
});

const secret = (name: string, data: Record<string, string>, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

/** A KubeApi serving `objects` by GET; anything else is a test failure. */
const memoryKube = (objects: KubeObject[]): KubeApi & { gets: ObjectRef[] } => {
  const no = (): Promise<never> => Promise.reject(new Error('not used by the dispatcher'));
  const gets: ObjectRef[] = [];
  return {
    gets,
    get: async (ref) => {
      gets.push(ref);
      return objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace);
    },
    list: no,
    create: no,
    replace: no,
    mergePatch: no,
    patchStatus: no,
    apply: no,
    delete: no,
  };
};

const canary = (alerts: unknown[], name = 'podinfo', status: Record<string, unknown> = {}): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace: 'default' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 9898 },
      analysis: { interval: '1m', threshold: 5, stepWeight: 10, maxWeight: 50, alerts },
    },
    status,
  });

interface Setup {
  dispatcher: AlertDispatcher;
  clock: ManualClock;
  deliveries: AlertDelivery[];
  kube: ReturnType<typeof memoryKube>;
}

const setup = (objects: KubeObject[], opts: AlertingOptions = {}): Setup => {
  const clock = new ManualClock(0);
  const deliveries: AlertDelivery[] = [];
  const kube = memoryKube(objects);
  const dispatcher = new AlertDispatcher({ kube, clock, log }, { ...opts, onDelivery: (d) => deliveries.push(d) });
  return { dispatcher, clock, deliveries, kube };
};

/** Lets sockets and promise chains run for a moment of real time (the clock stays still). */
const breathe = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Moves the manual clock in steps until `done()`, giving I/O time between steps; returns the time moved. */
const advanceUntil = async (clock: ManualClock, done: () => boolean, stepMs = 100, maxMs = 60_000): Promise<number> => {
  let moved = 0;
  while (!done()) {
    if (moved >= maxMs) throw new Error(`condition not met after ${maxMs}ms of clock time`);
    clock.advance(stepMs);
    moved += stepMs;
    await breathe(5);
  }
  return moved;
};

const messagesAt = (path: string): string[] =>
  rx.posts.filter((p) => p.url === path).map((p) => (p.body as { attachments: Array<{ text: string }> }).attachments[0]?.text ?? '');

const slackAt = (path: string): Record<string, unknown> => ({ type: 'slack', address: `${rx.url}${path}` });

test('severity filter: an info subscription gets everything, warn gets warn and error, error gets error only', async () => {
  const c = canary([
    { name: 'all', severity: 'info', providerRef: { name: 'all' } },
    { name: 'unset', providerRef: { name: 'unset' } },
    { name: 'warnings', severity: 'warn', providerRef: { name: 'warnings' } },
    { name: 'errors', severity: 'error', providerRef: { name: 'errors' } },
  ]);
  const { dispatcher } = setup([provider('all', slackAt('/all')), provider('unset', slackAt('/unset')), provider('warnings', slackAt('/warn')), provider('errors', slackAt('/error'))]);
  for (const severity of ['info', 'warn', 'error'] as AlertSeverity[]) dispatcher.dispatch(c, { severity, message: `a ${severity} alert` });
  await dispatcher.idle();
  assert.deepEqual(messagesAt('/all'), ['a info alert', 'a warn alert', 'a error alert']);
  assert.deepEqual(messagesAt('/unset'), ['a info alert', 'a warn alert', 'a error alert'], 'an unset severity means info');
  assert.deepEqual(messagesAt('/warn'), ['a warn alert', 'a error alert']);
  assert.deepEqual(messagesAt('/error'), ['a error alert']);
});

test("the Secret's address wins over the spec's, its token becomes a Bearer; channel and username default to general and flagger", async () => {
  const c = canary([{ name: 'on-call', providerRef: { name: 'on-call', namespace: 'ops' } }]);
  const objects = [
    provider('on-call', { type: 'slack', address: `${rx.url}/from-spec`, secretRef: { name: 'on-call-url' } }, 'ops'),
    secret('on-call-url', { address: `${rx.url}/from-secret\n`, token: 'xoxb-42' }, 'ops'),
  ];
  const { dispatcher, kube, deliveries } = setup(objects);
  dispatcher.dispatch(c, { severity: 'info', message: 'hello' });
  await dispatcher.idle();
  assert.deepEqual(rx.posts.map((p) => p.url), ['/from-secret']);
  const post = rx.posts[0] as ReceivedPost;
  assert.equal(post.headers.authorization, 'Bearer xoxb-42');
  assert.deepEqual([(post.body as { channel: string }).channel, (post.body as { username: string }).username], ['general', 'flagger']);
  assert.deepEqual(kube.gets.map((r) => `${r.kind} ${r.namespace}/${r.name}`), ['AlertProvider ops/on-call', 'Secret ops/on-call-url']);
  assert.deepEqual(deliveries.map((d) => [d.provider, d.type, d.ok, d.attempts]), [['ops/on-call', 'slack', true, 1]]);
});

test('a Secret without an address key leaves the spec address; channel and username come from the spec', async () => {
  const c = canary([{ name: 'teams', providerRef: { name: 'teams' } }]);
  const objects = [provider('teams', { type: 'slack', address: `${rx.url}/spec`, channel: 'deploys', username: 'fledge', secretRef: { name: 'tok' } }), secret('tok', { token: 't' })];
  const { dispatcher } = setup(objects);
  dispatcher.dispatch(c, { severity: 'info', message: 'hello' });
  await dispatcher.idle();
  assert.deepEqual(rx.posts.map((p) => [p.url, p.headers.authorization, (p.body as { channel: string }).channel, (p.body as { username: string }).username]), [['/spec', 'Bearer t', 'deploys', 'fledge']]);
});

test('an unusable provider is logged and counted; the other channels still get the alert', async () => {
  const c = canary([
    { name: 'missing', providerRef: { name: 'nope' } },
    { name: 'no-secret', providerRef: { name: 'no-secret' } },
    { name: 'no-address', providerRef: { name: 'no-address' } },
    { name: 'bad', providerRef: { name: 'bad' } },
    { name: 'good', providerRef: { name: 'good' } },
  ]);
  const objects = [
    provider('no-secret', { type: 'slack', secretRef: { name: 'absent' } }),
    provider('no-address', { type: 'msteams', secretRef: { name: 'empty' } }),
    secret('empty', { token: 'x' }),
    provider('bad', { type: 'pagerduty', address: 'https://example.invalid/x' }),
    provider('good', slackAt('/good')),
  ];
  const { dispatcher, deliveries } = setup(objects);
  dispatcher.dispatch(c, { severity: 'info', message: 'hello' });
  await dispatcher.idle();
  assert.deepEqual(messagesAt('/good'), ['hello']);
  const failed = deliveries.filter((d) => !d.ok).map((d) => [d.provider, d.reason, d.error]);
  assert.deepEqual(failed, [
    ['default/nope', 'ProviderUnavailable', 'AlertProvider default/nope not found'],
    ['default/no-secret', 'ProviderUnavailable', 'Secret default/absent of AlertProvider default/no-secret not found'],
    ['default/no-address', 'InvalidSpec', 'AlertProvider default/no-address has no address: neither spec.address nor the "address" key of Secret default/empty is set'],
    ['default/bad', 'InvalidSpec', 'AlertProvider "bad" is invalid: spec.type: must be one of: slack, msteams, discord, rocket, gchat, webhook'],
  ]);
});

test('a canary without alerts goes to the global Slack and Teams channels, every severity, Cluster first', async () => {
  const opts = { slackUrl: `${rx.url}/global-slack`, slackChannel: 'deploys', slackUser: 'bot', msteamsUrl: `${rx.url}/global-teams`, clusterName: 'prod-eu' };
  const { dispatcher, deliveries } = setup([], opts);
  dispatcher.dispatch(canary([]), { severity: 'warn', message: 'waiting for approval' });
  await dispatcher.idle();
  const slack = rx.posts.find((p) => p.url === '/global-slack')?.body as { channel: string; username: string; attachments: Array<{ fields: Array<{ title: string; value: string }> }> };
  assert.deepEqual([slack.channel, slack.username], ['deploys', 'bot']);
  assert.deepEqual(slack.attachments[0]?.fields[0], { title: 'Cluster', value: 'prod-eu', short: false });
  const teams = rx.posts.find((p) => p.url === '/global-teams')?.body as { sections: Array<{ facts: Array<{ name: string; value: string }> }> };
  assert.deepEqual(teams.sections[0]?.facts[0], { name: 'Cluster', value: 'prod-eu' });
  assert.deepEqual(deliveries.map((d) => d.provider).sort(), ['global/msteams', 'global/slack']);
  // A canary with alerts of its own never reaches the global channels.
  rx.posts.length = 0;
  const own = setup([provider('mine', slackAt('/mine'))], opts);
  own.dispatcher.dispatch(canary([{ name: 'mine', providerRef: { name: 'mine' } }]), { severity: 'error', message: 'x' });
  await own.dispatcher.idle();
  assert.deepEqual(rx.posts.map((p) => p.url), ['/mine']);
  assert.throws(() => setup([], { slackUrl: 'hooks.slack.com/x' }), /--slack-url: invalid Slack address/);
});

test('fields: the canary set-up on a new revision, the failed checks and the weight on a rollback, nothing extra otherwise', async () => {
  const c = canary([{ name: 'a', providerRef: { name: 'a' } }], 'podinfo', { phase: 'Progressing', canaryWeight: 30 });
  const { dispatcher } = setup([provider('a', slackAt('/a'))]);
  dispatcher.dispatch(c, { severity: 'info', message: 'New revision detected, progressing canary analysis.' });
  dispatcher.dispatch(c, {
    severity: 'error',
    message: 'Failed checks threshold reached 5, canary weight was 30',
    verdicts: [
      { metric: 'request-success-rate', ok: false, value: 87.456789123, thresholdRange: { min: 99 }, provider: 'prometheus', message: '' },
      { metric: 'request-duration', ok: false, value: 731, thresholdRange: { max: 500 }, message: '' },
      { metric: 'error-rate', ok: false, thresholdRange: { max: 1 }, provider: 'datadog', errorCode: 'NoValues', message: 'no values found' },
    ],
  });
  dispatcher.dispatch(c, { severity: 'info', message: 'Canary analysis completed successfully, promotion finished.' });
  await dispatcher.idle();
  const fields = rx.posts.map((p) => (p.body as { attachments: Array<{ fields: Array<{ title: string; value: string }> }> }).attachments[0]?.fields.map((f) => `${f.title} = ${f.value}`));
  assert.deepEqual(fields, [
    ['Target = Deployment/podinfo.default', 'Failed checks threshold = 5', 'Progress deadline = 600s', 'Traffic routing = Weight step: 10 max: 50 interval: 1m'],
    [
      'Failed check: request-success-rate = value 87.4568 is below the threshold min 99 (prometheus)',
      'Failed check: request-duration = value 731 is above the threshold max 500',
      'Failed check: error-rate = NoValues: no values found (datadog)',
      'Canary weight = 30%',
    ],
    [],
  ]);
  const colours = rx.posts.map((p) => (p.body as { attachments: Array<{ color: string }> }).attachments[0]?.color);
  assert.deepEqual(colours, ['good', 'danger', 'good']);
});

test('a hanging receiver: each attempt ends at the timeout, one retry after the pause, then a counted failure', async () => {
  rx.answer(() => 'hang');
  const { dispatcher, clock, deliveries } = setup([provider('slow', slackAt('/slow'))], { timeoutMs: 5_000, retryDelayMs: 1_000 });
  dispatcher.dispatch(canary([{ name: 'slow', providerRef: { name: 'slow' } }]), { severity: 'info', message: 'hello' });
  assert.equal(dispatcher.pending, 1, 'dispatch returns at once, the alert still on its way');
  await rx.received(1);
  clock.advance(4_999);
  await breathe();
  assert.deepEqual([deliveries.length, rx.posts.length], [0, 1], 'nothing gives up before the timeout');
  clock.advance(1);
  const untilRetry = await advanceUntil(clock, () => rx.posts.length === 2);
  assert.ok(untilRetry >= 1_000 && untilRetry <= 1_100, `the retry waits its pause (${untilRetry}ms)`);
  clock.advance(4_999);
  await breathe();
  assert.equal(deliveries.length, 0);
  clock.advance(1);
  await dispatcher.idle();
  assert.deepEqual(deliveries.map((d) => [d.ok, d.attempts, d.reason]), [[false, 2, 'ProviderUnavailable']]);
  assert.match(deliveries[0]?.error ?? '', /timed out after 5000ms/);
  assert.equal(rx.posts.length, 2, 'one retry, no more');
});

test('a 500 is retried once and may then pass; a 400 is not retried', async () => {
  rx.answer((_p, i) => (i === 0 ? 500 : 200));
  const { dispatcher, clock, deliveries } = setup([provider('p', slackAt('/p'))], { retryDelayMs: 1_000 });
  const c = canary([{ name: 'p', providerRef: { name: 'p' } }]);
  dispatcher.dispatch(c, { severity: 'info', message: 'hello' });
  await advanceUntil(clock, () => deliveries.length === 1);
  assert.deepEqual(deliveries.map((d) => [d.ok, d.attempts]), [[true, 2]]);
  rx.answer(() => 400);
  dispatcher.dispatch(c, { severity: 'info', message: 'again' });
  await dispatcher.idle();
  assert.deepEqual(deliveries.map((d) => [d.ok, d.attempts, d.reason]), [[true, 2, undefined], [false, 1, 'InvalidResponse']]);
  assert.equal(rx.posts.length, 3);
});

test("one canary's alerts go out in order; another canary's do not wait behind them", async () => {
  rx.answer((_p, i) => (i === 0 ? 'hang' : 200));
  const { dispatcher, clock } = setup([provider('p', slackAt('/p'))], { timeoutMs: 5_000, retryDelayMs: 1_000 });
  const subs = [{ name: 'p', providerRef: { name: 'p' } }];
  dispatcher.dispatch(canary(subs, 'first'), { severity: 'info', message: 'first #1' });
  dispatcher.dispatch(canary(subs, 'first'), { severity: 'info', message: 'first #2' });
  dispatcher.dispatch(canary(subs, 'second'), { severity: 'info', message: 'second #1' });
  await rx.received(2);
  await breathe(50);
  assert.deepEqual(messagesAt('/p'), ['first #1', 'second #1'], 'first #2 waits for first #1');
  await advanceUntil(clock, () => dispatcher.pending === 0);
  assert.deepEqual(messagesAt('/p'), ['first #1', 'second #1', 'first #1', 'first #2']);
});

test('the queue is bounded: past maxPending an alert is dropped and counted; stop() ends what is in flight', async () => {
  rx.answer(() => 'hang');
  const { dispatcher, deliveries } = setup([provider('p', slackAt('/p'))], { maxPending: 2 });
  const c = canary([{ name: 'p', providerRef: { name: 'p' } }]);
  for (const n of [1, 2, 3]) dispatcher.dispatch(c, { severity: 'info', message: `#${n}` });
  assert.equal(dispatcher.pending, 2);
  assert.deepEqual(deliveries.map((d) => [d.ok, d.reason]), [[false, 'QueueFull']]);
  await rx.received(1);
  await dispatcher.stop();
  assert.equal(dispatcher.pending, 0);
  assert.deepEqual(messagesAt('/p'), ['#1'], 'the queued alert is dropped, not sent');
  assert.match(deliveries.at(-1)?.error ?? '', /controller stopping/);
  dispatcher.dispatch(c, { severity: 'info', message: 'after stop' });
  assert.equal(dispatcher.pending, 0, 'a stopped dispatcher takes nothing');
});
