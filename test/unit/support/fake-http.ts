/**
 * A loopback HTTP server for provider tests: it records every request (method, path, query, headers,
 * body) and answers through a handler the test supplies, so a fake can speak a backend's real wire
 * protocol and check credentials like the backend would. `hang` never answers (for timeouts).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../src/api/clock.js';
import { FledgeError } from '../../../src/api/index.js';
import type { FledgeErrorCode } from '../../../src/api/index.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

export type FakeHandler = (request: RecordedRequest) => FakeAnswer | 'hang';

export interface FakeHttp {
  url: string;
  requests: RecordedRequest[];
  /** Replace the handler for the following requests. */
  answer(handler: FakeHandler): void;
  close(): Promise<void>;
}

export const startFakeHttp = async (handler: FakeHandler): Promise<FakeHttp> => {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const answer = current(recorded);
      if (answer === 'hang') return;
      const json = typeof answer.body !== 'string';
      res.writeHead(answer.status ?? 200, {
        'Content-Type': json ? 'application/json' : 'text/plain',
        ...answer.headers,
      });
      res.end(json ? JSON.stringify(answer.body ?? null) : answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer: (next) => (current = next),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** A loopback address where nothing listens (a port just released). */
export const closedAddress = async (): Promise<string> => {
  const fake = await startFakeHttp(() => ({}));
  await fake.close();
  return fake.url;
};

/** The FledgeError a promise rejects with; fails the test when it resolves or throws something else. */
export const rejection = async (promise: Promise<unknown>): Promise<FledgeError> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FledgeError) return err;
    throw new Error(`expected a FledgeError, got ${String(err)}`);
  }
  throw new Error('expected a rejection, got a value');
};

/** Rejects as `rejection` does and checks the code and that no secret leaked into the message. */
export const expectFailure = async (
  promise: Promise<unknown>,
  code: FledgeErrorCode,
  secrets: readonly string[] = [],
): Promise<FledgeError> => {
  const error = await rejection(promise);
  if (error.code !== code) throw new Error(`expected ${code}, got ${error.code}: ${error.message}`);
  for (const secret of secrets) {
    if (error.message.includes(secret)) throw new Error(`error message leaks a secret: ${error.message}`);
  }
  return error;
};

/** A clock the test moves by hand (timers fire in `advance`). */
export const manualClock = (start = 1_700_000_000_000): Clock & { advance(ms: number): void; pending(): number } => {
  let now = start;
  let seq = 0;
  let timers: Array<{ id: number; at: number; fn: () => void }> = [];
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.push({ id: ++seq, at: now + ms, fn });
      return seq;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((timer) => timer.id !== handle);
    },
    advance: (ms) => {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((timer) => timer.at > now);
      for (const timer of due) timer.fn();
    },
    pending: () => timers.length,
  };
};

/** Resolves once `predicate` holds, polling the event loop (no wall-clock sleeps). */
export const until = async (predicate: () => boolean): Promise<void> => {
  for (let turn = 0; turn < 10_000 && !predicate(); turn += 1) await new Promise((r) => setImmediate(r));
  if (!predicate()) throw new Error('condition never held');
};
