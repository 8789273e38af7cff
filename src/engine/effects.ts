/**
 * The plan runner: performs a tick's decided effects through the ports, in order. It stops at the
 * first failing I/O, so a status write never claims what the I/O before it did not do.
 */
import type { Canary } from '../api/index.js';
import type { Effect } from './context.js';
import type { RolloutPorts } from './ports.js';

/** Flagger records every event with this reason. */
export const EVENT_REASON = 'Synced';

const applyEffect = async (ports: RolloutPorts, canary: Canary, effect: Effect): Promise<void> => {
  switch (effect.kind) {
    case 'reconcileRouting':
      return ports.reconcileRouting(canary);
    case 'setRoutes':
      return ports.setRoutes(canary, effect.routes);
    case 'scaleCanaryToZero':
      return ports.scaleCanaryToZero(canary);
    case 'scaleCanaryUp':
      return ports.scaleCanaryUp(canary);
    case 'promote':
      return ports.promote(canary);
    case 'clearOperatorRollback':
      return ports.clearOperatorRollback?.(canary);
    case 'writeStatus':
      return ports.writeStatus(canary, effect.update);
    case 'event':
      return ports.recordEvent(canary, effect.type, EVENT_REASON, effect.message);
    case 'alert':
      return ports.alert(canary, effect.severity, effect.message, effect.verdicts);
    case 'notifyHooks': {
      // The transition is already written; a hook that cannot be reached must not stop the
      // events and alerts that report it.
      const passed = await ports.runHooks(canary, effect.type, effect.phase).catch((err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        ports.recordEvent(canary, 'Warning', EVENT_REASON, `${effect.failed}: ${why}`);
        return undefined;
      });
      if (passed === true) ports.recordEvent(canary, 'Normal', EVENT_REASON, effect.passed);
      if (passed === false) ports.recordEvent(canary, 'Warning', EVENT_REASON, effect.failed);
      return;
    }
  }
};

/** An I/O failure during a tick, naming the step (a port call or a plan effect). */
export class TickStepError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'TickStepError';
  }
}

export const applyPlan = async (ports: RolloutPorts, canary: Canary, plan: readonly Effect[]): Promise<void> => {
  for (const effect of plan) {
    try {
      await applyEffect(ports, canary, effect);
    } catch (err) {
      throw new TickStepError(effect.kind, err);
    }
  }
};
