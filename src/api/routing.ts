/**
 * Parsers for the routing pieces a Canary hands to its router: request conditions, rewrites,
 * retries, header changes, CORS, Gateway API parents and mirror filters. They check types and
 * shapes; what a particular router supports is the router's business.
 */
import type {
  CorsPolicy,
  HTTPMatchRequest,
  HTTPRetry,
  HTTPRewrite,
  HeaderChanges,
  HeaderOperations,
  MirrorFilter,
  ParentReference,
  StringMatch,
} from './types.js';
import type { Fields, SpecReader } from './reader.js';
import { childPath, compact, isFields } from './reader.js';

const MATCH_KINDS = ['exact', 'prefix', 'suffix', 'regex'] as const;

const stringMatchAt = (r: SpecReader, value: unknown, path: string): StringMatch | undefined => {
  if (!isFields(value)) return r.report(path, 'must be an object');
  const match: StringMatch = compact({
    exact: r.string(value, 'exact', path),
    prefix: r.string(value, 'prefix', path),
    suffix: r.string(value, 'suffix', path),
    regex: r.string(value, 'regex', path),
  });
  const given = MATCH_KINDS.filter((kind) => value[kind] !== undefined && value[kind] !== null);
  if (given.length > 1) r.report(path, `set only one of exact, prefix, suffix or regex (found ${given.join(', ')})`);
  return match;
};

const stringMatch = (r: SpecReader, parent: Fields, key: string, at: string): StringMatch | undefined => {
  const value = parent[key];
  return value === undefined || value === null ? undefined : stringMatchAt(r, value, childPath(at, key));
};

const stringMatchMap = (r: SpecReader, parent: Fields, key: string, at: string): Record<string, StringMatch> | undefined => {
  const map = r.object(parent, key, at);
  if (!map) return undefined;
  const out: Record<string, StringMatch> = {};
  for (const [name, value] of Object.entries(map)) {
    const match = stringMatchAt(r, value, childPath(childPath(at, key), name));
    if (match) out[name] = match;
  }
  return out;
};

const optionalStringMap = (r: SpecReader, parent: Fields, key: string, at: string): Record<string, string> | undefined =>
  parent[key] === undefined || parent[key] === null ? undefined : r.stringMap(parent, key, at);

const optionalStringList = (r: SpecReader, parent: Fields, key: string, at: string): string[] | undefined =>
  parent[key] === undefined || parent[key] === null ? undefined : r.stringList(parent, key, at);

export const parseMatch = (r: SpecReader, item: Fields, at: string): HTTPMatchRequest =>
  compact({
    name: r.string(item, 'name', at),
    uri: stringMatch(r, item, 'uri', at),
    scheme: stringMatch(r, item, 'scheme', at),
    method: stringMatch(r, item, 'method', at),
    authority: stringMatch(r, item, 'authority', at),
    headers: stringMatchMap(r, item, 'headers', at),
    withoutHeaders: stringMatchMap(r, item, 'withoutHeaders', at),
    queryParams: stringMatchMap(r, item, 'queryParams', at),
    port: r.integer(item, 'port', at, { min: 1, max: 65535 }),
    sourceLabels: optionalStringMap(r, item, 'sourceLabels', at),
    sourceNamespace: r.string(item, 'sourceNamespace', at),
    gateways: optionalStringList(r, item, 'gateways', at),
    ignoreUriCase: r.boolean(item, 'ignoreUriCase', at),
  });

export const parseRewrite = (r: SpecReader, value: Fields, at: string): HTTPRewrite =>
  compact({ uri: r.string(value, 'uri', at), authority: r.string(value, 'authority', at), type: r.string(value, 'type', at) });

export const parseRetries = (r: SpecReader, value: Fields, at: string): HTTPRetry =>
  compact({
    attempts: r.integer(value, 'attempts', at, { min: 0 }),
    perTryTimeout: r.duration(value, 'perTryTimeout', at)?.text,
    retryOn: r.string(value, 'retryOn', at),
  });

const headerChanges = (r: SpecReader, parent: Fields, key: string, at: string): HeaderChanges | undefined => {
  const value = r.object(parent, key, at);
  if (!value) return undefined;
  const path = childPath(at, key);
  return compact({
    add: optionalStringMap(r, value, 'add', path),
    set: optionalStringMap(r, value, 'set', path),
    remove: optionalStringList(r, value, 'remove', path),
  });
};

export const parseHeaders = (r: SpecReader, value: Fields, at: string): HeaderOperations =>
  compact({ request: headerChanges(r, value, 'request', at), response: headerChanges(r, value, 'response', at) });

export const parseCorsPolicy = (r: SpecReader, value: Fields, at: string): CorsPolicy => {
  const origins = value.allowOrigins;
  return compact({
    allowOrigin: optionalStringList(r, value, 'allowOrigin', at),
    allowOrigins:
      origins === undefined || origins === null
        ? undefined
        : r.list(value, 'allowOrigins', at).flatMap((item, index) => {
            const match = stringMatchAt(r, item, `${childPath(at, 'allowOrigins')}[${index}]`);
            return match ? [match] : [];
          }),
    allowMethods: optionalStringList(r, value, 'allowMethods', at),
    allowHeaders: optionalStringList(r, value, 'allowHeaders', at),
    exposeHeaders: optionalStringList(r, value, 'exposeHeaders', at),
    maxAge: r.duration(value, 'maxAge', at)?.text,
    allowCredentials: r.boolean(value, 'allowCredentials', at),
  });
};

export const parseParentRef = (r: SpecReader, item: Fields, at: string): ParentReference => ({
  name: r.string(item, 'name', at, { required: true }) ?? '',
  ...compact({
    group: r.string(item, 'group', at),
    kind: r.string(item, 'kind', at),
    namespace: r.string(item, 'namespace', at),
    sectionName: r.string(item, 'sectionName', at),
    port: r.integer(item, 'port', at, { min: 1, max: 65535 }),
  }),
});

export const parseMirrorFilter = (r: SpecReader, item: Fields, at: string): MirrorFilter => {
  const ref = r.object(item, 'backendRef', at, { required: true });
  const refPath = childPath(at, 'backendRef');
  const fraction = r.object(item, 'fraction', at);
  const fractionPath = childPath(at, 'fraction');
  return compact({
    backendRef: {
      name: r.string(ref, 'name', refPath, { required: ref !== undefined }) ?? '',
      ...compact({
        group: r.string(ref, 'group', refPath),
        kind: r.string(ref, 'kind', refPath),
        namespace: r.string(ref, 'namespace', refPath),
        port: r.integer(ref, 'port', refPath, { min: 1, max: 65535 }),
      }),
    },
    percent: r.integer(item, 'percent', at, { min: 0, max: 100 }),
    fraction: fraction
      ? compact({
          numerator: r.integer(fraction, 'numerator', fractionPath, { required: true, min: 0 }) ?? 0,
          denominator: r.integer(fraction, 'denominator', fractionPath, { min: 1 }),
        })
      : undefined,
  });
};
