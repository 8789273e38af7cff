/**
 * `fledge get kustomizations|sources`, `fledge suspend|resume kustomization|source NAME`: the everyday
 * Flux commands, against the same resources, so `flux` and `fledge` can be used side by side.
 */
import { parseArgs } from 'node:util';
import type { KubeObject } from '../kube/api.js';
import { ClientNodeKubeApi } from '../kube/client.js';
import { conditionsOf } from '../reconciler/conditions.js';
import { GIT_REPOSITORY_API, KUSTOMIZATION_API, LOCAL_DIRECTORY_API } from '../reconciler/types.js';
import { CLUSTER_FLAGS, contextNamespace, loadKubeConfig } from './kubeconfig.js';
import type { Command } from './main.js';

const KINDS = {
  kustomization: [{ apiVersion: KUSTOMIZATION_API, kind: 'Kustomization' }],
  source: [
    { apiVersion: GIT_REPOSITORY_API, kind: 'GitRepository' },
    { apiVersion: LOCAL_DIRECTORY_API, kind: 'LocalDirectory' },
  ],
} as const;

const subjectOf = (word: string | undefined): keyof typeof KINDS | undefined => {
  if (word === undefined) return undefined;
  if (['kustomization', 'kustomizations', 'ks'].includes(word)) return 'kustomization';
  if (['source', 'sources', 'gitrepository', 'gitrepositories', 'localdirectory'].includes(word)) return 'source';
  return undefined;
};

const options = { ...CLUSTER_FLAGS, 'all-namespaces': { type: 'boolean', short: 'A', default: false } } as const;

/** One row per object: NAMESPACE NAME REVISION SUSPENDED READY MESSAGE, like `flux get`. */
export const renderRows = (objects: KubeObject[], allNamespaces: boolean): string => {
  const rows = objects.map((o) => {
    const status = (o.status ?? {}) as { lastAppliedRevision?: string; artifact?: { revision?: string } };
    const ready = conditionsOf(o.status).find((c) => c.type === 'Ready');
    return [
      ...(allNamespaces ? [o.metadata.namespace ?? ''] : []),
      `${o.kind === 'Kustomization' ? '' : `${o.kind.toLowerCase()}/`}${o.metadata.name}`,
      status.lastAppliedRevision ?? status.artifact?.revision ?? '',
      String((o.spec as { suspend?: boolean } | undefined)?.suspend ?? false),
      ready?.status ?? 'Unknown',
      (ready?.message ?? '').split('\n')[0] ?? '',
    ];
  });
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'REVISION', 'SUSPENDED', 'READY', 'MESSAGE'];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
};

export const getCommand: Command = {
  name: 'get',
  summary: 'List Kustomizations or sources with revision and readiness (fledge get kustomizations)',
  async run(args, env) {
    let parsed;
    try {
      parsed = parseArgs({ args, allowPositionals: true, options });
    } catch (e) {
      console.error(`fledge get: ${(e as Error).message}`);
      return 2;
    }
    const subject = subjectOf(parsed.positionals[0]);
    if (parsed.values.help || !subject) {
      console.log('Usage: fledge get kustomizations|sources [-n NS | -A] [--kubeconfig FILE]\n\nExample:\n  fledge get kustomizations -A');
      return parsed.values.help ? 0 : 2;
    }
    try {
      const config = loadKubeConfig(parsed.values.kubeconfig, env);
      const kube = new ClientNodeKubeApi(config);
      const all = parsed.values['all-namespaces'];
      const namespace = all ? undefined : (parsed.values.namespace ?? contextNamespace(config));
      const objects = (await Promise.all(KINDS[subject].map((k) => kube.list(k.apiVersion, k.kind, namespace)))).flat();
      if (objects.length === 0) {
        console.log(`no ${subject === 'source' ? 'sources' : 'Kustomizations'} found${namespace ? ` in namespace ${namespace}` : ''}`);
        return 0;
      }
      console.log(renderRows(objects, all));
      return 0;
    } catch (e) {
      console.error(`fledge get: ${(e as Error).message}`);
      return 2;
    }
  },
};

const suspension = (suspend: boolean): Command => ({
  name: suspend ? 'suspend' : 'resume',
  summary: suspend ? 'Stop reconciling a Kustomization or source (spec.suspend)' : 'Reconcile a suspended Kustomization or source again',
  async run(args, env) {
    const verb = suspend ? 'suspend' : 'resume';
    let parsed;
    try {
      parsed = parseArgs({ args, allowPositionals: true, options: { ...options, kind: { type: 'string', default: 'GitRepository' } } });
    } catch (e) {
      console.error(`fledge ${verb}: ${(e as Error).message}`);
      return 2;
    }
    const subject = subjectOf(parsed.positionals[0]);
    const name = parsed.positionals[1];
    if (parsed.values.help || !subject || !name) {
      console.log(`Usage: fledge ${verb} kustomization|source NAME [-n NS] [--kind LocalDirectory]\n\nExample:\n  fledge ${verb} kustomization podinfo -n default`);
      return parsed.values.help ? 0 : 2;
    }
    try {
      const config = loadKubeConfig(parsed.values.kubeconfig, env);
      const kube = new ClientNodeKubeApi(config);
      const namespace = parsed.values.namespace ?? contextNamespace(config);
      const kind = KINDS[subject].find((k) => subject === 'kustomization' || k.kind === parsed.values.kind);
      if (!kind) {
        console.error(`fledge ${verb}: --kind must be GitRepository or LocalDirectory`);
        return 2;
      }
      const ref = { ...kind, name, namespace };
      if (!(await kube.get(ref))) {
        console.error(`fledge ${verb}: ${kind.kind} ${namespace}/${name} not found (list them with: fledge get ${subject}s -n ${namespace})`);
        return 1;
      }
      await kube.mergePatch(ref, { spec: { suspend } });
      console.log(`✔ ${kind.kind} ${namespace}/${name} ${suspend ? 'suspended' : 'resumed'}`);
      return 0;
    } catch (e) {
      console.error(`fledge ${verb}: ${(e as Error).message}`);
      return 2;
    }
  },
});

export const suspendCommand = suspension(true);
export const resumeCommand = suspension(false);
