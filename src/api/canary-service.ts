/** Parser of a Canary's spec.service: the generated Services and the router settings. */
import type { CanaryService, CustomMetadata, UnmanagedMetadata } from './types.js';
import { TRAFFIC_DISTRIBUTIONS } from './types.js';
import type { Fields, SpecReader } from './reader.js';
import { childPath, compact } from './reader.js';
import { DEFAULTS } from './defaults.js';
import {
  parseCorsPolicy,
  parseHeaders,
  parseMatch,
  parseMirrorFilter,
  parseParentRef,
  parseRetries,
  parseRewrite,
} from './routing.js';

// An IANA service name, which is what a named container port must be.
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const customMetadata = (r: SpecReader, parent: Fields, key: string, at: string): CustomMetadata | undefined => {
  const value = r.object(parent, key, at);
  if (!value) return undefined;
  const path = childPath(at, key);
  return { labels: r.stringMap(value, 'labels', path), annotations: r.stringMap(value, 'annotations', path) };
};

const unmanagedMetadata = (r: SpecReader, parent: Fields, at: string): UnmanagedMetadata | undefined => {
  const value = r.object(parent, 'unmanagedMetadata', at);
  if (!value) return undefined;
  const path = childPath(at, 'unmanagedMetadata');
  return { labels: r.stringList(value, 'labels', path), annotations: r.stringList(value, 'annotations', path) };
};

const targetPortOf = (r: SpecReader, service: Fields, at: string): number | string | undefined => {
  const value = service.targetPort;
  const path = childPath(at, 'targetPort');
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return r.checkInteger(value, path, { min: 1, max: 65535 });
  if (typeof value !== 'string') return r.report(path, 'must be a port number or name');
  // Kubernetes accepts a numeric string for an int-or-string port and reads it as the number.
  if (/^[0-9]+$/.test(value)) return r.checkInteger(Number(value), path, { min: 1, max: 65535 });
  return PORT_NAME.test(value) ? value : r.report(path, 'must be a port number or a valid port name');
};

/** `targetName` names the apex Service when service.name is not set. */
export const parseCanaryService = (r: SpecReader, service: Fields, at: string, targetName: string): CanaryService => {
  const port = r.integer(service, 'port', at, { required: true, min: 1, max: 65535 }) ?? 0;
  const optionalObject = <T>(key: string, parse: (r: SpecReader, value: Fields, path: string) => T): T | undefined => {
    const value = r.object(service, key, at);
    return value ? parse(r, value, childPath(at, key)) : undefined;
  };
  const distribution = r.string(service, 'trafficDistribution', at, { oneOf: TRAFFIC_DISTRIBUTIONS });
  return {
    name: r.string(service, 'name', at, { nonEmpty: true }) ?? targetName,
    port,
    portName: r.string(service, 'portName', at, { nonEmpty: true }) ?? DEFAULTS.portName,
    targetPort: targetPortOf(r, service, at) ?? port,
    portDiscovery: r.boolean(service, 'portDiscovery', at) ?? false,
    gateways: r.stringList(service, 'gateways', at),
    gatewayRefs: r.objects(service, 'gatewayRefs', at, (item, path) => parseParentRef(r, item, path)),
    hosts: r.stringList(service, 'hosts', at),
    delegation: r.boolean(service, 'delegation', at) ?? false,
    match: r.objects(service, 'match', at, (item, path) => parseMatch(r, item, path)),
    mirror: r.objects(service, 'mirror', at, (item, path) => parseMirrorFilter(r, item, path)),
    backends: r.stringList(service, 'backends', at),
    ...compact({
      appProtocol: r.string(service, 'appProtocol', at),
      headless: r.boolean(service, 'headless', at),
      trafficDistribution: TRAFFIC_DISTRIBUTIONS.find((d) => d === distribution),
      timeout: r.duration(service, 'timeout', at)?.text,
      backendTimeout: r.duration(service, 'backendTimeout', at)?.text,
      trafficPolicy: r.object(service, 'trafficPolicy', at),
      rewrite: optionalObject('rewrite', parseRewrite),
      retries: optionalObject('retries', parseRetries),
      headers: optionalObject('headers', parseHeaders),
      corsPolicy: optionalObject('corsPolicy', parseCorsPolicy),
      meshName: r.string(service, 'meshName', at),
      apex: customMetadata(r, service, 'apex', at),
      primary: customMetadata(r, service, 'primary', at),
      canary: customMetadata(r, service, 'canary', at),
      unmanagedMetadata: unmanagedMetadata(r, service, at),
    }),
  };
};

/** Names of the three Services a canary manages. */
export const serviceNames = (service: Pick<CanaryService, 'name'>): { apex: string; primary: string; canary: string } => ({
  apex: service.name,
  primary: `${service.name}-primary`,
  canary: `${service.name}-canary`,
});
