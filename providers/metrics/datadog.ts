/**
 * Datadog metrics query API v1 (`GET <address>/api/v1/query?from=&to=&query=`), as Flagger queries it:
 * the window is the last 10 metric intervals (epoch seconds), the keys come from the Secret keys
 * `datadog_api_key` and `datadog_application_key` and travel as `DD-API-KEY` / `DD-APPLICATION-KEY`.
 * The value is the OLDEST point of the first series, as in Flagger since it stopped reading the newest
 * one: the last bucket of the window is usually still incomplete. Null points are skipped.
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

export const DATADOG_DEFAULT_ADDRESS = 'https://api.datadoghq.com';
export const DATADOG_API_KEY = 'datadog_api_key';
export const DATADOG_APPLICATION_KEY = 'datadog_application_key';
/** Flagger's window: 10 metric intervals back from now. */
export const DATADOG_WINDOW_INTERVALS = 10;

const QUERY_PATH = '/api/v1/query';
const VALIDATE_PATH = '/api/v1/validate';

interface Point {
  timeMs: number;
  value: number;
}

/** The non-null points of the first series, oldest first; undefined when there is no series. */
const firstSeriesPoints = (body: unknown): Point[] | undefined => {
  const answer = asObject(body);
  if (!answer) throw invalidResponse('datadog', 'a body that is not a JSON object');
  // The v1 API reports some query errors in a 200 body rather than a status code.
  if (answer.status === 'error' || typeof answer.error === 'string') {
    throw invalidResponse('datadog', `an error: ${String(answer.error ?? 'unknown')}`);
  }
  const series = answer.series;
  if (!Array.isArray(series)) throw invalidResponse('datadog', 'no "series" array');
  if (series.length === 0) return undefined;
  const pointlist = asObject(series[0])?.pointlist;
  if (!Array.isArray(pointlist)) throw invalidResponse('datadog', 'a series without a "pointlist" array');
  return pointlist.flatMap((point): Point[] => {
    if (!Array.isArray(point) || point.length < 2) throw invalidResponse('datadog', 'a point that is not a pair');
    const [timeMs, value] = point as unknown[];
    if (value === null) return [];
    if (typeof value !== 'number' || typeof timeMs !== 'number') {
      throw invalidResponse('datadog', `a point that is not [time, number]: ${JSON.stringify(point)}`);
    }
    return [{ timeMs, value }];
  });
};

export const createDatadogProvider: MetricProviderFactory = (
  config: ProviderConfig,
  deps: ProviderDeps,
): MetricProvider => {
  const address = requireAddress(config, DATADOG_DEFAULT_ADDRESS);
  const headers = {
    'DD-API-KEY': requireSecretKey(config, DATADOG_API_KEY),
    'DD-APPLICATION-KEY': requireSecretKey(config, DATADOG_APPLICATION_KEY),
  };
  const client = createHttpJsonClient(config, deps);

  const query = async (text: string, fromMs: number, toMs: number, signal?: AbortSignal) => {
    const url = new URL(address + QUERY_PATH);
    url.searchParams.set('from', String(Math.floor(fromMs / 1000)));
    url.searchParams.set('to', String(Math.floor(toMs / 1000)));
    url.searchParams.set('query', text);
    return firstSeriesPoints(await client.request({ url, headers, signal }));
  };

  return {
    type: 'datadog',

    async runQuery(text, opts) {
      const now = deps.clock.now();
      const points = await query(text, now - DATADOG_WINDOW_INTERVALS * opts.intervalMs, now, opts.signal);
      const oldest = points?.[0];
      if (!oldest) throw noValues('datadog', text);
      return oldest.value;
    },

    async runRangeQuery(text, opts) {
      return (await query(text, opts.startMs, opts.endMs, opts.signal)) ?? [];
    },

    async isOnline({ signal }) {
      try {
        const answer = asObject(await client.request({ url: new URL(address + VALIDATE_PATH), headers, signal }));
        return answer?.valid === true;
      } catch {
        return false;
      }
    },
  };
};
