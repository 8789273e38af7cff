/**
 * Kustomization `spec.patches`: each patch is either a YAML/JSON list of JSON6902 operations or a
 * partial object merged strategically (Kubernetes' built-in list semantics, e.g. containers by name),
 * applied to the build objects its target selects. A patch that selects nothing is an error, as in
 * kustomize, because it almost always means a typo in the target.
 */
import { parse as parseYaml } from 'yaml';
import { FledgeError } from '../api/index.js';
import type { KubeObject } from '../kube/api.js';
// The patch algorithms are pure functions shared with the local cluster's API server.
import { applyJsonPatch } from '../localcluster/patch/json-patch.js';
import { builtinMergeSchema } from '../localcluster/patch/list-semantics.js';
import { applyStrategicMergePatch } from '../localcluster/patch/strategic-merge.js';
import { describe, groupOf, versionOf } from './inventory.js';
import type { ObjectSelector } from './types.js';

type Json = Parameters<typeof applyJsonPatch>[0];
type JsonObject = Parameters<typeof applyStrategicMergePatch>[0];

const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

/** Equality-based label selectors (`a=b,c!=d,e`); set-based ones are refused by name. */
const labelsMatch = (selector: string, labels: Record<string, string>): boolean =>
  selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      if (/\s(in|notin)\s/.test(term)) throw new FledgeError('BuildFailed', `patch target labelSelector "${selector}": set-based selectors are not supported; use key=value terms`);
      const neq = term.match(/^([^!=]+)!=(.*)$/);
      if (neq) return labels[neq[1]!.trim()] !== neq[2]!.trim();
      const eq = term.match(/^([^=]+)==?(.*)$/);
      if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });

export const selects = (target: ObjectSelector | undefined, o: KubeObject): boolean => {
  if (!target) return true;
  if (target.kind !== undefined && target.kind !== o.kind) return false;
  if (target.group !== undefined && target.group !== groupOf(o.apiVersion)) return false;
  if (target.version !== undefined && target.version !== versionOf(o.apiVersion)) return false;
  if (target.name !== undefined && !anchored(target.name).test(o.metadata.name)) return false;
  if (target.namespace !== undefined && !anchored(target.namespace).test(o.metadata.namespace ?? '')) return false;
  if (target.labelSelector !== undefined && !labelsMatch(target.labelSelector, o.metadata.labels ?? {})) return false;
  return true;
};

/** Applies every patch in order; returns new objects, the input is left as it was. */
export const applyPatches = (objects: KubeObject[], patches: Array<{ patch: string; target?: ObjectSelector }>): KubeObject[] => {
  let out = objects;
  patches.forEach(({ patch, target }, index) => {
    const at = `spec.patches[${index}]`;
    let parsed: unknown;
    try {
      parsed = parseYaml(patch);
    } catch (e) {
      throw new FledgeError('BuildFailed', `${at}.patch: not valid YAML: ${(e as Error).message}`);
    }
    const isJson6902 = Array.isArray(parsed);
    if (!isJson6902 && (typeof parsed !== 'object' || parsed === null)) {
      throw new FledgeError('BuildFailed', `${at}.patch: must be a list of JSON6902 operations or a partial object`);
    }
    // A strategic-merge patch without a target selects by its own kind and name, as kustomize does.
    const partial = parsed as Partial<KubeObject>;
    const selector = target ?? (isJson6902 ? undefined : { kind: partial.kind, name: partial.metadata?.name });
    let matched = 0;
    out = out.map((o) => {
      if (!selects(selector, o)) return o;
      matched += 1;
      try {
        const result = isJson6902
          ? applyJsonPatch(o as unknown as Json, parsed)
          : applyStrategicMergePatch(o as unknown as JsonObject, parsed as JsonObject, builtinMergeSchema);
        return result as unknown as KubeObject;
      } catch (e) {
        throw new FledgeError('BuildFailed', `${at}: patching ${describe(o)} failed: ${(e as Error).message}`);
      }
    });
    if (matched === 0) throw new FledgeError('BuildFailed', `${at}.target: selects no object of the build`);
  });
  return out;
};
