/** Parser of a Canary's spec.analysis: timing, traffic steps, checks, hooks and alerts. */
import type {
  BuiltinMetric,
  CanaryAlert,
  CanaryAnalysis,
  CanaryMetric,
  CanaryWebhook,
  SessionAffinity,
  Strategy,
  ThresholdRange,
} from './types.js';
import { ALERT_SEVERITIES, NO_DATA_POLICIES, SAME_SITE_VALUES, WEBHOOK_TYPES } from './types.js';
import type { Fields, SpecReader } from './reader.js';
import { childPath, compact, itemPath } from './reader.js';
import { BUILTIN_METRICS, DEFAULTS, KUBERNETES_ROUTER_ITERATIONS, MIRROR_CAPABLE_ROUTERS, canRouterMirror, routerFamily } from './defaults.js';
import { parseMatch } from './routing.js';

export interface AnalysisContext {
  /** Namespace that unqualified template and provider references resolve to. */
  namespace: string;
  /** The router that will serve this canary, when known; used to reject mirroring it cannot do. */
  router?: string;
}

const PERCENT = { min: 0, max: 100 } as const;

/** Whether a progression field was given a value that selects it (0 and [] select nothing). */
const isSet = (value: unknown): boolean =>
  value !== undefined && value !== null && value !== 0 && !(Array.isArray(value) && value.length === 0);

/** Flagger's rule: match + iterations is A/B testing, iterations alone is blue/green, else canary. */
export const deriveStrategy = (analysis: { iterations: number; match: readonly unknown[] }): Strategy => {
  if (analysis.iterations > 0) return analysis.match.length > 0 ? 'ab' : 'bluegreen';
  return 'canary';
};

const reportDuplicates = (r: SpecReader, names: readonly string[], listPath: string): void => {
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (name !== '' && seen.has(name)) r.report(childPath(itemPath(listPath, index), 'name'), `duplicate name "${name}"`);
    seen.add(name);
  });
};

const parseMetric = (r: SpecReader, item: Fields, at: string, ctx: AnalysisContext): CanaryMetric => {
  const name = r.string(item, 'name', at, { required: true }) ?? '';
  const interval = r.duration(item, 'interval', at, { positive: true });
  const threshold = r.number(item, 'threshold', at);
  const rangeFields = r.object(item, 'thresholdRange', at);
  const rangePath = childPath(at, 'thresholdRange');
  const given: ThresholdRange = compact({ min: r.number(rangeFields, 'min', rangePath), max: r.number(rangeFields, 'max', rangePath) });
  if (given.min !== undefined && given.max !== undefined && given.min > given.max) {
    r.report(rangePath, 'min must not be greater than max');
  }
  const query = r.string(item, 'query', at);
  const refFields = r.object(item, 'templateRef', at);
  const refPath = childPath(at, 'templateRef');
  const templateRef = refFields
    ? {
        name: r.string(refFields, 'name', refPath, { required: true }) ?? '',
        namespace: r.string(refFields, 'namespace', refPath, { nonEmpty: true }) ?? ctx.namespace,
      }
    : undefined;
  const builtin = BUILTIN_METRICS.find((b): b is BuiltinMetric => b === name);
  if (!templateRef && query === undefined && !builtin && name !== '') {
    r.report(at, `needs a templateRef or a query, or must be a built-in check (${BUILTIN_METRICS.join(', ')})`);
  }
  const noDataPolicy = r.string(item, 'noDataPolicy', at, { oneOf: NO_DATA_POLICIES });
  let thresholdRange = given;
  // Flagger compares against `threshold`, which is 0 when not written: a metric with no bounds at
  // all fails on any value above 0 (request-success-rate: below 0), so "no errors allowed" works.
  if (!rangeFields) {
    thresholdRange = name === 'request-success-rate' ? { min: threshold ?? 0 } : { max: threshold ?? 0 };
  }
  return {
    name,
    interval: interval?.text ?? DEFAULTS.metricInterval,
    intervalMs: interval?.ms ?? DEFAULTS.metricIntervalMs,
    thresholdRange,
    templateVariables: r.stringMap(item, 'templateVariables', at),
    noDataPolicy: NO_DATA_POLICIES.find((p) => p === noDataPolicy) ?? 'fail',
    ...compact({ threshold, query, templateRef, builtin: templateRef || query !== undefined ? undefined : builtin }),
  };
};

const webhookUrl = (r: SpecReader, item: Fields, at: string): string => {
  const url = r.string(item, 'url', at, { required: true });
  if (url === undefined) return '';
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') r.report(childPath(at, 'url'), 'must be an absolute http or https URL');
  return url;
};

const parseWebhook = (r: SpecReader, item: Fields, at: string): CanaryWebhook => {
  const timeout = r.duration(item, 'timeout', at, { positive: true });
  const type = r.string(item, 'type', at, { oneOf: ['', ...WEBHOOK_TYPES] });
  return {
    name: r.string(item, 'name', at, { required: true }) ?? '',
    type: WEBHOOK_TYPES.find((t) => t === type) ?? DEFAULTS.webhookType,
    url: webhookUrl(r, item, at),
    timeout: timeout?.text ?? DEFAULTS.webhookTimeout,
    timeoutMs: timeout?.ms ?? DEFAULTS.webhookTimeoutMs,
    muteAlert: r.boolean(item, 'muteAlert', at) ?? false,
    retries: r.integer(item, 'retries', at, { min: 0 }) ?? 0,
    metadata: r.stringMap(item, 'metadata', at),
    ...compact({ disableTLS: r.boolean(item, 'disableTLS', at) }),
  };
};

const parseAlert = (r: SpecReader, item: Fields, at: string, ctx: AnalysisContext): CanaryAlert => {
  const severity = r.string(item, 'severity', at, { oneOf: ['', ...ALERT_SEVERITIES] });
  const ref = r.object(item, 'providerRef', at, { required: true });
  const refPath = childPath(at, 'providerRef');
  return {
    name: r.string(item, 'name', at, { required: true }) ?? '',
    severity: ALERT_SEVERITIES.find((s) => s === severity) ?? DEFAULTS.alertSeverity,
    providerRef: {
      name: r.string(ref, 'name', refPath, { required: ref !== undefined }) ?? '',
      namespace: r.string(ref, 'namespace', refPath, { nonEmpty: true }) ?? ctx.namespace,
    },
  };
};

// RFC 6265: a Domain is a host name (a leading dot is allowed and ignored).
const COOKIE_DOMAIN = /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
// RFC 6265: a Path is any characters but controls and ';' (which would start another attribute).
const isCookiePath = (text: string): boolean =>
  [...text].every((c) => c !== ';' && c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f);

/** An optional cookie attribute; empty means unset, as Flagger omits empty attributes. */
const cookieAttribute = (
  r: SpecReader,
  value: Fields,
  key: string,
  at: string,
  valid: (text: string) => boolean,
  rule: string,
): string | undefined => {
  const text = r.string(value, key, at) || undefined;
  return text === undefined || valid(text) ? text : r.report(childPath(at, key), rule);
};

const parseSessionAffinity = (r: SpecReader, value: Fields, at: string): SessionAffinity => {
  const maxAge = r.integer(value, 'maxAge', at, { min: 0 });
  const sameSite = r.string(value, 'sameSite', at, { oneOf: SAME_SITE_VALUES });
  const affinity: SessionAffinity = {
    cookieName: r.string(value, 'cookieName', at, { required: true }) ?? '',
    // Flagger reads 0 as "not set".
    maxAge: maxAge || DEFAULTS.sessionAffinityMaxAge,
    ...compact({
      primaryCookieName: r.string(value, 'primaryCookieName', at, { nonEmpty: true }),
      // Both end up inside a Set-Cookie header, so nothing in them may start another attribute or header.
      domain: cookieAttribute(r, value, 'domain', at, (t) => COOKIE_DOMAIN.test(t), 'must be a host name'),
      path: cookieAttribute(r, value, 'path', at, isCookiePath, 'must not contain ";" or control characters'),
      sameSite: SAME_SITE_VALUES.find((v) => v === sameSite),
      secure: r.boolean(value, 'secure', at),
      httpOnly: r.boolean(value, 'httpOnly', at),
      partitioned: r.boolean(value, 'partitioned', at),
    }),
  };
  // Valid for Flagger, so not refused; but browsers drop such a cookie and affinity would silently do nothing.
  if (!affinity.secure) {
    if (affinity.sameSite === 'None') r.warn(childPath(at, 'sameSite'), 'browsers drop a SameSite=None cookie unless secure is true');
    if (affinity.partitioned) r.warn(childPath(at, 'partitioned'), 'browsers drop a Partitioned cookie unless secure is true');
  }
  return affinity;
};

const parseStepWeights = (r: SpecReader, analysis: Fields, at: string): number[] => {
  const path = childPath(at, 'stepWeights');
  const weights: number[] = [];
  r.list(analysis, 'stepWeights', at).forEach((item, index) => {
    const weight = r.checkInteger(item, itemPath(path, index), PERCENT);
    if (weight === undefined) return;
    const previous = weights[weights.length - 1];
    if (previous !== undefined && weight <= previous) r.report(itemPath(path, index), 'must be greater than the step before it');
    weights.push(weight);
  });
  return weights;
};

export const parseCanaryAnalysis = (r: SpecReader, analysis: Fields, at: string, ctx: AnalysisContext): CanaryAnalysis => {
  const interval = r.duration(analysis, 'interval', at, { positive: true });
  const requestedIterations = r.integer(analysis, 'iterations', at, { min: 0 }) ?? 0;
  const stepWeight = r.integer(analysis, 'stepWeight', at, PERCENT) ?? 0;
  const stepWeights = parseStepWeights(r, analysis, at);
  const maxWeight = r.integer(analysis, 'maxWeight', at, PERCENT);
  const mirror = r.boolean(analysis, 'mirror', at) ?? false;
  const requestedMatch = r.objects(analysis, 'match', at, (item, path) => parseMatch(r, item, path));

  let iterations = requestedIterations;
  let match = requestedMatch;
  // Flagger's kubernetes router can only switch traffic, so it turns any analysis into blue/green.
  if (ctx.router !== undefined && routerFamily(ctx.router) === 'kubernetes') {
    if (match.length > 0) {
      r.warn(childPath(at, 'match'), 'ignored: the kubernetes router cannot do A/B testing');
      match = [];
    }
    if (iterations < 1) {
      r.warn(childPath(at, 'iterations'), 'set to 10: the kubernetes router cannot shift traffic progressively');
      iterations = KUBERNETES_ROUTER_ITERATIONS;
    }
  }

  // Judged on what was written, so an out-of-range stepWeight is not also reported as missing.
  const modes = (['iterations', 'stepWeight', 'stepWeights'] as const).filter((key) => isSet(analysis[key]));
  if (modes.length === 0) r.report(at, 'needs one of iterations, stepWeight or stepWeights');
  if (modes.length > 1) r.report(at, `set only one of iterations, stepWeight or stepWeights (found ${modes.join(', ')})`);
  if (mirror && ctx.router !== undefined && !canRouterMirror(ctx.router)) {
    r.report(childPath(at, 'mirror'), `router "${ctx.router}" cannot mirror traffic (supported: ${MIRROR_CAPABLE_ROUTERS.join(', ')})`);
  }

  const metricsPath = childPath(at, 'metrics');
  const metrics = r.objects(analysis, 'metrics', at, (item, path) => parseMetric(r, item, path, ctx));
  // Check results are recorded and explained per metric name, so two checks may not share one.
  reportDuplicates(r, metrics.map((m) => m.name), metricsPath);
  const webhooks = r.objects(analysis, 'webhooks', at, (item, path) => parseWebhook(r, item, path));
  const alerts = r.objects(analysis, 'alerts', at, (item, path) => parseAlert(r, item, path, ctx));
  const affinity = r.object(analysis, 'sessionAffinity', at);
  const lastStep = stepWeights[stepWeights.length - 1];

  return {
    strategy: deriveStrategy({ iterations, match }),
    interval: interval?.text ?? DEFAULTS.analysisInterval,
    intervalMs: interval?.ms ?? DEFAULTS.analysisIntervalMs,
    iterations,
    threshold: r.integer(analysis, 'threshold', at, { min: 0 }) || DEFAULTS.analysisThreshold,
    maxWeight: lastStep ?? (maxWeight || DEFAULTS.totalWeight),
    stepWeight,
    stepWeights,
    stepWeightPromotion: r.integer(analysis, 'stepWeightPromotion', at, PERCENT) ?? DEFAULTS.stepWeightPromotion,
    mirror,
    mirrorWeight: r.integer(analysis, 'mirrorWeight', at, PERCENT) ?? 0,
    primaryReadyThreshold: r.integer(analysis, 'primaryReadyThreshold', at, PERCENT) ?? DEFAULTS.primaryReadyThreshold,
    canaryReadyThreshold: r.integer(analysis, 'canaryReadyThreshold', at, PERCENT) ?? DEFAULTS.canaryReadyThreshold,
    match,
    metrics,
    webhooks,
    alerts,
    ...compact({ sessionAffinity: affinity ? parseSessionAffinity(r, affinity, childPath(at, 'sessionAffinity')) : undefined }),
  };
};
