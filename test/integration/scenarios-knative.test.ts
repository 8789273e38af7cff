/**
 * A Knative canary end to end against the local cluster over HTTP: the controller in-process on a
 * manual clock with the knative router, a Prometheus fake, and the test playing Knative Serving (no
 * Knative controller runs): "deploying" a revision changes the Service's template, creates its
 * Revision and writes the Service's status, as Knative would. The split is read back from the
 * Service's spec.traffic after every tick.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { KNATIVE_API_VERSION, PRIMARY_REVISION_ANNOTATION } from '../../src/api/knative.js';
import type { KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Rollout } from './support/rollout.js';
import { startRollout } from './support/rollout.js';
import { eventsOf } from './support/scenario-objects.js';

const NS = 'default';
const SERVICE: ObjectRef = { apiVersion: KNATIVE_API_VERSION, kind: 'Service', namespace: NS, name: 'podinfo' };
const revisionName = (n: number): string => `podinfo-0000${n}`;
const revisionRef = (n: number): ObjectRef => ({ apiVersion: KNATIVE_API_VERSION, kind: 'Revision', namespace: NS, name: revisionName(n) });
const image = (n: number): string => `ghcr.io/stefanprodan/podinfo:6.0.${n}`;

const knativeService: KubeObject = {
  apiVersion: KNATIVE_API_VERSION,
  kind: 'Service',
  metadata: { name: 'podinfo', namespace: NS },
  spec: { template: { spec: { containers: [{ image: image(1), ports: [{ containerPort: 9898 }] }] } } },
};

const canary = (analysis: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: 'podinfo', namespace: NS },
  spec: {
    provider: 'knative',
    targetRef: { apiVersion: KNATIVE_API_VERSION, kind: 'Service', name: 'podinfo' },
    progressDeadlineSeconds: 600,
    // No spec.service, as in Flagger's Knative tutorial: revisions are routed without Services.
    analysis: {
      interval: '1m',
      threshold: 2,
      maxWeight: 50,
      stepWeight: 10,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' },
        { name: 'request-duration', thresholdRange: { max: 500 }, interval: '1m' },
      ],
      ...analysis,
    },
  },
});

const readyCondition = (status: 'True' | 'Unknown') =>
  status === 'True' ? { type: 'Ready', status } : { type: 'Ready', status, reason: 'Deploying', message: 'waiting for the deployment' };

/** Knative's part in a new revision: the Revision (ready or still deploying) and the Service's status naming it. */
const deployRevision = async (r: Rollout, n: number, ready: boolean): Promise<void> => {
  if (n > 1) await r.kube.mergePatch(SERVICE, { spec: { template: { spec: { containers: [{ image: image(n), ports: [{ containerPort: 9898 }] }] } } } });
  await r.kube.create({
    apiVersion: KNATIVE_API_VERSION,
    kind: 'Revision',
    metadata: { name: revisionName(n), namespace: NS, labels: { 'serving.knative.dev/service': 'podinfo' } },
    spec: { containers: [{ image: image(n) }] },
  });
  await r.kube.patchStatus(revisionRef(n), { conditions: [readyCondition(ready ? 'True' : 'Unknown')] });
  const generation = (await r.kube.get(SERVICE))?.metadata.generation ?? 1;
  await r.kube.patchStatus(SERVICE, {
    observedGeneration: generation,
    latestCreatedRevisionName: revisionName(n),
    ...(ready ? { latestReadyRevisionName: revisionName(n) } : {}),
  });
};

/** The Revision finished deploying: Ready, and the Service's status says so. */
const revisionReady = async (r: Rollout, n: number): Promise<void> => {
  await r.kube.patchStatus(revisionRef(n), { conditions: [readyCondition('True')] });
  await r.kube.patchStatus(SERVICE, { latestReadyRevisionName: revisionName(n) });
};

interface Split {
  primaryRevision: string | undefined;
  traffic: unknown;
}

const split = async (r: Rollout): Promise<Split> => {
  const service = await r.kube.get(SERVICE);
  return { primaryRevision: service?.metadata.annotations?.[PRIMARY_REVISION_ANNOTATION], traffic: (service?.spec as { traffic?: unknown }).traffic };
};

const traffic = (primary: number, canaryPercent: number, primaryRevision = 1) => [
  { latestRevision: true, percent: canaryPercent },
  { revisionName: revisionName(primaryRevision), percent: primary },
];

/** A Knative Service serving revision 1, then the Canary, until Initialized. */
const initialized = async (analysis: Record<string, unknown> = {}): Promise<Rollout> => {
  const r = await startRollout({ meshProvider: 'knative' });
  await r.apply([knativeService]);
  await deployRevision(r, 1, true);
  await r.apply([canary(analysis)]);
  await r.waitPhase('Initialized');
  return r;
};

describe('knative scenarios', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  test('revision 2 is detected, waited for, analysed at 10..50% and promoted: Succeeded with all traffic on it', async () => {
    r = await initialized();
    assert.deepEqual(await split(r), { primaryRevision: revisionName(1), traffic: traffic(100, 0) });
    const init = (await r.canary()).status as { lastAppliedSpec?: string; lastPromotedSpec?: string };
    assert.deepEqual([init.lastAppliedSpec, init.lastPromotedSpec], [revisionName(1), revisionName(1)]);

    // Knative creates revision 2; the controller sees it in the Service's status through its watch.
    await deployRevision(r, 2, false);
    await r.waitPhase('Progressing');
    assert.equal((await r.status()).canaryWeight, 0);
    // Still deploying: the step waits and moves no traffic.
    await r.tick();
    assert.deepEqual([(await r.status()).phase, (await split(r)).traffic], ['Progressing', traffic(100, 0)]);
    const warnings = (await eventsOf(r)).filter((e) => e.type === 'Warning').map((e) => e.message);
    assert.ok(warnings.includes('canary Knative Revision podinfo-00002.default not ready: Deploying: waiting for the deployment'), warnings.join('\n'));

    await revisionReady(r, 2);
    const seen: Array<[string | undefined, string | undefined, unknown]> = [];
    for (let i = 0; i < 10 && (await r.status()).phase !== 'Succeeded'; i++) {
      await r.tick();
      const s = await split(r);
      seen.push([(await r.status()).phase, s.primaryRevision, s.traffic]);
    }
    assert.deepEqual(seen, [
      ['Progressing', revisionName(1), traffic(90, 10)],
      ['Progressing', revisionName(1), traffic(80, 20)],
      ['Progressing', revisionName(1), traffic(70, 30)],
      ['Progressing', revisionName(1), traffic(60, 40)],
      ['Progressing', revisionName(1), traffic(50, 50)],
      // Promotion pins revision 2; the split keeps its percentages, both now on revision 2.
      ['Promoting', revisionName(2), traffic(50, 50, 2)],
      ['Finalising', revisionName(2), traffic(100, 0, 2)],
      ['Succeeded', revisionName(2), traffic(100, 0, 2)],
    ]);
    const done = (await r.canary()).status as { lastAppliedSpec?: string; lastPromotedSpec?: string };
    assert.deepEqual([done.lastAppliedSpec, done.lastPromotedSpec], [revisionName(2), revisionName(2)]);
    // Fledge created nothing beside the Service: no -primary copies.
    const services = await r.kube.list(KNATIVE_API_VERSION, 'Service', NS);
    assert.deepEqual(services.map((s) => s.metadata.name), ['podinfo']);
    assert.equal(await r.kube.get({ apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'podinfo-primary' }), undefined);
  });

  test('failing checks roll back to revision 1 (Failed, all traffic on it); revision 3 starts a new analysis', async () => {
    r = await initialized();
    await deployRevision(r, 2, true);
    await r.waitPhase('Progressing');
    await r.tick();
    assert.deepEqual((await split(r)).traffic, traffic(90, 10));

    // The knative router's built-in success rate (Envoy's request counters) drops to 50%.
    r.prometheus.rule(/envoy_cluster_upstream_rq\{/, 50);
    const seen: Array<[string | undefined, number | undefined]> = [];
    for (let i = 0; i < 5 && (await r.status()).phase !== 'Failed'; i++) {
      await r.tick();
      const s = await r.status();
      seen.push([s.phase, s.failedChecks]);
    }
    // Two failed checks, then the threshold (2) is seen at the next step, as in Flagger.
    assert.deepEqual(seen, [['Progressing', 1], ['Progressing', 2], ['Failed', 2]]);
    assert.deepEqual(await split(r), { primaryRevision: revisionName(1), traffic: traffic(100, 0) });
    const failed = await r.status();
    assert.deepEqual([failed.canaryWeight, failed.failedChecks], [0, 2]);
    assert.ok(r.prometheus.queries.some((q) => q.includes('envoy_cluster_name=~"default/podinfo"')), 'the knative query names the route');

    // Failed is idle: nothing moves until Knative creates another revision.
    await r.tick();
    assert.equal((await r.status()).phase, 'Failed');
    r.prometheus.clearRules();
    await deployRevision(r, 3, true);
    await r.waitPhase('Progressing');
    await r.tick();
    assert.deepEqual(await split(r), { primaryRevision: revisionName(1), traffic: traffic(90, 10) });
  });
});
