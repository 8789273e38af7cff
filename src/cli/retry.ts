/**
 * `fledge retry NAME`: analyse a Failed canary's revision again without touching its spec or target.
 * It removes status.lastAppliedSpec (through the status subresource): the controller then sees the
 * target's checksum as a new revision, and a Failed canary with a new revision starts a fresh
 * analysis (src/engine: detectRevision -> startRollout: canary scaled up, Progressing, weight,
 * failedChecks and iterations reset, the checksum recorded again).
 */
import type { Command } from './main.js';
import type { OperatorIo } from './operator-kube.js';
import { CANARY_API, COMMON_FLAGS, COMMON_HELP, CliError, EXIT_CODES_HELP, EXIT_NOT_MET, EXIT_OK, canaryCommand, consoleIo, field, parseFlags, phaseOf, recordOperatorEvent } from './operator-kube.js';

const HELP = `Usage: fledge retry NAME [-n NS]

Starts the analysis of a Failed canary again, for the same revision, without editing the Canary or
its target: the controller scales the canary up and runs the analysis from weight 0 with no failed
checks. Refused (exit 1) unless the canary is Failed after an analysis; a failed initialization is
retried by the controller by itself.

Examples:
  fledge retry podinfo -n test
  fledge status podinfo -n test --watch    then follow the new analysis
${COMMON_HELP}

${EXIT_CODES_HELP}`;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export const createRetryCommand = (io: OperatorIo = consoleIo()): Command =>
  canaryCommand(
    {
      name: 'retry',
      summary: "Start a Failed canary's analysis again for the same revision",
      help: HELP,
      parse: (args) => parseFlags('retry', args, COMMON_FLAGS),
      async act({ name, cluster, canary, id, io }) {
        const phase = phaseOf(canary);
        if (phase !== 'Failed') {
          throw new CliError(EXIT_NOT_MET, `canary ${id} is ${phase ?? 'not initialized yet'}, not Failed: retry only restarts a failed analysis.`);
        }
        const applied = str(field(canary, 'status', 'lastAppliedSpec'));
        const promoted = str(field(canary, 'status', 'lastPromotedSpec'));
        if (!promoted) {
          throw new CliError(EXIT_NOT_MET, `canary ${id} failed to initialize (its primary never became ready); the controller retries that at every analysis interval by itself. See 'kubectl describe canary ${name} -n ${cluster.namespace}'.`);
        }
        if (applied === undefined) {
          io.out(`A retry of ${id} is already requested: the controller starts the analysis at its next look at the canary.`);
          return EXIT_OK;
        }
        if (applied === promoted) {
          throw new CliError(EXIT_NOT_MET, `the target of ${id} is back on the revision the primary runs, so there is nothing to analyse; apply the revision you want to roll out instead.`);
        }
        await cluster.kube.patchStatus({ ...CANARY_API, namespace: cluster.namespace, name }, { lastAppliedSpec: null });
        await recordOperatorEvent(cluster, canary, `Analysis retry requested with fledge retry for revision ${applied}`, io.clock);
        io.out(`Retry of ${id} requested: the controller scales the canary up and analyses revision ${applied} again from weight 0.`);
        io.out(`Follow it with 'fledge status ${name} -n ${cluster.namespace} --watch'.`);
        return EXIT_OK;
      },
    },
    io,
  );

export const retryCommand = createRetryCommand();
