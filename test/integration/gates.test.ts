/**
 * The gate server over a local cluster: Flagger's load-tester endpoints, with the state in a
 * ConfigMap so a restarted controller neither reopens nor closes a gate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalCluster } from '../../src/localcluster/cluster.js';
import type { LocalCluster } from '../../src/localcluster/cluster.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { KubeApi, KubeObject } from '../../src/kube/api.js';
import { KubeApiError } from '../../src/kube/api.js';
import { createConfigMapGateStore, DEFAULT_GATE_CONFIGMAP } from '../../src/controller/gate-store.js';
import type { GateStore } from '../../src/controller/gate-store.js';
import { createGateHandler } from '../../src/controller/gates.js';
import { systemClock } from '../../src/api/clock.js';
import { parseCanary } from '../../src/api/canary.js';
import { createWebhookRunner } from '../../src/analysis/webhooks.js';

const GATES_NAMESPACE = 'default';

interface GateServer {
  url: string;
  close(): Promise<void>;
}

/** A fresh client and store each time, as a restarted controller would have. */
const startGateServer = async (clusterUrl: string): Promise<GateServer> => {
  const kube = new ClientNodeKubeApi(kubeConfigForUrl(clusterUrl));
  const server: Server = createServer(createGateHandler(createConfigMapGateStore({ kube, namespace: GATES_NAMESPACE })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};

const payload = (name: string, namespace = 'test'): string => JSON.stringify({ name, namespace, phase: 'Progressing', checksum: 'c', metadata: {} });

const post = async (base: string, path: string, body: string = payload('podinfo')): Promise<[number, string]> => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  return [res.status, await res.text()];
};

describe('gate server backed by the cluster', () => {
  let cluster: LocalCluster;
  let kube: KubeApi;
  before(async () => {
    cluster = await startLocalCluster({ readyDelayMs: 20 });
    kube = new ClientNodeKubeApi(kubeConfigForUrl(cluster.url));
  });
  after(async () => cluster.close());

  const gatesConfigMap = (): Promise<KubeObject | undefined> =>
    kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: DEFAULT_GATE_CONFIGMAP, namespace: GATES_NAMESPACE });

  test('a gate is closed until opened, and stays open across a restart', async () => {
    const first = await startGateServer(cluster.url);
    try {
      assert.deepEqual(await post(first.url, '/gate/check'), [403, 'Forbidden']);
      assert.equal(await gatesConfigMap(), undefined, 'a check writes nothing');
      assert.deepEqual(await post(first.url, '/gate/close'), [202, ''], 'closing a closed gate is fine');
      assert.equal(await gatesConfigMap(), undefined);
      assert.deepEqual(await post(first.url, '/gate/open'), [202, '']);
      assert.deepEqual(await post(first.url, '/gate/check'), [200, 'Approved']);
    } finally {
      await first.close();
    }
    const cm = await gatesConfigMap();
    assert.deepEqual(cm?.data, { 'gate.test.podinfo': 'open' });

    const restarted = await startGateServer(cluster.url);
    try {
      assert.deepEqual(await post(restarted.url, '/gate/check'), [200, 'Approved'], 'still open after the restart');
      assert.equal((await post(restarted.url, '/gate/check', payload('other')))[0], 403, 'gates are per Canary');
      assert.equal((await post(restarted.url, '/gate/check', payload('podinfo', 'prod')))[0], 403, 'and per namespace');
      assert.deepEqual(await post(restarted.url, '/gate/close'), [202, '']);
      assert.deepEqual(await post(restarted.url, '/gate/check'), [403, 'Forbidden']);
    } finally {
      await restarted.close();
    }
    const again = await startGateServer(cluster.url);
    try {
      assert.equal((await post(again.url, '/gate/check'))[0], 403, 'still closed after another restart');
    } finally {
      await again.close();
    }
  });

  test('rollback open, check and close', async () => {
    const gates = await startGateServer(cluster.url);
    try {
      const canary = payload('rb');
      assert.deepEqual(await post(gates.url, '/rollback/check', canary), [403, 'Forbidden']);
      assert.deepEqual(await post(gates.url, '/rollback/open', canary), [202, '']);
      assert.deepEqual(await post(gates.url, '/rollback/check', canary), [200, 'Approved']);
      assert.equal((await post(gates.url, '/gate/check', canary))[0], 403, 'a rollback request does not open the gate');
      const data = (await gatesConfigMap())?.data as Record<string, string> | undefined;
      assert.equal(data?.['rollback.test.rb'], 'open');
      assert.deepEqual(await post(gates.url, '/rollback/close', canary), [202, '']);
      assert.deepEqual(await post(gates.url, '/rollback/check', canary), [403, 'Forbidden']);
    } finally {
      await gates.close();
    }
  });

  test('fixed answers, bad payloads and unknown paths', async () => {
    const gates = await startGateServer(cluster.url);
    try {
      assert.deepEqual(await post(gates.url, '/gate/approve', 'not even json'), [200, 'OK']);
      assert.deepEqual(await post(gates.url, '/gate/halt'), [403, 'Forbidden']);
      assert.equal((await post(gates.url, '/gate/open', '{"name":')).at(0), 400);
      const [status, text] = await post(gates.url, '/gate/open', '{"name":"x"}');
      assert.deepEqual([status, text], [400, 'the payload has no "namespace"']);
      assert.equal((await post(gates.url, '/gate/nope'))[0], 404);
    } finally {
      await gates.close();
    }
  });

  test('a check fails closed (500) when the cluster cannot answer', async () => {
    const unreachable: GateStore = {
      isOpen: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      setOpen: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    };
    const server = createServer(createGateHandler(unreachable));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const [status, text] = await post(url, '/gate/check');
      assert.equal(status, 500);
      assert.match(text, /ECONNREFUSED/);
      assert.equal((await post(url, '/gate/open'))[0], 500);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a write that loses a race re-reads and retries (409), losing neither change', async () => {
    const plain = createConfigMapGateStore({ kube, namespace: GATES_NAMESPACE });
    await plain.setOpen('gate', { name: 'seed', namespace: 'race' }, true);
    let conflicts = 0;
    let raced = false;
    // A client whose first PUT is overtaken by another controller's write.
    const racing: KubeApi = {
      get: (ref) => kube.get(ref),
      list: (...args) => kube.list(...args),
      create: (obj) => kube.create(obj),
      mergePatch: (ref, patch) => kube.mergePatch(ref, patch),
      patchStatus: (ref, status) => kube.patchStatus(ref, status),
      apply: (obj) => kube.apply(obj),
      delete: (ref) => kube.delete(ref),
      async replace(obj) {
        if (!raced) {
          raced = true;
          await plain.setOpen('gate', { name: 'other', namespace: 'race' }, true);
        }
        try {
          return await kube.replace(obj);
        } catch (e) {
          if (e instanceof KubeApiError && e.status === 409) conflicts += 1;
          throw e;
        }
      },
    };
    const store: GateStore = createConfigMapGateStore({ kube: racing, namespace: GATES_NAMESPACE });
    await store.setOpen('gate', { name: 'mine', namespace: 'race' }, true);
    assert.equal(conflicts, 1);
    assert.equal(await plain.isOpen('gate', { name: 'mine', namespace: 'race' }), true);
    assert.equal(await plain.isOpen('gate', { name: 'other', namespace: 'race' }), true, 'the competing write survived');

    // Many writers at once, from two "controllers": every change lands.
    const second = createConfigMapGateStore({ kube: new ClientNodeKubeApi(kubeConfigForUrl(cluster.url)), namespace: GATES_NAMESPACE });
    const names = Array.from({ length: 8 }, (_, i) => `crowd-${i}`);
    await Promise.all(names.map((name, i) => (i % 2 ? plain : second).setOpen('gate', { name, namespace: 'race' }, true)));
    for (const name of names) assert.equal(await plain.isOpen('gate', { name, namespace: 'race' }), true, name);
  });

  test('confirm hooks pointed at /gate/check follow the gate', async () => {
    const gates = await startGateServer(cluster.url);
    try {
      const canary = parseCanary({
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        metadata: { name: 'hooked', namespace: 'test' },
        spec: {
          targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hooked' },
          service: { port: 9898 },
          analysis: { stepWeight: 10, webhooks: [{ name: 'approval', type: 'confirm-rollout', url: `${gates.url}/gate/check` }] },
        },
      });
      const runner = createWebhookRunner({ clock: systemClock() });
      assert.equal(await runner.allPassed(canary, 'confirm-rollout', 'Initialized', 'c'), false);
      await post(gates.url, '/gate/open', payload('hooked'));
      assert.equal(await runner.allPassed(canary, 'confirm-rollout', 'Initialized', 'c'), true);
    } finally {
      await gates.close();
    }
  });
});
