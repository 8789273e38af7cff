import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDynatraceProvider } from '../../providers/metrics/dynatrace.js';
import type { ProviderDeps } from '../../providers/metrics/types.js';
import { isFledgeError } from '../../src/api/index.js';
import type { FakeAnswer, RecordedRequest } from './support/fake-http.js';
import { expectFailure, manualClock, startFakeHttp } from './support/fake-http.js';
import { providerContract } from './support/provider-contract.js';

const TOKEN = 'dt0c01.SAMPLE.SECRETTOKENVALUE';
const SELECTOR = 'builtin:service.response.time:avg:filter(eq(dt.entity.service,SERVICE-1))';

const dataEntry = (values: Array<number | null>) => ({
  dimensions: ['SERVICE-1'],
  dimensionMap: { 'dt.entity.service': 'SERVICE-1' },
  timestamps: values.map((_v, i) => 1_700_000_000_000 + i * 60_000),
  values,
});

const metricsAnswer = (data: unknown[]) => ({
  totalCount: 1,
  nextPageKey: null,
  resolution: 'Inf',
  result: [{ metricId: SELECTOR, dataPointCountRatio: 1e-6, dimensionCountRatio: 1e-5, data }],
});

/** Dynatrace's metrics API v2 as far as Fledge uses it, rejecting requests without the right token. */
const dynatrace = (queryAnswer: (request: RecordedRequest) => unknown) => (request: RecordedRequest): FakeAnswer => {
  if (request.headers.authorization !== `Api-Token ${TOKEN}`) {
    return { status: 401, body: { error: { code: 401, message: 'Token Authentication failed' } } };
  }
  if (request.method === 'GET' && request.path.endsWith('/api/v2/metrics/query')) return { body: queryAnswer(request) };
  if (request.method === 'GET' && request.path.endsWith('/api/v2/metrics')) {
    return { body: { totalCount: 900, nextPageKey: 'next', metrics: [{ metricId: 'builtin:apps.other' }] } };
  }
  return { status: 404, body: { error: { code: 404, message: 'not found' } } };
};

const create = (address: string, deps: ProviderDeps, secret: Record<string, string> = { dynatrace_token: TOKEN }) =>
  createDynatraceProvider({ type: 'dynatrace', address, secret, insecureSkipVerify: false }, deps);

test('dynatrace: GET /api/v2/metrics/query with the selector, resolution=Inf and a 10-interval window', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([12.5])])));
  const clock = manualClock(1_700_000_600_000);
  try {
    const value = await create(fake.url, { clock }).runQuery(SELECTOR, { intervalMs: 60_000 });
    assert.equal(value, 12.5);
    const [request] = fake.requests;
    assert.equal(request?.method, 'GET');
    assert.equal(request?.path, '/api/v2/metrics/query');
    assert.equal(request?.query.get('metricSelector'), SELECTOR);
    assert.equal(request?.query.get('resolution'), 'Inf');
    assert.equal(request?.query.get('to'), '1700000600000');
    assert.equal(request?.query.get('from'), String(1_700_000_600_000 - 10 * 60_000));
    assert.equal(request?.headers.authorization, `Api-Token ${TOKEN}`);
  } finally {
    await fake.close();
  }
});

test('dynatrace: the value is the first value of the LAST data entry, as Flagger reads it', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([1]), dataEntry([7, 8])])));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(SELECTOR, { intervalMs: 30_000 }), 7);
  } finally {
    await fake.close();
  }
});

test('dynatrace: an address with a path (managed environments, /e/<id>) keeps it', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([3])])));
  try {
    const provider = create(`${fake.url}/e/abc123/`, { clock: manualClock() });
    assert.equal(await provider.runQuery(SELECTOR, { intervalMs: 60_000 }), 3);
    assert.equal(fake.requests[0]?.path, '/e/abc123/api/v2/metrics/query');
  } finally {
    await fake.close();
  }
});

test('dynatrace: no result, no data entry or a null value is NoValues, never 0', async () => {
  const answers = [{ totalCount: 0, nextPageKey: null, result: [] }, metricsAnswer([]), metricsAnswer([dataEntry([null])])];
  for (const answer of answers) {
    const fake = await startFakeHttp(dynatrace(() => answer));
    try {
      const error = await expectFailure(
        create(fake.url, { clock: manualClock() }).runQuery(SELECTOR, { intervalMs: 60_000 }),
        'NoValues',
      );
      assert.match(error.message, /dynatrace/);
    } finally {
      await fake.close();
    }
  }
});

test('dynatrace: a value that is not a number is InvalidResponse', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([]), { timestamps: [1], values: ['x'] }])));
  try {
    await expectFailure(create(fake.url, { clock: manualClock() }).runQuery(SELECTOR, { intervalMs: 60_000 }), 'InvalidResponse');
  } finally {
    await fake.close();
  }
});

test('dynatrace: isOnline asks GET /api/v2/metrics?pageSize=1 with the token', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([])));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).isOnline({}), true);
    assert.equal(fake.requests[0]?.path, '/api/v2/metrics');
    assert.equal(fake.requests[0]?.query.get('pageSize'), '1');
    const wrongToken = create(fake.url, { clock: manualClock() }, { dynatrace_token: 'wrong-token' });
    assert.equal(await wrongToken.isOnline({}), false);
  } finally {
    await fake.close();
  }
});

test('dynatrace: runRangeQuery asks for a minute resolution and returns every non-null point', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([1, null, 3])])));
  try {
    const provider = create(fake.url, { clock: manualClock() });
    const points = await provider.runRangeQuery?.(SELECTOR, { startMs: 1_000, endMs: 601_000, stepMs: 120_000 });
    assert.deepEqual(points, [
      { timeMs: 1_700_000_000_000, value: 1 },
      { timeMs: 1_700_000_120_000, value: 3 },
    ]);
    assert.equal(fake.requests[0]?.query.get('resolution'), '2m');
    assert.equal(fake.requests[0]?.query.get('from'), '1000');
    assert.equal(fake.requests[0]?.query.get('to'), '601000');
  } finally {
    await fake.close();
  }
});

test('dynatrace: a missing token or address is InvalidSpec naming the field, not the secret', () => {
  assert.throws(
    () => create('http://127.0.0.1:1', { clock: manualClock() }, {}),
    (err) => isFledgeError(err, 'InvalidSpec') && /secretRef.*dynatrace_token/.test(err.message),
  );
  assert.throws(
    () => createDynatraceProvider({ type: 'dynatrace', secret: { dynatrace_token: TOKEN }, insecureSkipVerify: false }, { clock: manualClock() }),
    (err) => isFledgeError(err, 'InvalidSpec') && /spec\.provider\.address/.test(err.message) && !err.message.includes(TOKEN),
  );
});

test('dynatrace: an environment proxy is not used for a loopback address (as in Go)', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([6])])));
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = 'http://127.0.0.1:9';
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(SELECTOR, { intervalMs: 60_000 }), 6);
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
    await fake.close();
  }
});

test('dynatrace: an injected fetch carries the request', async () => {
  const fake = await startFakeHttp(dynatrace(() => metricsAnswer([dataEntry([4])])));
  const seen: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    seen.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  try {
    const provider = create(fake.url, { clock: manualClock(), fetch: recordingFetch });
    assert.equal(await provider.runQuery(SELECTOR, { intervalMs: 60_000 }), 4);
    assert.equal(seen.length, 1);
    assert.match(seen[0] ?? '', /\/api\/v2\/metrics\/query\?metricSelector=/);
  } finally {
    await fake.close();
  }
});

providerContract({
  name: 'dynatrace',
  secrets: [TOKEN],
  create: (address, deps) => create(address, deps),
  query: SELECTOR,
  malformed: { body: { totalCount: 1, data: [1, 2] } },
});
