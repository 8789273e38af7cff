/** The workloads module's public shapes: its dependencies and what it offers the engine and controller. */
import type { Clock } from '../api/clock.js';
import type { Canary } from '../api/index.js';
import type { Readiness } from '../engine/ports.js';
import type { KubeApi } from '../kube/api.js';
import type { SelectorLabel } from './primary-spec.js';

export interface WorkloadsDeps {
  kube: KubeApi;
  clock: Clock;
  /** --selector-labels: the pod labels a target may be selected by, first match wins. */
  selectorLabels?: readonly string[];
  /** --include-label-prefix: only labels/annotations with these prefixes are copied (`*` = all); unset copies all. */
  includeLabelPrefixes?: readonly string[];
  /** --enable-config-tracking (default true). */
  configTracking?: boolean;
}

export interface TargetRevision {
  checksum: string;
  /** `configmap/<name>` or `secret/<name>` → checksum of its data, for status.trackedConfigs. */
  trackedConfigs: Record<string, string>;
}

/** How far finalize got: `done: false` means call again (the target is not serving yet). */
export interface FinalizeProgress {
  done: boolean;
  message: string;
}

/** The I/O on the canary's workloads; initialize..promote back the engine's RolloutPorts. */
export interface Workloads {
  /**
   * Creates the primary workload (with its configs and autoscaler) and the `-primary`/`-canary`
   * Services; points the apex Service at the primary once the primary is ready (or at once when
   * analysis is skipped or initialization is over). Idempotent.
   */
  initialize(canary: Canary): Promise<void>;
  primaryReadiness(canary: Canary): Promise<Readiness>;
  canaryReadiness(canary: Canary): Promise<Readiness>;
  targetChecksum(canary: Canary): Promise<TargetRevision>;
  scaleCanaryToZero(canary: Canary): Promise<void>;
  scaleCanaryUp(canary: Canary): Promise<void>;
  /** Copies the target's template (and tracked configs, and autoscaler) to the primary. */
  promote(canary: Canary): Promise<void>;
  /**
   * revertOnDeletion: restores the target, and once it serves, points the apex back at it and deletes
   * the primary objects.
   */
  finalize(canary: Canary): Promise<FinalizeProgress>;
  /** The label selecting the target's pods (undefined for Service targets), for routers that select pods. */
  selectorOf(canary: Canary): Promise<SelectorLabel | undefined>;
}

/** Settings every target kind needs, resolved from WorkloadsDeps. */
export interface WorkloadSettings {
  kube: KubeApi;
  clock: Clock;
  selectorLabels: readonly string[];
  includeLabelPrefixes?: readonly string[];
  configTracking: boolean;
}
