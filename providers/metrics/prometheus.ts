/**
 * The `prometheus` metric provider: PromQL over the Prometheus HTTP API, through prometheus-query's
 * PrometheusDriver. Flagger-compatible where it matters (whitespace collapsed, `vector(1)` as the
 * online probe, basic auth from the secret's username/password) and stricter where Flagger is lax: it
 * wants exactly one sample (Flagger silently keeps the last of several series) and tells NoValues,
 * InvalidResponse and ProviderUnavailable apart.
 *
 * Credentials never reach a message: errors are built here from status codes and Prometheus' own error
 * text, are never chained to the HTTP client's error (which holds the request headers), and pass a
 * final redaction of every secret value.
 */
import { Agent as HttpsAgent } from 'node:https';
import type { AxiosError, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { PrometheusDriver } from 'prometheus-query';
import { FledgeError, isFledgeError } from '../../src/api/index.js';
import type { MetricProvider, ProviderConfig, ProviderDeps, QueryOptions, RangeOptions } from './types.js';
import type { TimedValue } from './prometheus-result.js';
import { displayAddress, httpFailure, instantValue, networkFailure, rangeValues, redact } from './prometheus-result.js';

export const DEFAULT_QUERY_TIMEOUT_MS = 5000;

/** The query Flagger's IsOnline runs; a live Prometheus answers 1. */
export const ONLINE_QUERY = 'vector(1)';

export interface PrometheusQueryOptions extends QueryOptions {
  /**
   * Evaluate at this instant (ms since the epoch) rather than at Prometheus' own now, e.g. to rehearse
   * a check over past data. Left out, no `time` is sent, so clock skew between us and Prometheus is moot.
   */
  atMs?: number;
}

export interface PrometheusProvider extends MetricProvider {
  readonly type: 'prometheus';
  runQuery(query: string, opts: PrometheusQueryOptions): Promise<number>;
  runRangeQuery(query: string, opts: RangeOptions): Promise<TimedValue[]>;
}

/** Flagger's trimQuery: any run of whitespace (template newlines included) becomes one space. */
export const collapseWhitespace = (query: string): string => query.replace(/\s+/g, ' ').trim();

interface Credentials {
  headers: Record<string, string>;
  basic?: { username: string; password: string };
  /** Every form a credential could take in a quoted text, for redaction. */
  secretTexts: string[];
}

const specError = (path: string, rule: string): FledgeError =>
  new FledgeError('InvalidSpec', `prometheus provider: ${path}: ${rule}`, { problems: [{ path, rule }] });

/** Bearer `token`, else basic auth from `username` and `password`; a secret with neither is a mistake. */
export const credentialsFrom = (secret: Record<string, string>, extraHeaders: Record<string, string> = {}): Credentials => {
  const secretTexts = Object.values(secret);
  const token = secret.token?.trim();
  const { username, password } = secret;
  const hasAuth = Boolean(token) || (Boolean(username) && Boolean(password));
  // Our credentials win over a custom Authorization header, whatever its letter case.
  const headers = Object.fromEntries(Object.entries(extraHeaders).filter(([name]) => !hasAuth || name.toLowerCase() !== 'authorization'));
  if (token) return { headers: { ...headers, Authorization: `Bearer ${token}` }, secretTexts };
  if (username && password) {
    const encoded = Buffer.from(`${username}:${password}`).toString('base64');
    return { headers, basic: { username, password }, secretTexts: [...secretTexts, encoded] };
  }
  if (username || password) throw specError('spec.provider.secretRef', 'the secret must hold both "username" and "password" (or a "token")');
  const keys = Object.keys(secret);
  if (keys.length > 0) {
    throw specError('spec.provider.secretRef', `the secret must hold "token", or "username" and "password"; it holds ${keys.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  return { headers, secretTexts };
};

const checkedAddress = (address: string | undefined): URL => {
  if (!address) throw specError('spec.provider.address', 'is required (or set --metrics-server)');
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw specError('spec.provider.address', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw specError('spec.provider.address', 'must be an absolute http or https URL');
  return url;
};

const isLoopback = (hostname: string): boolean => hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

type Send = (driver: PrometheusDriver) => Promise<unknown>;

export const createPrometheusProvider = (config: ProviderConfig, deps: ProviderDeps): PrometheusProvider => {
  const url = checkedAddress(config.address);
  const endpoint = url.href.replace(/\/+$/, '');
  const where = `prometheus at ${displayAddress(endpoint)}`;
  const credentials = credentialsFrom(config.secret, config.headers);
  const timeoutMs = deps.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const httpsAgent = config.insecureSkipVerify ? new HttpsAgent({ rejectUnauthorized: false }) : undefined;
  // Like Go's http client that Flagger uses: an environment proxy never applies to loopback.
  const directOnly = isLoopback(url.hostname);

  const failure = (e: unknown, timedOut: boolean): FledgeError => {
    const found = isFledgeError(e) ? e : isFledgeError((e as { original?: unknown } | null)?.original) ? (e as { original: FledgeError }).original : undefined;
    const cause = timedOut
      ? new FledgeError('ProviderUnavailable', `no answer within ${timeoutMs}ms`)
      : (found ?? new FledgeError('InvalidResponse', 'the answer could not be read'));
    return new FledgeError(cause.code, redact(`${where}: ${cause.message}`, credentials.secretTexts));
  };

  /** One API call on a fresh driver, so this call's signal and result never mix with another's. */
  const call = async <T>(send: Send, interpret: (body: unknown) => T, signal: AbortSignal | undefined, keepTime: boolean): Promise<T> => {
    if (signal?.aborted) throw new FledgeError('ProviderUnavailable', `${where}: query aborted`);
    const abort = new AbortController();
    let timedOut = false;
    const timer = deps.clock.setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    // AbortSignal.any adds no listener to the caller's signal: one shared stop signal stays cheap with
    // thousands of queries in flight (addEventListener grows with the listeners already there).
    const requestSignal = signal ? AbortSignal.any([abort.signal, signal]) : abort.signal;
    let outcome: { value: T } | undefined;

    const prepare = (request: InternalAxiosRequestConfig): InternalAxiosRequestConfig => {
      request.signal = requestSignal;
      // Answers are ~100 bytes: gzip costs Prometheus about half its CPU per query and saves nothing.
      request.headers.set('Accept-Encoding', 'identity');
      request.timeout = 0; // the clock-driven timer above is the one deadline
      if (httpsAgent) request.httpsAgent = httpsAgent;
      if (directOnly) request.proxy = false;
      if (!keepTime && request.params instanceof URLSearchParams) request.params.delete('time');
      return request;
    };
    const read = (response: AxiosResponse): AxiosResponse => {
      outcome = { value: interpret(response.data) };
      return response;
    };
    const reject = (error: AxiosError): never => {
      if (error.response) throw httpFailure(error.response.status, error.response.data);
      if (error.code === 'ERR_CANCELED') throw new FledgeError('ProviderUnavailable', 'query aborted');
      throw networkFailure(error.code, error.message);
    };
    const driver = new PrometheusDriver({
      endpoint,
      baseURL: '/api/v1/',
      headers: credentials.headers,
      ...(credentials.basic ? { auth: credentials.basic } : {}),
      requestInterceptor: { onFulfilled: prepare },
      responseInterceptor: { onFulfilled: read, onRejected: reject },
    });
    try {
      await send(driver);
    } catch (e) {
      throw failure(e, timedOut);
    } finally {
      deps.clock.clearTimeout(timer);
    }
    if (!outcome) throw failure(undefined, false);
    return outcome.value;
  };

  const evaluationTimeout = `${timeoutMs}ms`;

  const runQuery = (query: string, opts: PrometheusQueryOptions): Promise<number> => {
    const promql = collapseWhitespace(query);
    const send: Send = (driver) => driver.instantQuery(promql, opts.atMs, evaluationTimeout);
    return call(send, (body) => instantValue(body, promql), opts.signal, opts.atMs !== undefined);
  };

  return {
    type: 'prometheus',
    runQuery,

    async isOnline({ signal }) {
      try {
        return (await runQuery(ONLINE_QUERY, { intervalMs: 0, signal })) === 1;
      } catch (e) {
        if (isFledgeError(e)) return false;
        throw e;
      }
    },

    runRangeQuery(query, { startMs, endMs, stepMs, signal }) {
      if (!(stepMs > 0) || !(endMs >= startMs)) {
        return Promise.reject(new FledgeError('InvalidSpec', `prometheus range query: need stepMs > 0 and endMs >= startMs (got ${startMs}..${endMs} by ${stepMs})`));
      }
      const promql = collapseWhitespace(query);
      const send: Send = (driver) => driver.rangeQuery(promql, startMs, endMs, stepMs / 1000, evaluationTimeout);
      return call(send, (body) => rangeValues(body, promql), signal, true);
    },
  };
};
