/**
 * The Canary resource (flagger.app/v1beta1) as Fledge code sees it after parsing: every field
 * checked, Flagger's defaults applied, durations in milliseconds, the strategy derived. Optional
 * fields are absent (not undefined-valued) when the manifest does not set them.
 */

export const FLAGGER_API_VERSION = 'flagger.app/v1beta1';

export type Strategy = 'canary' | 'ab' | 'bluegreen';

export const CANARY_PHASES = [
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
  'Terminating',
  'Terminated',
] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

export const TARGET_KINDS = ['Deployment', 'DaemonSet', 'Service'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const AUTOSCALER_KINDS = ['HorizontalPodAutoscaler', 'ScaledObject'] as const;
export type AutoscalerKind = (typeof AUTOSCALER_KINDS)[number];

export const WEBHOOK_TYPES = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'post-rollout',
  'rollback',
  'event',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

export const ALERT_SEVERITIES = ['info', 'warn', 'error'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Metadata of a parsed resource; namespace defaults to 'default' as the API server does. */
export interface ResourceMeta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers: string[];
}

export interface LocalObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
}

/** A reference whose namespace defaults to the referring object's. */
export interface NamespacedReference {
  name: string;
  namespace: string;
}

export interface TargetReference extends LocalObjectReference {
  kind: TargetKind;
}

export interface AutoscalerReference extends LocalObjectReference {
  kind: AutoscalerKind;
  primaryScalerQueries: Record<string, string>;
  primaryScalerReplicas?: { minReplicas?: number; maxReplicas?: number };
}

export interface UpstreamReference extends LocalObjectReference {
  namespace?: string;
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  suffix?: string;
  regex?: string;
}

/** Istio-style request conditions, used by service.match and analysis.match. */
export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
  ignoreUriCase?: boolean;
}

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  type?: string;
}

export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
}

export interface HeaderChanges {
  add?: Record<string, string>;
  set?: Record<string, string>;
  remove?: string[];
}

export interface HeaderOperations {
  request?: HeaderChanges;
  response?: HeaderChanges;
}

export interface CorsPolicy {
  allowOrigin?: string[];
  allowOrigins?: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: string;
  allowCredentials?: boolean;
}

export interface MirrorFilter {
  backendRef: { group?: string; kind?: string; name: string; namespace?: string; port?: number };
  percent?: number;
  fraction?: { numerator: number; denominator?: number };
}

export interface CustomMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Label and annotation keys on the generated Services that other controllers own. */
export interface UnmanagedMetadata {
  labels: string[];
  annotations: string[];
}

export const TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameZone', 'PreferSameNode'] as const;
export type TrafficDistribution = (typeof TRAFFIC_DISTRIBUTIONS)[number];

export interface CanaryService {
  /** Apex Service name; defaults to the target's name. Primary and canary add -primary / -canary. */
  name: string;
  port: number;
  portName: string;
  /** Defaults to `port`. */
  targetPort: number | string;
  appProtocol?: string;
  portDiscovery: boolean;
  /** Primary and canary Services without a cluster IP; absent = not written (false). */
  headless?: boolean;
  /** Copied to the generated Services' spec.trafficDistribution. */
  trafficDistribution?: TrafficDistribution;
  timeout?: string;
  /** Gateway API: per-attempt backend timeout (HTTPRoute rule timeouts.backendRequest), as written. */
  backendTimeout?: string;
  gateways: string[];
  gatewayRefs: ParentReference[];
  hosts: string[];
  delegation: boolean;
  /** Istio DestinationRule traffic policy, passed through untouched. */
  trafficPolicy?: Record<string, unknown>;
  match: HTTPMatchRequest[];
  rewrite?: HTTPRewrite;
  retries?: HTTPRetry;
  headers?: HeaderOperations;
  corsPolicy?: CorsPolicy;
  mirror: MirrorFilter[];
  meshName?: string;
  backends: string[];
  apex?: CustomMetadata;
  primary?: CustomMetadata;
  canary?: CustomMetadata;
  unmanagedMetadata?: UnmanagedMetadata;
}

export interface ThresholdRange {
  min?: number;
  max?: number;
}

export type BuiltinMetric = 'request-success-rate' | 'request-duration';

export const NO_DATA_POLICIES = ['fail', 'wait'] as const;
export type NoDataPolicy = (typeof NO_DATA_POLICIES)[number];

export interface CanaryMetric {
  name: string;
  /** Query window, default '1m'. */
  interval: string;
  intervalMs: number;
  /** Deprecated single bound, kept as written. */
  threshold?: number;
  /**
   * The bounds checked: thresholdRange as written, or, without one, the deprecated `threshold`
   * (0 when not set, as in Flagger) as a minimum for request-success-rate and a maximum for
   * anything else (Flagger's reading).
   */
  thresholdRange: ThresholdRange;
  query?: string;
  templateRef?: NamespacedReference;
  templateVariables: Record<string, string>;
  /** Set when the check is one of Flagger's built-in queries (no templateRef, no query). */
  builtin?: BuiltinMetric;
  /**
   * What a query with no values means: 'fail' (Flagger's behaviour, the default) counts a failed
   * check; 'wait' neither counts one nor advances, so an idle service is not rolled back.
   */
  noDataPolicy: NoDataPolicy;
}

export interface CanaryWebhook {
  name: string;
  /** Defaults to 'rollout', as Flagger treats an empty type. */
  type: WebhookType;
  url: string;
  /** Default '10s'. */
  timeout: string;
  timeoutMs: number;
  muteAlert: boolean;
  retries: number;
  metadata: Record<string, string>;
  /** true = do not verify the hook's TLS certificate; absent = verify. */
  disableTLS?: boolean;
}

export interface CanaryAlert {
  name: string;
  /** Defaults to 'info' (Flagger leaves it empty, which matches nothing: a deliberate fix). */
  severity: AlertSeverity;
  providerRef: NamespacedReference;
}

export const SAME_SITE_VALUES = ['Strict', 'Lax', 'None'] as const;
export type SameSite = (typeof SAME_SITE_VALUES)[number];

/**
 * Cookie attributes are absent unless written; domain and path hold no ';' or control characters,
 * so they can be put into a Set-Cookie header as they are.
 */
export interface SessionAffinity {
  cookieName: string;
  primaryCookieName?: string;
  /** Seconds; default 86400. */
  maxAge: number;
  domain?: string;
  path?: string;
  sameSite?: SameSite;
  secure?: boolean;
  httpOnly?: boolean;
  partitioned?: boolean;
}

export interface CanaryAnalysis {
  strategy: Strategy;
  /** Default '1m'. The controller clamps it to --min-analysis-interval. */
  interval: string;
  intervalMs: number;
  iterations: number;
  /** Failed checks tolerated; an unset or zero value means 1, as in Flagger. */
  threshold: number;
  /** The effective ceiling: the last stepWeights entry, else maxWeight, else 100. */
  maxWeight: number;
  stepWeight: number;
  stepWeights: number[];
  /** 0 (the default) routes all traffic back to the primary in one step. */
  stepWeightPromotion: number;
  mirror: boolean;
  mirrorWeight: number;
  primaryReadyThreshold: number;
  canaryReadyThreshold: number;
  match: HTTPMatchRequest[];
  sessionAffinity?: SessionAffinity;
  metrics: CanaryMetric[];
  webhooks: CanaryWebhook[];
  alerts: CanaryAlert[];
}

export interface CanarySpec {
  provider?: string;
  metricsServer?: string;
  targetRef: TargetReference;
  autoscalerRef?: AutoscalerReference;
  ingressRef?: LocalObjectReference;
  routeRef?: LocalObjectReference;
  upstreamRef?: UpstreamReference;
  service: CanaryService;
  analysis: CanaryAnalysis;
  /** Default 600. */
  progressDeadlineSeconds: number;
  skipAnalysis: boolean;
  revertOnDeletion: boolean;
  suspend: boolean;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface CanaryStatus {
  phase?: CanaryPhase;
  canaryWeight: number;
  failedChecks: number;
  iterations: number;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  trackedConfigs: Record<string, string>;
  lastTransitionTime?: string;
  sessionAffinityCookie?: string;
  primarySessionAffinityCookie?: string;
  previousSessionAffinityCookie?: string;
  /** Flagger's change fence; read and kept, not used by Fledge. */
  lastTrackedRevision?: string;
  conditions: Condition[];
  /** Status fields Flagger does not define (the controller's saved state), kept as they are. */
  extra: Record<string, unknown>;
}

export interface Canary {
  apiVersion: typeof FLAGGER_API_VERSION;
  kind: 'Canary';
  metadata: ResourceMeta;
  spec: CanarySpec;
  status: CanaryStatus;
  /** Settings Flagger would silently change (e.g. on the kubernetes router); report as Warning events. */
  warnings: Array<{ path: string; rule: string }>;
}
