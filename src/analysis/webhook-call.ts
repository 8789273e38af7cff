/**
 * One webhook delivery the way Flagger makes it (pkg/controller/webhook.go over go-retryablehttp):
 * a JSON POST to the exact URL, a per-attempt timeout, `retries` extra attempts for failures that
 * may pass on a second try, and a verdict that never throws. Time (timeouts, backoff) goes through
 * the injected clock so tests drive it without sleeping.
 */
import type { Clock } from '../api/clock.js';

export interface PostOptions {
  url: string;
  /** The JSON text sent as the body. */
  body: string;
  /** Applies to each attempt, as Flagger sets it on the HTTP client. */
  timeoutMs: number;
  /** Extra attempts after the first. */
  retries: number;
}

export interface PostOutcome {
  ok: boolean;
  /** The last response's status code; absent when no response arrived. */
  statusCode?: number;
  attempts: number;
  durationMs: number;
  error?: string;
}

export interface Backoff {
  /** Wait before the first retry; doubles for each further retry. */
  initialMs: number;
  maxMs: number;
}

/**
 * Short on purpose: a retry exists to ride over a blip, and a slow hook delays the whole tick.
 * (go-retryablehttp waits 1s, 2s, 4s ...; the receiver cannot tell the difference.)
 */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 2_000 };

export interface PostDeps {
  clock: Clock;
  fetch: typeof fetch;
  backoff: Backoff;
}

interface Attempt {
  ok: boolean;
  statusCode?: number;
  error?: string;
  retriable: boolean;
  /** From a Retry-After header on 429/503, in ms. */
  retryAfterMs?: number;
}

/** Error bodies can be whole HTML pages; keep what fits in a log line or an event. */
const MAX_ERROR_BODY = 300;

const clip = (text: string): string => {
  const flat = text.trim().replace(/\s+/g, ' ');
  return flat.length > MAX_ERROR_BODY ? `${flat.slice(0, MAX_ERROR_BODY)}...` : flat;
};

/** go-retryablehttp's default policy: retry 429 and 5xx except 501 (Not Implemented will stay so). */
const retriableStatus = (status: number): boolean => status === 429 || (status >= 500 && status !== 501);

const retryAfterMs = (res: Response): number | undefined => {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const header = res.headers.get('retry-after');
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
};

/** The innermost message of a fetch failure ("fetch failed" hides the useful one in `cause`). */
const networkMessage = (e: unknown): string => {
  let err: unknown = e;
  while (err instanceof Error && err.cause instanceof Error) err = err.cause;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
};

const unsupportedUrl = (url: string): string | undefined => {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? undefined : `unsupported protocol scheme "${protocol.replace(/:$/, '')}"`;
  } catch {
    return `invalid URL "${url}"`;
  }
};

const attemptOnce = async (deps: PostDeps, opts: PostOptions): Promise<Attempt> => {
  const abort = new AbortController();
  const timer = deps.clock.setTimeout(() => abort.abort(), opts.timeoutMs);
  try {
    const res = await deps.fetch(opts.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: opts.body,
      signal: abort.signal,
    });
    // Read the body under the same deadline: it is the error message, and reading frees the socket.
    const text = await res.text();
    const ok = res.status >= 200 && res.status < 300;
    const after = retryAfterMs(res);
    return {
      ok,
      statusCode: res.status,
      retriable: !ok && retriableStatus(res.status),
      ...(ok ? {} : { error: `HTTP ${res.status}${text.trim() ? `: ${clip(text)}` : ''}` }),
      ...(after === undefined ? {} : { retryAfterMs: after }),
    };
  } catch (e) {
    const error = abort.signal.aborted ? `timed out after ${opts.timeoutMs}ms` : networkMessage(e);
    return { ok: false, error, retriable: true };
  } finally {
    deps.clock.clearTimeout(timer);
  }
};

const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => void clock.setTimeout(resolve, ms));

const waitBeforeRetry = (backoff: Backoff, retryIndex: number, last: Attempt): number => {
  const exponential = backoff.initialMs * 2 ** retryIndex;
  return Math.min(backoff.maxMs, last.retryAfterMs ?? exponential);
};

/** POSTs `opts.body` as JSON; ok means a 2xx answer within the timeout, on some attempt. Never throws. */
export const postJson = async (deps: PostDeps, opts: PostOptions): Promise<PostOutcome> => {
  const started = deps.clock.now();
  const bad = unsupportedUrl(opts.url);
  if (bad) return { ok: false, attempts: 0, durationMs: 0, error: bad };
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const last = await attemptOnce(deps, opts);
    if (last.ok || !last.retriable || attempts > opts.retries) {
      return {
        ok: last.ok,
        attempts,
        durationMs: Math.max(0, deps.clock.now() - started),
        ...(last.statusCode === undefined ? {} : { statusCode: last.statusCode }),
        ...(last.error === undefined ? {} : { error: attempts > 1 ? `${last.error} (after ${attempts} attempts)` : last.error }),
      };
    }
    await sleep(deps.clock, waitBeforeRetry(deps.backoff, attempts - 1, last));
  }
};
