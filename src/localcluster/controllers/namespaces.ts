/** Namespace termination: a deleted namespace empties itself, then disappears. */
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { ApiService } from '../service.js';
import type { StoreEvent } from '../store.js';

export class NamespaceController {
  private readonly terminating = new Set<string>();
  private readonly drainScheduled = new Set<string>();

  constructor(
    private readonly svc: ApiService,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  onEvent = (e: StoreEvent): void => {
    if (e.resource === '/namespaces') {
      const name = e.object.metadata.name ?? '';
      if (e.type === 'DELETED') this.terminating.delete(name);
      else if (e.object.metadata.deletionTimestamp && !this.terminating.has(name)) {
        this.terminating.add(name);
        this.clock.setTimeout(() => this.drain(name), 0);
      }
      return;
    }
    const ns = e.object.metadata.namespace;
    if (e.type === 'DELETED' && ns && this.terminating.has(ns) && !this.drainScheduled.has(ns)) {
      // One drain per batch of deletions, not one per deleted object.
      this.drainScheduled.add(ns);
      this.clock.setTimeout(() => {
        this.drainScheduled.delete(ns);
        this.drain(ns);
      }, 0);
    }
  };

  private drain(ns: string): void {
    if (!this.terminating.has(ns)) return;
    let remaining = 0;
    for (const type of this.svc.registry.all()) {
      if (!type.namespaced) continue;
      for (const o of this.svc.store.list(`${type.group}/${type.plural}`, ns)) {
        remaining += 1;
        if (o.metadata.deletionTimestamp) continue;
        try {
          this.svc.delete(type, ns, o.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (err) {
          this.log.warn({ err, ns }, 'namespace cleanup failed');
        }
      }
    }
    if (remaining === 0 || this.isEmpty(ns)) this.svc.store.remove('/namespaces', undefined, ns);
  }

  private isEmpty(ns: string): boolean {
    return this.svc.registry.all().every((t) => !t.namespaced || this.svc.store.list(`${t.group}/${t.plural}`, ns).length === 0);
  }
}
