/**
 * `fledge reconcile`: runs the Flux-style reconciler, or, given `kustomization NAME` / `source NAME`,
 * asks the running one for an immediate run (Flux's requestedAt annotation) and waits for its outcome.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { systemClock } from '../api/clock.js';
import { ClientNodeKubeApi } from '../kube/client.js';
import type { KubeObject, ObjectRef } from '../kube/api.js';
import { createReconciler } from '../reconciler/index.js';
import { conditionsOf } from '../reconciler/conditions.js';
import { GIT_REPOSITORY_API, KUSTOMIZATION_API, LOCAL_DIRECTORY_API, REQUESTED_AT } from '../reconciler/types.js';
import { CLUSTER_FLAGS, contextNamespace, loadKubeConfig } from './kubeconfig.js';
import type { Command } from './main.js';

const HELP = `Usage:
  fledge reconcile [flags]                                   run the reconciler (until Ctrl-C)
  fledge reconcile kustomization NAME [-n NS] [--with-source] ask for an immediate run and wait for it
  fledge reconcile source NAME [-n NS] [--kind LocalDirectory] ask a source for an immediate fetch

Flags:
  --kubeconfig FILE   kubeconfig to use (default: $KUBECONFIG, ~/.kube/config)
  -n, --namespace NS  namespace (reconciler: watch only this one; default all)
  --work-dir DIR      where clones and artifacts are kept (default: a new temporary directory)
  --kubectl PATH      kubectl used for kustomize builds (default: kubectl on PATH)
  --timeout D         how long a one-shot request waits, in seconds (default 120)
  --log-level L       pino level (default info)

Example:
  fledge reconcile kustomization podinfo -n default --with-source

Exit codes: 0 Ready, 1 reconciled but not Ready (or timed out), 2 usage or connection error.`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sets requestedAt and waits until status.lastHandledReconcileAt echoes it; returns the object then. */
export const requestReconcile = async (kube: ClientNodeKubeApi, ref: ObjectRef, timeoutMs: number): Promise<KubeObject | undefined> => {
  const stamp = new Date().toISOString();
  await kube.mergePatch(ref, { metadata: { annotations: { [REQUESTED_AT]: stamp } } });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const o = await kube.get(ref);
    if ((o?.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt === stamp) return o;
    await sleep(250);
  }
  return undefined;
};

const runLoop = async (values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): Promise<number> => {
  const config = loadKubeConfig(values.kubeconfig as string | undefined, env);
  const log = pino({ level: (values['log-level'] as string) ?? 'info' });
  const workDir = (values['work-dir'] as string | undefined) ?? mkdtempSync(join(tmpdir(), 'fledge-reconciler-'));
  const reconciler = createReconciler({
    config,
    log,
    clock: systemClock(),
    workDir,
    env,
    ...(values.kubectl ? { kubectl: values.kubectl as string } : {}),
    ...(values.namespace ? { namespace: values.namespace as string } : {}),
  });
  await reconciler.start();
  log.info({ workDir }, 'reconciler started');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await reconciler.stop();
  return 0;
};

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'Run the Flux-style reconciler, or ask it to reconcile a Kustomization or source now',
  async run(args, env) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...CLUSTER_FLAGS,
          'work-dir': { type: 'string' },
          kubectl: { type: 'string' },
          'with-source': { type: 'boolean', default: false },
          kind: { type: 'string', default: 'GitRepository' },
          timeout: { type: 'string', default: '120' },
          'log-level': { type: 'string', default: 'info' },
        },
      });
    } catch (e) {
      console.error(`fledge reconcile: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length === 0) return runLoop(values, env);
    const [what, name] = positionals;
    if (!name || (what !== 'kustomization' && what !== 'ks' && what !== 'source')) {
      console.error(`fledge reconcile: expected "kustomization NAME" or "source NAME"\n\n${HELP}`);
      return 2;
    }
    const config = loadKubeConfig(values.kubeconfig, env);
    const kube = new ClientNodeKubeApi(config);
    const namespace = values.namespace ?? contextNamespace(config);
    const timeoutMs = Number(values.timeout) * 1000;
    try {
      const kustomization: ObjectRef = { apiVersion: KUSTOMIZATION_API, kind: 'Kustomization', name, namespace };
      let target: ObjectRef = kustomization;
      if (what === 'source') target = { apiVersion: values.kind === 'LocalDirectory' ? LOCAL_DIRECTORY_API : GIT_REPOSITORY_API, kind: values.kind, name, namespace };
      const live = await kube.get(target);
      if (!live) {
        console.error(`fledge reconcile: ${target.kind} ${namespace}/${name} not found (list them with: fledge get ${what === 'source' ? 'sources' : 'kustomizations'} -n ${namespace})`);
        return 1;
      }
      if (what !== 'source' && values['with-source']) {
        const src = (live.spec as { sourceRef?: { kind: string; name: string; namespace?: string } }).sourceRef;
        if (src) {
          const api = src.kind === 'LocalDirectory' ? LOCAL_DIRECTORY_API : GIT_REPOSITORY_API;
          console.log(`► asking ${src.kind} ${src.namespace ?? namespace}/${src.name} to fetch`);
          await requestReconcile(kube, { apiVersion: api, kind: src.kind, name: src.name, namespace: src.namespace ?? namespace }, timeoutMs);
        }
      }
      console.log(`► asking ${target.kind} ${namespace}/${name} to reconcile`);
      const done = await requestReconcile(kube, target, timeoutMs);
      if (!done) {
        console.error(`✗ no reconciler handled the request within ${values.timeout}s (is "fledge reconcile" running against this cluster?)`);
        return 1;
      }
      const ready = conditionsOf(done.status).find((c) => c.type === 'Ready');
      console.log(`${ready?.status === 'True' ? '✔' : '✗'} ${ready?.message ?? 'no Ready condition'}`);
      return ready?.status === 'True' ? 0 : 1;
    } catch (e) {
      console.error(`fledge reconcile: ${(e as Error).message}`);
      return 2;
    }
  },
};
