/**
 * Dynatrace metrics API v2 (`GET <address>/api/v2/metrics/query`), as Flagger queries it: the template's
 * query is a metric selector, aggregated to one value (`resolution=Inf`) over the last 10 metric
 * intervals, with an `Api-Token` from the Secret key `dynatrace_token`. The value is the first value of
 * the last data entry of the first result, as in Flagger; an empty result or a null value is NoValues.
 */
import type { MetricProvider, MetricProviderFactory, ProviderConfig, ProviderDeps } from './types.js';
import {
  asObject,
  createHttpJsonClient,
  invalidResponse,
  noValues,
  requireAddress,
  requireSecretKey,
} from './http-json.js';

export const DYNATRACE_TOKEN_KEY = 'dynatrace_token';
/** Flagger's window: the query covers 10 metric intervals back from now. */
export const DYNATRACE_WINDOW_INTERVALS = 10;

const QUERY_PATH = '/api/v2/metrics/query';
/** The cheapest authenticated call: one metric descriptor. */
const VALIDATION_PATH = '/api/v2/metrics';
const MS_PER_MINUTE = 60_000;

interface DataEntry {
  timestamps: unknown[];
  values: unknown[];
}

/** The `data` entries of the first result; throws InvalidResponse when the shape is not the API's. */
const firstResultData = (body: unknown): DataEntry[] | undefined => {
  const result = asObject(body)?.result;
  if (!Array.isArray(result)) throw invalidResponse('dynatrace', 'no "result" array');
  if (result.length === 0) return undefined;
  const data = asObject(result[0])?.data;
  if (!Array.isArray(data)) throw invalidResponse('dynatrace', 'a result without a "data" array');
  return data.map((entry) => {
    const fields = asObject(entry);
    if (!fields || !Array.isArray(fields.values)) throw invalidResponse('dynatrace', 'a data entry without "values"');
    return { timestamps: Array.isArray(fields.timestamps) ? fields.timestamps : [], values: fields.values };
  });
};

const numberOrNull = (value: unknown): number | null => {
  if (value === null) return null;
  if (typeof value !== 'number') throw invalidResponse('dynatrace', `a value that is not a number: ${String(value)}`);
  return value;
};

/** A Dynatrace resolution for a step: whole minutes, at least one (the API's finest is 1m). */
const resolutionFor = (stepMs: number): string => `${Math.max(1, Math.round(stepMs / MS_PER_MINUTE))}m`;

export const createDynatraceProvider: MetricProviderFactory = (
  config: ProviderConfig,
  deps: ProviderDeps,
): MetricProvider => {
  const address = requireAddress(config);
  const token = requireSecretKey(config, DYNATRACE_TOKEN_KEY);
  const client = createHttpJsonClient(config, deps);
  const headers = { Authorization: `Api-Token ${token}` };

  const metricsQuery = (params: Record<string, string>, signal?: AbortSignal) => {
    const url = new URL(address + QUERY_PATH);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return client.request({ url, headers, signal });
  };

  return {
    type: 'dynatrace',

    async runQuery(query, opts) {
      const to = deps.clock.now();
      const from = to - DYNATRACE_WINDOW_INTERVALS * opts.intervalMs;
      const body = await metricsQuery(
        { metricSelector: query, resolution: 'Inf', from: String(from), to: String(to) },
        opts.signal,
      );
      const data = firstResultData(body);
      const last = data?.[data.length - 1];
      const value = last && last.values.length > 0 ? numberOrNull(last.values[0]) : null;
      if (value === null) throw noValues('dynatrace', query);
      return value;
    },

    async runRangeQuery(query, opts) {
      const body = await metricsQuery(
        {
          metricSelector: query,
          resolution: resolutionFor(opts.stepMs),
          from: String(opts.startMs),
          to: String(opts.endMs),
        },
        opts.signal,
      );
      const entry = firstResultData(body)?.[0];
      if (!entry) return [];
      return entry.values.flatMap((raw, index) => {
        const value = numberOrNull(raw);
        const timeMs = entry.timestamps[index];
        return value === null || typeof timeMs !== 'number' ? [] : [{ timeMs, value }];
      });
    },

    async isOnline({ signal }) {
      const url = new URL(address + VALIDATION_PATH);
      url.searchParams.set('pageSize', '1');
      try {
        await client.request({ url, headers, signal });
        return true;
      } catch {
        return false;
      }
    },
  };
};
