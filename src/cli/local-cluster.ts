/** `fledge local-cluster`: the Kubernetes-compatible API server on loopback, with Fledge's CRDs loaded. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { DURATION_RULE, parseDuration } from '../api/duration.js';
import { startLocalCluster } from '../localcluster/cluster.js';
import type { KubeObject } from '../localcluster/types.js';
import type { Command } from './main.js';

const HELP = `Usage: fledge local-cluster [flags]

Runs a Kubernetes-compatible API server on 127.0.0.1 for kubectl, helm and the controller.

Flags:
  --port N            port to listen on; 0 picks a free one (default 0)
  --ready-delay D     how long simulated Deployments take to become ready (default 1s)
  --data FILE         keep objects in FILE across restarts
  --kubeconfig FILE   write a kubeconfig for this cluster to FILE
  --crds DIR          apply the CRD manifests in DIR at start (default: Fledge's crds/)
  --no-crds           start without any CRDs
  --fault-rate R      answer a share R (0..1) of requests with 500/429 and drop as many watches (default 0)
  --log-level L       pino level (default info)
`;

const packageRoot = (): string => resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Every YAML document of every .yaml/.yml file in a directory, as objects. */
export const readManifests = (dir: string): KubeObject[] =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject))
    .filter((o) => o && typeof o === 'object' && typeof o.kind === 'string');

export const localClusterCommand: Command = {
  name: 'local-cluster',
  summary: 'Run a Kubernetes-compatible API server on loopback (kubectl/helm work against it)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: 'string', default: '0' },
        'ready-delay': { type: 'string', default: '1s' },
        data: { type: 'string' },
        kubeconfig: { type: 'string' },
        crds: { type: 'string' },
        'no-crds': { type: 'boolean', default: false },
        'fault-rate': { type: 'string', default: '0' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: must be an integer between 0 and 65535, got "${values.port}"`);
    const readyDelayMs = parseDuration(values['ready-delay']);
    if (readyDelayMs === undefined) throw new Error(`--ready-delay: ${DURATION_RULE}, got "${values['ready-delay']}"`);
    const log = pino({ level: values['log-level'] });
    const faultRate = Number(values['fault-rate']);
    if (!(faultRate >= 0 && faultRate <= 1)) throw new Error(`--fault-rate: must be a number between 0 and 1, got "${values['fault-rate']}"`);
    const cluster = await startLocalCluster({ port, readyDelayMs, log, faultRate, ...(values.data ? { dataFile: values.data } : {}) });
    if (!values['no-crds']) {
      const dir = values.crds ?? join(packageRoot(), 'crds');
      const applied = cluster.applyObjects(readManifests(dir));
      log.info({ count: applied.length, dir }, 'CRDs applied');
    }
    if (values.kubeconfig) {
      mkdirSync(dirname(resolve(values.kubeconfig)), { recursive: true });
      writeFileSync(values.kubeconfig, cluster.kubeconfig());
    }
    console.log(`Local cluster listening on ${cluster.url}`);
    if (values.kubeconfig) {
      console.log(`Point kubectl at it:\n  export KUBECONFIG=${resolve(values.kubeconfig)}\n  kubectl get canaries -A`);
    } else console.log(`Point kubectl at it:\n  kubectl --server ${cluster.url} get canaries -A`);
    await new Promise<void>((resolveStop) => {
      const stop = (): void => resolveStop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await cluster.close();
    return 0;
  },
};
