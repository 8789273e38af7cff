/**
 * The demo's Slack-webhook stand-in: Fledge's own Slack notifier posts to it, it answers as Slack
 * does, keeps the messages in order, and formats them for a terminal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { verdictField } from '../../src/controller/alert-content.js';
import { messages } from '../../src/engine/messages.js';
import type { Alert } from '../../providers/notifiers/types.js';
import { createSlackNotifier } from '../../providers/notifiers/slack.js';
import { formatSlackMessage, startSlackReceiver } from '../../src/demo/slack-receiver.js';
import type { SlackMessage, SlackReceiver } from '../../src/demo/slack-receiver.js';

let receiver: SlackReceiver;
before(async () => {
  receiver = await startSlackReceiver();
});
after(async () => receiver.close());

const send = async (alert: Alert): Promise<void> => {
  const notifier = createSlackNotifier({ address: receiver.url, channel: '#deploys', username: 'flagger' }, {});
  await notifier.send(alert, AbortSignal.timeout(5000));
};

const rollback: Alert = {
  name: 'podinfo',
  namespace: 'test',
  severity: 'error',
  message: messages.withWeight(messages.thresholdRollbackAlert(5), 10),
  fields: [
    { title: 'Cluster', value: 'demo' },
    verdictField({ metric: 'request-success-rate', ok: false, value: 80.5, thresholdRange: { min: 99 }, provider: 'prometheus', message: '' }),
    verdictField({ metric: 'request-duration', ok: false, value: 812.25, thresholdRange: { max: 500 }, provider: 'prometheus', message: '' }),
    { title: 'Canary weight', value: '10%' },
  ],
};

test("a rollback alert as Fledge's Slack notifier sends it: canary, message and failed checks, in red", async () => {
  const seen: SlackMessage[] = [];
  const unsubscribe = receiver.onMessage((m) => seen.push(m));
  const before = receiver.messages().length;
  await send(rollback);
  unsubscribe();
  assert.equal(receiver.messages().length, before + 1);
  assert.equal(seen.length, 1);
  const message = receiver.messages().at(-1);
  assert.ok(message);
  assert.equal(seen[0], message);
  assert.equal(
    formatSlackMessage(message),
    [
      'slack (flagger in #deploys):',
      '  [red] podinfo.test',
      '    Failed checks threshold reached 5, canary weight was 10',
      '    Cluster: demo',
      '    Failed check: request-success-rate: value 80.5 is below the threshold min 99 (prometheus)',
      '    Failed check: request-duration: value 812.25 is above the threshold max 500 (prometheus)',
      '    Canary weight: 10%',
    ].join('\n'),
  );
});

test('messages are kept in arrival order; info alerts are green; a removed listener hears nothing', async () => {
  let heard = 0;
  const unsubscribe = receiver.onMessage(() => (heard += 1));
  unsubscribe();
  const start = receiver.messages().length;
  await send({ name: 'podinfo', namespace: 'test', severity: 'info', message: messages.newRevisionAlert(), fields: [] });
  await send({ name: 'podinfo', namespace: 'test', severity: 'info', message: messages.promotionCompletedAlert(), fields: [] });
  const got = receiver.messages().slice(start);
  assert.deepEqual(
    got.map((m) => m.attachments?.[0]?.text),
    ['New revision detected, progressing canary analysis.', 'Canary analysis completed successfully, promotion finished.'],
  );
  assert.equal(heard, 0);
  assert.equal(formatSlackMessage(got[1] ?? {}).split('\n')[1], '  [green] podinfo.test');
});

test('answers as Slack does: 200 ok, 400 invalid_payload or no_text, 405 for other methods; form bodies with payload', async () => {
  const post = (body: string, type = 'application/json') =>
    fetch(receiver.url, { method: 'POST', headers: { 'Content-Type': type }, body }).then(async (r) => [r.status, await r.text()]);
  const start = receiver.messages().length;
  assert.deepEqual(await post('{"text":"hello"}'), [200, 'ok']);
  assert.deepEqual(await post('{not json'), [400, 'invalid_payload']);
  assert.deepEqual(await post('[1,2]'), [400, 'invalid_payload']);
  assert.deepEqual(await post('{"username":"x"}'), [400, 'no_text']);
  assert.deepEqual(await post(`payload=${encodeURIComponent('{"text":"from a form"}')}`, 'application/x-www-form-urlencoded'), [200, 'ok']);
  const get = await fetch(receiver.url);
  assert.equal(get.status, 405);
  assert.deepEqual(
    receiver.messages().slice(start).map((m) => m.text),
    ['hello', 'from a form'],
  );
});

test('formatting: top-level text, blocks, warning and custom colours, titles; ANSI only when asked', () => {
  const body: SlackMessage = {
    text: 'Deployment report',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Canary podinfo' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*weight* 20%' }, fields: [{ type: 'mrkdwn', text: 'phase: Progressing' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'cluster demo' }] },
      { type: 'divider' },
    ],
    attachments: [
      { color: 'warning', title: 'Halted', text: 'waiting for approval\nsecond line', fields: [{ title: 'Gate', value: 'confirm-promotion' }] },
      { color: '#36a64f', text: 'custom colour' },
      { fallback: 'only a fallback' },
    ],
  };
  const plainText = formatSlackMessage(body);
  assert.equal(
    plainText,
    [
      'slack:',
      '  Deployment report',
      '  Canary podinfo',
      '  *weight* 20%',
      '  phase: Progressing',
      '  cluster demo',
      '  [yellow] Halted',
      '    waiting for approval',
      '    second line',
      '    Gate: confirm-promotion',
      '  [#36a64f]',
      '    custom colour',
      '    only a fallback',
    ].join('\n'),
  );
  assert.ok(!plainText.includes('\u001b'), 'no escape sequences');
  const coloured = formatSlackMessage({ attachments: [{ color: 'danger', author_name: 'podinfo.test', text: 'rolled back' }] }, { ansi: true });
  assert.equal(coloured.split('\n')[1], '  \u001b[31m[red] podinfo.test\u001b[0m');
});
