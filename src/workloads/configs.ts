/**
 * Config tracking: the ConfigMaps and Secrets a pod template uses, their checksums, and the
 * `<name>-primary` copies the primary runs with (Flagger's config_tracker.go). A pod template names
 * configs in volumes, projected volumes, env valueFrom and envFrom of containers and init containers.
 */
import type { Canary } from '../api/index.js';
import { FledgeError } from '../api/index.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import { configDataChecksum, goJsonOfStringMap, shortSha } from './checksum.js';
import type { JsonMap } from './json.js';
import { deepCopy, isMap, listOf, mapOf, sameJson, stringMapOf, stringOf } from './json.js';
import { copiedMetadata, isOwnedBy, ownedMeta } from './metadata.js';

export type ConfigKind = 'configmap' | 'secret';

/** One config named by a pod template. `required` only when marked `optional: false` (Flagger's reading). */
export interface ConfigRef {
  kind: ConfigKind;
  name: string;
  required: boolean;
}

export interface TrackedConfig extends ConfigRef {
  /** `configmap/<name>` or `secret/<name>`, the key of status.trackedConfigs. */
  key: string;
  checksum: string;
  source: KubeObject;
}

/** Annotation on a ConfigMap or Secret that opts it out of tracking (any value starting with "disable"). */
export const CONFIG_TRACKING_ANNOTATION = 'flagger.app/config-tracking';

// Secrets of other types (registry credentials, service-account tokens) belong to the pod's identity,
// not its configuration; Flagger ignores them too.
const TRACKED_SECRET_TYPES = new Set(['Opaque', 'kubernetes.io/basic-auth', 'kubernetes.io/ssh-auth', 'kubernetes.io/tls']);

export const configKey = (kind: ConfigKind, name: string): string => `${kind}/${name}`;

export const primaryConfigName = (name: string): string => `${name}-primary`;

/** A place in a pod spec that names a config: where to read and rewrite the name. */
interface ConfigSlot {
  kind: ConfigKind;
  holder: JsonMap;
  field: 'name' | 'secretName';
}

const slotsOf = (podSpec: JsonMap): ConfigSlot[] => {
  const slots: ConfigSlot[] = [];
  const add = (kind: ConfigKind, holder: unknown, field: ConfigSlot['field'] = 'name'): void => {
    if (isMap(holder) && typeof holder[field] === 'string' && holder[field] !== '') slots.push({ kind, holder, field });
  };
  for (const volume of listOf(podSpec.volumes).filter(isMap)) {
    add('configmap', volume.configMap);
    add('secret', volume.secret, 'secretName');
    for (const source of listOf(mapOf(volume.projected).sources).filter(isMap)) {
      add('configmap', source.configMap);
      add('secret', source.secret);
    }
  }
  const containers = [...listOf(podSpec.containers), ...listOf(podSpec.initContainers)].filter(isMap);
  for (const container of containers) {
    for (const env of listOf(container.env).filter(isMap)) {
      const from = mapOf(env.valueFrom);
      add('configmap', from.configMapKeyRef);
      add('secret', from.secretKeyRef);
    }
    for (const envFrom of listOf(container.envFrom).filter(isMap)) {
      add('configmap', envFrom.configMapRef);
      add('secret', envFrom.secretRef);
    }
  }
  return slots;
};

/** Every config the pod spec names, once each, sorted by key. */
export const findConfigRefs = (podSpec: unknown): ConfigRef[] => {
  const refs = new Map<string, ConfigRef>();
  for (const slot of slotsOf(mapOf(podSpec))) {
    const name = String(slot.holder[slot.field]);
    const key = configKey(slot.kind, name);
    const required = slot.holder.optional === false || (refs.get(key)?.required ?? false);
    refs.set(key, { kind: slot.kind, name, required });
  }
  return [...refs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, ref]) => ref);
};

/** A copy of the pod spec whose references to tracked configs name their `-primary` copies. */
export const renameConfigRefs = (podSpec: unknown, tracked: ReadonlySet<string>): JsonMap => {
  const copy = deepCopy(mapOf(podSpec));
  for (const slot of slotsOf(copy)) {
    const name = String(slot.holder[slot.field]);
    if (tracked.has(configKey(slot.kind, name))) slot.holder[slot.field] = primaryConfigName(name);
  }
  return copy;
};

const isOptedOut = (obj: KubeObject): boolean =>
  (obj.metadata.annotations?.[CONFIG_TRACKING_ANNOTATION] ?? '').startsWith('disable');

/** Flagger's checksum of `data`; binaryData (which Flagger ignores) counts too when present. */
export const configChecksum = (obj: KubeObject): string =>
  isMap(obj.binaryData)
    ? shortSha(goJsonOfStringMap(obj.data) + goJsonOfStringMap(obj.binaryData))
    : configDataChecksum(obj.data);

/**
 * Reads the referenced configs and checksums those that are tracked. A missing config is skipped
 * unless marked `optional: false` (then the pods could never start, and we say which is missing).
 */
export const readTrackedConfigs = async (kube: KubeApi, namespace: string, refs: readonly ConfigRef[]): Promise<TrackedConfig[]> => {
  const found = await Promise.all(
    refs.map(async (ref) => {
      const kind = ref.kind === 'configmap' ? 'ConfigMap' : 'Secret';
      const source = await kube.get({ apiVersion: 'v1', kind, name: ref.name, namespace });
      if (!source) {
        if (ref.required) throw new FledgeError('NotReady', `${ref.kind} ${ref.name}.${namespace} not found`);
        return undefined;
      }
      if (isOptedOut(source)) return undefined;
      if (kind === 'Secret' && !TRACKED_SECRET_TYPES.has(stringOf(source.type) ?? 'Opaque')) return undefined;
      const tracked: TrackedConfig = { ...ref, key: configKey(ref.kind, ref.name), checksum: configChecksum(source), source };
      return tracked;
    }),
  );
  return found.filter((c): c is TrackedConfig => c !== undefined);
};

export const checksumsOf = (tracked: readonly TrackedConfig[]): Record<string, string> =>
  Object.fromEntries(tracked.map((c) => [c.key, c.checksum]));

/** The `-primary` copy of a tracked config, owned by the canary. */
export const primaryConfigCopy = (config: TrackedConfig, canary: Canary, includeLabelPrefixes?: readonly string[]): KubeObject => {
  const { source } = config;
  const labels = copiedMetadata(stringMapOf(source.metadata.labels), includeLabelPrefixes);
  const copy: KubeObject = {
    apiVersion: 'v1',
    kind: source.kind,
    metadata: ownedMeta(canary, primaryConfigName(config.name), labels),
  };
  if (source.type !== undefined) copy.type = source.type;
  if (source.data !== undefined) copy.data = deepCopy(source.data);
  if (source.binaryData !== undefined) copy.binaryData = deepCopy(source.binaryData);
  return copy;
};

const contentOf = (o: KubeObject): unknown => ({ type: o.type, data: o.data ?? {}, binaryData: o.binaryData ?? {}, labels: o.metadata.labels ?? {} });

/** Creates or updates the `-primary` copies; a copy whose type cannot change (or is immutable) is recreated. */
export const syncPrimaryConfigs = async (
  kube: KubeApi,
  canary: Canary,
  tracked: readonly TrackedConfig[],
  includeLabelPrefixes?: readonly string[],
): Promise<void> => {
  for (const config of tracked) {
    const desired = primaryConfigCopy(config, canary, includeLabelPrefixes);
    const ref = { apiVersion: 'v1', kind: desired.kind, name: desired.metadata.name, namespace: canary.metadata.namespace };
    const live = await kube.get(ref);
    if (!live) {
      await kube.create(desired);
      continue;
    }
    if (sameJson(contentOf(live), contentOf(desired))) continue;
    if (live.immutable === true || (desired.type !== undefined && live.type !== desired.type)) {
      await kube.delete(ref);
      await kube.create(desired);
      continue;
    }
    await kube.replace({ ...desired, metadata: { ...live.metadata, labels: desired.metadata.labels } });
  }
};

/** Deletes the `-primary` copies this canary owns. */
export const deletePrimaryConfigs = async (kube: KubeApi, canary: Canary, refs: readonly ConfigRef[]): Promise<void> => {
  for (const ref of refs) {
    const target = {
      apiVersion: 'v1',
      kind: ref.kind === 'configmap' ? 'ConfigMap' : 'Secret',
      name: primaryConfigName(ref.name),
      namespace: canary.metadata.namespace,
    };
    const live = await kube.get(target);
    if (live && isOwnedBy(live, canary)) await kube.delete(target);
  }
};
