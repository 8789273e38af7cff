/**
 * Labels, annotations and owner references of the objects Fledge creates for a canary. Keys of Flux
 * (anything containing `toolkit.fluxcd.io`) are never copied: a copy carrying Flux's ownership labels
 * would be pruned or overwritten by Flux. Objects we write carry Flux's "reconcile disabled"
 * annotation instead, so a Flux (or Fledge) reconciler leaves them to us.
 */
import { canaryOwnerReferences } from '../api/index.js';
import type { Canary } from '../api/index.js';
import type { KubeObject, ObjectMeta } from '../kube/api.js';

export const TOOLKIT_MARKER = 'toolkit.fluxcd.io';
export const FLUX_RECONCILE_KEY = 'kustomize.toolkit.fluxcd.io/reconcile';
export const FLUX_RECONCILE_DISABLED = { [FLUX_RECONCILE_KEY]: 'disabled' } as const;

/** Pod template annotation changed on every promotion so the primary rolls (Flagger's name). */
export const ROLLOUT_ID_ANNOTATION = 'flagger-id';

/** Set on the target's pods while it is scaled to zero (DaemonSets cannot be scaled; Flagger's key). */
export const DAEMONSET_SCALE_DOWN_SELECTOR = { 'flagger.app/scale-to-zero': 'true' } as const;

/** On an apex Service we adopted: the selector it had, restored by finalize. */
export const ORIGINAL_SELECTOR_ANNOTATION = 'fledge.dev/original-selector';

// Annotations that describe the source object itself and must not travel to a copy.
const NEVER_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deprecated.daemonset.template.generation',
]);

export const DEFAULT_SELECTOR_LABELS: readonly string[] = ['app', 'name', 'app.kubernetes.io/name'];

/** Drops Flux's keys. */
export const withoutToolkitKeys = (map: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(map).filter(([key]) => !key.includes(TOOLKIT_MARKER)));

/**
 * The labels (or annotations) a copy keeps: never Flux's keys nor per-object bookkeeping; when
 * prefixes are given (the controller's --include-label-prefix) only keys starting with one of them
 * (`*` keeps all).
 */
export const copiedMetadata = (map: Record<string, string>, includePrefixes?: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    Object.entries(withoutToolkitKeys(map)).filter(
      ([key]) =>
        !NEVER_COPIED.has(key) &&
        (includePrefixes === undefined || includePrefixes.some((p) => p === '*' || (p !== '' && key.startsWith(p)))),
    ),
  );

/** Copied labels with the selector label pointing at the primary (or whatever `value` says). */
export const relabel = (labels: Record<string, string>, label: string, value: string): Record<string, string> => ({
  ...withoutToolkitKeys(labels),
  [label]: value,
});

export const withFluxDisabled = (annotations: Record<string, string>): Record<string, string> => ({
  ...annotations,
  ...FLUX_RECONCILE_DISABLED,
});

/** The owner reference that lets the garbage collector remove an object with its Canary (one definition, in src/api). */
export const ownerReferencesFor = canaryOwnerReferences;

/** Metadata of an object Fledge creates for the canary. */
export const ownedMeta = (
  canary: Canary,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): ObjectMeta => {
  const owners = ownerReferencesFor(canary);
  return {
    name,
    namespace: canary.metadata.namespace,
    labels,
    annotations: withFluxDisabled(annotations),
    ...(owners.length ? { ownerReferences: owners } : {}),
  };
};

/** Whether this Canary is the controller owner of the object. */
export const isOwnedBy = (obj: KubeObject, canary: Canary): boolean =>
  (obj.metadata.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.kind === 'Canary' && ref.name === canary.metadata.name,
  );
