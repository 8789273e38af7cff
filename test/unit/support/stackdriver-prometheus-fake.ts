/**
 * A loopback HTTP fake of Cloud Monitoring's Prometheus-compatible query API
 * (`/v1/projects/<project>/location/global/prometheus/api/v1/query`), for the provider's `promql:` path.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHttpQuery {
  method: string;
  path: string;
  query: string | null;
  headers: Record<string, string | string[] | undefined>;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface FakePrometheusApi {
  readonly address: string;
  readonly received: ReceivedHttpQuery[];
  answerWith(script: (received: ReceivedHttpQuery) => HttpAnswer): void;
  close(): Promise<void>;
}

/** A Prometheus `success` answer holding a vector with one sample per value. */
export const vectorAnswer = (...values: string[]): HttpAnswer => ({
  status: 200,
  body: JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: values.map((value, index) => ({ metric: { series: String(index) }, value: [1_700_000_000, value] })) },
  }),
});

export const startFakePrometheusApi = async (): Promise<FakePrometheusApi> => {
  const received: ReceivedHttpQuery[] = [];
  let script = (_received: ReceivedHttpQuery): HttpAnswer => vectorAnswer();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const entry: ReceivedHttpQuery = {
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams.get('query'),
      headers: request.headers,
    };
    received.push(entry);
    const answer = script(entry);
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    received,
    answerWith: (next) => {
      script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
