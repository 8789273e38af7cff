/**
 * The `paths` of the OpenAPI documents: the REST endpoints of each kind, laid out as kube-apiserver lays
 * them out, each operation tagged with `x-kubernetes-action` and `x-kubernetes-group-version-kind`.
 * What clients read here:
 * - `kubectl explain` finds a resource's GVK on the operations of its list or item path;
 * - kubectl (and helm, through kubectl's libraries) use server-side field validation only when the
 *   PATCH operation of the GVK lists a `fieldValidation` query parameter;
 * - kubectl's client-side apply builds a strategic merge patch from the OpenAPI v3 schema whenever the
 *   PATCH operation accepts `application/strategic-merge-patch+json`. Our built-in schemas are open
 *   (no merge keys), so that type is deliberately not advertised: kubectl then falls back to its
 *   compiled-in knowledge of the built-in types, which is exact. CRDs never accept it, as upstream.
 */
import type { JsonObject, ResourceType } from './types.js';
import type { Flavor } from './openapi-schemas.js';
import { DELETE_OPTIONS, PATCH, SCALE, STATUS, definitionName, isCustom, refTo } from './openapi-schemas.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type ParamType = 'string' | 'boolean' | 'integer';

interface Param {
  name: string;
  type: ParamType;
  description: string;
}

interface Route {
  path: string;
  method: Method;
  action: string;
  operationId: string;
  description: string;
  gvk: { group: string; version: string; kind: string };
  query: Param[];
  body?: string; // definition name
  response: string; // definition name
  list?: boolean;
}

const q = (name: string, type: ParamType, description: string): Param => ({ name, type, description });

const DRY_RUN = q('dryRun', 'string', 'When present, modifications are not persisted. The only valid value is "All".');
const FIELD_MANAGER = q('fieldManager', 'string', 'A name associated with the actor or entity that is making these changes.');
const FIELD_VALIDATION = q(
  'fieldValidation',
  'string',
  'How the server treats unknown or duplicate fields in the request body: Ignore, Warn (the default) or Strict.',
);
const WRITE_PARAMS = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const PATCH_PARAMS = [...WRITE_PARAMS, q('force', 'boolean', 'Force an Apply request through its conflicts; only for apply patches.')];
const LIST_PARAMS = [
  q('allowWatchBookmarks', 'boolean', 'Requests watch events of type BOOKMARK.'),
  q('continue', 'string', 'The continue token from a previous paginated list call.'),
  q('fieldSelector', 'string', 'A selector restricting the returned objects by their fields.'),
  q('labelSelector', 'string', 'A selector restricting the returned objects by their labels.'),
  q('limit', 'integer', 'The maximum number of responses to return for a list call.'),
  q('resourceVersion', 'string', 'Constrains which resource versions a request may be served from.'),
  q('resourceVersionMatch', 'string', 'How resourceVersion is applied to list calls.'),
  q('sendInitialEvents', 'boolean', 'With watch=true, starts the watch stream with synthetic events for the current state.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of events.'),
];
const DELETE_PARAMS = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'Unsafe deletion of corrupt objects.'),
  q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  q('propagationPolicy', 'string', 'Whether and how garbage collection will be performed: Orphan, Background or Foreground.'),
];

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
const PRODUCES = ['application/json', 'application/yaml'];
const WATCH_PRODUCES = [...PRODUCES, 'application/json;stream=watch'];

const camel = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** `FlaggerAppV1beta1`, `AppsV1`, `CoreV1`, `NetworkingV1` — the operationId stem Kubernetes uses. */
const groupVersionStem = (group: string, version: string): string => {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
  return g.split('.').map(camel).join('') + camel(version);
};

/** `flaggerApp_v1beta1`, `core_v1`: the tag Kubernetes files an operation under. */
const tagFor = (group: string, version: string): string => {
  const [first = '', ...rest] = (group === '' ? 'core' : group.replace(/\.k8s\.io$/, '')).split('.');
  return `${first}${rest.map(camel).join('')}_${version}`;
};

/** Every endpoint of one kind that its verbs and subresources allow. */
export const routesFor = (type: ResourceType): Route[] => {
  const prefix = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const root = type.namespaced ? `${prefix}/namespaces/{namespace}/${type.plural}` : `${prefix}/${type.plural}`;
  const custom = isCustom(type);
  const kindDef = definitionName(type, type.kind, custom);
  const listDef = definitionName(type, type.listKind, custom);
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const scope = type.namespaced ? 'Namespaced' : '';
  const stem = groupVersionStem(type.group, type.version);
  const can = (verb: string): boolean => type.verbs.includes(verb);
  const article = /^[AEIOU]/.test(type.kind) ? 'an' : 'a';
  const routes: Route[] = [];
  const add = (r: Omit<Route, 'gvk'> & { gvk?: Route['gvk'] }): void => {
    routes.push({ gvk, ...r });
  };

  if (can('list') && type.namespaced) {
    add({ path: `${prefix}/${type.plural}`, method: 'get', action: 'list', operationId: `list${stem}${type.kind}ForAllNamespaces`, description: `list or watch objects of kind ${type.kind}`, query: LIST_PARAMS, response: listDef, list: true });
  }
  if (can('list')) {
    add({ path: root, method: 'get', action: 'list', operationId: `list${stem}${scope}${type.kind}`, description: `list or watch objects of kind ${type.kind}`, query: LIST_PARAMS, response: listDef, list: true });
  }
  if (can('create')) {
    add({ path: root, method: 'post', action: 'post', operationId: `create${stem}${scope}${type.kind}`, description: `create ${article} ${type.kind}`, query: WRITE_PARAMS, body: kindDef, response: kindDef });
  }
  if (can('deletecollection')) {
    add({ path: root, method: 'delete', action: 'deletecollection', operationId: `deleteCollection${stem}${scope}${type.kind}`, description: `delete collection of ${type.kind}`, query: [...DELETE_PARAMS, ...LIST_PARAMS], body: DELETE_OPTIONS, response: STATUS });
  }
  const item = `${root}/{name}`;
  if (can('get')) add({ path: item, method: 'get', action: 'get', operationId: `read${stem}${scope}${type.kind}`, description: `read the specified ${type.kind}`, query: [], response: kindDef });
  if (can('update')) add({ path: item, method: 'put', action: 'put', operationId: `replace${stem}${scope}${type.kind}`, description: `replace the specified ${type.kind}`, query: WRITE_PARAMS, body: kindDef, response: kindDef });
  if (can('delete')) add({ path: item, method: 'delete', action: 'delete', operationId: `delete${stem}${scope}${type.kind}`, description: `delete ${article} ${type.kind}`, query: DELETE_PARAMS, body: DELETE_OPTIONS, response: STATUS });
  if (can('patch')) add({ path: item, method: 'patch', action: 'patch', operationId: `patch${stem}${scope}${type.kind}`, description: `partially update the specified ${type.kind}`, query: PATCH_PARAMS, body: PATCH, response: kindDef });

  const sub = (name: string, def: string, subGvk: Route['gvk']): void => {
    const path = `${item}/${name}`;
    const suffix = camel(name);
    add({ path, method: 'get', action: 'get', operationId: `read${stem}${scope}${type.kind}${suffix}`, description: `read ${name} of the specified ${type.kind}`, query: [], response: def, gvk: subGvk });
    add({ path, method: 'put', action: 'put', operationId: `replace${stem}${scope}${type.kind}${suffix}`, description: `replace ${name} of the specified ${type.kind}`, query: WRITE_PARAMS, body: def, response: def, gvk: subGvk });
    add({ path, method: 'patch', action: 'patch', operationId: `patch${stem}${scope}${type.kind}${suffix}`, description: `partially update ${name} of the specified ${type.kind}`, query: PATCH_PARAMS, body: PATCH, response: def, gvk: subGvk });
  };
  if (type.subresources.includes('status')) sub('status', kindDef, gvk);
  if (type.subresources.includes('scale')) sub('scale', SCALE, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  return routes;
};

const pathParams = (path: string, kind: string): Array<{ name: string; description: string; path: boolean }> => [
  ...(path.includes('{name}') ? [{ name: 'name', description: `name of the ${kind}`, path: true }] : []),
  ...(path.includes('{namespace}') ? [{ name: 'namespace', description: 'object name and auth scope, such as for teams and projects', path: true }] : []),
  { name: 'pretty', description: "If 'true', then the output is pretty printed.", path: false },
];

const paramV3 = (p: { name: string; description: string }, type: ParamType, inPath: boolean): JsonObject => ({
  name: p.name,
  in: inPath ? 'path' : 'query',
  description: p.description,
  ...(inPath ? { required: true } : {}),
  schema: { type, uniqueItems: true },
});

const paramV2 = (p: { name: string; description: string }, type: ParamType, inPath: boolean): JsonObject => ({
  uniqueItems: true,
  type,
  description: p.description,
  name: p.name,
  in: inPath ? 'path' : 'query',
  ...(inPath ? { required: true } : {}),
});

const responseCodes = (r: Route): string[] =>
  r.method === 'post' ? ['200', '201', '202'] : r.method === 'put' ? ['200', '201'] : r.method === 'delete' && r.action === 'delete' ? ['200', '202'] : ['200'];

const STATUS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };

const operation = (r: Route, flavor: Flavor): JsonObject => {
  const produces = r.list ? WATCH_PRODUCES : PRODUCES;
  const responseRef = { $ref: refTo(r.response, flavor) };
  const responses: JsonObject = {};
  for (const code of responseCodes(r)) {
    const description = STATUS_TEXT[code] ?? code;
    responses[code] = flavor.v2
      ? { description, schema: responseRef }
      : { description, content: Object.fromEntries(produces.map((mime) => [mime, { schema: responseRef }])) };
  }
  responses['401'] = { description: 'Unauthorized' };
  const op: JsonObject = {
    tags: [tagFor(r.gvk.group, r.gvk.version)],
    description: r.description,
    operationId: r.operationId,
  };
  if (r.query.length > 0) op.parameters = r.query.map((p) => (flavor.v2 ? paramV2(p, p.type, false) : paramV3(p, p.type, false)));
  if (r.body) {
    const bodyRef = { $ref: refTo(r.body, flavor) };
    const consumes = r.method === 'patch' ? PATCH_TYPES : ['*/*'];
    const required = r.method !== 'delete';
    if (flavor.v2) {
      op.consumes = consumes;
      op.parameters = [{ name: 'body', in: 'body', required, schema: bodyRef }, ...((op.parameters as JsonObject[] | undefined) ?? [])];
    } else {
      op.requestBody = { content: Object.fromEntries(consumes.map((mime) => [mime, { schema: bodyRef }])), ...(required ? { required: true } : {}) };
    }
  } else if (flavor.v2) {
    op.consumes = ['*/*'];
  }
  if (flavor.v2) {
    op.produces = produces;
    op.schemes = ['https'];
  }
  op.responses = responses;
  op['x-kubernetes-action'] = r.action;
  op['x-kubernetes-group-version-kind'] = { group: r.gvk.group, kind: r.gvk.kind, version: r.gvk.version };
  return op;
};

/** The path items of the given kinds, keyed by path. */
export const pathsFor = (types: ResourceType[], flavor: Flavor): JsonObject => {
  const paths: Record<string, JsonObject> = {};
  for (const type of types) {
    for (const r of routesFor(type)) {
      const item = (paths[r.path] ??= {
        parameters: pathParams(r.path, type.kind).map((p) =>
          flavor.v2 ? paramV2(p, 'string', p.path) : paramV3(p, 'string', p.path),
        ),
      });
      item[r.method] = operation(r, flavor);
    }
  }
  return Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k] as JsonObject]));
};
