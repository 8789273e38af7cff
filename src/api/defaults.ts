/**
 * Flagger's defaults, in one place, and the facts about routers that validation needs.
 * Values match Flagger's Go code (pkg/apis/flagger/v1beta1 and the scheduler) unless noted.
 */
import type { AlertSeverity, BuiltinMetric, WebhookType } from './types.js';

export const DEFAULTS = {
  progressDeadlineSeconds: 600,
  analysisInterval: '1m',
  analysisIntervalMs: 60_000,
  /** An unset or zero threshold tolerates one failed check. */
  analysisThreshold: 1,
  /** Weights are percentages; Flagger's total weight is always 100. */
  totalWeight: 100,
  /** 0 = route all traffic back to the primary in one step. */
  stepWeightPromotion: 0,
  primaryReadyThreshold: 100,
  canaryReadyThreshold: 100,
  metricInterval: '1m',
  metricIntervalMs: 60_000,
  portName: 'http',
  webhookTimeout: '10s',
  webhookTimeoutMs: 10_000,
  webhookType: 'rollout' satisfies WebhookType,
  /** Deliberate fix: Flagger leaves an empty severity, which no alert filter matches. */
  alertSeverity: 'info' satisfies AlertSeverity,
  sessionAffinityMaxAge: 86_400,
} as const;

export const BUILTIN_METRICS: readonly BuiltinMetric[] = ['request-success-rate', 'request-duration'];

/**
 * Routers that can copy traffic to the canary (analysis.mirror). Names may carry an API version
 * after a colon (gatewayapi:v1, gatewayapi:v1beta1); only the part before it matters here.
 */
export const MIRROR_CAPABLE_ROUTERS: readonly string[] = ['istio', 'gatewayapi'];

/** Iterations Flagger gives a stepped analysis that runs on the kubernetes router (blue/green only). */
export const KUBERNETES_ROUTER_ITERATIONS = 10;

export const routerFamily = (router: string): string => router.split(':', 1)[0] ?? router;

export const canRouterMirror = (router: string): boolean => MIRROR_CAPABLE_ROUTERS.includes(routerFamily(router));
