/**
 * Status conditions with Flux's types and reasons (Ready, Reconciling, Stalled, Healthy), so `flux get`,
 * kstatus and dashboards read a Fledge-written status the way they read kustomize-controller's.
 */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Replaces the condition of the same type; the transition time moves only when the status flips, as
 * the Kubernetes API conventions ask.
 */
export const withCondition = (conditions: readonly Condition[], next: Omit<Condition, 'lastTransitionTime'>, nowMs: number): Condition[] => {
  const old = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : rfc3339(nowMs);
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
};

export const withoutCondition = (conditions: readonly Condition[], type: string): Condition[] => conditions.filter((c) => c.type !== type);

export const conditionsOf = (status: unknown): Condition[] => {
  const list = (status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(list) ? (list as Condition[]) : [];
};

export const isReady = (status: unknown, generation: number): boolean => {
  const s = status as { observedGeneration?: number } | undefined;
  const ready = conditionsOf(status).find((c) => c.type === 'Ready');
  return ready?.status === 'True' && (s?.observedGeneration ?? -1) >= generation;
};
