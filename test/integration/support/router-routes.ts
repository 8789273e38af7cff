/**
 * Router cases for the controller scenarios: how to turn the podinfo fixture into a Canary for the
 * gatewayapi, linkerd and nginx routers, and two independent readings of the live split: the router's
 * own object parsed here (HTTPRoute backendRefs, TrafficSplit backends, the canary Ingress annotation)
 * and a fresh router instance's getRoutes, so neither reading trusts the other.
 */
import type { ControllerOptions } from '../../../src/controller/controller.js';
import { parseCanary } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/api.js';
import { createRouter } from '../../../providers/routers/index.js';
import type { Routes } from '../../../providers/routers/index.js';
import type { Rollout } from './rollout.js';

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io';
const NS = 'default';

export interface RouterCase {
  /** The router name as the controller resolves it (spec.provider or --mesh-provider). */
  router: string;
  /** Controller options for this router (linkerd runs as Flagger's linkerd install does). */
  controller: Partial<ControllerOptions>;
  /** The Canary spec fields this router needs, merged over the fixture's spec. */
  spec: Record<string, unknown>;
  /** Objects the user must create before the Canary (nginx: the Ingress to copy). */
  prerequisites: KubeObject[];
  /** A selector every built-in metric query for this router carries (which observer the controller chose). */
  querySelector: string;
  /** The split as written in the router's own object, parsed here without the router's code. */
  objectRoutes(r: Rollout): Promise<{ primary: number; canary: number }>;
}

type Fields = Record<string, unknown>;
const fieldsOf = (value: unknown): Fields => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : {});
const listOf = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(fieldsOf) : []);

const mustGet = async (r: Rollout, apiVersion: string, kind: string, name: string): Promise<KubeObject> => {
  const o = await r.kube.get({ apiVersion, kind, namespace: NS, name });
  if (!o) throw new Error(`${kind} ${NS}/${name} not found`);
  return o;
};

/** The user's Ingress for podinfo, as the nginx docs have it (backend: the apex Service, the canary's port). */
export const podinfoIngress = (): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'podinfo', namespace: NS, labels: { app: 'podinfo' }, annotations: { [`${NGINX_PREFIX}/proxy-body-size`]: '8m' } },
  spec: {
    ingressClassName: 'nginx',
    rules: [
      {
        host: 'app.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'podinfo', port: { number: 9898 } } } }] },
      },
    ],
  },
});

export const canaryIngress = (r: Rollout): Promise<KubeObject> => mustGet(r, 'networking.k8s.io/v1', 'Ingress', 'podinfo-canary');

/** The managed canary annotations of podinfo-canary (prefix stripped), sorted; every other annotation left out. */
export const canaryAnnotationsOf = async (r: Rollout): Promise<Record<string, string>> => {
  const annotations = (await canaryIngress(r)).metadata.annotations ?? {};
  return Object.fromEntries(
    Object.entries(annotations)
      .filter(([key]) => key.startsWith(`${NGINX_PREFIX}/canary`))
      .map(([key, value]) => [key.slice(NGINX_PREFIX.length + 1), value] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
};

export const ROUTER_CASES: RouterCase[] = [
  {
    router: 'gatewayapi:v1',
    controller: {},
    spec: { provider: 'gatewayapi:v1', service: { port: 9898, gatewayRefs: [{ name: 'public', namespace: 'gateways' }] } },
    prerequisites: [],
    // Gateway API has no traffic metrics of its own: the app's http_request_duration_seconds by pod (as Flagger).
    querySelector: 'kubernetes_namespace="default",kubernetes_pod_name=~"podinfo-',
    async objectRoutes(r) {
      const route = await mustGet(r, 'gateway.networking.k8s.io/v1', 'HTTPRoute', 'podinfo');
      const [rule, ...rest] = listOf(fieldsOf(route.spec).rules);
      if (!rule || rest.length > 0) throw new Error(`HTTPRoute podinfo: expected one rule, got ${1 + rest.length}`);
      const weight = (name: string): number => Number(listOf(rule.backendRefs).find((b) => b.name === name)?.weight ?? NaN);
      return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
    },
  },
  {
    router: 'linkerd',
    controller: { meshProvider: 'linkerd' },
    spec: { provider: 'linkerd' },
    prerequisites: [],
    querySelector: '{namespace="default",deployment=~"podinfo",direction="inbound"',
    async objectRoutes(r) {
      const split = await mustGet(r, 'split.smi-spec.io/v1alpha1', 'TrafficSplit', 'podinfo');
      const spec = fieldsOf(split.spec);
      if (spec.service !== 'podinfo') throw new Error(`TrafficSplit podinfo: spec.service ${String(spec.service)}`);
      // v1alpha1 weights are quantities: strings such as "80".
      const weight = (name: string): number => {
        const w = listOf(spec.backends).find((b) => b.service === name)?.weight;
        return typeof w === 'string' && /^[0-9]+$/.test(w) ? Number(w) : NaN;
      };
      return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
    },
  },
  {
    router: 'nginx',
    controller: {},
    spec: { provider: 'nginx', ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' } },
    prerequisites: [podinfoIngress()],
    querySelector: '{namespace="default",ingress="podinfo"',
    async objectRoutes(r) {
      const annotations = await canaryAnnotationsOf(r);
      if (annotations.canary !== 'true') throw new Error(`podinfo-canary: canary annotation ${String(annotations.canary)}`);
      const canary = Number(annotations['canary-weight'] ?? NaN);
      return { primary: 100 - canary, canary };
    },
  },
];

/** The fixture objects with the Canary's spec merged with `spec` (service merged one level deeper). */
export const withSpec = (objects: KubeObject[], spec: Record<string, unknown>): KubeObject[] =>
  objects.map((o) => {
    if (o.kind !== 'Canary') return o;
    const base = o.spec as Fields;
    const service = { ...fieldsOf(base.service), ...fieldsOf(spec.service) };
    return { ...o, spec: { ...base, ...spec, service } };
  });

/** The split as a fresh router instance reads it from the cluster (nothing shared with the controller's). */
export const freshRouterRoutes = async (r: Rollout, c: RouterCase): Promise<Routes> => {
  const canary = parseCanary(await r.canary(), { meshProvider: c.controller.meshProvider ?? 'istio' });
  return createRouter(c.router, { kube: r.kube }).getRoutes(canary);
};
