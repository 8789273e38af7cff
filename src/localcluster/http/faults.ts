/**
 * Fault injection (`--fault-rate`): a share of requests fail the way a loaded API server fails them
 * (500, or 429 with Retry-After), and a share of watch streams are dropped after a while. A seeded
 * generator makes a failing run repeatable. Also counts requests by verb, for the fleet benchmark.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../api/clock.js';
import { ApiError } from '../errors.js';

/** mulberry32: small, fast, good enough to spread faults; not for anything secret. */
const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const verbOf = (req: IncomingMessage): string => {
  const method = req.method ?? 'GET';
  const url = req.url ?? '';
  if (method === 'GET' && /[?&]watch=(true|1)/.test(url)) return 'WATCH';
  // Dry runs persist nothing; counted apart so "no write" can be checked by counting.
  if (/[?&]dryRun=All/.test(url)) return `${method}-DRYRUN`;
  return method;
};

export class RequestGate {
  private readonly random: () => number;
  readonly counts: Record<string, number> = {};
  /** Requests per impersonated user (`Impersonate-User`); RBAC is not enforced, only recorded. */
  readonly impersonated: Record<string, number> = {};
  injected = 0;

  constructor(
    private readonly rate: number,
    seed: number,
    private readonly clock: Clock,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new Error(`fault rate: must be between 0 and 1, got ${rate}`);
    this.random = seeded(seed);
  }

  /** Counts the request and decides its fate; true when a fault was injected and the response is done. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const verb = verbOf(req);
    this.counts[verb] = (this.counts[verb] ?? 0) + 1;
    const user = req.headers['impersonate-user'];
    if (typeof user === 'string') this.impersonated[user] = (this.impersonated[user] ?? 0) + 1;
    if (this.rate === 0 || req.url?.startsWith('/healthz') || req.url?.startsWith('/readyz')) return false;
    if (this.random() >= this.rate) return false;
    this.injected += 1;
    if (verb === 'WATCH') {
      // Let the watch start, then cut it: clients must resume from their last resourceVersion.
      this.clock.setTimeout(() => res.destroy(), 50 + Math.floor(this.random() * 2000));
      return false;
    }
    const err = this.random() < 0.5 ? new ApiError('InternalError', 'Internal error occurred: injected fault') : new ApiError('TooManyRequests', 'Too many requests, please try again later (injected fault)', { retryAfterSeconds: 1 });
    res.writeHead(err.code, { 'Content-Type': 'application/json', ...(err.code === 429 ? { 'Retry-After': '1' } : {}) });
    res.end(JSON.stringify(err.toStatus()));
    return true;
  }
}
