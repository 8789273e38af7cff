/**
 * The `nginx` router: ingress-nginx canary annotations (Flagger's pkg/router/ingress.go). The Canary's
 * spec.ingressRef names the user's Ingress; the router keeps a copy of it, `<ingress>-canary`, whose
 * backends point at the canary Service, and steers traffic with `<prefix>/canary-weight` or, for A/B
 * testing, with `canary-by-header*` / `canary-by-cookie`. The user's Ingress is never written.
 *
 * Differences from Flagger, on purpose:
 * - at 100/0 the copy stays `canary: "true"` with `canary-weight: "0"`; Flagger writes
 *   `canary: "false"`, which turns the copy into a second plain Ingress for the same host and path, and
 *   the ingress-nginx admission webhook then refuses every update of the user's Ingress
 *   (fluxcd/flagger#787, kubernetes/ingress-nginx#6825). A copy written by Flagger with
 *   `canary: "false"` still reads as 100/0;
 * - A/B always writes `canary-weight: "0"`, so requests without the header or cookie stay on the primary;
 * - reconcile also refreshes labels and annotations copied from the user's Ingress (Flagger: spec
 *   only) and keeps the live split; finalize deletes the copy (Flagger leaves it to the garbage collector);
 * - match conditions nginx cannot express (several headers, header AND cookie, uri, query, ...) are
 *   refused instead of silently dropped; a header prefix/suffix becomes an anchored pattern;
 *   header names are compared case-insensitively, so `Cookie` is the cookie as `cookie` is.
 */
import type { Canary, HTTPMatchRequest, Problem } from '../../src/api/index.js';
import { FledgeError, invalidSpec, isFields, serviceNames } from '../../src/api/index.js';
import type { KubeApi, KubeObject, ObjectRef } from '../../src/kube/api.js';
import type { Router, RouterCapabilities, RouterDeps, Routes } from './types.js';
import type { Fields } from './adoption.js';
import { checkSplit, copiedMetadata, deleteIfOwned, getUserObject, itemsOf, ownedMetadata, reconcileCopy, refuseProblems } from './adoption.js';
import { SplitRouter } from './split-router.js';

export const NGINX_CAPABILITIES: RouterCapabilities = {
  strategies: ['canary', 'ab', 'bluegreen'],
  mirror: false,
  sessionAffinity: false,
};

/** ingress-nginx's default `--annotations-prefix` (Flagger's `--ingress-annotations-prefix`). */
export const DEFAULT_ANNOTATIONS_PREFIX = 'nginx.ingress.kubernetes.io';
export const INGRESS_API_VERSION = 'networking.k8s.io/v1';

/** The canary annotations this router writes (suffixes after `<prefix>/`). */
const MANAGED = ['canary', 'canary-weight', 'canary-by-header', 'canary-by-header-value', 'canary-by-header-pattern', 'canary-by-cookie'] as const;
type Managed = (typeof MANAGED)[number];

export interface NginxOptions {
  annotationsPrefix?: string;
}

/** What A/B testing asks of nginx: at most one header condition and one cookie name, ORed. */
export interface AbRule {
  header?: { name: string; value?: string; pattern?: string };
  cookie?: string;
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const isCookie = (header: string): boolean => header.toLowerCase() === 'cookie';
const ROUTER = 'router "nginx"';

/** Reads analysis.match into an nginx rule; every condition nginx cannot express becomes a problem. */
export const abRuleOf = (match: readonly HTTPMatchRequest[]): { rule: AbRule; problems: Problem[] } => {
  const rule: AbRule = {};
  const problems: Problem[] = [];
  const headerPaths: string[] = [];
  const cookiePaths: string[] = [];
  match.forEach((condition, i) => {
    const at = `spec.analysis.match[${i}]`;
    const other = Object.keys(condition).filter((k) => k !== 'headers' && k !== 'name');
    for (const field of other) problems.push({ path: `${at}.${field}`, rule: `${ROUTER} matches on headers and cookies only` });
    const headers = Object.entries(condition.headers ?? {});
    if (headers.length === 0 && other.length === 0) problems.push({ path: `${at}.headers`, rule: `${ROUTER} needs a header or a cookie to match` });
    if (headers.length > 1) {
      problems.push({ path: `${at}.headers`, rule: `${ROUTER} cannot require several headers or a header and a cookie at once` });
    }
    for (const [name, value] of headers) {
      const path = `${at}.headers.${name}`;
      if (isCookie(name)) {
        cookiePaths.push(path);
        if (value.exact === undefined) problems.push({ path, rule: `${ROUTER} matches a cookie by its name, given as exact (canary-by-cookie)` });
        else rule.cookie = value.exact;
        continue;
      }
      headerPaths.push(path);
      if (value.exact !== undefined) rule.header = { name, value: value.exact };
      else if (value.regex !== undefined) rule.header = { name, pattern: value.regex };
      else if (value.prefix !== undefined) rule.header = { name, pattern: `^${escapeRegex(value.prefix)}` };
      else if (value.suffix !== undefined) rule.header = { name, pattern: `${escapeRegex(value.suffix)}$` };
      else problems.push({ path, rule: 'must set exact, regex, prefix or suffix' });
    }
  });
  const once = (paths: string[], what: string): void => {
    if (paths.length > 1) problems.push({ path: paths[1] ?? '', rule: `${ROUTER} can match one ${what} only, already matched at ${paths[0] ?? ''}` });
  };
  once(headerPaths, 'header (canary-by-header)');
  once(cookiePaths, 'cookie (canary-by-cookie)');
  return { rule, problems };
};

/** What this router cannot do for a canary, beyond what its capabilities say. */
export const nginxProblems = (canary: Canary): Problem[] => {
  const problems: Problem[] = [];
  if (!canary.spec.ingressRef?.name) problems.push({ path: 'spec.ingressRef', rule: `${ROUTER} needs the Ingress to copy` });
  return [...problems, ...abRuleOf(canary.spec.analysis.match).problems];
};

const isAb = (canary: Canary): boolean => canary.spec.analysis.match.length > 0;

export const canaryIngressName = (canary: Canary): string => `${canary.spec.ingressRef?.name ?? ''}-canary`;

/** The canary annotations for a split, each managed key with its value or null (absent). */
export const canaryAnnotations = (canary: Canary, routes: Routes, prefix = DEFAULT_ANNOTATIONS_PREFIX): Record<string, string | null> => {
  checkNginxSplit(canary, routes);
  const values: Partial<Record<Managed, string>> = { canary: 'true', 'canary-weight': String(routes.canary) };
  if (isAb(canary)) {
    // Requests without the header or cookie must stay on the primary, whatever the split.
    values['canary-weight'] = '0';
    if (routes.canary === 100) {
      const { header, cookie } = abRuleOf(canary.spec.analysis.match).rule;
      values['canary-by-header'] = header?.name;
      values['canary-by-header-value'] = header?.value;
      values['canary-by-header-pattern'] = header?.pattern;
      values['canary-by-cookie'] = cookie;
    }
  }
  return Object.fromEntries(MANAGED.map((key) => [`${prefix}/${key}`, values[key] ?? null]));
};

const checkNginxSplit = (canary: Canary, routes: Routes): void => {
  checkSplit('nginx', routes);
  if (isAb(canary) && routes.canary !== 0 && routes.canary !== 100) {
    throw new FledgeError('InvalidSpec', `${ROUTER} A/B testing sends matching requests all to one side (100/0 or 0/100), got ${routes.primary}/${routes.canary}`);
  }
};

/** A backend `{service: {name, port}}` renamed from `from` to `to`; undefined when it is not `from`'s. */
const renamedBackend = (backend: unknown, from: string, to: string): Fields | undefined => {
  if (!isFields(backend) || !isFields(backend.service) || backend.service.name !== from) return undefined;
  return { ...backend, service: { ...backend.service, name: to } };
};

/**
 * The user's Ingress spec with every backend of the apex Service pointed at the canary Service (same
 * port: the canary Service mirrors the apex ports); undefined when no backend names the apex.
 */
export const canaryIngressSpec = (spec: unknown, apex: string, canaryService: string): Fields | undefined => {
  const copy: Fields = structuredClone(isFields(spec) ? spec : {});
  let found = false;
  const renamed = (backend: unknown): unknown => {
    const changed = renamedBackend(backend, apex, canaryService);
    if (changed) found = true;
    return changed ?? backend;
  };
  if (copy.defaultBackend !== undefined) copy.defaultBackend = renamed(copy.defaultBackend);
  if (Array.isArray(copy.rules)) {
    copy.rules = copy.rules.map((rule) => {
      if (!isFields(rule) || !isFields(rule.http)) return rule;
      const paths = itemsOf(rule.http.paths).map((p) => (isFields(p) ? { ...p, backend: renamed(p.backend) } : p));
      return { ...rule, http: { ...rule.http, paths } };
    });
  }
  return found ? copy : undefined;
};

/**
 * The canary Ingress for a split, built from the user's Ingress: its labels and annotations (minus
 * canary annotations, kubectl's record and Flux's marks), the canary annotations, owned by the Canary.
 */
export const buildCanaryIngress = (canary: Canary, ingress: KubeObject, routes: Routes, prefix = DEFAULT_ANNOTATIONS_PREFIX): KubeObject => {
  const { apex, canary: canaryService } = serviceNames(canary.spec.service);
  const spec = canaryIngressSpec(ingress.spec, apex, canaryService);
  if (!spec) {
    throw invalidSpec('Canary', canary.metadata.name, [
      { path: 'spec.ingressRef.name', rule: `Ingress "${ingress.metadata.name}" has no backend for Service "${apex}"` },
    ]);
  }
  const canaryKeys = `${prefix}/canary`;
  const { labels, annotations } = copiedMetadata(ingress, (key) => key.startsWith(canaryKeys));
  for (const [key, value] of Object.entries(canaryAnnotations(canary, routes, prefix))) if (value !== null) annotations[key] = value;
  return { apiVersion: INGRESS_API_VERSION, kind: 'Ingress', metadata: ownedMetadata(canary, canaryIngressName(canary), { labels, annotations }), spec };
};

/**
 * The split a live canary Ingress carries. A/B: a header or cookie annotation means matching requests
 * go to the canary (0/100). Otherwise the canary weight; absent, or `canary: "false"` (Flagger's idle
 * copy), reads as 100/0.
 */
export const readIngressRoutes = (canary: Canary, ingress: KubeObject, prefix = DEFAULT_ANNOTATIONS_PREFIX): Routes => {
  const annotations = ingress.metadata.annotations ?? {};
  const at = (key: Managed): string | undefined => annotations[`${prefix}/${key}`];
  if (at('canary') !== 'true') return { primary: 100, canary: 0, mirrored: false };
  if (isAb(canary) && (at('canary-by-header') !== undefined || at('canary-by-cookie') !== undefined)) {
    return { primary: 0, canary: 100, mirrored: false };
  }
  const text = at('canary-weight') ?? '0';
  const weight = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(weight >= 0 && weight <= 100)) {
    throw new FledgeError('NotReady', `Ingress ${canary.metadata.namespace}/${ingress.metadata.name}: ${prefix}/canary-weight "${text}" is not a weight from 0 to 100`);
  }
  return { primary: 100 - weight, canary: weight, mirrored: false };
};

class NginxRouter extends SplitRouter {
  readonly name = 'nginx';
  readonly capabilities = NGINX_CAPABILITIES;
  protected readonly readSplit = (canary: Canary, live: KubeObject): Routes => readIngressRoutes(canary, live, this.prefix);

  constructor(
    kube: KubeApi,
    private readonly prefix: string,
  ) {
    super(kube);
  }

  async reconcile(canary: Canary): Promise<void> {
    refuseProblems(canary, nginxProblems(canary));
    const ingress = await getUserObject(this.kube, this.ref(canary, canary.spec.ingressRef?.name ?? ''));
    // The live split includes an A/B header match: keptRoutes reads it back too.
    await reconcileCopy(this.kube, this.splitRef(canary), (live) => buildCanaryIngress(canary, ingress, this.keptRoutes(canary, live), this.prefix));
  }

  async finalize(canary: Canary): Promise<void> {
    if (canary.spec.ingressRef?.name) await deleteIfOwned(this.kube, canary, this.splitRef(canary));
  }

  protected splitRef(canary: Canary): ObjectRef {
    return this.ref(canary, canaryIngressName(canary));
  }

  /** Only the canary annotations: spec, labels and the rest are reconcile's business. */
  protected splitPatch(canary: Canary, routes: Routes): Fields {
    return { metadata: { annotations: canaryAnnotations(canary, routes, this.prefix) } };
  }

  protected override checkRoutes(canary: Canary, routes: Routes): void {
    checkNginxSplit(canary, routes);
  }

  protected override async live(canary: Canary): Promise<KubeObject> {
    if (!canary.spec.ingressRef?.name) throw invalidSpec('Canary', canary.metadata.name, nginxProblems(canary));
    return super.live(canary);
  }

  private ref(canary: Canary, name: string): ObjectRef {
    return { apiVersion: INGRESS_API_VERSION, kind: 'Ingress', name, namespace: canary.metadata.namespace };
  }
}

export const createNginxRouter = (deps: RouterDeps, options: NginxOptions = {}): Router =>
  new NginxRouter(deps.kube, options.annotationsPrefix ?? DEFAULT_ANNOTATIONS_PREFIX);
