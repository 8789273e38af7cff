/**
 * Names shared by the Knative router (providers/routers/knative.ts) and the Knative workloads target
 * (src/workloads/knative.ts). They live here because workloads may not import providers: the router
 * pins the primary revision with the annotation, the workloads layer moves it on promotion.
 */

/** The API version of Knative Serving's Service and Revision. */
export const KNATIVE_API_VERSION = 'serving.knative.dev/v1';

/** Flagger's annotation on the Knative Service naming the revision that serves as the primary. */
export const PRIMARY_REVISION_ANNOTATION = 'flagger.app/primary-revision';

/** Whether a canary's targetRef names a Knative Service (rather than a core/v1 Service). */
export const isKnativeTarget = (targetRef: { apiVersion: string; kind: string }): boolean =>
  targetRef.apiVersion === KNATIVE_API_VERSION && targetRef.kind === 'Service';
