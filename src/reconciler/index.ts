/**
 * The reconciler assembled from its parts: the cluster client, the git CLI and kubectl (for kustomize
 * builds), variable substitution and kstatus-style health. `fledge reconcile` and `fledge demo` start it.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import { ClientNodeKubeApi, impersonatingConfig } from '../kube/client.js';
import { buildDocuments } from './build.js';
import { createRunCommand } from './exec.js';
import { healthOf } from './health.js';
import type { Artifact } from './kustomization.js';
import type { KustomizationDeps, Outcome } from './kustomization.js';
import { Reconciler } from './reconciler.js';
import { substituteManifests, substituteText } from './substitute.js';
import type { SubstitutionTarget } from './substitute.js';

export interface CreateReconcilerOptions {
  config: k8s.KubeConfig;
  log: Logger;
  clock: Clock;
  workDir: string;
  /** Environment of the git and kubectl processes (PATH, HOME; the CLI passes its own). */
  env: Readonly<Record<string, string | undefined>>;
  kubectl?: string;
  namespace?: string;
  jitter?: number;
  healthPollMs?: number;
  onOutcome?(key: string, outcome: Outcome): void;
}

/** How an artifact is built; the diff command builds a local directory the same way. */
export const artifactBuilder =
  (run: ReturnType<typeof createRunCommand>, kubectl?: string) =>
  (artifact: Artifact, path: string): Promise<SubstitutionTarget[]> =>
    buildDocuments({ root: artifact.dir, path, run, ...(kubectl ? { kubectl } : {}), ...(artifact.ignore ? { ignore: artifact.ignore } : {}) });

/** Flux's post-build substitution; with no variables defined nothing is substituted, as in Flux. */
export const substitution: Pick<KustomizationDeps, 'substitute' | 'substituteText'> = {
  substitute: (objects, vars) => substituteManifests(objects, vars),
  substituteText: (text, vars) => (Object.keys(vars).length > 0 ? substituteText(text, vars) : text),
};

export const createReconciler = (opts: CreateReconcilerOptions): Reconciler => {
  const run = createRunCommand(opts.env);
  const asServiceAccount = new Map<string, ClientNodeKubeApi>();
  const impersonating = ({ namespace, name }: { namespace: string; name: string }): ClientNodeKubeApi => {
    const user = `system:serviceaccount:${namespace}:${name}`;
    let client = asServiceAccount.get(user);
    if (!client) asServiceAccount.set(user, (client = new ClientNodeKubeApi(impersonatingConfig(opts.config, user))));
    return client;
  };
  return new Reconciler({
    config: opts.config,
    client: new ClientNodeKubeApi(opts.config),
    impersonating,
    clock: opts.clock,
    log: opts.log,
    run,
    workDir: opts.workDir,
    build: artifactBuilder(run, opts.kubectl),
    ...substitution,
    health: healthOf,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.jitter !== undefined ? { jitter: opts.jitter } : {}),
    ...(opts.healthPollMs ? { healthPollMs: opts.healthPollMs } : {}),
    ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
  });
};

export { Reconciler } from './reconciler.js';
export { RECONCILER_FIELD_MANAGER } from './reconciler.js';
