/**
 * New Relic Insights query API (`GET <address>/v1/accounts/<account id>/query?nrql=`), as Flagger
 * queries it: the template's NRQL gets `SINCE <interval seconds> seconds ago` appended, the account id
 * and the `X-Query-Key` come from the Secret keys `newrelic_account_id` and `newrelic_query_key`.
 * The value is read from `results[0]`: its `result` field (what Flagger reads, e.g. `percentage()`),
 * else its first numeric field, so `count(*)`, `average(x)` or `percentile(x, 95)` work too.
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

export const NEWRELIC_DEFAULT_ADDRESS = 'https://insights-api.newrelic.com';
export const NEWRELIC_ACCOUNT_ID_KEY = 'newrelic_account_id';
export const NEWRELIC_QUERY_KEY = 'newrelic_query_key';

/** Flagger's liveness query: any authenticated NRQL that the API accepts. */
const ONLINE_NRQL = 'SELECT count(*) FROM Metric';

/** The NRQL sent: the template's query plus the metric's window, unless the query names its own. */
export const nrqlWithWindow = (query: string, intervalMs: number): string => {
  const trimmed = query.trim();
  if (/\bSINCE\b/i.test(trimmed)) return trimmed;
  return `${trimmed} SINCE ${Math.max(1, Math.floor(intervalMs / 1000))} seconds ago`;
};

type Reading = { kind: 'number'; value: number } | { kind: 'null' } | { kind: 'none' };

/** A number field, or a nested object of them (`percentile` answers `{"percentile": {"95": 1.2}}`). */
const readField = (value: unknown): Reading => {
  if (typeof value === 'number') return { kind: 'number', value };
  if (value === null) return { kind: 'null' };
  const nested = asObject(value);
  if (nested) {
    const inner = Object.values(nested).map(readField);
    return inner.find((reading) => reading.kind === 'number') ?? inner.find((r) => r.kind === 'null') ?? { kind: 'none' };
  }
  return { kind: 'none' };
};

/** The number of the first result; undefined when NRQL matched nothing (no results, null aggregate). */
export const firstResultValue = (body: unknown): number | undefined => {
  const answer = asObject(body);
  if (!answer) throw invalidResponse('newrelic', 'a body that is not a JSON object');
  if (typeof answer.error === 'string') throw invalidResponse('newrelic', `an error: ${answer.error}`);
  const results = answer.results;
  if (!Array.isArray(results)) throw invalidResponse('newrelic', 'no "results" array');
  if (results.length === 0) return undefined;
  const first = asObject(results[0]);
  if (!first) throw invalidResponse('newrelic', 'a first result that is not an object');
  const readings = 'result' in first ? [readField(first.result)] : Object.values(first).map(readField);
  const number = readings.find((reading) => reading.kind === 'number');
  if (number?.kind === 'number') return number.value;
  if (readings.some((reading) => reading.kind === 'null')) return undefined;
  throw invalidResponse('newrelic', `a first result without a numeric field: ${JSON.stringify(first).slice(0, 200)}`);
};

export const createNewRelicProvider: MetricProviderFactory = (
  config: ProviderConfig,
  deps: ProviderDeps,
): MetricProvider => {
  const address = requireAddress(config, NEWRELIC_DEFAULT_ADDRESS);
  const accountId = requireSecretKey(config, NEWRELIC_ACCOUNT_ID_KEY);
  const headers = { 'X-Query-Key': requireSecretKey(config, NEWRELIC_QUERY_KEY) };
  const client = createHttpJsonClient(config, deps);

  const runNrql = (nrql: string, signal?: AbortSignal) => {
    const url = new URL(`${address}/v1/accounts/${encodeURIComponent(accountId)}/query`);
    url.searchParams.set('nrql', nrql);
    return client.request({ url, headers, signal });
  };

  return {
    type: 'newrelic',

    async runQuery(query, opts) {
      const value = firstResultValue(await runNrql(nrqlWithWindow(query, opts.intervalMs), opts.signal));
      if (value === undefined) throw noValues('newrelic', query);
      return value;
    },

    async isOnline({ signal }) {
      try {
        await runNrql(nrqlWithWindow(ONLINE_NRQL, 60_000), signal);
        return true;
      } catch {
        return false;
      }
    },
  };
};
