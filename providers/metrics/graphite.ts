/**
 * Graphite render API (`GET <address>/render?...&format=json`), as Flagger queries it: the template's
 * query is the render URL's query string (`target=summarize(...)&from=-{{interval}}`), whitespace
 * collapsed so it can be written over several lines. The value is the last non-null datapoint, scanning
 * the series in order (Flagger's rule, so with several series the last one holding data wins).
 * Optional basic auth from the Secret keys `username` and `password`.
 * Beyond Flagger: a query with no `target=` is taken as the target expression itself, and a query with
 * no `from` covers the metric's interval (Graphite's own default would be the last 24 hours).
 */
import type { MetricProvider, MetricProviderFactory, ProviderConfig, ProviderDeps } from './types.js';
import { createHttpJsonClient, invalidResponse, noValues, requireAddress, requireSecretKey } from './http-json.js';

const RENDER_PATH = '/render';
/** Flagger's liveness query: any target; an unknown one answers an empty list. */
const ONLINE_QUERY = 'target=test';

/** The render parameters of a template query (see the module comment). */
export const renderParams = (query: string, intervalMs: number): URLSearchParams => {
  const collapsed = query.replace(/\s+/g, ' ').trim();
  const parsed = new URLSearchParams(collapsed);
  const params = new URLSearchParams();
  for (const [name, value] of parsed) params.append(name.trim(), value.trim());
  if (!params.has('target')) {
    params.forEach((_value, name) => params.delete(name));
    params.set('target', collapsed);
  }
  if (!params.has('from')) params.set('from', `-${Math.max(1, Math.ceil(intervalMs / 1000))}s`);
  params.set('format', 'json');
  return params;
};

interface Datapoint {
  value: number | null;
  timeMs: number | null;
}

/** Graphite writes `[value, epochSeconds]`; some servers quote the numbers. */
const readNumber = (raw: unknown, what: string): number | null => {
  if (raw === null) return null;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidResponse('graphite', `a datapoint ${what} that is not a number: ${JSON.stringify(raw)}`);
  }
  return value;
};

/** Every series' datapoints, in the order Graphite listed them. */
export const seriesOf = (body: unknown): Datapoint[][] => {
  if (!Array.isArray(body)) throw invalidResponse('graphite', 'a body that is not a list of series');
  return body.map((series: unknown) => {
    const datapoints = (series as { datapoints?: unknown } | null)?.datapoints;
    if (!Array.isArray(datapoints)) throw invalidResponse('graphite', 'a series without a "datapoints" array');
    return datapoints.map((point: unknown) => {
      if (!Array.isArray(point) || point.length !== 2) throw invalidResponse('graphite', 'a datapoint that is not a pair');
      const seconds = readNumber(point[1], 'time');
      return { value: readNumber(point[0], 'value'), timeMs: seconds === null ? null : seconds * 1000 };
    });
  });
};

/** Basic-auth credentials when the Secret holds them; both keys or neither (Flagger wants both). */
const credentialsOf = (config: ProviderConfig): { username: string; password: string } | undefined => {
  if (config.secret.username === undefined && config.secret.password === undefined) return undefined;
  return { username: requireSecretKey(config, 'username'), password: requireSecretKey(config, 'password') };
};

export const createGraphiteProvider: MetricProviderFactory = (
  config: ProviderConfig,
  deps: ProviderDeps,
): MetricProvider => {
  const address = requireAddress(config);
  const basicAuth = credentialsOf(config);
  const client = createHttpJsonClient(config, deps);

  const render = async (params: URLSearchParams, signal?: AbortSignal) => {
    const url = new URL(address + RENDER_PATH);
    url.search = params.toString();
    // Graphite-web may redirect /render to /render/ on the same host; basic auth is dropped cross-host.
    return seriesOf(await client.request({ url, signal, followRedirects: true, ...(basicAuth ? { basicAuth } : {}) }));
  };

  return {
    type: 'graphite',

    async runQuery(query, opts) {
      const series = await render(renderParams(query, opts.intervalMs), opts.signal);
      const values = series.flat().flatMap((point) => (point.value === null ? [] : [point.value]));
      const last = values[values.length - 1];
      if (last === undefined) throw noValues('graphite', query);
      return last;
    },

    async runRangeQuery(query, opts) {
      const params = renderParams(query, opts.stepMs);
      params.set('from', String(Math.floor(opts.startMs / 1000)));
      params.set('until', String(Math.floor(opts.endMs / 1000)));
      const first = (await render(params, opts.signal))[0] ?? [];
      return first.flatMap((point) =>
        point.value === null || point.timeMs === null ? [] : [{ timeMs: point.timeMs, value: point.value }],
      );
    },

    async isOnline({ signal }) {
      try {
        await render(renderParams(ONLINE_QUERY, 60_000), signal);
        return true;
      } catch {
        return false;
      }
    },
  };
};
