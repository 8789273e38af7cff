/**
 * Decisions of the analysis part of a tick, pure: counting failed checks, and the strategy steps
 * (canary weights, A/B and blue/green iterations, the promotion gate) once the checks passed.
 */
import type { WebhookType } from '../api/index.js';
import type { Effect, TickContext } from './context.js';
import type { CheckVerdict, Routes } from './ports.js';
import { failedCheckMessage, hookNames, hooksAlert, messages } from './messages.js';
import type { ContextUpdate } from './plan.js';
import { decide, info, note, setRoutes, toPhase, warning, write } from './plan.js';
import { EXTRA_FAILED_CHECKS, EXTRA_MIRRORED, savedVerdict } from './status.js';
import { blueGreenIterationRoutes, canaryOnly, nextCanaryRoutes } from './weights.js';

const currentRoutes = (ctx: TickContext): Routes =>
  ctx.routes ?? { primary: 100 - ctx.canaryWeight, canary: ctx.canaryWeight, mirrored: ctx.mirrored };

/** A failed webhook, recorded like a failed metric so a later rollback alert can name it. */
const hookFailure = (ctx: TickContext, type: WebhookType): CheckVerdict => ({
  metric: `${type} webhook ${hookNames(ctx.canary, type)}`,
  ok: false,
  thresholdRange: {},
  errorCode: 'WebhookFailed',
  message: `${type} webhook ${hookNames(ctx.canary, type)} failed`,
});

/** One failed check: failedChecks + 1 with the reasons saved; routes stay as they are. */
const countFailure = (ctx: TickContext, reasons: Effect[], failed: CheckVerdict[]): ContextUpdate =>
  decide(ctx, 'CheckFailed', `failed check ${ctx.failedChecks + 1}/${ctx.canary.spec.analysis.threshold}`, [
    ...reasons,
    write({ failedChecks: ctx.failedChecks + 1, extra: { [EXTRA_FAILED_CHECKS]: failed.map(savedVerdict) } }),
  ]);

export const startAnalysis = (ctx: TickContext): ContextUpdate => note(ctx, [info(messages.startingAnalysis(ctx.canary))]);

export const preRolloutPassed = (ctx: TickContext): ContextUpdate => note(ctx, [info(messages.preRolloutPassed(ctx.canary))]);

export const preRolloutFailed = (ctx: TickContext): ContextUpdate =>
  countFailure(ctx, [warning(messages.preRolloutFailed(ctx.canary))], [hookFailure(ctx, 'pre-rollout')]);

export const rolloutHooksFailed = (ctx: TickContext): ContextUpdate =>
  countFailure(ctx, [warning(messages.rolloutHookFailed(ctx.canary))], [hookFailure(ctx, 'rollout')]);

/**
 * Some check did not pass. Checks with no data under `noDataPolicy: wait` hold the step without
 * counting a failure; any other failed check counts one, as in Flagger.
 */
export const checksFailed = (ctx: TickContext): ContextUpdate => {
  const failed = ctx.verdicts.filter((v) => !v.ok && v.wait !== true);
  const waiting = ctx.verdicts.filter((v) => !v.ok && v.wait === true);
  const waitEvents = waiting.map((v) => warning(messages.waitingForData(ctx.canary, v.metric)));
  if (failed.length === 0) {
    return decide(ctx, 'WaitingForData', `no values yet for ${waiting.map((v) => v.metric).join(', ')}`, waitEvents);
  }
  return countFailure(ctx, [...failed.map((v) => warning(failedCheckMessage(ctx.canary, v))), ...waitEvents], failed);
};

// --- canary strategy -------------------------------------------------------------------------

export const increaseTraffic = (ctx: TickContext): ContextUpdate => {
  const next = nextCanaryRoutes(ctx.canary.spec.analysis, currentRoutes(ctx));
  return decide(
    ctx,
    next.mirrored ? 'MirrorStarted' : 'WeightIncreased',
    next.mirrored ? 'traffic mirrored to the canary' : `canary weight ${next.canary}`,
    [
      setRoutes(next),
      write({ canaryWeight: next.canary, extra: { [EXTRA_MIRRORED]: next.mirrored } }),
      info(messages.advanceWeight(ctx.canary, next.canary)),
    ],
  );
};

export const trafficApproved = (ctx: TickContext): ContextUpdate => note(ctx, [info(messages.trafficApproved(ctx.canary))]);

export const trafficHalted = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'TrafficIncreaseHalted', 'confirm-traffic-increase gate closed', [
    warning(messages.trafficHalted(ctx.canary)),
    ...(hooksAlert(ctx.canary, 'confirm-traffic-increase')
      ? [{ kind: 'alert', severity: 'warn', message: messages.trafficHalted(ctx.canary) } as const]
      : []),
  ]);

export const stalled = (ctx: TickContext): ContextUpdate =>
  decide(ctx, 'Stalled', 'no traffic step configured', [warning(messages.noTrafficStep(ctx.canary))]);

// --- A/B and blue/green ----------------------------------------------------------------------

/**
 * One more iteration: A/B routes the matching requests to the canary; blue/green keeps traffic on
 * the primary, mirrored when the analysis mirrors.
 */
export const iterate = (ctx: TickContext): ContextUpdate => {
  const { strategy, mirror } = ctx.canary.spec.analysis;
  const routes = strategy === 'ab' ? canaryOnly() : blueGreenIterationRoutes(mirror, currentRoutes(ctx));
  const done = ctx.iterations + 1;
  return decide(ctx, 'IterationAdvanced', `iteration ${done}/${ctx.canary.spec.analysis.iterations}`, [
    ...(routes ? [setRoutes(routes)] : []),
    write({ iterations: done, ...(routes ? { extra: { [EXTRA_MIRRORED]: routes.mirrored } } : {}) }),
    info(messages.advanceIteration(ctx.canary, done)),
  ]);
};

/** Blue/green after its iterations: all traffic to the canary for one more analysis round. */
export const switchToCanary = (ctx: TickContext): ContextUpdate => {
  const fields = { iterations: ctx.iterations + 1, extra: { [EXTRA_MIRRORED]: false } };
  return decide(ctx, 'TrafficSwitched', 'all traffic routed to the canary', [
    info(messages.routeToCanary(ctx.canary.spec.analysis.mirror)),
    setRoutes(canaryOnly()),
    // An approval that arrives while WaitingPromotion resumes the run.
    ctx.phase === 'WaitingPromotion' ? toPhase(ctx, 'Progressing', fields) : write(fields),
  ]);
};

// --- promotion gate --------------------------------------------------------------------------

export const promotionApproved = (ctx: TickContext): ContextUpdate =>
  note(ctx, [info(messages.promotionApproved(ctx.canary))]);

/** The confirm-promotion gate is closed: enter WaitingPromotion once; the analysis keeps running. */
export const awaitPromotion = (ctx: TickContext): ContextUpdate =>
  decide(
    ctx,
    'WaitingForPromotion',
    'confirm-promotion gate closed',
    ctx.phase === 'WaitingPromotion'
      ? []
      : [
          toPhase(ctx, 'WaitingPromotion'),
          warning(messages.waitingPromotion(ctx.canary)),
          ...(hooksAlert(ctx.canary, 'confirm-promotion')
            ? [{ kind: 'alert', severity: 'warn', message: messages.waitingPromotion(ctx.canary) } as const]
            : []),
        ],
  );
