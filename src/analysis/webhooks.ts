/**
 * The webhooks runner: calls a Canary's hooks of one type the way Flagger does (in spec order, one
 * at a time, stopping at the first answer that settles the question) and posts events to event hooks
 * or to the controller's `--event-webhook`. Receivers see Flagger's payload byte for byte:
 * `{"name","namespace","phase","checksum","metadata"}`, metadata keys sorted as Go's encoder sorts
 * them and left out when empty (`omitempty`). A failing receiver never makes these functions throw.
 */
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { Canary, CanaryPhase, CanaryWebhook, WebhookType } from '../api/index.js';
import { DEFAULTS } from '../api/index.js';
import type { Backoff, PostDeps, PostOutcome } from './webhook-call.js';
import { DEFAULT_BACKOFF, postJson } from './webhook-call.js';

export type { Backoff, PostOutcome } from './webhook-call.js';
export { DEFAULT_BACKOFF } from './webhook-call.js';

/** What Flagger sends (flaggerv1.CanaryWebhookPayload). */
export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: CanaryPhase;
  checksum: string;
  metadata?: Record<string, string>;
}

export interface HookOutcome extends PostOutcome {
  name: string;
  type: WebhookType;
  url: string;
}

export interface WebhookResult {
  type: WebhookType;
  phase: CanaryPhase;
  /** The hooks called, in spec order. */
  hooks: HookOutcome[];
  /** Hooks not called because an earlier one settled the outcome (see `run`). */
  skipped: string[];
  /** Every hook of the type was called and answered 2xx; true when the Canary has none. */
  allPassed: boolean;
  /** Some hook answered 2xx; false when the Canary has none. For rollback hooks: a rollback is requested. */
  anyPassed: boolean;
}

export interface WebhookRunnerDeps {
  clock: Clock;
  fetch?: typeof fetch;
  log?: Logger;
  backoff?: Backoff;
  /** Told of every hook call's result (fledge_webhook_requests_total). */
  onResult?: (type: WebhookType, ok: boolean) => void;
}

export interface WebhookRunner {
  /**
   * Calls every hook of `type`, one at a time in spec order. As in Flagger, the first failure stops
   * the run (a closed gate or failed check settles it), except for rollback hooks, where the first
   * success stops it (one hook asking for a rollback is enough).
   */
  run(canary: Canary, type: WebhookType, phase: CanaryPhase, checksum: string): Promise<WebhookResult>;
  /** `run(...).allPassed`: the gate/check verdict (true when no hooks of the type exist). */
  allPassed(canary: Canary, type: WebhookType, phase: CanaryPhase, checksum: string): Promise<boolean>;
  /** Whether a rollback hook asks for a rollback (false when there are none). */
  rollbackRequested(canary: Canary, phase: CanaryPhase, checksum: string): Promise<boolean>;
  /** One hook with an explicit payload. */
  call(hook: CanaryWebhook, payload: WebhookPayload): Promise<HookOutcome>;
  /** POSTs one event to `url` (the `--event-webhook`): 10s timeout, no retries. Failures are only logged. */
  postEvent(url: string, canary: Canary, phase: CanaryPhase, checksum: string, eventType: string, eventMessage: string): Promise<HookOutcome>;
  /**
   * Sends an event to the Canary's `event` hooks or, when it has none, to `eventWebhookUrl`
   * (Flagger: event hooks on the Canary override the global webhook). Failures are only logged.
   */
  emitEvent(canary: Canary, phase: CanaryPhase, checksum: string, eventType: string, eventMessage: string, eventWebhookUrl?: string): Promise<HookOutcome[]>;
}

/** Go's encoding/json writes map keys in sorted order; receivers that hash bodies see the same bytes. */
const sortedMap = (entries: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export const webhookPayload = (canary: Canary, phase: CanaryPhase, checksum: string, metadata: Record<string, string>): WebhookPayload => ({
  name: canary.metadata.name,
  namespace: canary.metadata.namespace,
  phase,
  checksum,
  ...(Object.keys(metadata).length > 0 ? { metadata: sortedMap(metadata) } : {}),
});

/**
 * Event metadata as Flagger builds it: eventMessage, eventType and timestamp (Unix milliseconds as
 * a decimal string), plus the hook's own metadata for keys the event does not set.
 */
export const eventMetadata = (eventType: string, eventMessage: string, nowMs: number, hookMetadata: Record<string, string> = {}): Record<string, string> => ({
  ...hookMetadata,
  eventMessage,
  eventType,
  timestamp: String(Math.floor(nowMs)),
});

/** The hook Flagger builds for `--event-webhook`: no timeout set (so 10s) and no retries. */
const globalEventHook = (url: string): CanaryWebhook => ({
  name: 'events',
  type: 'event',
  url,
  timeout: DEFAULTS.webhookTimeout,
  timeoutMs: DEFAULTS.webhookTimeoutMs,
  muteAlert: false,
  retries: 0,
  metadata: {},
});

export const createWebhookRunner = (deps: WebhookRunnerDeps): WebhookRunner => {
  const post: PostDeps = { clock: deps.clock, fetch: deps.fetch ?? fetch, backoff: deps.backoff ?? DEFAULT_BACKOFF };

  const logFor = (payload: WebhookPayload): Logger | undefined => deps.log?.child({ canary: `${payload.namespace}/${payload.name}` });

  const call = async (hook: CanaryWebhook, payload: WebhookPayload): Promise<HookOutcome> => {
    const outcome = await postJson(post, { url: hook.url, body: JSON.stringify(payload), timeoutMs: hook.timeoutMs, retries: hook.retries });
    const result: HookOutcome = { name: hook.name, type: hook.type, url: hook.url, ...outcome };
    deps.onResult?.(hook.type, outcome.ok);
    const fields = { hook: hook.name, type: hook.type, url: hook.url, phase: payload.phase, statusCode: outcome.statusCode, attempts: outcome.attempts, durationMs: outcome.durationMs };
    if (outcome.ok) logFor(payload)?.debug(fields, 'webhook passed');
    else logFor(payload)?.warn({ ...fields, error: outcome.error }, 'webhook failed');
    return result;
  };

  const run = async (canary: Canary, type: WebhookType, phase: CanaryPhase, checksum: string): Promise<WebhookResult> => {
    const hooks = canary.spec.analysis.webhooks.filter((h) => h.type === type);
    // Rollback hooks answer "roll back?": a success settles it. Every other type is a gate: a failure does.
    const settledBy = type === 'rollback';
    const outcomes: HookOutcome[] = [];
    let skipped: string[] = [];
    for (const [i, hook] of hooks.entries()) {
      const outcome = await call(hook, webhookPayload(canary, phase, checksum, hook.metadata));
      outcomes.push(outcome);
      if (outcome.ok === settledBy) {
        skipped = hooks.slice(i + 1).map((h) => h.name);
        break;
      }
    }
    return {
      type,
      phase,
      hooks: outcomes,
      skipped,
      allPassed: skipped.length === 0 && outcomes.every((o) => o.ok),
      anyPassed: outcomes.some((o) => o.ok),
    };
  };

  const sendEvent = async (hook: CanaryWebhook, canary: Canary, phase: CanaryPhase, checksum: string, eventType: string, eventMessage: string): Promise<HookOutcome> => {
    const metadata = eventMetadata(eventType, eventMessage, deps.clock.now(), hook.metadata);
    return call(hook, webhookPayload(canary, phase, checksum, metadata));
  };

  return {
    run,
    call,
    allPassed: async (canary, type, phase, checksum) => (await run(canary, type, phase, checksum)).allPassed,
    rollbackRequested: async (canary, phase, checksum) => (await run(canary, 'rollback', phase, checksum)).anyPassed,
    postEvent: (url, canary, phase, checksum, eventType, eventMessage) => sendEvent(globalEventHook(url), canary, phase, checksum, eventType, eventMessage),
    async emitEvent(canary, phase, checksum, eventType, eventMessage, eventWebhookUrl) {
      const hooks = canary.spec.analysis.webhooks.filter((h) => h.type === 'event');
      const targets = hooks.length > 0 ? hooks : eventWebhookUrl ? [globalEventHook(eventWebhookUrl)] : [];
      const outcomes: HookOutcome[] = [];
      for (const hook of targets) outcomes.push(await sendEvent(hook, canary, phase, checksum, eventType, eventMessage));
      return outcomes;
    },
  };
};
