/**
 * The server side of the benchmarks, run in its own process so the client's CPU does not slow the
 * server down: starts the local cluster on a free loopback port and answers the parent over IPC with
 * its own CPU time and memory (peak RSS included), which only this process can read, and the requests
 * it has served by verb. Arguments: `--crds DIR` (repeatable) preloads the manifests of a directory (CRDs).
 */
import { parseArgs } from 'node:util';
import { readManifests } from '../src/cli/local-cluster.js';
import { startLocalCluster } from '../src/localcluster/cluster.js';

export interface ServerStats {
  /** user + system CPU time since start, in milliseconds */
  cpuMs: number;
  rssBytes: number;
  peakRssBytes: number;
  heapUsedBytes: number;
  /** Requests served so far by verb (GET, WATCH, POST, PUT, PATCH, DELETE; a LIST is a GET). */
  requests: Record<string, number>;
}

export type ChildMessage = { type: 'ready'; url: string } | { type: 'stats'; stats: ServerStats } | { type: 'failed'; message: string };
export type ParentCommand = { cmd: 'stats' } | { cmd: 'stop' };

const statsOf = (requests: Record<string, number>): ServerStats => {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: mem.rss,
    // maxRSS is in kilobytes.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: mem.heapUsed,
    requests,
  };
};

const reply = (m: ChildMessage): void => {
  process.send?.(m);
};

const main = async (): Promise<void> => {
  if (!process.send) throw new Error('cluster-child must be started by the benchmark (it talks over IPC)');
  const { values } = parseArgs({ options: { crds: { type: 'string', multiple: true, default: [] } }, strict: true });
  const cluster = await startLocalCluster({ port: 0, readyDelayMs: 0 });
  for (const path of values.crds) cluster.applyObjects(readManifests(path));
  process.on('message', (m: ParentCommand) => {
    if (m.cmd === 'stats') reply({ type: 'stats', stats: statsOf(cluster.requestStats().counts) });
    if (m.cmd === 'stop') {
      // A normal exit, so `--cpu-prof` writes its profile.
      cluster.close().finally(() => process.exit(0));
    }
  });
  // The parent went away without saying stop: do not linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  reply({ type: 'ready', url: cluster.url });
};

main().catch((e: unknown) => {
  reply({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
