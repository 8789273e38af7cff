/** The apex, primary and canary Services as built, and port discovery. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCanary } from '../../src/api/index.js';
import type { Canary } from '../../src/api/index.js';
import { pathOf } from '../../src/workloads/json.js';
import { buildService, discoverPorts, servicePorts } from '../../src/workloads/services.js';

const canary = (service: Record<string, unknown>): Canary =>
  parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test', uid: 'uid-1' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service,
      analysis: { interval: '1m', stepWeight: 10, maxWeight: 50 },
    },
  });

const sel = { label: 'app', value: 'podinfo' };

test('apex and primary select <value>-primary, canary selects the target, each named after service.name', () => {
  const c = canary({ port: 80, targetPort: 'http', name: 'web', appProtocol: 'http' });
  const ports = servicePorts(c.spec.service);
  const apex = buildService(c, 'apex', sel, ports);
  const primary = buildService(c, 'primary', sel, ports);
  const canarySvc = buildService(c, 'canary', sel, ports);
  assert.deepEqual([apex.metadata.name, primary.metadata.name, canarySvc.metadata.name], ['web', 'web-primary', 'web-canary']);
  assert.deepEqual(pathOf(apex, 'spec', 'selector'), { app: 'podinfo-primary' });
  assert.deepEqual(pathOf(primary, 'spec', 'selector'), { app: 'podinfo-primary' });
  assert.deepEqual(pathOf(canarySvc, 'spec', 'selector'), { app: 'podinfo' });
  assert.deepEqual(pathOf(apex, 'spec', 'ports'), [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }]);
  assert.equal(pathOf(apex, 'spec', 'type'), 'ClusterIP');
  assert.equal(canarySvc.metadata.ownerReferences?.[0]?.uid, 'uid-1');
  assert.equal(canarySvc.metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile'], 'disabled');
});

test('service.apex/primary/canary metadata lands on its Service; the selector label names the Service', () => {
  const c = canary({
    port: 9898,
    apex: { labels: { tier: 'edge' }, annotations: { a: 'apex', 'kustomize.toolkit.fluxcd.io/prune': 'x' } },
    canary: { labels: { tier: 'test' } },
  });
  const apex = buildService(c, 'apex', sel, servicePorts(c.spec.service));
  const canarySvc = buildService(c, 'canary', sel, servicePorts(c.spec.service));
  const primary = buildService(c, 'primary', sel, servicePorts(c.spec.service));
  assert.deepEqual(apex.metadata.labels, { tier: 'edge', app: 'podinfo' });
  assert.deepEqual(apex.metadata.annotations, { a: 'apex', 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' });
  assert.deepEqual(canarySvc.metadata.labels, { tier: 'test', app: 'podinfo-canary' });
  assert.deepEqual(primary.metadata.labels, { app: 'podinfo-primary' });
  assert.deepEqual(pathOf(apex, 'spec', 'ports'), [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }]);
});

test('port discovery adds the other container ports, skipping sidecars and the main port', () => {
  const c = canary({ port: 80, targetPort: 9898, portDiscovery: true });
  const podSpec = {
    containers: [
      { name: 'app', ports: [{ name: 'http', containerPort: 9898 }, { name: 'grpc', containerPort: 9999 }, { containerPort: 8080 }] },
      { name: 'istio-proxy', ports: [{ name: 'http-envoy-prom', containerPort: 15090 }] },
      { name: 'metrics', ports: [{ name: 'prom', containerPort: 80 }] },
    ],
  };
  const discovered = discoverPorts(c.spec.service, podSpec);
  assert.deepEqual(discovered, [
    { name: 'grpc', port: 9999, targetPort: 9999, protocol: 'TCP' },
    { name: 'tcp-app-2', port: 8080, targetPort: 8080, protocol: 'TCP' },
  ]);
  const named = canary({ port: 80, targetPort: 'grpc' });
  assert.deepEqual(
    discoverPorts(named.spec.service, podSpec).map((p) => p.name),
    ['http', 'tcp-app-2'],
  );
  assert.equal(servicePorts(c.spec.service, discovered).length, 3);
});
