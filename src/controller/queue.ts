/**
 * A keyed work queue: one key is never processed twice at once, a key added while it is being processed
 * runs again right after, and keys can be scheduled for later (the analysis interval) through the
 * injected clock. A later schedule never postpones an earlier one.
 */
import type { Clock } from '../api/clock.js';

export type Worker = (key: string) => Promise<void>;

export class KeyedQueue {
  private readonly queued = new Set<string>();
  private readonly order: string[] = [];
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, { at: number; handle: unknown }>();
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly worker: Worker,
    private readonly clock: Clock,
    private readonly concurrency = 4,
    private readonly onError: (key: string, err: unknown) => void = () => undefined,
  ) {}

  /** Process `key` as soon as a worker is free. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.again.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.order.push(key);
    this.pump();
  }

  /** Process `key` after `delayMs`, unless it is already due sooner. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + delayMs;
    const current = this.timers.get(key);
    if (current && current.at <= at) return;
    if (current) this.clock.clearTimeout(current.handle);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, { at, handle });
  }

  /** Drop a key's pending timer (the canary was deleted or went idle). */
  forget(key: string): void {
    const t = this.timers.get(key);
    if (t) this.clock.clearTimeout(t.handle);
    this.timers.delete(key);
  }

  scheduledAt(key: string): number | undefined {
    return this.timers.get(key)?.at;
  }

  get size(): number {
    return this.order.length + this.active;
  }

  /** Resolves when nothing is queued or running (tests and shutdown). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t.handle);
    this.timers.clear();
    this.order.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.order.length) {
      const key = this.order.shift() as string;
      this.queued.delete(key);
      this.running.add(key);
      this.active += 1;
      void this.worker(key)
        .catch((err) => this.onError(key, err))
        .finally(() => {
          this.running.delete(key);
          this.active -= 1;
          if (this.again.delete(key)) this.add(key);
          this.pump();
          if (this.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
