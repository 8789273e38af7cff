/**
 * SCENARIOS 8, 10, 11, 12, 13 and 28 against the local cluster over HTTP: a revision changing under a
 * running analysis, failed checks and the rollback they lead to, readiness waits and progress
 * deadlines, and a whole fail / revert / succeed lifecycle. Failing metrics come from the Prometheus
 * fake (success rate 50 against a minimum of 99); revisions that never become ready from the local
 * cluster's never-ready annotation.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Rollout } from './support/rollout.js';
import { eventsOf, progressDeadlineExceeded, fixture, imageOf, initialized, replicasOf, setImage, targetReady } from './support/scenario-objects.js';

const FAILING_SUCCESS_RATE = /istio_requests_total/;

const eventCount = async (r: Rollout, pattern: RegExp): Promise<number> =>
  (await eventsOf(r)).filter((e) => pattern.test(e.message)).reduce((n, e) => n + e.count, 0);

/** The value of one sample line of the controller's /metrics, undefined when absent. */
const sample = (text: string, metric: string, labels: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

/** Detects a new revision and runs the first analysis tick: routes 90/10 with stepWeight 10. */
const atFirstStep = async (r: Rollout, image = 'ghcr.io/stefanprodan/podinfo:6.1.0'): Promise<void> => {
  await setImage(r, image);
  await r.waitPhase('Progressing');
  await targetReady(r);
  await r.tick();
  assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
};

describe('failure scenarios', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  test('8: a new revision at routes 90/10 restarts the analysis: routes 100/0, counters 0, an event', async () => {
    r = await initialized(fixture());
    await atFirstStep(r);
    const before = await r.status();
    assert.equal(before.canaryWeight, 10);
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.2.0');
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    const s = await r.status();
    assert.deepEqual([s.phase, s.canaryWeight, s.failedChecks, s.iterations], ['Progressing', 0, 0, 0]);
    const restart = (await eventsOf(r)).find((e) => e.message === 'New revision detected! Restarting analysis for podinfo.default');
    assert.equal(restart?.type, 'Normal');
    // The analysis goes on with the newest revision, from its first step.
    await targetReady(r);
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
    assert.equal(await imageOf(r, 'podinfo'), 'ghcr.io/stefanprodan/podinfo:6.2.0');
  });

  test('10: a metric out of range adds one failed check, keeps the routes and says why in a Warning event', async () => {
    r = await initialized(fixture());
    await atFirstStep(r);
    r.prometheus.rule(FAILING_SUCCESS_RATE, 50);
    await r.tick();
    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks, s.canaryWeight], ['Progressing', 1, 10]);
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
    const halt = (await eventsOf(r)).filter((e) => e.type === 'Warning' && e.message.includes('request-success-rate'));
    assert.deepEqual(
      halt.map((e) => e.message),
      ['Halt podinfo.default advancement request-success-rate 50.00 < 99'],
    );
    // The passing metric is not reported; a second failure counts again.
    assert.equal(await eventCount(r, /request-duration/), 0);
    await r.tick();
    assert.equal((await r.status()).failedChecks, 2);
    assert.equal(await eventCount(r, /advancement request-success-rate 50\.00 < 99/), 2);
  });

  test('11: reaching the threshold rolls back: Failed, routes 100/0, canary at 0 replicas, metrics, primary untouched', async () => {
    r = await initialized(fixture({}, { threshold: 2 }));
    await atFirstStep(r);
    const labels = 'name="podinfo",namespace="default"';
    const resultLabels = `${labels},deployment_strategy="canary",analysis_status="completed"`;
    const failuresBefore = sample(await r.controller.metrics.render(), 'flagger_canary_failures_total', resultLabels) ?? 0;
    r.prometheus.rule(FAILING_SUCCESS_RATE, 50);
    await r.tick();
    await r.tick();
    assert.deepEqual([(await r.status()).phase, (await r.status()).failedChecks], ['Progressing', 2]);
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
    await r.tick();
    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks], ['Failed', 2]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    assert.equal(await replicasOf(r, 'podinfo'), 0);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.0');
    assert.equal(await replicasOf(r, 'podinfo-primary'), 1);
    const url = r.controller.url;
    assert.ok(url, 'the controller serves /metrics');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.equal(sample(metrics, 'flagger_canary_status', labels), 2);
    assert.equal(sample(metrics, 'flagger_canary_failures_total', resultLabels), failuresBefore + 1);
    assert.equal(sample(metrics, 'flagger_canary_successes_total', resultLabels), undefined);
    const warnings = (await eventsOf(r)).filter((e) => e.type === 'Warning').map((e) => e.message);
    assert.ok(warnings.includes('Rolling back podinfo.default failed checks threshold reached 2'), warnings.join('\n'));
    assert.ok(warnings.includes('Canary failed! Scaling down podinfo.default'), warnings.join('\n'));
    // Failed is final for this revision: more ticks change nothing and count no second failure.
    await r.tick();
    assert.equal((await r.status()).phase, 'Failed');
    assert.equal(sample(await r.controller.metrics.render(), 'flagger_canary_failures_total', resultLabels), failuresBefore + 1);
  });

  test('12: a canary that is not ready waits without failed checks until its progressDeadlineSeconds, then rolls back', async () => {
    // The Canary's deadline (90 s of controller time) runs out between the first and the second tick;
    // the Deployment's own (600 s of real time) never does.
    r = await initialized(fixture({ progressDeadlineSeconds: 90 }));
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0', { neverReady: true });
    await r.waitPhase('Progressing');
    assert.equal(await replicasOf(r, 'podinfo'), 1);
    await r.tick();
    const waiting = await r.status();
    assert.deepEqual([waiting.phase, waiting.failedChecks, waiting.canaryWeight], ['Progressing', 0, 0]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    const notReady = (await eventsOf(r)).find((e) => e.type === 'Warning' && e.message.startsWith('canary deployment podinfo.default not ready'));
    assert.ok(notReady, 'a Warning event says the canary is not ready');
    assert.match(notReady.message, /waiting for rollout to finish/);
    await r.tick();
    const failed = await r.status();
    assert.deepEqual([failed.phase, failed.failedChecks], ['Failed', 0]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    assert.equal(await replicasOf(r, 'podinfo'), 0);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.0');
    const rollback = (await eventsOf(r)).find((e) => e.message.startsWith('Rolling back podinfo.default progress deadline exceeded'));
    assert.match(rollback?.message ?? '', /exceeded its progressDeadlineSeconds: 90/);
  });

  test('13: a Deployment reporting ProgressDeadlineExceeded is a non-retriable failure: rollback on the next tick', async () => {
    // The Deployment's deadline is 2 s of real time (the local cluster's clock); the Canary's is long.
    r = await initialized(fixture({ progressDeadlineSeconds: 3600 }, {}, { progressDeadlineSeconds: 2 }));
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0', { neverReady: true });
    await r.waitPhase('Progressing');
    await progressDeadlineExceeded(r);
    await r.tick();
    const s = await r.status();
    assert.deepEqual([s.phase, s.failedChecks], ['Failed', 0]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    assert.equal(await replicasOf(r, 'podinfo'), 0);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.0');
    const rollback = (await eventsOf(r)).find((e) => e.message.startsWith('Rolling back podinfo.default progress deadline exceeded'));
    assert.match(rollback?.message ?? '', /deployment "podinfo" exceeded its progress deadline/);
    assert.equal(rollback?.type, 'Warning');
  });

  test('28: lifecycle: a failing metric fails the run, reverting the image starts nothing, a new healthy image succeeds', async () => {
    const interval = 10_000;
    r = await initialized(fixture({}, { interval: '10s', threshold: 2, stepWeight: 20, maxWeight: 40 }));
    r.prometheus.rule(FAILING_SUCCESS_RATE, 50);
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    await targetReady(r);
    const failing: Array<[string | undefined, number | undefined, number]> = [];
    for (let i = 0; i < 6 && (await r.status()).phase !== 'Failed'; i++) {
      await r.tick(interval);
      const s = await r.status();
      failing.push([s.phase, s.failedChecks, (await r.routes()).canary]);
    }
    assert.deepEqual(failing, [
      ['Progressing', 0, 20],
      ['Progressing', 1, 20],
      ['Progressing', 2, 20],
      ['Failed', 2, 0],
    ]);

    // Back to the image the primary runs: acknowledged, no run.
    const detections = await eventCount(r, /^New revision detected! Scaling up/);
    r.prometheus.clearRules();
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.0.0');
    await r.settle();
    for (let i = 0; i < 2; i++) await r.tick(interval);
    assert.equal((await r.status()).phase, 'Failed');
    assert.equal(await replicasOf(r, 'podinfo'), 0);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    assert.equal(await eventCount(r, /^New revision detected! Scaling up/), detections);

    // A new image with healthy metrics goes all the way.
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.2.0');
    await r.waitPhase('Progressing');
    await targetReady(r);
    assert.equal(await eventCount(r, /^New revision detected! Scaling up/), detections + 1);
    const healthy: Array<[string | undefined, number]> = [];
    for (let i = 0; i < 8 && (await r.status()).phase !== 'Succeeded'; i++) {
      await r.tick(interval);
      healthy.push([(await r.status()).phase, (await r.routes()).canary]);
    }
    assert.deepEqual(healthy, [
      ['Progressing', 20],
      ['Progressing', 40],
      ['Promoting', 40],
      ['Finalising', 0],
      ['Succeeded', 0],
    ]);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.2.0');
    assert.equal(await replicasOf(r, 'podinfo'), 0);
  });
});
