/**
 * parseCanary: the edge where an untyped Canary (from the API server or a manifest) becomes a
 * typed, defaulted value. Every broken rule is collected and thrown as one InvalidSpec error.
 */
import type { AutoscalerReference, Canary, CanaryPhase, CanaryStatus, TargetReference, UpstreamReference } from './types.js';
import { AUTOSCALER_KINDS, CANARY_PHASES, FLAGGER_API_VERSION, TARGET_KINDS } from './types.js';
import type { Fields } from './reader.js';
import { SpecReader, childPath, compact, isFields } from './reader.js';
import { invalidSpec } from './errors.js';
import { DEFAULTS } from './defaults.js';
import { checkTypeHeader, parseConditions, parseLocalRef, parseMeta } from './metadata.js';
import { parseCanaryService } from './canary-service.js';
import { parseCanaryAnalysis } from './canary-analysis.js';
import { isKnativeTarget } from './knative.js';

export interface ParseCanaryOptions {
  /** The controller's --mesh-provider, used when the canary sets no spec.provider. */
  meshProvider?: string;
}

/** The router a canary runs on: its own spec.provider, else the controller's default. */
export const routerOf = (canary: Pick<Canary, 'spec'>, meshProvider?: string): string | undefined =>
  canary.spec.provider ?? meshProvider;

const KNOWN_STATUS_FIELDS = new Set([
  'phase',
  'canaryWeight',
  'failedChecks',
  'iterations',
  'lastAppliedSpec',
  'lastPromotedSpec',
  'trackedConfigs',
  'lastTransitionTime',
  'sessionAffinityCookie',
  'primarySessionAffinityCookie',
  'previousSessionAffinityCookie',
  'lastTrackedRevision',
  'conditions',
]);

const parseStatus = (r: SpecReader, obj: Fields): CanaryStatus => {
  const status = r.object(obj, 'status', '');
  const at = 'status';
  const phase = r.string(status, 'phase', at, { oneOf: ['', ...CANARY_PHASES] });
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(status ?? {})) if (!KNOWN_STATUS_FIELDS.has(key)) extra[key] = value;
  return {
    canaryWeight: r.integer(status, 'canaryWeight', at, { min: 0, max: DEFAULTS.totalWeight }) ?? 0,
    failedChecks: r.integer(status, 'failedChecks', at, { min: 0 }) ?? 0,
    iterations: r.integer(status, 'iterations', at, { min: 0 }) ?? 0,
    trackedConfigs: r.stringMap(status, 'trackedConfigs', at),
    conditions: parseConditions(r, status, at),
    extra,
    ...compact({
      phase: CANARY_PHASES.find((p): p is CanaryPhase => p === phase),
      lastAppliedSpec: r.string(status, 'lastAppliedSpec', at),
      lastPromotedSpec: r.string(status, 'lastPromotedSpec', at),
      lastTransitionTime: r.string(status, 'lastTransitionTime', at),
      sessionAffinityCookie: r.string(status, 'sessionAffinityCookie', at),
      primarySessionAffinityCookie: r.string(status, 'primarySessionAffinityCookie', at),
      previousSessionAffinityCookie: r.string(status, 'previousSessionAffinityCookie', at),
      lastTrackedRevision: r.string(status, 'lastTrackedRevision', at),
    }),
  };
};

const parseAutoscalerRef = (r: SpecReader, spec: Fields, at: string): AutoscalerReference | undefined => {
  const ref = parseLocalRef(r, spec, 'autoscalerRef', at, { kinds: AUTOSCALER_KINDS });
  if (!ref) return undefined;
  const path = childPath(at, 'autoscalerRef');
  const replicas = r.object(ref.fields, 'primaryScalerReplicas', path);
  const replicasPath = childPath(path, 'primaryScalerReplicas');
  const bounds = compact({
    minReplicas: r.integer(replicas, 'minReplicas', replicasPath, { min: 0 }),
    maxReplicas: r.integer(replicas, 'maxReplicas', replicasPath, { min: 1 }),
  });
  if (bounds.minReplicas !== undefined && bounds.maxReplicas !== undefined && bounds.minReplicas > bounds.maxReplicas) {
    r.report(replicasPath, 'minReplicas must not be greater than maxReplicas');
  }
  return {
    apiVersion: ref.apiVersion,
    kind: AUTOSCALER_KINDS.find((k) => k === ref.kind) ?? 'HorizontalPodAutoscaler',
    name: ref.name,
    primaryScalerQueries: r.stringMap(ref.fields, 'primaryScalerQueries', path),
    ...compact({ primaryScalerReplicas: replicas ? bounds : undefined }),
  };
};

const parseUpstreamRef = (r: SpecReader, spec: Fields, at: string): UpstreamReference | undefined => {
  const ref = parseLocalRef(r, spec, 'upstreamRef', at, { kinds: ['Upstream'] });
  if (!ref) return undefined;
  const namespace = r.string(ref.fields, 'namespace', childPath(at, 'upstreamRef'));
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, ...compact({ namespace }) };
};

const withoutFields = <T extends { fields: Fields }>(ref: T | undefined): Omit<T, 'fields'> | undefined => {
  if (!ref) return undefined;
  const { fields: _fields, ...rest } = ref;
  return rest;
};

/** Parses and defaults a Canary; throws FledgeError 'InvalidSpec' listing every problem. */
export const parseCanary = (obj: unknown, options: ParseCanaryOptions = {}): Canary => {
  const r = new SpecReader();
  if (!isFields(obj)) throw invalidSpec('Canary', undefined, [{ path: '', rule: 'must be an object' }]);
  checkTypeHeader(r, obj, 'Canary');
  const metadata = parseMeta(r, obj);
  const spec = r.object(obj, 'spec', '', { required: true });
  if (!spec) throw invalidSpec('Canary', metadata.name || undefined, r.problems);
  const at = 'spec';

  const target = parseLocalRef(r, spec, 'targetRef', at, { required: true, kinds: TARGET_KINDS });
  const targetRef: TargetReference = {
    apiVersion: target?.apiVersion ?? '',
    kind: TARGET_KINDS.find((k) => k === target?.kind) ?? 'Deployment',
    name: target?.name ?? '',
  };
  const provider = r.string(spec, 'provider', at);
  // Flagger's CRD makes spec.service optional: a Knative target routes by revision and needs no Services.
  // Every other target gets its Services from it, so there it is required (Flagger fails later, less clearly).
  const serviceFields = r.object(spec, 'service', at, { required: !isKnativeTarget(targetRef) });
  const analysisFields = r.object(spec, 'analysis', at, { required: true });
  const router = provider || options.meshProvider || undefined;
  // A missing section is reported once as required; its defaults come from an empty object read
  // by a scratch reader, so they add no second round of "is required" problems.
  const readerFor = (fields: Fields | undefined): SpecReader => (fields ? r : new SpecReader());

  const canary: Canary = {
    apiVersion: FLAGGER_API_VERSION,
    kind: 'Canary',
    metadata,
    spec: {
      targetRef,
      service: parseCanaryService(readerFor(serviceFields), serviceFields ?? {}, childPath(at, 'service'), targetRef.name),
      analysis: parseCanaryAnalysis(readerFor(analysisFields), analysisFields ?? {}, childPath(at, 'analysis'), {
        namespace: metadata.namespace,
        ...compact({ router }),
      }),
      progressDeadlineSeconds:
        r.integer(spec, 'progressDeadlineSeconds', at, { min: 0 }) ?? DEFAULTS.progressDeadlineSeconds,
      skipAnalysis: r.boolean(spec, 'skipAnalysis', at) ?? false,
      revertOnDeletion: r.boolean(spec, 'revertOnDeletion', at) ?? false,
      suspend: r.boolean(spec, 'suspend', at) ?? false,
      ...compact({
        // An empty provider means "use the controller's default", as in Flagger.
        provider: provider || undefined,
        metricsServer: r.string(spec, 'metricsServer', at) || undefined,
        autoscalerRef: parseAutoscalerRef(r, spec, at),
        ingressRef: withoutFields(parseLocalRef(r, spec, 'ingressRef', at, { kinds: ['Ingress'] })),
        routeRef: withoutFields(parseLocalRef(r, spec, 'routeRef', at, { kinds: ['ApisixRoute'] })),
        upstreamRef: parseUpstreamRef(r, spec, at),
      }),
    },
    status: parseStatus(r, obj),
    warnings: r.warnings,
  };
  if (r.problems.length > 0) throw invalidSpec('Canary', metadata.name || undefined, r.problems);
  return canary;
};
