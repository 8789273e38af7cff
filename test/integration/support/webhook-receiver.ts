/**
 * A webhook receiver for scenario tests: a real HTTP server on loopback that records every request
 * (path with query, parsed JSON body) in arrival order and answers with the status the test chooses.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Flagger's webhook payload as a receiver sees it. */
export interface HookBody {
  name: string;
  namespace: string;
  phase: string;
  checksum: string;
  metadata?: Record<string, string>;
}

export interface ReceivedCall {
  method: string;
  /** Path and query string exactly as requested. */
  url: string;
  contentType: string | undefined;
  raw: string;
  body: HookBody;
  /** Whatever `observe` returned for this call (e.g. the canary's state at that moment). */
  seen?: unknown;
}

/** Decides the status code of a call; `index` counts the calls to the same path so far (from 0). */
export type Answer = (call: ReceivedCall, index: number) => number;

export interface WebhookReceiver {
  /** Base URL without a trailing slash; hooks use `${url}/<path>`. */
  url: string;
  calls: ReceivedCall[];
  /** Calls whose path (query excluded) is `path`. */
  callsTo(path: string): ReceivedCall[];
  answer(fn: Answer): void;
  /** Runs before each answer; its result is kept as `seen` on the call. */
  observe(fn: (call: ReceivedCall) => Promise<unknown>): void;
  close(): Promise<void>;
}

const pathOf = (url: string): string => url.split('?', 1)[0] ?? url;

export const startWebhookReceiver = async (answer: Answer = () => 200): Promise<WebhookReceiver> => {
  const calls: ReceivedCall[] = [];
  let decide = answer;
  let observer: ((call: ReceivedCall) => Promise<unknown>) | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: HookBody;
        try {
          body = JSON.parse(raw) as HookBody;
        } catch {
          body = { name: '', namespace: '', phase: '', checksum: '' };
        }
        const call: ReceivedCall = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], raw, body };
        if (observer) call.seen = await observer(call).catch((e: unknown) => e);
        const index = calls.filter((c) => pathOf(c.url) === pathOf(call.url)).length;
        calls.push(call);
        res.writeHead(decide(call, index), { 'Content-Type': 'text/plain' }).end('recorded');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    callsTo: (path) => calls.filter((c) => pathOf(c.url) === path),
    answer: (fn) => (decide = fn),
    observe: (fn) => (observer = fn),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
