/**
 * Running external tools (git, kubectl) for the reconciler. Commands are spawned directly, never through
 * a shell, so URLs, refs and paths from manifests cannot inject shell syntax. The modules that need a tool
 * take a RunCommand, so tests and callers can pass fakes or a differently configured runner.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface RunOptions {
  cwd?: string;
  /** Added on top of the runner's base environment (see createRunCommand). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is closed at once so nothing waits on it. */
  input?: string;
  /** Kill the command (and its process group) after this long. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code; 128 + signal number when the command was killed by a signal. */
  code: number;
}

export type RunCommand = (cmd: string, args: string[], opts: RunOptions) => Promise<RunResult>;

export type CommandErrorReason = 'NotFound' | 'TimedOut' | 'OutputTooLarge' | 'SpawnFailed';

/**
 * The command could not run to completion. A non-zero exit is not an error here: the result carries the
 * code, and callers decide what it means.
 */
export class CommandError extends Error {
  constructor(
    readonly reason: CommandErrorReason,
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export const isCommandError = (e: unknown, reason?: CommandErrorReason): e is CommandError =>
  e instanceof CommandError && (reason === undefined || e.reason === reason);

/** Output past this is a runaway command; kustomize output of a large repository is a few MB. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

const signalCode = (signal: NodeJS.Signals | null): number => 128 + (signal ? (constants.signals[signal] ?? 0) : 0);

/**
 * A RunCommand backed by child_process.spawn. `baseEnv` is the environment every command starts from
 * (the CLI passes process.env; tests pass a hermetic one); per-call `env` entries are added on top.
 */
export const createRunCommand =
  (baseEnv: Readonly<Record<string, string | undefined>>): RunCommand =>
  (cmd, args, opts) =>
    new Promise<RunResult>((resolve, reject) => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
      Object.assign(env, opts.env ?? {});
      // A process group of its own, so a timeout also ends the helpers a tool starts (git's ssh,
      // git-remote-https) instead of leaving them holding the pipes open.
      const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let failure: CommandError | undefined;
      let timer: NodeJS.Timeout | undefined;

      const kill = (reason: CommandError): void => {
        failure ??= reason;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) kill(new CommandError('OutputTooLarge', cmd, `${cmd} wrote more than ${MAX_OUTPUT_BYTES} bytes of output`));
        else into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      // A command that exits without reading its input closes the pipe; that is not our failure.
      child.stdin.on('error', () => undefined);
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => kill(new CommandError('TimedOut', cmd, `${cmd} timed out after ${opts.timeoutMs}ms`)), opts.timeoutMs);
      }

      child.on('error', (e: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        if (e.code === 'ENOENT') reject(new CommandError('NotFound', cmd, `${cmd}: command not found`));
        else reject(new CommandError('SpawnFailed', cmd, `${cmd}: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (failure) return reject(failure);
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          code: code ?? signalCode(signal),
        });
      });
      child.stdin.end(opts.input ?? '');
    });
