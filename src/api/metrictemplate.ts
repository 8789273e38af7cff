/** The MetricTemplate resource: its typed form and parseMetricTemplate, the edge that builds it. */
import type { Condition, ResourceMeta } from './types.js';
import { FLAGGER_API_VERSION } from './types.js';
import type { Fields } from './reader.js';
import { SpecReader, childPath, compact, isFields, isHttpUrl, itemPath } from './reader.js';
import { invalidSpec } from './errors.js';
import { checkTypeHeader, parseConditions, parseMeta } from './metadata.js';

/** The provider types Flagger's CRD accepts. Whether Fledge implements one is the registry's call. */
export const METRIC_PROVIDER_TYPES = [
  'prometheus',
  'influxdb',
  'datadog',
  'cloudwatch',
  'newrelic',
  'graphite',
  'dynatrace',
  'stackdriver',
  'keptn',
  'splunk',
  'externalmetrics',
] as const;
export type MetricProviderType = (typeof METRIC_PROVIDER_TYPES)[number];

export interface MetricTemplateProvider {
  type: MetricProviderType;
  address?: string;
  /** Extra HTTP headers for each query, by name, each with its values in order. */
  headers?: Record<string, string[]>;
  /** Secret in the template's namespace holding credentials. */
  secretRef?: { name: string };
  region?: string;
  insecureSkipVerify: boolean;
}

export interface MetricTemplate {
  apiVersion: typeof FLAGGER_API_VERSION;
  kind: 'MetricTemplate';
  metadata: ResourceMeta;
  spec: { provider: MetricTemplateProvider; query: string };
  status: { conditions: Condition[] };
}

// RFC 9110 token: the characters a header name may use.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A header value may not hold CR, LF or NUL (they would end the header or the request).
const HEADER_VALUE = /^[^\r\n\0]*$/;

const parseHeaders = (r: SpecReader, provider: Fields | undefined, at: string): Record<string, string[]> | undefined => {
  const map = r.object(provider, 'headers', at);
  if (!map) return undefined;
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(map)) {
    const path = childPath(childPath(at, 'headers'), name);
    if (!HEADER_NAME.test(name)) r.report(path, 'must be a valid HTTP header name');
    const values = r.stringList(map, name, childPath(at, 'headers'));
    values.forEach((value, index) => {
      if (!HEADER_VALUE.test(value)) r.report(itemPath(path, index), 'must not contain CR, LF or NUL');
    });
    out[name] = values;
  }
  return out;
};

/** Parses a MetricTemplate; throws FledgeError 'InvalidSpec' listing every problem. */
export const parseMetricTemplate = (obj: unknown): MetricTemplate => {
  if (!isFields(obj)) throw invalidSpec('MetricTemplate', undefined, [{ path: '', rule: 'must be an object' }]);
  const r = new SpecReader();
  checkTypeHeader(r, obj, 'MetricTemplate');
  const metadata = parseMeta(r, obj);
  const spec = r.object(obj, 'spec', '', { required: true });
  const provider = r.object(spec, 'provider', 'spec', { required: spec !== undefined });
  const at = 'spec.provider';
  const type = r.string(provider, 'type', at, { required: provider !== undefined, oneOf: METRIC_PROVIDER_TYPES });
  const address = r.string(provider, 'address', at) || undefined;
  if (address !== undefined && !isHttpUrl(address)) r.report(`${at}.address`, 'must be an absolute http or https URL');
  const secret = r.object(provider, 'secretRef', at);
  const secretName = r.string(secret, 'name', `${at}.secretRef`, { required: secret !== undefined });
  const query = r.string(spec, 'query', 'spec', { required: spec !== undefined });
  const insecureSkipVerify = r.boolean(provider, 'insecureSkipVerify', at) ?? false;
  const region = r.string(provider, 'region', at) || undefined;
  const headers = parseHeaders(r, provider, at);
  const conditions = parseConditions(r, r.object(obj, 'status', ''), 'status');

  if (r.problems.length > 0) throw invalidSpec('MetricTemplate', metadata.name || undefined, r.problems);
  return {
    apiVersion: FLAGGER_API_VERSION,
    kind: 'MetricTemplate',
    metadata,
    spec: {
      provider: {
        type: METRIC_PROVIDER_TYPES.find((t) => t === type) ?? 'prometheus',
        insecureSkipVerify,
        ...compact({ address, headers, secretRef: secretName === undefined ? undefined : { name: secretName }, region }),
      },
      query: query ?? '',
    },
    status: { conditions },
  };
};
