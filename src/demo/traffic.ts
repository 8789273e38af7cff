/**
 * A traffic simulator for the demo: the local cluster has no pods and no Envoys, so this plays the
 * mesh. Every second (of the injected clock) and for each target it reads the live VirtualService
 * split and the two Deployments, sends `requestsPerSecond` simulated requests by that split, and
 * records them as Istio's destination-side telemetry would, so Fledge's built-in istio PromQL runs
 * unchanged against a real Prometheus scraping `metricsText()`.
 *
 * A version's behaviour comes from its pod template annotations: `demo.fledge.dev/error-rate`
 * (fraction of 500s, 0..1, default 0) and `demo.fledge.dev/latency-ms` (mean latency, default 20).
 * Deliberately simple: the split is the VirtualService weights only (A/B header matches and the apex
 * Service's selector are not modelled), and a side with no ready replicas gets nothing.
 */
import type { Canary } from '../api/index.js';
import { FledgeError, parseCanary, serviceNames } from '../api/index.js';
import type { Clock } from '../api/clock.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import { serveMetrics } from '../devtools/prometheus.js';
import { ISTIO_API_VERSION } from '../../providers/routers/istio-build.js';
import { tryReadRoutes } from '../../providers/routers/istio-read.js';
import type { Labels } from './istio-telemetry.js';
import { IstioTelemetry } from './istio-telemetry.js';

export const ERROR_RATE_ANNOTATION = 'demo.fledge.dev/error-rate';
export const LATENCY_ANNOTATION = 'demo.fledge.dev/latency-ms';
export const DEFAULT_LATENCY_MS = 20;
export const DEFAULT_REQUESTS_PER_SECOND = 50;
/** The workload the simulated requests come from (source_* labels). */
export const SOURCE_WORKLOAD = 'traffic-simulator';
/** Spread of the log-normal latency: p50 ≈ 0.88 × mean, p99 ≈ 2.8 × mean, a plausible service. */
const LATENCY_SIGMA = 0.5;
const TICK_MS = 1000;

export interface TrafficTarget {
  namespace: string;
  /** The apex service name: the VirtualService is named after it, destinations `<service>-primary|-canary`. */
  service: string;
  /** The Deployment: `<target>-primary` serves the primary, `<target>` the canary. */
  target: string;
}

export interface TrafficSimulatorOptions {
  kube: KubeApi;
  clock: Clock;
  targets: TrafficTarget[];
  /** Requests per target per tick (one tick a second). Default 50. */
  requestsPerSecond?: number;
  /** Uniform in [0, 1); pass a seeded one (seededRandom) for reproducible runs. Default Math.random. */
  random?: () => number;
}

/** One side of a target: what it was last seen as, and what it has served in total. */
export interface WorkloadTraffic {
  workload: string;
  /** Whether it had ready replicas at the last tick. */
  serving: boolean;
  errorRate: number;
  latencyMs: number;
  /** Requests sent to it at the last tick. */
  lastTick: number;
  requests: number;
  /** Requests answered 500. */
  failures: number;
}

export interface TargetTraffic extends TrafficTarget {
  /** The split read at the last tick (100/0 when there is no VirtualService shaped by Fledge yet). */
  weights: { primary: number; canary: number; mirrored: boolean };
  primary: WorkloadTraffic;
  canary: WorkloadTraffic;
}

export interface TrafficSnapshot {
  ticks: number;
  /** Ticks the timer skipped because the previous one was still reading the cluster. */
  skipped: number;
  /** Failed reads of the cluster (the target's tick is skipped; the simulator carries on). */
  errors: number;
  lastError?: string;
  targets: TargetTraffic[];
}

export interface TrafficSimulator {
  /** Ticks every second of the clock until stop(). */
  start(): void;
  stop(): void;
  /** One second of traffic for every target. Calls are serialised. */
  tick(): Promise<void>;
  /** Prometheus text exposition (format 0.0.4) of the simulated Istio telemetry. */
  metricsText(): string;
  snapshot(): TrafficSnapshot;
}

/** A small seeded PRNG (mulberry32): same seed, same traffic. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

interface Version {
  workload: string;
  serving: boolean;
  errorRate: number;
  latencyMs: number;
  app: string;
  version: string;
}

const fields = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const strings = (value: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(fields(value)).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** A demo annotation as a number in [min, max]; absent or unparsable means the default. */
const numberAnnotation = (annotations: Record<string, string>, key: string, fallback: number, min: number, max: number): number => {
  const raw = annotations[key];
  const n = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
};

/** How a Deployment behaves; a missing one, or one scaled to zero or with no ready replica, serves nothing. */
const versionOf = (workload: string, deployment: KubeObject | undefined): Version => {
  const spec = fields(deployment?.spec);
  const template = fields(fields(spec.template).metadata);
  const annotations = strings(template.annotations);
  const labels = strings(template.labels);
  const ready = fields(deployment?.status).readyReplicas;
  const serving = deployment !== undefined && spec.replicas !== 0 && typeof ready === 'number' && ready > 0;
  return {
    workload,
    serving,
    errorRate: numberAnnotation(annotations, ERROR_RATE_ANNOTATION, 0, 0, 1),
    latencyMs: numberAnnotation(annotations, LATENCY_ANNOTATION, DEFAULT_LATENCY_MS, 0, Number.MAX_VALUE),
    app: labels.app ?? labels['app.kubernetes.io/name'] ?? workload,
    version: labels.version ?? labels['app.kubernetes.io/version'] ?? 'unknown',
  };
};

/**
 * A Canary shaped just enough for the istio router's reader, so the split is read exactly as Fledge
 * reads it back (the weighted route, sticky routes skipped, mirroring).
 */
const probeCanary = (t: TrafficTarget): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: t.target, namespace: t.namespace },
    spec: {
      provider: 'istio',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: t.target },
      service: { name: t.service, port: 80 },
      analysis: { interval: '1m', stepWeight: 10 },
    },
  });

const emptyTraffic = (workload: string): WorkloadTraffic => ({
  workload,
  serving: false,
  errorRate: 0,
  latencyMs: DEFAULT_LATENCY_MS,
  lastTick: 0,
  requests: 0,
  failures: 0,
});

interface TargetState {
  target: TrafficTarget;
  probe: Canary;
  hosts: { primary: string; canary: string };
  traffic: TargetTraffic;
  /** Fractions of a request owed to each side, so 50 rps at 5% is 2.5 a second on average, not 2 or 3. */
  carry: { primary: number; canary: number };
}

export const createTrafficSimulator = (opts: TrafficSimulatorOptions): TrafficSimulator => {
  const { kube, clock } = opts;
  const rps = opts.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND;
  if (!Number.isFinite(rps) || rps < 0) throw new FledgeError('InvalidSpec', 'requestsPerSecond: must be a non-negative number');
  const random = opts.random ?? Math.random;
  const telemetry = new IstioTelemetry();
  const states: TargetState[] = opts.targets.map((target) => {
    const names = serviceNames({ name: target.service });
    return {
      target: { ...target },
      probe: probeCanary(target),
      hosts: { primary: names.primary, canary: names.canary },
      traffic: {
        ...target,
        weights: { primary: 100, canary: 0, mirrored: false },
        primary: emptyTraffic(`${target.target}-primary`),
        canary: emptyTraffic(target.target),
      },
      carry: { primary: 0, canary: 0 },
    };
  });
  let ticks = 0;
  let skipped = 0;
  let errors = 0;
  let lastError: string | undefined;
  let timer: unknown;
  let running = false;
  let busy = false;
  let queue: Promise<void> = Promise.resolve();

  /** Log-normal around `mean` (Box–Muller), with the mean preserved: mu = ln(mean) − sigma²/2. */
  const latency = (mean: number): number => {
    if (mean <= 0) return 0;
    const u1 = 1 - random();
    const u2 = random();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.exp(Math.log(mean) - (LATENCY_SIGMA * LATENCY_SIGMA) / 2 + LATENCY_SIGMA * z);
  };

  const labelsOf = (s: TargetState, v: Version, host: string, code: string): Labels => {
    const ns = s.target.namespace;
    return {
      reporter: 'destination',
      source_workload: SOURCE_WORKLOAD,
      source_workload_namespace: ns,
      source_app: SOURCE_WORKLOAD,
      destination_workload: v.workload,
      destination_workload_namespace: ns,
      destination_app: v.app,
      destination_version: v.version,
      destination_service: `${host}.${ns}.svc.cluster.local`,
      destination_service_name: host,
      destination_service_namespace: ns,
      request_protocol: 'http',
      response_code: code,
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    };
  };

  /** Whole requests for a side this second; the fraction left over is owed to the next second. */
  const share = (s: TargetState, side: 'primary' | 'canary', weight: number): number => {
    if (weight <= 0) {
      s.carry[side] = 0;
      return 0;
    }
    const owed = (rps * weight) / 100 + s.carry[side];
    const n = Math.floor(owed + 1e-9);
    s.carry[side] = Math.max(0, owed - n);
    return n;
  };

  const send = (s: TargetState, side: 'primary' | 'canary', v: Version, count: number): void => {
    const seen = s.traffic[side];
    Object.assign(seen, { workload: v.workload, serving: v.serving, errorRate: v.errorRate, latencyMs: v.latencyMs, lastTick: count });
    if (count === 0) return;
    const host = s.hosts[side];
    // Both codes appear from the first request on, so a rate() over the 5xx series misses nothing.
    telemetry.touch(labelsOf(s, v, host, '200'));
    telemetry.touch(labelsOf(s, v, host, '500'));
    for (let i = 0; i < count; i += 1) {
      const failed = random() < v.errorRate;
      telemetry.observe(labelsOf(s, v, host, failed ? '500' : '200'), latency(v.latencyMs));
      seen.requests += 1;
      if (failed) seen.failures += 1;
    }
  };

  const tickTarget = async (s: TargetState): Promise<void> => {
    const { namespace, service, target } = s.target;
    const deployment = (name: string) => kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace });
    let reads: [KubeObject | undefined, KubeObject | undefined, KubeObject | undefined];
    try {
      reads = await Promise.all([
        kube.get({ apiVersion: ISTIO_API_VERSION, kind: 'VirtualService', name: service, namespace }),
        deployment(`${target}-primary`),
        deployment(target),
      ]);
    } catch (e) {
      errors += 1;
      lastError = `${namespace}/${target}: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    const [vs, primaryDeployment, canaryDeployment] = reads;
    // No VirtualService (or one Fledge has not shaped yet) sends everything to the primary.
    const weights = (vs && tryReadRoutes(s.probe, vs)) ?? { primary: 100, canary: 0, mirrored: false };
    s.traffic.weights = { ...weights };
    const primary = versionOf(`${target}-primary`, primaryDeployment);
    const canary = versionOf(target, canaryDeployment);
    const toPrimary = share(s, 'primary', primary.serving ? weights.primary : 0);
    // A mirror receives a copy of every request the primary serves (its answers are discarded by the mesh).
    const mirrored = weights.mirrored && canary.serving ? toPrimary : 0;
    const toCanary = share(s, 'canary', canary.serving ? weights.canary : 0) + mirrored;
    send(s, 'primary', primary, toPrimary);
    send(s, 'canary', canary, toCanary);
  };

  const runTick = async (): Promise<void> => {
    // Targets one after the other: the random draws then happen in a fixed order, so a seed replays.
    for (const s of states) await tickTarget(s);
    ticks += 1;
  };

  const tick = (): Promise<void> => {
    const next = queue.then(runTick);
    queue = next.catch(() => undefined);
    return next;
  };

  const schedule = (): void => {
    timer = clock.setTimeout(() => {
      if (!running) return;
      schedule();
      if (busy) {
        skipped += 1;
        return;
      }
      busy = true;
      void tick().finally(() => {
        busy = false;
      });
    }, TICK_MS);
  };

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    stop() {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
    tick,
    metricsText: () => telemetry.render(),
    snapshot: () => ({
      ticks,
      skipped,
      errors,
      ...(lastError !== undefined ? { lastError } : {}),
      targets: states.map((s) => structuredClone(s.traffic)),
    }),
  };
};

export interface SimulatorMetricsServer {
  port: number;
  /** `127.0.0.1:<port>`, as a Prometheus static target. */
  target: string;
  close(): Promise<void>;
}

/** Serves the simulator's exposition at http://127.0.0.1:<port>/metrics (a free port). */
export const serveTrafficMetrics = async (simulator: Pick<TrafficSimulator, 'metricsText'>): Promise<SimulatorMetricsServer> => {
  const server = await serveMetrics(() => simulator.metricsText());
  return { port: Number(server.target.split(':')[1]), target: server.target, close: () => server.close() };
};
