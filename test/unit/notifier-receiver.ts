/**
 * A chat-webhook receiver for the notifier tests: a real HTTP server on loopback recording each
 * request (method, path, headers, JSON body) and answering with the status the test picks, or never
 * (`'hang'`) to stand for a receiver that accepts the connection and then stalls.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type Reply = number | 'hang' | { status: number; body: string };

export interface Receiver {
  url: string;
  posts: ReceivedPost[];
  /** Sets the answer of each following request; `index` counts requests from 0. */
  answer(fn: (post: ReceivedPost, index: number) => Reply): void;
  /** Resolves once `n` requests have arrived. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

export const startReceiver = async (reply: (post: ReceivedPost, index: number) => Reply = () => 200): Promise<Receiver> => {
  const posts: ReceivedPost[] = [];
  const hanging: ServerResponse[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let decide = reply;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // kept as text
      }
      const post: ReceivedPost = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      const answer = decide(post, posts.length);
      posts.push(post);
      for (const w of waiters.filter((x) => posts.length >= x.n)) w.resolve();
      if (answer === 'hang') return void hanging.push(res);
      const { status, text } = typeof answer === 'number' ? { status: answer, text: 'ok' } : { status: answer.status, text: answer.body };
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    answer: (fn) => (decide = fn),
    received: (n) => (posts.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
