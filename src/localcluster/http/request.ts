/** Turning an HTTP request into what the API layer needs: the resource addressed and the query options. */
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';
import type { FieldValidation } from '../admission/index.js';
import type { ResourceRegistry } from '../registry.js';
import type { FieldSelector, LabelSelector } from '../selectors.js';
import { parseFieldSelector, parseLabelSelector } from '../selectors.js';
import type { ResourceType } from '../types.js';

export interface ResourceTarget {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * `/api/v1/...` or `/apis/{group}/{version}/...` followed by `[namespaces/{ns}/]{plural}[/{name}[/{sub}]]`.
 * Returns undefined for paths that are not resource paths (discovery and the like).
 */
export const resolveResource = (segments: string[], registry: ResourceRegistry): ResourceTarget | undefined => {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else return undefined;

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && ['status', 'finalize'].includes(rest[2] ?? ''))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural = '', name, subresource, ...extra] = rest;
  const type = registry.lookup(group, version, plural);
  if (!type || extra.length) {
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  if (subresource && !type.subresources.includes(subresource)) {
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  return {
    type,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
};

export interface QueryOptions {
  watch: boolean;
  resourceVersion?: string;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continueToken?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: FieldValidation;
  force: boolean;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  includeObject: 'None' | 'Metadata' | 'Object';
}

const int = (v: string | null, name: string): number | undefined => {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ApiError('BadRequest', `invalid value for ${name}: ${v}`);
  return n;
};

export const parseQuery = (params: URLSearchParams): QueryOptions => {
  const label = params.get('labelSelector');
  const field = params.get('fieldSelector');
  const validation = params.get('fieldValidation') ?? 'Ignore';
  if (!['Strict', 'Warn', 'Ignore'].includes(validation)) {
    throw new ApiError('BadRequest', `fieldValidation: unsupported value "${validation}": supported values: "Ignore", "Strict", "Warn"`);
  }
  const policy = params.get('propagationPolicy');
  if (policy && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
    throw new ApiError('BadRequest', `propagationPolicy: unsupported value "${policy}"`);
  }
  const include = params.get('includeObject') ?? 'Metadata';
  const limit = int(params.get('limit'), 'limit');
  const timeout = int(params.get('timeoutSeconds'), 'timeoutSeconds');
  const rv = params.get('resourceVersion');
  const cont = params.get('continue');
  const manager = params.get('fieldManager');
  return {
    watch: params.get('watch') === 'true' || params.get('watch') === '1',
    ...(rv !== null && rv !== '' ? { resourceVersion: rv } : {}),
    ...(label ? { labelSelector: parseLabelSelector(label) } : {}),
    ...(field ? { fieldSelector: parseFieldSelector(field) } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(cont ? { continueToken: cont } : {}),
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
    allowWatchBookmarks: params.get('allowWatchBookmarks') === 'true',
    sendInitialEvents: params.get('sendInitialEvents') === 'true',
    dryRun: params.getAll('dryRun').includes('All'),
    ...(manager ? { fieldManager: manager } : {}),
    fieldValidation: validation as FieldValidation,
    force: params.get('force') === 'true',
    ...(policy ? { propagationPolicy: policy as QueryOptions['propagationPolicy'] } : {}),
    includeObject: (['None', 'Metadata', 'Object'].includes(include) ? include : 'Metadata') as QueryOptions['includeObject'],
  };
};

/** What representation the client asked for in Accept. */
export type Representation = 'object' | 'table' | 'partial';

export const representationOf = (accept: string | undefined): Representation => {
  if (!accept) return 'object';
  for (const part of accept.split(',')) {
    if (/as=Table/.test(part)) return 'table';
    if (/as=PartialObjectMetadata/.test(part)) return 'partial';
    if (/application\/json|\*\/\*/.test(part) && !/as=/.test(part)) return 'object';
  }
  return 'object';
};

/** The field manager of a write: the query parameter, else the client's name from its User-Agent. */
export const fieldManagerOf = (q: QueryOptions, req: IncomingMessage): string => {
  if (q.fieldManager) return q.fieldManager;
  const agent = req.headers['user-agent'] ?? '';
  const prefix = agent.split('/')[0]?.trim();
  return prefix || 'unknown';
};

export const readBody = async (req: IncomingMessage, maxBytes = 32 * 1024 * 1024): Promise<string> =>
  (await readRawBody(req, maxBytes)).toString('utf8');

/** The body as bytes: protobuf bodies must not go through a string. */
export const readRawBody = async (req: IncomingMessage, maxBytes = 32 * 1024 * 1024): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new ApiError('BadRequest', 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};
