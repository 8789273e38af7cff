/**
 * The alert-channel interface. One file per channel implements it; index.ts registers them by the
 * AlertProvider `spec.type` names Flagger uses. A notifier turns one alert into one HTTP request in the
 * channel's own payload format; it never blocks a rollout (the dispatcher bounds it with a timeout).
 */
import type { AlertSeverity } from '../../src/api/index.js';
import type { CheckVerdict } from '../../src/engine/ports.js';

export interface Alert {
  /** Canary name and namespace; Flagger's messages say `name.namespace`. */
  name: string;
  namespace: string;
  severity: AlertSeverity;
  message: string;
  /** Extra fields: the failed checks of a rollback (metric, value, threshold), the weight reached, the target. */
  fields: Array<{ title: string; value: string }>;
  /** The checks behind a rollback, for channels that render them. */
  verdicts?: CheckVerdict[];
  phase?: string;
  /** --cluster-name, added as a Cluster field when set. */
  cluster?: string;
}

export interface NotifierConfig {
  address: string;
  channel: string;
  username: string;
  proxy?: string;
  token?: string;
}

export interface Notifier {
  readonly type: string;
  send(alert: Alert, signal: AbortSignal): Promise<void>;
}

export type NotifierFactory = (config: NotifierConfig, deps: { fetch?: typeof fetch }) => Notifier;
