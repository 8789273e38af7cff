/**
 * The I/O of a tick as xstate promise actors. Each calls one port; a failure is tagged with the step
 * it happened in, so the tick's outcome can say where it stopped.
 */
import { fromPromise } from 'xstate';
import type { Canary, CanaryPhase, WebhookType } from '../api/index.js';
import type { Effect, Revision } from './context.js';
import type { CheckVerdict, Readiness, RolloutPorts, Routes } from './ports.js';
import { TickStepError, applyPlan } from './effects.js';

export interface PortInput {
  ports: RolloutPorts;
  canary: Canary;
}

export interface HooksInput extends PortInput {
  type: WebhookType;
  phase: CanaryPhase;
}

export interface PlanInput extends PortInput {
  plan: Effect[];
}

const tagged =
  <I, O>(step: string, run: (input: I) => Promise<O>) =>
  async ({ input }: { input: I }): Promise<O> => {
    try {
      return await run(input);
    } catch (err) {
      throw err instanceof TickStepError ? err : new TickStepError(step, err);
    }
  };

export const tickActors = {
  initialize: fromPromise<void, PortInput>(tagged('initialize', ({ ports, canary }) => ports.initialize(canary))),
  primaryReadiness: fromPromise<Readiness, PortInput>(
    tagged('primaryReadiness', ({ ports, canary }) => ports.primaryReadiness(canary)),
  ),
  canaryReadiness: fromPromise<Readiness, PortInput>(
    tagged('canaryReadiness', ({ ports, canary }) => ports.canaryReadiness(canary)),
  ),
  targetChecksum: fromPromise<Revision, PortInput>(
    tagged('targetChecksum', ({ ports, canary }) => ports.targetChecksum(canary)),
  ),
  getRoutes: fromPromise<Routes, PortInput>(tagged('getRoutes', ({ ports, canary }) => ports.getRoutes(canary))),
  runHooks: fromPromise<boolean, HooksInput>(
    tagged('runHooks', ({ ports, canary, type, phase }) => ports.runHooks(canary, type, phase)),
  ),
  operatorRollback: fromPromise<boolean, PortInput>(
    tagged('operatorRollback', async ({ ports, canary }) => (await ports.operatorRollbackRequested?.(canary)) === true),
  ),
  runChecks: fromPromise<CheckVerdict[], PortInput>(tagged('runChecks', ({ ports, canary }) => ports.runChecks(canary))),
  applyPlan: fromPromise<void, PlanInput>(tagged('applyPlan', ({ ports, canary, plan }) => applyPlan(ports, canary, plan))),
};
