/**
 * What the rollout engine needs from the outside world. The engine decides; these ports do the I/O.
 * The controller supplies real implementations (workloads, routers, analysis, webhooks, status writes,
 * events, alerts); unit tests supply in-memory ones.
 */
import type { Canary, CanaryPhase, Condition, ThresholdRange, WebhookType } from '../api/index.js';

export interface Routes {
  primary: number;
  canary: number;
  mirrored: boolean;
}

/** Whether a workload is ready; `retriable: false` means waiting longer will not help (deadline exceeded). */
export interface Readiness {
  ready: boolean;
  retriable: boolean;
  message: string;
}

/** One metric check of one step, explained: what was measured against what, and the verdict. */
export interface CheckVerdict {
  metric: string;
  ok: boolean;
  value?: number;
  thresholdRange: ThresholdRange;
  provider?: string;
  /** Set when the check could not be made: 'NoValues', 'ProviderUnavailable', 'InvalidResponse', ... */
  errorCode?: string;
  message: string;
  /** The query as sent (rendered), when the check got that far. */
  query?: string;
  /**
   * No values from a metric with `noDataPolicy: wait`: the step neither counts a failed check nor
   * advances; it waits for data.
   */
  wait?: boolean;
}

export type EventType = 'Normal' | 'Warning';
export type AlertSeverity = 'info' | 'warn' | 'error';

/** Status fields the engine writes; the controller merges them into the Canary status. */
export interface StatusUpdate {
  phase?: CanaryPhase;
  canaryWeight?: number;
  failedChecks?: number;
  iterations?: number;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  trackedConfigs?: Record<string, string>;
  /**
   * Replaces status.conditions (the engine keeps Flagger's single Promoted condition). Times the
   * engine left out (it had no clock) are stamped by the writer.
   */
  conditions?: Condition[];
  /**
   * Free-form engine state saved as extra top-level status keys (`mirrored`, `lastFailedChecks`);
   * each key given replaces the stored one, keys not given are kept.
   */
  extra?: Record<string, unknown>;
}

export interface RolloutPorts {
  /**
   * Create or update the primary workload (from the target's current template: a change while
   * initializing must reach the primary) and the -primary/-canary Services; idempotent. Called only
   * while the canary initializes. It must not point the apex Service at the primary yet: that waits
   * for a ready primary (reconcileRouting).
   */
  initialize(canary: Canary): Promise<void>;
  /**
   * Point the apex Service at the primary and create or adopt the router objects, never resetting
   * weights already set. Called once the primary is ready, as Flagger does for zero downtime.
   */
  reconcileRouting(canary: Canary): Promise<void>;
  primaryReadiness(canary: Canary): Promise<Readiness>;
  canaryReadiness(canary: Canary): Promise<Readiness>;
  /** Checksum of the target's pod template plus its tracked configs; changes mean a new revision. */
  targetChecksum(canary: Canary): Promise<{ checksum: string; trackedConfigs: Record<string, string> }>;
  scaleCanaryToZero(canary: Canary): Promise<void>;
  scaleCanaryUp(canary: Canary): Promise<void>;
  /** Copy the target's template (and tracked configs) to the primary. */
  promote(canary: Canary): Promise<void>;
  getRoutes(canary: Canary): Promise<Routes>;
  setRoutes(canary: Canary, routes: Routes): Promise<void>;
  /** Run the metric checks of one analysis step (concurrently); an empty list when none are configured. */
  runChecks(canary: Canary): Promise<CheckVerdict[]>;
  /**
   * Run the webhooks of a type; true when all passed (or none exist). Gate types return false while
   * closed. For 'rollback' hooks the answer is whether some hook asks for a rollback (Flagger's rule);
   * the engine only calls them when the Canary has some.
   */
  runHooks(canary: Canary, type: WebhookType, phase: CanaryPhase): Promise<boolean>;
  /**
   * Whether an operator asked to roll this canary back (`fledge abort`, or /rollback/open), asked
   * with or without rollback webhooks, in the phases rollback webhooks are asked in. The controller
   * answers from its watch cache, so asking costs no API request. Optional: without it only rollback
   * webhooks can ask for a rollback.
   */
  operatorRollbackRequested?(canary: Canary): Promise<boolean>;
  /**
   * Withdraw the operator's request once the rollback it asked for is written, so the next revision
   * is not rolled back too.
   */
  clearOperatorRollback?(canary: Canary): Promise<void>;
  writeStatus(canary: Canary, update: StatusUpdate): Promise<void>;
  recordEvent(canary: Canary, type: EventType, reason: string, message: string): void;
  alert(canary: Canary, severity: AlertSeverity, message: string, verdicts?: CheckVerdict[]): void;
}
