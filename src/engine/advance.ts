/**
 * advance(): run one analysis step of one canary. The controller calls it when something changed or
 * a timer fired; each call starts from the Canary status alone, so any controller (a restarted one,
 * a new leader) continues where the last write left off.
 */
import { createActor, toPromise } from 'xstate';
import type { Clock } from '../api/clock.js';
import type { Canary } from '../api/index.js';
import type { TickOutcome } from './context.js';
import type { RolloutPorts } from './ports.js';
import { tickMachine } from './machine.js';
import { EVENT_REASON } from './effects.js';

export interface AdvanceOptions {
  /** Stamps the times of the status conditions the tick writes; without it the status writer does. */
  clock?: Clock;
}

/**
 * One tick. Never rejects for I/O failures: they come back as action 'Error' (after a Warning event
 * on the Canary, as Flagger records them) with requeue 'soon'.
 */
export const advance = async (canary: Canary, ports: RolloutPorts, options: AdvanceOptions = {}): Promise<TickOutcome> => {
  const actor = createActor(tickMachine, { input: { canary, ports, ...(options.clock ? { clock: options.clock } : {}) } });
  const done = toPromise(actor);
  actor.start();
  const outcome = await done;
  if (outcome.error) ports.recordEvent(canary, 'Warning', EVENT_REASON, outcome.error.message);
  return outcome;
};
