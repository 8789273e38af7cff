/**
 * `fledge diff kustomization NAME --path DIR`: what reconciling the local DIR as that Kustomization
 * would change, computed with server-side dry runs (nothing is written), like `flux diff kustomization`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClientNodeKubeApi } from '../kube/client.js';
import { placed } from '../reconciler/apply.js';
import { diffObjects } from '../reconciler/diff.js';
import { createRunCommand } from '../reconciler/exec.js';
import { artifactBuilder, RECONCILER_FIELD_MANAGER, substitution } from '../reconciler/index.js';
import { inventoryOf, prepareObjects } from '../reconciler/kustomization.js';
import { KUSTOMIZATION_API, parseKustomization } from '../reconciler/types.js';
import { CLUSTER_FLAGS, contextNamespace, loadKubeConfig } from './kubeconfig.js';
import type { Command } from './main.js';

const HELP = `Usage: fledge diff kustomization NAME --path DIR [-n NS] [--kubeconfig FILE] [--kubectl PATH]

Builds DIR (the local copy of the Kustomization's spec.path) with the Kustomization's patches and
variables, and shows per object whether it would be created, configured (with a YAML diff against the
cluster, from a server-side dry run) or deleted. Secret values are masked.

Example:
  fledge diff kustomization podinfo --path ./deploy/podinfo

Exit codes: 0 nothing would change, 1 something would change, 2 usage, build or connection error.`;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Preview what a Kustomization would change if a local directory were applied',
  async run(args, env) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { ...CLUSTER_FLAGS, path: { type: 'string' }, kubectl: { type: 'string' } },
      });
    } catch (e) {
      console.error(`fledge diff: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const [what, name] = positionals;
    if (!['kustomization', 'ks'].includes(what ?? '') || !name || !values.path) {
      console.error(`fledge diff: expected "kustomization NAME --path DIR"\n\n${HELP}`);
      return 2;
    }
    try {
      const config = loadKubeConfig(values.kubeconfig, env);
      const kube = new ClientNodeKubeApi(config);
      const namespace = values.namespace ?? contextNamespace(config);
      const raw = await kube.get({ apiVersion: KUSTOMIZATION_API, kind: 'Kustomization', name, namespace });
      if (!raw) {
        console.error(`fledge diff: Kustomization ${namespace}/${name} not found (list them with: fledge get kustomizations -n ${namespace})`);
        return 2;
      }
      const k = parseKustomization(raw);
      const build = artifactBuilder(createRunCommand(env), values.kubectl);
      const objects = await prepareObjects(k, { revision: 'local', dir: resolve(values.path) }, { build: (a) => build(a, ''), ...substitution, client: kube });
      const place = { defaultNamespace: k.metadata.namespace, ...(k.spec.targetNamespace ? { targetNamespace: k.spec.targetNamespace } : {}) };
      const ready = await Promise.all(objects.map((o) => placed(kube, o, place)));
      const entries = await diffObjects(kube, ready, k.spec.prune ? inventoryOf(raw) : [], RECONCILER_FIELD_MANAGER);
      let changed = 0;
      for (const e of entries) {
        if (e.action === 'unchanged') continue;
        if (e.action !== 'skipped') changed += 1;
        console.log(`► ${e.subject} ${e.action}${e.action === 'skipped' ? ' (kustomize.toolkit.fluxcd.io/reconcile: disabled)' : ''}`);
        if (e.diff) console.log(e.diff.replace(/^/gm, '    '));
      }
      if (changed === 0) console.log('✔ no changes');
      return changed === 0 ? 0 : 1;
    } catch (e) {
      console.error(`fledge diff: ${(e as Error).message}`);
      return 2;
    }
  },
};
