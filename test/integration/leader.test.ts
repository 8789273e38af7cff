/** Leader election on a Lease against the local cluster: one leader at a time, a standby takes over a dead leader's lease. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/api/clock.js';
import { LeaderElector } from '../../src/controller/leader.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, startTestCluster } from './support/cluster.js';
import { ManualClock } from './support/manual-clock.js';

describe('leader election', () => {
  let c: TestCluster;
  let kube: ClientNodeKubeApi;
  before(async () => {
    c = await startTestCluster({ crds: false });
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
  });
  after(async () => c.close());

  const options = (identity: string) => ({ namespace: 'default', name: 'fledge-leader-election', identity, leaseDurationMs: 1000, renewMs: 200 });
  const log = pino({ level: 'silent' });

  test('one leader; when it stops renewing, the standby takes over after the lease expires', async () => {
    // `a` runs on a clock nobody advances after it wins: like a hung process, it never renews again.
    const frozen = new ManualClock();
    const a = new LeaderElector(kube, frozen, log, options('a'));
    const b = new LeaderElector(kube, systemClock(), log, options('b'));
    const events: string[] = [];
    a.start(() => events.push('a leads'), () => events.push('a lost'));
    await eventually(() => a.isLeader, 'a to lead');
    b.start(() => events.push('b leads'), () => events.push('b lost'));
    // While a's lease is fresh, b stays a standby.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.isLeader, false);
    const before = Date.now();
    await eventually(() => b.isLeader, 'b to take over', 5000);
    const tookMs = Date.now() - before;
    assert.ok(tookMs <= 1500, `taken over within the lease duration (+ one retry): ${tookMs} ms`);
    const lease = await kube.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'default', name: 'fledge-leader-election' });
    const spec = lease?.spec as { holderIdentity: string; leaseTransitions: number };
    assert.equal(spec.holderIdentity, 'b');
    assert.equal(spec.leaseTransitions, 2);
    assert.deepEqual(events, ['a leads', 'b leads']);
    await b.stop();
    await a.stop();
  });

  test('a leader that stops gives the lease up, so the next candidate wins at once', async () => {
    const x = new LeaderElector(kube, systemClock(), log, options('x'));
    x.start(() => undefined, () => undefined);
    await eventually(() => x.isLeader, 'x to lead', 5000);
    await x.stop();
    const y = new LeaderElector(kube, systemClock(), log, options('y'));
    const started = Date.now();
    y.start(() => undefined, () => undefined);
    await eventually(() => y.isLeader, 'y to lead', 5000);
    assert.ok(Date.now() - started < 1000, 'no wait for expiry after a clean hand-over');
    await y.stop();
  });
});
