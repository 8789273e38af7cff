/**
 * A Prometheus HTTP API fake for the fleet benchmark, on loopback in the benchmark process: every
 * instant query answers one sample of `value` (100, so request-success-rate checks pass). It counts the
 * queries, which tells how many metric checks the controller ran.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PrometheusFake {
  readonly url: string;
  readonly queries: number;
  close(): Promise<void>;
}

export const startPrometheusFake = async (value: number): Promise<PrometheusFake> => {
  let queries = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/v1/query') return void res.writeHead(404).end();
    queries += 1;
    const body = { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(value)] }] } };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get queries() {
      return queries;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
