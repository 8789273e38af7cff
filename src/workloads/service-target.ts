/**
 * Workloads for a Service target (Flagger's service_controller.go): the target Service is the
 * canary; `<target>-canary` and `<target>-primary` are copies of it that routers use as backends, and
 * promotion copies the target's spec to the primary. There is nothing to scale or wait for, and no
 * apex Service: routing is entirely the router's.
 */
import type { Canary } from '../api/index.js';
import { FledgeError } from '../api/index.js';
import type { KubeObject, ObjectRef } from '../kube/api.js';
import { revisionChecksum } from './checksum.js';
import type { JsonMap } from './json.js';
import { deepCopy, isMap, listOf, mapOf, sameJson, stringMapOf } from './json.js';
import { copiedMetadata, ownedMeta, withFluxDisabled } from './metadata.js';
import { retryOnConflict } from './retry.js';
import type { WorkloadSettings, Workloads } from './types.js';

// Assigned by the server per Service: a copy must get its own.
const ASSIGNED_SPEC_FIELDS = ['clusterIP', 'clusterIPs', 'healthCheckNodePort'];

/** The target's spec for a copy: the copy's own server-assigned addresses and node ports, never the target's. */
const copiedSpec = (spec: unknown, assignedFrom?: unknown): JsonMap => {
  const copy = deepCopy(mapOf(spec));
  const assigned = mapOf(assignedFrom);
  const nodePorts = new Map(listOf(assigned.ports).filter(isMap).map((p) => [p.name, p.nodePort]));
  for (const field of ASSIGNED_SPEC_FIELDS) delete copy[field];
  copy.ports = listOf(copy.ports).map((p) => {
    if (!isMap(p)) return p;
    const { nodePort: _nodePort, ...rest } = p;
    const own = nodePorts.get(p.name);
    return own === undefined ? rest : { ...rest, nodePort: own };
  });
  for (const field of ASSIGNED_SPEC_FIELDS) if (assigned[field] !== undefined) copy[field] = deepCopy(assigned[field]);
  return copy;
};

const copyOf = (target: KubeObject, canary: Canary, name: string, prefixes?: readonly string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: ownedMeta(
    canary,
    name,
    copiedMetadata(stringMapOf(target.metadata.labels), prefixes),
    copiedMetadata(stringMapOf(target.metadata.annotations), prefixes),
  ),
  spec: copiedSpec(target.spec),
});

export const createServiceTarget = (settings: WorkloadSettings): Workloads => {
  const { kube } = settings;
  const refOf = (canary: Canary, suffix = ''): ObjectRef => ({
    apiVersion: 'v1',
    kind: 'Service',
    name: `${canary.spec.targetRef.name}${suffix}`,
    namespace: canary.metadata.namespace,
  });

  const readTarget = async (canary: Canary): Promise<KubeObject> => {
    const target = await kube.get(refOf(canary));
    if (!target) throw new FledgeError('NotReady', `service ${canary.spec.targetRef.name}.${canary.metadata.namespace} not found`);
    return target;
  };

  /** Brings the copy's spec (and, when asked, metadata) to the target's; creates it when missing. */
  const sync = async (canary: Canary, suffix: string, update: boolean): Promise<void> => {
    const target = await readTarget(canary);
    const desired = copyOf(target, canary, refOf(canary, suffix).name, settings.includeLabelPrefixes);
    await retryOnConflict(async () => {
      const live = await kube.get(refOf(canary, suffix));
      if (!live) {
        await kube.create(desired);
        return;
      }
      if (!update) return;
      const next: KubeObject = {
        ...live,
        metadata: { ...live.metadata, labels: desired.metadata.labels, annotations: withFluxDisabled(stringMapOf(desired.metadata.annotations)) },
        spec: copiedSpec(target.spec, live.spec),
      };
      if (!sameJson(next, live)) await kube.replace(next);
    });
  };

  const ready = { ready: true, retriable: true, message: '' };
  return {
    async initialize(canary) {
      await sync(canary, '-canary', true);
      await sync(canary, '-primary', false);
    },
    primaryReadiness: async () => ready,
    canaryReadiness: async () => ready,
    async targetChecksum(canary) {
      return { checksum: revisionChecksum(mapOf((await readTarget(canary)).spec), {}), trackedConfigs: {} };
    },
    scaleCanaryToZero: async () => undefined,
    scaleCanaryUp: async () => undefined,
    promote: (canary) => sync(canary, '-primary', true),
    finalize: async () => ({ done: true, message: 'nothing to restore for a Service target' }),
    selectorOf: async () => undefined,
  };
};
