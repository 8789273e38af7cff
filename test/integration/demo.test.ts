/**
 * `fledge demo --json` from start to finish, as a newcomer runs it: every part real (local cluster,
 * Prometheus, reconciler over a local Git repository, controller, Slack receiver). It takes about a
 * minute; the assertions are on the story's outcome, never on its duration.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './support/cluster.js';

interface Line {
  t: number;
  type: string;
  [key: string]: unknown;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('fledge demo --json: v2 is rolled back with one alert naming the failing metric, v3 is promoted 10..50', { timeout: 600_000 }, async () => {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'fledge.js'), 'demo', '--json'], {
    env: { ...process.env, PATH: `${join(repoRoot(), '.tools', 'bin')}:${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `demo failed:\n${stderr}\n${stdout.slice(-4000)}`);

  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
  const commits = lines.filter((l) => l.type === 'commit').map((l) => l.version);
  assert.deepEqual(commits, ['v1', 'v2', 'v3']);
  const index = (version: string) => lines.findIndex((l) => l.type === 'commit' && l.version === version);
  const v2Alerts = lines.slice(index('v2'), index('v3')).filter((l) => l.type === 'alert');
  const naming = v2Alerts.filter((l) => JSON.stringify(l.message).includes('request-success-rate'));
  assert.equal(naming.length, 1, JSON.stringify(v2Alerts));
  assert.match(JSON.stringify(naming[0]!.message), /danger/, 'the rollback alert is a danger one');

  const summary = lines.find((l) => l.type === 'summary')?.summary as {
    ok: boolean;
    v2: { phase: string };
    v3: { phase: string; weights: number[]; primaryImage: string };
    prometheusPid: number;
  };
  assert.ok(summary, 'a summary line');
  assert.equal(summary.v2.phase, 'Failed');
  assert.equal(summary.v3.phase, 'Succeeded');
  assert.deepEqual(summary.v3.weights, [10, 20, 30, 40, 50]);
  assert.match(summary.v3.primaryImage, /:6\.0\.2$/);
  assert.ok(summary.ok);
  // Every canary step seen in the event stream too, in order, for v3.
  const v3Weights = lines
    .slice(index('v3'))
    .filter((l) => l.type === 'canary' && l.phase === 'Progressing' && (l.weight as number) > 0)
    .map((l) => l.weight);
  assert.deepEqual(v3Weights, [10, 20, 30, 40, 50]);
  assert.equal(isAlive(summary.prometheusPid), false, 'Prometheus was stopped');
});

test('fledge demo: Ctrl-C in the middle stops every process it started and exits 130', { timeout: 300_000 }, async () => {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'fledge.js'), 'demo', '--json'], {
    env: { ...process.env, PATH: `${join(repoRoot(), '.tools', 'bin')}:${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let prometheusPid: number | undefined;
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
      prometheusPid ??= lines.find((l) => l.type === 'process' && l.part === 'prometheus')?.pid as number | undefined;
      // Interrupt once the controller runs and v1 is being delivered: every part is up.
      if (prometheusPid && lines.some((l) => l.type === 'commit' && l.version === 'v1') && lines.some((l) => l.type === 'step' && String(l.message).includes('controller'))) resolve();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    void closed.then(() => reject(new Error(`the demo ended before it could be interrupted:\n${stderr}\n${stdout}`)));
  });
  assert.ok(prometheusPid && isAlive(prometheusPid), 'Prometheus runs while the demo does');
  child.kill('SIGINT');
  const code = await closed;
  assert.equal(code, 130, stderr);
  assert.equal(isAlive(prometheusPid), false, 'Prometheus was stopped by the interrupt');
  assert.match(stdout, /"Interrupted; stopping everything"/);
});
