/**
 * SCENARIOS 9, 14, 15 and 26 against the local cluster over HTTP: progressive promotion, skipAnalysis
 * with a healthy and with a broken revision, and an invalid Canary next to a valid one. Post-rollout
 * hooks go to a real HTTP receiver on loopback.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import { eventually } from './support/cluster.js';
import type { Rollout } from './support/rollout.js';
import { startRollout } from './support/rollout.js';
import { NEVER_READY, deploymentRef, eventsOf, progressDeadlineExceeded, fixture, imageOf, initialized, replicasOf, setImage, targetReady } from './support/scenario-objects.js';


/** A webhook receiver on loopback that answers 200 and keeps every POSTed body. */
const startReceiver = async (): Promise<{ url: string; bodies: Array<Record<string, unknown>>; close(): Promise<void> }> => {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST') bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/post-rollout`,
    bodies,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

describe('promotion scenarios', () => {
  let r: Rollout | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await r?.close();
    r = undefined;
    for (const c of cleanups.splice(0)) await c();
  });

  test('9: stepWeight 100 with stepWeightPromotion 50 promotes progressively, tick by tick', async () => {
    r = await initialized(fixture({}, { stepWeight: 100, maxWeight: 100, stepWeightPromotion: 50 }));
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    await targetReady(r);
    const seen: Array<[string | undefined, number | undefined, number]> = [];
    const record = async (): Promise<void> => {
      const s = await r?.status();
      seen.push([s?.phase, s?.canaryWeight, (await r?.routes())?.canary ?? -1]);
    };
    await record();
    for (let i = 0; i < 8 && (await r.status()).phase !== 'Succeeded'; i++) {
      await r.tick();
      await record();
    }
    // (phase, status weight, routed canary weight)
    assert.deepEqual(seen, [
      ['Progressing', 0, 0],
      ['Progressing', 100, 100],
      ['Promoting', 100, 100],
      ['Promoting', 50, 50],
      ['Finalising', 0, 0],
      ['Succeeded', 0, 0],
    ]);
    const advances = (await eventsOf(r, 'podinfo')).map((e) => e.message).filter((m) => m.startsWith('Advance podinfo.default primary weight'));
    assert.deepEqual(advances, ['Advance podinfo.default primary weight 50', 'Advance podinfo.default primary weight 100']);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.1.0');
  });

  test('14: skipAnalysis promotes on the tick after detection: template copied, canary at 0, post-rollout hook called', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const webhooks = [{ name: 'notify', type: 'post-rollout', url: receiver.url, metadata: { team: 'web' } }];
    r = await initialized(fixture({ skipAnalysis: true }, { webhooks }));
    assert.equal(receiver.bodies.length, 0);
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    await targetReady(r);
    assert.equal(await replicasOf(r, 'podinfo'), 1);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.0');
    await r.tick();
    const s = await r.status();
    assert.deepEqual([s.phase, s.canaryWeight, s.failedChecks], ['Succeeded', 0, 0]);
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.1.0');
    assert.equal(await replicasOf(r, 'podinfo'), 0);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    await eventually(() => receiver.bodies.length > 0, 'the post-rollout hook');
    const checksum = ((await r.canary()).status as { lastAppliedSpec?: string }).lastAppliedSpec;
    assert.ok(checksum);
    assert.deepEqual(receiver.bodies, [{ name: 'podinfo', namespace: 'default', phase: 'Succeeded', checksum, metadata: { team: 'web' } }]);
    const messages = (await eventsOf(r, 'podinfo')).map((e) => e.message);
    assert.ok(messages.includes('Promotion completed! Canary analysis was skipped for podinfo.default'), messages.join('\n'));
    assert.ok(messages.includes('Post-rollout check notify passed'), messages.join('\n'));
    // No metric was queried: the analysis was skipped.
    assert.equal(r.prometheus.queries.filter((q) => q.includes('istio_requests_total')).length, 0);
  });

  test('15: skipAnalysis with a revision that never becomes ready fails after the deadline; the primary keeps its template', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const webhooks = [{ name: 'notify', type: 'post-rollout', url: receiver.url }];
    // The Deployment's deadline is 2 s of real time (the local cluster's clock); the Canary's is long.
    r = await initialized(fixture({ skipAnalysis: true, progressDeadlineSeconds: 3600 }, { webhooks }, { progressDeadlineSeconds: 2 }));
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0', { neverReady: true });
    await r.waitPhase('Progressing');
    await progressDeadlineExceeded(r);
    await r.tick();
    const s = await r.status();
    assert.equal(s.phase, 'Failed');
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.0');
    const primary = await r.kube.get(deploymentRef('podinfo-primary'));
    const annotations = (primary?.spec as { template: { metadata?: { annotations?: Record<string, string> } } }).template.metadata?.annotations ?? {};
    assert.equal(annotations[NEVER_READY], undefined);
    assert.equal(await replicasOf(r, 'podinfo'), 0);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    const messages = (await eventsOf(r, 'podinfo')).map((e) => e.message);
    assert.ok(!messages.some((m) => m.startsWith('Copying podinfo.default template spec')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('Rolling back podinfo.default progress deadline exceeded')), messages.join('\n'));
    // Post-rollout hooks hear of the failure too.
    await eventually(() => receiver.bodies.length > 0, 'the post-rollout hook');
    assert.deepEqual(receiver.bodies.map((b) => b.phase), ['Failed']);
  });

  test('26: an invalid Canary is reported on its status and in a Warning event; the valid canary keeps running', async () => {
    r = await startRollout();
    const bad: KubeObject = {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'bad', namespace: 'default' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-bad' },
        service: { port: 9898 },
        analysis: {
          interval: '1m',
          threshold: 5,
          stepWeights: [10, 5],
          metrics: [{ name: 'custom-check', thresholdRange: { min: 1 } }],
        },
      },
    };
    // Accepted by the CRD's schema: only the controller's parser knows these rules.
    await r.apply([bad, ...fixture()]);
    await r.waitPhase('Initialized');
    const expected = [
      'spec.analysis.stepWeights[1]: must be greater than the step before it',
      'spec.analysis.metrics[0]: needs a templateRef or a query, or must be a built-in check (request-success-rate, request-duration)',
    ];
    const badRef = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'default', name: 'bad' };
    const condition = await eventually(async () => {
      const status = (await r?.kube.get(badRef))?.status as { conditions?: Array<Record<string, string>> } | undefined;
      return status?.conditions?.find((c) => c.type === 'Promoted');
    }, 'a condition on the invalid Canary');
    assert.equal(condition.status, 'Unknown');
    assert.equal(condition.reason, 'InvalidSpec');
    for (const problem of expected) assert.ok(condition.message?.includes(problem), `${condition.message} names "${problem}"`);
    const event = await eventually(async () => (await eventsOf(r as Rollout, 'bad')).find((e) => e.reason === 'InvalidSpec'), 'an InvalidSpec event');
    assert.equal(event.type, 'Warning');
    for (const problem of expected) assert.ok(event.message.includes(problem), `${event.message} names "${problem}"`);
    assert.equal(((await r.kube.get(badRef))?.status as { phase?: string }).phase, undefined);
    assert.equal(await r.kube.get(deploymentRef('podinfo-bad-primary')), undefined);

    // The valid canary analyses and promotes a new revision meanwhile.
    await setImage(r, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    await r.waitPhase('Progressing');
    await targetReady(r);
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
    for (let i = 0; i < 10 && (await r.status()).phase !== 'Succeeded'; i++) await r.tick();
    assert.equal((await r.status()).phase, 'Succeeded');
    assert.equal(await imageOf(r, 'podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.1.0');
    // The invalid one was reported once, not on every pass.
    const reports = (await eventsOf(r, 'bad')).filter((e) => e.reason === 'InvalidSpec');
    assert.deepEqual(reports.map((e) => e.count), [1]);
  });
});
