/**
 * Benchmark of the local cluster (`npm run bench`): GET throughput and latency, LIST of a large
 * collection (whole and paginated), watch fan-out, deletion of a large namespace, and the server's
 * peak memory. The server runs in a
 * child process so the client's CPU does not count against it; everything is on loopback, bounded in
 * count and time, and the child is always killed. Prints a table, then one JSON line.
 *
 * Flags: --quick (a tenth of the counts, for a smoke run), --cpu-prof DIR (profile the server process).
 */
import http from 'node:http';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { ServerStats } from './cluster-child.js';
import { createNamespace, measureCreates, measureGets, measureLists, measureNamespaceDeletion } from './requests.js';
import type { LatencyFigures, ListFigures, NamespaceDeletionFigures } from './requests.js';
import { startServerProcess } from './server-process.js';
import type { ServerProcess } from './server-process.js';
import type { Row } from './support.js';
import { endpointOf, formatTable, mb, median, round } from './support.js';
import { measureWatchFanout } from './watch-fanout.js';
import type { WatchFigures } from './watch-fanout.js';

const TIME_BUDGET_MS = 170_000;

interface Plan {
  gets: number;
  getConcurrency: number;
  listObjects: number;
  listRepetitions: number;
  pageLimit: number;
  watchers: number;
  changes: number;
  creates: number;
  writeConcurrency: number;
}

const planFor = (quick: boolean): Plan => {
  const scale = quick ? 10 : 1;
  return {
    gets: 20_000 / scale,
    getConcurrency: 16,
    listObjects: 10_000 / scale,
    listRepetitions: 5,
    pageLimit: 500 / scale,
    watchers: 10,
    changes: 10_000 / scale,
    creates: 2_000 / scale,
    writeConcurrency: 16,
  };
};

interface Phase<T> {
  figures: T;
  serverCpuMs: number;
  clientCpuMs: number;
}

/** Runs one phase and charges it the CPU time each process spent meanwhile. */
const phase = async <T>(server: ServerProcess, run: () => Promise<T>): Promise<Phase<T>> => {
  const before = await server.stats();
  const clientBefore = process.cpuUsage();
  const figures = await run();
  const clientCpu = process.cpuUsage(clientBefore);
  const after = await server.stats();
  return { figures, serverCpuMs: after.cpuMs - before.cpuMs, clientCpuMs: (clientCpu.user + clientCpu.system) / 1000 };
};

const ms = (v: number): string => `${round(v, 2)} ms`;
const spread = (values: number[]): string => `min ${round(Math.min(...values))}, max ${round(Math.max(...values))}`;
const cpu = (p: Phase<unknown>): string => `server CPU ${Math.round(p.serverCpuMs)} ms, client CPU ${Math.round(p.clientCpuMs)} ms`;

const latencyRow = (measure: string, p: Phase<LatencyFigures>): Row => ({
  measure,
  value: `${Math.round(p.figures.perSecond)} /s`,
  detail: `${p.figures.count} req, ${p.figures.concurrency} in flight, p50 ${ms(p.figures.p50Ms)}, p99 ${ms(p.figures.p99Ms)}, max ${ms(p.figures.maxMs)}; ${cpu(p)}`,
});

const listRows = (p: Phase<ListFigures>): Row[] => {
  const f = p.figures;
  const full = median(f.fullMs);
  const paged = median(f.pagedMs);
  const table = median(f.tablePagedMs);
  return [
    { measure: `full LIST of ${f.objects} (JSON)`, value: ms(full), detail: `${Math.round(f.objects / (full / 1000))} objects/s, ${mb(f.fullBytes)} MB, median of ${f.fullMs.length} (${spread(f.fullMs)})` },
    {
      measure: `paged LIST limit=${f.pageLimit}`,
      value: ms(paged),
      detail: `${f.pages} pages, ${Math.round(f.objects / (paged / 1000))} objects/s, median of ${f.pagedMs.length} (${spread(f.pagedMs)}), client JSON.parse ${ms(median(f.pagedParseMs))} of it`,
    },
    { measure: `paged LIST as Table (kubectl get)`, value: ms(table), detail: `${Math.round(f.objects / (table / 1000))} objects/s, median of ${f.tablePagedMs.length}; ${cpu(p)} for all LISTs` },
  ];
};

const watchRows = (p: Phase<WatchFigures>): Row[] => {
  const f = p.figures;
  return [
    { measure: `watch fan-out ${f.watchers}x${f.changes}`, value: `${Math.round(f.deliveriesPerSecond)} /s`, detail: `${f.deliveries} deliveries, all received in ${round(f.allWatchersSeconds, 2)} s (first watcher ${round(f.firstWatcherSeconds, 2)} s)` },
    { measure: `  writer (${f.creates} creates + ${f.patches} merge patches)`, value: `${Math.round(f.changes / f.writerSeconds)} /s`, detail: `${round(f.writerSeconds, 2)} s; ${cpu(p)}` },
  ];
};

const deletionRow = (p: Phase<NamespaceDeletionFigures>): Row => ({
  measure: `DELETE namespace of ${p.figures.objects}`,
  value: ms(p.figures.goneMs + p.figures.settleMs),
  detail: `gone (404) after ${ms(p.figures.goneMs)}, next request waited ${ms(p.figures.settleMs)}; ${cpu(p)}`,
});

interface Results {
  get: Phase<LatencyFigures>;
  create: Phase<LatencyFigures>;
  list: Phase<ListFigures>;
  watch: Phase<WatchFigures>;
  deletion: Phase<NamespaceDeletionFigures>;
  server: ServerStats;
}

const summary = (plan: Plan, r: Results, quick: boolean): Record<string, unknown> => ({
  bench: 'localcluster',
  quick,
  node: process.version,
  cpus: cpus().length,
  getRps: Math.round(r.get.figures.perSecond),
  getP50Ms: round(r.get.figures.p50Ms, 3),
  getP99Ms: round(r.get.figures.p99Ms, 3),
  createRps: Math.round(r.create.figures.perSecond),
  createP99Ms: round(r.create.figures.p99Ms, 3),
  listObjects: plan.listObjects,
  listFullMs: round(median(r.list.figures.fullMs), 1),
  listFullObjectsPerSec: Math.round(plan.listObjects / (median(r.list.figures.fullMs) / 1000)),
  listPagedMs: round(median(r.list.figures.pagedMs), 1),
  listPagedObjectsPerSec: Math.round(plan.listObjects / (median(r.list.figures.pagedMs) / 1000)),
  listTablePagedMs: round(median(r.list.figures.tablePagedMs), 1),
  watchDeliveries: r.watch.figures.deliveries,
  watchAllSeconds: round(r.watch.figures.allWatchersSeconds, 3),
  watchDeliveriesPerSec: Math.round(r.watch.figures.deliveriesPerSecond),
  watchWriterPerSec: Math.round(r.watch.figures.changes / r.watch.figures.writerSeconds),
  nsDeleteGoneMs: round(r.deletion.figures.goneMs, 1),
  nsDeleteSettleMs: round(r.deletion.figures.settleMs, 1),
  serverPeakRssMb: mb(r.server.peakRssBytes),
  serverHeapUsedMb: mb(r.server.heapUsedBytes),
  clientPeakRssMb: mb(process.resourceUsage().maxRSS * 1024),
});

const run = async (quick: boolean, cpuProfileDir: string | undefined): Promise<void> => {
  const plan = planFor(quick);
  const server = await startServerProcess(cpuProfileDir ? { cpuProfileDir } : {});
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(plan.getConcurrency, plan.writeConcurrency) });
  try {
    const ctx = { agent, at: endpointOf(server.url) };
    console.log(`local cluster (pid ${server.pid}) at ${server.url}; node ${process.version}, ${cpus().length} CPUs${quick ? ', quick run' : ''}`);
    for (const ns of ['bench-get', 'bench-list', 'bench-watch']) await createNamespace(ctx, ns);

    const get = await phase(server, () => measureGets(ctx, 'bench-get', plan.gets, plan.getConcurrency));
    const create = await phase(server, () => measureCreates(ctx, 'bench-list', plan.listObjects, plan.writeConcurrency));
    const list = await phase(server, () => measureLists(ctx, 'bench-list', plan.listObjects, plan.listRepetitions, plan.pageLimit));
    const watch = await phase(server, () =>
      measureWatchFanout(ctx, 'bench-watch', { watchers: plan.watchers, changes: plan.changes, creates: plan.creates, concurrency: plan.writeConcurrency, timeoutMs: 60_000 }),
    );
    const deletion = await phase(server, () => measureNamespaceDeletion(ctx, 'bench-list', plan.listObjects, 30_000));
    const results: Results = { get, create, list, watch, deletion, server: await server.stats() };

    const rows: Row[] = [
      latencyRow('GET one ConfigMap', get),
      latencyRow('POST ConfigMap (create)', create),
      ...listRows(list),
      ...watchRows(watch),
      deletionRow(deletion),
      { measure: 'server peak RSS', value: `${mb(results.server.peakRssBytes)} MB`, detail: `heap used at end ${mb(results.server.heapUsedBytes)} MB, RSS at end ${mb(results.server.rssBytes)} MB` },
      { measure: 'client peak RSS', value: `${mb(process.resourceUsage().maxRSS * 1024)} MB`, detail: 'the benchmark process itself' },
    ];
    console.log(formatTable(rows));
    console.log(JSON.stringify(summary(plan, results, quick)));
  } finally {
    agent.destroy();
    await server.stop();
  }
};

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' } },
    strict: true,
  });
  const budget = setTimeout(() => {
    console.error(`benchmark exceeded its ${TIME_BUDGET_MS / 1000} s budget`);
    process.exit(1);
  }, TIME_BUDGET_MS);
  budget.unref();
  try {
    await run(values.quick, values['cpu-prof']);
    return 0;
  } catch (e) {
    console.error(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    clearTimeout(budget);
  }
};

process.exitCode = await main();
