/**
 * The alert dispatcher: turns an engine alert into one message per matching channel and sends them in
 * the background, so a slow or hanging receiver never holds a rollout step. Each canary's alerts go
 * out one after another, in the order raised; different canaries' alerts go out side by side. At most
 * `maxPending` alerts wait at once: past that an alert is dropped (logged and counted), never queued
 * without bound. Each send gets `timeoutMs` per attempt and one retry after `retryDelayMs` when the
 * failure may pass (network, timeout, 429, 5xx). Every outcome is logged and reported to `onDelivery`
 * (the metrics' counter).
 *
 * Channels: the Canary's `analysis.alerts` whose severity matches, each naming an AlertProvider read
 * live (alerts are rare) with its Secret read through the (cached) KubeApi; the Secret's `address`,
 * `token` and `proxy` keys win over the spec. A Canary with no alerts goes to the global channels of
 * --slack-url and --msteams-url (both, when both are set), every severity, as Flagger's does.
 */
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { AlertSeverity, Canary, CanaryAlert } from '../api/index.js';
import { FledgeError, isFledgeError, parseAlertProvider } from '../api/index.js';
import type { KubeApi } from '../kube/api.js';
import { createNotifier } from '../../providers/notifiers/index.js';
import type { Alert, Notifier, NotifierConfig } from '../../providers/notifiers/types.js';
import type { AlertInput } from './alert-content.js';
import { alertFields, severityMatches } from './alert-content.js';

export type { AlertInput } from './alert-content.js';

/** Flagger's defaults for an AlertProvider without channel or username (kept so messages look the same). */
export const DEFAULT_CHANNEL = 'general';
export const DEFAULT_USERNAME = 'flagger';

/** The controller flags that configure alerting. */
export interface AlertingOptions {
  slackUrl?: string;
  slackChannel?: string;
  slackUser?: string;
  slackProxyUrl?: string;
  msteamsUrl?: string;
  msteamsProxyUrl?: string;
  /** --cluster-name: a Cluster field on every alert. */
  clusterName?: string;
  /** Per attempt; default 5 s (Flagger's). */
  timeoutMs?: number;
  /** Wait before the one retry; default 1 s. */
  retryDelayMs?: number;
  /** Alerts waiting or in flight at most; default 100. */
  maxPending?: number;
  /** Told of every delivery, failed or not (a metrics counter). */
  onDelivery?: (delivery: AlertDelivery) => void;
}

export interface AlertDispatcherDeps {
  kube: KubeApi;
  clock: Clock;
  log: Logger;
  fetch?: typeof fetch;
}

/** The outcome of one alert to one channel. */
export interface AlertDelivery {
  /** `namespace/name` of the Canary. */
  canary: string;
  /** `namespace/name` of the AlertProvider, or `global/slack`, `global/msteams`. */
  provider: string;
  /** The channel type; `unknown` when the provider could not be read. */
  type: string;
  severity: AlertSeverity;
  ok: boolean;
  attempts: number;
  /** Why it failed: a FledgeError code, or 'QueueFull'. */
  reason?: string;
  error?: string;
}

interface Target {
  provider: string;
  notifier: Notifier;
}

const PROVIDER = { apiVersion: 'flagger.app/v1beta1', kind: 'AlertProvider' };

const keyOf = (c: Canary): string => `${c.metadata.namespace}/${c.metadata.name}`;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A failure worth a second attempt: the channel was unreachable, slow, or said to try again. */
const retriable = (e: unknown): boolean => !isFledgeError(e) || e.code === 'ProviderUnavailable';

const decode = (data: unknown, key: string): string | undefined => {
  const value = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
  // Secrets made with `echo url | base64` end in a newline that no URL or token contains.
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8').trim() || undefined : undefined;
};

export class AlertDispatcher {
  private readonly global: Target[];
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly maxPending: number;
  /** The last delivery queued per canary; the next one starts after it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<AbortController>();
  private readonly wakeOnStop = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private pendingCount = 0;
  private stopped = false;

  /** Throws FledgeError 'InvalidSpec' when a global channel URL cannot be posted to. */
  constructor(
    private readonly deps: AlertDispatcherDeps,
    private readonly opts: AlertingOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.retryDelayMs = opts.retryDelayMs ?? 1_000;
    this.maxPending = opts.maxPending ?? 100;
    this.global = this.globalTargets();
  }

  /** Alerts waiting or being sent. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Queues an alert about `canary`; returns at once and never throws. */
  dispatch(canary: Canary, input: AlertInput): void {
    if (this.stopped) return;
    const key = keyOf(canary);
    if (this.pendingCount >= this.maxPending) {
      this.deps.log.warn({ canary: key, severity: input.severity, pending: this.pendingCount }, 'alert dropped: too many alerts waiting');
      this.report({ canary: key, provider: '', type: 'unknown', severity: input.severity, ok: false, attempts: 0, reason: 'QueueFull', error: 'too many alerts waiting' });
      return;
    }
    this.pendingCount += 1;
    const run = (): Promise<void> =>
      this.deliver(canary, input).catch((err: unknown) => this.deps.log.error({ canary: key, err }, 'alert delivery failed unexpectedly'));
    const tail = (this.tails.get(key) ?? Promise.resolve()).then(run).finally(() => this.settled(key, tail));
    this.tails.set(key, tail);
  }

  /** Resolves when no alert is waiting or being sent (tests, shutdown). */
  idle(): Promise<void> {
    return this.pendingCount === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Aborts the sends in flight, drops the queued alerts and resolves once all have settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of this.inFlight) abort.abort(new Error('controller stopping'));
    for (const wake of this.wakeOnStop) wake();
    await this.idle();
  }

  private settled(key: string, tail: Promise<void>): void {
    if (this.tails.get(key) === tail) this.tails.delete(key);
    this.pendingCount -= 1;
    if (this.pendingCount > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private report(delivery: AlertDelivery): void {
    try {
      this.opts.onDelivery?.(delivery);
    } catch (err) {
      this.deps.log.error({ err }, 'alert delivery listener failed');
    }
  }

  private async deliver(canary: Canary, input: AlertInput): Promise<void> {
    if (this.stopped) return;
    const targets = await this.targetsFor(canary, input.severity);
    const alert: Alert = {
      name: canary.metadata.name,
      namespace: canary.metadata.namespace,
      severity: input.severity,
      message: input.message,
      fields: alertFields(canary, input, this.opts.clusterName),
      ...(input.verdicts ? { verdicts: input.verdicts } : {}),
      ...(this.opts.clusterName ? { cluster: this.opts.clusterName } : {}),
    };
    await Promise.all(targets.map((t) => this.send(keyOf(canary), t, alert)));
  }

  /** One alert to one channel: an attempt, and a second one after a pause when the first may pass on retry. */
  private async send(canary: string, target: Target, alert: Alert): Promise<void> {
    const base = { canary, provider: target.provider, type: target.notifier.type, severity: alert.severity };
    let attempts = 0;
    let failure: unknown;
    while (attempts < 2 && !this.stopped) {
      if (attempts > 0) await this.pause(this.retryDelayMs);
      if (this.stopped) break;
      attempts += 1;
      try {
        await this.attempt(target.notifier, alert);
        this.deps.log.debug({ ...base, attempts }, 'alert sent');
        return this.report({ ...base, ok: true, attempts });
      } catch (e) {
        failure = e;
        if (!retriable(e)) break;
      }
    }
    const reason = isFledgeError(failure) ? failure.code : 'ProviderUnavailable';
    const error = failure === undefined ? 'controller stopping' : errorText(failure);
    this.deps.log.warn({ ...base, attempts, reason, error }, 'alert not sent');
    this.report({ ...base, ok: false, attempts, reason, error });
  }

  private async attempt(notifier: Notifier, alert: Alert): Promise<void> {
    const abort = new AbortController();
    this.inFlight.add(abort);
    const timer = this.deps.clock.setTimeout(() => abort.abort(new Error(`timed out after ${this.timeoutMs}ms`)), this.timeoutMs);
    try {
      await notifier.send(alert, abort.signal);
    } finally {
      this.deps.clock.clearTimeout(timer);
      this.inFlight.delete(abort);
    }
  }

  /** Waits `ms` on the controller's clock, or until stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.deps.clock.clearTimeout(timer);
        this.wakeOnStop.delete(done);
        resolve();
      };
      const timer = this.deps.clock.setTimeout(done, ms);
      this.wakeOnStop.add(done);
    });
  }

  private async targetsFor(canary: Canary, severity: AlertSeverity): Promise<Target[]> {
    const subscriptions = canary.spec.analysis.alerts;
    if (subscriptions.length === 0) return this.global;
    const targets: Target[] = [];
    for (const sub of subscriptions.filter((s) => severityMatches(s.severity, severity))) {
      const provider = `${sub.providerRef.namespace}/${sub.providerRef.name}`;
      try {
        targets.push({ provider, notifier: await this.providerNotifier(sub) });
      } catch (e) {
        const reason = isFledgeError(e) ? e.code : 'ProviderUnavailable';
        this.deps.log.error({ canary: keyOf(canary), alert: sub.name, provider, reason, error: errorText(e) }, 'alert provider unusable');
        this.report({ canary: keyOf(canary), provider, type: 'unknown', severity, ok: false, attempts: 0, reason, error: errorText(e) });
      }
    }
    return targets;
  }

  /** The channel an AlertProvider describes; its Secret's keys win over its spec. */
  private async providerNotifier(sub: CanaryAlert): Promise<Notifier> {
    const { namespace, name } = sub.providerRef;
    const obj = await this.deps.kube.get({ ...PROVIDER, namespace, name });
    if (!obj) throw new FledgeError('ProviderUnavailable', `AlertProvider ${namespace}/${name} not found`);
    const provider = parseAlertProvider(obj);
    let secret: { address?: string; token?: string; proxy?: string } = {};
    const secretName = provider.spec.secretRef?.name;
    if (secretName !== undefined) {
      const found = await this.deps.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: secretName });
      if (!found) throw new FledgeError('ProviderUnavailable', `Secret ${namespace}/${secretName} of AlertProvider ${namespace}/${name} not found`);
      const data = found.data;
      secret = { address: decode(data, 'address'), token: decode(data, 'token'), proxy: decode(data, 'proxy') };
    }
    const address = secret.address ?? provider.spec.address ?? '';
    const token = secret.token;
    const proxy = secret.proxy ?? provider.spec.proxy;
    // A Slack token alone is enough: it posts through Slack's Web API.
    if (!address && !(provider.spec.type === 'slack' && token)) {
      const where = secretName === undefined ? 'spec.address is empty' : `neither spec.address nor the "address" key of Secret ${namespace}/${secretName} is set`;
      throw new FledgeError('InvalidSpec', `AlertProvider ${namespace}/${name} has no address: ${where}`);
    }
    const config: NotifierConfig = {
      address,
      channel: provider.spec.channel ?? DEFAULT_CHANNEL,
      username: provider.spec.username ?? DEFAULT_USERNAME,
      ...(token ? { token } : {}),
      ...(proxy ? { proxy } : {}),
    };
    return createNotifier(provider.spec.type, config, this.notifierDeps());
  }

  private notifierDeps(): { fetch?: typeof fetch } {
    return this.deps.fetch ? { fetch: this.deps.fetch } : {};
  }

  private globalTargets(): Target[] {
    const o = this.opts;
    const targets: Target[] = [];
    if (o.slackUrl) {
      const config: NotifierConfig = {
        address: o.slackUrl,
        channel: o.slackChannel || DEFAULT_CHANNEL,
        username: o.slackUser || DEFAULT_USERNAME,
        ...(o.slackProxyUrl ? { proxy: o.slackProxyUrl } : {}),
      };
      targets.push({ provider: 'global/slack', notifier: this.globalNotifier('--slack-url', 'slack', config) });
    }
    if (o.msteamsUrl) {
      const config: NotifierConfig = { address: o.msteamsUrl, channel: DEFAULT_CHANNEL, username: DEFAULT_USERNAME, ...(o.msteamsProxyUrl ? { proxy: o.msteamsProxyUrl } : {}) };
      targets.push({ provider: 'global/msteams', notifier: this.globalNotifier('--msteams-url', 'msteams', config) });
    }
    return targets;
  }

  /** A channel from the controller's flags; a bad URL stops the start-up, naming the flag. */
  private globalNotifier(flag: string, type: string, config: NotifierConfig): Notifier {
    try {
      return createNotifier(type, config, this.notifierDeps());
    } catch (e) {
      throw new FledgeError('InvalidSpec', `${flag}: ${errorText(e)}`, { cause: e });
    }
  }
}
