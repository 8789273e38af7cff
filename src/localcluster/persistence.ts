/** `--data FILE`: the store's objects survive a restart. Writes are batched and atomic (write, then rename). */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Clock } from '../api/clock.js';
import type { ObjectStore, StoreSnapshot } from './store.js';

export const loadSnapshot = (file: string): StoreSnapshot | undefined => {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as StoreSnapshot;
  if (typeof parsed.resourceVersion !== 'number' || typeof parsed.objects !== 'object') {
    throw new Error(`${file}: not a local-cluster data file`);
  }
  return parsed;
};

export class SnapshotWriter {
  private timer: unknown;

  constructor(
    private readonly store: ObjectStore,
    private readonly file: string,
    private readonly clock: Clock,
    private readonly delayMs = 200,
  ) {}

  /** Called on every change; saves at most once per delay. */
  changed = (): void => {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => this.flush(), this.delayMs);
  };

  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.store.snapshot()));
    renameSync(tmp, this.file);
  }
}
