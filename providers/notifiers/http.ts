/**
 * The one request every channel makes: a JSON POST of its payload, with the AlertProvider's token as a
 * Bearer Authorization and through its proxy when it has one. One attempt; the dispatcher bounds it
 * with a timeout (the signal) and decides on a retry from the error code thrown here.
 */
import { FledgeError } from '../../src/api/index.js';
import { proxyFetch } from './proxy.js';
import type { NotifierConfig, NotifierDeps } from './types.js';

/** Error bodies can be whole HTML pages; keep what fits in a log line. */
const MAX_ERROR_BODY = 300;

const clip = (text: string): string => {
  const flat = text.trim().replace(/\s+/g, ' ');
  return flat.length > MAX_ERROR_BODY ? `${flat.slice(0, MAX_ERROR_BODY)}...` : flat;
};

/** A 429 or a 5xx may pass on a second try (except 501, which will stay so); other answers will not. */
const retriableStatus = (status: number): boolean => status === 429 || (status >= 500 && status !== 501);

/**
 * Where a message says it sent to: the origin only. Incoming-webhook URLs carry their secret in the
 * path (hooks.slack.com/services/T…/B…/<secret>), and logs are read by more people than Secrets are.
 */
export const redactUrl = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '<invalid URL>';
  }
};

/** The innermost message of a fetch failure ("fetch failed" hides the useful one in `cause`). */
const networkMessage = (e: unknown, signal: AbortSignal): string => {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason.message : 'aborted';
  let err: unknown = e;
  while (err instanceof Error && err.cause instanceof Error) err = err.cause;
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
};

/** Checks that `address` can be posted to; a notifier calls it when built, so a bad URL fails early. */
export const checkAddress = (type: string, address: string): URL => {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new FledgeError('InvalidSpec', `invalid ${type} address: not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FledgeError('InvalidSpec', `invalid ${type} address: unsupported protocol scheme "${url.protocol.replace(/:$/, '')}"`);
  }
  return url;
};

/** Checks a proxy URL: Fledge tunnels through plain http:// proxies (as most corporate proxies are). */
export const checkProxy = (proxy: string): void => {
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    throw new FledgeError('InvalidSpec', 'invalid proxy: not an absolute URL');
  }
  if (url.protocol !== 'http:') throw new FledgeError('InvalidSpec', `invalid proxy: unsupported scheme "${url.protocol.replace(/:$/, '')}" (only http:// proxies are supported)`);
};

/** POSTs `payload` as JSON to `url`; resolves with the body of a 2xx answer, throws a FledgeError otherwise. */
export const postJson = async (url: string, payload: unknown, config: NotifierConfig, deps: NotifierDeps, signal: AbortSignal): Promise<string> => {
  const send = config.proxy ? proxyFetch(config.proxy) : (deps.fetch ?? fetch);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (config.token) headers.Authorization = `Bearer ${config.token}`;
  const where = redactUrl(url);
  let res: Response;
  let text: string;
  try {
    res = await send(url, { method: 'POST', headers, body: JSON.stringify(payload), signal });
    // Read the body under the same deadline: it is the error message, and reading frees the socket.
    text = await res.text();
  } catch (e) {
    throw new FledgeError('ProviderUnavailable', `sending notification to ${where} failed: ${networkMessage(e, signal)}`, { cause: e });
  }
  if (res.status >= 200 && res.status < 300) return text;
  const detail = `sending notification to ${where} failed: HTTP ${res.status}${text.trim() ? `: ${clip(text)}` : ''}`;
  throw new FledgeError(retriableStatus(res.status) ? 'ProviderUnavailable' : 'InvalidResponse', detail);
};
