/**
 * The fleet's objects: namespaces, one podinfo-style Deployment and one Canary (Istio router, one
 * built-in metric) per index, and the merge patch that starts a new revision. Paths are the API's.
 */

export interface FleetMember {
  index: number;
  namespace: string;
  name: string;
}

export interface CanaryShape {
  /** Flagger duration of the analysis interval, e.g. '1s' or '1m'. */
  interval: string;
  stepWeight: number;
  maxWeight: number;
}

export const IMAGE_REPOSITORY = 'ghcr.io/stefanprodan/podinfo';

/** `count` members spread round-robin over `namespaces` namespaces named fleet-0, fleet-1, ... */
export const fleetMembers = (count: number, namespaces: number): FleetMember[] =>
  Array.from({ length: count }, (_, index) => ({ index, namespace: `fleet-${index % namespaces}`, name: `podinfo-${index}` }));

export const namespaceObject = (name: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

export const deploymentsPath = (ns: string): string => `/apis/apps/v1/namespaces/${ns}/deployments`;
export const canariesPath = (ns: string): string => `/apis/flagger.app/v1beta1/namespaces/${ns}/canaries`;

const container = (tag: string): Record<string, unknown> => ({ name: 'podinfod', image: `${IMAGE_REPOSITORY}:${tag}`, ports: [{ name: 'http', containerPort: 9898 }] });

export const deploymentObject = (m: FleetMember, tag: string): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: m.name, namespace: m.namespace, labels: { app: m.name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: m.name } },
    template: {
      metadata: { labels: { app: m.name } },
      spec: { containers: [container(tag)] },
    },
  },
});

export const canaryObject = (m: FleetMember, shape: CanaryShape): Record<string, unknown> => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: m.name, namespace: m.namespace },
  spec: {
    provider: 'istio',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: m.name },
    progressDeadlineSeconds: 600,
    service: { port: 9898 },
    analysis: {
      interval: shape.interval,
      threshold: 5,
      maxWeight: shape.maxWeight,
      stepWeight: shape.stepWeight,
      metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' }],
    },
  },
});

/** JSON merge patch of the pod template's image (a merge patch replaces the whole list): a new revision. */
export const imagePatch = (tag: string): Record<string, unknown> => ({ spec: { template: { spec: { containers: [container(tag)] } } } });
