/** `fledge <command>`: dispatches to one module per command. */
import { analyzeCommand } from './analyze.js';
import { controllerCommand } from './controller.js';
import { localClusterCommand } from './local-cluster.js';

export interface Command {
  name: string;
  summary: string;
  run(args: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const commands: Command[] = [localClusterCommand, controllerCommand, analyzeCommand];

const usage = (): string =>
  [
    'Usage: fledge <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(16)}${c.summary}`),
    `  ${'help'.padEnd(16)}Show this help, or a command's flags with 'fledge <command> --help'`,
    '',
    'Not built yet (see README.md): demo, status, promote, abort, retry, reconcile.',
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
