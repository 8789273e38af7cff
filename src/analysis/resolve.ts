/**
 * From a canary metric to what can be asked: a metric provider and the rendered query. A templateRef
 * reads the MetricTemplate and its secretRef Secret through the KubeApi (the controller serves
 * Secrets from its watch cache); a built-in check or an inline `query` asks the Prometheus at
 * spec.metricsServer, else --metrics-server. Providers are cached by template and Secret
 * resourceVersion, so a step costs no client set-up and an edited Secret takes effect at once.
 */
import type { Canary, CanaryMetric } from '../api/index.js';
import { FledgeError, parseMetricTemplate, routerOf } from '../api/index.js';
import type { KubeApi, KubeObject } from '../kube/api.js';
import type { MetricProvider, ProviderConfig } from '../../providers/metrics/types.js';
import { builtinQuery } from './builtin-queries.js';
import { renderQuery, templateModel } from './templates.js';

export interface ResolveDeps {
  kube: Pick<KubeApi, 'get'>;
  /** Builds a provider (providers/metrics' createMetricProvider with the controller's deps bound). */
  createProvider(config: ProviderConfig): MetricProvider;
  /** --metrics-server: the Prometheus of built-in checks and inline queries. */
  metricsServer: string;
  /** --mesh-provider: the router of canaries without spec.provider. */
  meshProvider?: string;
  /** Shared across steps by the controller; without one every resolution builds its provider. */
  providers?: ProviderCache;
}

/** A check ready to run: where to ask, what to ask, and how to name the source in a verdict. */
export interface ResolvedCheck {
  provider: MetricProvider;
  /** Rendered, as the provider receives it. */
  query: string;
  /** e.g. `prometheus http://prometheus:9090` or `datadog (MetricTemplate istio-system/errors)`. */
  source: string;
}

/** Providers by identity (a template, or a Prometheus address), rebuilt when their version changes. */
export class ProviderCache {
  private readonly entries = new Map<string, { version: string; provider: MetricProvider }>();

  get(identity: string, version: string, create: () => MetricProvider): MetricProvider {
    const entry = this.entries.get(identity);
    if (entry && entry.version === version) return entry.provider;
    const provider = create();
    this.entries.set(identity, { version, provider });
    return provider;
  }

  get size(): number {
    return this.entries.size;
  }
}

const TEMPLATE = { apiVersion: 'flagger.app/v1beta1', kind: 'MetricTemplate' } as const;

const cached = (deps: ResolveDeps, identity: string, version: string, config: ProviderConfig): MetricProvider =>
  deps.providers ? deps.providers.get(identity, version, () => deps.createProvider(config)) : deps.createProvider(config);

/** A Secret's data, base64-decoded (stringData never reaches a stored object). */
export const secretData = (secret: KubeObject): Record<string, string> => {
  const data = secret['data'];
  const decoded: Record<string, string> = {};
  if (typeof data !== 'object' || data === null) return decoded;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value === 'string') decoded[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return decoded;
};

const fromTemplate = async (canary: Canary, metric: CanaryMetric, ref: { name: string; namespace: string }, deps: ResolveDeps): Promise<ResolvedCheck> => {
  const where = `MetricTemplate ${ref.namespace}/${ref.name}`;
  const object = await deps.kube.get({ ...TEMPLATE, namespace: ref.namespace, name: ref.name });
  if (!object) throw new FledgeError('InvalidSpec', `${where} not found`);
  const template = parseMetricTemplate(object);
  const { provider } = template.spec;
  let secret: Record<string, string> = {};
  let secretVersion = '';
  if (provider.secretRef) {
    const secretRef = { apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace, name: provider.secretRef.name };
    const stored = await deps.kube.get(secretRef);
    if (!stored) throw new FledgeError('InvalidSpec', `Secret ${ref.namespace}/${provider.secretRef.name} (secretRef of ${where}) not found`);
    secret = secretData(stored);
    secretVersion = stored.metadata.resourceVersion ?? JSON.stringify(secret);
  }
  const config: ProviderConfig = {
    type: provider.type,
    secret,
    insecureSkipVerify: provider.insecureSkipVerify,
    ...(provider.address !== undefined ? { address: provider.address } : {}),
    ...(provider.region !== undefined ? { region: provider.region } : {}),
  };
  const templateVersion = object.metadata.resourceVersion ?? JSON.stringify(object['spec']);
  return {
    provider: cached(deps, `template:${ref.namespace}/${ref.name}`, `${templateVersion}/${secretVersion}`, config),
    query: renderQuery(template.spec.query, templateModel(canary, metric)),
    source: `${provider.type} (${where})`,
  };
};

/** The Prometheus that built-in checks and inline queries ask. */
export const metricsServerOf = (canary: Canary, deps: Pick<ResolveDeps, 'metricsServer'>): string =>
  canary.spec.metricsServer ?? deps.metricsServer;

/**
 * Resolves one metric. Throws FledgeError: InvalidSpec (missing template or Secret, a template that
 * does not parse or render), UnknownProvider (no provider of that type, no built-in metrics for the
 * router); errors of the KubeApi pass through.
 */
export const resolveCheck = async (canary: Canary, metric: CanaryMetric, deps: ResolveDeps): Promise<ResolvedCheck> => {
  if (metric.templateRef) return fromTemplate(canary, metric, metric.templateRef, deps);
  const address = metricsServerOf(canary, deps);
  const prometheus = (): MetricProvider =>
    cached(deps, `prometheus:${address}`, '', { type: 'prometheus', address, secret: {}, insecureSkipVerify: false });
  if (metric.query !== undefined) {
    return { query: renderQuery(metric.query, templateModel(canary, metric)), provider: prometheus(), source: `prometheus ${address}` };
  }
  if (metric.builtin) {
    const router = routerOf(canary, deps.meshProvider) ?? 'kubernetes';
    const query = builtinQuery(canary, { ...metric, builtin: metric.builtin }, router, deps.meshProvider);
    return { query, provider: prometheus(), source: `prometheus ${address}` };
  }
  throw new FledgeError('InvalidSpec', `metric ${metric.name} has no templateRef, no query and is not a built-in check`);
};
