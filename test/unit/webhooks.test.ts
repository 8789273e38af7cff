/** The webhooks runner against a real HTTP receiver on loopback; time is a manual clock. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Clock } from '../../src/api/clock.js';
import { parseCanary } from '../../src/api/canary.js';
import type { Canary } from '../../src/api/index.js';
import { createWebhookRunner } from '../../src/analysis/webhooks.js';

interface Received {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

/** Answers requests per path from a script; `hold` never answers (until the test ends). */
type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hold';

const received: Received[] = [];
const scripts = new Map<string, Answer[]>();
const held: ServerResponse[] = [];
let server: Server;
let base = '';

const handle = (req: IncomingMessage, res: ServerResponse): void => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString() });
    const path = (req.url ?? '').split('?')[0] ?? '';
    const script = scripts.get(path) ?? [];
    const answer = script.length > 1 ? script.shift() : script[0];
    if (answer === 'hold') return void held.push(res);
    res.writeHead(answer?.status ?? 200, answer?.headers ?? {}).end(answer?.body ?? '');
  });
};

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const reset = (paths: Record<string, Answer[]>): void => {
  received.length = 0;
  scripts.clear();
  for (const [path, answers] of Object.entries(paths)) scripts.set(path, answers);
};

const bodiesTo = (path: string): Array<Record<string, unknown>> =>
  received.filter((r) => r.url.split('?')[0] === path).map((r) => JSON.parse(r.body) as Record<string, unknown>);

/** Timers fire only when the test advances time; `delays` records every timer asked for. */
const manualClock = (): Clock & { advance(ms: number): void; pending(): number[]; delays: number[] } => {
  let now = 1_700_000_000_123;
  let seq = 0;
  const timers = new Map<number, { at: number; ms: number; fn: () => void }>();
  const delays: number[] = [];
  return {
    delays,
    now: () => now,
    setTimeout(fn, ms) {
      seq += 1;
      timers.set(seq, { at: now + ms, ms, fn });
      delays.push(ms);
      return seq;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    pending: () => [...timers.values()].map((t) => t.ms),
    advance(ms) {
      now += ms;
      for (const [id, t] of [...timers.entries()].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) continue;
        timers.delete(id);
        t.fn();
      }
    },
  };
};

const waitFor = async (probe: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const canaryWith = (webhooks: Array<Record<string, unknown>>): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10, webhooks },
    },
  });

test('a hook gets Flagger\'s payload, byte for byte, as a JSON POST to the exact URL', async () => {
  reset({ '/hooks/pre': [{ status: 200 }] });
  const runner = createWebhookRunner({ clock: manualClock() });
  const canary = canaryWith([{ name: 'load', type: 'pre-rollout', url: `${base}/hooks/pre?token=a%20b`, metadata: { type: 'cmd', cmd: 'hey -z 1m' } }]);
  const result = await runner.run(canary, 'pre-rollout', 'Progressing', 'abc123');
  assert.equal(result.allPassed, true);
  assert.deepEqual(
    result.hooks.map((h) => [h.name, h.ok, h.statusCode, h.attempts]),
    [['load', true, 200, 1]],
  );
  assert.equal(received.length, 1);
  const [req] = received;
  assert.equal(req?.method, 'POST');
  assert.equal(req?.url, '/hooks/pre?token=a%20b');
  assert.equal(req?.contentType, 'application/json');
  // Metadata keys sorted, as Go's encoder writes a map.
  assert.equal(req?.body, '{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc123","metadata":{"cmd":"hey -z 1m","type":"cmd"}}');
});

test('a hook without metadata gets no metadata key (Flagger\'s omitempty)', async () => {
  reset({ '/plain': [{ status: 202 }] });
  const runner = createWebhookRunner({ clock: manualClock() });
  const ok = await runner.allPassed(canaryWith([{ name: 'p', type: 'rollout', url: `${base}/plain` }]), 'rollout', 'Progressing', 'c1');
  assert.equal(ok, true);
  assert.equal(received[0]?.body, '{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"c1"}');
});

test('a non-2xx answer is a failure; 4xx is not retried', async () => {
  reset({ '/deny': [{ status: 403, body: 'Forbidden' }] });
  const runner = createWebhookRunner({ clock: manualClock() });
  const canary = canaryWith([{ name: 'gate', type: 'confirm-rollout', url: `${base}/deny`, retries: 3 }]);
  const result = await runner.run(canary, 'confirm-rollout', 'Initialized', 'c');
  assert.equal(result.allPassed, false);
  const [hook] = result.hooks;
  assert.equal(hook?.ok, false);
  assert.equal(hook?.statusCode, 403);
  assert.equal(hook?.attempts, 1);
  assert.match(hook?.error ?? '', /HTTP 403: Forbidden/);
  assert.equal(received.length, 1);
});

test('retries: 1 turns 500-then-200 into a success after a backoff on the injected clock', async () => {
  reset({ '/flaky': [{ status: 500, body: 'boom' }, { status: 200 }] });
  const clock = manualClock();
  const runner = createWebhookRunner({ clock, backoff: { initialMs: 250, maxMs: 1_000 } });
  const canary = canaryWith([{ name: 'flaky', type: 'rollout', url: `${base}/flaky`, retries: 1, timeout: '5s' }]);
  const pending = runner.run(canary, 'rollout', 'Progressing', 'c');
  await waitFor(() => clock.pending().includes(250), 'the backoff timer');
  assert.equal(received.length, 1, 'no second attempt before the backoff elapses');
  clock.advance(250);
  const result = await pending;
  assert.equal(result.allPassed, true);
  assert.equal(result.hooks[0]?.attempts, 2);
  assert.equal(result.hooks[0]?.statusCode, 200);
  assert.equal(received.length, 2);
  assert.equal(received[0]?.body, received[1]?.body, 'the retry sends the same payload');
});

test('without retries the same 500 fails at once', async () => {
  reset({ '/flaky': [{ status: 500, body: 'boom' }, { status: 200 }] });
  const runner = createWebhookRunner({ clock: manualClock() });
  const result = await runner.run(canaryWith([{ name: 'flaky', type: 'rollout', url: `${base}/flaky` }]), 'rollout', 'Progressing', 'c');
  assert.equal(result.allPassed, false);
  assert.equal(result.hooks[0]?.attempts, 1);
  assert.match(result.hooks[0]?.error ?? '', /HTTP 500: boom/);
});

test('exhausted retries fail, with the backoff doubling between attempts', async () => {
  reset({ '/down': [{ status: 503 }] });
  const clock = manualClock();
  const runner = createWebhookRunner({ clock, backoff: { initialMs: 100, maxMs: 150 } });
  const pending = runner.run(canaryWith([{ name: 'down', type: 'rollout', url: `${base}/down`, retries: 2 }]), 'rollout', 'Progressing', 'c');
  await waitFor(() => clock.pending().includes(100), 'first backoff');
  clock.advance(100);
  await waitFor(() => clock.pending().includes(150), 'second backoff, capped at maxMs');
  clock.advance(150);
  const result = await pending;
  assert.equal(result.hooks[0]?.ok, false);
  assert.equal(result.hooks[0]?.attempts, 3);
  assert.equal(received.length, 3);
  assert.match(result.hooks[0]?.error ?? '', /HTTP 503.*after 3 attempts/);
});

test('a receiver that does not answer within the hook timeout fails the hook', async () => {
  reset({ '/slow': ['hold'] });
  const clock = manualClock();
  const runner = createWebhookRunner({ clock });
  const pending = runner.run(canaryWith([{ name: 'slow', type: 'pre-rollout', url: `${base}/slow`, timeout: '50ms' }]), 'pre-rollout', 'Progressing', 'c');
  await waitFor(() => received.length === 1 && clock.pending().includes(50), 'the request to arrive');
  clock.advance(50);
  const result = await pending;
  assert.equal(result.allPassed, false);
  assert.equal(result.hooks[0]?.statusCode, undefined);
  assert.match(result.hooks[0]?.error ?? '', /timed out after 50ms/);
  assert.equal(result.hooks[0]?.durationMs, 50);
});

test('a refused connection is a failure (retried like any network error), never an exception', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const clock = manualClock();
  const runner = createWebhookRunner({ clock, backoff: { initialMs: 10, maxMs: 10 } });
  const pending = runner.run(canaryWith([{ name: 'gone', type: 'post-rollout', url: `http://127.0.0.1:${port}/x`, retries: 1 }]), 'post-rollout', 'Succeeded', 'c');
  await waitFor(() => clock.pending().includes(10), 'the backoff after a refused connection');
  clock.advance(10);
  const result = await pending;
  assert.equal(result.allPassed, false);
  assert.equal(result.hooks[0]?.attempts, 2);
  assert.match(result.hooks[0]?.error ?? '', /ECONNREFUSED/);
});

test('gates stop at the first failure; rollback hooks stop at the first success', async () => {
  reset({ '/closed': [{ status: 403 }], '/open': [{ status: 200 }] });
  const runner = createWebhookRunner({ clock: manualClock() });
  const canary = canaryWith([
    { name: 'g1', type: 'confirm-promotion', url: `${base}/closed` },
    { name: 'g2', type: 'confirm-promotion', url: `${base}/open` },
    { name: 'r1', type: 'rollback', url: `${base}/open` },
    { name: 'r2', type: 'rollback', url: `${base}/closed` },
  ]);
  const gates = await runner.run(canary, 'confirm-promotion', 'Progressing', 'c');
  assert.deepEqual([gates.hooks.map((h) => h.name), gates.skipped, gates.allPassed, gates.anyPassed], [['g1'], ['g2'], false, false]);
  assert.equal(await runner.rollbackRequested(canary, 'Progressing', 'c'), true);
  assert.deepEqual(received.map((r) => r.url), ['/closed', '/open'], 'r2 is never called once r1 asks for a rollback');

  const none = await runner.run(canary, 'pre-rollout', 'Progressing', 'c');
  assert.deepEqual([none.hooks.length, none.allPassed, none.anyPassed], [0, true, false]);
  assert.equal(await runner.rollbackRequested(canaryWith([]), 'Waiting', 'c'), false);
});

test('postEvent sends eventMessage, eventType and a Unix-millisecond timestamp', async () => {
  reset({ '/events': [{ status: 200 }] });
  const clock = manualClock();
  const runner = createWebhookRunner({ clock });
  const outcome = await runner.postEvent(`${base}/events`, canaryWith([]), 'Progressing', 'sum1', 'Normal', 'Advance podinfo.test canary weight 10');
  assert.equal(outcome.ok, true);
  assert.equal(
    received[0]?.body,
    `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"sum1","metadata":{"eventMessage":"Advance podinfo.test canary weight 10","eventType":"Normal","timestamp":"${clock.now()}"}}`,
  );
});

test('event hooks on the Canary replace --event-webhook and keep their metadata, event keys winning', async () => {
  reset({ '/canary-events': [{ status: 200 }], '/global': [{ status: 200 }] });
  const runner = createWebhookRunner({ clock: manualClock() });
  const canary = canaryWith([{ name: 'ev', type: 'event', url: `${base}/canary-events`, metadata: { team: 'web', eventType: 'spoofed' } }]);
  const outcomes = await runner.emitEvent(canary, 'Failed', 'c', 'Warning', 'Rolling back podinfo.test', `${base}/global`);
  assert.deepEqual(outcomes.map((o) => o.name), ['ev']);
  assert.equal(bodiesTo('/global').length, 0);
  const [body] = bodiesTo('/canary-events');
  assert.deepEqual(body?.metadata, { eventMessage: 'Rolling back podinfo.test', eventType: 'Warning', team: 'web', timestamp: String(1_700_000_000_123) });

  reset({ '/global': [{ status: 200 }] });
  await runner.emitEvent(canaryWith([]), 'Progressing', 'c', 'Normal', 'hello', `${base}/global`);
  assert.equal(bodiesTo('/global')[0]?.phase, 'Progressing');
  assert.deepEqual(await runner.emitEvent(canaryWith([]), 'Progressing', 'c', 'Normal', 'nowhere'), []);
});

test('a failing event receiver is logged and nothing else happens', async () => {
  reset({ '/broken': [{ status: 500, body: 'receiver down' }] });
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const runner = createWebhookRunner({ clock: manualClock(), log });
  const outcome = await runner.postEvent(`${base}/broken`, canaryWith([]), 'Progressing', 'c', 'Normal', 'msg');
  assert.equal(outcome.ok, false);
  assert.equal(outcome.attempts, 1, '--event-webhook is not retried');
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'webhook failed');
  assert.equal(logged?.canary, 'test/podinfo');
  assert.equal(logged?.statusCode, 500);
  assert.match(String(logged?.error), /receiver down/);
});
