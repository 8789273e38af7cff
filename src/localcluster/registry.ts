/**
 * Which resources the server serves. Built-ins are fixed; each CustomResourceDefinition adds one type per
 * served version while it exists. Storage is per group+plural, so every served version of a CRD shares objects.
 */
import type { JsonObject, KubeObject, PrinterColumn, ResourceType } from './types.js';
import { isJsonObject } from './types.js';

export const storageKey = (t: Pick<ResourceType, 'group' | 'plural'>): string => `${t.group}/${t.plural}`;

export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();
  private readonly fromCrd = new Map<string, string[]>();

  constructor(builtins: ResourceType[]) {
    for (const t of builtins) this.types.set(this.key(t.group, t.version, t.plural), t);
  }

  private key(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(this.key(group, version, plural));
  }

  /** The preferred (first registered) type of a group and kind. */
  byKind(group: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values()) if (t.group === group && t.kind === kind) return t;
    return undefined;
  }

  byApiVersionKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    for (const t of this.types.values()) if (t.group === group && t.version === version && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Group name to its versions, preferred first. The core group is ''. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types.values()) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }

  /** Serve (or re-serve, after an update) the versions of a CRD. Returns the types now served. */
  registerCrd(crd: KubeObject): ResourceType[] {
    this.unregisterCrd(crd.metadata.name ?? '');
    const types = typesOfCrd(crd);
    for (const t of types) this.types.set(this.key(t.group, t.version, t.plural), t);
    this.fromCrd.set(crd.metadata.name ?? '', types.map((t) => this.key(t.group, t.version, t.plural)));
    return types;
  }

  unregisterCrd(name: string): void {
    for (const k of this.fromCrd.get(name) ?? []) this.types.delete(k);
    this.fromCrd.delete(name);
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The resource types a CRD object describes, one per served version (storage version first). */
export const typesOfCrd = (crd: KubeObject): ResourceType[] => {
  const spec = isJsonObject(crd.spec) ? crd.spec : {};
  const names = isJsonObject(spec.names) ? spec.names : {};
  const group = String(spec.group ?? '');
  const kind = String(names.kind ?? '');
  const plural = String(names.plural ?? '');
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isJsonObject) : [];
  const ordered = [...versions.filter((v) => v.storage === true), ...versions.filter((v) => v.storage !== true)];
  return ordered
    .filter((v) => v.served !== false)
    .map((v) => {
      const sub = isJsonObject(v.subresources) ? v.subresources : {};
      const schema = isJsonObject(v.schema) && isJsonObject(v.schema.openAPIV3Schema) ? v.schema.openAPIV3Schema : undefined;
      const scale = isJsonObject(sub.scale) ? sub.scale : undefined;
      const columns = Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns.filter(isJsonObject) : [];
      const t: ResourceType = {
        group,
        version: String(v.name ?? ''),
        kind,
        listKind: String(names.listKind ?? `${kind}List`),
        plural,
        singular: String(names.singular ?? kind.toLowerCase()),
        namespaced: spec.scope !== 'Cluster',
        shortNames: strings(names.shortNames),
        categories: strings(names.categories),
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        subresources: [...('status' in sub ? ['status'] : []), ...(scale ? ['scale'] : [])],
        schema: schema as JsonObject | undefined,
        printerColumns: columns.map(
          (c): PrinterColumn => ({
            name: String(c.name ?? ''),
            type: String(c.type ?? 'string'),
            jsonPath: String(c.jsonPath ?? ''),
            ...(typeof c.description === 'string' ? { description: c.description } : {}),
            ...(typeof c.priority === 'number' ? { priority: c.priority } : {}),
            ...(typeof c.format === 'string' ? { format: c.format } : {}),
          }),
        ),
        ...(scale
          ? {
              scale: {
                specReplicasPath: String(scale.specReplicasPath ?? '.spec.replicas'),
                statusReplicasPath: String(scale.statusReplicasPath ?? '.status.replicas'),
                ...(typeof scale.labelSelectorPath === 'string' ? { labelSelectorPath: scale.labelSelectorPath } : {}),
              },
            }
          : {}),
      };
      return t;
    });
};
