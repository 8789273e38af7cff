import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebhookType } from '../../src/api/index.js';
import { FakeWorld, hook, manifest } from './engine-harness.js';

const HOOK_TYPES: WebhookType[] = ['confirm-rollout', 'pre-rollout', 'confirm-traffic-increase', 'rollout', 'confirm-promotion', 'post-rollout'];
const canaryManifest = () => manifest({ stepWeight: 20, stepWeightPromotion: 40, webhooks: HOOK_TYPES.map((t) => hook(t, t)) });

/** A controller restart: a new world holding only what a cluster keeps (status, objects, gates). */
const restarted = (old: FakeWorld): FakeWorld => {
  const world = new FakeWorld(old.manifest);
  world.status = JSON.parse(JSON.stringify(old.status));
  world.routes = { ...old.routes };
  world.routerExists = old.routerExists;
  world.checksum = old.checksum;
  world.canaryReplicas = old.canaryReplicas;
  world.primaryRevision = old.primaryRevision;
  world.hookAnswers = new Map(old.hookAnswers);
  return world;
};

const dedupe = (items: string[]): string[] => items.filter((item, i) => item !== items[i - 1]);

/** Whether `part` visits states of `whole` in the same order, possibly skipping some. */
const isSubsequence = (part: string[], whole: string[]): boolean => {
  let at = 0;
  for (const item of part) {
    while (at < whole.length && whole[at] !== item) at++;
    if (at === whole.length) return false;
  }
  return true;
};

interface Run {
  states: string[];
  promotions: number;
  world: FakeWorld;
}

/** Init, a new revision, and a healthy analysis to the end; `between` may replace the world. */
const fullRun = async (between: (world: FakeWorld, tick: number) => FakeWorld = (w) => w): Promise<Run> => {
  let world = new FakeWorld(canaryManifest());
  const states: string[] = [];
  let promotions = 0;
  for (let tick = 0; tick < 40; tick++) {
    // The new revision arrives once the canary is initialized (a change before that reaches the primary).
    if (world.status['phase'] === 'Initialized') world.checksum = 'rev-2';
    world = between(world, tick);
    const before = world.promotions;
    const outcome = await world.tick();
    promotions += world.promotions - before;
    const t = world.trace();
    // An interrupted tick may leave part of its work done; what counts is where the next ones go.
    if (t.phase !== undefined && outcome.action !== 'Error') states.push(`${t.phase} ${t.routes}`);
    if (t.phase === 'Succeeded' && world.status['lastAppliedSpec'] === 'rev-2') break;
  }
  return { states: dedupe(states), promotions, world };
};

test('a controller restarted before every tick follows the same sequence', async () => {
  const straight = await fullRun();
  assert.deepEqual(straight.states, [
    'Initialized 100/0',
    'Progressing 100/0',
    'Progressing 80/20',
    'Progressing 60/40',
    'Progressing 40/60',
    'Promoting 40/60',
    'Promoting 80/20',
    'Finalising 100/0',
    'Succeeded 100/0',
  ]);
  const restartedEveryTick = await fullRun((world) => restarted(world));
  assert.deepEqual(restartedEveryTick.states, straight.states);
  assert.equal(restartedEveryTick.promotions, 1);
  assert.equal(restartedEveryTick.world.primaryRevision, 'rev-2');
});

test('a Flagger-written status mid-analysis is continued from the router weights', async () => {
  const world = new FakeWorld(manifest());
  world.status = { phase: 'Progressing', canaryWeight: 30, failedChecks: 1, iterations: 0, lastAppliedSpec: 'rev-2', lastPromotedSpec: 'rev-1' };
  world.checksum = 'rev-2';
  world.routes = { primary: 70, canary: 30, mirrored: false };
  await world.tick();
  assert.deepEqual(world.trace(), { phase: 'Progressing', weight: 40, routes: '60/40', failedChecks: 1, iterations: 0 });
});

const PORTS = ['writeStatus', 'setRoutes', 'promote', 'scaleCanaryUp', 'scaleCanaryToZero', 'getRoutes', 'targetChecksum', 'runChecks', 'runHooks:confirm-promotion', 'runHooks:post-rollout'];

test('a tick interrupted at any port call converges on the same run', async () => {
  const straight = await fullRun();
  let injected = 0;
  for (const port of PORTS) {
    for (let at = 0; at < 10; at++) {
      const interrupted = await fullRun((world, tick) => {
        if (tick === at) world.failNext.add(port);
        return world;
      });
      if (interrupted.world.failNext.size === 0) injected++;
      const label = `${port} failing at tick ${at}: ${interrupted.states.join(', ')}`;
      // The interrupted tick's own state may be skipped, but the run never goes anywhere else.
      assert.ok(isSubsequence(interrupted.states, straight.states), label);
      assert.equal(interrupted.states.at(-1), 'Succeeded 100/0', label);
      assert.ok(interrupted.states.length >= straight.states.length - 1, label);
      assert.equal(interrupted.world.primaryRevision, 'rev-2', label);
      assert.equal(interrupted.world.canaryReplicas, 0, label);
      // promote runs again only when the status write recording it failed.
      assert.ok(interrupted.promotions <= (port === 'writeStatus' ? 2 : 1), `${label}: ${interrupted.promotions} promotions`);
    }
  }
  assert.ok(injected >= PORTS.length * 5, `only ${injected} runs were actually interrupted`);
});
