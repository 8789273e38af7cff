/**
 * `fledge promote NAME`: opens the canary's approval gate, the one the controller answers on
 * /gate/check (Flagger's load-tester protocol) from the fledge-gates ConfigMap. It lifts only that
 * gate: a canary whose confirm-* webhooks point elsewhere (or that has none) is not held by it, so
 * the command changes nothing and exits 1 saying so.
 */
import type { KubeObject } from '../kube/api.js';
import type { Command } from './main.js';
import type { OperatorIo } from './operator-kube.js';
import { COMMON_FLAGS, COMMON_HELP, CliError, EXIT_CODES_HELP, EXIT_NOT_MET, EXIT_OK, GATE_NAMESPACE_FLAG, GATE_NAMESPACE_HELP, canaryCommand, consoleIo, field, gateStore, parseFlags, phaseOf, recordOperatorEvent } from './operator-kube.js';

const HELP = `Usage: fledge promote NAME [-n NS] [--close]

Opens the approval gate of a canary: its confirm-rollout, confirm-traffic-increase and
confirm-promotion webhooks that call the controller's /gate/check then pass at the next analysis
step. As with Flagger's load tester, the gate stays open (later revisions pass too) until closed
with --close. A canary with no such webhook is not held by this gate: nothing is changed and the
command exits 1.

Examples:
  fledge promote podinfo -n test           let the waiting canary go on
  fledge promote podinfo -n test --close   hold the next revisions again

  --close              close the gate instead
${GATE_NAMESPACE_HELP}
${COMMON_HELP}

${EXIT_CODES_HELP}`;

const CONFIRM_TYPES = new Set(['confirm-rollout', 'confirm-traffic-increase', 'confirm-promotion']);

interface Hook {
  name: string;
  type: string;
  url: string;
}

/** The canary's webhooks, read from the raw spec (an invalid spec still has its hooks). */
export const webhooksOf = (canary: KubeObject): Hook[] => {
  const hooks = field(canary, 'spec', 'analysis', 'webhooks');
  if (!Array.isArray(hooks)) return [];
  return hooks.map((h) => ({
    name: String(field(h, 'name') ?? ''),
    // An empty type is 'rollout', as in Flagger.
    type: String(field(h, 'type') || 'rollout'),
    url: String(field(h, 'url') ?? ''),
  }));
};

const pathOf = (url: string): string => {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
};

/** Confirm hooks served by a gate server: paths ending in /gate/check (there may be a prefix before it). */
export const gatedHooks = (canary: KubeObject): Hook[] =>
  webhooksOf(canary).filter((h) => CONFIRM_TYPES.has(h.type) && pathOf(h.url).replace(/\/+$/, '').endsWith('/gate/check'));

export const createPromoteCommand = (io: OperatorIo = consoleIo()): Command =>
  canaryCommand(
    {
      name: 'promote',
      summary: "Open a canary's approval gate (confirm-* webhooks on the controller's /gate/check)",
      help: HELP,
      parse: (args) => parseFlags('promote', args, { ...COMMON_FLAGS, close: { type: 'boolean', default: false }, ...GATE_NAMESPACE_FLAG }),
      async act({ values, name, cluster, canary, id, io }) {
        const key = { name, namespace: cluster.namespace };
        const store = gateStore(cluster, values['gate-namespace']);
        if (values.close) {
          await store.setOpen('gate', key, false);
          await recordOperatorEvent(cluster, canary, 'Approval gate closed with fledge promote --close', io.clock);
          io.out(`Closed the approval gate of ${id}: its gated webhooks fail again from the next analysis step.`);
          return EXIT_OK;
        }
        const gated = gatedHooks(canary);
        if (gated.length === 0) {
          const confirm = webhooksOf(canary).filter((h) => CONFIRM_TYPES.has(h.type));
          const has = confirm.length > 0 ? `its confirm webhooks call ${confirm.map((h) => `${h.name} (${h.type}) ${h.url}`).join(', ')}` : 'it has no confirm webhooks';
          throw new CliError(
            EXIT_NOT_MET,
            `canary ${id} is not held by Fledge's gate: ${has}. 'fledge promote' only opens the gate served on the controller's /gate/check; ` +
              `nothing was changed. Add a confirm-promotion (or confirm-rollout) webhook with url http://<controller>/gate/check to gate it.`,
          );
        }
        await store.setOpen('gate', key, true);
        await recordOperatorEvent(cluster, canary, 'Approval gate opened with fledge promote', io.clock);
        const phase = phaseOf(canary) ?? 'not initialized yet';
        const when = ['Waiting', 'WaitingPromotion', 'Progressing'].includes(phase)
          ? 'at its next analysis step'
          : `when it next reaches them (it is ${phase} now)`;
        io.out(`Opened the approval gate of ${id}: ${gated.map((h) => `${h.name} (${h.type})`).join(', ')} pass ${when}.`);
        io.out(`The gate stays open for later revisions until 'fledge promote ${name} -n ${cluster.namespace} --close'.`);
        return EXIT_OK;
      },
    },
    io,
  );

export const promoteCommand = createPromoteCommand();
