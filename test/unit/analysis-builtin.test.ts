import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { BuiltinMetric, Canary } from '../../src/api/index.js';
import { BUILTIN_ROUTERS, builtinQuery, metricsFamily } from '../../src/analysis/builtin-queries.js';

const canary = (spec: Record<string, unknown> = {}, name = 'podinfo', namespace = 'test'): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 80 },
      analysis: { interval: '1m', iterations: 10, metrics: [] },
      ...spec,
    },
  });

const query = (c: Canary, builtin: BuiltinMetric, router: string, mesh?: string, interval = '1m'): string =>
  builtinQuery(c, { interval, templateVariables: {}, builtin }, router, mesh);

/** Flagger's observer queries (pkg/metrics/observers), rendered for podinfo in test over 1m. */
const FLAGGER_QUERIES: Record<string, [string, string]> = {
  istio: [
    'sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo",response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[1m])) by (le))',
  ],
  linkerd: [
    'sum(rate(response_total{namespace="test",deployment=~"podinfo",direction="inbound",classification!="failure"}[1m])) / sum(rate(response_total{namespace="test",deployment=~"podinfo",direction="inbound"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="test",deployment=~"podinfo",direction="inbound"}[1m])) by (le))',
  ],
  nginx: [
    'sum(rate(nginx_ingress_controller_requests{namespace="test",ingress="podinfo",status!~"5.*"}[1m])) / sum(rate(nginx_ingress_controller_requests{namespace="test",ingress="podinfo"}[1m])) * 100',
    'sum(rate(nginx_ingress_controller_ingress_upstream_latency_seconds_sum{namespace="test",ingress="podinfo"}[1m])) / sum(rate(nginx_ingress_controller_ingress_upstream_latency_seconds_count{namespace="test",ingress="podinfo"}[1m])) * 1000',
  ],
  contour: [
    'sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test_podinfo-canary_[0-9a-zA-Z-]+",envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test_podinfo-canary_[0-9a-zA-Z-]+"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"test_podinfo-canary_[0-9a-zA-Z-]+"}[1m])) by (le))',
  ],
  gloo: [
    'sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+",envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"test-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+"}[1m])) by (le))',
  ],
  traefik: [
    'sum(rate(traefik_service_request_duration_seconds_bucket{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd",code!~"5..",le="+Inf"}[1m])) / sum(rate(traefik_service_request_duration_seconds_bucket{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd",le="+Inf"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(traefik_service_request_duration_seconds_bucket{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd"}[1m])) by (le)) * 1000',
  ],
  kuma: [
    'sum(rate(envoy_cluster_upstream_rq{service=~"podinfo-canary_test_svc_[0-9a-zA-Z-]+",envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{service=~"podinfo-canary_test_svc_[0-9a-zA-Z-]+"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{service=~"podinfo-canary_test_svc_[0-9a-zA-Z-]+"}[1m])) by (le))',
  ],
  appmesh: [
    'sum(rate(envoy_cluster_upstream_rq{kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) by (le))',
  ],
  skipper: [
    'sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_test__podinfo_canary__.*__podinfo_canary(_[0-9]+)?",code!~"5..",le="+Inf"}[1m])) / sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_test__podinfo_canary__.*__podinfo_canary(_[0-9]+)?",le="+Inf"}[1m])) * 100',
    'sum(rate(skipper_serve_route_duration_seconds_sum{route=~"kube(ew)?_test__podinfo_canary__.*__podinfo_canary(_[0-9]+)?"}[1m])) / sum(rate(skipper_serve_route_duration_seconds_count{route=~"kube(ew)?_test__podinfo_canary__.*__podinfo_canary(_[0-9]+)?"}[1m])) * 1000',
  ],
  apisix: [
    'sum(rate(apisix_http_status{route=~"test_podinfo-podinfo-canary_.+",code!~"5.."}[1m])) / sum(rate(apisix_http_status{route=~"test_podinfo-podinfo-canary_.+"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(apisix_http_latency_bucket{type=~"request",route=~"test_podinfo-podinfo-canary_.+"}[1m])) by (le))',
  ],
  osm: [
    'sum(rate(osm_request_total{destination_namespace="test",destination_kind="Deployment",destination_name="podinfo",response_code!~"5.*"}[1m])) / sum(rate(osm_request_total{destination_namespace="test",destination_kind="Deployment",destination_name="podinfo"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(osm_request_duration_ms_bucket{destination_namespace="test",destination_kind="Deployment",destination_name="podinfo"}[1m])) by (le))',
  ],
  knative: [
    'sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test/podinfo",envoy_response_code!~"5.*"}[1m])) / sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"test/podinfo"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"test/podinfo"}[1m])) by (le))',
  ],
  kubernetes: [
    'sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",status!~"5.*"}[1m])) / sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) by (le)) * 1000',
  ],
};

test("every router's built-in queries carry the semantics of Flagger's observers", () => {
  for (const [router, [successRate, duration]] of Object.entries(FLAGGER_QUERIES)) {
    const c = canary({ provider: router });
    assert.equal(query(c, 'request-success-rate', router), successRate, `${router} request-success-rate`);
    assert.equal(query(c, 'request-duration', router), duration, `${router} request-duration`);
  }
  assert.deepEqual([...BUILTIN_ROUTERS].sort(), [...Object.keys(FLAGGER_QUERIES), 'gatewayapi'].sort());
});

test('versioned router names and the Gateway API use their family', () => {
  const c = canary({ provider: 'gatewayapi:v1beta1' });
  assert.equal(query(c, 'request-duration', 'gatewayapi:v1beta1'), FLAGGER_QUERIES['kubernetes']?.[1]);
  assert.equal(metricsFamily('appmesh:v1beta2', 'appmesh:v1beta2', undefined), 'appmesh');
});

test('the interval and the canary names reach the query', () => {
  const c = canary({ ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web-ingress' } }, 'web', 'prod');
  const q = query(c, 'request-success-rate', 'nginx', undefined, '30s');
  assert.match(q, /namespace="prod",ingress="web-ingress"/);
  assert.match(q, /\[30s\]/);
  assert.doesNotMatch(q, /\[1m\]/);
});

test('behind a Linkerd mesh a canary with its own provider is measured by Linkerd, as in Flagger', () => {
  const c = canary({ provider: 'nginx' });
  assert.match(query(c, 'request-success-rate', 'nginx', 'linkerd'), /^sum\(rate\(response_total\{/);
  assert.match(query(c, 'request-success-rate', 'nginx', 'istio'), /nginx_ingress_controller_requests/);
  // Without spec.provider the mesh is the router anyway.
  assert.equal(metricsFamily('linkerd', undefined, 'linkerd'), 'linkerd');
});

test('skipper route names turn every non-word character into "_"', () => {
  const c = canary({ service: { port: 80, name: 'my.svc' } }, 'my-app', 'team-a');
  assert.match(query(c, 'request-duration', 'skipper'), /route=~"kube\(ew\)\?_team_a__my_app_canary__\.\*__my_svc_canary\(_\[0-9\]\+\)\?"/);
});

test('a router without built-in metrics is refused with the known ones, never replaced by Istio', () => {
  try {
    query(canary({ provider: 'smi:v1alpha3' }), 'request-success-rate', 'smi:v1alpha3');
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(isFledgeError(err, 'UnknownProvider'));
    assert.match(err.message, /router "smi:v1alpha3"/);
    assert.match(err.message, /istio, linkerd/);
  }
});
