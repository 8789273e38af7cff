/**
 * The `stackdriver` metric provider: Google Cloud Monitoring.
 *
 * Like Flagger, a query is Monitoring Query Language sent to QueryService.QueryTimeSeries (gRPC) with
 * `name: projects/<project>`, and the value is the first value of the first point of the first series.
 * Unlike Flagger, int64 and bool points are read too (Flagger reads only doubles and turns anything
 * else into 0), and an empty answer is NoValues.
 *
 * A query starting with `promql:` goes instead to Cloud Monitoring's Prometheus-compatible HTTP API
 * (`/v1/projects/<project>/location/global/prometheus/api/v1/query`): Google has deprecated MQL and
 * QueryTimeSeries (the client library prints a DeprecationWarning once per process) in favour of PromQL.
 *
 * Secret keys: `project` (required) and `serviceAccountKey` (a JSON key; without it, Application
 * Default Credentials, e.g. GKE Workload Identity). `address` overrides the endpoint:
 * `https://host[:port]` or `host[:port]` keeps TLS and Google auth; `http://host:port` is plaintext
 * with no Google auth at all (an emulator, a local proxy, the tests' fake), so a key is not used there.
 * `insecureSkipVerify` is not supported. Each query opens and closes its own gRPC channel, since the
 * MetricProvider interface has no close(); credentials (and their cached token) live per provider.
 */
import { QueryServiceClient } from '@google-cloud/monitoring';
import type { protos } from '@google-cloud/monitoring';
import { GoogleAuth, grpc } from 'google-gax';
import type { ClientOptions } from 'google-gax';
import { FledgeError } from '../../src/api/index.js';
import type { Clock } from '../../src/api/clock.js';
import type { MetricProvider, MetricProviderFactory, ProviderConfig, ProviderDeps } from './types.js';

type TimeSeriesData = protos.google.monitoring.v3.ITimeSeriesData;
type TypedValue = protos.google.monitoring.v3.ITypedValue;

const DEFAULT_HOST = 'monitoring.googleapis.com';
const UNIVERSE = 'googleapis.com';
const READ_SCOPE = 'https://www.googleapis.com/auth/monitoring.read';
const PROMQL_PREFIX = 'promql:';
const DEFAULT_TIMEOUT_MS = 5000;
/** Pages followed past empty pages that carry a next-page token (Flagger's Go iterator follows them too). */
const MAX_PAGES = 20;

interface Endpoint {
  host: string;
  port: number;
  plaintext: boolean;
}

interface Settings {
  project: string;
  endpoint: Endpoint;
  /** Google credentials for the TLS endpoint; undefined for plaintext. */
  auth: GoogleAuth | undefined;
  headers: Record<string, string>;
  redact: Redact;
}

const invalidConfig = (path: string, rule: string): FledgeError =>
  new FledgeError('InvalidSpec', `stackdriver provider is invalid: ${path}: ${rule}`, { problems: [{ path, rule }] });

const parseEndpoint = (address: string | undefined): Endpoint => {
  if (address === undefined || address.trim() === '') return { host: DEFAULT_HOST, port: 443, plaintext: false };
  const text = address.trim();
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `https://${text}`);
  } catch {
    throw invalidConfig('spec.provider.address', `"${text}" is not a host[:port] or an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidConfig('spec.provider.address', `scheme ${url.protocol} is not supported (use https:// or http://)`);
  }
  const plaintext = url.protocol === 'http:';
  const port = url.port === '' ? (plaintext ? 80 : 443) : Number(url.port);
  return { host: url.hostname, port, plaintext };
};

/** The service account key as Google credentials; its content never reaches a message. */
const parseServiceAccountKey = (raw: string): ClientOptions['credentials'] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // JSON.parse's own message quotes the input; it must not surface.
    throw invalidConfig('secret.serviceAccountKey', 'must be a JSON key file (it does not parse as JSON)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw invalidConfig('secret.serviceAccountKey', 'must be a JSON key file (an object with a "type" field)');
  }
  return parsed as ClientOptions['credentials'];
};

const parseSettings = (config: ProviderConfig): Settings => {
  const project = config.secret['project']?.trim() ?? '';
  if (project === '') throw invalidConfig('secret.project', 'the secret must hold the Google Cloud project id');
  if (project.includes('/')) throw invalidConfig('secret.project', 'must be a project id, not a resource name');
  const endpoint = parseEndpoint(config.address);
  const key = config.secret['serviceAccountKey'];
  const credentials = key === undefined || key.trim() === '' ? undefined : parseServiceAccountKey(key);
  // Constructing GoogleAuth does no I/O; it finds and caches a token at the first query.
  const auth = endpoint.plaintext
    ? undefined
    : new GoogleAuth({ credentials, scopes: [READ_SCOPE], universeDomain: UNIVERSE, projectId: project });
  // A key signs its own scoped token (no OAuth round trip), for gRPC and PromQL alike; the gRPC client
  // would set this on the shared object anyway, so set it once here to keep both paths the same.
  if (auth !== undefined) auth.useJWTAccessWithScope = true;
  return { project, endpoint, auth, headers: { ...(config.headers ?? {}) }, redact: redactor(config.secret) };
};

/** An auth client that adds nothing: a plaintext endpoint must never start Google's credential lookup. */
const anonymousAuthClient = (): NonNullable<ClientOptions['authClient']> =>
  ({
    universeDomain: UNIVERSE,
    getRequestHeaders: async () => new Headers(),
    getAccessToken: async () => ({ token: null }),
  }) as unknown as NonNullable<ClientOptions['authClient']>;

const clientOptions = (settings: Settings): ClientOptions => {
  const { host, port, plaintext } = settings.endpoint;
  const common: ClientOptions = { apiEndpoint: host, port, universeDomain: UNIVERSE, projectId: settings.project, fallback: false };
  return plaintext
    ? { ...common, sslCreds: grpc.credentials.createInsecure(), authClient: anonymousAuthClient() }
    : { ...common, auth: settings.auth };
};

// ---- reading MQL answers ----------------------------------------------------------------------

const int64ToNumber = (raw: unknown): number => {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') return Number(raw);
  if (typeof raw === 'object' && raw !== null && typeof (raw as { toNumber?: unknown }).toNumber === 'function') {
    return (raw as { toNumber(): number }).toNumber();
  }
  return Number.NaN;
};

const VALUE_KINDS = ['doubleValue', 'int64Value', 'boolValue', 'stringValue', 'distributionValue'] as const;

const kindOf = (value: TypedValue): string | undefined => {
  const declared = (value as { value?: unknown }).value;
  if (typeof declared === 'string') return declared;
  return VALUE_KINDS.find((kind) => value[kind] !== undefined && value[kind] !== null);
};

/** A point's value as a number: double and int64 as they are, bool as 1/0. */
export const numberOfTypedValue = (value: TypedValue): number => {
  const kind = kindOf(value);
  switch (kind) {
    case 'doubleValue':
      return Number(value.doubleValue);
    case 'int64Value': {
      const number = int64ToNumber(value.int64Value);
      if (Number.isNaN(number)) throw new FledgeError('InvalidResponse', 'stackdriver: an int64 point is not a number');
      return number;
    }
    case 'boolValue':
      return value.boolValue ? 1 : 0;
    case 'distributionValue':
      throw new FledgeError(
        'InvalidResponse',
        'stackdriver: the query returns a distribution; reduce it to a number in MQL (e.g. "| value percentile(val(), 99)")',
      );
    default:
      throw new FledgeError('InvalidResponse', `stackdriver: points of kind ${kind ?? 'none'} are not numbers`);
  }
};

/** Flagger's reading: first series, its first point, that point's first value. */
export const valueOfSeries = (first: TimeSeriesData): number => {
  const point = first.pointData?.[0];
  const typed = point?.values?.[0];
  if (typed === undefined || typed === null) throw new FledgeError('NoValues', 'stackdriver: the first time series has no points');
  const value = numberOfTypedValue(typed);
  if (Number.isNaN(value)) throw new FledgeError('NoValues', 'stackdriver: the query returned NaN');
  return value;
};

// ---- errors, timeouts, secrets ------------------------------------------------------------------

type Redact = (message: string) => string;

/**
 * Masks secret material in a message. The project id is not secret (it is in every request name); the
 * service account key, its private key and any other secret value are.
 */
const redactor = (secret: Record<string, string>): Redact => {
  const hidden = new Set<string>();
  for (const [key, value] of Object.entries(secret)) {
    if (key !== 'project' && value.length >= 8) hidden.add(value);
  }
  try {
    const parsed = JSON.parse(secret['serviceAccountKey'] ?? 'null') as Record<string, unknown> | null;
    for (const field of ['private_key', 'private_key_id', 'client_secret', 'refresh_token']) {
      const value = parsed?.[field];
      if (typeof value === 'string' && value.length >= 8) hidden.add(value);
    }
  } catch {
    // an unparsable key was refused when the provider was built
  }
  return (message) => [...hidden].reduce((text, value) => text.split(value).join('[redacted]'), message);
};

/** Rejects as soon as the signal aborts; the gRPC deadline ends the abandoned call server-side. */
const abortable = <T>(work: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });

/**
 * Runs `work` under one deadline on the injected clock and the caller's signal; rejects with
 * ProviderUnavailable when either fires first.
 */
const timeBoxed = <T>(clock: Clock, timeoutMs: number, outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
  if (outer?.aborted) return Promise.reject(new FledgeError('ProviderUnavailable', 'stackdriver: query aborted'));
  const controller = new AbortController();
  const stop = (reason: FledgeError): void => controller.abort(reason);
  const onOuterAbort = (): void => stop(new FledgeError('ProviderUnavailable', 'stackdriver: query aborted'));
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = clock.setTimeout(
    () => stop(new FledgeError('ProviderUnavailable', `stackdriver: query timed out after ${timeoutMs}ms`)),
    timeoutMs,
  );
  return abortable(work(controller.signal), controller.signal).finally(() => {
    clock.clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  });
};

const GRPC_CODE_NAMES = new Map<number, string>(
  Object.entries(grpc.status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** A gRPC status code of an error from the client library, if it has one. */
export const grpcCodeOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

const unavailable = (operation: string, error: unknown, redact: Redact): FledgeError => {
  if (error instanceof FledgeError) {
    const message = redact(error.message);
    return message === error.message ? error : new FledgeError(error.code, message);
  }
  const code = grpcCodeOf(error);
  // gax errors carry the server's text in `details`; their message repeats the code in front of it.
  const details = (error as { details?: unknown } | null)?.details;
  const detail = typeof details === 'string' && details !== '' ? details : error instanceof Error ? error.message : String(error);
  const status = code === undefined ? '' : ` (${GRPC_CODE_NAMES.get(code) ?? code})`;
  return new FledgeError('ProviderUnavailable', redact(`stackdriver: ${operation} failed${status}: ${detail}`));
};

// ---- the two query paths -----------------------------------------------------------------------

const queryMql = async (settings: Settings, query: string, timeoutMs: number, signal: AbortSignal): Promise<number> => {
  const client = new QueryServiceClient(clientOptions(settings));
  try {
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const call = client.queryTimeSeries(
        { name: `projects/${settings.project}`, query, pageToken },
        { autoPaginate: false, timeout: timeoutMs, otherArgs: { headers: { ...settings.headers } } },
      );
      const [data, next, raw] = await abortable(call, signal);
      const first = data[0];
      if (first !== undefined) return valueOfSeries(first);
      const nextToken = next?.pageToken ?? '';
      if (nextToken === '' || nextToken === pageToken) {
        const partial = raw?.partialErrors?.map((status) => status.message).filter(Boolean).join('; ');
        throw new FledgeError('NoValues', `stackdriver: the query returned no time series${partial ? ` (${partial})` : ''}`);
      }
      pageToken = nextToken;
    }
    throw new FledgeError('NoValues', `stackdriver: no time series in the first ${MAX_PAGES} pages`);
  } finally {
    void client.close().catch(() => undefined);
  }
};

const prometheusValue = (body: unknown): number => {
  const answer = body as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
  if (answer?.status !== 'success' || typeof answer.data !== 'object' || answer.data === null) {
    throw new FledgeError('InvalidResponse', 'stackdriver: the Prometheus API answer has no data');
  }
  const { resultType, result } = answer.data;
  let sample: unknown;
  if (resultType === 'scalar') sample = result;
  else if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) throw new FledgeError('NoValues', 'stackdriver: the PromQL query returned an empty vector');
    sample = (result[0] as { value?: unknown } | undefined)?.value;
  } else throw new FledgeError('InvalidResponse', `stackdriver: PromQL result type ${String(resultType)} is not a single value`);
  const text = Array.isArray(sample) ? sample[1] : undefined;
  if (typeof text !== 'string') throw new FledgeError('InvalidResponse', 'stackdriver: a PromQL sample has no value');
  const value = Number(text);
  if (Number.isNaN(value)) throw new FledgeError('NoValues', 'stackdriver: the PromQL query returned NaN');
  return value;
};

const queryPromql = async (settings: Settings, fetcher: typeof fetch, query: string, signal: AbortSignal): Promise<number> => {
  const { host, port, plaintext } = settings.endpoint;
  const base = `${plaintext ? 'http' : 'https'}://${host}:${port}`;
  const url = new URL(`${base}/v1/projects/${encodeURIComponent(settings.project)}/location/global/prometheus/api/v1/query`);
  url.searchParams.set('query', query);
  const headers = new Headers(settings.headers);
  if (settings.auth !== undefined) {
    const authHeaders = await settings.auth.getRequestHeaders(url.toString());
    authHeaders.forEach((value, name) => headers.set(name, value));
  }
  const response = await fetcher(url, { headers, signal });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (!response.ok) throw new FledgeError('ProviderUnavailable', `stackdriver: HTTP ${response.status} from the Prometheus API`);
    throw new FledgeError('InvalidResponse', 'stackdriver: the Prometheus API answer is not JSON');
  }
  if (!response.ok) {
    const reason = (body as { error?: unknown } | null)?.error;
    throw new FledgeError('ProviderUnavailable', `stackdriver: HTTP ${response.status} from the Prometheus API: ${String(reason ?? text).slice(0, 300)}`);
  }
  return prometheusValue(body);
};

// ---- the provider ----------------------------------------------------------------------------

const runBoxed = <T>(
  clock: Clock,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  operation: string,
  redact: Redact,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> =>
  timeBoxed(clock, timeoutMs, outer, work).catch((error: unknown) => {
    throw unavailable(operation, error, redact);
  });

export const createStackdriverProvider: MetricProviderFactory = (config: ProviderConfig, deps: ProviderDeps): MetricProvider => {
  const settings = parseSettings(config);
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetcher = deps.fetch ?? fetch;
  return {
    type: 'stackdriver',
    runQuery: (query, opts) => {
      const trimmed = query.trim();
      if (trimmed.startsWith(PROMQL_PREFIX)) {
        const promql = trimmed.slice(PROMQL_PREFIX.length).trim();
        return runBoxed(deps.clock, timeoutMs, opts.signal, 'PromQL query', settings.redact, (signal) =>
          queryPromql(settings, fetcher, promql, signal),
        );
      }
      return runBoxed(deps.clock, timeoutMs, opts.signal, 'QueryTimeSeries', settings.redact, (signal) =>
        queryMql(settings, query, timeoutMs, signal),
      );
    },
    // Flagger's check: an empty MQL query must be refused as INVALID_ARGUMENT (or answered); any other
    // outcome (PERMISSION_DENIED, UNAVAILABLE, a timeout ...) means the provider cannot serve queries.
    isOnline: ({ signal }) =>
      runBoxed(deps.clock, timeoutMs, signal, 'QueryTimeSeries', settings.redact, async (inner) => {
        try {
          await queryMql(settings, '', timeoutMs, inner);
        } catch (error) {
          const answered = error instanceof FledgeError && error.code !== 'ProviderUnavailable';
          if (!answered && grpcCodeOf(error) !== grpc.status.INVALID_ARGUMENT) throw error;
        }
        return true;
      }).catch(() => false),
  };
};
