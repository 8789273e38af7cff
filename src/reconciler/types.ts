/**
 * The reconciler's resources, parsed at the edge: Flux's GitRepository (source.toolkit.fluxcd.io/v1) and
 * Kustomization (kustomize.toolkit.fluxcd.io/v1), and Fledge's LocalDirectory source for development.
 * Only the fields Fledge serves are read; a field Fledge knows and refuses (semver refs, OCI sources) is
 * an error naming it, so a manifest never silently does less than its author meant.
 */
import type { Duration, Fields, Problem } from '../api/index.js';
import { SpecReader, compact, invalidSpec, isFields } from '../api/index.js';

export const GIT_REPOSITORY_API = 'source.toolkit.fluxcd.io/v1';
export const LOCAL_DIRECTORY_API = 'source.fledge.dev/v1alpha1';
export const KUSTOMIZATION_API = 'kustomize.toolkit.fluxcd.io/v1';

export interface NamespacedName {
  namespace: string;
  name: string;
}

export interface Meta extends NamespacedName {
  generation: number;
  annotations: Record<string, string>;
  uid?: string;
}

export interface GitRef {
  branch?: string;
  tag?: string;
  /** A semver range over the repository's tags; the highest matching tag is checked out. */
  semver?: string;
  commit?: string;
  name?: string;
}

export interface GitRepository {
  kind: 'GitRepository';
  metadata: Meta;
  spec: { url: string; interval: Duration; timeout: Duration; ref: GitRef; secretRef?: string; ignore?: string; suspend: boolean };
}

export interface LocalDirectory {
  kind: 'LocalDirectory';
  metadata: Meta;
  spec: { path: string; interval: Duration; suspend: boolean };
}

export type Source = GitRepository | LocalDirectory;

export interface ObjectSelector {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
}

export interface KustomizationSpec {
  interval: Duration;
  retryInterval: Duration;
  timeout: Duration;
  path: string;
  prune: boolean;
  wait: boolean;
  force: boolean;
  suspend: boolean;
  targetNamespace?: string;
  serviceAccountName?: string;
  sourceRef: { kind: 'GitRepository' | 'LocalDirectory'; name: string; namespace: string };
  dependsOn: NamespacedName[];
  healthChecks: Array<{ apiVersion: string; kind: string; name: string; namespace?: string }>;
  patches: Array<{ patch: string; target?: ObjectSelector }>;
  substitute: Record<string, string>;
  substituteFrom: Array<{ kind: 'ConfigMap' | 'Secret'; name: string; optional: boolean }>;
}

export interface Kustomization {
  kind: 'Kustomization';
  metadata: Meta;
  spec: KustomizationSpec;
}

/** Flux's annotation asking for an immediate run; its value is remembered in status.lastHandledReconcileAt. */
export const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

const parseMeta = (r: SpecReader, obj: Fields): Meta => {
  const meta = r.object(obj, 'metadata', '', { required: true });
  const name = r.string(meta, 'name', 'metadata', { required: true }) ?? '';
  return {
    name,
    namespace: r.string(meta, 'namespace', 'metadata') || 'default',
    generation: r.integer(meta, 'generation', 'metadata') ?? 0,
    annotations: r.stringMap(meta, 'annotations', 'metadata'),
    ...compact({ uid: r.string(meta, 'uid', 'metadata') }),
  };
};

const start = (obj: unknown, kind: string): { r: SpecReader; obj: Fields; spec: Fields | undefined } => {
  if (!isFields(obj)) throw invalidSpec(kind, undefined, [{ path: '', rule: 'must be an object' }]);
  const r = new SpecReader();
  return { r, obj, spec: r.object(obj, 'spec', '', { required: true }) };
};

const finish = <T>(r: SpecReader, kind: string, name: string, value: T): T => {
  if (r.problems.length > 0) throw invalidSpec(kind, name || undefined, r.problems);
  return value;
};

const SECOND = { text: '60s', ms: 60_000 };

export const parseGitRepository = (input: unknown): GitRepository => {
  const { r, obj, spec } = start(input, 'GitRepository');
  const metadata = parseMeta(r, obj);
  const at = 'spec';
  const url = r.string(spec, 'url', at, { required: true }) ?? '';
  if (url && !/^(https?|ssh|file):\/\//.test(url)) r.report(`${at}.url`, 'must be an https://, http://, ssh:// or file:// URL');
  const refFields = r.object(spec, 'ref', at);
  const refAt = `${at}.ref`;
  const ref: GitRef = compact({
    branch: r.string(refFields, 'branch', refAt) || undefined,
    tag: r.string(refFields, 'tag', refAt) || undefined,
    semver: r.string(refFields, 'semver', refAt) || undefined,
    commit: r.string(refFields, 'commit', refAt) || undefined,
    name: r.string(refFields, 'name', refAt) || undefined,
  });
  if (ref.commit !== undefined && !/^[0-9a-f]{7,40}$/.test(ref.commit)) r.report(`${refAt}.commit`, 'must be a hexadecimal commit SHA');
  const secret = r.object(spec, 'secretRef', at);
  const secretRef = r.string(secret, 'name', `${at}.secretRef`, { required: secret !== undefined });
  const interval = r.duration(spec, 'interval', at, { required: true, positive: true }) ?? SECOND;
  return finish(r, 'GitRepository', metadata.name, {
    kind: 'GitRepository' as const,
    metadata,
    spec: {
      url,
      interval,
      timeout: r.duration(spec, 'timeout', at, { positive: true }) ?? SECOND,
      ref: Object.keys(ref).length > 0 ? ref : { branch: 'master' },
      suspend: r.boolean(spec, 'suspend', at) ?? false,
      ...compact({ secretRef, ignore: r.string(spec, 'ignore', at) }),
    },
  });
};

export const parseLocalDirectory = (input: unknown): LocalDirectory => {
  const { r, obj, spec } = start(input, 'LocalDirectory');
  const metadata = parseMeta(r, obj);
  const path = r.string(spec, 'path', 'spec', { required: true }) ?? '';
  if (path && !path.startsWith('/')) r.report('spec.path', 'must be an absolute path');
  const interval = r.duration(spec, 'interval', 'spec', { required: true, positive: true }) ?? SECOND;
  return finish(r, 'LocalDirectory', metadata.name, {
    kind: 'LocalDirectory' as const,
    metadata,
    spec: { path, interval, suspend: r.boolean(spec, 'suspend', 'spec') ?? false },
  });
};

const parseSelector = (r: SpecReader, target: Fields | undefined, at: string): ObjectSelector | undefined => {
  if (!target) return undefined;
  if (r.string(target, 'annotationSelector', at)) r.report(`${at}.annotationSelector`, 'is not supported by Fledge; use labelSelector, kind or name');
  return compact({
    group: r.string(target, 'group', at),
    version: r.string(target, 'version', at),
    kind: r.string(target, 'kind', at),
    name: r.string(target, 'name', at),
    namespace: r.string(target, 'namespace', at),
    labelSelector: r.string(target, 'labelSelector', at),
  });
};

const checkName = (r: SpecReader, path: string, value: string | undefined): void => {
  if (value !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)) r.report(path, 'must be a DNS-1123 name');
};

export const parseKustomization = (input: unknown): Kustomization => {
  const { r, obj, spec } = start(input, 'Kustomization');
  const metadata = parseMeta(r, obj);
  const at = 'spec';
  const interval = r.duration(spec, 'interval', at, { required: true, positive: true }) ?? SECOND;
  const prune = r.boolean(spec, 'prune', at);
  if (spec && prune === undefined) r.report(`${at}.prune`, 'is required (true or false), as in Flux');
  const source = r.object(spec, 'sourceRef', at, { required: true });
  const srcAt = `${at}.sourceRef`;
  const sourceKind = r.string(source, 'kind', srcAt, { required: source !== undefined });
  if (sourceKind !== undefined && sourceKind !== 'GitRepository' && sourceKind !== 'LocalDirectory') {
    r.report(`${srcAt}.kind`, `${sourceKind} sources are not supported by Fledge; use GitRepository or LocalDirectory`);
  }
  const path = (r.string(spec, 'path', at) ?? '').replace(/^\.(\/|$)/, '');
  if (path.split('/').includes('..')) r.report(`${at}.path`, 'must stay inside the source (no ..)');
  const targetNamespace = r.string(spec, 'targetNamespace', at) || undefined;
  checkName(r, `${at}.targetNamespace`, targetNamespace);
  const dependsOn = r.objects(spec, 'dependsOn', at, (item, p) => ({
    name: r.string(item, 'name', p, { required: true }) ?? '',
    namespace: r.string(item, 'namespace', p) || metadata.namespace,
  }));
  const healthChecks = r.objects(spec, 'healthChecks', at, (item, p) => ({
    apiVersion: r.string(item, 'apiVersion', p) || 'v1',
    kind: r.string(item, 'kind', p, { required: true }) ?? '',
    name: r.string(item, 'name', p, { required: true }) ?? '',
    ...compact({ namespace: r.string(item, 'namespace', p) || undefined }),
  }));
  const patches = r.objects(spec, 'patches', at, (item, p) => ({
    patch: r.string(item, 'patch', p, { required: true }) ?? '',
    ...compact({ target: parseSelector(r, r.object(item, 'target', p), `${p}.target`) }),
  }));
  const postBuild = r.object(spec, 'postBuild', at);
  const pbAt = `${at}.postBuild`;
  const substitute = r.stringMap(postBuild, 'substitute', pbAt);
  for (const name of Object.keys(substitute)) {
    if (!/^[_a-zA-Z][_a-zA-Z0-9]*$/.test(name)) r.report(`${pbAt}.substitute.${name}`, 'variable names must match ^[_a-zA-Z][_a-zA-Z0-9]*$');
  }
  const substituteFrom = r.objects(postBuild, 'substituteFrom', pbAt, (item, p) => ({
    kind: (r.string(item, 'kind', p, { required: true, oneOf: ['ConfigMap', 'Secret'] }) ?? 'ConfigMap') as 'ConfigMap' | 'Secret',
    name: r.string(item, 'name', p, { required: true }) ?? '',
    optional: r.boolean(item, 'optional', p) ?? false,
  }));
  const kustomization: Kustomization = {
    kind: 'Kustomization',
    metadata,
    spec: {
      interval,
      retryInterval: r.duration(spec, 'retryInterval', at, { positive: true }) ?? interval,
      timeout: r.duration(spec, 'timeout', at, { positive: true }) ?? interval,
      path,
      prune: prune ?? false,
      wait: r.boolean(spec, 'wait', at) ?? false,
      force: r.boolean(spec, 'force', at) ?? false,
      suspend: r.boolean(spec, 'suspend', at) ?? false,
      sourceRef: {
        kind: sourceKind === 'LocalDirectory' ? 'LocalDirectory' : 'GitRepository',
        name: r.string(source, 'name', srcAt, { required: source !== undefined }) ?? '',
        namespace: r.string(source, 'namespace', srcAt) || metadata.namespace,
      },
      dependsOn,
      healthChecks,
      patches,
      substitute,
      substituteFrom,
      ...compact({ targetNamespace, serviceAccountName: r.string(spec, 'serviceAccountName', at) || undefined }),
    },
  };
  return finish(r, 'Kustomization', metadata.name, kustomization);
};

export type { Problem };
