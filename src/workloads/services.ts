/**
 * The three Services of a Deployment or DaemonSet canary (Flagger's kubernetes_default router):
 * `<name>-canary` selects the target's pods, `<name>-primary` the primary's, and the apex `<name>`
 * starts on the primary. An apex the user created is adopted (its selector switched, the old one
 * remembered) and handed back by finalize.
 */
import type { Canary, CanaryService } from '../api/index.js';
import { serviceNames } from '../api/index.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import { refOf } from '../kube/api.js';
import type { JsonMap } from './json.js';
import { deepCopy, isMap, listOf, mapOf, numberOf, sameJson, stringMapOf, stringOf } from './json.js';
import type { SelectorLabel } from './primary-spec.js';
import { FLUX_RECONCILE_KEY, ORIGINAL_SELECTOR_ANNOTATION, isOwnedBy, ownedMeta, withFluxDisabled, withoutToolkitKeys } from './metadata.js';
import { retryOnConflict } from './retry.js';

export type ServiceRole = 'apex' | 'primary' | 'canary';

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: string;
  appProtocol?: string;
}

// Mesh proxies injected next to the app: their ports are not the app's (Flagger's list).
const SIDECARS = new Set(['istio-proxy', 'envoy']);

/** service.portDiscovery: the target's other container ports, named as Flagger names them. */
export const discoverPorts = (service: CanaryService, podSpec: unknown): ServicePort[] => {
  const ports = new Map<string, ServicePort>();
  for (const container of listOf(mapOf(podSpec).containers).filter(isMap)) {
    const containerName = stringOf(container.name) ?? '';
    if (SIDECARS.has(containerName)) continue;
    listOf(container.ports)
      .filter(isMap)
      .forEach((p, index) => {
        const port = numberOf(p.containerPort);
        const portName = stringOf(p.name);
        if (port === undefined) return;
        const isMainPort = typeof service.targetPort === 'number' ? port === service.targetPort : portName === service.targetPort;
        // A second port with the main port's number would make the Service invalid.
        if (isMainPort || port === service.port) return;
        const name = portName || `tcp-${containerName}-${index}`;
        ports.set(name, { name, port, targetPort: port, protocol: 'TCP' });
      });
  }
  return [...ports.values()].sort((a, b) => a.name.localeCompare(b.name));
};

/** service.port named service.portName to service.targetPort, then any discovered ports. */
export const servicePorts = (service: CanaryService, discovered: readonly ServicePort[] = []): ServicePort[] => [
  {
    name: service.portName,
    port: service.port,
    targetPort: service.targetPort,
    protocol: 'TCP',
    ...(service.appProtocol ? { appProtocol: service.appProtocol } : {}),
  },
  ...discovered,
];

export const serviceSelector = (role: ServiceRole, selector: SelectorLabel): Record<string, string> => ({
  [selector.label]: role === 'canary' ? selector.value : `${selector.value}-primary`,
});

export const serviceName = (canary: Canary, role: ServiceRole): string => serviceNames(canary.spec.service)[role];

/** The Service as Fledge creates it, with service.apex/primary/canary metadata. */
export const buildService = (canary: Canary, role: ServiceRole, selector: SelectorLabel, ports: readonly ServicePort[]): KubeObject => {
  const name = serviceName(canary, role);
  const custom = canary.spec.service[role];
  const labels = { ...withoutToolkitKeys(custom?.labels ?? {}), [selector.label]: name };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMeta(canary, name, labels, withoutToolkitKeys(custom?.annotations ?? {})),
    spec: { type: 'ClusterIP', selector: serviceSelector(role, selector), ports: ports.map((p) => ({ ...p })) },
  };
};

/** Ports as compared: what the server may default or assign (protocol, nodePort) does not count. */
const portKey = (ports: unknown): unknown =>
  listOf(ports)
    .filter(isMap)
    .map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol }))
    .sort((a, b) => (numberOf(a.port) ?? 0) - (numberOf(b.port) ?? 0));

/** Keeps the node ports the server assigned to ports of the same name (a NodePort or LoadBalancer apex). */
const withNodePorts = (desired: unknown, live: unknown): JsonMap[] => {
  const assigned = new Map(listOf(live).filter(isMap).map((p) => [p.name, p.nodePort]));
  return listOf(desired)
    .filter(isMap)
    .map((p) => (assigned.get(p.name) !== undefined ? { ...p, nodePort: assigned.get(p.name) } : { ...p }));
};

/** Selectors a router may have set on the apex: primary, target, or Flagger's `-canary` value. */
const isRoutingSelector = (selector: unknown, sel: SelectorLabel): boolean => {
  const map = stringMapOf(selector);
  const keys = Object.keys(map);
  const value = map[sel.label];
  return keys.length === 1 && (value === sel.value || value === `${sel.value}-primary` || value === `${sel.value}-canary`);
};

/**
 * Creates the Service, or brings an existing one to the desired ports and selector. Metadata is
 * ours to change only on Services the canary owns; the apex keeps a selector a router has set.
 */
export const reconcileService = async (kube: KubeApi, canary: Canary, role: ServiceRole, desired: KubeObject, sel: SelectorLabel): Promise<void> =>
  retryOnConflict(async () => {
    const live = await kube.get(refOf(desired));
    if (!live) {
      await kube.create(desired);
      return;
    }
    const next = deepCopy(live);
    const spec = mapOf(next.spec);
    const wanted = mapOf(desired.spec);
    const owned = isOwnedBy(live, canary);
    const annotations = stringMapOf(live.metadata.annotations);
    const adopted = annotations[ORIGINAL_SELECTOR_ANNOTATION] !== undefined;
    let changed = false;
    if (!sameJson(portKey(spec.ports), portKey(wanted.ports))) {
      spec.ports = withNodePorts(wanted.ports, spec.ports);
      changed = true;
    }
    const keepRouted = role === 'apex' && (owned || adopted) && isRoutingSelector(spec.selector, sel);
    if (!keepRouted && !sameJson(spec.selector ?? {}, wanted.selector)) {
      spec.selector = wanted.selector;
      changed = true;
    }
    if (owned) {
      if (!sameJson(live.metadata.labels ?? {}, desired.metadata.labels) || !sameJson(annotations, desired.metadata.annotations)) {
        next.metadata.labels = desired.metadata.labels;
        next.metadata.annotations = desired.metadata.annotations;
        changed = true;
      }
    } else if (annotations[FLUX_RECONCILE_KEY] !== 'disabled' || (role === 'apex' && !adopted)) {
      // Taking over a user's Service: Flux must stop reverting it, and the apex's selector is kept for finalize.
      const original: Record<string, string> =
        role === 'apex' && !adopted ? { [ORIGINAL_SELECTOR_ANNOTATION]: JSON.stringify(mapOf(live.spec).selector ?? {}) } : {};
      next.metadata.annotations = withFluxDisabled({ ...annotations, ...original });
      changed = true;
    }
    next.spec = spec;
    if (changed) await kube.replace(next);
  });

/**
 * Hands the apex back (revertOnDeletion): an adopted apex gets its own selector again; one we created
 * selects the target and loses the Canary's ownership, so it outlives the Canary and keeps serving.
 */
export const releaseApex = async (kube: KubeApi, canary: Canary, sel: SelectorLabel): Promise<void> =>
  retryOnConflict(async () => {
    const ref = { apiVersion: 'v1', kind: 'Service', name: serviceName(canary, 'apex'), namespace: canary.metadata.namespace };
    const live = await kube.get(ref);
    if (!live) return;
    const owned = isOwnedBy(live, canary);
    const annotations = stringMapOf(live.metadata.annotations);
    const original = annotations[ORIGINAL_SELECTOR_ANNOTATION];
    if (!owned && original === undefined) return;
    const next = deepCopy(live);
    let selector: unknown = { [sel.label]: sel.value };
    if (original !== undefined) {
      try {
        selector = JSON.parse(original);
      } catch {
        // An edited annotation: fall back to the target's pods.
      }
      delete annotations[ORIGINAL_SELECTOR_ANNOTATION];
      delete annotations[FLUX_RECONCILE_KEY];
      next.metadata.annotations = annotations;
    }
    next.metadata.ownerReferences = (live.metadata.ownerReferences ?? []).filter(
      (r) => !(r.kind === 'Canary' && r.name === canary.metadata.name),
    );
    next.spec = { ...mapOf(live.spec), selector };
    await kube.replace(next);
  });
