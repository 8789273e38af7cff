/**
 * Status rules shared by every decision: which phases are idle, which keep the traffic counters,
 * the Promoted condition Flagger derives from the phase, and the failed verdicts the engine saves in
 * the status so a rollback alert on a later tick (or after a restart) can still explain itself.
 */
import type { Clock } from '../api/clock.js';
import type { Canary, CanaryPhase, Condition, ThresholdRange } from '../api/index.js';
import type { CheckVerdict, StatusUpdate } from './ports.js';

/** Phases that wait for a new revision; a tick in them only compares checksums. */
export const IDLE_PHASES: ReadonlySet<CanaryPhase> = new Set<CanaryPhase>(['Initialized', 'Succeeded', 'Failed']);

/** Flagger keeps canaryWeight and iterations only in these phases; any other phase resets them to 0. */
export const PHASES_KEEPING_PROGRESS: ReadonlySet<CanaryPhase> = new Set<CanaryPhase>([
  'Progressing',
  'Waiting',
  'WaitingPromotion',
  'Promoting',
]);

/** Status keys the engine keeps beside Flagger's fields (StatusUpdate.extra). */
export const EXTRA_MIRRORED = 'mirrored';
export const EXTRA_FAILED_CHECKS = 'lastFailedChecks';

const PROMOTED = 'Promoted';

const promotedState = (canary: Canary, phase: CanaryPhase): Pick<Condition, 'status' | 'message'> => {
  const kind = canary.spec.targetRef.kind;
  switch (phase) {
    case 'Initialized':
      return { status: 'True', message: `${kind} initialization completed.` };
    case 'Waiting':
    case 'WaitingPromotion':
      return { status: 'Unknown', message: 'Waiting for approval.' };
    case 'Progressing':
      return { status: 'Unknown', message: 'New revision detected, progressing canary analysis.' };
    case 'Promoting':
      return { status: 'Unknown', message: 'Canary analysis completed, starting primary rolling update.' };
    case 'Finalising':
      return { status: 'Unknown', message: 'Canary analysis completed, routing all traffic to primary.' };
    case 'Succeeded':
      return { status: 'True', message: 'Canary analysis completed successfully, promotion finished.' };
    case 'Failed':
      return { status: 'False', message: `Canary analysis failed, ${kind} scaled to zero.` };
    default:
      return { status: 'Unknown', message: `New ${kind} detected, starting initialization.` };
  }
};

/**
 * The Promoted condition for a phase, as Flagger's MakeStatusConditions words it; undefined when the
 * current one already says the same (no write needed). The transition time survives a change of
 * reason that keeps the status. Without a clock the status writer stamps the times.
 */
export const promotedConditions = (canary: Canary, phase: CanaryPhase, clock?: Clock): Condition[] | undefined => {
  const current = canary.status.conditions.find((c) => c.type === PROMOTED);
  const next = promotedState(canary, phase);
  if (current && current.status === next.status && current.reason === phase) return undefined;
  const now = clock ? new Date(clock.now()).toISOString() : undefined;
  const transition = current && current.status === next.status ? current.lastTransitionTime : now;
  const condition: Condition = { type: PROMOTED, status: next.status, reason: phase, message: next.message };
  if (now !== undefined) condition.lastUpdateTime = now;
  if (transition !== undefined) condition.lastTransitionTime = transition;
  return [condition];
};

/**
 * A status write that moves the canary to `phase`, with Flagger's side rules: counters reset outside
 * the phases that keep progress, lastPromotedSpec follows lastAppliedSpec on Initialized and
 * Succeeded, and the Promoted condition follows the phase. `fields` win over the defaults.
 */
export const phaseUpdate = (
  canary: Canary,
  phase: CanaryPhase,
  fields: Omit<StatusUpdate, 'phase'> = {},
  clock?: Clock,
): StatusUpdate => {
  const update: StatusUpdate = { phase };
  if (!PHASES_KEEPING_PROGRESS.has(phase)) {
    update.canaryWeight = 0;
    update.iterations = 0;
  }
  if (phase === 'Initialized' || phase === 'Succeeded') {
    const applied = fields.lastAppliedSpec ?? canary.status.lastAppliedSpec;
    if (applied !== undefined) update.lastPromotedSpec = applied;
  }
  const conditions = promotedConditions(canary, phase, clock);
  if (conditions) update.conditions = conditions;
  return { ...update, ...fields };
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const readRange = (value: unknown): ThresholdRange => {
  if (!isRecord(value)) return {};
  const range: ThresholdRange = {};
  const min = finite(value['min']);
  const max = finite(value['max']);
  if (min !== undefined) range.min = min;
  if (max !== undefined) range.max = max;
  return range;
};

const readVerdict = (value: unknown): CheckVerdict | undefined => {
  if (!isRecord(value) || typeof value['metric'] !== 'string') return undefined;
  const verdict: CheckVerdict = {
    metric: value['metric'],
    ok: value['ok'] === true,
    thresholdRange: readRange(value['thresholdRange']),
    message: typeof value['message'] === 'string' ? value['message'] : '',
  };
  const measured = finite(value['value']);
  if (measured !== undefined) verdict.value = measured;
  if (typeof value['provider'] === 'string') verdict.provider = value['provider'];
  if (typeof value['errorCode'] === 'string') verdict.errorCode = value['errorCode'];
  if (typeof value['query'] === 'string') verdict.query = value['query'];
  return verdict;
};

/** The failed verdicts an earlier tick saved in the status; anything malformed is dropped. */
export const readSavedVerdicts = (extra: Record<string, unknown>): CheckVerdict[] => {
  const saved = extra[EXTRA_FAILED_CHECKS];
  if (!Array.isArray(saved)) return [];
  return saved.map(readVerdict).filter((v): v is CheckVerdict => v !== undefined);
};

/** A verdict as saved in the status: JSON-safe (no NaN or Infinity values). */
export const savedVerdict = (verdict: CheckVerdict): CheckVerdict => {
  const saved: CheckVerdict = {
    metric: verdict.metric,
    ok: verdict.ok,
    thresholdRange: readRange(verdict.thresholdRange),
    message: verdict.message,
  };
  const measured = finite(verdict.value);
  if (measured !== undefined) saved.value = measured;
  if (verdict.provider !== undefined) saved.provider = verdict.provider;
  if (verdict.errorCode !== undefined) saved.errorCode = verdict.errorCode;
  if (verdict.query !== undefined) saved.query = verdict.query;
  return saved;
};
