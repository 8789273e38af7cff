/**
 * The metric-provider registry, by the MetricTemplate `spec.provider.type` names Flagger uses. Adding a
 * provider = one file + one line in PROVIDERS. A type that is unknown, or one of Flagger's that this
 * build does not implement, is an error listing the implemented ones (Flagger falls back to Prometheus).
 */
import type { MetricProviderType } from '../../src/api/index.js';
import { FledgeError, METRIC_PROVIDER_TYPES } from '../../src/api/index.js';
import type { MetricProvider, MetricProviderFactory, ProviderConfig, ProviderDeps } from './types.js';
import { createPrometheusProvider } from './prometheus.js';
import { createStackdriverProvider } from './stackdriver.js';
import { createInfluxdbProvider } from './influxdb.js';
import { createDynatraceProvider } from './dynatrace.js';
import { createDatadogProvider } from './datadog.js';
import { createNewRelicProvider } from './newrelic.js';
import { createGraphiteProvider } from './graphite.js';

const PROVIDERS: Readonly<Partial<Record<MetricProviderType, MetricProviderFactory>>> = Object.freeze({
  prometheus: createPrometheusProvider,
  stackdriver: createStackdriverProvider,
  influxdb: createInfluxdbProvider,
  dynatrace: createDynatraceProvider,
  datadog: createDatadogProvider,
  newrelic: createNewRelicProvider,
  graphite: createGraphiteProvider,
  // One line per provider, with its import above.
});

/** The provider types this build implements, sorted. */
export const knownMetricProviders = (): MetricProviderType[] =>
  METRIC_PROVIDER_TYPES.filter((type) => PROVIDERS[type] !== undefined).sort();

const factoryFor = (type: string): MetricProviderFactory | undefined => {
  const known = METRIC_PROVIDER_TYPES.find((t) => t === type);
  return known === undefined ? undefined : PROVIDERS[known];
};

/** Whether `type` names a provider this build can create. */
export const isKnownMetricProvider = (type: string): boolean => factoryFor(type) !== undefined;

/** Why `type` cannot be served, worded for a status condition; undefined when it can. */
export const unknownMetricProviderRule = (type: string): string | undefined => {
  if (isKnownMetricProvider(type)) return undefined;
  const known = knownMetricProviders().join(', ');
  return (METRIC_PROVIDER_TYPES as readonly string[]).includes(type)
    ? `metric provider "${type}" is not implemented by Fledge yet (implemented: ${known})`
    : `unknown metric provider "${type}" (known metric providers: ${known})`;
};

/** The provider for `config.type`; throws FledgeError 'UnknownProvider' naming the implemented ones. */
export const createMetricProvider = (config: ProviderConfig, deps: ProviderDeps): MetricProvider => {
  const factory = factoryFor(config.type);
  if (!factory) throw new FledgeError('UnknownProvider', unknownMetricProviderRule(config.type) ?? `metric provider "${config.type}"`);
  return factory(config, deps);
};

export type { MetricProvider, MetricProviderFactory, ProviderConfig, ProviderDeps, QueryOptions, RangeOptions } from './types.js';
