/**
 * Assembles the local cluster: store, registry, API service, simulated controllers and the HTTP
 * server on loopback. Everything is created here and passed down; nothing is global.
 */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { CrdController } from './controllers/crds.js';
import { GarbageCollector } from './controllers/garbage-collector.js';
import { NamespaceController } from './controllers/namespaces.js';
import { WorkloadSimulator } from './controllers/workloads.js';
import { ApiError } from './errors.js';
import { RequestGate } from './http/faults.js';
import { createHandler } from './http/server.js';
import { kubeconfigFor } from './kubeconfig.js';
import { loadSnapshot, SnapshotWriter } from './persistence.js';
import { ResourceRegistry, storageKey } from './registry.js';
import { builtinResourceTypes } from './resources.js';
import { ApiService } from './service.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

export interface LocalClusterOptions {
  host?: string;
  port?: number;
  readyDelayMs?: number;
  dataFile?: string;
  clock?: Clock;
  log?: Logger;
  bookmarkIntervalMs?: number;
  historySize?: number;
  /** Share of requests (0..1) answered 500/429, and of watches dropped (`--fault-rate`). */
  faultRate?: number;
  faultSeed?: number;
}

export interface LocalCluster {
  readonly url: string;
  readonly port: number;
  readonly service: ApiService;
  kubeconfig(): string;
  /** Create or replace objects as the `fledge` manager (used to preload CRDs). */
  applyObjects(objects: KubeObject[]): KubeObject[];
  /** End every open watch stream, as an API server restart or a load balancer would. */
  dropWatches(): number;
  /**
   * Requests served so far by verb (GET, LIST is a GET too, WATCH, POST, PUT, PATCH, DELETE; dry runs as
   * `PATCH-DRYRUN` ...), faults injected, and requests per impersonated user (recorded, not authorised).
   */
  requestStats(): { counts: Record<string, number>; injectedFaults: number; impersonated: Record<string, number> };
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export const startLocalCluster = async (opts: LocalClusterOptions = {}): Promise<LocalCluster> => {
  const clock = opts.clock ?? systemClock();
  const log = opts.log ?? pino({ level: 'silent' });
  const store = new ObjectStore(opts.historySize);
  const snapshot = opts.dataFile ? loadSnapshot(opts.dataFile) : undefined;
  if (snapshot) store.restore(snapshot);
  const registry = new ResourceRegistry(builtinResourceTypes());
  const service = new ApiService(store, registry, clock);

  const crds = new CrdController(service, clock, log);
  const gc = new GarbageCollector(service, clock, log);
  const namespaces = new NamespaceController(service, clock, log);
  const workloads = new WorkloadSimulator(service, clock, opts.readyDelayMs ?? 1000, log);
  crds.prime();
  gc.prime();
  const writer = opts.dataFile ? new SnapshotWriter(store, opts.dataFile, clock) : undefined;
  const subscription = store.onAnyChange((e) => {
    crds.onEvent(e);
    gc.onEvent(e);
    namespaces.onEvent(e);
    workloads.onEvent(e);
    writer?.changed();
  });

  const nsType = registry.lookup('', 'v1', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    if (nsType && !service.tryGet(nsType, undefined, name)) {
      service.create(nsType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'kube-apiserver' });
    }
  }
  // Deployments restored from disk get their simulated status again.
  for (const resource of ['apps/deployments', 'apps/daemonsets', 'apps/statefulsets']) {
    for (const o of store.list(resource)) workloads.onEvent({ type: 'MODIFIED', resource, object: o, rv: store.resourceVersion });
  }

  const openWatches = new Set<ServerResponse>();
  const handler = createHandler(service, { svc: service, clock, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000, open: openWatches, rendered: new WeakMap() });
  const gate = new RequestGate(opts.faultRate ?? 0, opts.faultSeed ?? 1, clock);
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (!gate.admit(req, res)) handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;

  return {
    url,
    port,
    service,
    kubeconfig: () => kubeconfigFor(url),
    applyObjects(objects) {
      return objects.map((o) => {
        const type = registry.byApiVersionKind(o.apiVersion, o.kind);
        if (!type) throw new ApiError('NotFound', `no kind "${o.kind}" is registered for version "${o.apiVersion}"`);
        const ns = type.namespaced ? (o.metadata.namespace ?? 'default') : undefined;
        const existing = store.get(storageKey(type), ns, o.metadata.name ?? '');
        const opts = { fieldManager: 'fledge' };
        if (!existing) return service.create(type, ns, o, opts).object;
        return service.update(type, ns, o.metadata.name ?? '', { ...o, metadata: { ...o.metadata, resourceVersion: existing.metadata.resourceVersion } }, opts).object;
      });
    },
    requestStats() {
      return { counts: { ...gate.counts }, injectedFaults: gate.injected, impersonated: { ...gate.impersonated } };
    },
    dropWatches() {
      const n = openWatches.size;
      for (const res of [...openWatches]) res.destroy();
      return n;
    },
    async close() {
      subscription.unsubscribe();
      workloads.stop();
      for (const res of openWatches) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      writer?.flush();
    },
  };
};
