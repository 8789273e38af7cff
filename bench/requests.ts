/**
 * Request/response measurements: GET of one object at a fixed concurrency, bulk creation, and LIST of
 * a large collection in one response and in limit=500 pages (plain JSON, and the Table form kubectl asks for).
 */
import type http from 'node:http';
import type { Endpoint } from './support.js';
import { expectStatus, now, percentile, runPool, send } from './support.js';

export interface LatencyFigures {
  count: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Ctx {
  agent: http.Agent;
  at: Endpoint;
}

const configMapsPath = (ns: string): string => `/api/v1/namespaces/${ns}/configmaps`;

export const createNamespace = async (ctx: Ctx, name: string): Promise<void> => {
  const reply = await send(ctx.agent, ctx.at, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  expectStatus(reply, [201], `create namespace ${name}`);
};

/** Runs `count` requests, `concurrency` in flight, timing each one. */
const timed = async (count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<LatencyFigures> => {
  const latencies = new Float64Array(count);
  const started = now();
  await runPool(count, concurrency, async (i) => {
    const t0 = now();
    await op(i);
    latencies[i] = now() - t0;
  });
  const seconds = (now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count,
    concurrency,
    seconds,
    perSecond: count / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
  };
};

/** GET of a single ConfigMap, after a short warm-up so the JIT has settled on both sides. */
export const measureGets = async (ctx: Ctx, ns: string, count: number, concurrency: number): Promise<LatencyFigures> => {
  const create = await send(ctx.agent, ctx.at, 'POST', configMapsPath(ns), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'one' },
    data: { greeting: 'hello', size: 'small' },
  });
  expectStatus(create, [201], 'create the ConfigMap to GET');
  const path = `${configMapsPath(ns)}/one`;
  const get = async (): Promise<void> => {
    const reply = await send(ctx.agent, ctx.at, 'GET', path);
    expectStatus(reply, [200], `GET ${path}`);
  };
  await runPool(Math.min(2000, count), concurrency, get);
  const figures = await timed(count, concurrency, get);
  const last = JSON.parse((await send(ctx.agent, ctx.at, 'GET', path)).body) as { metadata?: { name?: string } };
  if (last.metadata?.name !== 'one') throw new Error(`GET ${path} returned another object: ${JSON.stringify(last).slice(0, 200)}`);
  return figures;
};

export const itemName = (i: number): string => `cm-${String(i).padStart(5, '0')}`;

/**
 * A fixed permutation of 0..count-1 (7919 is prime, so coprime with the powers of ten used here): objects
 * are created out of name order, as they are in real use, so a LIST cannot profit from sorted input.
 */
const creationOrder = (i: number, count: number): number => (count % 7919 === 0 ? i : (i * 7919) % count);

export const measureCreates = (ctx: Ctx, ns: string, count: number, concurrency: number): Promise<LatencyFigures> =>
  timed(count, concurrency, async (i) => {
    const n = creationOrder(i, count);
    const reply = await send(ctx.agent, ctx.at, 'POST', configMapsPath(ns), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: itemName(n), labels: { app: 'bench', shard: String(n % 10) } },
      data: { index: String(n), payload: 'x'.repeat(64) },
    });
    expectStatus(reply, [201], `create ConfigMap ${itemName(n)}`);
  });

export interface ListFigures {
  objects: number;
  fullBytes: number;
  fullMs: number[];
  pageLimit: number;
  pages: number;
  pagedMs: number[];
  /** the part of pagedMs the client spent parsing pages (it needs each page's continue token) */
  pagedParseMs: number[];
  tablePagedMs: number[];
}

interface ListBody {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: { metadata?: { name?: string } }[];
  rows?: { object?: { metadata?: { name?: string } } }[];
}

/** Every page of a list; checks the names come back complete, in order, without repeats. */
const listAllPages = async (
  ctx: Ctx,
  ns: string,
  limit: number,
  expected: number,
  table: boolean,
): Promise<{ ms: number; parseMs: number; pages: number }> => {
  const headers: Record<string, string> = table ? { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } : {};
  const names: string[] = [];
  let pages = 0;
  let token: string | undefined;
  let parseMs = 0;
  const started = now();
  do {
    const query = `limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const reply = expectStatus(await send(ctx.agent, ctx.at, 'GET', `${configMapsPath(ns)}?${query}`, undefined, headers), [200], 'paged LIST');
    const parseStart = now();
    const body = JSON.parse(reply.body) as ListBody;
    parseMs += now() - parseStart;
    const got = table ? (body.rows ?? []).map((r) => r.object?.metadata?.name ?? '') : (body.items ?? []).map((o) => o.metadata?.name ?? '');
    names.push(...got);
    token = body.metadata?.continue || undefined;
    pages += 1;
    if (pages > expected) throw new Error('paged LIST does not end');
  } while (token);
  const ms = now() - started;
  checkNames(names, expected, table ? 'Table LIST' : 'paged LIST');
  return { ms, parseMs, pages };
};

const checkNames = (names: string[], expected: number, what: string): void => {
  if (names.length !== expected) throw new Error(`${what}: got ${names.length} objects, expected ${expected}`);
  names.forEach((n, i) => {
    if (n !== itemName(i)) throw new Error(`${what}: item ${i} is "${n}", expected "${itemName(i)}"`);
  });
};

export const measureLists = async (ctx: Ctx, ns: string, expected: number, repetitions: number, pageLimit: number): Promise<ListFigures> => {
  const fullMs: number[] = [];
  let fullBytes = 0;
  for (let r = 0; r < repetitions; r++) {
    const started = now();
    const reply = expectStatus(await send(ctx.agent, ctx.at, 'GET', configMapsPath(ns)), [200], 'full LIST');
    fullMs.push(now() - started);
    fullBytes = Buffer.byteLength(reply.body);
    // Checked outside the timing: the figure is the server's answer, not the client's parse.
    const body = JSON.parse(reply.body) as ListBody;
    checkNames((body.items ?? []).map((o) => o.metadata?.name ?? ''), expected, 'full LIST');
  }
  const pagedMs: number[] = [];
  const pagedParseMs: number[] = [];
  let pages = 0;
  for (let r = 0; r < repetitions; r++) {
    const paged = await listAllPages(ctx, ns, pageLimit, expected, false);
    pagedMs.push(paged.ms);
    pagedParseMs.push(paged.parseMs);
    pages = paged.pages;
  }
  const tablePagedMs: number[] = [];
  for (let r = 0; r < Math.max(1, Math.floor(repetitions / 2)); r++) tablePagedMs.push((await listAllPages(ctx, ns, pageLimit, expected, true)).ms);
  return { objects: expected, fullBytes, fullMs, pageLimit, pages, pagedMs, pagedParseMs, tablePagedMs };
};

export interface NamespaceDeletionFigures {
  objects: number;
  /** DELETE sent until GET of the namespace answers 404 */
  goneMs: number;
  /** then until a GET /healthz answers: work the server still does after the namespace is gone */
  settleMs: number;
}

/**
 * Deletes a namespace holding `objects` ConfigMaps and waits until it is gone, then times one more
 * request, which waits behind any cleanup work the server queued on its event loop.
 */
export const measureNamespaceDeletion = async (ctx: Ctx, ns: string, objects: number, timeoutMs: number): Promise<NamespaceDeletionFigures> => {
  const path = `/api/v1/namespaces/${ns}`;
  const started = now();
  expectStatus(await send(ctx.agent, ctx.at, 'DELETE', path), [200, 202], `DELETE namespace ${ns}`);
  for (;;) {
    const reply = expectStatus(await send(ctx.agent, ctx.at, 'GET', path), [200, 404], `GET namespace ${ns}`);
    if (reply.status === 404) break;
    if (now() - started > timeoutMs) throw new Error(`namespace ${ns} still present after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const goneMs = now() - started;
  const probe = now();
  expectStatus(await send(ctx.agent, ctx.at, 'GET', '/healthz'), [200], 'GET /healthz');
  const settleMs = now() - probe;
  const left = JSON.parse(expectStatus(await send(ctx.agent, ctx.at, 'GET', `${configMapsPath(ns)}?limit=1`), [200], 'LIST after deletion').body) as ListBody;
  if ((left.items ?? []).length) throw new Error(`namespace ${ns} is gone but ConfigMaps remain in it`);
  return { objects, goneMs, settleMs };
};
