/**
 * PATCH: picks the algorithm from the Content-Type, as kube-apiserver does, and turns the patched
 * object into an update (or, for server-side apply of a missing object, a create).
 */
import { parse as parseYaml } from 'yaml';
import { applyPatch as serverSideApply } from './apply/index.js';
import { ApiError } from './errors.js';
import { applyJsonPatch } from './patch/json-patch.js';
import { applyMergePatch } from './patch/merge-patch.js';
import { applyStrategicMergePatch } from './patch/strategic-merge.js';
import type { ApiService, WriteOptions, WriteResult } from './service.js';
import type { JsonObject, JsonValue, KubeObject, ResourceType } from './types.js';
import { apiVersionOf, isJsonObject } from './types.js';
import { clone } from './util.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export interface PatchRequest {
  contentType: string;
  body: string;
  force: boolean;
}

const parseBody = (body: string, yaml: boolean): JsonValue => {
  try {
    return (yaml ? parseYaml(body) : JSON.parse(body)) as JsonValue;
  } catch (e) {
    throw new ApiError('BadRequest', `error decoding patch: ${(e as Error).message}`);
  }
};

export const patchObject = (
  svc: ApiService,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  req: PatchRequest,
  opts: WriteOptions,
): WriteResult => {
  const contentType = req.contentType.split(';')[0]?.trim() ?? '';
  // A patch works on what a GET returns, status included; a status patch keeps only the status part.
  const live = svc.tryGet(type, namespace, name);

  if (contentType === PATCH_TYPES.apply || contentType === 'application/apply-patch+cbor') {
    const applied = parseBody(req.body, true);
    if (!isJsonObject(applied)) throw new ApiError('BadRequest', 'apply patch must be an object');
    const appliedObj = applied as unknown as KubeObject;
    if (appliedObj.metadata?.name && appliedObj.metadata.name !== name) {
      throw new ApiError('BadRequest', `the name of the object (${appliedObj.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (!opts.fieldManager || opts.fieldManager === 'unknown') {
      throw new ApiError('BadRequest', 'PATCH, application/apply-patch+yaml requires fieldManager to be set');
    }
    const stamped: KubeObject = {
      ...appliedObj,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: { ...(appliedObj.metadata ?? {}), name, ...(type.namespaced ? { namespace: namespace ?? 'default' } : {}) },
    };
    const merged = serverSideApply({
      live,
      applied: stamped,
      manager: opts.fieldManager,
      force: req.force,
      schema: svc.mergeSchemaOf(type),
      now: svc.now(),
      statusSubresource: type.subresources.includes('status'),
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    });
    if (!live) {
      const created = svc.create(type, namespace, merged, { ...opts, keepManagedFields: true });
      return created;
    }
    return svc.update(type, namespace, name, { ...merged, metadata: { ...merged.metadata, resourceVersion: live.metadata.resourceVersion } }, {
      ...opts,
      keepManagedFields: true,
    });
  }

  if (!live) return svc.get(type, namespace, name) && unreachable(); // get throws NotFound, worded as the API server does
  const base = clone(live) as unknown as JsonObject;
  let patched: JsonValue;
  switch (contentType) {
    case PATCH_TYPES.json:
      patched = applyJsonPatch(base, parseBody(req.body, false));
      break;
    case PATCH_TYPES.merge:
    case 'application/json':
      patched = applyMergePatch(base, parseBody(req.body, false));
      break;
    case PATCH_TYPES.strategic: {
      if (type.schema) {
        throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, ${PATCH_TYPES.apply}`);
      }
      const p = parseBody(req.body, false);
      if (!isJsonObject(p)) throw new ApiError('BadRequest', 'strategic merge patch must be an object');
      patched = applyStrategicMergePatch(base, p, svc.mergeSchemaOf(type));
      break;
    }
    default:
      throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${Object.values(PATCH_TYPES).join(', ')}`);
  }
  if (!isJsonObject(patched)) throw new ApiError('BadRequest', 'the patch turned the object into a non-object');
  const next = patched as unknown as KubeObject;
  // A patch that does not name a resourceVersion is unconditional; one that does is a precondition.
  const bodyRv = (() => {
    const p = contentType === PATCH_TYPES.json ? undefined : parseBody(req.body, false);
    return isJsonObject(p) && isJsonObject(p.metadata) && typeof p.metadata.resourceVersion === 'string' ? p.metadata.resourceVersion : undefined;
  })();
  next.metadata = { ...next.metadata, resourceVersion: bodyRv ?? live.metadata.resourceVersion };
  return svc.update(type, namespace, name, next, opts);
};

const unreachable = (): never => {
  throw new ApiError('InternalError', 'unreachable');
};
