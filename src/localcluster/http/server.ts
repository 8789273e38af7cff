/**
 * The HTTP face of the local cluster: routes discovery, OpenAPI and resource requests, negotiates the
 * representation (object, Table, PartialObjectMetadata) and turns ApiErrors into Status responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import * as discovery from '../discovery.js';
import { ApiError } from '../errors.js';
import { openApiV2Document, openApiV3Document, openApiV3Index } from '../openapi.js';
import { patchObject } from '../patching.js';
import type { ApiService, DeleteOptions } from '../service.js';
import { toTable } from '../table.js';
import type { KubeObject } from '../types.js';
import { apiVersionOf, isJsonObject } from '../types.js';
import { fieldManagerOf, parseQuery, readBody, readRawBody, representationOf, resolveResource } from './request.js';
import { decodeKubernetesProtobuf, protobufContentType } from '../protobuf/index.js';
import type { QueryOptions, Representation, ResourceTarget } from './request.js';
import { scaleOf, scaleUpdate } from './scale.js';
import { serveWatch } from './watch.js';
import type { WatchDeps } from './watch.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const send = (res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void => {
  const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(JSON.stringify(body));
};

const sendError = (res: ServerResponse, e: unknown): void => {
  const err = e instanceof ApiError ? e : new ApiError('InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`);
  if (!res.headersSent) send(res, err.code, err.toStatus());
  else res.end();
};

/** A request body as an object: JSON, YAML, or (kubectl create, helm) Kubernetes protobuf. */
const parseObject = (body: Buffer, contentType: string | undefined): KubeObject => {
  if (contentType?.includes(protobufContentType)) return decodeKubernetesProtobuf(body);
  let parsed: unknown;
  try {
    const text = body.toString('utf8');
    parsed = contentType?.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ApiError('BadRequest', `the object provided is unrecognized: ${(e as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw new ApiError('BadRequest', 'the object provided is not a JSON object');
  const o = parsed as unknown as KubeObject;
  o.metadata ??= {};
  return o;
};

export const createHandler = (svc: ApiService, watchDeps: WatchDeps): Handler => {
  return (req, res) => {
    handle(svc, watchDeps, req, res).catch((e) => sendError(res, e));
  };
};

const handle = async (svc: ApiService, watchDeps: WatchDeps, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const registry = svc.registry;

  if (method === 'GET') {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/version') return send(res, 200, discovery.versionInfo());
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end('ok');
    }
    if (path === '/api') return send(res, 200, discovery.coreVersions());
    if (path === '/apis') return send(res, 200, discovery.groupList(registry));
    if (path === '/openapi/v2') {
      // kubectl asks for the protobuf form first; 406 sends it to the JSON form we serve.
      if (/protobuf/.test(req.headers.accept ?? '') && !/json/.test(req.headers.accept ?? '')) {
        throw new ApiError('NotAcceptable', 'only the following media types are accepted: application/json');
      }
      return send(res, 200, openApiV2Document(registry.all()));
    }
    if (path === '/openapi/v3') return send(res, 200, openApiV3Index(registry.all()));
    if (segments[0] === 'openapi' && segments[1] === 'v3') {
      const doc = openApiV3Document(registry.all(), segments.slice(2).join('/'));
      if (!doc) throw new ApiError('NotFound', 'the server could not find the requested resource');
      return send(res, 200, doc);
    }
    if (segments[0] === 'api' && segments.length === 2) {
      const doc = discovery.resourceList(registry, '', segments[1] ?? '');
      if (doc) return send(res, 200, doc);
    }
    if (segments[0] === 'apis' && segments.length === 2) {
      const doc = discovery.group(registry, segments[1] ?? '');
      if (doc) return send(res, 200, doc);
    }
    if (segments[0] === 'apis' && segments.length === 3) {
      const doc = discovery.resourceList(registry, segments[1] ?? '', segments[2] ?? '');
      if (doc) return send(res, 200, doc);
    }
  }

  const target = resolveResource(segments, registry);
  if (!target) throw new ApiError('NotFound', 'the server could not find the requested resource');
  const q = parseQuery(url.searchParams);
  const repr = representationOf(req.headers.accept);
  if (target.name === undefined) return collection(svc, watchDeps, target, q, repr, req, res, method);
  return item(svc, target, q, repr, req, res, method);
};

const collection = async (
  svc: ApiService,
  watchDeps: WatchDeps,
  t: ResourceTarget,
  q: QueryOptions,
  repr: Representation,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
): Promise<void> => {
  const { type, namespace } = t;
  switch (method) {
    case 'GET': {
      if (q.watch) return serveWatch(watchDeps, type, namespace, q, repr, req, res);
      const listed = svc.list(type, namespace, {
        ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
        ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.continueToken ? { continueToken: q.continueToken } : {}),
      });
      const listMeta = {
        resourceVersion: listed.resourceVersion,
        ...(listed.continueToken ? { continue: listed.continueToken } : {}),
        ...(listed.remainingItemCount !== undefined ? { remainingItemCount: listed.remainingItemCount } : {}),
      };
      if (repr === 'table') return send(res, 200, toTable(type, listed.items, { includeObject: q.includeObject, listMeta, now: svc.nowMs() }));
      if (repr === 'partial') {
        return send(res, 200, {
          kind: 'PartialObjectMetadataList',
          apiVersion: 'meta.k8s.io/v1',
          metadata: listMeta,
          items: listed.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })),
        });
      }
      return send(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: listMeta, items: listed.items });
    }
    case 'POST': {
      const body = parseObject(await readRawBody(req), req.headers['content-type']);
      const result = svc.create(type, namespace, body, {
        dryRun: q.dryRun,
        fieldManager: fieldManagerOf(q, req),
        fieldValidation: q.fieldValidation,
      });
      return send(res, 201, result.object, result.warnings);
    }
    case 'DELETE': {
      const listed = svc.list(type, namespace, {
        ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
        ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
      });
      const opts = await deleteOptions(req, q);
      const items = listed.items.map((o) => svc.delete(type, o.metadata.namespace, o.metadata.name ?? '', opts));
      return send(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: {}, items });
    }
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
};

const deleteOptions = async (req: IncomingMessage, q: QueryOptions): Promise<DeleteOptions> => {
  const raw = await readRawBody(req);
  let body: Record<string, unknown> = {};
  if (raw.length && req.headers['content-type']?.includes(protobufContentType)) {
    body = decodeKubernetesProtobuf(raw) as unknown as Record<string, unknown>;
  } else if (raw.toString('utf8').trim()) {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (isJsonObject(parsed)) body = parsed;
    } catch {
      throw new ApiError('BadRequest', 'the body of the request was not valid DeleteOptions JSON');
    }
  }
  const policy = (body.propagationPolicy as DeleteOptions['propagationPolicy']) ?? q.propagationPolicy;
  const orphan = body.orphanDependents === true ? 'Orphan' : undefined;
  const dryRun = q.dryRun || (Array.isArray(body.dryRun) && body.dryRun.includes('All'));
  const pre = isJsonObject(body.preconditions) ? body.preconditions : undefined;
  return {
    ...((policy ?? orphan) ? { propagationPolicy: policy ?? orphan } : {}),
    ...(pre ? { preconditions: { ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}), ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}) } } : {}),
    dryRun,
  };
};

const item = async (
  svc: ApiService,
  t: ResourceTarget,
  q: QueryOptions,
  repr: Representation,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
): Promise<void> => {
  const { type, namespace, subresource } = t;
  const name = t.name ?? '';
  const manager = fieldManagerOf(q, req);
  const writeOpts = {
    dryRun: q.dryRun,
    fieldManager: manager,
    fieldValidation: q.fieldValidation,
    ...(subresource ? { subresource } : {}),
  };
  if (subresource === 'scale') {
    if (method === 'GET') return send(res, 200, scaleOf(type, svc.get(type, namespace, name)));
    if (method === 'PUT' || method === 'PATCH') {
      const result = scaleUpdate(svc, type, namespace, name, method, await readBody(req), req.headers['content-type'] ?? '', { ...writeOpts, subresource: undefined });
      return send(res, 200, result);
    }
    throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
  switch (method) {
    case 'GET': {
      const o = svc.get(type, namespace, name);
      if (repr === 'table') return send(res, 200, toTable(type, [o], { includeObject: q.includeObject, now: svc.nowMs() }));
      if (repr === 'partial') return send(res, 200, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata });
      return send(res, 200, o);
    }
    case 'PUT': {
      const body = parseObject(await readRawBody(req), req.headers['content-type']);
      const result = svc.update(type, namespace, name, body, writeOpts);
      return send(res, 200, result.object, result.warnings);
    }
    case 'PATCH': {
      const body = await readBody(req);
      const result = patchObject(svc, type, namespace, name, { contentType: req.headers['content-type'] ?? '', body, force: q.force }, writeOpts);
      return send(res, result.created ? 201 : 200, result.object, result.warnings);
    }
    case 'DELETE': {
      const deleted = svc.delete(type, namespace, name, await deleteOptions(req, q));
      return send(res, 200, deleted);
    }
    default:
      throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
};
