/**
 * What an alert says, decided without I/O: which canary alerts a given severity reaches, and the
 * fields every channel renders (the Cluster, the canary's set-up on the alerts that announce a new
 * deployment or revision, the failed checks and the weight reached on a rollback).
 */
import type { AlertSeverity, Canary } from '../api/index.js';
import type { CheckVerdict } from '../engine/ports.js';
import { messages } from '../engine/messages.js';
import type { AlertField } from '../../providers/notifiers/types.js';

/** One alert as the engine raises it. */
export interface AlertInput {
  severity: AlertSeverity;
  message: string;
  /** The failed checks behind a rollback; present on rollback alerts only. */
  verdicts?: CheckVerdict[];
}

/**
 * Whether an alert of `severity` goes to a subscription at `subscribed`, Flagger's rule: info gets
 * everything, warn gets warn and error, error gets error only. (An unset subscription is parsed as
 * info, so it gets everything: Flagger's matches nothing.)
 */
export const severityMatches = (subscribed: AlertSeverity, severity: AlertSeverity): boolean => {
  if (subscribed === 'info') return true;
  if (subscribed === 'warn') return severity === 'warn' || severity === 'error';
  return severity === 'error';
};

/** Numbers as people write them: 50, 99.5, 0.123457 (no float noise, no padding). */
const num = (n: number): string => String(Number(n.toPrecision(6)));

const thresholdText = (v: CheckVerdict): string => {
  const { min, max } = v.thresholdRange;
  if (min !== undefined && max !== undefined) return `min ${num(min)}, max ${num(max)}`;
  if (min !== undefined) return `min ${num(min)}`;
  if (max !== undefined) return `max ${num(max)}`;
  return 'none';
};

/**
 * One failed check, readable in a chat message: which bound the value crossed, or why there was no
 * value. The title names the metric; the value names its value, its threshold and its provider.
 */
export const verdictField = (v: CheckVerdict): AlertField => {
  const provider = v.provider ? ` (${v.provider})` : '';
  const title = `Failed check: ${v.metric}`;
  if (v.errorCode !== undefined || v.value === undefined) {
    return { title, value: `${v.errorCode ?? 'no value'}: ${v.message}${provider}` };
  }
  const { min, max } = v.thresholdRange;
  const value = num(v.value);
  if (min !== undefined && v.value < min) return { title, value: `value ${value} is below the threshold min ${num(min)}${provider}` };
  if (max !== undefined && v.value > max) return { title, value: `value ${value} is above the threshold max ${num(max)}${provider}` };
  return { title, value: `value ${value}, threshold ${thresholdText(v)}: ${v.message}${provider}` };
};

const trafficRouting = (canary: Canary): string => {
  const a = canary.spec.analysis;
  if (a.strategy === 'ab') return 'A/B Testing';
  if (a.strategy === 'bluegreen') return 'Blue/Green';
  if (a.stepWeights.length > 0) return `Weight steps: ${a.stepWeights.join(',')} max: ${a.maxWeight}`;
  return `Weight step: ${a.stepWeight} max: ${a.maxWeight} interval: ${a.interval}`;
};

/** The canary's set-up, as Flagger lists it on the alerts that announce a new deployment or revision. */
export const canaryMetadataFields = (canary: Canary): AlertField[] => [
  { title: 'Target', value: `${canary.spec.targetRef.kind}/${canary.spec.targetRef.name}.${canary.metadata.namespace}` },
  { title: 'Failed checks threshold', value: String(canary.spec.analysis.threshold) },
  { title: 'Progress deadline', value: `${canary.spec.progressDeadlineSeconds}s` },
  { title: 'Traffic routing', value: trafficRouting(canary) },
];

/** Flagger attaches the canary's metadata to these two alerts only. */
const announcesRevision = (canary: Canary, message: string): boolean =>
  message === messages.initializedAlert(canary) || message === messages.newRevisionAlert();

/** Every field of one alert, in display order. */
export const alertFields = (canary: Canary, input: AlertInput, clusterName?: string): AlertField[] => {
  const fields: AlertField[] = clusterName ? [{ title: 'Cluster', value: clusterName }] : [];
  if (announcesRevision(canary, input.message)) fields.push(...canaryMetadataFields(canary));
  if (input.verdicts !== undefined) {
    fields.push(...input.verdicts.filter((v) => !v.ok).map(verdictField));
    fields.push({ title: 'Canary weight', value: `${canary.status.canaryWeight}%` });
  }
  return fields;
};
