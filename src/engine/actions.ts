/**
 * The decisions of a tick, pure: each takes the tick's context and returns what to add to it (the
 * effects to apply, in order, and what to report). The machine registers them as assign actions.
 * Writes that move the canary to a new phase carry the revision checksum that caused the move, so an
 * interrupted tick never records a revision it did not act on.
 */
import type { CanaryPhase, WebhookType } from '../api/index.js';
import type { Effect, RollbackCause, TickContext } from './context.js';
import type { CheckVerdict, StatusUpdate } from './ports.js';
import { hooksAlert, messages } from './messages.js';
import { EXTRA_FAILED_CHECKS, EXTRA_MIRRORED } from './status.js';
import { primaryOnly, promotionShift } from './weights.js';
import type { ContextUpdate } from './plan.js';
import { decide, info, readinessMessage, setRoutes, toPhase, warning, write } from './plan.js';

const hasHooksOf = (ctx: TickContext, type: WebhookType): boolean =>
  ctx.canary.spec.analysis.webhooks.some((w) => w.type === type);

const postRollout = (ctx: TickContext, phase: CanaryPhase): Effect[] => {
  if (!hasHooksOf(ctx, 'post-rollout')) return [];
  const passed = messages.postRolloutPassed(ctx.canary);
  return [{ kind: 'notifyHooks', type: 'post-rollout', phase, passed, failed: messages.postRolloutFailed(ctx.canary) }];
};

/** The revision this tick saw, stored with the transition it causes. */
const revisionFields = (ctx: TickContext): Pick<StatusUpdate, 'lastAppliedSpec' | 'trackedConfigs'> =>
  ctx.revision ? { lastAppliedSpec: ctx.revision.checksum, trackedConfigs: ctx.revision.trackedConfigs } : {};

/** A new analysis starts from scratch. */
const freshAnalysis = (ctx: TickContext): Omit<StatusUpdate, 'phase'> => ({
  canaryWeight: 0,
  failedChecks: 0,
  iterations: 0,
  ...revisionFields(ctx),
  extra: { [EXTRA_MIRRORED]: false, [EXTRA_FAILED_CHECKS]: [] },
});

export const suspended = (ctx: TickContext): ContextUpdate => decide(ctx, 'Suspended', 'the canary is suspended');
export const terminating = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'Idle', `phase ${ctx.phase ?? ''} is handled by the finalizer`);
export const idle = (ctx: TickContext): ContextUpdate => decide(ctx, 'Idle', 'no new revision');

/**
 * The target is back on the primary's template: no run, but the revision is recorded so that
 * re-applying the failed one later is seen as new again (Flagger re-syncs it on every Failed tick).
 */
export const acknowledgeRevert = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'Idle', 'the target is back on the primary revision', [write(revisionFields(ctx))]);

// --- initialization --------------------------------------------------------------------------

export const initWaiting = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'Initializing', 'waiting for the primary to become ready', [
    ...(ctx.phase === 'Initializing' ? [] : [toPhase(ctx, 'Initializing')]),
    warning(readinessMessage(ctx)),
  ]);

export const initFailed = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'InitializationFailed', 'the primary cannot become ready', [
    warning(readinessMessage(ctx)),
    ...(ctx.phase === 'Failed'
      ? []
      : [
          toPhase(ctx, 'Failed'),
          { kind: 'alert', severity: 'error', message: messages.initializationFailed(ctx.canary, readinessMessage(ctx)) } as const,
        ]),
  ]);

export const initialized = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'Initialized', 'primary ready, all traffic routed to it', [
    { kind: 'reconcileRouting' },
    { kind: 'scaleCanaryToZero' },
    setRoutes(primaryOnly()),
    toPhase(ctx, 'Initialized', freshAnalysis(ctx)),
    info(messages.initialized(ctx.canary)),
    { kind: 'alert', severity: 'info', message: messages.initializedAlert(ctx.canary) },
  ]);

// --- waiting for workloads -------------------------------------------------------------------

export const waitForPrimary = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'WaitingForPrimary', readinessMessage(ctx), [warning(readinessMessage(ctx))]);

export const waitForCanary = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'WaitingForCanary', readinessMessage(ctx), [warning(readinessMessage(ctx))]);

// --- new revisions ---------------------------------------------------------------------------

/**
 * An operator's rollback request belongs to the revision it was made for. One left over (say its
 * withdrawal failed after the rollback was written) must not roll the new revision back: it is
 * withdrawn as the new analysis starts (the controller writes only when one is open).
 */
const staleOperatorRollback = (ctx: TickContext): Effect[] =>
  ctx.ports.clearOperatorRollback ? [{ kind: 'clearOperatorRollback' }] : [];

export const startRollout = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'RevisionDetected', 'new revision, canary scaled up', [
    ...(hasHooksOf(ctx, 'confirm-rollout') ? [info(messages.rolloutApproved(ctx.canary))] : []),
    { kind: 'scaleCanaryUp' },
    toPhase(ctx, 'Progressing', freshAnalysis(ctx)),
    ...staleOperatorRollback(ctx),
    info(messages.newRevision(ctx.canary)),
    { kind: 'alert', severity: 'info', message: messages.newRevisionAlert() },
  ]);

/** The confirm-rollout gate is closed: enter Waiting once, with one warning and one alert. */
export const awaitApproval = (ctx: TickContext): ContextUpdate =>
  decide(
    ctx,
    'WaitingForApproval',
    'confirm-rollout gate closed',
    ctx.phase === 'Waiting'
      ? []
      : [
          toPhase(ctx, 'Waiting', freshAnalysis(ctx)),
          ...staleOperatorRollback(ctx),
          warning(messages.waitingApproval(ctx.canary)),
          ...(hooksAlert(ctx.canary, 'confirm-rollout')
            ? [{ kind: 'alert', severity: 'warn', message: messages.waitingApproval(ctx.canary) } as const]
            : []),
        ],
  );

export const restartAnalysis = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'AnalysisRestarted', 'new revision during the analysis', [
    setRoutes(primaryOnly()),
    toPhase(ctx, 'Progressing', freshAnalysis(ctx)),
    info(messages.restart(ctx.canary)),
  ]);

// --- rollback --------------------------------------------------------------------------------

/** The verdicts that explain a rollback: this tick's failures, else those saved by earlier ticks. */
const explainingVerdicts = (ctx: TickContext): CheckVerdict[] => {
  const failedNow = ctx.verdicts.filter((v) => !v.ok);
  return failedNow.length > 0 ? failedNow : ctx.savedFailures;
};

/**
 * The Warning events naming the cause, and one error alert explaining it: Flagger's text plus the
 * canary weight reached, with the failed verdicts that led there (Flagger alerts a manual rollback
 * as a warning; here every rollback is an error).
 */
const rollbackReasons = (ctx: TickContext, cause: RollbackCause): Effect[] => {
  const alert = (text: string): Effect => ({
    kind: 'alert',
    severity: 'error',
    message: messages.withWeight(text, ctx.routes?.canary ?? ctx.canaryWeight),
    verdicts: explainingVerdicts(ctx),
  });
  switch (cause) {
    case 'threshold':
      return [
        warning(messages.thresholdRollback(ctx.canary, ctx.failedChecks)),
        alert(messages.thresholdRollbackAlert(ctx.failedChecks)),
      ];
    case 'deadline':
      return [
        warning(messages.deadlineRollback(ctx.canary, readinessMessage(ctx))),
        alert(messages.deadlineRollbackAlert(readinessMessage(ctx))),
      ];
    case 'manual':
      return [
        warning(messages.rollbackRequested(ctx.canary)),
        warning(messages.manualRollback(ctx.canary)),
        alert(messages.manualRollbackAlert()),
      ];
    case 'operator':
      return [warning(messages.operatorRollback(ctx.canary)), alert(messages.operatorRollbackAlert())];
  }
};

/** Traffic back to the primary, canary scaled to zero, phase Failed; failedChecks are kept. */
export const rollback = (ctx: TickContext, cause: RollbackCause): ContextUpdate => ({
  ...decide(ctx, 'RolledBack', `rollback: ${cause}`, [
    ...rollbackReasons(ctx, cause),
    setRoutes(primaryOnly()),
    warning(messages.canaryFailed(ctx.canary)),
    { kind: 'scaleCanaryToZero' },
    toPhase(ctx, 'Failed', { ...revisionFields(ctx), extra: { [EXTRA_MIRRORED]: false } }),
    // Withdrawn only once Failed is written: an interrupted tick keeps the request and retries it.
    ...(cause === 'operator' ? [{ kind: 'clearOperatorRollback' } as const] : []),
    ...postRollout(ctx, 'Failed'),
  ]),
  rollbackCause: cause,
});

// --- promotion -------------------------------------------------------------------------------

export const skipAnalysis = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'AnalysisSkipped', 'skipAnalysis: promoted without analysis', [
    setRoutes(primaryOnly()),
    info(messages.copyingTemplate(ctx.canary)),
    { kind: 'promote' },
    { kind: 'scaleCanaryToZero' },
    toPhase(ctx, 'Succeeded', { extra: { [EXTRA_MIRRORED]: false } }),
    ...postRollout(ctx, 'Succeeded'),
    info(messages.skipped(ctx.canary)),
    { kind: 'alert', severity: 'info', message: messages.skippedAlert() },
  ]);

export const promote = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'PromotionStarted', 'analysis passed, primary takes the canary template', [
    info(messages.copyingTemplate(ctx.canary)),
    { kind: 'promote' },
    toPhase(ctx, 'Promoting'),
  ]);

export const promotionStep = (ctx: TickContext): ContextUpdate => {
  const routes = ctx.routes ?? { primary: 100 - ctx.canaryWeight, canary: ctx.canaryWeight, mirrored: false };
  const step = ctx.canary.spec.analysis.stepWeightPromotion;
  if (step <= 0 || routes.canary <= 0) {
    return decide(ctx, 'Finalising', 'all traffic routed to the primary', [
      info(messages.routeToPrimary()),
      setRoutes(primaryOnly()),
      toPhase(ctx, 'Finalising'),
    ]);
  }
  const shift = promotionShift(step, routes);
  const effects = [setRoutes(shift.routes), info(messages.advancePrimary(ctx.canary, shift.routes.primary))];
  return shift.done
    ? decide(ctx, 'Finalising', 'all traffic routed to the primary', [...effects, toPhase(ctx, 'Finalising')])
    : decide(ctx, 'PromotionAdvanced', `primary weight ${shift.routes.primary}`, [
        ...effects,
        write({ canaryWeight: shift.routes.canary }),
      ]);
};

export const finalise = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'Succeeded', 'promotion finished', [
    { kind: 'scaleCanaryToZero' },
    toPhase(ctx, 'Succeeded', { extra: { [EXTRA_MIRRORED]: false } }),
    ...postRollout(ctx, 'Succeeded'),
    info(messages.promotionCompleted(ctx.canary)),
    { kind: 'alert', severity: 'info', message: messages.promotionCompletedAlert() },
  ]);
