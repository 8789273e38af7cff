/** What a finished tick reports to the controller, derived from its final context. */
import type { CanaryPhase } from '../api/index.js';
import type { Requeue, TickContext, TickOutcome } from './context.js';
import type { Routes } from './ports.js';
import { TickStepError } from './effects.js';

const plannedPhase = (ctx: TickContext): CanaryPhase | undefined => {
  let phase = ctx.phase;
  for (const effect of ctx.plan) if (effect.kind === 'writeStatus' && effect.update.phase) phase = effect.update.phase;
  return phase;
};

const plannedRoutes = (ctx: TickContext): Routes | undefined => {
  let routes = ctx.routes;
  for (const effect of ctx.plan) if (effect.kind === 'setRoutes') routes = effect.routes;
  return routes;
};

const requeueAfter = (ctx: TickContext, phase: CanaryPhase | undefined): Requeue => {
  if (ctx.error) return 'soon';
  if (ctx.action === 'Suspended') return 'idle';
  switch (phase) {
    case 'Initialized':
    case 'Succeeded':
    case 'Terminating':
    case 'Terminated':
      return 'idle';
    case 'Failed':
      // A failed initialization is retried; a failed analysis waits for a new revision.
      return ctx.action === 'InitializationFailed' ? 'interval' : 'idle';
    default:
      return 'interval';
  }
};

/** Reads a failure out of the error event of an invoked actor. */
export const describeError = (error: unknown): { step: string; message: string } =>
  error instanceof TickStepError
    ? { step: error.step, message: error.message }
    : { step: 'unknown', message: error instanceof Error ? error.message : String(error) };

export const tickOutcome = (ctx: TickContext): TickOutcome => {
  // After an I/O error part of the plan may have been applied; the stored status is the truth then.
  const phase = ctx.error ? ctx.phase : plannedPhase(ctx);
  const routes = ctx.error ? ctx.routes : plannedRoutes(ctx);
  const outcome: TickOutcome = {
    phase,
    previousPhase: ctx.phase,
    action: ctx.error ? 'Error' : (ctx.action ?? 'Idle'),
    reason: ctx.error ? `${ctx.error.step} failed: ${ctx.error.message}` : (ctx.reason ?? ''),
    requeue: requeueAfter(ctx, phase),
    verdicts: ctx.verdicts,
  };
  if (routes) outcome.routes = routes;
  if (ctx.rollbackCause && !ctx.error) outcome.rollbackCause = ctx.rollbackCause;
  if (ctx.error) outcome.error = ctx.error;
  return outcome;
};
