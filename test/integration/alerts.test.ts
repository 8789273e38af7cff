/**
 * SCENARIO 25 and the alert wiring against the local cluster over HTTP: a Slack AlertProvider whose
 * address comes from its Secret gets a POST naming podinfo.default on init, on a new revision, on
 * promotion and on rollback, and exactly one danger-coloured message for the rollback, naming the
 * failing metric, its value and its threshold. A hanging channel never holds a step; the global
 * channels and --cluster-name work from the controller options and from the `fledge controller` flags.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { AlertDelivery } from '../../src/controller/alerts.js';
import { controllerCommand } from '../../src/cli/controller.js';
import type { KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import { eventually, meshCrds, repoRoot, startTestCluster } from './support/cluster.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';
import { setImage, targetReady } from './support/scenario-objects.js';
import { NEW_IMAGE, tickUntil, withAnalysis } from './support/scenario-steps.js';
import type { ReceivedPost, Receiver } from '../unit/notifier-receiver.js';
import { startReceiver } from '../unit/notifier-receiver.js';

interface SlackBody {
  channel: string;
  username: string;
  attachments: Array<{ color: string; author_name: string; text: string; fields: Array<{ title: string; value: string; short: boolean }> }>;
}

const attachmentOf = (p: ReceivedPost): SlackBody['attachments'][number] => {
  const a = (p.body as SlackBody).attachments[0];
  assert.ok(a, 'a Slack attachment');
  return a;
};

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A Slack AlertProvider `on-call` whose Secret holds the address (the spec's points elsewhere). */
const slackProvider = (rx: Receiver, spec: Record<string, unknown> = {}): KubeObject[] => [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'on-call-url', namespace: 'default' }, type: 'Opaque', data: { address: b64(`${rx.url}/services/T0/B0/secret`) } },
  {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'AlertProvider',
    metadata: { name: 'on-call', namespace: 'default' },
    spec: { type: 'slack', channel: 'deploys', address: `${rx.url}/not-this-one`, secretRef: { name: 'on-call-url' }, ...spec },
  },
];

const withAlert = (analysis: Record<string, unknown> = {}): KubeObject[] =>
  withAnalysis(fixtureObjects('podinfo-canary.yaml'), { alerts: [{ name: 'on-call', severity: 'info', providerRef: { name: 'on-call' } }], ...analysis });

const FAILING_SUCCESS_RATE = /istio_requests_total/;

describe('alerts', () => {
  let r: Rollout | undefined;
  let rx: Receiver | undefined;
  afterEach(async () => {
    await r?.close();
    await rx?.close();
    r = undefined;
    rx = undefined;
  });

  test('25: Slack gets podinfo.default on init, new revision, promotion and rollback; one danger message names the metric, value and threshold', async () => {
    rx = await startReceiver();
    r = await startRollout();
    await r.apply([...slackProvider(rx), ...withAlert({ threshold: 2 })]);
    await r.waitPhase('Initialized');
    await r.controller.alertDispatcher.idle();
    const texts = (): string[] => (rx?.posts ?? []).map((p) => attachmentOf(p).text);
    assert.deepEqual(texts(), ['New Deployment detected, initialization completed.']);
    const init = attachmentOf(rx.posts[0] as ReceivedPost);
    assert.equal(init.color, 'good');
    assert.deepEqual(init.fields.map((f) => f.title), ['Target', 'Failed checks threshold', 'Progress deadline', 'Traffic routing']);
    assert.equal(init.fields[0]?.value, 'Deployment/podinfo.default');

    // A healthy revision: detected, analysed, promoted.
    await setImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');
    await targetReady(r);
    await tickUntil(r, 'Succeeded');
    await r.controller.alertDispatcher.idle();
    assert.deepEqual(texts(), [
      'New Deployment detected, initialization completed.',
      'New revision detected, progressing canary analysis.',
      'Canary analysis completed successfully, promotion finished.',
    ]);

    // A failing revision: one healthy step to 90/10, then the success rate drops to 50 until the rollback.
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.2.0');
    await r.waitPhase('Progressing');
    await targetReady(r);
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
    r.prometheus.rule(FAILING_SUCCESS_RATE, 50);
    assert.deepEqual(await tickUntil(r, 'Failed'), ['Progressing', 'Progressing', 'Failed']);
    await r.tick();
    await r.controller.alertDispatcher.idle();

    assert.ok(rx.posts.every((p) => p.url === '/services/T0/B0/secret'), "every POST went to the Secret's address");
    assert.ok(rx.posts.every((p) => attachmentOf(p).author_name === 'podinfo.default'));
    assert.ok(rx.posts.every((p) => (p.body as SlackBody).channel === 'deploys' && (p.body as SlackBody).username === 'flagger'));
    assert.equal(texts().filter((t) => t === 'New revision detected, progressing canary analysis.').length, 2);
    const danger = rx.posts.map(attachmentOf).filter((a) => a.color === 'danger');
    assert.equal(danger.length, 1, `exactly one danger message: ${JSON.stringify(texts())}`);
    const rollback = danger[0];
    assert.equal(rollback?.text, 'Failed checks threshold reached 2, canary weight was 10');
    const failed = rollback?.fields.find((f) => f.title === 'Failed check: request-success-rate');
    assert.match(failed?.value ?? '', /^value 50 is below the threshold min 99\b/);
    assert.equal(rollback?.fields.find((f) => f.title === 'Failed check: request-duration'), undefined, 'the passing metric is not listed');
    assert.equal(rollback?.fields.find((f) => f.title === 'Canary weight')?.value, '10%');
    assert.equal(r.controller.alerts.filter((a) => a.severity === 'error').length, 1);
  });

  test('a hanging Slack receiver holds no step: init and analysis go on while its requests stay open, then time out and are counted', async () => {
    rx = await startReceiver(() => 'hang');
    const deliveries: AlertDelivery[] = [];
    r = await startRollout({ alerting: { onDelivery: (d) => deliveries.push(d) } });
    const startedAt = r.clock.now();
    await r.apply([...slackProvider(rx), ...withAlert()]);
    await r.waitPhase('Initialized');
    await rx.received(1);
    assert.equal(r.clock.now(), startedAt, 'initialized with no controller time spent waiting for Slack');
    assert.equal(r.controller.alertDispatcher.pending, 1, 'the init alert is still on its way');

    await setImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');
    await targetReady(r);
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false }, 'the step ran while Slack hung');
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 80, canary: 20, mirrored: false });
    // Each later tick moves the clock past the next timeout or pause: the alerts give up, counted.
    await eventually(async () => {
      await r?.tick();
      return deliveries.filter((d) => !d.ok).length >= 2;
    }, 'both alerts to fail');
    assert.ok(deliveries.every((d) => !d.ok && d.type === 'slack' && d.attempts === 2 && /timed out after 5000ms/.test(d.error ?? '')), JSON.stringify(deliveries));
  });

  test('a canary without alerts goes to the global Slack channel, with the cluster name', async () => {
    rx = await startReceiver();
    r = await startRollout({ alerting: { slackUrl: `${rx.url}/global`, slackChannel: 'fleet', slackUser: 'fledge', clusterName: 'dev-1' } });
    await r.apply(fixtureObjects('podinfo-canary.yaml'));
    await r.waitPhase('Initialized');
    await r.controller.alertDispatcher.idle();
    assert.deepEqual(rx.posts.map((p) => p.url), ['/global']);
    const body = rx.posts[0]?.body as SlackBody;
    assert.deepEqual([body.channel, body.username], ['fleet', 'fledge']);
    assert.deepEqual(body.attachments[0]?.fields[0], { title: 'Cluster', value: 'dev-1', short: false });
  });
});

describe('fledge controller alert flags', () => {
  test('--slack-url, --slack-channel, --slack-user and --cluster-name reach the messages; a bad --slack-url stops the start', async () => {
    const rx = await startReceiver();
    const c = await startTestCluster({ readyDelayMs: 20 });
    c.cluster.applyObjects(meshCrds());
    const args = ['--kubeconfig', c.kubeconfig, '--port', '0', '--log-level', 'warn', '--cluster-name', 'edge-7'];
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'fledge.js'), 'controller', ...args, '--slack-url', `${rx.url}/flags`, '--slack-channel', 'ops', '--slack-user', 'canary-bot'], { stdio: 'ignore' });
    try {
      const kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
      for (const o of fixtureObjects('podinfo-canary.yaml')) await kube.apply(o);
      await eventually(() => rx.posts.length > 0, 'the init alert', 30_000);
      const body = rx.posts[0]?.body as SlackBody;
      assert.equal(rx.posts[0]?.url, '/flags');
      assert.deepEqual([body.channel, body.username, body.attachments[0]?.author_name], ['ops', 'canary-bot', 'podinfo.default']);
      assert.deepEqual(body.attachments[0]?.fields[0], { title: 'Cluster', value: 'edge-7', short: false });
      await assert.rejects(controllerCommand.run(['--kubeconfig', c.kubeconfig, '--slack-url', 'hooks.slack.com/x'], {}), /--slack-url: invalid Slack address: not an absolute URL/);
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      await rx.close();
      await c.close();
    }
  });
});
