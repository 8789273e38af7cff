/**
 * The stackdriver provider against wire-level fakes: a real gRPC QueryService built from the monitoring
 * package's protos (MQL), and a loopback HTTP server shaped like the Prometheus-compatible API (PromQL).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { grpc } from 'google-gax';
import { protos } from '@google-cloud/monitoring';
import { FledgeError } from '../../src/api/index.js';
import { systemClock } from '../../src/api/clock.js';
import { ManualClock } from '../integration/support/manual-clock.js';
import { numberOfTypedValue, createStackdriverProvider } from '../../providers/metrics/stackdriver.js';
import type { ProviderConfig, ProviderDeps } from '../../providers/metrics/types.js';
import { createMetricProvider, knownMetricProviders } from '../../providers/metrics/index.js';
import { series, startFakeQueryService } from './support/stackdriver-fake.js';
import { startFakePrometheusApi, vectorAnswer } from './support/stackdriver-prometheus-fake.js';

const fake = await startFakeQueryService();
const prometheus = await startFakePrometheusApi();
after(async () => {
  await Promise.all([fake.close(), prometheus.close()]);
});

const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nNOTAREALKEYbutsecretmaterial0123456789\n-----END PRIVATE KEY-----\n';
const SERVICE_ACCOUNT_KEY = JSON.stringify({
  type: 'service_account',
  project_id: 'shop-prod',
  private_key_id: 'keyid-0123456789abcdef',
  private_key: PRIVATE_KEY,
  client_email: 'fledge@shop-prod.iam.gserviceaccount.com',
});

const config = (overrides: Partial<ProviderConfig> = {}): ProviderConfig => ({
  type: 'stackdriver',
  address: fake.address,
  secret: { project: 'shop-prod' },
  insecureSkipVerify: false,
  ...overrides,
});
const deps = (overrides: Partial<ProviderDeps> = {}): ProviderDeps => ({ clock: systemClock(), ...overrides });
const opts = { intervalMs: 60_000 };

const rejectsWith = async (work: Promise<unknown>, code: FledgeError['code'], pattern?: RegExp): Promise<FledgeError> => {
  const error = await work.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof FledgeError, `not a FledgeError: ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
  return error;
};

const MQL = "fetch k8s_container | metric 'istio.io/service/server/request_count' | within 1m";

test('an MQL query reaches QueryTimeSeries as projects/<project> and reads the first double point of the first series', async () => {
  fake.answerWith(() => ({
    response: { timeSeriesData: [series(['podinfo'], { doubleValue: 99.5 }, { doubleValue: 12 }), series(['other'], { doubleValue: 1 })] },
  }));
  const before = fake.received.length;
  const value = await createStackdriverProvider(config({ headers: { 'x-team': 'shop' } }), deps()).runQuery(MQL, opts);
  assert.equal(value, 99.5);
  const received = fake.received.slice(before);
  assert.equal(received.length, 1);
  assert.equal(received[0]?.name, 'projects/shop-prod');
  assert.equal(received[0]?.query, MQL);
  assert.equal(received[0]?.metadata['x-team'], 'shop');
  assert.equal(received[0]?.metadata['x-goog-request-params'], 'name=projects%2Fshop-prod');
  assert.equal(received[0]?.metadata['authorization'], undefined, 'a plaintext endpoint gets no Google credentials');
});

test('int64 points are read (Flagger turns them into 0), over the wire and as Long or string', async () => {
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { int64Value: '1234567' })] } }));
  assert.equal(await createStackdriverProvider(config(), deps()).runQuery(MQL, opts), 1234567);
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { int64Value: '-3' })] } }));
  assert.equal(await createStackdriverProvider(config(), deps()).runQuery(MQL, opts), -3);

  // Decoding with protobufjs (as the REST path and direct users do) yields a Long, not a string.
  const { TypedValue } = protos.google.monitoring.v3;
  const decoded = TypedValue.decode(TypedValue.encode({ int64Value: '9007199254740991' }).finish());
  assert.equal(typeof decoded.int64Value, 'object');
  assert.equal(numberOfTypedValue(decoded), 9007199254740991);
  assert.equal(numberOfTypedValue({ int64Value: '17' }), 17);
  assert.equal(numberOfTypedValue({ boolValue: true }), 1);
  assert.equal(numberOfTypedValue({ doubleValue: 0 }), 0);
});

test('bool points read as 1/0; distributions and strings are InvalidResponse', async () => {
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { boolValue: false })] } }));
  assert.equal(await createStackdriverProvider(config(), deps()).runQuery(MQL, opts), 0);
  fake.answerWith(() => ({
    response: { timeSeriesData: [series(['podinfo'], { distributionValue: { count: '3', mean: 2.5 } })] },
  }));
  await rejectsWith(createStackdriverProvider(config(), deps()).runQuery(MQL, opts), 'InvalidResponse', /distribution/);
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { stringValue: 'high' })] } }));
  await rejectsWith(createStackdriverProvider(config(), deps()).runQuery(MQL, opts), 'InvalidResponse', /stringValue/);
});

test('an empty answer, a series without points, and a NaN point are NoValues', async () => {
  const provider = createStackdriverProvider(config(), deps());
  fake.answerWith(() => ({ response: {} }));
  await rejectsWith(provider.runQuery(MQL, opts), 'NoValues', /no time series/);
  fake.answerWith(() => ({ response: { timeSeriesData: [{ labelValues: [], pointData: [] }] } }));
  await rejectsWith(provider.runQuery(MQL, opts), 'NoValues', /no points/);
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { doubleValue: Number.NaN })] } }));
  await rejectsWith(provider.runQuery(MQL, opts), 'NoValues', /NaN/);
  fake.answerWith(() => ({ response: { partialErrors: [{ code: 8, message: 'scan limit reached' }] } }));
  await rejectsWith(provider.runQuery(MQL, opts), 'NoValues', /scan limit reached/);
});

test('an empty page with a next-page token is followed with that token', async () => {
  fake.answerWith((received) =>
    received.pageToken === ''
      ? { response: { timeSeriesData: [], nextPageToken: 'page-2' } }
      : { response: { timeSeriesData: [series(['podinfo'], { doubleValue: 7 })] } },
  );
  const before = fake.received.length;
  assert.equal(await createStackdriverProvider(config(), deps()).runQuery(MQL, opts), 7);
  assert.deepEqual(
    fake.received.slice(before).map((received) => received.pageToken),
    ['', 'page-2'],
  );
});

test('gRPC error statuses are ProviderUnavailable naming the status and the server text', async () => {
  const provider = createStackdriverProvider(config(), deps());
  fake.answerWith(() => ({ error: { code: grpc.status.UNAVAILABLE, details: 'backend is restarting' } }));
  await rejectsWith(provider.runQuery(MQL, opts), 'ProviderUnavailable', /\(UNAVAILABLE\): backend is restarting$/);
  fake.answerWith(() => ({ error: { code: grpc.status.INVALID_ARGUMENT, details: 'Line 1: unknown table' } }));
  await rejectsWith(provider.runQuery('fetch nonsense', opts), 'ProviderUnavailable', /INVALID_ARGUMENT.*unknown table/);
});

test('a server that never answers times out on the gRPC deadline, and the server sees the call end', async () => {
  fake.answerWith(() => ({ hang: true }));
  const cancelledBefore = fake.cancelled.length;
  await rejectsWith(createStackdriverProvider(config(), deps({ timeoutMs: 150 })).runQuery(MQL, opts), 'ProviderUnavailable', /timed out|DEADLINE_EXCEEDED/);
  for (let attempt = 0; attempt < 50 && fake.cancelled.length === cancelledBefore; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(fake.cancelled.length, cancelledBefore + 1);
});

test('the timeout runs on the injected clock', async () => {
  fake.answerWith(() => ({ hang: true }));
  const clock = new ManualClock(0);
  const before = fake.received.length;
  const pending = createStackdriverProvider(config(), deps({ clock, timeoutMs: 30_000 })).runQuery(MQL, opts);
  while (fake.received.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
  clock.advance(29_999);
  let settled = false;
  void pending.catch(() => undefined).finally(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'no timeout before the deadline');
  clock.advance(1);
  await rejectsWith(pending, 'ProviderUnavailable', /timed out after 30000ms/);
});

test('an AbortSignal ends a query at once; an already-aborted one sends nothing', async () => {
  fake.answerWith(() => ({ hang: true }));
  const controller = new AbortController();
  const before = fake.received.length;
  const pending = createStackdriverProvider(config(), deps({ timeoutMs: 60_000 })).runQuery(MQL, { ...opts, signal: controller.signal });
  while (fake.received.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await rejectsWith(pending, 'ProviderUnavailable', /aborted/);

  const sent = fake.received.length;
  await rejectsWith(
    createStackdriverProvider(config(), deps()).runQuery(MQL, { ...opts, signal: AbortSignal.abort() }),
    'ProviderUnavailable',
    /aborted/,
  );
  assert.equal(fake.received.length, sent);
});

test('isOnline follows Flagger: an empty query answered or refused as INVALID_ARGUMENT means online, other statuses do not', async () => {
  const provider = createStackdriverProvider(config(), deps());
  fake.answerWith((received) =>
    received.query === '' ? { error: { code: grpc.status.INVALID_ARGUMENT, details: 'empty query' } } : { response: {} },
  );
  assert.equal(await provider.isOnline({}), true);
  assert.equal(fake.received.at(-1)?.query, '');
  fake.answerWith(() => ({ error: { code: grpc.status.PERMISSION_DENIED, details: 'monitoring.timeSeries.list denied' } }));
  assert.equal(await provider.isOnline({}), false);
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { doubleValue: 1 })] } }));
  assert.equal(await provider.isOnline({}), true);
});

test('configuration is checked when the provider is built, and a key never appears in a message', () => {
  const build = (overrides: Partial<ProviderConfig>): FledgeError => {
    try {
      createStackdriverProvider(config(overrides), deps());
    } catch (error) {
      assert.ok(error instanceof FledgeError);
      assert.equal(error.code, 'InvalidSpec');
      return error;
    }
    return assert.fail('expected InvalidSpec');
  };
  assert.match(build({ secret: {} }).message, /secret\.project/);
  assert.match(build({ secret: { project: 'projects/shop' } }).message, /not a resource name/);
  assert.match(build({ address: 'dns:///monitoring' }).message, /spec\.provider\.address/);
  const garbled = `{"type": "service_account", "private_key": "${PRIVATE_KEY.slice(0, 40)}`;
  const error = build({ secret: { project: 'shop-prod', serviceAccountKey: garbled } });
  assert.match(error.message, /serviceAccountKey/);
  assert.ok(!error.message.includes('NOTAREALKEY'));
  assert.ok(!error.message.includes('BEGIN PRIVATE KEY'));
});

test('a server error that echoes the service account key is redacted', async () => {
  fake.answerWith(() => ({ error: { code: grpc.status.INTERNAL, details: `cannot use key ${PRIVATE_KEY} (id keyid-0123456789abcdef)` } }));
  const provider = createStackdriverProvider(config({ secret: { project: 'shop-prod', serviceAccountKey: SERVICE_ACCOUNT_KEY } }), deps());
  const error = await rejectsWith(provider.runQuery(MQL, opts), 'ProviderUnavailable', /cannot use key \[redacted\]/);
  assert.ok(!error.message.includes('NOTAREALKEY'));
  assert.ok(!error.message.includes('keyid-0123456789abcdef'));
});

test('a TLS endpoint with a service account key that cannot connect fails as ProviderUnavailable without the key', async () => {
  // The fake speaks plaintext, so the TLS handshake fails; the key is never sent anywhere else.
  const tlsAddress = fake.address.replace('http://', 'https://');
  const provider = createStackdriverProvider(config({ address: tlsAddress, secret: { project: 'shop-prod', serviceAccountKey: SERVICE_ACCOUNT_KEY } }), deps({ timeoutMs: 2000 }));
  const error = await rejectsWith(provider.runQuery(MQL, opts), 'ProviderUnavailable');
  assert.ok(!error.message.includes('NOTAREALKEY'));
});

const promqlConfig = (): ProviderConfig => config({ address: prometheus.address, headers: { 'x-team': 'shop' } });

test('a promql: query goes to the Prometheus-compatible API of the project and reads the first sample', async () => {
  prometheus.answerWith(() => vectorAnswer('0.975', '0.5'));
  const before = prometheus.received.length;
  const query = 'sum(rate(istio_requests_total{response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total[1m]))';
  assert.equal(await createStackdriverProvider(promqlConfig(), deps()).runQuery(`  promql: ${query}`, opts), 0.975);
  const received = prometheus.received.slice(before);
  assert.equal(received.length, 1);
  assert.equal(received[0]?.method, 'GET');
  assert.equal(received[0]?.path, '/v1/projects/shop-prod/location/global/prometheus/api/v1/query');
  assert.equal(received[0]?.query, query);
  assert.equal(received[0]?.headers['x-team'], 'shop');
  assert.equal(received[0]?.headers['authorization'], undefined);
});

test('PromQL answers: empty vector and NaN are NoValues, a scalar is read, errors and non-JSON are typed', async () => {
  const provider = createStackdriverProvider(promqlConfig(), deps());
  prometheus.answerWith(() => vectorAnswer());
  await rejectsWith(provider.runQuery('promql: up', opts), 'NoValues', /empty vector/);
  prometheus.answerWith(() => vectorAnswer('NaN'));
  await rejectsWith(provider.runQuery('promql: up', opts), 'NoValues', /NaN/);
  prometheus.answerWith(() => ({ status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '42'] } }) }));
  assert.equal(await provider.runQuery('promql: scalar(up)', opts), 42);
  prometheus.answerWith(() => ({ status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }) }));
  await rejectsWith(provider.runQuery('promql: up{', opts), 'ProviderUnavailable', /HTTP 400.*parse error at char 3/);
  prometheus.answerWith(() => ({ status: 200, body: '<html>proxy login</html>' }));
  await rejectsWith(provider.runQuery('promql: up', opts), 'InvalidResponse', /not JSON/);
  prometheus.answerWith(() => ({ status: 503, body: 'upstream down' }));
  await rejectsWith(provider.runQuery('promql: up', opts), 'ProviderUnavailable', /HTTP 503/);
});

test('a promql: query is timed out on the injected clock and the HTTP request is aborted', async () => {
  const clock = new ManualClock(0);
  const signals: AbortSignal[] = [];
  const fetchThatHangs: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      if (init?.signal) signals.push(init.signal);
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
    });
  const pending = createStackdriverProvider(promqlConfig(), deps({ clock, timeoutMs: 1000, fetch: fetchThatHangs })).runQuery('promql: up', opts);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(signals.length, 1, 'the request was started with a signal');
  clock.advance(999);
  assert.equal(signals[0]?.aborted, false);
  clock.advance(1);
  await rejectsWith(pending, 'ProviderUnavailable', /timed out after 1000ms/);
  assert.equal(signals[0]?.aborted, true);
});

test('the registry serves type stackdriver with this provider', async () => {
  assert.ok(knownMetricProviders().includes('stackdriver'));
  fake.answerWith(() => ({ response: { timeSeriesData: [series(['podinfo'], { doubleValue: 3.25 })] } }));
  const provider = createMetricProvider(config(), deps());
  assert.equal(provider.type, 'stackdriver');
  assert.equal(await provider.runQuery(MQL, opts), 3.25);
});
