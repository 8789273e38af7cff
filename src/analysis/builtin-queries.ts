/**
 * Flagger's built-in checks, `request-success-rate` (percent of non-5xx responses) and
 * `request-duration` (milliseconds, P99 where the router exports a histogram, else the mean), as
 * PromQL per router, with the semantics of Flagger's metric observers. The queries are templates
 * rendered like a MetricTemplate's, so the same escaping applies.
 */
import type { BuiltinMetric, Canary, CanaryMetric } from '../api/index.js';
import { FledgeError, routerFamily } from '../api/index.js';
import type { TemplateModel } from './templates.js';
import { renderQuery, templateModel } from './templates.js';

interface QueryPair {
  'request-success-rate': string;
  'request-duration': string;
}

/** success / total * 100, over one metric with a 5xx matcher on `codeLabel`. */
const ratio = (metric: string, selector: string, codeLabel: string): string =>
  `sum(rate(${metric}{${selector},${codeLabel}!~"5.*"}[{{ interval }}])) / sum(rate(${metric}{${selector}}[{{ interval }}])) * 100`;

const p99 = (bucket: string, selector: string, scale = ''): string =>
  `histogram_quantile(0.99, sum(rate(${bucket}{${selector}}[{{ interval }}])) by (le))${scale}`;

const mean = (prefix: string, selector: string, scale: string): string =>
  `sum(rate(${prefix}_sum{${selector}}[{{ interval }}])) / sum(rate(${prefix}_count{${selector}}[{{ interval }}]))${scale}`;

const envoy = (selector: string): QueryPair => ({
  'request-success-rate': ratio('envoy_cluster_upstream_rq', selector, 'envoy_response_code'),
  'request-duration': p99('envoy_cluster_upstream_rq_time_bucket', selector),
});

const podSelector = 'kubernetes_namespace="{{ namespace }}",kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"';
const istioSelector = 'reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"';
const linkerdSelector = 'namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"';
const nginxSelector = 'namespace="{{ namespace }}",ingress="{{ ingress }}"';
const traefikSelector = 'service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd"';
const skipperSelector = 'route=~"{{ printf "kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?" namespace ingress service }}"';
const apisixSelector = 'route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+"';
const osmSelector = 'destination_namespace="{{ namespace }}",destination_kind="Deployment",destination_name="{{ target }}"';

/** Query templates per metrics family (Flagger's observers). */
const QUERIES: Record<string, QueryPair> = {
  istio: {
    'request-success-rate': ratio('istio_requests_total', istioSelector, 'response_code'),
    'request-duration': p99('istio_request_duration_milliseconds_bucket', istioSelector),
  },
  linkerd: {
    // Linkerd classifies responses itself; "failure" is its verdict, not a status code.
    'request-success-rate': `sum(rate(response_total{${linkerdSelector},classification!="failure"}[{{ interval }}])) / sum(rate(response_total{${linkerdSelector}}[{{ interval }}])) * 100`,
    'request-duration': p99('response_latency_ms_bucket', linkerdSelector),
  },
  nginx: {
    'request-success-rate': ratio('nginx_ingress_controller_requests', nginxSelector, 'status'),
    'request-duration': mean('nginx_ingress_controller_ingress_upstream_latency_seconds', nginxSelector, ' * 1000'),
  },
  contour: envoy('envoy_cluster_name=~"{{ namespace }}_{{ target }}-canary_[0-9a-zA-Z-]+"'),
  gloo: envoy('envoy_cluster_name=~"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+"'),
  kuma: envoy('service=~"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+"'),
  appmesh: envoy(podSelector),
  knative: envoy('envoy_cluster_name=~"{{ namespace }}/{{ route }}"'),
  traefik: {
    // The +Inf bucket of the duration histogram counts every request.
    'request-success-rate': `sum(rate(traefik_service_request_duration_seconds_bucket{${traefikSelector},code!~"5..",le="+Inf"}[{{ interval }}])) / sum(rate(traefik_service_request_duration_seconds_bucket{${traefikSelector},le="+Inf"}[{{ interval }}])) * 100`,
    'request-duration': p99('traefik_service_request_duration_seconds_bucket', traefikSelector, ' * 1000'),
  },
  skipper: {
    'request-success-rate': `sum(rate(skipper_response_duration_seconds_bucket{${skipperSelector},code!~"5..",le="+Inf"}[{{ interval }}])) / sum(rate(skipper_response_duration_seconds_bucket{${skipperSelector},le="+Inf"}[{{ interval }}])) * 100`,
    'request-duration': mean('skipper_serve_route_duration_seconds', skipperSelector, ' * 1000'),
  },
  apisix: {
    'request-success-rate': `sum(rate(apisix_http_status{${apisixSelector},code!~"5.."}[{{ interval }}])) / sum(rate(apisix_http_status{${apisixSelector}}[{{ interval }}])) * 100`,
    'request-duration': p99('apisix_http_latency_bucket', `type=~"request",${apisixSelector}`),
  },
  osm: {
    'request-success-rate': ratio('osm_request_total', osmSelector, 'response_code'),
    'request-duration': p99('osm_request_duration_ms_bucket', osmSelector),
  },
  // Plain Kubernetes Services and the Gateway API: the app's own http_request_duration_seconds.
  http: {
    'request-success-rate': ratio('http_request_duration_seconds_count', podSelector, 'status'),
    'request-duration': p99('http_request_duration_seconds_bucket', podSelector, ' * 1000'),
  },
};

/** Routers (by family) whose traffic has built-in metrics, and the metrics family they use. */
const FAMILY_OF_ROUTER: Record<string, string> = {
  istio: 'istio',
  linkerd: 'linkerd',
  nginx: 'nginx',
  contour: 'contour',
  gloo: 'gloo',
  traefik: 'traefik',
  kuma: 'kuma',
  appmesh: 'appmesh',
  skipper: 'skipper',
  apisix: 'apisix',
  osm: 'osm',
  knative: 'knative',
  kubernetes: 'http',
  gatewayapi: 'http',
};

export const BUILTIN_ROUTERS: readonly string[] = Object.keys(FAMILY_OF_ROUTER);

/**
 * The metrics family for a canary's router. As in Flagger, a canary that names its own provider
 * (an ingress, say) behind a Linkerd mesh is measured by Linkerd's metrics. Throws
 * FledgeError('UnknownProvider') listing the routers that have built-in metrics.
 */
export const metricsFamily = (router: string, canaryProvider: string | undefined, meshProvider: string | undefined): string => {
  if (canaryProvider !== undefined && meshProvider?.includes('linkerd')) return 'linkerd';
  const family = FAMILY_OF_ROUTER[routerFamily(router)];
  if (family === undefined) {
    throw new FledgeError('UnknownProvider', `no built-in metrics for router "${router}" (known: ${BUILTIN_ROUTERS.join(', ')}); use a MetricTemplate`);
  }
  return family;
};

/** Skipper names its routes with every non-word character turned into "_". */
const skipperModel = (model: TemplateModel): TemplateModel => {
  const word = (s: string): string => s.replace(/\W/g, '_');
  return { ...model, name: word(model.name), namespace: word(model.namespace), ingress: word(model.ingress), service: word(model.service), target: word(model.target) };
};

/** The query template of a built-in metric for a metrics family (unrendered). */
export const builtinTemplate = (family: string, metric: BuiltinMetric): string => {
  const pair = QUERIES[family];
  if (!pair) throw new FledgeError('UnknownProvider', `no built-in metrics for "${family}"`);
  return pair[metric];
};

/** The rendered PromQL of a built-in metric for a canary on a router. */
export const builtinQuery = (
  canary: Canary,
  metric: Pick<CanaryMetric, 'interval' | 'templateVariables'> & { builtin: BuiltinMetric },
  router: string,
  meshProvider?: string,
): string => {
  const family = metricsFamily(router, canary.spec.provider, meshProvider);
  const model = templateModel(canary, metric);
  return renderQuery(builtinTemplate(family, metric.builtin), family === 'skipper' ? skipperModel(model) : model);
};
