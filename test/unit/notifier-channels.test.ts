/**
 * Each channel's request as a receiver on loopback sees it: the JSON shape per type (Slack attachment,
 * Teams MessageCard, Google Chat card, Discord's Slack endpoint, Rocket's colours, the generic webhook),
 * the Bearer token, and which failures a retry may cure. Plus the registry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError } from '../../src/api/index.js';
import { createNotifier, knownNotifiers } from '../../providers/notifiers/index.js';
import { discordSlackUrl } from '../../providers/notifiers/discord.js';
import type { Alert, NotifierConfig } from '../../providers/notifiers/types.js';
import type { Receiver } from './notifier-receiver.js';
import { startReceiver } from './notifier-receiver.js';

let rx: Receiver;
before(async () => {
  rx = await startReceiver();
});
after(() => rx.close());

const alert = (over: Partial<Alert> = {}): Alert => ({
  name: 'podinfo',
  namespace: 'default',
  severity: 'info',
  message: 'New revision detected, progressing canary analysis.',
  fields: [
    { title: 'Target', value: 'Deployment/podinfo.default' },
    { title: 'Failed checks threshold', value: '10' },
  ],
  ...over,
});

const config = (path: string, over: Partial<NotifierConfig> = {}): NotifierConfig => ({
  address: `${rx.url}${path}`,
  channel: 'on-call',
  username: 'flagger',
  ...over,
});

/** Sends one alert and returns the request the receiver got. */
const sendOne = async (type: string, cfg: NotifierConfig, a: Alert = alert()) => {
  const before = rx.posts.length;
  await createNotifier(type, cfg).send(a, new AbortController().signal);
  assert.equal(rx.posts.length, before + 1, 'exactly one request per alert');
  const post = rx.posts.at(-1);
  assert.ok(post);
  assert.equal(post.method, 'POST');
  assert.equal(post.headers['content-type'], 'application/json');
  return post;
};

test('slack: one attachment authored name.namespace, good for info and danger for error, fields long', async () => {
  const info = await sendOne('slack', config('/services/T1/B2/x'));
  assert.equal(info.url, '/services/T1/B2/x');
  assert.deepEqual(info.body, {
    channel: 'on-call',
    username: 'flagger',
    icon_emoji: ':rocket:',
    attachments: [
      {
        color: 'good',
        author_name: 'podinfo.default',
        text: 'New revision detected, progressing canary analysis.',
        mrkdwn_in: ['text'],
        fields: [
          { title: 'Target', value: 'Deployment/podinfo.default', short: false },
          { title: 'Failed checks threshold', value: '10', short: false },
        ],
      },
    ],
  });
  const warn = await sendOne('slack', config('/s'), alert({ severity: 'warn' }));
  assert.equal((warn.body as { attachments: Array<{ color: string }> }).attachments[0]?.color, 'good', 'Flagger colours only errors');
  const error = await sendOne('slack', config('/s'), alert({ severity: 'error', message: 'Failed checks threshold reached 2' }));
  const attachment = (error.body as { attachments: Array<{ color: string; text: string }> }).attachments[0];
  assert.deepEqual([attachment?.color, attachment?.text], ['danger', 'Failed checks threshold reached 2']);
});

test('a token travels as a Bearer Authorization; without one no Authorization is sent', async () => {
  const withToken = await sendOne('slack', config('/api/chat.postMessage', { token: 'xoxb-123' }));
  assert.equal(withToken.headers.authorization, 'Bearer xoxb-123');
  const webhook = await sendOne('webhook', config('/hook', { token: 's3cret' }));
  assert.equal(webhook.headers.authorization, 'Bearer s3cret');
  const without = await sendOne('slack', config('/s'));
  assert.equal(without.headers.authorization, undefined);
});

test('slack with a token: a 200 carrying ok:false is a refusal, not a delivery', async () => {
  rx.answer(() => ({ status: 200, body: '{"ok":false,"error":"channel_not_found"}' }));
  try {
    const n = createNotifier('slack', config('/api/chat.postMessage', { token: 'xoxb-1' }));
    await assert.rejects(n.send(alert(), new AbortController().signal), (e) => isFledgeError(e, 'InvalidResponse') && /channel_not_found/.test(e.message));
    // An incoming webhook (no token) answers plain "ok": the body is not checked.
    await createNotifier('slack', config('/s')).send(alert(), new AbortController().signal);
  } finally {
    rx.answer(() => 200);
  }
});

test('msteams: a MessageCard with the message as title, name.namespace as subtitle, fields as facts', async () => {
  const info = await sendOne('msteams', config('/webhookb2/abc'));
  assert.deepEqual(info.body, {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: '0076D7',
    summary: 'podinfo.default',
    sections: [
      {
        activityTitle: 'New revision detected, progressing canary analysis.',
        activitySubtitle: 'podinfo.default',
        facts: [
          { name: 'Target', value: 'Deployment/podinfo.default' },
          { name: 'Failed checks threshold', value: '10' },
        ],
      },
    ],
  });
  const error = await sendOne('msteams', config('/webhookb2/abc'), alert({ severity: 'error' }));
  assert.equal((error.body as { themeColor: string }).themeColor, 'FF0000');
});

test('gchat: one card, the canary as subtitle, the message then one section per field, HTML escaped', async () => {
  const post = await sendOne('gchat', config('/v1/spaces/X/messages', { username: 'fledge' }), alert({ message: 'value 50 < 99' }));
  assert.deepEqual(post.body, {
    cards: [
      {
        header: { title: 'fledge', subtitle: 'podinfo.default' },
        sections: [
          { widgets: [{ textParagraph: { text: '<font color=#848484><strong>value 50 &lt; 99</strong></font>' } }] },
          { widgets: [{ textParagraph: { text: 'Target<br><font color=#848484><strong>Deployment/podinfo.default</strong></font>' } }] },
          { widgets: [{ textParagraph: { text: 'Failed checks threshold<br><font color=#848484><strong>10</strong></font>' } }] },
        ],
      },
    ],
  });
});

test('discord: the Slack payload, posted to the webhook URL with /slack appended', async () => {
  const post = await sendOne('discord', config('/api/webhooks/1/tok'), alert({ severity: 'error' }));
  assert.equal(post.url, '/api/webhooks/1/tok/slack');
  const body = post.body as { username: string; channel: string; attachments: Array<{ color: string; author_name: string }> };
  assert.deepEqual([body.username, body.channel, body.attachments[0]?.color, body.attachments[0]?.author_name], ['flagger', 'on-call', 'danger', 'podinfo.default']);
  assert.equal(discordSlackUrl('https://discord.com/api/webhooks/1/tok/slack'), 'https://discord.com/api/webhooks/1/tok/slack', 'not doubled');
  assert.equal(discordSlackUrl('https://discord.com/api/webhooks/1/tok/?wait=true'), 'https://discord.com/api/webhooks/1/tok/slack?wait=true');
});

test('rocket: the Slack payload with hex colours', async () => {
  const info = await sendOne('rocket', config('/hooks/abc'));
  const error = await sendOne('rocket', config('/hooks/abc'), alert({ severity: 'error' }));
  const colour = (p: typeof info): string | undefined => (p.body as { attachments: Array<{ color: string }> }).attachments[0]?.color;
  assert.deepEqual([colour(info), colour(error)], ['#0076D7', '#FF0000']);
  assert.equal((info.body as { attachments: Array<{ author_name: string }> }).attachments[0]?.author_name, 'podinfo.default');
});

test('webhook: the alert as plain data, verdicts included', async () => {
  const verdicts = [{ metric: 'request-success-rate', ok: false, value: 50, thresholdRange: { min: 99 }, provider: 'prometheus', message: '50 < 99' }];
  const post = await sendOne('webhook', config('/alerts'), alert({ severity: 'error', verdicts, cluster: 'prod-eu' }));
  assert.deepEqual(post.body, {
    name: 'podinfo',
    namespace: 'default',
    severity: 'error',
    message: 'New revision detected, progressing canary analysis.',
    fields: [
      { title: 'Target', value: 'Deployment/podinfo.default' },
      { title: 'Failed checks threshold', value: '10' },
    ],
    verdicts,
    cluster: 'prod-eu',
    channel: 'on-call',
    username: 'flagger',
  });
});

test('a 5xx or 429 may pass on retry (ProviderUnavailable); another non-2xx will not (InvalidResponse); any 2xx passes', async () => {
  const codeOf = async (status: number): Promise<string> => {
    rx.answer(() => ({ status, body: `status ${status} body` }));
    try {
      await createNotifier('slack', config('/s')).send(alert(), new AbortController().signal);
      return 'ok';
    } catch (e) {
      assert.ok(isFledgeError(e));
      assert.ok(e.message.includes(`HTTP ${status}: status ${status} body`), e.message);
      assert.ok(!e.message.includes('/s'), 'the URL path (the webhook secret) stays out of messages');
      return e.code;
    } finally {
      rx.answer(() => 200);
    }
  };
  assert.deepEqual(
    [await codeOf(500), await codeOf(503), await codeOf(429), await codeOf(400), await codeOf(404), await codeOf(501), await codeOf(202)],
    ['ProviderUnavailable', 'ProviderUnavailable', 'ProviderUnavailable', 'InvalidResponse', 'InvalidResponse', 'InvalidResponse', 'ok'],
  );
});

test('an unreachable receiver is ProviderUnavailable with the network reason', async () => {
  const closed = await startReceiver();
  const url = closed.url;
  await closed.close();
  const n = createNotifier('msteams', { address: `${url}/x`, channel: 'c', username: 'u' });
  await assert.rejects(n.send(alert(), new AbortController().signal), (e) => isFledgeError(e, 'ProviderUnavailable') && /ECONNREFUSED/.test(e.message));
});

test('the registry: every AlertProvider type, and an unknown one named with the known ones', () => {
  assert.deepEqual(knownNotifiers(), ['discord', 'gchat', 'msteams', 'rocket', 'slack', 'webhook']);
  assert.throws(
    () => createNotifier('pagerduty', config('/x')),
    (e) => isFledgeError(e, 'UnknownProvider') && e.message === 'unknown alert provider type "pagerduty" (known types: discord, gchat, msteams, rocket, slack, webhook)',
  );
  assert.throws(() => createNotifier('slack', config('/x', { address: 'hooks.slack.com/x' })), (e) => isFledgeError(e, 'InvalidSpec') && /not an absolute URL/.test(e.message));
  assert.throws(() => createNotifier('gchat', config('/x', { address: 'ftp://chat/x' })), (e) => isFledgeError(e, 'InvalidSpec') && /"ftp"/.test(e.message));
  assert.throws(() => createNotifier('slack', config('/x', { proxy: 'socks5://proxy:1080' })), (e) => isFledgeError(e, 'InvalidSpec') && /only http:\/\/ proxies/.test(e.message));
  // Slack with a token and no address posts to the Web API; without a token there is nowhere to post.
  assert.equal(createNotifier('slack', config('', { address: '', token: 'xoxb' })).type, 'slack');
  assert.throws(() => createNotifier('slack', config('', { address: '' })), (e) => isFledgeError(e, 'InvalidSpec'));
});
