/**
 * The server side of the benchmark, run in its own process so the client's CPU does not slow the
 * server down: starts the local cluster on a free loopback port and answers the parent over IPC with
 * its own CPU time and memory (peak RSS included), which only this process can read.
 */
import { startLocalCluster } from '../src/localcluster/cluster.js';

export interface ServerStats {
  /** user + system CPU time since start, in milliseconds */
  cpuMs: number;
  rssBytes: number;
  peakRssBytes: number;
  heapUsedBytes: number;
}

export type ChildMessage = { type: 'ready'; url: string } | { type: 'stats'; stats: ServerStats } | { type: 'failed'; message: string };
export type ParentCommand = { cmd: 'stats' } | { cmd: 'stop' };

const statsOf = (): ServerStats => {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: mem.rss,
    // maxRSS is in kilobytes.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: mem.heapUsed,
  };
};

const reply = (m: ChildMessage): void => {
  process.send?.(m);
};

const main = async (): Promise<void> => {
  if (!process.send) throw new Error('cluster-child must be started by the benchmark (it talks over IPC)');
  const cluster = await startLocalCluster({ port: 0, readyDelayMs: 0 });
  process.on('message', (m: ParentCommand) => {
    if (m.cmd === 'stats') reply({ type: 'stats', stats: statsOf() });
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
