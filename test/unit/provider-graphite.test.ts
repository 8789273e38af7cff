import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGraphiteProvider, renderParams } from '../../providers/metrics/graphite.js';
import type { ProviderDeps } from '../../providers/metrics/types.js';
import { isFledgeError } from '../../src/api/index.js';
import type { FakeAnswer, RecordedRequest } from './support/fake-http.js';
import { expectFailure, manualClock, startFakeHttp } from './support/fake-http.js';
import { providerContract } from './support/provider-contract.js';

const USER = 'fledge-reader';
const PASSWORD = 'graphite-s3cret-password';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** Flagger's documented shape: a multi-line render query string with its own window. */
const QUERY = `target=summarize(
    asPercent(
      sumSeries(stats.timers.httpServerRequests.app.podinfo.exception.*.outcome.SUCCESS.count),
      sumSeries(stats.timers.httpServerRequests.app.podinfo.exception.*.outcome.*.count)
    ),
    '1min',
    'avg'
  )
  &from=-1min
  &until=now`;

type Datapoint = [number | string | null, number];
const series = (target: string, datapoints: Datapoint[]) => ({ target, tags: { name: target }, datapoints });

/** Graphite-web's render endpoint: JSON only when asked for, basic auth when `auth` is set. */
const graphite = (answer: (request: RecordedRequest) => unknown, auth?: string) => (request: RecordedRequest): FakeAnswer => {
  if (auth && request.headers.authorization !== auth) {
    return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="graphite"' }, body: 'Unauthorized' };
  }
  if (request.method !== 'GET' || request.path !== '/render') return { status: 404, body: 'Not Found' };
  if (!request.query.get('target')) return { status: 400, body: 'Bad Request: no target' };
  if (request.query.get('format') !== 'json') return { body: 'PNG...' };
  return { body: answer(request) };
};

const create = (address: string, deps: ProviderDeps, secret: Record<string, string> = {}) =>
  createGraphiteProvider({ type: 'graphite', address, secret, insecureSkipVerify: false }, deps);

test('graphite: GET /render with the template query string, format=json and no invented window', async () => {
  const fake = await startFakeHttp(graphite(() => [series('ok', [[97.5, 1_700_000_000], [99, 1_700_000_060], [null, 1_700_000_120]])]));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(QUERY, { intervalMs: 60_000 }), 99);
    const [request] = fake.requests;
    assert.equal(request?.method, 'GET');
    assert.equal(request?.path, '/render');
    assert.equal(request?.query.get('format'), 'json');
    assert.equal(request?.query.get('from'), '-1min');
    assert.equal(request?.query.get('until'), 'now');
    assert.equal(
      request?.query.get('target'),
      "summarize( asPercent( sumSeries(stats.timers.httpServerRequests.app.podinfo.exception.*.outcome.SUCCESS.count), sumSeries(stats.timers.httpServerRequests.app.podinfo.exception.*.outcome.*.count) ), '1min', 'avg' )",
    );
    assert.equal(request?.headers.authorization, undefined, 'no credentials, no auth header');
  } finally {
    await fake.close();
  }
});

test('graphite: a bare target expression becomes target=, and the metric interval is the default window', () => {
  const params = renderParams("seriesByTag('name=http.requests', 'app=podinfo')", 120_000);
  assert.equal(params.get('target'), "seriesByTag('name=http.requests', 'app=podinfo')");
  assert.equal(params.get('from'), '-120s');
  assert.equal(params.get('format'), 'json');
  assert.equal(renderParams('target=a.b&format=png', 1_000).get('format'), 'json');
});

test('graphite: the last non-null datapoint across the series wins, as in Flagger; quoted numbers parse', async () => {
  const body = [series('a', [[1, 1], [2, 2]]), series('b', [['7.5', 1], [null, 2]]), series('c', [[null, 1]])];
  const fake = await startFakeHttp(graphite(() => body));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(QUERY, { intervalMs: 60_000 }), 7.5);
  } finally {
    await fake.close();
  }
});

test('graphite: no series or only null datapoints is NoValues', async () => {
  for (const body of [[], [series('a', [[null, 1], [null, 2]])]]) {
    const fake = await startFakeHttp(graphite(() => body));
    try {
      await expectFailure(create(fake.url, { clock: manualClock() }).runQuery(QUERY, { intervalMs: 60_000 }), 'NoValues');
    } finally {
      await fake.close();
    }
  }
});

test('graphite: basic auth from the Secret username/password; a wrong password is ProviderUnavailable', async () => {
  const fake = await startFakeHttp(graphite(() => [series('a', [[4, 1]])], BASIC));
  try {
    const provider = create(fake.url, { clock: manualClock() }, { username: USER, password: PASSWORD });
    assert.equal(await provider.runQuery(QUERY, { intervalMs: 60_000 }), 4);
    assert.equal(fake.requests[0]?.headers.authorization, BASIC);
    assert.equal(await provider.isOnline({}), true);
    assert.equal(fake.requests[1]?.query.get('target'), 'test');
    const wrong = create(fake.url, { clock: manualClock() }, { username: USER, password: 'not-the-password' });
    const error = await expectFailure(wrong.runQuery(QUERY, { intervalMs: 60_000 }), 'ProviderUnavailable', [
      'not-the-password',
    ]);
    assert.match(error.message, /401/);
    assert.equal(await wrong.isOnline({}), false);
  } finally {
    await fake.close();
  }
});

test('graphite: a backend that echoes the Authorization header does not leak it into the message', async () => {
  const fake = await startFakeHttp((request) => ({ status: 502, body: `upstream failed for ${request.headers.authorization}` }));
  try {
    const provider = create(fake.url, { clock: manualClock() }, { username: USER, password: PASSWORD });
    const error = await expectFailure(provider.runQuery(QUERY, { intervalMs: 60_000 }), 'ProviderUnavailable', [BASIC.slice(6), PASSWORD]);
    assert.match(error.message, /upstream failed for Basic \*\*\*/);
  } finally {
    await fake.close();
  }
});

test('graphite: a username without a password is InvalidSpec', () => {
  assert.throws(
    () => create('http://127.0.0.1:1', { clock: manualClock() }, { username: USER }),
    (err) => isFledgeError(err, 'InvalidSpec') && /"password"/.test(err.message),
  );
  assert.throws(
    () => create('not a url', { clock: manualClock() }),
    (err) => isFledgeError(err, 'InvalidSpec') && /spec\.provider\.address/.test(err.message),
  );
});

test('graphite: runRangeQuery replaces the window with epoch seconds and returns the first series', async () => {
  const fake = await startFakeHttp(graphite(() => [series('a', [[1, 60], [null, 120], [3, 180]]), series('b', [[9, 60]])]));
  try {
    const points = await create(fake.url, { clock: manualClock() }).runRangeQuery?.(QUERY, {
      startMs: 60_000,
      endMs: 240_000,
      stepMs: 60_000,
    });
    assert.deepEqual(points, [
      { timeMs: 60_000, value: 1 },
      { timeMs: 180_000, value: 3 },
    ]);
    assert.equal(fake.requests[0]?.query.get('from'), '60');
    assert.equal(fake.requests[0]?.query.get('until'), '240');
  } finally {
    await fake.close();
  }
});

providerContract({
  name: 'graphite',
  secrets: [PASSWORD],
  create: (address, deps) => create(address, deps, { username: USER, password: PASSWORD }),
  query: QUERY,
  malformed: { body: { target: 'a', datapoints: [] } },
});
