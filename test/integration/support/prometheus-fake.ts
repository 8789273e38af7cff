/**
 * A Prometheus HTTP API fake on loopback: answers GET /api/v1/query with a one-sample vector. The value
 * comes from the first rule whose pattern matches the query, else `fallback`; `vector(1)` answers 1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PrometheusFake {
  url: string;
  queries: string[];
  /** Every query with the Authorization header it came with. */
  requests: Array<{ query: string; authorization?: string }>;
  /** Answer `value` (or no values, with undefined) for queries matching `pattern`. */
  rule(pattern: RegExp, value: number | undefined): void;
  clearRules(): void;
  close(): Promise<void>;
}

export const startPrometheusFake = async (fallback = 100): Promise<PrometheusFake> => {
  let rules: Array<{ pattern: RegExp; value: number | undefined }> = [];
  const queries: string[] = [];
  const requests: PrometheusFake['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/v1/query') return void res.writeHead(404).end();
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    requests.push({ query, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const rule = rules.find((r) => r.pattern.test(query));
    const value = query.trim() === 'vector(1)' ? 1 : rule ? rule.value : fallback;
    const result = value === undefined ? [] : [{ metric: {}, value: [Date.now() / 1000, String(value)] }];
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    requests,
    rule: (pattern, value) => rules.push({ pattern, value }),
    clearRules: () => (rules = []),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};
