/**
 * The analysis benchmark's workloads: Istio-style series for `app-0` … `app-<n-1>` in namespace
 * `bench`, as a scrape target renders them, and the Canaries that measure them with Flagger's two
 * built-in checks. The traffic is healthy by construction: 0.5% of requests answer 500 (success rate
 * 99.5 against min 99) and the latency histogram puts its 99th percentile near 100 ms (against max 500).
 */
import type { Canary } from '../src/api/index.js';
import { parseCanary } from '../src/api/index.js';

export const NAMESPACE = 'bench';

export const workloadName = (i: number): string => `app-${i}`;

/** Requests per second of workload i: 10 to 16, so workloads differ a little. */
const requestRate = (i: number): number => 10 + (i % 7);

const ERROR_SHARE = 0.005;

/** Istio's default bucket bounds up to 10 s, with the share of requests at or under each (cumulative). */
const BUCKETS: ReadonlyArray<readonly [string, number]> = [
  ['0.5', 0],
  ['1', 0.01],
  ['5', 0.2],
  ['10', 0.5],
  ['25', 0.8],
  ['50', 0.95],
  ['100', 0.99],
  ['250', 0.999],
  ['500', 1],
  ['1000', 1],
  ['2500', 1],
  ['5000', 1],
  ['10000', 1],
  ['+Inf', 1],
];

/** The labels Istio's destination reporter puts on every series (a realistic subset). */
const labelsOf = (i: number, code: string): string =>
  `reporter="destination",source_workload="loadgen",source_workload_namespace="${NAMESPACE}",destination_service="${workloadName(i)}-canary.${NAMESPACE}.svc.cluster.local",` +
  `destination_workload="${workloadName(i)}",destination_workload_namespace="${NAMESPACE}",request_protocol="http",response_code="${code}",connection_security_policy="mutual_tls"`;

/**
 * The exposition at `elapsedSeconds` since traffic started: per workload, a request counter and a
 * duration histogram for response codes 200 and 500. Counters only grow, so `rate()` sees steady traffic.
 */
export const renderIstioExposition = (workloads: number, elapsedSeconds: number): string => {
  const requests: string[] = ['# TYPE istio_requests_total counter'];
  const durations: string[] = ['# TYPE istio_request_duration_milliseconds histogram'];
  for (let i = 0; i < workloads; i += 1) {
    const total = Math.floor(requestRate(i) * elapsedSeconds);
    const errors = Math.floor(total * ERROR_SHARE);
    for (const [code, count] of [
      ['200', total - errors],
      ['500', errors],
    ] as const) {
      const labels = labelsOf(i, code);
      requests.push(`istio_requests_total{${labels}} ${count}`);
      for (const [le, share] of BUCKETS) durations.push(`istio_request_duration_milliseconds_bucket{${labels},le="${le}"} ${Math.floor(count * share)}`);
      durations.push(`istio_request_duration_milliseconds_sum{${labels}} ${count * 20}`);
      durations.push(`istio_request_duration_milliseconds_count{${labels}} ${count}`);
    }
  }
  return requests.join('\n') + '\n' + durations.join('\n') + '\n';
};

/** Series the exposition holds, for the "all scraped" check. */
export const seriesPerWorkload = 2 * (1 + BUCKETS.length + 2);

/** Canary i: Istio router, target app-i, the two built-in checks at `metricInterval`. */
export const benchCanary = (i: number, metricInterval: string): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: workloadName(i), namespace: NAMESPACE },
    spec: {
      provider: 'istio',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: workloadName(i) },
      service: { port: 9898 },
      analysis: {
        interval: '30s',
        threshold: 5,
        maxWeight: 50,
        stepWeight: 10,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: metricInterval },
          { name: 'request-duration', thresholdRange: { max: 500 }, interval: metricInterval },
        ],
      },
    },
  });
