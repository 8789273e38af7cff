/**
 * Operator rollback requests (`fledge abort`, or /rollback/open) as the engine asks for them: the
 * 'rollback' gates of the gate store. Reads come from the controller's watch cache (ConfigMaps are
 * watched), so asking at every analysis step costs no API request; a withdrawal writes through the
 * API server, and only when the cache says a request is open.
 */
import type { KubeApi } from '../kube/api.js';
import type { GateKey } from './gate-store.js';
import { createConfigMapGateStore } from './gate-store.js';

export interface RollbackRequests {
  isRequested(key: GateKey): Promise<boolean>;
  /** Closes the request; a no-op when none is open. */
  withdraw(key: GateKey): Promise<void>;
}

export interface RollbackRequestsOptions {
  /** Reads (the controller's cache-backed KubeApi). */
  cached: KubeApi;
  /** Writes (straight to the API server: a read-modify-write must not start from a stale cache). */
  live: KubeApi;
  /** Where the gates ConfigMap lives: the same namespace the controller's gate endpoints use. */
  namespace: string;
  name?: string;
}

export const createRollbackRequests = (opts: RollbackRequestsOptions): RollbackRequests => {
  const where = { namespace: opts.namespace, ...(opts.name ? { name: opts.name } : {}) };
  const cached = createConfigMapGateStore({ kube: opts.cached, ...where });
  const live = createConfigMapGateStore({ kube: opts.live, ...where });
  return {
    isRequested: (key) => cached.isOpen('rollback', key),
    async withdraw(key) {
      if (await cached.isOpen('rollback', key)) await live.setOpen('rollback', key, false);
    },
  };
};
