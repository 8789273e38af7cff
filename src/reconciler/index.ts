/**
 * The reconciler assembled from its parts: the cluster client, the git CLI and kubectl (for kustomize
 * builds), variable substitution and kstatus-style health. `fledge reconcile` and `fledge demo` start it.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { KubeObject } from '../kube/api.js';
import { ClientNodeKubeApi } from '../kube/client.js';
import { buildManifests } from './build.js';
import { createRunCommand } from './exec.js';
import { healthOf } from './health.js';
import type { Artifact } from './kustomization.js';
import type { Outcome } from './kustomization.js';
import { Reconciler } from './reconciler.js';
import { substituteManifests } from './substitute.js';

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
  (artifact: Artifact, path: string): Promise<KubeObject[]> =>
    buildManifests({ root: artifact.dir, path, run, ...(kubectl ? { kubectl } : {}), ...(artifact.ignore ? { ignore: artifact.ignore } : {}) });

export const createReconciler = (opts: CreateReconcilerOptions): Reconciler => {
  const run = createRunCommand(opts.env);
  return new Reconciler({
    config: opts.config,
    client: new ClientNodeKubeApi(opts.config),
    clock: opts.clock,
    log: opts.log,
    run,
    workDir: opts.workDir,
    build: artifactBuilder(run, opts.kubectl),
    substitute: (objects, vars) => substituteManifests(objects, vars),
    health: healthOf,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.jitter !== undefined ? { jitter: opts.jitter } : {}),
    ...(opts.healthPollMs ? { healthPollMs: opts.healthPollMs } : {}),
    ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
  });
};

export { Reconciler } from './reconciler.js';
export { RECONCILER_FIELD_MANAGER } from './reconciler.js';
