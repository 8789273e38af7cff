/** Server-side apply and managed-fields tracking for the local API server. */
export type { ApplyOptions, UpdateOptions } from './server-side-apply.js';
export {
  applyPatch,
  recordUpdate,
  setManagedFields,
  BEFORE_FIRST_APPLY_MANAGER,
  LAST_APPLIED_ANNOTATION,
} from './server-side-apply.js';
export type { FieldPath, PathElement, FieldTree } from './fieldset.js';
export { FieldSet, describePath } from './fieldset.js';
export type { ManagerRecord } from './managed-fields.js';
export { decodeManagedFields, encodeManagedFields } from './managed-fields.js';
export type { TrackingScope, Comparison } from './typed.js';
export { toFieldSet, compareObjects, trackedView, UNTRACKED_METADATA } from './typed.js';
