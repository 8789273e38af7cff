import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseMetricTemplate } from '../../src/api/metrictemplate.js';
import { parseAlertProvider } from '../../src/api/alertprovider.js';
import type { Problem } from '../../src/api/errors.js';
import { isFledgeError } from '../../src/api/errors.js';

const problemsOf = (parse: (obj: unknown) => unknown, obj: unknown): string[] => {
  try {
    parse(obj);
  } catch (error) {
    assert.ok(isFledgeError(error, 'InvalidSpec'), `expected InvalidSpec, got ${String(error)}`);
    return error.problems.map((p: Problem) => `${p.path}: ${p.rule}`);
  }
  assert.fail('an invalid resource was accepted');
};

// Shaped after the error-rate template in Flagger's Istio docs.
const errorRate = `
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: istio-system
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
  query: |
    100 - sum(rate(istio_requests_total{destination_workload_namespace="{{ namespace }}",
      destination_workload="{{ target }}", response_code!~"5.*"}[{{ interval }}]))
    / sum(rate(istio_requests_total{destination_workload_namespace="{{ namespace }}",
      destination_workload="{{ target }}"}[{{ interval }}])) * 100
`;

test('a Prometheus MetricTemplate parses', () => {
  const template = parseMetricTemplate(parseYaml(errorRate));
  assert.equal(template.metadata.name, 'error-rate');
  assert.equal(template.metadata.namespace, 'istio-system');
  assert.deepEqual(template.spec.provider, {
    type: 'prometheus',
    address: 'http://prometheus.istio-system:9090',
    insecureSkipVerify: false,
  });
  assert.match(template.spec.query, /istio_requests_total/);
  assert.deepEqual(template.status.conditions, []);
});

test('a CloudWatch template needs no address and keeps region and secret', () => {
  const template = parseMetricTemplate({
    metadata: { name: 'latency' },
    spec: { provider: { type: 'cloudwatch', region: 'us-east-1', secretRef: { name: 'aws' } }, query: '[]' },
  });
  assert.deepEqual(template.spec.provider, {
    type: 'cloudwatch',
    region: 'us-east-1',
    secretRef: { name: 'aws' },
    insecureSkipVerify: false,
  });
});

test('provider headers (Flagger 1.41) keep every value in order; externalmetrics is a known type', () => {
  const template = parseMetricTemplate({
    metadata: { name: 'tenant' },
    spec: {
      provider: { type: 'prometheus', address: 'http://mimir:8080/prometheus', headers: { 'X-Scope-OrgID': ['team-a', 'team-b'] } },
      query: 'up',
    },
  });
  assert.deepEqual(template.spec.provider.headers, { 'X-Scope-OrgID': ['team-a', 'team-b'] });
  assert.equal('headers' in parseMetricTemplate(parseYaml(errorRate)).spec.provider, false);
  const external = parseMetricTemplate({ metadata: { name: 'e' }, spec: { provider: { type: 'externalmetrics' }, query: 'm' } });
  assert.equal(external.spec.provider.type, 'externalmetrics');
});

test('provider headers must be valid names with list values that cannot split the request', () => {
  assert.deepEqual(
    problemsOf(parseMetricTemplate, {
      metadata: { name: 'bad' },
      spec: {
        provider: { type: 'prometheus', headers: { 'Bad Name': ['x'], 'X-Org': 'one', 'X-Evil': ['ok', 'a\r\nHost: other', 7] } },
        query: 'up',
      },
    }),
    [
      'spec.provider.headers.Bad Name: must be a valid HTTP header name',
      'spec.provider.headers.X-Org: must be a list',
      'spec.provider.headers.X-Evil[2]: must be a string',
      'spec.provider.headers.X-Evil[1]: must not contain CR, LF or NUL',
    ],
  );
});

test('MetricTemplate problems are all reported', () => {
  assert.deepEqual(
    problemsOf(parseMetricTemplate, {
      kind: 'MetricTemplate',
      metadata: { name: 'bad' },
      spec: { provider: { type: 'prom', address: 'prometheus:9090', secretRef: {}, insecureSkipVerify: 'no' } },
    }),
    [
      'spec.provider.type: must be one of: prometheus, influxdb, datadog, cloudwatch, newrelic, graphite, dynatrace, stackdriver, keptn, splunk, externalmetrics',
      'spec.provider.address: must be an absolute http or https URL',
      'spec.provider.secretRef.name: is required',
      'spec.query: is required',
      'spec.provider.insecureSkipVerify: must be a boolean',
    ],
  );
  assert.deepEqual(problemsOf(parseMetricTemplate, { metadata: { name: 'x' }, spec: {} }), [
    'spec.provider: is required',
    'spec.query: is required',
  ]);
});

test('a Slack AlertProvider parses with its channel and user', () => {
  const provider = parseAlertProvider(
    parseYaml(`
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata:
  name: on-call
  namespace: flagger
spec:
  type: slack
  channel: on-call-alerts
  username: flagger
  secretRef:
    name: on-call-url
`),
  );
  assert.deepEqual(provider.spec, { type: 'slack', channel: 'on-call-alerts', username: 'flagger', secretRef: { name: 'on-call-url' } });
  assert.equal(provider.metadata.namespace, 'flagger');
});

test('AlertProvider problems are all reported', () => {
  assert.deepEqual(
    problemsOf(parseAlertProvider, { metadata: { name: 'x' }, spec: { type: 'pagerduty', proxy: 'proxy:3128' } }),
    [
      'spec.type: must be one of: slack, msteams, discord, rocket, gchat, webhook',
      'spec.proxy: must be an absolute http or https URL',
      'spec: needs an address or a secretRef',
    ],
  );
  assert.deepEqual(problemsOf(parseAlertProvider, { metadata: {}, spec: { type: 'msteams', address: 'https://teams/x' } }), [
    'metadata.name: is required',
  ]);
});
