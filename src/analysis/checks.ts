/**
 * The metric checks of one analysis step. Each metric resolves to a provider and a rendered query,
 * the query to a value, the value to a verdict against the metric's threshold range. Checks run
 * concurrently and never throw: whatever goes wrong becomes that check's explained verdict (metric,
 * query, value, range, reason), which the engine counts, the status keeps and alerts quote.
 */
import type { Canary, CanaryMetric, ThresholdRange } from '../api/index.js';
import { isFledgeError } from '../api/index.js';
import type { CheckVerdict } from '../engine/ports.js';
import type { ResolveDeps, ResolvedCheck } from './resolve.js';
import { resolveCheck } from './resolve.js';
import { compactQuery } from './templates.js';

export interface ChecksDeps extends ResolveDeps {
  /** Aborted when the controller stops; each provider also applies its own per-query timeout. */
  signal?: AbortSignal;
  /** Told how long each provider query took, answered or not (fledge_provider_query_duration_seconds). */
  observeQuery?: (provider: string, seconds: number) => void;
}

export const inRange = (value: number, range: ThresholdRange): boolean =>
  (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);

const number = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));

/** `min 99`, `max 500`, `min 1, max 10`, or `no bounds`. */
export const describeRange = (range: ThresholdRange): string =>
  [range.min !== undefined ? `min ${number(range.min)}` : '', range.max !== undefined ? `max ${number(range.max)}` : '']
    .filter(Boolean)
    .join(', ') || 'no bounds';

const base = (metric: CanaryMetric, provider?: string, query?: string): CheckVerdict => ({
  metric: metric.name,
  ok: false,
  thresholdRange: { ...metric.thresholdRange },
  message: '',
  ...(provider !== undefined ? { provider } : {}),
  ...(query !== undefined ? { query: compactQuery(query) } : {}),
});

/** The verdict on a measured value. NaN (0/0 with no traffic) counts as no values, as in Flagger. */
export const judge = (metric: CanaryMetric, value: number, provider?: string, query?: string): CheckVerdict => {
  if (Number.isNaN(value)) return failure(metric, 'NoValues', 'the query returned NaN', provider, query);
  const verdict = base(metric, provider, query);
  const range = metric.thresholdRange;
  verdict.value = value;
  verdict.ok = inRange(value, range);
  if (verdict.ok) verdict.message = `${metric.name} ${number(value)} within ${describeRange(range)}`;
  else if (range.min !== undefined && value < range.min) verdict.message = `${metric.name} ${number(value)} < ${number(range.min)}`;
  else verdict.message = `${metric.name} ${number(value)} > ${number(range.max ?? Number.NaN)}`;
  return verdict;
};

/**
 * A check that could not be made. No values under `noDataPolicy: wait` is marked `wait`: the engine
 * then holds the step without counting a failure.
 */
export const failure = (metric: CanaryMetric, code: string, message: string, provider?: string, query?: string): CheckVerdict => {
  const verdict = { ...base(metric, provider, query), errorCode: code, message };
  if (code === 'NoValues' && metric.noDataPolicy === 'wait') verdict.wait = true;
  return verdict;
};

/** The error of a failed resolution or query, as a verdict (typed codes kept, anything else unavailable). */
export const errorVerdict = (metric: CanaryMetric, err: unknown, resolved?: ResolvedCheck): CheckVerdict => {
  const code = isFledgeError(err) ? err.code : 'ProviderUnavailable';
  const message = err instanceof Error ? err.message : String(err);
  return failure(metric, code, message, resolved?.provider.type, resolved?.query);
};

/** Runs one check now. Never throws. */
export const runCheck = async (canary: Canary, metric: CanaryMetric, deps: ChecksDeps): Promise<CheckVerdict> => {
  let resolved: ResolvedCheck | undefined;
  try {
    resolved = await resolveCheck(canary, metric, deps);
    const started = performance.now();
    const provider = resolved.provider;
    const value = await provider
      .runQuery(resolved.query, { intervalMs: metric.intervalMs, ...(deps.signal ? { signal: deps.signal } : {}) })
      .finally(() => deps.observeQuery?.(provider.type, (performance.now() - started) / 1000));
    return judge(metric, value, resolved.provider.type, resolved.query);
  } catch (err) {
    return errorVerdict(metric, err, resolved);
  }
};

/** Runs the canary's metric checks concurrently, one verdict each, in the order of spec.analysis.metrics. */
export const runChecks = (canary: Canary, deps: ChecksDeps): Promise<CheckVerdict[]> =>
  Promise.all(canary.spec.analysis.metrics.map((metric) => runCheck(canary, metric, deps)));
