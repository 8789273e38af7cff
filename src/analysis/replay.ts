/**
 * Rehearsal of an analysis over a past window (`fledge analyze --from --to --step`): given the
 * verdicts each step's checks would have had, what the controller would have decided at each step,
 * with the engine's own step arithmetic. Pure; the CLI fetches the values and prints the steps.
 *
 * Simplifications, said in the command's help: the checks run at every step (the controller skips
 * them on the first, before any traffic reaches the canary), and webhooks and gates are not asked.
 */
import type { CanaryAnalysis } from '../api/index.js';
import type { CheckVerdict } from '../engine/ports.js';
import { abStep, belowMaxWeight, blueGreenStep, hasTrafficStep, nextCanaryWeight } from '../engine/weights.js';

export type ReplayDecision = 'advance' | 'failed' | 'wait' | 'promote' | 'rollback' | 'stalled';

export interface ReplayStep {
  timeMs: number;
  verdicts: CheckVerdict[];
  decision: ReplayDecision;
  /** One line: what the controller would have done. */
  summary: string;
  canaryWeight: number;
  iterations: number;
  failedChecks: number;
}

export interface ReplayResult {
  steps: ReplayStep[];
  outcome: 'promoted' | 'rolled back' | 'still progressing';
}

/** The step instants from `fromMs` to `toMs` inclusive, `stepMs` apart. */
export const stepTimes = (fromMs: number, toMs: number, stepMs: number): number[] => {
  if (!(stepMs > 0)) throw new RangeError('the step must be positive');
  if (toMs < fromMs) throw new RangeError('--to must not be before --from');
  const times: number[] = [];
  for (let t = fromMs; t <= toMs; t += stepMs) times.push(t);
  return times;
};

interface Progress {
  canaryWeight: number;
  iterations: number;
  failedChecks: number;
}

/** What passing checks lead to under the analysis' strategy (as the engine's strategy step decides). */
const strategyStep = (analysis: CanaryAnalysis, p: Progress): { decision: ReplayDecision; summary: string; next: Progress } => {
  if (analysis.strategy === 'canary') {
    if (!hasTrafficStep(analysis)) return { decision: 'stalled', summary: 'stalled: no stepWeight or stepWeights', next: p };
    if (!belowMaxWeight(analysis, p.canaryWeight)) return { decision: 'promote', summary: 'promote', next: p };
    const canaryWeight = nextCanaryWeight(analysis, p.canaryWeight);
    return { decision: 'advance', summary: `advance: canary weight ${canaryWeight}`, next: { ...p, canaryWeight } };
  }
  const step = analysis.strategy === 'ab' ? abStep(analysis.iterations, p.iterations) : blueGreenStep(analysis.iterations, p.iterations);
  if (step === 'promote') return { decision: 'promote', summary: 'promote', next: p };
  const iterations = p.iterations + 1;
  const summary = step === 'switch' ? 'advance: all traffic to the canary' : `advance: iteration ${iterations}/${analysis.iterations}`;
  return { decision: 'advance', summary, next: { ...p, iterations } };
};

/**
 * Replays the analysis at `times`, asking `verdictsAt` for each step's verdicts. Stops at the first
 * promotion or rollback.
 */
export const replayAnalysis = (analysis: CanaryAnalysis, times: readonly number[], verdictsAt: (timeMs: number) => CheckVerdict[]): ReplayResult => {
  const steps: ReplayStep[] = [];
  let progress: Progress = { canaryWeight: 0, iterations: 0, failedChecks: 0 };
  const record = (timeMs: number, verdicts: CheckVerdict[], decision: ReplayDecision, summary: string): void => {
    steps.push({ timeMs, verdicts, decision, summary, ...progress });
  };
  for (const timeMs of times) {
    if (progress.failedChecks >= analysis.threshold) {
      record(timeMs, [], 'rollback', `roll back: failed checks threshold reached ${progress.failedChecks}`);
      return { steps, outcome: 'rolled back' };
    }
    const verdicts = verdictsAt(timeMs);
    const failed = verdicts.filter((v) => !v.ok && v.wait !== true);
    if (failed.length > 0) {
      progress = { ...progress, failedChecks: progress.failedChecks + 1 };
      record(timeMs, verdicts, 'failed', `failed check ${progress.failedChecks}/${analysis.threshold}: ${failed.map((v) => v.message).join('; ')}`);
      continue;
    }
    const waiting = verdicts.filter((v) => !v.ok);
    if (waiting.length > 0) {
      record(timeMs, verdicts, 'wait', `wait for data: ${waiting.map((v) => v.metric).join(', ')}`);
      continue;
    }
    const { decision, summary, next } = strategyStep(analysis, progress);
    progress = next;
    record(timeMs, verdicts, decision, summary);
    if (decision === 'promote') return { steps, outcome: 'promoted' };
  }
  return { steps, outcome: progress.failedChecks >= analysis.threshold ? 'rolled back' : 'still progressing' };
};
