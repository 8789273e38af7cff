/**
 * The prometheus metric provider against a REAL Prometheus (Debian's 2.42): live scrapes of a loopback
 * target for rates, backfilled history (promtool) for exact values at fixed times, and a small auth
 * proxy in front of it for bearer and basic credentials.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../src/api/clock.js';
import { isFledgeError } from '../../src/api/index.js';
import type { ProviderConfig } from '../../providers/metrics/types.js';
import { createPrometheusProvider } from '../../providers/metrics/prometheus.js';
import type { PrometheusProvider } from '../../providers/metrics/prometheus.js';
import { openMetricsCounter, serveMetrics, startPrometheus } from '../../src/devtools/prometheus.js';
import type { MetricsTarget, RealPrometheus } from '../../src/devtools/prometheus.js';

// Backfilled history: 10 minutes from 2024-01-01T00:00:00Z, one sample every 15 s.
const T0 = Date.UTC(2024, 0, 1) / 1000;
const STEP_S = 15;
const SAMPLES = 41;
const OK_PER_S = 3;
const ERRORS_PER_S = 1;
const OTHER_ERRORS_PER_S = 7;
const IDLE_VALUE = 42;
// The live target's counter grows by this much per second of its own timestamps.
const LIVE_PER_S = 5;

const linear = (perSecond: number): Array<[number, number]> =>
  Array.from({ length: SAMPLES }, (_, i): [number, number] => [T0 + i * STEP_S, perSecond * i * STEP_S]);
const istio = (workload: string, code: string) => ({
  reporter: 'destination',
  destination_workload_namespace: 'test',
  destination_workload: workload,
  response_code: code,
});

const history =
  openMetricsCounter('istio_requests', [
    { labels: istio('podinfo', '200'), samples: linear(OK_PER_S) },
    { labels: istio('podinfo', '500'), samples: linear(ERRORS_PER_S) },
    { labels: istio('frontend', '503'), samples: linear(OTHER_ERRORS_PER_S) },
  ]) +
  openMetricsCounter('fledge_idle_requests', [
    { labels: { code: '200' }, samples: linear(0).map(([t]): [number, number] => [t, IDLE_VALUE]) },
  ]) +
  '# EOF\n';

// Flagger's built-in istio request-success-rate, as its template renders it (newlines and all).
const successRate = (namespace: string, target: string, interval: string): string => `
  sum(
    rate(
      istio_requests_total{
        reporter="destination",
        destination_workload_namespace="${namespace}",
        destination_workload=~"${target}",
        response_code!~"5.*"
      }[${interval}]
    )
  )
  /
  sum(
    rate(
      istio_requests_total{
        reporter="destination",
        destination_workload_namespace="${namespace}",
        destination_workload=~"${target}"
      }[${interval}]
    )
  )
  * 100`;

let prom: RealPrometheus;
let live: MetricsTarget;
let liveStartMs = 0;

const provider = (address: string, extra: Partial<ProviderConfig> = {}): PrometheusProvider =>
  createPrometheusProvider({ type: 'prometheus', address, secret: {}, insecureSkipVerify: false, ...extra }, { clock: systemClock(), timeoutMs: 5000 });

const codeOf = async (promise: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await promise;
  } catch (e) {
    if (isFledgeError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the query to fail');
};

before(async () => {
  liveStartMs = Date.now() - 1000;
  live = await serveMetrics(() => {
    const now = Date.now();
    const value = (LIVE_PER_S * (now - liveStartMs)) / 1000;
    return `# TYPE fledge_live_requests_total counter\nfledge_live_requests_total{app="live"} ${value} ${now}\n`;
  });
  prom = await startPrometheus({ targets: [live.target], scrapeIntervalSeconds: 1, backfill: history });
});

after(async () => {
  await prom?.stop();
  await live?.close();
});

test('a scraped counter: its rate over live scrapes is the slope it was served with', async () => {
  const p = provider(prom.url);
  assert.equal(await p.isOnline({}), true);
  // Prometheus 2.42 hands new targets to the scraper after ~5 s; then one scrape a second. With five
  // samples in the last 10 s, the 4 s window below is covered from edge to edge.
  const deadline = Date.now() + 30000;
  let samples = 0;
  while (samples < 5 && Date.now() < deadline) {
    samples = await p.runQuery('count_over_time(fledge_live_requests_total[10s])', { intervalMs: 1000 }).catch(() => 0);
    if (samples < 5) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(samples >= 5, `expected 5 scrapes within 30s, got ${samples} (served ${live.scrapes}); log:\n${prom.log()}`);
  const rate = await p.runQuery('rate(fledge_live_requests_total{app="live"}[4s])', { intervalMs: 4000 });
  assert.ok(Math.abs(rate - LIVE_PER_S) < 1e-6, `rate ${rate} should be ${LIVE_PER_S}`);
});

test("Flagger's istio success-rate query over backfilled history gives the exact percentage at a fixed time", async () => {
  const p = provider(prom.url);
  const expected = (OK_PER_S / (OK_PER_S + ERRORS_PER_S)) * 100;
  const at = (T0 + 300) * 1000;
  assert.equal(await p.runQuery(successRate('test', 'podinfo', '1m'), { intervalMs: 60000, atMs: at }), expected);
  // Were the other workload's errors not filtered out by the labels, this would be 3/(3+1+7).
  assert.notEqual(expected, (OK_PER_S / (OK_PER_S + ERRORS_PER_S + OTHER_ERRORS_PER_S)) * 100);
  // A workload with only errors: sum() over no non-5xx series is an empty vector, so Prometheus gives
  // no value rather than 0 (as it does for Flagger); the check fails as NoValues either way.
  const allErrors = await codeOf(p.runQuery(successRate('test', 'frontend', '1m'), { intervalMs: 60000, atMs: at }));
  assert.equal(allErrors.code, 'NoValues');
  assert.equal(await p.runQuery('sum(rate(istio_requests_total{destination_workload="frontend"}[1m]))', { intervalMs: 60000, atMs: at }), OTHER_ERRORS_PER_S);
  const okRate = await p.runQuery('sum(rate(istio_requests_total{destination_workload="podinfo",response_code="200"}[1m]))', { intervalMs: 60000, atMs: at });
  assert.ok(Math.abs(okRate - OK_PER_S) < 1e-9, `rate ${okRate} should be ${OK_PER_S}`);
});

test('a range query (rehearsal) returns every step of the window, each with the exact percentage', async () => {
  const p = provider(prom.url);
  const expected = (OK_PER_S / (OK_PER_S + ERRORS_PER_S)) * 100;
  const startMs = (T0 + 120) * 1000;
  const endMs = (T0 + 600) * 1000;
  const points = await p.runRangeQuery(successRate('test', 'podinfo', '1m'), { startMs, endMs, stepMs: 60000 });
  assert.deepEqual(points.map((x) => x.timeMs), Array.from({ length: 9 }, (_, i) => startMs + i * 60000));
  assert.ok(points.every((x) => x.value === expected), JSON.stringify(points));
});

test('no values: an absent series, and 0/0 over idle counters (NaN)', async () => {
  const p = provider(prom.url);
  const at = (T0 + 300) * 1000;
  const absent = await codeOf(p.runQuery(successRate('test', 'absent', '1m'), { intervalMs: 60000, atMs: at }));
  assert.equal(absent.code, 'NoValues');
  const idle = 'sum(rate(fledge_idle_requests_total{code!~"5.*"}[1m])) / sum(rate(fledge_idle_requests_total[1m])) * 100';
  assert.equal((await codeOf(p.runQuery(idle, { intervalMs: 60000, atMs: at }))).code, 'NoValues');
  // The idle series exists: it is the division, not the selection, that has no value.
  assert.equal(await p.runQuery('sum(fledge_idle_requests_total)', { intervalMs: 60000, atMs: at }), IDLE_VALUE);
});

test('invalid responses: a range vector, several series, a query Prometheus cannot parse', async () => {
  const p = provider(prom.url);
  const range = await codeOf(p.runQuery('up[5m]', { intervalMs: 60000 }));
  assert.equal(range.code, 'InvalidResponse');
  assert.match(range.message, /range vector/);
  const several = await codeOf(p.runQuery('istio_requests_total', { intervalMs: 60000, atMs: (T0 + 300) * 1000 }));
  assert.equal(several.code, 'InvalidResponse');
  assert.match(several.message, /expected one series, got 3/);
  const parse = await codeOf(p.runQuery('sum(rate(', { intervalMs: 60000 }));
  assert.equal(parse.code, 'InvalidResponse');
  assert.match(parse.message, /HTTP 400: bad_data: .*parse error/);
});

test('a closed port is ProviderUnavailable, and isOnline says false', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const p = provider(`http://127.0.0.1:${port}`);
  const failed = await codeOf(p.runQuery('vector(1)', { intervalMs: 1000 }));
  assert.equal(failed.code, 'ProviderUnavailable');
  assert.match(failed.message, /ECONNREFUSED/);
  assert.equal(await p.isOnline({}), false);
});

/** An auth proxy in front of the real Prometheus: only `expected` Authorization passes. */
const authProxy = async (expected: string): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"status":"error","errorType":"unauthorized","error":"bad credentials"}');
      return;
    }
    fetch(`${prom.url}${req.url ?? '/'}`).then(
      async (answer) => res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(await answer.text()),
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
};

test('credentials reach the server: bearer token with custom headers, basic auth; a wrong token is refused without leaking it', async () => {
  const expected = (OK_PER_S / (OK_PER_S + ERRORS_PER_S)) * 100;
  const at = (T0 + 300) * 1000;
  const query = successRate('test', 'podinfo', '1m');

  const bearer = await authProxy('Bearer t0ken-for-prometheus');
  const basic = await authProxy(`Basic ${Buffer.from('fledge:pa55-w0rd').toString('base64')}`);
  try {
    const withToken = provider(bearer.url, { secret: { token: 't0ken-for-prometheus' }, headers: { 'X-Scope-OrgID': 'tenant-a' } });
    assert.equal(await withToken.runQuery(query, { intervalMs: 60000, atMs: at }), expected);
    assert.equal(bearer.seen.at(-1)?.['x-scope-orgid'], 'tenant-a');

    const withBasic = provider(basic.url, { secret: { username: 'fledge', password: 'pa55-w0rd' } });
    assert.equal(await withBasic.runQuery(query, { intervalMs: 60000, atMs: at }), expected);

    const wrong = provider(bearer.url, { secret: { token: 'wrong-t0ken-value' } });
    const refused = await codeOf(wrong.runQuery(query, { intervalMs: 60000, atMs: at }));
    assert.equal(refused.code, 'ProviderUnavailable');
    assert.match(refused.message, /HTTP 401/);
    assert.ok(!refused.message.includes('wrong-t0ken-value'), refused.message);
    assert.equal(await wrong.isOnline({}), false);
  } finally {
    for (const proxy of [bearer, basic]) {
      proxy.server.closeAllConnections();
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    }
  }
});
