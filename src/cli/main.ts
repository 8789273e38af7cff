/** `fledge <command>`: dispatches to one module per command. */
import { abortCommand } from './abort.js';
import { analyzeCommand } from './analyze.js';
import { controllerCommand } from './controller.js';
import { demoCommand } from './demo.js';
import { diffCommand } from './diff.js';
import { getCommand, resumeCommand, suspendCommand } from './flux.js';
import { localClusterCommand } from './local-cluster.js';
import { promoteCommand } from './promote.js';
import { reconcileCommand } from './reconcile.js';
import { reportCommand } from './report.js';
import { retryCommand } from './retry.js';
import { statusCommand } from './status.js';

export interface Command {
  name: string;
  summary: string;
  run(args: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const commands: Command[] = [
  demoCommand,
  localClusterCommand,
  controllerCommand,
  analyzeCommand,
  statusCommand,
  promoteCommand,
  abortCommand,
  retryCommand,
  reportCommand,
  reconcileCommand,
  getCommand,
  suspendCommand,
  resumeCommand,
  diffCommand,
];

const usage = (): string =>
  [
    'Usage: fledge <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(16)}${c.summary}`),
    `  ${'help'.padEnd(16)}Show this help, or a command's flags with 'fledge <command> --help'`,
  ].join('\n');

export const main = async (argv: string[], env: NodeJS.ProcessEnv): Promise<number> => {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`fledge: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, env);
};
