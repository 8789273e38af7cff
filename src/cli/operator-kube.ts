/**
 * What the operator commands (status, promote, abort, retry, report) share: flag parsing with exit
 * code 2 on misuse, the kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config or in-cluster) and its
 * namespace, finding a Canary (or listing the ones that exist), and turning failures into messages
 * that say what to do. Exit codes: 0 done, 1 a condition was not met (no such canary, wrong phase),
 * 2 usage or connection error.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Clock } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { EventRecorder } from '../controller/events.js';
import { createConfigMapGateStore } from '../controller/gate-store.js';
import type { GateStore } from '../controller/gate-store.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import { KubeApiError } from '../kube/api.js';
import { ClientNodeKubeApi } from '../kube/client.js';
import type { Command } from './main.js';

export const EXIT_OK = 0;
export const EXIT_NOT_MET = 1;
export const EXIT_USAGE = 2;

/** A failure with the exit code it maps to and a message that says what to do. */
export class CliError extends Error {
  constructor(
    readonly exitCode: 1 | 2,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where a command writes, and its clock; tests pass their own to run commands in-process. */
export interface OperatorIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (`status --watch` redraws in place). */
  tty: boolean;
  clock: Clock;
  /** Resolves when the user interrupts (Ctrl-C); ends `status --watch`. */
  interrupted(): Promise<void>;
}

export const consoleIo = (): OperatorIo => ({
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  tty: process.stdout.isTTY === true,
  clock: systemClock(),
  interrupted: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
});

export const CANARY_API = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary' } as const;

/** The flags every operator command takes. */
export const COMMON_FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `  -n, --namespace NS   namespace of the canary (default: the context's namespace, else default)
  --kubeconfig FILE    kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME       kubeconfig context to use (default: the current context)
  -h, --help           this help`;

export const EXIT_CODES_HELP = `Exit codes: 0 done; 1 a condition was not met (no such canary, wrong phase); 2 usage or
connection error.`;

/** parseArgs, with misuse (unknown flag, missing value) as a usage error naming the command's help. */
export const parseFlags = <O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) => {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(EXIT_USAGE, `${err instanceof Error ? err.message : String(err)}\nRun 'fledge ${command} --help' for the flags.`);
  }
};

/** Exactly one positional NAME. */
export const oneName = (command: string, positionals: string[]): string => {
  if (positionals.length === 1 && positionals[0]) return positionals[0];
  const why = positionals.length === 0 ? 'the canary NAME is missing' : `expected one canary NAME, got ${positionals.length}: ${positionals.join(' ')}`;
  throw new CliError(EXIT_USAGE, `${why}\nUsage: fledge ${command} NAME [-n NS]; run 'fledge ${command} --help' for an example.`);
};

export interface Cluster {
  kubeConfig: k8s.KubeConfig;
  kube: KubeApi;
  /** The namespace: -n, else the context's, else default. */
  namespace: string;
  /** The API server URL, for messages. */
  server: string;
}

const loadKubeConfig = (flags: { kubeconfig?: string | undefined; context?: string | undefined }, env: NodeJS.ProcessEnv): k8s.KubeConfig => {
  const kc = new k8s.KubeConfig();
  const files = flags.kubeconfig ? [flags.kubeconfig] : (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (files.length === 0 && home && existsSync(home)) files.push(home);
  try {
    if (files.length === 0) {
      if (!env.KUBERNETES_SERVICE_HOST) {
        throw new CliError(EXIT_USAGE, 'no kubeconfig: pass --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config');
      }
      kc.loadFromCluster();
    } else {
      kc.loadFromFile(files[0] as string);
      for (const file of files.slice(1)) {
        const more = new k8s.KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(EXIT_USAGE, `reading the kubeconfig ${files.join(delimiter)} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new CliError(EXIT_USAGE, `--context ${flags.context}: no such context in the kubeconfig (it has: ${known.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new CliError(EXIT_USAGE, 'the kubeconfig has no current context with a cluster: pass --context NAME or run kubectl config use-context');
  return kc;
};

export const connect = (
  flags: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined },
  env: NodeJS.ProcessEnv,
): Cluster => {
  const kubeConfig = loadKubeConfig(flags, env);
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return {
    kubeConfig,
    kube: new ClientNodeKubeApi(kubeConfig),
    namespace: flags.namespace || contextNamespace || 'default',
    server: kubeConfig.getCurrentCluster()?.server ?? '(unknown server)',
  };
};

/** Names of the canaries in a namespace, sorted. */
export const canaryNames = async (cluster: Cluster, namespace: string): Promise<string[]> =>
  (await cluster.kube.list(CANARY_API.apiVersion, CANARY_API.kind, namespace)).map((o) => o.metadata.name).sort();

/** The Canary, or a not-found error (exit 1) listing the canaries that do exist there. */
export const getCanary = async (cluster: Cluster, name: string, namespace = cluster.namespace): Promise<KubeObject> => {
  const found = await cluster.kube.get({ ...CANARY_API, namespace, name });
  if (found) return found;
  const others = await canaryNames(cluster, namespace);
  const there = others.length > 0 ? `canaries there: ${others.join(', ')}` : `namespace "${namespace}" has no canaries`;
  throw new CliError(EXIT_NOT_MET, `canary "${name}" not found in namespace "${namespace}"; ${there}. Pick one with -n NS, or list all with 'fledge status -A'.`);
};

/** The gate store the controller serves /gate/* and /rollback/* from (its --namespace, else default). */
export const gateStore = (cluster: Cluster, gateNamespace: string): GateStore => createConfigMapGateStore({ kube: cluster.kube, namespace: gateNamespace });

export const GATE_NAMESPACE_FLAG = { 'gate-namespace': { type: 'string', default: 'default' } } as const satisfies ParseArgsConfig['options'];
export const GATE_NAMESPACE_HELP = `  --gate-namespace NS  where the controller keeps its gates (ConfigMap fledge-gates): the controller's
                       --namespace, else default (default: default)`;

/**
 * Records what an operator did as an Event on the Canary (reason OperatorRequest), so
 * `kubectl describe canary` and `fledge report` show it beside the controller's own events.
 * Never fails the command: the request itself is already written.
 */
export const recordOperatorEvent = async (cluster: Cluster, canary: KubeObject, message: string, clock: Clock): Promise<void> => {
  const recorder = new EventRecorder(cluster.kube, clock, pino({ level: 'silent' }), 'fledge-cli');
  const { name, namespace, uid } = canary.metadata;
  await recorder.record({ metadata: { name, namespace: namespace ?? cluster.namespace, ...(uid ? { uid } : {}) } }, 'Normal', 'OperatorRequest', message);
};

/** What the client and the API server say when a kind (here: the Canary CRD) is not served. */
const isUnknownKind = (err: Error): boolean =>
  /Unrecognized API version and kind|no custom resource for/i.test(err.message) ||
  (err instanceof KubeApiError && err.status === 404 && /could not find the requested resource/i.test(err.message));

/** A failure as the user should read it, with its exit code. */
export const describeFailure = (err: unknown, server: string | undefined): CliError => {
  if (err instanceof CliError) return err;
  const at = server ? ` at ${server}` : '';
  const e = err instanceof Error ? err : new Error(String(err));
  if (isUnknownKind(e)) {
    return new CliError(EXIT_USAGE, `the cluster${at} does not serve flagger.app/v1beta1 Canary: install the CRDs (kubectl apply -f crds/, or the Helm chart) (${e.message})`);
  }
  if (err instanceof KubeApiError) {
    if (err.status === 401 || err.status === 403) {
      return new CliError(EXIT_USAGE, `the API server${at} refused the request (${err.status}): ${err.message}. Check the user of your kubeconfig context and its RBAC permissions.`);
    }
    return new CliError(EXIT_USAGE, `the API server${at} answered ${err.status}: ${err.message}`);
  }
  return new CliError(EXIT_USAGE, `cannot reach the API server${at}: ${e.message}. Check --kubeconfig, $KUBECONFIG or the current context.`);
};

export interface OperatorCommandSpec {
  name: string;
  summary: string;
  /** Runs the command; throws CliError for expected failures. `server` is set once connected. */
  run(args: string[], env: NodeJS.ProcessEnv, io: OperatorIo, connected: (server: string) => void): Promise<number>;
}

/** A Command whose failures become `fledge <name>: <message>` on stderr and their exit code. */
export const operatorCommand = (spec: OperatorCommandSpec, io: OperatorIo): Command => ({
  name: spec.name,
  summary: spec.summary,
  async run(args, env) {
    let server: string | undefined;
    try {
      return await spec.run(args, env, io, (s) => (server = s));
    } catch (err) {
      const failure = describeFailure(err, server);
      io.err(`fledge ${spec.name}: ${failure.message}`);
      return failure.exitCode;
    }
  },
});

/** What a command that acts on one named Canary has once it found it. */
export interface CanaryRequest<V> {
  /** The parsed flags. */
  values: V;
  name: string;
  cluster: Cluster;
  canary: KubeObject;
  /** `namespace/name`, for messages. */
  id: string;
  io: OperatorIo;
}

/** The flags canaryCommand reads itself: --help and those naming the cluster. */
type CanaryFlags = Parameters<typeof connect>[0] & { help?: boolean };

export interface CanaryCommandSpec<V extends CanaryFlags> {
  name: string;
  summary: string;
  help: string;
  /** parseFlags with COMMON_FLAGS and the command's own flags. */
  parse(args: string[]): { values: V; positionals: string[] };
  /** Does what the command is for; throws CliError for expected failures. */
  act(request: CanaryRequest<V>): Promise<number>;
}

/**
 * An operator command on one Canary (`fledge <name> NAME`): --help, else exactly one NAME, the
 * cluster (its server named in connection errors) and the Canary, or a message listing the ones
 * there are, before `act` runs.
 */
export const canaryCommand = <V extends CanaryFlags>(spec: CanaryCommandSpec<V>, io: OperatorIo): Command =>
  operatorCommand(
    {
      name: spec.name,
      summary: spec.summary,
      async run(args, env, io, connected) {
        const { values, positionals } = spec.parse(args);
        if (values.help) {
          io.out(spec.help);
          return EXIT_OK;
        }
        const name = oneName(spec.name, positionals);
        const cluster = connect(values, env);
        connected(cluster.server);
        const canary = await getCanary(cluster, name);
        return spec.act({ values, name, cluster, canary, id: canaryId(canary), io });
      },
    },
    io,
  );

/** A field of an object by path, if it is a plain object. */
export const field = (o: unknown, ...path: string[]): unknown => {
  let cur: unknown = o;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
};

export const phaseOf = (canary: KubeObject): string | undefined => {
  const phase = field(canary, 'status', 'phase');
  return typeof phase === 'string' && phase !== '' ? phase : undefined;
};

export const canaryId = (canary: KubeObject): string => `${canary.metadata.namespace ?? 'default'}/${canary.metadata.name}`;
