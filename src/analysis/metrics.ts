/**
 * Metric checks of one analysis step: each canary metric becomes a query, the query a value, the value a
 * verdict against its threshold range. This is the engine issue's minimal slice of the analysis issue:
 * Flagger's built-in `request-success-rate` and `request-duration` (Istio and the generic
 * http_request_* metrics) and inline `query` metrics, against a Prometheus HTTP API. MetricTemplates and
 * the other providers come with the analysis issue; until then a metric that needs them fails its check
 * with a clear message (it never passes silently).
 */
import type { Canary, CanaryMetric } from '../api/index.js';
import type { CheckVerdict } from '../engine/ports.js';

/** A source of one number per query: the Prometheus HTTP API, or anything that speaks like it. */
export interface MetricProvider {
  readonly type: string;
  /** The single value of an instant query; throws MetricError('NoValues' | 'ProviderUnavailable' | 'InvalidResponse'). */
  query(query: string, signal?: AbortSignal): Promise<number>;
}

export class MetricError extends Error {
  constructor(
    readonly code: 'NoValues' | 'ProviderUnavailable' | 'InvalidResponse' | 'UnknownProvider',
    message: string,
  ) {
    super(message);
    this.name = 'MetricError';
  }
}

/** Prometheus instant query over HTTP: exactly one sample expected; empty or NaN is "no values". */
export const prometheusProvider = (address: string, fetchFn: typeof fetch = fetch, timeoutMs = 5000): MetricProvider => ({
  type: 'prometheus',
  async query(query, signal) {
    const url = `${address.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query.replace(/\s+/g, ' ').trim())}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetchFn(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (e) {
      throw new MetricError('ProviderUnavailable', `prometheus at ${address}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new MetricError('ProviderUnavailable', `prometheus at ${address} answered ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { data?: { resultType?: string; result?: Array<{ value?: [number, string] }> } } | undefined;
    const data = body?.data;
    if (!data || !Array.isArray(data.result)) throw new MetricError('InvalidResponse', 'prometheus answer has no data.result');
    if (data.resultType === 'scalar') {
      const v = Number((data.result as unknown as [number, string])[1]);
      if (Number.isNaN(v)) throw new MetricError('NoValues', `no values for query ${query}`);
      return v;
    }
    if (data.resultType !== 'vector') throw new MetricError('InvalidResponse', `expected a vector result, got ${data.resultType}`);
    if (data.result.length === 0) throw new MetricError('NoValues', `no values for query ${query}`);
    if (data.result.length > 1) throw new MetricError('InvalidResponse', `expected one sample, got ${data.result.length}`);
    const v = Number(data.result[0]?.value?.[1]);
    if (Number.isNaN(v)) throw new MetricError('NoValues', `no values for query ${query}`);
    return v;
  },
});

const istioSuccessRate = (ns: string, target: string, interval: string): string =>
  `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${ns}",destination_workload=~"${target}",response_code!~"5.*"}[${interval}])) / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${ns}",destination_workload=~"${target}"}[${interval}])) * 100`;
const istioDuration = (ns: string, target: string, interval: string): string =>
  `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="${ns}",destination_workload=~"${target}"}[${interval}])) by (le))`;
const httpSuccessRate = (ns: string, target: string, interval: string): string =>
  `sum(rate(http_request_duration_seconds_count{kubernetes_namespace="${ns}",kubernetes_pod_name=~"${target}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",status!~"5.*"}[${interval}])) / sum(rate(http_request_duration_seconds_count{kubernetes_namespace="${ns}",kubernetes_pod_name=~"${target}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[${interval}])) * 100`;
const httpDuration = (ns: string, target: string, interval: string): string =>
  `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{kubernetes_namespace="${ns}",kubernetes_pod_name=~"${target}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[${interval}])) by (le)) * 1000`;

/** The query for a built-in metric on a router; undefined when we have none for it yet. */
export const builtinQuery = (metric: CanaryMetric, router: string, canary: Canary): string | undefined => {
  const ns = canary.metadata.namespace;
  const target = canary.spec.targetRef.name;
  const family = router.split(':')[0];
  if (family === 'istio') return metric.builtin === 'request-success-rate' ? istioSuccessRate(ns, target, metric.interval) : istioDuration(ns, target, metric.interval);
  if (family === 'kubernetes' || family === 'gatewayapi') {
    return metric.builtin === 'request-success-rate' ? httpSuccessRate(ns, target, metric.interval) : httpDuration(ns, target, metric.interval);
  }
  return undefined;
};

const inRange = (v: number, r: { min?: number; max?: number }): boolean => (r.min === undefined || v >= r.min) && (r.max === undefined || v <= r.max);

const describeRange = (r: { min?: number; max?: number }): string =>
  [r.min !== undefined ? `min ${r.min}` : '', r.max !== undefined ? `max ${r.max}` : ''].filter(Boolean).join(', ') || 'no bounds';

export interface MetricChecksDeps {
  /** The Prometheus for built-in metrics and inline queries (--metrics-server or spec.metricsServer). */
  providerFor(address: string): MetricProvider;
  defaultMetricsServer: string;
  routerOf(canary: Canary): string;
}

/** Runs the canary's metric checks concurrently, each with its own explained verdict. */
export const runMetricChecks = async (canary: Canary, deps: MetricChecksDeps, signal?: AbortSignal): Promise<CheckVerdict[]> =>
  Promise.all(
    canary.spec.analysis.metrics.map(async (metric): Promise<CheckVerdict> => {
      const range = metric.thresholdRange;
      const base = { metric: metric.name, thresholdRange: range, provider: 'prometheus' };
      const query = metric.query ?? (metric.builtin ? builtinQuery(metric, deps.routerOf(canary), canary) : undefined);
      if (!query) {
        const why = metric.templateRef
          ? `MetricTemplate ${metric.templateRef.namespace}/${metric.templateRef.name} cannot be evaluated yet (metric providers are not built)`
          : `no built-in query for ${metric.name} on router ${deps.routerOf(canary)}`;
        return { ...base, ok: false, errorCode: 'UnknownProvider', message: `${metric.name}: ${why}` };
      }
      try {
        const value = await deps.providerFor(canary.spec.metricsServer ?? deps.defaultMetricsServer).query(query, signal);
        const ok = inRange(value, range);
        const bound = range.min !== undefined && value < range.min ? `< ${range.min}` : `> ${range.max}`;
        const message = ok ? `${metric.name} ${value} within ${describeRange(range)}` : `Halt advancement: ${metric.name} ${value} ${bound}`;
        return { ...base, ok, value, message };
      } catch (e) {
        const err = e instanceof MetricError ? e : new MetricError('ProviderUnavailable', (e as Error).message);
        const message = err.code === 'NoValues' ? `Halt advancement no values found for metric: ${metric.name}` : `Metric query failed for ${metric.name}: ${err.message}`;
        return { ...base, ok: false, errorCode: err.code, message };
      }
    }),
  );
