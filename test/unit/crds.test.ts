import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseCanary } from '../../src/api/canary.js';
import { parseMetricTemplate } from '../../src/api/metrictemplate.js';
import { parseAlertProvider } from '../../src/api/alertprovider.js';

// Compiled to dist/test/unit, so the repository root is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const crdDir = join(root, 'crds');
const chartCrdDir = join(root, 'helm', 'fledge', 'crds');
const yamlFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  pattern?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}
interface Column {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}
interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { plural: string; singular: string; kind: string; listKind: string; shortNames?: string[]; categories: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: unknown;
      additionalPrinterColumns: Column[];
      schema: { openAPIV3Schema: Schema };
    }>;
  };
}
type Fields = Record<string, unknown>;

const crd = (file: string): Crd => parseYaml(readFileSync(join(crdDir, file), 'utf8')) as Crd;
const versionOf = (file: string) => {
  const version = crd(file).spec.versions[0];
  assert.ok(version, `${file} has no version`);
  return version;
};
const schemaOf = (file: string): Schema => versionOf(file).schema.openAPIV3Schema;

/** The object at `key`, failing the test if it is not one. */
const sub = (parent: unknown, key: string | number): Fields => {
  const value = (parent as Record<string | number, unknown>)[key];
  assert.ok(typeof value === 'object' && value !== null, `${key} is not an object`);
  return value as Fields;
};

/**
 * A small OpenAPI v3 checker covering the keywords our CRDs use. Unknown fields are errors here
 * (the API server would silently prune them), which proves the schema declares every field used.
 */
const validate = (schema: Schema, value: unknown, path: string, errors: string[]): void => {
  if (schema['x-kubernetes-int-or-string']) {
    if (!Number.isInteger(value) && typeof value !== 'string') errors.push(`${path}: must be an integer or a string`);
    return;
  }
  const type = schema.type as string | undefined;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const typeOk =
    type === undefined ||
    (type === 'object' && isObject) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'integer' && Number.isInteger(value));
  if (!typeOk) {
    errors.push(`${path}: must be of type ${type}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path}: unsupported value ${JSON.stringify(value)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) {
    errors.push(`${path}: must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path}: too many items`);
    value.forEach((item, i) => validate(schema.items ?? {}, item, `${path}[${i}]`, errors));
  }
  if (isObject) {
    const fields = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in fields)) errors.push(`${path}.${key}: Required value`);
    for (const [key, field] of Object.entries(fields)) {
      const child =
        schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (child) validate(child, field, `${path}.${key}`, errors);
      else if (!schema['x-kubernetes-preserve-unknown-fields'] && type === 'object' && path !== '.metadata') {
        errors.push(`${path}.${key}: unknown field (would be pruned)`);
      }
    }
  }
};

const errorsFor = (file: string, obj: unknown): string[] => {
  const errors: string[] = [];
  validate(schemaOf(file), obj, '', errors);
  return errors;
};

/** A Canary that sets nearly every field, to prove schema and parser agree on the field set. */
const kitchenSink = (): Fields =>
  parseYaml(`
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: test }
spec:
  provider: istio
  metricsServer: http://prometheus:9090
  progressDeadlineSeconds: 120
  skipAnalysis: false
  revertOnDeletion: true
  suspend: false
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  autoscalerRef:
    apiVersion: keda.sh/v1alpha1
    kind: ScaledObject
    name: podinfo-so
    primaryScalerQueries: { prom-trigger: 'sum(rate(http_requests_total{app="podinfo-primary"}[2m]))' }
    primaryScalerReplicas: { minReplicas: 2, maxReplicas: 5 }
  ingressRef: { apiVersion: networking.k8s.io/v1, kind: Ingress, name: podinfo }
  upstreamRef: { apiVersion: gloo.solo.io/v1, kind: Upstream, name: podinfo, namespace: gloo-system }
  service:
    name: podinfo-svc
    port: 80
    portName: http
    targetPort: 9898
    appProtocol: http
    portDiscovery: true
    timeout: 15s
    backendTimeout: 5s
    headless: true
    trafficDistribution: PreferSameZone
    gateways: [public-gateway.istio-system.svc.cluster.local, mesh]
    gatewayRefs: [{ name: public, namespace: istio-ingress, sectionName: https, port: 443 }]
    hosts: [app.example.com]
    delegation: false
    trafficPolicy: { tls: { mode: ISTIO_MUTUAL }, loadBalancer: { simple: LEAST_REQUEST } }
    match:
      - uri: { prefix: /api }
        headers: { x-user: { exact: beta } }
        ignoreUriCase: true
    rewrite: { uri: /, type: ReplacePrefixMatch }
    retries: { attempts: 3, perTryTimeout: 1s, retryOn: 5xx }
    headers:
      request: { add: { x-canary: "1" }, remove: [x-debug] }
      response: { set: { cache-control: no-store } }
    corsPolicy:
      allowOrigins: [{ exact: https://example.com }]
      allowMethods: [GET, POST]
      allowCredentials: false
      maxAge: 24h
    mirror: [{ backendRef: { name: shadow, port: 80 }, percent: 10 }]
    backends: [backend.test]
    apex: { labels: { tier: web }, annotations: { note: apex } }
    primary: { labels: { role: primary } }
    canary: { annotations: { role: canary } }
    unmanagedMetadata: { labels: [team], annotations: [example.com/owner] }
  analysis:
    interval: 30s
    threshold: 3
    maxWeight: 60
    stepWeight: 20
    stepWeightPromotion: 50
    mirror: true
    mirrorWeight: 25
    primaryReadyThreshold: 90
    canaryReadyThreshold: 80
    sessionAffinity:
      cookieName: flagger-cookie
      primaryCookieName: primary-cookie
      maxAge: 3600
      domain: example.com
      path: /app
      sameSite: Lax
      secure: true
      httpOnly: true
      partitioned: false
    metrics:
      - name: request-success-rate
        interval: 1m
        thresholdRange: { min: 99 }
      - name: latency
        templateRef: { name: latency, namespace: istio-system }
        templateVariables: { quantile: "0.99" }
        thresholdRange: { max: 0.5 }
    webhooks:
      - { name: gate, type: confirm-rollout, url: http://loadtester.test/gate/check }
      - { name: more, type: confirm-traffic-increase, url: http://loadtester.test/gate/check, muteAlert: true }
      - { name: load, type: rollout, url: http://loadtester.test/, timeout: 15s, retries: 2, metadata: { cmd: hey } }
      - { name: self-signed, type: pre-rollout, url: https://tester.test/, disableTLS: true }
    alerts:
      - { name: on-call, severity: warn, providerRef: { name: on-call, namespace: flagger } }
status:
  phase: Progressing
  canaryWeight: 20
  failedChecks: 0
  iterations: 0
  lastAppliedSpec: abc
  lastPromotedSpec: abc
  lastTrackedRevision: abc
  trackedConfigs: { configmap/podinfo: def }
  lastTransitionTime: "2024-05-01T10:00:00Z"
  sessionAffinityCookie: flagger-cookie=abc
  primarySessionAffinityCookie: primary-cookie=def
  previousSessionAffinityCookie: flagger-cookie=xyz
  conditions: [{ type: Promoted, status: Unknown, reason: Progressing, message: running }]
`) as Fields;

test('helm/fledge/crds holds byte-identical copies of crds/ (run node scripts/sync-crds.mjs on drift)', () => {
  assert.deepEqual(yamlFiles(chartCrdDir), yamlFiles(crdDir));
  assert.ok(yamlFiles(crdDir).length >= 3);
  for (const file of yamlFiles(crdDir)) {
    assert.ok(readFileSync(join(crdDir, file)).equals(readFileSync(join(chartCrdDir, file))), `${file} differs`);
  }
});

test('each CRD names its resource like Flagger does', () => {
  const canaryColumns = ['Status', 'Weight', 'Suspended', 'FailedChecks', 'Interval', 'Mirror', 'StepWeight', 'StepWeights'];
  const expected: Array<[string, string, string, string[]]> = [
    ['canary.yaml', 'canaries', 'Canary', [...canaryColumns, 'MaxWeight', 'LastTransitionTime']],
    ['metrictemplate.yaml', 'metrictemplates', 'MetricTemplate', ['Provider']],
    ['alertprovider.yaml', 'alertproviders', 'AlertProvider', ['Type']],
  ];
  for (const [file, plural, kind, columns] of expected) {
    const doc = crd(file);
    assert.equal(doc.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(doc.kind, 'CustomResourceDefinition');
    assert.equal(doc.metadata.name, `${plural}.flagger.app`);
    assert.equal(doc.spec.group, 'flagger.app');
    assert.equal(doc.spec.scope, 'Namespaced');
    assert.deepEqual([doc.spec.names.plural, doc.spec.names.kind, doc.spec.names.listKind], [plural, kind, `${kind}List`]);
    assert.ok(doc.spec.names.categories.includes('all'));
    assert.equal(doc.spec.versions.length, 1);
    const version = versionOf(file);
    assert.deepEqual([version.name, version.served, version.storage], ['v1beta1', true, true]);
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(version.additionalPrinterColumns.map((c) => c.name), columns, file);
  }
});

test('Canary printer columns: wide-only details and the timestamp column Flagger types as a string', () => {
  assert.deepEqual(crd('canary.yaml').spec.names.shortNames, ['canary']);
  const columns = new Map(versionOf('canary.yaml').additionalPrinterColumns.map((c) => [c.name, c]));
  assert.deepEqual([columns.get('Status')?.jsonPath, columns.get('Status')?.priority], ['.status.phase', undefined]);
  assert.equal(columns.get('Weight')?.jsonPath, '.status.canaryWeight');
  const transition = columns.get('LastTransitionTime');
  assert.deepEqual([transition?.jsonPath, transition?.type], ['.status.lastTransitionTime', 'string']);
  assert.deepEqual([columns.get('Suspended')?.jsonPath, columns.get('Suspended')?.type], ['.spec.suspend', 'boolean']);
  for (const wide of ['Suspended', 'FailedChecks', 'Interval', 'Mirror', 'StepWeight', 'StepWeights', 'MaxWeight']) {
    assert.equal(columns.get(wide)?.priority, 1, wide);
  }
});

test('schemas are structural: every node has a type or an explicit escape', () => {
  const walk = (node: Schema, path: string): void => {
    assert.ok(
      node.type !== undefined || node['x-kubernetes-int-or-string'] || node['x-kubernetes-preserve-unknown-fields'],
      `${path} has no type`,
    );
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`);
    if (node.items) walk(node.items, `${path}[]`);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`);
    if (node['x-kubernetes-list-type'] === 'map') {
      for (const key of node['x-kubernetes-list-map-keys'] ?? []) {
        assert.ok(node.items?.required?.includes(key), `${path}: map key ${key} must be required`);
      }
    }
  };
  for (const file of yamlFiles(crdDir)) walk(schemaOf(file), file);
});

test('spec fields carry descriptions for kubectl explain', () => {
  for (const file of yamlFiles(crdDir)) {
    const spec = schemaOf(file).properties?.spec;
    assert.ok(spec?.description, `${file}: spec`);
    for (const [key, field] of Object.entries(spec.properties ?? {})) {
      assert.ok(field.description, `${file}: spec.${key}`);
      for (const [name, child] of Object.entries(field.properties ?? {})) {
        if (key === 'service' && ['apex', 'primary', 'canary'].includes(name)) continue;
        assert.ok(child.description, `${file}: spec.${key}.${name}`);
      }
    }
  }
});

test('a Canary using nearly every field fits the schema and the parser alike', () => {
  const canary = kitchenSink();
  assert.deepEqual(errorsFor('canary.yaml', canary), []);
  // A field the schema lacks would be pruned by the server: the checker must notice.
  assert.deepEqual(errorsFor('canary.yaml', { ...canary, spec: { ...sub(canary, 'spec'), stepWeight: 5 } }), [
    '.spec.stepWeight: unknown field (would be pruned)',
  ]);
  // The parser accepts the same object; mirror passes because the router is istio.
  const parsed = parseCanary(canary);
  assert.equal(parsed.spec.analysis.mirror, true);
  assert.equal(parsed.spec.autoscalerRef?.primaryScalerReplicas?.maxReplicas, 5);
  assert.deepEqual(
    [parsed.spec.service.headless, parsed.spec.service.trafficDistribution, parsed.spec.service.backendTimeout],
    [true, 'PreferSameZone', '5s'],
  );
  assert.deepEqual(parsed.spec.analysis.sessionAffinity?.sameSite, 'Lax');
  assert.equal(parsed.spec.analysis.webhooks.find((w) => w.name === 'self-signed')?.disableTLS, true);
  assert.equal(parsed.status.primarySessionAffinityCookie, 'primary-cookie=def');
});

/** The resources of test/fixtures/flagger-all-fields.yaml, written for Flagger with every field it defines. */
const flaggerResources = (): Fields[] =>
  parseAllDocuments(readFileSync(join(root, 'test', 'fixtures', 'flagger-all-fields.yaml'), 'utf8')).map((d) => d.toJS() as Fields);
const flaggerResource = (kind: string, name?: string): Fields => {
  const found = flaggerResources().find((r) => r.kind === kind && (name === undefined || sub(r, 'metadata').name === name));
  assert.ok(found, `fixture has no ${kind} ${name ?? ''}`);
  return found;
};
const CRD_FILES: Record<string, string> = {
  Canary: 'canary.yaml',
  MetricTemplate: 'metrictemplate.yaml',
  AlertProvider: 'alertprovider.yaml',
};

test('resources setting every field of Flagger\'s CRDs fit our schemas (no field would be refused or pruned)', () => {
  const resources = flaggerResources();
  assert.deepEqual(resources.map((r) => r.kind), ['Canary', 'MetricTemplate', 'MetricTemplate', 'AlertProvider', 'AlertProvider']);
  for (const resource of resources) {
    const file = CRD_FILES[String(resource.kind)];
    assert.ok(file);
    assert.deepEqual(errorsFor(file, resource), [], `${String(resource.kind)} ${String(sub(resource, 'metadata').name)}`);
  }
  // Flagger allows exactly one of iterations, stepWeight and stepWeights; the other two fit as well.
  const canary = flaggerResource('Canary');
  const analysis = sub(sub(canary, 'spec'), 'analysis');
  const { stepWeight: _stepWeight, ...rest } = analysis;
  for (const progression of [{ iterations: 10 }, { stepWeights: [1, 2, 10, 80] }]) {
    const variant = { ...canary, spec: { ...sub(canary, 'spec'), analysis: { ...rest, ...progression } } };
    assert.deepEqual(errorsFor('canary.yaml', variant), []);
    assert.doesNotThrow(() => parseCanary(variant));
  }
});

test('the Flagger Canary with every field parses, and the fields added since Flagger 1.41 reach the typed value', () => {
  const canary = parseCanary(flaggerResource('Canary'));
  const { service, analysis } = canary.spec;
  assert.equal(service.headless, false);
  assert.equal(service.trafficDistribution, 'PreferClose');
  assert.equal(service.backendTimeout, '10s');
  assert.deepEqual(service.unmanagedMetadata, { labels: ['team'], annotations: ['cloud.google.com/neg'] });
  assert.deepEqual(analysis.sessionAffinity, {
    cookieName: 'flagger-cookie',
    primaryCookieName: 'flagger-primary-cookie',
    maxAge: 21600,
    domain: 'app.example.com',
    path: '/',
    sameSite: 'Strict',
    secure: true,
    httpOnly: true,
    partitioned: true,
  });
  assert.equal(analysis.webhooks[0]?.disableTLS, true);
  assert.deepEqual(canary.warnings, []);
  // Fields that were already known keep working next to the new ones.
  assert.equal(service.match[0]?.withoutHeaders?.['x-debug']?.prefix, '1');
  assert.equal(service.gatewayRefs[0]?.sectionName, 'https');
  assert.equal(service.corsPolicy?.allowOrigins?.length, 3);
  assert.equal(canary.spec.upstreamRef?.namespace, 'gloo-system');
});

test('a status with every Flagger status field fits the schema and is read, not kept as unknown state', () => {
  const status = {
    phase: 'Progressing',
    failedChecks: 1,
    canaryWeight: 10,
    iterations: 0,
    trackedConfigs: { 'configmap/podinfo': 'abc' },
    lastAppliedSpec: 'a1',
    lastPromotedSpec: 'a0',
    lastTrackedRevision: 'r1',
    lastTransitionTime: '2026-01-01T00:00:00Z',
    sessionAffinityCookie: 'flagger-cookie=abc',
    primarySessionAffinityCookie: 'flagger-primary-cookie=def',
    previousSessionAffinityCookie: 'flagger-cookie=old',
    conditions: [
      {
        type: 'Promoted',
        status: 'Unknown',
        reason: 'Progressing',
        message: 'New revision detected',
        lastUpdateTime: '2026-01-01T00:00:00Z',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };
  const canary = { ...flaggerResource('Canary'), status };
  assert.deepEqual(errorsFor('canary.yaml', canary), []);
  // Declared, not merely kept by x-kubernetes-preserve-unknown-fields.
  const declared = Object.keys(schemaOf('canary.yaml').properties?.status?.properties ?? {});
  for (const key of Object.keys(status)) assert.ok(declared.includes(key), `status.${key} is not declared`);
  const parsed = parseCanary(canary).status;
  assert.equal(parsed.primarySessionAffinityCookie, 'flagger-primary-cookie=def');
  assert.equal(parsed.lastTrackedRevision, 'r1');
  assert.deepEqual(parsed.extra, {});
});

test('the Flagger MetricTemplates and AlertProvider with every field parse', () => {
  const prometheus = parseMetricTemplate(flaggerResource('MetricTemplate', 'latency'));
  assert.deepEqual(prometheus.spec.provider.headers, { 'X-Scope-OrgID': ['tenant-1'], Accept: ['application/json', 'text/plain'] });
  assert.equal(prometheus.spec.provider.region, 'eu-west-1');
  assert.equal(parseMetricTemplate(flaggerResource('MetricTemplate', 'external')).spec.provider.type, 'externalmetrics');
  const provider = parseAlertProvider(flaggerResource('AlertProvider', 'on-call'));
  assert.equal(provider.spec.proxy, 'http://proxy.internal:3128');
  assert.equal(provider.spec.secretRef?.name, 'on-call-url');
  assert.equal(parseAlertProvider(flaggerResource('AlertProvider', 'team-chat')).spec.address, 'https://example.webhook.office.com/webhookb2/x');
});

test('every value of Flagger\'s enums fits our schemas', () => {
  // Flagger's enums, listed from its CRDs: a value it accepts must not be refused by ours.
  const canary = flaggerResource('Canary');
  const enums: Record<string, { values: string[]; set: (s: Fields, v: string) => void }> = {
    provider: {
      values: ['apisix', 'appmesh', 'appmesh:v1beta2', 'contour', 'gatewayapi:v1', 'gatewayapi:v1beta1', 'gloo', 'istio', 'knative',
        'kubernetes', 'kuma', 'linkerd', 'nginx', 'osm', 'skipper', 'smi:v1alpha1', 'smi:v1alpha2', 'smi:v1alpha3', 'traefik'],
      set: (s, v) => (s.provider = v),
    },
    'targetRef.kind': { values: ['DaemonSet', 'Deployment', 'Service'], set: (s, v) => (sub(s, 'targetRef').kind = v) },
    'autoscalerRef.kind': { values: ['HorizontalPodAutoscaler', 'ScaledObject'], set: (s, v) => (sub(s, 'autoscalerRef').kind = v) },
    'service.trafficDistribution': {
      values: ['PreferClose', 'PreferSameZone', 'PreferSameNode'],
      set: (s, v) => (sub(s, 'service').trafficDistribution = v),
    },
    'analysis.sessionAffinity.sameSite': {
      values: ['Strict', 'Lax', 'None'],
      set: (s, v) => (sub(sub(s, 'analysis'), 'sessionAffinity').sameSite = v),
    },
    'analysis.webhooks[].type': {
      values: ['', 'confirm-rollout', 'pre-rollout', 'rollout', 'confirm-promotion', 'post-rollout', 'event', 'rollback', 'confirm-traffic-increase'],
      set: (s, v) => (sub(sub(sub(s, 'analysis'), 'webhooks'), 0).type = v),
    },
    'analysis.alerts[].severity': {
      values: ['', 'info', 'warn', 'error'],
      set: (s, v) => (sub(sub(sub(s, 'analysis'), 'alerts'), 0).severity = v),
    },
  };
  for (const [path, { values, set }] of Object.entries(enums)) {
    for (const value of values) {
      const variant = structuredClone(canary);
      set(sub(variant, 'spec'), value);
      assert.deepEqual(errorsFor('canary.yaml', variant), [], `spec.${path} = ${JSON.stringify(value)}`);
    }
  }
  // The new enums are as strict as Flagger's (case included).
  const wrong = structuredClone(canary);
  sub(sub(sub(wrong, 'spec'), 'analysis'), 'sessionAffinity').sameSite = 'strict';
  sub(sub(wrong, 'spec'), 'service').trafficDistribution = 'Random';
  assert.deepEqual(errorsFor('canary.yaml', wrong), [
    '.spec.service.trafficDistribution: unsupported value "Random"',
    '.spec.analysis.sessionAffinity.sameSite: unsupported value "strict"',
  ]);
  const phases = ['', 'Initializing', 'Initialized', 'Waiting', 'Progressing', 'WaitingPromotion', 'Promoting', 'Finalising',
    'Succeeded', 'Failed', 'Terminating', 'Terminated'];
  for (const phase of phases) assert.deepEqual(errorsFor('canary.yaml', { ...canary, status: { phase } }), [], phase);
  const template = flaggerResource('MetricTemplate', 'latency');
  const metricTypes = ['prometheus', 'influxdb', 'datadog', 'externalmetrics', 'stackdriver', 'cloudwatch', 'newrelic', 'graphite',
    'dynatrace', 'keptn', 'splunk'];
  for (const type of metricTypes) {
    const variant = structuredClone(template);
    sub(sub(variant, 'spec'), 'provider').type = type;
    assert.deepEqual(errorsFor('metrictemplate.yaml', variant), [], type);
  }
  const alertProvider = flaggerResource('AlertProvider', 'on-call');
  for (const type of ['slack', 'msteams', 'discord', 'rocket', 'gchat']) {
    assert.deepEqual(errorsFor('alertprovider.yaml', { ...alertProvider, spec: { ...sub(alertProvider, 'spec'), type } }), [], type);
  }
});

test('the schema rejects out-of-range weights, unknown enums and missing references', () => {
  const canary = kitchenSink();
  const spec = sub(canary, 'spec');
  const analysis = sub(spec, 'analysis');
  analysis.stepWeight = 200;
  analysis.stepWeights = [10, 120];
  sub(analysis.webhooks, 0).type = 'pre-flight';
  sub(analysis.alerts, 0).severity = 'fatal';
  analysis.interval = '1 minute';
  sub(spec, 'service').targetPort = true;
  delete spec.targetRef;
  assert.deepEqual(errorsFor('canary.yaml', canary), [
    '.spec.targetRef: Required value',
    '.spec.service.targetPort: must be an integer or a string',
    '.spec.analysis.interval: must match ^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$',
    '.spec.analysis.stepWeight: must be <= 100',
    '.spec.analysis.webhooks[0].type: unsupported value "pre-flight"',
    '.spec.analysis.alerts[0].severity: unsupported value "fatal"',
    // Added last to the sample, so checked last.
    '.spec.analysis.stepWeights[1]: must be <= 100',
  ]);
});

test('the status keeps fields Fledge adds for its own state', () => {
  const canary = kitchenSink();
  sub(canary, 'status').fledge = { machine: 'progressing' };
  assert.deepEqual(errorsFor('canary.yaml', canary), []);
});

test('MetricTemplate and AlertProvider samples fit their schemas', () => {
  const template = {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    metadata: { name: 'latency' },
    spec: {
      provider: { type: 'prometheus', address: 'http://prometheus:9090', secretRef: { name: 'prom' }, insecureSkipVerify: true },
      query: 'histogram_quantile(0.99, sum(rate(x[{{ interval }}])) by (le))',
    },
  };
  assert.deepEqual(errorsFor('metrictemplate.yaml', template), []);
  assert.deepEqual(errorsFor('metrictemplate.yaml', { ...template, spec: { provider: { type: 'statsd' } } }), [
    '.spec.query: Required value',
    '.spec.provider.type: unsupported value "statsd"',
  ]);
  const provider = {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'AlertProvider',
    metadata: { name: 'on-call' },
    spec: { type: 'slack', channel: 'alerts', username: 'fledge', address: 'https://hooks.slack.com/x', proxy: 'http://proxy:3128' },
  };
  assert.deepEqual(errorsFor('alertprovider.yaml', provider), []);
  assert.deepEqual(errorsFor('alertprovider.yaml', { ...provider, spec: { type: 'pager' } }), ['.spec.type: unsupported value "pager"']);
});
