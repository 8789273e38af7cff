/**
 * SCENARIOS 21-23 against the local cluster over HTTP: the order of the hook calls over a healthy run,
 * the confirm-rollout gate served by the controller itself, and the webhook contract (payload, exact
 * URL, non-2xx, retries, checksum) as a real HTTP receiver on loopback sees it.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';
import { eventually } from './support/cluster.js';
import type { ReceivedCall, WebhookReceiver } from './support/webhook-receiver.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';
import { NEW_IMAGE, canaryEvents, initializedWith, patchImage, podinfoDeployment, replicasOf, setImage, tickUntil, withAnalysis } from './support/scenario-steps.js';

type Hook = Record<string, unknown> & { name: string; type: string; url: string };

const hook = (receiver: WebhookReceiver, type: string, extra: Record<string, unknown> = {}): Hook => ({ name: `${type}-hook`, type, url: `${receiver.url}/${type}`, ...extra });

const withHooks = (objects: KubeObject[], webhooks: Hook[], analysis: Record<string, unknown> = {}): KubeObject[] => withAnalysis(objects, { ...analysis, webhooks });

const pathOf = (url: string): string => url.split('?', 1)[0] ?? url;

describe('hook scenarios', () => {
  let r: Rollout | undefined;
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await r?.close();
    await receiver?.close();
    r = undefined;
    receiver = undefined;
  });

  test('21: confirm-rollout at Initialized, pre-rollout, confirm-traffic-increase before each step, rollout each tick, confirm-promotion, post-rollout at Succeeded', async () => {
    receiver = await startWebhookReceiver((call) => (pathOf(call.url) === '/rollback' ? 403 : 200));
    const types = ['confirm-rollout', 'pre-rollout', 'confirm-traffic-increase', 'rollout', 'confirm-promotion', 'post-rollout', 'rollback'];
    const objects = withHooks(fixtureObjects('podinfo-canary.yaml'), types.map((t) => hook(receiver as WebhookReceiver, t)), { stepWeight: 20, maxWeight: 40 });
    r = await initializedWith(objects);
    assert.deepEqual(receiver.calls, [], 'initialization calls no hook');

    const live = r;
    // What the canary looked like when each hook was called: its stored phase and traffic split.
    receiver.observe(async () => {
      const s = await live.status();
      return `${s.phase}@${(await live.routes()).canary}`;
    });
    await setImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');
    const phases = await tickUntil(r, 'Succeeded');
    assert.deepEqual(phases, ['Progressing', 'Progressing', 'Promoting', 'Finalising', 'Succeeded']);

    const calls = (receiver.calls as ReceivedCall[]).map((c) => [pathOf(c.url).slice(1), c.body.phase, c.seen]);
    assert.deepEqual(
      calls.filter(([type]) => type !== 'rollback'),
      [
        ['confirm-rollout', 'Initialized', 'Initialized@0'],
        ['pre-rollout', 'Progressing', 'Progressing@0'],
        ['confirm-traffic-increase', 'Progressing', 'Progressing@0'],
        ['rollout', 'Progressing', 'Progressing@20'],
        ['confirm-traffic-increase', 'Progressing', 'Progressing@20'],
        ['rollout', 'Progressing', 'Progressing@40'],
        ['confirm-promotion', 'Progressing', 'Progressing@40'],
        ['post-rollout', 'Succeeded', 'Succeeded@0'],
      ],
    );
    // Rollback hooks are asked once per analysis tick, before anything else of that tick.
    const ticks = calls.map(([type]) => type).join(' ');
    assert.match(ticks, /^confirm-rollout rollback pre-rollout confirm-traffic-increase rollback rollout confirm-traffic-increase rollback rollout confirm-promotion post-rollout$/);
    const events = (await canaryEvents(r)).map((e) => e.message);
    for (const passed of ['Confirm-rollout check confirm-rollout-hook passed', 'Pre-rollout check pre-rollout-hook passed', 'Confirm-promotion check confirm-promotion-hook passed', 'Post-rollout check post-rollout-hook passed']) {
      assert.ok(events.includes(passed), `event "${passed}" in ${JSON.stringify(events)}`);
    }
  });

  test('22: a closed confirm-rollout gate holds the canary in Waiting, unscaled, with one warning alert; /gate/open lets it progress', async () => {
    r = await startRollout();
    const gate = `${r.controller.url}/gate/check`;
    await r.apply(withHooks(fixtureObjects('podinfo-canary.yaml'), [{ name: 'gate', type: 'confirm-rollout', url: gate }]));
    await r.waitPhase('Initialized');

    await patchImage(r, NEW_IMAGE);
    await r.waitPhase('Waiting');
    const held = async (): Promise<void> => {
      assert.equal((await r?.status())?.phase, 'Waiting');
      assert.equal(await replicasOf(r as Rollout, 'podinfo'), 0, 'the canary is not scaled up');
      assert.deepEqual(await r?.routes(), { primary: 100, canary: 0, mirrored: false });
      const warnings = r?.controller.alerts.filter((a) => a.severity === 'warn') ?? [];
      assert.deepEqual(
        warnings.map((a) => [a.canary, a.message]),
        [['default/podinfo', 'Halt podinfo.default advancement waiting for approval gate']],
      );
      const halt = (await canaryEvents(r as Rollout)).filter((e) => e.message.startsWith('Halt podinfo.default advancement waiting for approval'));
      assert.deepEqual(halt.map((e) => [e.type, e.count]), [['Warning', 1]]);
    };
    await held();
    await r.tick();
    await r.tick();
    await held();

    const open = await fetch(`${r.controller.url}/gate/open`, { method: 'POST', body: JSON.stringify({ name: 'podinfo', namespace: 'default' }) });
    assert.equal(open.status, 202);
    const check = await fetch(gate, { method: 'POST', body: JSON.stringify({ name: 'podinfo', namespace: 'default' }) });
    assert.equal(check.status, 200);
    await r.tick();
    const progressing = await r.status();
    assert.deepEqual([progressing.phase, progressing.canaryWeight, progressing.failedChecks], ['Progressing', 0, 0]);
    assert.equal(await replicasOf(r, 'podinfo'), 1);
    assert.ok((await canaryEvents(r)).some((e) => e.message === 'Confirm-rollout check gate passed'));
  });

  test('23: the payload is POSTed as JSON to the exact URL; 2xx passes, non-2xx counts a failed check', async () => {
    receiver = await startWebhookReceiver((call) => (pathOf(call.url) === '/failing' ? 500 : 202));
    const exact = `${receiver.url}/hooks/check?team=a&x=1`;
    const webhooks = [
      { name: 'passing', type: 'rollout', url: exact, metadata: { owner: 'team-a', cmd: 'hey -z 1m' } },
      { name: 'failing', type: 'rollout', url: `${receiver.url}/failing` },
    ];
    r = await initializedWith(withHooks(fixtureObjects('podinfo-canary.yaml'), webhooks));
    await setImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false }, 'the pre-rollout tick calls no rollout hook');
    assert.deepEqual(receiver.calls, []);

    await r.tick();
    const [first, second] = receiver.calls as Array<ReceivedCall | undefined>;
    assert.equal(receiver.calls.length, 2);
    assert.equal(first?.method, 'POST');
    assert.equal(first?.url, '/hooks/check?team=a&x=1');
    assert.equal(first?.contentType, 'application/json');
    assert.deepEqual(Object.keys(JSON.parse(first?.raw ?? '{}') as object), ['name', 'namespace', 'phase', 'checksum', 'metadata']);
    const lastAppliedSpec = ((await r.canary()).status as { lastAppliedSpec?: string }).lastAppliedSpec;
    assert.deepEqual(first?.body, { name: 'podinfo', namespace: 'default', phase: 'Progressing', checksum: lastAppliedSpec, metadata: { cmd: 'hey -z 1m', owner: 'team-a' } });
    assert.ok(lastAppliedSpec && lastAppliedSpec.length > 0);
    assert.equal(second?.url, '/failing');
    assert.equal(second?.body.metadata, undefined, 'a hook without metadata sends none');

    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks, s.canaryWeight], ['Progressing', 1, 10]);
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
    const halted = (await canaryEvents(r)).find((e) => e.message === 'Halt podinfo.default advancement external check passing, failing failed');
    assert.equal(halted?.type, 'Warning');
    // Each call is counted by type and result.
    assert.equal(await r.controller.metrics.read('fledge_webhook_requests_total', { type: 'rollout', result: 'success' }), 1);
    assert.equal(await r.controller.metrics.read('fledge_webhook_requests_total', { type: 'rollout', result: 'failure' }), 1);
  });

  test('23: retries: 1 turns 500-then-200 into a success; without retries a 500 fails', async () => {
    receiver = await startWebhookReceiver((call, index) => (pathOf(call.url) === '/flaky' && index === 0 ? 500 : pathOf(call.url) === '/broken' ? 500 : 200));
    const webhooks = [
      { name: 'flaky', type: 'pre-rollout', url: `${receiver.url}/flaky`, retries: 1 },
      { name: 'broken', type: 'rollout', url: `${receiver.url}/broken` },
    ];
    r = await initializedWith(withHooks(fixtureObjects('podinfo-canary.yaml'), webhooks));
    await setImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');

    // The retry waits its backoff on the controller's clock: let the interval pass, then the backoff.
    await r.settle();
    r.clock.advance(60_000);
    await eventually(() => receiver?.callsTo('/flaky').length === 1, 'the first attempt');
    await eventually(async () => {
      r?.clock.advance(1_000);
      return receiver?.callsTo('/flaky').length === 2;
    }, 'the retry');
    await r.settle();
    const afterRetry = await r.status();
    assert.deepEqual([afterRetry.failedChecks, afterRetry.canaryWeight], [0, 10], 'the retried pre-rollout hook passed');
    assert.ok((await canaryEvents(r)).some((e) => e.message === 'Pre-rollout check flaky passed'));

    await r.tick();
    assert.equal(receiver.callsTo('/broken').length, 1, 'no retries by default');
    const afterBroken = await r.status();
    assert.deepEqual([afterBroken.failedChecks, afterBroken.canaryWeight], [1, 10]);
  });

  test('23: the checksum changes when the template or a tracked config changes, and only then', async () => {
    receiver = await startWebhookReceiver(() => 403);
    const objects = withHooks(fixtureObjects('podinfo-configs.yaml'), [hook(receiver, 'confirm-rollout')]);
    r = await initializedWith(objects);
    const checksums = (): string[] => receiver?.calls.map((c) => c.body.checksum) ?? [];
    const applyConfig = async (name: string, data: Record<string, string>): Promise<void> => {
      await r?.kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
    };
    const deploy = podinfoDeployment(fixtureObjects('podinfo-configs.yaml'));

    await setImage(r, NEW_IMAGE, deploy);
    await r.waitPhase('Waiting');
    await r.tick();
    const [a, aAgain] = checksums();
    assert.equal(aAgain, a, 'an unchanged revision keeps its checksum');
    assert.equal(a, ((await r.canary()).status as { lastAppliedSpec?: string }).lastAppliedSpec);

    await applyConfig('podinfo-unused', { anything: 'changed' });
    await r.tick();
    assert.equal(checksums().at(-1), a, 'an untracked ConfigMap is not part of the checksum');

    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.2.0', deploy);
    await r.tick();
    const b = checksums().at(-1);
    assert.notEqual(b, a, 'a new template changes the checksum');

    await applyConfig('podinfo-env', { color: 'green' });
    await r.tick();
    const c = checksums().at(-1);
    assert.ok(c !== a && c !== b, 'a tracked config change changes the checksum');
    assert.ok(checksums().every((x) => /^[0-9a-z]+$/.test(x)));
    assert.equal((await r.status()).phase, 'Waiting');
  });
});
