/**
 * The state one tick works on: what the Canary status says (so a restarted controller continues
 * where the status stops), what the tick observed through the ports, and what it decided (a plan of
 * effects, applied in order at the end, and the outcome reported to the controller).
 */
import type { Clock } from '../api/clock.js';
import type { Canary, CanaryPhase, WebhookType } from '../api/index.js';
import type { AlertSeverity, CheckVerdict, EventType, Readiness, Routes, RolloutPorts, StatusUpdate } from './ports.js';
import { readSavedVerdicts } from './status.js';

/** One step of a plan; the plan runner performs them in order and stops at the first error. */
export type Effect =
  | { kind: 'reconcileRouting' }
  | { kind: 'setRoutes'; routes: Routes }
  | { kind: 'scaleCanaryToZero' }
  | { kind: 'scaleCanaryUp' }
  | { kind: 'promote' }
  /** The operator's rollback request is done: withdraw it (RolloutPorts.clearOperatorRollback). */
  | { kind: 'clearOperatorRollback' }
  | { kind: 'writeStatus'; update: StatusUpdate }
  | { kind: 'event'; type: EventType; message: string }
  | { kind: 'alert'; severity: AlertSeverity; message: string; verdicts?: CheckVerdict[] }
  /** Hooks whose verdict changes nothing (post-rollout): only reported as an event. */
  | { kind: 'notifyHooks'; type: WebhookType; phase: CanaryPhase; passed: string; failed: string };

/** What a tick did, for the controller's logs and metrics. */
export type TickAction =
  | 'Suspended'
  | 'Idle'
  | 'Initializing'
  | 'InitializationFailed'
  | 'Initialized'
  | 'WaitingForPrimary'
  | 'WaitingForCanary'
  | 'WaitingForApproval'
  | 'RevisionDetected'
  | 'AnalysisRestarted'
  | 'CheckFailed'
  | 'WaitingForData'
  | 'WeightIncreased'
  | 'MirrorStarted'
  | 'TrafficIncreaseHalted'
  | 'IterationAdvanced'
  | 'TrafficSwitched'
  | 'WaitingForPromotion'
  | 'PromotionStarted'
  | 'PromotionAdvanced'
  | 'Finalising'
  | 'Succeeded'
  | 'AnalysisSkipped'
  | 'RolledBack'
  | 'Stalled'
  | 'Error';

/**
 * Why a rollback happened: failed checks, a workload past its deadline, a rollback webhook, or an
 * operator's request (`fledge abort`).
 */
export type RollbackCause = 'threshold' | 'deadline' | 'manual' | 'operator';

/**
 * When the controller should run the next tick. `idle`: only when something changes (the target,
 * its configs, the Canary). `interval`: after the analysis interval. `soon`: the tick failed on I/O
 * and should be retried with backoff.
 */
export type Requeue = 'idle' | 'interval' | 'soon';

export interface TickOutcome {
  /** The phase after the tick (as written to the status, or unchanged). */
  phase: CanaryPhase | undefined;
  previousPhase: CanaryPhase | undefined;
  action: TickAction;
  /** One short sentence for logs. */
  reason: string;
  requeue: Requeue;
  /** The traffic split after the tick, when the tick read or set it (for flagger_canary_weight). */
  routes?: Routes;
  /** The metric checks run this tick, passing and failing (for flagger_canary_metric_analysis). */
  verdicts: CheckVerdict[];
  rollbackCause?: RollbackCause;
  /** Set with action 'Error': the step whose I/O failed and the error's message. */
  error?: { step: string; message: string };
}

export interface Revision {
  checksum: string;
  trackedConfigs: Record<string, string>;
}

export interface TickInput {
  canary: Canary;
  ports: RolloutPorts;
  /** When given, status conditions carry timestamps; otherwise the status writer stamps them. */
  clock?: Clock;
}

export interface TickContext {
  canary: Canary;
  ports: RolloutPorts;
  clock: Clock | undefined;
  // From the stored status at the start of the tick.
  phase: CanaryPhase | undefined;
  canaryWeight: number;
  failedChecks: number;
  iterations: number;
  lastAppliedSpec: string | undefined;
  mirrored: boolean;
  /** Failed verdicts saved by earlier ticks, for the rollback alert. */
  savedFailures: CheckVerdict[];
  // Observed by this tick.
  revision?: Revision;
  routes?: Routes;
  readiness?: Readiness;
  hooksPassed?: boolean;
  /** Whether an operator asked for a rollback (asked only when the ports can tell). */
  operatorRollback?: boolean;
  verdicts: CheckVerdict[];
  // Decided by this tick.
  plan: Effect[];
  action?: TickAction;
  reason?: string;
  rollbackCause?: RollbackCause;
  error?: { step: string; message: string };
}

const savedMirrored = (extra: Record<string, unknown>): boolean => extra['mirrored'] === true;

export const initialContext = ({ canary, ports, clock }: TickInput): TickContext => ({
  canary,
  ports,
  clock,
  phase: canary.status.phase,
  canaryWeight: canary.status.canaryWeight,
  failedChecks: canary.status.failedChecks,
  iterations: canary.status.iterations,
  lastAppliedSpec: canary.status.lastAppliedSpec,
  mirrored: savedMirrored(canary.status.extra),
  savedFailures: readSavedVerdicts(canary.status.extra),
  verdicts: [],
  plan: [],
});
