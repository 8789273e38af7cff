/**
 * One tick of one canary as an xstate machine: the states are the steps of Flagger's scheduler
 * (advanceCanary with runCanary/runAB/runBlueGreen), the invoked actors do the I/O through the ports,
 * guards ask the questions and assign actions record the decisions as a plan of effects. The plan is
 * applied in the last step; the machine's output is the TickOutcome.
 */
import type { CanaryPhase, WebhookType } from '../api/index.js';
import type { TickContext } from './context.js';
import { initialContext } from './context.js';
import type { PortInput, tickActors } from './actors.js';
import { tickSetup } from './machine-setup.js';
import { tickOutcome } from './outcome.js';

const ports = ({ context }: { context: TickContext }): PortInput => ({ ports: context.ports, canary: context.canary });

const hooks =
  (type: WebhookType, phase?: CanaryPhase) =>
  ({ context }: { context: TickContext }) => ({ ...ports({ context }), type, phase: phase ?? context.phase ?? 'Progressing' });

/** The canary as the confirm-rollout hooks must see it: carrying the revision they are asked about. */
const withRevision = ({ context }: { context: TickContext }) => {
  const { canary, revision } = context;
  const status = revision
    ? { ...canary.status, lastAppliedSpec: revision.checksum, trackedConfigs: revision.trackedConfigs }
    : canary.status;
  const phase = context.phase ?? 'Progressing';
  return { ports: context.ports, canary: { ...canary, status }, type: 'confirm-rollout' as const, phase };
};

type Observation = 'observeReadiness' | 'observeRevision' | 'observeRoutes' | 'observeHooks' | 'observeVerdicts' | 'observeOperatorRollback';

/** A step that calls one port: record what it returned, then decide in `next`; I/O errors end the tick. */
const call = <S extends keyof typeof tickActors, I>(
  src: S,
  observe: Observation,
  next: string,
  input: (args: { context: TickContext }) => I,
) => ({ invoke: { src, input, onDone: { target: next, actions: observe }, onError: 'failed' } });

export const tickMachine = tickSetup.createMachine({
  id: 'tick',
  context: ({ input }) => initialContext(input),
  output: ({ context }) => tickOutcome(context),
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: 'suspended', target: 'done', actions: 'suspended' },
        { guard: 'terminating', target: 'done', actions: 'terminating' },
        { guard: 'needsInitialization', target: 'initRevision' },
        { guard: 'idlePhase', target: 'detectRevision' },
        { target: 'primaryGate' },
      ],
    },

    // Initialization: primary workload and Services, then (primary ready) routing and Initialized.
    // The checksum is read before the primary is created from the target: a change in between makes
    // the next tick analyse a template the primary already has (harmless), never the reverse.
    initRevision: call('targetChecksum', 'observeRevision', 'initialize', ports),
    initialize: { invoke: { src: 'initialize', input: ports, onDone: 'initPrimaryGate', onError: 'failed' } },
    initPrimaryGate: { always: [{ guard: 'skipsAnalysis', target: 'initDone' }, { target: 'initPrimary' }] },
    initPrimary: call('primaryReadiness', 'observeReadiness', 'initPrimaryDecide', ports),
    initPrimaryDecide: {
      always: [
        { guard: 'ready', target: 'initDone' },
        { guard: 'retriable', target: 'apply', actions: 'initWaiting' },
        { target: 'apply', actions: 'initFailed' },
      ],
    },
    initDone: { always: { target: 'apply', actions: 'initialized' } },

    // Idle phases: only a changed checksum starts anything.
    detectRevision: call('targetChecksum', 'observeRevision', 'detectDecide', ports),
    detectDecide: {
      always: [
        { guard: 'revisionUnchanged', target: 'done', actions: 'idle' },
        { guard: 'revisionReverted', target: 'apply', actions: 'acknowledgeRevert' },
        { guard: 'skipsAnalysis', target: 'confirmRollout' },
        { target: 'detectPrimary' },
      ],
    },
    detectPrimary: call('primaryReadiness', 'observeReadiness', 'detectPrimaryDecide', ports),
    detectPrimaryDecide: {
      always: [
        { guard: 'ready', target: 'confirmRollout' },
        { guard: 'retriable', target: 'apply', actions: 'waitForPrimary' },
        { target: 'apply', actions: { type: 'rollback', params: { cause: 'deadline' } } },
      ],
    },

    // The confirm-rollout gate, for a detected revision and while Waiting.
    confirmRollout: {
      always: [
        { guard: { type: 'hasHooks', params: { type: 'confirm-rollout' } }, target: 'confirmRolloutCall' },
        { target: 'apply', actions: 'startRollout' },
      ],
    },
    confirmRolloutCall: call('runHooks', 'observeHooks', 'confirmRolloutDecide', withRevision),
    confirmRolloutDecide: {
      always: [
        { guard: 'hooksPassed', target: 'apply', actions: 'startRollout' },
        { target: 'apply', actions: 'awaitApproval' },
      ],
    },

    // Active phases.
    primaryGate: { always: [{ guard: 'skipsAnalysis', target: 'routes' }, { target: 'primary' }] },
    primary: call('primaryReadiness', 'observeReadiness', 'primaryDecide', ports),
    primaryDecide: {
      always: [
        { guard: 'ready', target: 'routes' },
        { guard: 'retriable', target: 'apply', actions: 'waitForPrimary' },
        { target: 'apply', actions: { type: 'rollback', params: { cause: 'deadline' } } },
      ],
    },
    routes: call('getRoutes', 'observeRoutes', 'operatorGate', ports),
    // An operator's rollback request (`fledge abort`) is honoured before anything else of the step,
    // even while the canary is not ready: it needs no webhook, and the routes read tell the alert
    // how far the canary got.
    operatorGate: {
      always: [{ guard: 'asksOperatorRollback', target: 'operatorRollback' }, { target: 'routesDecide' }],
    },
    operatorRollback: call('operatorRollback', 'observeOperatorRollback', 'operatorRollbackDecide', ports),
    operatorRollbackDecide: {
      always: [
        { guard: 'operatorRequestedRollback', target: 'apply', actions: { type: 'rollback', params: { cause: 'operator' } } },
        { target: 'routesDecide' },
      ],
    },
    routesDecide: {
      always: [
        { guard: { type: 'phaseIs', params: { phase: 'Waiting' } }, target: 'waitingRevision' },
        { guard: 'tracksRevision', target: 'revision' },
        { target: 'canary' },
      ],
    },
    waitingRevision: call('targetChecksum', 'observeRevision', 'waitingDecide', ports),
    waitingDecide: {
      always: [{ guard: 'asksRollbackHooks', target: 'rollbackHooks' }, { target: 'confirmRollout' }],
    },
    revision: call('targetChecksum', 'observeRevision', 'revisionDecide', ports),
    revisionDecide: {
      always: [{ guard: 'revisionChanged', target: 'apply', actions: 'restartAnalysis' }, { target: 'canary' }],
    },
    canary: call('canaryReadiness', 'observeReadiness', 'canaryDecide', ports),
    canaryDecide: {
      always: [
        { guard: 'ready', target: 'afterCanary' },
        { guard: 'retriable', target: 'apply', actions: 'waitForCanary' },
        { target: 'apply', actions: { type: 'rollback', params: { cause: 'deadline' } } },
      ],
    },
    afterCanary: {
      always: [
        { guard: 'skipsAnalysis', target: 'apply', actions: 'skipAnalysis' },
        { guard: 'asksRollbackHooks', target: 'rollbackHooks' },
        { target: 'phaseStep' },
      ],
    },
    rollbackHooks: call('runHooks', 'observeHooks', 'rollbackDecide', hooks('rollback')),
    rollbackDecide: {
      always: [
        { guard: 'hooksPassed', target: 'apply', actions: { type: 'rollback', params: { cause: 'manual' } } },
        { guard: { type: 'phaseIs', params: { phase: 'Waiting' } }, target: 'confirmRollout' },
        { target: 'phaseStep' },
      ],
    },
    phaseStep: {
      always: [
        { guard: { type: 'phaseIs', params: { phase: 'Promoting' } }, target: 'apply', actions: 'promotionStep' },
        { guard: { type: 'phaseIs', params: { phase: 'Finalising' } }, target: 'apply', actions: 'finalise' },
        { guard: 'thresholdReached', target: 'apply', actions: { type: 'rollback', params: { cause: 'threshold' } } },
        { guard: 'firstAnalysisTick', target: 'preRollout', actions: 'startAnalysis' },
        { target: 'rolloutHooks' },
      ],
    },

    // The analysis: pre-rollout hooks on the first tick, rollout hooks and metric checks after it.
    preRollout: {
      always: [
        { guard: { type: 'hasHooks', params: { type: 'pre-rollout' } }, target: 'preRolloutCall' },
        { target: 'strategy' },
      ],
    },
    preRolloutCall: call('runHooks', 'observeHooks', 'preRolloutDecide', hooks('pre-rollout', 'Progressing')),
    preRolloutDecide: {
      always: [
        { guard: 'hooksPassed', target: 'strategy', actions: 'preRolloutPassed' },
        { target: 'apply', actions: 'preRolloutFailed' },
      ],
    },
    rolloutHooks: {
      always: [
        { guard: { type: 'hasHooks', params: { type: 'rollout' } }, target: 'rolloutHooksCall' },
        { target: 'checks' },
      ],
    },
    rolloutHooksCall: call('runHooks', 'observeHooks', 'rolloutHooksDecide', hooks('rollout', 'Progressing')),
    rolloutHooksDecide: {
      always: [{ guard: 'hooksPassed', target: 'checks' }, { target: 'apply', actions: 'rolloutHooksFailed' }],
    },
    checks: call('runChecks', 'observeVerdicts', 'checksDecide', ports),
    checksDecide: {
      always: [{ guard: 'anyCheckFailed', target: 'apply', actions: 'checksFailed' }, { target: 'strategy' }],
    },

    // Strategy dispatch once the checks passed.
    strategy: {
      always: [
        { guard: { type: 'strategyIs', params: { strategy: 'canary' } }, target: 'canaryStrategy' },
        { guard: 'iterationsLeft', target: 'apply', actions: 'iterate' },
        { target: 'promotionGate' },
      ],
    },
    canaryStrategy: {
      always: [
        { guard: 'noTrafficStep', target: 'apply', actions: 'stalled' },
        { guard: 'belowMaxWeight', target: 'trafficGate' },
        { target: 'promotionGate' },
      ],
    },
    trafficGate: {
      always: [
        { guard: 'needsTrafficApproval', target: 'trafficCall' },
        { target: 'apply', actions: 'increaseTraffic' },
      ],
    },
    trafficCall: call('runHooks', 'observeHooks', 'trafficDecide', hooks('confirm-traffic-increase', 'Progressing')),
    trafficDecide: {
      always: [
        { guard: 'hooksPassed', target: 'apply', actions: ['trafficApproved', 'increaseTraffic'] },
        { target: 'apply', actions: 'trafficHalted' },
      ],
    },
    promotionGate: {
      always: [
        { guard: { type: 'hasHooks', params: { type: 'confirm-promotion' } }, target: 'promotionCall' },
        { target: 'promote' },
      ],
    },
    promotionCall: call('runHooks', 'observeHooks', 'promotionDecide', hooks('confirm-promotion', 'Progressing')),
    promotionDecide: {
      always: [
        { guard: 'hooksPassed', target: 'promote', actions: 'promotionApproved' },
        { target: 'apply', actions: 'awaitPromotion' },
      ],
    },
    promote: {
      always: [
        { guard: 'blueGreenSwitchDue', target: 'apply', actions: 'switchToCanary' },
        { target: 'apply', actions: 'promote' },
      ],
    },

    // The decided effects, in order.
    apply: {
      invoke: {
        src: 'applyPlan',
        input: ({ context }) => ({ ...ports({ context }), plan: context.plan }),
        onDone: 'done',
        onError: 'failed',
      },
    },
    failed: { type: 'final', entry: 'recordError' },
    done: { type: 'final' },
  },
});
