/**
 * Component schemas of the OpenAPI documents: each kind's schema named as Kubernetes names it
 * (`app.flagger.v1beta1.Canary`, `io.k8s.api.apps.v1.Deployment`) and tagged with
 * `x-kubernetes-group-version-kind`, which is how `kubectl explain` finds it; list kinds; and the
 * apimachinery types they refer to (ObjectMeta, ListMeta, Status, Patch, DeleteOptions, Scale).
 * The same builders serve OpenAPI v3 (`#/components/schemas/`) and Swagger 2.0 (`#/definitions/`).
 */
import type { JsonObject, ResourceType } from './types.js';
import { isJsonObject } from './types.js';

export interface Flavor {
  v2: boolean;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
export const STATUS = `${META}.Status`;
export const PATCH = `${META}.Patch`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const SCALE = 'io.k8s.api.autoscaling.v1.Scale';
const OWNER_REFERENCE = `${META}.OwnerReference`;
const MANAGED_FIELDS_ENTRY = `${META}.ManagedFieldsEntry`;

export const refTo = (name: string, flavor: Flavor): string =>
  `${flavor.v2 ? '#/definitions/' : '#/components/schemas/'}${name}`;

/** A described reference: v3 wraps it in allOf (a sibling of $ref is ignored there), v2 keeps it plain. */
export const describedRef = (name: string, description: string, flavor: Flavor): JsonObject =>
  flavor.v2
    ? { $ref: refTo(name, flavor), description }
    : { allOf: [{ $ref: refTo(name, flavor) }], default: {}, description };

export const isCustom = (type: ResourceType): boolean => type.schema !== undefined || type.printerColumns !== undefined;

const K8S_API_GROUPS = new Set([
  'admissionregistration.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'rbac.authorization.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
]);

/** The definition name Kubernetes gives a kind: Go package path for built-ins, reversed group for CRDs. */
export const definitionName = (type: Pick<ResourceType, 'group' | 'version'>, kind: string, custom: boolean): string => {
  const { group, version } = type;
  if (!custom) {
    if (group === '') return `io.k8s.api.core.${version}.${kind}`;
    if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.${kind}`;
    if (group === 'apiregistration.k8s.io') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}.${kind}`;
    if (!group.includes('.') || K8S_API_GROUPS.has(group)) return `io.k8s.api.${group.split('.')[0]}.${version}.${kind}`;
  }
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
};

export const gvkExtension = (group: string, version: string, kind: string): JsonObject[] => [{ group, kind, version }];

const str = (description: string): JsonObject => ({ type: 'string', description });
const int64 = (description: string): JsonObject => ({ type: 'integer', format: 'int64', description });
const time = (description: string): JsonObject => ({ type: 'string', format: 'date-time', description });
const stringMap = (description: string): JsonObject => ({
  type: 'object',
  additionalProperties: { type: 'string', default: '' },
  description,
});

const API_VERSION = str(
  'APIVersion defines the versioned schema of this representation of an object; servers convert recognized schemas to the latest internal value and may reject unrecognized ones.',
);
const KIND = str('Kind is a string value naming the REST resource this object represents, in CamelCase; it cannot be updated.');

const objectMeta = (flavor: Flavor): JsonObject => ({
  description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  type: 'object',
  properties: {
    annotations: stringMap('Annotations is an unstructured key value map set by external tools to store arbitrary metadata.'),
    creationTimestamp: time('CreationTimestamp is the server time when this object was created (RFC 3339, UTC). Read-only.'),
    deletionGracePeriodSeconds: int64('Seconds allowed for this object to terminate gracefully before it is removed. Read-only.'),
    deletionTimestamp: time('DeletionTimestamp is the time after which this resource will be deleted; set by the server. Read-only.'),
    finalizers: {
      type: 'array',
      items: { type: 'string', default: '' },
      'x-kubernetes-list-type': 'set',
      description: 'Finalizers must be empty before the object is deleted from the registry.',
    },
    generateName: str('GenerateName is an optional prefix the server uses to generate a unique name when name is not provided.'),
    generation: int64('A sequence number representing a specific generation of the desired state. Read-only.'),
    labels: stringMap('Map of string keys and values that can be used to organize and categorize (scope and select) objects.'),
    managedFields: {
      type: 'array',
      items: describedRef(MANAGED_FIELDS_ENTRY, 'One field manager and the fields it manages.', flavor),
      description: 'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.',
    },
    name: str('Name must be unique within a namespace. It is required when creating resources, unless generateName is used. Cannot be updated.'),
    namespace: str('Namespace defines the space within which each name must be unique. Cannot be updated.'),
    ownerReferences: {
      type: 'array',
      items: describedRef(OWNER_REFERENCE, 'An object this object depends on.', flavor),
      'x-kubernetes-list-map-keys': ['uid'],
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-patch-merge-key': 'uid',
      'x-kubernetes-patch-strategy': 'merge',
      description: 'List of objects depended by this object; garbage collected when all owners are gone.',
    },
    resourceVersion: str('An opaque value that represents the internal version of this object, for optimistic concurrency and watches. Read-only.'),
    selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
    uid: str('UID is the unique in time and space value for this object, generated by the server. Read-only.'),
  },
});

const ownerReference = (): JsonObject => ({
  description: 'OwnerReference contains enough information to let you identify an owning object.',
  type: 'object',
  required: ['apiVersion', 'kind', 'name', 'uid'],
  properties: {
    apiVersion: str('API version of the referent.'),
    blockOwnerDeletion: { type: 'boolean', description: 'If true, the owner cannot be deleted from storage until this reference is removed.' },
    controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
  },
  'x-kubernetes-map-type': 'atomic',
});

const managedFieldsEntry = (): JsonObject => ({
  description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
  type: 'object',
  properties: {
    apiVersion: str('The version of the resource that this field set applies to.'),
    fieldsType: str('The discriminator for the format of fieldsV1; only "FieldsV1".'),
    fieldsV1: { type: 'object', description: 'The set of fields managed, in FieldsV1 form.' },
    manager: str('The identifier of the workflow managing these fields.'),
    operation: str('The kind of operation that led to this entry: Apply or Update.'),
    subresource: str('The subresource used to update this object, if any.'),
    time: time('When these fields were last changed.'),
  },
});

const listMeta = (): JsonObject => ({
  description: 'ListMeta describes metadata that synthetic resources must have, including lists.',
  type: 'object',
  properties: {
    continue: str('Set when more results are available; pass it back to the server to get the next set.'),
    remainingItemCount: int64('The number of items left after this page, when the server can tell.'),
    resourceVersion: str('The internal version of this list, usable to watch from this point.'),
    selfLink: str('Deprecated: no longer populated by the system.'),
  },
});

const status = (): JsonObject => ({
  description: 'Status is a return value for calls that do not return other objects.',
  type: 'object',
  properties: {
    apiVersion: API_VERSION,
    code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status.' },
    details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Extended data associated with the reason.' },
    kind: KIND,
    message: str('A human-readable description of the status of this operation.'),
    metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Standard list metadata.' },
    reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
    status: str('Status of the operation: "Success" or "Failure".'),
  },
  'x-kubernetes-group-version-kind': gvkExtension('', 'v1', 'Status'),
});

const deleteOptions = (): JsonObject => ({
  description: 'DeleteOptions may be provided when deleting an API object.',
  type: 'object',
  properties: {
    apiVersion: API_VERSION,
    dryRun: { type: 'array', items: { type: 'string', default: '' }, description: 'When present, modifications are not persisted ("All").' },
    gracePeriodSeconds: int64('The duration in seconds before the object should be deleted.'),
    kind: KIND,
    orphanDependents: { type: 'boolean', description: 'Deprecated: use propagationPolicy.' },
    preconditions: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Must be fulfilled before a deletion is carried out.' },
    propagationPolicy: str('Whether and how garbage collection is performed: Orphan, Background or Foreground.'),
  },
  'x-kubernetes-group-version-kind': gvkExtension('', 'v1', 'DeleteOptions'),
});

const scale = (flavor: Flavor): JsonObject => ({
  description: 'Scale represents a scaling request for a resource.',
  type: 'object',
  properties: {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: describedRef(OBJECT_META, "Standard object's metadata.", flavor),
    spec: {
      type: 'object',
      description: 'Defines the behavior of the scale.',
      properties: { replicas: { type: 'integer', format: 'int32', description: 'Desired number of instances for the scaled object.' } },
    },
    status: {
      type: 'object',
      description: 'The current status of the scale. Read-only.',
      required: ['replicas'],
      properties: {
        replicas: { type: 'integer', format: 'int32', description: 'Actual number of observed instances of the scaled object.' },
        selector: str('Label query over pods that should match the replicas count, in the serialized label selector form.'),
      },
    },
  },
  'x-kubernetes-group-version-kind': gvkExtension('autoscaling', 'v1', 'Scale'),
});

/** The apimachinery schemas every document carries (Scale only when a kind has a scale subresource). */
export const sharedSchemas = (flavor: Flavor, withScale: boolean): JsonObject => ({
  [DELETE_OPTIONS]: deleteOptions(),
  [LIST_META]: listMeta(),
  [MANAGED_FIELDS_ENTRY]: managedFieldsEntry(),
  [OBJECT_META]: objectMeta(flavor),
  [OWNER_REFERENCE]: ownerReference(),
  [PATCH]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
  [STATUS]: status(),
  ...(withScale ? { [SCALE]: scale(flavor) } : {}),
});

const METADATA_DESCRIPTION = "Standard object's metadata.";

/** Built-in kinds are schemaless here: open objects that still name their GVK and ObjectMeta. */
const NO_SPEC_KINDS = new Set(['ConfigMap', 'Secret', 'Event', 'ServiceAccount', 'Endpoints', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

const builtinSchema = (type: ResourceType, flavor: Flavor): JsonObject => {
  const open = (description: string): JsonObject => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
  const sections: JsonObject = NO_SPEC_KINDS.has(type.kind)
    ? {}
    : { spec: open(`Desired state of the ${type.kind}.`), status: open(`Most recently observed state of the ${type.kind}. Read-only.`) };
  return {
    description: `${type.kind} (served by the local cluster without a detailed schema).`,
    type: 'object',
    properties: { apiVersion: API_VERSION, kind: KIND, metadata: describedRef(OBJECT_META, METADATA_DESCRIPTION, flavor), ...sections },
    'x-kubernetes-preserve-unknown-fields': true,
  };
};

/**
 * Swagger 2.0 cannot say what structural schemas say; like the apiserver, drop what kubectl's v2
 * reader mishandles: value-validation combinators, nullable (with its type), and the properties/items of
 * nodes that preserve unknown fields.
 */
const toV2 = (node: JsonObject): JsonObject => {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (['allOf', 'anyOf', 'oneOf', 'not', 'nullable'].includes(key)) continue;
    if (key === 'properties' && isJsonObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isJsonObject(v) ? toV2(v) : v]));
    } else if ((key === 'items' || key === 'additionalProperties') && isJsonObject(value)) {
      out[key] = toV2(value);
    } else {
      out[key] = value;
    }
  }
  if (node.nullable === true) {
    delete out.type;
    delete out.properties;
    delete out.items;
  }
  if (node['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.properties;
    delete out.items;
  }
  if (out.type === 'array' && out.items === undefined) delete out.type;
  return out;
};

const customSchema = (type: ResourceType, flavor: Flavor): JsonObject => {
  const source = structuredClone(type.schema ?? { type: 'object' });
  if (flavor.v2 && source['x-kubernetes-preserve-unknown-fields'] === true) return { type: 'object' };
  const schema = flavor.v2 ? toV2(source) : source;
  const properties = isJsonObject(schema.properties) ? schema.properties : {};
  schema.properties = {
    ...properties,
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: describedRef(OBJECT_META, METADATA_DESCRIPTION, flavor),
  };
  return schema;
};

/** The kind's schema and its list's, keyed by definition name. */
export const kindSchemas = (type: ResourceType, flavor: Flavor): JsonObject => {
  const custom = isCustom(type);
  const name = definitionName(type, type.kind, custom);
  const listName = definitionName(type, type.listKind, custom);
  const schema = custom ? customSchema(type, flavor) : builtinSchema(type, flavor);
  schema['x-kubernetes-group-version-kind'] = gvkExtension(type.group, type.version, type.kind);
  const list: JsonObject = {
    description: `${type.listKind} is a list of ${type.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: API_VERSION,
      items: { type: 'array', items: { $ref: refTo(name, flavor) }, description: `List of ${type.plural}.` },
      kind: KIND,
      metadata: describedRef(LIST_META, 'Standard list metadata.', flavor),
    },
    'x-kubernetes-group-version-kind': gvkExtension(type.group, type.version, type.listKind),
  };
  return { [name]: schema, [listName]: list };
};
