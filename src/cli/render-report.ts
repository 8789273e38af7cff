/**
 * The `fledge report` page, pure: one self-contained HTML document (inline CSS and SVG, no scripts,
 * no external assets) with the rollout's progress over time, each metric's recorded values against
 * its accepted range, the events, and what the cluster did not record.
 */
import type { ThresholdRange } from '../api/index.js';
import { formatRange, weightBar } from './render-status.js';
import type { MetricSeries, RolloutReport, SeriesPoint } from './report-model.js';

const W = 760;
const H = 240;
const M = { l: 56, r: 28, t: 16, b: 36 };

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const r1 = (n: number): string => String(Math.round(n * 10) / 10);
const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const clock = (ms: number): string => iso(ms).slice(11, 19);

export interface Axis {
  t0: number;
  t1: number;
  v0: number;
  v1: number;
}

export const xOf = (a: Axis, t: number): number => M.l + ((t - a.t0) / Math.max(1, a.t1 - a.t0)) * (W - M.l - M.r);
export const yOf = (a: Axis, v: number): number => H - M.b - ((v - a.v0) / (a.v1 - a.v0 || 1)) * (H - M.t - M.b);
/** The value a y coordinate stands for (tests read the charts back with it). */
export const valueAt = (a: Axis, y: number): number => a.v0 + ((H - M.b - y) / (H - M.t - M.b)) * (a.v1 - a.v0 || 1);

const frame = (a: Axis, yTicks: number[], unit: string): string => {
  const lines: string[] = [
    `<line class="axis" x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}"/>`,
    `<line class="axis" x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}"/>`,
  ];
  for (const v of yTicks) {
    const y = r1(yOf(a, v));
    lines.push(`<line class="grid" x1="${M.l}" y1="${y}" x2="${W - M.r}" y2="${y}"/>`, `<text class="tick" x="${M.l - 6}" y="${y}" text-anchor="end" dy="4">${escapeHtml(num(v))}${unit}</text>`);
  }
  for (const t of [a.t0, (a.t0 + a.t1) / 2, a.t1]) {
    lines.push(`<text class="tick" x="${r1(xOf(a, t))}" y="${H - M.b + 16}" text-anchor="middle">${clock(t)}</text>`);
  }
  return lines.join('');
};

const ticks = (v0: number, v1: number, n = 4): number[] => Array.from({ length: n + 1 }, (_, i) => Number((v0 + ((v1 - v0) * i) / n).toPrecision(4)));

/** Step-line vertices: a value holds until the next point changes it. */
export const stepPoints = (a: Axis, points: SeriesPoint[]): string => {
  const out: string[] = [];
  points.forEach((p, i) => {
    const x = r1(xOf(a, p.timeMs));
    const prev = points[i - 1];
    if (prev) out.push(`${x},${r1(yOf(a, prev.value))}`);
    out.push(`${x},${r1(yOf(a, p.value))}`);
  });
  return out.join(' ');
};

export const timeAxis = (report: RolloutReport): Pick<Axis, 't0' | 't1'> => {
  const first = report.startMs ?? Math.min(report.endMs, ...report.progress.points.map((p) => p.timeMs), ...report.timeline.map((e) => e.timeMs));
  return { t0: first, t1: Math.max(report.endMs, first + 1000) };
};

export const progressAxis = (report: RolloutReport): Axis => ({ ...timeAxis(report), v0: 0, v1: report.progress.max });

const progressChart = (report: RolloutReport): string => {
  const { kind, points, max } = report.progress;
  if (points.length === 0) return '<p class="note">No event of this rollout sets a traffic weight or iteration: nothing to draw.</p>';
  const a = progressAxis(report);
  const title = kind === 'weight' ? 'Canary weight (% of traffic)' : `Iterations done (of ${max})`;
  const dots = points
    .map((p) => `<circle class="step" cx="${r1(xOf(a, p.timeMs))}" cy="${r1(yOf(a, p.value))}" r="3"><title>${escapeHtml(`${iso(p.timeMs)}  ${num(p.value)}${kind === 'weight' ? '%' : ''}: ${p.label}`)}</title></circle>`)
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${frame(a, ticks(0, max), kind === 'weight' ? '%' : '')}<polyline class="progress" data-values="${points.map((p) => num(p.value)).join(',')}" points="${stepPoints(a, points)}"/>${dots}</svg></figure>`;
};

/** The value axis of a metric: its recorded values and bounds, with some room around them. */
export const metricAxis = (report: RolloutReport, s: MetricSeries): Axis | undefined => {
  const values = [...s.points.flatMap((p) => (p.value !== undefined ? [p.value] : [])), ...[s.range.min, s.range.max].filter((v): v is number => v !== undefined)];
  if (values.length === 0) return undefined;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = hi === lo ? Math.max(1, Math.abs(hi) * 0.1) : (hi - lo) * 0.15;
  return { ...timeAxis(report), v0: lo - pad, v1: hi + pad };
};

const band = (a: Axis, range: ThresholdRange): string => {
  const top = range.max !== undefined ? yOf(a, range.max) : M.t;
  const bottom = range.min !== undefined ? yOf(a, range.min) : H - M.b;
  const lines = [`<rect class="accepted" x="${M.l}" y="${r1(top)}" width="${W - M.l - M.r}" height="${r1(Math.max(0, bottom - top))}"/>`];
  for (const [label, v] of [['min', range.min], ['max', range.max]] as const) {
    if (v === undefined) continue;
    const y = r1(yOf(a, v));
    lines.push(`<line class="threshold" data-${label}="${num(v)}" x1="${M.l}" y1="${y}" x2="${W - M.r}" y2="${y}"/><text class="threshold-label" x="${W - M.r}" y="${y}" dy="-4" text-anchor="end">${label} ${escapeHtml(num(v))}</text>`);
  }
  return lines.join('');
};

const metricChart = (report: RolloutReport, s: MetricSeries): string => {
  const caption = `${s.metric} (accepted: ${formatRange(s.range)})`;
  const a = metricAxis(report, s);
  if (!a) return `<figure><figcaption>${escapeHtml(caption)}</figcaption><p class="note">No value of this metric was recorded during the rollout.</p></figure>`;
  const marks = s.points
    .map((p) => {
      const x = r1(p.timeMs !== undefined ? xOf(a, p.timeMs) : W - M.r);
      const when = p.timeMs !== undefined ? iso(p.timeMs) : 'last step (time not recorded)';
      const title = `<title>${escapeHtml(`${when}  ${p.value !== undefined ? num(p.value) : 'no value'} ${p.ok ? 'ok' : 'fail'}: ${p.note}`)}</title>`;
      const cls = `${p.ok ? 'ok' : 'fail'}${p.timeMs === undefined ? ' last' : ''}`;
      if (p.value === undefined) return `<text class="${cls} novalue" x="${x}" y="${H - M.b - 4}" text-anchor="middle">×${title}</text>`;
      return `<circle class="${cls}" data-value="${num(p.value)}" cx="${x}" cy="${r1(yOf(a, p.value))}" r="4">${title}</circle>`;
    })
    .join('');
  return `<figure><figcaption>${escapeHtml(caption)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(caption)}">${band(a, s.range)}${frame(a, ticks(a.v0, a.v1), '')}${marks}</svg></figure>`;
};

const summary = (report: RolloutReport): string => {
  const c = report.canary;
  const rows: Array<[string, string]> = [
    ['Canary', `${c.namespace}/${c.name}`],
    ['Phase', c.phase || '(none yet)'],
    ['Outcome of the last rollout', report.outcome],
    ['Strategy', c.strategy + (c.maxWeight !== undefined ? `, max weight ${c.maxWeight}%` : '') + (c.iterationsTotal ? `, ${c.iterationsTotal} iterations` : '')],
    ['Target', c.target ?? '?'],
    ['Revision', c.lastAppliedSpec ?? '?'],
    ['Weight now', weightBar(c.canaryWeight)],
    ['Failed checks', c.threshold !== undefined ? `${c.failedChecks}/${c.threshold}` : String(c.failedChecks)],
    ['Started', report.startMs !== undefined ? iso(report.startMs) : 'unknown (see below)'],
    [report.outcome === 'in progress' ? 'Report time' : 'Ended', iso(report.endMs)],
  ];
  if (c.message) rows.push(['Message', c.message]);
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
};

const timelineTable = (report: RolloutReport): string => {
  if (report.timeline.length === 0) return '<p class="note">No events.</p>';
  const rows = report.timeline.map(
    (e) =>
      `<tr class="${e.type === 'Warning' ? 'warning' : 'normal'}"><td>${iso(e.timeMs)}</td><td>${escapeHtml(e.type)}</td><td>${escapeHtml(e.reason)}</td><td>${escapeHtml(e.message)}</td><td>${e.count > 1 ? `×${e.count} (first ${iso(e.firstMs)})` : ''}</td></tr>`,
  );
  return `<table class="events"><thead><tr><th>Last seen</th><th>Type</th><th>Reason</th><th>Message</th><th>Repeats</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
};

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:980px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}th,td{padding:3px 10px;text-align:left;vertical-align:top;border-bottom:1px solid #e3e6eb}
.summary th{color:#555;font-weight:600}.events tr.warning td{color:#9a3412}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}
.chart{background:#fafbfc;border:1px solid #e3e6eb}
.axis{stroke:#444}.grid{stroke:#e3e6eb}.tick,.threshold-label{font-size:11px;fill:#555}
.progress{fill:none;stroke:#2563eb;stroke-width:2}.step{fill:#2563eb}
.accepted{fill:#16a34a;opacity:.08}.threshold{stroke:#16a34a;stroke-dasharray:5 4}
circle.ok{fill:#16a34a}circle.fail{fill:#dc2626}circle.last{stroke:#111;stroke-width:1.5}
text.novalue{font-size:16px}text.novalue.fail{fill:#dc2626}
.note,.missing li{color:#555}`;

export const renderReportHtml = (report: RolloutReport): string => {
  const c = report.canary;
  const title = `Rollout report: ${c.namespace}/${c.name}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Generated ${iso(report.generatedMs)} by fledge report from the Canary's status and Events.</p>
${summary(report)}
<h2>Progress</h2>
${progressChart(report)}
<h2>Metrics</h2>
${report.metrics.length > 0 ? report.metrics.map((s) => metricChart(report, s)).join('\n') : '<p class="note">The canary has no metric checks.</p>'}
<h2>What this page cannot show</h2>
<ul class="missing">${report.missing.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>
<h2>Events</h2>
${timelineTable(report)}
</body>
</html>
`;
};
