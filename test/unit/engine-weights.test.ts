import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  abStep,
  belowMaxWeight,
  blueGreenIterationRoutes,
  blueGreenStep,
  hasTrafficStep,
  nextCanaryRoutes,
  nextCanaryWeight,
  promotionShift,
} from '../../src/engine/weights.js';
import type { Routes } from '../../src/engine/ports.js';

const steps = { stepWeight: 0, stepWeights: [] as number[], mirror: false };

/** Walks the canary weights from 0 while below maxWeight, as successive healthy ticks would. */
const walk = (analysis: typeof steps & { maxWeight: number }): number[] => {
  const weights: number[] = [];
  let routes: Routes = { primary: 100, canary: 0, mirrored: false };
  while (belowMaxWeight(analysis, routes.canary) && weights.length < 20) {
    routes = nextCanaryRoutes(analysis, routes);
    weights.push(routes.canary);
  }
  return weights;
};

test('stepWeight walks in constant steps and the last one may overshoot maxWeight (SCENARIOS 4)', () => {
  assert.deepEqual(walk({ ...steps, stepWeight: 20, maxWeight: 50 }), [20, 40, 60]);
  assert.deepEqual(walk({ ...steps, stepWeight: 10, maxWeight: 50 }), [10, 20, 30, 40, 50]);
});

test('stepWeight stops at 100 (SCENARIOS 5)', () => {
  assert.deepEqual(walk({ ...steps, stepWeight: 50, maxWeight: 100 }), [50, 100]);
  assert.equal(nextCanaryWeight({ stepWeight: 30, stepWeights: [] }, 90), 100);
});

test('stepWeights go to the next entry above the current weight (SCENARIOS 6)', () => {
  assert.deepEqual(walk({ ...steps, stepWeights: [1, 2, 10, 80], maxWeight: 80 }), [1, 2, 10, 80]);
  // A weight between entries (say after a manual edit) moves to the next entry, not straight to 100.
  assert.equal(nextCanaryWeight({ stepWeight: 0, stepWeights: [5, 20, 60] }, 7), 20);
  assert.equal(nextCanaryWeight({ stepWeight: 0, stepWeights: [5, 20, 60] }, 60), 100);
});

test('no step configured leaves the weight where it is', () => {
  assert.equal(hasTrafficStep({ stepWeight: 0, stepWeights: [] }), false);
  assert.equal(nextCanaryWeight({ stepWeight: 0, stepWeights: [] }, 30), 30);
  assert.equal(hasTrafficStep({ stepWeight: 0, stepWeights: [10] }), true);
});

test('mirror: the first step mirrors at 100/0, the next shifts the first weight unmirrored (SCENARIOS 16)', () => {
  const analysis = { ...steps, stepWeight: 10, mirror: true };
  const first = nextCanaryRoutes(analysis, { primary: 100, canary: 0, mirrored: false });
  assert.deepEqual(first, { primary: 100, canary: 0, mirrored: true });
  assert.deepEqual(nextCanaryRoutes(analysis, first), { primary: 90, canary: 10, mirrored: false });
  assert.deepEqual(nextCanaryRoutes(analysis, { primary: 90, canary: 10, mirrored: false }), { primary: 80, canary: 20, mirrored: false });
});

test('promotion: stepWeightPromotion 0 routes all traffic back at once', () => {
  assert.deepEqual(promotionShift(0, { primary: 40, canary: 60, mirrored: false }), {
    routes: { primary: 100, canary: 0, mirrored: false },
    done: true,
  });
});

test('promotion: the primary gains stepWeightPromotion per tick until 100 (SCENARIOS 9)', () => {
  const first = promotionShift(50, { primary: 0, canary: 100, mirrored: false });
  assert.deepEqual(first, { routes: { primary: 50, canary: 50, mirrored: false }, done: false });
  assert.deepEqual(promotionShift(50, first.routes), { routes: { primary: 100, canary: 0, mirrored: false }, done: true });
  const uneven = promotionShift(30, { primary: 20, canary: 80, mirrored: false });
  assert.deepEqual(uneven.routes, { primary: 50, canary: 50, mirrored: false });
  assert.equal(promotionShift(30, { primary: 80, canary: 20, mirrored: false }).done, true);
});

test('promotion of a canary without traffic finishes instead of waiting forever', () => {
  assert.equal(promotionShift(20, { primary: 100, canary: 0, mirrored: false }).done, true);
});

test('A/B iterates until iterations are done, then promotes', () => {
  assert.deepEqual([0, 1, 9, 10, 11].map((done) => abStep(10, done)), ['iterate', 'iterate', 'iterate', 'promote', 'promote']);
});

test('blue/green iterates, switches traffic once, then promotes (SCENARIOS 17)', () => {
  assert.deepEqual([0, 1, 2, 3].map((done) => blueGreenStep(1, done)), ['iterate', 'switch', 'promote', 'promote']);
  assert.deepEqual(blueGreenIterationRoutes(true, { primary: 100, canary: 0, mirrored: false }), {
    primary: 100,
    canary: 0,
    mirrored: true,
  });
  assert.equal(blueGreenIterationRoutes(true, { primary: 100, canary: 0, mirrored: true }), undefined);
  assert.equal(blueGreenIterationRoutes(false, { primary: 100, canary: 0, mirrored: false }), undefined);
});
