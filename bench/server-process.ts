/** The parent's handle on the benchmark's server process: start, ask for stats, stop (always kill). */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentCommand, ServerStats } from './cluster-child.js';

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  stats(): Promise<ServerStats>;
  /** Ask the server to exit cleanly (so a CPU profile gets written), then kill it if it lingers. */
  stop(): Promise<void>;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./cluster-child.js', import.meta.url));

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (exited(child)) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

/** `args` go to cluster-child (e.g. `--crds DIR`). */
export const startServerProcess = async (opts: { cpuProfileDir?: string; startTimeoutMs?: number; args?: string[] } = {}): Promise<ServerProcess> => {
  const execArgv = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const child = fork(CHILD_SCRIPT, opts.args ?? [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const command = (c: ParentCommand): void => {
    child.send(c);
  };

  const kill = async (): Promise<void> => {
    if (exited(child)) return;
    child.kill('SIGKILL');
    await waitForExit(child, 2000);
  };

  const nextMessage = <T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (m: ChildMessage): void => {
        if (m.type === 'failed') {
          cleanup();
          reject(new Error(`server process failed: ${m.message}`));
        } else if (m.type === type) {
          cleanup();
          resolve(m as Extract<ChildMessage, { type: T }>);
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(new Error(`server process exited (code ${code}, signal ${signal}) while waiting for "${type}"`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`server process did not send "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
    });

  let ready: { url: string };
  try {
    ready = await nextMessage('ready', opts.startTimeoutMs ?? 20_000);
  } catch (e) {
    await kill();
    throw e;
  }

  return {
    url: ready.url,
    pid: child.pid ?? -1,
    async stats() {
      const answer = nextMessage('stats', 10_000);
      command({ cmd: 'stats' });
      return (await answer).stats;
    },
    async stop() {
      if (exited(child)) return;
      if (child.connected) command({ cmd: 'stop' });
      if (!(await waitForExit(child, 5000))) await kill();
    },
  };
};
