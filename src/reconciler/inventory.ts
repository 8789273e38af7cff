/**
 * Object identity and apply order. An inventory entry is Flux's: id `<namespace>_<name>_<group>_<kind>`
 * (namespace empty for cluster-scoped objects, group empty for the core group) and `v` the version, so a
 * Kustomization status written by Fledge reads the same as one written by kustomize-controller.
 */
import type { KubeObject, ObjectRef } from '../kube/api.js';

export interface InventoryEntry {
  id: string;
  v: string;
}

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');
export const versionOf = (apiVersion: string): string => apiVersion.split('/').pop() ?? apiVersion;

export const entryOf = (o: KubeObject): InventoryEntry => ({
  id: `${o.metadata.namespace ?? ''}_${o.metadata.name}_${groupOf(o.apiVersion)}_${o.kind}`,
  v: versionOf(o.apiVersion),
});

/** The object an entry names; names may hold no underscore, so the id splits unambiguously. */
export const refOfEntry = (entry: InventoryEntry): ObjectRef => {
  const [namespace = '', name = '', group = '', kind = ''] = entry.id.split('_');
  return { apiVersion: group ? `${group}/${entry.v}` : entry.v, kind, name, ...(namespace ? { namespace } : {}) };
};

/** `Deployment/default/podinfo`, the way objects are named in events and messages. */
export const describe = (o: { kind: string; metadata?: { name: string; namespace?: string }; name?: string; namespace?: string }): string => {
  const name = o.metadata?.name ?? o.name ?? '';
  const namespace = o.metadata?.namespace ?? o.namespace;
  return namespace ? `${o.kind}/${namespace}/${name}` : `${o.kind}/${name}`;
};

/**
 * Stage 1: what the rest depends on existing (definitions and namespaces), applied and waited for first;
 * stage 2: `*Class` kinds, which other objects name; stage 3: everything else.
 */
export const stageOf = (o: { apiVersion: string; kind: string }): 1 | 2 | 3 => {
  if (['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) return 1;
  if (o.kind.endsWith('Class')) return 2;
  return 3;
};

// Dependencies before dependants, as kubectl/kustomize order them; kinds not listed go after, by name,
// and webhook configurations last so they never intercept the objects they are shipped with.
const KIND_ORDER = [
  'Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount', 'Role', 'ClusterRole',
  'RoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'Endpoints', 'Service', 'LimitRange', 'PriorityClass',
  'PersistentVolume', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob',
  'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress',
];
const LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

const rank = (kind: string): number => {
  const i = KIND_ORDER.indexOf(kind);
  if (i >= 0) return i;
  return LAST.includes(kind) ? KIND_ORDER.length + 1 + LAST.indexOf(kind) : KIND_ORDER.length;
};

/** Apply order: by stage, then kind rank, then kind, namespace and name (deterministic). */
export const applyOrder = (a: KubeObject, b: KubeObject): number =>
  stageOf(a) - stageOf(b) ||
  rank(a.kind) - rank(b.kind) ||
  a.kind.localeCompare(b.kind) ||
  (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
  a.metadata.name.localeCompare(b.metadata.name);
