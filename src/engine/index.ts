/** The rollout engine: one tick of a canary's state machine, its step arithmetic and its ports. */
export { advance } from './advance.js';
export type { AdvanceOptions } from './advance.js';
export { tickMachine } from './machine.js';
export type { Effect, Requeue, Revision, RollbackCause, TickAction, TickContext, TickInput, TickOutcome } from './context.js';
export type { AlertSeverity, CheckVerdict, EventType, Readiness, RolloutPorts, Routes, StatusUpdate } from './ports.js';
export { EVENT_REASON, TickStepError, applyPlan } from './effects.js';
export {
  EXTRA_FAILED_CHECKS,
  EXTRA_MIRRORED,
  IDLE_PHASES,
  PHASES_KEEPING_PROGRESS,
  phaseUpdate,
  promotedConditions,
  readSavedVerdicts,
} from './status.js';
export * from './weights.js';
