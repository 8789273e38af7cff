/** `fledge demo` (what `npm start` runs): the GitOps canary story, end to end, on this machine. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prometheusMissing } from '../devtools/prometheus.js';
import { runDemo } from '../demo/story.js';
import { humanView, jsonView } from '../demo/view.js';
import type { Command } from './main.js';

const HELP = `Usage: fledge demo [--json] [--keep] [--interval D]

Runs the whole story on this machine, every part real: a local Kubernetes-compatible cluster, a real
Prometheus, a traffic simulator exposing Istio telemetry, the reconciler fetching a local Git
repository made from examples/podinfo, the Fledge controller and a Slack-compatible receiver.
v2 (20% errors) is committed and rolled back with a Slack alert; v3 is committed and promoted.

  --json         one JSON object per line (events, then a summary) instead of the timeline
  --keep         leave everything running at the end, with a kubeconfig for kubectl, until Ctrl-C
  --interval D   analysis interval of the demo Canary (default 5s)

Example:
  npm start            # the same as: npx fledge demo

Exit codes: 0 the story ran as expected, 1 it did not (see the summary), 2 something could not start,
130 interrupted (Ctrl-C); every process the demo started is stopped in all cases.`;

// Compiled to dist/src/cli: the package root is three levels up.
const packageRoot = (): string => join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the end-to-end GitOps canary demo on this machine (what npm start runs)',
  async run(args, env) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, interval: { type: 'string', default: '5s' }, help: { type: 'boolean', short: 'h', default: false } } }));
    } catch (e) {
      console.error(`fledge demo: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const root = packageRoot();
    if (prometheusMissing()) {
      console.error('fledge demo: Prometheus is not installed; installing it from Debian packages (scripts/install-tools.sh --prometheus)');
      const installed = spawnSync('bash', [join(root, 'scripts', 'install-tools.sh'), '--prometheus'], { stdio: 'inherit', env });
      const still = prometheusMissing();
      if (installed.status !== 0 || still) {
        console.error(`fledge demo: cannot run without Prometheus: ${still ?? 'the install failed'}.\nInstall the Debian package "prometheus" (apt-get install prometheus) and run again.`);
        return 2;
      }
    }
    const view = values.json ? jsonView((l) => console.log(l)) : humanView((l) => console.log(l));
    let stop: () => void = () => undefined;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await runDemo({ root, env, view, keep: values.keep, stopSignal, analysisInterval: values.interval });
      if (summary.interrupted) return 130;
      return summary.ok ? 0 : 1;
    } catch (e) {
      console.error(`fledge demo: ${(e as Error).message}`);
      return 2;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
