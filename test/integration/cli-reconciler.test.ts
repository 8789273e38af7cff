/**
 * The reconciler's commands as a user types them (bin/fledge.js in a child process, KUBECONFIG from the
 * environment) against a local cluster with a reconciler running: get, reconcile NAME (requestedAt),
 * suspend/resume, diff with its exit codes and masked Secrets; and serviceAccountName impersonation,
 * recorded by the local cluster.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/api/clock.js';
import type { KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import { createReconciler } from '../../src/reconciler/index.js';
import type { Reconciler } from '../../src/reconciler/index.js';
import type { RunResult, TestCluster } from './support/cluster.js';
import { eventually, repoRoot, run, startTestCluster } from './support/cluster.js';
import { gitRepo } from './support/git-repo.js';

const secret = (value: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: ${value}\n`;
const settings = (color: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: ${color}\n`;

describe('fledge get/reconcile/suspend/resume/diff against a running reconciler', () => {
  let c: TestCluster;
  let kube: ClientNodeKubeApi;
  let reconciler: Reconciler;
  let root: string;
  let repo: ReturnType<typeof gitRepo>;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, KUBECONFIG: c.kubeconfig, PATH: `${join(repoRoot(), '.tools', 'bin')}:${process.env.PATH ?? ''}` });
  const fledge = (...args: string[]): Promise<RunResult> => run(process.execPath, [join(repoRoot(), 'bin', 'fledge.js'), ...args], env());
  const ks = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', name: 'web', namespace: 'default' };

  before(async () => {
    c = await startTestCluster();
    root = mkdtempSync(join(tmpdir(), 'fledge-cli-reconciler-'));
    repo = gitRepo(root);
    repo.commit({ 'web/settings.yaml': settings('blue'), 'web/secret.yaml': secret('s3cret-one') }, 'web');
    const config = kubeConfigForUrl(c.cluster.url);
    kube = new ClientNodeKubeApi(config);
    reconciler = createReconciler({ config, log: pino({ level: 'silent' }), clock: systemClock(), workDir: join(root, 'work'), env: process.env, jitter: 0 });
    await reconciler.start();
    await kube.create({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'repo', namespace: 'default' }, spec: { url: repo.url, interval: '1h', ref: { branch: 'main' } } });
    await kube.create({ ...ks, metadata: { name: 'web', namespace: 'default' }, spec: { interval: '1h', prune: true, path: './web', serviceAccountName: 'deployer', sourceRef: { kind: 'GitRepository', name: 'repo' } } } as KubeObject);
    await eventually(async () => (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'default' })) !== undefined, 'first apply');
  });

  after(async () => {
    await reconciler.stop();
    await c.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('objects are applied as the Kustomization service account (Impersonate-User), the status as the reconciler', () => {
    const impersonated = c.cluster.requestStats().impersonated;
    assert.ok((impersonated['system:serviceaccount:default:deployer'] ?? 0) > 0, JSON.stringify(impersonated));
    assert.deepEqual(Object.keys(impersonated), ['system:serviceaccount:default:deployer']);
  });

  test('get kustomizations and sources list revision and readiness', async () => {
    const ksList = await fledge('get', 'kustomizations');
    assert.equal(ksList.code, 0, ksList.stderr);
    assert.match(ksList.stdout, /^NAME\s+REVISION\s+SUSPENDED\s+READY\s+MESSAGE$/m);
    assert.match(ksList.stdout, /^web\s+main@sha1:[0-9a-f]{40}\s+false\s+True\s+Applied revision: main@sha1:/m);
    const sources = await fledge('get', 'sources', '-A');
    assert.match(sources.stdout, /^default\s+gitrepository\/repo\s+main@sha1:[0-9a-f]{40}\s+false\s+True\s+stored artifact/m);
    assert.equal((await fledge('get', 'things')).code, 2);
  });

  test('reconcile kustomization NAME --with-source fetches the new commit now (the interval is 1h)', async () => {
    const sha = repo.commit({ 'web/settings.yaml': settings('green') }, 'green');
    const r = await fledge('reconcile', 'kustomization', 'web', '--with-source');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`✔ Applied revision: main@sha1:${sha}`));
    const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'default' });
    assert.equal((cm?.data as Record<string, string>).color, 'green');
    const missing = await fledge('reconcile', 'kustomization', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Kustomization default\/nope not found \(list them with: fledge get kustomizations -n default\)/);
  });

  test('suspend stops reconciling, resume starts again', async () => {
    assert.equal((await fledge('suspend', 'kustomization', 'web')).code, 0);
    assert.equal(((await kube.get(ks))?.spec as { suspend?: boolean }).suspend, true);
    const listed = await fledge('get', 'ks');
    assert.match(listed.stdout, /^web\s+\S+\s+true\s+/m);
    assert.equal((await fledge('resume', 'kustomization', 'web')).code, 0);
    assert.equal(((await kube.get(ks))?.spec as { suspend?: boolean }).suspend, false);
  });

  test('diff shows what a local directory would change, masks Secret values, and exits 1 only when something changes', async () => {
    const dir = join(root, 'local');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'settings.yaml'), settings('green'));
    writeFileSync(join(dir, 'secret.yaml'), secret('s3cret-one'));
    const same = await fledge('diff', 'kustomization', 'web', '--path', dir);
    assert.equal(same.code, 0, same.stderr + same.stdout);
    assert.match(same.stdout, /✔ no changes/);

    writeFileSync(join(dir, 'settings.yaml'), settings('purple'));
    writeFileSync(join(dir, 'secret.yaml'), secret('s3cret-two'));
    writeFileSync(join(dir, 'extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {}\n');
    const changed = await fledge('diff', 'kustomization', 'web', '--path', dir);
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /► ConfigMap\/default\/extra created/);
    assert.match(changed.stdout, /► ConfigMap\/default\/settings configured\n(.*\n)*\s+- {3}color: green\n\s+\+ {3}color: purple/);
    assert.match(changed.stdout, /► Secret\/default\/token configured/);
    assert.doesNotMatch(changed.stdout, /s3cret|czNjcmV0/, 'no Secret value, plain or base64, is printed');

    rmSync(join(dir, 'secret.yaml'));
    const deleted = await fledge('diff', 'kustomization', 'web', '--path', dir);
    assert.match(deleted.stdout, /► Secret\/default\/token deleted/);
    // Nothing was written by any of these.
    assert.equal(((await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'default' }))?.data as Record<string, string>).color, 'green');
    assert.equal(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'extra', namespace: 'default' }), undefined);
  });
});
