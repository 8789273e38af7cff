/** The built-in kinds the local cluster serves. CRDs add more at run time (see registry.ts). */
import type { ResourceType } from './types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface BuiltinSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
}

const builtin = (s: BuiltinSpec): ResourceType => ({
  group: s.group,
  version: s.version,
  kind: s.kind,
  listKind: `${s.kind}List`,
  plural: s.plural,
  singular: s.kind.toLowerCase(),
  namespaced: s.namespaced ?? true,
  shortNames: s.shortNames ?? [],
  categories: s.categories ?? [],
  verbs: ALL_VERBS,
  subresources: s.subresources ?? [],
});

export const builtinResourceTypes = (): ResourceType[] => [
  builtin({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], subresources: ['status'] }),
  builtin({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'] }),
  builtin({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets' }),
  builtin({ group: '', version: 'v1', kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  builtin({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'] }),
  builtin({ group: '', version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'] }),
  builtin({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', shortNames: ['po'], categories: ['all'], subresources: ['status'] }),
  builtin({ group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
  builtin({ group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', shortNames: ['pvc'], subresources: ['status'] }),
  builtin({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  builtin({ group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  builtin({ group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] }),
  builtin({ group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  builtin({ group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', categories: ['all'], subresources: ['status'] }),
  builtin({ group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  builtin({ group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', shortNames: ['quota'], subresources: ['status'] }),
  builtin({ group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', shortNames: ['limits'] }),
  builtin({ group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'] }),
  builtin({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', shortNames: ['netpol'] }),
  builtin({ group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions' }),
  builtin({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
  builtin({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases' }),
  builtin({ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', shortNames: ['ing'], subresources: ['status'] }),
  builtin({ group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false }),
  builtin({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'] }),
  builtin({ group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', shortNames: ['pdb'], subresources: ['status'] }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles' }),
  builtin({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings' }),
  builtin({ group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'], subresources: ['status'] }),
];
