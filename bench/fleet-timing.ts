/**
 * The timed phases of the fleet benchmark, both read from the Canary watch:
 * - detection: a new image on a target Deployment until its Canary's status says Progressing;
 * - step lateness: canaries analysing at a 1 s interval, the time between consecutive steps
 *   (Progressing, each canaryWeight change, Promoting) minus the interval.
 */
import type { FleetContext, Window } from './fleet-context.js';
import { call, openWindow, sleep, waitFor } from './fleet-context.js';
import type { FleetMember } from './fleet-objects.js';
import { deploymentsPath, imagePatch } from './fleet-objects.js';
import { now, percentile } from './support.js';

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
}

export interface DetectionFigures {
  latencyMs: Distribution;
  /** Round trip of the image PATCH itself, part of the latency. */
  patchMs: Distribution;
  window: Window;
}

export interface StepFigures {
  canaries: number;
  promoted: number;
  failed: number;
  /** Consecutive steps observed (21 per canary for 0, 5, ..., 100, Promoting). */
  intervals: number;
  latenessMs: Distribution;
  /** Lateness of the i-th interval of every canary (0: Progressing to the first weight; last: to Promoting). */
  latenessByStep: Distribution[];
  /** Canaries whose weights were not 0, 5, 10, ... in order (a skipped or repeated step). */
  irregularCanaries: number;
  seconds: number;
  window: Window;
}

export const distribution = (values: number[]): Distribution => {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN, min: sorted[0] ?? NaN };
};

const keyOf = (m: FleetMember): string => `${m.namespace}/${m.name}`;

const patchImage = (ctx: FleetContext, m: FleetMember, tag: string): Promise<unknown> =>
  call(ctx, 'PATCH', `${deploymentsPath(m.namespace)}/${m.name}`, imagePatch(tag), [200], 'application/merge-patch+json');

const failedAmong = (ctx: FleetContext, keys: string[]): string | undefined => {
  const failed = keys.filter((k) => ctx.watch.state(k)?.phase === 'Failed');
  if (failed.length) return `${failed.length} canaries Failed (${failed.slice(0, 3).join(', ')})`;
  if (ctx.controller.exited()) return 'the controller exited';
  return ctx.watch.problem;
};

/** One image change every `gapMs`; each timed from just before its PATCH is sent until the watch shows Progressing. */
export const measureDetection = async (ctx: FleetContext, sample: FleetMember[], opts: { gapMs: number; timeoutMs: number; tag: string }): Promise<DetectionFigures> => {
  const close = await openWindow(ctx);
  const sentAt = new Map<string, number>();
  const latency = new Map<string, number>();
  const patchMs: number[] = [];
  const unsubscribe = ctx.watch.subscribe((c) => {
    const t0 = sentAt.get(c.key);
    if (t0 !== undefined && !latency.has(c.key) && c.after.phase === 'Progressing') latency.set(c.key, c.at - t0);
  });
  try {
    const patches: Array<Promise<unknown>> = [];
    for (const m of sample) {
      const t0 = now();
      sentAt.set(keyOf(m), t0);
      patches.push(patchImage(ctx, m, opts.tag).then(() => patchMs.push(now() - t0)));
      await sleep(opts.gapMs);
    }
    await Promise.all(patches);
    const keys = sample.map(keyOf);
    await waitFor(
      'detection',
      opts.timeoutMs,
      () => latency.size === sample.length,
      () => failedAmong(ctx, keys),
      () => `${latency.size}/${sample.length} Progressing`,
    );
  } finally {
    unsubscribe();
  }
  return { latencyMs: distribution([...latency.values()]), patchMs: distribution(patchMs), window: await close() };
};

const regularWeights = (weights: number[], stepWeight: number, maxWeight: number): boolean =>
  weights.length === maxWeight / stepWeight + 1 && weights.every((w, i) => w === i * stepWeight);

/**
 * Starts every canary of `group` (image changes spread evenly over `spreadMs`, so their timers are not
 * artificially in step), then records each one's step times until it reaches Promoting.
 */
export const measureSteps = async (
  ctx: FleetContext,
  group: FleetMember[],
  opts: { intervalMs: number; stepWeight: number; maxWeight: number; spreadMs: number; timeoutMs: number; tag: string },
): Promise<StepFigures> => {
  const close = await openWindow(ctx);
  const keys = new Set(group.map(keyOf));
  const times = new Map<string, number[]>();
  const weights = new Map<string, number[]>();
  const promoted = new Set<string>();
  const unsubscribe = ctx.watch.subscribe(({ key, at, before, after }) => {
    if (!keys.has(key) || promoted.has(key)) return;
    if (after.phase === 'Progressing' && before.phase !== 'Progressing') {
      times.set(key, [at]);
      weights.set(key, [after.canaryWeight ?? 0]);
    } else if (after.phase === 'Progressing' && after.canaryWeight !== before.canaryWeight) {
      times.get(key)?.push(at);
      weights.get(key)?.push(after.canaryWeight ?? 0);
    } else if (after.phase === 'Promoting' && before.phase === 'Progressing') {
      times.get(key)?.push(at);
      promoted.add(key);
    }
  });
  const started = now();
  try {
    const patches: Array<Promise<unknown>> = [];
    for (const m of group) {
      patches.push(patchImage(ctx, m, opts.tag));
      await sleep(opts.spreadMs / group.length);
    }
    await Promise.all(patches);
    await waitFor(
      'step lateness',
      opts.timeoutMs,
      () => promoted.size === group.length,
      () => failedAmong(ctx, [...keys]),
      () => `${promoted.size}/${group.length} reached Promoting`,
    );
  } finally {
    unsubscribe();
  }
  const seconds = (now() - started) / 1000;
  const lateness: number[] = [];
  const byStep: number[][] = [];
  for (const t of times.values()) {
    for (let i = 1; i < t.length; i++) {
      const late = (t[i] as number) - (t[i - 1] as number) - opts.intervalMs;
      lateness.push(late);
      (byStep[i - 1] ??= []).push(late);
    }
  }
  const irregular = [...weights.values()].filter((w) => !regularWeights(w, opts.stepWeight, opts.maxWeight)).length;
  return {
    canaries: group.length,
    promoted: promoted.size,
    failed: [...keys].filter((k) => ctx.watch.state(k)?.phase === 'Failed').length,
    intervals: lateness.length,
    latenessMs: distribution(lateness),
    latenessByStep: byStep.map(distribution),
    irregularCanaries: irregular,
    seconds,
    window: await close(),
  };
};
