/**
 * Reading a live VirtualService back: the split it carries, whether it mirrors, and its
 * session-affinity cookies. The live object is the source of truth; nothing is cached in between.
 * Input is untyped (whatever the API server returned), so every field is checked as it is read.
 */
import type { Canary } from '../../src/api/index.js';
import { FledgeError, serviceNames } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import type { Routes } from './types.js';
import type { AffinityCookies, VirtualServiceSpec } from './istio-build.js';
import { KUBECTL_LAST_APPLIED_ANNOTATION, ORIGINAL_CONFIG_ANNOTATION, SET_COOKIE, STICKY_ROUTE_NAME, STICKY_ROUTE_NAMES, isTcp } from './istio-build.js';

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.filter(isFields) : []);

const hostOf = (destination: Fields): string | undefined => {
  const host = fieldsOf(destination.destination).host;
  return typeof host === 'string' ? host : undefined;
};

/** An absent weight reads as 0, as Istio's proto3 JSON omits zero values. */
const weightOf = (destination: Fields): number => (typeof destination.weight === 'number' ? destination.weight : 0);

/** The value before the first `;` of a Set-Cookie header: the `name=value` pair. */
const cookiePair = (setCookie: unknown): string | undefined =>
  typeof setCookie === 'string' && setCookie.includes('=') ? setCookie.split(';', 1)[0]?.trim() : undefined;

const setCookieOf = (headers: unknown): unknown => fieldsOf(fieldsOf(fieldsOf(headers).response).add)[SET_COOKIE];

/**
 * The route that splits traffic between primary and canary: the first one reaching the canary that is
 * not a sticky route (those reach both sides too, at 0/100 or 100/0, and come before it).
 */
const weightedRoute = (canary: Canary, spec: Fields): Fields | undefined => {
  const canaryHost = serviceNames(canary.spec.service).canary;
  const routes = isTcp(canary.spec.service) ? listOf(spec.tcp) : listOf(spec.http);
  const sticky = (r: Fields): boolean => typeof r.name === 'string' && STICKY_ROUTE_NAMES.includes(r.name);
  return routes.find((r) => !sticky(r) && listOf(r.route).some((d) => hostOf(d) === canaryHost));
};

const subject = (canary: Canary): string => `VirtualService ${canary.metadata.namespace}/${serviceNames(canary.spec.service).apex}`;

/** The split of a live VirtualService; throws NotReady when it has no route to the canary. */
export const readRoutes = (canary: Canary, vs: KubeObject): Routes => {
  const names = serviceNames(canary.spec.service);
  const route = weightedRoute(canary, fieldsOf(vs.spec));
  if (!route) throw new FledgeError('NotReady', `${subject(canary)} has no route to ${names.canary}`);
  const destinations = listOf(route.route);
  const weight = (host: string): number => destinations.filter((d) => hostOf(d) === host).reduce((sum, d) => sum + weightOf(d), 0);
  const routes = { primary: weight(names.primary), canary: weight(names.canary) };
  if (routes.primary + routes.canary === 0) {
    throw new FledgeError('NotReady', `${subject(canary)} routes no traffic to ${names.primary} or ${names.canary}`);
  }
  const mirrorHost = fieldsOf(route.mirror).host;
  return { ...routes, mirrored: typeof mirrorHost === 'string' && mirrorHost !== '' };
};

/** Like readRoutes, but undefined for a VirtualService that is not (yet) shaped by this router. */
export const tryReadRoutes = (canary: Canary, vs: KubeObject): Routes | undefined => {
  try {
    return readRoutes(canary, vs);
  } catch {
    return undefined;
  }
};

/**
 * The affinity cookies a live VirtualService carries: the active and primary ones are what the canary
 * and primary destinations of the weighted route set; the expiring one is what the sticky route tells
 * clients to delete.
 */
export const readCookies = (canary: Canary, vs: KubeObject): AffinityCookies => {
  const spec = fieldsOf(vs.spec);
  const names = serviceNames(canary.spec.service);
  const weighted = weightedRoute(canary, spec);
  const handedOutBy = (host: string): string | undefined =>
    cookiePair(setCookieOf(listOf(weighted?.route).find((d) => hostOf(d) === host)?.headers));
  const active = handedOutBy(names.canary);
  const primary = handedOutBy(names.primary);
  const sticky = listOf(spec.http).find((r) => r.name === STICKY_ROUTE_NAME);
  const expiringHeader = setCookieOf(sticky?.headers);
  const expiring = typeof expiringHeader === 'string' && /Max-Age=-1\b/.test(expiringHeader) ? cookiePair(expiringHeader) : undefined;
  return { ...(active ? { active } : {}), ...(expiring ? { expiring } : {}), ...(primary ? { primary } : {}) };
};

/** Whether an object names this Canary as its controlling owner. */
export const isOwnedBy = (obj: KubeObject, canary: Canary): boolean =>
  (obj.metadata.ownerReferences ?? []).some(
    (ref) =>
      ref.kind === 'Canary' &&
      ref.apiVersion.startsWith('flagger.app/') &&
      (canary.metadata.uid ? ref.uid === canary.metadata.uid : ref.name === canary.metadata.name),
  );

/**
 * The spec a user's VirtualService had before the canary adopted it: kubectl's last-applied
 * configuration when present (the user's latest intent), else the copy taken at adoption.
 */
export const originalSpecOf = (vs: KubeObject): VirtualServiceSpec | undefined => {
  const annotations = vs.metadata.annotations ?? {};
  const parse = (text: string | undefined): unknown => {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  };
  const lastApplied = parse(annotations[KUBECTL_LAST_APPLIED_ANNOTATION]);
  if (isFields(lastApplied) && isFields(lastApplied.spec)) return lastApplied.spec as VirtualServiceSpec;
  const original = parse(annotations[ORIGINAL_CONFIG_ANNOTATION]);
  return isFields(original) ? (original as VirtualServiceSpec) : undefined;
};
