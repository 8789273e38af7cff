/**
 * Scenario harness: a local cluster with Flagger's and Istio's CRDs, a Prometheus fake, and the controller
 * in-process on a manual clock, so a test moves analysis ticks one interval at a time and reads the
 * results back over HTTP (client-node and kubectl), as a user would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { pino } from 'pino';
import { Controller } from '../../../src/controller/controller.js';
import type { ControllerOptions } from '../../../src/controller/controller.js';
import type { KubeObject } from '../../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../../src/kube/client.js';
import type { KubeObject as StoredObject } from '../../../src/localcluster/types.js';
import type { TestCluster } from './cluster.js';
import { eventually, meshCrds, repoRoot, startTestCluster } from './cluster.js';
import { ManualClock } from './manual-clock.js';
import type { PrometheusFake } from './prometheus-fake.js';
import { startPrometheusFake } from './prometheus-fake.js';

export interface Rollout {
  c: TestCluster;
  kube: ClientNodeKubeApi;
  clock: ManualClock;
  prometheus: PrometheusFake;
  controller: Controller;
  /** Objects of a YAML fixture, edited by `edit` before they are applied. */
  apply(objects: KubeObject[]): Promise<void>;
  canary(): Promise<KubeObject>;
  status(): Promise<{ phase?: string; canaryWeight?: number; failedChecks?: number; iterations?: number }>;
  routes(): Promise<{ primary: number; canary: number; mirrored: boolean }>;
  /** One analysis interval passes; resolves when the controller has nothing left to do. */
  tick(ms?: number): Promise<void>;
  settle(): Promise<void>;
  waitPhase(phase: string): Promise<void>;
  close(): Promise<void>;
}

export const fixtureObjects = (name: string): KubeObject[] =>
  parseAllDocuments(readFileSync(join(repoRoot(), 'test', 'fixtures', name), 'utf8')).map((d) => d.toJS() as KubeObject);

export const startRollout = async (opts: Partial<ControllerOptions> = {}): Promise<Rollout> => {
  const c = await startTestCluster({ readyDelayMs: 20 });
  c.cluster.applyObjects(meshCrds());
  const prometheus = await startPrometheusFake(100);
  const clock = new ManualClock();
  const kubeConfig = kubeConfigForUrl(c.cluster.url);
  const kube = new ClientNodeKubeApi(kubeConfig);
  const controller = new Controller({
    kubeConfig,
    clock,
    log: pino({ level: process.env.FLEDGE_TEST_LOG ?? 'silent' }),
    meshProvider: 'istio',
    metricsServer: prometheus.url,
    minAnalysisIntervalMs: 0,
    configTracking: true,
    port: 0,
    ...opts,
  });
  await controller.start();
  const ref = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'podinfo' };
  const settle = async (): Promise<void> => {
    // Watch events may still be on their way: wait until the queue stays empty for a moment.
    for (let quiet = 0; quiet < 3; ) {
      await controller.idle();
      await new Promise((r) => setTimeout(r, 30));
      quiet = controller.pendingWork === 0 ? quiet + 1 : 0;
    }
  };
  const r: Rollout = {
    c,
    kube,
    clock,
    prometheus,
    controller,
    async apply(objects) {
      for (const o of objects) await kube.apply(o);
    },
    async canary() {
      const o = await kube.get(ref);
      if (!o) throw new Error('no canary');
      return o;
    },
    async status() {
      return ((await r.canary()).status ?? {}) as Awaited<ReturnType<Rollout['status']>>;
    },
    async routes() {
      const vs = await kube.get({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', namespace: 'default', name: 'podinfo' });
      const http = ((vs?.spec as { http?: Array<{ route?: Array<{ destination: { host: string }; weight?: number }>; mirror?: unknown }> })?.http ?? []).at(-1);
      const weight = (host: string): number => http?.route?.find((d) => d.destination.host === host)?.weight ?? 0;
      return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary'), mirrored: http?.mirror !== undefined };
    },
    async tick(ms = 60_000) {
      await settle();
      clock.advance(ms);
      await settle();
    },
    settle,
    async waitPhase(phase) {
      await eventually(async () => (await r.status()).phase === phase, `phase ${phase}`);
      await settle();
    },
    async close() {
      await controller.stop();
      await prometheus.close();
      await c.close();
    },
  };
  return r;
};

export type { StoredObject };
