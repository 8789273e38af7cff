/**
 * The engine's RolloutPorts for one canary, assembled from the controller's parts: workloads, the
 * canary's router, metric checks, webhooks, the status writer, events and alerts.
 */
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { Canary, Condition } from '../api/index.js';
import type { WebhookRunner } from '../analysis/webhooks.js';
import type { CheckVerdict, RolloutPorts, StatusUpdate } from '../engine/ports.js';
import { savedVerdict } from '../engine/status.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import type { Workloads } from '../workloads/index.js';
import type { Router } from '../../providers/routers/types.js';
import type { EventRecorder } from './events.js';
import type { RollbackRequests } from './rollback-requests.js';

export interface Alert {
  canary: string;
  severity: 'info' | 'warn' | 'error';
  message: string;
  verdicts?: CheckVerdict[];
}

export interface PortsDeps {
  kube: KubeApi;
  clock: Clock;
  log: Logger;
  workloads: Workloads;
  router: Router;
  webhooks: WebhookRunner;
  events: EventRecorder;
  runChecks(canary: Canary): Promise<CheckVerdict[]>;
  /** Alerts go here (notifiers come with the alerts issue; until then they are logged). */
  alert(alert: Alert): void;
  /** Told of every status write, so the controller reads its own writes before the watch delivers them. */
  statusWritten(object: KubeObject): void;
  /** Promises of side writes (events) a tick started; the controller awaits them before the next tick. */
  pending: Array<Promise<unknown>>;
  /** `--event-webhook`: gets every event unless the Canary has hooks of type `event` (which get them then). */
  eventWebhook?: string;
  /** Operator rollback requests (`fledge abort`); without them only rollback webhooks can ask. */
  rollbackRequests?: RollbackRequests;
}

/** Status key holding every verdict of the last analysis step (lastFailedChecks keeps the failures). */
export const EXTRA_LAST_CHECKS = 'lastChecks';

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The status patch for an engine update: phase changes stamp lastTransitionTime, conditions get times. */
export const statusPatch = (canary: Canary, update: StatusUpdate, nowMs: number): Record<string, unknown> => {
  const now = rfc3339(nowMs);
  const patch: Record<string, unknown> = { ...(update.extra ?? {}) };
  for (const key of ['phase', 'canaryWeight', 'failedChecks', 'iterations', 'lastAppliedSpec', 'lastPromotedSpec', 'trackedConfigs'] as const) {
    if (update[key] !== undefined) patch[key] = update[key];
  }
  if (update.phase !== undefined && update.phase !== canary.status.phase) patch.lastTransitionTime = now;
  if (update.conditions) {
    patch.conditions = update.conditions.map((c: Condition) => {
      const old = canary.status.conditions.find((o) => o.type === c.type);
      const transition = old && old.status === c.status ? (old.lastTransitionTime ?? now) : now;
      return { ...c, lastUpdateTime: c.lastUpdateTime ?? now, lastTransitionTime: c.lastTransitionTime ?? transition };
    });
  }
  return patch;
};

export const buildPorts = (canary: Canary, d: PortsDeps): RolloutPorts => {
  const ref = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: canary.metadata.name, namespace: canary.metadata.namespace };
  const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
  // Event payloads carry the phase and revision as written so far in this tick ("New revision
  // detected" reports Progressing, as Flagger's does), and go out one at a time, in order.
  let phase = canary.status.phase;
  let checksum = canary.status.lastAppliedSpec;
  let delivered: Promise<unknown> = Promise.resolve();
  // This step's verdicts ride along with its first status write, so explaining them costs no request.
  let unsavedVerdicts: CheckVerdict[] | undefined;
  const requests = d.rollbackRequests;
  const gateKey = { name: canary.metadata.name, namespace: canary.metadata.namespace };
  return {
    ...(requests
      ? {
          operatorRollbackRequested: () => requests.isRequested(gateKey),
          clearOperatorRollback: () => requests.withdraw(gateKey),
        }
      : {}),
    initialize: (c) => d.workloads.initialize(c),
    reconcileRouting: async (c) => {
      await d.workloads.initialize(c);
      await d.router.reconcile(c);
    },
    primaryReadiness: (c) => d.workloads.primaryReadiness(c),
    canaryReadiness: (c) => d.workloads.canaryReadiness(c),
    targetChecksum: (c) => d.workloads.targetChecksum(c),
    scaleCanaryToZero: (c) => d.workloads.scaleCanaryToZero(c),
    scaleCanaryUp: (c) => d.workloads.scaleCanaryUp(c),
    promote: (c) => d.workloads.promote(c),
    getRoutes: (c) => d.router.getRoutes(c),
    setRoutes: (c, routes) => d.router.setRoutes(c, routes),
    runChecks: async (c) => {
      const verdicts = await d.runChecks(c);
      unsavedVerdicts = verdicts;
      return verdicts;
    },
    runHooks: async (c, type, phase) => {
      const checksum = c.status.lastAppliedSpec ?? '';
      if (type === 'rollback') return d.webhooks.rollbackRequested(c, phase, checksum);
      return d.webhooks.allPassed(c, type, phase, checksum);
    },
    writeStatus: async (c, update) => {
      const checks = unsavedVerdicts ? { [EXTRA_LAST_CHECKS]: unsavedVerdicts.map(savedVerdict) } : {};
      const written = await d.kube.patchStatus(ref, { ...checks, ...statusPatch(c, update, d.clock.now()) });
      unsavedVerdicts = undefined;
      d.statusWritten(written);
      phase = update.phase ?? phase;
      checksum = update.lastAppliedSpec ?? checksum;
    },
    recordEvent: (c, type, reason, message) => {
      d.pending.push(d.events.record(c, type, reason, message));
      const [eventPhase, eventChecksum] = [phase ?? 'Initializing', checksum ?? ''];
      // emitEvent never rejects: a failing receiver is logged by the runner and changes nothing else.
      delivered = delivered.then(() => d.webhooks.emitEvent(c, eventPhase, eventChecksum, type, message, d.eventWebhook));
      d.pending.push(delivered);
    },
    alert: (_c, severity, message, verdicts) => {
      d.alert({ canary: key, severity, message, ...(verdicts ? { verdicts } : {}) });
    },
  };
};
