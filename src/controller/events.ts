/**
 * Kubernetes Events on the Canary, as `kubectl describe canary` and `kubectl get events` show them.
 * A repeat of the same message bumps the count of the existing Event instead of creating another.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { KubeApi, KubeObject } from '../kube/api.js';

export interface RecordedEvent {
  namespace: string;
  name: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

interface Seen {
  eventName: string;
  count: number;
  first: string;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly kube: KubeApi,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly component = 'flagger',
    /** Also told of every event (event webhook, alerts, tests). */
    private readonly listeners: Array<(e: RecordedEvent) => void> = [],
  ) {}

  onEvent(listener: (e: RecordedEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Records the event; never throws (a failing event write must not stop a rollout). */
  async record(canary: { metadata: { name: string; namespace: string; uid?: string } }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { name, namespace, uid } = canary.metadata;
    const event: RecordedEvent = { namespace, name, type, reason, message };
    for (const l of this.listeners) l(event);
    const now = rfc3339(this.clock.now());
    const key = `${namespace}/${name}/${type}/${reason}/${message}`;
    const prior = this.seen.get(key);
    try {
      if (prior) {
        prior.count += 1;
        await this.kube.mergePatch({ apiVersion: 'v1', kind: 'Event', namespace, name: prior.eventName }, { count: prior.count, lastTimestamp: now });
        return;
      }
      const eventName = `${name}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName, namespace },
        involvedObject: { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name, namespace, ...(uid ? { uid } : {}) },
        type,
        reason,
        message,
        source: { component: this.component },
        reportingComponent: this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      this.seen.set(key, { eventName, count: 1, first: now });
      await this.kube.create(body).catch(async (err: { status?: number }) => {
        // Left over from an earlier controller run: take it over.
        if (err.status === 409) await this.kube.mergePatch({ apiVersion: 'v1', kind: 'Event', namespace, name: eventName }, { lastTimestamp: now });
        else throw err;
      });
    } catch (err) {
      this.log.warn({ err, canary: `${namespace}/${name}`, reason }, 'recording an event failed');
    }
  }
}
