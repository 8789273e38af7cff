import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseCanary, routerOf } from '../../src/api/canary.js';
import { serviceNames } from '../../src/api/canary-service.js';
import { deriveStrategy } from '../../src/api/canary-analysis.js';

// Shaped after the podinfo examples in Flagger's public docs (Istio canary, A/B, blue/green).
const istioCanary = `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  progressDeadlineSeconds: 60
  autoscalerRef:
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    name: podinfo
  service:
    port: 9898
    targetPort: 9898
    gateways:
      - istio-ingressgateway.istio-system.svc.cluster.local
    hosts:
      - app.example.com
    trafficPolicy:
      tls:
        mode: DISABLE
    retries:
      attempts: 3
      perTryTimeout: 1s
      retryOn: gateway-error,connect-failure,refused-stream
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
      - name: request-duration
        thresholdRange:
          max: 500
        interval: 30s
    webhooks:
      - name: acceptance-test
        type: pre-rollout
        url: http://flagger-loadtester.test/
        timeout: 30s
        metadata:
          type: bash
          cmd: "curl -sd 'test' http://podinfo-canary:9898/token | grep token"
      - name: load-test
        url: http://flagger-loadtester.test/
        metadata:
          cmd: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"
`;

const abCanary = `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: abtest
  namespace: test
spec:
  provider: istio
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: abtest }
  service:
    port: 80
    targetPort: http
  analysis:
    interval: 30s
    threshold: 10
    iterations: 10
    match:
      - headers:
          x-canary:
            regex: ".*insider.*"
      - headers:
          cookie:
            regex: "^(.*?;)?(canary=always)(;.*)?$"
    metrics:
      - name: error-rate
        templateRef: { name: error-rate, namespace: istio-system }
        thresholdRange: { max: 1 }
        templateVariables: { reporter: destination }
    alerts:
      - name: on-call
        providerRef: { name: on-call }
      - name: dev team
        severity: error
        providerRef: { name: dev-slack, namespace: flagger }
`;

const blueGreen = `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
spec:
  provider: kubernetes
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service:
    port: 9898
    portDiscovery: true
  analysis:
    interval: 30s
    threshold: 2
    iterations: 10
    metrics:
      - name: request-success-rate
        threshold: 99
      - name: request-duration
        threshold: 500
`;

const load = (text: string): unknown => parseYaml(text);

test('an Istio progressive canary parses with Flagger defaults', () => {
  const canary = parseCanary(load(istioCanary));
  const { spec } = canary;
  assert.equal(canary.metadata.name, 'podinfo');
  assert.equal(canary.metadata.namespace, 'test');
  assert.equal(spec.analysis.strategy, 'canary');
  assert.equal(spec.progressDeadlineSeconds, 60);
  assert.equal(spec.autoscalerRef?.kind, 'HorizontalPodAutoscaler');
  assert.deepEqual(spec.autoscalerRef?.primaryScalerQueries, {});
  // Service defaults: name from the target, port name http.
  assert.equal(spec.service.name, 'podinfo');
  assert.equal(spec.service.portName, 'http');
  assert.equal(spec.service.targetPort, 9898);
  assert.deepEqual(spec.service.trafficPolicy, { tls: { mode: 'DISABLE' } });
  assert.deepEqual(spec.service.retries, { attempts: 3, perTryTimeout: '1s', retryOn: 'gateway-error,connect-failure,refused-stream' });
  assert.deepEqual(serviceNames(spec.service), { apex: 'podinfo', primary: 'podinfo-primary', canary: 'podinfo-canary' });
  // Analysis timing and weights.
  const analysis = spec.analysis;
  assert.equal(analysis.intervalMs, 60_000);
  assert.equal(analysis.threshold, 5);
  assert.equal(analysis.maxWeight, 50);
  assert.equal(analysis.stepWeight, 10);
  assert.equal(analysis.stepWeightPromotion, 0);
  assert.equal(analysis.primaryReadyThreshold, 100);
  assert.equal(analysis.canaryReadyThreshold, 100);
  assert.equal(analysis.mirror, false);
  // Metrics: built-ins recognised, windows in ms.
  assert.deepEqual(
    analysis.metrics.map((m) => [m.name, m.builtin, m.intervalMs, m.thresholdRange]),
    [
      ['request-success-rate', 'request-success-rate', 60_000, { min: 99 }],
      ['request-duration', 'request-duration', 30_000, { max: 500 }],
    ],
  );
  // Webhooks: an untyped hook is a rollout hook; timeout defaults to 10s.
  const [acceptance, loadTest] = analysis.webhooks;
  assert.equal(acceptance?.type, 'pre-rollout');
  assert.equal(acceptance?.timeoutMs, 30_000);
  assert.equal(loadTest?.type, 'rollout');
  assert.equal(loadTest?.timeout, '10s');
  assert.equal(loadTest?.timeoutMs, 10_000);
  assert.equal(loadTest?.retries, 0);
  assert.equal(loadTest?.muteAlert, false);
  // Status defaults for a canary never reconciled.
  assert.deepEqual(canary.status, { canaryWeight: 0, failedChecks: 0, iterations: 0, trackedConfigs: {}, conditions: [], extra: {} });
  assert.deepEqual(canary.warnings, []);
});

test('match plus iterations is A/B testing; references resolve to the canary namespace', () => {
  const canary = parseCanary(load(abCanary));
  const analysis = canary.spec.analysis;
  assert.equal(analysis.strategy, 'ab');
  assert.equal(analysis.iterations, 10);
  assert.equal(analysis.intervalMs, 30_000);
  assert.equal(analysis.match.length, 2);
  assert.deepEqual(analysis.match[0]?.headers, { 'x-canary': { regex: '.*insider.*' } });
  assert.equal(canary.spec.service.targetPort, 'http');
  const [metric] = analysis.metrics;
  assert.deepEqual(metric?.templateRef, { name: 'error-rate', namespace: 'istio-system' });
  assert.equal(metric?.builtin, undefined);
  assert.deepEqual(metric?.templateVariables, { reporter: 'destination' });
  // Alert severity defaults to info (a deliberate fix over Flagger's empty value).
  assert.deepEqual(
    analysis.alerts.map((a) => [a.name, a.severity, a.providerRef.namespace]),
    [
      ['on-call', 'info', 'test'],
      ['dev team', 'error', 'flagger'],
    ],
  );
});

test('iterations alone is blue/green; deprecated thresholds become ranges', () => {
  const canary = parseCanary(load(blueGreen));
  assert.equal(canary.metadata.namespace, 'default');
  assert.equal(canary.spec.analysis.strategy, 'bluegreen');
  assert.equal(canary.spec.service.portDiscovery, true);
  assert.equal(canary.spec.analysis.maxWeight, 100);
  const [success, duration] = canary.spec.analysis.metrics;
  assert.deepEqual(success?.thresholdRange, { min: 99 });
  assert.equal(success?.threshold, 99);
  assert.deepEqual(duration?.thresholdRange, { max: 500 });
  assert.equal(routerOf(canary, 'istio'), 'kubernetes');
});

test('stepWeights set the ceiling, and unset analysis fields take defaults', () => {
  const obj = load(istioCanary) as { spec: { analysis: Record<string, unknown> } };
  obj.spec.analysis = { stepWeights: [1, 5, 25, 60], metrics: [] };
  const analysis = parseCanary(obj).spec.analysis;
  assert.equal(analysis.strategy, 'canary');
  assert.deepEqual(analysis.stepWeights, [1, 5, 25, 60]);
  assert.equal(analysis.maxWeight, 60);
  assert.equal(analysis.interval, '1m');
  assert.equal(analysis.intervalMs, 60_000);
  assert.equal(analysis.threshold, 1);
  assert.equal(analysis.stepWeight, 0);
});

test('on the kubernetes router a stepped canary becomes blue/green with a warning, as in Flagger', () => {
  const obj = load(istioCanary) as { spec: { provider?: string } };
  const viaFlag = parseCanary(obj, { meshProvider: 'kubernetes' });
  assert.equal(viaFlag.spec.analysis.strategy, 'bluegreen');
  assert.equal(viaFlag.spec.analysis.iterations, 10);
  assert.deepEqual(viaFlag.warnings.map((w) => w.path), ['spec.analysis.iterations']);
  // spec.provider wins over the flag.
  obj.spec.provider = 'istio';
  const own = parseCanary(obj, { meshProvider: 'kubernetes' });
  assert.equal(own.spec.analysis.strategy, 'canary');
  assert.equal(routerOf(own, 'kubernetes'), 'istio');
});

test('mirroring is accepted on routers that can mirror', () => {
  const obj = load(blueGreen) as { spec: { provider: string; analysis: Record<string, unknown> } };
  obj.spec.analysis.mirror = true;
  obj.spec.analysis.mirrorWeight = 50;
  for (const router of ['istio', 'gatewayapi:v1', 'gatewayapi:v1beta1']) {
    obj.spec.provider = router;
    const analysis = parseCanary(obj).spec.analysis;
    assert.equal(analysis.mirror, true, router);
    assert.equal(analysis.mirrorWeight, 50);
  }
});

test('status, including fields only Fledge writes, is read back', () => {
  const obj = load(istioCanary) as Record<string, unknown>;
  obj.status = {
    phase: 'Progressing',
    canaryWeight: 20,
    failedChecks: 1,
    iterations: 0,
    lastAppliedSpec: '5d8c9d7b9f',
    trackedConfigs: { 'configmap/podinfo-config': 'abc' },
    lastTransitionTime: '2024-05-01T10:00:00Z',
    conditions: [{ type: 'Promoted', status: 'Unknown', reason: 'Progressing', message: 'New revision detected' }],
    sessionAffinityCookie: 'flagger-cookie=abc',
    primarySessionAffinityCookie: 'primary-cookie=def',
    lastTrackedRevision: '5d8c9d7b9f',
    fledge: { machine: { value: 'progressing' } },
  };
  const { status } = parseCanary(obj);
  assert.equal(status.sessionAffinityCookie, 'flagger-cookie=abc');
  assert.equal(status.primarySessionAffinityCookie, 'primary-cookie=def');
  assert.equal(status.lastTrackedRevision, '5d8c9d7b9f');
  assert.equal(status.phase, 'Progressing');
  assert.equal(status.canaryWeight, 20);
  assert.equal(status.failedChecks, 1);
  assert.equal(status.lastAppliedSpec, '5d8c9d7b9f');
  assert.deepEqual(status.trackedConfigs, { 'configmap/podinfo-config': 'abc' });
  assert.equal(status.conditions[0]?.reason, 'Progressing');
  assert.deepEqual(status.extra, { fledge: { machine: { value: 'progressing' } } });
});

test('Flagger 1.41-1.43 service and webhook fields parse, and stay absent when not written', () => {
  const plain = parseCanary(load(istioCanary));
  for (const key of ['headless', 'trafficDistribution', 'backendTimeout', 'unmanagedMetadata'] as const) {
    assert.equal(key in plain.spec.service, false, key);
  }
  assert.equal('disableTLS' in (plain.spec.analysis.webhooks[0] ?? {}), false);
  const obj = load(istioCanary) as { spec: { service: Record<string, unknown>; analysis: { webhooks: Array<Record<string, unknown>> } } };
  Object.assign(obj.spec.service, {
    headless: true,
    trafficDistribution: 'PreferSameNode',
    timeout: '30s',
    backendTimeout: '1m30s',
    unmanagedMetadata: { annotations: ['example.com/owned-elsewhere'] },
  });
  const hook = obj.spec.analysis.webhooks[0];
  assert.ok(hook);
  hook.disableTLS = true;
  const { spec } = parseCanary(obj);
  assert.equal(spec.service.headless, true);
  assert.equal(spec.service.trafficDistribution, 'PreferSameNode');
  // Passed on as written, like timeout: Gateway API takes the text.
  assert.equal(spec.service.backendTimeout, '1m30s');
  assert.deepEqual(spec.service.unmanagedMetadata, { labels: [], annotations: ['example.com/owned-elsewhere'] });
  assert.equal(spec.analysis.webhooks[0]?.disableTLS, true);
  assert.equal(spec.analysis.webhooks[1]?.disableTLS, undefined);
});

test('session affinity cookie attributes parse; empty ones count as unset', () => {
  const obj = load(istioCanary) as { spec: { analysis: Record<string, unknown> } };
  obj.spec.analysis.sessionAffinity = { cookieName: 'c', domain: '.example.com', path: '/shop', sameSite: 'Lax', httpOnly: true };
  assert.deepEqual(parseCanary(obj).spec.analysis.sessionAffinity, {
    cookieName: 'c',
    maxAge: 86_400,
    domain: '.example.com',
    path: '/shop',
    sameSite: 'Lax',
    httpOnly: true,
  });
  obj.spec.analysis.sessionAffinity = { cookieName: 'c', domain: '', path: '', secure: false };
  assert.deepEqual(parseCanary(obj).spec.analysis.sessionAffinity, { cookieName: 'c', maxAge: 86_400, secure: false });
});

test('cookies browsers would drop (SameSite=None or Partitioned without secure) are accepted with a warning', () => {
  const obj = load(istioCanary) as { spec: { analysis: Record<string, unknown> } };
  obj.spec.analysis.sessionAffinity = { cookieName: 'c', sameSite: 'None', partitioned: true };
  const insecure = parseCanary(obj);
  assert.equal(insecure.spec.analysis.sessionAffinity?.sameSite, 'None');
  assert.deepEqual(
    insecure.warnings.map((w) => `${w.path}: ${w.rule}`),
    [
      'spec.analysis.sessionAffinity.sameSite: browsers drop a SameSite=None cookie unless secure is true',
      'spec.analysis.sessionAffinity.partitioned: browsers drop a Partitioned cookie unless secure is true',
    ],
  );
  obj.spec.analysis.sessionAffinity = { cookieName: 'c', sameSite: 'None', partitioned: true, secure: true };
  assert.deepEqual(parseCanary(obj).warnings, []);
});

test('deriveStrategy follows Flagger: match needs iterations to mean A/B', () => {
  assert.equal(deriveStrategy({ iterations: 5, match: [{}] }), 'ab');
  assert.equal(deriveStrategy({ iterations: 5, match: [] }), 'bluegreen');
  assert.equal(deriveStrategy({ iterations: 0, match: [{}] }), 'canary');
  assert.equal(deriveStrategy({ iterations: 0, match: [] }), 'canary');
});
