/**
 * How a list inside an object merges. Strategic merge patch and server-side apply both need to know
 * whether a list is atomic (replaced whole), a set of scalars, or a map keyed by some fields of its items.
 * CRDs say so in their schema (x-kubernetes-list-type / x-kubernetes-list-map-keys); built-in kinds carry
 * it in Go struct tags upstream, so we keep the subset we serve in a table here.
 */
import type { JsonObject } from '../types.js';
import { isJsonObject } from '../types.js';

export interface ListSemantics {
  type: 'atomic' | 'set' | 'map';
  /** For `map`: the fields that identify an item. */
  keys?: string[];
}

/** Answers, for a path of field names from the object root (list items are not part of the path). */
export interface MergeSchema {
  listAt(path: readonly string[]): ListSemantics;
  /** Whether the map at this path is atomic (x-kubernetes-map-type: atomic); default false. */
  atomicMapAt?(path: readonly string[]): boolean;
}

const ATOMIC: ListSemantics = { type: 'atomic' };

/** Rules by the tail of the path, most specific first. */
const builtinRules: Array<{ suffix: string[]; rule: ListSemantics }> = [
  { suffix: ['containers', 'ports'], rule: { type: 'map', keys: ['containerPort', 'protocol'] } },
  { suffix: ['initContainers', 'ports'], rule: { type: 'map', keys: ['containerPort', 'protocol'] } },
  { suffix: ['spec', 'ports'], rule: { type: 'map', keys: ['port', 'protocol'] } },
  { suffix: ['containers'], rule: { type: 'map', keys: ['name'] } },
  { suffix: ['initContainers'], rule: { type: 'map', keys: ['name'] } },
  { suffix: ['ephemeralContainers'], rule: { type: 'map', keys: ['name'] } },
  { suffix: ['volumes'], rule: { type: 'map', keys: ['name'] } },
  { suffix: ['env'], rule: { type: 'map', keys: ['name'] } },
  { suffix: ['volumeMounts'], rule: { type: 'map', keys: ['mountPath'] } },
  { suffix: ['volumeDevices'], rule: { type: 'map', keys: ['devicePath'] } },
  { suffix: ['imagePullSecrets'], rule: { type: 'map', keys: ['name'] } },
  { suffix: ['hostAliases'], rule: { type: 'map', keys: ['ip'] } },
  { suffix: ['conditions'], rule: { type: 'map', keys: ['type'] } },
  { suffix: ['metadata', 'ownerReferences'], rule: { type: 'map', keys: ['uid'] } },
  { suffix: ['metadata', 'finalizers'], rule: { type: 'set' } },
];

const endsWith = (path: readonly string[], suffix: string[]): boolean =>
  path.length >= suffix.length && suffix.every((s, i) => path[path.length - suffix.length + i] === s);

/** Maps that built-in kinds own whole (Go's structType=atomic): label selectors of workloads and Services. */
const atomicMaps: string[][] = [['spec', 'selector']];

/** The merge schema of built-in kinds (Deployment, Service, Pod, ...). */
export const builtinMergeSchema: MergeSchema = {
  listAt(path) {
    for (const { suffix, rule } of builtinRules) if (endsWith(path, suffix)) return rule;
    return ATOMIC;
  },
  atomicMapAt(path) {
    return atomicMaps.some((m) => m.length === path.length && m.every((p, i) => p === path[i]));
  },
};

/**
 * The merge schema of a CRD, read from its OpenAPI v3 schema. Lists default to atomic, as in
 * Kubernetes. metadata lists follow the built-in rules.
 */
export const schemaMergeSchema = (root: JsonObject | undefined): MergeSchema => {
  const nodeAt = (path: readonly string[]): JsonObject | undefined => {
    let node: JsonObject | undefined = root;
    for (const field of path) {
      if (!node) return undefined;
      const items = node.items;
      if (node.type === 'array' && isJsonObject(items)) node = items;
      const props = node.properties;
      const additional = node.additionalProperties;
      if (isJsonObject(props) && isJsonObject(props[field])) node = props[field] as JsonObject;
      else if (isJsonObject(additional)) node = additional;
      else return undefined;
    }
    return node;
  };
  return {
    listAt(path) {
      if (path[0] === 'metadata') return builtinMergeSchema.listAt(path);
      const node = nodeAt(path);
      if (!node) return ATOMIC;
      const type = node['x-kubernetes-list-type'];
      if (type === 'set') return { type: 'set' };
      if (type === 'map') {
        const keys = node['x-kubernetes-list-map-keys'];
        return { type: 'map', keys: Array.isArray(keys) ? keys.map(String) : [] };
      }
      return ATOMIC;
    },
    atomicMapAt(path) {
      return nodeAt(path)?.['x-kubernetes-map-type'] === 'atomic';
    },
  };
};
