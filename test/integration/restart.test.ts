/**
 * A controller killed with SIGKILL after every step and started again continues from the Canary status:
 * the same weight sequence, one promotion, the same final phase (issue "canary engine", restart test).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, meshCrds, repoRoot, startTestCluster } from './support/cluster.js';
import type { PrometheusFake } from './support/prometheus-fake.js';
import { startPrometheusFake } from './support/prometheus-fake.js';
import { fixtureObjects } from './support/rollout.js';

const startController = (c: TestCluster, prometheus: string): ChildProcess =>
  spawn(
    process.execPath,
    [join(repoRoot(), 'bin', 'fledge.js'), 'controller', '--kubeconfig', c.kubeconfig, '--metrics-server', prometheus, '--min-analysis-interval', '100ms', '--port', '0', '--log-level', 'warn'],
    { stdio: 'ignore' },
  );

const kill = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('controller restarts', () => {
  let c: TestCluster;
  let prometheus: PrometheusFake;
  let kube: ClientNodeKubeApi;
  before(async () => {
    c = await startTestCluster({ readyDelayMs: 20 });
    c.cluster.applyObjects(meshCrds());
    prometheus = await startPrometheusFake(100);
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
  });
  after(async () => {
    await prometheus.close();
    await c.close();
  });

  const canaryRef = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'podinfo' };
  const status = async (): Promise<{ phase?: string; canaryWeight?: number }> => ((await kube.get(canaryRef))?.status ?? {}) as { phase?: string; canaryWeight?: number };

  test('a 5-step canary killed after every step still ends Succeeded with the same weights', async () => {
    const objects = fixtureObjects('podinfo-canary.yaml').map((o): KubeObject =>
      o.kind === 'Canary'
        ? { ...o, spec: { ...(o.spec as object), analysis: { interval: '400ms', threshold: 2, stepWeight: 20, maxWeight: 100, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' }] } } }
        : o,
    );
    let controller = startController(c, prometheus.url);
    try {
      for (const o of objects) await kube.apply(o);
      await eventually(async () => (await status()).phase === 'Initialized', 'Initialized', 30_000);
      const deploy = objects.find((o) => o.kind === 'Deployment') as KubeObject;
      const template = (deploy.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template;
      (template.spec.containers[0] as { image: string }).image = 'ghcr.io/stefanprodan/podinfo:6.1.0';
      await kube.apply(deploy);

      const weights: number[] = [];
      const phases: string[] = [];
      let kills = 0;
      await eventually(
        async () => {
          const s = await status();
          const w = s.canaryWeight ?? 0;
          if (s.phase === 'Progressing' && w > 0 && w !== weights.at(-1)) {
            weights.push(w);
            // Kill the controller right after each step and start a new one.
            await kill(controller);
            kills += 1;
            controller = startController(c, prometheus.url);
          }
          if (s.phase && s.phase !== phases.at(-1)) phases.push(s.phase);
          return s.phase === 'Succeeded';
        },
        'Succeeded after restarts',
        60_000,
      );
      assert.deepEqual(weights, [20, 40, 60, 80, 100]);
      assert.ok(kills >= 5);
      assert.equal(phases.filter((p) => p === 'Promoting').length, 1, `one promotion: ${phases.join(' → ')}`);
      const primary = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' });
      const image = (primary?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
      assert.equal(image, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    } finally {
      await kill(controller);
    }
  });

  test('with a failing metric, restarts still end Failed with one rollback', async () => {
    prometheus.rule(/istio_requests_total/, 50);
    let controller = startController(c, prometheus.url);
    try {
      const deploy = fixtureObjects('podinfo-canary.yaml').find((o) => o.kind === 'Deployment') as KubeObject;
      const template = (deploy.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template;
      (template.spec.containers[0] as { image: string }).image = 'ghcr.io/stefanprodan/podinfo:6.2.0';
      await kube.apply(deploy);
      let lastFailed = -1;
      await eventually(
        async () => {
          const s = (await status()) as { phase?: string; failedChecks?: number };
          if (s.phase === 'Progressing' && (s.failedChecks ?? 0) > lastFailed) {
            lastFailed = s.failedChecks ?? 0;
            await kill(controller);
            controller = startController(c, prometheus.url);
          }
          return s.phase === 'Failed';
        },
        'Failed after restarts',
        60_000,
      );
      const events = await kube.list('v1', 'Event', 'default');
      const rollbacks = events.filter((e) => /Rolling back/.test(String(e.message)));
      assert.equal(rollbacks.reduce((n, e) => n + Number(e.count ?? 1), 0), 1, 'exactly one rollback event');
      const primary = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' });
      const image = (primary?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
      assert.equal(image, 'ghcr.io/stefanprodan/podinfo:6.1.0', 'the primary keeps the promoted release');
    } finally {
      await kill(controller);
    }
  });
});
