/**
 * CustomResourceDefinitions: a stored CRD is served at once and reported Established; a deleted one
 * takes its custom resources with it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { ApiService } from '../service.js';
import type { StoreEvent } from '../store.js';
import type { JsonObject, KubeObject } from '../types.js';
import { isJsonObject } from '../types.js';
import { typesOfCrd } from '../registry.js';

export const CRD_RESOURCE = 'apiextensions.k8s.io/customresourcedefinitions';

export class CrdController {
  constructor(
    private readonly svc: ApiService,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Serve the CRDs already stored (after a restore). */
  prime(): void {
    for (const crd of this.svc.store.list(CRD_RESOURCE)) this.svc.registry.registerCrd(crd);
  }

  onEvent = (e: StoreEvent): void => {
    if (e.resource !== CRD_RESOURCE) return;
    const crd = e.object;
    if (e.type === 'DELETED') {
      for (const t of typesOfCrd(crd).slice(0, 1)) {
        const resource = `${t.group}/${t.plural}`;
        for (const o of this.svc.store.list(resource)) this.svc.store.remove(resource, o.metadata.namespace, o.metadata.name ?? '');
      }
      this.svc.registry.unregisterCrd(crd.metadata.name ?? '');
      return;
    }
    // Serve synchronously so a client that created the CRD can use it as soon as it reads Established.
    this.svc.registry.registerCrd(crd);
    this.clock.setTimeout(() => this.markEstablished(crd.metadata.name ?? ''), 0);
  };

  private markEstablished(name: string): void {
    const type = this.svc.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const crd = type && this.svc.tryGet(type, undefined, name);
    if (!type || !crd || crd.metadata.deletionTimestamp) return;
    const spec = isJsonObject(crd.spec) ? crd.spec : {};
    const status = isJsonObject(crd.status) ? crd.status : {};
    const versions = Array.isArray(spec.versions) ? spec.versions.filter(isJsonObject) : [];
    const storage = versions.find((v) => v.storage === true)?.name;
    const stored = Array.isArray(status.storedVersions) ? status.storedVersions.map(String) : [];
    const now = this.svc.now();
    const cond = (t: string, reason: string, message: string): JsonObject => {
      const old = (Array.isArray(status.conditions) ? status.conditions.filter(isJsonObject) : []).find((c) => c.type === t);
      return { type: t, status: 'True', reason, message, lastTransitionTime: old?.lastTransitionTime ?? now };
    };
    const next: JsonObject = {
      conditions: [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
      acceptedNames: isJsonObject(spec.names) ? spec.names : {},
      storedVersions: storage && !stored.includes(String(storage)) ? [...stored, String(storage)] : stored,
    };
    if (JSON.stringify(next) === JSON.stringify(status)) return;
    try {
      this.svc.update(type, undefined, name, { ...(crd as KubeObject), status: next }, { fieldManager: 'kube-apiserver', subresource: 'status' });
    } catch (err) {
      this.log.warn({ err, name }, 'marking CRD established failed');
    }
  }
}
