/**
 * The controller at fleet scale (`npm run build && node dist/bench/fleet.js`, `--quick` for 100 canaries):
 * the local cluster in one child process (Flagger and Istio CRDs), `fledge controller` in another, a
 * Prometheus fake answering 100 in this one. Creates the fleet (a Deployment and a Canary per member,
 * spread over a few namespaces), waits until every Canary is Initialized, then measures:
 *   1. requests/s to the API server while nothing changes;
 *   2. the controller's peak RSS (VmHWM, read from /proc);
 *   3. detection latency: image patch until the Canary's status says Progressing;
 *   4. step lateness: canaries at a 1 s analysis interval, time between steps minus 1 s.
 * Loopback only, each phase with its own timeout and the whole run with a budget; every child is
 * killed on the way out. Prints a table, then one JSON line; exits 1 on any failure.
 * `--cpu-prof DIR` writes V8 CPU profiles of the controller and the cluster to DIR.
 * `--controller-node-arg ARG` (repeatable) passes ARG to the controller's node, e.g. `--max-old-space-size=160`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kubeconfigFor } from '../src/localcluster/kubeconfig.js';
import type { FleetContext, FleetPlan } from './fleet-context.js';
import { startControllerProcess } from './fleet-controller.js';
import type { ControllerProcess } from './fleet-controller.js';
import type { FleetMember } from './fleet-objects.js';
import { fleetMembers } from './fleet-objects.js';
import { startPrometheusFake } from './fleet-prometheus.js';
import type { PrometheusFake } from './fleet-prometheus.js';
import { fleetReport } from './fleet-report.js';
import { createFleet, measureIdle } from './fleet-setup.js';
import { measureDetection, measureSteps } from './fleet-timing.js';
import { CanaryWatch } from './fleet-watch.js';
import { startServerProcess } from './server-process.js';
import type { ServerProcess } from './server-process.js';
import { endpointOf } from './support.js';

const TIME_BUDGET_MS = 600_000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const planFor = (quick: boolean): FleetPlan => ({
  quick,
  canaries: quick ? 100 : 1000,
  namespaces: 4,
  idleSeconds: quick ? 10 : 30,
  detectionSample: quick ? 10 : 50,
  detectionGapMs: 100,
  steppers: quick ? 20 : 200,
  stepWeight: 5,
  maxWeight: 100,
  initTimeoutMs: quick ? 90_000 : 300_000,
});

const run = async (plan: FleetPlan, cpuProfileDir: string | undefined, controllerNodeArgs: string[]): Promise<void> => {
  const profile = [...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []), ...controllerNodeArgs];
  const dir = mkdtempSync(join(tmpdir(), 'fledge-fleet-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let server: ServerProcess | undefined;
  let prometheus: PrometheusFake | undefined;
  let controller: ControllerProcess | undefined;
  let watch: CanaryWatch | undefined;
  const killController = (): void => controller?.killNow();
  process.once('exit', killController);
  try {
    const crds = ['--crds', join(ROOT, 'crds'), '--crds', join(ROOT, 'examples', 'crds')];
    server = await startServerProcess({ args: crds, ...(cpuProfileDir ? { cpuProfileDir } : {}) });
    const kubeconfigFile = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigFile, kubeconfigFor(server.url));
    prometheus = await startPrometheusFake(100);
    const at = endpointOf(server.url);
    watch = new CanaryWatch(at);
    await watch.start();
    controller = startControllerProcess({ binPath: join(ROOT, 'bin', 'fledge.js'), kubeconfigFile, metricsServer: prometheus.url, minAnalysisInterval: '1s', nodeArgs: profile });
    console.log(
      `local cluster (pid ${server.pid}) at ${server.url}, controller pid ${controller.pid}; node ${process.version}, ${cpus().length} CPUs; ` +
        `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${plan.canaries} canaries${plan.quick ? ' (quick run)' : ''}`,
    );
    const ctx: FleetContext = { agent, at, watch, server, controller, prometheus, own: {} };

    // The first `steppers` analyse at 1 s (the step phase); the rest at 1 m, so the detection sample,
    // once Progressing, stays out of the way of the step phase.
    const members = fleetMembers(plan.canaries, plan.namespaces);
    const steppers = members.slice(0, plan.steppers);
    const sample = members.slice(plan.steppers, plan.steppers + plan.detectionSample);
    const shapeOf = (m: FleetMember) => ({ interval: m.index < plan.steppers ? '1s' : '1m', stepWeight: plan.stepWeight, maxWeight: plan.maxWeight });

    console.error(`creating ${plan.canaries} canaries ...`);
    const setup = await createFleet(ctx, members, shapeOf, { concurrency: 16, timeoutMs: plan.initTimeoutMs });
    const afterInit = controller.memory();
    console.error(`idle for ${plan.idleSeconds} s ...`);
    const idle = await measureIdle(ctx, plan.idleSeconds);
    console.error(`detection on ${sample.length} canaries ...`);
    const detection = await measureDetection(ctx, sample, { gapMs: plan.detectionGapMs, timeoutMs: 60_000, tag: '6.0.1' });
    console.error(`${steppers.length} canaries stepping every 1 s ...`);
    const steps = await measureSteps(ctx, steppers, {
      intervalMs: 1000,
      stepWeight: plan.stepWeight,
      maxWeight: plan.maxWeight,
      spreadMs: 1000,
      timeoutMs: 180_000,
      tag: '6.0.2',
    });
    const memory = controller.memory();
    const serverStats = await server.stats();
    const report = fleetReport(plan, { setup, afterInit, idle, detection, steps, memory, serverStats, logs: controller.logs(), watchOpens: watch.opens });
    console.log(report.table);
    for (const line of controller.logs().first) console.log(`controller log: ${line}`);
    console.log(JSON.stringify(report.summary));
    if (watch.problem) throw new Error(watch.problem);
    // Figures from a controller that was failing are not figures of the controller.
    const { errors } = controller.logs();
    if (errors) throw new Error(`the controller logged ${errors} errors (first lines above)`);
  } finally {
    watch?.close();
    await controller?.stop();
    await prometheus?.close();
    agent.destroy();
    await server?.stop();
    process.off('exit', killController);
    rmSync(dir, { recursive: true, force: true });
  }
};

const main = async (): Promise<number> => {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' }, 'controller-node-arg': { type: 'string', multiple: true } }, strict: true });
  const budget = setTimeout(() => {
    // The exit handler kills the controller; the cluster child exits when its IPC channel closes.
    console.error(`fleet benchmark exceeded its ${TIME_BUDGET_MS / 1000} s budget`);
    process.exit(1);
  }, TIME_BUDGET_MS);
  budget.unref();
  const interrupted = (): void => {
    console.error('interrupted');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await run(planFor(values.quick), values['cpu-prof'], values['controller-node-arg'] ?? []);
    return 0;
  } catch (e) {
    console.error(`fleet benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    clearTimeout(budget);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
};

process.exitCode = await main();
