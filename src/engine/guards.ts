/**
 * The questions a tick asks, as pure predicates over its context. The machine names them as guards;
 * each is the condition of one branch of Flagger's scheduler (with its known bugs fixed).
 */
import type { CanaryPhase, Strategy, WebhookType } from '../api/index.js';
import type { TickContext } from './context.js';
import { IDLE_PHASES } from './status.js';
import { abStep, belowMaxWeight, blueGreenStep, hasTrafficStep } from './weights.js';

export const isSuspended = (ctx: TickContext): boolean => ctx.canary.spec.suspend;

/** Deletion is the controller's business (finalizers), not an analysis step. */
export const isTerminating = (ctx: TickContext): boolean => ctx.phase === 'Terminating' || ctx.phase === 'Terminated';

/**
 * Initialization is pending: no phase yet, Initializing, or Failed before the first successful
 * initialization (Initialized sets lastPromotedSpec, so a Failed without it never got there).
 */
export const needsInitialization = (ctx: TickContext): boolean =>
  ctx.phase === undefined ||
  ctx.phase === 'Initializing' ||
  (ctx.phase === 'Failed' && ctx.canary.status.lastPromotedSpec === undefined);

export const isIdlePhase = (ctx: TickContext): boolean => ctx.phase !== undefined && IDLE_PHASES.has(ctx.phase);

export const phaseIs = (ctx: TickContext, phase: CanaryPhase): boolean => ctx.phase === phase;

/** Phases in which Flagger notices a revision changing under a running analysis. */
export const tracksRevision = (ctx: TickContext): boolean =>
  ctx.phase === 'Progressing' || ctx.phase === 'WaitingPromotion';

export const revisionChanged = (ctx: TickContext): boolean =>
  ctx.revision !== undefined && ctx.revision.checksum !== ctx.lastAppliedSpec;

/**
 * The target went back to the template the primary runs (a manual rollback, often after Failed):
 * as in Flagger, that starts no analysis.
 */
export const revisionReverted = (ctx: TickContext): boolean =>
  revisionChanged(ctx) && ctx.revision?.checksum === ctx.canary.status.lastPromotedSpec;

export const skipsAnalysis = (ctx: TickContext): boolean => ctx.canary.spec.skipAnalysis;

export const isReady = (ctx: TickContext): boolean => ctx.readiness?.ready === true;

/** Not ready, but waiting may help (a rollout in progress rather than a deadline exceeded). */
export const isRetriable = (ctx: TickContext): boolean => ctx.readiness?.retriable !== false;

export const hooksPassed = (ctx: TickContext): boolean => ctx.hooksPassed === true;

export const hasHooks = (ctx: TickContext, type: WebhookType): boolean =>
  ctx.canary.spec.analysis.webhooks.some((w) => w.type === type);

/**
 * Rollback hooks are asked in Progressing and WaitingPromotion (Flagger) and in Waiting (a fix:
 * Flagger never reaches its check while a canary waits for approval).
 */
export const asksRollbackHooks = (ctx: TickContext): boolean =>
  hasHooks(ctx, 'rollback') &&
  (ctx.phase === 'Progressing' || ctx.phase === 'Waiting' || ctx.phase === 'WaitingPromotion');

/**
 * An operator's rollback request is asked in the same phases as rollback webhooks, with or without
 * such webhooks, when the ports can answer it.
 */
export const asksOperatorRollback = (ctx: TickContext): boolean =>
  ctx.ports.operatorRollbackRequested !== undefined &&
  (ctx.phase === 'Progressing' || ctx.phase === 'Waiting' || ctx.phase === 'WaitingPromotion');

export const operatorRequestedRollback = (ctx: TickContext): boolean => ctx.operatorRollback === true;

export const thresholdReached = (ctx: TickContext): boolean =>
  (ctx.phase === 'Progressing' || ctx.phase === 'WaitingPromotion') &&
  ctx.failedChecks >= ctx.canary.spec.analysis.threshold;

/**
 * The first analysis tick runs the pre-rollout hooks instead of the checks: no traffic has reached
 * the canary yet (no weight, no iteration, not mirrored).
 */
export const isFirstAnalysisTick = (ctx: TickContext): boolean => {
  const routes = ctx.routes ?? { primary: 100, canary: ctx.canaryWeight, mirrored: ctx.mirrored };
  return routes.canary === 0 && ctx.iterations === 0 && !(ctx.canary.spec.analysis.mirror && routes.mirrored);
};

export const anyCheckFailed = (ctx: TickContext): boolean => ctx.verdicts.some((v) => !v.ok);

export const strategyIs = (ctx: TickContext, strategy: Strategy): boolean =>
  ctx.canary.spec.analysis.strategy === strategy;

const currentCanaryWeight = (ctx: TickContext): number => ctx.routes?.canary ?? ctx.canaryWeight;

export const hasNoTrafficStep = (ctx: TickContext): boolean => !hasTrafficStep(ctx.canary.spec.analysis);

export const canaryBelowMaxWeight = (ctx: TickContext): boolean =>
  belowMaxWeight(ctx.canary.spec.analysis, currentCanaryWeight(ctx));

/**
 * The confirm-traffic-increase gate is asked before a weight step while traffic is not mirrored (as
 * in Flagger, the step that starts mirroring is asked, the one that ends it is not). Unlike Flagger it
 * is not asked before promotion: that is confirm-promotion's question.
 */
export const needsTrafficApproval = (ctx: TickContext): boolean =>
  hasHooks(ctx, 'confirm-traffic-increase') && !(ctx.routes?.mirrored ?? ctx.mirrored) && ctx.phase === 'Progressing';

export const iterationsLeft = (ctx: TickContext): boolean => {
  const { strategy, iterations } = ctx.canary.spec.analysis;
  if (strategy === 'ab') return abStep(iterations, ctx.iterations) === 'iterate';
  return blueGreenStep(iterations, ctx.iterations) === 'iterate';
};

export const blueGreenSwitchDue = (ctx: TickContext): boolean =>
  strategyIs(ctx, 'bluegreen') && blueGreenStep(ctx.canary.spec.analysis.iterations, ctx.iterations) === 'switch';
