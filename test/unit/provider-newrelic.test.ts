import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNewRelicProvider, firstResultValue, nrqlWithWindow } from '../../providers/metrics/newrelic.js';
import type { ProviderDeps } from '../../providers/metrics/types.js';
import { isFledgeError } from '../../src/api/index.js';
import type { FakeAnswer, RecordedRequest } from './support/fake-http.js';
import { expectFailure, manualClock, startFakeHttp } from './support/fake-http.js';
import { providerContract } from './support/provider-contract.js';

const ACCOUNT = '2345678';
const QUERY_KEY = 'NRIQ-abcdefghijklmnopqrstuvwxyz012';
const SECRET = { newrelic_account_id: ACCOUNT, newrelic_query_key: QUERY_KEY };
const NRQL =
  "SELECT filter(sum(nginx_ingress_controller_requests), WHERE status >= '500') / sum(nginx_ingress_controller_requests) * 100 FROM Metric WHERE metricName = 'nginx_ingress_controller_requests' AND ingress = 'podinfo-canary'";

const insightsAnswer = (results: unknown[]) => ({
  results,
  performanceStats: { inspectedCount: 10, wallClockTime: 4 },
  metadata: { eventTypes: ['Metric'], openEnded: true, messages: [] },
});

/** The Insights query API: one account, the X-Query-Key checked, NRQL in the `nrql` parameter. */
const insights = (answer: (nrql: string) => FakeAnswer) => (request: RecordedRequest): FakeAnswer => {
  if (request.headers['x-query-key'] !== QUERY_KEY) return { status: 401, body: { error: 'Invalid query key' } };
  if (request.method !== 'GET' || request.path !== `/v1/accounts/${ACCOUNT}/query`) {
    return { status: 404, body: { error: 'Account not found' } };
  }
  const nrql = request.query.get('nrql');
  if (!nrql) return { status: 400, body: { error: 'Missing nrql parameter' } };
  return answer(nrql);
};

const create = (address: string, deps: ProviderDeps, secret: Record<string, string> = SECRET) =>
  createNewRelicProvider({ type: 'newrelic', address, secret, insecureSkipVerify: false }, deps);

test('newrelic: GET /v1/accounts/<id>/query with the NRQL plus its window and the X-Query-Key header', async () => {
  const fake = await startFakeHttp(insights(() => ({ body: insightsAnswer([{ result: 1.25 }]) })));
  try {
    const value = await create(fake.url, { clock: manualClock() }).runQuery(NRQL, { intervalMs: 90_000 });
    assert.equal(value, 1.25);
    const [request] = fake.requests;
    assert.equal(request?.method, 'GET');
    assert.equal(request?.path, `/v1/accounts/${ACCOUNT}/query`);
    assert.equal(request?.query.get('nrql'), `${NRQL} SINCE 90 seconds ago`);
    assert.equal(request?.headers['x-query-key'], QUERY_KEY);
  } finally {
    await fake.close();
  }
});

test('newrelic: the window is appended only when the query has no SINCE of its own', () => {
  assert.equal(nrqlWithWindow('SELECT count(*) FROM Transaction', 60_000), 'SELECT count(*) FROM Transaction SINCE 60 seconds ago');
  assert.equal(nrqlWithWindow('SELECT count(*) FROM Transaction SINCE 5 minutes ago', 60_000), 'SELECT count(*) FROM Transaction SINCE 5 minutes ago');
  assert.equal(nrqlWithWindow(' SELECT 1 FROM T\n', 500), 'SELECT 1 FROM T SINCE 1 seconds ago');
});

test('newrelic: the value is `result`, else the first numeric field (count, average, percentile)', () => {
  assert.equal(firstResultValue(insightsAnswer([{ result: 3 }])), 3);
  assert.equal(firstResultValue(insightsAnswer([{ count: 0 }])), 0);
  assert.equal(firstResultValue(insightsAnswer([{ beginTimeSeconds: null, average: 0.42 }])), 0.42);
  assert.equal(firstResultValue(insightsAnswer([{ percentile: { '95': 812 } }])), 812);
  assert.equal(firstResultValue(insightsAnswer([{ result: 5 }, { result: 6 }])), 5);
});

test('newrelic: no results or a null aggregate is NoValues', async () => {
  for (const results of [[], [{ result: null }], [{ average: null }]]) {
    const fake = await startFakeHttp(insights(() => ({ body: insightsAnswer(results) })));
    try {
      await expectFailure(create(fake.url, { clock: manualClock() }).runQuery(NRQL, { intervalMs: 60_000 }), 'NoValues');
    } finally {
      await fake.close();
    }
  }
});

test('newrelic: a result without any number, or an NRQL syntax error, is InvalidResponse', async () => {
  const answers: FakeAnswer[] = [
    { body: insightsAnswer([{ events: [{ appName: 'podinfo' }] }]) },
    { status: 400, body: { error: 'NRQL Syntax Error: Error at line 1 position 8, unexpected FORM' } },
  ];
  for (const answer of answers) {
    const fake = await startFakeHttp(insights(() => answer));
    try {
      await expectFailure(
        create(fake.url, { clock: manualClock() }).runQuery('SELECT FORM', { intervalMs: 60_000 }),
        'InvalidResponse',
        [QUERY_KEY, ACCOUNT],
      );
    } finally {
      await fake.close();
    }
  }
});

test('newrelic: isOnline runs a small NRQL with the key; a wrong key is offline', async () => {
  const fake = await startFakeHttp(insights(() => ({ body: insightsAnswer([{ count: 12 }]) })));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).isOnline({}), true);
    assert.match(fake.requests[0]?.query.get('nrql') ?? '', /^SELECT count\(\*\) FROM Metric SINCE \d+ seconds ago$/);
    assert.equal(await create(fake.url, { clock: manualClock() }, { ...SECRET, newrelic_query_key: 'bad-key' }).isOnline({}), false);
  } finally {
    await fake.close();
  }
});

test('newrelic: the default address is insights-api.newrelic.com; missing keys are InvalidSpec', async () => {
  const urls: string[] = [];
  const offlineFetch: typeof fetch = async (input) => {
    urls.push(String(input instanceof Request ? input.url : input));
    return new Response(JSON.stringify(insightsAnswer([{ result: 2 }])));
  };
  const provider = createNewRelicProvider(
    { type: 'newrelic', secret: SECRET, insecureSkipVerify: false },
    { clock: manualClock(), fetch: offlineFetch },
  );
  assert.equal(await provider.runQuery(NRQL, { intervalMs: 60_000 }), 2);
  assert.ok(urls[0]?.startsWith(`https://insights-api.newrelic.com/v1/accounts/${ACCOUNT}/query?nrql=`), urls[0]);
  for (const key of ['newrelic_account_id', 'newrelic_query_key']) {
    const secret: Record<string, string> = { ...SECRET };
    delete secret[key];
    assert.throws(
      () => create('http://127.0.0.1:1', { clock: manualClock() }, secret),
      (err) => isFledgeError(err, 'InvalidSpec') && err.message.includes(key) && !err.message.includes(QUERY_KEY),
    );
  }
});

providerContract({
  name: 'newrelic',
  secrets: [QUERY_KEY, ACCOUNT],
  create: (address, deps) => create(address, deps),
  query: NRQL,
  malformed: { body: { results: 'none' } },
});
