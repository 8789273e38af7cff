/**
 * Microsoft Teams: a legacy MessageCard, as Flagger sends it: summary and subtitle `name.namespace`,
 * the message as the activity title, the fields as facts, theme colour 0076D7 (FF0000 for an error).
 */
import { checkAddress, postJson } from './http.js';
import type { Alert, NotifierFactory } from './types.js';

export interface MessageCard {
  '@type': 'MessageCard';
  '@context': 'http://schema.org/extensions';
  themeColor: string;
  summary: string;
  sections: Array<{ activityTitle: string; activitySubtitle: string; facts: Array<{ name: string; value: string }> }>;
}

export const messageCard = (alert: Alert): MessageCard => {
  const subject = `${alert.name}.${alert.namespace}`;
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: alert.severity === 'error' ? 'FF0000' : '0076D7',
    summary: subject,
    sections: [{ activityTitle: alert.message, activitySubtitle: subject, facts: alert.fields.map((f) => ({ name: f.title, value: f.value })) }],
  };
};

export const createMSTeamsNotifier: NotifierFactory = (config, deps) => {
  const url = checkAddress('MS Teams', config.address).toString();
  return {
    type: 'msteams',
    async send(alert, signal) {
      await postJson(url, messageCard(alert), config, deps, signal);
    },
  };
};
