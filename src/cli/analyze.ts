/**
 * `fledge analyze`: a rehearsal of a canary's metric checks. Now: runs them once against the live
 * providers and prints each metric, source, query, value, range and verdict. With --from/--to:
 * replays them over a past window with range queries and prints what the analysis would have
 * decided at each step. Only reads objects (Canary, MetricTemplates, Secrets); never writes one.
 */
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { systemClock } from '../api/clock.js';
import type { Canary, CanaryMetric } from '../api/index.js';
import { DURATION_RULE, formatProblem, isFledgeError, parseCanary, parseDuration, routerOf } from '../api/index.js';
import { describeRange, errorVerdict, failure, judge } from '../analysis/checks.js';
import { replayAnalysis, stepTimes } from '../analysis/replay.js';
import type { ResolveDeps, ResolvedCheck } from '../analysis/resolve.js';
import { resolveCheck } from '../analysis/resolve.js';
import { compactQuery } from '../analysis/templates.js';
import type { CheckVerdict } from '../engine/ports.js';
import { ClientNodeKubeApi } from '../kube/client.js';
import { createMetricProvider } from '../../providers/metrics/index.js';
import type { Command } from './main.js';

const HELP = `Usage: fledge analyze --canary NAME [-n NS] [flags]

Runs the canary's metric checks now and prints, for each, the metric, the query as sent, the value,
the accepted range and the verdict. Reads the Canary, its MetricTemplates and their Secrets; changes
nothing. Exit code: 0 when no check failed, 1 when one did, 2 when the rehearsal could not run.

  --canary NAME          the Canary (required)
  -n, --namespace NS     its namespace (default default)
  --template NAME        only the checks that use this MetricTemplate
  --kubeconfig FILE      kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --metrics-server URL   Prometheus of built-in checks and inline queries (default http://prometheus:9090)
  --mesh-provider NAME   router of canaries without spec.provider (default istio)

Replay over a past window (range queries; Prometheus, and providers whose API allows it):
  --from TIME            start: RFC 3339 (2024-05-01T10:00:00Z), unix seconds, or now-1h
  --to TIME              end (default now)
  --step D               time between analysis steps (default the canary's analysis interval)
Each step prints the values and what the analysis would have decided; the last line says whether
the release would have been promoted or rolled back. The checks run at every step (the controller
skips them on the first, before traffic reaches the canary); webhooks and gates are not asked.
`;

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));

/** RFC 3339, unix seconds, `now`, or `now-<duration>`. */
export const parseTime = (text: string, nowMs: number): number => {
  if (text === 'now') return nowMs;
  const relative = /^now-(.+)$/.exec(text);
  if (relative) {
    const ago = parseDuration(relative[1] as string);
    if (ago === undefined) throw new Error(`"${text}": ${DURATION_RULE}`);
    return nowMs - ago;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`"${text}" is not a time (RFC 3339, unix seconds, now or now-1h)`);
  return ms;
};

/** One line saying what a verdict is. */
export const verdictLine = (v: CheckVerdict): string => {
  const range = `(range ${describeRange(v.thresholdRange)})`;
  if (v.ok) return `${v.metric}  PASS  value ${num(v.value ?? Number.NaN)}  ${range}`;
  if (v.wait) return `${v.metric}  WAIT  ${v.errorCode ?? ''}  ${range}: ${v.message}`;
  if (v.errorCode) return `${v.metric}  ERROR ${v.errorCode}  ${range}: ${v.message}`;
  return `${v.metric}  FAIL  value ${num(v.value ?? Number.NaN)}  ${range}: ${v.message}`;
};

interface Resolved {
  metric: CanaryMetric;
  check?: ResolvedCheck;
  /** Why the metric could not be resolved (as the controller's verdict would say). */
  error?: CheckVerdict;
}

const resolveAll = (canary: Canary, metrics: CanaryMetric[], deps: ResolveDeps): Promise<Resolved[]> =>
  Promise.all(
    metrics.map(async (metric): Promise<Resolved> => {
      try {
        return { metric, check: await resolveCheck(canary, metric, deps) };
      } catch (err) {
        return { metric, error: errorVerdict(metric, err) };
      }
    }),
  );

const runNow = async (canary: Canary, resolved: Resolved[], out: (line: string) => void): Promise<number> => {
  const verdicts = await Promise.all(
    resolved.map(async ({ metric, check, error }) => {
      if (!check) return { verdict: error as CheckVerdict, check };
      try {
        const value = await check.provider.runQuery(check.query, { intervalMs: metric.intervalMs });
        return { verdict: judge(metric, value, check.provider.type, check.query), check };
      } catch (err) {
        return { verdict: errorVerdict(metric, err, check), check };
      }
    }),
  );
  for (const { verdict, check } of verdicts) {
    out(verdictLine(verdict));
    if (check) out(`  source: ${check.source}`);
    if (verdict.query) out(`  query:  ${verdict.query}`);
  }
  const failed = verdicts.filter(({ verdict }) => !verdict.ok && !verdict.wait).length;
  const waiting = verdicts.filter(({ verdict }) => verdict.wait).length;
  const threshold = canary.spec.analysis.threshold;
  if (failed > 0) out(`\n${failed} of ${verdicts.length} checks failed: this step would count a failed check (threshold ${threshold}).`);
  else if (waiting > 0) out(`\nNo data yet for ${waiting} check(s): this step would wait without counting a failure.`);
  else out(`\nAll ${verdicts.length} checks passed: this step would advance.`);
  return failed > 0 ? 1 : 0;
};

const runReplay = async (canary: Canary, resolved: Resolved[], window: { fromMs: number; toMs: number; stepMs: number }, out: (line: string) => void): Promise<number> => {
  const unusable = resolved.filter((r) => !r.check || !r.check.provider.runRangeQuery);
  for (const r of unusable) {
    out(r.error ? verdictLine(r.error) : `${r.metric.name}: provider ${r.check?.provider.type ?? '?'} cannot replay a past window (no range queries)`);
  }
  if (unusable.length > 0) return 2;
  const times = stepTimes(window.fromMs, window.toMs, window.stepMs);
  const series = await Promise.all(
    resolved.map(async ({ metric, check }) => {
      const { provider, query } = check as ResolvedCheck;
      const points = await (provider.runRangeQuery as NonNullable<typeof provider.runRangeQuery>)(query, {
        startMs: window.fromMs,
        endMs: times.at(-1) ?? window.toMs,
        stepMs: window.stepMs,
      });
      // Points fall on start + k * step; keyed by second, as Prometheus reports them.
      const bySecond = new Map(points.map((p) => [Math.round(p.timeMs / 1000), p.value]));
      return { metric, check: check as ResolvedCheck, bySecond };
    }),
  );
  for (const { metric, check } of series) out(`${metric.name}: ${check.source}\n  query: ${compactQuery(check.query)}`);
  const result = replayAnalysis(canary.spec.analysis, times, (timeMs) =>
    series.map(({ metric, check, bySecond }) => {
      const value = bySecond.get(Math.round(timeMs / 1000));
      return value === undefined
        ? failure(metric, 'NoValues', `no value at ${iso(timeMs)}`, check.provider.type, check.query)
        : judge(metric, value, check.provider.type, check.query);
    }),
  );
  out('');
  for (const step of result.steps) {
    const values = step.verdicts.map((v) => `${v.metric}=${v.value === undefined ? (v.errorCode ?? '?') : num(v.value)}${v.ok ? '' : v.wait ? ' (wait)' : ' (fail)'}`);
    out(`${iso(step.timeMs)}  ${values.join('  ')}${values.length > 0 ? '  ' : ''}-> ${step.summary}`);
  }
  const last = result.steps.at(-1);
  const where = last ? ` at ${iso(last.timeMs)}` : '';
  if (result.outcome === 'promoted') out(`\nThe analysis would have promoted the canary${where}.`);
  else if (result.outcome === 'rolled back') out(`\nThe analysis would have rolled the canary back${where}.`);
  else out(`\nThe analysis would still be progressing at the end of the window (weight ${last?.canaryWeight ?? 0}, failed checks ${last?.failedChecks ?? 0}/${canary.spec.analysis.threshold}).`);
  return result.outcome === 'rolled back' ? 1 : 0;
};

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: "Rehearse a canary's metric checks now, or replay them over a past window",
  async run(args, env) {
    const { values } = parseArgs({
      args,
      options: {
        canary: { type: 'string' },
        namespace: { type: 'string', short: 'n', default: 'default' },
        template: { type: 'string' },
        kubeconfig: { type: 'string' },
        'metrics-server': { type: 'string', default: 'http://prometheus:9090' },
        'mesh-provider': { type: 'string', default: 'istio' },
        from: { type: 'string' },
        to: { type: 'string' },
        step: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const out = (line: string): void => console.log(line);
    const fail = (message: string): number => {
      console.error(`fledge analyze: ${message}`);
      return 2;
    };
    if (!values.canary) return fail('--canary is required');
    if ((values.to !== undefined || values.step !== undefined) && values.from === undefined) return fail('--to and --step need --from');

    const kubeConfig = new k8s.KubeConfig();
    const file = values.kubeconfig ?? env.KUBECONFIG;
    if (file) kubeConfig.loadFromFile(file);
    else kubeConfig.loadFromDefault();
    const kube = new ClientNodeKubeApi(kubeConfig);
    const meshProvider = values['mesh-provider'];
    const ref = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', namespace: values.namespace, name: values.canary };
    const object = await kube.get(ref);
    if (!object) return fail(`Canary ${values.namespace}/${values.canary} not found`);
    let canary: Canary;
    try {
      canary = parseCanary(object, { meshProvider });
    } catch (err) {
      if (isFledgeError(err, 'InvalidSpec')) return fail(err.problems.map(formatProblem).join('; ') || err.message);
      throw err;
    }
    const metrics = canary.spec.analysis.metrics.filter((m) => values.template === undefined || m.templateRef?.name === values.template);
    if (metrics.length === 0) return fail(values.template ? `no check of the canary uses MetricTemplate ${values.template}` : 'the canary has no metric checks');

    const clock = systemClock();
    const deps: ResolveDeps = {
      kube,
      createProvider: (config) => createMetricProvider(config, { clock }),
      metricsServer: values['metrics-server'],
      meshProvider,
    };
    const resolved = await resolveAll(canary, metrics, deps);
    const router = routerOf(canary, meshProvider) ?? 'kubernetes';
    try {
      if (values.from === undefined) {
        out(`Canary ${canary.metadata.namespace}/${canary.metadata.name} (router ${router}): ${metrics.length} check(s) at ${iso(clock.now())}\n`);
        return await runNow(canary, resolved, out);
      }
      const nowMs = clock.now();
      const stepMs = values.step === undefined ? canary.spec.analysis.intervalMs : parseDuration(values.step);
      if (stepMs === undefined || stepMs <= 0) return fail(`--step: ${DURATION_RULE}`);
      const window = { fromMs: parseTime(values.from, nowMs), toMs: parseTime(values.to ?? 'now', nowMs), stepMs };
      if (window.toMs < window.fromMs) return fail('--to must not be before --from');
      out(`Canary ${canary.metadata.namespace}/${canary.metadata.name} (router ${router}): replay from ${iso(window.fromMs)} to ${iso(window.toMs)} every ${num(stepMs / 1000)}s\n`);
      return await runReplay(canary, resolved, window, out);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
  },
};
