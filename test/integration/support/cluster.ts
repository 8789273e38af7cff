/** Test support: a local cluster on a free loopback port, and kubectl/helm run against it. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster } from '../../../src/localcluster/cluster.js';
import type { LocalCluster, LocalClusterOptions } from '../../../src/localcluster/cluster.js';
import { readManifests } from '../../../src/cli/local-cluster.js';
import type { KubeObject } from '../../../src/localcluster/types.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  cluster: LocalCluster;
  dir: string;
  kubeconfig: string;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  helm(args: string[]): Promise<RunResult>;
  /** Starts a long-running kubectl (e.g. `get -w`); returns its output so far and a stop function. */
  spawnKubectl(args: string[]): { output(): string; stop(): void };
  close(): Promise<void>;
}

export const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });

export const repoRoot = (): string => process.cwd();

/** Every mesh CRD the tests use: test/fixtures/crds plus the Istio ones the demo ships in examples/crds. */
export const meshCrds = (): KubeObject[] => [
  ...readManifests(join(repoRoot(), 'test', 'fixtures', 'crds')),
  ...readManifests(join(repoRoot(), 'examples', 'crds')),
];

export const startTestCluster = async (opts: LocalClusterOptions & { crds?: boolean } = {}): Promise<TestCluster> => {
  const cluster = await startLocalCluster({ readyDelayMs: 50, bookmarkIntervalMs: 200, ...opts });
  if (opts.crds !== false) cluster.applyObjects(readManifests(join(repoRoot(), 'crds')));
  const dir = mkdtempSync(join(tmpdir(), 'fledge-test-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, cluster.kubeconfig());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    HOME: dir,
    HELM_CACHE_HOME: join(dir, 'helm-cache'),
    HELM_CONFIG_HOME: join(dir, 'helm-config'),
    HELM_DATA_HOME: join(dir, 'helm-data'),
  };
  const tool = (name: string): string => join(repoRoot(), '.tools', 'bin', name);
  return {
    cluster,
    dir,
    kubeconfig,
    kubectl: (args, input) => run(tool('kubectl'), args, env, input),
    helm: (args) => run(tool('helm'), args, env),
    spawnKubectl(args) {
      const child = spawn(tool('kubectl'), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return { output: () => out, stop: () => child.kill('SIGTERM') };
    },
    async close() {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Polls `probe` until it returns a truthy value (tests never sleep a fixed time to assert). */
export const eventually = async <T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
