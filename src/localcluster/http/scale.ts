/** The scale subresource (autoscaling/v1 Scale) of Deployments, StatefulSets, ReplicaSets and CRDs that declare it. */
import { ApiError } from '../errors.js';
import { applyJsonPatch } from '../patch/json-patch.js';
import { applyMergePatch } from '../patch/merge-patch.js';
import { labelSelectorFromObject, labelSelectorToString } from '../selectors.js';
import type { ApiService, WriteOptions } from '../service.js';
import type { JsonObject, JsonValue, KubeObject, ResourceType } from '../types.js';
import { isJsonObject } from '../types.js';
import { getPath, setPath } from '../util.js';

const paths = (type: ResourceType): { spec: string; status: string; selector?: string } =>
  type.scale
    ? { spec: type.scale.specReplicasPath, status: type.scale.statusReplicasPath, ...(type.scale.labelSelectorPath ? { selector: type.scale.labelSelectorPath } : {}) }
    : { spec: '.spec.replicas', status: '.status.replicas' };

export const scaleOf = (type: ResourceType, o: KubeObject): JsonObject => {
  const p = paths(type);
  let selector: string | undefined;
  if (p.selector) {
    const v = getPath(o, p.selector);
    selector = typeof v === 'string' ? v : undefined;
  } else {
    const sel = getPath(o, '.spec.selector');
    if (isJsonObject(sel)) selector = labelSelectorToString(labelSelectorFromObject(sel));
  }
  const specReplicas = getPath(o, p.spec);
  const statusReplicas = getPath(o, p.status);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name ?? '',
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      uid: o.metadata.uid ?? '',
      resourceVersion: o.metadata.resourceVersion ?? '',
      creationTimestamp: o.metadata.creationTimestamp ?? '',
    },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, ...(selector ? { selector } : {}) },
  };
};

/** PUT or PATCH of a Scale: computes the wanted replicas and writes them to the owning object. */
export const scaleUpdate = (
  svc: ApiService,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  method: string,
  body: string,
  contentType: string,
  opts: WriteOptions,
): JsonObject => {
  const live = svc.get(type, namespace, name);
  const current = scaleOf(type, live);
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(body) as JsonValue;
  } catch {
    throw new ApiError('BadRequest', 'the body of the request was not valid JSON');
  }
  let next: JsonValue;
  if (method === 'PUT') next = parsed;
  else if (contentType.startsWith('application/json-patch+json')) next = applyJsonPatch(current, parsed);
  else next = applyMergePatch(current, parsed);
  const replicas = isJsonObject(next) && isJsonObject(next.spec) ? next.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError('Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
  }
  const updated = setPath(live as unknown as JsonObject, paths(type).spec, replicas) as unknown as KubeObject;
  const result = svc.update(type, namespace, name, updated, opts);
  return scaleOf(type, result.object);
};
