/**
 * The controller under test as a child process (`node bin/fledge.js controller ...`), measured from
 * outside: peak and current RSS from /proc/<pid>/status (VmHWM, VmRSS) and CPU time from
 * /proc/<pid>/stat, so nothing in the controller is instrumented for the benchmark. Its log lines
 * (warn and above) are counted and the first few kept for the report.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LineSplitter } from './support.js';

export interface ControllerProcess {
  readonly pid: number;
  /** The kernel's clock ticks per second (CLK_TCK), the unit of /proc CPU times. */
  readonly clockTicksPerSecond: number;
  /** Peak resident set (VmHWM) and current resident set (VmRSS), in bytes. */
  memory(): { peakRssBytes: number; rssBytes: number };
  /** user + system CPU time since start, in milliseconds. */
  cpuMs(): number;
  /** Log lines written so far, how many at pino level error or above (or not JSON), and the first few lines. */
  logs(): { lines: number; errors: number; first: string[] };
  exited(): boolean;
  /** SIGTERM, then SIGKILL if it lingers. */
  stop(): Promise<void>;
  /** SIGKILL at once (for process exit handlers, which cannot wait). */
  killNow(): void;
}

export interface ControllerArgs {
  binPath: string;
  kubeconfigFile: string;
  metricsServer: string;
  minAnalysisInterval: string;
  /** Options for node itself (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

const KEPT_LOG_LINES = 5;
/** pino's level number for `error`. */
const ERROR_LEVEL = 50;

const clockTicksPerSecond = (): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
};

const statusKb = (pid: number, field: string): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) : NaN;
};

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

export const startControllerProcess = (a: ControllerArgs): ControllerProcess => {
  const args = [...(a.nodeArgs ?? []), a.binPath, 'controller', '--kubeconfig', a.kubeconfigFile, '--metrics-server', a.metricsServer];
  args.push('--min-analysis-interval', a.minAnalysisInterval, '--port', '0', '--log-level', 'warn');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('the controller process did not start');
  const pid = child.pid;
  const ticks = clockTicksPerSecond();
  let lines = 0;
  let errors = 0;
  const first: string[] = [];
  const collect = (lineSplitter: LineSplitter) => (chunk: Buffer): void => {
    for (const line of lineSplitter.push(chunk.toString('utf8'))) {
      if (!line.trim()) continue;
      lines += 1;
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? ERROR_LEVEL);
      if (level >= ERROR_LEVEL) errors += 1;
      if (first.length < KEPT_LOG_LINES) first.push(line.slice(0, 400));
    }
  };
  child.stdout?.on('data', collect(new LineSplitter()));
  child.stderr?.on('data', collect(new LineSplitter()));
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    pid,
    clockTicksPerSecond: ticks,
    memory: () => ({ peakRssBytes: statusKb(pid, 'VmHWM') * 1024, rssBytes: statusKb(pid, 'VmRSS') * 1024 }),
    cpuMs() {
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000;
    },
    logs: () => ({ lines, errors, first: [...first] }),
    exited,
    async stop() {
      if (exited()) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 2000);
      }
    },
    killNow() {
      if (!exited()) child.kill('SIGKILL');
    },
  };
};
