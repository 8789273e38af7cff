/**
 * The words of events and alerts. Where Flagger has a message for a transition, this is Flagger's
 * text (users grep for it and dashboards match on it); Fledge-only situations get their own.
 */
import type { Canary, WebhookType } from '../api/index.js';
import type { CheckVerdict } from './ports.js';

/** `<canary>.<namespace>`, Flagger's way of naming the Canary. */
const id = (c: Canary): string => `${c.metadata.name}.${c.metadata.namespace}`;
/** `<target>.<namespace>`, used where Flagger names the workload. */
const target = (c: Canary): string => `${c.spec.targetRef.name}.${c.metadata.namespace}`;
const primary = (c: Canary): string => `${c.spec.targetRef.name}-primary.${c.metadata.namespace}`;

/** The names of a Canary's webhooks of one type, for messages that name the hook. */
export const hookNames = (c: Canary, type: WebhookType): string =>
  c.spec.analysis.webhooks
    .filter((w) => w.type === type)
    .map((w) => w.name)
    .join(', ');

/** Whether a closed gate should alert: some hook of the type is not muted. */
export const hooksAlert = (c: Canary, type: WebhookType): boolean =>
  c.spec.analysis.webhooks.some((w) => w.type === type && !w.muteAlert);

export const messages = {
  initialized: (c: Canary) => `Initialization done! ${id(c)}`,
  initializedAlert: (c: Canary) => `New ${c.spec.targetRef.kind} detected, initialization completed.`,
  initializationFailed: (c: Canary, why: string) => `Initialization of ${id(c)} failed: ${why}`,
  newRevision: (c: Canary) => `New revision detected! Scaling up ${target(c)}`,
  newRevisionAlert: () => 'New revision detected, progressing canary analysis.',
  restart: (c: Canary) => `New revision detected! Restarting analysis for ${target(c)}`,
  waitingApproval: (c: Canary) => `Halt ${id(c)} advancement waiting for approval ${hookNames(c, 'confirm-rollout')}`,
  rolloutApproved: (c: Canary) => `Confirm-rollout check ${hookNames(c, 'confirm-rollout')} passed`,
  rollbackRequested: (c: Canary) => `Rollback check ${hookNames(c, 'rollback')} passed`,
  manualRollback: (c: Canary) => `Rolling back ${id(c)} manual webhook invoked`,
  manualRollbackAlert: () => 'Rolling back manual webhook invoked',
  /** Fledge-only: `fledge abort` (an open rollback gate) with or without rollback webhooks. */
  operatorRollback: (c: Canary) => `Rollback requested by operator, rolling back ${id(c)}`,
  operatorRollbackAlert: () => 'Rolling back: rollback requested by operator',
  thresholdRollback: (c: Canary, failed: number) => `Rolling back ${id(c)} failed checks threshold reached ${failed}`,
  thresholdRollbackAlert: (failed: number) => `Failed checks threshold reached ${failed}`,
  deadlineRollback: (c: Canary, why: string) => `Rolling back ${id(c)} progress deadline exceeded ${why}`,
  deadlineRollbackAlert: (why: string) => `Progress deadline exceeded ${why}`,
  /** Flagger's alert text plus how far the canary got, which every rollback alert reports. */
  withWeight: (alert: string, weight: number) => `${alert}, canary weight was ${weight}`,
  canaryFailed: (c: Canary) => `Canary failed! Scaling down ${id(c)}`,
  startingAnalysis: (c: Canary) => `Starting canary analysis for ${target(c)}`,
  preRolloutPassed: (c: Canary) => `Pre-rollout check ${hookNames(c, 'pre-rollout')} passed`,
  preRolloutFailed: (c: Canary) => `Halt ${id(c)} advancement pre-rollout check ${hookNames(c, 'pre-rollout')} failed`,
  rolloutHookFailed: (c: Canary) => `Halt ${id(c)} advancement external check ${hookNames(c, 'rollout')} failed`,
  trafficHalted: (c: Canary) =>
    `Halt ${id(c)} advancement waiting for traffic increase approval ${hookNames(c, 'confirm-traffic-increase')}`,
  trafficApproved: (c: Canary) => `Confirm-traffic-increase check ${hookNames(c, 'confirm-traffic-increase')} passed`,
  advanceWeight: (c: Canary, weight: number) => `Advance ${id(c)} canary weight ${weight}`,
  advanceIteration: (c: Canary, done: number) =>
    `Advance ${id(c)} canary iteration ${done}/${c.spec.analysis.iterations}`,
  routeToCanary: (mirror: boolean) =>
    mirror ? 'Stop traffic mirroring and route all traffic to canary' : 'Routing all traffic to canary',
  waitingPromotion: (c: Canary) =>
    `Halt ${id(c)} advancement waiting for promotion approval ${hookNames(c, 'confirm-promotion')}`,
  promotionApproved: (c: Canary) => `Confirm-promotion check ${hookNames(c, 'confirm-promotion')} passed`,
  copyingTemplate: (c: Canary) => `Copying ${target(c)} template spec to ${primary(c)}`,
  routeToPrimary: () => 'Routing all traffic to primary',
  advancePrimary: (c: Canary, weight: number) => `Advance ${id(c)} primary weight ${weight}`,
  promotionCompleted: (c: Canary) => `Promotion completed! Scaling down ${target(c)}`,
  promotionCompletedAlert: () => 'Canary analysis completed successfully, promotion finished.',
  skipped: (c: Canary) => `Promotion completed! Canary analysis was skipped for ${target(c)}`,
  skippedAlert: () => 'Canary analysis was skipped, promotion finished.',
  postRolloutPassed: (c: Canary) => `Post-rollout check ${hookNames(c, 'post-rollout')} passed`,
  postRolloutFailed: (c: Canary) => `Post-rollout hook ${hookNames(c, 'post-rollout')} failed`,
  waitingForData: (c: Canary, metric: string) =>
    `Halt ${id(c)} advancement no values found for metric ${metric}: waiting for data (noDataPolicy: wait)`,
  noTrafficStep: (c: Canary) => `Halt ${id(c)} advancement: the analysis sets no stepWeight or stepWeights`,
} as const;

const percentless = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));

/**
 * Why a metric check failed, naming the metric, its value and the bound it crossed (Flagger's
 * "Halt <canary> advancement <metric> <value> < <min>"); errors say what went wrong instead.
 */
export const failedCheckMessage = (c: Canary, v: CheckVerdict): string => {
  if (v.errorCode === 'NoValues') return `Halt advancement no values found for custom metric: ${v.metric}: ${v.message}`;
  if (v.errorCode !== undefined || v.value === undefined) return `Metric query failed for ${v.metric}: ${v.message}`;
  const { min, max } = v.thresholdRange;
  const value = v.value.toFixed(2);
  if (min !== undefined && v.value < min) return `Halt ${id(c)} advancement ${v.metric} ${value} < ${percentless(min)}`;
  if (max !== undefined && v.value > max) return `Halt ${id(c)} advancement ${v.metric} ${value} > ${percentless(max)}`;
  return `Halt ${id(c)} advancement ${v.metric} ${value}: ${v.message}`;
};
