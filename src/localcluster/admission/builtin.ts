/**
 * Defaulting and validation of the built-in kinds, the part of the real API server's per-kind strategy
 * that clients notice: Deployment defaults kubectl and controllers read back, Service cluster IPs and
 * target ports, Secret stringData, and the checks whose absence would let a bad object in.
 */
import type { StatusCause } from '../errors.js';
import type { JsonObject, KubeObject } from '../types.js';
import { isJsonObject } from '../types.js';
import { labelSelectorFromObject, matchesLabels } from '../selectors.js';

const obj = (v: unknown): JsonObject => (isJsonObject(v) ? v : {});

const defaultContainers = (list: unknown): void => {
  if (!Array.isArray(list)) return;
  for (const c of list) {
    if (!isJsonObject(c)) continue;
    const image = typeof c.image === 'string' ? c.image : '';
    const tag = image.includes('@') ? 'digest' : image.split('/').pop()?.split(':')[1];
    c.imagePullPolicy ??= !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    if (Array.isArray(c.ports)) for (const p of c.ports) if (isJsonObject(p)) p.protocol ??= 'TCP';
  }
};

const defaultPodTemplate = (template: JsonObject): void => {
  const spec = obj(template.spec);
  template.spec = spec;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  defaultContainers(spec.containers);
  defaultContainers(spec.initContainers);
};

/** Mutates `o` (a private copy) with the defaults of its kind. `allocateIp` hands out Service cluster IPs. */
export const defaultBuiltin = (o: KubeObject, allocateIp: () => string, current?: KubeObject): void => {
  const spec = obj(o.spec);
  switch (o.kind) {
    case 'Deployment': {
      o.spec = spec;
      spec.replicas ??= 1;
      spec.progressDeadlineSeconds ??= 600;
      spec.revisionHistoryLimit ??= 10;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      if (isJsonObject(spec.template)) defaultPodTemplate(spec.template);
      break;
    }
    case 'DaemonSet': {
      o.spec = spec;
      spec.revisionHistoryLimit ??= 10;
      spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      if (isJsonObject(spec.template)) defaultPodTemplate(spec.template);
      break;
    }
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'Job': {
      o.spec = spec;
      if (o.kind !== 'Job') spec.replicas ??= 1;
      if (isJsonObject(spec.template)) defaultPodTemplate(spec.template);
      break;
    }
    case 'Pod':
      defaultPodTemplate(o as unknown as JsonObject);
      break;
    case 'Service': {
      o.spec = spec;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      const oldSpec = obj(current?.spec);
      if (spec.clusterIP === undefined || spec.clusterIP === '') {
        spec.clusterIP = typeof oldSpec.clusterIP === 'string' ? oldSpec.clusterIP : allocateIp();
      }
      if (spec.clusterIP !== 'None') spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isJsonObject(p)) continue;
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port ?? 0;
        }
      }
      break;
    }
    case 'Namespace': {
      o.spec = { finalizers: ['kubernetes'], ...spec };
      o.status = { phase: 'Active', ...obj(o.status) };
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name ?? '' };
      break;
    }
    case 'Secret': {
      o.type ??= 'Opaque';
      if (isJsonObject(o.stringData)) {
        const data = { ...obj(o.data) };
        for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        o.data = data;
        delete o.stringData;
      }
      break;
    }
    default:
      break;
  }
};

/** Checks of the built-in kinds that matter to clients; `current` is the stored object on update. */
export const validateBuiltin = (o: KubeObject, current?: KubeObject): StatusCause[] => {
  const causes: StatusCause[] = [];
  if (o.kind === 'Deployment' || o.kind === 'DaemonSet' || o.kind === 'StatefulSet' || o.kind === 'ReplicaSet') {
    const spec = obj(o.spec);
    const selector = spec.selector;
    if (!isJsonObject(selector)) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    } else {
      const template = obj(spec.template);
      const labels = obj(obj(template.metadata).labels) as Record<string, string>;
      if (!matchesLabels(labelSelectorFromObject(selector), labels)) {
        causes.push({
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
        });
      }
      const oldSelector = current ? obj(current.spec).selector : undefined;
      if (oldSelector !== undefined && JSON.stringify(oldSelector) !== JSON.stringify(selector)) {
        causes.push({ field: 'spec.selector', message: `Invalid value: ${JSON.stringify(selector)}: field is immutable` });
      }
    }
    const containers = obj(obj(spec.template).spec).containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.template.spec.containers', message: 'Required value' });
    }
  }
  if (o.kind === 'Service') {
    const ports = obj(o.spec).ports;
    if (Array.isArray(ports)) {
      ports.forEach((p, i) => {
        const port = isJsonObject(p) ? p.port : undefined;
        if (typeof port !== 'number' || port < 1 || port > 65535) {
          causes.push({ field: `spec.ports[${i}].port`, message: `Invalid value: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive` });
        }
      });
    }
  }
  return causes;
};

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** metadata.name as the API server checks it (RFC 1123 subdomain, at most 253 characters). */
export const validateName = (name: string | undefined, generateName: string | undefined): StatusCause[] => {
  if (!name) {
    return generateName
      ? []
      : [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }];
  }
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    return [
      {
        field: 'metadata.name',
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      },
    ];
  }
  return [];
};
