/**
 * `fledge abort NAME`: asks the controller to roll a canary back by opening its 'rollback' gate
 * (what /rollback/open does). The controller honours it at the canary's next analysis step with or
 * without rollback webhooks, records "Rollback requested by operator", and withdraws the request,
 * so the next revision is analysed normally.
 */
import type { Command } from './main.js';
import type { OperatorIo } from './operator-kube.js';
import { COMMON_FLAGS, COMMON_HELP, CliError, EXIT_CODES_HELP, EXIT_NOT_MET, EXIT_OK, GATE_NAMESPACE_FLAG, GATE_NAMESPACE_HELP, canaryCommand, consoleIo, field, gateStore, parseFlags, phaseOf, recordOperatorEvent } from './operator-kube.js';

const HELP = `Usage: fledge abort NAME [-n NS]

Requests a rollback of a canary under analysis (Progressing, Waiting or WaitingPromotion). At its
next analysis step the controller routes all traffic back to the primary, scales the canary to zero
and marks it Failed, with the event "Rollback requested by operator"; no rollback webhook is needed.
The request is then withdrawn, so the next revision is analysed as usual. A canary in any other
phase has nothing to roll back: the command changes nothing and exits 1.

Examples:
  fledge abort podinfo -n test
  fledge status podinfo -n test --watch    then follow it to Failed
${GATE_NAMESPACE_HELP}
${COMMON_HELP}

${EXIT_CODES_HELP}`;

/** The phases the engine asks for an operator's rollback in (see src/engine/guards.ts). */
const ABORTABLE = new Set(['Progressing', 'Waiting', 'WaitingPromotion']);

const notAbortable = (id: string, phase: string | undefined): string => {
  if (phase === 'Promoting' || phase === 'Finalising') {
    return `canary ${id} is ${phase}: the analysis passed and the primary is already taking the new revision, too late to abort. Roll the target back to the previous revision instead.`;
  }
  return `canary ${id} is ${phase ?? 'not initialized yet'}: nothing is being analysed, so there is nothing to roll back (abort acts in Progressing, Waiting or WaitingPromotion).`;
};

export const createAbortCommand = (io: OperatorIo = consoleIo()): Command =>
  canaryCommand(
    {
      name: 'abort',
      summary: 'Roll back a canary under analysis (no rollback webhook needed)',
      help: HELP,
      parse: (args) => parseFlags('abort', args, { ...COMMON_FLAGS, ...GATE_NAMESPACE_FLAG }),
      async act({ values, name, cluster, canary, id, io }) {
        const phase = phaseOf(canary);
        if (!ABORTABLE.has(phase ?? '')) throw new CliError(EXIT_NOT_MET, notAbortable(id, phase));
        await gateStore(cluster, values['gate-namespace']).setOpen('rollback', { name, namespace: cluster.namespace }, true);
        await recordOperatorEvent(cluster, canary, 'Rollback requested with fledge abort', io.clock);
        const interval = field(canary, 'spec', 'analysis', 'interval');
        const every = typeof interval === 'string' ? ` (every ${interval})` : '';
        io.out(`Rollback of ${id} requested: the controller rolls it back at its next analysis step${every}.`);
        io.out(`Follow it with 'fledge status ${name} -n ${cluster.namespace} --watch'.`);
        return EXIT_OK;
      },
    },
    io,
  );

export const abortCommand = createAbortCommand();
