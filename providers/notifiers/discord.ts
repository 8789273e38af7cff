/**
 * Discord through its Slack-compatible webhook endpoint: the Slack payload (colour `good`/`danger`),
 * posted to the webhook URL with `/slack` appended to its path unless it already ends so, as Flagger does.
 */
import { checkAddress, postJson } from './http.js';
import { slackPayload } from './slack.js';
import type { NotifierFactory } from './types.js';

/** The webhook URL with `/slack` as the last path segment (query kept). */
export const discordSlackUrl = (address: string): string => {
  const url = checkAddress('Discord', address);
  if (!url.pathname.endsWith('/slack')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/slack`;
  return url.toString();
};

export const createDiscordNotifier: NotifierFactory = (config, deps) => {
  const url = discordSlackUrl(config.address);
  return {
    type: 'discord',
    async send(alert, signal) {
      await postJson(url, slackPayload(alert, config), config, deps, signal);
    },
  };
};
