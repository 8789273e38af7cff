/**
 * The OpenAPI documents kube-apiserver publishes, built from the resource types the local cluster serves:
 * - `/openapi/v3`: an index of group-versions, each pointing at its document with a content hash
 *   (`?hash=`); kubectl caches documents by that URL, so the hash changes whenever a schema does;
 * - `/openapi/v3/apis/<group>/<version>` (or `api/v1`): OpenAPI 3.0 with the kinds' schemas and paths,
 *   enough for `kubectl explain` and for kubectl/helm to choose server-side field validation;
 * - `/openapi/v2`: the same as Swagger 2.0 JSON, for clients that still ask for it. (kubectl asks for
 *   the protobuf form; the HTTP layer should answer that with 406 so kubectl falls back gracefully.)
 */
import { createHash } from 'node:crypto';
import type { JsonObject, ResourceType } from './types.js';
import { pathsFor } from './openapi-paths.js';
import { kindSchemas, sharedSchemas } from './openapi-schemas.js';

const INFO = { title: 'Kubernetes', version: 'v1.33.0' };

/** `api/v1` or `apis/<group>/<version>`: how the index and the document URLs name a group-version. */
export const groupVersionPath = (type: Pick<ResourceType, 'group' | 'version'>): string =>
  type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`;

/** Types sorted so that the documents, and so their hashes, do not depend on registration order. */
const sorted = (types: ResourceType[]): ResourceType[] =>
  [...types].sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : a.kind < b.kind ? -1 : 1));

const groupVersions = (types: ResourceType[]): Map<string, ResourceType[]> => {
  const byPath = new Map<string, ResourceType[]>();
  for (const type of sorted(types)) {
    const key = groupVersionPath(type);
    byPath.set(key, [...(byPath.get(key) ?? []), type]);
  }
  return byPath;
};

const normalise = (path: string): string =>
  (path.split('?')[0] ?? '').replace(/^\/+/, '').replace(/^openapi\/v3\//, '').replace(/\/+$/, '');

const schemasFor = (types: ResourceType[], v2: boolean): JsonObject => {
  const flavor = { v2 };
  const schemas: JsonObject = sharedSchemas(flavor, types.some((t) => t.subresources.includes('scale')));
  for (const type of types) Object.assign(schemas, kindSchemas(type, flavor));
  return Object.fromEntries(Object.keys(schemas).sort().map((k) => [k, schemas[k] ?? {}]));
};

const documentFor = (types: ResourceType[]): JsonObject => ({
  openapi: '3.0.0',
  info: { ...INFO },
  paths: pathsFor(types, { v2: false }),
  components: {
    schemas: schemasFor(types, false),
    securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
  },
});

/** The OpenAPI v3 document of one group-version (`apis/flagger.app/v1beta1`, `/openapi/v3/api/v1?hash=..`), or undefined. */
export const openApiV3Document = (types: ResourceType[], path: string): JsonObject | undefined => {
  const members = groupVersions(types).get(normalise(path));
  return members ? documentFor(members) : undefined;
};

/** The hash kube-apiserver puts in serverRelativeURL: uppercase hex SHA-512 of the document's JSON. */
export const documentHash = (document: JsonObject): string =>
  createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();

/** The `/openapi/v3` index. */
export const openApiV3Index = (types: ResourceType[]): JsonObject => {
  const paths: JsonObject = {};
  for (const [path, members] of [...groupVersions(types)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${documentHash(documentFor(members))}` };
  }
  return { paths };
};

/** The `/openapi/v2` Swagger 2.0 document covering every type. */
export const openApiV2Document = (types: ResourceType[]): JsonObject => {
  const all = sorted(types);
  return {
    swagger: '2.0',
    info: { ...INFO },
    paths: pathsFor(all, { v2: true }),
    definitions: schemasFor(all, true),
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
};
