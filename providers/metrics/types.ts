/**
 * The metric-provider interface. One file per provider implements it; index.ts registers them by the
 * MetricTemplate `spec.provider.type` names Flagger uses. A provider turns one query into one number, or
 * fails with a FledgeError whose code says why: NoValues (the query matched nothing), ProviderUnavailable
 * (network, timeout, 5xx, auth) or InvalidResponse (the answer is not what the API promises).
 */
import type { MetricProviderType } from '../../src/api/index.js';
import type { Clock } from '../../src/api/clock.js';

export interface ProviderConfig {
  type: MetricProviderType;
  /** The backend's address (template `spec.provider.address`, or --metrics-server for built-in metrics). */
  address?: string;
  /** Decoded data of the template's secretRef Secret (e.g. token, username, password, apiKey ...). Never log it. */
  secret: Record<string, string>;
  insecureSkipVerify: boolean;
  region?: string;
  /** Extra HTTP headers some providers accept. */
  headers?: Record<string, string>;
}

export interface QueryOptions {
  /** The metric's interval in ms (some APIs need a window: Dynatrace uses 10 x interval). */
  intervalMs: number;
  /** Aborted on controller shutdown or by the per-query timeout. */
  signal?: AbortSignal;
}

export interface RangeOptions {
  startMs: number;
  endMs: number;
  stepMs: number;
  signal?: AbortSignal;
}

export interface MetricProvider {
  readonly type: MetricProviderType;
  /** One value; throws FledgeError('NoValues' | 'ProviderUnavailable' | 'InvalidResponse'). */
  runQuery(query: string, opts: QueryOptions): Promise<number>;
  /** Whether the backend answers (Flagger's IsOnline; Prometheus asks `vector(1)`). */
  isOnline(opts: { signal?: AbortSignal }): Promise<boolean>;
  /** Values over a past window, for `fledge analyze --from/--to` (providers whose API allows it). */
  runRangeQuery?(query: string, opts: RangeOptions): Promise<Array<{ timeMs: number; value: number }>>;
}

export interface ProviderDeps {
  clock: Clock;
  /** Per-query timeout in ms (default 5000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type MetricProviderFactory = (config: ProviderConfig, deps: ProviderDeps) => MetricProvider;
