/**
 * How the routers that write their own objects create, adopt, copy and give them back, so that
 * each of them follows one set of rules:
 * - every object is owned by the Canary and marked for Flux to leave alone (ownedMetadata);
 * - create-or-adopt, for objects a router writes whole (Contour's HTTPProxy, the TraefikService,
 *   Gloo's RouteTable and Upstreams, Kuma's TrafficRoute, App Mesh's objects): an absent object is
 *   created as built; a live one is rebuilt around what it carries (the caller reads its weights back
 *   first) and written only when its content, labels or annotations change; annotations and labels
 *   other controllers or the user put there are kept, owners are never changed; a user's object found
 *   under our name is adopted: its spec is remembered once, in Flagger's original-configuration
 *   annotation, and finalize restores it when the Canary asks for revertOnDeletion (kubectl's
 *   last-applied spec wins: it is the user's latest intent);
 * - copies (the canary Ingress of nginx and skipper, apisix's canary route): the user's object is
 *   only read; the copy carries its labels and annotations minus kubectl's record and Flux's
 *   ownership marks (Flux would prune the copy), all of its metadata is the router's to rewrite, and
 *   finalize deletes it when the Canary owns it.
 * Also the weight arithmetic and the header/query value matching the routers share.
 */
import type { Canary, CustomMetadata, Problem, StringMatch } from '../../src/api/index.js';
import { FledgeError, canaryOwnerReferences, compact, invalidSpec, isFields, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectMeta, ObjectRef } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import { FLUX_RECONCILE_DISABLED } from './types.js';
import { KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION } from './istio-build.js';
import { isOwnedBy } from './istio-read.js';

export type Fields = Record<string, unknown>;
export const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
export const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);
/** Every item of a list, objects or not: for rewriting a user's list without dropping what it does not know. */
export const itemsOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

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

/** Throws InvalidSpec listing the problems, if there are any. */
export const refuseProblems = (canary: Canary, problems: readonly Problem[]): void => {
  if (problems.length > 0) throw invalidSpec('Canary', canary.metadata.name, problems);
};

/** A weight as written: a non-negative number; absent (Flagger omits zero weights) or anything else is 0. */
export const weightValue = (weight: unknown): number => (typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : 0);

/**
 * Relative weights as percentages (the proxies balance by the ratio of weights, so 1/1 is 50/50).
 * Throws NotReady, `<subject> <noTraffic>`, when neither side gets any weight.
 */
export const percentSplit = (primary: number, canary: number, subject: string, noTraffic = 'routes no traffic to the primary or the canary'): Routes => {
  const total = primary + canary;
  if (!(total > 0)) throw new FledgeError('NotReady', `${subject} ${noTraffic}`);
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

/** Parsed JSON; undefined for absent or malformed text (an annotation anyone may have edited). */
export const parseJson = (text: string | undefined): unknown => (text === undefined ? undefined : tryRead(() => JSON.parse(text) as unknown));

/** The spec a user's object had before the canary adopted it; undefined when none was remembered. */
export const originalSpecOf = (obj: KubeObject): Fields | undefined => {
  const annotations = obj.metadata.annotations ?? {};
  const lastApplied = parseJson(annotations[KUBECTL_LAST_APPLIED_ANNOTATION]);
  if (isFields(lastApplied) && isFields(lastApplied.spec)) return lastApplied.spec;
  const original = parseJson(annotations[ORIGINAL_CONFIG_ANNOTATION]);
  return isFields(original) ? original : undefined;
};

/**
 * The metadata of an object a router writes for a canary: owned by the Canary (when it has a uid)
 * so the garbage collector follows it, marked for Flux to leave alone, labels left out when empty.
 * A cluster-scoped object (Kuma's TrafficRoute) has no namespace.
 */
export const ownedMetadata = (canary: Canary, name: string, custom: Partial<CustomMetadata> = {}, scope: 'Namespaced' | 'Cluster' = 'Namespaced'): ObjectMeta => {
  const owners = canaryOwnerReferences(canary);
  const labels = custom.labels ?? {};
  return compact({
    name,
    namespace: scope === 'Namespaced' ? canary.metadata.namespace : undefined,
    labels: Object.keys(labels).length > 0 ? { ...labels } : undefined,
    annotations: { ...custom.annotations, ...FLUX_RECONCILE_DISABLED },
    ownerReferences: owners.length > 0 ? owners : undefined,
  });
};

/** Flux's ownership marks: copied onto a router's copy of a user's object, they would make Flux prune it. */
const FLUX_TOOLKIT_DOMAIN = /(^|\.)toolkit\.fluxcd\.io\//;

const without = (map: Record<string, string> | undefined, drop: (key: string) => boolean): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !drop(key)));

/**
 * The labels and annotations of a router's copy of a user's object: the user's, without kubectl's
 * record of the user's object, Flux's ownership marks and what `dropAnnotation` names, then Flux's
 * hands-off mark.
 */
export const copiedMetadata = (user: KubeObject, dropAnnotation: (key: string) => boolean = () => false): CustomMetadata => ({
  labels: without(user.metadata.labels, (key) => FLUX_TOOLKIT_DOMAIN.test(key)),
  annotations: {
    ...without(user.metadata.annotations, (key) => key === KUBECTL_LAST_APPLIED_ANNOTATION || FLUX_TOOLKIT_DOMAIN.test(key) || dropAnnotation(key)),
    ...FLUX_RECONCILE_DISABLED,
  },
});

/** The object named after the apex Service in the canary's namespace, where most routers keep their split. */
export const apexRef = (canary: Canary, apiVersion: string, kind: string): ObjectRef => ({
  apiVersion,
  kind,
  name: serviceNames(canary.spec.service).apex,
  namespace: canary.metadata.namespace,
});

const notFound = (ref: ObjectRef): string => `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name} not found`;

/** Reads a user's object a router builds from (the Ingress it copies); NotReady when it is absent. */
export const getUserObject = async (kube: KubeApi, ref: ObjectRef): Promise<KubeObject> => {
  const obj = await kube.get(ref);
  if (!obj) throw new FledgeError('NotReady', notFound(ref));
  return obj;
};

/** Reads an object that reconcile must have created; NotReady when it is absent. */
export const getLive = async (kube: KubeApi, ref: ObjectRef): Promise<KubeObject> => {
  const obj = await kube.get(ref);
  if (!obj) throw new FledgeError('NotReady', `${notFound(ref)} (not reconciled yet)`);
  return obj;
};

export interface AdoptOptions {
  /** What finalize needs to give a user's object back (default: its spec); Kuma's mesh sits beside it. */
  remember?: (live: KubeObject) => unknown;
  /** The live annotations that stay (default: all); the built ones are written over them. */
  keepAnnotation?: (key: string) => boolean;
}

/**
 * Creates the object `build` returns for an absent one, or rewrites a live one into what `build`
 * returns for it (so the builder can keep the live weights, or refuse the object by throwing): every
 * top-level field but the metadata, and the labels and annotations it sets. Writes nothing when
 * nothing changes.
 */
export const reconcileAdopting = async (
  kube: KubeApi,
  canary: Canary,
  ref: ObjectRef,
  build: (live: KubeObject | undefined) => KubeObject,
  options: AdoptOptions = {},
): Promise<void> => {
  const live = await kube.get(ref);
  if (!live) {
    await kube.create(build(undefined));
    return;
  }
  const { apiVersion: _apiVersion, kind: _kind, metadata: desired, ...content } = build(live);
  const liveAnnotations = live.metadata.annotations ?? {};
  const kept = options.keepAnnotation ? without(liveAnnotations, (key) => !options.keepAnnotation?.(key)) : liveAnnotations;
  const annotations: Record<string, string> = { ...kept, ...desired.annotations };
  if (!isOwnedBy(live, canary) && annotations[ORIGINAL_CONFIG_ANNOTATION] === undefined) {
    annotations[ORIGINAL_CONFIG_ANNOTATION] = JSON.stringify(options.remember ? options.remember(live) : (live.spec ?? {}));
  }
  const labels: Record<string, string> = { ...live.metadata.labels, ...desired.labels };
  const unchanged =
    Object.entries(content).every(([key, value]) => sameJson(live[key], value)) &&
    sameJson(live.metadata.labels ?? {}, labels) &&
    sameJson(liveAnnotations, annotations);
  if (unchanged) return;
  const metadata = { ...live.metadata, annotations, ...(Object.keys(labels).length > 0 ? { labels } : {}) };
  await kube.replace({ ...live, ...content, metadata });
};

export interface HandBackOptions {
  /** Objects to leave as they are (Kuma's route of another namespace's Canary). */
  leave?: (live: KubeObject) => boolean;
  /** The user's object as it was (default: the live one with the remembered spec); undefined when nothing was remembered. */
  restore?: (live: KubeObject) => KubeObject | undefined;
}

const restoreSpec = (live: KubeObject): KubeObject | undefined => {
  const original = originalSpecOf(live);
  return original && { ...live, spec: original };
};

/**
 * Undoes reconcileAdopting: deletes an object the Canary owns; hands an adopted one back as the user
 * wrote it when the Canary asks for revertOnDeletion; otherwise leaves it as it is.
 */
export const finalizeAdopted = async (kube: KubeApi, canary: Canary, ref: ObjectRef, options: HandBackOptions = {}): Promise<void> => {
  const live = await kube.get(ref);
  if (!live || options.leave?.(live)) return;
  if (isOwnedBy(live, canary)) {
    await kube.delete(ref);
    return;
  }
  if (!canary.spec.revertOnDeletion) return;
  const restored = (options.restore ?? restoreSpec)(live);
  if (!restored) return;
  const dropped = new Set<string>([ORIGINAL_CONFIG_ANNOTATION, ...Object.keys(FLUX_RECONCILE_DISABLED)]);
  const annotations = without(live.metadata.annotations, (key) => dropped.has(key));
  await kube.replace({ ...restored, metadata: { ...live.metadata, annotations } });
};

/**
 * Creates or refreshes a router's copy of a user's object from what `build` returns for the live copy
 * (absent: undefined). The copy's metadata is the router's: labels the build leaves out go, and the
 * owner references are rewritten. Writes nothing when nothing changes.
 */
export const reconcileCopy = async (kube: KubeApi, ref: ObjectRef, build: (live: KubeObject | undefined) => KubeObject): Promise<void> => {
  const live = await kube.get(ref);
  if (!live) {
    await kube.create(build(undefined));
    return;
  }
  const desired = build(live);
  const metadata = { ...live.metadata, ...desired.metadata };
  if (!desired.metadata.labels) delete metadata.labels;
  const fields = (o: KubeObject): unknown => [o.spec, o.metadata.labels ?? {}, o.metadata.annotations ?? {}, o.metadata.ownerReferences ?? []];
  if (sameJson(fields(live), fields({ ...desired, metadata }))) return;
  await kube.replace({ ...live, metadata, spec: desired.spec });
};

/** Deletes an object the Canary owns (a copy, a TrafficSplit); one it does not own is left alone. */
export const deleteIfOwned = async (kube: KubeApi, canary: Canary, ref: ObjectRef): Promise<void> => {
  const live = await kube.get(ref);
  if (live && isOwnedBy(live, canary)) await kube.delete(ref);
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
