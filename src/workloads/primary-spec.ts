/**
 * Pure builders of the `<target>-primary` workload (Deployment or DaemonSet) from the target: the
 * same pod template, selected by `<label>: <value>-primary`, running with the `-primary` copies of
 * the tracked configs (Flagger's deployment_controller.go and daemonset_controller.go).
 */
import type { Canary } from '../api/index.js';
import { FledgeError } from '../api/index.js';
import type { KubeObject } from '../kube/api.js';
import { renameConfigRefs } from './configs.js';
import type { JsonMap } from './json.js';
import { deepCopy, isMap, listOf, mapOf, numberOf, pick, stringMapOf, stringOf } from './json.js';
import {
  DAEMONSET_SCALE_DOWN_SELECTOR,
  ROLLOUT_ID_ANNOTATION,
  copiedMetadata,
  ownedMeta,
  relabel,
  withFluxDisabled,
  withoutToolkitKeys,
} from './metadata.js';

/** The label that tells the target's pods apart, e.g. `{ label: 'app', value: 'podinfo' }`. */
export interface SelectorLabel {
  label: string;
  value: string;
}

export interface PrimaryOptions {
  selector: SelectorLabel;
  /** Keys (`configmap/<name>`) of the configs whose `-primary` copies the primary uses. */
  trackedKeys: ReadonlySet<string>;
  /** Pod template annotation value that changes when the revision does, so the primary rolls. */
  rolloutId: string;
  /** The accepted selector labels; affinity and spread selectors on them are pointed at the primary. */
  selectorLabels: readonly string[];
  includeLabelPrefixes?: readonly string[];
}

const DEPLOYMENT_SPEC_FIELDS = ['progressDeadlineSeconds', 'minReadySeconds', 'revisionHistoryLimit', 'strategy'] as const;
const DAEMONSET_SPEC_FIELDS = ['minReadySeconds', 'revisionHistoryLimit', 'updateStrategy'] as const;

export const primaryName = (targetName: string): string => `${targetName}-primary`;

const describe = (o: KubeObject): string => `${o.kind.toLowerCase()} ${o.metadata.name}.${o.metadata.namespace ?? 'default'}`;

/** The first accepted selector label present in the target's spec.selector.matchLabels. */
export const selectorLabelOf = (target: KubeObject, selectorLabels: readonly string[]): SelectorLabel => {
  const matchLabels = stringMapOf(mapOf(mapOf(target.spec).selector).matchLabels);
  for (const label of selectorLabels) {
    const value = matchLabels[label];
    if (value !== undefined) return { label, value };
  }
  const rule = `must contain one of [${selectorLabels.join(' ')}]`;
  throw new FledgeError('InvalidSpec', `${describe(target)} spec.selector.matchLabels ${rule}`, {
    problems: [{ path: 'spec.selector.matchLabels', rule }],
  });
};

/** DaemonSets are "scaled to zero" with a node selector no node matches; it never reaches the primary. */
const withoutScaleDownSelector = (podSpec: JsonMap): JsonMap => {
  if (!isMap(podSpec.nodeSelector)) return podSpec;
  const nodeSelector: JsonMap = { ...podSpec.nodeSelector };
  for (const key of Object.keys(DAEMONSET_SCALE_DOWN_SELECTOR)) delete nodeSelector[key];
  const copy: JsonMap = { ...podSpec, nodeSelector };
  if (Object.keys(nodeSelector).length === 0) delete copy.nodeSelector;
  return copy;
};

/** What a revision of the target is: its pod template (minus Fledge's scale-down marker) or a Service's spec. */
export const revisionSource = (target: KubeObject): unknown => {
  const spec = mapOf(target.spec);
  if (target.kind === 'Service') return spec;
  const template = mapOf(spec.template);
  return { ...template, spec: withoutScaleDownSelector(mapOf(template.spec)) };
};

/** Points a label selector that picks the target's pods at the primary's pods instead. */
const retargetSelector = (selector: unknown, opts: PrimaryOptions): void => {
  if (!isMap(selector)) return;
  const { value } = opts.selector;
  const watched = (key: unknown): boolean => typeof key === 'string' && opts.selectorLabels.includes(key);
  for (const expr of listOf(selector.matchExpressions).filter(isMap)) {
    if (!watched(expr.key) || !Array.isArray(expr.values)) continue;
    expr.values = expr.values.map((v) => (v === value ? `${value}-primary` : v));
  }
  if (isMap(selector.matchLabels)) {
    for (const [key, v] of Object.entries(selector.matchLabels)) {
      if (watched(key) && v === value) selector.matchLabels[key] = `${value}-primary`;
    }
  }
};

/** The primary's pod template: renamed configs, primary labels, anti-affinity and spread on the primary. */
export const primaryPodTemplate = (template: unknown, opts: PrimaryOptions): JsonMap => {
  const source = mapOf(template);
  const meta = mapOf(source.metadata);
  const spec = withoutScaleDownSelector(renameConfigRefs(source.spec, opts.trackedKeys));
  for (const constraint of listOf(spec.topologySpreadConstraints).filter(isMap)) retargetSelector(constraint.labelSelector, opts);
  const antiAffinity = mapOf(mapOf(spec.affinity).podAntiAffinity);
  for (const term of listOf(antiAffinity.preferredDuringSchedulingIgnoredDuringExecution).filter(isMap)) {
    retargetSelector(mapOf(term.podAffinityTerm).labelSelector, opts);
  }
  for (const term of listOf(antiAffinity.requiredDuringSchedulingIgnoredDuringExecution).filter(isMap)) {
    retargetSelector(term.labelSelector, opts);
  }
  const annotations = withoutToolkitKeys(stringMapOf(meta.annotations));
  delete annotations[ROLLOUT_ID_ANNOTATION];
  return {
    metadata: {
      labels: relabel(stringMapOf(meta.labels), opts.selector.label, `${opts.selector.value}-primary`),
      annotations: { ...annotations, [ROLLOUT_ID_ANNOTATION]: opts.rolloutId },
    },
    spec,
  };
};

const specFieldsOf = (kind: string): readonly string[] => (kind === 'DaemonSet' ? DAEMONSET_SPEC_FIELDS : DEPLOYMENT_SPEC_FIELDS);

/** Flagger rejects DaemonSets that do not roll: the primary would never pick up a promotion. */
export const checkTargetStrategy = (target: KubeObject): void => {
  if (target.kind !== 'DaemonSet') return;
  const type = stringOf(mapOf(mapOf(target.spec).updateStrategy).type);
  if (type !== undefined && type !== 'RollingUpdate') {
    const rule = `must be RollingUpdate, not ${type}`;
    throw new FledgeError('InvalidSpec', `${describe(target)} spec.updateStrategy.type ${rule}`, {
      problems: [{ path: 'spec.updateStrategy.type', rule }],
    });
  }
};

/** Replicas the primary starts with: the target's, or 1 when it has none (it may already be scaled down). */
export const initialReplicas = (target: KubeObject): number => {
  const replicas = numberOf(mapOf(target.spec).replicas);
  return replicas !== undefined && replicas > 0 ? replicas : 1;
};

const primaryLabels = (target: KubeObject, opts: PrimaryOptions): Record<string, string> =>
  relabel(copiedMetadata(stringMapOf(target.metadata.labels), opts.includeLabelPrefixes), opts.selector.label, `${opts.selector.value}-primary`);

const primaryAnnotations = (target: KubeObject, opts: PrimaryOptions): Record<string, string> =>
  copiedMetadata(stringMapOf(target.metadata.annotations), opts.includeLabelPrefixes);

/** The primary workload created at initialization. */
export const buildPrimaryWorkload = (target: KubeObject, canary: Canary, opts: PrimaryOptions): KubeObject => {
  const spec = mapOf(target.spec);
  return {
    apiVersion: target.apiVersion,
    kind: target.kind,
    metadata: ownedMeta(canary, primaryName(target.metadata.name), primaryLabels(target, opts), primaryAnnotations(target, opts)),
    spec: {
      ...pick(spec, specFieldsOf(target.kind)),
      ...(target.kind === 'Deployment' ? { replicas: initialReplicas(target) } : {}),
      selector: { matchLabels: { [opts.selector.label]: `${opts.selector.value}-primary` } },
      template: primaryPodTemplate(spec.template, opts),
    },
  };
};

/**
 * The live primary updated to the target's revision. The selector is immutable and kept; replicas
 * follow the target only when no autoscaler owns them.
 */
export const promotedPrimary = (live: KubeObject, target: KubeObject, opts: PrimaryOptions & { copyReplicas: boolean }): KubeObject => {
  const next = deepCopy(live);
  const source = mapOf(target.spec);
  const spec = mapOf(next.spec);
  for (const field of specFieldsOf(target.kind)) {
    if (source[field] === undefined) delete spec[field];
    else spec[field] = deepCopy(source[field]);
  }
  // A target scaled to zero (it should not be while promoting) must never scale the primary down.
  const replicas = numberOf(source.replicas);
  if (opts.copyReplicas && target.kind === 'Deployment' && replicas !== undefined && replicas > 0) spec.replicas = replicas;
  spec.template = primaryPodTemplate(source.template, opts);
  next.spec = spec;
  next.metadata.labels = primaryLabels(target, opts);
  next.metadata.annotations = withFluxDisabled(primaryAnnotations(target, opts));
  return next;
};
