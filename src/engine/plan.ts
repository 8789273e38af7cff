/**
 * Building blocks of a tick's plan: effect constructors and the shape every decision returns.
 * Decisions append effects; the plan runner applies them in order once the tick has decided.
 */
import type { CanaryPhase } from '../api/index.js';
import type { Effect, TickAction, TickContext } from './context.js';
import type { Routes, StatusUpdate } from './ports.js';
import { phaseUpdate } from './status.js';

/** What a decision adds to the tick's context. */
export type ContextUpdate = Partial<TickContext>;

/** Appends effects and sets what the tick reports. */
export const decide = (ctx: TickContext, action: TickAction, reason: string, effects: Effect[] = []): ContextUpdate => ({
  plan: [...ctx.plan, ...effects],
  action,
  reason,
});

/** Appends effects without deciding the outcome yet (the tick goes on). */
export const note = (ctx: TickContext, effects: Effect[]): ContextUpdate => ({ plan: [...ctx.plan, ...effects] });

export const info = (message: string): Effect => ({ kind: 'event', type: 'Normal', message });
export const warning = (message: string): Effect => ({ kind: 'event', type: 'Warning', message });
export const write = (update: StatusUpdate): Effect => ({ kind: 'writeStatus', update });
export const setRoutes = (routes: Routes): Effect => ({ kind: 'setRoutes', routes });

/** A status write moving to `phase` with Flagger's side rules (see phaseUpdate). */
export const toPhase = (ctx: TickContext, phase: CanaryPhase, fields: Omit<StatusUpdate, 'phase'> = {}): Effect =>
  write(phaseUpdate(ctx.canary, phase, fields, ctx.clock));

export const readinessMessage = (ctx: TickContext): string => ctx.readiness?.message ?? 'not ready';
