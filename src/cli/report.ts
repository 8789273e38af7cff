/**
 * `fledge report NAME --out FILE.html`: a self-contained HTML page of the canary's last rollout,
 * drawn from its Events and status (see report-model.ts for what those do and do not record).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from './main.js';
import type { OperatorIo } from './operator-kube.js';
import { COMMON_FLAGS, COMMON_HELP, CliError, EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, canaryId, connect, consoleIo, getCanary, oneName, operatorCommand, parseFlags } from './operator-kube.js';
import { renderReportHtml } from './render-report.js';
import { buildReport, canaryEvents } from './report-model.js';

const HELP = `Usage: fledge report NAME [-n NS] --out FILE.html

Writes a self-contained HTML page (inline SVG, no external assets) about the canary's last rollout:
its traffic weight (or iterations) over time, each metric's recorded values against its accepted
range, and its events, from the Canary's Events and status. The page also says what the cluster
does not record: values of passing checks are not kept anywhere (replay them with fledge analyze),
and Events expire (an hour by default), so an old rollout may be partly or wholly missing.

Examples:
  fledge report podinfo -n test --out podinfo.html
  fledge report podinfo -n test --out -        the page on stdout

  --out FILE           where to write the page ("-" for stdout); required
${COMMON_HELP}

${EXIT_CODES_HELP}`;

export const createReportCommand = (io: OperatorIo = consoleIo()): Command =>
  operatorCommand(
    {
      name: 'report',
      summary: "Write an HTML page of a canary's last rollout (weights, metric values, events)",
      async run(args, env, io, connected) {
        const { values, positionals } = parseFlags('report', args, { ...COMMON_FLAGS, out: { type: 'string', short: 'o' } });
        if (values.help) {
          io.out(HELP);
          return EXIT_OK;
        }
        const name = oneName('report', positionals);
        if (!values.out) throw new CliError(EXIT_USAGE, `--out FILE.html is required, e.g. fledge report ${name} --out ${name}.html`);
        const cluster = connect(values, env);
        connected(cluster.server);
        const canary = await getCanary(cluster, name);
        // Events are listed for the namespace and matched here: the KubeApi takes label selectors
        // only, and a Canary's events carry no labels.
        const events = canaryEvents(await cluster.kube.list('v1', 'Event', cluster.namespace), canary);
        const report = buildReport(canary, events, io.clock.now());
        const html = renderReportHtml(report);
        if (values.out === '-') {
          io.out(html);
          return EXIT_OK;
        }
        try {
          writeFileSync(values.out, html);
        } catch (err) {
          throw new CliError(EXIT_USAGE, `writing ${values.out} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        io.out(
          `Wrote ${values.out}: ${canaryId(canary)}, ${report.outcome}, ${report.timeline.length} event(s), ` +
            `${report.progress.points.length} ${report.progress.kind} point(s), ${report.metrics.length} metric chart(s).`,
        );
        return EXIT_OK;
      },
    },
    io,
  );

export const reportCommand = createReportCommand();
