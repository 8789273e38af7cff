/**
 * `fledge status` rendering, pure: a Canary object becomes a view (phase, weight, failed checks,
 * iterations, the verdicts of the last analysis step), and views become a table or JSON. Invalid
 * canaries still render (from their raw status), since an operator asking why one is stuck needs
 * exactly those.
 */
import type { Canary, ThresholdRange } from '../api/index.js';
import { compact, parseCanary } from '../api/index.js';
import { describeRange } from '../analysis/checks.js';
import type { CheckVerdict } from '../engine/ports.js';
import { EXTRA_FAILED_CHECKS, readSavedVerdicts } from '../engine/status.js';
import type { KubeObject } from '../kube/api.js';
import { EXTRA_LAST_CHECKS } from '../controller/ports.js';

export interface CanaryView {
  namespace: string;
  name: string;
  /** '' until the controller has written one. */
  phase: string;
  strategy: string;
  target?: string;
  canaryWeight: number;
  /** The canary strategy's ceiling. */
  maxWeight?: number;
  mirrored: boolean;
  failedChecks: number;
  threshold?: number;
  iterations: number;
  /** spec.analysis.iterations of A/B and blue/green; unset for the canary strategy. */
  iterationsTotal?: number;
  lastTransitionTime?: string;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  /** The Promoted condition's message. */
  message?: string;
  /** Why the spec does not parse (the controller reports the same as an InvalidSpec condition). */
  invalid?: string;
  /** The verdicts of the last analysis step (status.lastChecks), else its failures (lastFailedChecks). */
  checks: CheckVerdict[];
}

/** Phases whose last verdicts are worth a line each in a list (the others are history). */
const SHOW_CHECKS = new Set(['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting', 'Failed']);

const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));

const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Saved verdicts under `key`, read with the engine's own (lenient) reader. */
const verdictsAt = (status: Record<string, unknown>, key: string): CheckVerdict[] | undefined =>
  Array.isArray(status[key]) ? readSavedVerdicts({ [EXTRA_FAILED_CHECKS]: status[key] }) : undefined;

const fromParsed = (c: Canary): Partial<CanaryView> => {
  const a = c.spec.analysis;
  return {
    strategy: a.strategy,
    target: `${c.spec.targetRef.kind}/${c.spec.targetRef.name}`,
    threshold: a.threshold,
    ...(a.strategy === 'canary' ? { maxWeight: a.maxWeight } : { iterationsTotal: a.iterations }),
  };
};

export const canaryView = (obj: KubeObject): CanaryView => {
  const status = record(obj.status);
  const promoted = (Array.isArray(status.conditions) ? status.conditions : []).map(record).find((c) => c.type === 'Promoted');
  let parsed: Partial<CanaryView>;
  try {
    parsed = fromParsed(parseCanary(obj));
  } catch (err) {
    const targetRef = record(record(obj.spec).targetRef);
    parsed = {
      strategy: 'unknown',
      invalid: err instanceof Error ? err.message : String(err),
      ...(str(targetRef.name) ? { target: `${str(targetRef.kind) ?? '?'}/${str(targetRef.name)}` } : {}),
    };
  }
  const view: CanaryView = {
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name,
    phase: str(status.phase) ?? '',
    strategy: 'unknown',
    canaryWeight: int(status.canaryWeight),
    mirrored: status.mirrored === true,
    failedChecks: int(status.failedChecks),
    iterations: int(status.iterations),
    checks: verdictsAt(status, EXTRA_LAST_CHECKS) ?? verdictsAt(status, EXTRA_FAILED_CHECKS) ?? [],
    ...parsed,
    ...compact({
      lastTransitionTime: str(status.lastTransitionTime),
      lastAppliedSpec: str(status.lastAppliedSpec),
      lastPromotedSpec: str(status.lastPromotedSpec),
      message: str(promoted?.message),
    }),
  };
  return view;
};

/** `[#####-----]  50%`: one mark per tenth (width marks in all), the percentage right-aligned. */
export const weightBar = (weight: number, width = 10): string => {
  const w = Math.max(0, Math.min(100, weight));
  const filled = Math.round((w / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(w)).padStart(3)}%`;
};

/** kubectl-style age: 45s, 12m, 3h, 5d. */
export const formatAge = (sinceIso: string | undefined, nowMs: number): string => {
  const since = sinceIso ? Date.parse(sinceIso) : Number.NaN;
  if (Number.isNaN(since)) return '-';
  const s = Math.max(0, Math.floor((nowMs - since) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
};

export const formatRange = (range: ThresholdRange): string => describeRange(range);

/** One verdict: `ok`/`fail`/`wait`, metric, value (or what went wrong), accepted range. */
export const verdictCells = (v: CheckVerdict): [string, string, string, string] => {
  const verdict = v.ok ? 'ok' : v.wait ? 'wait' : 'fail';
  const value = v.value !== undefined ? num(v.value) : `no value (${v.errorCode ?? 'error'}: ${v.message})`;
  return [verdict, v.metric, value, `(${formatRange(v.thresholdRange)})`];
};

const table = (rows: string[][], indent = ''): string[] => {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
};

const failedCell = (v: CanaryView): string => (v.threshold !== undefined ? `${v.failedChecks}/${v.threshold}` : String(v.failedChecks));
const iterationsCell = (v: CanaryView): string => (v.iterationsTotal ? `${v.iterations}/${v.iterationsTotal}` : '-');
const weightCell = (v: CanaryView): string => `${weightBar(v.canaryWeight)}${v.mirrored ? ' mirrored' : ''}`;

export interface RenderOptions {
  nowMs: number;
  /** A NAMESPACE column (status -A). */
  allNamespaces: boolean;
  /** One canary asked for by name: every detail, and its checks whatever the phase. */
  detailed: boolean;
}

/** The table `fledge status` prints; verdict lines follow each canary that is (or just was) analysed. */
export const renderStatus = (views: CanaryView[], opts: RenderOptions): string => {
  if (views.length === 0) return 'No canaries found.';
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'WEIGHT', 'FAILED', 'ITERATIONS', 'SINCE'];
  const rows = views.map((v) => [
    ...(opts.allNamespaces ? [v.namespace] : []),
    v.name,
    v.phase || '(none yet)',
    weightCell(v),
    failedCell(v),
    iterationsCell(v),
    formatAge(v.lastTransitionTime, opts.nowMs),
  ]);
  const [head = '', ...lines] = table([header, ...rows]);
  const out = [head];
  views.forEach((v, i) => {
    out.push(lines[i] ?? '');
    if (v.invalid) out.push(`  invalid spec: ${v.invalid}`);
    if (v.checks.length > 0 && (opts.detailed || SHOW_CHECKS.has(v.phase))) out.push(...table(v.checks.map(verdictCells), '  '));
  });
  const only = views[0];
  if (opts.detailed && views.length === 1 && only) out.push('', ...details(only));
  return out.join('\n');
};

const details = (v: CanaryView): string[] => {
  const rows: string[][] = [];
  if (v.target) rows.push(['Target:', v.target]);
  const ceiling = v.maxWeight !== undefined ? `, max weight ${v.maxWeight}%` : '';
  rows.push(['Strategy:', `${v.strategy}${ceiling}`]);
  if (v.lastAppliedSpec) rows.push(['Revision:', `${v.lastAppliedSpec}${v.lastPromotedSpec === v.lastAppliedSpec ? ' (promoted)' : ''}`]);
  if (v.lastPromotedSpec && v.lastPromotedSpec !== v.lastAppliedSpec) rows.push(['Primary runs:', v.lastPromotedSpec]);
  if (v.message) rows.push(['Message:', v.message]);
  if (v.checks.length === 0) rows.push(['Last checks:', 'none recorded yet']);
  return table(rows);
};

/** What `--json` prints: the views as they are (stable field names, no rendering). */
export const statusJson = (views: CanaryView[], single: boolean): string => JSON.stringify(single ? views[0] : views, null, 2);
