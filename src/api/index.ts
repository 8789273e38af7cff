/** The public surface of src/api: resource types, parsers, defaults, durations and typed errors. */
export * from './types.js';
export * from './errors.js';
export * from './duration.js';
export * from './defaults.js';
export { parseCanary, routerOf } from './canary.js';
export type { ParseCanaryOptions } from './canary.js';
export { deriveStrategy } from './canary-analysis.js';
export { serviceNames } from './canary-service.js';
export * from './metrictemplate.js';
export * from './alertprovider.js';
// The field reader, for provider and router configs parsed the same way.
export { SpecReader, compact, isFields } from './reader.js';
export type { Duration, Fields } from './reader.js';
export * from './ownership.js';
