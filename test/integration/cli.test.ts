/** The `fledge` command as a user runs it: help, and local-cluster with --port 0, --kubeconfig and --data. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually, repoRoot, run } from './support/cluster.js';

const fledge = join(repoRoot(), 'bin', 'fledge.js');
const kubectl = join(repoRoot(), '.tools', 'bin', 'kubectl');

interface Started {
  child: ChildProcess;
  url: string;
  stop(): Promise<number | null>;
}

const startLocalCluster = async (args: string[]): Promise<Started> => {
  const child = spawn(process.execPath, [fledge, 'local-cluster', '--port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await eventually(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 'the URL line');
  return {
    child,
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
};

describe('fledge CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--help lists the commands with one line each', async () => {
    const r = await run(process.execPath, [fledge, '--help'], process.env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\s+local-cluster\s+\S.+$/m);
    const unknown = await run(process.execPath, [fledge, 'no-such-command'], process.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "no-such-command"/);
  });

  test('local-cluster --port 0 prints its URL, writes a kubeconfig and serves the CRDs; --data survives a restart', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const data = join(dir, 'data.json');
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
    const first = await startLocalCluster(['--kubeconfig', kubeconfig, '--data', data]);
    try {
      assert.ok(existsSync(kubeconfig));
      const crds = await run(kubectl, ['get', 'crd', '-o', 'name'], env);
      assert.match(crds.stdout, /canaries\.flagger\.app/);
      const created = await run(kubectl, ['create', 'configmap', 'kept', '--from-literal=k=v'], env);
      assert.equal(created.code, 0, created.stderr);
    } finally {
      assert.equal(await first.stop(), 0);
    }
    assert.ok(existsSync(data), 'the data file is written on shutdown');
    const second = await startLocalCluster(['--kubeconfig', kubeconfig, '--data', data]);
    try {
      const kept = await run(kubectl, ['get', 'configmap', 'kept', '-o', 'jsonpath={.data.k}'], env);
      assert.equal(kept.stdout, 'v');
      const next = await run(kubectl, ['create', 'configmap', 'after-restart', '-o', 'jsonpath={.metadata.resourceVersion}'], env);
      const before = await run(kubectl, ['get', 'configmap', 'kept', '-o', 'jsonpath={.metadata.resourceVersion}'], env);
      assert.ok(Number(next.stdout) > Number(before.stdout), 'resourceVersions keep increasing across restarts');
    } finally {
      await second.stop();
    }
  });
});
