/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the holder
 * renews the lease every `renewMs`; a candidate takes the lease over once it has not been renewed for
 * `leaseDurationMs`. Writes carry the resourceVersion read, so two candidates never both win.
 */
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import { KubeApiError } from '../kube/api.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewMs: number;
}

const microTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  private timer: unknown;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;

  constructor(
    private readonly kube: KubeApi,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Calls `onLead` when this candidate becomes leader, `onLost` if it ever loses the lease. */
  start(onLead: () => void, onLost: () => void): void {
    const attempt = async (): Promise<void> => {
      if (this.stopped) return;
      const held = await this.tryAcquireOrRenew().then(
        (ok) => {
          if (ok) this.lastRenew = this.clock.now();
          return ok;
        },
        (err) => {
          this.log.warn({ err }, 'leader election: lease update failed');
          // A leader whose renewals fail keeps leading until its lease would have expired anyway.
          return this.leading && this.clock.now() - this.lastRenew < this.opts.leaseDurationMs;
        },
      );
      if (held && !this.leading) {
        this.leading = true;
        this.log.info({ identity: this.opts.identity }, 'became leader');
        onLead();
      } else if (!held && this.leading) {
        this.leading = false;
        this.log.warn({ identity: this.opts.identity }, 'lost the lease');
        onLost();
      }
      if (!this.stopped) this.timer = this.clock.setTimeout(() => void attempt(), this.leading ? this.opts.renewMs : Math.max(100, this.opts.renewMs / 2));
    };
    void attempt();
  }

  /** Stop campaigning; a leader gives the lease up so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.kube.get(this.ref()).catch(() => undefined);
    const spec = lease?.spec as { holderIdentity?: string } | undefined;
    if (lease && spec?.holderIdentity === this.opts.identity) {
      await this.kube.replace({ ...lease, spec: { ...(lease.spec as object), holderIdentity: '', leaseDurationSeconds: 1 } }).catch(() => undefined);
    }
  }

  private ref() {
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.opts.namespace, name: this.opts.name };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const lease = await this.kube.get(this.ref());
    const wanted = (prior?: Record<string, unknown>): Record<string, unknown> => ({
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      renewTime: microTime(now),
      acquireTime: prior?.holderIdentity === this.opts.identity ? (prior.acquireTime ?? microTime(now)) : microTime(now),
      leaseTransitions: Number(prior?.leaseTransitions ?? 0) + (prior?.holderIdentity === this.opts.identity ? 0 : 1),
    });
    try {
      if (!lease) {
        await this.kube.create({ ...this.ref(), metadata: { name: this.opts.name, namespace: this.opts.namespace }, spec: wanted() } as KubeObject);
        return true;
      }
      const spec = (lease.spec ?? {}) as Record<string, unknown>;
      const holder = spec.holderIdentity as string | undefined;
      const renewed = Date.parse(String(spec.renewTime ?? '')) || 0;
      const duration = Number(spec.leaseDurationSeconds ?? 0) * 1000;
      if (holder && holder !== this.opts.identity && renewed + duration > now) return false;
      await this.kube.replace({ ...lease, spec: wanted(spec) });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 409 || err.status === 422)) return false;
      throw err;
    }
  }
}
