/**
 * The reconciler and the canary engine on one cluster: what the reconciler delivers from a
 * LocalDirectory starts the canary; a manifest change starts an analysis; and re-applying the same
 * manifests never undoes the engine's work (the primary, the Services it points, the target scaled to
 * zero), because the reconciler applies as its own field manager and only the fields it sends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { systemClock } from '../../src/api/clock.js';
import type { KubeObject } from '../../src/kube/api.js';
import { kubeConfigForUrl } from '../../src/kube/client.js';
import { createReconciler } from '../../src/reconciler/index.js';
import type { Reconciler } from '../../src/reconciler/index.js';
import { eventually, repoRoot } from './support/cluster.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects, startRollout } from './support/rollout.js';

let r: Rollout;
let reconciler: Reconciler;
let dir: string;
const runs: string[] = [];

const ks = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', name: 'app', namespace: 'default' };
const deploymentRef = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: 'default' });

/** The fixture as a Git repository would hold it: no replicas, leaving them to Fledge (the documented contract). */
const writeManifests = (image: string): void => {
  const objects = fixtureObjects('podinfo-canary.yaml').map((o) => {
    if (o.kind !== 'Deployment') return o;
    const spec = { ...(o.spec as Record<string, unknown>) };
    delete spec.replicas;
    const text = JSON.stringify(spec).replace(/ghcr\.io\/stefanprodan\/podinfo:[0-9.]+/, image);
    return { ...o, spec: JSON.parse(text) as unknown };
  });
  writeFileSync(join(dir, 'app.yaml'), objects.map((o) => stringify(o)).join('---\n'));
};

const requestRun = async (stamp: string): Promise<void> => {
  await r.kube.mergePatch(ks, { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': stamp } } });
  await eventually(async () => ((await r.kube.get(ks))?.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt === stamp, `run ${stamp}`);
};

const replicas = async (name: string): Promise<number | undefined> => ((await r.kube.get(deploymentRef(name)))?.spec as { replicas?: number }).replicas;

before(async () => {
  r = await startRollout();
  dir = mkdtempSync(join(tmpdir(), 'fledge-local-source-'));
  writeManifests('ghcr.io/stefanprodan/podinfo:6.0.0');
  reconciler = createReconciler({
    config: kubeConfigForUrl(r.c.cluster.url),
    log: pino({ level: 'silent' }),
    clock: systemClock(),
    workDir: join(dir, '..', `${dir.split('/').pop()}-work`),
    env: { ...process.env, PATH: `${join(repoRoot(), '.tools', 'bin')}:${process.env.PATH ?? ''}` },
    jitter: 0,
    onOutcome: (_key, o) => runs.push(o.message),
  });
  await reconciler.start();
});

after(async () => {
  await reconciler.stop();
  await r.close();
  rmSync(dir, { recursive: true, force: true });
});

test('delivered manifests start the canary; re-applying them never reverts the engine', async () => {
  await r.kube.create({ apiVersion: 'source.fledge.dev/v1alpha1', kind: 'LocalDirectory', metadata: { name: 'app', namespace: 'default' }, spec: { path: dir, interval: '1s' } } as KubeObject);
  await r.kube.create({ ...ks, metadata: { name: 'app', namespace: 'default' }, spec: { interval: '1h', prune: true, sourceRef: { kind: 'LocalDirectory', name: 'app' } } } as KubeObject);
  await r.waitPhase('Initialized');
  assert.equal(await replicas('podinfo'), 0, 'the engine scaled the target to zero');
  const primaryBefore = await r.kube.get(deploymentRef('podinfo-primary'));
  const apexBefore = await r.kube.get({ apiVersion: 'v1', kind: 'Service', name: 'podinfo', namespace: 'default' });

  await requestRun('again-1');
  assert.equal(await replicas('podinfo'), 0, 'scale-to-zero survives a re-apply');
  assert.equal((await r.kube.get(deploymentRef('podinfo-primary')))?.metadata.resourceVersion, primaryBefore?.metadata.resourceVersion, 'the primary is not touched');
  const apex = await r.kube.get({ apiVersion: 'v1', kind: 'Service', name: 'podinfo', namespace: 'default' });
  assert.equal(apex?.metadata.resourceVersion, apexBefore?.metadata.resourceVersion, 'the apex Service the engine points at the primary is not touched');
  const inventory = ((await r.kube.get(ks))?.status as { inventory: { entries: Array<{ id: string }> } }).inventory.entries.map((e) => e.id).sort();
  assert.deepEqual(inventory, ['default_podinfo_apps_Deployment', 'default_podinfo_flagger.app_Canary'], 'only what Git holds is ours');

  // A manifest change (a "commit") reaches the target and starts an analysis.
  writeManifests('ghcr.io/stefanprodan/podinfo:6.0.1');
  await r.waitPhase('Progressing');
  assert.equal(await replicas('podinfo'), 1, 'the engine scaled the canary up');
  await r.tick();
  const weight = (await r.status()).canaryWeight;
  assert.equal(weight, 10);

  // Re-applying mid-analysis neither scales the canary down nor touches the routing the engine owns.
  await requestRun('again-2');
  assert.equal(await replicas('podinfo'), 1);
  assert.deepEqual(await r.routes(), { primary: 90, canary: 10, mirrored: false });
  const last = runs.at(-1) ?? '';
  assert.match(last, /unchanged/);
  assert.doesNotMatch(last, /configured/);
});
