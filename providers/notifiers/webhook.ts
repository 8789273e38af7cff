/**
 * A generic JSON webhook (Fledge's own type; Flagger has none): the alert as plain data, for receivers
 * that route or store alerts themselves. The body is documented in providers/notifiers/README.md and
 * only grows (new keys), never renames.
 */
import { checkAddress, postJson } from './http.js';
import type { Alert, NotifierFactory } from './types.js';

export interface WebhookAlertBody {
  name: string;
  namespace: string;
  severity: string;
  message: string;
  fields: Array<{ title: string; value: string }>;
  /** The checks behind a rollback: metric, value, thresholdRange, provider, message (and errorCode). */
  verdicts: Array<Record<string, unknown>>;
  phase?: string;
  cluster?: string;
  channel: string;
  username: string;
}

export const webhookBody = (alert: Alert, channel: string, username: string): WebhookAlertBody => ({
  name: alert.name,
  namespace: alert.namespace,
  severity: alert.severity,
  message: alert.message,
  fields: alert.fields.map((f) => ({ title: f.title, value: f.value })),
  verdicts: (alert.verdicts ?? []).map((v) => ({ ...v })),
  ...(alert.phase === undefined ? {} : { phase: alert.phase }),
  ...(alert.cluster === undefined ? {} : { cluster: alert.cluster }),
  channel,
  username,
});

export const createWebhookNotifier: NotifierFactory = (config, deps) => {
  const url = checkAddress('webhook', config.address).toString();
  return {
    type: 'webhook',
    async send(alert, signal) {
      await postJson(url, webhookBody(alert, config.channel, config.username), config, deps, signal);
    },
  };
};
