import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCanary } from '../../src/api/canary.js';
import type { Problem } from '../../src/api/errors.js';
import { isFledgeError } from '../../src/api/errors.js';

/** The problems parseCanary reports, as "path: rule" lines; fails if it does not throw InvalidSpec. */
const problemsOf = (obj: unknown, options?: { meshProvider?: string }): string[] => {
  try {
    parseCanary(obj, options);
  } catch (error) {
    assert.ok(isFledgeError(error, 'InvalidSpec'), `expected InvalidSpec, got ${String(error)}`);
    return error.problems.map((p: Problem) => `${p.path}: ${p.rule}`);
  }
  assert.fail('parseCanary accepted an invalid canary');
};

type Fields = Record<string, unknown>;

/** A valid canary plus handles on its sections, so each test can break exactly what it means to. */
const sample = () => {
  const metadata: Fields = { name: 'podinfo', namespace: 'test' };
  const targetRef: Fields = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' };
  const service: Fields = { port: 9898 };
  const analysis: Fields = { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 };
  const spec: Fields = { targetRef, service, analysis };
  const obj: Fields = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', metadata, spec };
  return { obj, metadata, spec, targetRef, service, analysis };
};

test('the baseline canary of these tests is valid', () => {
  assert.equal(parseCanary(sample().obj).spec.analysis.stepWeight, 10);
});

test('every problem is reported with its path, not only the first', () => {
  const { obj, spec, targetRef, service, analysis } = sample();
  targetRef.kind = 'StatefulSet';
  service.port = 70000;
  service.timeout = '30 seconds';
  spec.progressDeadlineSeconds = -1;
  analysis.stepWeight = 200;
  analysis.maxWeight = 101;
  analysis.interval = 'soon';
  analysis.metrics = [
    { name: 'error-rate', thresholdRange: { min: 5, max: 1 } },
    { name: 'request-success-rate', interval: '1d' },
    { name: 'request-success-rate' },
  ];
  analysis.webhooks = [
    { name: 'gate', type: 'confirm', url: 'flagger-loadtester.test/gate', timeout: '-5s' },
    { type: 'rollout', url: 'http://loadtester/', retries: 1.5 },
  ];
  analysis.alerts = [{ name: 'slack', severity: 'critical' }];
  assert.deepEqual(problemsOf(obj), [
    'spec.targetRef.kind: must be one of: Deployment, DaemonSet, Service',
    'spec.service.port: must be between 1 and 65535',
    'spec.service.timeout: must be a duration such as 30s, 1m or 1h30m',
    'spec.analysis.interval: must be a duration such as 30s, 1m or 1h30m',
    'spec.analysis.stepWeight: must be between 0 and 100',
    'spec.analysis.maxWeight: must be between 0 and 100',
    'spec.analysis.metrics[0].thresholdRange: min must not be greater than max',
    'spec.analysis.metrics[0]: needs a templateRef or a query, or must be a built-in check (request-success-rate, request-duration)',
    'spec.analysis.metrics[1].interval: must be a duration such as 30s, 1m or 1h30m',
    'spec.analysis.metrics[2].name: duplicate name "request-success-rate"',
    'spec.analysis.webhooks[0].timeout: must be a duration such as 30s, 1m or 1h30m',
    'spec.analysis.webhooks[0].type: must be one of: confirm-rollout, pre-rollout, rollout, confirm-traffic-increase, confirm-promotion, post-rollout, rollback, event',
    'spec.analysis.webhooks[0].url: must be an absolute http or https URL',
    'spec.analysis.webhooks[1].name: is required',
    'spec.analysis.webhooks[1].retries: must be an integer',
    'spec.analysis.alerts[0].severity: must be one of: info, warn, error',
    'spec.analysis.alerts[0].providerRef: is required',
    'spec.progressDeadlineSeconds: must be at least 0',
  ]);
});

test('the error message names the canary and lists the problems', () => {
  const { obj, analysis } = sample();
  analysis.stepWeight = 200;
  try {
    parseCanary(obj);
    assert.fail('accepted stepWeight 200');
  } catch (error) {
    assert.ok(isFledgeError(error, 'InvalidSpec'));
    assert.equal(error.message, 'Canary "podinfo" is invalid: spec.analysis.stepWeight: must be between 0 and 100');
  }
});

test('missing required sections are reported once each', () => {
  const { obj, spec } = sample();
  delete spec.service;
  delete spec.analysis;
  delete spec.targetRef;
  assert.deepEqual(problemsOf(obj), ['spec.targetRef: is required', 'spec.service: is required', 'spec.analysis: is required']);
  assert.deepEqual(problemsOf({ kind: 'Canary', metadata: { name: 'x' } }), ['spec: is required']);
  assert.deepEqual(problemsOf('podinfo'), [': must be an object']);
});

test('spec.service is optional for a Knative target only, as in Flagger, where revisions are routed without Services', () => {
  const { obj, spec } = sample();
  delete spec.service;
  spec.targetRef = { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'podinfo' };
  spec.provider = 'knative';
  assert.equal(parseCanary(obj).spec.targetRef.apiVersion, 'serving.knative.dev/v1');
  spec.targetRef = { apiVersion: 'v1', kind: 'Service', name: 'podinfo' };
  assert.deepEqual(problemsOf(obj), ['spec.service: is required']);
});

test('wrong types are reported at their paths', () => {
  const { obj, metadata, spec, service, analysis } = sample();
  obj.apiVersion = 'flagger.app/v1alpha3';
  metadata.labels = { app: 5 };
  spec.skipAnalysis = 'yes';
  service.hosts = 'app.example.com';
  service.gateways = ['mesh', 7];
  service.targetPort = 'Not_A_Port';
  analysis.match = [{ headers: { 'x-canary': { exact: 'a', regex: 'b' } } }];
  analysis.iterations = 2;
  analysis.stepWeight = 0;
  analysis.webhooks = [{ name: 'hook', url: 'http://x/', metadata: { cmd: ['hey'] } }];
  assert.deepEqual(problemsOf(obj), [
    'apiVersion: must be one of: flagger.app/v1beta1',
    'metadata.labels.app: must be a string',
    'spec.service.targetPort: must be a port number or a valid port name',
    'spec.service.gateways[1]: must be a string',
    'spec.service.hosts: must be a list',
    'spec.analysis.match[0].headers.x-canary: set only one of exact, prefix, suffix or regex (found exact, regex)',
    'spec.analysis.webhooks[0].metadata.cmd: must be a string',
    'spec.skipAnalysis: must be a boolean',
  ]);
});

test('an analysis must pick exactly one way to progress', () => {
  const neither = sample();
  delete neither.analysis.stepWeight;
  assert.deepEqual(problemsOf(neither.obj), ['spec.analysis: needs one of iterations, stepWeight or stepWeights']);
  const both = sample();
  both.analysis.iterations = 10;
  both.analysis.stepWeights = [10, 20];
  assert.deepEqual(problemsOf(both.obj), [
    'spec.analysis: set only one of iterations, stepWeight or stepWeights (found iterations, stepWeight, stepWeights)',
  ]);
});

test('stepWeights must each be a percentage and increase', () => {
  const { obj, analysis } = sample();
  delete analysis.stepWeight;
  analysis.stepWeights = [10, 5, 150, 'x'];
  assert.deepEqual(problemsOf(obj), [
    'spec.analysis.stepWeights[1]: must be greater than the step before it',
    'spec.analysis.stepWeights[2]: must be between 0 and 100',
    'spec.analysis.stepWeights[3]: must be an integer',
  ]);
});

test('mirror on a router that cannot mirror is rejected (deliberate fix over Flagger)', () => {
  const { obj, spec, analysis } = sample();
  analysis.mirror = true;
  spec.provider = 'linkerd';
  assert.deepEqual(problemsOf(obj), ['spec.analysis.mirror: router "linkerd" cannot mirror traffic (supported: istio, gatewayapi)']);
  delete spec.provider;
  assert.deepEqual(problemsOf(obj, { meshProvider: 'nginx' }), [
    'spec.analysis.mirror: router "nginx" cannot mirror traffic (supported: istio, gatewayapi)',
  ]);
  // Without a known router the check cannot be made, so it is left to the controller.
  assert.equal(parseCanary(obj).spec.analysis.mirror, true);
});

test('readiness thresholds, mirror weight and promotion step are percentages', () => {
  const { obj, analysis } = sample();
  analysis.primaryReadyThreshold = 120;
  analysis.canaryReadyThreshold = -1;
  analysis.mirrorWeight = 101;
  analysis.stepWeightPromotion = 1000;
  analysis.sessionAffinity = { maxAge: 10 };
  assert.deepEqual(problemsOf(obj), [
    'spec.analysis.stepWeightPromotion: must be between 0 and 100',
    'spec.analysis.mirrorWeight: must be between 0 and 100',
    'spec.analysis.primaryReadyThreshold: must be between 0 and 100',
    'spec.analysis.canaryReadyThreshold: must be between 0 and 100',
    'spec.analysis.sessionAffinity.cookieName: is required',
  ]);
});

test('autoscaler references are checked, including replica bounds', () => {
  const { obj, spec } = sample();
  spec.autoscalerRef = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledJob',
    name: 'podinfo',
    primaryScalerReplicas: { minReplicas: 5, maxReplicas: 2 },
  };
  spec.ingressRef = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' };
  assert.deepEqual(problemsOf(obj), [
    'spec.autoscalerRef.kind: must be one of: HorizontalPodAutoscaler, ScaledObject',
    'spec.autoscalerRef.primaryScalerReplicas: minReplicas must not be greater than maxReplicas',
    'spec.ingressRef.name: is required',
  ]);
});

test('the Flagger 1.41-1.43 fields are checked: enums, durations, and cookie attributes safe in a Set-Cookie header', () => {
  const { obj, service, analysis } = sample();
  service.headless = 'yes';
  service.trafficDistribution = 'PreferLocal';
  service.backendTimeout = '10 seconds';
  service.unmanagedMetadata = { labels: 'team', annotations: [3] };
  analysis.webhooks = [{ name: 'hook', url: 'https://tester/', disableTLS: 'true' }];
  analysis.sessionAffinity = {
    cookieName: 'c',
    sameSite: 'strict',
    domain: 'example.com; Max-Age=0',
    path: '/\r\nSet-Cookie: x=y',
    secure: 1,
    httpOnly: 'no',
    partitioned: null,
  };
  assert.deepEqual(problemsOf(obj), [
    'spec.service.trafficDistribution: must be one of: PreferClose, PreferSameZone, PreferSameNode',
    'spec.service.headless: must be a boolean',
    'spec.service.backendTimeout: must be a duration such as 30s, 1m or 1h30m',
    'spec.service.unmanagedMetadata.labels: must be a list',
    'spec.service.unmanagedMetadata.annotations[0]: must be a string',
    'spec.analysis.webhooks[0].disableTLS: must be a boolean',
    'spec.analysis.sessionAffinity.sameSite: must be one of: Strict, Lax, None',
    'spec.analysis.sessionAffinity.domain: must be a host name',
    'spec.analysis.sessionAffinity.path: must not contain ";" or control characters',
    'spec.analysis.sessionAffinity.secure: must be a boolean',
    'spec.analysis.sessionAffinity.httpOnly: must be a boolean',
  ]);
  analysis.sessionAffinity = { cookieName: 'c', path: '/a;b' };
  delete service.headless;
  delete service.trafficDistribution;
  delete service.backendTimeout;
  delete service.unmanagedMetadata;
  analysis.webhooks = [];
  assert.deepEqual(problemsOf(obj), ['spec.analysis.sessionAffinity.path: must not contain ";" or control characters']);
});
