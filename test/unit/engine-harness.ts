/**
 * An in-memory world for the rollout engine: a RolloutPorts implementation that keeps the Canary
 * status, the routes, the workloads' readiness and the webhooks' answers in memory and records every
 * call. Each tick rebuilds the Canary from the stored (JSON) status, as a restarted controller would.
 */
import { parseCanary } from '../../src/api/index.js';
import type { Canary, CanaryPhase, WebhookType } from '../../src/api/index.js';
import { advance } from '../../src/engine/index.js';
import type { CheckVerdict, Readiness, RolloutPorts, Routes, StatusUpdate, TickOutcome } from '../../src/engine/index.js';

export interface HookCall {
  type: WebhookType;
  phase: CanaryPhase;
  checksum: string | undefined;
}

export interface TickTrace {
  phase: string | undefined;
  weight: number;
  routes: string;
  failedChecks: number;
  iterations: number;
}

type JsonRecord = Record<string, unknown>;

const READY: Readiness = { ready: true, retriable: true, message: 'ready' };

export const passing = (): CheckVerdict[] => [
  { metric: 'request-success-rate', ok: true, value: 100, thresholdRange: { min: 99 }, message: 'ok' },
  { metric: 'request-duration', ok: true, value: 100, thresholdRange: { max: 500 }, message: 'ok' },
];

/** The default canary of SCENARIOS.md, with `analysis` and `spec` overrides. */
export const manifest = (analysis: JsonRecord = {}, spec: JsonRecord = {}): JsonRecord => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: 'podinfo', namespace: 'default' },
  spec: {
    provider: 'istio',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    service: { port: 9898 },
    analysis: {
      interval: '1m',
      threshold: 10,
      stepWeight: 10,
      maxWeight: 50,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' },
        { name: 'request-duration', thresholdRange: { max: 500 }, interval: '1m' },
      ],
      ...analysis,
    },
    ...spec,
  },
});

export const hook = (name: string, type: WebhookType, extra: JsonRecord = {}): JsonRecord => ({
  name,
  type,
  url: `http://loadtester.default/${name}`,
  ...extra,
});

export class FakeWorld implements RolloutPorts {
  manifest: JsonRecord;
  status: JsonRecord = {};
  routes: Routes = { primary: 100, canary: 0, mirrored: false };
  routerExists = false;
  primaryReady: Readiness = READY;
  canaryReady: Readiness = READY;
  checksum = 'rev-1';
  trackedConfigs: Record<string, string> = {};
  canaryReplicas = 1;
  primaryRevision: string | undefined;
  /** Answers of the webhooks by type (absent = passes). */
  hookAnswers = new Map<WebhookType, boolean>();
  verdicts: CheckVerdict[] = passing();
  /** Throws from the named port method (once per entry) to interrupt a tick. */
  failNext = new Set<string>();
  calls: string[] = [];
  hookCalls: HookCall[] = [];
  events: Array<{ type: string; reason: string; message: string }> = [];
  alerts: Array<{ severity: string; message: string; verdicts?: CheckVerdict[] }> = [];
  promotions = 0;

  constructor(canaryManifest: JsonRecord) {
    this.manifest = canaryManifest;
  }

  /** The Canary as a freshly started controller would read it. */
  canary(): Canary {
    return parseCanary(JSON.parse(JSON.stringify({ ...this.manifest, status: this.status })));
  }

  tick(): Promise<TickOutcome> {
    return advance(this.canary(), this);
  }

  trace(): TickTrace {
    return {
      phase: this.status['phase'] as string | undefined,
      weight: (this.status['canaryWeight'] as number | undefined) ?? 0,
      routes: `${this.routes.primary}/${this.routes.canary}${this.routes.mirrored ? ' mirrored' : ''}`,
      failedChecks: (this.status['failedChecks'] as number | undefined) ?? 0,
      iterations: (this.status['iterations'] as number | undefined) ?? 0,
    };
  }

  /** Ticks `n` times, returning the trace after each. */
  async run(n: number): Promise<TickTrace[]> {
    const traces: TickTrace[] = [];
    for (let i = 0; i < n; i++) {
      await this.tick();
      traces.push(this.trace());
    }
    return traces;
  }

  eventsSince(mark: number): string[] {
    return this.events.slice(mark).map((e) => e.message);
  }

  private record(call: string): void {
    this.calls.push(call);
    if (this.failNext.delete(call)) throw new Error(`${call}: connection refused`);
  }

  async initialize(): Promise<void> {
    this.record('initialize');
    this.primaryRevision = this.checksum;
  }
  async reconcileRouting(): Promise<void> {
    this.record('reconcileRouting');
    this.routerExists = true;
  }
  async primaryReadiness(): Promise<Readiness> {
    this.record('primaryReadiness');
    return this.primaryReady;
  }
  async canaryReadiness(): Promise<Readiness> {
    this.record('canaryReadiness');
    return this.canaryReady;
  }
  async targetChecksum(): Promise<{ checksum: string; trackedConfigs: Record<string, string> }> {
    this.record('targetChecksum');
    return { checksum: this.checksum, trackedConfigs: { ...this.trackedConfigs } };
  }
  async scaleCanaryToZero(): Promise<void> {
    this.record('scaleCanaryToZero');
    this.canaryReplicas = 0;
  }
  async scaleCanaryUp(): Promise<void> {
    this.record('scaleCanaryUp');
    this.canaryReplicas = 1;
  }
  async promote(): Promise<void> {
    this.record('promote');
    this.promotions++;
    this.primaryRevision = this.checksum;
  }
  async getRoutes(): Promise<Routes> {
    this.record('getRoutes');
    return { ...this.routes };
  }
  async setRoutes(_canary: Canary, routes: Routes): Promise<void> {
    this.record('setRoutes');
    this.routes = { ...routes };
  }
  async runChecks(): Promise<CheckVerdict[]> {
    this.record('runChecks');
    return this.verdicts.map((v) => ({ ...v }));
  }
  async runHooks(canary: Canary, type: WebhookType, phase: CanaryPhase): Promise<boolean> {
    this.record(`runHooks:${type}`);
    this.hookCalls.push({ type, phase, checksum: canary.status.lastAppliedSpec });
    const answer = this.hookAnswers.get(type);
    if (type === 'rollback') return answer === true;
    return answer ?? true;
  }
  async writeStatus(_canary: Canary, update: StatusUpdate): Promise<void> {
    this.record('writeStatus');
    const { extra, ...fields } = update;
    this.status = JSON.parse(JSON.stringify({ ...this.status, ...fields, ...extra }));
  }
  recordEvent(_canary: Canary, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
  alert(_canary: Canary, severity: 'info' | 'warn' | 'error', message: string, verdicts?: CheckVerdict[]): void {
    this.alerts.push({ severity, message, ...(verdicts ? { verdicts } : {}) });
  }
}

/** A world whose canary is Initialized on revision rev-1 (two ticks: Initializing is skipped). */
export const initializedWorld = async (canaryManifest: JsonRecord): Promise<FakeWorld> => {
  const world = new FakeWorld(canaryManifest);
  await world.tick();
  if (world.status['phase'] !== 'Initialized') throw new Error(`expected Initialized, got ${String(world.status['phase'])}`);
  return world;
};

/** An Initialized world that has just seen a new revision and entered Progressing. */
export const progressingWorld = async (canaryManifest: JsonRecord): Promise<FakeWorld> => {
  const world = await initializedWorld(canaryManifest);
  world.checksum = 'rev-2';
  await world.tick();
  if (world.status['phase'] !== 'Progressing') throw new Error(`expected Progressing, got ${String(world.status['phase'])}`);
  return world;
};
