/**
 * Create-or-adopt for the routing objects a router writes whole (Contour's HTTPProxy, the
 * TraefikService, Gloo's RouteTable and Upstreams). Shared by those routers so that each of them
 * follows one set of rules:
 * - an absent object is created as built, owned by the Canary (the garbage collector removes it);
 * - a live object is rebuilt around what it carries (the caller reads its weights back first), and
 *   written only when the spec, labels or annotations change; annotations and labels other
 *   controllers or the user put there are kept, owners are never changed;
 * - a user's object found under our name is adopted: its spec is remembered once, in Flagger's
 *   original-configuration annotation, and finalize restores it when the Canary asks for
 *   revertOnDeletion (kubectl's last-applied spec wins: it is the user's latest intent).
 * Also the weight arithmetic and the header/query value matching these routers (and skipper) share.
 */
import type { Canary, StringMatch } from '../../src/api/index.js';
import { FledgeError, isFields } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import { KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';

export type Fields = Record<string, unknown>;
export const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
export const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

/** Key-order-insensitive JSON, for "does this write change anything". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (isFields(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
export const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The split every router starts with: everything to the primary. */
export const INITIAL_ROUTES: Routes = { primary: 100, canary: 0, mirrored: false };

/** Refuses a split that is not two integer percentages adding up to 100, and any mirror. */
export const checkSplit = (router: string, routes: Routes): void => {
  if (routes.mirrored) throw new FledgeError('InvalidSpec', `router "${router}" cannot mirror traffic`);
  const valid = [routes.primary, routes.canary].every((w) => Number.isInteger(w) && w >= 0 && w <= 100);
  if (!valid || routes.primary + routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `weights must be integers from 0 to 100 that add up to 100, got ${routes.primary}/${routes.canary}`);
  }
};

/** A weight as written: a non-negative number; absent (Flagger omits zero weights) or anything else is 0. */
export const weightValue = (weight: unknown): number => (typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : 0);

/**
 * Relative weights as percentages (the proxies balance by the ratio of weights, so 1/1 is 50/50).
 * Throws NotReady when neither side gets any weight.
 */
export const percentSplit = (primary: number, canary: number, subject: string): Routes => {
  const total = primary + canary;
  if (!(total > 0)) throw new FledgeError('NotReady', `${subject} routes no traffic to the primary or the canary`);
  const canaryShare = Math.round((100 * canary) / total);
  return { primary: 100 - canaryShare, canary: canaryShare, mirrored: false };
};

/** Like `read`, but undefined when the object is not (yet) shaped by the router. */
export const tryRead = <T>(read: () => T): T | undefined => {
  try {
    return read();
  } catch {
    return undefined;
  }
};

const parseJson = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/** The spec a user's object had before the canary adopted it; undefined when none was remembered. */
export const originalSpecOf = (obj: KubeObject): Fields | undefined => {
  const annotations = obj.metadata.annotations ?? {};
  const lastApplied = parseJson(annotations[KUBECTL_LAST_APPLIED_ANNOTATION]);
  if (isFields(lastApplied) && isFields(lastApplied.spec)) return lastApplied.spec;
  const original = parseJson(annotations[ORIGINAL_CONFIG_ANNOTATION]);
  return isFields(original) ? original : undefined;
};

/**
 * Creates the object `build` returns for an absent one, or rewrites a live one into what `build`
 * returns for it (so the builder can keep the live weights). Writes nothing when nothing changes.
 */
export const reconcileAdopting = async (
  kube: KubeApi,
  canary: Canary,
  ref: ObjectRef,
  build: (live: KubeObject | undefined) => KubeObject,
): Promise<void> => {
  const live = await kube.get(ref);
  if (!live) {
    await kube.create(build(undefined));
    return;
  }
  const desired = build(live);
  const liveAnnotations = live.metadata.annotations ?? {};
  const annotations: Record<string, string> = { ...liveAnnotations, ...desired.metadata.annotations };
  if (!isOwnedBy(live, canary) && annotations[ORIGINAL_CONFIG_ANNOTATION] === undefined) {
    annotations[ORIGINAL_CONFIG_ANNOTATION] = JSON.stringify(live.spec ?? {});
  }
  const labels: Record<string, string> = { ...live.metadata.labels, ...desired.metadata.labels };
  const unchanged =
    sameJson(live.spec, desired.spec) && sameJson(live.metadata.labels ?? {}, labels) && sameJson(liveAnnotations, annotations);
  if (unchanged) return;
  const metadata = { ...live.metadata, annotations, ...(Object.keys(labels).length > 0 ? { labels } : {}) };
  await kube.replace({ ...live, metadata, spec: desired.spec });
};

/**
 * Undoes reconcileAdopting: deletes an object the Canary owns; hands an adopted one back as the user
 * wrote it when the Canary asks for revertOnDeletion; otherwise leaves it as it is.
 */
export const finalizeAdopted = async (kube: KubeApi, canary: Canary, ref: ObjectRef): Promise<void> => {
  const live = await kube.get(ref);
  if (!live) return;
  if (isOwnedBy(live, canary)) {
    await kube.delete(ref);
    return;
  }
  if (!canary.spec.revertOnDeletion) return;
  const original = originalSpecOf(live);
  if (!original) return;
  const dropped = new Set<string>([ORIGINAL_CONFIG_ANNOTATION, ...Object.keys(FLUX_RECONCILE_DISABLED)]);
  const annotations = Object.fromEntries(Object.entries(live.metadata.annotations ?? {}).filter(([key]) => !dropped.has(key)));
  await kube.replace({ ...live, metadata: { ...live.metadata, annotations }, spec: original });
};

/** Reads an object that reconcile must have created; NotReady when it is absent. */
export const getLive = async (kube: KubeApi, ref: ObjectRef): Promise<KubeObject> => {
  const obj = await kube.get(ref);
  if (!obj) throw new FledgeError('NotReady', `${ref.kind} ${ref.namespace ?? ''}/${ref.name} not found (not reconciled yet)`);
  return obj;
};

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An Istio-style string match as Envoy matches a header or query value: exactly, or by an RE2
 * regex that must match the whole value, so a prefix or suffix becomes an escaped regex.
 * Undefined when the match sets none of exact, regex, prefix or suffix.
 */
export const valueMatchOf = (m: StringMatch): { exact: string } | { regex: string } | undefined => {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.regex !== undefined) return { regex: m.regex };
  if (m.prefix !== undefined) return { regex: `${escapeRegex(m.prefix)}.*` };
  if (m.suffix !== undefined) return { regex: `.*${escapeRegex(m.suffix)}` };
  return undefined;
};
