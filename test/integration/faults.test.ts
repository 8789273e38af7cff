/**
 * 20 concurrent rollouts on a local cluster that fails 5% of requests (500/429) and drops 5% of watches:
 * each still reaches its correct final phase (healthy ones Succeeded, failing ones Failed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/api/clock.js';
import { Controller } from '../../src/controller/controller.js';
import type { KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, meshCrds, startTestCluster } from './support/cluster.js';
import type { PrometheusFake } from './support/prometheus-fake.js';
import { startPrometheusFake } from './support/prometheus-fake.js';
import { fixtureObjects } from './support/rollout.js';

const COUNT = 20;

/** The test's own writes go through the same faulty server: retry them as any client would. */
const retrying = async <T>(fn: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
};

const named = (o: KubeObject, name: string, image?: string): KubeObject => {
  const copy = structuredClone(o);
  copy.metadata.name = name;
  if (copy.kind === 'Deployment') {
    const spec = copy.spec as { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ image: string }> } } };
    spec.selector.matchLabels.app = name;
    spec.template.metadata.labels.app = name;
    if (image) (spec.template.spec.containers[0] as { image: string }).image = image;
  } else {
    const spec = copy.spec as { targetRef: { name: string }; analysis: Record<string, unknown> };
    spec.targetRef.name = name;
    spec.analysis = { interval: '300ms', threshold: 2, stepWeight: 25, maxWeight: 50, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' }] };
  }
  return copy;
};

describe('rollouts under API faults', () => {
  let c: TestCluster;
  let prometheus: PrometheusFake;
  let controller: Controller;
  let kube: ClientNodeKubeApi;
  before(async () => {
    c = await startTestCluster({ readyDelayMs: 20, faultRate: 0.05, faultSeed: 7 });
    c.cluster.applyObjects(meshCrds());
    prometheus = await startPrometheusFake(100);
    prometheus.rule(/destination_workload=~"bad-/, 50);
    const kubeConfig = kubeConfigForUrl(c.cluster.url);
    kube = new ClientNodeKubeApi(kubeConfig);
    controller = new Controller({
      kubeConfig,
      clock: systemClock(),
      log: pino({ level: process.env.FLEDGE_TEST_LOG ?? 'silent' }),
      meshProvider: 'istio',
      metricsServer: prometheus.url,
      minAnalysisIntervalMs: 100,
      configTracking: true,
    });
    await controller.start();
  });
  after(async () => {
    await controller.stop();
    await prometheus.close();
    await c.close();
  });

  test('5% faults: every healthy rollout Succeeds, every failing one Fails', async () => {
    const [deploy, canary] = fixtureObjects('podinfo-canary.yaml') as [KubeObject, KubeObject];
    const names = Array.from({ length: COUNT }, (_, i) => (i % 2 === 0 ? `good-${i}` : `bad-${i}`));
    for (const name of names) {
      await retrying(() => kube.apply(named(deploy, name)));
      await retrying(() => kube.apply(named(canary, name)));
    }
    const phaseOf = async (name: string): Promise<string | undefined> =>
      ((await retrying(() => kube.get({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name })))?.status as { phase?: string } | undefined)?.phase;
    await eventually(async () => (await Promise.all(names.map(phaseOf))).every((p) => p === 'Initialized'), 'all Initialized', 60_000);
    for (const name of names) await retrying(() => kube.apply(named(deploy, name, 'ghcr.io/stefanprodan/podinfo:6.1.0')));
    await eventually(
      async () => {
        const phases = await Promise.all(names.map(phaseOf));
        return phases.every((p, i) => p === (i % 2 === 0 ? 'Succeeded' : 'Failed'));
      },
      'every rollout at its final phase',
      90_000,
    );
    const stats = c.cluster.requestStats();
    assert.ok(stats.injectedFaults > 0, 'faults were injected');
  });
});
