/**
 * `fledge status [NAME] [-n NS | -A] [--watch] [--json]`: the canaries, their phase, weight bar,
 * failed checks against the threshold, iterations and the verdicts of the last analysis step.
 *
 * --watch follows a watch on canaries (an informer: list once, then watch, relisting after a broken
 * watch) rather than polling every second: a frame is drawn as soon as the controller writes a
 * status, and a terminal left open costs no API request while nothing changes (polling would cost
 * one list a second, all day). The injected clock only redraws every few seconds to keep the SINCE
 * column current, which needs no request.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../kube/api.js';
import { plain } from '../kube/api.js';
import type { Command } from './main.js';
import type { Cluster, OperatorIo } from './operator-kube.js';
import { CANARY_API, COMMON_FLAGS, COMMON_HELP, CliError, EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, connect, consoleIo, getCanary, operatorCommand, parseFlags } from './operator-kube.js';
import { canaryView, renderStatus, statusJson } from './render-status.js';

const HELP = `Usage: fledge status [NAME] [-n NS | -A] [--watch] [--json]

Shows canaries: phase, canary weight as a bar, failed checks against the threshold, iterations
(A/B and blue/green), the time since the last phase change, and the verdicts of the last analysis
step (metric, value, accepted range, ok/fail) under each canary being analysed or just failed (for
one NAME, always, with its target, revision and message).

Examples:
  fledge status                        the canaries of the current namespace
  fledge status podinfo -n test -w     follow one canary through its rollout
  fledge status -A --json              every canary, as JSON

  NAME                 one canary (exit 1 when it does not exist, listing those that do)
  -A, --all-namespaces every namespace
  -w, --watch          redraw on every change, from a watch on canaries (Ctrl-C stops)
  --json               JSON instead of the table (with --watch: one line per change)
${COMMON_HELP}

${EXIT_CODES_HELP}`;

/** Redraws this often while watching, only so that SINCE stays current. */
const REFRESH_MS = 5_000;
const CLEAR = '\x1b[H\x1b[2J';

const byName = (a: KubeObject, b: KubeObject): number =>
  (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);

interface Query {
  name?: string;
  /** undefined: every namespace. */
  namespace?: string;
  json: boolean;
}

const render = (objects: KubeObject[], q: Query, nowMs: number): string => {
  const views = objects.filter((o) => q.name === undefined || o.metadata.name === q.name).sort(byName).map(canaryView);
  if (q.json) return q.name !== undefined && views.length === 0 ? 'null' : statusJson(views, q.name !== undefined);
  if (q.name !== undefined && views.length === 0) return `canary "${q.name}" does not exist (any more) in namespace "${q.namespace}"`;
  return renderStatus(views, { nowMs, allNamespaces: q.namespace === undefined, detailed: q.name !== undefined });
};

const informerPath = (namespace: string | undefined): string =>
  namespace ? `/apis/flagger.app/v1beta1/namespaces/${namespace}/canaries` : '/apis/flagger.app/v1beta1/canaries';

/** Draws a frame whenever the watched canaries change, until interrupted. */
const watch = async (cluster: Cluster, q: Query, io: OperatorIo): Promise<number> => {
  const objects = cluster.kubeConfig.makeApiClient(k8s.KubernetesObjectApi);
  const list = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
    const res = (await objects.list(CANARY_API.apiVersion, CANARY_API.kind, q.namespace)) as k8s.KubernetesListObject<k8s.KubernetesObject>;
    return { ...res, items: res.items.map((i) => plain(i)) };
  };
  const informer = k8s.makeInformer(cluster.kubeConfig, informerPath(q.namespace), list);
  let problem = '';
  let last = '';
  let stopped = false;
  let pending: unknown;
  const draw = (): void => {
    pending = undefined;
    if (stopped) return;
    const items = informer.list().map((o) => ({ ...(o as unknown as KubeObject), ...CANARY_API }));
    const text = render(items, q, io.clock.now());
    const frame = q.json ? JSON.stringify(JSON.parse(text)) : `${text}${problem ? `\n\n${problem}` : ''}`;
    if (frame === last) return;
    last = frame;
    if (q.json) io.out(frame);
    else if (io.tty) io.out(`${CLEAR}Every change, ${new Date(io.clock.now()).toISOString()}  (Ctrl-C to stop)\n\n${frame}`);
    else io.out(`${frame}\n`);
  };
  // Changes come in bursts (one tick writes status twice): one frame per burst.
  const schedule = (): void => {
    if (pending === undefined) pending = io.clock.setTimeout(draw, 50);
  };
  informer.on('add', schedule);
  informer.on('update', schedule);
  informer.on('delete', schedule);
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    problem = `watch interrupted (${err instanceof Error ? err.message : String(err)}); reconnecting`;
    schedule();
    const restart = async (): Promise<void> => {
      await informer.start();
      problem = '';
      schedule();
    };
    // A failed restart reports to this handler again, which schedules the next attempt.
    io.clock.setTimeout(() => void restart().catch(() => undefined), 1000);
  });
  await informer.start();
  draw();
  const refresh = (): void => {
    if (stopped) return;
    if (!q.json) draw();
    timer = io.clock.setTimeout(refresh, REFRESH_MS);
  };
  let timer = io.clock.setTimeout(refresh, REFRESH_MS);
  await io.interrupted();
  stopped = true;
  io.clock.clearTimeout(timer);
  if (pending !== undefined) io.clock.clearTimeout(pending);
  await informer.stop();
  return EXIT_OK;
};

export const createStatusCommand = (io: OperatorIo = consoleIo()): Command =>
  operatorCommand(
    {
      name: 'status',
      summary: 'Show canaries: phase, weight, failed checks and the last verdicts (--watch follows them)',
      async run(args, env, io, connected) {
        const { values, positionals } = parseFlags('status', args, {
          ...COMMON_FLAGS,
          'all-namespaces': { type: 'boolean', short: 'A', default: false },
          watch: { type: 'boolean', short: 'w', default: false },
          json: { type: 'boolean', default: false },
        });
        if (values.help) {
          io.out(HELP);
          return EXIT_OK;
        }
        if (positionals.length > 1) throw new CliError(EXIT_USAGE, `expected at most one canary NAME, got ${positionals.join(' ')}`);
        const name = positionals[0];
        if (values['all-namespaces'] && (values.namespace || name)) throw new CliError(EXIT_USAGE, '-A lists every namespace: it takes neither -n nor a NAME');
        const cluster = connect(values, env);
        connected(cluster.server);
        const q: Query = { json: values.json, ...(name ? { name } : {}), ...(values['all-namespaces'] ? {} : { namespace: cluster.namespace }) };
        // The first read goes through the plain client: a missing canary or an unreachable cluster
        // gets its exit code and message before any watch starts.
        const objects = name ? [await getCanary(cluster, name)] : await cluster.kube.list(CANARY_API.apiVersion, CANARY_API.kind, q.namespace);
        if (values.watch) return watch(cluster, q, io);
        io.out(render(objects, q, io.clock.now()));
        return EXIT_OK;
      },
    },
    io,
  );

export const statusCommand = createStatusCommand();
