/** How objects Fledge creates point back at their Canary, so the garbage collector removes them with it. */
import type { Canary } from './types.js';
import { FLAGGER_API_VERSION } from './types.js';

export interface CanaryOwnerReference {
  apiVersion: string;
  kind: 'Canary';
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

/** The controller reference to the Canary; empty when the Canary has no uid yet (not stored). */
export const canaryOwnerReferences = (canary: Pick<Canary, 'metadata'>): CanaryOwnerReference[] =>
  canary.metadata.uid
    ? [{ apiVersion: FLAGGER_API_VERSION, kind: 'Canary', name: canary.metadata.name, uid: canary.metadata.uid, controller: true, blockOwnerDeletion: true }]
    : [];
