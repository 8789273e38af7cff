/**
 * The first two phases of the fleet benchmark: create the fleet (namespaces, a Deployment and a
 * Canary per member) and wait until every Canary is Initialized; then sit idle and count what the
 * controller asks of the API server while nothing changes.
 */
import type { FleetContext, Window } from './fleet-context.js';
import { call, openWindow, sleep, waitFor } from './fleet-context.js';
import type { CanaryShape, FleetMember } from './fleet-objects.js';
import { canariesPath, canaryObject, deploymentObject, deploymentsPath, namespaceObject } from './fleet-objects.js';
import { now, runPool } from './support.js';

export interface SetupFigures {
  canaries: number;
  namespaces: number;
  createSeconds: number;
  /** From the first create until the last Canary is Initialized. */
  initializedSeconds: number;
  /** How long the controller kept writing after the last Canary was Initialized (quiet = 2 s with no request). */
  settleSeconds: number;
  window: Window;
}

const QUIET_MS = 2000;

/** Waits until the cluster serves no request for QUIET_MS (at most maxMs); returns the time it took. */
const settle = async (ctx: FleetContext, maxMs: number): Promise<number> => {
  const started = now();
  let last = -1;
  let quietSince = now();
  while (now() - started < maxMs) {
    const served = Object.values((await ctx.server.stats()).requests).reduce((a, b) => a + b, 0);
    if (served !== last) {
      last = served;
      quietSince = now();
    } else if (now() - quietSince >= QUIET_MS) break;
    await sleep(250);
  }
  return (now() - started) / 1000;
};

export const createFleet = async (
  ctx: FleetContext,
  members: FleetMember[],
  shapeOf: (m: FleetMember) => CanaryShape,
  opts: { concurrency: number; timeoutMs: number },
): Promise<SetupFigures> => {
  const close = await openWindow(ctx);
  const namespaces = [...new Set(members.map((m) => m.namespace))];
  for (const ns of namespaces) await call(ctx, 'POST', '/api/v1/namespaces', namespaceObject(ns), [201]);
  const started = now();
  await runPool(members.length, opts.concurrency, async (i) => {
    const m = members[i] as FleetMember;
    await call(ctx, 'POST', deploymentsPath(m.namespace), deploymentObject(m, '6.0.0'), [201]);
    await call(ctx, 'POST', canariesPath(m.namespace), canaryObject(m, shapeOf(m)), [201]);
  });
  const createSeconds = (now() - started) / 1000;
  const keys = members.map((m) => `${m.namespace}/${m.name}`);
  const count = (phase: string): number => keys.filter((k) => ctx.watch.state(k)?.phase === phase).length;
  await waitFor(
    'all canaries Initialized',
    opts.timeoutMs,
    () => count('Initialized') === keys.length,
    () => (count('Failed') ? `${count('Failed')} canaries Failed` : (ctx.watch.problem ?? (ctx.controller.exited() ? 'the controller exited' : undefined))),
    () => `${count('Initialized')}/${keys.length} Initialized, ${count('Initializing')} Initializing`,
  );
  const initializedSeconds = (now() - started) / 1000;
  const settleSeconds = await settle(ctx, 30_000);
  return { canaries: members.length, namespaces: namespaces.length, createSeconds, initializedSeconds, settleSeconds, window: await close() };
};

/** Nothing changes for `seconds`: every request the cluster serves meanwhile is the controller polling. */
export const measureIdle = async (ctx: FleetContext, seconds: number): Promise<Window> => {
  const close = await openWindow(ctx);
  await sleep(seconds * 1000);
  return close();
};
