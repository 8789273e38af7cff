/** Discovery documents: /version, /api, /apis, and the resource lists of each group version. */
import type { ResourceRegistry } from './registry.js';
import type { ResourceType } from './types.js';

export const versionInfo = (): Record<string, string> => ({
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-fledge',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
});

export const coreVersions = (): Record<string, unknown> => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
});

const groupDoc = (name: string, versions: string[]): Record<string, unknown> => ({
  name,
  versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
  preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
});

export const groupList = (registry: ResourceRegistry): Record<string, unknown> => ({
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [...registry.groups()].filter(([g]) => g !== '').map(([g, versions]) => groupDoc(g, versions)),
});

export const group = (registry: ResourceRegistry, name: string): Record<string, unknown> | undefined => {
  const versions = registry.groups().get(name);
  return versions && name !== '' ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name, versions) } : undefined;
};

const resourceEntries = (t: ResourceType): Record<string, unknown>[] => [
  {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
    storageVersionHash: Buffer.from(`${t.group}/${t.version}/${t.kind}`).toString('base64').slice(0, 11),
  },
  ...t.subresources.map((s) => ({
    name: `${t.plural}/${s}`,
    singularName: '',
    namespaced: t.namespaced,
    kind: s === 'scale' ? 'Scale' : t.kind,
    ...(s === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
    verbs: ['get', 'patch', 'update'],
  })),
];

export const resourceList = (registry: ResourceRegistry, groupName: string, version: string): Record<string, unknown> | undefined => {
  const types = registry.all().filter((t) => t.group === groupName && t.version === version);
  if (!types.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupName ? `${groupName}/${version}` : version,
    resources: types.flatMap(resourceEntries),
  };
};
