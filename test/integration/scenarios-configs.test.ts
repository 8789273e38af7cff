/**
 * SCENARIOS 19-20 against the local cluster over HTTP: the ConfigMaps and Secrets a target uses are
 * copied to `<name>-primary` and the primary runs with the copies; a change to the data of a tracked
 * config is a new revision, which starts an analysis or restarts a running one.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/api.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects } from './support/rollout.js';
import type { PodSpecLike } from './support/scenario-steps.js';
import { NEW_IMAGE, canaryEvents, initializedWith, podSpecOf, podinfoDeployment, replicasOf, setImage, tickUntil } from './support/scenario-steps.js';

const FIXTURE = 'podinfo-configs.yaml';
const TRACKED = ['env', 'envfrom', 'volume', 'projected', 'init'].map((n) => `podinfo-${n}`);

type Fields = Record<string, unknown>;
const get = (o: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), o);

/** Every config reference of a pod spec, keyed by where it is, so a test sees each place separately. */
const configRefs = (spec: PodSpecLike): Record<string, unknown> => {
  const main = spec.containers[0];
  const init = spec.initContainers?.[0];
  const volume = (name: string): Fields | undefined => spec.volumes?.find((v) => v.name === name);
  return {
    'env configMapKeyRef': get(main, 'env', 0, 'valueFrom', 'configMapKeyRef', 'name'),
    'env secretKeyRef': get(main, 'env', 1, 'valueFrom', 'secretKeyRef', 'name'),
    'env opted-out configMapKeyRef': get(main, 'env', 2, 'valueFrom', 'configMapKeyRef', 'name'),
    'envFrom configMapRef': get(main, 'envFrom', 0, 'configMapRef', 'name'),
    'envFrom secretRef': get(main, 'envFrom', 1, 'secretRef', 'name'),
    'volume configMap': get(volume('config'), 'configMap', 'name'),
    'volume secret': get(volume('certs'), 'secret', 'secretName'),
    'projected configMap': get(volume('extra'), 'projected', 'sources', 0, 'configMap', 'name'),
    'projected secret': get(volume('extra'), 'projected', 'sources', 1, 'secret', 'name'),
    'init configMapRef': get(init, 'envFrom', 0, 'configMapRef', 'name'),
    'init secretRef': get(init, 'envFrom', 1, 'secretRef', 'name'),
  };
};

const refsNaming = (suffix: string): Record<string, unknown> => ({
  'env configMapKeyRef': `podinfo-env${suffix}`,
  'env secretKeyRef': `podinfo-env${suffix}`,
  'env opted-out configMapKeyRef': 'podinfo-opted-out',
  'envFrom configMapRef': `podinfo-envfrom${suffix}`,
  'envFrom secretRef': `podinfo-envfrom${suffix}`,
  'volume configMap': `podinfo-volume${suffix}`,
  'volume secret': `podinfo-volume${suffix}`,
  'projected configMap': `podinfo-projected${suffix}`,
  'projected secret': `podinfo-projected${suffix}`,
  'init configMapRef': `podinfo-init${suffix}`,
  'init secretRef': `podinfo-init${suffix}`,
});

const deployment = (r: Rollout, name: string): Promise<KubeObject | undefined> =>
  r.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name });

const config = (r: Rollout, kind: 'ConfigMap' | 'Secret', name: string): Promise<KubeObject | undefined> =>
  r.kube.get({ apiVersion: 'v1', kind, namespace: 'default', name });

/** Applies the fixture's ConfigMap `name` with `data`. */
const setConfigMapData = async (r: Rollout, name: string, data: Record<string, string>): Promise<void> => {
  const cm = structuredClone(fixtureObjects(FIXTURE).find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as KubeObject);
  await r.kube.apply({ ...cm, data });
};

const trackedConfigs = async (r: Rollout): Promise<Record<string, string>> =>
  ((await r.canary()).status as { trackedConfigs?: Record<string, string> }).trackedConfigs ?? {};

describe('config scenarios', () => {
  let r: Rollout | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  test('19: every ConfigMap and Secret the target uses is copied to <name>-primary, and the primary runs with the copies', async () => {
    r = await initializedWith(fixtureObjects(FIXTURE));
    const primary = await deployment(r, 'podinfo-primary');
    assert.deepEqual(configRefs(podSpecOf(primary)), refsNaming('-primary'));
    for (const name of TRACKED) {
      for (const kind of ['ConfigMap', 'Secret'] as const) {
        const source = await config(r, kind, name);
        const copy = await config(r, kind, `${name}-primary`);
        assert.ok(copy, `${kind} ${name}-primary exists`);
        assert.deepEqual(copy.data, source?.data, `${kind} ${name}-primary has the data of ${name}`);
      }
    }
    assert.equal((await config(r, 'Secret', 'podinfo-env-primary'))?.type, 'Opaque');
    assert.equal(await config(r, 'ConfigMap', 'podinfo-opted-out-primary'), undefined);
    assert.equal(await config(r, 'ConfigMap', 'podinfo-unused-primary'), undefined);
    assert.deepEqual(Object.keys(await trackedConfigs(r)).sort(), TRACKED.flatMap((n) => [`configmap/${n}`, `secret/${n}`]).sort());

    // A new template together with new config data: promotion carries both to the primary.
    await setConfigMapData(r, 'podinfo-volume', { 'config.yaml': 'level: debug' });
    await setImage(r, NEW_IMAGE, podinfoDeployment(fixtureObjects(FIXTURE)));
    await r.waitPhase('Progressing');
    assert.deepEqual((await config(r, 'ConfigMap', 'podinfo-volume-primary'))?.data, { 'config.yaml': 'level: info' }, 'the primary keeps its config until promotion');
    await tickUntil(r, 'Succeeded');
    assert.deepEqual((await config(r, 'ConfigMap', 'podinfo-volume-primary'))?.data, { 'config.yaml': 'level: debug' });
    const promoted = podSpecOf(await deployment(r, 'podinfo-primary'));
    assert.equal(promoted.containers[0]?.image, NEW_IMAGE);
    assert.deepEqual(configRefs(promoted), refsNaming('-primary'));
    assert.deepEqual(configRefs(podSpecOf(await deployment(r, 'podinfo'))), refsNaming(''), 'the target keeps naming the originals');
  });

  test('20: a change to only a tracked ConfigMap starts an analysis; another during the analysis restarts it', async () => {
    r = await initializedWith(fixtureObjects(FIXTURE));
    const initialTracked = await trackedConfigs(r);

    // Neither an unused nor an opted-out ConfigMap is part of the revision.
    await setConfigMapData(r, 'podinfo-unused', { anything: '2' });
    await setConfigMapData(r, 'podinfo-opted-out', { feature: 'on' });
    await r.tick();
    assert.equal((await r.status()).phase, 'Initialized');
    assert.equal(await replicasOf(r, 'podinfo'), 0);

    await setConfigMapData(r, 'podinfo-env', { color: 'green' });
    await r.waitPhase('Progressing');
    const detected = await r.status();
    assert.deepEqual([detected.canaryWeight, detected.failedChecks, detected.iterations], [0, 0, 0]);
    assert.equal(await replicasOf(r, 'podinfo'), 1);
    const tracked = await trackedConfigs(r);
    assert.notEqual(tracked['configmap/podinfo-env'], initialTracked['configmap/podinfo-env']);
    assert.equal(tracked['secret/podinfo-env'], initialTracked['secret/podinfo-env']);
    assert.deepEqual(podSpecOf(await deployment(r, 'podinfo')).containers[0]?.image, 'ghcr.io/stefanprodan/podinfo:6.0.0');

    await r.tick();
    await r.tick();
    assert.deepEqual(await r.routes(), { primary: 80, canary: 20, mirrored: false });

    await setConfigMapData(r, 'podinfo-env', { color: 'red' });
    await r.tick();
    const restarted = await r.status();
    assert.deepEqual([restarted.phase, restarted.canaryWeight, restarted.failedChecks, restarted.iterations], ['Progressing', 0, 0, 0]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    assert.ok((await canaryEvents(r)).some((e) => e.message === 'New revision detected! Restarting analysis for podinfo.default'));

    await tickUntil(r, 'Succeeded');
    assert.deepEqual((await config(r, 'ConfigMap', 'podinfo-env-primary'))?.data, { color: 'red' });
  });
});
