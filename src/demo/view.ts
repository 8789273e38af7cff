/**
 * What `fledge demo` shows: a timeline a person can follow (steps, commits, deliveries, each canary
 * change with its weight bar and the checks against their thresholds, the alerts as Slack would show
 * them, a summary), or the same events as JSON lines for machines (`--json`).
 */
import { canaryView, verdictCells, weightBar } from '../cli/render-status.js';
import type { CheckVerdict } from '../engine/ports.js';
import type { KubeObject } from '../kube/api.js';
import type { SlackMessage } from './slack-receiver.js';
import { formatSlackMessage } from './slack-receiver.js';

export type DemoEvent =
  | { type: 'step'; message: string }
  | { type: 'process'; part: string; pid: number; url: string }
  | { type: 'commit'; version: string; sha: string; message: string }
  | { type: 'reconciled'; kustomization: string; ready: boolean; revision: string; message: string }
  | { type: 'canary'; name: string; phase: string; weight: number; failedChecks: number; threshold?: number }
  | { type: 'verdict'; canary: string; metric: string; ok: boolean; value?: number; message: string }
  | { type: 'alert'; message: SlackMessage }
  | { type: 'summary'; summary: unknown };

export interface DemoView {
  step(message: string): void;
  /** A process the demo started (it is stopped before the demo exits, Ctrl-C included). */
  process(part: string, pid: number, url: string): void;
  commit(version: string, sha: string, message: string): void;
  reconciled(kustomization: string, ready: boolean, revision: string, message: string): void;
  canary(obj: KubeObject): void;
  verdict(canary: string, v: CheckVerdict): void;
  alert(m: SlackMessage): void;
  summary(s: { ok: boolean; seconds: number; v2: { phase: string }; v3: { phase: string; weights: number[]; primaryImage: string } }): void;
}

/** Calls `emit` only for canary changes worth a line: phase, weight or failed checks moved. */
const canaryChanges = (emit: (e: Extract<DemoEvent, { type: 'canary' }>) => void) => {
  let last = '';
  return (obj: KubeObject) => {
    const v = canaryView(obj);
    const key = `${v.phase}|${v.canaryWeight}|${v.failedChecks}`;
    if (key === last || v.phase === '') return;
    last = key;
    emit({ type: 'canary', name: v.name, phase: v.phase, weight: v.canaryWeight, failedChecks: v.failedChecks, ...(v.threshold !== undefined ? { threshold: v.threshold } : {}) });
  };
};

export const jsonView = (write: (line: string) => void, now: () => number = Date.now): DemoView => {
  const start = now();
  const out = (e: DemoEvent) => write(JSON.stringify({ t: Math.round((now() - start) / 100) / 10, ...e }));
  return {
    step: (message) => out({ type: 'step', message }),
    process: (part, pid, url) => out({ type: 'process', part, pid, url }),
    commit: (version, sha, message) => out({ type: 'commit', version, sha, message }),
    reconciled: (kustomization, ready, revision, message) => out({ type: 'reconciled', kustomization, ready, revision, message }),
    canary: canaryChanges(out),
    verdict: (canary, v) => out({ type: 'verdict', canary, metric: v.metric, ok: v.ok, ...(v.value !== undefined ? { value: v.value } : {}), message: v.message }),
    alert: (message) => out({ type: 'alert', message }),
    summary: (summary) => out({ type: 'summary', summary }),
  };
};

const PHASE_MARK: Record<string, string> = { Succeeded: '✔', Failed: '✗', Progressing: '…', Initialized: '●' };

export const humanView = (write: (line: string) => void, now: () => number = Date.now): DemoView => {
  const start = now();
  const at = () => `${((now() - start) / 1000).toFixed(1).padStart(6)}s`;
  const line = (text: string) => write(`${at()}  ${text}`);
  // Verdicts arrive one by one within a step; they are printed together under the canary line.
  let pending: CheckVerdict[] = [];
  const flushVerdicts = () => {
    for (const v of pending) {
      const [verdict, metric, value, range] = verdictCells(v);
      line(`           ${verdict === 'ok' ? '✔' : verdict === 'wait' ? '…' : '✗'} ${metric.padEnd(22)} ${value.padEnd(10)} ${range}`);
    }
    pending = [];
  };
  return {
    step: (message) => write(`\n▶ ${message}`),
    process: (part, pid, url) => line(`${part} running at ${url} (pid ${pid})`),
    commit: (version, sha, message) => line(`git   commit ${sha}  ${version}: ${message}`),
    reconciled: (k, ready, revision, message) => {
      if (!ready || !/\b(created|configured|deleted)\b/.test(message)) {
        if (ready) return;
      }
      line(`flux  ${k.replace(/^Kustomization\//, '')} ${ready ? 'applied' : 'failed'} ${revision.replace(/^main@sha1:(.{7}).*/, 'main@$1')}  ${message.replace(/^Applied revision: \S+ /, '')}`);
    },
    canary: canaryChanges((e) => {
      flushVerdicts();
      const failed = e.threshold !== undefined ? `  failed checks ${e.failedChecks}/${e.threshold}` : '';
      line(`canary ${e.name} ${(PHASE_MARK[e.phase] ?? ' ')} ${e.phase.padEnd(12)} ${weightBar(e.weight)}${failed}`);
    }),
    verdict: (_canary, v) => {
      pending.push(v);
      if (pending.length >= 2) flushVerdicts();
    },
    alert: (m) => {
      flushVerdicts();
      line('slack alert received:');
      for (const text of formatSlackMessage(m).split('\n')) write(`           ${text}`);
    },
    summary: (s) => {
      flushVerdicts();
      write('');
      write(`${s.ok ? '✔' : '✗'} Demo ${s.ok ? 'finished' : 'did not finish as expected'} in ${s.seconds}s`);
      write(`  v2 (20% errors): ${s.v2.phase}${s.v2.phase === 'Failed' ? ', rolled back; the primary kept serving v1' : ''}`);
      write(`  v3 (healthy):    ${s.v3.phase}, canary weights ${s.v3.weights.join(' → ')}%, primary now runs ${s.v3.primaryImage}`);
    },
  };
};
