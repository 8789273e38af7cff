/** The AlertProvider resource: its typed form and parseAlertProvider, the edge that builds it. */
import type { Condition, ResourceMeta } from './types.js';
import { FLAGGER_API_VERSION } from './types.js';
import { SpecReader, compact, isFields, isHttpUrl } from './reader.js';
import { invalidSpec } from './errors.js';
import { checkTypeHeader, parseConditions, parseMeta } from './metadata.js';

/** Flagger's alert provider types plus a generic JSON webhook. */
export const ALERT_PROVIDER_TYPES = ['slack', 'msteams', 'discord', 'rocket', 'gchat', 'webhook'] as const;
export type AlertProviderType = (typeof ALERT_PROVIDER_TYPES)[number];

export interface AlertProviderSpec {
  type: AlertProviderType;
  channel?: string;
  username?: string;
  /** Webhook URL; when absent it comes from the Secret's `address` key. */
  address?: string;
  proxy?: string;
  secretRef?: { name: string };
}

export interface AlertProvider {
  apiVersion: typeof FLAGGER_API_VERSION;
  kind: 'AlertProvider';
  metadata: ResourceMeta;
  spec: AlertProviderSpec;
  status: { conditions: Condition[] };
}

/** Parses an AlertProvider; throws FledgeError 'InvalidSpec' listing every problem. */
export const parseAlertProvider = (obj: unknown): AlertProvider => {
  if (!isFields(obj)) throw invalidSpec('AlertProvider', undefined, [{ path: '', rule: 'must be an object' }]);
  const r = new SpecReader();
  checkTypeHeader(r, obj, 'AlertProvider');
  const metadata = parseMeta(r, obj);
  const spec = r.object(obj, 'spec', '', { required: true });
  const at = 'spec';
  const type = r.string(spec, 'type', at, { required: spec !== undefined, oneOf: ALERT_PROVIDER_TYPES });
  const address = r.string(spec, 'address', at) || undefined;
  const proxy = r.string(spec, 'proxy', at) || undefined;
  const secret = r.object(spec, 'secretRef', at);
  const secretName = r.string(secret, 'name', `${at}.secretRef`, { required: secret !== undefined });
  if (address !== undefined && !isHttpUrl(address)) r.report(`${at}.address`, 'must be an absolute http or https URL');
  if (proxy !== undefined && !isHttpUrl(proxy)) r.report(`${at}.proxy`, 'must be an absolute http or https URL');
  // Flagger's CRD demands one of the two: without either there is nowhere to post.
  if (spec && address === undefined && secret === undefined) r.report(at, 'needs an address or a secretRef');
  const channel = r.string(spec, 'channel', at) || undefined;
  const username = r.string(spec, 'username', at) || undefined;
  const conditions = parseConditions(r, r.object(obj, 'status', ''), 'status');

  if (r.problems.length > 0) throw invalidSpec('AlertProvider', metadata.name || undefined, r.problems);
  return {
    apiVersion: FLAGGER_API_VERSION,
    kind: 'AlertProvider',
    metadata,
    spec: {
      type: ALERT_PROVIDER_TYPES.find((t) => t === type) ?? 'slack',
      ...compact({
        channel,
        username,
        address,
        proxy,
        secretRef: secretName === undefined ? undefined : { name: secretName },
      }),
    },
    status: { conditions },
  };
};
