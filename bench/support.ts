/**
 * Small helpers shared by the local-cluster benchmark: HTTP requests over a keep-alive agent, a
 * bounded-concurrency pool, newline-delimited JSON splitting for watch streams, percentiles and the
 * human-readable table. Nothing here knows about Kubernetes beyond JSON bodies.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Endpoint {
  host: string;
  port: number;
}

export interface Reply {
  status: number;
  body: string;
}

export const now = (): number => performance.now();

export const endpointOf = (url: string): Endpoint => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

/** One request; resolves once the whole body has arrived. */
export const send = (
  agent: http.Agent,
  at: Endpoint,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: at.host,
        port: at.port,
        method,
        path,
        agent,
        headers: {
          Accept: 'application/json',
          ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });

/** Throws unless the reply has one of the expected statuses; a benchmark must not count failures as work. */
export const expectStatus = (reply: Reply, expected: number[], what: string): Reply => {
  if (!expected.includes(reply.status)) {
    throw new Error(`${what}: HTTP ${reply.status}, expected ${expected.join('/')}: ${reply.body.slice(0, 300)}`);
  }
  return reply;
};

/** Runs op(0..count-1) with at most `concurrency` in flight; stops dispatching at the first failure. */
export const runPool = async (count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await op(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
};

/** Splits a text stream into complete lines, keeping a partial last line for the next chunk. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l.length > 0);
  }
}

/** Nearest-rank percentile of an ascending array. */
export const percentile = (sorted: number[], q: number): number => {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
};

export const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 0.5);

export const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

export interface Row {
  measure: string;
  value: string;
  detail: string;
}

export const formatTable = (rows: Row[]): string => {
  const header: Row = { measure: 'measure', value: 'value', detail: 'detail' };
  const all = [header, ...rows];
  const w1 = Math.max(...all.map((r) => r.measure.length));
  const w2 = Math.max(...all.map((r) => r.value.length));
  const line = (r: Row): string => `${r.measure.padEnd(w1)}  ${r.value.padStart(w2)}  ${r.detail}`;
  const rule = `${'-'.repeat(w1)}  ${'-'.repeat(w2)}  ${'-'.repeat(6)}`;
  return [line(header), rule, ...rows.map(line)].join('\n');
};
