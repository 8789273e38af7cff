/**
 * What the HTTP metric providers share: the backend address and secret keys checked at construction,
 * the per-query deadline on the injected clock, one JSON request over axios, and the mapping of every
 * failure to a FledgeError code. Messages never carry a secret: every secret value is masked, and the
 * raw client error (whose config holds the auth headers) is never attached as a cause.
 */
import https from 'node:https';
import axios from 'axios';
import type { AxiosRequestConfig } from 'axios';
import { FledgeError, invalidSpec } from '../../src/api/index.js';
import type { ProviderConfig, ProviderDeps } from './types.js';

export const DEFAULT_TIMEOUT_MS = 5000;

/** Secret values shorter than this are not masked: masking "1" would garble every message. */
const MIN_MASKED_LENGTH = 4;
const BODY_EXCERPT_LENGTH = 200;

/** The template's address without a trailing slash, or `fallback`; throws InvalidSpec when neither is a URL. */
export const requireAddress = (config: ProviderConfig, fallback?: string): string => {
  const address = (config.address ?? '').trim() || fallback;
  const problem = (rule: string) =>
    invalidSpec(`${config.type} provider`, undefined, [{ path: 'spec.provider.address', rule }]);
  if (!address) throw problem(`required for ${config.type}`);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw problem(`"${address}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw problem(`"${address}" must be an http(s) URL`);
  return address.replace(/\/+$/, '');
};

/**
 * The value of `key` in the template's Secret, trimmed (a Secret made with `echo` ends in a newline that
 * no header may carry); throws InvalidSpec naming the key, never its value.
 */
export const requireSecretKey = (config: ProviderConfig, key: string): string => {
  const value = config.secret[key]?.trim();
  if (value === undefined || value === '') {
    throw invalidSpec(`${config.type} provider`, undefined, [
      { path: 'spec.provider.secretRef', rule: `the Secret must hold a non-empty key "${key}"` },
    ]);
  }
  return value;
};

/** Every form a secret can take on the wire: the values, and a basic-auth pair as its header encodes it. */
const secretTexts = (config: ProviderConfig): string[] => {
  const username = config.secret.username?.trim();
  const password = config.secret.password?.trim();
  const basic = username && password ? [Buffer.from(`${username}:${password}`).toString('base64')] : [];
  const values = Object.values(config.secret).map((value) => value.trim());
  return [...values, ...basic].filter((value) => value.length >= MIN_MASKED_LENGTH);
};

/** `text` with every secret of `config` replaced by `***`. */
export const maskSecrets = (config: ProviderConfig, text: string): string =>
  secretTexts(config).reduce((masked, value) => masked.split(value).join('***'), text);

const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** Aborts at the caller's signal or once the per-query timeout passes on the injected clock. */
export interface Deadline {
  signal: AbortSignal;
  /** The FledgeError that explains why the signal aborted. */
  reason(): FledgeError;
  release(): void;
}

export const startDeadline = (provider: string, deps: ProviderDeps, outer?: AbortSignal): Deadline => {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = deps.clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onOuterAbort = () => controller.abort();
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    reason: () =>
      new FledgeError(
        'ProviderUnavailable',
        timedOut ? `${provider} did not answer within ${timeoutMs} ms` : `${provider} query was aborted`,
      ),
    release: () => {
      deps.clock.clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
};

export interface JsonRequest {
  method?: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  basicAuth?: { username: string; password: string };
  /** Off by default: a redirect to another host would carry API-key headers along. */
  followRedirects?: boolean;
  signal?: AbortSignal;
}

export interface HttpJsonClient {
  /** The parsed JSON body of a 2xx answer; throws FledgeError ProviderUnavailable or InvalidResponse. */
  request(request: JsonRequest): Promise<unknown>;
}

const statusFailure = (provider: string, path: string, status: number, body: string): FledgeError => {
  const excerpt = body.trim().slice(0, BODY_EXCERPT_LENGTH);
  const detail = `${provider} answered ${status} to ${path}${excerpt ? `: ${excerpt}` : ''}`;
  // A 400/422 is the backend rejecting the query itself; everything else (auth, rate limits, 5xx,
  // a wrong address) means the backend cannot serve us right now.
  return status === 400 || status === 422
    ? new FledgeError('InvalidResponse', `${detail} (the query was rejected)`)
    : new FledgeError('ProviderUnavailable', detail);
};

const networkFailure = (provider: string, path: string, err: unknown): FledgeError => {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return new FledgeError(
    'ProviderUnavailable',
    `${provider} request to ${path} failed: ${typeof code === 'string' ? `${code} ` : ''}${message}`,
  );
};

export const createHttpJsonClient = (config: ProviderConfig, deps: ProviderDeps): HttpJsonClient => {
  const provider = config.type;
  const httpsAgent = config.insecureSkipVerify ? new https.Agent({ rejectUnauthorized: false }) : undefined;
  const mask = (error: FledgeError) => new FledgeError(error.code, maskSecrets(config, error.message));

  const send = async (request: JsonRequest, deadline: Deadline): Promise<unknown> => {
    const path = request.url.pathname;
    const options: AxiosRequestConfig = {
      method: request.method ?? 'GET',
      url: request.url.toString(),
      headers: { Accept: 'application/json', ...config.headers, ...request.headers },
      signal: deadline.signal,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxRedirects: request.followRedirects ? 5 : 0,
      // Like Go's http client that Flagger uses: an environment proxy never applies to loopback.
      ...(isLoopback(request.url.hostname) ? { proxy: false as const } : {}),
      ...(request.basicAuth ? { auth: request.basicAuth } : {}),
      ...(httpsAgent ? { httpsAgent } : {}),
      ...(deps.fetch ? { adapter: 'fetch', env: { fetch: deps.fetch } } : {}),
    };
    let status: number;
    let body: string;
    try {
      const response = await axios.request<string>(options);
      status = response.status;
      body = typeof response.data === 'string' ? response.data : String(response.data ?? '');
    } catch (err) {
      if (deadline.signal.aborted) throw deadline.reason();
      throw networkFailure(provider, path, err);
    }
    if (status < 200 || status > 299) throw statusFailure(provider, path, status, body);
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new FledgeError(
        'InvalidResponse',
        `${provider} answered ${path} with a body that is not JSON: ${body.slice(0, BODY_EXCERPT_LENGTH)}`,
      );
    }
  };

  return {
    request: async (request) => {
      const deadline = startDeadline(provider, deps, request.signal);
      try {
        return await send(request, deadline);
      } catch (err) {
        throw mask(err instanceof FledgeError ? err : networkFailure(provider, request.url.pathname, err));
      } finally {
        deadline.release();
      }
    },
  };
};

/** A JSON value as a plain object, or undefined. */
export const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

export const invalidResponse = (provider: string, what: string): FledgeError =>
  new FledgeError('InvalidResponse', `${provider} answered with ${what}`);

export const noValues = (provider: string, query: string): FledgeError =>
  new FledgeError('NoValues', `${provider} query returned no values: ${query}`);
