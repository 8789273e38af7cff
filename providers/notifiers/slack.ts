/**
 * Slack: an incoming-webhook message with one attachment, as Flagger sends it: author `name.namespace`,
 * colour `good` (or `danger` for an error), the message as markdown text and the alert's fields. With a
 * token (the AlertProvider Secret's `token` key) the same payload goes to Slack's Web API
 * chat.postMessage (the address, when set, overrides that URL) and Slack's `ok: false` answer counts
 * as a failure. Discord and Rocket.Chat take the same format (discord.ts, rocket.ts).
 */
import { FledgeError } from '../../src/api/index.js';
import { checkAddress, postJson } from './http.js';
import type { Alert, NotifierConfig, NotifierFactory } from './types.js';

export const SLACK_POST_MESSAGE_URL = 'https://slack.com/api/chat.postMessage';

export interface SlackField {
  title: string;
  value: string;
  short: boolean;
}

export interface SlackAttachment {
  color: string;
  author_name: string;
  text: string;
  mrkdwn_in: string[];
  fields: SlackField[];
}

export interface SlackPayload {
  channel: string;
  username: string;
  icon_emoji: string;
  attachments: SlackAttachment[];
}

export interface SlackColours {
  normal: string;
  error: string;
}

export const SLACK_COLOURS: SlackColours = { normal: 'good', error: 'danger' };

/** The Slack-format payload; Flagger marks every field long (`short: false`), and so do we. */
export const slackPayload = (alert: Alert, config: NotifierConfig, colours: SlackColours = SLACK_COLOURS): SlackPayload => ({
  channel: config.channel,
  username: config.username,
  icon_emoji: ':rocket:',
  attachments: [
    {
      color: alert.severity === 'error' ? colours.error : colours.normal,
      author_name: `${alert.name}.${alert.namespace}`,
      text: alert.message,
      mrkdwn_in: ['text'],
      fields: alert.fields.map((f) => ({ title: f.title, value: f.value, short: false })),
    },
  ],
});

/** The Web API answers 200 with `{"ok": false, "error": "channel_not_found"}` when it refuses a message. */
const checkWebApiAnswer = (body: string): void => {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return;
  }
  if (typeof answer === 'object' && answer !== null && (answer as { ok?: unknown }).ok === false) {
    const error = (answer as { error?: unknown }).error;
    throw new FledgeError('InvalidResponse', `Slack refused the message: ${typeof error === 'string' ? error : 'ok: false'}`);
  }
};

export const createSlackNotifier: NotifierFactory = (config, deps) => {
  const address = config.address || (config.token ? SLACK_POST_MESSAGE_URL : '');
  checkAddress('Slack', address);
  return {
    type: 'slack',
    async send(alert, signal) {
      const body = await postJson(address, slackPayload(alert, config), config, deps, signal);
      if (config.token) checkWebApiAnswer(body);
    },
  };
};
