/**
 * SCENARIO 24 against the local cluster over HTTP: the controller's event webhook (`--event-webhook`)
 * receives every event it records on the Canary, with Flagger's event metadata; a Canary's own
 * `event` hooks take its events instead; a failing receiver changes nothing else.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';
import type { WebhookReceiver } from './support/webhook-receiver.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';
import { NEW_IMAGE, canaryEvents, setImage, tickUntil, withAnalysis } from './support/scenario-steps.js';

const pathOf = (url: string): string => url.split('?', 1)[0] ?? url;

/** Init, a new revision and a healthy analysis to Succeeded; returns the phases after each tick. */
const healthyRun = async (r: Rollout, objects = fixtureObjects('podinfo-canary.yaml')): Promise<string[]> => {
  await r.apply(withAnalysis(objects, { stepWeight: 25, maxWeight: 50 }));
  await r.waitPhase('Initialized');
  await setImage(r, NEW_IMAGE);
  await r.waitPhase('Progressing');
  return tickUntil(r, 'Succeeded');
};

/** Every occurrence of every Kubernetes Event on the Canary, as `type: message` (count expanded). */
const recordedEvents = async (r: Rollout): Promise<string[]> =>
  (await canaryEvents(r)).flatMap((e) => Array.from({ length: e.count }, () => `${e.type}: ${e.message}`)).sort();

describe('event webhook scenario', () => {
  let r: Rollout | undefined;
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await r?.close();
    await receiver?.close();
    r = undefined;
    receiver = undefined;
  });

  test('24: every event is POSTed to --event-webhook with eventMessage, eventType and timestamp', async () => {
    receiver = await startWebhookReceiver();
    r = await startRollout({ eventWebhook: `${receiver.url}/events?cluster=dev` });
    const startedAt = r.clock.now();
    await healthyRun(r);

    const calls = receiver.calls;
    assert.ok(calls.every((c) => c.method === 'POST' && c.url === '/events?cluster=dev' && c.contentType === 'application/json'));
    const posted = calls.map((c) => `${c.body.metadata?.eventType}: ${c.body.metadata?.eventMessage}`);
    assert.deepEqual([...posted].sort(), await recordedEvents(r), 'the webhook saw exactly the recorded events');
    assert.ok(posted.length >= 8, `a whole run reports its steps (${posted.length} events)`);
    for (const c of calls) {
      assert.deepEqual(Object.keys(c.body.metadata ?? {}), ['eventMessage', 'eventType', 'timestamp']);
      assert.deepEqual([c.body.name, c.body.namespace], ['podinfo', 'default']);
      const at = Number(c.body.metadata?.timestamp);
      assert.ok(Number.isInteger(at) && at >= startedAt && at <= r.clock.now(), `timestamp ${c.body.metadata?.timestamp} is Unix milliseconds of the controller's clock`);
    }
    // Events arrive in the order they happened, each with the phase the canary had reached.
    const phaseOf = (message: string): string | undefined => calls.find((c) => c.body.metadata?.eventMessage === message)?.body.phase;
    assert.equal(phaseOf('Initialization done! podinfo.default'), 'Initialized');
    assert.equal(phaseOf('New revision detected! Scaling up podinfo.default'), 'Progressing');
    assert.equal(phaseOf('Advance podinfo.default canary weight 25'), 'Progressing');
    assert.equal(phaseOf('Promotion completed! Scaling down podinfo.default'), 'Succeeded');
    const order = ['Initialization done!', 'New revision detected!', 'Starting canary analysis', 'Advance podinfo.default canary weight 25', 'Advance podinfo.default canary weight 50', 'Copying', 'Routing all traffic to primary', 'Promotion completed!'];
    const firstIndex = order.map((prefix) => calls.findIndex((c) => (c.body.metadata?.eventMessage ?? '').startsWith(prefix)));
    assert.ok(firstIndex.every((i, n) => i >= 0 && (n === 0 || i > (firstIndex[n - 1] ?? -1))), `in order: ${JSON.stringify(firstIndex)}`);
    const revision = calls.find((c) => c.body.phase === 'Succeeded')?.body.checksum;
    assert.equal(revision, ((await r.canary()).status as { lastAppliedSpec?: string }).lastAppliedSpec);
  });

  test('24: a Canary with event hooks sends its events there instead of to --event-webhook', async () => {
    receiver = await startWebhookReceiver();
    r = await startRollout({ eventWebhook: `${receiver.url}/global` });
    const objects = withAnalysis(fixtureObjects('podinfo-canary.yaml'), {
      webhooks: [{ name: 'audit', type: 'event', url: `${receiver.url}/audit`, metadata: { team: 'a', eventType: 'overridden' } }],
    });
    await healthyRun(r, objects);
    assert.deepEqual(receiver.callsTo('/global'), []);
    const audit = receiver.callsTo('/audit');
    assert.deepEqual(audit.map((c) => `${c.body.metadata?.eventType}: ${c.body.metadata?.eventMessage}`).sort(), await recordedEvents(r));
    // The hook's metadata comes along; the event's own keys win over it.
    assert.ok(audit.every((c) => c.body.metadata?.team === 'a' && c.body.metadata.eventType !== 'overridden'));
  });

  test('24: a failing event receiver is only logged: the run, its status and its events are those of a healthy one', async () => {
    receiver = await startWebhookReceiver((call) => (pathOf(call.url) === '/down' ? 500 : 200));
    const logged: Array<{ msg?: string; url?: string; statusCode?: number }> = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
    r = await startRollout({ eventWebhook: `${receiver.url}/down`, log });
    const phases = await healthyRun(r);
    assert.deepEqual(phases, ['Progressing', 'Progressing', 'Promoting', 'Finalising', 'Succeeded']);
    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks, s.canaryWeight], ['Succeeded', 0, 0]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    const events = await recordedEvents(r);
    // (The primary may still be rolling out at the first init tick: that warning is scenario 1's.)
    const warnings = events.filter((e) => e.startsWith('Warning') && !e.includes('podinfo-primary.default not ready'));
    assert.deepEqual(warnings, [], 'no warning on the Canary for a failing receiver');
    const posted = receiver.callsTo('/down').map((c) => `${c.body.metadata?.eventType}: ${c.body.metadata?.eventMessage}`);
    assert.deepEqual(posted.sort(), events, 'each event was tried once, without retries');
    const failures = logged.filter((l) => l.msg === 'webhook failed');
    assert.equal(failures.length, posted.length, 'each failed delivery is logged');
    assert.ok(failures.every((l) => l.url === `${receiver?.url}/down` && l.statusCode === 500));
    assert.deepEqual(r.controller.alerts.map((a) => a.severity), ['info', 'info', 'info']);
  });
});
