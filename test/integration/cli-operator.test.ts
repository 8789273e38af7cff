/**
 * The operator commands against the local cluster over HTTP: status (table, JSON, --watch in-process
 * and in tmux), promote and the gate the controller serves, abort rolled back by a running
 * controller, retry restarting a failed analysis, report of a real rollout, and the exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import type { Clock } from '../../src/api/clock.js';
import { systemClock } from '../../src/api/clock.js';
import { createAbortCommand } from '../../src/cli/abort.js';
import type { Command } from '../../src/cli/main.js';
import type { OperatorIo } from '../../src/cli/operator-kube.js';
import { createPromoteCommand } from '../../src/cli/promote.js';
import { createReportCommand } from '../../src/cli/report.js';
import { createRetryCommand } from '../../src/cli/retry.js';
import { createStatusCommand } from '../../src/cli/status.js';
import { DEFAULT_GATE_CONFIGMAP, createConfigMapGateStore } from '../../src/controller/gate-store.js';
import { createGateHandler } from '../../src/controller/gates.js';
import type { KubeObject } from '../../src/kube/api.js';
import { ClientNodeKubeApi, kubeConfigForUrl } from '../../src/kube/client.js';
import type { TestCluster } from './support/cluster.js';
import { eventually, repoRoot, run, startTestCluster } from './support/cluster.js';
import type { Rollout } from './support/rollout.js';
import { fixtureObjects } from './support/rollout.js';
import { NEW_IMAGE, canaryEvents, initializedWith, patchImage, replicasOf } from './support/scenario-steps.js';

const fledgeBin = join(repoRoot(), 'bin', 'fledge.js');

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** An OperatorIo that records what a command prints; `stop()` ends a --watch. */
const captureIo = (clock: Clock = systemClock()) => {
  const out: string[] = [];
  const err: string[] = [];
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const io: OperatorIo = { out: (t) => void out.push(t), err: (t) => void err.push(t), tty: false, clock, interrupted: () => stopped };
  return { io, out, err, stop };
};

/** Runs a command in-process; `clock` stamps the events it records (the controller's, in a rollout). */
const inProcess = async (create: (io: OperatorIo) => Command, args: string[], env: NodeJS.ProcessEnv, clock?: Clock): Promise<Captured> => {
  const c = captureIo(clock);
  const code = await create(c.io).run(args, env);
  return { code, stdout: c.out.join('\n'), stderr: c.err.join('\n') };
};

const canaryManifest = (name: string, namespace: string, webhooks: unknown[] = []): KubeObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name, namespace },
  spec: {
    provider: 'istio',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    service: { port: 9898 },
    analysis: {
      interval: '1m',
      threshold: 5,
      stepWeight: 10,
      maxWeight: 50,
      metrics: [{ name: 'request-duration', thresholdRange: { max: 500 }, interval: '1m' }],
      webhooks,
    },
  },
});

describe('operator commands on seeded canaries (no controller)', () => {
  let c: TestCluster;
  let kube: ClientNodeKubeApi;
  let env: NodeJS.ProcessEnv;
  const gateCheck = 'http://fledge.default/gate/check';

  before(async () => {
    c = await startTestCluster();
    kube = new ClientNodeKubeApi(kubeConfigForUrl(c.cluster.url));
    env = { KUBECONFIG: c.kubeconfig, HOME: c.dir };
    for (const ns of ['test', 'fledge-system']) await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.create(canaryManifest('podinfo', 'test', [{ name: 'approval', type: 'confirm-promotion', url: gateCheck }]));
    await kube.create(canaryManifest('nohooks', 'test', [{ name: 'always', type: 'confirm-promotion', url: 'http://loadtester/gate/approve' }]));
    const ref = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'test' };
    await kube.patchStatus({ ...ref, name: 'podinfo' }, {
      phase: 'Progressing',
      canaryWeight: 30,
      failedChecks: 2,
      iterations: 0,
      lastAppliedSpec: 'rev-2',
      lastPromotedSpec: 'rev-1',
      lastTransitionTime: new Date(Date.now() - 90_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      lastChecks: [{ metric: 'request-duration', ok: false, value: 742.5, thresholdRange: { max: 500 }, message: 'request-duration 742.5 > 500' }],
    });
    await kube.patchStatus({ ...ref, name: 'nohooks' }, { phase: 'Succeeded', canaryWeight: 0, failedChecks: 0, lastAppliedSpec: 'a', lastPromotedSpec: 'a' });
  });
  after(async () => c.close());

  test('status: a table with the weight bar, failed checks against the threshold and the last verdicts; NAME, -A and --json', async () => {
    const list = await inProcess(createStatusCommand, ['-n', 'test'], env);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+PHASE\s+WEIGHT\s+FAILED\s+ITERATIONS\s+SINCE$/);
    assert.match(lines[1] ?? '', /^nohooks\s+Succeeded\s+\[----------\] {3}0%\s+0\/5\s/);
    assert.match(lines[2] ?? '', /^podinfo\s+Progressing\s+\[###-------\] {2}30%\s+2\/5\s+-\s+\d+s$/);
    assert.match(lines[3] ?? '', /^ {2}fail\s+request-duration\s+742\.5\s+\(max 500\)$/);

    const one = await inProcess(createStatusCommand, ['podinfo', '-n', 'test'], env);
    assert.match(one.stdout, /^Revision:\s+rev-2$/m);
    const all = await inProcess(createStatusCommand, ['-A'], env);
    assert.match(all.stdout, /^test\s+podinfo\s+Progressing/m);
    const json = JSON.parse((await inProcess(createStatusCommand, ['podinfo', '-n', 'test', '--json'], env)).stdout) as Record<string, unknown>;
    assert.deepEqual([json.phase, json.canaryWeight, json.failedChecks, json.threshold], ['Progressing', 30, 2, 5]);
  });

  test('status: the namespace defaults to the context namespace', async () => {
    const kubeconfig = join(c.dir, 'kubeconfig-test-ns');
    const config = parse(readFileSync(c.kubeconfig, 'utf8')) as { contexts: Array<{ context: { namespace?: string } }> };
    for (const context of config.contexts) context.context.namespace = 'test';
    writeFileSync(kubeconfig, stringify(config));
    const r = await inProcess(createStatusCommand, ['--kubeconfig', kubeconfig], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^podinfo\s+Progressing/m);
  });

  test('exit codes: a missing canary is 1 and lists those that exist; misuse is 2; no cluster is 2', async () => {
    const missing = await inProcess(createStatusCommand, ['podinfoo', '-n', 'test'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /canary "podinfoo" not found in namespace "test"; canaries there: nohooks, podinfo\./);
    const empty = await inProcess(createPromoteCommand, ['x', '-n', 'default'], env);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /namespace "default" has no canaries/);
    assert.equal((await inProcess(createStatusCommand, ['--bogus'], env)).code, 2);
    assert.equal((await inProcess(createAbortCommand, [], env)).code, 2, 'NAME is required');
    assert.equal((await inProcess(createRetryCommand, ['a', 'b'], env)).code, 2);
    assert.equal((await inProcess(createStatusCommand, ['-A', 'podinfo'], env)).code, 2);
    const noOut = await inProcess(createReportCommand, ['podinfo', '-n', 'test'], env);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out FILE\.html is required/);

    const dead = join(c.dir, 'kubeconfig-dead');
    writeFileSync(dead, readFileSync(c.kubeconfig, 'utf8').replace(c.cluster.url, 'http://127.0.0.1:1'));
    const unreachable = await inProcess(createStatusCommand, ['--kubeconfig', dead], env);
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /cannot reach the API server at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*Check --kubeconfig/);
    const bare = await startTestCluster({ crds: false });
    try {
      const noCrd = await inProcess(createStatusCommand, [], { KUBECONFIG: bare.kubeconfig });
      assert.equal(noCrd.code, 2);
      assert.match(noCrd.stderr, /does not serve flagger\.app\/v1beta1 Canary: install the CRDs/);
    } finally {
      await bare.close();
    }
    const none = await inProcess(createStatusCommand, [], { HOME: join(c.dir, 'nowhere') });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no kubeconfig: pass --kubeconfig FILE/);
  });

  test('promote opens the gate the controller serves on /gate/check; --close closes it; a canary not held by it is refused', async () => {
    const gates = createConfigMapGateStore({ kube, namespace: 'default' });
    const server = createServer(createGateHandler(gates));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const check = async (): Promise<number> =>
      (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/gate/check`, { method: 'POST', body: JSON.stringify({ name: 'podinfo', namespace: 'test' }) })).status;
    try {
      assert.equal(await check(), 403);
      const opened = await inProcess(createPromoteCommand, ['podinfo', '-n', 'test'], env);
      assert.equal(opened.code, 0, opened.stderr);
      assert.match(opened.stdout, /Opened the approval gate of test\/podinfo: approval \(confirm-promotion\) pass at its next analysis step/);
      const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: DEFAULT_GATE_CONFIGMAP });
      assert.equal((cm?.data as Record<string, string>)['gate.test.podinfo'], 'open');
      assert.equal(await check(), 200, '/gate/check approves');
      const events = (await kube.list('v1', 'Event', 'test')).map((e) => e.message);
      assert.ok(events.includes('Approval gate opened with fledge promote'));

      assert.equal((await inProcess(createPromoteCommand, ['podinfo', '-n', 'test', '--close'], env)).code, 0);
      assert.equal(await check(), 403);

      const refused = await inProcess(createPromoteCommand, ['nohooks', '-n', 'test'], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /not held by Fledge's gate: its confirm webhooks call always \(confirm-promotion\) http:\/\/loadtester\/gate\/approve\. .*nothing was changed/);
      assert.equal(await gates.isOpen('gate', { name: 'nohooks', namespace: 'test' }), false);

      assert.equal((await inProcess(createPromoteCommand, ['podinfo', '-n', 'test', '--gate-namespace', 'fledge-system'], env)).code, 0);
      assert.equal(await createConfigMapGateStore({ kube, namespace: 'fledge-system' }).isOpen('gate', { name: 'podinfo', namespace: 'test' }), true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('abort and retry refuse canaries in the wrong phase (exit 1) and change nothing', async () => {
    const abort = await inProcess(createAbortCommand, ['nohooks', '-n', 'test'], env);
    assert.equal(abort.code, 1);
    assert.match(abort.stderr, /canary test\/nohooks is Succeeded: nothing is being analysed/);
    assert.equal(await createConfigMapGateStore({ kube, namespace: 'default' }).isOpen('rollback', { name: 'nohooks', namespace: 'test' }), false);
    const retry = await inProcess(createRetryCommand, ['podinfo', '-n', 'test'], env);
    assert.equal(retry.code, 1);
    assert.match(retry.stderr, /canary test\/podinfo is Progressing, not Failed/);
    const status = (await kube.get({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'test', name: 'podinfo' }))?.status as Record<string, unknown>;
    assert.equal(status.lastAppliedSpec, 'rev-2');
  });

  test('status --watch draws a new frame when the status changes', async () => {
    const cap = captureIo();
    const running = createStatusCommand(cap.io).run(['podinfo', '-n', 'test', '--watch', '--json'], env);
    const weights = (): number[] => cap.out.map((line) => (JSON.parse(line) as { canaryWeight: number }).canaryWeight);
    await eventually(() => weights().length > 0, 'the first frame');
    const ref = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: 'test', name: 'podinfo' };
    await kube.patchStatus(ref, { canaryWeight: 40 });
    await eventually(() => weights().at(-1) === 40, 'a frame with weight 40');
    cap.stop();
    assert.equal(await running, 0);
    assert.deepEqual(weights(), [30, 40], 'one frame per change');
    await kube.patchStatus(ref, { canaryWeight: 30 });
  });

  test('bin/fledge.js: help with an example per command, and the exit codes of a child process', async () => {
    const help = await run(process.execPath, [fledgeBin, '--help'], { ...process.env, ...env });
    assert.equal(help.code, 0);
    for (const name of ['status', 'promote', 'abort', 'retry', 'report']) assert.match(help.stdout, new RegExp(`^\\s+${name}\\s+\\S`, 'm'));
    for (const name of ['status', 'promote', 'abort', 'retry', 'report']) {
      const r = await run(process.execPath, [fledgeBin, name, '--help'], { ...process.env, ...env });
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, /Examples:\n\s+fledge /, `${name} --help has an example`);
      assert.match(r.stdout, /Exit codes: 0 done; 1 .*; 2 usage/, `${name} --help documents its exit codes`);
    }
    const missing = await run(process.execPath, [fledgeBin, 'abort', 'ghost', '-n', 'test'], { ...process.env, ...env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^fledge abort: canary "ghost" not found/);
    const bad = await run(process.execPath, [fledgeBin, 'retry', 'podinfo', '--frobnicate'], { ...process.env, ...env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option '--frobnicate'.*\nRun 'fledge retry --help'/);
  });
});

describe('operator commands with a running controller', () => {
  let r: Rollout | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await r?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    r = undefined;
    dir = undefined;
  });

  const envOf = (rollout: Rollout): NodeJS.ProcessEnv => ({ KUBECONFIG: rollout.c.kubeconfig, HOME: rollout.c.dir });

  test('abort rolls a progressing canary back (no rollback webhook) and withdraws the request; retry analyses it again; report draws it', async () => {
    r = await initializedWith(fixtureObjects('podinfo-canary.yaml'));
    const env = envOf(r);
    await patchImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');
    await r.tick();
    await r.tick();
    r.prometheus.rule(/duration/, 742.5);
    await r.tick();
    assert.deepEqual([(await r.status()).canaryWeight, (await r.status()).failedChecks], [20, 1]);

    const aborted = await inProcess(createAbortCommand, ['podinfo'], env);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.match(aborted.stdout, /Rollback of default\/podinfo requested: the controller rolls it back at its next analysis step \(every 1m\)/);
    const gates = createConfigMapGateStore({ kube: r.kube, namespace: 'default' });
    assert.equal(await gates.isOpen('rollback', { name: 'podinfo', namespace: 'default' }), true);

    await r.tick();
    const failed = await r.status();
    assert.deepEqual([failed.phase, failed.canaryWeight], ['Failed', 0]);
    assert.deepEqual(await r.routes(), { primary: 100, canary: 0, mirrored: false });
    assert.equal(await replicasOf(r, 'podinfo'), 0, 'the canary is scaled to zero');
    const messages = (await canaryEvents(r)).map((e) => e.message);
    assert.ok(messages.includes('Rollback requested by operator, rolling back podinfo.default'), JSON.stringify(messages));
    assert.equal(await gates.isOpen('rollback', { name: 'podinfo', namespace: 'default' }), false, 'the request is withdrawn');
    assert.ok(r.controller.alerts.some((a) => a.message === 'Rolling back: rollback requested by operator, canary weight was 20'));

    // retry: the same revision is analysed again from scratch.
    r.prometheus.clearRules();
    const revision = ((await r.canary()).status as { lastAppliedSpec?: string }).lastAppliedSpec;
    const retried = await inProcess(createRetryCommand, ['podinfo'], env, r.clock);
    assert.equal(retried.code, 0, retried.stderr);
    await r.waitPhase('Progressing');
    const restarted = (await r.canary()).status as { failedChecks?: number; canaryWeight?: number; lastAppliedSpec?: string };
    assert.deepEqual([restarted.failedChecks, restarted.canaryWeight, restarted.lastAppliedSpec], [0, 0, revision]);
    assert.equal(await replicasOf(r, 'podinfo'), 1, 'the canary is scaled up again');
    await r.tick();
    assert.equal((await r.status()).canaryWeight, 10, 'and the analysis steps again');
    assert.equal((await inProcess(createRetryCommand, ['podinfo'], env)).code, 1, 'no retry while Progressing');

    dir = mkdtempSync(join(tmpdir(), 'fledge-report-'));
    const out = join(dir, 'podinfo.html');
    const report = await inProcess(createReportCommand, ['podinfo', '--out', out], env);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /^Wrote .*podinfo\.html: default\/podinfo, in progress, \d+ event\(s\), \d+ weight point\(s\)/);
    const html = readFileSync(out, 'utf8');
    // The last rollout is the retried one: 0 (restart), 10 (one step), 10 (now, from the status).
    assert.equal(/<polyline class="progress" data-values="([^"]*)"/.exec(html)?.[1], '0,10,10');
    assert.match(html, /Analysis retry requested with fledge retry/);
    assert.doesNotMatch(html, /<script|src=|href=/i);

    // Only where Debian's chromium is installed (scripts/install-tools.sh --chromium): a real browser parses it.
    const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
    if (chromium) {
      const dom = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${out}`], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(dom.status, 0, dom.stderr);
      assert.match(dom.stdout, /<polyline class="progress" data-values="0,10,10"/);
      assert.equal((dom.stdout.match(/<svg /g) ?? []).length, 3, 'the progress chart and two metric charts');
    }
  });

  test('status --watch in tmux: the weight bar moves when the controller steps; Ctrl-C ends it', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v tmux']).status !== 0) return t.skip('tmux is not installed');
    r = await initializedWith(fixtureObjects('podinfo-canary.yaml'));
    await patchImage(r, NEW_IMAGE);
    await r.waitPhase('Progressing');
    await r.tick();
    const socket = `fledge-test-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const command = `KUBECONFIG=${r.c.kubeconfig} HOME=${r.c.dir} exec ${process.execPath} ${fledgeBin} status podinfo --watch`;
    assert.equal(tmux('new-session', '-d', '-s', 'watch', '-x', '160', '-y', '40', command).status, 0);
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'watch').stdout;
    try {
      await eventually(() => /^podinfo\s+Progressing\s+\[#---------\] {2}10%/m.test(screen()), 'the 10% bar in the pane');
      assert.match(screen(), /^Every change, .*\(Ctrl-C to stop\)$/m);
      await r.tick();
      await eventually(() => /^podinfo\s+Progressing\s+\[##--------\] {2}20%/m.test(screen()), 'the 20% bar in the pane');
      assert.doesNotMatch(screen(), /10%/, 'the frame is redrawn, not appended');
      tmux('send-keys', '-t', 'watch', 'C-c');
      await eventually(() => tmux('has-session', '-t', 'watch').status !== 0, 'the watch to exit on Ctrl-C');
    } finally {
      tmux('kill-server');
    }
  });
});
