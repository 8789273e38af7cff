/**
 * The controller's Prometheus metrics, with Flagger's names and labels so its dashboards keep working.
 * A small hand-written registry for now (text exposition format 0.0.4); the alerts and observability
 * issue replaces it with prom-client and adds the rest of Flagger's set.
 */
import type { CanaryPhase } from '../api/index.js';

const STATUS_VALUE: Partial<Record<CanaryPhase, number>> = { Succeeded: 1, Initialized: 1, Failed: 2 };

export class ControllerMetrics {
  private readonly status = new Map<string, number>();
  private readonly weight = new Map<string, { primary: number; canary: number }>();
  private readonly successes = new Map<string, number>();
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly version: string,
    private readonly meshProvider: string,
  ) {}

  /** flagger_canary_status: 0 running, 1 successful (or initialized), 2 failed. */
  setPhase(namespace: string, name: string, phase: CanaryPhase | undefined): void {
    this.status.set(`${namespace}/${name}`, (phase && STATUS_VALUE[phase]) ?? 0);
  }

  setWeight(namespace: string, workload: string, primary: number, canary: number): void {
    this.weight.set(`${namespace}/${workload}`, { primary, canary });
  }

  countResult(namespace: string, name: string, ok: boolean): void {
    const m = ok ? this.successes : this.failures;
    const k = `${namespace}/${name}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  forget(namespace: string, name: string): void {
    this.status.delete(`${namespace}/${name}`);
  }

  render(): string {
    const lines: string[] = [];
    const split = (k: string): [string, string] => {
      const i = k.indexOf('/');
      return [k.slice(0, i), k.slice(i + 1)];
    };
    const q = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    lines.push('# HELP flagger_info Flagger version and mesh provider information', '# TYPE flagger_info gauge');
    lines.push(`flagger_info{mesh_provider="${q(this.meshProvider)}",version="${q(this.version)}"} 1`);
    const perNs = new Map<string, number>();
    for (const k of this.status.keys()) perNs.set(split(k)[0], (perNs.get(split(k)[0]) ?? 0) + 1);
    lines.push('# HELP flagger_canary_total Total number of canary object', '# TYPE flagger_canary_total gauge');
    for (const [ns, n] of perNs) lines.push(`flagger_canary_total{namespace="${q(ns)}"} ${n}`);
    lines.push('# HELP flagger_canary_status Last canary analysis result', '# TYPE flagger_canary_status gauge');
    for (const [k, v] of this.status) {
      const [ns, name] = split(k);
      lines.push(`flagger_canary_status{name="${q(name)}",namespace="${q(ns)}"} ${v}`);
    }
    lines.push('# HELP flagger_canary_weight The virtual service destination weight current value', '# TYPE flagger_canary_weight gauge');
    for (const [k, w] of this.weight) {
      const [ns, workload] = split(k);
      lines.push(`flagger_canary_weight{namespace="${q(ns)}",workload="${q(workload)}-primary"} ${w.primary}`);
      lines.push(`flagger_canary_weight{namespace="${q(ns)}",workload="${q(workload)}"} ${w.canary}`);
    }
    for (const [metric, help, map] of [
      ['flagger_canary_successes_total', 'Total number of canary successful deployments', this.successes],
      ['flagger_canary_failures_total', 'Total number of canary failed deployments', this.failures],
    ] as const) {
      lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`);
      for (const [k, v] of map) {
        const [ns, name] = split(k);
        lines.push(`${metric}{name="${q(name)}",namespace="${q(ns)}"} ${v}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}
