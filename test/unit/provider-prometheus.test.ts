/**
 * The prometheus metric provider: the pure reading of API answers, then the wire (path, params, headers,
 * timeouts, TLS) against a scripted Prometheus API fake on loopback, and the provider registry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/api/clock.js';
import { METRIC_PROVIDER_TYPES, isFledgeError } from '../../src/api/index.js';
import type { ProviderConfig } from '../../providers/metrics/types.js';
import { collapseWhitespace, createPrometheusProvider, credentialsFrom } from '../../providers/metrics/prometheus.js';
import type { PrometheusProvider } from '../../providers/metrics/prometheus.js';
import { displayAddress, httpFailure, instantValue, rangeValues, redact } from '../../providers/metrics/prometheus-result.js';
import { createMetricProvider, isKnownMetricProvider, knownMetricProviders } from '../../providers/metrics/index.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (isFledgeError(e)) return e.code;
    throw e;
  }
  return 'none';
};

const failureOf = async (promise: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await promise;
  } catch (e) {
    if (isFledgeError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a failure');
};

const vector = (...values: string[]) => ({
  status: 'success',
  data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000.5, v] })) },
});

test('instantValue reads one vector sample or a scalar; +Inf is a number', () => {
  assert.equal(instantValue(vector('99.5'), 'q'), 99.5);
  assert.equal(instantValue(vector('+Inf'), 'q'), Infinity);
  assert.equal(instantValue({ status: 'success', data: { resultType: 'scalar', result: [1, '-2.5'] } }, 'q'), -2.5);
});

test('instantValue: empty vector and NaN are NoValues; several series, matrix, string, junk are InvalidResponse', () => {
  assert.equal(codeOf(() => instantValue(vector(), 'q')), 'NoValues');
  assert.equal(codeOf(() => instantValue(vector('NaN'), 'q')), 'NoValues');
  assert.equal(codeOf(() => instantValue({ status: 'success', data: { resultType: 'scalar', result: [1, 'NaN'] } }, 'q')), 'NoValues');
  assert.throws(() => instantValue(vector('1', '2'), 'q'), /expected one series, got 2: \{pod="p0"\}, \{pod="p1"\}/);
  const matrix = { status: 'success', data: { resultType: 'matrix', result: [] } };
  assert.equal(codeOf(() => instantValue(matrix, 'q')), 'InvalidResponse');
  assert.equal(codeOf(() => instantValue({ status: 'success', data: { resultType: 'string', result: [1, 'x'] } }, 'q')), 'InvalidResponse');
  assert.equal(codeOf(() => instantValue(vector('abc'), 'q')), 'InvalidResponse');
  assert.equal(codeOf(() => instantValue('<html>', 'q')), 'InvalidResponse');
  assert.equal(codeOf(() => instantValue({ status: 'error', error: 'x' }, 'q')), 'InvalidResponse');
});

test('rangeValues keeps one series, in ms, without NaN points', () => {
  const body = (series: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result: series } });
  const points = rangeValues(body([{ metric: {}, values: [[10, '1'], [20, 'NaN'], [30.5, '3']] }]), 'q');
  assert.deepEqual(points, [{ timeMs: 10000, value: 1 }, { timeMs: 30500, value: 3 }]);
  assert.equal(codeOf(() => rangeValues(body([]), 'q')), 'NoValues');
  assert.equal(codeOf(() => rangeValues(body([{ values: [[10, 'NaN']] }]), 'q')), 'NoValues');
  assert.equal(codeOf(() => rangeValues(body([{ values: [] }, { values: [] }]), 'q')), 'InvalidResponse');
  assert.equal(codeOf(() => rangeValues(vector('1'), 'q')), 'InvalidResponse');
});

test('HTTP failures: 400/422 are the query rejected, quoting Prometheus; auth, 404 and 5xx are ProviderUnavailable', () => {
  const bad = httpFailure(400, { status: 'error', errorType: 'bad_data', error: 'parse error' });
  assert.equal(bad.code, 'InvalidResponse');
  assert.match(bad.message, /HTTP 400: bad_data: parse error/);
  assert.equal(httpFailure(422, {}).code, 'InvalidResponse');
  for (const status of [401, 403, 404, 429, 500, 502, 503]) assert.equal(httpFailure(status, '<html>secret</html>').code, 'ProviderUnavailable');
  assert.doesNotMatch(httpFailure(502, '<html>secret</html>').message, /secret/);
});

test('collapseWhitespace, displayAddress and redact', () => {
  assert.equal(collapseWhitespace('\n  sum(\n\trate(x[1m])\n  )  '), 'sum( rate(x[1m]) )');
  assert.equal(displayAddress('https://user:pw@prom.example:9090/prometheus?x=1'), 'https://prom.example:9090/prometheus');
  assert.equal(redact('token abcd and abcd, not ab', ['abcd', 'ab']), 'token [redacted] and [redacted], not ab');
});

test('credentialsFrom: bearer token, basic auth, or InvalidSpec for a secret that holds neither', () => {
  const token = credentialsFrom({ token: 'tok-123\n' }, { authorization: 'Basic other', 'X-Scope-OrgID': 't' });
  assert.deepEqual(token.headers, { 'X-Scope-OrgID': 't', Authorization: 'Bearer tok-123' });
  const basic = credentialsFrom({ username: 'u', password: 'p' });
  assert.deepEqual(basic.basic, { username: 'u', password: 'p' });
  assert.ok(basic.secretTexts.includes(Buffer.from('u:p').toString('base64')));
  assert.deepEqual(credentialsFrom({}, { Authorization: 'Bearer mine' }).headers, { Authorization: 'Bearer mine' });
  assert.equal(codeOf(() => credentialsFrom({ username: 'u' })), 'InvalidSpec');
  assert.throws(() => credentialsFrom({ apiKey: 'k' }), /spec\.provider\.secretRef: .* it holds "apiKey"/);
});

// ---- on the wire ----

interface Seen {
  path: string;
  params: URLSearchParams;
  headers: IncomingHttpHeaders;
}
type Answer = { status: number; body: unknown } | 'hold';

const seen: Seen[] = [];
const held: ServerResponse[] = [];
let answer: Answer = { status: 200, body: vector('1') };
let server: Server;
let base = '';

const handle = (req: IncomingMessage, res: ServerResponse): void => {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ path: url.pathname, params: url.searchParams, headers: req.headers });
  if (answer === 'hold') return void held.push(res);
  const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(body);
};

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A clock whose timers fire only when the test says so. */
const manualClock = (): { clock: Clock; fire(): void; pending(): number } => {
  const timers = new Map<number, () => void>();
  let seq = 0;
  return {
    clock: {
      now: () => 0,
      setTimeout: (fn) => (timers.set(++seq, fn), seq),
      clearTimeout: (handle) => void timers.delete(handle as number),
    },
    fire: () => [...timers.values()].forEach((fn) => fn()),
    pending: () => timers.size,
  };
};

const make = (extra: Partial<ProviderConfig> = {}, clock: Clock = manualClock().clock, address = base): PrometheusProvider =>
  createPrometheusProvider({ type: 'prometheus', address, secret: {}, insecureSkipVerify: false, ...extra }, { clock });

test('an instant query: GET /api/v1/query under the address path, whitespace collapsed, no time unless asked', async () => {
  answer = { status: 200, body: vector('42.5') };
  seen.length = 0;
  const timers = manualClock();
  const p = make({}, timers.clock, `${base}/prom/`);
  assert.equal(await p.runQuery('sum(\n  rate(x[1m])\n)', { intervalMs: 60000 }), 42.5);
  assert.equal(timers.pending(), 0, 'the timeout timer is cleared');
  assert.equal(seen[0]?.path, '/prom/api/v1/query');
  assert.equal(seen[0]?.params.get('query'), 'sum( rate(x[1m]) )');
  assert.equal(seen[0]?.params.has('time'), false);
  assert.equal(seen[0]?.params.get('timeout'), '5000ms');
  await p.runQuery('x', { intervalMs: 1, atMs: 1704067500000 });
  assert.equal(seen[1]?.params.get('time'), '1704067500');
});

test('credentials and custom headers are sent; a refusal names no secret', async () => {
  seen.length = 0;
  answer = { status: 200, body: vector('1') };
  await make({ secret: { token: 'bearer-secret-1' }, headers: { 'X-Scope-OrgID': 'tenant' } }).runQuery('x', { intervalMs: 1 });
  assert.equal(seen[0]?.headers.authorization, 'Bearer bearer-secret-1');
  assert.equal(seen[0]?.headers['x-scope-orgid'], 'tenant');
  await make({ secret: { username: 'admin', password: 'basic-secret-2' } }).runQuery('x', { intervalMs: 1 });
  assert.equal(seen[1]?.headers.authorization, `Basic ${Buffer.from('admin:basic-secret-2').toString('base64')}`);
  answer = { status: 500, body: { status: 'error', errorType: 'internal', error: 'echo basic-secret-2' } };
  const failed = await failureOf(make({ secret: { username: 'admin', password: 'basic-secret-2' } }).runQuery('x', { intervalMs: 1 }));
  assert.equal(failed.code, 'ProviderUnavailable');
  assert.match(failed.message, /HTTP 500: internal: echo \[redacted\]/);
});

test('a 2xx that is not the Prometheus API is InvalidResponse; 503 is ProviderUnavailable', async () => {
  answer = { status: 200, body: '<html>login</html>' };
  assert.equal((await failureOf(make().runQuery('x', { intervalMs: 1 }))).code, 'InvalidResponse');
  answer = { status: 503, body: 'busy' };
  const busy = await failureOf(make().runQuery('x', { intervalMs: 1 }));
  assert.equal(busy.code, 'ProviderUnavailable');
  assert.match(busy.message, /^prometheus at http:\/\/127\.0\.0\.1:\d+: answered HTTP 503$/);
});

const received = async (count: number): Promise<void> => {
  for (let i = 0; i < 200 && seen.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
};

test('the per-query timeout runs on the injected clock; an aborted signal stops the query', async () => {
  answer = 'hold';
  seen.length = 0;
  const timers = manualClock();
  const slow = make({}, timers.clock).runQuery('x', { intervalMs: 1 });
  await received(1);
  timers.fire();
  const timedOut = await failureOf(slow);
  assert.equal(timedOut.code, 'ProviderUnavailable');
  assert.match(timedOut.message, /no answer within 5000ms/);

  const abort = new AbortController();
  const stopped = make().runQuery('x', { intervalMs: 1, signal: abort.signal });
  await received(2);
  abort.abort();
  assert.match((await failureOf(stopped)).message, /query aborted/);

  const before = seen.length;
  assert.equal((await failureOf(make().runQuery('x', { intervalMs: 1, signal: AbortSignal.abort() }))).code, 'ProviderUnavailable');
  assert.equal(seen.length, before, 'an already aborted query sends nothing');
});

test('isOnline asks vector(1) and wants 1; runRangeQuery sends start, end and step in seconds', async () => {
  seen.length = 0;
  answer = { status: 200, body: vector('1') };
  assert.equal(await make().isOnline({}), true);
  assert.equal(seen[0]?.params.get('query'), 'vector(1)');
  answer = { status: 200, body: vector('0') };
  assert.equal(await make().isOnline({}), false);
  answer = { status: 500, body: '' };
  assert.equal(await make().isOnline({}), false);

  answer = { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[60, '7']] }] } } };
  seen.length = 0;
  assert.deepEqual(await make().runRangeQuery('x', { startMs: 60000, endMs: 120000, stepMs: 30000 }), [{ timeMs: 60000, value: 7 }]);
  assert.equal(seen[0]?.path, '/api/v1/query_range');
  assert.deepEqual([seen[0]?.params.get('start'), seen[0]?.params.get('end'), seen[0]?.params.get('step')], ['60', '120', '30']);
  assert.equal((await failureOf(make().runRangeQuery('x', { startMs: 2, endMs: 1, stepMs: 1 }))).code, 'InvalidSpec');
});

test('a bad address or secret is InvalidSpec at creation', () => {
  assert.equal(codeOf(() => make({}, undefined, '')), 'InvalidSpec');
  assert.equal(codeOf(() => make({}, undefined, 'ftp://x')), 'InvalidSpec');
  assert.equal(codeOf(() => make({ secret: { password: 'p' } })), 'InvalidSpec');
});

const selfSigned = (): { key: Buffer; cert: Buffer } | undefined => {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-tls-'));
  try {
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')];
    if (spawnSync('openssl', args, { stdio: 'ignore' }).status !== 0) return undefined;
    return { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('insecureSkipVerify accepts a self-signed certificate that is otherwise refused', async (t) => {
  const tls = selfSigned();
  if (!tls) return t.skip('openssl is not available to make a certificate');
  answer = { status: 200, body: vector('3') };
  const https = createTlsServer(tls, handle);
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const address = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  try {
    const refused = await failureOf(make({}, undefined, address).runQuery('x', { intervalMs: 1 }));
    assert.equal(refused.code, 'ProviderUnavailable');
    assert.match(refused.message, /insecureSkipVerify/);
    assert.equal(await make({ insecureSkipVerify: true }, undefined, address).runQuery('x', { intervalMs: 1 }), 3);
  } finally {
    https.closeAllConnections();
    await new Promise<void>((resolve) => https.close(() => resolve()));
  }
});

// ---- the registry ----

test('the registry creates prometheus and refuses the rest, listing what it implements', () => {
  const known = knownMetricProviders();
  assert.ok(known.includes('prometheus'));
  assert.deepEqual(known, [...known].sort());
  const config: ProviderConfig = { type: 'prometheus', address: base, secret: {}, insecureSkipVerify: false };
  assert.equal(createMetricProvider(config, { clock: manualClock().clock }).type, 'prometheus');
  assert.equal(isKnownMetricProvider('bogus'), false);
  assert.throws(
    () => createMetricProvider({ ...config, type: 'bogus' as ProviderConfig['type'] }, { clock: manualClock().clock }),
    (e: unknown) => isFledgeError(e, 'UnknownProvider') && e.message.includes('unknown metric provider "bogus"') && e.message.includes('prometheus'),
  );
  const notBuilt = METRIC_PROVIDER_TYPES.find((type) => !known.includes(type));
  if (notBuilt) {
    assert.throws(
      () => createMetricProvider({ ...config, type: notBuilt }, { clock: manualClock().clock }),
      (e: unknown) => isFledgeError(e, 'UnknownProvider') && e.message.includes(`"${notBuilt}" is not implemented`),
    );
  }
});
