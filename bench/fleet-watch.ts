/**
 * One watch stream on every Canary of the cluster, opened before the fleet exists. Each event is
 * timestamped when its chunk arrives and folded into the latest (phase, canaryWeight) per canary;
 * phases subscribe to the changes they time. If the stream ends it is reopened from the last
 * resourceVersion (and counted, since a reopen is a request the benchmark itself made).
 */
import http from 'node:http';
import type { Endpoint } from './support.js';
import { LineSplitter, now } from './support.js';

export interface CanaryState {
  phase?: string;
  canaryWeight?: number;
}

/** A change of a canary's (phase, canaryWeight), seen at `at` (performance.now() ms). */
export interface CanaryChange {
  key: string;
  at: number;
  before: CanaryState;
  after: CanaryState;
}

type Listener = (c: CanaryChange) => void;

interface WatchLine {
  type?: string;
  object?: { metadata?: { namespace?: string; name?: string; resourceVersion?: string }; status?: { phase?: string; canaryWeight?: number } };
}

const PATH = '/apis/flagger.app/v1beta1/canaries';

export class CanaryWatch {
  private readonly states = new Map<string, CanaryState>();
  private readonly listeners = new Set<Listener>();
  private request: http.ClientRequest | undefined;
  private lastRv: string | undefined;
  private closed = false;
  /** Watch requests this benchmark opened (1 unless the stream was reopened). */
  opens = 0;
  events = 0;
  problem: string | undefined;

  constructor(private readonly at: Endpoint) {}

  start(): Promise<void> {
    return this.open();
  }

  state(key: string): CanaryState | undefined {
    return this.states.get(key);
  }

  countWhere(test: (s: CanaryState) => boolean): number {
    let n = 0;
    for (const s of this.states.values()) if (test(s)) n += 1;
    return n;
  }

  /** Calls `listener` with every change until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.request?.destroy();
  }

  private open(): Promise<void> {
    const query = this.lastRv ? `?watch=true&resourceVersion=${this.lastRv}` : '?watch=true';
    this.opens += 1;
    return new Promise((resolve, reject) => {
      // Its own connection (agent: false): a watch holds its socket for as long as it runs.
      const req = http.request({ host: this.at.host, port: this.at.port, path: PATH + query, agent: false, headers: { Accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`watch ${PATH}: HTTP ${res.statusCode}`));
        resolve();
        res.setEncoding('utf8');
        const lines = new LineSplitter();
        res.on('data', (chunk: string) => {
          const at = now();
          for (const line of lines.push(chunk)) this.onLine(line, at);
        });
        res.on('end', () => this.reopen());
        res.on('error', () => this.reopen());
      });
      req.on('error', (e) => (this.opens === 1 ? reject(e) : this.reopen()));
      req.end();
      this.request = req;
    });
  }

  private reopen(): void {
    if (this.closed) return;
    this.open().catch((e: unknown) => (this.problem ??= `watch reopen failed: ${String(e)}`));
  }

  private onLine(line: string, at: number): void {
    let e: WatchLine;
    try {
      e = JSON.parse(line) as WatchLine;
    } catch {
      this.problem ??= `watch: not JSON: ${line.slice(0, 200)}`;
      return;
    }
    if (e.type === 'ERROR') {
      // Expired: start over from the current state (the reopen lists it as ADDED events).
      this.lastRv = undefined;
      return;
    }
    const meta = e.object?.metadata;
    if (meta?.resourceVersion) this.lastRv = meta.resourceVersion;
    if (e.type === 'BOOKMARK' || !meta?.name) return;
    this.events += 1;
    const key = `${meta.namespace}/${meta.name}`;
    if (e.type === 'DELETED') {
      this.states.delete(key);
      return;
    }
    const before = this.states.get(key) ?? {};
    const after: CanaryState = { ...(e.object?.status?.phase !== undefined ? { phase: e.object.status.phase } : {}) };
    if (typeof e.object?.status?.canaryWeight === 'number') after.canaryWeight = e.object.status.canaryWeight;
    this.states.set(key, after);
    if (before.phase === after.phase && before.canaryWeight === after.canaryWeight) return;
    for (const l of this.listeners) l({ key, at, before, after });
  }
}
