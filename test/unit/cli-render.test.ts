/**
 * The operator CLI's pure parts: the status view and table (weight bar, failed checks against the
 * threshold, iterations, last verdicts), and the report built from Events (weights and failed-check
 * values read back out of the page's SVG).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/api.js';
import { canaryView, formatAge, renderStatus, statusJson, verdictCells, weightBar } from '../../src/cli/render-status.js';
import type { ReportEvent } from '../../src/cli/report-model.js';
import { buildReport, canaryEvents, failedCheckOf, weightOf } from '../../src/cli/report-model.js';
import { escapeHtml, metricAxis, progressAxis, renderReportHtml, valueAt } from '../../src/cli/render-report.js';
import { gatedHooks } from '../../src/cli/promote.js';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const at = (s: number): string => new Date(NOW - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const canary = (status: Record<string, unknown>, analysis: Record<string, unknown> = {}, name = 'podinfo'): KubeObject => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name, namespace: 'test', uid: 'uid-1' },
  spec: {
    provider: 'istio',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    service: { port: 9898 },
    analysis: {
      interval: '1m',
      threshold: 5,
      stepWeight: 10,
      maxWeight: 50,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' },
        { name: 'request-duration', thresholdRange: { max: 500 }, interval: '1m' },
      ],
      ...analysis,
    },
  },
  status,
});

const progressing = canary({
  phase: 'Progressing',
  canaryWeight: 30,
  failedChecks: 2,
  iterations: 0,
  lastAppliedSpec: 'abc123',
  lastPromotedSpec: 'old999',
  lastTransitionTime: at(150),
  conditions: [{ type: 'Promoted', status: 'Unknown', reason: 'Progressing', message: 'New revision detected, progressing canary analysis.' }],
  lastChecks: [
    { metric: 'request-success-rate', ok: true, value: 99.5, thresholdRange: { min: 99 }, message: 'ok' },
    { metric: 'request-duration', ok: false, value: 742.5, thresholdRange: { max: 500 }, message: 'request-duration 742.5 > 500' },
  ],
});

test('the weight bar has one mark per tenth and the percentage', () => {
  assert.equal(weightBar(50), '[#####-----]  50%');
  assert.equal(weightBar(0), '[----------]   0%');
  assert.equal(weightBar(100), '[##########] 100%');
  assert.equal(weightBar(25), '[###-------]  25%', 'rounded to the nearest mark');
  assert.equal(weightBar(140), '[##########] 100%', 'clamped');
});

test('ages read like kubectl: seconds, minutes, hours, days; unknown is "-"', () => {
  assert.equal(formatAge(at(45), NOW), '45s');
  assert.equal(formatAge(at(150), NOW), '2m');
  assert.equal(formatAge(at(3 * 3600), NOW), '3h');
  assert.equal(formatAge(at(5 * 86400), NOW), '5d');
  assert.equal(formatAge(undefined, NOW), '-');
});

test('a view carries phase, weight, failed checks against the threshold and the last verdicts', () => {
  const v = canaryView(progressing);
  assert.equal(v.phase, 'Progressing');
  assert.equal(v.canaryWeight, 30);
  assert.equal(v.maxWeight, 50);
  assert.deepEqual([v.failedChecks, v.threshold], [2, 5]);
  assert.equal(v.iterationsTotal, undefined, 'the canary strategy has no iterations to count');
  assert.deepEqual(v.checks.map((c) => [c.metric, c.value, c.ok]), [['request-success-rate', 99.5, true], ['request-duration', 742.5, false]]);
  assert.deepEqual(verdictCells(v.checks[1]!), ['fail', 'request-duration', '742.5', '(max 500)']);
});

test('the table: one row per canary, its verdicts below while it is analysed', () => {
  const text = renderStatus([canaryView(progressing)], { nowMs: NOW, allNamespaces: false, detailed: false });
  const lines = text.split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+PHASE\s+WEIGHT\s+FAILED\s+ITERATIONS\s+SINCE$/);
  assert.match(lines[1] ?? '', /^podinfo\s+Progressing\s+\[###-------\] {2}30%\s+2\/5\s+-\s+2m$/);
  assert.match(lines[2] ?? '', /^ {2}ok\s+request-success-rate\s+99\.5\s+\(min 99\)$/);
  assert.match(lines[3] ?? '', /^ {2}fail\s+request-duration\s+742\.5\s+\(max 500\)$/);
  assert.equal(lines.length, 4);
});

test('succeeded canaries keep to one line in a list; -A adds a NAMESPACE column; NAME adds details', () => {
  const done = canary({ phase: 'Succeeded', canaryWeight: 0, failedChecks: 0, lastChecks: [{ metric: 'x', ok: true, value: 1, thresholdRange: {}, message: '' }] }, {}, 'api');
  const list = renderStatus([canaryView(done), canaryView(progressing)], { nowMs: NOW, allNamespaces: true, detailed: false }).split('\n');
  assert.match(list[0] ?? '', /^NAMESPACE\s+NAME\s+PHASE/);
  assert.match(list[1] ?? '', /^test\s+api\s+Succeeded\s+\[----------\] {3}0%\s+0\/5/);
  assert.match(list[2] ?? '', /^test\s+podinfo\s+Progressing/, 'no verdict lines under a succeeded canary');
  const one = renderStatus([canaryView(progressing)], { nowMs: NOW, allNamespaces: false, detailed: true });
  assert.match(one, /^Target:\s+Deployment\/podinfo$/m);
  assert.match(one, /^Revision:\s+abc123$/m);
  assert.match(one, /^Primary runs:\s+old999$/m);
  assert.match(one, /^Message:\s+New revision detected, progressing canary analysis\.$/m);
});

test('A/B and blue/green canaries show iterations done of the total', () => {
  const bg = canaryView(canary({ phase: 'Progressing', iterations: 3 }, { iterations: 10, stepWeight: undefined, maxWeight: undefined }));
  assert.equal(bg.strategy, 'bluegreen');
  assert.match(renderStatus([bg], { nowMs: NOW, allNamespaces: false, detailed: false }), /\s3\/10\s/);
});

test('an invalid canary still renders from its raw status, with the reason', () => {
  const broken = canary({ phase: 'Failed', failedChecks: 1 }, { stepWeight: 500 });
  const v = canaryView(broken);
  assert.equal(v.strategy, 'unknown');
  assert.match(v.invalid ?? '', /stepWeight/);
  assert.match(renderStatus([v], { nowMs: NOW, allNamespaces: false, detailed: false }), /^ {2}invalid spec: .*stepWeight/m);
});

test('verdicts without a value say why; lastFailedChecks stands in when lastChecks is absent', () => {
  const v = canaryView(canary({ phase: 'Progressing', lastFailedChecks: [{ metric: 'errors', ok: false, errorCode: 'NoValues', thresholdRange: { max: 1 }, message: 'no values found' }] }));
  assert.deepEqual(verdictCells(v.checks[0]!), ['fail', 'errors', 'no value (NoValues: no values found)', '(max 1)']);
});

test('--json prints the view fields; one NAME prints one object', () => {
  const parsed = JSON.parse(statusJson([canaryView(progressing)], true)) as Record<string, unknown>;
  assert.equal(parsed.phase, 'Progressing');
  assert.equal(parsed.canaryWeight, 30);
  assert.equal((parsed.checks as unknown[]).length, 2);
  assert.ok(Array.isArray(JSON.parse(statusJson([], false))));
  assert.equal(renderStatus([], { nowMs: NOW, allNamespaces: false, detailed: false }), 'No canaries found.');
});

test('promote recognises confirm webhooks served on /gate/check, and only those', () => {
  const withHooks = (webhooks: unknown[]): KubeObject => canary({}, { webhooks });
  assert.deepEqual(gatedHooks(withHooks([{ name: 'g', type: 'confirm-promotion', url: 'http://fledge.fledge-system/gate/check' }])).map((h) => h.name), ['g']);
  assert.deepEqual(gatedHooks(withHooks([{ name: 'g', type: 'confirm-rollout', url: 'http://lb/prefix/gate/check/' }])).length, 1);
  assert.deepEqual(gatedHooks(withHooks([{ name: 'a', type: 'confirm-promotion', url: 'http://x/gate/approve' }])), []);
  assert.deepEqual(gatedHooks(withHooks([{ name: 'r', url: 'http://x/gate/check' }])), [], 'an untyped hook is a rollout hook');
  assert.deepEqual(gatedHooks(withHooks([{ name: 'rb', type: 'rollback', url: 'http://x/gate/check' }])), []);
});

// --- report ---------------------------------------------------------------------------------

const ev = (sAgo: number, message: string, type = 'Normal', extra: Partial<ReportEvent> = {}): ReportEvent => ({
  timeMs: NOW - sAgo * 1000,
  firstMs: NOW - sAgo * 1000,
  count: 1,
  type,
  reason: 'Synced',
  message,
  seq: 0,
  ...extra,
});

/** A rolled-back rollout: 10, 20, 30, two failed checks, rollback; plus one event of an older rollout. */
const rolledBack = (): ReportEvent[] => [
  ev(3600, 'New revision detected! Scaling up podinfo.test', 'Normal', { firstMs: NOW - 7200 * 1000, count: 2, timeMs: NOW - 600 * 1000 }),
  ev(3000, 'Advance podinfo.test canary weight 40'),
  ev(540, 'Starting canary analysis for podinfo.test'),
  ev(480, 'Advance podinfo.test canary weight 10'),
  ev(420, 'Advance podinfo.test canary weight 20'),
  ev(360, 'Advance podinfo.test canary weight 30'),
  ev(300, 'Halt podinfo.test advancement request-duration 742.50 > 500', 'Warning'),
  ev(240, 'Halt podinfo.test advancement request-duration 910.00 > 500', 'Warning'),
  ev(180, 'Halt advancement no values found for custom metric: request-success-rate: no values', 'Warning'),
  ev(120, 'Rolling back podinfo.test failed checks threshold reached 3', 'Warning'),
  ev(119, 'Canary failed! Scaling down podinfo.test', 'Warning'),
].sort((a, b) => a.timeMs - b.timeMs);

const failedCanary = canary({
  phase: 'Failed',
  canaryWeight: 0,
  failedChecks: 3,
  lastAppliedSpec: 'abc123',
  lastChecks: [{ metric: 'request-duration', ok: false, value: 910, thresholdRange: { max: 500 }, message: 'request-duration 910 > 500' }],
});

test('event messages map to weights and failed-check values', () => {
  assert.equal(weightOf('Advance podinfo.test canary weight 30'), 30);
  assert.equal(weightOf('Advance podinfo.test primary weight 70'), 30);
  assert.equal(weightOf('Routing all traffic to canary'), 100);
  assert.equal(weightOf('Canary failed! Scaling down podinfo.test'), 0);
  assert.equal(weightOf('Starting canary analysis for podinfo.test'), undefined);
  assert.deepEqual(failedCheckOf('Halt podinfo.test advancement request-duration 742.50 > 500'), { metric: 'request-duration', value: 742.5, note: 'Halt podinfo.test advancement request-duration 742.50 > 500' });
  assert.equal(failedCheckOf('Halt podinfo.test advancement waiting for approval gate'), undefined);
  assert.equal(failedCheckOf('Metric query failed for errors: timeout')?.metric, 'errors');
});

test('the report covers the last rollout only, with its outcome and what is missing', () => {
  const report = buildReport(failedCanary, rolledBack(), NOW);
  assert.equal(report.startMs, NOW - 600 * 1000, 'the last "New revision detected", not the first');
  assert.equal(report.outcome, 'rolled back');
  assert.deepEqual(report.progress.points.map((p) => p.value), [0, 10, 20, 30, 0]);
  assert.ok(!report.timeline.some((e) => e.message.endsWith('weight 40')), 'an older rollout is left out');
  const duration = report.metrics.find((m) => m.metric === 'request-duration');
  assert.deepEqual(duration?.points.map((p) => [p.value, p.ok, p.timeMs === undefined]), [[742.5, false, false], [910, false, false], [910, false, true]]);
  assert.deepEqual(report.metrics.find((m) => m.metric === 'request-success-rate')?.points.map((p) => p.value), [undefined]);
  assert.ok(report.missing.some((m) => /Values of passing checks are not recorded/.test(m)));
  assert.ok(report.missing.some((m) => /fledge analyze --canary podinfo -n test/.test(m)));
});

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

test('the page is self-contained and its SVG polyline draws exactly the weights of the events', () => {
  const report = buildReport(failedCanary, rolledBack(), NOW);
  const html = renderReportHtml(report);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script|<link|src=|href=|@import|url\(/i, 'no scripts, no external assets');
  const polyline = /<polyline class="progress"[^>]*>/.exec(html)?.[0] ?? '';
  assert.equal(attr(polyline, 'data-values'), '0,10,20,30,0');
  const vertices = (attr(polyline, 'points') ?? '').split(' ').map((p) => p.split(',').map(Number) as [number, number]);
  const axis = progressAxis(report);
  // A step line: each point after the first adds a vertex at the old value, then one at the new.
  const weights = vertices.map(([, y]) => Math.round(valueAt(axis, y))).filter((w, i, all) => i === 0 || w !== all[i - 1]);
  assert.deepEqual(weights, [0, 10, 20, 30, 0]);
  const xs = vertices.map(([x]) => x);
  assert.deepEqual(xs, [...xs].sort((a, b) => a - b), 'time runs left to right');

  const durationSvg = /<figcaption>request-duration \(accepted: max 500\)<\/figcaption><svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
  const duration = report.metrics.find((m) => m.metric === 'request-duration');
  const daxis = metricAxis(report, duration!)!;
  const circles = [...durationSvg.matchAll(/<circle class="([^"]+)" data-value="([^"]+)" cx="[^"]+" cy="([^"]+)"/g)];
  assert.deepEqual(circles.map((m) => [m[1], Number(m[2])]), [['fail', 742.5], ['fail', 910], ['fail last', 910]]);
  for (const m of circles) assert.ok(Math.abs(valueAt(daxis, Number(m[3])) - Number(m[2])) < 1, 'each circle sits at its value');
  const threshold = /<line class="threshold" data-max="500"[^>]*y1="([^"]+)"/.exec(durationSvg);
  assert.ok(threshold && Math.abs(valueAt(daxis, Number(threshold[1])) - 500) < 1, 'the max line sits at 500');
  assert.match(html, /What this page cannot show/);
});

test('a retry in the same second as the rollback it follows: write order splits the rollouts, the retry request opens the new one', () => {
  const t = 60;
  const events = [
    ev(300, 'New revision detected! Scaling up podinfo.test', 'Normal', { count: 2, firstMs: NOW - 300_000, timeMs: NOW - t * 1000, seq: 40 }),
    ev(240, 'Advance podinfo.test canary weight 10', 'Normal', { seq: 11 }),
    ev(180, 'Advance podinfo.test canary weight 20', 'Normal', { seq: 12 }),
    ev(t, 'Rollback requested by operator, rolling back podinfo.test', 'Warning', { seq: 20 }),
    ev(t, 'Canary failed! Scaling down podinfo.test', 'Warning', { seq: 21 }),
    ev(t, 'Analysis retry requested with fledge retry for revision abc', 'Normal', { reason: 'OperatorRequest', seq: 30 }),
  ];
  const report = buildReport(canary({ phase: 'Progressing', canaryWeight: 0 }), events, NOW);
  assert.deepEqual(report.timeline.map((e) => e.seq), [30, 40]);
  assert.deepEqual(report.progress.points.map((p) => p.value), [0, 0], 'the restart, then the status now');
  assert.equal(report.outcome, 'in progress');
});

test('a report with no events says that no time series can be drawn, and text is escaped', () => {
  const report = buildReport(canary({ phase: 'Succeeded' }, {}, 'a<b'), [], NOW);
  assert.equal(report.outcome, 'promoted');
  assert.ok(report.missing.some((m) => /no Events left/.test(m)));
  const html = renderReportHtml(report);
  assert.match(html, /No event of this rollout sets a traffic weight/);
  assert.ok(html.includes('test/a&lt;b') && !html.includes('test/a<b'));
  assert.equal(escapeHtml(`"<&>'`), '&quot;&lt;&amp;&gt;&#39;');
});

test('events are matched to the canary by kind, name and uid, and read with their times and counts', () => {
  const event = (name: string, uid: string | undefined, message: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.x`, namespace: 'test', resourceVersion: '17' },
    involvedObject: { kind: 'Canary', name, ...(uid ? { uid } : {}) },
    type: 'Normal',
    reason: 'Synced',
    message,
    firstTimestamp: at(100),
    lastTimestamp: at(50),
    count: 3,
  });
  const events = canaryEvents([event('podinfo', 'uid-1', 'mine'), event('podinfo', 'uid-0', 'of a deleted namesake'), event('other', undefined, 'not mine'), event('podinfo', undefined, 'no uid')], progressing);
  assert.deepEqual(events.map((e) => e.message), ['mine', 'no uid']);
  assert.deepEqual([events[0]?.timeMs, events[0]?.firstMs, events[0]?.count, events[0]?.seq], [NOW - 50_000, NOW - 100_000, 3, 17]);
});
