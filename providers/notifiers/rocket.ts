/**
 * Rocket.Chat incoming webhooks accept Slack's attachment format; Flagger sends it with hex colours
 * (#0076D7, #FF0000 for an error) rather than Slack's names, which Rocket.Chat renders as given.
 */
import { checkAddress, postJson } from './http.js';
import { slackPayload } from './slack.js';
import type { NotifierFactory } from './types.js';

export const ROCKET_COLOURS = { normal: '#0076D7', error: '#FF0000' };

export const createRocketNotifier: NotifierFactory = (config, deps) => {
  const url = checkAddress('Rocket', config.address).toString();
  return {
    type: 'rocket',
    async send(alert, signal) {
      await postJson(url, slackPayload(alert, config, ROCKET_COLOURS), config, deps, signal);
    },
  };
};
