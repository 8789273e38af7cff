import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDatadogProvider } from '../../providers/metrics/datadog.js';
import type { ProviderDeps } from '../../providers/metrics/types.js';
import { isFledgeError } from '../../src/api/index.js';
import type { FakeAnswer, RecordedRequest } from './support/fake-http.js';
import { expectFailure, manualClock, startFakeHttp } from './support/fake-http.js';
import { providerContract } from './support/provider-contract.js';

const API_KEY = 'ddapikey0123456789abcdef';
const APP_KEY = 'ddappkey0123456789abcdef0123456789';
const SECRET = { datadog_api_key: API_KEY, datadog_application_key: APP_KEY };
const QUERY = 'sum:istio.mesh.request.count{reporter:destination,destination_workload:podinfo,!response_code:5xx}.as_count()';

const seriesAnswer = (pointlists: Array<Array<[number, number | null]>>) => ({
  status: 'ok',
  res_type: 'time_series',
  resp_version: 1,
  query: QUERY,
  series: pointlists.map((pointlist, index) => ({
    metric: 'istio.mesh.request.count',
    query_index: index,
    aggr: 'sum',
    scope: 'destination_workload:podinfo',
    interval: 60,
    length: pointlist.length,
    pointlist,
  })),
  values: [],
  times: [],
  message: '',
  group_by: [],
});

/** Datadog's v1 API as far as Fledge uses it: /api/v1/query needs both keys, /api/v1/validate the API key. */
const datadog = (queryAnswer: (request: RecordedRequest) => FakeAnswer) => (request: RecordedRequest): FakeAnswer => {
  if (request.headers['dd-api-key'] !== API_KEY) return { status: 403, body: { errors: ['Forbidden'] } };
  if (request.method === 'GET' && request.path === '/api/v1/validate') return { body: { valid: true } };
  if (request.headers['dd-application-key'] !== APP_KEY) return { status: 403, body: { errors: ['Forbidden'] } };
  if (request.method === 'GET' && request.path === '/api/v1/query') return queryAnswer(request);
  return { status: 404, body: { errors: ['Not found'] } };
};

const create = (address: string | undefined, deps: ProviderDeps, secret: Record<string, string> = SECRET) =>
  createDatadogProvider({ type: 'datadog', ...(address ? { address } : {}), secret, insecureSkipVerify: false }, deps);

test('datadog: GET /api/v1/query with the query, a 10-interval window in seconds and both key headers', async () => {
  const fake = await startFakeHttp(datadog(() => ({ body: seriesAnswer([[[1_700_000_000_000, 42], [1_700_000_060_000, 9]]]) })));
  const clock = manualClock(1_700_000_600_500);
  try {
    const value = await create(fake.url, { clock }).runQuery(QUERY, { intervalMs: 60_000 });
    assert.equal(value, 42, 'the oldest point: the newest bucket is usually incomplete');
    const [request] = fake.requests;
    assert.equal(request?.method, 'GET');
    assert.equal(request?.path, '/api/v1/query');
    assert.equal(request?.query.get('query'), QUERY);
    assert.equal(request?.query.get('to'), '1700000600');
    assert.equal(request?.query.get('from'), String(1_700_000_600 - 600));
    assert.equal(request?.headers['dd-api-key'], API_KEY);
    assert.equal(request?.headers['dd-application-key'], APP_KEY);
  } finally {
    await fake.close();
  }
});

test('datadog: null points are skipped and only the first series counts', async () => {
  const answer = seriesAnswer([
    [[1, null], [2, 0.25], [3, 0.5]],
    [[1, 99]],
  ]);
  const fake = await startFakeHttp(datadog(() => ({ body: answer })));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(QUERY, { intervalMs: 60_000 }), 0.25);
  } finally {
    await fake.close();
  }
});

test('datadog: no series, an empty pointlist or only nulls is NoValues', async () => {
  for (const body of [seriesAnswer([]), seriesAnswer([[]]), seriesAnswer([[[1, null]]])]) {
    const fake = await startFakeHttp(datadog(() => ({ body })));
    try {
      await expectFailure(create(fake.url, { clock: manualClock() }).runQuery(QUERY, { intervalMs: 60_000 }), 'NoValues');
    } finally {
      await fake.close();
    }
  }
});

test('datadog: a query the API rejects (400, or status "error" in a 200) is InvalidResponse with its reason', async () => {
  const answers: FakeAnswer[] = [
    { status: 400, body: { errors: ['Error parsing query: unable to parse sum:: Rule \'scope_expr\' didn\'t match'] } },
    { body: { status: 'error', error: 'Rule scope_expr did not match', series: [] } },
  ];
  for (const answer of answers) {
    const fake = await startFakeHttp(datadog(() => answer));
    try {
      const error = await expectFailure(
        create(fake.url, { clock: manualClock() }).runQuery('sum::', { intervalMs: 60_000 }),
        'InvalidResponse',
        [API_KEY, APP_KEY],
      );
      assert.match(error.message, /scope_expr/);
    } finally {
      await fake.close();
    }
  }
});

test('datadog: a wrong application key is ProviderUnavailable (403) without either key in the message', async () => {
  const fake = await startFakeHttp(datadog(() => ({ body: seriesAnswer([[[1, 1]]]) })));
  try {
    const provider = create(fake.url, { clock: manualClock() }, { ...SECRET, datadog_application_key: 'wrong-app-key' });
    const error = await expectFailure(provider.runQuery(QUERY, { intervalMs: 60_000 }), 'ProviderUnavailable', [
      API_KEY,
      'wrong-app-key',
    ]);
    assert.match(error.message, /403/);
  } finally {
    await fake.close();
  }
});

test('datadog: keys from a Secret made with echo (trailing newline) are sent trimmed and still masked', async () => {
  const fake = await startFakeHttp((request) => ({ status: 500, body: `bad key ${String(request.headers['dd-api-key'])}` }));
  try {
    const secret = { datadog_api_key: `${API_KEY}\n`, datadog_application_key: `${APP_KEY}\n` };
    const provider = create(fake.url, { clock: manualClock() }, secret);
    const error = await expectFailure(provider.runQuery(QUERY, { intervalMs: 60_000 }), 'ProviderUnavailable', [API_KEY]);
    assert.equal(fake.requests[0]?.headers['dd-api-key'], API_KEY);
    assert.match(error.message, /bad key \*\*\*/);
  } finally {
    await fake.close();
  }
});

test('datadog: isOnline asks GET /api/v1/validate and needs {"valid": true}', async () => {
  const fake = await startFakeHttp(datadog(() => ({ body: seriesAnswer([]) })));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).isOnline({}), true);
    assert.equal(fake.requests[0]?.path, '/api/v1/validate');
    assert.equal(fake.requests[0]?.headers['dd-api-key'], API_KEY);
    assert.equal(await create(fake.url, { clock: manualClock() }, { ...SECRET, datadog_api_key: 'nope' }).isOnline({}), false);
    fake.answer(() => ({ body: { valid: false } }));
    assert.equal(await create(fake.url, { clock: manualClock() }).isOnline({}), false);
  } finally {
    await fake.close();
  }
});

test('datadog: runRangeQuery sends the window in seconds and returns every non-null point', async () => {
  const fake = await startFakeHttp(datadog(() => ({ body: seriesAnswer([[[60_000, 1], [120_000, null], [180_000, 3]]]) })));
  try {
    const points = await create(fake.url, { clock: manualClock() }).runRangeQuery?.(QUERY, {
      startMs: 60_000,
      endMs: 240_999,
      stepMs: 60_000,
    });
    assert.deepEqual(points, [
      { timeMs: 60_000, value: 1 },
      { timeMs: 180_000, value: 3 },
    ]);
    assert.equal(fake.requests[0]?.query.get('from'), '60');
    assert.equal(fake.requests[0]?.query.get('to'), '240');
  } finally {
    await fake.close();
  }
});

test('datadog: with no address the query goes to https://api.datadoghq.com (seen through an injected fetch)', async () => {
  const urls: string[] = [];
  const offlineFetch: typeof fetch = async (input) => {
    urls.push(String(input instanceof Request ? input.url : input));
    return new Response(JSON.stringify(seriesAnswer([[[1, 5]]])), { headers: { 'Content-Type': 'application/json' } });
  };
  const provider = create(undefined, { clock: manualClock(), fetch: offlineFetch });
  assert.equal(await provider.runQuery(QUERY, { intervalMs: 60_000 }), 5);
  assert.equal(new URL(urls[0] ?? '').origin + new URL(urls[0] ?? '').pathname, 'https://api.datadoghq.com/api/v1/query');
});

test('datadog: missing keys are InvalidSpec naming the key', () => {
  for (const key of ['datadog_api_key', 'datadog_application_key']) {
    const secret: Record<string, string> = { ...SECRET };
    delete secret[key];
    assert.throws(
      () => create(undefined, { clock: manualClock() }, secret),
      (err) => isFledgeError(err, 'InvalidSpec') && err.message.includes(key) && !err.message.includes(API_KEY),
    );
  }
});

providerContract({
  name: 'datadog',
  secrets: [API_KEY, APP_KEY],
  create: (address, deps) => create(address, deps),
  query: QUERY,
  malformed: { body: { status: 'ok', series: [{ pointlist: [[1]] }] } },
});
