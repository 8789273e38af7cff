/** CRD schema handling for the local API server: validation, defaulting and pruning of custom resources. */
export { validateObject, validateValue } from './validate.js';
export { applyDefaults } from './defaults.js';
export { pruneUnknownFields } from './prune.js';
export type { PruneResult } from './prune.js';
