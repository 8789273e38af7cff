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
  /**
   * Extra fields, in display order: the Cluster (--cluster-name) first, then the canary's metadata or
   * the failed checks of a rollback (metric, value, threshold) and the weight reached. Channels render
   * them as given and add none of their own.
   */
  fields: AlertField[];
  /** The checks behind a rollback, for channels that render them. */
  verdicts?: CheckVerdict[];
  phase?: string;
  /** --cluster-name; also the first of `fields` when set (channels that render fields need not look here). */
  cluster?: string;
}

export interface AlertField {
  title: string;
  value: string;
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

export interface NotifierDeps {
  /** Used for requests without a proxy; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/**
 * Builds a channel from its resolved config. `send` makes one attempt and throws FledgeError
 * 'ProviderUnavailable' (network, timeout, 429, 5xx: worth a retry) or 'InvalidResponse' (other
 * non-2xx answers: a retry would get the same); the dispatcher owns timeouts and retries.
 */
export type NotifierFactory = (config: NotifierConfig, deps: NotifierDeps) => Notifier;
