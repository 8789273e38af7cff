/**
 * Traffic arithmetic of one analysis step, pure: where the canary weight goes next, how promotion
 * shifts traffic back to the primary, and what an A/B or blue/green iteration does. Weights are
 * percentages of a total of 100, as in Flagger.
 */
import type { CanaryAnalysis } from '../api/index.js';
import type { Routes } from './ports.js';

export const TOTAL_WEIGHT = 100;

type StepSettings = Pick<CanaryAnalysis, 'stepWeight' | 'stepWeights'>;

const clampWeight = (weight: number): number => Math.min(TOTAL_WEIGHT, Math.max(0, weight));

/** All traffic on the primary, nothing mirrored: the state after init, rollback and promotion. */
export const primaryOnly = (): Routes => ({ primary: TOTAL_WEIGHT, canary: 0, mirrored: false });

/** All traffic on the canary: blue/green switch and A/B routing of the matching requests. */
export const canaryOnly = (): Routes => ({ primary: 0, canary: TOTAL_WEIGHT, mirrored: false });

/**
 * The canary weight after the next step. stepWeight adds a constant (the last step may overshoot
 * maxWeight, never 100); stepWeights moves to the first entry above the current weight, or to 100
 * when none is left. Returns the current weight when no step is configured.
 */
export const nextCanaryWeight = (analysis: StepSettings, canaryWeight: number): number => {
  if (analysis.stepWeight > 0 || analysis.stepWeights.length === 0) {
    return analysis.stepWeight > 0 ? clampWeight(canaryWeight + analysis.stepWeight) : canaryWeight;
  }
  const above = analysis.stepWeights.find((weight) => weight > canaryWeight);
  return clampWeight(above ?? TOTAL_WEIGHT);
};

/** Whether the canary strategy has any step to take (a canary without one would never move). */
export const hasTrafficStep = (analysis: StepSettings): boolean =>
  analysis.stepWeight > 0 || analysis.stepWeights.length > 0;

/** The canary strategy keeps increasing traffic while the canary is below the effective maxWeight. */
export const belowMaxWeight = (analysis: Pick<CanaryAnalysis, 'maxWeight'>, canaryWeight: number): boolean =>
  canaryWeight < analysis.maxWeight;

/**
 * Routes of the next canary step. With `mirror`, the first step copies traffic to the canary at
 * 100/0 and the step after it shifts the first real weight with mirroring off.
 */
export const nextCanaryRoutes = (analysis: StepSettings & Pick<CanaryAnalysis, 'mirror'>, current: Routes): Routes => {
  if (analysis.mirror && current.canary === 0 && !current.mirrored) {
    return { primary: TOTAL_WEIGHT, canary: 0, mirrored: true };
  }
  const canary = nextCanaryWeight(analysis, current.canary);
  return { primary: TOTAL_WEIGHT - canary, canary, mirrored: false };
};

export interface PromotionShift {
  routes: Routes;
  /** True when all traffic is back on the primary: the canary moves on to Finalising. */
  done: boolean;
}

/**
 * One promotion step. stepWeightPromotion 0 routes everything back at once; otherwise the primary
 * gains that much per tick. A canary already at 0 is done at once (Flagger would wait forever).
 */
export const promotionShift = (stepWeightPromotion: number, current: Routes): PromotionShift => {
  if (stepWeightPromotion <= 0 || current.canary <= 0) return { routes: primaryOnly(), done: true };
  const primary = clampWeight(current.primary + stepWeightPromotion);
  const canary = clampWeight(current.canary - stepWeightPromotion);
  if (primary >= TOTAL_WEIGHT) return { routes: primaryOnly(), done: true };
  return { routes: { primary, canary, mirrored: false }, done: false };
};

/** What an A/B analysis does once its checks pass: another iteration, or promotion. */
export type ABStep = 'iterate' | 'promote';

/**
 * A/B: each iteration routes the matching requests to the canary; once `iterations` are done the
 * canary is promoted (also when iterations was lowered below the count already done).
 */
export const abStep = (iterations: number, done: number): ABStep => (done < iterations ? 'iterate' : 'promote');

/** What a blue/green analysis does once its checks pass. */
export type BlueGreenStep = 'iterate' | 'switch' | 'promote';

/**
 * Blue/green: `iterations` analysis rounds with traffic on the primary (mirrored when asked), then
 * one round with all traffic switched to the canary, then promotion.
 */
export const blueGreenStep = (iterations: number, done: number): BlueGreenStep => {
  if (done < iterations) return 'iterate';
  return done === iterations ? 'switch' : 'promote';
};

/** Routes of a blue/green iteration: unchanged, or mirrored at 100/0 when the analysis mirrors. */
export const blueGreenIterationRoutes = (mirror: boolean, current: Routes): Routes | undefined =>
  mirror && !current.mirrored ? { primary: TOTAL_WEIGHT, canary: 0, mirrored: true } : undefined;
