/**
 * Where manual gates live. Flagger's load tester keeps them in process memory, so restarting it
 * silently closes every open gate; Fledge keeps them in a ConfigMap, so a restarted (or second)
 * controller sees exactly what the last one saw. One key per open gate; a closed gate has no key,
 * which keeps the ConfigMap as small as the number of gates currently open.
 */
import { createHash } from 'node:crypto';
import type { KubeApi, KubeObject, ObjectRef } from '../kube/api.js';
import { KubeApiError } from '../kube/api.js';

/** `gate`: the approval gate (/gate/*). `rollback`: a requested rollback (/rollback/*). */
export type GateKind = 'gate' | 'rollback';

/** A gate belongs to one Canary. */
export interface GateKey {
  name: string;
  namespace: string;
}

export interface GateStore {
  /** Closed (and no rollback requested) until someone opens it. */
  isOpen(kind: GateKind, key: GateKey): Promise<boolean>;
  setOpen(kind: GateKind, key: GateKey, open: boolean): Promise<void>;
}

export const DEFAULT_GATE_CONFIGMAP = 'fledge-gates';

const OPEN = 'open';
/** ConfigMap keys are at most 253 characters of [-._a-zA-Z0-9]. */
const MAX_KEY_LENGTH = 253;

/**
 * The ConfigMap key of a gate: `<kind>.<namespace>.<name>`. Namespaces hold no dots, so the key is
 * unambiguous even for dotted Canary names. Over-long keys keep a readable prefix and end in a hash.
 */
export const gateDataKey = (kind: GateKind, key: GateKey): string => {
  const full = `${kind}.${key.namespace}.${key.name}`;
  if (full.length <= MAX_KEY_LENGTH) return full;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 16);
  return `${full.slice(0, MAX_KEY_LENGTH - digest.length - 1)}-${digest}`;
};

/** In-process gates, for unit tests and single-shot tools; nothing survives the process. */
export const createMemoryGateStore = (): GateStore => {
  const open = new Set<string>();
  return {
    isOpen: async (kind, key) => open.has(gateDataKey(kind, key)),
    async setOpen(kind, key, isOpen) {
      if (isOpen) open.add(gateDataKey(kind, key));
      else open.delete(gateDataKey(kind, key));
    },
  };
};

export interface ConfigMapGateStoreOptions {
  kube: KubeApi;
  /** Where the ConfigMap lives (the controller's namespace). */
  namespace: string;
  name?: string;
  /** Read-modify-write rounds before a write gives up on conflicts. */
  maxAttempts?: number;
}

const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;

const dataOf = (cm: KubeObject): Record<string, string> => {
  const data = cm.data;
  if (typeof data !== 'object' || data === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = v;
  return out;
};

/**
 * Gates in a ConfigMap, written with optimistic concurrency: read, change one key, PUT with the
 * resourceVersion read; a 409 (someone else wrote in between, or created the ConfigMap first)
 * means read again and retry.
 */
export const createConfigMapGateStore = (opts: ConfigMapGateStoreOptions): GateStore => {
  const ref: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', name: opts.name ?? DEFAULT_GATE_CONFIGMAP, namespace: opts.namespace };
  const maxAttempts = opts.maxAttempts ?? 10;

  const fresh = (data: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ref.name, namespace: opts.namespace, labels: { 'app.kubernetes.io/managed-by': 'fledge' } },
    data,
  });

  /** One round; false when it lost a race and must be retried. */
  const tryWrite = async (dataKey: string, open: boolean): Promise<boolean> => {
    const current = await opts.kube.get(ref);
    if (!current) {
      if (!open) return true; // no ConfigMap: every gate is already closed
      try {
        await opts.kube.create(fresh({ [dataKey]: OPEN }));
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const data = dataOf(current);
    if ((data[dataKey] === OPEN) === open) return true;
    if (open) data[dataKey] = OPEN;
    else delete data[dataKey];
    try {
      // current carries its resourceVersion, so a concurrent writer makes this PUT fail with 409.
      await opts.kube.replace({ ...current, data });
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  };

  return {
    async isOpen(kind, key) {
      const cm = await opts.kube.get(ref);
      return cm !== undefined && dataOf(cm)[gateDataKey(kind, key)] === OPEN;
    },
    async setOpen(kind, key, open) {
      const dataKey = gateDataKey(kind, key);
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (await tryWrite(dataKey, open)) return;
      }
      throw new KubeApiError(
        409,
        `Operation cannot be fulfilled on configmaps "${ref.name}": gave up after ${maxAttempts} conflicting writes`,
        'Conflict',
      );
    },
  };
};
