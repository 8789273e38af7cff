/** `fledge controller`: runs the canary controller against the cluster of a kubeconfig (or in-cluster). */
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { systemClock } from '../api/clock.js';
import { DURATION_RULE, parseDuration } from '../api/duration.js';
import { Controller } from '../controller/controller.js';
import { createReconciler } from '../reconciler/index.js';
import type { Command } from './main.js';

const HELP = `Usage: fledge controller [flags]

Runs the canary controller. Flags keep Flagger's names where Flagger has them.

  --kubeconfig FILE              kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespace NS                 watch one namespace only (default: all)
  --mesh-provider NAME           router for canaries without spec.provider (default istio)
  --metrics-server URL           Prometheus for built-in metrics (default http://prometheus:9090)
  --min-analysis-interval D      shortest analysis interval (default 10s)
  --selector-labels L1,L2        pod labels a target may be selected by (default app,name,app.kubernetes.io/name)
  --include-label-prefix P1,P2   only copy labels/annotations with these prefixes to the primary
  --enable-config-tracking B     track ConfigMaps and Secrets (default true)
  --event-webhook URL            POST every event there
  --slack-url URL                Slack incoming webhook for canaries without alerts (default: $SLACK_URL)
  --slack-channel NAME           channel of those messages (default general)
  --slack-user NAME              username of those messages (default flagger)
  --slack-proxy-url URL          HTTP proxy for them (default: $SLACK_PROXY_URL)
  --msteams-url URL              MS Teams webhook for canaries without alerts (default: $MSTEAMS_URL)
  --msteams-proxy-url URL        HTTP proxy for it (default: $MSTEAMS_PROXY_URL)
  --cluster-name NAME            add a Cluster field to every alert
  --port N                       HTTP port for /metrics, /healthz, /readyz and the gates (default 8080)
  --enable-leader-election       run canaries only while holding the fledge-leader-election Lease
  --leader-election-namespace NS namespace of that Lease (default: --namespace, else default)
  --enable-reconciler            also run the Flux-style reconciler (Kustomizations, GitRepositories) in this process
  --reconciler-work-dir DIR      where the reconciler keeps clones and artifacts (default: a temporary directory)
  --log-level L                  pino level (default info)
`;

/** The entries with a non-empty value (an empty flag or variable means unset). */
const compactStrings = <K extends string>(values: Record<K, string | undefined>): Partial<Record<K, string>> =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string' && v !== '')) as Partial<Record<K, string>>;

const list = (v: string | undefined): string[] | undefined => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

export const controllerCommand: Command = {
  name: 'controller',
  summary: 'Run the canary controller against a cluster (kubeconfig or in-cluster)',
  async run(args, env) {
    const { values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'mesh-provider': { type: 'string', default: 'istio' },
        'metrics-server': { type: 'string', default: 'http://prometheus:9090' },
        'min-analysis-interval': { type: 'string', default: '10s' },
        'selector-labels': { type: 'string' },
        'include-label-prefix': { type: 'string' },
        'enable-config-tracking': { type: 'string', default: 'true' },
        'event-webhook': { type: 'string' },
        'slack-url': { type: 'string' },
        'slack-channel': { type: 'string' },
        'slack-user': { type: 'string' },
        'slack-proxy-url': { type: 'string' },
        'msteams-url': { type: 'string' },
        'msteams-proxy-url': { type: 'string' },
        'cluster-name': { type: 'string' },
        port: { type: 'string', default: '8080' },
        'enable-leader-election': { type: 'boolean', default: false },
        'leader-election-namespace': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        'enable-reconciler': { type: 'boolean', default: false },
        'reconciler-work-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const minInterval = parseDuration(values['min-analysis-interval']);
    if (minInterval === undefined) throw new Error(`--min-analysis-interval: ${DURATION_RULE}`);
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: must be an integer between 0 and 65535, got "${values.port}"`);
    const kubeConfig = new k8s.KubeConfig();
    const file = values.kubeconfig ?? env.KUBECONFIG;
    if (file) kubeConfig.loadFromFile(file);
    else kubeConfig.loadFromDefault();
    const log = pino({ level: values['log-level'] });
    const selectorLabels = list(values['selector-labels']);
    const includeLabelPrefixes = list(values['include-label-prefix']);
    // Flagger's chart passes the webhook URLs as environment variables (from a Secret); a flag wins.
    const alerting = compactStrings({
      slackUrl: values['slack-url'] ?? env.SLACK_URL,
      slackChannel: values['slack-channel'],
      slackUser: values['slack-user'],
      slackProxyUrl: values['slack-proxy-url'] ?? env.SLACK_PROXY_URL,
      msteamsUrl: values['msteams-url'] ?? env.MSTEAMS_URL,
      msteamsProxyUrl: values['msteams-proxy-url'] ?? env.MSTEAMS_PROXY_URL,
      clusterName: values['cluster-name'],
    });
    const controller = new Controller({
      kubeConfig,
      clock: systemClock(),
      log,
      meshProvider: values['mesh-provider'],
      metricsServer: values['metrics-server'],
      minAnalysisIntervalMs: minInterval,
      configTracking: values['enable-config-tracking'] !== 'false',
      port,
      ...(values.namespace ? { namespace: values.namespace, gateNamespace: values.namespace } : {}),
      ...(selectorLabels ? { selectorLabels } : {}),
      ...(includeLabelPrefixes ? { includeLabelPrefixes } : {}),
      ...(values['event-webhook'] ? { eventWebhook: values['event-webhook'] } : {}),
      alerting,
      ...(values['enable-leader-election']
        ? {
            leaderElection: {
              namespace: values['leader-election-namespace'] ?? values.namespace ?? 'default',
              name: 'fledge-leader-election',
              identity: `${hostname()}-${process.pid}`,
              leaseDurationMs: 15_000,
              renewMs: 5_000,
            },
            onLostLeadership: () => {
              log.error('lost leadership; exiting so a new process campaigns again');
              process.exit(1);
            },
          }
        : {}),
    });
    await controller.start();
    // The reconciler shares the process, not the controller's caches: its kinds and cadence are its own.
    const reconciler = values['enable-reconciler']
      ? createReconciler({
          config: kubeConfig,
          log: log.child({ part: 'reconciler' }),
          clock: systemClock(),
          workDir: values['reconciler-work-dir'] ?? mkdtempSync(join(tmpdir(), 'fledge-reconciler-')),
          env,
          ...(values.namespace ? { namespace: values.namespace } : {}),
        })
      : undefined;
    await reconciler?.start();
    log.info({ url: controller.url }, 'controller started');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await reconciler?.stop();
    await controller.stop();
    return 0;
  },
};
