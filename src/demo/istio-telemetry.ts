/**
 * The two Istio standard metrics the built-in checks query, kept in memory and rendered in the
 * Prometheus text exposition format 0.0.4: `istio_requests_total` (counter) and
 * `istio_request_duration_milliseconds` (histogram with Istio's default buckets). Both share one label
 * set per series, as Envoy's stats filter reports them. Rendered by hand rather than with prom-client:
 * its registry renders asynchronously, while a scrape handler (devtools serveMetrics) wants a string now.
 */

/** Istio's default request-duration buckets, in milliseconds (istio/proxy stats plugin). */
export const ISTIO_DURATION_BUCKETS_MS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export const REQUESTS_FAMILY = 'istio_requests_total';
export const DURATION_FAMILY = 'istio_request_duration_milliseconds';

export type Labels = Readonly<Record<string, string>>;

interface Series {
  labels: Labels;
  requests: number;
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf overflow. */
  buckets: number[];
  sumMs: number;
}

/** What one label set has seen, for tests and the demo's display. */
export interface SeriesTotals {
  labels: Labels;
  requests: number;
  sumMs: number;
}

/** Label values escaped as the exposition format requires: backslash, double quote and newline. */
const escapeValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const labelText = (labels: Labels, extra?: [string, string]): string => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeValue(extra[1])}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
};

/** Go's strconv formatting is what Prometheus parses; JS's shortest round-trip form is compatible. */
const numberText = (n: number): string => (n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));

/** The key of a label set: independent of the order its labels were written in. */
const keyOf = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k] ?? ''}`)
    .join('\u0001');

export class IstioTelemetry {
  private readonly series = new Map<string, Series>();

  private seriesFor(labels: Labels): Series {
    const key = keyOf(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, requests: 0, buckets: new Array<number>(ISTIO_DURATION_BUCKETS_MS.length + 1).fill(0), sumMs: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** Makes a label set appear at zero, so a rate over it counts its first increase too. */
  touch(labels: Labels): void {
    this.seriesFor(labels);
  }

  /** One request with these labels that took `latencyMs`. */
  observe(labels: Labels, latencyMs: number): void {
    const s = this.seriesFor(labels);
    s.requests += 1;
    s.sumMs += latencyMs;
    // Prometheus buckets are upper-inclusive (le); a value past the last bound counts in +Inf only.
    let i = ISTIO_DURATION_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
    if (i < 0) i = ISTIO_DURATION_BUCKETS_MS.length;
    s.buckets[i] = (s.buckets[i] ?? 0) + 1;
  }

  /** Every series, in the order they first appeared. */
  totals(): SeriesTotals[] {
    return [...this.series.values()].map((s) => ({ labels: { ...s.labels }, requests: s.requests, sumMs: s.sumMs }));
  }

  /** The text exposition (format 0.0.4) of both families; series in the order they first appeared. */
  render(): string {
    const all = [...this.series.values()];
    const lines = [
      `# HELP ${REQUESTS_FAMILY} Requests handled, as reported by the Istio sidecars (simulated).`,
      `# TYPE ${REQUESTS_FAMILY} counter`,
      ...all.map((s) => `${REQUESTS_FAMILY}${labelText(s.labels)} ${numberText(s.requests)}`),
      `# HELP ${DURATION_FAMILY} Request duration in milliseconds, as reported by the Istio sidecars (simulated).`,
      `# TYPE ${DURATION_FAMILY} histogram`,
    ];
    for (const s of all) {
      let cumulative = 0;
      ISTIO_DURATION_BUCKETS_MS.forEach((bound, i) => {
        cumulative += s.buckets[i] ?? 0;
        lines.push(`${DURATION_FAMILY}_bucket${labelText(s.labels, ['le', numberText(bound)])} ${cumulative}`);
      });
      cumulative += s.buckets[ISTIO_DURATION_BUCKETS_MS.length] ?? 0;
      lines.push(`${DURATION_FAMILY}_bucket${labelText(s.labels, ['le', '+Inf'])} ${cumulative}`);
      lines.push(`${DURATION_FAMILY}_sum${labelText(s.labels)} ${numberText(s.sumMs)}`);
      lines.push(`${DURATION_FAMILY}_count${labelText(s.labels)} ${numberText(s.requests)}`);
    }
    return lines.join('\n') + '\n';
  }
}
