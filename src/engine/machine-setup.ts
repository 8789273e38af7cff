/**
 * The vocabulary of the tick machine: its types, the I/O actors, the guards (questions) and the
 * assign actions (decisions, and the observations the actors bring back). machine.ts arranges them
 * into the steps of a tick.
 */
import type { DoneActorEvent } from 'xstate';
import { assign, setup } from 'xstate';
import type { CanaryPhase, Strategy, WebhookType } from '../api/index.js';
import type { Revision, RollbackCause, TickContext, TickInput, TickOutcome } from './context.js';
import type { CheckVerdict, Readiness, Routes } from './ports.js';
import { tickActors } from './actors.js';
import * as g from './guards.js';
import * as lifecycle from './actions.js';
import * as analysis from './analysis-actions.js';
import { describeError } from './outcome.js';

/** The output of the actor whose completion is being handled. */
const output = <T>(event: unknown): T => (event as DoneActorEvent<T>).output;

export const tickSetup = setup({
  types: {
    context: {} as TickContext,
    input: {} as TickInput,
    output: {} as TickOutcome,
  },
  actors: tickActors,
  guards: {
    suspended: ({ context }) => g.isSuspended(context),
    terminating: ({ context }) => g.isTerminating(context),
    needsInitialization: ({ context }) => g.needsInitialization(context),
    idlePhase: ({ context }) => g.isIdlePhase(context),
    phaseIs: ({ context }, params: { phase: CanaryPhase }) => g.phaseIs(context, params.phase),
    tracksRevision: ({ context }) => g.tracksRevision(context),
    revisionChanged: ({ context }) => g.revisionChanged(context),
    revisionUnchanged: ({ context }) => !g.revisionChanged(context),
    revisionReverted: ({ context }) => g.revisionReverted(context),
    skipsAnalysis: ({ context }) => g.skipsAnalysis(context),
    ready: ({ context }) => g.isReady(context),
    retriable: ({ context }) => g.isRetriable(context),
    hooksPassed: ({ context }) => g.hooksPassed(context),
    hasHooks: ({ context }, params: { type: WebhookType }) => g.hasHooks(context, params.type),
    asksRollbackHooks: ({ context }) => g.asksRollbackHooks(context),
    asksOperatorRollback: ({ context }) => g.asksOperatorRollback(context),
    operatorRequestedRollback: ({ context }) => g.operatorRequestedRollback(context),
    thresholdReached: ({ context }) => g.thresholdReached(context),
    firstAnalysisTick: ({ context }) => g.isFirstAnalysisTick(context),
    anyCheckFailed: ({ context }) => g.anyCheckFailed(context),
    strategyIs: ({ context }, params: { strategy: Strategy }) => g.strategyIs(context, params.strategy),
    noTrafficStep: ({ context }) => g.hasNoTrafficStep(context),
    belowMaxWeight: ({ context }) => g.canaryBelowMaxWeight(context),
    needsTrafficApproval: ({ context }) => g.needsTrafficApproval(context),
    iterationsLeft: ({ context }) => g.iterationsLeft(context),
    blueGreenSwitchDue: ({ context }) => g.blueGreenSwitchDue(context),
  },
  actions: {
    observeReadiness: assign({ readiness: ({ event }) => output<Readiness>(event) }),
    observeRevision: assign({ revision: ({ event }) => output<Revision>(event) }),
    observeRoutes: assign({ routes: ({ event }) => output<Routes>(event) }),
    observeHooks: assign({ hooksPassed: ({ event }) => output<boolean>(event) }),
    observeOperatorRollback: assign({ operatorRollback: ({ event }) => output<boolean>(event) }),
    observeVerdicts: assign({ verdicts: ({ event }) => output<CheckVerdict[]>(event) }),
    recordError: assign({ error: ({ event }) => describeError((event as { error?: unknown }).error) }),
    suspended: assign(({ context }) => lifecycle.suspended(context)),
    terminating: assign(({ context }) => lifecycle.terminating(context)),
    idle: assign(({ context }) => lifecycle.idle(context)),
    acknowledgeRevert: assign(({ context }) => lifecycle.acknowledgeRevert(context)),
    initWaiting: assign(({ context }) => lifecycle.initWaiting(context)),
    initFailed: assign(({ context }) => lifecycle.initFailed(context)),
    initialized: assign(({ context }) => lifecycle.initialized(context)),
    waitForPrimary: assign(({ context }) => lifecycle.waitForPrimary(context)),
    waitForCanary: assign(({ context }) => lifecycle.waitForCanary(context)),
    startRollout: assign(({ context }) => lifecycle.startRollout(context)),
    awaitApproval: assign(({ context }) => lifecycle.awaitApproval(context)),
    restartAnalysis: assign(({ context }) => lifecycle.restartAnalysis(context)),
    rollback: assign(({ context }, params: { cause: RollbackCause }) => lifecycle.rollback(context, params.cause)),
    skipAnalysis: assign(({ context }) => lifecycle.skipAnalysis(context)),
    promote: assign(({ context }) => lifecycle.promote(context)),
    promotionStep: assign(({ context }) => lifecycle.promotionStep(context)),
    finalise: assign(({ context }) => lifecycle.finalise(context)),
    startAnalysis: assign(({ context }) => analysis.startAnalysis(context)),
    preRolloutPassed: assign(({ context }) => analysis.preRolloutPassed(context)),
    preRolloutFailed: assign(({ context }) => analysis.preRolloutFailed(context)),
    rolloutHooksFailed: assign(({ context }) => analysis.rolloutHooksFailed(context)),
    checksFailed: assign(({ context }) => analysis.checksFailed(context)),
    increaseTraffic: assign(({ context }) => analysis.increaseTraffic(context)),
    trafficApproved: assign(({ context }) => analysis.trafficApproved(context)),
    trafficHalted: assign(({ context }) => analysis.trafficHalted(context)),
    stalled: assign(({ context }) => analysis.stalled(context)),
    iterate: assign(({ context }) => analysis.iterate(context)),
    switchToCanary: assign(({ context }) => analysis.switchToCanary(context)),
    promotionApproved: assign(({ context }) => analysis.promotionApproved(context)),
    awaitPromotion: assign(({ context }) => analysis.awaitPromotion(context)),
  },
});
