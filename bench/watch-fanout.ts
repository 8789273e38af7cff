/**
 * Watch fan-out: N watch streams on one namespace's ConfigMaps, opened from the current
 * resourceVersion, while one writer makes M changes (creates, then JSON merge patches). Measures how
 * long until every watcher has seen all M events, and checks each saw exactly M, in resourceVersion
 * order, of the expected types: a fan-out that loses or repeats events fails the benchmark.
 */
import http from 'node:http';
import type { Endpoint } from './support.js';
import { expectStatus, LineSplitter, now, runPool, send } from './support.js';

export interface WatchFigures {
  watchers: number;
  changes: number;
  creates: number;
  patches: number;
  deliveries: number;
  writerSeconds: number;
  firstWatcherSeconds: number;
  allWatchersSeconds: number;
  deliveriesPerSecond: number;
}

interface Ctx {
  agent: http.Agent;
  at: Endpoint;
}

interface WatcherState {
  added: number;
  modified: number;
  lastRv: number;
  doneAt?: number;
  problem?: string;
}

interface Watcher {
  state: WatcherState;
  request: http.ClientRequest;
}

interface WatchEventLine {
  type?: string;
  object?: { metadata?: { namespace?: string; resourceVersion?: string } };
}

const openWatcher = (at: Endpoint, path: string, ns: string, expected: number, onDone: () => void): Promise<Watcher> =>
  new Promise((resolve, reject) => {
    const state: WatcherState = { added: 0, modified: 0, lastRv: 0 };
    let signalled = false;
    const signal = (): void => {
      if (signalled) return;
      signalled = true;
      onDone();
    };
    const fail = (problem: string): void => {
      state.problem ??= problem;
      signal();
    };
    // Its own connection (agent: false): a watch holds its socket for as long as it runs.
    const request = http.request({ host: at.host, port: at.port, path, agent: false, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
      res.setEncoding('utf8');
      const lines = new LineSplitter();
      res.on('data', (chunk: string) => {
        for (const line of lines.push(chunk)) {
          let e: WatchEventLine;
          try {
            e = JSON.parse(line) as WatchEventLine;
          } catch {
            fail(`not JSON: ${line.slice(0, 200)}`);
            continue;
          }
          const rv = Number(e.object?.metadata?.resourceVersion);
          if (e.type === 'ADDED') state.added += 1;
          else if (e.type === 'MODIFIED') state.modified += 1;
          else fail(`unexpected ${e.type} event: ${line.slice(0, 200)}`);
          if (e.object?.metadata?.namespace !== ns) fail(`event from namespace ${e.object?.metadata?.namespace}`);
          if (!(rv > state.lastRv)) fail(`resourceVersion ${rv} after ${state.lastRv}`);
          state.lastRv = rv;
          if (state.added + state.modified === expected && state.doneAt === undefined) {
            state.doneAt = now();
            signal();
          }
        }
      });
      res.on('end', () => {
        if (state.doneAt === undefined) fail('the server ended the stream early');
      });
      res.on('error', (err) => fail(`stream error: ${err.message}`));
      resolve({ state, request });
    });
    request.on('error', (err) => {
      if (state.doneAt === undefined) fail(`request error: ${err.message}`);
      reject(err);
    });
    request.end();
  });

export const measureWatchFanout = async (
  ctx: Ctx,
  ns: string,
  opts: { watchers: number; changes: number; creates: number; concurrency: number; timeoutMs: number },
): Promise<WatchFigures> => {
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  const listed = JSON.parse(expectStatus(await send(ctx.agent, ctx.at, 'GET', `${base}?limit=1`), [200], 'LIST for the resourceVersion').body) as {
    metadata?: { resourceVersion?: string };
  };
  const fromRv = listed.metadata?.resourceVersion ?? '';
  if (!fromRv) throw new Error('LIST returned no resourceVersion to watch from');

  let settled = 0;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const watchers: Watcher[] = [];
  const onDone = (): void => {
    settled += 1;
    if (settled >= opts.watchers) allDone();
  };
  try {
    for (let w = 0; w < opts.watchers; w++) {
      watchers.push(await openWatcher(ctx.at, `${base}?watch=true&resourceVersion=${fromRv}`, ns, opts.changes, onDone));
    }
    const started = now();
    let writerDone = 0;
    const writer = runPool(opts.changes, opts.concurrency, async (i) => {
      const target = `w-${String(i % opts.creates).padStart(5, '0')}`;
      const reply =
        i < opts.creates
          ? await send(ctx.agent, ctx.at, 'POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: target }, data: { seq: String(i) } })
          : await send(ctx.agent, ctx.at, 'PATCH', `${base}/${target}`, { data: { seq: String(i) } }, { 'Content-Type': 'application/merge-patch+json' });
      expectStatus(reply, [200, 201], `${i < opts.creates ? 'create' : 'patch'} ${target}`);
    }).then(() => (writerDone = now()));

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.timeoutMs)));
    const outcome = await Promise.race([Promise.all([writer, finished]).then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    // A watcher that got more than it should would show it now; give stragglers a moment.
    await new Promise((r) => setTimeout(r, 300));

    const counts = watchers.map((w) => w.state.added + w.state.modified);
    const problems = watchers.flatMap((w, i) => (w.state.problem ? [`watcher ${i}: ${w.state.problem}`] : []));
    const patches = opts.changes - opts.creates;
    watchers.forEach((w, i) => {
      if (w.state.added !== opts.creates || w.state.modified !== patches) {
        problems.push(`watcher ${i}: ${w.state.added} ADDED + ${w.state.modified} MODIFIED, expected ${opts.creates} + ${patches}`);
      }
    });
    if (outcome === 'timeout') problems.unshift(`not all events delivered within ${opts.timeoutMs} ms (counts: ${counts.join(', ')})`);
    if (problems.length) throw new Error(`watch fan-out lost, repeated or misordered events:\n  ${problems.join('\n  ')}`);

    const doneTimes = watchers.map((w) => (w.state.doneAt ?? NaN) - started);
    const allWatchersSeconds = Math.max(...doneTimes) / 1000;
    return {
      watchers: opts.watchers,
      changes: opts.changes,
      creates: opts.creates,
      patches,
      deliveries: opts.watchers * opts.changes,
      writerSeconds: (writerDone - started) / 1000,
      firstWatcherSeconds: Math.min(...doneTimes) / 1000,
      allWatchersSeconds,
      deliveriesPerSecond: (opts.watchers * opts.changes) / allWatchersSeconds,
    };
  } finally {
    for (const w of watchers) w.request.destroy();
  }
};
